use super::helpers::{reach, report_blocked, unverifiable, Needed};
use crate::netpol::Reach;
use crate::model::proxy::ProxyUrl;
use crate::model::Protocol;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Egress proxy unreachable
    ///
    /// ## What it does
    /// Finds a container whose `HTTPS_PROXY` or `HTTP_PROXY` (either case) names a proxy that the
    /// workload's NetworkPolicies do not let it reach on the proxy's port: an `ipBlock` must
    /// contain a literal proxy address, a selector must match the pods behind an in-cluster
    /// proxy Service (whose own ingress must allow the workload too), and an external proxy
    /// name needs a rule without `to` or with an `ipBlock`.
    ///
    /// ## Why is this bad?
    /// With a proxy configured, every outbound HTTP(S) call goes to the proxy first. A policy
    /// that allows 443 "to the internet" but not the proxy's port (often 3128 or 8080) blocks
    /// all of them, while the error names the final host.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: issuer-egress, namespace: venafi}
    /// spec:
    ///   podSelector: {matchLabels: {app: issuer}}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ///       ports: [{protocol: TCP, port: 443}, {protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: issuer, namespace: venafi}
    /// spec:
    ///   selector: {matchLabels: {app: issuer}}
    ///   template:
    ///     metadata: {labels: {app: issuer}}
    ///     spec:
    ///       containers:
    ///         - name: issuer
    ///           image: venafi/issuer
    ///           env:
    ///             - {name: HTTPS_PROXY, value: "http://10.1.2.3:3128"}
    ///             - {name: NO_PROXY, value: ".svc,.cluster.local,10.96.0.1"}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: issuer-egress, namespace: venafi}
    /// spec:
    ///   podSelector: {matchLabels: {app: issuer}}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to: [{ipBlock: {cidr: 10.1.2.3/32}}]
    ///       ports: [{protocol: TCP, port: 3128}]
    ///     - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ///       ports: [{protocol: TCP, port: 443}, {protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: issuer, namespace: venafi}
    /// spec:
    ///   selector: {matchLabels: {app: issuer}}
    ///   template:
    ///     metadata: {labels: {app: issuer}}
    ///     spec:
    ///       containers:
    ///         - name: issuer
    ///           image: venafi/issuer
    ///           env:
    ///             - {name: HTTPS_PROXY, value: "http://10.1.2.3:3128"}
    ///             - {name: NO_PROXY, value: ".svc,.cluster.local,10.96.0.1"}
    /// ```
    pub ProxyBlocked {
        id: "NR206", name: "proxy-blocked", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

/// The proxy variables Go reads, upper case first within each pair.
pub(super) const PROXY_VARS: [[&str; 2]; 2] = [["HTTPS_PROXY", "https_proxy"], ["HTTP_PROXY", "http_proxy"]];

impl Rule for ProxyBlocked {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for (i, w) in super::helpers::egress_candidates(cx) {
            let mut seen = Vec::new();
            for (ci, c) in w.spec.containers.iter().enumerate() {
                for (ei, e) in c.env.iter().flatten().enumerate() {
                    if !PROXY_VARS.iter().flatten().any(|n| *n == e.name) || e.value_from.is_some() {
                        continue;
                    }
                    let Some(Ok(url)) = e.value.as_deref().map(ProxyUrl::parse) else { continue };
                    if seen.contains(&(url.host.clone(), url.port)) {
                        continue;
                    }
                    seen.push((url.host.clone(), url.port));
                    if unverifiable(cx, out, &meta, w, &format!("whether `{}` can reach its proxy", w.display())) {
                        break;
                    }
                    let field = w.template_field(&format!("spec.containers[{ci}].env[{ei}].value"));
                    let proxy = format!("{}:{}", url.host, url.port);
                    match reach(cx, i, &cx.classify(&url.host), Protocol::Tcp, url.port) {
                        Reach::Allowed => {}
                        Reach::Unknown(why) => {
                            if cx.ws.reported(&w.obj) {
                                let loc = cx.at(&w.obj, &field);
                                out.unverifiable(&meta, Some(w.id.clone()), loc, &format!("whether `{}` can reach its proxy {proxy} ({why})", w.display()), &cx.ws.coverage);
                            }
                        }
                        Reach::Blocked(blocked) => {
                            let message = format!(
                                "`{}` cannot reach its proxy {proxy} (`{}` of container `{}`) on TCP {}",
                                w.display(),
                                e.name,
                                c.name,
                                url.port
                            );
                            let what = format!("proxy {}", url.host);
                            let needed = Needed { what: &what, protocol: Protocol::Tcp };
                            if let Some(d) = report_blocked(out, &meta, cx, i, &blocked, message, &needed) {
                                if cx.ws.reported(&w.obj) {
                                    d.loc = cx.at(&w.obj, &field);
                                }
                                d.help("allow TCP to the proxy's address and port; every HTTP(S) call of the container goes there first");
                            }
                        }
                    }
                }
            }
        }
    }
}
