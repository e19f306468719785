use super::helpers::{rule_hosts, tls_hosts};
use crate::model::host::{covers, ingress_host_error};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// TLS host not routed by any rule
    ///
    /// ## What it does
    /// Finds a `tls[].hosts` entry of an Ingress that covers none of its `rules[].host`
    /// (equal, or a wildcard covering one of them). Ingresses whose rules have no host (they
    /// route every host) are left alone.
    ///
    /// ## Why is this bad?
    /// Usually a typo beside NR302: the certificate names a host nobody routes, and the host
    /// that is routed goes without. cert-manager also requests the unrouted name, and an
    /// HTTP-01 challenge for it fails.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   tls: [{hosts: [demo.example.com, demo.exmaple.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    pub TlsHostNotRouted {
        id: "NR303", name: "tls-host-not-routed", severity: Severity::Warning, tags: &["iso27001:A.13.1.2"],
    }
}

impl Rule for TlsHostNotRouted {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for ing in cx.reported(&cx.ws.ingresses) {
            let rules = rule_hosts(ing);
            let hostless = ing.spec.rules.iter().flatten().any(|r| r.host.as_deref().is_none_or(str::is_empty));
            if rules.is_empty() || hostless {
                continue;
            }
            for (path, tls) in tls_hosts(ing) {
                // An invalid host is NR301's finding.
                if ingress_host_error(tls).is_some() || rules.iter().any(|(_, h)| covers(tls, h)) {
                    continue;
                }
                let routed: Vec<&str> = rules.iter().map(|(_, h)| *h).collect();
                let d = out.report(
                    &meta,
                    ing,
                    &path,
                    format!("TLS host `{tls}` of Ingress `{}` is routed by none of its rules", ing.id.name),
                );
                d.why(format!("rule hosts: {}", routed.join(", ")));
                d.help("correct the name, or remove it from `tls.hosts`");
            }
        }
    }
}
