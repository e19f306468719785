use crate::model::{NamespaceScope, PeerKind};
use crate::netpol::Direction;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Rule allows every peer on every port
    ///
    /// ## What it does
    /// Finds an ingress or egress rule with no `from`/`to` and no `ports` (`- {}`), which allows
    /// every peer — every pod and every address — on every port; and a rule without `ports`
    /// whose peer is `namespaceSelector: {}` alone, which allows every pod of every namespace.
    /// Info; an empty rule is a warning when the same policy has other, restrictive rules in
    /// that direction: it then undoes them, the mark of a `- {}` left over from an edit or a
    /// stray `-` that split one rule into two.
    ///
    /// ## Why is this bad?
    /// Policies are a union: one open rule makes every other rule of the direction moot. It
    /// can be intended ("allow all egress"), but next to specific rules it almost never is.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: db-ingress, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: db}}
    ///   policyTypes: [Ingress]
    ///   ingress:
    ///     - from: [{podSelector: {matchLabels: {app: api}}}]
    ///     - ports: []
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: db-ingress, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: db}}
    ///   policyTypes: [Ingress]
    ///   ingress:
    ///     - from: [{podSelector: {matchLabels: {app: api}}}]
    ///       ports: [{port: 5432}]
    /// ```
    pub RuleAllowsEverything {
        id: "NR108", name: "rule-allows-everything", severity: Severity::Info, tags: &["iso27001:A.13.1.3"],
    }
}

impl Rule for RuleAllowsEverything {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for p in cx.reported(&cx.ws.policies) {
            for dir in [Direction::Ingress, Direction::Egress] {
                let isolates = dir.isolates(p);
                let rules = dir.rules(p);
                if !isolates {
                    continue;
                }
                let d = dir.as_str().to_lowercase();
                let prep = if dir == Direction::Ingress { "from" } else { "to" };
                let restrictive = rules.iter().filter(|r| r.peers.is_some() || r.ports.is_some()).count();
                for r in rules.iter().filter(|r| r.ports.is_none()) {
                    let every_pod = r.peers.iter().flatten().find(|peer| {
                        matches!(&peer.kind, PeerKind::Pods { namespaces: NamespaceScope::Selected(ns), pods } if ns.is_everything() && pods.is_everything())
                    });
                    let (what, field) = match (&r.peers, every_pod) {
                        (None, _) => ("every peer (every pod and every address)", r.path.clone()),
                        (Some(_), Some(peer)) => ("every pod of every namespace", peer.path.clone()),
                        (Some(_), None) => continue,
                    };
                    // The stray-dash pattern is an empty rule beside specific ones.
                    let others = if r.peers.is_none() { restrictive } else { 0 };
                    let f = out.report(
                        &meta,
                        p,
                        &field,
                        format!("`{}` of NetworkPolicy `{}` allows {d} {prep} {what} on every port", r.path, p.qualified_name()),
                    );
                    if others > 0 {
                        f.severity(Severity::Warning);
                        f.why(format!(
                            "the policy has {others} other {d} rule(s) with peers or ports; this rule allows everything they restrict — a stray `-` splitting one rule into two looks like this"
                        ));
                        f.help("join the rule with the one before it (remove the extra `-`), or delete it");
                    } else {
                        f.help(format!("if every {d} connection is meant, this is fine; otherwise name the peers and ports"));
                    }
                }
            }
        }
    }
}
