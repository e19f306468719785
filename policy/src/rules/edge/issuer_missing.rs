use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Referenced issuer missing, or of the other kind
    ///
    /// ## What it does
    /// Follows every issuer reference — a Certificate's `spec.issuerRef`, an Ingress's
    /// `cert-manager.io/issuer` (an Issuer of its namespace) or `cert-manager.io/cluster-issuer`
    /// — to the Issuers and ClusterIssuers of the input. A warning when none of that name
    /// exists; an error when one of the other kind does (`issuer: letsencrypt-prod` where only
    /// a ClusterIssuer `letsencrypt-prod` exists). When the input has no issuer at all, they
    /// live elsewhere: an info finding says the reference could not be checked.
    ///
    /// ## Why is this bad?
    /// cert-manager waits for the issuer and the certificate is never issued; Issuers are
    /// namespaced and ClusterIssuers are not, and the annotation names which one is meant.
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
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   secretName: demo-tls
    ///   dnsNames: [demo.example.com]
    ///   issuerRef: {name: letsencrypt-prod}
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
    ///     solvers: [{http01: {ingress: {ingressClassName: nginx}}}]
    /// ---
    /// apiVersion: cert-manager.io/v1
    /// kind: Certificate
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   secretName: demo-tls
    ///   dnsNames: [demo.example.com]
    ///   issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}
    /// ```
    pub IssuerMissing {
        id: "NR307", name: "issuer-missing", severity: Severity::Warning, tags: &["iso27001:A.10.1.2"],
    }
}

impl Rule for IssuerMissing {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let none_in_input = cx.ws.issuers.is_empty();
        for u in cx.issuer_refs() {
            let (id, loc, r, ns, obj) = (u.id, u.loc, u.issuer, u.namespace, u.obj);
            if !cx.ws.reported(obj) || r.group.as_deref().is_some_and(|g| !g.is_empty() && g != "cert-manager.io") || r.name.is_empty() {
                continue;
            }
            let (kind, scope) = if r.is_cluster() { ("ClusterIssuer", None) } else { ("Issuer", Some(ns.as_str())) };
            let found = |cluster: bool, ns: Option<&str>| {
                cx.ws.issuers.iter().any(|i| i.id.name == r.name && (i.namespace.is_none() == cluster) && (cluster || i.namespace.as_deref() == ns))
            };
            if found(r.is_cluster(), scope) {
                continue;
            }
            if none_in_input || !cx.sees_namespace(&ns) {
                let what = format!("whether the {kind} `{}` referenced by `{id}` exists", r.name);
                let d = out.report_at(&meta, Some(id), loc, format!("unverifiable: {what}; the input has no Issuer or ClusterIssuer"));
                d.severity(Severity::Info);
                d.unverifiable = true;
                continue;
            }
            let other = found(!r.is_cluster(), Some(ns.as_str()));
            let message = if other {
                let (o, hint) = if r.is_cluster() { ("an Issuer", "kind: Issuer / `cert-manager.io/issuer`") } else { ("a ClusterIssuer", "kind: ClusterIssuer / `cert-manager.io/cluster-issuer`") };
                format!("`{id}` references the {kind} `{}`, which does not exist; {o} of that name does ({hint})", r.name)
            } else {
                format!("`{id}` references the {kind} `{}`, which is not in the input", r.name)
            };
            let d = out.report_at(&meta, Some(id), loc, message);
            if other {
                d.severity(Severity::Error);
                d.help("name the kind the issuer has: Issuers are namespaced, ClusterIssuers are not");
            } else {
                d.help(format!("create the {kind}, or reference one that exists"));
            }
        }
    }
}
