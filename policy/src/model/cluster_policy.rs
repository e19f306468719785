//! Cluster-wide network policies in the form the engine evaluates: `ClusterNetworkPolicy`
//! (`policy.networking.k8s.io/v1alpha2`) and its predecessors `AdminNetworkPolicy` and
//! `BaselineAdminNetworkPolicy` (`v1alpha1`), all mapped onto one model. Peers and ports are
//! kept in the NetworkPolicy form ([`PolicyRule`]) so that one matcher serves both APIs.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Deserialize;
use serde_json::Value;

use super::{parse_cidr, NamespaceScope, ObjRef, ObjectId, Peer, PeerKind, PolicyRule, PortMatch, PortSel, Protocol, Selector};
use crate::source::{join_index, join_key};

/// Which API an object came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClusterApi {
    /// `ClusterNetworkPolicy` (v1alpha2).
    ClusterNetworkPolicy,
    /// `AdminNetworkPolicy` (v1alpha1): the Admin tier.
    AdminNetworkPolicy,
    /// `BaselineAdminNetworkPolicy` (v1alpha1): the Baseline tier, a singleton named `default`.
    BaselineAdminNetworkPolicy,
}

impl ClusterApi {
    /// The kind for `kind`, if it is one of these.
    pub fn of_kind(kind: &str) -> Option<Self> {
        match kind {
            "ClusterNetworkPolicy" => Some(ClusterApi::ClusterNetworkPolicy),
            "AdminNetworkPolicy" => Some(ClusterApi::AdminNetworkPolicy),
            "BaselineAdminNetworkPolicy" => Some(ClusterApi::BaselineAdminNetworkPolicy),
            _ => None,
        }
    }

    /// The kind's name.
    pub fn kind(self) -> &'static str {
        match self {
            ClusterApi::ClusterNetworkPolicy => "ClusterNetworkPolicy",
            ClusterApi::AdminNetworkPolicy => "AdminNetworkPolicy",
            ClusterApi::BaselineAdminNetworkPolicy => "BaselineAdminNetworkPolicy",
        }
    }

    /// The served `apiVersion`.
    pub fn api_version(self) -> &'static str {
        match self {
            ClusterApi::ClusterNetworkPolicy => "policy.networking.k8s.io/v1alpha2",
            ClusterApi::AdminNetworkPolicy | ClusterApi::BaselineAdminNetworkPolicy => "policy.networking.k8s.io/v1alpha1",
        }
    }

    /// Whether this is a v1alpha1 kind.
    pub fn is_v1alpha1(self) -> bool {
        self != ClusterApi::ClusterNetworkPolicy
    }
}

/// The tier a cluster policy sits in: Admin before the NetworkPolicies, Baseline after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Evaluated before NetworkPolicies; its Accept and Deny are final.
    Admin,
    /// Evaluated after NetworkPolicies, for pods no NetworkPolicy isolates.
    Baseline,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Admin => "Admin",
            Tier::Baseline => "Baseline",
        })
    }
}

/// What a rule does to the traffic it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Allows it (v1alpha1 `Allow`); final for this direction.
    Accept,
    /// Drops it; final.
    Deny,
    /// Skips the rest of the tier; the next tier decides.
    Pass,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Accept => "Accept",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
        })
    }
}

/// One ingress or egress rule of a cluster policy.
#[derive(Debug, Clone)]
pub struct ClusterRule {
    /// e.g. `spec.egress[2]`.
    pub path: String,
    /// The rule's `name` (may be empty).
    pub name: String,
    /// What it does; `None` when the action is missing or unknown (the rule fails closed).
    pub action: Option<Action>,
    /// Namespace, pod and network peers and the ports, in the NetworkPolicy form: `peers`
    /// is never `None` (a rule needs at least one peer), `ports` is `None` for every port.
    pub rule: PolicyRule,
    /// `domainNames` peers: (field path, name pattern).
    pub domains: Vec<(String, String)>,
    /// `nodes` peers (field paths): node addresses are not in the input, so they match no pod.
    pub nodes: Vec<String>,
    /// Why the rule fails closed, when a peer or protocol sets no field this model knows
    /// (a newer API) or the action is unknown: an Accept rule then matches nothing, a Deny or
    /// Pass rule matches every connection, as the API demands.
    pub fail_closed: Option<String>,
}

impl ClusterRule {
    /// `name` or the path, for messages.
    pub fn label(&self) -> String {
        if self.name.is_empty() { self.path.clone() } else { format!("{} ({:?})", self.path, self.name) }
    }
}

/// Which pods a cluster policy applies to.
#[derive(Debug, Clone)]
pub struct ClusterSubject {
    /// Namespaces whose pods it selects.
    pub namespaces: Selector,
    /// Pods within them (everything for a `namespaces` subject).
    pub pods: Selector,
    /// Why the subject selects nothing (absent, or both forms set).
    pub invalid: Option<String>,
}

/// A cluster-wide policy ready for evaluation.
#[derive(Debug, Clone)]
pub struct ClusterPolicy {
    /// Identity.
    pub id: ObjectId,
    /// Where it was written.
    pub obj: ObjRef,
    /// Name.
    pub name: String,
    /// Which API it came from.
    pub api: ClusterApi,
    /// Its tier; `None` when `tier` is missing or unknown (the policy is not evaluated).
    pub tier: Option<Tier>,
    /// Precedence within the tier (lower first); 0 for a BaselineAdminNetworkPolicy.
    pub priority: i64,
    /// The pods it applies to.
    pub subject: ClusterSubject,
    /// Ingress rules, in precedence order.
    pub ingress: Vec<ClusterRule>,
    /// Egress rules, in precedence order.
    pub egress: Vec<ClusterRule>,
    /// The spec as written, for validation.
    pub spec: ClusterPolicySpec,
}

impl ClusterPolicy {
    /// `Kind/name`, for messages.
    pub fn qualified_name(&self) -> String {
        format!("{} {}", self.api.kind(), self.name)
    }

    /// Build the evaluable form of `spec`, read as `api`.
    pub fn new(api: ClusterApi, id: ObjectId, obj: ObjRef, name: String, spec: ClusterPolicySpec) -> Self {
        let tier = match api {
            ClusterApi::AdminNetworkPolicy => Some(Tier::Admin),
            ClusterApi::BaselineAdminNetworkPolicy => Some(Tier::Baseline),
            ClusterApi::ClusterNetworkPolicy => match spec.tier.as_deref() {
                Some("Admin") => Some(Tier::Admin),
                Some("Baseline") => Some(Tier::Baseline),
                _ => None,
            },
        };
        let priority = if api == ClusterApi::BaselineAdminNetworkPolicy { 0 } else { spec.priority.unwrap_or(0) };
        let subject = subject(spec.subject.as_ref());
        let ingress = rules(api, "spec.ingress", "from", spec.ingress.as_deref().unwrap_or_default());
        let egress = rules(api, "spec.egress", "to", spec.egress.as_deref().unwrap_or_default());
        Self { id, obj, name, api, tier, priority, subject, ingress, egress, spec }
    }
}

fn subject(s: Option<&SubjectSpec>) -> ClusterSubject {
    let nothing = |why: &str| ClusterSubject { namespaces: Selector::everything(), pods: Selector::everything(), invalid: Some(why.into()) };
    let Some(s) = s else { return nothing("`subject` is missing") };
    match (&s.namespaces, &s.pods) {
        (Some(ns), None) => ClusterSubject { namespaces: Selector::parse(ns), pods: Selector::everything(), invalid: None },
        (None, Some(p)) => ClusterSubject { namespaces: selector(p.namespace_selector.as_ref()), pods: selector(p.pod_selector.as_ref()), invalid: None },
        (Some(_), Some(_)) => nothing("`subject` sets both `namespaces` and `pods`"),
        (None, None) => nothing("`subject` sets neither `namespaces` nor `pods`"),
    }
}

fn selector(s: Option<&LabelSelector>) -> Selector {
    s.map_or_else(Selector::everything, Selector::parse)
}

fn rules(api: ClusterApi, base: &str, peers_key: &str, specs: &[RuleSpec]) -> Vec<ClusterRule> {
    specs.iter().enumerate().map(|(i, r)| rule(api, &join_index(base, i), peers_key, r)).collect()
}

fn rule(api: ClusterApi, path: &str, peers_key: &str, r: &RuleSpec) -> ClusterRule {
    let mut fail_closed = None;
    let action = match (api, r.action.as_deref()) {
        (ClusterApi::ClusterNetworkPolicy, Some("Accept")) | (ClusterApi::AdminNetworkPolicy | ClusterApi::BaselineAdminNetworkPolicy, Some("Allow")) => {
            Some(Action::Accept)
        }
        (_, Some("Deny")) => Some(Action::Deny),
        (ClusterApi::ClusterNetworkPolicy | ClusterApi::AdminNetworkPolicy, Some("Pass")) => Some(Action::Pass),
        (_, other) => {
            fail_closed = Some(format!("action {other:?} is not one this API defines"));
            None
        }
    };
    let peers_path = join_key(path, peers_key);
    let mut peers = Vec::new();
    let mut domains = Vec::new();
    let mut nodes = Vec::new();
    let written = if peers_key == "from" { &r.from } else { &r.to };
    if written.as_ref().is_none_or(Vec::is_empty) {
        fail_closed.get_or_insert(format!("`{peers_key}` lists no peer"));
    }
    for (i, p) in written.iter().flatten().enumerate() {
        let at = join_index(&peers_path, i);
        let known = usize::from(p.namespaces.is_some())
            + usize::from(p.pods.is_some())
            + usize::from(p.networks.is_some())
            + usize::from(p.nodes.is_some())
            + usize::from(p.domain_names.is_some());
        if known == 0 {
            let unknown: Vec<&str> = p.other.keys().map(String::as_str).collect();
            fail_closed.get_or_insert(if unknown.is_empty() {
                format!("`{at}` sets no peer field")
            } else {
                format!("`{at}` sets only fields this model does not know ({})", unknown.join(", "))
            });
            continue;
        }
        if let Some(ns) = &p.namespaces {
            let kind = PeerKind::Pods { namespaces: NamespaceScope::Selected(Selector::parse(ns)), pods: Selector::everything() };
            peers.push(Peer { path: join_key(&at, "namespaces"), kind });
        }
        if let Some(np) = &p.pods {
            let kind = PeerKind::Pods { namespaces: NamespaceScope::Selected(selector(np.namespace_selector.as_ref())), pods: selector(np.pod_selector.as_ref()) };
            peers.push(Peer { path: join_key(&at, "pods"), kind });
        }
        for (j, cidr) in p.networks.iter().flatten().enumerate() {
            let kind = match parse_cidr(cidr) {
                Ok(cidr) => PeerKind::IpBlock { cidr, except: Vec::new() },
                Err(e) => PeerKind::Invalid(format!("network {cidr:?}: {e}")),
            };
            peers.push(Peer { path: join_index(&join_key(&at, "networks"), j), kind });
        }
        if p.nodes.is_some() {
            nodes.push(join_key(&at, "nodes"));
        }
        for (j, d) in p.domain_names.iter().flatten().enumerate() {
            domains.push((join_index(&join_key(&at, "domainNames"), j), d.clone()));
        }
    }
    let ports = if api.is_v1alpha1() { v1alpha1_ports(path, r.ports.as_deref()) } else { protocols(path, r.protocols.as_deref(), &mut fail_closed) };
    ClusterRule {
        path: path.to_string(),
        name: r.name.clone().unwrap_or_default(),
        action,
        rule: PolicyRule { path: path.to_string(), peers: Some(peers), ports },
        domains,
        nodes,
        fail_closed,
    }
}

/// A port number of the API (1–65535), or why not.
fn port_number(n: i64) -> Result<u16, String> {
    u16::try_from(n).ok().filter(|p| *p >= 1).ok_or_else(|| format!("port {n} is not within 1-65535"))
}

fn range(path: String, protocol: Protocol, start: i64, end: i64) -> PortMatch {
    let port = match (port_number(start), port_number(end)) {
        (Ok(a), Ok(b)) if a < b => PortSel::Range(a, b),
        (Ok(_), Ok(_)) => PortSel::Invalid(format!("range start {start} is not below end {end}")),
        (Err(e), _) | (_, Err(e)) => PortSel::Invalid(e),
    };
    PortMatch { path, protocol: Some(protocol), port }
}

/// A named port matches the container port of that name whatever its protocol.
fn named(path: &str, name: &str, out: &mut Vec<PortMatch>) {
    for p in Protocol::ALL {
        out.push(PortMatch { path: path.to_string(), protocol: Some(p), port: PortSel::Named(name.to_string()) });
    }
}

/// v1alpha2 `protocols`: `None` (every port) when absent.
fn protocols(path: &str, specs: Option<&[ProtocolSpec]>, fail_closed: &mut Option<String>) -> Option<Vec<PortMatch>> {
    let specs = specs?;
    let base = join_key(path, "protocols");
    let mut out = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let at = join_index(&base, i);
        let mut known = false;
        for (key, proto, spec) in [("tcp", Protocol::Tcp, &s.tcp), ("udp", Protocol::Udp, &s.udp), ("sctp", Protocol::Sctp, &s.sctp)] {
            let Some(spec) = spec else { continue };
            known = true;
            let field = join_key(&at, key);
            match &spec.destination_port {
                None => out.push(PortMatch { path: field, protocol: Some(proto), port: PortSel::All }),
                Some(DestinationPort { number: Some(n), range: None }) => {
                    let port = match port_number(*n) {
                        Ok(p) => PortSel::Range(p, p),
                        Err(e) => PortSel::Invalid(e),
                    };
                    out.push(PortMatch { path: join_key(&join_key(&field, "destinationPort"), "number"), protocol: Some(proto), port });
                }
                Some(DestinationPort { number: None, range: Some(r) }) => {
                    out.push(range(join_key(&join_key(&field, "destinationPort"), "range"), proto, r.start.unwrap_or(0), r.end.unwrap_or(0)));
                }
                Some(_) => out.push(PortMatch {
                    path: join_key(&field, "destinationPort"),
                    protocol: Some(proto),
                    port: PortSel::Invalid("`destinationPort` must set exactly one of `number` and `range`".into()),
                }),
            }
        }
        if let Some(name) = &s.destination_named_port {
            known = true;
            named(&join_key(&at, "destinationNamedPort"), name, &mut out);
        }
        if !known {
            fail_closed.get_or_insert(format!("`{at}` sets no protocol field this model knows"));
        }
    }
    Some(out)
}

/// v1alpha1 `ports`: `None` (every port) when absent.
fn v1alpha1_ports(path: &str, specs: Option<&[V1Alpha1Port]>) -> Option<Vec<PortMatch>> {
    let specs = specs?;
    let base = join_key(path, "ports");
    let mut out = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let at = join_index(&base, i);
        let proto = |p: &Option<String>| Protocol::parse(p.as_deref().unwrap_or("TCP"));
        if let Some(n) = &s.port_number {
            let port = match port_number(n.port.unwrap_or(0)) {
                Ok(p) => PortSel::Range(p, p),
                Err(e) => PortSel::Invalid(e),
            };
            out.push(PortMatch { path: join_key(&at, "portNumber"), protocol: proto(&n.protocol), port });
        }
        if let Some(r) = &s.port_range {
            let mut m = range(join_key(&at, "portRange"), Protocol::Tcp, r.start.unwrap_or(0), r.end.unwrap_or(0));
            m.protocol = proto(&r.protocol);
            out.push(m);
        }
        if let Some(name) = &s.named_port {
            named(&join_key(&at, "namedPort"), name, &mut out);
        }
    }
    Some(out)
}

/// The spec of all three kinds as written; fields of the other API version are kept so the
/// validation rule can say they are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPolicySpec {
    /// `Admin` or `Baseline` (v1alpha2).
    pub tier: Option<String>,
    /// 0–1000.
    pub priority: Option<i64>,
    /// The pods it applies to.
    pub subject: Option<SubjectSpec>,
    /// Ingress rules.
    pub ingress: Option<Vec<RuleSpec>>,
    /// Egress rules.
    pub egress: Option<Vec<RuleSpec>>,
}

/// `subject`: exactly one of `namespaces` and `pods`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectSpec {
    /// Every pod of the selected namespaces.
    pub namespaces: Option<LabelSelector>,
    /// Pods by namespace AND pod selector.
    pub pods: Option<NamespacedPodSpec>,
}

/// `pods` of a subject or peer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedPodSpec {
    /// Namespaces (empty: all).
    pub namespace_selector: Option<LabelSelector>,
    /// Pods in them (empty: all).
    pub pod_selector: Option<LabelSelector>,
}

/// One ingress or egress rule as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSpec {
    /// Identifier, ≤ 100 characters.
    pub name: Option<String>,
    /// `Accept`/`Deny`/`Pass` (v1alpha2) or `Allow`/`Deny`/`Pass` (v1alpha1).
    pub action: Option<String>,
    /// Ingress peers.
    pub from: Option<Vec<PeerSpec>>,
    /// Egress peers.
    pub to: Option<Vec<PeerSpec>>,
    /// v1alpha2 ports.
    pub protocols: Option<Vec<ProtocolSpec>>,
    /// v1alpha1 ports.
    pub ports: Option<Vec<V1Alpha1Port>>,
}

/// One peer as written: exactly one field must be set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerSpec {
    /// Every pod of the selected namespaces.
    pub namespaces: Option<LabelSelector>,
    /// Pods by namespace AND pod selector.
    pub pods: Option<NamespacedPodSpec>,
    /// CIDRs (egress).
    pub networks: Option<Vec<String>>,
    /// Nodes by label (egress, experimental).
    pub nodes: Option<LabelSelector>,
    /// Domain names (egress Accept, experimental).
    pub domain_names: Option<Vec<String>>,
    /// Fields of a newer API: a peer with only these fails closed.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One `protocols` item (v1alpha2): exactly one field must be set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolSpec {
    /// TCP ports.
    pub tcp: Option<ProtocolPorts>,
    /// UDP ports.
    pub udp: Option<ProtocolPorts>,
    /// SCTP ports.
    pub sctp: Option<ProtocolPorts>,
    /// A container port name on the destination pod (experimental).
    pub destination_named_port: Option<String>,
}

/// The ports of one protocol; no `destinationPort`: every port.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolPorts {
    /// A port number or a range.
    pub destination_port: Option<DestinationPort>,
}

/// Exactly one of `number` and `range`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DestinationPort {
    /// One port.
    pub number: Option<i64>,
    /// An inclusive range with start < end.
    pub range: Option<PortRangeSpec>,
}

/// An inclusive port range.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PortRangeSpec {
    /// v1alpha1 only: TCP when absent.
    pub protocol: Option<String>,
    /// First port.
    pub start: Option<i64>,
    /// Last port (must be above `start`).
    pub end: Option<i64>,
}

/// One v1alpha1 `ports` item: exactly one field must be set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V1Alpha1Port {
    /// One port of one protocol.
    pub port_number: Option<V1Alpha1PortNumber>,
    /// A container port name.
    pub named_port: Option<String>,
    /// A range of one protocol.
    pub port_range: Option<PortRangeSpec>,
}

/// `portNumber` (v1alpha1).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct V1Alpha1PortNumber {
    /// TCP when absent.
    pub protocol: Option<String>,
    /// The port.
    pub port: Option<i64>,
}
