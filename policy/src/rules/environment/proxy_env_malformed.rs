use super::helpers::{containers, env_path};
use crate::model::proxy::{env, EnvValue, ProxyUrl};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Proxy variables malformed or inconsistent
    ///
    /// ## What it does
    /// Checks each container's proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`, either case):
    /// - a value that is not a proxy URL;
    /// - no scheme (`proxy:3128`): Go reads `http://`, other runtimes differ or refuse it;
    /// - no port: the scheme's default (80 or 443) is used, while proxies usually listen on
    ///   3128 or 8080;
    /// - the upper- and lower-case variants set to different values: runtimes differ in which
    ///   one wins (Go prefers upper case, curl lower case for `http_proxy`);
    /// - `HTTP_PROXY` without `HTTPS_PROXY`: HTTPS requests — most of them — go direct.
    ///
    /// ## Why is this bad?
    /// Each of these makes the proxy the container uses differ from the one its authors meant,
    /// and the failure shows up as a timeout to some external host, not as a configuration
    /// error.
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
    ///             - {name: HTTPS_PROXY, value: "http://proxy.corp.example"}
    ///             - {name: NO_PROXY, value: ".svc,.cluster.local"}
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
    ///             - {name: NO_PROXY, value: ".svc,.cluster.local"}
    /// ```
    pub ProxyEnvMalformed {
        id: "NR502", name: "proxy-env-malformed", severity: Severity::Warning, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for ProxyEnvMalformed {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for w in cx.reported(&cx.ws.workloads) {
            for (base, c) in containers(w) {
                let mut report = |name: &str, field: &str, message: String, help: &str| {
                    let path = env_path(&base, c, name).map_or_else(|| base.clone(), |p| format!("{p}.{field}"));
                    let d = out.report(&meta, w, &path, message);
                    d.help(help);
                };
                for pair in [["HTTPS_PROXY", "https_proxy"], ["HTTP_PROXY", "http_proxy"]] {
                    let [upper, lower] = pair;
                    let u = env(c, &[upper]);
                    let l = env(c, &[lower]);
                    if let (Some((_, EnvValue::Literal(a))), Some((_, EnvValue::Literal(b)))) = (&u, &l) {
                        if a.trim() != b.trim() {
                            report(
                                lower,
                                "value",
                                format!("container `{}` of `{}` sets `{upper}` and `{lower}` to different values", c.name, w.display()),
                                "set both to the same URL, or only one: runtimes differ in which one wins",
                            );
                        }
                    }
                    for (name, v) in [u, l].into_iter().flatten() {
                        let EnvValue::Literal(v) = v else { continue };
                        if v.trim().is_empty() {
                            continue;
                        }
                        match ProxyUrl::parse(&v) {
                            Err(why) => report(
                                name,
                                "value",
                                format!("`{name}` of container `{}` in `{}` is not a proxy URL: {why}", c.name, w.display()),
                                "write `http://host:port`",
                            ),
                            Ok(url) => {
                                if !url.explicit_scheme {
                                    report(
                                        name,
                                        "value",
                                        format!("`{name}` of container `{}` in `{}` has no scheme: Go reads it as `http://{v}`, other runtimes may not", c.name, w.display()),
                                        "write the scheme: `http://` for a plain proxy",
                                    );
                                }
                                if !url.explicit_port {
                                    report(
                                        name,
                                        "value",
                                        format!("`{name}` of container `{}` in `{}` has no port: {} is used", c.name, w.display(), url.port),
                                        "write the proxy's port (often 3128 or 8080)",
                                    );
                                }
                            }
                        }
                    }
                }
                let https = env(c, &["HTTPS_PROXY", "https_proxy"]);
                if let (None, Some((name, _))) = (https, env(c, &["HTTP_PROXY", "http_proxy"])) {
                    report(
                        name,
                        "name",
                        format!("container `{}` of `{}` sets `{name}` but not `HTTPS_PROXY`: HTTPS requests bypass the proxy", c.name, w.display()),
                        "set `HTTPS_PROXY` too (usually to the same URL)",
                    );
                }
            }
        }
    }
}
