use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_key;

declare_rule! {
    /// Ingress class unresolved or inconsistent
    ///
    /// ## What it does
    /// Finds an Ingress whose `kubernetes.io/ingress.class` annotation and
    /// `spec.ingressClassName` name different classes (an error: the API server rejects it on
    /// create), and an Ingress whose class is named by no IngressClass of the input, or that
    /// names none while no IngressClass is marked default (a warning). When the input has no
    /// IngressClass at all, classes are installed elsewhere and only the first check runs.
    ///
    /// ## Why is this bad?
    /// An Ingress no controller claims is never served; an Ingress claimed by the wrong
    /// controller is served with the wrong certificate, allowlist and auth settings.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata:
    ///   name: demo
    ///   namespace: demo
    ///   annotations: {kubernetes.io/ingress.class: traefik}
    /// spec:
    ///   ingressClassName: nginx
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
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   ingressClassName: nginx
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    pub IngressClassUnresolved {
        id: "NR319", name: "ingress-class-unresolved", severity: Severity::Warning, tags: &["iso27001:A.13.1.2"],
    }
}

impl Rule for IngressClassUnresolved {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let classes = &cx.ws.ingress_classes;
        for ing in cx.reported(&cx.ws.ingresses) {
            let annotation = ing.annotations.get("kubernetes.io/ingress.class");
            let field = ing.spec.ingress_class_name.as_ref();
            if let (Some(a), Some(f)) = (annotation, field) {
                if a != f {
                    let d = out.report(
                        &meta,
                        ing,
                        "spec.ingressClassName",
                        format!("Ingress `{}` names class `{f}` in `spec.ingressClassName` and `{a}` in `kubernetes.io/ingress.class`; the API server rejects both together", ing.id.name),
                    );
                    d.severity(Severity::Error);
                    d.related(vec![("the annotation".into(), cx.at(&ing.obj, &join_key("metadata.annotations", "kubernetes.io/ingress.class")))]);
                    d.help("remove the deprecated annotation and keep `spec.ingressClassName`");
                    continue;
                }
            }
            if classes.is_empty() {
                continue;
            }
            match field.or(annotation) {
                Some(name) if !classes.iter().any(|c| &c.id.name == name) => {
                    let at = if field.is_some() { "spec.ingressClassName".to_string() } else { join_key("metadata.annotations", "kubernetes.io/ingress.class") };
                    let known: Vec<&str> = classes.iter().map(|c| c.id.name.as_str()).collect();
                    let d = out.report(&meta, ing, &at, format!("Ingress `{}` names class `{name}`, which no IngressClass of the input defines", ing.id.name));
                    d.why(format!("IngressClasses: {}", known.join(", ")));
                    d.help("name an existing IngressClass");
                }
                None if !classes.iter().any(|c| c.default) => {
                    let d = out.report(&meta, ing, "spec", format!("Ingress `{}` names no class and no IngressClass is the default: no controller may serve it", ing.id.name));
                    d.help("set `spec.ingressClassName`");
                }
                _ => {}
            }
        }
    }
}
