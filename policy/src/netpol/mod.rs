//! The reachability engine: who is isolated, what each policy allows, and why.
//!
//! Kubernetes semantics, exactly: a pod is isolated for a direction iff some policy selecting it
//! has that direction in its effective `policyTypes`; what it may do is the union of the rules of
//! those policies; a connection needs the source's egress *and* the destination's ingress.
//! No rule ids and no diagnostics here — rules ask this engine questions.

mod connlist;
mod explain;
mod ports;
mod service;
mod tiers;

use std::collections::HashMap;
use std::net::IpAddr;

pub use connlist::{address_atoms, ConnEntry, Connectivity, PeerRef};
pub use explain::{Endpoint, KnownPods, SideVerdict, Target, TierDecision, Verdict};
pub use ports::{ConnSet, PortSet};
pub use service::{ApiServer, Blocked, Reach};

use tiers::{Other, Tiers};
pub use tiers::{ShadowedRule, TierOverlap};
use crate::model::{ClusterPolicy, ClusterRule, Tier, ContainerPort, Labels, Requirement, Selector, NamespaceScope, NetworkPolicy, PeerKind, PortMatch, PortSel, Protocol, PolicyRule, Workload, Workspace};

/// Direction of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Traffic into the selected pods.
    Ingress,
    /// Traffic out of the selected pods.
    Egress,
}

impl Direction {
    /// `Ingress` or `Egress`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        }
    }

    /// Whether `p` isolates this direction (its effective policyTypes name it).
    pub fn isolates(self, p: &NetworkPolicy) -> bool {
        match self {
            Direction::Ingress => p.policy_types.ingress,
            Direction::Egress => p.policy_types.egress,
        }
    }

    /// The rules of cluster policy `p` for this direction, in precedence order.
    pub fn cluster_rules(self, p: &ClusterPolicy) -> &[ClusterRule] {
        match self {
            Direction::Ingress => &p.ingress,
            Direction::Egress => &p.egress,
        }
    }

    /// The rules of `p` for this direction as written, kept even when `p` does not isolate
    /// the direction (then they have no effect).
    pub fn rules(self, p: &NetworkPolicy) -> &[PolicyRule] {
        match self {
            Direction::Ingress => &p.ingress,
            Direction::Egress => &p.egress,
        }
    }
}

/// A set of workload indices. Words are allocated up to the highest member only: most rules
/// of a large input select few pods or none (ipBlock-only rules).
#[derive(Debug, Clone, Default)]
pub struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    fn new() -> Self {
        Self::default()
    }

    fn insert(&mut self, i: usize) {
        let wi = i / 64;
        if self.words.len() <= wi {
            self.words.resize(wi + 1, 0);
        }
        if let Some(w) = self.words.get_mut(wi) {
            *w |= 1 << (i % 64);
        }
    }

    /// The smallest member of both sets.
    fn first_common(&self, other: &BitSet) -> Option<usize> {
        self.words.iter().zip(&other.words).enumerate().find_map(|(wi, (a, b))| {
            let both = a & b;
            (both != 0).then(|| wi * 64 + both.trailing_zeros() as usize)
        })
    }

    fn remove(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w &= !(1 << (i % 64));
        }
    }

    fn union_with(&mut self, other: &BitSet) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w |= o;
        }
    }

    /// Whether `i` is in the set.
    pub fn contains(&self, i: usize) -> bool {
        self.words.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(wi * 64 + b)
            })
        })
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
}

/// A rule, precompiled: which workloads its peers match and which ports it allows.
#[derive(Debug, Clone)]
struct CompiledRule {
    /// Index among all compiled rules of the engine, for per-rule caches.
    id: usize,
    /// No `from`/`to`: every peer, in-cluster and external.
    all_peers: bool,
    /// Workloads matched by pod peers or by ipBlocks containing a pod IP.
    pods: BitSet,
    /// ipBlock peers (for external addresses).
    blocks: Vec<(ipnet::IpNet, Vec<ipnet::IpNet>)>,
    /// Ports allowed whatever the destination.
    fixed: ConnSet,
    /// Named ports, resolved on the destination pod.
    named: Vec<(Protocol, String)>,
}

impl CompiledRule {
    fn ports_to(&self, dst: Option<&Workload>) -> ConnSet {
        if self.named.is_empty() {
            return self.fixed.clone();
        }
        let mut out = self.fixed.clone();
        if let Some(w) = dst {
            for (proto, name) in &self.named {
                for p in resolve_named(w, *proto, name) {
                    out.add(*proto, p, p);
                }
            }
        }
        out
    }

    fn matches_ip(&self, ip: IpAddr) -> bool {
        self.all_peers || self.blocks.iter().any(|(cidr, except)| block_contains(cidr, except, ip))
    }
}

/// Whether an ipBlock (cidr minus except) contains `ip`.
pub fn block_contains(cidr: &ipnet::IpNet, except: &[ipnet::IpNet], ip: IpAddr) -> bool {
    cidr.contains(&ip) && !except.iter().any(|e| e.contains(&ip))
}

/// Port numbers a named port resolves to on `w` for `proto`.
pub fn resolve_named(w: &Workload, proto: Protocol, name: &str) -> Vec<u16> {
    resolve_named_in(&w.ports, proto, name)
}

/// Port numbers a named port resolves to among declared container `ports` for `proto`.
pub fn resolve_named_in(ports: &[ContainerPort], proto: Protocol, name: &str) -> Vec<u16> {
    ports
        .iter()
        .filter(|p| p.name.as_deref() == Some(name) && p.protocol == Some(proto))
        .filter_map(|p| u16::try_from(p.number).ok())
        .collect()
}

/// The compiled rules of one policy.
#[derive(Debug, Clone, Default)]
struct CompiledPolicy {
    ingress: Vec<CompiledRule>,
    egress: Vec<CompiledRule>,
}

/// Answers reachability questions over one workspace.
pub struct Engine<'w> {
    ws: &'w Workspace,
    /// Per workload: policies that select it and isolate ingress.
    ingress_by: Vec<Vec<usize>>,
    /// Per workload: policies that select it and isolate egress.
    egress_by: Vec<Vec<usize>>,
    /// Per policy: compiled rules.
    compiled: Vec<CompiledPolicy>,
    /// Number of compiled rules (ids are `0..rule_count`).
    rule_count: usize,
    /// Per policy: the workloads its podSelector selects (whatever its policyTypes).
    selected: Vec<Vec<usize>>,
    /// Workloads per namespace, in input order.
    by_namespace: HashMap<String, Vec<usize>>,
    /// The cluster-wide tiers (ClusterNetworkPolicy and its predecessors).
    tiers: Tiers,
}

impl<'w> Engine<'w> {
    /// Precompute selections and rule matches.
    pub fn new(ws: &'w Workspace) -> Self {
        let n = ws.workloads.len();
        let mut ingress_by = vec![Vec::new(); n];
        let mut egress_by = vec![Vec::new(); n];
        let mut compiled = Vec::with_capacity(ws.policies.len());
        let mut ix = Indexes::new(ws);
        let mut next_rule = 0;
        let mut selected = vec![Vec::new(); ws.policies.len()];
        for (pi, p) in ws.policies.iter().enumerate() {
            // The podSelector picks pods of the policy's namespace, as a peer without a
            // namespaceSelector does.
            let own = NamespaceScope::Own(p.namespace.clone());
            for wi in pod_peer(ws, &own, &p.pod_selector, &mut ix).iter() {
                if let Some(v) = selected.get_mut(pi) {
                    v.push(wi);
                }
                if p.policy_types.ingress {
                    if let Some(v) = ingress_by.get_mut(wi) {
                        v.push(pi);
                    }
                }
                if p.policy_types.egress {
                    if let Some(v) = egress_by.get_mut(wi) {
                        v.push(pi);
                    }
                }
            }
            let mut compile = |rules: &[PolicyRule]| -> Vec<CompiledRule> {
                rules
                    .iter()
                    .map(|r| {
                        let mut c = compile_rule(ws, r, &mut ix);
                        c.id = next_rule;
                        next_rule += 1;
                        c
                    })
                    .collect()
            };
            let ingress = if p.policy_types.ingress { compile(&p.ingress) } else { Vec::new() };
            let egress = if p.policy_types.egress { compile(&p.egress) } else { Vec::new() };
            compiled.push(CompiledPolicy { ingress, egress });
        }
        let tiers = Tiers::new(ws, &mut ix, &mut next_rule);
        let by_namespace = ix.by_ns.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Self { ws, ingress_by, egress_by, compiled, rule_count: next_rule, selected, by_namespace, tiers }
    }

    /// Workloads that policy `p`'s podSelector selects, whatever its policyTypes.
    pub fn selected_by(&self, p: usize) -> &[usize] {
        self.selected.get(p).map_or(&[], Vec::as_slice)
    }

    /// Workloads of namespace `ns`, in input order.
    pub fn workloads_in(&self, ns: &str) -> &[usize] {
        self.by_namespace.get(ns).map_or(&[], Vec::as_slice)
    }

    /// The workspace this engine answers for.
    pub fn workspace(&self) -> &'w Workspace {
        self.ws
    }

    /// Policies that isolate `w` in `dir` (sorted by input order).
    pub fn isolating(&self, w: usize, dir: Direction) -> &[usize] {
        let v = match dir {
            Direction::Ingress => &self.ingress_by,
            Direction::Egress => &self.egress_by,
        };
        v.get(w).map_or(&[], Vec::as_slice)
    }

    /// Whether `w` is isolated in `dir`.
    pub fn is_isolated(&self, w: usize, dir: Direction) -> bool {
        !self.isolating(w, dir).is_empty()
    }

    fn rules(&self, policy: usize, dir: Direction) -> &[CompiledRule] {
        self.compiled.get(policy).map_or(&[], |c| match dir {
            Direction::Ingress => c.ingress.as_slice(),
            Direction::Egress => c.egress.as_slice(),
        })
    }

    /// Workloads selected by the peers of rule `rule` (its index among the policy's `dir` rules);
    /// `None` when the rule has no peers (it selects everything) or the policy does not isolate
    /// `dir` (its rules there are not in force).
    pub fn rule_pods(&self, policy: usize, dir: Direction, rule: usize) -> Option<Vec<usize>> {
        let r = self.rules(policy, dir).get(rule)?;
        (!r.all_peers).then(|| r.pods.iter().collect())
    }

    /// What `src`'s egress allows towards workload `dst`, through every tier.
    pub fn egress_to_pod(&self, src: usize, dst: usize) -> ConnSet {
        let np = || self.side(src, Direction::Egress, |r| r.all_peers || r.pods.contains(dst), Some(dst));
        self.tiered(src, Direction::Egress, Other::Pod(dst), Some(dst), np)
    }

    /// What `dst`'s ingress allows from workload `src`, through every tier.
    pub fn ingress_from_pod(&self, dst: usize, src: usize) -> ConnSet {
        let np = || self.side(dst, Direction::Ingress, |r| r.all_peers || r.pods.contains(src), Some(dst));
        self.tiered(dst, Direction::Ingress, Other::Pod(src), Some(dst), np)
    }

    /// What `src`'s egress allows towards external address `ip`, through every tier.
    pub fn egress_to_ip(&self, src: usize, ip: IpAddr) -> ConnSet {
        let np = || self.side(src, Direction::Egress, |r| r.matches_ip(ip), None);
        self.tiered(src, Direction::Egress, Other::Ip(ip), None, np)
    }

    /// What `dst`'s ingress allows from external address `ip`, through every tier.
    pub fn ingress_from_ip(&self, dst: usize, ip: IpAddr) -> ConnSet {
        let np = || self.side(dst, Direction::Ingress, |r| r.matches_ip(ip), Some(dst));
        self.tiered(dst, Direction::Ingress, Other::Ip(ip), Some(dst), np)
    }

    /// Whether any ClusterNetworkPolicy (or AdminNetworkPolicy, BaselineAdminNetworkPolicy)
    /// is in force.
    pub fn has_cluster_policies(&self) -> bool {
        !self.tiers.is_empty()
    }

    /// Whether a cluster policy rule that can drop traffic (a Deny, or a rule failing closed
    /// to one) applies to workload `w` in `dir`.
    pub fn cluster_may_deny(&self, w: usize, dir: Direction) -> bool {
        self.tiers.may_deny(w, dir)
    }

    /// The workloads cluster policy `p` (index in `Workspace::cluster_policies`) applies to.
    pub fn cluster_subjects(&self, p: usize) -> Vec<usize> {
        self.tiers.subjects(p)
    }

    /// Whether a rule of `tier` applies to workload `w` in `dir`.
    pub fn tier_governs(&self, tier: Tier, w: usize, dir: Direction) -> bool {
        self.tiers.rules_for(tier, dir, w).next().is_some()
    }

    /// Equal-priority cluster policies whose rules decide a common connection differently.
    pub fn cluster_overlaps(&self) -> Vec<TierOverlap> {
        self.tiers.overlaps(self.ws)
    }

    /// Cluster rules that no connection of the input reaches.
    pub fn shadowed_cluster_rules(&self) -> Vec<ShadowedRule> {
        self.tiers.shadowed(self.ws)
    }

    /// Whether a cluster policy applies to workload `w` in `dir`.
    pub fn cluster_governed(&self, w: usize, dir: Direction) -> bool {
        self.tiers.governs(w, dir)
    }

    /// `np` (the NetworkPolicy tier's answer) inside the Admin and Baseline tiers.
    fn tiered(&self, w: usize, dir: Direction, other: Other, dst: Option<usize>, np: impl FnOnce() -> ConnSet) -> ConnSet {
        if self.tiers.is_empty() {
            return np();
        }
        let owner = dst.and_then(|i| self.ws.workloads.get(i));
        self.tiers.side(w, dir, other, owner, || self.is_isolated(w, dir).then(np))
    }

    /// Union of the matching rules of the policies isolating `w` in `dir`; everything when
    /// `w` is not isolated. Named ports resolve on `port_owner` (the destination).
    fn side(&self, w: usize, dir: Direction, matches: impl Fn(&CompiledRule) -> bool, port_owner: Option<usize>) -> ConnSet {
        let policies = self.isolating(w, dir);
        if policies.is_empty() {
            return ConnSet::all();
        }
        let owner = port_owner.and_then(|i| self.ws.workloads.get(i));
        let mut out = ConnSet::none();
        for &p in policies {
            for r in self.rules(p, dir) {
                if matches(r) {
                    out.union_with(&r.ports_to(owner));
                    if out.is_all() {
                        return out;
                    }
                }
            }
        }
        out
    }

    /// Connections allowed from workload `src` to workload `dst`.
    pub fn pod_to_pod(&self, src: usize, dst: usize) -> ConnSet {
        let e = self.egress_to_pod(src, dst);
        if e.is_empty() {
            return e;
        }
        e.intersect(&self.ingress_from_pod(dst, src))
    }

    /// Every valid ipBlock (cidr, except) of a `dir` rule, for splitting the address space.
    pub fn ip_blocks(&self, dir: Direction) -> Vec<(ipnet::IpNet, Vec<ipnet::IpNet>)> {
        let mut out = Vec::new();
        for c in &self.compiled {
            let rules = match dir {
                Direction::Ingress => &c.ingress,
                Direction::Egress => &c.egress,
            };
            for r in rules {
                out.extend(r.blocks.iter().cloned());
            }
        }
        for t in [Tier::Admin, Tier::Baseline] {
            for r in self.tiers.rules(t, dir) {
                out.extend(r.ip_blocks().iter().cloned());
            }
        }
        out
    }
}

/// Items (workloads or namespaces) by label, so a selector is matched only against the items
/// that carry one of its required labels, not against every item.
struct LabelIndex<'a> {
    /// Items, ascending, per (key, value).
    by_pair: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Items, ascending, per key.
    by_key: HashMap<&'a str, Vec<usize>>,
}

impl<'a> LabelIndex<'a> {
    fn new(labels: impl Iterator<Item = &'a Labels>) -> Self {
        let mut by_pair: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, l) in labels.enumerate() {
            for (k, v) in l {
                by_pair.entry((k.as_str(), v.as_str())).or_default().push(i);
                by_key.entry(k.as_str()).or_default().push(i);
            }
        }
        Self { by_pair, by_key }
    }

    /// The items that can match `sel`, ascending: those of its narrowest `In`/`Exists`
    /// requirement. `None` when it has none (`{}`, or only negative requirements), so every
    /// item must be tried. A superset: callers still check `sel.matches`.
    fn candidates(&self, sel: &Selector) -> Option<Vec<usize>> {
        let mut best: Option<(usize, &Requirement)> = None;
        for r in &sel.requirements {
            let size = match r {
                Requirement::In(k, vs) => vs.iter().map(|v| self.by_pair.get(&(k.as_str(), v.as_str())).map_or(0, Vec::len)).sum(),
                Requirement::Exists(k) => self.by_key.get(k.as_str()).map_or(0, Vec::len),
                Requirement::NotIn(..) | Requirement::DoesNotExist(_) => continue,
            };
            if best.is_none_or(|(b, _)| size < b) {
                best = Some((size, r));
            }
        }
        let (_, r) = best?;
        Some(match r {
            Requirement::In(k, vs) => {
                let mut out: Vec<usize> =
                    vs.iter().flat_map(|v| self.by_pair.get(&(k.as_str(), v.as_str())).into_iter().flatten().copied()).collect();
                out.sort_unstable();
                out.dedup();
                out
            }
            Requirement::Exists(k) => self.by_key.get(k.as_str()).cloned().unwrap_or_default(),
            Requirement::NotIn(..) | Requirement::DoesNotExist(_) => Vec::new(),
        })
    }
}

/// What the engine builds once and every rule compilation reads.
struct Indexes<'w> {
    /// Workloads per namespace, ascending.
    by_ns: HashMap<&'w str, Vec<usize>>,
    /// Workloads by label.
    pods: LabelIndex<'w>,
    /// Namespaces (in name order) and their index by label.
    namespaces: Vec<&'w crate::model::Namespace>,
    ns_labels: LabelIndex<'w>,
    /// Workloads of the namespaces a namespaceSelector selects, per selector.
    ns_cache: HashMap<Selector, BitSet>,
    /// Workloads a pod peer selects, per (namespace scope, pod selector): policies repeat the
    /// same peers, and matching one is a pass over many pods.
    peer_cache: HashMap<(NamespaceScope, Selector), BitSet>,
    /// Only pods whose manifest carries an IP can be matched by an ipBlock.
    with_ips: Vec<usize>,
}

impl<'w> Indexes<'w> {
    fn new(ws: &'w Workspace) -> Self {
        let mut by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, w) in ws.workloads.iter().enumerate() {
            by_ns.entry(w.namespace.as_str()).or_default().push(i);
        }
        let namespaces: Vec<_> = ws.namespaces.values().collect();
        Self {
            by_ns,
            pods: LabelIndex::new(ws.workloads.iter().map(|w| &w.labels)),
            ns_labels: LabelIndex::new(namespaces.iter().map(|ns| &ns.labels)),
            namespaces,
            ns_cache: HashMap::new(),
            peer_cache: HashMap::new(),
            with_ips: ws.workloads.iter().enumerate().filter(|(_, w)| !w.ips.is_empty()).map(|(i, _)| i).collect(),
        }
    }

    /// Workloads in the namespaces `nsel` selects.
    fn selected_namespaces(&mut self, nsel: &Selector) -> &BitSet {
        let key = nsel.clone();
        let Self { by_ns, namespaces, ns_labels, .. } = self;
        self.ns_cache.entry(key).or_insert_with(|| {
            let mut s = BitSet::new();
            let all: Vec<usize>;
            let candidates = match ns_labels.candidates(nsel) {
                Some(c) => c,
                None => {
                    all = (0..namespaces.len()).collect();
                    all
                }
            };
            for ns in candidates.iter().filter_map(|&i| namespaces.get(i)).filter(|ns| nsel.matches(&ns.labels)) {
                by_ns.get(ns.name.as_str()).into_iter().flatten().for_each(|&i| s.insert(i));
            }
            s
        })
    }
}

/// Workloads a pod peer (namespace scope and pod selector, ANDed) selects.
fn pod_peer(ws: &Workspace, namespaces: &NamespaceScope, sel: &Selector, ix: &mut Indexes<'_>) -> BitSet {
    let mut pods = BitSet::new();
    if sel.invalid.is_some() {
        return pods;
    }
    let matches = |i: usize| ws.workloads.get(i).is_some_and(|w| sel.matches(&w.labels));
    let candidates = ix.pods.candidates(sel);
    match namespaces {
        NamespaceScope::Own(ns) => {
            let own = ix.by_ns.get(ns.as_str()).map_or(&[][..], Vec::as_slice);
            match candidates {
                Some(c) if c.len() < own.len() => {
                    let in_ns = |i: usize| ws.workloads.get(i).is_some_and(|w| w.namespace == *ns);
                    c.into_iter().filter(|&i| in_ns(i) && matches(i)).for_each(|i| pods.insert(i));
                }
                _ => own.iter().copied().filter(|&i| matches(i)).for_each(|i| pods.insert(i)),
            }
        }
        NamespaceScope::Selected(nsel) => {
            if nsel.invalid.is_some() {
                return pods;
            }
            let scope = ix.selected_namespaces(nsel);
            match candidates {
                Some(c) => c.into_iter().filter(|&i| scope.contains(i) && matches(i)).for_each(|i| pods.insert(i)),
                None if sel.is_everything() => pods.union_with(scope),
                None => scope.iter().filter(|&i| matches(i)).for_each(|i| pods.insert(i)),
            }
        }
    }
    pods
}

fn compile_rule(ws: &Workspace, rule: &PolicyRule, ix: &mut Indexes<'_>) -> CompiledRule {
    let mut pods = BitSet::new();
    let mut blocks = Vec::new();
    for peer in rule.peers.iter().flatten() {
        match &peer.kind {
            PeerKind::Pods { namespaces, pods: sel } => {
                let key = (namespaces.clone(), sel.clone());
                if let Some(set) = ix.peer_cache.get(&key) {
                    pods.union_with(set);
                    continue;
                }
                let set = pod_peer(ws, namespaces, sel, ix);
                pods.union_with(&set);
                ix.peer_cache.insert(key, set);
            }
            PeerKind::IpBlock { cidr, except } => {
                blocks.push((*cidr, except.clone()));
                for &i in &ix.with_ips {
                    if ws.workloads.get(i).is_some_and(|w| w.ips.iter().any(|ip| block_contains(cidr, except, *ip))) {
                        pods.insert(i);
                    }
                }
            }
            PeerKind::Invalid(_) => {}
        }
    }
    let (fixed, named) = compile_ports(rule.ports.as_deref());
    CompiledRule { id: 0, all_peers: rule.peers.is_none(), pods, blocks, fixed, named }
}

fn compile_ports(ports: Option<&[PortMatch]>) -> (ConnSet, Vec<(Protocol, String)>) {
    let Some(ports) = ports else { return (ConnSet::all(), Vec::new()) };
    let mut fixed = ConnSet::none();
    let mut named = Vec::new();
    for p in ports {
        let Some(proto) = p.protocol else { continue };
        match &p.port {
            PortSel::All => fixed.add_protocol(proto),
            PortSel::Range(a, b) => fixed.add(proto, *a, *b),
            PortSel::Named(name) => named.push((proto, name.clone())),
            PortSel::Invalid(_) => {}
        }
    }
    (fixed, named)
}
