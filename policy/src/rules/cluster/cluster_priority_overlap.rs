use super::helpers::rule_of;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::Severity;

declare_rule! {
    /// Cluster policies of equal priority decide the same traffic differently
    ///
    /// ## What it does
    /// Finds two cluster policies (ClusterNetworkPolicy, AdminNetworkPolicy) in the same tier
    /// with the same `priority` that apply to a common pod and have rules of one direction
    /// matching a common peer on common ports with different actions.
    ///
    /// ## Why is this bad?
    /// The API leaves the order of equal priorities to the implementation: Calico, Cilium and
    /// OVN-Kubernetes may each pick another policy, so the same connection is accepted in one
    /// cluster and dropped in the next. netreach evaluates them by name (then kind) and says so.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: allow-monitoring}
    /// spec:
    ///   tier: Admin
    ///   priority: 10
    ///   subject: {namespaces: {}}
    ///   ingress:
    ///   - {name: scrape, action: Accept, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]}
    /// ---
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: isolate-tenants}
    /// spec:
    ///   tier: Admin
    ///   priority: 10
    ///   subject: {namespaces: {}}
    ///   ingress:
    ///   - {name: others, action: Deny, from: [{namespaces: {}}]}
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: prometheus, namespace: monitoring}
    /// spec: {containers: [{name: p, image: prometheus}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: allow-monitoring}
    /// spec:
    ///   tier: Admin
    ///   priority: 10
    ///   subject: {namespaces: {}}
    ///   ingress:
    ///   - {name: scrape, action: Accept, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]}
    /// ---
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: isolate-tenants}
    /// spec:
    ///   tier: Admin
    ///   priority: 20
    ///   subject: {namespaces: {}}
    ///   ingress:
    ///   - {name: others, action: Deny, from: [{namespaces: {}}]}
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: prometheus, namespace: monitoring}
    /// spec: {containers: [{name: p, image: prometheus}]}
    /// ```
    pub ClusterPriorityOverlap {
        id: "NR602", name: "cluster-priority-overlap", severity: Severity::Warning, tags: &[],
    }
}

impl Rule for ClusterPriorityOverlap {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        for o in cx.engine.cluster_overlaps() {
            let (Some(a), Some(b)) = (cx.ws.cluster_policies.get(o.first.0), cx.ws.cluster_policies.get(o.second.0)) else { continue };
            let (Some(ra), Some(rb)) = (rule_of(a, o.dir, o.first.1), rule_of(b, o.dir, o.second.1)) else { continue };
            // On the policy under review; in a whole input, on the one evaluated second.
            let (here, there, rh, rt) = if cx.ws.reported(&b.obj) { (b, a, rb, ra) } else { (a, b, ra, rb) };
            if !cx.ws.reported(&here.obj) {
                continue;
            }
            let subject = cx.ws.workloads.get(o.subject).map(|w| w.display()).unwrap_or_default();
            let tier = here.tier.map(|t| t.to_string()).unwrap_or_default();
            let d = out.report(
                &Self::META,
                here,
                "spec.priority",
                format!(
                    "{} and {} share priority {} in the {tier} tier and decide {} of {subject} with {} on {} differently ({} vs {})",
                    here.qualified_name(),
                    there.qualified_name(),
                    here.priority,
                    o.dir.as_str().to_lowercase(),
                    o.peer,
                    o.ports,
                    rh.action.map(|a| a.to_string()).unwrap_or_default(),
                    rt.action.map(|a| a.to_string()).unwrap_or_default(),
                ),
            );
            d.why(format!(
                "the API leaves the order of equal priorities to the implementation; netreach evaluates {} first (by name)",
                a.qualified_name()
            ));
            d.help("give one of the two policies another priority, so the order is the same in every cluster");
            d.related(vec![(format!("{} {}", there.qualified_name(), rt.label()), cx.at(&there.obj, &rt.path))]);
        }
    }
}
