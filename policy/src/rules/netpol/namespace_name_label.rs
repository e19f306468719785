use super::helpers::known_namespaces;
use crate::model::{NamespaceScope, PeerKind, Requirement, NAMESPACE_NAME_LABEL};
use crate::netpol::Direction;
use crate::rules::Fix;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Namespace selected by a label Kubernetes does not set
    ///
    /// ## What it does
    /// Finds a `namespaceSelector` whose `matchLabels` (or `In` expression) uses a key other than
    /// `kubernetes.io/metadata.name` — `name`, `ns`, `namespace`… — with a namespace's name as
    /// the value, where that namespace does not carry the label (in the input; a namespace
    /// known only by name, such as `kube-system`, carries only the automatic label).
    ///
    /// ## Why is this bad?
    /// Only `kubernetes.io/metadata.name` is set on every namespace by the API server (and it
    /// cannot be changed). `name: kube-system` works only where someone labelled the namespace
    /// by hand, so the same policy allows DNS on one cluster and silently blocks it on the next.
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
    ///     - to: [{namespaceSelector: {matchLabels: {name: kube-system}}}]
    ///       ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
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
    ///     - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]
    ///       ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ```
    pub NamespaceNameLabel {
        id: "NR106", name: "namespace-name-label", severity: Severity::Warning, tags: &["iso27001:A.13.1.3"],
    }
}

impl Rule for NamespaceNameLabel {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let namespaces = known_namespaces(cx);
        for p in cx.reported(&cx.ws.policies) {
            for dir in [Direction::Ingress, Direction::Egress] {
                for rule in dir.rules(p) {
                    for peer in rule.peers.iter().flatten() {
                        let PeerKind::Pods { namespaces: NamespaceScope::Selected(sel), .. } = &peer.kind else { continue };
                        for r in &sel.requirements {
                            let Requirement::In(key, values) = r else { continue };
                            if key == NAMESPACE_NAME_LABEL {
                                continue;
                            }
                            for v in values {
                                let Some((ns, labels)) = namespaces.iter().find(|(n, _)| n == v) else { continue };
                                if labels.get(key) == Some(v) {
                                    continue;
                                }
                                let path = format!("{}.namespaceSelector", peer.path);
                                let d = out.report(
                                    &meta,
                                    p,
                                    &path,
                                    format!(
                                        "`{path}` of NetworkPolicy `{}` selects namespace `{ns}` by `{key}: {v}`, a label namespace `{ns}` does not carry",
                                        p.qualified_name()
                                    ),
                                );
                                d.why(format!(
                                    "the API server sets only `{NAMESPACE_NAME_LABEL}` on every namespace; `{key}` exists only where someone added it{}",
                                    if cx.ws.namespaces.get(*ns).is_some_and(|n| n.obj.is_some()) { "" } else { " (the input has no Namespace object for it)" }
                                ));
                                d.help(format!("select it by `{NAMESPACE_NAME_LABEL}: {ns}`"));
                                d.fix(Fix::new(
                                    format!("select namespace {ns} by its automatic name label"),
                                    format!("namespaceSelector:\n  matchLabels: {{{NAMESPACE_NAME_LABEL}: {ns}}}"),
                                    p.id.clone(),
                                ));
                                d.edit(cx.ws.replace_edit(&p.obj, &path, format!("{{matchLabels: {{{NAMESPACE_NAME_LABEL}: {ns}}}}}")));
                            }
                        }
                    }
                }
            }
        }
    }
}
