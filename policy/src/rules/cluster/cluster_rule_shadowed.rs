use super::helpers::rule_of;
use crate::model::Coverage;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::Severity;

declare_rule! {
    /// Cluster policy rule that no connection reaches
    ///
    /// ## What it does
    /// Finds a rule of a cluster policy (ClusterNetworkPolicy, AdminNetworkPolicy,
    /// BaselineAdminNetworkPolicy) whose every connection is decided before it: for each pod
    /// of the input the policy applies to, and each peer the rule matches (workloads, and the
    /// address ranges of its networks), the earlier rules of the tier (lower priority first,
    /// then rule order) that apply to that pod and match that peer already cover all the
    /// rule's ports. Rules with `domainNames` or `nodes` peers are not judged (their matches
    /// are not in the input), nor are inputs that show only part of the cluster.
    ///
    /// ## Why is this bad?
    /// The first matching rule decides: a rule below a broader one never takes effect. Usually
    /// the author meant it as an exception and wrote it in the wrong place — an Accept for the
    /// monitoring namespace under a Deny of all namespaces is never reached.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: tenants}
    /// spec:
    ///   tier: Admin
    ///   priority: 10
    ///   subject: {namespaces: {matchLabels: {tenant: a}}}
    ///   ingress:
    ///   - {name: no-other-namespaces, action: Deny, from: [{namespaces: {}}]}
    ///   - {name: monitoring, action: Accept, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]}
    /// ---
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop, labels: {tenant: a}}
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: api, namespace: shop}
    /// spec: {containers: [{name: api, image: api}]}
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
    /// metadata: {name: tenants}
    /// spec:
    ///   tier: Admin
    ///   priority: 10
    ///   subject: {namespaces: {matchLabels: {tenant: a}}}
    ///   ingress:
    ///   - {name: monitoring, action: Accept, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]}
    ///   - {name: no-other-namespaces, action: Deny, from: [{namespaces: {}}]}
    /// ---
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop, labels: {tenant: a}}
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: api, namespace: shop}
    /// spec: {containers: [{name: api, image: api}]}
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: prometheus, namespace: monitoring}
    /// spec: {containers: [{name: p, image: prometheus}]}
    /// ```
    pub ClusterRuleShadowed {
        id: "NR603", name: "cluster-rule-shadowed", severity: Severity::Warning, tags: &[],
    }
}

impl Rule for ClusterRuleShadowed {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        // A rule looks shadowed only against the pods the input shows.
        if cx.ws.coverage != Coverage::Complete || !cx.ws.cluster_policies.iter().any(|p| cx.ws.reported(&p.obj)) {
            return;
        }
        for s in cx.engine.shadowed_cluster_rules() {
            let Some(p) = cx.ws.cluster_policies.get(s.rule.0) else { continue };
            let Some(r) = rule_of(p, s.dir, s.rule.1) else { continue };
            if !cx.ws.reported(&p.obj) {
                continue;
            }
            let by: Vec<(String, crate::source::Loc)> = s
                .by
                .iter()
                .filter_map(|&(pi, ri)| {
                    let q = cx.ws.cluster_policies.get(pi)?;
                    let e = rule_of(q, s.dir, ri)?;
                    Some((format!("{} {} ({}) decides first", q.qualified_name(), e.label(), e.action.map(|a| a.to_string()).unwrap_or_default()), cx.at(&q.obj, &e.path)))
                })
                .collect();
            let names: Vec<&str> = by.iter().map(|(n, _)| n.as_str()).collect();
            let d = out.report(
                &Self::META,
                p,
                &r.path,
                format!("{} {} is never reached: earlier rules decide every connection it matches", p.qualified_name(), r.label()),
            );
            d.why(format!("the first matching rule decides; before this one: {}", names.join("; ")));
            d.help("move the rule above the rules that decide its traffic (or give its policy a lower priority), or delete it");
            d.related(by);
        }
    }
}
