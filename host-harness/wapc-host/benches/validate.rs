//! `cargo bench -p netreach-wapc-host-tests --bench validate`: per-admission latency of the
//! Kubewarden artifact under `wapc` + `wasmtime-provider` (Kubewarden's own host layer) with a
//! warm instance — one Deployment under review, 100 NetworkPolicies of its namespace read as
//! context through `list_resources_by_namespace` (target p99 < 1 ms) — beside the same
//! `validate` run natively. Host answers are prepared once, so the figures are the policy's.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure report

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use netreach_host_harness::fixtures;
use netreach_policy::admission::{kubewarden_operation, HostCalls};
use serde_json::{json, Value};
use wapc::WapcHost;
use wasmtime_provider::WasmtimeEngineProviderBuilder;

/// 100 NetworkPolicies as the API server stores them (with the metadata it adds).
fn policies() -> Vec<Value> {
    (0..100)
        .map(|i| {
            json!({
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": format!("p{i}"), "namespace": "shop", "uid": format!("00000000-0000-4000-8000-{i:012}"),
                             "resourceVersion": format!("{}", 1000 + i), "generation": 1, "creationTimestamp": "2026-01-01T00:00:00Z"},
                "spec": {
                    "podSelector": {"matchLabels": {"tier": "api"}}, "policyTypes": ["Ingress", "Egress"],
                    "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": format!("c{i}")}}}], "ports": [{"port": "http", "protocol": "TCP"}]}],
                    "egress": [{"to": [{"ipBlock": {"cidr": format!("10.{i}.0.0/16"), "except": [format!("10.{i}.1.0/24")]}}],
                                "ports": [{"port": 443, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}]
                }
            })
        })
        .collect()
}

fn request() -> Vec<u8> {
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "checkout", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "checkout"}}, "template": {
            "metadata": {"labels": {"app": "checkout", "tier": "api"}},
            "spec": {"containers": [{"name": "app", "image": "example/checkout", "ports": [{"name": "http", "containerPort": 8080}]}]}}}
    });
    let request = json!({"uid": "b1", "operation": "CREATE", "namespace": "shop", "name": "checkout",
                         "kind": {"group": "apps", "version": "v1", "kind": "Deployment"}, "object": deployment});
    json!({"request": request, "settings": {"context": "namespace"}}).to_string().into_bytes()
}

/// The host's answers, prepared once: (operation, payload) → bytes.
#[derive(Clone)]
struct Answers(Arc<HashMap<(String, String), Vec<u8>>>);

impl Answers {
    fn new(objects: &[Value]) -> Self {
        let mut map = HashMap::new();
        for (api_version, kind) in netreach_policy::admission::CONTEXT_RESOURCES {
            for (operation, payload) in [
                ("list_resources_all", json!({"api_version": api_version, "kind": kind})),
                ("list_resources_by_namespace", json!({"api_version": api_version, "kind": kind, "namespace": "shop"})),
            ] {
                let bytes = fixtures::answer(Some(objects), "kubewarden", "kubernetes", operation, &payload).unwrap();
                map.insert((operation.to_string(), payload.to_string()), bytes);
            }
        }
        Self(Arc::new(map))
    }

    fn get(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
        let payload: Value = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
        self.0.get(&(operation.to_string(), payload.to_string())).cloned().ok_or_else(|| format!("unexpected call {operation} {payload}"))
    }
}

impl HostCalls for Answers {
    fn call(&mut self, _: &str, _: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
        self.get(operation, payload)
    }
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99))
}

fn sample(n: usize, mut f: impl FnMut()) -> Vec<Duration> {
    for _ in 0..n / 20 {
        f();
    }
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect()
}

fn main() {
    let answers = Answers::new(&policies());
    let msg = request();
    let context_bytes = answers.get("list_resources_by_namespace", br#"{"api_version":"networking.k8s.io/v1","kind":"NetworkPolicy","namespace":"shop"}"#).unwrap().len();

    let engine = WasmtimeEngineProviderBuilder::new().module_bytes(netreach_host_harness::artifacts::KUBEWARDEN).build().unwrap();
    let served = answers.clone();
    let host = WapcHost::new(
        Box::new(engine),
        Some(Box::new(move |_id, _binding: &str, _namespace: &str, operation: &str, payload: &[u8]| {
            served.get(operation, payload).map_err(Into::into)
        })),
    )
    .unwrap();

    let mut native_host = answers.clone();
    let native_answer = kubewarden_operation(b"validate", &msg, &mut native_host).unwrap();
    assert_eq!(host.call("validate", &msg).unwrap(), native_answer, "native and wasm disagree");
    let verdict: Value = serde_json::from_slice(&native_answer).unwrap();
    assert_eq!(verdict["accepted"], json!(true), "{verdict}");

    let samples = 2000;
    let wasm = sample(samples, || drop(host.call("validate", &msg).unwrap()));
    let native = sample(samples, || drop(kubewarden_operation(b"validate", &msg, &mut native_host).unwrap()));
    let ((wp50, wp99), (np50, np99)) = (percentiles(wasm), percentiles(native));
    println!("Kubewarden validate: 1 Deployment, 100 NetworkPolicies as context ({context_bytes} bytes of JSON), {samples} calls:");
    println!("  wapc + wasmtime-provider, warm instance: p50 {wp50:.2?} p99 {wp99:.2?}   native: p50 {np50:.2?} p99 {np99:.2?}");
}
