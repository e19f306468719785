
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_index;

declare_rule! {
    /// Wildcard ServiceEntry host with DNS resolution
    ///
    /// ## What it does
    /// Finds a ServiceEntry with a wildcard host (`*.example.com`) whose `resolution` is `DNS`
    /// or `DNS_ROUND_ROBIN` and that lists no `endpoints`.
    ///
    /// ## Why is this bad?
    /// Istio rejects it: "hosts must be FQDN or contain only prefix wildcards if no endpoints
    /// are provided for resolution mode DNS" — the proxy cannot resolve a wildcard. Use
    /// `resolution: NONE` (the sidecar forwards to the address the application resolved),
    /// `DYNAMIC_DNS` on recent ambient meshes, or explicit endpoints.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: github-wildcard, namespace: shop}
    /// spec:
    ///   hosts: ["*.github.com"]
    ///   location: MESH_EXTERNAL
    ///   resolution: DNS
    ///   ports: [{number: 443, name: tls, protocol: TLS}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: github-wildcard, namespace: shop}
    /// spec:
    ///   hosts: ["*.github.com"]
    ///   location: MESH_EXTERNAL
    ///   resolution: NONE
    ///   ports: [{number: 443, name: tls, protocol: TLS}]
    /// ```
    pub ServiceEntryWildcardDns {
        id: "NR402", name: "service-entry-wildcard-dns", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for ServiceEntryWildcardDns {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for se in cx.reported(&cx.ws.service_entries) {
            let resolution = se.spec.resolution();
            let endpoints = !se.spec.endpoints.is_empty();
            if !matches!(resolution, "DNS" | "DNS_ROUND_ROBIN") || endpoints {
                continue;
            }
            for (i, h) in se.spec.hosts.iter().enumerate() {
                if !h.starts_with('*') {
                    continue;
                }
                let d = out.report(
                    &meta,
                    se,
                    &join_index("spec.hosts", i),
                    format!("ServiceEntry `{}/{}` has the wildcard host {h:?} with resolution {resolution} and no endpoints; Istio rejects it", se.namespace, se.id.name),
                );
                d.help("use `resolution: NONE` for a wildcard host (or list endpoints)");
            }
        }
    }
}
