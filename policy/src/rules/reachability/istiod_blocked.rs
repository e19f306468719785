use super::helpers::{allow_policy, egress_blocked, egress_candidates, fix_name, peer_yaml, report_egress, unverifiable};
use crate::model::Protocol;
use crate::netpol::{Direction, KnownPods, Target};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Istio sidecar cannot reach istiod
    ///
    /// ## What it does
    /// Finds an egress-isolated workload that gets an Istio sidecar — its namespace carries
    /// `istio-injection: enabled` or an `istio.io/rev` label, or its pods carry
    /// `sidecar.istio.io/inject: "true"` (and not `"false"`) — whose policies do not allow TCP
    /// to istiod (profile `istio`: `app: istiod` in `istio-system`, port 15012).
    ///
    /// ## Why is this bad?
    /// The sidecar fetches its certificate and configuration from istiod on 15012 before the
    /// application container is useful. Blocked, the pod never becomes ready or runs with no
    /// mesh configuration, and the policy is not what the error messages point at.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop, labels: {istio-injection: enabled}}
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: allow-dns, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: api}}
    ///   template:
    ///     metadata: {labels: {app: api}}
    ///     spec: {containers: [{name: api, image: shop/api}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop, labels: {istio-injection: enabled}}
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: allow-dns, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    ///     - to:
    ///         - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: istio-system}}
    ///           podSelector: {matchLabels: {app: istiod}}
    ///       ports: [{protocol: TCP, port: 15012}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: api}}
    ///   template:
    ///     metadata: {labels: {app: api}}
    ///     spec: {containers: [{name: api, image: shop/api}]}
    /// ```
    pub IstiodBlocked {
        id: "NR211", name: "istiod-blocked", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for IstiodBlocked {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let istio = &cx.profile.istio;
        let istiod = KnownPods {
            display: format!("istiod ({} in {})", crate::model::labels_text(&istio.istiod_labels), istio.namespace),
            namespace: istio.namespace.clone(),
            labels: istio.istiod_labels.clone(),
            ports: Vec::new(),
            pod_cidrs: cx.profile.pod_cidrs.clone(),
        };
        for (i, w) in egress_candidates(cx) {
            if !cx.sidecar_injected(w) || w.namespace == istio.namespace {
                continue;
            }
            if unverifiable(cx, out, &meta, w, &format!("whether the sidecar of `{}` can reach istiod", w.display())) {
                continue;
            }
            let target = Target::Pods(istiod.clone());
            let Some(verdict) = egress_blocked(cx, i, std::slice::from_ref(&target), Protocol::Tcp, istio.xds_port) else { continue };
            let fix = allow_policy(
                format!("allow the sidecar of {} to reach istiod on TCP {}", w.display(), istio.xds_port),
                &w.namespace,
                &fix_name("istiod", w),
                &w.labels,
                Direction::Egress,
                &[peer_yaml(cx, &target)],
                &[(Protocol::Tcp, istio.xds_port)],
            );
            let message = format!("the Istio sidecar of `{}` cannot reach istiod on TCP {}", w.display(), istio.xds_port);
            if let Some(d) = report_egress(out, &meta, cx, i, message, &verdict, fix) {
                d.help("allow egress to the istiod pods on the xDS port (15012)");
            }
        }
    }
}
