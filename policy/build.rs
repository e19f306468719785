//! Link arguments of the OPA artifact: OPA hosts create the memory (5 pages by default) and
//! hand it in, so the module imports it, re-exports it, and keeps its stack small enough for
//! the declared minimum to fit.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let opa = std::env::var_os("CARGO_FEATURE_ABI_OPA").is_some();
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "wasm32");
    if opa && wasm {
        for arg in ["--import-memory", "--export-memory", "-zstack-size=65536"] {
            println!("cargo:rustc-cdylib-link-arg={arg}");
        }
    }
}
