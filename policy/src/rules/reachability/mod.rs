//! Reachability requirements (`NR2xx`): what a workload needs to reach — DNS, the API server,
//! its proxy, declared needs, the paths of ingress and cert-manager — checked through every
//! NetworkPolicy that applies, with the blocking policy and rule named and a patch to add.

mod api_server_blocked;
mod cert_manager_egress;
mod dns_tcp_blocked;
mod dns_udp_blocked;
mod dns_wrong_resolver;
mod http01_solver_blocked;
mod ingress_backend_blocked;
mod istiod_blocked;
mod proxy_blocked;
mod requirement_blocked;

pub use api_server_blocked::ApiServerBlocked;
pub use cert_manager_egress::CertManagerEgress;
pub use dns_tcp_blocked::DnsTcpBlocked;
pub use dns_udp_blocked::DnsUdpBlocked;
pub use dns_wrong_resolver::DnsWrongResolver;
pub use http01_solver_blocked::Http01SolverBlocked;
pub(crate) use http01_solver_blocked::SOLVER_LABEL;
pub use ingress_backend_blocked::IngressBackendBlocked;
pub use istiod_blocked::IstiodBlocked;
pub use proxy_blocked::ProxyBlocked;
pub use requirement_blocked::RequirementBlocked;

use std::net::IpAddr;

use crate::model::{ContainerPort, Labels, NeedTarget, ObjectId, Protocol, Workload, NAMESPACE_NAME_LABEL};
use crate::netpol::{Direction, KnownPods, SideVerdict, Target};
use crate::report::{Diagnostic, Fix, Loc};
use crate::rules::{Context, Diagnostics, RuleMeta};

/// The cluster DNS pods of the profile (CoreDNS declares `dns` UDP 53 and `dns-tcp` TCP 53).
fn dns_pods(cx: &Context<'_>) -> KnownPods {
    let dns = &cx.profile.dns;
    KnownPods {
        display: format!("the cluster DNS pods ({} in {})", crate::model::labels_text(&dns.pod_labels), dns.namespace),
        namespace: dns.namespace.clone(),
        labels: dns.pod_labels.clone(),
        ports: vec![
            ContainerPort { name: Some("dns".into()), number: 53, protocol: Some(Protocol::Udp) },
            ContainerPort { name: Some("dns-tcp".into()), number: 53, protocol: Some(Protocol::Tcp) },
        ],
        pod_cidrs: cx.profile.pod_cidrs.clone(),
    }
}

/// Where a workload's DNS queries go.
struct Resolvers {
    /// The resolvers its queries are sent to.
    actual: Vec<Target>,
    /// Whether the cluster DNS pods are among them.
    cluster_dns: bool,
    /// In words, for messages.
    what: String,
}

/// The resolvers of `w`, from its `dnsPolicy` and the profile; `None` when it has none.
fn resolvers(cx: &Context<'_>, w: &Workload) -> Option<Resolvers> {
    let dns = &cx.profile.dns;
    match w.spec.dns_policy.as_deref() {
        Some("None") => {
            let ips: Vec<Target> = w
                .spec
                .dns_config
                .iter()
                .flat_map(|c| c.nameservers.iter().flatten())
                .filter_map(|s| s.parse::<IpAddr>().ok())
                .map(Target::Ip)
                .collect();
            (!ips.is_empty()).then(|| Resolvers { actual: ips, cluster_dns: false, what: "the nameservers of its `dnsConfig`".into() })
        }
        Some("Default") => Some(Resolvers {
            actual: vec![Target::Host("the node's resolver".into())],
            cluster_dns: false,
            what: "the node's resolver (`dnsPolicy: Default`)".into(),
        }),
        _ => match dns.node_local_ip {
            Some(ip) => Some(Resolvers {
                actual: vec![Target::Ip(ip)],
                cluster_dns: false,
                what: format!("the node-local DNS cache at {ip} (profile `dns.nodeLocalIP`)"),
            }),
            None => {
                let mut actual = vec![Target::Pods(dns_pods(cx))];
                actual.extend(dns.service_ip.map(Target::Ip));
                Some(Resolvers { actual, cluster_dns: true, what: "the cluster DNS".into() })
            }
        },
    }
}

/// A fix that lets `w` reach `targets` on `ports` (53, for DNS), `what` naming them.
fn dns_fix(cx: &Context<'_>, w: &Workload, targets: &[Target], what: &str, ports: &[(Protocol, u16)]) -> Fix {
    let shown: Vec<String> = ports.iter().map(|(proto, _)| proto.to_string()).collect();
    let peers: Vec<String> = targets.iter().map(|t| peer_yaml(cx, t)).collect();
    let name = if ports.len() == 1 { "dns-tcp" } else { "dns" };
    allow_policy(
        format!("allow DNS ({} 53) from {} to {what}", shown.join(" and "), w.display()),
        &w.namespace,
        &fix_name(name, w),
        &w.labels,
        Direction::Egress,
        &peers,
        ports,
    )
}

/// Both DNS transports.
const DNS_PORTS: [(Protocol, u16); 2] = [(Protocol::Udp, 53), (Protocol::Tcp, 53)];

/// The verdict of the first target when `w`'s egress allows none of `targets` on
/// `protocol`/`port`; `None` when one is allowed.
fn egress_blocked(cx: &Context<'_>, w: usize, targets: &[Target], protocol: Protocol, port: u16) -> Option<SideVerdict> {
    let mut first = None;
    for t in targets {
        let v = cx.engine.egress_to(w, t, port, protocol);
        if v.allowed {
            return None;
        }
        first.get_or_insert(v);
    }
    first
}

/// Workloads the reachability rules look at: reported, on the pod network, egress-isolated
/// (or, when the input does not show their namespace, all of them, to say "unverifiable").
fn egress_candidates<'c>(cx: &'c Context<'_>) -> impl Iterator<Item = (usize, &'c Workload)> + 'c {
    cx.ws.workloads.iter().enumerate().filter(move |(i, w)| {
        !w.host_network()
            && (cx.engine.is_isolated(*i, Direction::Egress) || !cx.sees_namespace(&w.namespace))
            && (cx.ws.reported(&w.obj) || cx.engine.isolating(*i, Direction::Egress).iter().any(|&p| policy_reported(cx, p)))
    })
}

fn policy_reported(cx: &Context<'_>, p: usize) -> bool {
    cx.ws.policies.get(p).is_some_and(|p| cx.ws.reported(&p.obj))
}

/// Where a finding about workload `w` goes: on the workload, or, when only a policy that
/// isolates it is under review, on that policy.
fn place(cx: &Context<'_>, w: &Workload, isolating: &[usize]) -> (ObjectId, Loc) {
    if !cx.ws.reported(&w.obj) {
        if let Some(p) = isolating.iter().filter_map(|&p| cx.ws.policies.get(p)).find(|p| cx.ws.reported(&p.obj)) {
            return (p.id.clone(), cx.at(&p.obj, "spec.podSelector"));
        }
    }
    (w.id.clone(), cx.at(&w.obj, "metadata.name"))
}

/// Report that `w`'s egress blocks a need: the engine's reasons, the isolating policies as
/// related places, and `fix`.
fn report_egress<'o>(
    out: &'o mut Diagnostics,
    meta: &RuleMeta,
    cx: &Context<'_>,
    wi: usize,
    message: String,
    verdict: &SideVerdict,
    fix: Fix,
) -> Option<&'o mut Diagnostic> {
    let w = cx.ws.workloads.get(wi)?;
    let isolating = cx.engine.isolating(wi, Direction::Egress);
    let (object, loc) = place(cx, w, isolating);
    let related = related(cx, isolating, "isolates its egress");
    let d = out.report_at(meta, Some(object), loc, message);
    d.explanation.clone_from(&verdict.reasons);
    d.related(related);
    d.fix(fix);
    Some(d)
}

/// The policies `isolating`, as related places.
fn related(cx: &Context<'_>, isolating: &[usize], what: &str) -> Vec<(String, Loc)> {
    isolating
        .iter()
        .filter_map(|&p| cx.ws.policies.get(p))
        .map(|p| (format!("NetworkPolicy {} {what}", p.qualified_name()), cx.at(&p.obj, "spec.podSelector")))
        .collect()
}

/// Report "unverifiable" for `w` when the input does not show its namespace; true if so.
fn unverifiable(cx: &Context<'_>, out: &mut Diagnostics, meta: &RuleMeta, w: &Workload, what: &str) -> bool {
    if cx.sees_namespace(&w.namespace) {
        return false;
    }
    if cx.ws.reported(&w.obj) {
        out.unverifiable(meta, Some(w.id.clone()), cx.at(&w.obj, "metadata.name"), what, &cx.ws.coverage);
    }
    true
}

/// A YAML flow mapping of labels, values quoted.
fn labels_yaml(l: &Labels) -> String {
    let pairs: Vec<String> = l.iter().map(|(k, v)| format!("{k}: {}", serde_json::Value::String(v.clone()))).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// The peer (a `to`/`from` item) that matches `t`, as YAML lines at the indentation of a list
/// item under `to:`.
fn peer_yaml(cx: &Context<'_>, t: &Target) -> String {
    let pods = |ns: &str, labels: &Labels| {
        format!(
            "- namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {ns}}}}}\n  podSelector: {{matchLabels: {}}}",
            labels_yaml(labels)
        )
    };
    match t {
        Target::Workload(i) => match cx.ws.workloads.get(*i) {
            Some(w) => pods(&w.namespace, &w.labels),
            None => "- ipBlock: {cidr: 0.0.0.0/0}".into(),
        },
        Target::Pods(k) => pods(&k.namespace, &k.labels),
        Target::Ip(ip) => format!("- ipBlock: {{cidr: {ip}/{}}}", if ip.is_ipv4() { 32 } else { 128 }),
        Target::Host(_) | Target::Internet(_) | Target::Unknown(_) => "- ipBlock: {cidr: 0.0.0.0/0}".into(),
    }
}

/// A fix that adds NetworkPolicy `name` to `namespace`: it selects pods with `labels` and
/// allows `ports` in `dir` to (or from) the `peers` (YAML list items). Adding a policy is the
/// least intrusive patch: policies are a union, and the pods are already isolated in `dir`.
fn allow_policy(description: String, namespace: &str, name: &str, labels: &Labels, dir: Direction, peers: &[String], ports: &[(Protocol, u16)]) -> Fix {
    let (key, peer_key) = match dir {
        Direction::Egress => ("egress", "to"),
        Direction::Ingress => ("ingress", "from"),
    };
    let selector = if labels.is_empty() { "{}".to_string() } else { format!("{{matchLabels: {}}}", labels_yaml(labels)) };
    let mut patch = format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  podSelector: {selector}\n  policyTypes: [{}]\n  {key}:\n    - ",
        dir.as_str()
    );
    let mut first = true;
    if !peers.is_empty() {
        patch.push_str(&format!("{peer_key}:\n"));
        first = false;
        for p in peers {
            for line in p.lines() {
                patch.push_str(&format!("        {line}\n"));
            }
        }
    }
    let ports: Vec<String> = ports.iter().map(|(proto, port)| format!("{{protocol: {proto}, port: {port}}}")).collect();
    patch.push_str(&format!("{}ports: [{}]", if first { "" } else { "      " }, ports.join(", ")));
    Fix {
        edits: Vec::new(),
        description,
        patch,
        target: ObjectId {
            api_version: "networking.k8s.io/v1".into(),
            kind: "NetworkPolicy".into(),
            name: name.to_string(),
            namespace: Some(namespace.to_string()),
        },
    }
}

/// `allow-<what>-<workload>`, a policy name for a fix.
fn fix_name(what: &str, w: &Workload) -> String {
    let n = format!("allow-{what}-{}", w.id.name);
    // A workload name from the input may hold any character: cut at a char boundary.
    n.chars().take(253).collect()
}

/// Whether `w` talks to the Kubernetes API: declared by annotation, bound to a Role or
/// ClusterRole through its ServiceAccount, or a component the profile names.
pub(crate) fn is_api_client(cx: &Context<'_>, w: &Workload) -> bool {
    if let Some(v) = w.annotations.get(API_CLIENT_ANNOTATION) {
        return v == "true";
    }
    if w.spec.automount_service_account_token == Some(false) {
        return false;
    }
    let sa = w.spec.service_account_name.as_deref().or(w.spec.service_account.as_deref()).unwrap_or("default");
    cx.ws.bindings.iter().any(|b| {
        b.subjects.iter().any(|s| {
            let ns = s.namespace.as_deref().or(b.namespace.as_deref());
            s.kind == "ServiceAccount" && s.name == sa && ns == Some(w.namespace.as_str())
        })
    })
}

/// The workload annotation that says whether it talks to the Kubernetes API (`"true"`/`"false"`).
pub const API_CLIENT_ANNOTATION: &str = "netreach.dev/api-client";

/// The API server as a target: its profile addresses, or, when unknown, any address outside
/// the pod network.
fn api_server_targets(cx: &Context<'_>) -> Vec<Target> {
    let a = &cx.profile.api_server.addresses;
    if a.is_empty() {
        vec![Target::Host("the API server".into())]
    } else {
        a.iter().map(|n| Target::Ip(n.addr())).collect()
    }
}

/// Whether `wi` can reach a host (a name, Service name or address) on `protocol`/`port`.
#[derive(Debug)]
enum Reach {
    /// Some path is allowed (or nothing isolates it).
    Allowed,
    /// Every path is blocked.
    Blocked(Blocked),
    /// The input does not show enough to say.
    Unknown(String),
}

/// The first blocking side of a connection.
#[derive(Debug)]
struct Blocked {
    /// The side that blocks: the source's egress or the destination's ingress.
    dir: Direction,
    /// Its verdict.
    verdict: SideVerdict,
    /// The other end, as that side sees it.
    other: Target,
    /// The workload whose side blocks.
    at: usize,
    /// The port as that side sees it: a Service's target port on the pod, since policies
    /// match connections after the Service translated them.
    port: u16,
}

/// A connection a workload needs, for messages and fixes.
struct Needed<'a> {
    /// What is reached, in words (also names the fix's policy).
    what: &'a str,
    protocol: Protocol,
}

/// Whether workload `wi` can reach `target` on `protocol`/`port`: its egress, and for a
/// Service, the egress to and the ingress of at least one backend pod on the target port.
fn reach(cx: &Context<'_>, wi: usize, target: &NeedTarget, protocol: Protocol, port: u16) -> Reach {
    let Some(w) = cx.ws.workloads.get(wi) else { return Reach::Allowed };
    let blocked_egress = |t: Target, port: u16| {
        let v = cx.engine.egress_to(wi, &t, port, protocol);
        if v.allowed {
            None
        } else {
            Some(Reach::Blocked(Blocked { dir: Direction::Egress, verdict: v, other: t, at: wi, port }))
        }
    };
    match target {
        NeedTarget::Ip(ip) => blocked_egress(Target::Ip(*ip), port).unwrap_or(Reach::Allowed),
        NeedTarget::External(h) => blocked_egress(Target::Host(h.clone()), port).unwrap_or(Reach::Allowed),
        NeedTarget::Service(name, ns) => {
            let ns = ns.clone().unwrap_or_else(|| w.namespace.clone());
            if name == "kubernetes" && ns == "default" {
                for t in api_server_targets(cx) {
                    for &p in &cx.profile.api_server.ports {
                        if let Some(b) = blocked_egress(t.clone(), p) {
                            return b;
                        }
                    }
                }
                return Reach::Allowed;
            }
            if !cx.sees_namespace(&ns) {
                return Reach::Unknown(format!("the objects of namespace `{ns}` were not read"));
            }
            let backends = match service_backends(cx, name, &ns, protocol, port) {
                Ok(b) => b,
                Err(why) => return Reach::Unknown(why),
            };
            let mut first = None;
            for (b, tp) in backends {
                let t = Target::Workload(b);
                if let Some(blocked) = blocked_egress(t, tp) {
                    first.get_or_insert(blocked);
                    continue;
                }
                let v = cx.engine.ingress_from(b, &Target::Workload(wi), tp, protocol);
                if v.allowed {
                    return Reach::Allowed;
                }
                first.get_or_insert(Reach::Blocked(Blocked { dir: Direction::Ingress, verdict: v, other: Target::Workload(wi), at: b, port: tp }));
            }
            first.unwrap_or(Reach::Allowed)
        }
    }
}

/// The workloads behind Service `name` in `ns` and the pod port that Service port
/// `protocol`/`port` forwards to on each (`targetPort`, a named one resolved per pod).
fn service_backends(cx: &Context<'_>, name: &str, ns: &str, protocol: Protocol, port: u16) -> Result<Vec<(usize, u16)>, String> {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let svc = cx
        .ws
        .services
        .iter()
        .find(|s| s.namespace == ns && s.id.name == name)
        .ok_or_else(|| format!("Service {ns}/{name} is not in the input"))?;
    let sp = svc
        .spec
        .ports
        .iter()
        .flatten()
        .find(|p| i32::from(port) == p.port && p.protocol.as_deref().unwrap_or("TCP") == protocol.as_str())
        .ok_or_else(|| format!("Service {ns}/{name} has no {protocol} port {port}"))?;
    let selector: Labels = svc.spec.selector.clone().unwrap_or_default().into_iter().collect();
    if selector.is_empty() {
        return Err(format!("Service {ns}/{name} has no selector: its endpoints are not in the input"));
    }
    let mut out = Vec::new();
    for (i, w) in cx.ws.workloads.iter().enumerate() {
        if w.namespace != ns || !crate::model::contains_labels(&w.labels, &selector) {
            continue;
        }
        let tp = match &sp.target_port {
            None => Some(port),
            Some(IntOrString::Int(n)) => u16::try_from(*n).ok(),
            Some(IntOrString::String(n)) => crate::netpol::resolve_named(w, protocol, n).first().copied(),
        };
        out.extend(tp.map(|tp| (i, tp)));
    }
    if out.is_empty() {
        return Err(format!("no workload in the input matches the selector of Service {ns}/{name} on port {port}"));
    }
    Ok(out)
}

/// Report a blocked [`Reach`]: on the source's egress (fix: an egress policy for it) or on a
/// backend's ingress (fix: an ingress policy for the backend).
fn report_blocked<'o>(
    out: &'o mut Diagnostics,
    meta: &RuleMeta,
    cx: &Context<'_>,
    wi: usize,
    blocked: &Blocked,
    message: String,
    needed: &Needed<'_>,
) -> Option<&'o mut Diagnostic> {
    let Blocked { dir, verdict, other, at, port } = blocked;
    let (at, what, protocol, port) = (*at, needed.what, needed.protocol, *port);
    let w = cx.ws.workloads.get(wi)?;
    match *dir {
        Direction::Egress => {
            let fix = allow_policy(
                format!("allow {} to reach {what} on {protocol} {port}", w.display()),
                &w.namespace,
                &fix_name(&slug(what), w),
                &w.labels,
                Direction::Egress,
                &[peer_yaml(cx, other)],
                &[(protocol, port)],
            );
            report_egress(out, meta, cx, wi, message, verdict, fix)
        }
        Direction::Ingress => {
            let b = cx.ws.workloads.get(at)?;
            let fix = allow_policy(
                format!("allow {} to accept {protocol} {port} from {}", b.display(), w.display()),
                &b.namespace,
                &format!("allow-from-{}", w.id.name),
                &b.labels,
                Direction::Ingress,
                &[peer_yaml(cx, other)],
                &[(protocol, port)],
            );
            let isolating = cx.engine.isolating(at, Direction::Ingress);
            let (object, loc) = place(cx, w, &[]);
            let d = out.report_at(meta, Some(object), loc, message);
            d.explanation.clone_from(&verdict.reasons);
            d.related(related(cx, isolating, &format!("isolates the ingress of {}", b.display())));
            d.fix(fix);
            Some(d)
        }
    }
}

/// A name fragment for a fix's policy name.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(40).collect()
}
