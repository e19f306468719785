use crate::model::Protocol;
use crate::netpol::{SideVerdict, Target};
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::Severity;

declare_rule! {
    /// Cluster Deny drops cluster DNS or the API server for every pod it applies to
    ///
    /// ## What it does
    /// For each cluster policy, asks the engine whether the cluster DNS (UDP 53 to the
    /// profile's DNS pods) is reachable from every pod the policy applies to, and whether the
    /// API server (the profile's addresses and ports) is reachable from those of them that
    /// talk to it (annotated, bound to a Role, or named by the profile). It reports when one
    /// of the policy's own Deny rules (or a rule failing closed) drops it for all of them.
    ///
    /// ## Why is this bad?
    /// A cluster-wide Deny cannot be overridden by the namespace owners: every pod it selects
    /// loses name resolution (or its controllers lose the API) at once, and no NetworkPolicy
    /// they write brings it back.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: egress-lockdown}
    /// spec:
    ///   tier: Admin
    ///   priority: 10
    ///   subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}
    ///   egress:
    ///   - {name: nothing, action: Deny, to: [{namespaces: {}}, {networks: [0.0.0.0/0]}]}
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: api, namespace: shop}
    /// spec: {containers: [{name: api, image: api}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: egress-lockdown}
    /// spec:
    ///   tier: Admin
    ///   priority: 10
    ///   subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}
    ///   egress:
    ///   - name: dns
    ///     action: Accept
    ///     to: [{pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}}]
    ///     protocols: [{udp: {destinationPort: {number: 53}}}, {tcp: {destinationPort: {number: 53}}}]
    ///   - {name: nothing, action: Deny, to: [{namespaces: {}}, {networks: [0.0.0.0/0]}]}
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: api, namespace: shop}
    /// spec: {containers: [{name: api, image: api}]}
    /// ```
    pub ClusterDenyBlocksEssentials {
        id: "NR605", name: "cluster-deny-blocks-essentials", severity: Severity::Error, tags: &[],
    }
}

/// The rule path of the policy `pi` that denied `v`, if it did.
fn denied_here(v: &SideVerdict, pi: usize) -> Option<String> {
    let t = v.decided_by.as_ref()?;
    (!v.allowed && t.index == pi).then(|| t.rule.clone())
}

impl Rule for ClusterDenyBlocksEssentials {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        for (pi, p) in cx.reported_indexed(&cx.ws.cluster_policies) {
            if p.egress.is_empty() {
                continue;
            }
            let subjects: Vec<usize> = cx.engine.cluster_subjects(pi).into_iter().filter(|&w| cx.ws.workloads.get(w).is_some_and(|w| cx.sees_namespace(&w.namespace))).collect();
            if subjects.is_empty() {
                continue;
            }
            let dns = cx.dns_pods();
            let what = dns.display.clone();
            let dns = Target::Pods(dns);
            let rules: Vec<Option<String>> = subjects.iter().map(|&w| denied_here(&cx.engine.egress_to(w, &dns, 53, Protocol::Udp), pi)).collect();
            if let Some(Some(rule)) = rules.first().filter(|_| rules.iter().all(Option::is_some)) {
                let d = out.report(
                    &Self::META,
                    p,
                    rule,
                    format!("{} {rule} denies {what} on UDP 53 to every pod it applies to ({})", p.qualified_name(), subjects.len()),
                );
                d.why("a cluster-tier Deny comes before the NetworkPolicies: no namespace owner can allow DNS back");
                d.help("accept UDP and TCP 53 to the cluster DNS pods in a rule before this one");
            }
            let clients: Vec<usize> = subjects.iter().copied().filter(|&w| cx.ws.workloads.get(w).is_some_and(|w| cx.is_api_client(w))).collect();
            let targets = cx.api_server_targets();
            let (Some(target), Some(&port)) = (targets.first(), cx.profile.api_server.ports.first()) else { continue };
            let rules: Vec<Option<String>> = clients.iter().map(|&w| denied_here(&cx.engine.egress_to(w, target, port, Protocol::Tcp), pi)).collect();
            if let Some(Some(rule)) = rules.first().filter(|_| rules.iter().all(Option::is_some)) {
                let d = out.report(
                    &Self::META,
                    p,
                    rule,
                    format!("{} {rule} denies the API server on TCP {port} to every pod it applies to that talks to it ({})", p.qualified_name(), clients.len()),
                );
                d.why("controllers and operators lose the Kubernetes API, and no NetworkPolicy can allow it back");
                d.help("accept the API server's addresses and ports in a rule before this one");
            }
        }
    }
}
