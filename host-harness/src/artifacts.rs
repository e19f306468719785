//! The wasm artifacts, built from `policy/` by `build.rs` and embedded in the CLI, so
//! `netreach artifacts --out DIR` can hand them to any host.

/// Core ABI module (`policy/src/abi/core.rs`): the wasmtime harness and `check --engine wasm`.
pub static CORE: &[u8] = include_bytes!(env!("NETREACH_WASM_CORE"));

/// Kubewarden waPC policy (`policy/src/abi/kubewarden.rs`), metadata embedded.
pub static KUBEWARDEN: &[u8] = include_bytes!(env!("NETREACH_WASM_KUBEWARDEN"));

/// OPA WebAssembly ABI 1.2 module (`policy/src/abi/opa.rs`), for OPA SDKs and Gatekeeper-style
/// inputs.
pub static OPA: &[u8] = include_bytes!(env!("NETREACH_WASM_OPA"));

/// Kubewarden policy metadata as YAML (what `kwctl annotate -m` takes).
pub static KUBEWARDEN_METADATA: &str = include_str!("../../policy/kubewarden/metadata.yml");

/// Every artifact as (file name, bytes).
pub fn all() -> [(&'static str, &'static [u8]); 4] {
    [
        ("netreach-core.wasm", CORE),
        ("netreach-kubewarden.wasm", KUBEWARDEN),
        ("netreach-opa.wasm", OPA),
        ("metadata.yml", KUBEWARDEN_METADATA.as_bytes()),
    ]
}
