use super::helpers::{rule_hosts, shim_managed, tls_hosts};
use crate::model::host::{covers, ingress_host_error};
use crate::rules::Fix;
use crate::Severity;
use crate::rules::{declare_rule, yaml_str, Context, Diagnostics, Rule};

declare_rule! {
    /// Rule host not covered by the TLS hosts
    ///
    /// ## What it does
    /// Finds an Ingress with `spec.tls` whose `rules[].host` is covered by no `tls[].hosts`
    /// entry — equal to it, or `*.domain` where the host is exactly one label more. A warning;
    /// an error when cert-manager issues the certificate (`cert-manager.io/issuer`,
    /// `cert-manager.io/cluster-issuer`, `kubernetes.io/tls-acme`): the certificate it requests
    /// lists the TLS hosts only.
    ///
    /// ## Why is this bad?
    /// The controller serves that host with the default certificate (or one for other names):
    /// browsers say "Your connection is not private" and clients refuse the connection. A
    /// wildcard covers one label only: `*.example.com` does not cover `example.com` nor
    /// `a.b.example.com`.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata:
    ///   name: demo
    ///   namespace: demo
    ///   annotations: {cert-manager.io/cluster-issuer: letsencrypt-prod}
    /// spec:
    ///   tls: [{hosts: [www.demo.example.com], secretName: demo-tls}]
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
    ///   annotations: {cert-manager.io/cluster-issuer: letsencrypt-prod}
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ```
    pub RuleHostNotInTls {
        id: "NR302", name: "rule-host-not-in-tls", severity: Severity::Warning, tags: &["iso27001:A.13.1.2"],
    }
}

impl Rule for RuleHostNotInTls {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for ing in cx.reported(&cx.ws.ingresses) {
            if ing.spec.tls.as_ref().is_none_or(Vec::is_empty) {
                continue;
            }
            let tls = tls_hosts(ing);
            for (path, host) in rule_hosts(ing) {
                // An invalid host is NR301's finding.
                if ingress_host_error(host).is_some() || tls.iter().any(|(_, t)| covers(t, host)) {
                    continue;
                }
                let listed: Vec<&str> = tls.iter().map(|(_, t)| *t).collect();
                let d = out.report(
                    &meta,
                    ing,
                    &path,
                    format!("host `{host}` of Ingress `{}` is not in its TLS hosts: clients get a certificate for other names", ing.id.name),
                );
                if shim_managed(ing) {
                    d.severity(Severity::Error);
                    d.why("cert-manager requests the certificate for the `tls.hosts` only, so it will not cover this host");
                }
                d.why(if listed.is_empty() {
                    "`spec.tls` lists no hosts".into()
                } else {
                    format!("TLS hosts: {} (a wildcard covers exactly one label)", listed.join(", "))
                });
                d.help(format!("add `{host}` to `spec.tls[].hosts` (the entry whose secret should hold its certificate)"));
                let first: Vec<String> = tls.iter().filter(|(path, _)| path.starts_with("spec.tls[0].")).map(|(_, t)| *t).chain([host]).map(yaml_str).collect();
                let hosts = format!("[{}]", first.join(", "));
                d.fix(Fix::new(format!("list {host} in the first TLS entry"), format!("spec:\n  tls:\n    - hosts: {hosts}"), ing.id.clone()));
                d.edit(cx.ws.replace_edit(&ing.obj, "spec.tls[0].hosts", hosts));
            }
        }
    }
}
