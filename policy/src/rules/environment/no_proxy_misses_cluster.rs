use super::helpers::{containers, env_path};
use crate::model::proxy::{env, EnvValue, NoProxy};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Proxy set without NO_PROXY for cluster traffic
    ///
    /// ## What it does
    /// Finds a container that sets `HTTPS_PROXY` or `HTTP_PROXY` (either case) whose
    /// `NO_PROXY`/`no_proxy` is missing or, read the way Go reads it, does not exempt:
    /// - Service names: `.svc` (for `name.namespace.svc`);
    /// - the cluster domain: `.cluster.local` (profile `clusterDomain`);
    /// - the `kubernetes` Service's IP, which client-go dials as a literal address: the first
    ///   address of the profile's `serviceCIDRs` (a CIDR entry covering it works too).
    ///
    /// Go's rules: `example.com` matches the name and its subdomains, `.example.com` and
    /// `*.example.com` only subdomains; an IP or CIDR entry matches only IP literals, never
    /// names. An error when the workload talks to the Kubernetes API (see NR204) — client-go
    /// honours the proxy variables, so its API calls go to the proxy — else a warning.
    ///
    /// ## Why is this bad?
    /// With the proxy set, requests to in-cluster names go to the proxy, which cannot resolve
    /// or reach them: API calls and service-to-service calls fail or leak to the proxy.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: issuer, namespace: venafi}
    /// spec:
    ///   selector: {matchLabels: {app: issuer}}
    ///   template:
    ///     metadata: {labels: {app: issuer}}
    ///     spec:
    ///       containers:
    ///         - name: issuer
    ///           image: venafi/issuer
    ///           env:
    ///             - {name: HTTPS_PROXY, value: "http://proxy.corp.example:3128"}
    ///             - {name: NO_PROXY, value: "localhost,127.0.0.1"}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: issuer, namespace: venafi}
    /// spec:
    ///   selector: {matchLabels: {app: issuer}}
    ///   template:
    ///     metadata: {labels: {app: issuer}}
    ///     spec:
    ///       containers:
    ///         - name: issuer
    ///           image: venafi/issuer
    ///           env:
    ///             - {name: HTTPS_PROXY, value: "http://proxy.corp.example:3128"}
    ///             - {name: NO_PROXY, value: "localhost,127.0.0.1,.svc,.cluster.local"}
    /// ```
    pub NoProxyMissesCluster {
        id: "NR501", name: "no-proxy-misses-cluster", severity: Severity::Warning, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for NoProxyMissesCluster {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let domain = cx.profile.cluster_domain.trim_matches('.');
        let api_ip = cx.profile.service_cidrs.first().and_then(|n| n.hosts().next());
        for w in cx.reported(&cx.ws.workloads) {
            let api_client = cx.is_api_client(w);
            for (base, c) in containers(w) {
                let proxy = env(c, &["HTTPS_PROXY", "https_proxy"]).or_else(|| env(c, &["HTTP_PROXY", "http_proxy"]));
                let Some((var, value)) = proxy else { continue };
                let https = var.eq_ignore_ascii_case("HTTPS_PROXY");
                if matches!(value, EnvValue::Literal(ref v) if v.trim().is_empty()) {
                    continue;
                }
                let no_proxy = env(c, &["NO_PROXY", "no_proxy"]);
                let (field, np) = match &no_proxy {
                    Some((name, EnvValue::Literal(v))) => (env_path(&base, c, name).map(|p| format!("{p}.value")), NoProxy::parse(v)),
                    Some((name, EnvValue::Indirect)) => {
                        let loc = cx.at(&w.obj, &env_path(&base, c, name).unwrap_or_else(|| base.clone()));
                        let what = format!("whether `{name}` of container `{}` in `{}` exempts cluster names (it comes from `valueFrom`)", c.name, w.display());
                        let d = out.report_at(&meta, Some(w.id.clone()), loc, format!("unverifiable: {what}"));
                        d.severity(Severity::Info);
                        d.unverifiable = true;
                        continue;
                    }
                    None => (None, NoProxy::default()),
                };
                let mut missing = Vec::new();
                if !np.bypasses("kubernetes.default.svc", 443) {
                    missing.push("`.svc`".to_string());
                }
                if !np.bypasses(&format!("kubernetes.default.svc.{domain}"), 443) {
                    missing.push(format!("`.{domain}`"));
                }
                if let Some(ip) = api_ip {
                    if !np.bypasses(&ip.to_string(), 443) {
                        missing.push(format!("`{ip}` (the `kubernetes` Service IP, or the service CIDR)"));
                    }
                }
                if missing.is_empty() {
                    continue;
                }
                let at = field.clone().or_else(|| env_path(&base, c, var).map(|p| format!("{p}.name"))).unwrap_or_else(|| base.clone());
                let message = match &no_proxy {
                    None => format!("container `{}` of `{}` sets `{var}` but no `NO_PROXY`: requests to cluster names go to the proxy", c.name, w.display()),
                    Some((name, _)) => format!("`{name}` of container `{}` in `{}` does not exempt {}", c.name, w.display(), missing.join(", ")),
                };
                let d = out.report(&meta, w, &at, message);
                if api_client && https {
                    d.severity(Severity::Error);
                    d.why("the workload talks to the Kubernetes API, and client-go honours the proxy variables: its API calls go to the proxy");
                }
                if api_ip.is_none() {
                    d.why("the `kubernetes` Service IP was not checked: the profile does not set `serviceCIDRs`");
                }
                let mut entries = vec![".svc".to_string(), format!(".{domain}")];
                entries.extend(cx.profile.service_cidrs.first().map(ToString::to_string));
                d.help(format!("add {} to `NO_PROXY` (Go matches `.suffix` against subdomains; CIDRs only against IP literals)", entries.join(",")));
            }
        }
    }
}
