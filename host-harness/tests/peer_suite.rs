//! Acceptance on the netpol-analyzer peer suite (`../shared/peer-suites/netpol-analyzer`):
//! every connectivity golden must agree (normalised only by line order), every bad-path
//! scenario must yield an error diagnostic while the rest is still analysed, and the only
//! exceptions are the scenarios in `tests/peer-suite/known-deviations.md`.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::fs;
use std::path::{Path, PathBuf};

use netreach_host_harness::inputs::read_sources;
use netreach_policy::{check_workspace, Connectivity, Engine, LoadOptions, Severity, Workspace};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn suite() -> PathBuf {
    root().join("../shared/peer-suites/netpol-analyzer")
}

fn deviations() -> Vec<String> {
    let text = fs::read_to_string(root().join("tests/peer-suite/known-deviations.md")).unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| scenario") && !l.starts_with("| ---"))
        .filter_map(|l| l.split('|').nth(1).map(|s| s.trim().to_string()))
        .collect()
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    v.sort();
    v
}

/// Ok(()) when the scenario agrees, Err(what differs) otherwise.
fn run(category: &str, dir: &str, expected: &str, mode: &str) -> Result<(), String> {
    let path = suite().join("tests").join(dir);
    let sources = read_sources(&[path.display().to_string()])?;
    let ws = Workspace::load(&sources, &LoadOptions::default());
    if category == "bad-path" {
        let report = check_workspace(&sources, &ws);
        let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
        // An error about something else (a stray JSON output file, a name, a reachability
        // finding on a valid policy) does not count: the golden's errors are input errors.
        let input_error = |r: &str| r.starts_with("NR0") || r.starts_with("NR1");
        let relevant = errors
            .iter()
            .any(|d| input_error(&d.rule) && d.rule != "NR002" && !(d.rule == "NR101" && d.location.path == "metadata.name"));
        if !relevant {
            return Err(format!("no error-severity diagnostic for the bad object (found: {:?})", errors.iter().map(|d| &d.message).collect::<Vec<_>>()));
        }
        if ws.objects == 0 {
            return Err("nothing else was analysed".into());
        }
        return Ok(());
    }
    let engine = Engine::new(&ws);
    let focus = mode.strip_prefix("focusworkload=").map(|f| f.trim_end_matches("+exposure"));
    let mut map = Connectivity::compute(&engine);
    if let Some(f) = focus {
        map = map.focus(f);
    }
    // The CLI writes the map row by row while computing it: it must be this very map.
    let (mut text, mut json) = (Vec::new(), Vec::new());
    Connectivity::write(&engine, focus, false, &mut text).map_err(|e| e.to_string())?;
    Connectivity::write(&engine, focus, true, &mut json).map_err(|e| e.to_string())?;
    if String::from_utf8_lossy(&text) != map.to_text() {
        return Err("the streamed text map differs from the computed one".into());
    }
    if String::from_utf8_lossy(&json) != format!("{}\n", serde_json::to_string_pretty(&map).map_err(|e| e.to_string())?) {
        return Err("the streamed JSON map differs from the computed one".into());
    }
    let golden = fs::read_to_string(suite().join("test_outputs/connlist").join(expected)).map_err(|e| e.to_string())?;
    let golden = golden.split("Exposure Analysis Result:").next().unwrap_or("");
    let (got, want) = (sorted_lines(&map.to_text()), sorted_lines(golden));
    if got == want {
        return Ok(());
    }
    let extra: Vec<&String> = got.iter().filter(|l| !want.contains(l)).collect();
    let missing: Vec<&String> = want.iter().filter(|l| !got.contains(l)).collect();
    Err(format!("extra {extra:#?}\nmissing {missing:#?}"))
}

#[test]
fn peer_suite_agrees() {
    let index = fs::read_to_string(suite().join("index.tsv"))
        .unwrap_or_else(|e| panic!("peer suite not found beside the repo: {e}"));
    let deviations = deviations();
    let (mut agree, mut total, mut deviating) = (0, 0, 0);
    let mut failures = Vec::new();
    for row in index.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let [category, dir, expected, mode, ..] = cols.as_slice() else { continue };
        total += 1;
        let listed = deviations.iter().any(|d| d == dir);
        match (run(category, dir, expected, mode), listed) {
            (Ok(()), false) => agree += 1,
            (Err(_), true) => deviating += 1,
            (Ok(()), true) => failures.push(format!("{dir}: agrees now; remove it from known-deviations.md")),
            (Err(e), false) => failures.push(format!("{category} {dir} ({expected}, {mode}):\n{e}")),
        }
    }
    println!("{agree}/{total} scenarios agree, {deviating} listed as known deviations");
    assert!(total > 100, "index.tsv has {total} rows");
    assert!(failures.is_empty(), "{} scenario(s) disagree:\n{}", failures.len(), failures.join("\n\n"));
}
