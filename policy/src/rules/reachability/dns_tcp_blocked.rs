use super::helpers::{dns_clients, dns_fix, egress_blocked, report_egress};
use crate::model::Protocol;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// DNS over TCP blocked while UDP is allowed
    ///
    /// ## What it does
    /// Finds an egress-isolated workload whose policies allow UDP 53 to one of its resolvers
    /// but TCP 53 to none (the resolvers as in NR201).
    ///
    /// ## Why is this bad?
    /// DNS falls back to TCP when an answer does not fit in a UDP datagram (truncated answers:
    /// many records, DNSSEC, long TXT records) and resolvers may use TCP for any query. With
    /// TCP 53 dropped those lookups fail intermittently, for some names only — one of the
    /// hardest failures to trace back to a NetworkPolicy.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: allow-dns, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to:
    ///         - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
    ///           podSelector: {matchLabels: {k8s-app: kube-dns}}
    ///       ports: [{protocol: UDP, port: 53}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: api}}
    ///   template:
    ///     metadata: {labels: {app: api}}
    ///     spec: {containers: [{name: api, image: shop/api}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: allow-dns, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to:
    ///         - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
    ///           podSelector: {matchLabels: {k8s-app: kube-dns}}
    ///       ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: api}}
    ///   template:
    ///     metadata: {labels: {app: api}}
    ///     spec: {containers: [{name: api, image: shop/api}]}
    /// ```
    pub DnsTcpBlocked {
        id: "NR202", name: "dns-tcp-blocked", severity: Severity::Warning, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for DnsTcpBlocked {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for (i, w, r) in dns_clients(cx) {
            let udp: Vec<_> = r.actual.iter().filter(|t| cx.engine.egress_to(i, t, 53, Protocol::Udp).allowed).cloned().collect();
            if udp.is_empty() {
                continue;
            }
            let Some(verdict) = egress_blocked(cx, i, &udp, Protocol::Tcp, 53) else { continue };
            let fix = dns_fix(cx, w, &udp, &r.what, &[(Protocol::Tcp, 53)]);
            let message = format!("`{}` can reach {} on UDP 53 but not on TCP 53", w.display(), r.what);
            if let Some(d) = report_egress(out, &meta, cx, i, message, &verdict, fix) {
                d.help("allow TCP 53 wherever UDP 53 is allowed: truncated answers are retried over TCP");
            }
        }
    }
}
