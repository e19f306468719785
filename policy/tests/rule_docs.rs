//! Keeps the catalog honest: doc examples run as tests, ids are unique, docs are complete,
//! every rule has fail and pass corpus cases, and `docs/rules/*.md` are current.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use netreach_policy::rules::ALL;
use netreach_policy::{check, Severity};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn doc_examples_behave() {
    for r in ALL {
        let ex = r.meta.examples();
        assert!(ex.iter().any(|e| e.fails), "{}: no failing example", r.meta.id);
        assert!(ex.iter().any(|e| !e.fails), "{}: no passing example", r.meta.id);
        for e in ex {
            let (expect, yaml) = (e.fails, &e.yaml);
            let (sources, options) = e.input().unwrap_or_else(|err| panic!("{}: {err}", r.meta.id));
            let report = check(&sources, &options);
            let hits: Vec<_> = report.diagnostics.iter().filter(|d| d.rule == r.meta.id).collect();
            if expect {
                assert_eq!(hits.len(), 1, "{}: failing example should give exactly one finding:\n{yaml}\n{hits:#?}", r.meta.id);
            } else {
                let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
                assert!(hits.is_empty(), "{}: passing example gave findings:\n{yaml}\n{hits:#?}", r.meta.id);
                assert!(errors.is_empty(), "{}: passing example has errors:\n{yaml}\n{errors:#?}", r.meta.id);
            }
        }
    }
}

#[test]
fn ids_names_and_docs_are_well_formed() {
    let mut ids = BTreeSet::new();
    let mut names = BTreeSet::new();
    for r in ALL {
        let m = &r.meta;
        assert!(ids.insert(m.id), "duplicate id {}", m.id);
        assert!(names.insert(m.name), "duplicate name {}", m.name);
        let digits = m.id.strip_prefix("NR").unwrap_or("");
        assert!(digits.len() == 3 && digits.chars().all(|c| c.is_ascii_digit()), "bad id {}", m.id);
        assert!(m.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "bad name {}", m.name);
        assert!(!m.title.is_empty() && !m.title.ends_with('.'), "{}: title must be one line without a period", m.id);
        for section in ["## What it does", "## Why is this bad?", "## Example", "Use instead:"] {
            assert!(m.docs.contains(section), "{}: docs lack {section:?}", m.id);
        }
    }
    let ids: Vec<&str> = ALL.iter().map(|r| r.meta.id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ids, "ALL must be in id order");
}

#[test]
fn every_rule_file_is_registered() {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if let Ok(text) = fs::read_to_string(&p) {
                for line in text.lines() {
                    if let Some(rest) = line.trim().strip_prefix("id: \"") {
                        out.extend(rest.split('"').next().map(str::to_string));
                    }
                }
            }
        }
    }
    let mut declared = Vec::new();
    walk(&root().join("policy/src/rules"), &mut declared);
    declared.sort();
    let mut registered: Vec<String> = ALL.iter().map(|r| r.meta.id.to_string()).collect();
    registered.sort();
    assert_eq!(declared, registered, "a rule file is declared but not in ALL (or the reverse)");
}

#[test]
fn every_rule_has_fail_and_pass_corpus_cases() {
    for r in ALL {
        let dir = root().join("tests/corpus").join(r.meta.family()).join(r.meta.name);
        let names: Vec<String> = fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("{}: no corpus folder {}", r.meta.id, dir.display()))
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        assert!(names.iter().any(|n| n.starts_with("fail-")), "{}: no fail-* case", r.meta.id);
        assert!(names.iter().any(|n| n.starts_with("pass-")), "{}: no pass-* case", r.meta.id);
    }
}

#[test]
fn docs_pages_are_current() {
    let dir = root().join("docs/rules");
    let mut index = String::from("# netreach rules\n\n| id | name | severity | title |\n| --- | --- | --- | --- |\n");
    let update = std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1");
    let mut pages = vec![];
    for r in ALL {
        let m = &r.meta;
        index.push_str(&format!("| {} | [{}]({}.md) | {} | {} |\n", m.id, m.name, m.name, m.severity.as_str(), m.title));
        pages.push((format!("{}.md", m.name), m.page()));
    }
    pages.push(("README.md".into(), index));
    if update {
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut stale = Vec::new();
    for (name, text) in pages {
        let path = dir.join(&name);
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if update {
                fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            } else {
                stale.push(name);
            }
        }
    }
    assert!(stale.is_empty(), "docs/rules is stale ({stale:?}); run `UPDATE_DOCS=1 cargo test -p netreach-policy --test rule_docs`");
}
