//! The Kubewarden artifact under `wapc` + `wasmtime-provider`, the host layer of Kubewarden's
//! policy-server and kwctl, held to the admission fixtures (`tests/admission/*/expected.json`).

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::sync::{Arc, Mutex};

use netreach_host_harness::fixtures::{self, FixtureCluster};
use netreach_policy::admission::HostCalls;
use serde_json::{json, Value};
use wapc::WapcHost;
use wasmtime_provider::WasmtimeEngineProviderBuilder;

#[test]
fn kubewarden_artifact_answers_the_fixtures_under_wapc_wasmtime_provider() {
    let engine = WasmtimeEngineProviderBuilder::new()
        .module_bytes(netreach_host_harness::artifacts::KUBEWARDEN)
        .build()
        .expect("the Kubewarden artifact instantiates under wasmtime-provider");
    // Each fixture's cluster answers the host capabilities, as policy-server's would.
    let cluster = Arc::new(Mutex::new(FixtureCluster::default()));
    let served = Arc::clone(&cluster);
    let host = WapcHost::new(
        Box::new(engine),
        Some(Box::new(move |_id, binding: &str, namespace: &str, operation: &str, payload: &[u8]| {
            served.lock().unwrap().call(binding, namespace, operation, payload).map_err(Into::into)
        })),
    )
    .unwrap();
    let call = |op: &str, payload: &Value| -> Value {
        let bytes = if payload.is_null() { Vec::new() } else { payload.to_string().into_bytes() };
        let out = host.call(op, &bytes).unwrap_or_else(|e| panic!("{op}: {e}"));
        serde_json::from_slice(&out).unwrap()
    };

    assert_eq!(call("protocol_version", &Value::Null), json!("v1"));
    let mut checked = 0;
    for case in fixtures::cases().unwrap() {
        let read = |file: &str| fixtures::read_json(&case.join(file)).unwrap();
        let (review, settings, expected) = (read("review.json"), read("settings.json"), read("expected.json"));
        *cluster.lock().unwrap() = FixtureCluster::new(fixtures::cluster_objects(&case).unwrap());
        let vs = call("validate_settings", &settings);
        assert_eq!(vs, expected["validate_settings"], "{}", case.display());
        if vs["valid"] != json!(true) {
            continue;
        }
        let got = call("validate", &json!({"request": review["request"], "settings": settings}));
        assert_eq!(got, expected["validate"], "{}", case.display());
        assert_eq!(json!(cluster.lock().unwrap().calls), expected["host_calls"], "{}: host calls", case.display());
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} fixtures validated");

    // A failing operation is a waPC error the host reports, and the instance stays usable.
    let err = host.call("mutate", b"{}").unwrap_err().to_string();
    assert!(err.contains("unknown operation"), "{err}");
    assert_eq!(call("protocol_version", &Value::Null), json!("v1"));
}
