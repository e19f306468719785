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
use support::generate::generate;

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
    if std::env::var("NETREACH_BENCH_PER_RULE").is_ok() {
        let engine = Engine::new(&ws);
        let cx = rules::Context { ws: &ws, engine: &engine, profile: &profile };
        for r in rules::ALL {
            let t = Instant::now();
            let mut out = rules::Diagnostics::default();
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let write_dir = args.iter().position(|a| a == "--write").and_then(|i| args.get(i + 1)).map(String::as_str);
    for (ns, per) in [(2, 10), (20, 20), (100, 50)] {
        measure(ns, per, write_dir);
    }
}
