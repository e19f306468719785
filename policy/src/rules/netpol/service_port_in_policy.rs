use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::model::{Labels, PortMatch, PortSel, Protocol, Service, Workload};
use crate::netpol::{resolve_named, Direction};
use crate::rules::Fix;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Policy allows the Service port, not the pod port
    ///
    /// ## What it does
    /// For each Service whose `port` differs from its `targetPort` on the pods behind it (and
    /// no container of those pods listens on the Service port), finds a rule that allows the
    /// Service port but not the target port: an ingress rule of a policy that isolates those
    /// pods, or an egress rule whose peers select them.
    ///
    /// ## Why is this bad?
    /// NetworkPolicies see connections after the Service's DNAT: the destination is the pod IP
    /// and the target port. A rule allowing the Service port matches nothing, and the traffic
    /// the rule was written for is dropped.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: web-ingress, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: web}}
    ///   policyTypes: [Ingress]
    ///   ingress: [{ports: [{port: 80}]}]
    /// ---
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   selector: {app: web}
    ///   ports: [{port: 80, targetPort: 8080}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: web}}
    ///   template:
    ///     metadata: {labels: {app: web}}
    ///     spec: {containers: [{name: web, image: shop/web, ports: [{containerPort: 8080}]}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: web-ingress, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: web}}
    ///   policyTypes: [Ingress]
    ///   ingress: [{ports: [{port: 8080}]}]
    /// ---
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   selector: {app: web}
    ///   ports: [{port: 80, targetPort: 8080}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: web}}
    ///   template:
    ///     metadata: {labels: {app: web}}
    ///     spec: {containers: [{name: web, image: shop/web, ports: [{containerPort: 8080}]}]}
    /// ```
    pub ServicePortInPolicy {
        id: "NR111", name: "service-port-in-policy", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

/// Whether the port item allows `proto`/`port` by number.
fn allows(m: &PortMatch, proto: Protocol, port: u16) -> bool {
    m.protocol == Some(proto) && matches!(m.port, PortSel::Range(a, b) if a <= port && port <= b)
}

/// (Service port, target port, protocol, backend) where they differ and the backend does not
/// listen on the Service port.
fn mismatches<'w>(cx: &Context<'w>, svc: &'w Service) -> Vec<(u16, u16, Protocol, usize)> {
    let selector: Labels = svc.spec.selector.clone().unwrap_or_default().into_iter().collect();
    if selector.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (bi, b) in cx.ws.workloads.iter().enumerate() {
        if b.namespace != svc.namespace || !crate::model::contains_labels(&b.labels, &selector) {
            continue;
        }
        for sp in svc.spec.ports.iter().flatten() {
            let Some(proto) = Protocol::parse(sp.protocol.as_deref().unwrap_or("TCP")) else { continue };
            let Ok(port) = u16::try_from(sp.port) else { continue };
            let target = match &sp.target_port {
                None => continue,
                Some(IntOrString::Int(n)) => u16::try_from(*n).ok(),
                Some(IntOrString::String(n)) => resolve_named(b, proto, n).first().copied(),
            };
            let Some(target) = target.filter(|t| *t != port) else { continue };
            if listens(b, proto, port) {
                continue;
            }
            out.push((port, target, proto, bi));
        }
    }
    out
}

fn listens(w: &Workload, proto: Protocol, port: u16) -> bool {
    w.ports.iter().any(|p| p.protocol == Some(proto) && i32::from(port) == p.number)
}

impl Rule for ServicePortInPolicy {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        if cx.ws.coverage != crate::model::Coverage::Complete {
            // Services and pods of the namespaces involved may be missing: say so for each
            // reviewed policy that allows numeric ports.
            for p in cx.reported(&cx.ws.policies) {
                let numeric = p.ingress.iter().chain(&p.egress).flat_map(|r| r.ports.iter().flatten()).any(|m| matches!(m.port, PortSel::Range(..)));
                if numeric {
                    let what = format!("whether NetworkPolicy `{}` allows Service ports instead of pod ports", p.qualified_name());
                    out.unverifiable(&meta, Some(p.id.clone()), cx.at(&p.obj, "spec"), &what, &cx.ws.coverage);
                }
            }
            return;
        }
        let mut seen: Vec<String> = Vec::new();
        for svc in &cx.ws.services {
            for (port, target, proto, bi) in mismatches(cx, svc) {
                let Some(b) = cx.ws.workloads.get(bi) else { continue };
                for (pi, p) in cx.ws.policies.iter().enumerate() {
                    if !cx.ws.reported(&p.obj) {
                        continue;
                    }
                    for dir in [Direction::Ingress, Direction::Egress] {
                        let isolates = dir.isolates(p);
                        let rules = dir.rules(p);
                        if !isolates {
                            continue;
                        }
                        let applies = |ri: usize| match dir {
                            Direction::Ingress => cx.engine.isolating(bi, dir).contains(&pi),
                            Direction::Egress => cx.engine.rule_pods(pi, dir, ri).is_some_and(|pods| pods.contains(&bi)),
                        };
                        for (ri, r) in rules.iter().enumerate() {
                            let items = r.ports.iter().flatten();
                            if !applies(ri) || items.clone().any(|m| allows(m, proto, target)) {
                                continue;
                            }
                            let Some(item) = items.clone().find(|m| allows(m, proto, port)) else { continue };
                            let key = format!("{pi}/{}", item.path);
                            if seen.contains(&key) {
                                continue;
                            }
                            seen.push(key);
                            let what = if dir == Direction::Ingress { "into" } else { "to" };
                            let d = out.report(
                                &meta,
                                p,
                                &format!("{}.port", item.path),
                                format!(
                                    "`{}` of NetworkPolicy `{}` allows {proto} {port} {what} {}, the port of Service `{}`; its pods listen on {target}",
                                    item.path,
                                    p.qualified_name(),
                                    b.display(),
                                    svc.id.name
                                ),
                            );
                            d.why(format!(
                                "Service {}/{} forwards port {port} to targetPort {target}; policies see the connection after that translation, so {proto} {port} matches nothing on these pods",
                                svc.namespace, svc.id.name
                            ));
                            d.help(format!("allow the target port {target}"));
                            d.fix(Fix::new(
                                format!("allow the pod port {target} instead of the Service port {port}"),
                                format!("{{protocol: {proto}, port: {target}}}"),
                                p.id.clone(),
                            ));
                            d.edit(cx.ws.replace_edit(&p.obj, &format!("{}.port", item.path), target.to_string()));
                        }
                    }
                }
            }
        }
    }
}
