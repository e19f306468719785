//! A NetworkPolicy in the form the engine evaluates: selectors parsed, CIDRs parsed,
//! `policyTypes` defaulted, and "absent" kept distinct from "empty" where Kubernetes does.

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{ObjRef, ObjectId, Selector};
use crate::source::{join_index, join_key};

/// Transport protocols a NetworkPolicy can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// SCTP.
    Sctp,
    /// TCP, the default.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// All protocols, in output order.
    pub const ALL: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

    /// Parse `TCP`, `UDP` or `SCTP` (exact case, as the API demands).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which directions a policy isolates, after defaulting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PolicyTypes {
    /// `Ingress` is in the effective policyTypes.
    pub ingress: bool,
    /// `Egress` is in the effective policyTypes.
    pub egress: bool,
    /// `policyTypes` was written (non-empty) rather than defaulted.
    pub explicit: bool,
}

/// Which namespaces a pod peer looks in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NamespaceScope {
    /// No `namespaceSelector`: the policy's own namespace.
    Own(String),
    /// `namespaceSelector`: namespaces whose labels match.
    Selected(Selector),
}

/// What one `from`/`to` item matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerKind {
    /// Pods chosen by namespace scope AND pod selector (absent podSelector = all pods).
    Pods {
        /// Namespaces searched.
        namespaces: NamespaceScope,
        /// Pods matched inside them.
        pods: Selector,
    },
    /// Addresses in `cidr` but not in any `except`.
    IpBlock {
        /// The block.
        cidr: IpNet,
        /// Holes in it.
        except: Vec<IpNet>,
    },
    /// Something the API rejects; matches nothing.
    Invalid(String),
}

/// One `from`/`to` item with its field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// e.g. `spec.egress[0].to[1]`.
    pub path: String,
    /// What it matches.
    pub kind: PeerKind,
}

/// The port part of one `ports` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSel {
    /// No `port`: every port of the protocol.
    All,
    /// `port` (and `endPort`): an inclusive range.
    Range(u16, u16),
    /// A named port, resolved on the destination pod.
    Named(String),
    /// Something the API rejects; matches nothing.
    Invalid(String),
}

/// One `ports` item with its field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMatch {
    /// e.g. `spec.ingress[0].ports[1]`.
    pub path: String,
    /// The protocol (TCP when omitted); `None` when invalid.
    pub protocol: Option<Protocol>,
    /// The port(s).
    pub port: PortSel,
}

impl fmt::Display for PortMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proto = self.protocol.map_or("<invalid protocol>", Protocol::as_str);
        match &self.port {
            PortSel::All => write!(f, "{proto} (all ports)"),
            PortSel::Range(a, b) if a == b => write!(f, "{proto} {a}"),
            PortSel::Range(a, b) => write!(f, "{proto} {a}-{b}"),
            PortSel::Named(n) => write!(f, "{proto} port named {n:?}"),
            PortSel::Invalid(why) => write!(f, "{proto} <invalid port: {why}>"),
        }
    }
}

/// One ingress or egress rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// e.g. `spec.ingress[0]`.
    pub path: String,
    /// `None` when `from`/`to` is absent or empty: every peer, including external addresses.
    pub peers: Option<Vec<Peer>>,
    /// `None` when `ports` is absent or empty: every port and protocol.
    pub ports: Option<Vec<PortMatch>>,
}

/// A NetworkPolicy ready for evaluation.
#[derive(Debug, Clone)]
pub struct NetworkPolicy {
    /// Identity.
    pub id: ObjectId,
    /// Where it was written.
    pub obj: ObjRef,
    /// Namespace (defaulted).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The typed spec as written.
    pub spec: NetworkPolicySpec,
    /// Which pods it applies to.
    pub pod_selector: Selector,
    /// Effective policyTypes.
    pub policy_types: PolicyTypes,
    /// Ingress rules (also kept when `Ingress` is not in policyTypes, for hygiene rules).
    pub ingress: Vec<PolicyRule>,
    /// Egress rules (likewise).
    pub egress: Vec<PolicyRule>,
}

impl NetworkPolicy {
    /// Build the evaluable form from the typed spec.
    pub fn new(id: ObjectId, obj: ObjRef, namespace: String, name: String, spec: NetworkPolicySpec) -> Self {
        let pod_selector = spec.pod_selector.as_ref().map_or_else(Selector::everything, Selector::parse);
        let types = spec.policy_types.as_deref().unwrap_or_default();
        let policy_types = if types.is_empty() {
            // Kubernetes defaulting: Ingress always, Egress when egress rules are present.
            PolicyTypes { ingress: true, egress: spec.egress.as_ref().is_some_and(|e| !e.is_empty()), explicit: false }
        } else {
            PolicyTypes {
                ingress: types.iter().any(|t| t == "Ingress"),
                egress: types.iter().any(|t| t == "Egress"),
                explicit: true,
            }
        };
        let ingress = spec
            .ingress
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, r)| {
                let path = join_index("spec.ingress", i);
                rule(&path, "from", r.from.as_deref(), r.ports.as_deref(), &namespace)
            })
            .collect();
        let egress = spec
            .egress
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, r)| {
                let path = join_index("spec.egress", i);
                rule(&path, "to", r.to.as_deref(), r.ports.as_deref(), &namespace)
            })
            .collect();
        Self { id, obj, namespace, name, spec, pod_selector, policy_types, ingress, egress }
    }

    /// `namespace/name`.
    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

fn rule(path: &str, peers_key: &str, peers: Option<&[NetworkPolicyPeer]>, ports: Option<&[NetworkPolicyPort]>, ns: &str) -> PolicyRule {
    let peers_path = join_key(path, peers_key);
    let peers = peers.filter(|p| !p.is_empty()).map(|ps| {
        ps.iter().enumerate().map(|(i, p)| peer(join_index(&peers_path, i), p, ns)).collect()
    });
    let ports_path = join_key(path, "ports");
    let ports = ports.filter(|p| !p.is_empty()).map(|ps| {
        ps.iter().enumerate().map(|(i, p)| port(join_index(&ports_path, i), p)).collect()
    });
    PolicyRule { path: path.to_string(), peers, ports }
}

fn peer(path: String, p: &NetworkPolicyPeer, ns: &str) -> Peer {
    let kind = match (&p.ip_block, &p.namespace_selector, &p.pod_selector) {
        (None, None, None) => PeerKind::Invalid("peer sets none of podSelector, namespaceSelector, ipBlock".into()),
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            PeerKind::Invalid("ipBlock cannot be combined with podSelector or namespaceSelector".into())
        }
        (Some(b), None, None) => match parse_cidr(&b.cidr) {
            Err(e) => PeerKind::Invalid(format!("ipBlock.cidr {:?}: {e}", b.cidr)),
            Ok(cidr) => {
                let mut except = Vec::new();
                let mut bad = None;
                for x in b.except.iter().flatten() {
                    match parse_cidr(x) {
                        Ok(n) => except.push(n),
                        Err(e) => bad = bad.or(Some(format!("ipBlock.except {x:?}: {e}"))),
                    }
                }
                match bad {
                    Some(why) => PeerKind::Invalid(why),
                    None => PeerKind::IpBlock { cidr, except },
                }
            }
        },
        (None, nsel, psel) => PeerKind::Pods {
            namespaces: match nsel {
                Some(s) => NamespaceScope::Selected(Selector::parse(s)),
                None => NamespaceScope::Own(ns.to_string()),
            },
            pods: psel.as_ref().map_or_else(Selector::everything, Selector::parse),
        },
    };
    Peer { path, kind }
}

/// Parse a CIDR the way the engine uses it (host bits are masked off, as kube-proxy and CNIs do).
/// Surrounding blanks are not trimmed: the API server's parser (Go's `net.ParseCIDR`) refuses them.
pub fn parse_cidr(s: &str) -> Result<IpNet, String> {
    IpNet::from_str(s).map(|n| n.trunc()).map_err(|_| "not a valid CIDR".to_string())
}

fn port(path: String, p: &NetworkPolicyPort) -> PortMatch {
    let protocol = match &p.protocol {
        None => Some(Protocol::Tcp),
        Some(s) => Protocol::parse(s),
    };
    let port = match (&p.port, p.end_port) {
        (None, None) => PortSel::All,
        (None, Some(_)) => PortSel::Invalid("endPort without port".into()),
        (Some(IntOrString::String(name)), None) => match name.parse::<i64>() {
            // A quoted number is still a port name to the API; it is not a valid one.
            Ok(_) => PortSel::Invalid(format!("{name:?} is a string, not a port number")),
            Err(_) => PortSel::Named(name.clone()),
        },
        (Some(IntOrString::String(_)), Some(_)) => PortSel::Invalid("endPort with a named port".into()),
        (Some(IntOrString::Int(n)), end) => {
            let end = end.unwrap_or(*n);
            match (u16::try_from(*n), u16::try_from(end)) {
                (Ok(a), Ok(b)) if a >= 1 && b >= a => PortSel::Range(a, b),
                _ => PortSel::Invalid(format!("port range {n}-{end} is not within 1-65535 in order")),
            }
        }
    };
    PortMatch { path, protocol, port }
}
