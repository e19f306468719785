use std::net::IpAddr;

use super::helpers::{rule_hosts, tls_hosts};
use crate::model::host::ingress_host_error;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Invalid Ingress host or TLS host
    ///
    /// ## What it does
    /// Checks every `spec.rules[].host` and `spec.tls[].hosts[]` of an Ingress: it must be a
    /// DNS-1123 subdomain (lower case, labels of `a-z0-9-` up to 63 characters, no trailing
    /// dot, 253 characters at most), optionally with `*.` as its whole first label, and not
    /// an IP address. An IP in `tls.hosts` is accepted by the API but no public CA issues for
    /// it and SNI never carries it: a warning there.
    ///
    /// ## Why is this bad?
    /// The API server rejects an invalid rule host; an invalid TLS host is accepted but
    /// cert-manager cannot request a certificate for it and no browser will match it.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   rules:
    ///     - host: Demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    pub IngressHostInvalid {
        id: "NR301", name: "ingress-host-invalid", severity: Severity::Error, tags: &["iso27001:A.13.1.2"],
    }
}

impl Rule for IngressHostInvalid {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for ing in cx.reported(&cx.ws.ingresses) {
            let hosts = rule_hosts(ing).into_iter().map(|(p, h)| (p, h, false)).chain(tls_hosts(ing).into_iter().map(|(p, h)| (p, h, true)));
            for (path, host, tls) in hosts {
                let Some(why) = ingress_host_error(host) else { continue };
                let d = out.report(
                    &meta,
                    ing,
                    &path,
                    format!("`{path}` of Ingress `{}` is not a valid host: {host:?}: {why}", ing.id.name),
                );
                if tls && host.parse::<IpAddr>().is_ok() {
                    d.severity(Severity::Warning);
                }
                d.help(match host.to_ascii_lowercase() {
                    lower if lower != host && ingress_host_error(&lower).is_none() => format!("write it in lower case: `{lower}`"),
                    _ => "write a DNS name such as `app.example.com`, or `*.example.com` for a wildcard".into(),
                });
            }
        }
    }
}
