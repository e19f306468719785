use super::helpers::shim_managed;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_index;

declare_rule! {
    /// TLS entry unusable by cert-manager's ingress-shim
    ///
    /// ## What it does
    /// On an Ingress whose certificates cert-manager manages (`cert-manager.io/issuer`,
    /// `cert-manager.io/cluster-issuer`, `kubernetes.io/tls-acme: "true"`), finds a
    /// `spec.tls` entry without `hosts` or without `secretName`, and a `secretName` used by two
    /// entries.
    ///
    /// ## Why is this bad?
    /// ingress-shim skips such an entry ("Skipped a TLS block") or refuses the Ingress ("this
    /// secret name must only appear in a single TLS entry") and only says so in an Event: no
    /// Certificate is created, and the hosts are served with the default certificate.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata:
    ///   name: demo
    ///   namespace: demo
    ///   annotations: {cert-manager.io/cluster-issuer: letsencrypt-prod}
    /// spec:
    ///   tls: [{hosts: [demo.example.com]}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata:
    ///   name: demo
    ///   namespace: demo
    ///   annotations: {cert-manager.io/cluster-issuer: letsencrypt-prod}
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-example-com-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    pub TlsUnusableByCertManager {
        id: "NR305", name: "tls-unusable-by-cert-manager", severity: Severity::Error, tags: &["iso27001:A.13.1.2", "iso27001:A.10.1.2"],
    }
}

impl Rule for TlsUnusableByCertManager {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for ing in cx.reported(&cx.ws.ingresses).filter(|i| shim_managed(i)) {
            let mut secrets: Vec<(&str, String)> = Vec::new();
            for (i, t) in ing.spec.tls.iter().flatten().enumerate() {
                let path = join_index("spec.tls", i);
                let mut missing = Vec::new();
                if t.hosts.as_ref().is_none_or(Vec::is_empty) {
                    missing.push("`hosts`");
                }
                match t.secret_name.as_deref().filter(|s| !s.is_empty()) {
                    None => missing.push("`secretName`"),
                    Some(s) => {
                        if let Some((_, first)) = secrets.iter().find(|(n, _)| *n == s) {
                            let d = out.report(
                                &meta,
                                ing,
                                &format!("{path}.secretName"),
                                format!("secretName `{s}` of Ingress `{}` appears in two TLS entries; cert-manager refuses the Ingress", ing.id.name),
                            );
                            d.related(vec![("first used here".into(), cx.at(&ing.obj, first))]);
                            d.help("give each TLS entry its own secretName, or merge the entries' hosts");
                        } else {
                            secrets.push((s, format!("{path}.secretName")));
                        }
                    }
                }
                if !missing.is_empty() {
                    let d = out.report(
                        &meta,
                        ing,
                        &path,
                        format!("`{path}` of Ingress `{}` has no {}: cert-manager skips this TLS entry and issues no certificate for it", ing.id.name, missing.join(" and ")),
                    );
                    d.help("give every TLS entry the hosts it serves and the secretName cert-manager should write");
                }
            }
        }
    }
}
