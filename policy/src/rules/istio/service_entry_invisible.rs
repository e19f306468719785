use super::helpers::{external_needs, outbound_mode, visible_entries};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Required ServiceEntry invisible to the workload
    ///
    /// ## What it does
    /// For an external destination a workload with an Istio sidecar needs (as in NR401), finds
    /// a ServiceEntry for that host and port that exists but that the workload cannot see: its
    /// `exportTo` leaves out the workload's namespace, or the workload's Sidecar lists
    /// `egress.hosts` that do not include the ServiceEntry's namespace and host. An error under
    /// `REGISTRY_ONLY`; info otherwise (the traffic passes through, unmanaged).
    ///
    /// ## Why is this bad?
    /// The ServiceEntry looks right in review, but the sidecar of this workload never gets it:
    /// under REGISTRY_ONLY the call fails as if it did not exist.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.istio.io/v1
    /// kind: Sidecar
    /// metadata: {name: default, namespace: shop}
    /// spec:
    ///   outboundTrafficPolicy: {mode: REGISTRY_ONLY}
    ///   egress: [{hosts: ["./*", "istio-system/*"]}]
    /// ---
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: github, namespace: egress}
    /// spec:
    ///   hosts: [github.com]
    ///   location: MESH_EXTERNAL
    ///   resolution: DNS
    ///   ports: [{number: 443, name: https, protocol: HTTPS}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: ci
    ///   namespace: shop
    ///   annotations: {netreach.dev/egress: "github.com:443"}
    /// spec:
    ///   selector: {matchLabels: {app: ci}}
    ///   template:
    ///     metadata: {labels: {app: ci, sidecar.istio.io/inject: "true"}}
    ///     spec: {containers: [{name: ci, image: shop/ci}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: Sidecar
    /// metadata: {name: default, namespace: shop}
    /// spec:
    ///   outboundTrafficPolicy: {mode: REGISTRY_ONLY}
    ///   egress: [{hosts: ["./*", "istio-system/*", "egress/github.com"]}]
    /// ---
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: github, namespace: egress}
    /// spec:
    ///   hosts: [github.com]
    ///   location: MESH_EXTERNAL
    ///   resolution: DNS
    ///   ports: [{number: 443, name: https, protocol: HTTPS}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: ci
    ///   namespace: shop
    ///   annotations: {netreach.dev/egress: "github.com:443"}
    /// spec:
    ///   selector: {matchLabels: {app: ci}}
    ///   template:
    ///     metadata: {labels: {app: ci, sidecar.istio.io/inject: "true"}}
    ///     spec: {containers: [{name: ci, image: shop/ci}]}
    /// ```
    pub ServiceEntryInvisible {
        id: "NR408", name: "service-entry-invisible", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for ServiceEntryInvisible {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        // Visibility is a property of the whole mesh's ServiceEntries and Sidecars; with part of
        // the cluster unread, NR401 says what could not be checked.
        if cx.ws.coverage != crate::model::Coverage::Complete {
            return;
        }
        for w in cx.reported(&cx.ws.workloads).filter(|w| !w.host_network() && cx.sidecar_injected(w)) {
            let mode = outbound_mode(cx, w);
            for n in external_needs(cx, w) {
                let (matching, exported, admitted) = visible_entries(cx, w, &n.host, n.port);
                if matching.is_empty() || !admitted.is_empty() {
                    continue;
                }
                let names: Vec<String> = matching.iter().map(|se| format!("{}/{}", se.namespace, se.id.name)).collect();
                let why = if exported.is_empty() {
                    format!("its `exportTo` does not include namespace `{}`", w.namespace)
                } else {
                    "the workload's Sidecar `egress.hosts` do not include it".to_string()
                };
                let d = out.report_at(
                    &meta,
                    Some(w.id.clone()),
                    n.loc.clone(),
                    format!("`{}` needs {}:{}, and ServiceEntry {} registers it, but {why}", w.display(), n.host, n.port, names.join(", ")),
                );
                if !matches!(mode, Some((crate::profile::OutboundTrafficPolicy::RegistryOnly, _))) {
                    d.severity(Severity::Info);
                }
                d.related(matching.iter().map(|se| ("the ServiceEntry".to_string(), cx.at(&se.obj, "spec.hosts"))).collect());
                d.help(if exported.is_empty() {
                    format!("add `{}` (or `*`) to the ServiceEntry's `exportTo`", w.namespace)
                } else {
                    format!("add `{}/{}` to the Sidecar's `egress.hosts`", matching.first().map_or("*", |se| se.namespace.as_str()), n.host)
                });
            }
        }
    }
}
