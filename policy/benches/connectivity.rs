//! `cargo bench -p netreach-policy --bench connectivity`: the full connectivity map at 20, 400
//! and 5,000 workloads (3 policies per workload) on generated manifests, with wall time and
//! peak heap. Targets: 400 workloads / 1,200 policies < 50 ms; 5,000 / 15,000 < 2 s; < 500 MB.
//!
//! `-- --write DIR` also writes the generated manifests, to look at or to feed the CLI.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use netreach_policy::{Connectivity, Engine, LoadOptions, Source, Workspace};

/// Counts live and peak heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// N namespaces × D deployments, 3 policies per deployment, using named ports, endPort ranges,
/// ipBlock with except, namespaceSelector AND podSelector, and matchExpressions.
fn generate(namespaces: usize, per_ns: usize) -> String {
    let tiers = ["web", "api", "db", "cache"];
    let mut y = String::new();
    for n in 0..namespaces {
        let team = format!("team{}", n % 5);
        let _ = write!(y, "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns{n}\n  labels: {{team: {team}, env: {}}}\n", if n % 2 == 0 { "prod" } else { "dev" });
        for d in 0..per_ns {
            let tier = tiers[d % tiers.len()];
            let port = 8000 + (d % 50);
            let _ = write!(
                y,
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{d}, namespace: ns{n}}}\nspec:\n  selector: {{matchLabels: {{app: d{d}}}}}\n  template:\n    metadata: {{labels: {{app: d{d}, tier: {tier}, shard: s{}}}}}\n    spec:\n      containers:\n      - name: main\n        image: example/app\n        ports:\n        - {{name: http, containerPort: {port}}}\n        - {{name: metrics, containerPort: 9090}}\n        - {{name: dns, containerPort: 5353, protocol: UDP}}\n",
                d % 7
            );
            // 1: ingress from same-namespace web/api pods on the named port, and from monitoring.
            let _ = write!(
                y,
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: d{d}-ingress, namespace: ns{n}}}\nspec:\n  podSelector: {{matchLabels: {{app: d{d}}}}}\n  policyTypes: [Ingress]\n  ingress:\n  - from:\n    - podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [web, api]}}, {{key: shard, operator: NotIn, values: [s{}]}}]}}\n    ports: [{{port: http}}]\n  - from:\n    - namespaceSelector: {{matchLabels: {{team: team{}}}}}\n      podSelector: {{matchExpressions: [{{key: tier, operator: Exists}}]}}\n    ports: [{{port: metrics}}, {{port: dns, protocol: UDP}}]\n",
                (d + 1) % 7,
                (n + d) % 5
            );
            // 2: egress to db pods of namespaces of a team, with a port range.
            let _ = write!(
                y,
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: d{d}-egress-db, namespace: ns{n}}}\nspec:\n  podSelector: {{matchLabels: {{app: d{d}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: {{matchLabels: {{team: {team}}}}}\n      podSelector: {{matchLabels: {{tier: db}}}}\n    ports: [{{port: 5432}}, {{port: 8000, endPort: 8049}}]\n  - to: [{{podSelector: {{}}}}]\n    ports: [{{port: http}}]\n"
            );
            // 3: egress to the internet minus private ranges and one per-deployment hole.
            let _ = write!(
                y,
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: d{d}-egress-internet, namespace: ns{n}}}\nspec:\n  podSelector: {{matchLabels: {{app: d{d}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - ipBlock:\n        cidr: 0.0.0.0/0\n        except: [10.0.0.0/8, 172.16.0.0/12, 192.168.{}.0/24]\n    ports: [{{port: 443}}, {{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}]\n",
                (n * per_ns + d) % 256
            );
        }
    }
    y
}

fn measure(namespaces: usize, per_ns: usize, write_dir: Option<&str>) {
    let yaml = generate(namespaces, per_ns);
    if let Some(dir) = write_dir {
        let path = format!("{dir}/bench-{}.yaml", namespaces * per_ns);
        std::fs::write(&path, &yaml).unwrap_or_else(|e| eprintln!("cannot write {path}: {e}"));
    }
    let sources = [Source::new("bench.yaml", yaml)];
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let t = Instant::now();
    let ws = Workspace::load(&sources, &LoadOptions::default());
    let load = t.elapsed();
    assert!(ws.problems.is_empty(), "generator produced bad input: {:?}", ws.problems.first());
    let runs = if ws.workloads.len() > 1000 { 3 } else { 10 };
    let mut best = Duration::MAX;
    let mut pairs = 0;
    let load_peak = PEAK.load(Ordering::Relaxed);
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    for _ in 0..runs {
        let t = Instant::now();
        let engine = Engine::new(&ws);
        let map = Connectivity::compute(&engine);
        best = best.min(t.elapsed());
        pairs = map.len();
    }
    let peak = PEAK.load(Ordering::Relaxed).max(load_peak);
    println!(
        "workloads {:>5}  policies {:>6}  map {:>10.2?} (best of {runs})  pairs {:>8}  load {:>9.2?}  peak heap {:>6.1} MB (model {:.1} MB, map {:.1} MB)",
        ws.workloads.len(),
        ws.policies.len(),
        best,
        pairs,
        load,
        peak as f64 / 1e6,
        base as f64 / 1e6,
        PEAK.load(Ordering::Relaxed).saturating_sub(base) as f64 / 1e6
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let write_dir = args.iter().position(|a| a == "--write").and_then(|i| args.get(i + 1)).map(String::as_str);
    for (ns, per) in [(2, 10), (20, 20), (100, 50)] {
        measure(ns, per, write_dir);
    }
}
