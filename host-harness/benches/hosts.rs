//! `cargo bench -p netreach-host-harness --bench hosts`: the core check natively and through the
//! core wasm module under wasmtime (release), and the latency of one admission-sized check on a
//! warm instance. Prints the figures the README quotes:
//! - wasm/native time ratio of a full check of the 400-workload bundle (target ≤ 1.5);
//! - p50/p99 of checking one Deployment with 100 NetworkPolicies beside it, warm instance
//!   (target p99 < 1 ms), natively and in wasm;
//! - artifact sizes (target ≤ 2 MB each).

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure report

use std::fmt::Write;
use std::time::{Duration, Instant};

use netreach_host_harness::artifacts;
use netreach_host_harness::wasm::{Limits, WasmHost};
use netreach_policy::{check_json, Request, Source};

#[path = "../../policy/benches/support/generate.rs"]
mod generate;

fn request(yaml: String) -> Vec<u8> {
    serde_json::to_vec(&Request { sources: vec![Source::new("bundle.yaml", yaml)], ..Request::default() }).unwrap()
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99))
}

/// One Deployment and 100 NetworkPolicies in its namespace.
fn admission_bundle() -> String {
    let mut y = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: checkout, namespace: shop}\nspec:\n  selector: {matchLabels: {app: checkout}}\n  template:\n    metadata: {labels: {app: checkout, tier: api}}\n    spec:\n      containers:\n      - name: app\n        image: example/checkout\n        ports: [{name: http, containerPort: 8080}]\n",
    );
    for i in 0..100 {
        let _ = write!(
            y,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: shop}}\nspec:\n  podSelector: {{matchLabels: {{tier: api}}}}\n  policyTypes: [Ingress, Egress]\n  ingress:\n  - from: [{{podSelector: {{matchLabels: {{app: c{i}}}}}}}]\n    ports: [{{port: http}}]\n  egress:\n  - to: [{{ipBlock: {{cidr: 10.{i}.0.0/16, except: [10.{i}.1.0/24]}}}}]\n    ports: [{{port: 443}}, {{port: 53, protocol: UDP}}]\n"
        );
    }
    y
}

fn main() {
    let host = WasmHost::core(Limits::default()).unwrap();

    let bundle = request(generate::generate(20, 20));
    assert_eq!(check_json(&bundle), host.check_json(&bundle).unwrap(), "native and wasm disagree");
    let mut warm = host.instance().unwrap();
    let native = best_of(10, || drop(check_json(&bundle)));
    let wasm_fresh = best_of(10, || drop(host.check_json(&bundle).unwrap()));
    let wasm_warm = best_of(10, || drop(warm.check_json(&bundle).unwrap()));
    println!("400 workloads / 1,200 policies, full check (best of 10):");
    println!("  native {native:.2?}   wasm warm {wasm_warm:.2?}   wasm fresh instance {wasm_fresh:.2?}");
    println!("  wasm/native ratio {:.2} (warm), {:.2} (fresh)", ratio(wasm_warm, native), ratio(wasm_fresh, native));

    let admission = request(admission_bundle());
    let mut warm = host.instance().unwrap();
    let samples = 2000;
    for _ in 0..50 {
        warm.check_json(&admission).unwrap();
    }
    let wasm: Vec<Duration> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            warm.check_json(&admission).unwrap();
            t.elapsed()
        })
        .collect();
    let nat: Vec<Duration> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            drop(check_json(&admission));
            t.elapsed()
        })
        .collect();
    let ((wp50, wp99), (np50, np99)) = (percentiles(wasm), percentiles(nat));
    println!("1 Deployment + 100 NetworkPolicies, {samples} checks:");
    println!("  wasm warm instance p50 {wp50:.2?} p99 {wp99:.2?}   native p50 {np50:.2?} p99 {np99:.2?}");

    println!("artifact sizes:");
    for (name, bytes) in artifacts::all() {
        println!("  {name:<26} {:>9} bytes", bytes.len());
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
