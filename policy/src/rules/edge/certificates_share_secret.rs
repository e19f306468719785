use super::helpers::shim_managed;
use crate::model::{ObjRef, ObjectId};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_index;

declare_rule! {
    /// Two Certificates write the same Secret
    ///
    /// ## What it does
    /// Finds two Certificates of one namespace with the same `secretName` — explicit
    /// Certificates, and the ones ingress-shim creates from annotated Ingresses (one per TLS
    /// entry, named after its `secretName`).
    ///
    /// ## Why is this bad?
    /// The two fight over the Secret: each re-issues when it sees the other's certificate, the
    /// hosts switch certificates, and the CA's rate limits are spent.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: cert-manager.io/v1
    /// kind: Certificate
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   secretName: demo-tls
    ///   dnsNames: [demo.example.com]
    ///   issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}
    /// ---
    /// apiVersion: cert-manager.io/v1
    /// kind: Certificate
    /// metadata: {name: demo-www, namespace: demo}
    /// spec:
    ///   secretName: demo-tls
    ///   dnsNames: [www.demo.example.com]
    ///   issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: cert-manager.io/v1
    /// kind: Certificate
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   secretName: demo-tls
    ///   dnsNames: [demo.example.com, www.demo.example.com]
    ///   issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}
    /// ```
    pub CertificatesShareSecret {
        id: "NR314", name: "certificates-share-secret", severity: Severity::Warning, tags: &["iso27001:A.10.1.2"],
    }
}

impl Rule for CertificatesShareSecret {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        // (namespace, secret, who, object, field)
        let mut writers: Vec<(&str, String, ObjectId, &ObjRef, String)> = Vec::new();
        for c in &cx.ws.certificates {
            if let Some(s) = Some(c.spec.secret_name.as_str()).filter(|s| !s.is_empty()) {
                writers.push((&c.namespace, s.to_string(), c.id.clone(), &c.obj, "spec.secretName".into()));
            }
        }
        for ing in cx.ws.ingresses.iter().filter(|i| shim_managed(i)) {
            let mut own: Vec<&str> = Vec::new();
            for (i, t) in ing.spec.tls.iter().flatten().enumerate() {
                let Some(s) = t.secret_name.as_deref().filter(|s| !s.is_empty()) else { continue };
                // A secret repeated inside one Ingress is NR305's finding.
                if own.contains(&s) {
                    continue;
                }
                own.push(s);
                writers.push((&ing.namespace, s.to_string(), ing.id.clone(), &ing.obj, format!("{}.secretName", join_index("spec.tls", i))));
            }
        }
        for (k, (ns, secret, id, obj, field)) in writers.iter().enumerate() {
            let Some((_, _, first_id, first_obj, first_field)) = writers.iter().take(k).find(|(n, s, _, _, _)| n == ns && s == secret) else { continue };
            if !cx.ws.reported(obj) {
                continue;
            }
            let d = out.report_at(
                &meta,
                Some(id.clone()),
                cx.at(obj, field),
                format!("`{id}` writes Secret `{ns}/{secret}`, which `{first_id}` also writes"),
            );
            d.related(vec![("the other writer".into(), cx.at(first_obj, first_field))]);
            d.help("give each Certificate its own secretName, or merge their names into one Certificate");
        }
    }
}
