//! The connectivity map: every allowed (source, destination) pair over workloads and the
//! external address ranges induced by the ipBlocks of the input.
//!
//! Maps get large (one entry per workload and address range), so connection sets are
//! interned and combined through caches, and entries are three integers until printed.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use super::{CompiledRule, ConnSet, Direction, Engine};
use crate::model::Tier;

/// One end of a connection in the map.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum PeerRef {
    /// A workload group: `namespace/name[Kind]`.
    Workload {
        /// Display name.
        name: String,
    },
    /// An inclusive range of external addresses.
    External {
        /// First address.
        first: IpAddr,
        /// Last address.
        last: IpAddr,
    },
}

impl PeerRef {
    /// The text form used by the connectivity map.
    pub fn label(&self) -> String {
        match self {
            PeerRef::Workload { name } => name.clone(),
            PeerRef::External { first, last } => format!("{first}-{last}[External]"),
        }
    }

    fn touches(&self, focus: &str) -> bool {
        match self {
            PeerRef::Workload { name } => {
                let base = name.split('[').next().unwrap_or(name);
                base == focus || base.rsplit('/').next() == Some(focus)
            }
            PeerRef::External { .. } => false,
        }
    }
}

/// One allowed pair, as serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnEntry<'a> {
    /// What is allowed, in the text form (`All Connections`, `TCP 80,UDP 53`).
    pub connections: String,
    /// Destination.
    pub dst: &'a PeerRef,
    /// Source.
    pub src: &'a PeerRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    src: u32,
    dst: u32,
    conn: u32,
}

/// The whole map, sorted as its text form is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connectivity {
    peers: Vec<PeerRef>,
    conns: Vec<ConnSet>,
    entries: Vec<Entry>,
}

impl Serialize for Connectivity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Doc<'a> {
            connections: Seq<'a>,
        }
        struct Seq<'a>(&'a Connectivity);
        impl Serialize for Seq<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.entries.len()))?;
                for e in self.0.iter() {
                    seq.serialize_element(&e)?;
                }
                seq.end()
            }
        }
        Doc { connections: Seq(self) }.serialize(s)
    }
}

/// The JSON form of a map computed while it is written.
struct Streamed<'f, 'e, 'w> {
    rows: std::cell::RefCell<Rows<'e, 'w>>,
    focus: Option<&'f str>,
}

impl Serialize for Streamed<'_, '_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Seq<'a, 'f, 'e, 'w>(&'a Streamed<'f, 'e, 'w>);
        impl Serialize for Seq<'_, '_, '_, '_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(None)?;
                let mut rows = self.0.rows.try_borrow_mut().map_err(serde::ser::Error::custom)?;
                rows.for_each(&mut |rows, src, dst, conn| {
                    if !rows.keeps(self.0.focus, src, dst) {
                        return Ok(());
                    }
                    seq.serialize_element(&rows.entry(src, dst, conn))
                })?;
                seq.end()
            }
        }
        #[derive(Serialize)]
        struct Doc<'a, 'f, 'e, 'w> {
            connections: Seq<'a, 'f, 'e, 'w>,
        }
        Doc { connections: Seq(self) }.serialize(s)
    }
}

const NONE: u32 = 0;
const ALL: u32 = 1;

/// Interned connection sets with cached unions and intersections.
struct Conns {
    sets: Vec<ConnSet>,
    index: HashMap<ConnSet, u32>,
    unions: HashMap<(u32, u32), u32>,
    inters: HashMap<(u32, u32), u32>,
}

impl Conns {
    fn new() -> Self {
        let mut c = Conns { sets: Vec::new(), index: HashMap::new(), unions: HashMap::new(), inters: HashMap::new() };
        c.id(ConnSet::none());
        c.id(ConnSet::all());
        c
    }

    fn id(&mut self, set: ConnSet) -> u32 {
        if let Some(&i) = self.index.get(&set) {
            return i;
        }
        let i = u32::try_from(self.sets.len()).unwrap_or(u32::MAX);
        self.sets.push(set.clone());
        self.index.insert(set, i);
        i
    }

    fn get(&self, i: u32) -> ConnSet {
        self.sets.get(i as usize).cloned().unwrap_or_default()
    }

    fn union(&mut self, a: u32, b: u32) -> u32 {
        match (a, b) {
            (NONE, x) | (x, NONE) => x,
            (ALL, _) | (_, ALL) => ALL,
            (x, y) if x == y => x,
            _ => {
                let key = (a.min(b), a.max(b));
                if let Some(&r) = self.unions.get(&key) {
                    return r;
                }
                let mut s = self.get(a);
                s.union_with(&self.get(b));
                let r = self.id(s);
                self.unions.insert(key, r);
                r
            }
        }
    }

    fn inter(&mut self, a: u32, b: u32) -> u32 {
        match (a, b) {
            (NONE, _) | (_, NONE) => NONE,
            (ALL, x) | (x, ALL) => x,
            (x, y) if x == y => x,
            _ => {
                let key = (a.min(b), a.max(b));
                if let Some(&r) = self.inters.get(&key) {
                    return r;
                }
                let s = self.get(a).intersect(&self.get(b));
                let r = self.id(s);
                self.inters.insert(key, r);
                r
            }
        }
    }
}

/// Per-computation state: interned sets and the ports of each rule per destination.
struct Cx<'e, 'w> {
    engine: &'e Engine<'w>,
    conns: Conns,
    /// Per rule id: interned fixed ports (named ports excluded).
    fixed: Vec<Option<u32>>,
    /// (rule id, port signature of the destination) → interned ports.
    named: HashMap<(usize, u32), u32>,
    /// Per workload: id of its container-port list (workloads with equal ports share it).
    signature: Vec<u32>,
}

impl Cx<'_, '_> {
    /// Interned ports a rule allows towards `dst` (named ports resolve on it; never on an IP).
    fn ports(&mut self, r: &CompiledRule, dst: Option<usize>) -> u32 {
        let fixed = match self.fixed.get(r.id).copied().flatten() {
            Some(f) => f,
            None => {
                let f = self.conns.id(r.fixed.clone());
                if let Some(slot) = self.fixed.get_mut(r.id) {
                    *slot = Some(f);
                }
                f
            }
        };
        let Some(d) = dst.filter(|_| !r.named.is_empty()) else { return fixed };
        let sig = self.signature.get(d).copied().unwrap_or(0);
        if let Some(&c) = self.named.get(&(r.id, sig)) {
            return c;
        }
        let c = self.conns.id(r.ports_to(self.engine.ws.workloads.get(d)));
        self.named.insert((r.id, sig), c);
        c
    }

    /// What `d`'s ingress allows from workload `s`.
    fn ingress_from(&mut self, d: usize, s: usize) -> u32 {
        let engine = self.engine;
        let policies = engine.isolating(d, Direction::Ingress);
        if policies.is_empty() {
            return ALL;
        }
        let mut acc = NONE;
        for &p in policies {
            for r in engine.rules(p, Direction::Ingress) {
                if r.all_peers || r.pods.contains(s) {
                    let ports = self.ports(r, Some(d));
                    acc = self.conns.union(acc, ports);
                }
            }
        }
        acc
    }
}

/// Everything the rows of the map are computed from; the scratch vectors are reused from row
/// to row, so memory does not grow with the number of pairs.
struct Rows<'e, 'w> {
    cx: Cx<'e, 'w>,
    /// Workloads per group (pods of one owner are one peer), groups in label order.
    members: Vec<Vec<usize>>,
    group_of: Vec<usize>,
    /// Groups, then the egress atoms, then the ingress atoms.
    peers: Vec<PeerRef>,
    egress: Atoms,
    ingress: Atoms,
    /// Peer ids in label order, and each peer's place in it.
    order: Vec<usize>,
    rank: Vec<u32>,
    /// Per workload: what the source's egress allows towards it (scratch of one row).
    towards: Vec<u32>,
    touched: Vec<usize>,
    acc: Vec<u32>,
    acc_touched: Vec<usize>,
    /// With cluster policies: (destination, tier rules matching the source, NetworkPolicy
    /// answer) → the destination's ingress answer.
    tier_ingress: HashMap<(usize, u64, u32), u32>,
    /// With cluster policies: per destination, the tier rules that apply to its ingress (Admin
    /// then Baseline), filled when first needed.
    tier_rules_in: Vec<Option<Vec<&'e super::tiers::TierRule>>>,
}

fn id(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The external address ranges of one direction.
#[derive(Default)]
struct Atoms {
    /// Peer id of the first range.
    first: usize,
    /// First address of each range.
    keys: Vec<(bool, u128)>,
    /// Range index spans per rule id.
    ranges: HashMap<usize, Vec<(usize, usize)>>,
}

/// Receives each pair of the map: (source peer, destination peer, interned connections).
type Sink<'s, E> = dyn FnMut(&Rows<'_, '_>, u32, u32, u32) -> Result<(), E> + 's;

impl<'e, 'w> Rows<'e, 'w> {
    fn new(engine: &'e Engine<'w>) -> Self {
        let ws = engine.workspace();
        let n = ws.workloads.len();
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, w) in ws.workloads.iter().enumerate() {
            groups.entry(w.display()).or_default().push(i);
        }
        let mut peers: Vec<PeerRef> = groups.keys().map(|name| PeerRef::Workload { name: name.clone() }).collect();
        let members: Vec<Vec<usize>> = groups.into_values().collect();
        let mut group_of = vec![0usize; n];
        for (g, ms) in members.iter().enumerate() {
            for &m in ms {
                if let Some(slot) = group_of.get_mut(m) {
                    *slot = g;
                }
            }
        }
        let mut sigs: HashMap<&[crate::model::ContainerPort], u32> = HashMap::new();
        let signature = ws
            .workloads
            .iter()
            .map(|w| {
                let next = id(sigs.len());
                *sigs.entry(w.ports.as_slice()).or_insert(next)
            })
            .collect();
        let cx = Cx { engine, conns: Conns::new(), fixed: vec![None; engine.rule_count], named: HashMap::new(), signature };
        // Workload ↔ external: per direction, the address space split by that direction's
        // ipBlocks; one peer per range, as the peer format has it.
        let mut side = |dir: Direction| {
            let atoms = address_atoms(&engine.ip_blocks(dir));
            let first = peers.len();
            peers.extend(atoms.iter().map(|&(first, last)| PeerRef::External { first, last }));
            Atoms { first, keys: atoms.iter().map(|(f, _)| addr_key(*f)).collect(), ranges: HashMap::new() }
        };
        let egress = side(Direction::Egress);
        let ingress = side(Direction::Ingress);
        // Rows go out as the text lines sort: by source label, then destination label.
        let mut order: Vec<usize> = (0..peers.len()).collect();
        let labels: Vec<String> = peers.iter().map(PeerRef::label).collect();
        order.sort_by(|&a, &b| labels.get(a).cmp(&labels.get(b)));
        let mut rank = vec![0u32; peers.len()];
        for (r, &p) in order.iter().enumerate() {
            if let Some(slot) = rank.get_mut(p) {
                *slot = id(r);
            }
        }
        let groups = members.len();
        Rows {
            cx,
            members,
            group_of,
            peers,
            egress,
            ingress,
            order,
            rank,
            towards: vec![NONE; n],
            touched: Vec::new(),
            acc: vec![NONE; groups],
            acc_touched: Vec::new(),
            tier_ingress: HashMap::new(),
            tier_rules_in: vec![None; n],
        }
    }

    /// Whether the pair touches `focus` (every pair when there is none).
    fn keeps(&self, focus: Option<&str>, src: u32, dst: u32) -> bool {
        let touches = |p: u32, f: &str| self.peers.get(p as usize).is_some_and(|p| p.touches(f));
        focus.is_none_or(|f| touches(src, f) || touches(dst, f))
    }

    /// A pair as serialized.
    fn entry(&self, src: u32, dst: u32, conn: u32) -> ConnEntry<'_> {
        static NO_PEER: PeerRef = PeerRef::Workload { name: String::new() };
        ConnEntry {
            connections: self.cx.conns.get(conn).to_string(),
            dst: self.peers.get(dst as usize).unwrap_or(&NO_PEER),
            src: self.peers.get(src as usize).unwrap_or(&NO_PEER),
        }
    }

    /// Every allowed pair as (source peer, destination peer, interned connections), sorted.
    fn for_each<E>(&mut self, sink: &mut Sink<'_, E>) -> Result<(), E> {
        let mut row: Vec<(u32, u32)> = Vec::new();
        for k in 0..self.order.len() {
            let Some(&p) = self.order.get(k) else { continue };
            row.clear();
            if p < self.members.len() {
                self.workload_row(p, &mut row);
                self.egress_row(p, &mut row);
            } else if p >= self.ingress.first {
                self.ingress_column(p - self.ingress.first, &mut row);
            }
            let rank = |q: u32| self.rank.get(q as usize).copied().unwrap_or(u32::MAX);
            row.sort_by_key(|&(dst, _)| rank(dst));
            for &(dst, conn) in &row {
                sink(self, id(p), dst, conn)?;
            }
        }
        Ok(())
    }

    /// Workload group `gs` → workload groups: its egress towards each pod, met by that pod's
    /// ingress, united over the members of both groups.
    fn workload_row(&mut self, gs: usize, row: &mut Vec<(u32, u32)>) {
        if self.cx.engine.has_cluster_policies() {
            return self.workload_row_tiered(gs, row);
        }
        let engine = self.cx.engine;
        let n = self.towards.len();
        let Some(ms) = self.members.get(gs) else { return };
        for &s in ms {
            let policies = engine.isolating(s, Direction::Egress);
            if policies.is_empty() {
                self.touched.extend(0..n);
                self.towards.iter_mut().for_each(|e| *e = ALL);
            } else {
                for &p in policies {
                    for r in engine.rules(p, Direction::Egress) {
                        let (cx, towards, touched) = (&mut self.cx, &mut self.towards, &mut self.touched);
                        let mut add = |d: usize| {
                            let ports = cx.ports(r, Some(d));
                            if let Some(e) = towards.get_mut(d) {
                                if *e == NONE {
                                    touched.push(d);
                                }
                                *e = cx.conns.union(*e, ports);
                            }
                        };
                        if r.all_peers {
                            (0..n).for_each(&mut add);
                        } else {
                            r.pods.iter().for_each(&mut add);
                        }
                    }
                }
            }
            for d in std::mem::take(&mut self.touched) {
                let e = self.towards.get(d).copied().unwrap_or(NONE);
                if let Some(slot) = self.towards.get_mut(d) {
                    *slot = NONE;
                }
                let gd = self.group_of.get(d).copied().unwrap_or(gs);
                if gd == gs || e == NONE {
                    continue;
                }
                let i = self.cx.ingress_from(d, s);
                let c = self.cx.conns.inter(e, i);
                if c == NONE {
                    continue;
                }
                if let Some(a) = self.acc.get_mut(gd) {
                    if *a == NONE {
                        self.acc_touched.push(gd);
                    }
                    *a = self.cx.conns.union(*a, c);
                }
            }
        }
        for gd in std::mem::take(&mut self.acc_touched) {
            if let Some(a) = self.acc.get_mut(gd) {
                row.push((id(gd), *a));
                *a = NONE;
            }
        }
    }

    /// What group `g` allows in `dir` towards (egress) or from (ingress) each atom of `dir`;
    /// `only`: just that atom.
    fn external(&mut self, dir: Direction, g: usize, only: Option<usize>) -> Vec<(usize, u32)> {
        if self.cx.engine.has_cluster_policies() {
            return self.external_tiered(dir, g, only);
        }
        let Some(ms) = self.members.get(g).cloned() else { return Vec::new() };
        let per_atom = self.external_np(dir, &ms, only);
        match only {
            Some(o) => per_atom.into_iter().filter(|&c| c != NONE).map(|c| (o, c)).collect(),
            None => per_atom.into_iter().enumerate().filter(|&(_, c)| c != NONE).collect(),
        }
    }

    /// What the NetworkPolicies of workloads `ms` allow in `dir` towards or from each atom (or
    /// only atom `only`, at index 0), united over `ms`.
    fn external_np(&mut self, dir: Direction, ms: &[usize], only: Option<usize>) -> Vec<u32> {
        let engine = self.cx.engine;
        let side = match dir {
            Direction::Egress => &mut self.egress,
            Direction::Ingress => &mut self.ingress,
        };
        let atoms = side.keys.len();
        let mut per_atom = vec![NONE; if only.is_some() { 1 } else { atoms }];
        for &m in ms {
            let policies = engine.isolating(m, dir);
            if policies.is_empty() {
                per_atom.iter_mut().for_each(|a| *a = ALL);
                break;
            }
            for &p in policies {
                for r in engine.rules(p, dir) {
                    let ports = self.cx.ports(r, if dir == Direction::Ingress { Some(m) } else { None });
                    if ports == NONE {
                        continue;
                    }
                    let spans: &[(usize, usize)] = if r.all_peers {
                        &[(0, usize::MAX)]
                    } else {
                        let keys = &side.keys;
                        side.ranges.entry(r.id).or_insert_with(|| rule_atoms(r, keys))
                    };
                    for &(lo, hi) in spans {
                        let hi = hi.min(atoms.saturating_sub(1));
                        match only {
                            Some(o) if (lo..=hi).contains(&o) => {
                                if let Some(a) = per_atom.first_mut() {
                                    *a = self.cx.conns.union(*a, ports);
                                }
                            }
                            Some(_) => {}
                            None => {
                                for a in per_atom.iter_mut().skip(lo).take(hi.saturating_sub(lo).saturating_add(1)) {
                                    *a = self.cx.conns.union(*a, ports);
                                }
                            }
                        }
                    }
                }
            }
        }
        per_atom
    }

    /// [`Rows::workload_row`] when cluster policies are in force. A pair's verdict depends on
    /// which of the tier rules that apply to its source (egress) or destination (ingress) match
    /// the other end, on the NetworkPolicy answer and on the destination's ports; pairs that
    /// agree on all of it share one answer from the engine, and pairs no tier rule matches
    /// take the NetworkPolicy answer as it is.
    fn workload_row_tiered(&mut self, gs: usize, row: &mut Vec<(u32, u32)>) {
        let engine = self.cx.engine;
        let n = self.towards.len();
        let Some(ms) = self.members.get(gs).cloned() else { return };
        let mut acc: BTreeMap<usize, u32> = BTreeMap::new();
        for s in ms {
            let mut candidates = Vec::new();
            let np = self.np_egress(s, &mut candidates);
            let admin = rule_masks(engine.tiers.rules_for(Tier::Admin, Direction::Egress, s), n, &mut candidates);
            let isolated = engine.is_isolated(s, Direction::Egress);
            let baseline = if isolated { Some(Vec::new()) } else { rule_masks(engine.tiers.rules_for(Tier::Baseline, Direction::Egress, s), n, &mut candidates) };
            let mut memo: HashMap<(u64, u64, u32, u32), u32> = HashMap::new();
            // An egress-isolated source reaches only what its NetworkPolicies or a tier rule
            // name: visit those, not every workload (with too many rules for a mask, all).
            if !isolated || admin.is_none() {
                candidates = (0..n).collect();
            } else {
                candidates.sort_unstable();
                candidates.dedup();
            }
            for d in candidates {
                let gd = self.group_of.get(d).copied().unwrap_or(gs);
                if gd == gs {
                    continue;
                }
                let np_d = np.get(d).copied().unwrap_or(NONE);
                let masks = admin.as_ref().zip(baseline.as_ref()).map(|(a, b)| (a.get(d).copied().unwrap_or(0), b.get(d).copied().unwrap_or(0)));
                let e = match masks {
                    Some((0, 0)) => np_d,
                    Some((ma, mb)) => {
                        let key = (ma, mb, np_d, self.cx.signature.get(d).copied().unwrap_or(0));
                        match memo.get(&key) {
                            Some(&c) => c,
                            None => {
                                let c = self.cx.conns.id(engine.egress_to_pod(s, d));
                                memo.insert(key, c);
                                c
                            }
                        }
                    }
                    // More tier rules than a mask holds: ask the engine for every pair.
                    None => self.cx.conns.id(engine.egress_to_pod(s, d)),
                };
                if e == NONE {
                    continue;
                }
                let i = self.ingress_tiered(d, s);
                let c = self.cx.conns.inter(e, i);
                if c == NONE {
                    continue;
                }
                let a = acc.entry(gd).or_insert(NONE);
                *a = self.cx.conns.union(*a, c);
            }
        }
        row.extend(acc.into_iter().map(|(gd, c)| (id(gd), c)));
    }

    /// What `s`'s NetworkPolicies allow towards each workload (all of it when none isolates
    /// its egress), and the workloads they allow anything towards added to `touched` (when
    /// they isolate it).
    fn np_egress(&mut self, s: usize, touched: &mut Vec<usize>) -> Vec<u32> {
        let engine = self.cx.engine;
        let n = self.towards.len();
        let policies = engine.isolating(s, Direction::Egress);
        if policies.is_empty() {
            // Every workload: the caller visits all of them, `touched` is not needed.
            return vec![ALL; n];
        }
        let mut out = vec![NONE; n];
        for &p in policies {
            for r in engine.rules(p, Direction::Egress) {
                let cx = &mut self.cx;
                let mut add = |d: usize| {
                    let ports = cx.ports(r, Some(d));
                    if let Some(e) = out.get_mut(d) {
                        if *e == NONE && ports != NONE {
                            touched.push(d);
                        }
                        *e = cx.conns.union(*e, ports);
                    }
                };
                if r.all_peers {
                    (0..n).for_each(&mut add);
                } else {
                    r.pods.iter().for_each(&mut add);
                }
            }
        }
        out
    }

    /// What `d`'s ingress allows from workload `s` through every tier, shared between sources
    /// that the tier rules applying to `d` match alike and the NetworkPolicies answer alike.
    fn ingress_tiered(&mut self, d: usize, s: usize) -> u32 {
        let engine = self.cx.engine;
        let np = self.cx.ingress_from(d, s);
        let Some(slot) = self.tier_rules_in.get_mut(d) else { return np };
        let rules = slot.get_or_insert_with(|| {
            engine.tiers.rules_for(Tier::Admin, Direction::Ingress, d).chain(engine.tiers.rules_for(Tier::Baseline, Direction::Ingress, d)).collect()
        });
        if rules.is_empty() {
            return np;
        }
        if rules.len() > 64 {
            return self.cx.conns.id(engine.ingress_from_pod(d, s));
        }
        let mask = rules.iter().enumerate().fold(0u64, |m, (k, r)| if r.pods().is_none_or(|p| p.contains(s)) { m | (1 << k) } else { m });
        if mask == 0 {
            // No tier rule matches: the Admin tier hands everything on; the NetworkPolicies
            // decide if they isolate `d`, else the Baseline (no match either), else the default.
            return if engine.is_isolated(d, Direction::Ingress) { np } else { ALL };
        }
        if let Some(&c) = self.tier_ingress.get(&(d, mask, np)) {
            return c;
        }
        let c = self.cx.conns.id(engine.ingress_from_pod(d, s));
        self.tier_ingress.insert((d, mask, np), c);
        c
    }

    /// [`Rows::external`] when cluster policies are in force, per member: atoms that no tier
    /// rule applying to it matches take the NetworkPolicy answer; the others share the
    /// engine's answer for the atom's first address (every address of an atom lies in the same
    /// blocks and networks) with atoms the same rules match and the NetworkPolicies answer alike.
    fn external_tiered(&mut self, dir: Direction, g: usize, only: Option<usize>) -> Vec<(usize, u32)> {
        let engine = self.cx.engine;
        let Some(ms) = self.members.get(g).cloned() else { return Vec::new() };
        let (first, count) = match dir {
            Direction::Egress => (self.egress.first, self.egress.keys.len()),
            Direction::Ingress => (self.ingress.first, self.ingress.keys.len()),
        };
        let atoms: Vec<usize> = match only {
            Some(o) => vec![o],
            None => (0..count).collect(),
        };
        let mut out = vec![NONE; atoms.len()];
        for m in ms {
            let np = self.external_np(dir, &[m], only);
            let isolated = engine.is_isolated(m, dir);
            let admin: Vec<&super::tiers::TierRule> = engine.tiers.rules_for(Tier::Admin, dir, m).collect();
            let baseline: Vec<&super::tiers::TierRule> = if isolated { Vec::new() } else { engine.tiers.rules_for(Tier::Baseline, dir, m).collect() };
            let masks = |rules: &[&super::tiers::TierRule], side: &mut Atoms| -> Option<Vec<u64>> {
                let mut masks = vec![0u64; count];
                for (k, r) in rules.iter().enumerate() {
                    if k >= 64 {
                        return None;
                    }
                    let spans: Vec<(usize, usize)> = match r.pods() {
                        None => vec![(0, usize::MAX)],
                        Some(_) if r.ip_blocks().is_empty() => Vec::new(),
                        Some(_) => {
                            let keys = &side.keys;
                            side.ranges.entry(r.id()).or_insert_with(|| rule_atoms(r.matcher(), keys)).clone()
                        }
                    };
                    for (lo, hi) in spans {
                        for mask in masks.iter_mut().skip(lo).take(hi.saturating_sub(lo).saturating_add(1)) {
                            *mask |= 1 << k;
                        }
                    }
                }
                Some(masks)
            };
            let side = match dir {
                Direction::Egress => &mut self.egress,
                Direction::Ingress => &mut self.ingress,
            };
            let (ma, mb) = (masks(&admin, side), masks(&baseline, side));
            let mut memo: HashMap<(u64, u64, u32), u32> = HashMap::new();
            for (slot, &a) in atoms.iter().enumerate() {
                let np_a = np.get(slot).copied().unwrap_or(NONE);
                let key = ma.as_ref().zip(mb.as_ref()).map(|(x, y)| (x.get(a).copied().unwrap_or(0), y.get(a).copied().unwrap_or(0), np_a));
                let c = match key {
                    Some((0, 0, _)) => np_a,
                    Some(k) if let Some(&c) = memo.get(&k) => c,
                    _ => {
                        let Some(PeerRef::External { first: ip, .. }) = self.peers.get(first + a) else { continue };
                        let set = match dir {
                            Direction::Egress => engine.egress_to_ip(m, *ip),
                            Direction::Ingress => engine.ingress_from_ip(m, *ip),
                        };
                        let c = self.cx.conns.id(set);
                        if let Some(k) = key {
                            memo.insert(k, c);
                        }
                        c
                    }
                };
                if let Some(o) = out.get_mut(slot) {
                    *o = self.cx.conns.union(*o, c);
                }
            }
        }
        atoms.into_iter().zip(out).filter(|&(_, c)| c != NONE).collect()
    }

    /// Group `g` → every egress atom it may reach.
    fn egress_row(&mut self, g: usize, row: &mut Vec<(u32, u32)>) {
        let first = self.egress.first;
        for (a, c) in self.external(Direction::Egress, g, None) {
            row.push((id(first + a), c));
        }
    }

    /// Ingress atom `atom` → every group that admits it.
    fn ingress_column(&mut self, atom: usize, row: &mut Vec<(u32, u32)>) {
        for g in 0..self.members.len() {
            for (_, c) in self.external(Direction::Ingress, g, Some(atom)) {
                row.push((id(g), c));
            }
        }
    }
}

impl Connectivity {
    /// Compute the map over all workload groups and external ranges.
    pub fn compute(engine: &Engine<'_>) -> Self {
        let mut rows = Rows::new(engine);
        let mut entries = Vec::new();
        let _ = rows.for_each::<std::convert::Infallible>(&mut |_, src, dst, conn| {
            entries.push(Entry { src, dst, conn });
            Ok(())
        });
        Connectivity { peers: rows.peers, conns: rows.cx.conns.sets, entries }
    }

    /// Write the map of `engine` as text (`json` false) or JSON while it is computed, row by
    /// row: memory does not grow with the number of pairs (a map can have hundreds of
    /// millions). `focus` keeps the pairs touching that workload. Output is byte-identical to
    /// [`Connectivity::write_text`] and the serialized [`Connectivity`] of the same map.
    pub fn write(engine: &Engine<'_>, focus: Option<&str>, json: bool, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let rows = Rows::new(engine);
        if json {
            let doc = Streamed { rows: std::cell::RefCell::new(rows), focus };
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            return w.write_all(b"\n");
        }
        let mut rows = rows;
        let labels: Vec<String> = rows.peers.iter().map(|p| crate::source::escape_controls(&p.label())).collect();
        let mut conns: Vec<Option<String>> = Vec::new();
        rows.for_each(&mut |rows, src, dst, conn| {
            if !rows.keeps(focus, src, dst) {
                return Ok(());
            }
            let label = |i: u32| labels.get(i as usize).map_or("", String::as_str);
            let c = conn as usize;
            if conns.len() <= c {
                conns.resize(c + 1, None);
            }
            let text = match conns.get_mut(c) {
                Some(Some(t)) => t.as_str(),
                Some(slot) => slot.insert(rows.cx.conns.get(conn).to_string()).as_str(),
                None => "",
            };
            writeln!(w, "{} => {} : {}", label(src), label(dst), text)
        })
    }

    /// Whether `focus` (`namespace/name` or `name`) names a workload of `engine`'s input.
    pub fn names_workload(engine: &Engine<'_>, focus: &str) -> bool {
        engine.workspace().workloads.iter().any(|w| PeerRef::Workload { name: w.display() }.touches(focus))
    }

    /// Number of allowed pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is allowed at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pairs, sorted.
    pub fn iter(&self) -> impl Iterator<Item = ConnEntry<'_>> + '_ {
        static NO_PEER: PeerRef = PeerRef::Workload { name: String::new() };
        self.entries.iter().map(|e| ConnEntry {
            connections: self.conns.get(e.conn as usize).map(ConnSet::to_string).unwrap_or_default(),
            dst: self.peers.get(e.dst as usize).unwrap_or(&NO_PEER),
            src: self.peers.get(e.src as usize).unwrap_or(&NO_PEER),
        })
    }

    /// Keep only pairs touching `focus` (`namespace/name` or `name`).
    pub fn focus(&self, focus: &str) -> Connectivity {
        let touches = |p: u32| self.peers.get(p as usize).is_some_and(|p| p.touches(focus));
        Connectivity {
            peers: self.peers.clone(),
            conns: self.conns.clone(),
            entries: self.entries.iter().filter(|e| touches(e.src) || touches(e.dst)).copied().collect(),
        }
    }

    /// Whether `focus` (`namespace/name` or `name`) names a workload of the map.
    pub fn has_workload(&self, focus: &str) -> bool {
        self.peers.iter().any(|p| p.touches(focus))
    }

    /// The text form: one `src => dst : conn` line per pair, sorted.
    pub fn to_text(&self) -> String {
        let mut out = Vec::with_capacity(self.entries.len() * 64);
        // Writing into a Vec cannot fail.
        let _ = self.write_text(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Write the text form line by line (a map of millions of pairs is never one string);
    /// control characters in names are escaped, as everywhere in text output.
    pub fn write_text(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        let labels: Vec<String> = self.peers.iter().map(|p| crate::source::escape_controls(&p.label())).collect();
        let conns: Vec<String> = self.conns.iter().map(ConnSet::to_string).collect();
        fn get(v: &[String], i: u32) -> &str {
            v.get(i as usize).map_or("", String::as_str)
        }
        for e in &self.entries {
            writeln!(w, "{} => {} : {}", get(&labels, e.src), get(&labels, e.dst), get(&conns, e.conn))?;
        }
        Ok(())
    }
}

/// (is IPv6, numeric value), ordering IPv4 before IPv6.
fn addr_key(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

/// Atom index ranges (inclusive) covered by a rule's ipBlocks. `keys` are the atoms' first
/// addresses, ascending; every block boundary is an atom boundary.
fn rule_atoms(r: &CompiledRule, keys: &[(bool, u128)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (cidr, except) in &r.blocks {
        let v6 = matches!(cidr, ipnet::IpNet::V6(_));
        for (first, last) in block_ranges(cidr, except) {
            let lo = keys.partition_point(|k| *k < (v6, first));
            let hi = keys.partition_point(|k| *k <= (v6, last));
            if hi > lo {
                out.push((lo, hi - 1));
            }
        }
    }
    out
}

/// The address space split at the boundaries of every block's address set (cidr minus
/// except, as merged ranges): IPv4 always, IPv6 when some block is IPv6. Inside each returned
/// inclusive range, every block contains either all addresses or none.
pub fn address_atoms(blocks: &[(ipnet::IpNet, Vec<ipnet::IpNet>)]) -> Vec<(IpAddr, IpAddr)> {
    let mut v4: Vec<u128> = vec![0, 1 << 32];
    let mut v6: Vec<u128> = Vec::new();
    for (cidr, except) in blocks {
        let (bounds, family_max) = match cidr {
            ipnet::IpNet::V4(_) => (&mut v4, u128::from(u32::MAX)),
            ipnet::IpNet::V6(_) => (&mut v6, u128::MAX),
        };
        for (first, last) in block_ranges(cidr, except) {
            bounds.push(first);
            if last < family_max {
                bounds.push(last + 1);
            }
        }
    }
    let mut out = Vec::new();
    v4.sort_unstable();
    v4.dedup();
    for w in v4.windows(2) {
        if let [a, b] = w {
            if let (Ok(first), Ok(last)) = (u32::try_from(*a), u32::try_from(b - 1)) {
                out.push((IpAddr::V4(Ipv4Addr::from(first)), IpAddr::V4(Ipv4Addr::from(last))));
            }
        }
    }
    if !v6.is_empty() {
        v6.push(0);
        v6.sort_unstable();
        v6.dedup();
        for (i, &start) in v6.iter().enumerate() {
            let last = v6.get(i + 1).map_or(u128::MAX, |next| next - 1);
            out.push((IpAddr::V6(Ipv6Addr::from(start)), IpAddr::V6(Ipv6Addr::from(last))));
        }
    }
    out
}

fn net_range(n: &ipnet::IpNet) -> (u128, u128) {
    match n {
        ipnet::IpNet::V4(n) => (u128::from(u32::from(n.network())), u128::from(u32::from(n.broadcast()))),
        ipnet::IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// `cidr` minus every `except` of the same family, as sorted disjoint inclusive ranges.
fn block_ranges(cidr: &ipnet::IpNet, except: &[ipnet::IpNet]) -> Vec<(u128, u128)> {
    let same_family = |e: &&ipnet::IpNet| {
        matches!((e, cidr), (ipnet::IpNet::V4(_), ipnet::IpNet::V4(_)) | (ipnet::IpNet::V6(_), ipnet::IpNet::V6(_)))
    };
    let mut holes: Vec<(u128, u128)> = except.iter().filter(same_family).map(net_range).collect();
    holes.sort_unstable();
    let (mut cur, end) = net_range(cidr);
    let mut out = Vec::new();
    for (a, b) in holes {
        if b < cur || a > end {
            continue;
        }
        if a > cur {
            out.push((cur, a - 1));
        }
        if b >= end {
            return out;
        }
        cur = cur.max(b + 1);
    }
    out.push((cur, end));
    out
}

/// Per workload, which of `rules` (at most 64) match it as a peer, one bit each (empty when
/// there is no rule), and every matched workload added to `touched`; `None` when there are
/// more rules.
fn rule_masks<'r>(rules: impl Iterator<Item = &'r super::tiers::TierRule>, n: usize, touched: &mut Vec<usize>) -> Option<Vec<u64>> {
    // Empty stands for "no rule matches anything": most sources have no tier rule at all.
    let mut masks = Vec::new();
    for (k, r) in rules.enumerate() {
        if masks.is_empty() {
            masks = vec![0u64; n];
        }
        if k >= 64 {
            return None;
        }
        match r.pods() {
            None => {
                masks.iter_mut().for_each(|m| *m |= 1 << k);
                touched.extend(0..n);
            }
            Some(p) => {
                for d in p.iter() {
                    if let Some(m) = masks.get_mut(d) {
                        *m |= 1 << k;
                        touched.push(d);
                    }
                }
            }
        }
    }
    Some(masks)
}

#[cfg(test)]
#[allow(clippy::unreachable)] // test code: a bad literal is a failure report
mod tests {
    use super::*;

    fn net(s: &str) -> ipnet::IpNet {
        s.parse().unwrap_or_else(|_| unreachable!("test CIDR {s}"))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| unreachable!("test IP {s}"))
    }

    #[test]
    fn adjacent_excepts_leave_one_hole() {
        let atoms = address_atoms(&[(net("0.0.0.0/0"), vec![net("10.0.0.0/9"), net("10.128.0.0/9")])]);
        let text: Vec<String> = atoms.iter().map(|(a, b)| format!("{a}-{b}")).collect();
        assert_eq!(text, ["0.0.0.0-9.255.255.255", "10.0.0.0-10.255.255.255", "11.0.0.0-255.255.255.255"]);
    }

    #[test]
    fn ipv6_blocks_add_ipv6_ranges() {
        let atoms = address_atoms(&[(net("fd00::/8"), vec![])]);
        assert_eq!(atoms.len(), 4);
        assert_eq!(atoms[2], (ip("fd00::"), ip("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert_eq!(atoms[3].1, ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    }

    #[test]
    fn interned_sets_combine_like_sets() {
        let mut c = Conns::new();
        let mut a = ConnSet::none();
        a.add(crate::model::Protocol::Tcp, 80, 90);
        let mut b = ConnSet::none();
        b.add(crate::model::Protocol::Tcp, 85, 100);
        let (ia, ib) = (c.id(a.clone()), c.id(b.clone()));
        let u = c.union(ia, ib);
        let i = c.inter(ia, ib);
        assert_eq!(c.get(u).to_string(), "TCP 80-100");
        assert_eq!(c.get(i).to_string(), "TCP 85-90");
        assert_eq!(c.union(ia, NONE), ia);
        assert_eq!(c.inter(ia, ALL), ia);
        assert_eq!(c.union(ia, ALL), ALL);
    }
}
