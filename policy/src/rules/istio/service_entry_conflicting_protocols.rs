use super::{se_ports, strings};
use crate::model::IstioObject;
use crate::report::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule, RuleCheck};
use crate::source::join_index;

declare_rule! {
    /// Conflicting protocols for one host and port (IST0177)
    ///
    /// ## What it does
    /// Finds two ServiceEntries visible in a common namespace (by `exportTo`) that define the
    /// same host and port with different protocols, as istioctl's IST0177 does.
    ///
    /// ## Why is this bad?
    /// Istio keeps one of them; which one is not defined, and the traffic is handled as HTTP
    /// in one cluster and as TLS or TCP in the next.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: api-tls, namespace: shop}
    /// spec:
    ///   hosts: [api.example.com]
    ///   ports: [{number: 443, name: tls, protocol: TLS}]
    /// ---
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: api-https, namespace: shop}
    /// spec:
    ///   hosts: [api.example.com]
    ///   ports: [{number: 443, name: https, protocol: HTTPS}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: api-tls, namespace: shop}
    /// spec:
    ///   hosts: [api.example.com]
    ///   ports: [{number: 443, name: tls, protocol: TLS}]
    /// ```
    pub ServiceEntryConflictingProtocols {
        id: "NR405", name: "service-entry-conflicting-protocols", severity: Severity::Warning, tags: &["iso27001:A.13.1.1"],
    }
}

/// The namespaces `se` is visible in (`None`: every namespace).
fn scope(se: &IstioObject) -> Option<Vec<String>> {
    let to = strings(&se.spec, "exportTo");
    if to.is_empty() || to.contains(&"*") {
        return None;
    }
    Some(to.iter().filter(|e| **e != "~").map(|e| if *e == "." { se.namespace.clone() } else { (*e).to_string() }).collect())
}

fn overlap(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> bool {
    match (a, b) {
        (None, Some(v)) | (Some(v), None) => !v.is_empty(),
        (None, None) => true,
        (Some(x), Some(y)) => x.iter().any(|n| y.contains(n)),
    }
}

impl RuleCheck for ServiceEntryConflictingProtocols {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = <Self as Rule>::META;
        let entries = &cx.ws.service_entries;
        for (k, se) in entries.iter().enumerate() {
            if !cx.ws.reported(&se.obj) {
                continue;
            }
            for (pi, number, proto, _) in se_ports(se) {
                let proto = if proto.is_empty() { "TCP".to_string() } else { proto };
                for host in strings(&se.spec, "hosts") {
                    let earlier = entries.iter().take(k).find(|o| {
                        overlap(&scope(o), &scope(se))
                            && strings(&o.spec, "hosts").contains(&host)
                            && se_ports(o).iter().any(|(_, n, p, _)| *n == number && (if p.is_empty() { "TCP" } else { p.as_str() }) != proto)
                    });
                    let Some(o) = earlier else { continue };
                    let d = out.report(
                        &meta,
                        Some(se.id.clone()),
                        cx.at(&se.obj, &format!("{}.protocol", join_index("spec.ports", pi))),
                        format!("ServiceEntries {}/{} and {}/{} define host {host:?} port {number} with conflicting protocols", o.namespace, o.id.name, se.namespace, se.id.name),
                    );
                    d.related = vec![("the other ServiceEntry".into(), cx.at(&o.obj, "spec.ports"))];
                    d.help = Some("keep one ServiceEntry per host and port, or make their protocols agree".into());
                }
            }
        }
    }
}
