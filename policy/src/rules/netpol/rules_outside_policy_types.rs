use crate::model::PolicyTypes;
use crate::netpol::Direction;
use crate::rules::Fix;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Rules ignored because `policyTypes` omits their direction
    ///
    /// ## What it does
    /// Finds a NetworkPolicy whose `spec.policyTypes` is written and lacks `Egress` while
    /// `spec.egress` has rules (or lacks `Ingress` while `spec.ingress` has rules).
    ///
    /// ## Why is this bad?
    /// Kubernetes only reads the rules of the directions listed in `policyTypes`. The rules of
    /// the other direction are dead: they allow nothing, and the policy does not isolate the
    /// pods in that direction either. This often happens when an overlay adds egress rules to a
    /// base policy that was written as ingress-only.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: api}}
    ///   policyTypes: [Ingress]
    ///   egress:
    ///   - ports: [{port: 5432}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: api}}
    ///   policyTypes: [Ingress, Egress]
    ///   egress:
    ///   - ports: [{port: 5432}]
    /// ```
    pub RulesOutsidePolicyTypes {
        id: "NR102", name: "rules-outside-policy-types", severity: Severity::Error, tags: &["iso27001:A.13.1.3"],
    }
}

impl Rule for RulesOutsidePolicyTypes {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        for p in cx.reported(&cx.ws.policies).filter(|p| p.policy_types.explicit) {
            for dir in [Direction::Ingress, Direction::Egress] {
                let listed = dir.isolates(p);
                let rules = dir.rules(p);
                if listed || rules.is_empty() {
                    continue;
                }
                let name = dir.as_str();
                let lower = name.to_lowercase();
                let field = format!("spec.{lower}");
                let d = out.report_at(
                    &Self::META,
                    Some(p.id.clone()),
                    cx.ws.key_loc(&p.obj, &field),
                    format!(
                        "NetworkPolicy `{}` has {} {} rule(s) in `{field}`, but `spec.policyTypes` omits {name}, so they are ignored",
                        p.qualified_name(),
                        rules.len(),
                        lower
                    ),
                );
                d.why(format!(
                    "`spec.policyTypes` is [{}]: this policy neither isolates the selected pods for {} nor allows any {} traffic",
                    written_types(&p.policy_types).join(", "),
                    lower,
                    lower
                ));
                d.help(format!("add `{name}` to `spec.policyTypes` if the rules are meant, or remove `{field}`"));
                let mut with = p.policy_types;
                match dir {
                    Direction::Ingress => with.ingress = true,
                    Direction::Egress => with.egress = true,
                }
                let types = written_types(&with);
                let types = format!("[{}]", types.join(", "));
                d.fix(Fix::new(format!("list {name} in spec.policyTypes"), format!("spec:\n  policyTypes: {types}"), p.id.clone()));
                d.edit(cx.ws.replace_edit(&p.obj, "spec.policyTypes", types));
            }
        }
    }
}

/// The valid `policyTypes` entries, in canonical order.
fn written_types(t: &PolicyTypes) -> Vec<String> {
    let mut v = Vec::new();
    if t.ingress {
        v.push("Ingress".to_string());
    }
    if t.egress {
        v.push("Egress".to_string());
    }
    v
}
