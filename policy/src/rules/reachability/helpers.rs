//! What the reachability (`NR2xx`) rules share. A rule file uses these; it never uses another rule file.

use std::net::IpAddr;

use crate::model::{Labels, NeedTarget, ObjectId, Protocol, Workload, NAMESPACE_NAME_LABEL};
use crate::netpol::{ApiServer, Blocked, Direction, KnownPods, Reach, SideVerdict, Target};
use crate::rules::Diagnostic;
use crate::rules::Fix;
use crate::source::Loc;
use crate::rules::fixes::{labels_yaml, NewPolicy};
use crate::rules::{Context, Diagnostics, RuleMeta};


/// Where a workload's DNS queries go.
pub(super) struct Resolvers {
    /// The resolvers its queries are sent to.
    pub(super) actual: Vec<Target>,
    /// Whether the cluster DNS pods are among them.
    pub(super) cluster_dns: bool,
    /// In words, for messages.
    pub(super) what: String,
}

/// The resolvers of `w`, from its `dnsPolicy` and the profile; `None` when it has none.
pub(super) fn resolvers(cx: &Context<'_>, w: &Workload) -> Option<Resolvers> {
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
                let mut actual = vec![Target::Pods(cx.dns_pods())];
                actual.extend(dns.service_ip.map(Target::Ip));
                Some(Resolvers { actual, cluster_dns: true, what: "the cluster DNS".into() })
            }
        },
    }
}

/// A fix that lets `w` reach `targets` on `ports` (53, for DNS), `what` naming them.
pub(super) fn dns_fix(cx: &Context<'_>, w: &Workload, targets: &[Target], what: &str, ports: &[(Protocol, u16)]) -> Fix {
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
pub(super) const DNS_PORTS: [(Protocol, u16); 2] = [(Protocol::Udp, 53), (Protocol::Tcp, 53)];

/// The verdict of the first target when `w`'s egress allows none of `targets` on
/// `protocol`/`port`; `None` when one is allowed.
pub(super) fn egress_blocked(cx: &Context<'_>, w: usize, targets: &[Target], protocol: Protocol, port: u16) -> Option<SideVerdict> {
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
pub(super) fn egress_candidates<'c>(cx: &'c Context<'_>) -> impl Iterator<Item = (usize, &'c Workload)> + 'c {
    cx.ws.workloads.iter().enumerate().filter(move |(i, w)| {
        !w.host_network()
            && (cx.engine.is_isolated(*i, Direction::Egress) || cx.engine.cluster_governed(*i, Direction::Egress) || !cx.sees_namespace(&w.namespace))
            && (cx.ws.reported(&w.obj) || cx.engine.isolating(*i, Direction::Egress).iter().any(|&p| policy_reported(cx, p)))
    })
}

/// The egress candidates in namespaces the input shows, with their resolvers: what the DNS
/// rules after NR201 check (NR201 reports the blind spots, once).
pub(super) fn dns_clients<'c>(cx: &'c Context<'_>) -> impl Iterator<Item = (usize, &'c Workload, Resolvers)> + 'c {
    egress_candidates(cx).filter(|(_, w)| cx.sees_namespace(&w.namespace)).filter_map(|(i, w)| Some((i, w, resolvers(cx, w)?)))
}

pub(super) fn policy_reported(cx: &Context<'_>, p: usize) -> bool {
    cx.ws.policies.get(p).is_some_and(|p| cx.ws.reported(&p.obj))
}

/// Where a finding about workload `w` goes: on the workload, or, when only a policy that
/// isolates it is under review, on that policy.
pub(super) fn place(cx: &Context<'_>, w: &Workload, isolating: &[usize]) -> (ObjectId, Loc) {
    if !cx.ws.reported(&w.obj) {
        if let Some(p) = isolating.iter().filter_map(|&p| cx.ws.policies.get(p)).find(|p| cx.ws.reported(&p.obj)) {
            return (p.id.clone(), cx.at(&p.obj, "spec.podSelector"));
        }
    }
    (w.id.clone(), cx.at(&w.obj, "metadata.name"))
}

/// Report that `w`'s egress blocks a need: the engine's reasons, the isolating policies as
/// related places, and `fix`.
pub(super) fn report_egress<'o>(
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
    decided_by_tier(cx, d, verdict, fix);
    Some(d)
}

/// Attach `fix` to `d`, unless a cluster policy decided `verdict`: then that rule is a related
/// place, and when the Admin tier decided, no NetworkPolicy can change the outcome, so the
/// NetworkPolicy fix is left out and the finding says what to change instead.
pub(super) fn decided_by_tier(cx: &Context<'_>, d: &mut Diagnostic, verdict: &SideVerdict, fix: Fix) {
    let Some(t) = &verdict.decided_by else {
        d.fix(fix);
        return;
    };
    if let Some(p) = cx.ws.cluster_policies.get(t.index) {
        let verb = if t.action == "Accept" { "accepts" } else { "denies" };
        d.related(vec![(format!("{}-tier {} {} {verb} it", t.tier, t.policy, t.rule), cx.at(&p.obj, &t.rule))]);
    }
    if t.tier == "Admin" {
        d.explanation.push(format!(
            "no NetworkPolicy can allow what an Admin-tier Deny drops: add an Accept (or Pass) rule before {} in {}",
            t.rule, t.policy
        ));
    } else {
        d.fix(fix);
    }
}

/// The policies `isolating`, as related places.
pub(super) fn related(cx: &Context<'_>, isolating: &[usize], what: &str) -> Vec<(String, Loc)> {
    isolating
        .iter()
        .filter_map(|&p| cx.ws.policies.get(p))
        .map(|p| (format!("NetworkPolicy {} {what}", p.qualified_name()), cx.at(&p.obj, "spec.podSelector")))
        .collect()
}

/// Report "unverifiable" for `w` when the input does not show its namespace; true if so.
pub(super) fn unverifiable(cx: &Context<'_>, out: &mut Diagnostics, meta: &RuleMeta, w: &Workload, what: &str) -> bool {
    if cx.sees_namespace(&w.namespace) {
        return false;
    }
    if cx.ws.reported(&w.obj) {
        out.unverifiable(meta, Some(w.id.clone()), cx.at(&w.obj, "metadata.name"), what, &cx.ws.coverage);
    }
    true
}

/// The peer (a `to`/`from` item) that matches `t`, as YAML lines at the indentation of a list
/// item under `to:`.
pub(super) fn peer_yaml(cx: &Context<'_>, t: &Target) -> String {
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
/// allows `ports` in `dir` to (or from) the `peers` (YAML list items).
pub(super) fn allow_policy(description: String, namespace: &str, name: &str, labels: &Labels, dir: Direction, peers: &[String], ports: &[(Protocol, u16)]) -> Fix {
    NewPolicy { namespace, name, pods: labels }.allow(description, dir, peers, ports)
}

/// `allow-<what>-<workload>`, a policy name for a fix.
pub(super) fn fix_name(what: &str, w: &Workload) -> String {
    let n = format!("allow-{what}-{}", w.id.name);
    // A workload name from the input may hold any character: cut at a char boundary.
    n.chars().take(253).collect()
}

/// A connection a workload needs, for messages and fixes.
pub(super) struct Needed<'a> {
    /// What is reached, in words (also names the fix's policy).
    pub(super) what: &'a str,
    pub(super) protocol: Protocol,
}

/// Whether workload `wi` can reach `target` on `protocol`/`port` (see [`Engine::reach`]).
pub(super) fn reach(cx: &Context<'_>, wi: usize, target: &NeedTarget, protocol: Protocol, port: u16) -> Reach {
    let targets = cx.api_server_targets();
    cx.engine.reach(wi, target, protocol, port, &ApiServer { targets: &targets, ports: &cx.profile.api_server.ports })
}

/// Report a blocked [`Reach`]: on the source's egress (fix: an egress policy for it) or on a
/// backend's ingress (fix: an ingress policy for the backend).
pub(super) fn report_blocked<'o>(
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
            decided_by_tier(cx, d, verdict, fix);
            Some(d)
        }
    }
}

/// A name fragment for a fix's policy name.
pub(super) fn slug(s: &str) -> String {
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

/// The ingress controller as a traffic source, and whether it is known.
pub(super) fn controller(cx: &Context<'_>) -> (Target, bool) {
    match &cx.profile.ingress_controller {
        Some(c) if c.host_network => (Target::Host(format!("the ingress controller's nodes ({} runs on the host network)", c.namespace)), true),
        Some(c) => (
            Target::Pods(KnownPods {
                display: format!("the ingress controller ({} in {})", crate::model::labels_text(&c.pod_labels), c.namespace),
                namespace: c.namespace.clone(),
                labels: c.pod_labels.clone(),
                ports: Vec::new(),
                pod_cidrs: cx.profile.pod_cidrs.clone(),
            }),
            true,
        ),
        None => (Target::Unknown("the ingress controller (not in the profile)".into()), false),
    }
}

