use std::collections::BTreeSet;
use std::net::IpAddr;

use super::helpers::{istio_host_error, istio_label_ok, PROTOCOLS};
use crate::model::validate::dns1123_subdomain_error;
use crate::model::ServiceEntrySpec;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_index;

declare_rule! {
    /// ServiceEntry would be rejected or warned about by Istio
    ///
    /// ## What it does
    /// Mirrors Istio's `ValidateServiceEntry`: at least one host, not `*` alone; each host a
    /// DNS name by Istio's rules (labels of letters of either case, digits and `-`; a top-level
    /// domain not all digits) whose first label may be a wildcard (`foo*.x` and `a.*.x` are
    /// errors, a partial wildcard such as `*foo.x` a warning); `addresses` IPs or CIDRs, CIDRs only with
    /// resolution `NONE` or `STATIC`; port names DNS labels and unique, numbers 1–65535
    /// and unique, protocols Istio knows; not both `workloadSelector` and `endpoints`; no
    /// `endpoints` with resolution `NONE`; endpoint addresses IPs (or `unix://`) with
    /// `STATIC`, IPs or host names with `DNS`; endpoint ports named after a port of the entry;
    /// at most one endpoint with `DNS_ROUND_ROBIN`; several hosts with a
    /// resolution other than `NONE` only on HTTP or TLS ports; valid `exportTo` entries. (A
    /// wildcard host under DNS resolution is NR402's.)
    ///
    /// ## Why is this bad?
    /// Istio's webhook rejects the entry and the apply fails; the warnings mark entries that
    /// Istio accepts but does not apply as written.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: apt, namespace: shop}
    /// spec:
    ///   hosts: [deb.debian.org]
    ///   ports: [{number: 80, name: http, protocol: HTTP}, {number: 80, name: http-alt, protocol: HTTP}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: ServiceEntry
    /// metadata: {name: apt, namespace: shop}
    /// spec:
    ///   hosts: [deb.debian.org]
    ///   ports: [{number: 80, name: http, protocol: HTTP}]
    /// ```
    pub ServiceEntryInvalid {
        id: "NR403", name: "service-entry-invalid", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

/// (field path, message, is a warning) for every problem of a ServiceEntry spec.
fn problems(spec: &ServiceEntrySpec) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let resolution = spec.resolution();
    let hosts = &spec.hosts;
    if hosts.is_empty() {
        out.push(("spec".into(), "`hosts` must not be empty".into(), false));
    }
    for (i, h) in hosts.iter().enumerate() {
        let path = join_index("spec.hosts", i);
        if h == "*" {
            out.push((path, "host `*` is not allowed".into(), false));
            continue;
        }
        if let Some(why) = istio_host_error(h) {
            out.push((path, format!("host {h:?} is not a valid host name: {why}"), false));
        } else if h.starts_with('*') && !h.starts_with("*.") && resolution != "DYNAMIC_DNS" {
            out.push((path, format!("host {h:?} has a partial wildcard, which Istio does not honour"), true));
        }
    }
    let endpoints = spec.endpoints.len();
    for (i, a) in spec.addresses.iter().enumerate() {
        let path = join_index("spec.addresses", i);
        if a.parse::<IpAddr>().is_ok() {
            continue;
        }
        if a.parse::<ipnet::IpNet>().is_err() {
            out.push((path, format!("address {a:?} is neither an IP address nor a CIDR"), false));
        } else if !matches!(resolution, "NONE" | "STATIC") {
            out.push((path, format!("CIDR address {a:?} needs resolution NONE or STATIC, not {resolution}"), false));
        }
    }
    let (mut names, mut numbers) = (BTreeSet::new(), BTreeSet::new());
    let mut non_http = false;
    for (i, p) in spec.ports.iter().enumerate() {
        let path = join_index("spec.ports", i);
        match p.name.as_str() {
            "" => out.push((path.clone(), "the port has no name".into(), false)),
            n if !names.insert(n) => out.push((format!("{path}.name"), format!("port name {n:?} is used twice"), false)),
            n if !istio_label_ok(n) => out.push((format!("{path}.name"), format!("port name {n:?} is not a DNS label (letters, digits and `-`, at most 63)"), false)),
            _ => {}
        }
        match p.number {
            Some(n) if (1..=65535).contains(&n) => {
                if !numbers.insert(n) {
                    out.push((format!("{path}.number"), format!("port number {n} is used twice"), false));
                }
            }
            _ => out.push((path.clone(), "the port number must be 1-65535".into(), false)),
        }
        let proto = p.protocol();
        if !proto.is_empty() && !PROTOCOLS.contains(&proto.as_str()) {
            out.push((format!("{path}.protocol"), format!("protocol {proto:?} is not one Istio knows"), false));
        }
        if !matches!(proto.as_str(), "HTTP" | "HTTPS" | "HTTP2" | "GRPC" | "GRPC-WEB" | "TLS") {
            non_http = true;
        }
    }
    for (i, e) in spec.endpoints.iter().enumerate() {
        let path = join_index("spec.endpoints", i);
        let ip = e.address.parse::<IpAddr>().is_ok();
        let bad = match resolution {
            "STATIC" => !ip && !e.address.starts_with("unix://"),
            "DNS" | "DNS_ROUND_ROBIN" => !ip && (e.address.contains('*') || istio_host_error(&e.address).is_some()),
            _ => false,
        };
        if bad {
            out.push((format!("{path}.address"), format!("endpoint address {:?} is not valid for resolution {resolution}", e.address), false));
        }
        for name in e.ports.keys().filter(|n| !names.contains(n.as_str())) {
            out.push((format!("{path}.ports"), format!("endpoint port {name:?} is not a port name of the entry"), false));
        }
    }
    if spec.workload_selector.is_some() && endpoints > 0 {
        out.push(("spec.workloadSelector".into(), "only one of `workloadSelector` and `endpoints` may be set".into(), false));
    }
    if resolution == "NONE" && endpoints > 0 {
        out.push(("spec.endpoints".into(), "endpoints are not allowed with resolution NONE".into(), false));
    }
    if resolution == "DNS_ROUND_ROBIN" && endpoints > 1 {
        out.push(("spec.endpoints".into(), "DNS_ROUND_ROBIN allows at most one endpoint".into(), false));
    }
    if resolution != "NONE" && hosts.len() > 1 && non_http {
        out.push(("spec.hosts".into(), format!("several hosts with resolution {resolution} need HTTP or TLS ports only"), false));
    }
    for (i, e) in spec.export_to.iter().enumerate() {
        let ok = matches!(e.as_str(), "." | "*" | "~") || dns1123_subdomain_error(e).is_none() && !e.contains('.');
        if !ok {
            out.push((join_index("spec.exportTo", i), format!("exportTo {e:?} is not `.`, `*`, `~` or a namespace name"), false));
        }
    }
    out
}

impl Rule for ServiceEntryInvalid {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for se in cx.reported(&cx.ws.service_entries) {
            for (path, message, warning) in problems(&se.spec) {
                let d = out.report(&meta, se, &path, format!("ServiceEntry `{}/{}`: {message}", se.namespace, se.id.name));
                if warning {
                    d.severity(Severity::Warning);
                }
                d.help("fix the field; Istio's validation rejects (or ignores) it otherwise");
            }
        }
    }
}
