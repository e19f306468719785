//! Bad input never panics and never changes the answer for the rest; output does not depend on
//! the order of files or documents.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::unreachable)] // test code: a panic is a failure report

use proptest::prelude::*;

use netreach_policy::netpol::Endpoint;
use netreach_policy::model::Protocol;
use netreach_policy::{check, Connectivity, Engine, LoadOptions, Options, Source, Workspace};

const SEED: &str = include_str!("../../tests/corpus/engine/union-and-direction/input.yaml");
const SEED2: &str = include_str!("../../tests/corpus/engine/ipblock-except-and-pod-ips/input.yaml");
const SEED3: &str = include_str!("../../tests/corpus/netpol/invalid-network-policy/fail-peers-and-selectors/input.yaml");

/// Load, check, map and explain: every stage a host runs.
fn exercise(text: &str) {
    let sources = [Source::new("fuzz.yaml", text)];
    let report = check(&sources, &Options::default());
    let f = &report.summary.findings;
    assert_eq!(f.error + f.warning + f.info, report.diagnostics.len());
    let ws = Workspace::load(&sources, &LoadOptions::default());
    let engine = Engine::new(&ws);
    let _ = Connectivity::compute(&engine).to_text();
    if ws.workloads.len() >= 2 {
        let _ = engine.allowed(Endpoint::Workload(0), Endpoint::Workload(1), 53, Protocol::Udp);
        let _ = engine.allowed(Endpoint::Ip("10.1.2.3".parse().unwrap_or_else(|_| unreachable!())), Endpoint::Workload(1), 443, Protocol::Tcp);
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fragment = prop_oneof![
        Just(": ".to_string()), Just("- ".to_string()), Just("[".to_string()), Just("}".to_string()),
        Just("\n---\n".to_string()), Just("&a ".to_string()), Just("*a".to_string()), Just("\t".to_string()),
        Just("port: http\n".to_string()), Just("endPort: 1\n".to_string()), Just("cidr: ::/0\n".to_string()),
        Just("podSelector: {}\n".to_string()), Just("\"".to_string()), Just("é".to_string()), ".{0,8}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), fragment).prop_map(|(a, s)| Mutation::Insert(a, s)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut s = text.to_string();
    for m in muts {
        let boundary = |s: &str, i: usize| {
            let mut i = if s.is_empty() { 0 } else { i % (s.len() + 1) };
            while !s.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        match m {
            Mutation::Delete(a, n) => {
                let a = boundary(&s, *a);
                let b = boundary(&s, (a + n).min(s.len()));
                s.replace_range(a..b.max(a), "");
            }
            Mutation::Insert(a, frag) => {
                let a = boundary(&s, *a);
                s.insert_str(a, frag);
            }
            Mutation::DuplicateLine(i) | Mutation::SwapLines(i, _) if s.lines().count() == 0 => {
                let _ = i;
            }
            Mutation::DuplicateLine(i) => {
                let mut lines: Vec<&str> = s.lines().collect();
                let i = i % lines.len();
                let l = lines[i];
                lines.insert(i, l);
                s = lines.join("\n");
            }
            Mutation::SwapLines(a, b) => {
                let mut lines: Vec<&str> = s.lines().collect();
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
                s = lines.join("\n");
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_manifests_never_panic(seed in 0usize..3, muts in proptest::collection::vec(mutation(), 1..8)) {
        let base = [SEED, SEED2, SEED3][seed];
        exercise(&apply(base, &muts));
    }

    #[test]
    fn document_order_does_not_change_the_map(perm in Just((0..7usize).collect::<Vec<_>>()).prop_shuffle()) {
        let docs: Vec<&str> = SEED2.split("\n---\n").collect();
        let shuffled: Vec<&str> = perm.iter().filter_map(|&i| docs.get(i).copied()).collect();
        prop_assume!(shuffled.len() == docs.len());
        let map = |t: &str| {
            let ws = Workspace::load(&[Source::new("x.yaml", t)], &LoadOptions::default());
            Connectivity::compute(&Engine::new(&ws)).to_text()
        };
        prop_assert_eq!(map(SEED2), map(&shuffled.join("\n---\n")));
    }
}

#[test]
fn one_bad_document_leaves_the_others_analysed() {
    let text = format!("{SEED}\n---\nkind: [\n---\n- just\n- a list\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: x}}\nspec: {{containers: 7}}\n");
    let good = check(&[Source::new("a.yaml", SEED)], &Options::default());
    let mixed = check(&[Source::new("a.yaml", text.as_str())], &Options::default());
    assert_eq!(mixed.summary.objects, good.summary.objects);
    // The input rules report the three bad documents; the good ones are still checked by the others.
    let rules: Vec<&str> = mixed.diagnostics.iter().map(|d| d.rule.as_str()).filter(|r| r.starts_with("NR0")).collect();
    assert_eq!(rules, ["NR001", "NR004", "NR002"]);
    let others = |r: &netreach_policy::Report| r.diagnostics.iter().filter(|d| !d.rule.starts_with("NR0")).count();
    assert_eq!(others(&mixed), others(&good));
}

#[test]
fn file_order_does_not_change_the_report() {
    let a = Source::new("a.yaml", SEED3);
    let b = Source::new("b.yaml", "kind: [\n");
    let one = check(&[a.clone(), b.clone()], &Options::default()).to_json();
    let two = check(&[b, a], &Options::default()).to_json();
    assert_eq!(one, two);
}

/// The verdict of `allowed` (which reasons over the policies as written) must agree with the
/// compiled engine behind the connectivity map, for every pair and a spread of ports.
#[test]
fn verdicts_agree_with_the_compiled_engine() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/engine");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("corpus/engine") {
        let text = std::fs::read_to_string(entry.expect("entry").path().join("input.yaml")).expect("input.yaml");
        let ws = Workspace::load(&[Source::new("x.yaml", text)], &LoadOptions::default());
        let engine = Engine::new(&ws);
        let ips: Vec<std::net::IpAddr> =
            ["8.8.8.8", "10.1.0.9", "10.2.0.1", "10.4.0.1", "169.254.169.254", "fd00::1", "2001:db8::1"].iter().map(|s| s.parse().expect("ip")).collect();
        let ports = [(Protocol::Udp, 53), (Protocol::Tcp, 53), (Protocol::Tcp, 80), (Protocol::Tcp, 443), (Protocol::Tcp, 1000), (Protocol::Tcp, 5432), (Protocol::Tcp, 8005), (Protocol::Tcp, 8080), (Protocol::Tcp, 9090), (Protocol::Sctp, 3868), (Protocol::Udp, 8080)];
        let n = ws.workloads.len();
        for s in 0..n {
            for (proto, port) in ports {
                for d in 0..n {
                    let v = engine.allowed(Endpoint::Workload(s), Endpoint::Workload(d), port, proto);
                    assert_eq!(v.allowed, engine.pod_to_pod(s, d).allows(proto, port), "{s}->{d} {proto} {port}");
                    checked += 1;
                }
                for ip in &ips {
                    let out = engine.allowed(Endpoint::Workload(s), Endpoint::Ip(*ip), port, proto);
                    assert_eq!(out.allowed, engine.egress_to_ip(s, *ip).allows(proto, port), "{s}->{ip} {proto} {port}");
                    let inn = engine.allowed(Endpoint::Ip(*ip), Endpoint::Workload(s), port, proto);
                    assert_eq!(inn.allowed, engine.ingress_from_ip(s, *ip).allows(proto, port), "{ip}->{s} {proto} {port}");
                    checked += 2;
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} verdicts checked");
}

/// The connectivity map (interned, cached) must list exactly the workload pairs the plain
/// per-pair queries allow, for the engine corpus and for a generated mix of named ports.
#[test]
fn map_agrees_with_per_pair_queries() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/engine");
    for entry in std::fs::read_dir(dir).expect("corpus/engine") {
        let text = std::fs::read_to_string(entry.expect("entry").path().join("input.yaml")).expect("input.yaml");
        let ws = Workspace::load(&[Source::new("x.yaml", text)], &LoadOptions::default());
        let engine = Engine::new(&ws);
        let mut from_map: Vec<String> = Connectivity::compute(&engine)
            .iter()
            .filter(|e| !e.src.label().contains("[External]") && !e.dst.label().contains("[External]"))
            .map(|e| format!("{} => {} : {}", e.src.label(), e.dst.label(), e.connections))
            .collect();
        let mut groups: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
        for (i, w) in ws.workloads.iter().enumerate() {
            groups.entry(w.display()).or_default().push(i);
        }
        let mut brute = Vec::new();
        for (a, ms) in &groups {
            for (b, ds) in &groups {
                if a == b {
                    continue;
                }
                let mut c = netreach_policy::netpol::ConnSet::none();
                for &s in ms {
                    for &d in ds {
                        c.union_with(&engine.pod_to_pod(s, d));
                    }
                }
                if !c.is_empty() {
                    brute.push(format!("{a} => {b} : {c}"));
                }
            }
        }
        from_map.sort();
        brute.sort();
        assert_eq!(from_map, brute);
    }
}
