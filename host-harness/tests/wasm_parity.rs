//! Parity: every corpus case, every peer-suite scenario and the bundled example are checked by
//! the native library and by the core wasm module under wasmtime; the JSON reports must be
//! byte-identical. One compiled module for the whole run (compiling costs seconds in debug).
//! Also: the host turns traps, exhausted limits and broken modules into errors.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use netreach_host_harness::inputs::read_sources;
use netreach_host_harness::wasm::{HostError, Limits, WasmHost};
use netreach_policy::{check_json, Profile, Request, Source};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every input set: (label, sources, profile).
fn inputs() -> Vec<(String, Vec<Source>, Option<Profile>)> {
    let mut out = Vec::new();
    let mut case_dirs = Vec::new();
    collect_cases(&root().join("tests/corpus"), &mut case_dirs);
    case_dirs.sort();
    for dir in case_dirs {
        let text = fs::read_to_string(dir.join("input.yaml")).unwrap();
        let profile = fs::read_to_string(dir.join("profile.yaml")).ok().map(|p| Profile::from_text(&p).unwrap());
        out.push((dir.display().to_string(), vec![Source::new("input.yaml", text)], profile));
    }
    let suite = root().join("../shared/peer-suites/netpol-analyzer");
    let index = fs::read_to_string(suite.join("index.tsv")).expect("peer suite beside the repo");
    let dirs: BTreeSet<String> = index.lines().skip(1).filter_map(|row| row.split('\t').nth(1).map(str::to_string)).collect();
    for dir in dirs {
        let path = suite.join("tests").join(&dir);
        let sources = read_sources(&[path.display().to_string()]).unwrap();
        out.push((format!("peer-suite {dir}"), sources, None));
    }
    let example = read_sources(&[root().join("examples/platform").display().to_string()]).unwrap();
    out.push(("examples/platform".into(), example, None));
    out
}

fn collect_cases(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_cases(&p, out);
        } else if p.file_name().is_some_and(|n| n == "input.yaml") {
            out.push(dir.to_path_buf());
        }
    }
}

fn request(sources: Vec<Source>, ns: Option<&str>) -> Vec<u8> {
    serde_json::to_vec(&Request { sources, default_namespace: ns.map(str::to_string), ..Request::default() }).unwrap()
}

#[test]
fn native_and_wasm_reports_are_byte_identical() {
    let host = WasmHost::core(Limits::default()).unwrap();
    let inputs = inputs();
    let mut differing = Vec::new();
    let mut corpus = 0;
    for (label, sources, profile) in &inputs {
        corpus += usize::from(!label.starts_with("peer-suite"));
        let req = serde_json::to_vec(&Request { sources: sources.clone(), profile: profile.clone(), ..Request::default() }).unwrap();
        let native = check_json(&req);
        let wasm = host.check_json(&req).unwrap_or_else(|e| panic!("{label}: {e}"));
        if native != wasm {
            differing.push(label.clone());
        }
    }
    // A request the module cannot read is answered, not trapped on, and identically.
    for bad in [&b"{"[..], b"[]", b"{\"sources\": 3}", b"{\"sources\": [], \"unknown\": 1}", b"\xff\xfe"] {
        assert_eq!(host.check_json(bad).unwrap(), check_json(bad), "bad request {bad:?}");
        assert!(check_json(bad).contains("\"error\": \"invalid request"), "{}", check_json(bad));
    }
    // The default namespace travels through the request.
    let ns = request(vec![Source::new("a.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")], Some("team-a"));
    assert_eq!(host.check_json(&ns).unwrap(), check_json(&ns));
    println!("parity: {} input sets ({corpus} corpus/example, {} peer-suite), {} differ", inputs.len(), inputs.len() - corpus, differing.len());
    assert!(differing.is_empty(), "native and wasm reports differ for: {differing:#?}");
    assert!(inputs.len() > 100, "expected the whole corpus and peer suite, found {}", inputs.len());
}

#[test]
fn rule_metadata_is_the_same_in_the_module() {
    let host = WasmHost::core(Limits::default()).unwrap();
    assert_eq!(host.rules_json().unwrap(), netreach_policy::rules_json());
}

#[test]
fn limits_and_broken_modules_become_errors() {
    let sources = read_sources(&[root().join("examples/platform").display().to_string()]).unwrap();
    let req = request(sources, None);

    let starved = WasmHost::core(Limits { fuel: 200_000, ..Limits::default() }).unwrap();
    match starved.check_json(&req) {
        Err(HostError::Trap(msg)) => assert!(msg.contains("fuel"), "{msg}"),
        other => panic!("expected a fuel trap, got {other:?}"),
    }
    // The host stays usable after a trap: each call gets a fresh instance.
    assert!(matches!(starved.check_json(&req), Err(HostError::Trap(_))));

    let small = WasmHost::core(Limits { max_memory: 2 << 20, ..Limits::default() }).unwrap();
    let big = request(vec![Source::new("big.yaml", "# padding\n".repeat(400_000))], None);
    match small.check_json(&big) {
        Err(HostError::Trap(_) | HostError::Load(_)) => {}
        other => panic!("expected the memory cap to stop the call, got {other:?}"),
    }

    assert!(matches!(WasmHost::new(b"not wasm", Limits::default()), Err(HostError::Load(_))));
    // A valid module without the ABI's exports.
    let empty = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    assert!(matches!(WasmHost::new(&empty, Limits::default()), Err(HostError::Load(_))));
}

/// Nesting and alias bombs that once overflowed the module's stack (4,000 levels of `? `) get
/// the native answer, NR001, from the module too; the module's cache gives the same answers.
#[test]
fn hostile_nesting_gets_the_native_answer_in_wasm() {
    let host = WasmHost::core(Limits::default()).unwrap();
    let mut tagged = String::from("a0: &a0 !t [x, x, x, x, x, x, x, x, x, x]\n");
    for l in 1..=7 {
        tagged.push_str(&format!("a{l}: &a{l} !t [{}]\n", vec![format!("*a{}", l - 1); 10].join(", ")));
    }
    for text in ["? ".repeat(20_000) + "x", "? - ".repeat(20_000) + "x", "[".repeat(100_000), tagged] {
        let req = request(vec![Source::new("deep.yaml", format!("{text}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: shop}}\n"))], None);
        let wasm = host.check_json(&req).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(wasm, check_json(&req), "{text:.20}");
        assert!(wasm.contains("\"NR001\""), "{wasm}");
    }
    let dir = std::env::temp_dir().join(format!("netreach-wasm-cache-{}", std::process::id()));
    let first = WasmHost::cached(netreach_host_harness::artifacts::CORE, Limits::default(), Some(&dir)).unwrap();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "the compiled module is written once");
    let second = WasmHost::cached(netreach_host_harness::artifacts::CORE, Limits::default(), Some(&dir)).unwrap();
    let req = request(vec![Source::new("a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")], None);
    assert_eq!(first.check_json(&req).unwrap(), second.check_json(&req).unwrap());
    std::fs::remove_dir_all(&dir).ok();
}
