
use super::helpers::{se_host_matches, se_ports};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_index;

declare_rule! {
    /// TLS traffic declared as plain HTTP
    ///
    /// ## What it does
    /// Finds a ServiceEntry port that the application speaks TLS to — number 443, or a name
    /// starting with `https` or `tls` — declared with `protocol: HTTP`, when no DestinationRule
    /// for the host originates TLS (`trafficPolicy.tls.mode` SIMPLE or MUTUAL, also per port).
    ///
    /// ## Why is this bad?
    /// The sidecar parses the client's TLS ClientHello as HTTP and fails the request; Istio's
    /// samples call this "misconfigured server names". Declare `HTTPS` or `TLS`, or let the
    /// application speak HTTP and originate TLS in a DestinationRule.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: pypi, namespace: shop}
    /// spec:
    ///   hosts: [pypi.org]
    ///   ports: [{number: 443, name: https, protocol: HTTP}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: pypi, namespace: shop}
    /// spec:
    ///   hosts: [pypi.org]
    ///   ports: [{number: 443, name: https, protocol: HTTPS}]
    /// ```
    pub ServiceEntryTlsAsHttp {
        id: "NR406", name: "service-entry-tls-as-http", severity: Severity::Warning, tags: &["iso27001:A.13.1.2"],
    }
}

/// Whether a DestinationRule originates TLS towards `host` on `port`.
fn originates_tls(cx: &Context<'_>, host: &str, port: u32) -> bool {
    cx.ws.destination_rules.iter().any(|dr| {
        if dr.spec.host.is_empty() || !se_host_matches(&dr.spec.host, host) {
            return false;
        }
        let Some(tp) = &dr.spec.traffic_policy else { return false };
        tp.tls.as_ref().is_some_and(|t| t.originates())
            || tp.port_level_settings.iter().any(|p| p.port.as_ref().and_then(|x| x.number) == Some(port) && p.tls.as_ref().is_some_and(|t| t.originates()))
    })
}

impl Rule for ServiceEntryTlsAsHttp {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for se in cx.reported(&cx.ws.service_entries) {
            for (i, number, proto, name) in se_ports(se) {
                let tls_port = number == 443 || name.starts_with("https") || name.starts_with("tls");
                if proto != "HTTP" || !tls_port {
                    continue;
                }
                let hosts = &se.spec.hosts;
                if hosts.iter().all(|h| originates_tls(cx, h, number)) && !hosts.is_empty() {
                    continue;
                }
                if cx.ws.coverage != crate::model::Coverage::Complete {
                    let what = format!("whether a DestinationRule originates TLS for port {number} of ServiceEntry `{}/{}`", se.namespace, se.id.name);
                    out.unverifiable(&meta, Some(se.id.clone()), cx.at(&se.obj, &format!("{}.protocol", join_index("spec.ports", i))), &what, &cx.ws.coverage);
                    continue;
                }
                let d = out.report(
                    &meta,
                    se,
                    &format!("{}.protocol", join_index("spec.ports", i)),
                    format!("ServiceEntry `{}/{}` declares port {number} ({name}) as HTTP, but clients speak TLS there and no DestinationRule originates TLS", se.namespace, se.id.name),
                );
                d.help("declare `protocol: HTTPS` (or TLS) for a port the application speaks TLS to");
            }
        }
    }
}
