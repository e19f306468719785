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

        // Workload ↔ external ranges: per direction, the address space split by that
        // direction's ipBlocks; one entry per range.
        for dir in [Direction::Egress, Direction::Ingress] {
            let atoms = address_atoms(&engine.ip_blocks(dir));
            for (g, ms) in members.iter().enumerate() {
                for &(first, last) in &atoms {
                    let mut c = ConnSet::none();
                    for &m in ms {
                        c.union_with(&match dir {
                            Direction::Egress => engine.egress_to_ip(m, first),
                            Direction::Ingress => engine.ingress_from_ip(m, first),
                        });
                    }
                    if c.is_empty() {
                        continue;
                    }
                    let ext = PeerRef::External { first, last };
                    let (src, dst) = match dir {
                        Direction::Egress => (workload(g), ext),
                        Direction::Ingress => (ext, workload(g)),
                    };
                    out.push(entry(src, dst, c));
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
    let mut holes: Vec<(u128, u128)> =
        except.iter().filter(|e| matches!((e, cidr), (ipnet::IpNet::V4(_), ipnet::IpNet::V4(_)) | (ipnet::IpNet::V6(_), ipnet::IpNet::V6(_)))).map(net_range).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> ipnet::IpNet {
        s.parse().unwrap_or_else(|_| unreachable!("test CIDR {s}"))
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
        assert_eq!(atoms[2], ("fd00::".parse().unwrap_or_else(|_| unreachable!()), "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap_or_else(|_| unreachable!())));
    }
}
