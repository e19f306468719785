//! What the edge (`NR3xx`) rules share. A rule file uses these; it never uses another rule file.

use crate::model::Ingress;
use crate::source::join_index;

/// The annotations by which cert-manager's ingress-shim manages an Ingress's certificates.
pub(crate) const SHIM_ANNOTATIONS: [&str; 3] = ["cert-manager.io/issuer", "cert-manager.io/cluster-issuer", "kubernetes.io/tls-acme"];

/// Whether ingress-shim issues certificates for `ing`.
pub(super) fn shim_managed(ing: &Ingress) -> bool {
    SHIM_ANNOTATIONS.iter().any(|a| match ing.annotations.get(*a) {
        Some(v) if *a == "kubernetes.io/tls-acme" => v == "true",
        Some(_) => true,
        None => false,
    })
}

/// Every non-empty `rules[].host` with its field path.
pub(super) fn rule_hosts(ing: &Ingress) -> Vec<(String, &str)> {
    ing.spec
        .rules
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, r)| r.host.as_deref().filter(|h| !h.is_empty()).map(|h| (format!("{}.host", join_index("spec.rules", i)), h)))
        .collect()
}

/// Every `tls[].hosts[]` entry with its field path.
pub(super) fn tls_hosts(ing: &Ingress) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    for (i, t) in ing.spec.tls.iter().flatten().enumerate() {
        for (j, h) in t.hosts.iter().flatten().enumerate() {
            out.push((join_index(&format!("{}.hosts", join_index("spec.tls", i)), j), h.as_str()));
        }
    }
    out
}
