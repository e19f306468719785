use super::helpers::se_ports;
use crate::model::ServiceEntry;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_index;

declare_rule! {
    /// Conflicting protocols for one host and port (IST0177)
    ///
    /// ## What it does
    /// Finds two ServiceEntries visible in a common namespace (by `exportTo`) that define the
    /// same host and port with different protocols, as istioctl's IST0177 does: hosts compare
    /// exactly, protocols case-insensitively, and an unset protocol (sniffed) differs from
    /// `TCP`. Each conflicting pair is reported once, at the later entry's port (at admission,
    /// at the entry under review), where istioctl reports each entry. Unlike istioctl, an entry
    /// exported nowhere (`exportTo: ["~"]`) conflicts with nothing.
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
fn scope(se: &ServiceEntry) -> Option<Vec<String>> {
    let to = &se.spec.export_to;
    if to.is_empty() || to.iter().any(|e| e == "*") {
        return None;
    }
    Some(to.iter().filter(|e| *e != "~").map(|e| if e == "." { se.namespace.clone() } else { e.clone() }).collect())
}

fn overlap(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> bool {
    match (a, b) {
        (None, Some(v)) | (Some(v), None) => !v.is_empty(),
        (None, None) => true,
        (Some(x), Some(y)) => x.iter().any(|n| y.contains(n)),
    }
}

fn shown(proto: &str) -> &str {
    if proto.is_empty() {
        "unset"
    } else {
        proto
    }
}

impl Rule for ServiceEntryConflictingProtocols {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let entries = &cx.ws.service_entries;
        for (k, se) in entries.iter().enumerate() {
            if !cx.ws.reported(&se.obj) {
                continue;
            }
            for (pi, number, proto, _) in se_ports(se) {
                // Once per pair: against earlier entries, and against later ones that are not
                // reported themselves (the cluster's, when `se` is under review).
                let conflict = se.spec.hosts.iter().find_map(|host| {
                    entries.iter().enumerate().filter(|(j, o)| (*j < k || (*j > k && !cx.ws.reported(&o.obj))) && overlap(&scope(o), &scope(se)) && o.spec.hosts.contains(host)).find_map(|(_, o)| {
                        se_ports(o).into_iter().find(|(_, n, p, _)| *n == number && *p != proto).map(|(oi, _, p, _)| (host, o, oi, p))
                    })
                });
                let Some((host, o, oi, other)) = conflict else { continue };
                let d = out.report(
                    &meta,
                    se,
                    &format!("{}.protocol", join_index("spec.ports", pi)),
                    format!(
                        "ServiceEntry {}/{} defines host {host:?} port {number} as {}, but ServiceEntry {}/{} defines it as {}: the protocols conflict",
                        se.namespace,
                        se.id.name,
                        shown(&proto),
                        o.namespace,
                        o.id.name,
                        shown(&other)
                    ),
                );
                d.related(vec![("the other ServiceEntry".into(), cx.at(&o.obj, &join_index("spec.ports", oi)))]);
                d.help("keep one ServiceEntry per host and port, or make their protocols agree");
            }
        }
    }
}
