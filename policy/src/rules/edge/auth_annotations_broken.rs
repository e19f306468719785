use crate::model::Ingress;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_key;

declare_rule! {
    /// ingress-nginx external-auth annotations broken
    ///
    /// ## What it does
    /// Checks `nginx.ingress.kubernetes.io/auth-url` and `auth-signin`: each must be an
    /// `http://` or `https://` URL with a host (nginx variables such as `$host` allowed), and
    /// the host must not contain `..` (errors). When `auth-url` points at this Ingress's own
    /// hosts under `/oauth2` (the oauth2-proxy convention), another Ingress of the input must
    /// route `/oauth2` on each of those hosts (a warning otherwise).
    ///
    /// ## Why is this bad?
    /// ingress-nginx denies a location whose auth annotations it cannot parse and answers 503;
    /// without a route for `/oauth2`, the auth subrequest reaches the application itself and
    /// every request fails or loops through the sign-in.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata:
    ///   name: demo
    ///   namespace: demo
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/auth-url: "$host/oauth2/auth"
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
    ///     nginx.ingress.kubernetes.io/auth-url: "https://$host/oauth2/auth"
    ///     nginx.ingress.kubernetes.io/auth-signin: "https://$host/oauth2/start?rd=$escaped_request_uri"
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /, pathType: Prefix, backend: {service: {name: demo, port: {number: 80}}}}]
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: oauth2-proxy, namespace: demo}
    /// spec:
    ///   tls: [{hosts: [demo.example.com], secretName: demo-tls}]
    ///   rules:
    ///     - host: demo.example.com
    ///       http:
    ///         paths: [{path: /oauth2, pathType: Prefix, backend: {service: {name: oauth2-proxy, port: {number: 4180}}}}]
    /// ```
    pub AuthAnnotationsBroken {
        id: "NR318", name: "auth-annotations-broken", severity: Severity::Error, tags: &["iso27001:A.13.1.2"],
    }
}

/// (host, path) of an auth URL, or why it is not one ingress-nginx accepts.
fn parse_auth_url(url: &str) -> Result<(String, String), String> {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else { return Err("it has no `http://` or `https://` scheme".into()) };
    if scheme != "http" && scheme != "https" {
        return Err(format!("scheme {scheme:?} is not http or https"));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or("");
    if host.is_empty() {
        return Err("it has no host".into());
    }
    if host.contains("..") {
        return Err(format!("host {host:?} contains `..`"));
    }
    Ok((host.to_string(), path.to_string()))
}

/// Whether an Ingress other than `except` routes `path` on `host`.
fn routed_elsewhere(cx: &Context<'_>, except: &Ingress, host: &str, path: &str) -> bool {
    cx.ws.ingresses.iter().filter(|i| i.id != except.id).any(|i| {
        i.spec.rules.iter().flatten().any(|r| {
            r.host.as_deref() == Some(host)
                && r.http.iter().flat_map(|h| h.paths.iter()).any(|p| {
                    let prefix = p.path.as_deref().unwrap_or("/");
                    path.starts_with(prefix) && prefix != "/"
                })
        })
    })
}

impl Rule for AuthAnnotationsBroken {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for ing in cx.reported(&cx.ws.ingresses) {
            for key in ["nginx.ingress.kubernetes.io/auth-url", "nginx.ingress.kubernetes.io/auth-signin"] {
                let Some(value) = ing.annotations.get(key) else { continue };
                let loc = cx.at(&ing.obj, &join_key("metadata.annotations", key));
                match parse_auth_url(value) {
                    Err(why) => {
                        let d = out.report_at(&meta, Some(ing.id.clone()), loc, format!("`{key}` of Ingress `{}` is not a URL ingress-nginx accepts: {why}", ing.id.name));
                        d.why("ingress-nginx then denies the location and answers every request with 503");
                        d.help("write a full URL such as `https://$host/oauth2/auth`");
                    }
                    Ok((host, path)) if key.ends_with("auth-url") && path.starts_with("/oauth2") => {
                        let own: Vec<&str> = ing.spec.rules.iter().flatten().filter_map(|r| r.host.as_deref()).collect();
                        let hosts: Vec<&str> = if host == "$host" { own } else { own.into_iter().filter(|h| *h == host).collect() };
                        for h in hosts {
                            if routed_elsewhere(cx, ing, h, &path) {
                                continue;
                            }
                            let d = out.report_at(&meta, Some(ing.id.clone()), loc.clone(), format!("`{key}` of Ingress `{}` sends auth requests to `{h}{path}`, but no other Ingress routes `/oauth2` on `{h}`", ing.id.name));
                            d.severity(Severity::Warning);
                            d.help("add an Ingress for oauth2-proxy with path `/oauth2` on the same host");
                        }
                    }
                    Ok(_) => {}
                }
            }
        }
    }
}
