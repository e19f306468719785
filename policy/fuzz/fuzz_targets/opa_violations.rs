//! The OPA artifact's entrypoints: Gatekeeper `violations` and Kubewarden's opa mode, with the
//! fuzzed JSON as input and as data (inventory, parameters).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let input = value.get("input").cloned().unwrap_or_else(|| value.clone());
    let data = value.get("data").cloned().unwrap_or(serde_json::Value::Null);
    for entrypoint in 0..3 {
        let _ = netreach_policy::admission::opa_evaluate(entrypoint, &input, &data);
    }
});
