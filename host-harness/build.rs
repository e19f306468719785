//! Builds the policy core's wasm artifacts with a nested cargo, so `cargo test` and `cargo
//! build` need no manual step. One target dir for all artifacts (`target/wasm-artifacts`, apart
//! from the outer one: sharing it deadlocks), built one after another; each artifact is copied
//! out under its own name before the next build overwrites it. The OPA artifact gets its ABI
//! version globals here, after linking, because Rust cannot export an i32 value global.

#![allow(clippy::panic)] // a build script reports failure by panicking

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ConstExpr, ExportKind, ExportSection, GlobalSection, GlobalType, Module, RawSection, ValType};
use wasmparser::{Parser, Payload};

/// (feature, file name, environment variable the artifact's path is given in)
const ARTIFACTS: &[(&str, &str, &str)] = &[
    ("abi-core", "netreach-core.wasm", "NETREACH_WASM_CORE"),
    ("abi-kubewarden", "netreach-kubewarden.wasm", "NETREACH_WASM_KUBEWARDEN"),
    ("abi-opa", "netreach-opa.wasm", "NETREACH_WASM_OPA"),
    ("abi-bindgen", "netreach-bindgen-raw.wasm", "NETREACH_WASM_BINDGEN_RAW"),
];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("..");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    for dir in ["policy/src", "policy/kubewarden", "policy/Cargo.toml", "policy/build.rs", "Cargo.lock", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    let target_dir = root.join("target/wasm-artifacts");
    // Release builds and benches get the shipped artifacts (`wasm`: LTO, one codegen unit, ~2 min
    // each); test builds get `wasm-dev` (same code, no LTO, ~30 s each), which keeps CI short.
    let profile = if env::var("PROFILE").as_deref() == Ok("release") { "wasm" } else { "wasm-dev" };
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (feature, name, var) in ARTIFACTS {
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(&root)
            .args(["build", "--locked", "-p", "netreach-policy", "--lib", "--profile", profile, "--target", "wasm32-unknown-unknown"])
            .args(["--no-default-features", "--features", feature])
            .arg("--target-dir")
            .arg(&target_dir);
        // The outer build's flags and wrappers are for the host target, not for wasm32.
        for v in ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS", "RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "CARGO_BUILD_RUSTFLAGS", "CARGO_TARGET_DIR"] {
            cmd.env_remove(v);
        }
        match cmd.status() {
            Ok(s) if s.success() => {}
            other => panic!("building the {feature} wasm artifact failed ({other:?}); is the wasm32-unknown-unknown target installed? (rustup target add wasm32-unknown-unknown)"),
        }
        let built = target_dir.join("wasm32-unknown-unknown").join(profile).join("netreach_policy.wasm");
        let bytes = read(&built);
        let bytes = if *feature == "abi-opa" { add_opa_version_globals(&bytes) } else { bytes };
        let dest = out.join(name);
        if let Err(e) = std::fs::write(&dest, bytes) {
            panic!("cannot write {}: {e}", dest.display());
        }
        println!("cargo:rustc-env={var}={}", dest.display());
        if *feature == "abi-bindgen" {
            bindgen(&dest, &out.join("bindgen"));
        }
    }
}

/// Generate the wasm-bindgen glue (target `web`): `netreach.js`, `netreach.d.ts`,
/// `netreach_bg.wasm`.
fn bindgen(raw: &Path, dir: &Path) {
    let mut b = wasm_bindgen_cli_support::Bindgen::new();
    b.input_path(raw).out_name("netreach").typescript(true);
    if let Err(e) = b.web(true) {
        panic!("wasm-bindgen: {e}");
    }
    if let Err(e) = b.generate(dir) {
        panic!("wasm-bindgen cannot generate the glue for {}: {e}", raw.display());
    }
    for (file, var) in [("netreach.js", "NETREACH_BINDGEN_JS"), ("netreach.d.ts", "NETREACH_BINDGEN_DTS"), ("netreach_bg.wasm", "NETREACH_BINDGEN_WASM")] {
        println!("cargo:rustc-env={var}={}", dir.join(file).display());
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Append the exported immutable globals `opa_wasm_abi_version = 1` and
/// `opa_wasm_abi_minor_version = 2`; every other section is copied byte for byte.
fn add_opa_version_globals(wasm: &[u8]) -> Vec<u8> {
    let mut module = Module::new();
    let mut imported_globals = 0u32;
    let mut defined_globals = 0u32;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.unwrap_or_else(|e| panic!("the OPA artifact does not parse: {e}"));
        match payload {
            Payload::Version { .. } | Payload::End(_) => {}
            Payload::ImportSection(reader) => {
                for imports in reader.clone() {
                    let imports = imports.unwrap_or_else(|e| panic!("bad import: {e}"));
                    for import in imports {
                        let (_, import) = import.unwrap_or_else(|e| panic!("bad import: {e}"));
                        if matches!(import.ty, wasmparser::TypeRef::Global(_)) {
                            imported_globals += 1;
                        }
                    }
                }
                module.section(&RawSection { id: 2, data: wasm.get(reader.range()).unwrap_or_default() });
            }
            Payload::GlobalSection(reader) => {
                let mut globals = GlobalSection::new();
                defined_globals = reader.count();
                RoundtripReencoder.parse_global_section(&mut globals, reader).unwrap_or_else(|e| panic!("bad global: {e}"));
                for v in [1, 2] {
                    globals.global(GlobalType { val_type: ValType::I32, mutable: false, shared: false }, &ConstExpr::i32_const(v));
                }
                module.section(&globals);
            }
            Payload::ExportSection(reader) => {
                let mut exports = ExportSection::new();
                RoundtripReencoder.parse_export_section(&mut exports, reader).unwrap_or_else(|e| panic!("bad export: {e}"));
                let first = imported_globals + defined_globals;
                exports.export("opa_wasm_abi_version", ExportKind::Global, first);
                exports.export("opa_wasm_abi_minor_version", ExportKind::Global, first + 1);
                module.section(&exports);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&RawSection { id, data: wasm.get(range).unwrap_or_default() });
                }
            }
        }
    }
    if defined_globals == 0 {
        panic!("the OPA artifact has no global section (expected the stack pointer); cannot add the ABI version globals");
    }
    module.finish()
}
