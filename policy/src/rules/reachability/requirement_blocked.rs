use super::helpers::{reach, report_blocked, Needed};
use crate::netpol::Reach;
use crate::model::proxy::{env, EnvValue, NoProxy, ProxyUrl};
use crate::model::{parse_requirements, Need, NeedTarget, ObjRef, Workload, EGRESS_ANNOTATION};
use crate::netpol::Direction;
use crate::source::Loc;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_key;

declare_rule! {
    /// Declared requirement not satisfied end to end
    ///
    /// ## What it does
    /// Checks every need a workload declares — in its `netreach.dev/egress` annotation or in a
    /// `Requirements` document whose `podSelector` matches it (see README, "Declared
    /// requirements") — through each layer that carries it:
    /// - a proxy: when a container sets `HTTPS_PROXY` (`HTTP_PROXY` for port 80) and
    ///   `NO_PROXY` does not match the host under Go's rules, the need becomes "reach the
    ///   proxy";
    /// - the workload's egress policies: an external name needs a rule without `to` or with an
    ///   `ipBlock` on that port; an address, an `ipBlock` containing it;
    /// - for a Service (`svc.ns:port`), the pods behind it: egress to one of them on the
    ///   Service's `targetPort`, and that pod's ingress from the workload.
    ///
    /// The first blocking layer is reported with the policies involved and a patch. An entry
    /// that cannot be read is reported too.
    ///
    /// ## Why is this bad?
    /// Vendor documentation states needs as firewall rows ("ALLOW ngts.paloaltonetworks.com TCP
    /// 443"); whether the cluster's policies, proxy settings and the callee's ingress honour
    /// them is only found out when the call fails in production.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny, namespace: venafi}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
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
    ///     metadata: {labels: {app: distributed-issuer}}
    ///     spec: {containers: [{name: issuer, image: venafi/distributed-issuer}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny, namespace: venafi}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: allow-distributed-issuer-egress, namespace: venafi}
    /// spec:
    ///   podSelector: {matchLabels: {app: distributed-issuer}}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ///       ports: [{protocol: TCP, port: 443}]
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
    ///     metadata: {labels: {app: distributed-issuer}}
    ///     spec: {containers: [{name: issuer, image: venafi/distributed-issuer}]}
    /// ```
    pub RequirementBlocked {
        id: "NR207", name: "requirement-blocked", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

/// Where a need was declared.
struct Declared {
    need: Result<Need, String>,
    loc: Loc,
    reported: bool,
}

impl Rule for RequirementBlocked {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for (i, w) in cx.ws.workloads.iter().enumerate() {
            let declared = declared(cx, w);
            if declared.is_empty() || w.host_network() {
                continue;
            }
            for d in declared {
                let reported = d.reported
                    || cx.ws.reported(&w.obj)
                    || cx.engine.isolating(i, Direction::Egress).iter().any(|&p| super::helpers::policy_reported(cx, p));
                if !reported {
                    continue;
                }
                let need = match d.need {
                    Ok(n) => n,
                    Err(why) => {
                        let f = out.report_at(&meta, Some(w.id.clone()), d.loc, format!("cannot read the declared requirement of `{}`: {why}", w.display()));
                        f.help("write `ALLOW <host> <TCP|UDP|SCTP> <port>` or `<host>:<port>[/<protocol>]`");
                        continue;
                    }
                };
                if !cx.sees_namespace(&w.namespace) {
                    out.unverifiable(&meta, Some(w.id.clone()), d.loc, &format!("whether `{}` can reach {}", w.display(), need.text), &cx.ws.coverage);
                    continue;
                }
                let target = cx.classify(&need.host);
                let (via, target, port) = match proxy_for(w, &need, &target) {
                    Some((var, url)) => (Some((var, url.host.clone(), url.port)), cx.classify(&url.host), url.port),
                    None => (None, target, need.port),
                };
                let protocol = if via.is_some() { crate::model::Protocol::Tcp } else { need.protocol };
                match reach(cx, i, &target, protocol, port) {
                    Reach::Allowed => {}
                    Reach::Unknown(why) => {
                        out.unverifiable(&meta, Some(w.id.clone()), d.loc, &format!("whether `{}` can reach {} ({why})", w.display(), need.text), &cx.ws.coverage);
                    }
                    Reach::Blocked(blocked) => {
                        let layer = match (&via, blocked.dir) {
                            (Some((var, host, p)), _) => format!("it goes through the proxy {host}:{p} (`{var}`), which is not reachable"),
                            (None, Direction::Egress) => "its egress policies do not allow it".to_string(),
                            (None, Direction::Ingress) => {
                                let b = cx.ws.workloads.get(blocked.at).map(Workload::display).unwrap_or_default();
                                format!("the ingress policies of {b} do not allow it")
                            }
                        };
                        let message = format!("`{}` cannot reach its declared requirement `{}`: {layer}", w.display(), need.text);
                        let what = via.as_ref().map_or_else(|| need.host.clone(), |(_, h, _)| format!("proxy {h}"));
                        let needed = Needed { what: &what, protocol };
                        if let Some(f) = report_blocked(out, &meta, cx, i, &blocked, message, &needed) {
                            if d.reported {
                                f.loc = d.loc;
                            }
                            // The fix is left out when an Admin-tier Deny decided (no NetworkPolicy overrides it).
                            if f.fix.is_some() {
                                f.help("allow the connection in the layer named above; the fix adds the missing allowance");
                            } else {
                                f.help("allow the connection in the cluster policy named above (an Accept or Pass before its Deny)");
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The needs declared for `w`: its annotation, then matching `Requirements` documents.
fn declared(cx: &Context<'_>, w: &Workload) -> Vec<Declared> {
    let mut out = Vec::new();
    if let Some(v) = w.annotations.get(EGRESS_ANNOTATION) {
        let fields = [
            join_key("metadata.annotations", EGRESS_ANNOTATION),
            w.template_field(&join_key("metadata.annotations", EGRESS_ANNOTATION)),
        ];
        let loc = cx.ws.loc_first(&w.obj, &fields);
        for need in parse_requirements(v) {
            out.push(Declared { need, loc: loc.clone(), reported: cx.ws.reported(&w.obj) });
        }
    }
    for r in cx.ws.requirements.iter().filter(|r| r.namespace == w.namespace && r.selector.matches(&w.labels)) {
        for (path, need) in &r.egress {
            let obj: &ObjRef = &r.obj;
            out.push(Declared { need: need.clone(), loc: cx.at(obj, path), reported: cx.ws.reported(obj) });
        }
    }
    out
}

/// The proxy a need goes through, if any: the first container that sets the proxy variable
/// for the need's scheme (`HTTP_PROXY` for port 80, `HTTPS_PROXY` otherwise) to a literal URL,
/// unless its `NO_PROXY` matches the host. Only TCP needs to names or addresses outside the
/// cluster's Services are proxied.
fn proxy_for(w: &Workload, need: &Need, target: &NeedTarget) -> Option<(&'static str, ProxyUrl)> {
    if need.protocol != crate::model::Protocol::Tcp || matches!(target, NeedTarget::Service(..)) {
        return None;
    }
    let names: [&'static str; 2] = if need.port == 80 { ["HTTP_PROXY", "http_proxy"] } else { ["HTTPS_PROXY", "https_proxy"] };
    for c in &w.spec.containers {
        let Some((var, EnvValue::Literal(v))) = env(c, &names) else { continue };
        let Ok(url) = ProxyUrl::parse(&v) else { continue };
        let no_proxy = match env(c, &["NO_PROXY", "no_proxy"]) {
            Some((_, EnvValue::Literal(n))) => NoProxy::parse(&n),
            _ => NoProxy::default(),
        };
        if no_proxy.bypasses(&need.host, need.port) {
            return None;
        }
        return Some((var, url));
    }
    None
}
