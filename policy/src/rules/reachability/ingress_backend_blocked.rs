use super::helpers::{allow_policy, controller, peer_yaml, related};
use crate::model::Protocol;
use crate::netpol::Direction;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Ingress-exposed backend blocked
    ///
    /// ## What it does
    /// Follows each Ingress backend to its Service and the pods behind it, and finds pods that
    /// are ingress-isolated with no rule allowing the Service's `targetPort` from the ingress
    /// controller (profile `ingressController`: its namespace and pod labels; when it runs on
    /// the host network, only a rule without `from` or with an `ipBlock` can match). Without
    /// the controller in the profile, a finding means no rule allows that port from any peer;
    /// a port allowed to some peers is reported as unverifiable.
    ///
    /// ## Why is this bad?
    /// The controller forwards to pod IPs on the target port, not to the Service port. A
    /// namespace default-deny without an allowance for the controller turns every request
    /// into a 502/504 at the edge.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny, namespace: shop}
    /// spec: {podSelector: {}, policyTypes: [Ingress]}
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   rules:
    ///     - host: shop.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
    /// ---
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   selector: {app: web}
    ///   ports: [{port: 80, targetPort: 8080}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: web}}
    ///   template:
    ///     metadata: {labels: {app: web}}
    ///     spec: {containers: [{name: web, image: shop/web, ports: [{containerPort: 8080}]}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// # The cluster profile (`--profile`) names the ingress controller.
    /// apiVersion: netreach.dev/v1alpha1
    /// kind: ClusterProfile
    /// ingressController: {namespace: ingress-nginx, podLabels: {app.kubernetes.io/name: ingress-nginx}}
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny, namespace: shop}
    /// spec: {podSelector: {}, policyTypes: [Ingress]}
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: allow-ingress-controller, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: web}}
    ///   policyTypes: [Ingress]
    ///   ingress:
    ///     - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]
    ///       ports: [{port: 8080}]
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   rules:
    ///     - host: shop.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
    /// ---
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   selector: {app: web}
    ///   ports: [{port: 80, targetPort: 8080}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: web}}
    ///   template:
    ///     metadata: {labels: {app: web}}
    ///     spec: {containers: [{name: web, image: shop/web, ports: [{containerPort: 8080}]}]}
    /// ```
    pub IngressBackendBlocked {
        id: "NR208", name: "ingress-backend-blocked", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for IngressBackendBlocked {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let (source, known) = controller(cx);
        for ing in cx.reported(&cx.ws.ingresses) {
            for (path, b) in ing.backends() {
                let Some(svc_ref) = &b.service else { continue };
                let loc = cx.at(&ing.obj, &format!("{path}.service"));
                let ns = &ing.namespace;
                if !cx.sees_namespace(ns) {
                    out.unverifiable(&meta, Some(ing.id.clone()), loc, &format!("whether the pods behind Service {ns}/{} accept the ingress controller", svc_ref.name), &cx.ws.coverage);
                    continue;
                }
                let Some(svc) = cx.ws.services.iter().find(|s| &s.namespace == ns && s.id.name == svc_ref.name) else { continue };
                let port = svc_ref.port.as_ref().and_then(|p| {
                    svc.spec.ports.iter().flatten().find(|sp| match (&p.number, &p.name) {
                        (Some(n), _) => sp.port == *n,
                        (None, Some(name)) => sp.name.as_deref() == Some(name.as_str()),
                        (None, None) => false,
                    })
                });
                let Some(port) = port.and_then(|sp| u16::try_from(sp.port).ok()) else { continue };
                let Ok(pods) = cx.engine.service_backends(&svc_ref.name, ns, Protocol::Tcp, port) else { continue };
                for (wi, tp) in pods {
                    let v = cx.engine.ingress_from(wi, &source, tp, Protocol::Tcp);
                    let Some(w) = cx.ws.workloads.get(wi) else { continue };
                    if v.allowed {
                        if !known && cx.engine.is_isolated(wi, Direction::Ingress) {
                            let what = format!("whether {} accepts the ingress controller on TCP {tp}", w.display());
                            out.unverifiable_without(&meta, Some(ing.id.clone()), loc.clone(), &what, "ingressController");
                        }
                        continue;
                    }
                    let message = format!(
                        "Ingress `{}` routes to Service `{}` whose pods {} do not accept the ingress controller on TCP {tp}",
                        ing.id.name,
                        svc_ref.name,
                        w.display()
                    );
                    let peer = if known { peer_yaml(cx, &source) } else { "- namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: <ingress-controller-namespace>}}".to_string() };
                    let fix = allow_policy(
                        format!("allow the ingress controller to reach {} on TCP {tp}", w.display()),
                        &w.namespace,
                        &format!("allow-ingress-controller-{}", w.id.name),
                        &w.labels,
                        Direction::Ingress,
                        &[peer],
                        &[(Protocol::Tcp, tp)],
                    );
                    let related = related(cx, cx.engine.isolating(wi, Direction::Ingress), &format!("isolates the ingress of {}", w.display()));
                    let d = out.report_at(&meta, Some(ing.id.clone()), loc.clone(), message);
                    d.explain(v.reasons);
                    d.related(related);
                    d.fix(fix);
                    d.help("allow the Service's targetPort from the ingress controller's pods (or, for a host-network controller, from its nodes' addresses)");
                }
            }
        }
    }
}
