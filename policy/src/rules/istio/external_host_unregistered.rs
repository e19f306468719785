use super::helpers::{external_needs, outbound_mode, service_entry_fix, visible_entries};
use crate::profile::OutboundTrafficPolicy;
use crate::rules::Fix;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// External host not registered under REGISTRY_ONLY
    ///
    /// ## What it does
    /// For a workload with an Istio sidecar whose outbound mode is `REGISTRY_ONLY` — set by the
    /// Sidecar that applies to it, the profile's `istio.outboundTrafficPolicy`, or the `istio`
    /// ConfigMap's mesh config in the input — finds an external destination it needs (a
    /// declared requirement to an external name, its proxy's host, an `http(s)://` URL in its
    /// env) on port P for which no ServiceEntry lists that host (exactly, or by `*.` wildcard)
    /// with port P. (A ServiceEntry that exists but is not visible to the workload is NR408's.)
    /// With the mode unknown, it says so instead.
    ///
    /// ## Why is this bad?
    /// Under REGISTRY_ONLY the sidecar sends traffic for unknown hosts to a black hole: HTTP
    /// calls get 502/404, TLS handshakes and TCP connections are reset — and the NetworkPolicy
    /// that allows the port is not the problem.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.istio.io/v1
    /// kind: Sidecar
    /// metadata: {name: default, namespace: venafi}
    /// spec:
    ///   outboundTrafficPolicy: {mode: REGISTRY_ONLY}
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: distributed-issuer
    ///   namespace: venafi
    ///   annotations: {netreach.dev/egress: "ALLOW ngts.paloaltonetworks.com TCP 443"}
    /// spec:
    ///   selector: {matchLabels: {app: distributed-issuer}}
    ///   template:
    ///     metadata: {labels: {app: distributed-issuer, sidecar.istio.io/inject: "true"}}
    ///     spec: {containers: [{name: issuer, image: venafi/distributed-issuer}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: Sidecar
    /// metadata: {name: default, namespace: venafi}
    /// spec:
    ///   outboundTrafficPolicy: {mode: REGISTRY_ONLY}
    /// ---
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: ngts, namespace: venafi}
    /// spec:
    ///   hosts: [ngts.paloaltonetworks.com]
    ///   location: MESH_EXTERNAL
    ///   resolution: DNS
    ///   ports: [{number: 443, name: tls, protocol: TLS}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: distributed-issuer
    ///   namespace: venafi
    ///   annotations: {netreach.dev/egress: "ALLOW ngts.paloaltonetworks.com TCP 443"}
    /// spec:
    ///   selector: {matchLabels: {app: distributed-issuer}}
    ///   template:
    ///     metadata: {labels: {app: distributed-issuer, sidecar.istio.io/inject: "true"}}
    ///     spec: {containers: [{name: issuer, image: venafi/distributed-issuer}]}
    /// ```
    pub ExternalHostUnregistered {
        id: "NR401", name: "external-host-unregistered", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for ExternalHostUnregistered {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for w in cx.reported(&cx.ws.workloads).filter(|w| !w.host_network() && cx.sidecar_injected(w)) {
            let needs = external_needs(cx, w);
            if needs.is_empty() {
                continue;
            }
            let Some((mode, source)) = outbound_mode(cx, w) else {
                if let Some(n) = needs.first() {
                    let what = format!("whether the mesh lets `{}` reach {}:{} (its outbound traffic mode is not known)", w.display(), n.host, n.port);
                    out.unverifiable_without(&meta, Some(w.id.clone()), n.loc.clone(), &what, "istio.outboundTrafficPolicy");
                }
                continue;
            };
            if mode != OutboundTrafficPolicy::RegistryOnly {
                continue;
            }
            if cx.ws.coverage != crate::model::Coverage::Complete {
                // ServiceEntries of other namespaces (and, in admission, of any) were not read.
                for n in needs {
                    let what = format!("whether a ServiceEntry registers {}:{} for `{}`", n.host, n.port, w.display());
                    out.unverifiable(&meta, Some(w.id.clone()), n.loc, &what, &cx.ws.coverage);
                }
                continue;
            }
            for n in needs {
                let (matching, _, _) = visible_entries(cx, w, &n.host, n.port);
                if !matching.is_empty() {
                    continue;
                }
                let d = out.report_at(
                    &meta,
                    Some(w.id.clone()),
                    n.loc.clone(),
                    format!("`{}` needs {}:{} ({}), but no ServiceEntry registers it and the mesh is REGISTRY_ONLY", w.display(), n.host, n.port, n.why),
                );
                d.why(format!("outbound mode REGISTRY_ONLY comes from {source}; the sidecar drops traffic to hosts outside the registry"));
                d.help("add a ServiceEntry for the host and port, exported to the workload's namespace");
                let target = crate::model::ObjectId {
                    api_version: "networking.istio.io/v1".into(),
                    kind: "ServiceEntry".into(),
                    name: n.host.trim_start_matches("*.").replace('.', "-"),
                    namespace: Some(w.namespace.clone()),
                };
                d.fix(Fix::new_object(
                    format!("register {}:{} for namespace {}", n.host, n.port, w.namespace),
                    service_entry_fix(&n.host, n.port, &w.namespace),
                    target,
                ));
            }
        }
    }
}
