//! The wasm artifacts, built from `policy/` by `build.rs` and embedded in the CLI, so
//! `netreach artifacts --out DIR` can hand them to any host.

/// Core ABI module (`policy/src/abi/core.rs`): the wasmtime harness and `check --engine wasm`.
pub static CORE: &[u8] = include_bytes!(env!("NETREACH_WASM_CORE"));

/// Kubewarden waPC policy (`policy/src/abi/kubewarden.rs`), metadata embedded.
pub static KUBEWARDEN: &[u8] = include_bytes!(env!("NETREACH_WASM_KUBEWARDEN"));

/// OPA WebAssembly ABI 1.2 module (`policy/src/abi/opa.rs`), for OPA SDKs and Gatekeeper-style
/// inputs.
pub static OPA: &[u8] = include_bytes!(env!("NETREACH_WASM_OPA"));

/// The wasm-bindgen module for JavaScript hosts (`policy/src/abi/bindgen.rs`), with its glue.
pub static BINDGEN_WASM: &[u8] = include_bytes!(env!("NETREACH_BINDGEN_WASM"));
/// ES module glue for [`BINDGEN_WASM`] (wasm-bindgen target `web`).
pub static BINDGEN_JS: &str = include_str!(env!("NETREACH_BINDGEN_JS"));
/// TypeScript declarations of [`BINDGEN_JS`].
pub static BINDGEN_DTS: &str = include_str!(env!("NETREACH_BINDGEN_DTS"));

/// Kubewarden policy metadata as YAML (what `kwctl annotate -m` takes).
pub static KUBEWARDEN_METADATA: &str = include_str!("../../policy/kubewarden/metadata.yml");

/// Every artifact as (file name, bytes).
pub fn all() -> [(&'static str, &'static [u8]); 7] {
    [
        ("bindgen/netreach.js", BINDGEN_JS.as_bytes()),
        ("bindgen/netreach.d.ts", BINDGEN_DTS.as_bytes()),
        ("bindgen/netreach_bg.wasm", BINDGEN_WASM),
        ("netreach-core.wasm", CORE),
        ("netreach-kubewarden.wasm", KUBEWARDEN),
        ("netreach-opa.wasm", OPA),
        ("metadata.yml", KUBEWARDEN_METADATA.as_bytes()),
    ]
}
