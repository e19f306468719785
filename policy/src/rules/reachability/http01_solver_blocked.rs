use super::helpers::{allow_policy, controller, peer_yaml, related};
use crate::model::{IssuerRef, Labels, Protocol, SOLVER_LABEL};
use crate::netpol::{Direction, KnownPods};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// cert-manager HTTP-01 solver unreachable from the ingress controller
    ///
    /// ## What it does
    /// For each Certificate, and each Ingress with a `cert-manager.io/issuer` or
    /// `cert-manager.io/cluster-issuer` annotation (ingress-shim), whose issuer in the input is
    /// an ACME issuer with an `http01` solver: finds a policy of that namespace that isolates
    /// the solver pods cert-manager creates there (label `acme.cert-manager.io/http01-solver:
    /// "true"`) for ingress, with no rule allowing the solver port (profile
    /// `certManager.http01SolverPort`, 8089) from the ingress controller. Without the
    /// controller in the profile, a finding means no rule allows that port from any peer.
    ///
    /// ## Why is this bad?
    /// The ACME server fetches `/.well-known/acme-challenge/…` through the ingress controller,
    /// which forwards to the solver pod on 8089. A namespace default-deny blocks it: the
    /// challenge fails, the certificate is never issued, and cert-manager only says the
    /// self-check failed.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny, namespace: shop}
    /// spec: {podSelector: {}, policyTypes: [Ingress]}
    /// ---
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
    /// metadata: {name: shop-tls, namespace: shop}
    /// spec:
    ///   secretName: shop-tls
    ///   dnsNames: [shop.example.com]
    ///   issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}
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
    /// metadata: {name: allow-http01-solver, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {acme.cert-manager.io/http01-solver: "true"}}
    ///   policyTypes: [Ingress]
    ///   ingress:
    ///     - from:
    ///         - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}
    ///           podSelector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}
    ///       ports: [{port: 8089}]
    /// ---
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
    /// metadata: {name: shop-tls, namespace: shop}
    /// spec:
    ///   secretName: shop-tls
    ///   dnsNames: [shop.example.com]
    ///   issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}
    /// ```
    pub Http01SolverBlocked {
        id: "NR209", name: "http01-solver-blocked", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

/// Whether `r`, used from namespace `ns`, names an ACME issuer of the input with an HTTP-01 solver.
fn http01_issuer(cx: &Context<'_>, r: &IssuerRef, ns: &str) -> bool {
    cx.issuer(r, ns).and_then(|i| i.spec.acme.as_ref()).is_some_and(|a| a.solvers.iter().any(|s| s.http01.is_some()))
}

impl Rule for Http01SolverBlocked {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let (source, known) = controller(cx);
        let port = cx.profile.cert_manager.http01_solver_port;
        let mut done: Vec<String> = Vec::new();
        for u in cx.issuer_refs() {
            let (ns, id, loc) = (u.namespace, u.id, u.loc);
            if !cx.ws.reported(u.obj) || done.contains(&ns) || !http01_issuer(cx, &u.issuer, &ns) {
                continue;
            }
            done.push(ns.clone());
            if !cx.sees_namespace(&ns) {
                out.unverifiable(&meta, Some(id), loc, &format!("whether the HTTP-01 solver pods in `{ns}` accept the ingress controller"), &cx.ws.coverage);
                continue;
            }
            let solver_labels: Labels = [(SOLVER_LABEL.to_string(), "true".to_string())].into();
            let solver = KnownPods {
                display: format!("the HTTP-01 solver pods in {ns}"),
                namespace: ns.clone(),
                labels: solver_labels.clone(),
                ports: Vec::new(),
                pod_cidrs: cx.profile.pod_cidrs.clone(),
            };
            let v = cx.engine.pods_ingress_from(&solver, &source, port, Protocol::Tcp);
            if v.allowed {
                if !known && !cx.engine.selecting(&ns, &solver_labels, Direction::Ingress).is_empty() {
                    let what = format!("whether the HTTP-01 solver pods in `{ns}` accept the ingress controller on TCP {port}");
                    out.unverifiable_without(&meta, Some(id), loc, &what, "ingressController");
                }
                continue;
            }
            let isolating = cx.engine.selecting(&ns, &solver_labels, Direction::Ingress);
            let peer = if known { peer_yaml(cx, &source) } else { "- namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: <ingress-controller-namespace>}}".to_string() };
            let fix = allow_policy(
                format!("allow the ingress controller to reach the HTTP-01 solver pods in {ns} on TCP {port}"),
                &ns,
                "allow-http01-solver",
                &solver_labels,
                Direction::Ingress,
                &[peer],
                &[(Protocol::Tcp, port)],
            );
            let message = format!("`{id}` gets its certificate over HTTP-01, but the solver pods in namespace `{ns}` do not accept the ingress controller on TCP {port}");
            let d = out.report_at(&meta, Some(id), loc, message);
            d.explain(v.reasons);
            d.related(related(cx, &isolating, "isolates the solver pods"));
            d.fix(fix);
            d.help(format!("allow TCP {port} into pods labelled `{SOLVER_LABEL}: \"true\"` from the ingress controller"));
        }
    }
}
