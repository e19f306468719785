//! The connectivity map: every allowed (source, destination) pair over workloads and the
//! external address ranges induced by the ipBlocks of the input.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::{ConnSet, Direction, Engine};

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

/// One allowed pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnEntry {
    /// What is allowed, in the text form (`All Connections`, `TCP 80,UDP 53`).
    pub connections: String,
    /// Destination.
    pub dst: PeerRef,
    /// Source.
    pub src: PeerRef,
    #[serde(skip)]
    conn: ConnSet,
}

impl ConnEntry {
    /// The allowed connections.
    pub fn conn(&self) -> &ConnSet {
        &self.conn
    }
}

/// The whole map, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Connectivity {
    /// Allowed pairs.
    pub connections: Vec<ConnEntry>,
}

impl Connectivity {
    /// Compute the map over all workload groups and external ranges.
    pub fn compute(engine: &Engine<'_>) -> Self {
        let ws = engine.workspace();
        // Pods of one owner collapse into one peer.
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, w) in ws.workloads.iter().enumerate() {
            groups.entry(w.display()).or_default().push(i);
        }
        let names: Vec<String> = groups.keys().cloned().collect();
        let members: Vec<Vec<usize>> = groups.into_values().collect();
        let mut group_of = vec![0usize; ws.workloads.len()];
        for (g, ms) in members.iter().enumerate() {
            for &m in ms {
                if let Some(slot) = group_of.get_mut(m) {
                    *slot = g;
                }
            }
        }
        let mut out = Vec::new();
        let workload = |g: usize| PeerRef::Workload { name: names.get(g).cloned().unwrap_or_default() };

        // Workload → workload.
        for (gs, ms) in members.iter().enumerate() {
            let mut acc: Vec<Option<ConnSet>> = vec![None; members.len()];
            for &s in ms {
                let egress_open = !engine.is_isolated(s, Direction::Egress);
                for (d, e) in engine.egress_row(s) {
                    let gd = group_of.get(d).copied().unwrap_or(gs);
                    if gd == gs {
                        continue;
                    }
                    let c = if egress_open && !engine.is_isolated(d, Direction::Ingress) {
                        e
                    } else {
                        let i = engine.ingress_from_pod(d, s);
                        if i.is_empty() { continue } else { e.intersect(&i) }
                    };
                    if c.is_empty() {
                        continue;
                    }
                    if let Some(slot) = acc.get_mut(gd) {
                        match slot {
                            Some(a) => a.union_with(&c),
                            None => *slot = Some(c),
                        }
                    }
                }
            }
            for (gd, c) in acc.into_iter().enumerate() {
                if let Some(c) = c {
                    out.push(entry(workload(gs), workload(gd), c));
                }
            }
        }

        // Workload ↔ external ranges.
        let atoms = address_atoms(&engine.ip_blocks());
        for (g, ms) in members.iter().enumerate() {
            for dir in [Direction::Egress, Direction::Ingress] {
                let per_atom: Vec<ConnSet> = atoms
                    .iter()
                    .map(|&(first, _)| {
                        let mut c = ConnSet::none();
                        for &m in ms {
                            let x = match dir {
                                Direction::Egress => engine.egress_to_ip(m, first),
                                Direction::Ingress => engine.ingress_from_ip(m, first),
                            };
                            c.union_with(&x);
                        }
                        c
                    })
                    .collect();
                // Adjacent ranges with the same connections print as one.
                let mut i = 0;
                while let Some(c) = per_atom.get(i) {
                    let mut j = i;
                    while per_atom.get(j + 1).is_some_and(|n| n == c)
                        && atoms.get(j).zip(atoms.get(j + 1)).is_some_and(|(a, b)| same_family(a.0, b.0))
                    {
                        j += 1;
                    }
                    if !c.is_empty() {
                        if let (Some(a), Some(b)) = (atoms.get(i), atoms.get(j)) {
                            let ext = PeerRef::External { first: a.0, last: b.1 };
                            let (src, dst) = match dir {
                                Direction::Egress => (workload(g), ext),
                                Direction::Ingress => (ext, workload(g)),
                            };
                            out.push(entry(src, dst, c.clone()));
                        }
                    }
                    i = j + 1;
                }
            }
        }
        out.sort_by(|a, b| line(a).cmp(&line(b)));
        Connectivity { connections: out }
    }

    /// Keep only pairs touching `focus` (`namespace/name` or `name`).
    pub fn focus(&self, focus: &str) -> Connectivity {
        Connectivity {
            connections: self.connections.iter().filter(|e| e.src.touches(focus) || e.dst.touches(focus)).cloned().collect(),
        }
    }

    /// The text form: one `src => dst : conn` line per pair, sorted.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for e in &self.connections {
            let _ = writeln!(s, "{}", line(e));
        }
        s
    }
}

fn entry(src: PeerRef, dst: PeerRef, conn: ConnSet) -> ConnEntry {
    ConnEntry { connections: conn.to_string(), dst, src, conn }
}

fn line(e: &ConnEntry) -> String {
    format!("{} => {} : {}", e.src.label(), e.dst.label(), e.connections)
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// The address space split at every block boundary: IPv4 always, IPv6 when some block is IPv6.
/// Each atom is an inclusive (first, last) range inside which every block either contains
/// all addresses or none.
pub fn address_atoms(blocks: &[ipnet::IpNet]) -> Vec<(IpAddr, IpAddr)> {
    let mut v4: Vec<u64> = vec![0, 1 << 32];
    let mut v6: Vec<u128> = Vec::new();
    for b in blocks {
        match b {
            ipnet::IpNet::V4(n) => {
                v4.push(u64::from(u32::from(n.network())));
                v4.push(u64::from(u32::from(n.broadcast())) + 1);
            }
            ipnet::IpNet::V6(n) => {
                v6.push(u128::from(n.network()));
                if let Some(end) = u128::from(n.broadcast()).checked_add(1) {
                    v6.push(end);
                }
            }
        }
    }
    v4.sort_unstable();
    v4.dedup();
    let mut out: Vec<(IpAddr, IpAddr)> = v4
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => {
                let first = u32::try_from(*a).ok()?;
                let last = u32::try_from(b - 1).ok()?;
                Some((IpAddr::V4(Ipv4Addr::from(first)), IpAddr::V4(Ipv4Addr::from(last))))
            }
            _ => None,
        })
        .collect();
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
