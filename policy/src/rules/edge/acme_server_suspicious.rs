use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// ACME server URL suspicious
    ///
    /// ## What it does
    /// Checks an ACME issuer's `acme.server`: it must be `https://`; a Let's Encrypt URL must
    /// end in `/directory` and must not be the retired ACME v1 endpoint (`acme-v01`); the
    /// staging endpoint (`acme-staging-v02`, whose CA no browser trusts) on an issuer whose
    /// name says `prod` is a warning, and the production endpoint on an issuer whose name says
    /// `staging` is an info finding (its rate limits are strict).
    ///
    /// ## Why is this bad?
    /// A wrong directory URL fails account registration; a staging issuer used for production
    /// hosts issues certificates every browser rejects ("Your connection is not private").
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: cert-manager.io/v1
    /// kind: ClusterIssuer
    /// metadata: {name: letsencrypt-prod}
    /// spec:
    ///   acme:
    ///     server: https://acme-staging-v02.api.letsencrypt.org/directory
    ///     privateKeySecretRef: {name: letsencrypt-prod}
    ///     solvers: [{http01: {ingress: {ingressClassName: nginx}}}]
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
    /// ```
    pub AcmeServerSuspicious {
        id: "NR310", name: "acme-server-suspicious", severity: Severity::Warning, tags: &["iso27001:A.10.1.2"],
    }
}

impl Rule for AcmeServerSuspicious {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for i in cx.reported(&cx.ws.issuers) {
            let Some(acme) = &i.spec.acme else { continue };
            let url = acme.server.trim();
            if url.is_empty() {
                continue;
            }
            let name = i.id.name.to_ascii_lowercase();
            let le = url.contains("api.letsencrypt.org");
            let staging = url.contains("acme-staging");
            let mut findings: Vec<(Severity, String, &str)> = Vec::new();
            if !url.starts_with("https://") {
                findings.push((Severity::Warning, format!("ACME server {url:?} is not an https:// URL"), "use the CA's https:// directory URL"));
            }
            if le && url.contains("acme-v01") {
                findings.push((Severity::Warning, "the ACME v1 endpoint was retired by Let's Encrypt".into(), "use https://acme-v02.api.letsencrypt.org/directory"));
            } else if le && !url.trim_end_matches('/').ends_with("/directory") {
                findings.push((Severity::Warning, format!("Let's Encrypt URL {url:?} does not end in `/directory`"), "use the directory URL, e.g. https://acme-v02.api.letsencrypt.org/directory"));
            }
            if staging && name.contains("prod") {
                findings.push((Severity::Warning, format!("issuer `{}` is named for production but uses the staging endpoint, whose certificates no browser trusts", i.id.name), "use https://acme-v02.api.letsencrypt.org/directory for production"));
            } else if le && !staging && name.contains("staging") {
                findings.push((Severity::Info, format!("issuer `{}` is named for staging but uses the production endpoint and its rate limits", i.id.name), "use https://acme-staging-v02.api.letsencrypt.org/directory for tests"));
            }
            for (severity, message, help) in findings {
                let d = out.report(&meta, i, "spec.acme.server", format!("{} `{}`: {message}", i.id.kind, i.id.name));
                d.severity = severity;
                d.help(help);
            }
        }
    }
}
