use super::{se_ports, strings};
use crate::report::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule, RuleCheck};
use crate::source::join_index;

declare_rule! {
    /// TCP ServiceEntry without addresses (IST0134)
    ///
    /// ## What it does
    /// Finds a ServiceEntry port whose protocol is TCP or unset while the entry has no
    /// `addresses` and the mesh does not allocate addresses to ServiceEntries (profile
    /// `istio.dnsAutoAllocate`, false by default, or the mesh config's
    /// `defaultConfig.proxyMetadata` with `ISTIO_META_DNS_CAPTURE` and
    /// `ISTIO_META_DNS_AUTO_ALLOCATE` both "true"), as istioctl's IST0134 does: "ServiceEntry
    /// addresses are required for this protocol."
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

impl RuleCheck for ServiceEntryNeedsAddresses {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = <Self as Rule>::META;
        if super::auto_allocates(cx) {
            return;
        }
        for se in cx.ws.service_entries.iter().filter(|s| cx.ws.reported(&s.obj)) {
            if !strings(&se.spec, "addresses").is_empty() {
                continue;
            }
            for (i, number, proto, _) in se_ports(se) {
                if !(proto.is_empty() || proto == "TCP") {
                    continue;
                }
                let d = out.report(
                    &meta,
                    Some(se.id.clone()),
                    cx.at(&se.obj, &join_index("spec.ports", i)),
                    format!("ServiceEntry `{}/{}` port {number} is TCP but the entry has no addresses: ServiceEntry addresses are required for this protocol", se.namespace, se.id.name),
                );
                d.help = Some("list the destination's IP ranges in `addresses`, or enable DNS capture with address auto-allocation (profile `istio.dnsAutoAllocate`)".into());
            }
        }
    }
}
