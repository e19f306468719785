use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::Value;

use super::strings;
use crate::model::host::dns1123_subdomain_error;
use crate::report::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule, RuleCheck};
use crate::source::join_index;

declare_rule! {
    /// ServiceEntry would be rejected or warned about by Istio
    ///
    /// ## What it does
    /// Mirrors Istio's `ValidateServiceEntry`: at least one host, not `*` alone; each host a
    /// DNS-1123 name whose first label may be a wildcard (`foo*.x` and `a.*.x` are errors, a
    /// partial wildcard such as `*foo.x` a warning); `addresses` IPs or CIDRs, CIDRs only with
    /// resolution `NONE` or `STATIC`; port names set and unique, numbers 1–65535 and unique,
    /// protocols Istio knows; not both `workloadSelector` and `endpoints`; no `endpoints` with
    /// resolution `NONE`; at most one endpoint with `DNS_ROUND_ROBIN`; several hosts with a
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

/// Protocols Istio parses (case-insensitive).
const PROTOCOLS: [&str; 12] = ["TCP", "UDP", "GRPC", "GRPC-WEB", "HTTP", "HTTP_PROXY", "HTTP2", "HTTPS", "TLS", "MONGO", "REDIS", "MYSQL"];

/// (field path, message, is a warning) for every problem of a ServiceEntry spec.
fn problems(spec: &Value) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let resolution = spec.get("resolution").and_then(Value::as_str).unwrap_or("NONE");
    let hosts = strings(spec, "hosts");
    if hosts.is_empty() {
        out.push(("spec".into(), "`hosts` must not be empty".into(), false));
    }
    for (i, h) in hosts.iter().enumerate() {
        let path = join_index("spec.hosts", i);
        if *h == "*" {
            out.push((path, "host `*` is not allowed".into(), false));
            continue;
        }
        let (first, rest) = h.split_once('.').unwrap_or((h, ""));
        if rest.contains('*') || (first.contains('*') && !first.starts_with('*')) {
            out.push((path, format!("host {h:?} has a wildcard that is not a prefix of its first label"), false));
            continue;
        }
        let plain = if first.starts_with('*') { rest } else { h };
        if let Some(why) = dns1123_subdomain_error(plain) {
            out.push((path, format!("host {h:?} is not a valid DNS name: {why}"), false));
        } else if first.starts_with('*') && first != "*" && resolution != "DYNAMIC_DNS" {
            out.push((path, format!("host {h:?} has a partial wildcard, which Istio does not honour"), true));
        }
    }
    let endpoints = spec.get("endpoints").and_then(Value::as_array).map_or(0, Vec::len);
    for (i, a) in strings(spec, "addresses").iter().enumerate() {
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
    for (i, p) in spec.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let path = join_index("spec.ports", i);
        match p.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
            None => out.push((path.clone(), "the port has no name".into(), false)),
            Some(n) if !names.insert(n.to_string()) => out.push((format!("{path}.name"), format!("port name {n:?} is used twice"), false)),
            Some(_) => {}
        }
        match p.get("number").and_then(Value::as_u64) {
            Some(n) if (1..=65535).contains(&n) => {
                if !numbers.insert(n) {
                    out.push((format!("{path}.number"), format!("port number {n} is used twice"), false));
                }
            }
            _ => out.push((path.clone(), "the port number must be 1-65535".into(), false)),
        }
        let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("").to_ascii_uppercase();
        if !proto.is_empty() && !PROTOCOLS.contains(&proto.as_str()) {
            out.push((format!("{path}.protocol"), format!("protocol {proto:?} is not one Istio knows"), false));
        }
        if !matches!(proto.as_str(), "HTTP" | "HTTPS" | "HTTP2" | "GRPC" | "GRPC-WEB" | "TLS") {
            non_http = true;
        }
    }
    if spec.get("workloadSelector").is_some_and(|v| !v.is_null()) && endpoints > 0 {
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
    for (i, e) in strings(spec, "exportTo").iter().enumerate() {
        let ok = matches!(*e, "." | "*" | "~") || crate::model::host::dns1123_subdomain_error(e).is_none() && !e.contains('.');
        if !ok {
            out.push((join_index("spec.exportTo", i), format!("exportTo {e:?} is not `.`, `*`, `~` or a namespace name"), false));
        }
    }
    out
}

impl RuleCheck for ServiceEntryInvalid {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = <Self as Rule>::META;
        for se in cx.ws.service_entries.iter().filter(|s| cx.ws.reported(&s.obj)) {
            for (path, message, warning) in problems(&se.spec) {
                let d = out.report(&meta, Some(se.id.clone()), cx.at(&se.obj, &path), format!("ServiceEntry `{}/{}`: {message}", se.namespace, se.id.name));
                if warning {
                    d.severity = Severity::Warning;
                }
                d.help = Some("fix the field; Istio's validation rejects (or ignores) it otherwise".into());
            }
        }
    }
}
