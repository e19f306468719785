use crate::model::{contains_labels, Labels, SolverSelector};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// No usable ACME solver for a requested name
    ///
    /// ## What it does
    /// For each Certificate — and each Ingress that ingress-shim turns into one — whose issuer
    /// in the input is an ACME issuer, picks the solver for every name the way cert-manager
    /// does: a solver's `selector` (`dnsNames`, `dnsZones`, `matchLabels` on the Certificate's
    /// labels) must match, and the most specific one wins (a listed name, then the longest
    /// zone, then labels, then no selector). Reports a name no solver matches, and a wildcard
    /// name (`*.example.com`) whose solver is HTTP-01: Let's Encrypt issues wildcards over
    /// DNS-01 only.
    ///
    /// ## Why is this bad?
    /// The order for that name cannot be completed and the whole Certificate stays not ready.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: cert-manager.io/v1
    /// kind: ClusterIssuer
    /// metadata: {name: letsencrypt-prod}
    /// spec:
    ///   acme:
    ///     server: https://acme-v02.api.letsencrypt.org/directory
    ///     privateKeySecretRef: {name: letsencrypt-prod}
    ///     solvers: [{http01: {ingress: {ingressClassName: nginx}}}]
    /// ---
    /// apiVersion: cert-manager.io/v1
    /// kind: Certificate
    /// metadata: {name: wildcard, namespace: demo}
    /// spec:
    ///   secretName: wildcard-tls
    ///   dnsNames: ["*.demo.example.com"]
    ///   issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: cert-manager.io/v1
    /// kind: ClusterIssuer
    /// metadata: {name: letsencrypt-prod}
    /// spec:
    ///   acme:
    ///     server: https://acme-v02.api.letsencrypt.org/directory
    ///     privateKeySecretRef: {name: letsencrypt-prod}
    ///     solvers:
    ///       - http01: {ingress: {ingressClassName: nginx}}
    ///       - selector: {dnsZones: [demo.example.com]}
    ///         dns01: {route53: {region: eu-north-1}}
    /// ---
    /// apiVersion: cert-manager.io/v1
    /// kind: Certificate
    /// metadata: {name: wildcard, namespace: demo}
    /// spec:
    ///   secretName: wildcard-tls
    ///   dnsNames: ["*.demo.example.com"]
    ///   issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}
    /// ```
    pub NoUsableSolver {
        id: "NR311", name: "no-usable-solver", severity: Severity::Error, tags: &["iso27001:A.10.1.2"],
    }
}

/// How specifically a solver's selector matches `name` (higher wins), or `None`.
fn specificity(selector: Option<&SolverSelector>, name: &str, labels: &Labels) -> Option<(u8, usize)> {
    let Some(sel) = selector else { return Some((0, 0)) };
    if !contains_labels(labels, &sel.match_labels) {
        return None;
    }
    let (names, zones) = (&sel.dns_names, &sel.dns_zones);
    let bare = name.trim_start_matches("*.");
    if names.iter().any(|n| n == name) {
        return Some((3, 0));
    }
    let zone = zones.iter().filter(|z| bare == z.as_str() || bare.ends_with(&format!(".{z}"))).map(String::len).max();
    match (zone, names.is_empty() && zones.is_empty()) {
        (Some(len), _) => Some((2, len)),
        (None, true) => Some((if sel.match_labels.is_empty() { 0 } else { 1 }, 0)),
        (None, false) => None,
    }
}

impl Rule for NoUsableSolver {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for u in cx.issuer_refs() {
            let (id, loc, r, ns, obj) = (u.id, u.loc, u.issuer, u.namespace, u.obj);
            if !cx.ws.reported(obj) {
                continue;
            }
            let Some(iss) = cx.issuer(&r, &ns) else { continue };
            let Some(solvers) = iss.spec.acme.as_ref().map(|a| &a.solvers) else { continue };
            // The names requested and the labels the Certificate carries.
            let (names, labels): (Vec<String>, Labels) = match cx.ws.certificates.iter().find(|c| c.id == id) {
                Some(c) => (c.spec.names(), c.labels.clone()),
                None => match cx.ws.ingresses.iter().find(|i| i.id == id) {
                    Some(ing) => (ing.spec.tls.iter().flatten().flat_map(|t| t.hosts.iter().flatten().cloned()).collect(), Labels::new()),
                    None => continue,
                },
            };
            let mut seen = Vec::new();
            for name in names {
                if seen.contains(&name) {
                    continue;
                }
                seen.push(name.clone());
                let best = solvers.iter().filter_map(|s| specificity(s.selector.as_ref(), &name, &labels).map(|p| (p, s))).max_by_key(|(p, _)| *p);
                let message = match best {
                    None => format!("no solver of {} `{}` matches `{name}` requested by `{id}`", iss.id.kind, iss.id.name),
                    Some((_, s)) if name.starts_with("*.") && s.dns01.is_none() => {
                        format!("`{id}` requests the wildcard `{name}`, which {} `{}` would solve over HTTP-01; wildcards need DNS-01", iss.id.kind, iss.id.name)
                    }
                    Some(_) => continue,
                };
                let d = out.report_at(&meta, Some(id.clone()), loc.clone(), message);
                d.help("add a dns01 solver whose selector (dnsZones or dnsNames) covers the name");
            }
        }
    }
}
