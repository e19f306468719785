use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Ingress backend Service or port missing
    ///
    /// ## What it does
    /// Follows every Service backend of an Ingress (`defaultBackend` and each path) and finds a
    /// Service that is not in the Ingress's namespace, or a port (number or name) the Service
    /// does not expose. When the input has no Service of that namespace at all, they are
    /// deployed from elsewhere: an info finding says the backend could not be checked.
    ///
    /// ## Why is this bad?
    /// The controller has no endpoints for that path and answers 503 (ingress-nginx) or 404;
    /// a renamed Service or port is the usual cause.
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
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 3000}}}}]
    /// ---
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   selector: {app: demo}
    ///   ports: [{name: http, port: 80, targetPort: 3000}]
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
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {name: http}}}}]
    /// ---
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   selector: {app: demo}
    ///   ports: [{name: http, port: 80, targetPort: 3000}]
    /// ```
    pub BackendMissing {
        id: "NR320", name: "backend-missing", severity: Severity::Warning, tags: &["iso27001:A.13.1.2"],
    }
}

impl Rule for BackendMissing {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for ing in cx.reported(&cx.ws.ingresses) {
            for (path, b) in ing.backends() {
                let Some(svc_ref) = &b.service else { continue };
                let loc = cx.at(&ing.obj, &format!("{path}.service"));
                if !cx.sees_namespace(&ing.namespace) {
                    let what = format!("whether Service {}/{} exists", ing.namespace, svc_ref.name);
                    out.unverifiable(&meta, Some(ing.id.clone()), loc, &what, &cx.ws.coverage);
                    continue;
                }
                let Some(svc) = cx.ws.services.iter().find(|s| s.namespace == ing.namespace && s.id.name == svc_ref.name) else {
                    if !cx.ws.services.iter().any(|s| s.namespace == ing.namespace) {
                        // No Service of the namespace is in the input: they are deployed from elsewhere.
                        let what = format!("whether Service {}/{} exists", ing.namespace, svc_ref.name);
                        let d = out.report_at(&meta, Some(ing.id.clone()), loc, format!("unverifiable: {what}; the input has no Service in namespace `{}`", ing.namespace));
                        d.severity(Severity::Info);
                        d.unverifiable = true;
                        continue;
                    }
                    let d = out.report(&meta, ing, &format!("{path}.service.name"), format!("Ingress `{}` routes to Service `{}`, which is not in namespace `{}`", ing.id.name, svc_ref.name, ing.namespace));
                    d.help("name a Service of the Ingress's namespace (an Ingress cannot route to another namespace)");
                    continue;
                };
                let ports = svc.spec.ports.iter().flatten();
                let (found, wanted) = match svc_ref.port.as_ref().map(|p| (p.number, p.name.as_deref())) {
                    Some((Some(n), _)) => (ports.clone().any(|sp| sp.port == n), format!("port {n}")),
                    Some((None, Some(name))) => (ports.clone().any(|sp| sp.name.as_deref() == Some(name)), format!("port named {name:?}")),
                    _ => continue,
                };
                if found {
                    continue;
                }
                let exposed: Vec<String> = ports.map(|sp| match &sp.name {
                    Some(n) => format!("{} ({n})", sp.port),
                    None => sp.port.to_string(),
                }).collect();
                let d = out.report(&meta, ing, &format!("{path}.service.port"), format!("Ingress `{}` routes to {wanted} of Service `{}`, which the Service does not expose", ing.id.name, svc_ref.name));
                d.why(format!("Service {}/{} exposes: {}", svc.namespace, svc.id.name, exposed.join(", ")));
                d.help("use one of the Service's ports (its `port`, not the `targetPort`)");
            }
        }
    }
}
