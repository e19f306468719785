use super::helpers::{dns_clients, dns_fix, egress_blocked, report_egress, DNS_PORTS};
use crate::model::Protocol;
use crate::netpol::Target;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// DNS allowance targets the wrong resolver
    ///
    /// ## What it does
    /// Finds an egress-isolated workload whose policies allow DNS to the cluster DNS pods while
    /// its queries go elsewhere: to a node-local DNS cache (profile `dns.nodeLocalIP`, e.g.
    /// NodeLocal DNSCache's 169.254.20.10), to the node's resolver (`dnsPolicy: Default`), or to
    /// the `dnsConfig.nameservers` of a `dnsPolicy: None` pod — and no rule allows UDP 53 there.
    ///
    /// ## Why is this bad?
    /// A node-local cache runs on the host network and answers on a link-local address; pod
    /// and namespace selectors never match it, so an allowance written for the kube-dns pods
    /// does not cover it. The policy looks right and every lookup still times out.
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
    ///       ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: api}}
    ///   template:
    ///     metadata: {labels: {app: api}}
    ///     spec:
    ///       dnsPolicy: None
    ///       dnsConfig: {nameservers: [10.20.0.53]}
    ///       containers: [{name: api, image: shop/api}]
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
    ///     - to: [{ipBlock: {cidr: 10.20.0.53/32}}]
    ///       ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: api}}
    ///   template:
    ///     metadata: {labels: {app: api}}
    ///     spec:
    ///       dnsPolicy: None
    ///       dnsConfig: {nameservers: [10.20.0.53]}
    ///       containers: [{name: api, image: shop/api}]
    /// ```
    pub DnsWrongResolver {
        id: "NR203", name: "dns-wrong-resolver", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for DnsWrongResolver {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for (i, w, r) in dns_clients(cx) {
            if r.cluster_dns {
                continue;
            }
            let Some(verdict) = egress_blocked(cx, i, &r.actual, Protocol::Udp, 53) else { continue };
            let cluster = Target::Pods(cx.dns_pods());
            if !cx.engine.egress_to(i, &cluster, 53, Protocol::Udp).allowed {
                continue;
            }
            let fix = dns_fix(cx, w, &r.actual, &r.what, &DNS_PORTS);
            let message = format!(
                "`{}` sends DNS queries to {}, but its policies allow DNS only to the cluster DNS pods",
                w.display(),
                r.what
            );
            if let Some(d) = report_egress(out, &meta, cx, i, message, &verdict, fix) {
                d.help("allow UDP and TCP 53 to the resolver's address with an ipBlock: selectors never match a host-network or external resolver");
            }
        }
    }
}
