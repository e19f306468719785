//! The `netreach` binary as users run it: exit codes, stdin, directories, output formats.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code

use std::io::Write;
use std::process::{Command, Stdio};

fn netreach(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    netreach_in(concat!(env!("CARGO_MANIFEST_DIR"), "/.."), args, stdin)
}

fn netreach_in(root: impl AsRef<std::path::Path>, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netreach"))
        .args(args)
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run netreach");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn check_exit_codes() {
    // The bundled example carries one error on purpose: the Distributed Issuer's vendor policy
    // allows 443 and no DNS.
    let (code, out, _) = netreach(&["check", "examples/platform"], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("1 error(s)") && out.contains("error[NR201]") && out.contains("venafi/distributed-issuer"), "{out}");
    let (code, out, _) = netreach(&["check", "--skip", "NR201", "examples/platform"], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 error(s)"), "{out}");
    let (code, out, _) = netreach(&["check", "tests/corpus/netpol/invalid-network-policy/fail-ports"], None);
    assert_eq!(code, 1);
    assert!(out.contains("error[NR101]"), "{out}");
    assert!(out.contains("input.yaml:12:14"), "{out}");
    let (code, _, err) = netreach(&["check", "does/not/exist.yaml"], None);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
    let (code, _, err) = netreach(&["check", "--bogus", "x"], None);
    assert_eq!(code, 2);
    assert!(err.contains("unknown option"), "{err}");
}

#[test]
fn stdin_is_read_with_dash() {
    let yaml = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: a}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: 0}]}]\n";
    let (code, out, _) = netreach(&["check", "-"], Some(yaml));
    assert_eq!(code, 1);
    assert!(out.contains("--> <stdin>:6:"), "{out}");
}

#[test]
fn json_report_is_the_shared_shape() {
    let (code, out, _) = netreach(&["check", "-o", "json", "tests/corpus/input/invalid-yaml/fail-unclosed-flow"], None);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["findings"]["error"], 2);
    let d = &v["diagnostics"][0];
    assert_eq!(d["rule"], "NR001");
    assert_eq!(d["location"]["start"]["line"], 11);
    assert!(d["location"]["file"].as_str().unwrap().ends_with("input.yaml"));
}

#[test]
fn connectivity_and_explain() {
    let (code, out, _) = netreach(&["connectivity", "examples/platform"], None);
    assert_eq!(code, 0);
    assert!(out.contains("shop/orders-api[Deployment] => shop/postgres[StatefulSet] : TCP 5432\n"), "{out}");
    assert!(out.contains("venafi/distributed-issuer[Deployment] => 0.0.0.0-169.254.169.253[External] : TCP 443\n"), "{out}");
    let (code, out, _) = netreach(&["connectivity", "-o", "json", "--focus-workload", "shop/postgres", "examples/platform"], None);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let conns = v["connections"].as_array().expect("connections");
    assert!(!conns.is_empty());
    assert!(conns.iter().all(|c| c.to_string().contains("shop/postgres")));
    let args = ["explain", "--from", "venafi/distributed-issuer", "--to", "kube-system/coredns", "--port", "53", "--protocol", "UDP", "examples/platform"];
    let (code, out, _) = netreach(&args, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("DENIED"), "{out}");
    assert!(out.contains("isolated by venafi/allow-distributed-issuer-egress"), "{out}");
    let args = ["explain", "--from", "shop/orders-api", "--to", "shop/postgres", "--port", "5432", "examples/platform"];
    let (code, out, _) = netreach(&args, None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("allowed by shop/orders-api-database spec.egress[0]"), "{out}");
}

#[test]
fn rules_lists_every_rule() {
    let (code, out, _) = netreach(&["rules"], None);
    assert_eq!(code, 0);
    for id in ["NR001", "NR002", "NR003", "NR004", "NR101"] {
        assert!(out.contains(id), "{out}");
    }
}

#[test]
fn explain_names_the_layer_the_rules_report() {
    // NR207 reports the declared need as blocked by the egress policies; explain to the same
    // host and port gives the same reasons.
    let case = "tests/corpus/scenarios/distributed-issuer-proxy/broken";
    let (_, report, _) = netreach(&["check", "-o", "json", "--profile", &format!("{case}/profile.yaml"), &format!("{case}/input.yaml")], None);
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    let nr206 = v["diagnostics"].as_array().unwrap().iter().find(|d| d["rule"] == "NR206").expect("NR206 finding");
    let (code, out, err) = netreach(&["explain", "--from", "venafi/distributed-issuer", "--to", "10.20.30.40", "--port", "3128", &format!("{case}/input.yaml")], None);
    assert_eq!(code, 1, "{out}{err}");
    for reason in nr206["explanation"].as_array().unwrap() {
        assert!(out.contains(reason.as_str().unwrap()), "explain lacks {reason}:\n{out}");
    }
    // An external host name: only the source's egress decides.
    let case = "tests/corpus/reachability/requirement-blocked/fail-requirements-document/input.yaml";
    let (code, out, _) = netreach(&["explain", "--from", "venafi/distributed-issuer", "--to", "ngts.paloaltonetworks.com", "--port", "443", case], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ipBlock 0.0.0.0/0 may contain the address of ngts.paloaltonetworks.com"), "{out}");
    assert!(out.contains("outside the cluster: no NetworkPolicy governs its ingress"), "{out}");
}

#[test]
fn rule_selection_and_rule_listing() {
    // --rule runs only the rules named; ids and names both work.
    let (code, out, _) = netreach(&["check", "--rule", "dns-udp-blocked", "--rule", "NR115", "examples/platform"], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[NR201]") && out.contains("[NR115]"), "{out}");
    assert!(!out.contains("[NR116]"), "only the selected rules run: {out}");
    let (code, _, err) = netreach(&["check", "--rule", "NR999", "examples/platform"], None);
    assert_eq!(code, 2);
    assert!(err.contains("unknown rule \"NR999\""), "{err}");
    // The profile's `rules.only` applies unless --rule is given.
    let dir = std::env::temp_dir().join(format!("netreach-only-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("profile.yaml");
    std::fs::write(&profile, "apiVersion: netreach.dev/v1alpha1\nkind: ClusterProfile\nrules: {only: [no-default-deny]}\n").unwrap();
    let (code, out, _) = netreach(&["check", "--profile", profile.to_str().unwrap(), "examples/platform"], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[NR116]") && !out.contains("[NR201]"), "{out}");
    let (_, out, _) = netreach(&["check", "--profile", profile.to_str().unwrap(), "--rule", "NR201", "examples/platform"], None);
    assert!(out.contains("[NR201]") && !out.contains("[NR116]"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
    // `rules` lists id, severity, name, title and tags, one rule per line.
    let (code, out, _) = netreach(&["rules"], None);
    assert_eq!(code, 0);
    let line = out.lines().find(|l| l.starts_with("NR115")).unwrap_or_default();
    assert!(line.contains("workload-not-isolated") && line.contains("[iso27001:A.13.1.3, cis-k8s:5.3.2]"), "{line}");
    assert_eq!(out.lines().count(), netreach_policy::rules::ALL.len());
    let (_, json, _) = netreach(&["rules", "-o", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(netreach_policy::rules::ALL.len()));
}

#[test]
fn profile_sets_scope_and_rule_settings() {
    let dir = std::env::temp_dir().join(format!("netreach-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let case = "tests/corpus/netpol/workload-not-isolated/fail-only-egress-isolated";
    let (_, out, _) = netreach(&["check", case], None);
    assert!(out.contains("warning[NR115]") && out.contains("jobs/worker"), "{out}");

    let profile = dir.join("profile.yaml");
    let text = "apiVersion: netreach.dev/v1alpha1\nkind: ClusterProfile\nunsegregatedNamespaces: [jobs]\nrules: {skip: [no-default-deny], severity: {NR115: error}}\n";
    std::fs::write(&profile, text).unwrap();
    let (code, out, err) = netreach(&["check", "--profile", profile.to_str().unwrap(), case], None);
    assert_eq!(code, 1, "NR115 raised to error by the profile: {out}{err}");
    assert!(out.contains("error[NR115]") && !out.contains("jobs/worker") && !out.contains("NR116"), "{out}");
    // The profile reaches the wasm module too: the same report.
    let (_, wasm_out, _) = netreach(&["check", "--engine", "wasm", "--profile", profile.to_str().unwrap(), case], None);
    assert_eq!(wasm_out, out);
    // A flag adds to the profile's settings.
    let (code, out, _) = netreach(&["check", "--profile", profile.to_str().unwrap(), "--severity", "NR115=warning", case], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning[NR115]"), "{out}");

    std::fs::write(&profile, "apiVersion: netreach.dev/v1alpha1\nkind: ClusterProfile\ndns: {serviceIP: nope}\n").unwrap();
    let (code, _, err) = netreach(&["check", "--profile", profile.to_str().unwrap(), case], None);
    assert_eq!(code, 2);
    assert!(err.contains("profile.yaml:3:") && err.contains("dns.serviceIP"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn project_file_is_read_from_the_working_directory_or_a_parent() {
    let dir = std::env::temp_dir().join(format!("netreach-project-{}", std::process::id()));
    let case = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/netpol/workload-not-isolated/fail-only-egress-isolated/input.yaml");
    std::fs::create_dir_all(dir.join("apps/sub")).unwrap();
    std::fs::create_dir_all(dir.join("charts/x/templates")).unwrap();
    std::fs::copy(case, dir.join("apps/input.yaml")).unwrap();
    // Excluded: it would be an NR001 error if read.
    std::fs::write(dir.join("charts/x/templates/broken.yaml"), "a: [\n").unwrap();
    std::fs::write(dir.join("cluster.yaml"), "apiVersion: netreach.dev/v1alpha1\nkind: ClusterProfile\nunsegregatedNamespaces: [jobs]\n").unwrap();
    let (code, out, _) = netreach_in(&dir, &["check", "--no-config", "."], None);
    assert_eq!(code, 1, "without the project file the chart is read: {out}");
    assert!(out.contains("error[NR001]") && out.contains("jobs/worker"), "{out}");

    let project = "profile: cluster.yaml\nrules:\n  skip: [no-default-deny]\n  severity: {NR115: error}\nexclude: [charts/]\n";
    std::fs::write(dir.join(".netreach.yaml"), project).unwrap();
    // Found from a subfolder; relative paths start at the file's folder.
    let (_, out, err) = netreach_in(dir.join("apps/sub"), &["check", "-o", "json", ".."], None);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let rules: Vec<&str> = v["diagnostics"].as_array().unwrap().iter().map(|d| d["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["NR115"], "{out}");
    let (code, out, _) = netreach_in(&dir, &["check", "."], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[NR115]") && !out.contains("jobs/worker") && !out.contains("NR116") && !out.contains("NR001"), "{out}");
    // The command line adds to the file.
    let (code, out, _) = netreach_in(&dir, &["check", "--severity", "NR115=warning", "."], None);
    assert_eq!(code, 0, "{out}");
    // --config names another file.
    std::fs::write(dir.join("strict.yaml"), "rules: {only: [NR116]}\n").unwrap();
    let (_, out, _) = netreach_in(&dir, &["check", "--config", "strict.yaml", "apps"], None);
    assert!(out.contains("info[NR116]") && !out.contains("NR115"), "{out}");

    // A bad project file is an error at its line and column, and nothing is checked.
    std::fs::write(dir.join(".netreach.yaml"), "rules:\n  skp: [NR116]\n").unwrap();
    let (code, out, err) = netreach_in(&dir, &["check", "."], None);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains(".netreach.yaml:2:3") && err.contains("skp"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("netreach-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const BAD_POLICY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: a}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: 0}]}]\n";

/// Devices, FIFOs, huge files and link loops in a folder: each is an NR001 finding on that
/// entry, nothing blocks or reads without bound, and the real manifests are still checked.
#[cfg(unix)]
#[test]
fn hostile_folder_entries_are_findings_not_stops() {
    use std::os::unix::fs::symlink;
    let dir = scratch("hostile-folder");
    std::fs::write(dir.join("ok.yaml"), BAD_POLICY).unwrap();
    symlink("/dev/zero", dir.join("zero.yaml")).unwrap();
    assert!(Command::new("mkfifo").arg(dir.join("pipe.yaml")).status().unwrap().success());
    std::fs::File::create(dir.join("sparse.yaml")).unwrap().set_len(1 << 30).unwrap();
    symlink("missing", dir.join("dangling.yaml")).unwrap();
    std::fs::create_dir_all(dir.join("real")).unwrap();
    std::fs::write(dir.join("real/inner.yaml"), BAD_POLICY.replace("name: x", "name: inner")).unwrap();
    symlink("real", dir.join("linked")).unwrap();
    symlink(".", dir.join("loop")).unwrap();
    symlink("real", dir.join("folder.yaml")).unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(BAD_POLICY.replace("name: x", "name: wide").encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(dir.join("wide.yaml"), utf16).unwrap();
    std::fs::write(dir.join("latin1.yaml"), b"kind: Namespace\nmetadata: {name: caf\xE9}\n").unwrap();

    let (code, out, err) = netreach_in(&dir, &["check", "-o", "json", "."], None);
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let found: Vec<(String, String, String)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "NR001" || d["rule"] == "NR101")
        .map(|d| (d["rule"].as_str().unwrap().into(), d["location"]["file"].as_str().unwrap().into(), d["message"].as_str().unwrap().into()))
        .collect();
    let has = |rule: &str, file: &str, text: &str| found.iter().any(|(r, f, m)| r == rule && f.ends_with(file) && m.contains(text));
    assert!(has("NR001", "zero.yaml", "not a regular file"), "{found:?}");
    assert!(has("NR001", "pipe.yaml", "not a regular file"), "{found:?}");
    assert!(has("NR001", "sparse.yaml", "larger than 32 MiB"), "{found:?}");
    assert!(has("NR001", "dangling.yaml", "file not read"), "{found:?}");
    assert!(has("NR001", "latin1.yaml", "not UTF-8"), "{found:?}");
    assert!(has("NR101", "ok.yaml", "port"), "{found:?}");
    assert!(has("NR101", "wide.yaml", "port"), "UTF-16 with a byte-order mark is read: {found:?}");
    // The linked folder is walked once, under one name, and the loop ends.
    let inner: Vec<_> = found.iter().filter(|(r, f, _)| r == "NR101" && f.ends_with("inner.yaml")).collect();
    assert_eq!(inner.len(), 1, "{found:?}");
    assert!(inner[0].1.contains("folder.yaml/inner.yaml"), "{inner:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn terminal_escapes_in_names_are_not_printed() {
    let yaml = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: \"a\\e]0;pwned\\a\\e[2J\", namespace: shop}\nspec: {podSelector: {}, policyTypes: [Sideways]}\n";
    let (code, out, _) = netreach(&["check", "-"], Some(yaml));
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("a\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"), "{out}");
}

#[test]
fn connectivity_focus_on_an_unknown_workload_is_an_error() {
    let (code, out, err) = netreach(&["connectivity", "--focus-workload", "shop/typo", "examples/platform"], None);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("no workload shop/typo"), "{err}");
}

#[test]
fn admit_refuses_forged_requests() {
    let dir = scratch("admit-forged");
    let review = |request: &str| format!("{{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"AdmissionReview\", \"request\": {request}}}");
    for (name, request) in [("null", "null"), ("junk", "\"junk\"")] {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, review(request)).unwrap();
        let (code, out, err) = netreach(&["admit", path.to_str().unwrap()], None);
        assert_eq!(code, 2, "request {request}: {out}");
        assert!(err.contains("the admission `request` is") && err.contains("not a mapping"), "{err}");
    }
    for object in ["42", "\"x\"", "[]"] {
        let path = dir.join("object.json");
        std::fs::write(&path, review(&format!("{{\"uid\": \"u\", \"operation\": \"CREATE\", \"object\": {object}}}"))).unwrap();
        let (code, out, _) = netreach(&["admit", path.to_str().unwrap()], None);
        assert_eq!(code, 1, "object {object} must be denied: {out}");
        assert!(out.contains("\"allowed\": false") && out.contains("not a Kubernetes object"), "{out}");
    }
    std::fs::write(dir.join("hello.yaml"), "hello\n").unwrap();
    let (code, _, err) = netreach(&["admit", "--object", dir.join("hello.yaml").to_str().unwrap()], None);
    assert_eq!(code, 2);
    assert!(err.contains("holds no Kubernetes object"), "{err}");
    let (code, _, err) = netreach(&["admit", "--object", "examples/platform/shop.yaml", "--operation", "BOGUS"], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("CREATE, UPDATE, DELETE or CONNECT"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// An unverifiable finding stays info whatever severity the settings give its rule, and
/// settings that read no context ignore the context handed in.
#[test]
fn admit_blind_spots_never_deny() {
    let dir = scratch("admit-blind");
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: web}]}\n";
    std::fs::write(dir.join("deploy.yaml"), deploy).unwrap();
    std::fs::write(dir.join("strict.json"), r#"{"severityOverrides": {"NR115": "error", "NR104": "error", "NR116": "error", "NR201": "error"}}"#).unwrap();
    let obj = dir.join("deploy.yaml");
    let (code, out, err) = netreach(&["admit", "--object", obj.to_str().unwrap(), "--settings", dir.join("strict.json").to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("\"allowed\": true"), "{out}");

    std::fs::create_dir_all(dir.join("cluster")).unwrap();
    std::fs::write(
        dir.join("cluster/deny.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Egress]}\n",
    )
    .unwrap();
    let ctx = dir.join("cluster");
    let (code, out, _) = netreach(&["admit", "--object", obj.to_str().unwrap(), "--context", ctx.to_str().unwrap()], None);
    assert_eq!(code, 1, "the context's default-deny blocks DNS: {out}");
    std::fs::write(dir.join("none.json"), r#"{"context": "none"}"#).unwrap();
    let (code, out, _) = netreach(&["admit", "--object", obj.to_str().unwrap(), "--context", ctx.to_str().unwrap(), "--settings", dir.join("none.json").to_str().unwrap()], None);
    assert_eq!(code, 0, "context: none reads no context: {out}");
    std::fs::remove_dir_all(&dir).ok();
}
