//! The cluster-wide tiers around the NetworkPolicies: per direction, the Admin tier's rules
//! in precedence order (first match decides: Accept allows, Deny drops, Pass hands the
//! connection to the NetworkPolicies), then the NetworkPolicies for pods they isolate, then
//! the Baseline tier (first match again; Pass leaves it to the default), then the default:
//! allowed.
//!
//! Precedence: ascending `priority`; equal priorities (implementation-defined upstream; the
//! overlap is reported) in the order (name, kind), so the verdict never depends on the order
//! of documents; within a policy, rule order.

use std::net::IpAddr;

use super::{compile_rule, BitSet, CompiledRule, ConnSet, Direction, Indexes};
use crate::model::{Action, ClusterPolicy, Labels, Tier, Workload, Workspace};

/// What a compiled cluster rule matches when it fails closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailClosed {
    /// Matches as written.
    No,
    /// An Accept rule with an unknown part: matches nothing.
    Nothing,
    /// A Deny or Pass rule with an unknown part: matches every connection.
    Everything,
}

/// One rule of a cluster policy, compiled.
#[derive(Debug, Clone)]
pub(crate) struct TierRule {
    /// Index of the policy in `Workspace::cluster_policies`.
    pub(crate) policy: usize,
    /// Index of the rule among the policy's rules of its direction.
    pub(crate) index: usize,
    /// What it does (an unknown action fails closed as a Deny).
    pub(crate) action: Action,
    matcher: CompiledRule,
    fail_closed: FailClosed,
}

/// The other end of a connection as the tiers see it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Other {
    /// A workload of the input.
    Pod(usize),
    /// An address that is not a workload.
    Ip(IpAddr),
}

impl TierRule {
    /// Whether the rule's peers match `other`.
    fn matches(&self, other: Other) -> bool {
        match self.fail_closed {
            FailClosed::Nothing => false,
            FailClosed::Everything => true,
            FailClosed::No => match other {
                Other::Pod(i) => self.matcher.pods.contains(i),
                Other::Ip(ip) => self.matcher.matches_ip(ip),
            },
        }
    }

    /// The ports the rule covers towards `dst` (named ports resolve on it).
    fn ports(&self, dst: Option<&Workload>) -> ConnSet {
        if self.fail_closed == FailClosed::Everything {
            return ConnSet::all();
        }
        self.matcher.ports_to(dst)
    }

    /// The workloads the rule's peers match; `None` when it matches every peer (it fails
    /// closed to everything).
    pub(crate) fn pods(&self) -> Option<&BitSet> {
        static NOTHING: BitSet = BitSet { words: Vec::new() };
        match self.fail_closed {
            FailClosed::Everything => None,
            FailClosed::Nothing => Some(&NOTHING),
            FailClosed::No => Some(&self.matcher.pods),
        }
    }

    /// The compiled peers and ports.
    pub(crate) fn matcher(&self) -> &CompiledRule {
        &self.matcher
    }

    /// The rule's id among all compiled rules of the engine (for per-rule caches).
    pub(crate) fn id(&self) -> usize {
        self.matcher.id
    }

    pub(crate) fn ip_blocks(&self) -> &[(ipnet::IpNet, Vec<ipnet::IpNet>)] {
        &self.matcher.blocks
    }
}

/// The compiled tiers of one workspace.
#[derive(Debug, Default)]
pub(crate) struct Tiers {
    /// Per cluster policy: the workloads it applies to (host-network pods never).
    subjects: Vec<BitSet>,
    /// Admin then Baseline; per tier, ingress then egress rules in precedence order.
    rules: [[Vec<TierRule>; 2]; 2],
}

fn tier_slot(t: Tier) -> usize {
    match t {
        Tier::Admin => 0,
        Tier::Baseline => 1,
    }
}

fn dir_slot(d: Direction) -> usize {
    match d {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

/// Whether policy `p`'s subject selects pods of namespace labels `ns` and pod `labels`.
pub(crate) fn subject_matches(p: &ClusterPolicy, ns: &Labels, labels: &Labels) -> bool {
    p.subject.invalid.is_none() && p.subject.namespaces.matches(ns) && p.subject.pods.matches(labels)
}

/// Cluster policies in precedence order (tier, priority, name, kind); those without a valid
/// tier are not in force.
pub(crate) fn precedence(ws: &Workspace) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ws.cluster_policies.len()).filter(|&i| ws.cluster_policies.get(i).is_some_and(|p| p.tier.is_some())).collect();
    order.sort_by_key(|&i| ws.cluster_policies.get(i).map(|p| (p.tier, p.priority, p.name.clone(), p.api)));
    order
}

impl Tiers {
    /// Compile every cluster policy of `ws`; rule ids continue from `next_id`, which is
    /// advanced past them.
    pub(crate) fn new(ws: &Workspace, ix: &mut Indexes<'_>, next_id: &mut usize) -> Self {
        let mut tiers = Tiers::default();
        if ws.cluster_policies.is_empty() {
            return tiers;
        }
        let ns_labels: Vec<Labels> = ws.workloads.iter().map(|w| ws.namespace_labels(&w.namespace)).collect();
        for p in &ws.cluster_policies {
            let mut set = BitSet::new();
            for (i, w) in ws.workloads.iter().enumerate() {
                if !w.host_network() && ns_labels.get(i).is_some_and(|ns| subject_matches(p, ns, &w.labels)) {
                    set.insert(i);
                }
            }
            tiers.subjects.push(set);
        }
        let host_network: Vec<usize> = ws.workloads.iter().enumerate().filter(|(_, w)| w.host_network()).map(|(i, _)| i).collect();
        for pi in precedence(ws) {
            let Some(p) = ws.cluster_policies.get(pi) else { continue };
            let Some(tier) = p.tier else { continue };
            for dir in [Direction::Ingress, Direction::Egress] {
                for (index, r) in dir.cluster_rules(p).iter().enumerate() {
                    let mut matcher = compile_rule(ws, &r.rule, ix);
                    matcher.id = *next_id;
                    *next_id += 1;
                    // Pod peers never include host-network pods.
                    for &h in &host_network {
                        matcher.pods.remove(h);
                    }
                    let action = r.action.unwrap_or(Action::Deny);
                    let fail_closed = match (&r.fail_closed, action) {
                        (None, _) => FailClosed::No,
                        (Some(_), Action::Accept) => FailClosed::Nothing,
                        (Some(_), Action::Deny | Action::Pass) => FailClosed::Everything,
                    };
                    if let Some(v) = tiers.rules.get_mut(tier_slot(tier)).and_then(|t| t.get_mut(dir_slot(dir))) {
                        v.push(TierRule { policy: pi, index, action, matcher, fail_closed });
                    }
                }
            }
        }
        tiers
    }

    /// Whether there is no cluster policy in force.
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.iter().flatten().all(Vec::is_empty)
    }

    /// The rules of `tier` for `dir`, in precedence order.
    pub(crate) fn rules(&self, tier: Tier, dir: Direction) -> &[TierRule] {
        self.rules.get(tier_slot(tier)).and_then(|t| t.get(dir_slot(dir))).map_or(&[], Vec::as_slice)
    }

    /// Whether `r`'s policy applies to workload `w`.
    pub(crate) fn applies(&self, r: &TierRule, w: usize) -> bool {
        self.subjects.get(r.policy).is_some_and(|s| s.contains(w))
    }

    /// The rules of `tier` for `dir` whose policy applies to workload `w`.
    pub(crate) fn rules_for(&self, tier: Tier, dir: Direction, w: usize) -> impl Iterator<Item = &TierRule> + '_ {
        self.rules(tier, dir).iter().filter(move |r| self.applies(r, w))
    }

    /// Whether a Deny rule (or one failing closed to a Deny) applies to `w` in `dir`.
    pub(crate) fn may_deny(&self, w: usize, dir: Direction) -> bool {
        [Tier::Admin, Tier::Baseline].into_iter().any(|t| self.rules_for(t, dir, w).any(|r| r.action == Action::Deny || r.fail_closed == FailClosed::Everything))
    }

    /// Whether any cluster policy applies to `w` in `dir`.
    pub(crate) fn governs(&self, w: usize, dir: Direction) -> bool {
        [Tier::Admin, Tier::Baseline].into_iter().any(|t| self.rules_for(t, dir, w).next().is_some())
    }

    /// What `w`'s side allows in `dir` towards (egress) or from (ingress) `other`, through
    /// every tier. `np` is the NetworkPolicy tier's answer, `None` when no NetworkPolicy
    /// isolates `w` in `dir`; `dst` resolves named ports.
    pub(crate) fn side(&self, w: usize, dir: Direction, other: Other, dst: Option<&Workload>, np: impl FnOnce() -> Option<ConnSet>) -> ConnSet {
        let (mut allowed, handed_on) = self.first_match(Tier::Admin, w, dir, other, dst, ConnSet::all());
        if handed_on.is_empty() {
            return allowed;
        }
        if let Some(np) = np() {
            allowed.union_with(&handed_on.intersect(&np));
            return allowed;
        }
        let (baseline, rest) = self.first_match(Tier::Baseline, w, dir, other, dst, handed_on);
        allowed.union_with(&baseline);
        allowed.union_with(&rest);
        allowed
    }

    /// Run `tier`'s rules over the connections in `open`: (what they accept, what they leave
    /// to the next tier: passed or matched by no rule).
    fn first_match(&self, tier: Tier, w: usize, dir: Direction, other: Other, dst: Option<&Workload>, open: ConnSet) -> (ConnSet, ConnSet) {
        let mut undecided = open;
        let mut accepted = ConnSet::none();
        let mut passed = ConnSet::none();
        for r in self.rules_for(tier, dir, w) {
            if undecided.is_empty() {
                break;
            }
            if !r.matches(other) {
                continue;
            }
            let hit = r.ports(dst).intersect(&undecided);
            if hit.is_empty() {
                continue;
            }
            match r.action {
                Action::Accept => accepted.union_with(&hit),
                Action::Deny => {}
                Action::Pass => passed.union_with(&hit),
            }
            undecided = undecided.subtract(&hit);
        }
        passed.union_with(&undecided);
        (accepted, passed)
    }
}

/// Two rules of equal-priority cluster policies in one tier that both decide some connection
/// of a common subject, with different actions: which applies is implementation-defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierOverlap {
    /// The policy netreach evaluates first (by name, then kind) and its rule.
    pub first: (usize, usize),
    /// The other policy and its rule.
    pub second: (usize, usize),
    /// The direction of both rules.
    pub dir: Direction,
    /// A workload both policies apply to.
    pub subject: usize,
    /// A peer both rules match (a workload, or an address range).
    pub peer: String,
    /// Ports both rules cover.
    pub ports: ConnSet,
}

/// A cluster rule that no connection of the input reaches: for every pod it applies to and
/// every peer it matches, earlier rules of its tier already decide all of its ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowedRule {
    /// The policy and the rule's index in its direction.
    pub rule: (usize, usize),
    /// The direction.
    pub dir: Direction,
    /// The earlier rules that decide what it would, (policy, rule index) in precedence order.
    pub by: Vec<(usize, usize)>,
}

/// How many (subject, peer, earlier rule) checks the shadowing analysis may make in all:
/// beyond that the remaining rules are not judged (a large input never costs unbounded time).
const SHADOW_BUDGET: usize = 5_000_000;

/// How many rule pairs the overlap analysis may compare in all.
const OVERLAP_BUDGET: usize = 2_000_000;

impl Tiers {
    /// The workloads cluster policy `p` applies to.
    pub(crate) fn subjects(&self, p: usize) -> Vec<usize> {
        self.subjects.get(p).map(|s| s.iter().collect()).unwrap_or_default()
    }

    /// Every overlap of equal-priority policies (one per pair of policies and direction).
    pub(crate) fn overlaps(&self, ws: &Workspace) -> Vec<TierOverlap> {
        let mut out = Vec::new();
        let mut budget = OVERLAP_BUDGET;
        for tier in [Tier::Admin, Tier::Baseline] {
            for dir in [Direction::Ingress, Direction::Egress] {
                let rules = self.rules(tier, dir);
                let mut seen = Vec::new();
                for (i, a) in rules.iter().enumerate() {
                    for b in rules.iter().skip(i + 1) {
                        let Some(left) = budget.checked_sub(1) else { return out };
                        budget = left;
                        if a.policy == b.policy || a.action == b.action || seen.contains(&(a.policy, b.policy)) {
                            continue;
                        }
                        let prio = |p: usize| ws.cluster_policies.get(p).map(|p| p.priority);
                        if prio(a.policy) != prio(b.policy) {
                            continue;
                        }
                        let (Some(sa), Some(sb)) = (self.subjects.get(a.policy), self.subjects.get(b.policy)) else { continue };
                        let Some(subject) = sa.first_common(sb) else { continue };
                        let ports = a.ports(None).intersect(&b.ports(None));
                        if ports.is_empty() {
                            continue;
                        }
                        let Some(peer) = common_peer(ws, a, b) else { continue };
                        seen.push((a.policy, b.policy));
                        out.push(TierOverlap { first: (a.policy, a.index), second: (b.policy, b.index), dir, subject, peer, ports });
                    }
                }
            }
        }
        out
    }

    /// Every shadowed rule (see [`ShadowedRule`]).
    pub(crate) fn shadowed(&self, ws: &Workspace) -> Vec<ShadowedRule> {
        let mut out = Vec::new();
        let mut budget = SHADOW_BUDGET;
        for tier in [Tier::Admin, Tier::Baseline] {
            for dir in [Direction::Ingress, Direction::Egress] {
                let rules = self.rules(tier, dir);
                for (k, r) in rules.iter().enumerate() {
                    if let Some(by) = self.shadowed_by(ws, rules, k, r, dir, &mut budget) {
                        out.push(ShadowedRule { rule: (r.policy, r.index), dir, by });
                    }
                }
            }
        }
        out
    }

    fn shadowed_by(&self, ws: &Workspace, rules: &[TierRule], k: usize, r: &TierRule, dir: Direction, budget: &mut usize) -> Option<Vec<(usize, usize)>> {
        let written = ws.cluster_policies.get(r.policy).and_then(|p| dir.cluster_rules(p).get(r.index))?;
        // Domain names and nodes are not in the input: what they match cannot be compared.
        if r.fail_closed != FailClosed::No || !written.domains.is_empty() || !written.nodes.is_empty() {
            return None;
        }
        let earlier = rules.get(..k)?;
        let subjects: Vec<usize> = self.subjects.get(r.policy)?.iter().collect();
        let pods: Vec<usize> = r.matcher.pods.iter().collect();
        let mut blocks: Vec<(ipnet::IpNet, Vec<ipnet::IpNet>)> = r.matcher.blocks.clone();
        for e in earlier {
            blocks.extend(e.matcher.blocks.iter().cloned());
        }
        *budget = budget.checked_sub(blocks.len())?;
        let addresses: Vec<IpAddr> = super::connlist::address_atoms(&blocks).into_iter().map(|(first, _)| first).filter(|ip| r.matcher.matches_ip(*ip)).collect();
        if subjects.is_empty() || (pods.is_empty() && addresses.is_empty()) {
            return None;
        }
        let peers = pods.iter().map(|&p| Other::Pod(p)).chain(addresses.iter().map(|&ip| Other::Ip(ip)));
        let mut by = Vec::new();
        for w in &subjects {
            for peer in peers.clone() {
                let dst = match (dir, peer) {
                    (Direction::Ingress, _) => ws.workloads.get(*w),
                    (Direction::Egress, Other::Pod(p)) => ws.workloads.get(p),
                    (Direction::Egress, Other::Ip(_)) => None,
                };
                let need = r.ports(dst);
                let mut covered = ConnSet::none();
                for e in earlier {
                    *budget = budget.checked_sub(1)?;
                    if self.applies(e, *w) && e.matches(peer) {
                        let ports = e.ports(dst);
                        if !ports.intersect(&need).is_empty() && !by.contains(&(e.policy, e.index)) {
                            by.push((e.policy, e.index));
                        }
                        covered.union_with(&ports);
                    }
                }
                if !need.subtract(&covered).is_empty() {
                    return None;
                }
            }
        }
        Some(by)
    }
}

/// A peer both rules match, for messages: a workload, or an address range.
fn common_peer(ws: &Workspace, a: &TierRule, b: &TierRule) -> Option<String> {
    let everything = |r: &TierRule| r.fail_closed == FailClosed::Everything;
    let pod = match (everything(a), everything(b)) {
        (true, true) => ws.workloads.first().map(|_| 0),
        (true, false) => b.matcher.pods.iter().next(),
        (false, true) => a.matcher.pods.iter().next(),
        (false, false) => a.matcher.pods.first_common(&b.matcher.pods),
    };
    if let Some(w) = pod.and_then(|i| ws.workloads.get(i)) {
        return Some(w.display());
    }
    for (ca, _) in &a.matcher.blocks {
        for (cb, _) in &b.matcher.blocks {
            if ca.contains(cb) || cb.contains(ca) {
                let inner = if ca.prefix_len() >= cb.prefix_len() { ca } else { cb };
                return Some(inner.to_string());
            }
        }
    }
    None
}
