use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_key;

declare_rule! {
    /// Conflicting cert-manager issuer annotations
    ///
    /// ## What it does
    /// Finds an Ingress with both `cert-manager.io/issuer` and `cert-manager.io/cluster-issuer`,
    /// or with `cert-manager.io/cluster-issuer` together with `cert-manager.io/issuer-kind` or
    /// `cert-manager.io/issuer-group`.
    ///
    /// ## Why is this bad?
    /// ingress-shim refuses such an Ingress ("both … may not be set") and creates no
    /// Certificate; the reason appears only as an Event.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata:
    ///   name: demo
    ///   namespace: demo
    ///   annotations:
    ///     cert-manager.io/issuer: letsencrypt
    ///     cert-manager.io/cluster-issuer: letsencrypt-prod
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
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
    ///   annotations:
    ///     cert-manager.io/cluster-issuer: letsencrypt-prod
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    pub ConflictingIssuerAnnotations {
        id: "NR306", name: "conflicting-issuer-annotations", severity: Severity::Error, tags: &["iso27001:A.10.1.2"],
    }
}

impl Rule for ConflictingIssuerAnnotations {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for ing in cx.reported(&cx.ws.ingresses) {
            let has = |k: &str| ing.annotations.contains_key(k);
            if !has("cert-manager.io/cluster-issuer") {
                continue;
            }
            for other in ["cert-manager.io/issuer", "cert-manager.io/issuer-kind", "cert-manager.io/issuer-group"] {
                if !has(other) {
                    continue;
                }
                let d = out.report(
                    &meta,
                    ing,
                    &join_key("metadata.annotations", other),
                    format!("Ingress `{}` sets both `cert-manager.io/cluster-issuer` and `{other}`; cert-manager issues no certificate for it", ing.id.name),
                );
                d.related(vec![("`cert-manager.io/cluster-issuer` is set here".into(), cx.at(&ing.obj, &join_key("metadata.annotations", "cert-manager.io/cluster-issuer")))]);
                d.help(format!("keep one issuer annotation: remove `{other}`, or remove `cert-manager.io/cluster-issuer`"));
            }
        }
    }
}
