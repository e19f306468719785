use crate::model::{Coverage, PeerKind, PortSel, Protocol, Workload};
use crate::netpol::Direction;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Named port not declared by the destination pods
    ///
    /// ## What it does
    /// Finds a named `port` in a rule that no destination pod declares with that name and
    /// protocol: for an ingress rule, the pods the policy selects; for an egress rule, the
    /// pods its peers select (every workload of the input, for a rule without `to`). A named
    /// port in an egress rule whose peers are all `ipBlock`s is reported too: an address has
    /// no port names.
    ///
    /// ## Why is this bad?
    /// A named port is resolved on each destination pod from its containers' `ports[].name`.
    /// When no pod declares it the item allows nothing, and the traffic it was written for is
    /// dropped — after a rename of a container port, typically.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: web-ingress, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: web}}
    ///   policyTypes: [Ingress]
    ///   ingress: [{ports: [{port: http}]}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: web}}
    ///   template:
    ///     metadata: {labels: {app: web}}
    ///     spec: {containers: [{name: web, image: shop/web, ports: [{name: web, containerPort: 8080}]}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: web-ingress, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: web}}
    ///   policyTypes: [Ingress]
    ///   ingress: [{ports: [{port: web}]}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: web}}
    ///   template:
    ///     metadata: {labels: {app: web}}
    ///     spec: {containers: [{name: web, image: shop/web, ports: [{name: web, containerPort: 8080}]}]}
    /// ```
    pub NamedPortUndeclared {
        id: "NR110", name: "named-port-undeclared", severity: Severity::Warning, tags: &["iso27001:A.13.1.3"],
    }
}

fn declares(w: &Workload, name: &str, proto: Protocol) -> bool {
    w.ports.iter().any(|p| p.name.as_deref() == Some(name) && p.protocol == Some(proto))
}

impl Rule for NamedPortUndeclared {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for (pi, p) in cx.reported_indexed(&cx.ws.policies) {
            let named = |dir: Direction| {
                dir.rules(p).iter().enumerate().flat_map(move |(ri, r)| {
                    r.ports.iter().flatten().filter_map(move |m| match (&m.port, m.protocol) {
                        (PortSel::Named(n), Some(proto)) => Some((ri, r, m, n.clone(), proto)),
                        _ => None,
                    })
                })
            };
            if !named(Direction::Ingress).chain(named(Direction::Egress)).any(|_| true) {
                continue;
            }
            if cx.ws.coverage != Coverage::Complete {
                let what = format!("whether the named ports of NetworkPolicy `{}` are declared by their pods", p.qualified_name());
                out.unverifiable(&meta, Some(p.id.clone()), cx.at(&p.obj, "spec"), &what, &cx.ws.coverage);
                continue;
            }
            for dir in [Direction::Ingress, Direction::Egress] {
                if !dir.isolates(p) {
                    continue;
                }
                for (ri, rule, item, name, proto) in named(dir) {
                    let (pods, whose): (Vec<&Workload>, String) = match dir {
                        Direction::Ingress => (
                            cx.engine.selected_by(pi).iter().filter_map(|&i| cx.ws.workloads.get(i)).collect(),
                            "the pods the policy selects".to_string(),
                        ),
                        Direction::Egress => {
                            let only_blocks = rule.peers.as_ref().is_some_and(|ps| ps.iter().all(|peer| matches!(peer.kind, PeerKind::IpBlock { .. })));
                            if only_blocks {
                                let d = out.report(
                                    &meta,
                                    p,
                                    &format!("{}.port", item.path),
                                    format!("named port {name:?} in `{}` of NetworkPolicy `{}` never matches: its peers are ipBlocks, and addresses have no port names", rule.path, p.qualified_name()),
                                );
                                d.help("use the port number for ipBlock peers");
                                continue;
                            }
                            match cx.engine.rule_pods(pi, dir, ri) {
                                Some(ws) => (ws.iter().filter_map(|&i| cx.ws.workloads.get(i)).collect(), "the pods its peers select".to_string()),
                                None => (cx.ws.workloads.iter().collect(), "any workload of the input".to_string()),
                            }
                        }
                    };
                    if pods.is_empty() || pods.iter().any(|w| declares(w, &name, proto)) {
                        continue;
                    }
                    let d = out.report(
                        &meta,
                        p,
                        &format!("{}.port", item.path),
                        format!("named port {name:?} ({proto}) in `{}` of NetworkPolicy `{}` is declared by none of {whose}", rule.path, p.qualified_name()),
                    );
                    let mut declared: Vec<String> = pods
                        .iter()
                        .flat_map(|w| w.ports.iter().filter_map(|cp| cp.name.as_ref().map(|n| format!("{n} ({}/{})", cp.number, cp.protocol.map_or("?", Protocol::as_str)))))
                        .collect();
                    declared.sort();
                    declared.dedup();
                    d.why(if declared.is_empty() {
                        "they declare no named container ports".to_string()
                    } else {
                        format!("their named container ports: {}", declared.join(", "))
                    });
                    d.help("use a port name the containers declare (`ports[].name`), or the port number");
                }
            }
        }
    }
}
