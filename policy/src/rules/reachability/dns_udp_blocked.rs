use super::helpers::{dns_fix, egress_blocked, egress_candidates, report_egress, resolvers, unverifiable, DNS_PORTS};
use crate::model::Protocol;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// DNS over UDP blocked
    ///
    /// ## What it does
    /// Finds an egress-isolated workload whose policies allow UDP 53 to none of its resolvers:
    /// the cluster DNS pods (profile `dns`: by default `k8s-app: kube-dns` in `kube-system`),
    /// the DNS Service IP or the NodeLocal DNS address when the profile gives them, the
    /// `dnsConfig.nameservers` of a `dnsPolicy: None` pod, or, for `dnsPolicy: Default`, the
    /// node's resolver (only a rule without `to` or with an `ipBlock` can reach it).
    ///
    /// ## Why is this bad?
    /// Once a policy with `Egress` selects a pod, every connection it opens is dropped unless a
    /// rule allows it — DNS included. Lookups time out, and the application reports a
    /// connection failure to a host name far from the cause. Pod and namespace selectors must
    /// match the DNS pods' labels and their namespace's labels exactly; `name: kube-system` is
    /// not a label Kubernetes sets (see NR106).
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: api-egress, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: api}}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ///       ports: [{protocol: TCP, port: 443}]
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
    /// metadata: {name: api-egress, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: api}}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ///       ports: [{protocol: TCP, port: 443}]
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
    pub DnsUdpBlocked {
        id: "NR201", name: "dns-udp-blocked", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for DnsUdpBlocked {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for (i, w) in egress_candidates(cx) {
            if unverifiable(cx, out, &meta, w, &format!("whether `{}` can reach DNS", w.display())) {
                continue;
            }
            let Some(r) = resolvers(cx, w) else { continue };
            // The cluster DNS pods count as a resolver even where a node-local cache is the
            // real one: that mismatch is NR203's finding, not a total DNS block.
            let mut targets = r.actual.clone();
            if !r.cluster_dns {
                targets.push(crate::netpol::Target::Pods(cx.dns_pods()));
            }
            let Some(verdict) = egress_blocked(cx, i, &targets, Protocol::Udp, 53) else { continue };
            let fix = dns_fix(cx, w, &r.actual, &r.what, &DNS_PORTS);
            let message = format!("`{}` cannot reach {} on UDP 53: its egress policies allow no DNS", w.display(), r.what);
            if let Some(d) = report_egress(out, &meta, cx, i, message, &verdict, fix) {
                d.help("allow egress to the resolver on UDP and TCP port 53");
            }
        }
    }
}
