//! The core reads in one direction: source → model → profile → netpol → rules → report →
//! the crate's entry points → admission and query → the ABIs. A module may name only modules of
//! its own layer or below, and a rule file may share code with its family only through the
//! family's `helpers.rs` (deleting one rule never breaks another).

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layer of each top-level module; `crate` stands for the items `lib.rs` itself defines.
const LAYERS: &[(&str, u8)] = &[
    ("severity", 0),
    ("source", 0),
    ("model", 1),
    ("profile", 2),
    ("netpol", 4),
    ("rules", 5),
    ("report", 6),
    ("crate", 7),
    ("admission", 8),
    ("config", 8),
    ("docs", 8),
    ("query", 8),
    ("abi", 9),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("policy/src is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a `crate::NAME` path lands in: a module, a re-export of `lib.rs`, or `crate`.
fn target(name: &str, reexports: &BTreeMap<String, String>) -> String {
    if layer(name).is_some() {
        return name.to_string();
    }
    reexports.get(name).cloned().unwrap_or_else(|| "crate".to_string())
}

/// The names `lib.rs` re-exports, with the module each comes from.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.strip_prefix("pub use ") else { continue };
        let (module, names) = rest.split_once("::").unwrap_or((rest, ""));
        for name in names.trim_end_matches(';').trim_matches(|c| c == '{' || c == '}').split(',') {
            out.insert(name.trim().to_string(), module.to_string());
        }
    }
    out
}

/// The code before the unit tests: a test module may use any layer to set up its case.
fn without_tests(text: &str) -> &str {
    text.split("#[cfg(test)]").next().unwrap_or(text)
}

/// Every `crate::NAME` named in code (comments left out).
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if name.is_empty() {
                // `use crate::{a, b}`: each name of the group.
                let group = after.strip_prefix('{').and_then(|g| g.split('}').next()).unwrap_or("");
                for part in group.split(',') {
                    let head = part.trim().split("::").next().unwrap_or("").to_string();
                    if !head.is_empty() {
                        out.push((n + 1, head));
                    }
                }
            } else {
                out.push((n + 1, name));
            }
            rest = after;
        }
    }
    out
}

#[test]
fn modules_name_only_their_layer_or_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let reexports = reexports(&lib);
    let mut all = Vec::new();
    files(&src, &mut all);
    all.sort();
    let mut wrong = Vec::new();
    for path in &all {
        let rel = path.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
        let own = match rel.split('/').next().unwrap_or("") {
            "lib.rs" => "crate".to_string(),
            first => first.trim_end_matches(".rs").to_string(),
        };
        let Some(own_layer) = layer(&own) else {
            wrong.push(format!("{rel}: module `{own}` has no layer in tests/layers.rs"));
            continue;
        };
        let text = std::fs::read_to_string(path).expect("readable");
        for (line, name) in crate_paths(without_tests(&text)) {
            let to = target(&name, &reexports);
            match layer(&to) {
                Some(l) if l <= own_layer => {}
                _ => wrong.push(format!("{rel}:{line}: `{own}` names `crate::{name}` (module `{to}`), a later layer")),
            }
        }
    }
    assert!(wrong.is_empty(), "layer order broken:\n{}", wrong.join("\n"));
}

#[test]
fn rule_files_share_only_through_helpers() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
    let mut all = Vec::new();
    files(&rules, &mut all);
    all.sort();
    let mut wrong = Vec::new();
    let mut rule_files = 0;
    for path in &all {
        let rel = path.strip_prefix(&rules).expect("under rules").to_string_lossy().replace('\\', "/");
        let parts: Vec<&str> = rel.split('/').collect();
        let [family, file] = parts[..] else { continue };
        if file == "mod.rs" || file == "helpers.rs" {
            continue;
        }
        rule_files += 1;
        let text = std::fs::read_to_string(path).expect("readable");
        for (n, line) in without_tests(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("super::") {
                let next: String = code[i + "super::".len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '{').collect();
                if next != "helpers" {
                    wrong.push(format!("{family}/{file}:{}: `super::{next}` (share code through {family}/helpers.rs)", n + 1));
                }
            }
            for fam in ["edge", "environment", "input", "istio", "netpol", "reachability"] {
                if code.contains(&format!("crate::rules::{fam}::")) {
                    wrong.push(format!("{family}/{file}:{}: names the rules of family `{fam}`", n + 1));
                }
            }
        }
    }
    assert!(rule_files > 40, "found only {rule_files} rule files under {}", rules.display());
    assert!(wrong.is_empty(), "rule files depending on each other:\n{}", wrong.join("\n"));
}
