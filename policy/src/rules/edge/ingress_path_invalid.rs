use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_index;

declare_rule! {
    /// Invalid Ingress path or pathType
    ///
    /// ## What it does
    /// Checks every `spec.rules[].http.paths[]`: `pathType` must be `Exact`, `Prefix` or
    /// `ImplementationSpecific`; an `Exact` or `Prefix` path must start with `/` and must not
    /// contain `//`, `/./`, `/../` or `%2f`, nor end with `/..` or `/.`.
    ///
    /// ## Why is this bad?
    /// The API server rejects the Ingress, and the whole apply fails for one path.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: api, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /api, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    pub IngressPathInvalid {
        id: "NR322", name: "ingress-path-invalid", severity: Severity::Error, tags: &["iso27001:A.13.1.2"],
    }
}

/// Why an Exact/Prefix path is invalid, as the API server's validation says it.
fn path_error(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("it must be an absolute path starting with `/`");
    }
    for bad in ["//", "/./", "/../", "%2f", "%2F"] {
        if path.contains(bad) {
            return Some("it must not contain `//`, `/./`, `/../` or `%2f`");
        }
    }
    if path.ends_with("/..") || path.ends_with("/.") {
        return Some("it must not end with `/..` or `/.`");
    }
    None
}

impl Rule for IngressPathInvalid {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for ing in cx.reported(&cx.ws.ingresses) {
            for (ri, r) in ing.spec.rules.iter().flatten().enumerate() {
                for (pi, p) in r.http.iter().flat_map(|h| h.paths.iter()).enumerate() {
                    let base = join_index(&format!("{}.http.paths", join_index("spec.rules", ri)), pi);
                    let (field, message) = match p.path_type.as_str() {
                        "" => (base.clone(), "has no `pathType` (required: Exact, Prefix or ImplementationSpecific)".to_string()),
                        "Exact" | "Prefix" => match path_error(p.path.as_deref().unwrap_or("/")) {
                            Some(why) => (format!("{base}.path"), format!("path {:?} is invalid for pathType {}: {why}", p.path.as_deref().unwrap_or(""), p.path_type)),
                            None => continue,
                        },
                        "ImplementationSpecific" => continue,
                        other => (format!("{base}.pathType"), format!("pathType {other:?} is not Exact, Prefix or ImplementationSpecific")),
                    };
                    let d = out.report(&meta, ing, &field, format!("`{base}` of Ingress `{}` {message}", ing.id.name));
                    d.help("use `pathType: Prefix` with an absolute path such as `/` or `/api`");
                }
            }
        }
    }
}
