//! Istio ServiceEntry / egress (`NR4xx`): what the mesh lets a workload reach outside the
//! cluster, and the ServiceEntry and Sidecar mistakes Istio rejects or silently mis-routes.

mod external_host_unregistered;
mod passthrough_shadowed;
mod service_entry_conflicting_protocols;
mod service_entry_invalid;
mod service_entry_invisible;
mod service_entry_needs_addresses;
mod service_entry_tls_as_http;
mod service_entry_wildcard_dns;
mod sidecar_invalid;

pub use external_host_unregistered::ExternalHostUnregistered;
pub use passthrough_shadowed::PassthroughShadowed;
pub use service_entry_conflicting_protocols::ServiceEntryConflictingProtocols;
pub use service_entry_invalid::ServiceEntryInvalid;
pub use service_entry_invisible::ServiceEntryInvisible;
pub use service_entry_needs_addresses::ServiceEntryNeedsAddresses;
pub use service_entry_tls_as_http::ServiceEntryTlsAsHttp;
pub use service_entry_wildcard_dns::ServiceEntryWildcardDns;
pub use sidecar_invalid::SidecarInvalid;

use serde_json::Value;

use crate::model::proxy::{env, EnvValue, ProxyUrl};
use crate::model::{parse_requirements, IstioObject, Labels, NeedTarget, ObjRef, Workload, EGRESS_ANNOTATION};
use crate::profile::OutboundTrafficPolicy;
use crate::report::Loc;
use crate::rules::Context;

/// Strings of a JSON list field.
fn strings<'v>(v: &'v Value, key: &str) -> Vec<&'v str> {
    v.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// A ServiceEntry port: number, protocol (upper case, `TCP` when empty) and name.
fn se_ports(se: &IstioObject) -> Vec<(usize, u32, String, String)> {
    se.spec
        .get("ports")
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let number = p.get("number").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
                    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("").to_ascii_uppercase();
                    let name = p.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                    (i, number, proto, name)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a ServiceEntry host (exact, `*.domain` or `*`) matches `host`.
fn se_host_matches(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    p == h || p == "*" || p.strip_prefix('*').is_some_and(|suffix| h.ends_with(suffix) && suffix.starts_with('.'))
}

/// Whether `se` is exported to namespace `ns` (`exportTo`: absent or `*` everywhere, `.` its
/// own namespace, `~` nowhere, else the listed namespaces).
fn exported_to(se: &IstioObject, ns: &str) -> bool {
    let to = strings(&se.spec, "exportTo");
    to.is_empty() || to.iter().any(|e| *e == "*" || (*e == "." && se.namespace == ns) || *e == ns)
}

/// The Sidecar that applies to `w`: one of its namespace selecting it, else its namespace's
/// selector-less one, else the root namespace's selector-less one.
fn sidecar_for<'w>(cx: &Context<'w>, w: &Workload) -> Option<&'w IstioObject> {
    let selects = |s: &IstioObject| {
        let labels: Labels = s
            .spec
            .get("workloadSelector")
            .and_then(|ws| ws.get("labels"))
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        !labels.is_empty() && labels.iter().all(|(k, v)| w.labels.get(k) == Some(v))
    };
    let no_selector = |s: &&IstioObject| s.spec.get("workloadSelector").is_none_or(Value::is_null);
    let ns = cx.ws.sidecars.iter().filter(|s| s.namespace == w.namespace);
    ns.clone()
        .find(|s| selects(s))
        .or_else(|| ns.clone().find(no_selector))
        .or_else(|| cx.ws.sidecars.iter().filter(|s| s.namespace == cx.profile.istio.namespace).find(no_selector))
}

/// The outbound traffic mode for `w` and where it is set: its Sidecar's
/// `outboundTrafficPolicy.mode`, else the mesh's (profile, or the `istio` ConfigMap's `mesh`).
fn outbound_mode(cx: &Context<'_>, w: &Workload) -> Option<(OutboundTrafficPolicy, String)> {
    if let Some(s) = sidecar_for(cx, w) {
        if let Some(mode) = s.spec.get("outboundTrafficPolicy").and_then(|o| o.get("mode")).and_then(Value::as_str) {
            return parse_mode(mode).map(|m| (m, format!("Sidecar {}/{}", s.namespace, s.id.name)));
        }
    }
    mesh_mode(cx)
}

fn parse_mode(s: &str) -> Option<OutboundTrafficPolicy> {
    match s {
        "REGISTRY_ONLY" => Some(OutboundTrafficPolicy::RegistryOnly),
        "ALLOW_ANY" | "ALLOW_ANY_DYNAMIC_DNS" => Some(OutboundTrafficPolicy::AllowAny),
        _ => None,
    }
}

/// The mesh config of the input: the `mesh` key of the `istio` ConfigMap in the Istio
/// namespace, and that ConfigMap's namespace.
fn mesh_config(cx: &Context<'_>) -> Option<(Value, String)> {
    let cm = cx.ws.config_maps.iter().find(|m| m.namespace == cx.profile.istio.namespace && m.id.name == "istio")?;
    let mesh = cm.data.get("mesh")?;
    let (docs, _) = crate::source::parse_source(0, mesh, &crate::source::Limits::default());
    docs.into_iter().next().map(|d| (d.value, cm.namespace.clone()))
}

/// The mesh-wide mode: the profile's, else the mesh config's.
fn mesh_mode(cx: &Context<'_>) -> Option<(OutboundTrafficPolicy, String)> {
    if let Some(m) = cx.profile.istio.outbound_traffic_policy {
        return Some((m, "the profile (`istio.outboundTrafficPolicy`)".into()));
    }
    let (mesh, ns) = mesh_config(cx)?;
    let mode = mesh.get("outboundTrafficPolicy")?.get("mode")?.as_str()?.to_string();
    parse_mode(&mode).map(|m| (m, format!("ConfigMap {ns}/istio (`meshConfig.outboundTrafficPolicy.mode`)")))
}

/// Whether sidecars allocate addresses to ServiceEntries: the profile says so, or the mesh
/// config's `defaultConfig.proxyMetadata` sets both `ISTIO_META_DNS_CAPTURE` and
/// `ISTIO_META_DNS_AUTO_ALLOCATE` to "true".
fn auto_allocates(cx: &Context<'_>) -> bool {
    if cx.profile.istio.dns_auto_allocate {
        return true;
    }
    let Some((mesh, _)) = mesh_config(cx) else { return false };
    let md = mesh.get("defaultConfig").and_then(|d| d.get("proxyMetadata"));
    let on = |k: &str| md.and_then(|m| m.get(k)).and_then(Value::as_str) == Some("true");
    on("ISTIO_META_DNS_CAPTURE") && on("ISTIO_META_DNS_AUTO_ALLOCATE")
}

/// An external destination a workload needs: host, port, and where it was found.
struct ExternalNeed {
    host: String,
    port: u16,
    loc: Loc,
    why: String,
}

/// The external destinations of `w`: declared needs to external names, its proxy's host, and
/// `http(s)://` URLs with a host name in its containers' env values.
fn external_needs(cx: &Context<'_>, w: &Workload) -> Vec<ExternalNeed> {
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
fn visible_entries<'w>(cx: &Context<'w>, w: &Workload, host: &str, port: u16) -> (Vec<&'w IstioObject>, Vec<&'w IstioObject>, Vec<&'w IstioObject>) {
    let matching: Vec<&IstioObject> = cx
        .ws
        .service_entries
        .iter()
        .filter(|se| strings(&se.spec, "hosts").iter().any(|h| se_host_matches(h, host)) && se_ports(se).iter().any(|(_, n, _, _)| *n == u32::from(port)))
        .collect();
    let exported: Vec<&IstioObject> = matching.iter().copied().filter(|se| exported_to(se, &w.namespace)).collect();
    let sidecar_hosts: Option<Vec<String>> = sidecar_for(cx, w).map(|s| {
        s.spec
            .get("egress")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|l| strings(l, "hosts").into_iter().map(str::to_string))
            .collect()
    });
    let admitted = exported
        .iter()
        .copied()
        .filter(|se| match &sidecar_hosts {
            None => true,
            Some(hosts) if hosts.is_empty() => true,
            Some(hosts) => hosts.iter().any(|h| {
                let (ns, name) = h.split_once('/').unwrap_or(("*", h));
                let ns_ok = ns == "*" || (ns == "." && se.namespace == w.namespace) || ns == se.namespace;
                ns_ok && strings(&se.spec, "hosts").iter().any(|sh| name == "*" || se_host_matches(name, sh) || se_host_matches(sh, name))
            }),
        })
        .collect();
    (matching, exported, admitted)
}

/// A ServiceEntry YAML that registers `host:port` for namespace `ns`.
fn service_entry_fix(host: &str, port: u16, ns: &str) -> String {
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
