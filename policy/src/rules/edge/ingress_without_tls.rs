use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Ingress without TLS
    ///
    /// ## What it does
    /// Finds an Ingress with routing rules and no `spec.tls`, unless it carries
    /// `netreach.dev/plain-http: "true"` (plain HTTP on purpose).
    ///
    /// ## Why is this bad?
    /// Everything the application exchanges — sessions, credentials, personal data — crosses
    /// the network in clear text. ISO 27001 A.13.1.2 asks for protected network services.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: demo, namespace: demo}
    /// spec:
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
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    pub IngressWithoutTls {
        id: "NR304", name: "ingress-without-tls", severity: Severity::Warning, tags: &["iso27001:A.13.1.2"],
    }
}

impl Rule for IngressWithoutTls {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for ing in cx.reported(&cx.ws.ingresses) {
            let has_tls = ing.spec.tls.as_ref().is_some_and(|t| !t.is_empty());
            let routes = ing.spec.rules.as_ref().is_some_and(|r| !r.is_empty()) || ing.spec.default_backend.is_some();
            let plain_on_purpose = ing.annotations.get("netreach.dev/plain-http").is_some_and(|v| v == "true");
            if has_tls || !routes || plain_on_purpose {
                continue;
            }
            let d = out.report(&meta, ing, "spec", format!("Ingress `{}` serves its hosts over plain HTTP: it has no `spec.tls`", ing.id.name));
            d.help("add `spec.tls` with the hosts and a secretName (with cert-manager, also a `cert-manager.io/cluster-issuer` annotation)");
        }
    }
}
