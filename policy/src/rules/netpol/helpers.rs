//! What the NetworkPolicy (`NR1xx`) rules share. A rule file uses these; it never uses another rule file.

use crate::model::{Labels, Requirement, Selector, NAMESPACE_NAME_LABEL};
use crate::rules::Context;



/// Every namespace the input or the profile knows, with its labels.
pub(super) fn known_namespaces<'c>(cx: &'c Context<'_>) -> Vec<(&'c str, Labels)> {
    let mut out: Vec<(&str, Labels)> = cx.ws.namespaces.values().map(|n| (n.name.as_str(), n.labels.clone())).collect();
    let p = cx.profile;
    let mut extra = vec![p.dns.namespace.as_str(), p.cert_manager.namespace.as_str(), p.istio.namespace.as_str()];
    extra.extend(p.ingress_controller.as_ref().map(|c| c.namespace.as_str()));
    for ns in extra {
        if !out.iter().any(|(n, _)| *n == ns) {
            out.push((ns, Labels::from([(NAMESPACE_NAME_LABEL.to_string(), ns.to_string())])));
        }
    }
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// Whether `sel` names a namespace by a label it does not carry (this rule's finding), so
/// NR105 leaves the selector to it.
pub(super) fn names_by_missing_label(sel: &Selector, namespaces: &[(&str, Labels)]) -> bool {
    sel.requirements.iter().any(|r| match r {
        Requirement::In(key, values) if key != NAMESPACE_NAME_LABEL => {
            values.iter().any(|v| namespaces.iter().any(|(n, l)| n == v && l.get(key) != Some(v)))
        }
        _ => false,
    })
}
