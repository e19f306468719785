//! Verdicts with reasons: which policies isolate each side, which rule allows the connection,
//! or, for a denial, why each candidate rule does not match (peer, port, protocol, policyTypes).

use std::net::IpAddr;

use serde::Serialize;

use super::{block_contains, policy_rules, resolve_named, Direction, Engine};
use crate::model::{NamespaceScope, Peer, PeerKind, PortMatch, PortSel, Protocol, Workload, Workspace};

/// One end of a queried connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// A workload, by index.
    Workload(usize),
    /// An address outside the cluster (or any address that is not a modelled pod).
    Ip(IpAddr),
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
        let ws = self.workspace();
        let dst = match to {
            Endpoint::Workload(i) => ws.workloads.get(i),
            Endpoint::Ip(_) => None,
        };
        let egress = match from {
            Endpoint::Workload(s) => self.explain_side(s, Direction::Egress, to, dst, port, protocol),
            Endpoint::Ip(ip) => SideVerdict {
                allowed: true,
                allowed_by: Vec::new(),
                isolated_by: Vec::new(),
                reasons: vec![format!("source {ip} is not a pod in the input: no NetworkPolicy governs its egress")],
            },
        };
        let ingress = match to {
            Endpoint::Workload(d) => self.explain_side(d, Direction::Ingress, from, dst, port, protocol),
            Endpoint::Ip(ip) => SideVerdict {
                allowed: true,
                allowed_by: Vec::new(),
                isolated_by: Vec::new(),
                reasons: vec![format!("destination {ip} is not a pod in the input: no NetworkPolicy governs its ingress")],
            },
        };
        Verdict { allowed: egress.allowed && ingress.allowed, egress, ingress }
    }

    fn explain_side(
        &self,
        w: usize,
        dir: Direction,
        other: Endpoint,
        dst: Option<&Workload>,
        port: u16,
        protocol: Protocol,
    ) -> SideVerdict {
        let ws = self.workspace();
        let name = ws.workloads.get(w).map(Workload::display).unwrap_or_default();
        let d = dir.as_str().to_lowercase();
        let isolating = self.isolating(w, dir);
        if isolating.is_empty() {
            return SideVerdict {
                allowed: true,
                allowed_by: Vec::new(),
                isolated_by: Vec::new(),
                reasons: vec![format!(
                    "{d} of {name} is not isolated: no NetworkPolicy with {} in its policyTypes selects it",
                    dir.as_str()
                )],
            };
        }
        let isolated_by: Vec<String> =
            isolating.iter().filter_map(|&p| ws.policies.get(p)).map(|p| p.qualified_name()).collect();
        let mut reasons = vec![format!("{d} of {name} is isolated by {}", isolated_by.join(", "))];
        let mut allowed_by = Vec::new();
        for &pi in isolating {
            let Some(p) = ws.policies.get(pi) else { continue };
            let rules = policy_rules(p, dir);
            if rules.is_empty() {
                reasons.push(format!("{} has no {d} rules: it allows no {d} traffic", p.qualified_name()));
                continue;
            }
            for r in rules {
                let peer = match &r.peers {
                    None => Ok(format!("no `{}`: any peer", if dir == Direction::Egress { "to" } else { "from" })),
                    Some(peers) => match_peers(ws, p.namespace.as_str(), peers, other),
                };
                let ports = match &r.ports {
                    None => Ok("no `ports`: any port".to_string()),
                    Some(ps) => match_ports(ps, protocol, port, dst),
                };
                let at = format!("{} {}", p.qualified_name(), r.path);
                match (peer, ports) {
                    (Ok(pw), Ok(po)) => {
                        reasons.push(format!("allowed by {at} ({pw}; {po})"));
                        allowed_by.push(at);
                    }
                    (Err(why), _) | (Ok(_), Err(why)) => reasons.push(format!("{at} does not match: {why}")),
                }
            }
        }
        SideVerdict { allowed: !allowed_by.is_empty(), allowed_by, isolated_by, reasons }
    }
}

fn describe(ws: &Workspace, e: Endpoint) -> String {
    match e {
        Endpoint::Workload(i) => ws.workloads.get(i).map(Workload::display).unwrap_or_default(),
        Endpoint::Ip(ip) => ip.to_string(),
    }
}

/// Ok(how the first matching peer matches) or Err(why none does).
fn match_peers(ws: &Workspace, policy_ns: &str, peers: &[Peer], other: Endpoint) -> Result<String, String> {
    let mut why = Vec::new();
    let who = describe(ws, other);
    let field = |p: &Peer| p.path.rsplit('.').next().unwrap_or(&p.path).to_string();
    for peer in peers {
        let f = field(peer);
        match (&peer.kind, other) {
            (PeerKind::Invalid(e), _) => why.push(format!("{f} is invalid ({e}) and matches nothing")),
            (PeerKind::Pods { .. }, Endpoint::Ip(ip)) => {
                why.push(format!("{f} selects pods, and {ip} is not a pod in the input"))
            }
            (PeerKind::Pods { namespaces, pods }, Endpoint::Workload(i)) => {
                let Some(w) = ws.workloads.get(i) else { continue };
                let ns_ok = match namespaces {
                    NamespaceScope::Own(ns) => {
                        if &w.namespace != ns {
                            why.push(format!(
                                "{f} has no namespaceSelector, so it selects pods in namespace `{policy_ns}` only, and {who} is in `{}`",
                                w.namespace
                            ));
                            false
                        } else {
                            true
                        }
                    }
                    NamespaceScope::Selected(sel) => {
                        let labels = ws.namespaces.get(&w.namespace).map(|n| n.labels.clone()).unwrap_or_default();
                        if sel.matches(&labels) {
                            true
                        } else {
                            why.push(format!("{f} namespaceSelector `{sel}` does not match namespace `{}`", w.namespace));
                            false
                        }
                    }
                };
                if !ns_ok {
                    continue;
                }
                if pods.matches(&w.labels) {
                    return Ok(format!("{f} selects {who}"));
                }
                why.push(format!("{f} podSelector `{pods}` does not match the labels of {who}"));
            }
            (PeerKind::IpBlock { cidr, except }, Endpoint::Ip(ip)) => {
                if block_contains(cidr, except, ip) {
                    return Ok(format!("{f} ipBlock {cidr} contains {ip}"));
                }
                match except.iter().find(|e| e.contains(&ip)) {
                    Some(e) => why.push(format!("{f} ipBlock {cidr} excepts {e}, which contains {ip}")),
                    None => why.push(format!("{f} ipBlock {cidr} does not contain {ip}")),
                }
            }
            (PeerKind::IpBlock { cidr, except }, Endpoint::Workload(i)) => {
                let Some(w) = ws.workloads.get(i) else { continue };
                if let Some(ip) = w.ips.iter().find(|ip| block_contains(cidr, except, **ip)) {
                    return Ok(format!("{f} ipBlock {cidr} contains the pod IP {ip} of {who}"));
                }
                if w.ips.is_empty() {
                    why.push(format!("{f} ipBlock {cidr} can match {who} only by pod IP, and the manifest carries none"));
                } else {
                    why.push(format!("{f} ipBlock {cidr} does not contain the pod IPs of {who}"));
                }
            }
        }
    }
    Err(why.join("; "))
}

/// Ok(which port item matches) or Err(why none does).
fn match_ports(ports: &[PortMatch], protocol: Protocol, port: u16, dst: Option<&Workload>) -> Result<String, String> {
    let mut seen = Vec::new();
    for p in ports {
        let f = p.path.rsplit('.').next().unwrap_or(&p.path).to_string();
        if p.protocol != Some(protocol) {
            seen.push(p.to_string());
            continue;
        }
        match &p.port {
            PortSel::All => return Ok(format!("{f} allows all {protocol} ports")),
            PortSel::Range(a, b) if *a <= port && port <= *b => return Ok(format!("{f} allows {p}")),
            PortSel::Named(n) => match dst {
                Some(w) if resolve_named(w, protocol, n).contains(&port) => {
                    return Ok(format!("{f} named port {n:?} is {protocol} {port} on {}", w.display()))
                }
                Some(w) => {
                    let found = resolve_named(w, protocol, n);
                    if found.is_empty() {
                        seen.push(format!("{protocol} port named {n:?} (not declared by {})", w.display()));
                    } else {
                        let nums: Vec<String> = found.iter().map(u16::to_string).collect();
                        seen.push(format!("{protocol} port named {n:?} (= {} on {})", nums.join(","), w.display()));
                    }
                }
                None => seen.push(format!("{protocol} port named {n:?} (named ports never match an IP address)")),
            },
            _ => seen.push(p.to_string()),
        }
    }
    Err(format!("{protocol} {port} is not among the allowed ports [{}]", seen.join(", ")))
}
