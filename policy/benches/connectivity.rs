//! `cargo bench -p netreach-policy --bench connectivity`: the full connectivity map at 20, 400
//! and 5,000 workloads (3 policies per workload) on generated manifests, with wall time and
//! peak heap; and every rule on the same workspace, with its ratio to the map. Targets: 400
//! workloads / 1,200 policies < 50 ms; 5,000 / 15,000 < 2 s; < 500 MB; all rules ≤ 2× the map.
//!
//! `-- --write DIR` also writes the generated manifests, to look at or to feed the CLI.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use netreach_policy::{rules, Connectivity, Engine, LoadOptions, Profile, Source, Workspace};

#[global_allocator]
static ALLOC: Counting = Counting;

mod support {
    pub mod counting;
    pub mod generate;
}
use support::counting::{Counting, LIVE, PEAK};
use support::generate::{cluster_policies, generate};

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
    let map_heap = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    // What `netreach connectivity` does: the map written while it is computed (to a sink
    // here), whose heap must not grow with the number of pairs.
    let mut stream_best = Duration::MAX;
    let mut stream_heap = 0;
    for _ in 0..runs {
        PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
        let t = Instant::now();
        let engine = Engine::new(&ws);
        Connectivity::write(&engine, None, false, &mut std::io::sink()).unwrap();
        stream_best = stream_best.min(t.elapsed());
        stream_heap = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    }
    // Every rule, engine included, as `netreach check` runs them (positions are resolved
    // only when a report is serialised, so this is the rules' own cost).
    let profile = Profile::default();
    let mut rules_best = Duration::MAX;
    let mut findings = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let engine = Engine::new(&ws);
        let cx = rules::Context { ws: &ws, engine: &engine, profile: &profile };
        findings = rules::run_all(&cx).len();
        rules_best = rules_best.min(t.elapsed());
    }
    println!(
        "workloads {:>5}  policies {:>6}  map {:>10.2?} (best of {runs})  pairs {:>8}  load {:>9.2?}  peak heap {:>6.1} MB (model {:.1} MB, map {:.1} MB; streamed text {:.2?}, {:.1} MB)",
        ws.workloads.len(),
        ws.policies.len(),
        best,
        pairs,
        load,
        peak as f64 / 1e6,
        base as f64 / 1e6,
        map_heap as f64 / 1e6,
        stream_best,
        stream_heap as f64 / 1e6
    );
    if std::env::var("NETREACH_BENCH_PER_RULE").is_ok() {
        let engine = Engine::new(&ws);
        let cx = rules::Context { ws: &ws, engine: &engine, profile: &profile };
        for r in rules::ALL {
            let t = Instant::now();
            let mut out = rules::Diagnostics::new(&ws);
            (r.check)(&cx, &mut out);
            println!("  {} {:<26} {:>10.2?}", r.meta.id, r.meta.name, t.elapsed());
        }
    }
    println!(
        "workloads {:>5}  all {} rules {:>10.2?} (best of {runs})  findings {:>6}  rules/map {:.2}",
        ws.workloads.len(),
        rules::ALL.len(),
        rules_best,
        findings,
        rules_best.as_secs_f64() / best.as_secs_f64()
    );
}

/// `n` Deployments and no policy: every ordered pair is allowed (n² − n pairs), the densest
/// map there is. Streamed, its heap is the model's and the engine's, whatever n² is.
fn dense(n: usize) {
    let yaml: String = (0..n)
        .map(|i| format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{i}, namespace: ns{}}}\nspec:\n  selector: {{matchLabels: {{app: w{i}}}}}\n  template:\n    metadata: {{labels: {{app: w{i}}}}}\n    spec: {{containers: [{{name: c, image: i}}]}}\n", i % 20))
        .collect();
    let sources = [Source::new("dense.yaml", yaml)];
    let ws = Workspace::load(&sources, &LoadOptions::default());
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    let engine = Engine::new(&ws);
    let mut counter = Counter(0);
    Connectivity::write(&engine, None, false, &mut counter).unwrap();
    println!(
        "dense: workloads {n:>5}  pairs {:>10}  streamed text {:>7.1} MB in {:>8.2?}, heap above the model {:.1} MB",
        n * n - n,
        counter.0 as f64 / 1e6,
        t.elapsed(),
        PEAK.load(Ordering::Relaxed).saturating_sub(base) as f64 / 1e6
    );
}

/// Counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The map of the generated bundle with `cnps` cluster policies added, against the map of the
/// same bundle without them (target: within 1.5×).
fn tiers(namespaces: usize, per_ns: usize, cnps: usize) {
    let base = generate(namespaces, per_ns);
    let with = format!("{base}{}", cluster_policies(cnps));
    let mut times = Vec::new();
    for yaml in [base, with] {
        let ws = Workspace::load(&[Source::new("bench.yaml", yaml)], &LoadOptions::default());
        assert!(ws.problems.is_empty(), "generator produced bad input: {:?}", ws.problems.first());
        let mut best = Duration::MAX;
        let mut pairs = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let engine = Engine::new(&ws);
            pairs = Connectivity::compute(&engine).len();
            best = best.min(t.elapsed());
        }
        times.push(best);
        println!("tiers: workloads {:>5}  policies {:>6}  cluster policies {:>3}  map {:>10.2?} (best of 3)  pairs {:>8}", ws.workloads.len(), ws.policies.len(), ws.cluster_policies.len(), best, pairs);
    }
    if let [without, with] = times.as_slice() {
        println!("tiers: map with / without cluster policies {:.2}", with.as_secs_f64() / without.as_secs_f64());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--tiers") {
        for (ns, per) in [(20, 20), (100, 50)] {
            tiers(ns, per, 50);
        }
        return;
    }
    let write_dir = args.iter().position(|a| a == "--write").and_then(|i| args.get(i + 1)).map(String::as_str);
    for (ns, per) in [(2, 10), (20, 20), (100, 50)] {
        measure(ns, per, write_dir);
    }
    for n in [500, 5000] {
        dense(n);
    }
}
