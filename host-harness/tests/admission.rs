//! The admission fixtures (`tests/admission/*/`) answered natively, in every host shape, and by
//! `netreach admit`. `expected.json` is what every host must answer; `UPDATE_EXPECTED=1`
//! rewrites it from the native answers (review the diff). The artifacts are held to the same
//! files by `wapc-host/` (Rust waPC) and `js/` (npm waPC and OPA hosts).

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::fs;
use std::path::{Path, PathBuf};

use netreach_host_harness::cli::run;
use netreach_host_harness::fixtures::{self, inventory, FixtureCluster};
use netreach_policy::admission::{gatekeeper_violations, kubewarden_operation, opa_evaluate, HostCalls};
use serde_json::{json, Value};

fn cases() -> Vec<PathBuf> {
    fixtures::cases().unwrap()
}

fn read(p: &Path) -> Value {
    fixtures::read_json(p).unwrap()
}

fn op(name: &str, payload: &Value, host: &mut dyn HostCalls) -> Result<Value, String> {
    kubewarden_operation(name.as_bytes(), payload.to_string().as_bytes(), host).map(|b| serde_json::from_slice(&b).unwrap())
}

fn cluster(case: &Path) -> Option<Vec<Value>> {
    fixtures::cluster_objects(case).unwrap()
}

/// Every host shape, answered natively.
fn native(case: &Path) -> Value {
    let review = read(&case.join("review.json"));
    let settings = read(&case.join("settings.json"));
    let request = &review["request"];
    let objects = cluster(case);
    let mut host = FixtureCluster::new(objects.clone());
    let mut out = serde_json::Map::new();
    let vs = op("validate_settings", &settings, &mut host).unwrap();
    out.insert("validate_settings".into(), vs.clone());
    // Gatekeeper's inventory only when the case has a cluster (as `admit` gets --context only then).
    let data = match objects.as_deref() {
        Some(objects) => json!({"inventory": inventory(objects)}),
        None => json!({}),
    };
    if vs["valid"] == json!(true) {
        out.insert("validate".into(), op("validate", &json!({"request": request, "settings": settings}), &mut host).unwrap());
        let mut opa_data = settings.clone();
        if let Some(inv) = data.get("inventory") {
            opa_data["inventory"] = inv.clone();
        }
        let response = opa_evaluate(2, &json!({"request": request}), &opa_data);
        out.insert("response".into(), response[0]["result"]["response"].clone());
    }
    out.insert("violations".into(), gatekeeper_violations(&json!({"review": request, "parameters": settings}), &data));
    out.insert("host_calls".into(), json!(host.calls));
    Value::Object(out)
}

#[test]
fn fixtures_match_expected() {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut checked = 0;
    for case in cases() {
        let got = native(&case);
        let path = case.join("expected.json");
        if update {
            fs::write(&path, format!("{}\n", serde_json::to_string_pretty(&got).unwrap())).unwrap();
        }
        assert_eq!(got, read(&path), "{}: native answers differ from expected.json", case.display());
        checked += 1;
    }
    assert!(checked >= 5, "found only {checked} fixtures");
}

#[test]
fn fixtures_cover_deny_warn_allow_and_invalid_settings() {
    let expected: Vec<Value> = cases().iter().map(|c| read(&c.join("expected.json"))).collect();
    assert!(expected.iter().any(|e| e["validate"]["accepted"] == json!(false) && e["validate"]["code"] == json!(400)));
    assert!(expected.iter().any(|e| e["validate"]["accepted"] == json!(true) && e["validate"]["warnings"].as_array().is_some_and(|w| !w.is_empty())));
    assert!(expected.iter().any(|e| e["validate"] == json!({"accepted": true})));
    assert!(expected.iter().any(|e| e["validate_settings"]["valid"] == json!(false)));
    // Context read through host capabilities (four kinds, then the three cluster-policy kinds),
    // and context refused.
    assert!(expected.iter().any(|e| e["host_calls"].as_array().is_some_and(|c| c.len() == 7) && e["validate"] == json!({"accepted": true})));
    assert!(expected.iter().any(|e| e["validate"]["warnings"][0].as_str().is_some_and(|w| w.contains("not read"))));
    for e in &expected {
        for w in e["validate"]["warnings"].as_array().into_iter().flatten() {
            assert!(w.as_str().unwrap().chars().count() <= 120, "warning over 120 chars: {w}");
        }
    }
}

#[test]
fn cli_admit_answers_as_the_hosts_do() {
    for case in cases() {
        let expected = read(&case.join("expected.json"));
        let mut args = vec!["admit".to_string(), "--settings".into(), case.join("settings.json").display().to_string()];
        let list = std::env::temp_dir().join(format!("netreach-cluster-{}.json", std::process::id()));
        if let Some(objects) = cluster(&case) {
            fs::write(&list, json!({"apiVersion": "v1", "kind": "List", "items": objects}).to_string()).unwrap();
            args.extend(["--context".into(), list.display().to_string()]);
        }
        args.push(case.join("review.json").display().to_string());
        let (code, out, err) = run(&args);
        fs::remove_file(&list).ok();
        if expected["validate_settings"]["valid"] == json!(false) {
            assert_eq!(code, 2, "{}: {out}", case.display());
            assert!(err.contains("invalid settings"), "{err}");
            continue;
        }
        assert_eq!(code, i32::from(expected["validate"]["accepted"] != json!(true)), "{}: {err}", case.display());
        let review: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(review["kind"], "AdmissionReview");
        assert_eq!(review["response"], expected["response"], "{}", case.display());
        let uid = read(&case.join("review.json"))["request"]["uid"].clone();
        assert_eq!(review["response"]["uid"], uid);
    }
}

#[test]
fn cli_admit_synthesizes_the_request_from_a_manifest() {
    let dir = std::env::temp_dir().join(format!("netreach-admit-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("np.yaml");
    fs::write(&manifest, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: shop}\nspec:\n  podSelector: {}\n  policyTypes: [Sideways]\n").unwrap();
    let (code, out, _) = run(&["admit".into(), "--object".into(), manifest.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    let review: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(review["response"]["allowed"], json!(false));
    assert_eq!(review["response"]["status"]["code"], json!(400));
    assert!(review["response"]["status"]["message"].as_str().unwrap().contains("NetworkPolicy `shop/bad`"));

    // Two objects: admit reviews one, and says so.
    let two = dir.join("two.yaml");
    fs::write(&two, "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n").unwrap();
    let (code, _, err) = run(&["admit".into(), "--object".into(), two.display().to_string()]);
    assert_eq!(code, 2);
    assert!(err.contains("holds 2 objects"), "{err}");

    // A context directory is read beside the object; its own findings do not deny.
    let ctx = dir.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(ctx.join("bad.yaml"), "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: other, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Sideways]}\n").unwrap();
    let ns = dir.join("ns.yaml");
    fs::write(&ns, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n").unwrap();
    let (code, out, err) = run(&["admit".into(), "--object".into(), ns.display().to_string(), "--context".into(), ctx.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn kubewarden_metadata_is_embedded_and_matches_the_yaml() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/kubewarden");
    let json_text = fs::read_to_string(dir.join("metadata.json")).unwrap();
    let yaml_text = fs::read_to_string(dir.join("metadata.yml")).unwrap();
    let (docs, errors) = netreach_policy::source::parse_source(0, &yaml_text, &netreach_policy::Limits::default());
    assert!(errors.is_empty());
    let from_yaml = docs.into_iter().next().unwrap().value;
    assert_eq!(serde_json::from_str::<Value>(&json_text).unwrap(), from_yaml, "metadata.json must be metadata.yml as JSON");
    for field in ["rules", "mutating", "executionMode", "contextAwareResources", "backgroundAudit"] {
        assert!(from_yaml.get(field).is_some(), "metadata lacks {field}");
    }
    let wasm = netreach_host_harness::artifacts::KUBEWARDEN;
    let needle = json_text.as_bytes();
    assert!(wasm.windows(needle.len()).any(|w| w == needle), "the Kubewarden artifact does not carry metadata.json");
    let section = b"io.kubewarden.metadata";
    assert!(wasm.windows(section.len()).any(|w| w == section), "no io.kubewarden.metadata section");
}
