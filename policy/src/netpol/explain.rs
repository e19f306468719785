//! Verdicts with reasons: which policies isolate each side, which rule allows the connection,
//! or, for a denial, why each candidate rule does not match (peer, port, protocol, policyTypes).

use std::net::IpAddr;

use serde::Serialize;

use super::{block_contains, resolve_named_in, Direction, Engine};
use crate::model::{Action, ClusterRule, Tier};
use crate::model::{
    ContainerPort, Labels, NamespaceScope, Peer, PeerKind, PortMatch, PortSel, Protocol, Workload, Workspace,
};

/// One end of a queried connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// A workload, by index.
    Workload(usize),
    /// An address outside the cluster (or any address that is not a modelled pod).
    Ip(IpAddr),
}

/// Pods that are not in the input but whose namespace, labels and ports are known (the cluster
/// DNS, istiod, an ingress controller, from the profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPods {
    /// How messages name them, e.g. `the kube-dns pods in kube-system`.
    pub display: String,
    /// Their namespace; its labels come from the input's Namespace (or the implied name label).
    pub namespace: String,
    /// Their labels.
    pub labels: Labels,
    /// Their declared container ports, for named ports.
    pub ports: Vec<ContainerPort>,
    /// The ranges their IPs come from (profile `podCIDRs`). An `ipBlock` matches them when it
    /// covers these ranges with no exception inside; when unknown, only a whole-family block
    /// (`0.0.0.0/0`, `::/0`) without exceptions does.
    pub pod_cidrs: Vec<ipnet::IpNet>,
}

/// The other end of a connection a rule asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A workload of the input.
    Workload(usize),
    /// Pods known from the profile.
    Pods(KnownPods),
    /// A known address that is not a modelled pod.
    Ip(IpAddr),
    /// An address outside the cluster that is not known (a host name netreach does not
    /// resolve): rules without peers match it; an `ipBlock` may or may not contain it.
    Host(String),
    /// Any public address (an ACME server, any nameserver): rules without peers match it, and
    /// an `ipBlock` only when it spans the whole address family (`0.0.0.0/0`, `::/0`).
    Internet(String),
    /// An endpoint nothing is known about: any peer may match it. A denial for it holds
    /// whoever the endpoint turns out to be.
    Unknown(String),
}

impl From<Endpoint> for Target {
    fn from(e: Endpoint) -> Self {
        match e {
            Endpoint::Workload(i) => Target::Workload(i),
            Endpoint::Ip(ip) => Target::Ip(ip),
        }
    }
}

/// The verdict of one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideVerdict {
    /// Whether this side allows the connection.
    pub allowed: bool,
    /// Rules that allow it (`namespace/policy spec.egress[0]`).
    pub allowed_by: Vec<String>,
    /// Policies that isolate this side (empty: not isolated, or an external address).
    pub isolated_by: Vec<String>,
    /// The facts, one sentence each.
    pub reasons: Vec<String>,
    /// The cluster policy rule that decided this side (Admin or Baseline tier), if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Box<TierDecision>>,
}

/// A cluster policy rule that accepted or denied a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierDecision {
    /// `Admin` or `Baseline`.
    pub tier: String,
    /// `ClusterNetworkPolicy name` (or the v1alpha1 kind).
    pub policy: String,
    /// The rule's path, e.g. `spec.egress[0]`.
    pub rule: String,
    /// `Accept` or `Deny`.
    pub action: String,
    /// Index of the policy in `Workspace::cluster_policies`.
    #[serde(skip)]
    pub index: usize,
}

/// Whether a connection is allowed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Source egress and destination ingress both allow it.
    pub allowed: bool,
    /// The source's egress side.
    pub egress: SideVerdict,
    /// The destination's ingress side.
    pub ingress: SideVerdict,
}

impl Verdict {
    /// Every reason, egress first.
    pub fn lines(&self) -> Vec<String> {
        self.egress.reasons.iter().chain(&self.ingress.reasons).cloned().collect()
    }
}

impl Engine<'_> {
    /// Whether `from` may open a `protocol`/`port` connection to `to`, with the reasons.
    pub fn allowed(&self, from: Endpoint, to: Endpoint, port: u16, protocol: Protocol) -> Verdict {
        let egress = match from {
            Endpoint::Workload(s) => self.egress_to(s, &to.into(), port, protocol),
            Endpoint::Ip(ip) => SideVerdict {
                allowed: true,
                allowed_by: Vec::new(),
                isolated_by: Vec::new(),
                reasons: vec![format!("source {ip} is not a pod in the input: no NetworkPolicy governs its egress")],
                decided_by: None,
            },
        };
        let ingress = match to {
            Endpoint::Workload(d) => self.ingress_from(d, &from.into(), port, protocol),
            Endpoint::Ip(ip) => SideVerdict {
                allowed: true,
                allowed_by: Vec::new(),
                isolated_by: Vec::new(),
                reasons: vec![format!("destination {ip} is not a pod in the input: no NetworkPolicy governs its ingress")],
                decided_by: None,
            },
        };
        Verdict { allowed: egress.allowed && ingress.allowed, egress, ingress }
    }

    /// Whether workload `src`'s egress allows `protocol`/`port` to `to`, with the reasons.
    pub fn egress_to(&self, src: usize, to: &Target, port: u16, protocol: Protocol) -> SideVerdict {
        let ws = self.workspace();
        let dst_ports = match to {
            Target::Workload(i) => ws.workloads.get(*i).map(|w| w.ports.as_slice()),
            Target::Pods(k) => Some(k.ports.as_slice()),
            Target::Ip(_) | Target::Host(_) | Target::Internet(_) | Target::Unknown(_) => None,
        };
        let (isolating, name) = self.isolation(src, Direction::Egress);
        let np = || self.explain_side(&isolating, &name, Direction::Egress, to, dst_ports, port, protocol);
        self.tiered_verdict(Subject::Workload(src), Direction::Egress, to, dst_ports, port, protocol, !isolating.is_empty(), np)
    }

    /// Whether the egress of pods known from the profile allows `protocol`/`port` to `to`.
    pub fn pods_egress_to(&self, pods: &KnownPods, to: &Target, port: u16, protocol: Protocol) -> SideVerdict {
        let dst_ports = match to {
            Target::Workload(i) => self.workspace().workloads.get(*i).map(|w| w.ports.as_slice()),
            Target::Pods(k) => Some(k.ports.as_slice()),
            _ => None,
        };
        let isolating = self.selecting(&pods.namespace, &pods.labels, Direction::Egress);
        let np = || self.explain_side(&isolating, &pods.display, Direction::Egress, to, dst_ports, port, protocol);
        self.tiered_verdict(Subject::Pods(pods), Direction::Egress, to, dst_ports, port, protocol, !isolating.is_empty(), np)
    }

    /// Whether the ingress of pods known from the profile allows `protocol`/`port` from `from`.
    pub fn pods_ingress_from(&self, pods: &KnownPods, from: &Target, port: u16, protocol: Protocol) -> SideVerdict {
        let isolating = self.selecting(&pods.namespace, &pods.labels, Direction::Ingress);
        let np = || self.explain_side(&isolating, &pods.display, Direction::Ingress, from, Some(&pods.ports), port, protocol);
        self.tiered_verdict(Subject::Pods(pods), Direction::Ingress, from, Some(&pods.ports), port, protocol, !isolating.is_empty(), np)
    }

    /// Policies of `namespace` that select pods with `labels` and isolate `dir`.
    pub fn selecting(&self, namespace: &str, labels: &Labels, dir: Direction) -> Vec<usize> {
        let ws = self.workspace();
        (0..ws.policies.len())
            .filter(|&i| {
                ws.policies.get(i).is_some_and(|p| {
                    p.namespace == namespace && dir.isolates(p) && p.pod_selector.matches(labels)
                })
            })
            .collect()
    }

    fn isolation(&self, w: usize, dir: Direction) -> (Vec<usize>, String) {
        let name = self.workspace().workloads.get(w).map(Workload::display).unwrap_or_default();
        (self.isolating(w, dir).to_vec(), name)
    }

    /// Whether workload `dst`'s ingress allows `protocol`/`port` from `from`, with the reasons.
    pub fn ingress_from(&self, dst: usize, from: &Target, port: u16, protocol: Protocol) -> SideVerdict {
        let own = self.workspace().workloads.get(dst).map(|w| w.ports.as_slice());
        let (isolating, name) = self.isolation(dst, Direction::Ingress);
        let np = || self.explain_side(&isolating, &name, Direction::Ingress, from, own, port, protocol);
        self.tiered_verdict(Subject::Workload(dst), Direction::Ingress, from, own, port, protocol, !isolating.is_empty(), np)
    }

    /// `np` (the NetworkPolicy tier's verdict; `isolated`: whether a NetworkPolicy isolates
    /// the subject in `dir`) inside the Admin and Baseline tiers, with their reasons.
    #[allow(clippy::too_many_arguments)]
    fn tiered_verdict(
        &self,
        subject: Subject<'_>,
        dir: Direction,
        other: &Target,
        dst_ports: Option<&[ContainerPort]>,
        port: u16,
        protocol: Protocol,
        isolated: bool,
        np: impl FnOnce() -> SideVerdict,
    ) -> SideVerdict {
        if !self.has_cluster_policies() {
            return np();
        }
        let ws = self.workspace();
        let (name, ns_labels) = match subject {
            Subject::Workload(w) => (ws.workloads.get(w).map(Workload::display).unwrap_or_default(), Labels::new()),
            Subject::Pods(k) => (k.display.clone(), ws.namespace_labels(&k.namespace)),
        };
        let applies = |r: &super::tiers::TierRule| match subject {
            Subject::Workload(w) => self.tiers.applies(r, w),
            Subject::Pods(k) => ws.cluster_policies.get(r.policy).is_some_and(|p| super::tiers::subject_matches(p, &ns_labels, &k.labels)),
        };
        let view = View::of(ws, other);
        let mut reasons = Vec::new();
        let d = dir.as_str().to_lowercase();
        for tier in [Tier::Admin, Tier::Baseline] {
            if tier == Tier::Baseline && isolated {
                let mut v = np();
                reasons.append(&mut v.reasons);
                v.reasons = reasons;
                return v;
            }
            for r in self.tiers.rules(tier, dir).iter().filter(|r| applies(r)) {
                let Some(p) = ws.cluster_policies.get(r.policy) else { continue };
                let Some(rule) = dir.cluster_rules(p).get(r.index) else { continue };
                let at = format!("{tier}-tier {} (priority {}) {}", p.qualified_name(), p.priority, rule.label());
                let matched = match (&rule.fail_closed, r.action) {
                    (Some(why), Action::Accept) => Match::No(format!("it fails closed and matches nothing: {why}")),
                    (Some(why), _) => Match::Yes(format!("it fails closed and matches every connection: {why}")),
                    (None, action) => {
                        let peers = certain_peers(rule, action, &view);
                        let peer = match match_peers("", &peers, &view) {
                            Match::No(why) => match domain_match(rule, &view) {
                                Some(how) => Match::Yes(how),
                                None => Match::No(why),
                            },
                            yes => yes,
                        };
                        let ports = match &rule.rule.ports {
                            None => Match::Yes("no `protocols`: any port".to_string()),
                            Some(ps) => match_ports(ps, protocol, port, dst_ports.map(|ports| (ports, view_name(&view, dir, &name)))),
                        };
                        match (peer, ports) {
                            (Match::Yes(a), Match::Yes(b)) => Match::Yes(format!("{a}; {b}")),
                            (Match::No(why), _) | (Match::Yes(_), Match::No(why)) => Match::No(why),
                        }
                    }
                };
                let how = match matched {
                    Match::No(why) => {
                        reasons.push(format!("{at} does not match: {why}"));
                        continue;
                    }
                    Match::Yes(how) => how,
                };
                let decision = |action: Action| TierDecision {
                    tier: tier.to_string(),
                    policy: p.qualified_name(),
                    rule: rule.path.clone(),
                    action: action.to_string(),
                    index: r.policy,
                };
                match r.action {
                    Action::Accept => {
                        reasons.push(format!("{d} of {name} accepted by {at} ({how}); no later rule or tier applies"));
                        return SideVerdict { allowed: true, allowed_by: vec![format!("{} {}", p.qualified_name(), rule.path)], isolated_by: Vec::new(), reasons, decided_by: Some(Box::new(decision(Action::Accept))) };
                    }
                    Action::Deny => {
                        reasons.push(format!("{d} of {name} denied by {at} ({how}); no later rule or tier applies"));
                        return SideVerdict { allowed: false, allowed_by: Vec::new(), isolated_by: Vec::new(), reasons, decided_by: Some(Box::new(decision(Action::Deny))) };
                    }
                    Action::Pass => {
                        let next = if tier == Tier::Admin { "the NetworkPolicies" } else { "the default (allow)" };
                        reasons.push(format!("{at} passes it ({how}) to {next}"));
                        break;
                    }
                }
            }
        }
        // An isolated subject returned the NetworkPolicy verdict on reaching the Baseline tier.
        reasons.push(format!("{d} of {name} is decided by no tier and no NetworkPolicy isolates it: allowed by default"));
        SideVerdict { allowed: true, allowed_by: Vec::new(), isolated_by: Vec::new(), reasons, decided_by: None }
    }

    /// One side's verdict: `name` (isolated in `dir` by `isolating`) and the `other` end.
    #[allow(clippy::too_many_arguments)]
    fn explain_side(
        &self,
        isolating: &[usize],
        name: &str,
        dir: Direction,
        other: &Target,
        dst_ports: Option<&[ContainerPort]>,
        port: u16,
        protocol: Protocol,
    ) -> SideVerdict {
        let ws = self.workspace();
        let d = dir.as_str().to_lowercase();
        if isolating.is_empty() {
            return SideVerdict {
                allowed: true,
                allowed_by: Vec::new(),
                isolated_by: Vec::new(),
                reasons: vec![format!(
                    "{d} of {name} is not isolated: no NetworkPolicy with {} in its policyTypes selects it",
                    dir.as_str()
                )],
                decided_by: None,
            };
        }
        let isolated_by: Vec<String> =
            isolating.iter().filter_map(|&p| ws.policies.get(p)).map(|p| p.qualified_name()).collect();
        let mut reasons = vec![format!("{d} of {name} is isolated by {}", isolated_by.join(", "))];
        let mut allowed_by = Vec::new();
        let view = View::of(ws, other);
        for &pi in isolating.iter() {
            let Some(p) = ws.policies.get(pi) else { continue };
            let rules = dir.rules(p);
            if rules.is_empty() {
                reasons.push(format!("{} has no {d} rules: it allows no {d} traffic", p.qualified_name()));
                continue;
            }
            for r in rules {
                let peer = match &r.peers {
                    None => Match::Yes(format!("no `{}`: any peer", if dir == Direction::Egress { "to" } else { "from" })),
                    Some(peers) => match_peers(p.namespace.as_str(), peers, &view),
                };
                let ports = match &r.ports {
                    None => Match::Yes("no `ports`: any port".to_string()),
                    Some(ps) => match_ports(ps, protocol, port, dst_ports.map(|ports| (ports, view_name(&view, dir, name)))),
                };
                let at = format!("{} {}", p.qualified_name(), r.path);
                match (peer, ports) {
                    (Match::Yes(pw), Match::Yes(po)) => {
                        reasons.push(format!("allowed by {at} ({pw}; {po})"));
                        allowed_by.push(at);
                    }
                    (Match::No(why), _) | (Match::Yes(_), Match::No(why)) => reasons.push(format!("{at} does not match: {why}")),
                }
            }
        }
        SideVerdict { allowed: !allowed_by.is_empty(), allowed_by, isolated_by, reasons, decided_by: None }
    }
}

/// The name of the pod whose ports resolve named ports: the other end for egress, `own` for
/// ingress.
fn view_name(view: &View<'_>, dir: Direction, own: &str) -> String {
    match (dir, view) {
        (Direction::Egress, View::Pod { display, .. }) => display.clone(),
        _ => own.to_string(),
    }
}

/// The other end as peers see it.
enum View<'a> {
    Pod { display: String, namespace: &'a str, ns_labels: Labels, labels: &'a Labels, ips: &'a [IpAddr], ranges: Option<&'a [ipnet::IpNet]> },
    Ip(IpAddr),
    Host(&'a str),
    Internet(&'a str),
    Unknown(&'a str),
}

impl<'a> View<'a> {
    fn of(ws: &'a Workspace, t: &'a Target) -> View<'a> {
        match t {
            Target::Workload(i) => match ws.workloads.get(*i) {
                Some(w) => View::Pod {
                    display: w.display(),
                    namespace: &w.namespace,
                    ns_labels: ws.namespace_labels(&w.namespace),
                    labels: &w.labels,
                    ips: &w.ips,
                    ranges: None,
                },
                None => View::Host("<unknown workload>"),
            },
            Target::Pods(k) => View::Pod {
                display: k.display.clone(),
                namespace: &k.namespace,
                ns_labels: ws.namespace_labels(&k.namespace),
                labels: &k.labels,
                ips: &[],
                ranges: Some(&k.pod_cidrs),
            },
            Target::Ip(ip) => View::Ip(*ip),
            Target::Host(h) => View::Host(h),
            Target::Internet(h) => View::Internet(h),
            Target::Unknown(h) => View::Unknown(h),
        }
    }
}

/// Whether a rule's peers (or ports) match the connection, in words either way.
enum Match {
    /// How it matches.
    Yes(String),
    /// Why nothing matches.
    No(String),
}

/// How the first matching peer matches, or why none does.
fn match_peers(policy_ns: &str, peers: &[Peer], other: &View<'_>) -> Match {
    let mut why = Vec::new();
    let field = |p: &Peer| p.path.rsplit('.').next().unwrap_or(&p.path).to_string();
    for peer in peers {
        let f = field(peer);
        match (&peer.kind, other) {
            (PeerKind::Invalid(e), _) => why.push(format!("{f} is invalid ({e}) and matches nothing")),
            (PeerKind::Pods { .. }, View::Ip(ip)) => why.push(format!("{f} selects pods, and {ip} is not a pod in the input")),
            (PeerKind::Pods { .. }, View::Host(h) | View::Internet(h)) => {
                why.push(format!("{f} selects pods, and {h} is outside the cluster"))
            }
            (PeerKind::Pods { .. }, View::Unknown(h)) => return Match::Yes(format!("{f} may select {h}")),
            (PeerKind::IpBlock { cidr, .. }, View::Unknown(h)) => return Match::Yes(format!("{f} ipBlock {cidr} may contain {h}")),
            (PeerKind::IpBlock { cidr, .. }, View::Internet(h)) => {
                if cidr.prefix_len() == 0 {
                    return Match::Yes(format!("{f} ipBlock {cidr} spans every address, including {h}"));
                }
                why.push(format!("{f} ipBlock {cidr} covers only part of the address space, and {h} can be anywhere"));
            }
            (PeerKind::Pods { namespaces, pods }, View::Pod { display, namespace, ns_labels, labels, .. }) => {
                let ns_ok = match namespaces {
                    NamespaceScope::Own(ns) => {
                        if namespace != ns {
                            why.push(format!(
                                "{f} has no namespaceSelector, so it selects pods in namespace `{policy_ns}` only, and {display} is in `{namespace}`"
                            ));
                            false
                        } else {
                            true
                        }
                    }
                    NamespaceScope::Selected(sel) => {
                        if sel.matches(ns_labels) {
                            true
                        } else {
                            why.push(format!("{f} namespaceSelector `{sel}` does not match namespace `{namespace}`"));
                            false
                        }
                    }
                };
                if !ns_ok {
                    continue;
                }
                if pods.matches(labels) {
                    return Match::Yes(format!("{f} selects {display}"));
                }
                why.push(format!("{f} podSelector `{pods}` does not match the labels of {display}"));
            }
            (PeerKind::IpBlock { cidr, except }, View::Ip(ip)) => {
                if block_contains(cidr, except, *ip) {
                    return Match::Yes(format!("{f} ipBlock {cidr} contains {ip}"));
                }
                match except.iter().find(|e| e.contains(ip)) {
                    Some(e) => why.push(format!("{f} ipBlock {cidr} excepts {e}, which contains {ip}")),
                    None => why.push(format!("{f} ipBlock {cidr} does not contain {ip}")),
                }
            }
            (PeerKind::IpBlock { cidr, .. }, View::Host(h)) => {
                return Match::Yes(format!("{f} ipBlock {cidr} may contain the address of {h} (host names are not resolved)"));
            }
            (PeerKind::IpBlock { cidr, except }, View::Pod { display, ips, ranges, .. }) => {
                if let Some(ip) = ips.iter().find(|ip| block_contains(cidr, except, **ip)) {
                    return Match::Yes(format!("{f} ipBlock {cidr} contains the pod IP {ip} of {display}"));
                }
                if let Some(ranges) = ranges {
                    let covers = |r: &ipnet::IpNet| cidr.contains(r) && !except.iter().any(|e| e.contains(r) || r.contains(e));
                    let whole = cidr.prefix_len() == 0 && except.is_empty();
                    if (ranges.is_empty() && whole) || (!ranges.is_empty() && ranges.iter().all(covers)) {
                        return Match::Yes(format!("{f} ipBlock {cidr} covers the pod network of {display}"));
                    }
                    why.push(format!("{f} ipBlock {cidr} does not cover the pod network of {display} (profile `podCIDRs`)"));
                    continue;
                }
                if ips.is_empty() {
                    why.push(format!("{f} ipBlock {cidr} can match {display} only by pod IP, and the manifest carries none"));
                } else {
                    why.push(format!("{f} ipBlock {cidr} does not contain the pod IPs of {display}"));
                }
            }
        }
    }
    Match::No(why.join("; "))
}

/// Which port item matches, or why none does. Named ports resolve on `dst` (its
/// declared ports and how to name it); without one they never match.
fn match_ports(ports: &[PortMatch], protocol: Protocol, port: u16, dst: Option<(&[ContainerPort], String)>) -> Match {
    let mut seen = Vec::new();
    for p in ports {
        let f = p.path.rsplit('.').next().unwrap_or(&p.path).to_string();
        if p.protocol != Some(protocol) {
            seen.push(p.to_string());
            continue;
        }
        match &p.port {
            PortSel::All => return Match::Yes(format!("{f} allows all {protocol} ports")),
            PortSel::Range(a, b) if *a <= port && port <= *b => return Match::Yes(format!("{f} allows {p}")),
            PortSel::Named(n) => match &dst {
                Some((declared, who)) => {
                    let found = resolve_named_in(declared, protocol, n);
                    if found.contains(&port) {
                        return Match::Yes(format!("{f} named port {n:?} is {protocol} {port} on {who}"));
                    }
                    if found.is_empty() {
                        seen.push(format!("{protocol} port named {n:?} (not declared by {who})"));
                    } else {
                        let nums: Vec<String> = found.iter().map(u16::to_string).collect();
                        seen.push(format!("{protocol} port named {n:?} (= {} on {who})", nums.join(",")));
                    }
                }
                None => seen.push(format!("{protocol} port named {n:?} (named ports never match an IP address)")),
            },
            _ => seen.push(p.to_string()),
        }
    }
    Match::No(format!("{protocol} {port} is not among the allowed ports [{}]", seen.join(", ")))
}

/// Whose side a tiered verdict is about.
#[derive(Clone, Copy)]
enum Subject<'a> {
    Workload(usize),
    Pods(&'a KnownPods),
}

/// The peers of `rule` that certainly match what they may match: a Deny or Pass decides only
/// on a certain match, so a network that may or may not hold an unresolved host name (or an
/// endpoint nothing is known about) does not make it drop the connection.
fn certain_peers(rule: &ClusterRule, action: Action, view: &View<'_>) -> Vec<Peer> {
    let peers = rule.rule.peers.as_deref().unwrap_or_default();
    if action == Action::Accept {
        return peers.to_vec();
    }
    peers
        .iter()
        .filter(|p| match (view, &p.kind) {
            (View::Unknown(_), _) => false,
            (View::Host(_), PeerKind::IpBlock { cidr, except }) => cidr.prefix_len() == 0 && except.is_empty(),
            _ => true,
        })
        .cloned()
        .collect()
}

/// How a `domainNames` peer of `rule` matches a host name, if one does.
fn domain_match(rule: &ClusterRule, view: &View<'_>) -> Option<String> {
    let View::Host(h) = view else { return None };
    let host = h.trim_end_matches('.').to_ascii_lowercase();
    rule.domains.iter().find_map(|(path, d)| {
        let d = d.trim_end_matches('.').to_ascii_lowercase();
        let hit = match d.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
            None => host == d,
        };
        let f = path.rsplit('.').next().unwrap_or(path);
        hit.then(|| format!("{f} {d:?} matches {h}"))
    })
}
