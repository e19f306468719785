//! What the Istio (`NR4xx`) rules share. A rule file uses these; it never uses another rule file.

use crate::model::proxy::{env, EnvValue, ProxyUrl};
use crate::model::{parse_requirements, MeshConfig, NeedTarget, ObjRef, ServiceEntry, Sidecar, Workload, EGRESS_ANNOTATION};
use crate::profile::OutboundTrafficPolicy;
use crate::source::Loc;
use crate::rules::Context;

/// A ServiceEntry port: index, number (0 when unset), protocol (upper case, empty when unset)
/// and name.
pub(super) fn se_ports(se: &ServiceEntry) -> Vec<(usize, u32, String, String)> {
    se.spec.ports.iter().enumerate().map(|(i, p)| (i, p.number.unwrap_or(0), p.protocol(), p.name.clone())).collect()
}

/// Whether `s` is a DNS label as Istio checks one (its own pattern: letters of either case,
/// digits and `-`, at most 63), looser than Kubernetes' lower-case DNS-1123 label.
pub(super) fn istio_label_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Why Istio refuses `host` as a host name whose first label may be a wildcard (`*`, `*foo`,
/// `*-foo`), as its `ValidateWildcardDomain` does; `None` when it accepts it.
pub(super) fn istio_host_error(host: &str) -> Option<String> {
    if host.is_empty() || host.len() > 255 {
        return Some("a host name has 1 to 255 characters".into());
    }
    let (first, rest) = match host.split_once('.') {
        Some((f, r)) => (f, Some(r)),
        None => (host, None),
    };
    let bare = first.strip_prefix("*-").or_else(|| first.strip_prefix('*')).unwrap_or(first);
    let why = |l: &str| {
        let hint = if l.contains('*') { " (a wildcard may only start the first label)" } else { "" };
        format!("label `{l}` is not a DNS label{hint}")
    };
    if !(first == "*" || istio_label_ok(bare)) {
        return Some(why(first));
    }
    let rest = rest?;
    let labels: Vec<&str> = rest.split('.').collect();
    if labels.last().is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit())) {
        return Some("the top-level domain is all digits".into());
    }
    let n = labels.len();
    labels
        .iter()
        .enumerate()
        .find(|(i, l)| !(istio_label_ok(l) || (*i == n - 1 && l.is_empty())))
        .map(|(_, l)| why(l))
}

/// Whether a ServiceEntry host (exact, `*.domain` or `*`) matches `host`.
pub(super) fn se_host_matches(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    p == h || p == "*" || p.strip_prefix('*').is_some_and(|suffix| h.ends_with(suffix) && suffix.starts_with('.'))
}

/// Whether `se` is exported to namespace `ns` (`exportTo`: absent or `*` everywhere, `.` its
/// own namespace, `~` nowhere, else the listed namespaces).
pub(super) fn exported_to(se: &ServiceEntry, ns: &str) -> bool {
    let to = &se.spec.export_to;
    to.is_empty() || to.iter().any(|e| e == "*" || (e == "." && se.namespace == ns) || e == ns)
}

/// The Sidecar that applies to `w`: one of its namespace selecting it, else its namespace's
/// selector-less one, else the root namespace's selector-less one.
pub(super) fn sidecar_for<'w>(cx: &Context<'w>, w: &Workload) -> Option<&'w Sidecar> {
    let selects = |s: &Sidecar| {
        s.spec.workload_selector.as_ref().is_some_and(|ws| !ws.labels.is_empty() && crate::model::contains_labels(&w.labels, &ws.labels))
    };
    // A selector without labels applies to the whole namespace, as no selector does.
    let no_selector = |s: &&Sidecar| s.spec.workload_selector.as_ref().is_none_or(|ws| ws.labels.is_empty());
    let ns = cx.ws.sidecars.iter().filter(|s| s.namespace == w.namespace);
    ns.clone()
        .find(|s| selects(s))
        .or_else(|| ns.clone().find(no_selector))
        .or_else(|| cx.ws.sidecars.iter().filter(|s| s.namespace == cx.profile.istio.namespace).find(no_selector))
}

/// The outbound traffic mode for `w` and where it is set: its Sidecar's
/// `outboundTrafficPolicy.mode`, else the mesh's (profile, or the `istio` ConfigMap's `mesh`).
pub(super) fn outbound_mode(cx: &Context<'_>, w: &Workload) -> Option<(OutboundTrafficPolicy, String)> {
    if let Some(s) = sidecar_for(cx, w) {
        if let Some(mode) = s.spec.outbound_traffic_policy.as_ref().and_then(|o| o.mode.as_deref()) {
            return parse_mode(mode).map(|m| (m, format!("Sidecar {}/{}", s.namespace, s.id.name)));
        }
    }
    mesh_mode(cx)
}

pub(super) fn parse_mode(s: &str) -> Option<OutboundTrafficPolicy> {
    match s {
        "REGISTRY_ONLY" => Some(OutboundTrafficPolicy::RegistryOnly),
        "ALLOW_ANY" | "ALLOW_ANY_DYNAMIC_DNS" => Some(OutboundTrafficPolicy::AllowAny),
        _ => None,
    }
}

/// The mesh config of the input: the `mesh` key of the `istio` ConfigMap in the Istio
/// namespace, and that ConfigMap's namespace. A mesh config that does not parse counts as
/// absent (istiod would refuse it and keep its previous one).
pub(super) fn mesh_config(cx: &Context<'_>) -> Option<(MeshConfig, String)> {
    let cm = cx.ws.config_maps.iter().find(|m| m.namespace == cx.profile.istio.namespace && m.id.name == "istio")?;
    let mesh = cm.data.get("mesh")?;
    let (docs, _) = crate::source::parse_source(0, mesh, &crate::source::Limits::default());
    let value = docs.into_iter().next()?.value;
    serde_json::from_value(value).ok().map(|m| (m, cm.namespace.clone()))
}

/// The mesh-wide mode: the profile's, else the mesh config's.
pub(super) fn mesh_mode(cx: &Context<'_>) -> Option<(OutboundTrafficPolicy, String)> {
    if let Some(m) = cx.profile.istio.outbound_traffic_policy {
        return Some((m, "the profile (`istio.outboundTrafficPolicy`)".into()));
    }
    let (mesh, ns) = mesh_config(cx)?;
    let mode = mesh.outbound_traffic_policy?.mode?;
    parse_mode(&mode).map(|m| (m, format!("ConfigMap {ns}/istio (`meshConfig.outboundTrafficPolicy.mode`)")))
}

/// How sidecars get addresses for ServiceEntries without `addresses`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Allocation {
    /// Sidecars capture DNS and addresses are allocated (the profile or the mesh config).
    Allocated,
    /// The mesh config turns on DNS capture only: allocated addresses (`status.addresses`)
    /// are used where Istio wrote them.
    CaptureOnly,
    /// No DNS capture known: sidecars never see allocated addresses.
    None,
}

/// Whether sidecars use allocated addresses: the profile says so, or the mesh config's
/// `defaultConfig.proxyMetadata` sets `ISTIO_META_DNS_CAPTURE` and one of
/// `ISTIO_META_DNS_AUTO_ALLOCATE` and `PILOT_ENABLE_IP_AUTOALLOCATE` to "true".
pub(super) fn allocation(cx: &Context<'_>) -> Allocation {
    if cx.profile.istio.dns_auto_allocate {
        return Allocation::Allocated;
    }
    let Some((mesh, _)) = mesh_config(cx) else { return Allocation::None };
    if !mesh.proxy_flag("ISTIO_META_DNS_CAPTURE") {
        Allocation::None
    } else if mesh.proxy_flag("ISTIO_META_DNS_AUTO_ALLOCATE") || mesh.proxy_flag("PILOT_ENABLE_IP_AUTOALLOCATE") {
        Allocation::Allocated
    } else {
        Allocation::CaptureOnly
    }
}

/// An external destination a workload needs: host, port, and where it was found.
pub(super) struct ExternalNeed {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) loc: Loc,
    pub(super) why: String,
}

/// The external destinations of `w`: declared needs to external names, its proxy's host, and
/// `http(s)://` URLs with a host name in its containers' env values.
pub(super) fn external_needs(cx: &Context<'_>, w: &Workload) -> Vec<ExternalNeed> {
    let mut out: Vec<ExternalNeed> = Vec::new();
    let mut push = |host: String, port: u16, loc: Loc, why: String| {
        if !out.iter().any(|n| n.host == host && n.port == port) {
            out.push(ExternalNeed { host, port, loc, why });
        }
    };
    let external = |host: &str| matches!(cx.classify(host), NeedTarget::External(_));
    if let Some(v) = w.annotations.get(EGRESS_ANNOTATION) {
        let field = crate::source::join_key("metadata.annotations", EGRESS_ANNOTATION);
        let loc = cx.ws.loc_first(&w.obj, &[field.clone(), w.template_field(&field)]);
        for need in parse_requirements(v).into_iter().flatten() {
            if external(&need.host) {
                push(need.host.clone(), need.port, loc.clone(), format!("declared requirement `{}`", need.text));
            }
        }
    }
    for r in cx.ws.requirements.iter().filter(|r| r.namespace == w.namespace && r.selector.matches(&w.labels)) {
        for (path, need) in &r.egress {
            let Ok(need) = need else { continue };
            if external(&need.host) {
                let obj: &ObjRef = &r.obj;
                push(need.host.clone(), need.port, cx.at(obj, path), format!("declared requirement `{}`", need.text));
            }
        }
    }
    for (ci, c) in w.spec.containers.iter().enumerate() {
        if let Some((var, EnvValue::Literal(v))) = env(c, &["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]) {
            if let Ok(url) = ProxyUrl::parse(&v) {
                if external(&url.host) && url.host.parse::<std::net::IpAddr>().is_err() {
                    let i = c.env.iter().flatten().position(|e| e.name == var).unwrap_or(0);
                    push(url.host.clone(), url.port, cx.at(&w.obj, &w.template_field(&format!("spec.containers[{ci}].env[{i}].value"))), format!("proxy `{var}`"));
                }
            }
        }
        for (i, e) in c.env.iter().flatten().enumerate() {
            let Some(v) = &e.value else { continue };
            if e.name.to_ascii_uppercase().ends_with("_PROXY") {
                continue;
            }
            for url in v.split_whitespace().filter(|t| t.starts_with("http://") || t.starts_with("https://")) {
                let Ok(u) = ProxyUrl::parse(url) else { continue };
                if external(&u.host) && u.host.parse::<std::net::IpAddr>().is_err() && u.host.contains('.') {
                    push(u.host.clone(), u.port, cx.at(&w.obj, &w.template_field(&format!("spec.containers[{ci}].env[{i}].value"))), format!("URL in `{}`", e.name));
                }
            }
        }
    }
    out
}

/// How `w` sees the ServiceEntries for `host:port`: (entries with a matching host and port,
/// those of them exported to its namespace, those of them its Sidecar's `egress.hosts` admit).
pub(super) fn visible_entries<'w>(cx: &Context<'w>, w: &Workload, host: &str, port: u16) -> (Vec<&'w ServiceEntry>, Vec<&'w ServiceEntry>, Vec<&'w ServiceEntry>) {
    let matching: Vec<&ServiceEntry> = cx
        .ws
        .service_entries
        .iter()
        .filter(|se| se.spec.hosts.iter().any(|h| se_host_matches(h, host)) && se.spec.ports.iter().any(|p| p.number == Some(u32::from(port))))
        .collect();
    let exported: Vec<&ServiceEntry> = matching.iter().copied().filter(|se| exported_to(se, &w.namespace)).collect();
    let sidecar_hosts: Option<Vec<&String>> = sidecar_for(cx, w).map(|s| s.spec.egress.iter().flat_map(|l| l.hosts.iter()).collect());
    let admitted = exported
        .iter()
        .copied()
        .filter(|se| match &sidecar_hosts {
            None => true,
            Some(hosts) if hosts.is_empty() => true,
            Some(hosts) => hosts.iter().any(|h| {
                let (ns, name) = h.split_once('/').unwrap_or(("*", h));
                let ns_ok = ns == "*" || (ns == "." && se.namespace == w.namespace) || ns == se.namespace;
                ns_ok && se.spec.hosts.iter().any(|sh| name == "*" || se_host_matches(name, sh) || se_host_matches(sh, name))
            }),
        })
        .collect();
    (matching, exported, admitted)
}

/// A ServiceEntry YAML that registers `host:port` for namespace `ns`.
pub(super) fn service_entry_fix(host: &str, port: u16, ns: &str) -> String {
    let (proto, name) = match port {
        443 => ("TLS", "tls"),
        80 => ("HTTP", "http"),
        _ => ("TCP", "tcp"),
    };
    let resolution = if host.starts_with("*.") { "NONE" } else { "DNS" };
    format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: {}\n  namespace: {ns}\nspec:\n  hosts: [{host:?}]\n  location: MESH_EXTERNAL\n  resolution: {resolution}\n  ports:\n    - {{number: {port}, name: {name}, protocol: {proto}}}",
        host.trim_start_matches("*.").replace('.', "-")
    )
}

/// Protocols Istio parses (case-insensitive).
pub(super) const PROTOCOLS: [&str; 12] = ["TCP", "UDP", "GRPC", "GRPC-WEB", "HTTP", "HTTP_PROXY", "HTTP2", "HTTPS", "TLS", "MONGO", "REDIS", "MYSQL"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_as_istio_validates_them() {
        for ok in ["github.com", "API.Example.com", "istio.io.", "*", "*.example.com", "*foo.example.com", "*-foo.example.com", "localhost", "a-b.c"] {
            assert_eq!(istio_host_error(ok), None, "{ok}");
        }
        for bad in ["", "foo*.example.com", "api.*.example.com", "build_cache.example.com", "legacy.example.443", "-a.example.com", "a..b", &"x".repeat(64)] {
            assert!(istio_host_error(bad).is_some(), "{bad}");
        }
    }
}
