//! Sets of ports per protocol: what a rule, a direction or a connection allows.

use std::fmt;

use crate::model::Protocol;

/// Sorted, disjoint, non-adjacent inclusive port ranges within 1–65535.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct PortSet(Vec<(u16, u16)>);

impl PortSet {
    /// No port.
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// Every port 1–65535.
    pub fn all() -> Self {
        Self(vec![(1, u16::MAX)])
    }

    /// Whether no port is in the set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every port is in the set.
    pub fn is_all(&self) -> bool {
        self.0.as_slice() == [(1, u16::MAX)]
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|&(a, b)| a <= port && port <= b)
    }

    /// The ranges.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }

    /// Add the inclusive range `a..=b` (ignored when empty or starting at 0).
    pub fn add(&mut self, a: u16, b: u16) {
        let a = a.max(1);
        if b < a {
            return;
        }
        self.0.push((a, b));
        self.normalize();
    }

    /// Add every port of `other`.
    pub fn union_with(&mut self, other: &PortSet) {
        if other.0.is_empty() || self.is_all() {
            return;
        }
        if self.0.is_empty() || other.is_all() {
            self.0.clone_from(&other.0);
            return;
        }
        self.0.extend_from_slice(&other.0);
        self.normalize();
    }

    /// Keep only ports also in `other`.
    pub fn intersect(&self, other: &PortSet) -> PortSet {
        if self.is_all() {
            return other.clone();
        }
        if other.is_all() {
            return self.clone();
        }
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while let (Some(&(a1, b1)), Some(&(a2, b2))) = (self.0.get(i), other.0.get(j)) {
            let lo = a1.max(a2);
            let hi = b1.min(b2);
            if lo <= hi {
                out.push((lo, hi));
            }
            if b1 < b2 {
                i += 1;
            } else {
                j += 1;
            }
        }
        PortSet(out)
    }

    /// The ports not in `other`.
    pub fn subtract(&self, other: &PortSet) -> PortSet {
        let mut out = Vec::new();
        for &(a, b) in &self.0 {
            let mut lo = u32::from(a);
            let hi = u32::from(b);
            for &(x, y) in &other.0 {
                let (x, y) = (u32::from(x), u32::from(y));
                if y < lo || x > hi {
                    continue;
                }
                if x > lo {
                    out.push((lo, x - 1));
                }
                lo = lo.max(y + 1);
            }
            if lo <= hi {
                out.push((lo, hi));
            }
        }
        PortSet(out.into_iter().filter_map(|(a, b)| Some((u16::try_from(a).ok()?, u16::try_from(b).ok()?))).collect())
    }

    fn normalize(&mut self) {
        self.0.sort_unstable();
        let mut out: Vec<(u16, u16)> = Vec::with_capacity(self.0.len());
        for &(a, b) in &self.0 {
            match out.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        self.0 = out;
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> =
            self.0.iter().map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }).collect();
        f.write_str(&parts.join(","))
    }
}

/// Ports per protocol: the connections one direction or one pair allows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct ConnSet {
    sets: [PortSet; 3],
}

fn slot(p: Protocol) -> usize {
    match p {
        Protocol::Sctp => 0,
        Protocol::Tcp => 1,
        Protocol::Udp => 2,
    }
}

impl ConnSet {
    /// Nothing allowed.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every port of every protocol.
    pub fn all() -> Self {
        Self { sets: [PortSet::all(), PortSet::all(), PortSet::all()] }
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.sets.iter().all(PortSet::is_empty)
    }

    /// Whether everything is allowed.
    pub fn is_all(&self) -> bool {
        self.sets.iter().all(PortSet::is_all)
    }

    /// Ports of one protocol.
    pub fn ports(&self, p: Protocol) -> &PortSet {
        static NONE: PortSet = PortSet(Vec::new());
        self.sets.get(slot(p)).unwrap_or(&NONE)
    }

    /// Allow `a..=b` over `p`.
    pub fn add(&mut self, p: Protocol, a: u16, b: u16) {
        if let Some(s) = self.sets.get_mut(slot(p)) {
            s.add(a, b);
        }
    }

    /// Allow every port over `p`.
    pub fn add_protocol(&mut self, p: Protocol) {
        if let Some(s) = self.sets.get_mut(slot(p)) {
            *s = PortSet::all();
        }
    }

    /// Whether `port`/`p` is allowed.
    pub fn allows(&self, p: Protocol, port: u16) -> bool {
        self.ports(p).contains(port)
    }

    /// Add everything `other` allows.
    pub fn union_with(&mut self, other: &ConnSet) {
        for (a, b) in self.sets.iter_mut().zip(other.sets.iter()) {
            a.union_with(b);
        }
    }

    /// What both allow.
    pub fn intersect(&self, other: &ConnSet) -> ConnSet {
        let [a0, a1, a2] = &self.sets;
        let [b0, b1, b2] = &other.sets;
        ConnSet { sets: [a0.intersect(b0), a1.intersect(b1), a2.intersect(b2)] }
    }

    /// What this allows and `other` does not.
    pub fn subtract(&self, other: &ConnSet) -> ConnSet {
        let [a0, a1, a2] = &self.sets;
        let [b0, b1, b2] = &other.sets;
        ConnSet { sets: [a0.subtract(b0), a1.subtract(b1), a2.subtract(b2)] }
    }
}

impl fmt::Display for ConnSet {
    /// The connectivity-map form: `All Connections`, or `SCTP 7070,TCP 8080-8081,UDP 9090`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let parts: Vec<String> = Protocol::ALL
            .iter()
            .filter(|p| !self.ports(**p).is_empty())
            .map(|p| {
                let ports = self.ports(*p);
                if ports.is_all() { format!("{p} 1-65535") } else { format!("{p} {ports}") }
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_merges_adjacent_ranges() {
        let mut s = PortSet::empty();
        s.add(80, 80);
        s.add(81, 90);
        s.add(100, 100);
        s.add(85, 99);
        assert_eq!(s.ranges(), &[(80, 100)]);
        s.add(1, 79);
        s.add(101, 65535);
        assert!(s.is_all());
    }

    #[test]
    fn intersect_and_display() {
        let mut a = ConnSet::none();
        a.add(Protocol::Tcp, 8080, 8090);
        a.add(Protocol::Udp, 53, 53);
        let mut b = ConnSet::none();
        b.add(Protocol::Tcp, 8085, 9000);
        b.add_protocol(Protocol::Udp);
        b.add(Protocol::Sctp, 1, 5);
        let c = a.intersect(&b);
        assert_eq!(c.to_string(), "TCP 8085-8090,UDP 53");
        assert_eq!(ConnSet::all().to_string(), "All Connections");
        assert_eq!(ConnSet::none().to_string(), "No Connections");
        let mut tcp = ConnSet::none();
        tcp.add_protocol(Protocol::Tcp);
        assert_eq!(tcp.to_string(), "TCP 1-65535");
        assert!(c.allows(Protocol::Tcp, 8085) && !c.allows(Protocol::Tcp, 8084));
    }

    #[test]
    fn subtract_cuts_ranges() {
        let mut a = PortSet::empty();
        a.add(1, 100);
        a.add(200, 300);
        let mut b = PortSet::empty();
        b.add(50, 60);
        b.add(100, 250);
        assert_eq!(a.subtract(&b).ranges(), &[(1, 49), (61, 99), (251, 300)]);
        assert!(PortSet::all().subtract(&PortSet::all()).is_empty());
        let mut edge = PortSet::empty();
        edge.add(65535, 65535);
        assert_eq!(PortSet::all().subtract(&edge).ranges(), &[(1, 65534)]);
        let mut dns = ConnSet::none();
        dns.add(Protocol::Udp, 53, 53);
        let rest = ConnSet::all().subtract(&dns);
        assert!(!rest.allows(Protocol::Udp, 53) && rest.allows(Protocol::Udp, 54) && rest.allows(Protocol::Tcp, 53));
    }
}
