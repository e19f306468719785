use super::helpers::directions;
use crate::model::{Action, Coverage, Tier};
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::Severity;

declare_rule! {
    /// Pass rule with nothing below it that decides
    ///
    /// ## What it does
    /// Finds a `Pass` rule of a cluster policy whose passed traffic nothing decides: in the
    /// Admin tier, no NetworkPolicy isolates any pod the policy applies to (in the rule's
    /// direction) and no Baseline-tier rule applies to them; in the Baseline tier, always
    /// (after the Baseline comes the default, which allows). Inputs that show only part of
    /// the cluster are not judged.
    ///
    /// ## Why is this bad?
    /// `Pass` reads as "let the namespace owners decide", but when they decide nothing the
    /// connection is allowed by default: the rule is an `Accept` in disguise, and the tier's
    /// later Deny rules no longer apply to that traffic.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: delegate-shop}
    /// spec:
    ///   tier: Admin
    ///   priority: 10
    ///   subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}
    ///   egress:
    ///   - {name: to-the-owners, action: Pass, to: [{networks: [0.0.0.0/0]}]}
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
    /// metadata: {name: delegate-shop}
    /// spec:
    ///   tier: Admin
    ///   priority: 10
    ///   subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}
    ///   egress:
    ///   - {name: to-the-owners, action: Pass, to: [{networks: [0.0.0.0/0]}]}
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: egress, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///   - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: api, namespace: shop}
    /// spec: {containers: [{name: api, image: api}]}
    /// ```
    pub ClusterPassDecidesNothing {
        id: "NR604", name: "cluster-pass-decides-nothing", severity: Severity::Warning, tags: &[],
    }
}

impl Rule for ClusterPassDecidesNothing {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        if cx.ws.coverage != Coverage::Complete {
            return;
        }
        for (pi, p) in cx.reported_indexed(&cx.ws.cluster_policies) {
            let Some(tier) = p.tier else { continue };
            let subjects = cx.engine.cluster_subjects(pi);
            if subjects.is_empty() {
                continue;
            }
            for (dir, _, rules, _) in directions(p) {
                let lower = dir.as_str().to_lowercase();
                let undecided = tier == Tier::Baseline
                    || subjects.iter().all(|&w| !cx.engine.is_isolated(w, dir) && !cx.engine.tier_governs(Tier::Baseline, w, dir));
                if !undecided {
                    continue;
                }
                for r in rules.iter().filter(|r| r.action == Some(Action::Pass) && r.fail_closed.is_none()) {
                    let (message, why) = match tier {
                        Tier::Admin => (
                            format!("{} {} passes {lower} traffic that nothing below decides: it is allowed as by an Accept", p.qualified_name(), r.label()),
                            format!("no NetworkPolicy isolates the {lower} of the {} pod(s) the policy applies to, and no Baseline-tier rule applies to them", subjects.len()),
                        ),
                        Tier::Baseline => (
                            format!("{} {} passes {lower} traffic from the Baseline tier to the default, which allows it", p.qualified_name(), r.label()),
                            "after the Baseline tier only the default remains, and it allows every connection".to_string(),
                        ),
                    };
                    let d = out.report(&Self::META, p, &crate::source::join_key(&r.path, "action"), message);
                    d.why(why);
                    d.help("write `Accept` if allowing is meant; otherwise isolate the pods with a NetworkPolicy (or a Baseline-tier rule) that decides the passed traffic");
                }
            }
        }
    }
}
