use std::net::IpAddr;

use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_key;

declare_rule! {
    /// ingress-nginx source-range annotation invalid: every request gets 503
    ///
    /// ## What it does
    /// Checks `nginx.ingress.kubernetes.io/allowlist-source-range`, `whitelist-source-range` and
    /// `denylist-source-range`: each comma-separated item, trimmed, must be a CIDR or an IP
    /// address.
    ///
    /// ## Why is this bad?
    /// ingress-nginx does not reject the Ingress: it marks the location as denied and renders
    /// `return 503` for every request, so the whole host goes down on a typo such as a
    /// missing prefix length digit or a stray space inside an address.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata:
    ///   name: demo
    ///   namespace: demo
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/whitelist-source-range: "98.128.193.2/32, 10.0.0/8"
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata:
    ///   name: demo
    ///   namespace: demo
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/whitelist-source-range: "98.128.193.2/32, 10.0.0.0/8"
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    pub NginxAllowlistInvalid {
        id: "NR316", name: "nginx-allowlist-invalid", severity: Severity::Error, tags: &["iso27001:A.13.1.2"],
    }
}

/// The source-range annotations ingress-nginx reads.
const RANGE_ANNOTATIONS: [&str; 3] = [
    "nginx.ingress.kubernetes.io/allowlist-source-range",
    "nginx.ingress.kubernetes.io/whitelist-source-range",
    "nginx.ingress.kubernetes.io/denylist-source-range",
];

impl Rule for NginxAllowlistInvalid {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for ing in cx.reported(&cx.ws.ingresses) {
            for key in RANGE_ANNOTATIONS {
                let Some(value) = ing.annotations.get(key) else { continue };
                let bad: Vec<&str> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| item.parse::<ipnet::IpNet>().is_err() && item.parse::<IpAddr>().is_err())
                    .collect();
                if bad.is_empty() {
                    continue;
                }
                let shown: Vec<String> = bad.iter().map(|b| format!("{b:?}")).collect();
                let d = out.report(
                    &meta,
                    ing,
                    &join_key("metadata.annotations", key),
                    format!("`{key}` of Ingress `{}` has items that are neither a CIDR nor an IP address: {}", ing.id.name, shown.join(", ")),
                );
                d.why("ingress-nginx then denies the location and answers every request with 503");
                d.help("write each item as an address (`203.0.113.7`) or a CIDR (`203.0.113.0/24`), separated by commas");
            }
        }
    }
}
