use super::helpers::{exported_to, external_needs, outbound_mode, se_ports, visible_entries};
use crate::profile::OutboundTrafficPolicy;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// ALLOW_ANY passthrough shadowed on a port
    ///
    /// ## What it does
    /// Under outbound mode `ALLOW_ANY`, finds an external destination a workload with a
    /// sidecar needs on port P (as in NR401) that no ServiceEntry registers, while the mesh
    /// already listens on P for every address: a ServiceEntry visible to the workload's
    /// namespace with an HTTP port P, or a TCP port P and no `addresses`; or an HTTP Service of
    /// the input on P (a port named `http…` or with `appProtocol: http`). TLS entries, matched
    /// by SNI with a passthrough fallback, do not shadow the port.
    ///
    /// ## Why is this bad?
    /// ALLOW_ANY passes unknown traffic through only on ports the mesh has no listener for.
    /// Once any HTTP service or ServiceEntry uses the port — typically 80, or 22 for SSH — the
    /// sidecar routes by host on it, and the unregistered host gets 404 or a reset. Istio's
    /// samples warn of exactly this for ports 80 and 22.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: netreach.dev/v1alpha1
    /// kind: ClusterProfile
    /// istio: {outboundTrafficPolicy: ALLOW_ANY}
    /// ---
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: make-aptget-work, namespace: istio-system}
    /// spec:
    ///   hosts: [deb.debian.org]
    ///   ports: [{number: 80, name: http, protocol: HTTP}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: builder
    ///   namespace: ci
    ///   annotations: {netreach.dev/egress: "archive.ubuntu.com:80"}
    /// spec:
    ///   selector: {matchLabels: {app: builder}}
    ///   template:
    ///     metadata: {labels: {app: builder, sidecar.istio.io/inject: "true"}}
    ///     spec: {containers: [{name: builder, image: ci/builder}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: netreach.dev/v1alpha1
    /// kind: ClusterProfile
    /// istio: {outboundTrafficPolicy: ALLOW_ANY}
    /// ---
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: make-aptget-work, namespace: istio-system}
    /// spec:
    ///   hosts: [deb.debian.org, archive.ubuntu.com]
    ///   ports: [{number: 80, name: http, protocol: HTTP}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: builder
    ///   namespace: ci
    ///   annotations: {netreach.dev/egress: "archive.ubuntu.com:80"}
    /// spec:
    ///   selector: {matchLabels: {app: builder}}
    ///   template:
    ///     metadata: {labels: {app: builder, sidecar.istio.io/inject: "true"}}
    ///     spec: {containers: [{name: builder, image: ci/builder}]}
    /// ```
    pub PassthroughShadowed {
        id: "NR407", name: "passthrough-shadowed", severity: Severity::Warning, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for PassthroughShadowed {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        // Visibility is a property of the whole mesh's ServiceEntries and Sidecars; with part of
        // the cluster unread, NR401 says what could not be checked.
        if cx.ws.coverage != crate::model::Coverage::Complete {
            return;
        }
        for w in cx.reported(&cx.ws.workloads).filter(|w| !w.host_network() && cx.sidecar_injected(w)) {
            if !matches!(outbound_mode(cx, w), Some((OutboundTrafficPolicy::AllowAny, _))) {
                continue;
            }
            for n in external_needs(cx, w) {
                if !visible_entries(cx, w, &n.host, n.port).0.is_empty() {
                    continue;
                }
                let port = u32::from(n.port);
                // TLS entries are matched by SNI with a passthrough fallback, and TCP entries with
                // addresses listen on those addresses only: neither shadows the port.
                let shadows = |se: &&crate::model::ServiceEntry| {
                    let addressed = !se.spec.addresses.is_empty();
                    se_ports(se).iter().any(|(_, p, proto, _)| {
                        *p == port && (proto.starts_with("HTTP") || proto == "GRPC" || ((proto.is_empty() || proto == "TCP") && !addressed))
                    })
                };
                let se = cx.ws.service_entries.iter().filter(|se| exported_to(se, &w.namespace)).find(shadows);
                let http_svc = cx.ws.services.iter().find(|s| {
                    s.spec.ports.iter().flatten().any(|p| {
                        i64::from(p.port) == i64::from(port)
                            && (p.name.as_deref().is_some_and(|n| n.starts_with("http")) || p.app_protocol.as_deref().is_some_and(|a| a.starts_with("http")))
                    })
                });
                let by = match (se, http_svc) {
                    (Some(se), _) => format!("ServiceEntry {}/{}", se.namespace, se.id.name),
                    (None, Some(s)) => format!("HTTP Service {}/{}", s.namespace, s.id.name),
                    (None, None) => continue,
                };
                let d = out.report_at(
                    &meta,
                    Some(w.id.clone()),
                    n.loc.clone(),
                    format!("`{}` needs {}:{} ({}) through ALLOW_ANY, but {by} also uses port {}: the sidecar no longer passes unknown hosts through on it", w.display(), n.host, n.port, n.why, n.port),
                );
                d.help(format!("register {} with a ServiceEntry on port {}", n.host, n.port));
            }
        }
    }
}
