use super::helpers::{allocation, se_ports, Allocation};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_index;

declare_rule! {
    /// TCP ServiceEntry without addresses (IST0134)
    ///
    /// ## What it does
    /// Finds a ServiceEntry port whose protocol is TCP or unset (any case) while the entry has
    /// no `addresses` and sidecars get no address for it, as istioctl's IST0134 does:
    /// "ServiceEntry addresses are required for this protocol." Sidecars get an address when
    /// they capture DNS and addresses are allocated: the profile's `istio.dnsAutoAllocate`
    /// (false by default); or the mesh config's `defaultConfig.proxyMetadata` setting
    /// `ISTIO_META_DNS_CAPTURE` and one of `ISTIO_META_DNS_AUTO_ALLOCATE` and
    /// `PILOT_ENABLE_IP_AUTOALLOCATE` to "true"; or DNS capture there plus addresses Istio
    /// already allocated (`status.addresses`). Unlike istioctl, allocated addresses without DNS
    /// capture do not count: the application then resolves the real address and never sends
    /// to the allocated one.
    ///
    /// ## Why is this bad?
    /// For plain TCP the sidecar can match traffic only by destination address and port.
    /// Without addresses the entry claims the whole port: every TCP connection on it, to any
    /// host, is routed as this entry.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: github-ssh, namespace: shop}
    /// spec:
    ///   hosts: [github.com]
    ///   location: MESH_EXTERNAL
    ///   ports: [{number: 22, name: tcp, protocol: TCP}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: github-ssh, namespace: shop}
    /// spec:
    ///   hosts: [dummy.github.com]
    ///   addresses: [140.82.112.0/20, 192.30.252.0/22]
    ///   location: MESH_EXTERNAL
    ///   ports: [{number: 22, name: tcp, protocol: TCP}]
    /// ```
    pub ServiceEntryNeedsAddresses {
        id: "NR404", name: "service-entry-needs-addresses", severity: Severity::Warning, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for ServiceEntryNeedsAddresses {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let allocation = allocation(cx);
        if allocation == Allocation::Allocated {
            return;
        }
        for se in cx.reported(&cx.ws.service_entries) {
            if !se.spec.addresses.is_empty() || (allocation == Allocation::CaptureOnly && !se.spec.allocated.is_empty()) {
                continue;
            }
            let ignored = if se.spec.allocated.is_empty() { "" } else { " (the addresses in `status.addresses` are used only by sidecars that capture DNS)" };
            for (i, number, proto, _) in se_ports(se) {
                if !(proto.is_empty() || proto == "TCP") {
                    continue;
                }
                let d = out.report(
                    &meta,
                    se,
                    &join_index("spec.ports", i),
                    format!("ServiceEntry `{}/{}` port {number} is TCP but the entry has no addresses{ignored}: ServiceEntry addresses are required for this protocol", se.namespace, se.id.name),
                );
                d.help("list the destination's IP ranges in `addresses`, or enable DNS capture with address allocation (mesh `ISTIO_META_DNS_CAPTURE` and `ISTIO_META_DNS_AUTO_ALLOCATE`, or profile `istio.dnsAutoAllocate`)");
            }
        }
    }
}
