//! The rule corpus: every `tests/corpus/**/input.yaml` is checked and its report compared with
//! the `snapshot.snap` beside it (insta, one assertion per case, so a failure names its case;
//! `INSTA_GLOB_FILTER=netpol/**` runs some). A case under a rule's folder
//! (`<family>/<rule-name>/<case>`) runs that rule and the input rules (NR0xx) only, so changing
//! one rule re-blesses only its own cases; `engine/` and `scenarios/` run every rule. Cases
//! under `engine/` also snapshot the connectivity map, and a `queries.txt` (`FROM TO PORT
//! PROTOCOL` per line) adds explanations.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};

use netreach_policy::model::Protocol;
use netreach_policy::netpol::Endpoint;
use netreach_policy::{check_text, Connectivity, Engine, LoadOptions, Options, Profile, Source, Workspace};

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    // insta's glob! hands out canonical paths; cases are named relative to this.
    dir.canonicalize().unwrap_or(dir)
}

fn cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            cases(&p, out);
        } else if p.file_name().is_some_and(|n| n == "input.yaml") {
            out.push(dir.to_path_buf());
        }
    }
}

fn all_cases() -> Vec<PathBuf> {
    let mut v = Vec::new();
    cases(&corpus(), &mut v);
    v.sort();
    v
}

fn endpoint(ws: &Workspace, s: &str) -> Endpoint {
    match s.parse() {
        Ok(ip) => Endpoint::Ip(ip),
        Err(_) => Endpoint::Workload(ws.find_workload(s).unwrap_or_else(|| panic!("query names unknown workload {s}"))),
    }
}

/// The options of a case: a `profile.yaml` beside the input is the cluster profile, as
/// `--profile` would give it.
fn options(case: &Path) -> Options {
    let mut options = Options::default();
    if let Ok(p) = fs::read_to_string(case.join("profile.yaml")) {
        options.profile = Profile::from_text(&p).unwrap_or_else(|e| panic!("{}: profile.yaml: {e}", case.display()));
    }
    options
}

/// The rule whose folder holds `case` (`<family>/<rule-name>/<case>`), if any.
fn rule_of(case: &Path) -> Option<&'static netreach_policy::rules::RuleEntry> {
    let rel = case.strip_prefix(corpus()).ok()?;
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    let [family, rule, _] = parts.as_slice() else { return None };
    let entry = netreach_policy::rules::find(rule)?;
    (entry.meta.family() == *family).then_some(entry)
}

/// [`options`], narrowed for a case in a rule's folder to that rule and the input rules.
fn case_options(case: &Path) -> Options {
    let mut options = options(case);
    if let Some(rule) = rule_of(case) {
        options.only = netreach_policy::rules::ALL
            .iter()
            .filter(|r| r.meta.family() == "input" || r.meta.id == rule.meta.id)
            .map(|r| r.meta.id.to_string())
            .collect();
    }
    options
}

fn render(case: &Path) -> String {
    let text = fs::read_to_string(case.join("input.yaml")).unwrap_or_default();
    let sources = vec![Source::new("input.yaml", text)];
    let mut out = check_text(&sources, &case_options(case));
    let engine_case = case.strip_prefix(corpus()).is_ok_and(|p| p.starts_with("engine"));
    let queries = fs::read_to_string(case.join("queries.txt")).unwrap_or_default();
    if engine_case || !queries.is_empty() {
        let ws = Workspace::load(&sources, &LoadOptions::default());
        let engine = Engine::new(&ws);
        if engine_case {
            out.push_str("\n--- connectivity\n");
            out.push_str(&Connectivity::compute(&engine).to_text());
        }
        for q in queries.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let parts: Vec<&str> = q.split_whitespace().collect();
            let [from, to, port, proto] = parts.as_slice() else { panic!("bad query line {q:?}") };
            let port: u16 = port.parse().unwrap_or_else(|_| panic!("bad port in {q:?}"));
            let proto = Protocol::parse(proto).unwrap_or_else(|| panic!("bad protocol in {q:?}"));
            let v = engine.allowed(endpoint(&ws, from), endpoint(&ws, to), port, proto);
            let _ = writeln!(out, "\n--- explain {q}\n{}", if v.allowed { "ALLOWED" } else { "DENIED" });
            for l in v.lines() {
                let _ = writeln!(out, "  - {l}");
            }
        }
    }
    out
}

#[test]
fn corpus_snapshots() {
    let mut seen = 0;
    insta::glob!("../../tests/corpus", "**/input.yaml", |input| {
        let case = input.parent().unwrap_or(input);
        seen += 1;
        let rendered = render(case);
        let name = case.strip_prefix(corpus()).unwrap_or(case).display().to_string();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(case);
        settings.remove_snapshot_suffix();
        settings.remove_input_file();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_description(name);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!("snapshot", rendered));
    });
    assert!(seen > 100 || std::env::var_os("INSTA_GLOB_FILTER").is_some(), "found only {seen} corpus cases");
}

/// Source-document scenarios: `fixed` reports no error; `broken` reports every rule listed in
/// its `expect.txt` (one id per line, `#` comments) and at least one error.
/// The connectivity map of a case's input.
fn map_of(case: &Path) -> String {
    let text = fs::read_to_string(case.join("input.yaml")).unwrap_or_default();
    let ws = Workspace::load(&[Source::new("input.yaml", text)], &LoadOptions::default());
    Connectivity::compute(&Engine::new(&ws)).to_text()
}

/// A case with `same-map-as.txt` (naming a sibling case) must give that case's connectivity
/// map: two ways of writing the same policy (v1alpha1 and v1alpha2 cluster policies, a
/// refactored set) must allow exactly the same connections.
#[test]
fn equivalent_cases_give_the_same_map() {
    let mut checked = 0;
    for case in all_cases() {
        let Ok(other) = fs::read_to_string(case.join("same-map-as.txt")) else { continue };
        let other = case.parent().expect("a case has a parent folder").join(other.trim());
        assert!(other.join("input.yaml").is_file(), "{}: same-map-as.txt names no case", case.display());
        let (a, b) = (map_of(&case), map_of(&other));
        assert!(!a.is_empty(), "{}: the map is empty, so the comparison proves nothing", case.display());
        assert_eq!(a, b, "{} and {} give different maps", case.display(), other.display());
        checked += 1;
    }
    assert!(checked > 0, "no case declares same-map-as.txt");
}

/// The map as the engine answers it one pair at a time: workload pairs (egress of the source
/// met by ingress of the destination, united over the pods of each group) and each group
/// towards and from every external address range, sorted.
fn naive_pairs(engine: &Engine<'_>, ws: &Workspace) -> Vec<String> {
    let mut groups: std::collections::BTreeMap<String, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, w) in ws.workloads.iter().enumerate() {
        groups.entry(w.display()).or_default().push(i);
    }
    let mut out = Vec::new();
    for (a, sa) in &groups {
        for (b, sb) in &groups {
            if a == b {
                continue;
            }
            let mut c = netreach_policy::netpol::ConnSet::none();
            for &s in sa {
                for &d in sb {
                    c.union_with(&engine.egress_to_pod(s, d).intersect(&engine.ingress_from_pod(d, s)));
                }
            }
            if !c.is_empty() {
                out.push(format!("{a} => {b} : {c}"));
            }
        }
    }
    use netreach_policy::netpol::{address_atoms, ConnSet, Direction};
    for dir in [Direction::Egress, Direction::Ingress] {
        for (first, last) in address_atoms(&engine.ip_blocks(dir)) {
            for (g, members) in &groups {
                let mut c = ConnSet::none();
                for &m in members {
                    c.union_with(&match dir {
                        Direction::Egress => engine.egress_to_ip(m, first),
                        Direction::Ingress => engine.ingress_from_ip(m, first),
                    });
                }
                if !c.is_empty() {
                    let ext = format!("{first}-{last}[External]");
                    out.push(match dir {
                        Direction::Egress => format!("{g} => {ext} : {c}"),
                        Direction::Ingress => format!("{ext} => {g} : {c}"),
                    });
                }
            }
        }
    }
    out.sort();
    out
}

/// The connectivity map's shortcuts for cluster policies (shared answers per rule-match
/// pattern) give exactly the engine's per-pair answers, on every corpus case with cluster
/// policies and on a generated set with every action, tier, port form and peer kind.
#[test]
fn tiered_map_equals_the_per_pair_answers() {
    let mut inputs: Vec<String> = all_cases().iter().map(|c| fs::read_to_string(c.join("input.yaml")).unwrap_or_default()).filter(|t| t.contains("NetworkPolicy\n") && t.contains("policy.networking.k8s.io")).collect();
    let mut y = String::new();
    for n in 0..6 {
        y.push_str(&format!("---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{n}, labels: {{team: t{}, env: e{}}}}}\n", n % 3, n % 2));
        for d in 0..5 {
            y.push_str(&format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{d}, namespace: ns{n}, labels: {{app: a{d}, tier: x{}}}}}\nspec: {{containers: [{{name: c, image: i, ports: [{{name: http, containerPort: {}}}, {{name: dns, containerPort: 53, protocol: UDP}}]}}]}}\nstatus: {{podIP: 10.{n}.0.{d}}}\n", d % 3, 8000 + d));
        }
        if n % 2 == 0 {
            y.push_str(&format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: ns{n}}}\nspec:\n  podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [x0, x2]}}]}}\n  policyTypes: [Ingress, Egress]\n  ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{team: t{}}}}}}}], ports: [{{port: http}}]}}]\n  egress: [{{to: [{{podSelector: {{}}}}]}}, {{to: [{{namespaceSelector: {{matchLabels: {{team: t0}}}}}}], ports: [{{port: 53, protocol: UDP}}]}}]\n", n % 3));
        }
    }
    let actions = ["Accept", "Deny", "Pass"];
    for i in 0..12 {
        let tier = if i % 4 == 3 { "Baseline" } else { "Admin" };
        let a = actions[i % 3];
        let b = actions[(i + 1) % 3];
        let protocols = match i % 4 {
            0 => "[{tcp: {destinationPort: {number: 8001}}}]".to_string(),
            1 => "[{tcp: {destinationPort: {range: {start: 8000, end: 8003}}}}, {udp: {destinationPort: {number: 53}}}]".to_string(),
            2 => "[{destinationNamedPort: http}]".to_string(),
            _ => "[{udp: {destinationPort: {range: {start: 1, end: 65535}}}}]".to_string(),
        };
        y.push_str(&format!(
            "---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: c{i}}}\nspec:\n  tier: {tier}\n  priority: {}\n  subject: {{pods: {{namespaceSelector: {{matchLabels: {{env: e{}}}}}, podSelector: {{matchLabels: {{tier: x{}}}}}}}}}\n  ingress:\n  - {{action: {a}, from: [{{namespaces: {{matchLabels: {{env: e1, team: t{}}}}}}}], protocols: {protocols}}}\n  - {{action: {b}, from: [{{pods: {{namespaceSelector: {{matchLabels: {{env: e1}}}}, podSelector: {{matchLabels: {{app: a{}}}}}}}}}]}}\n  egress:\n  - {{action: {b}, to: [{{networks: [10.{}.0.0/16]}}], protocols: {protocols}}}\n  - {{action: {a}, to: [{{namespaces: {{matchLabels: {{env: e1, team: t{}}}}}}}]}}\n{}",
            i % 5, i % 2, (i / 2) % 2, i % 3, i % 5, i % 6, (i + 1) % 3,
            // A peer of a newer API: the rule fails closed to a Deny of everything.
            if i == 11 { "  - {action: Deny, to: [{futurePeer: {}}]}\n" } else { "" }
        ));
    }
    inputs.push(y);
    for text in inputs {
        let ws = Workspace::load(&[Source::new("input.yaml", text.clone())], &LoadOptions::default());
        assert!(!ws.cluster_policies.is_empty());
        let engine = Engine::new(&ws);
        let mut map: Vec<String> = Connectivity::compute(&engine).to_text().lines().map(str::to_string).collect();
        map.sort();
        let naive = naive_pairs(&engine, &ws);
        assert_eq!(map, naive, "the map differs from the per-pair answers on\n{text}");
    }
}

/// The migration proof: replacing every v1alpha1 cluster policy with the ClusterNetworkPolicy
/// form NR606 gives (its quick-fix edits) leaves the connectivity map unchanged.
#[test]
fn v1alpha1_translations_keep_the_map() {
    let mut translated = 0;
    for case in all_cases() {
        let text = fs::read_to_string(case.join("input.yaml")).unwrap_or_default();
        let report = netreach_policy::check(&[Source::new("input.yaml", text.clone())], &options(&case));
        let mut edits: Vec<_> = report.diagnostics.iter().filter(|d| d.rule == "NR606").filter_map(|d| d.fix.as_ref()).flat_map(|f| f.edits.clone()).collect();
        if edits.is_empty() {
            continue;
        }
        edits.sort_by_key(|e| std::cmp::Reverse(e.start.offset));
        let mut edited = text.clone();
        for e in &edits {
            edited.replace_range(e.start.offset..e.end.offset, &e.text);
        }
        assert!(!edited.contains("networking.k8s.io/v1alpha1"), "{}: a v1alpha1 object is left\n{edited}", case.display());
        let map = |t: &str| {
            let ws = Workspace::load(&[Source::new("input.yaml", t.to_string())], &LoadOptions::default());
            Connectivity::compute(&Engine::new(&ws)).to_text()
        };
        assert_eq!(map(&text), map(&edited), "{}: the ClusterNetworkPolicy form changes the map\n{edited}", case.display());
        translated += edits.len();
    }
    assert!(translated >= 3, "expected the corpus to translate v1alpha1 objects, translated {translated}");
}

#[test]
fn scenarios_break_and_fix() {
    let mut seen = 0;
    for case in all_cases().into_iter().filter(|c| c.strip_prefix(corpus()).is_ok_and(|p| p.starts_with("scenarios"))) {
        seen += 1;
        let text = fs::read_to_string(case.join("input.yaml")).unwrap_or_default();
        let report = netreach_policy::check(&[Source::new("input.yaml", text)], &options(&case));
        let errors: Vec<&str> = report.diagnostics.iter().filter(|d| d.severity == netreach_policy::Severity::Error).map(|d| d.message.as_str()).collect();
        match case.file_name().and_then(|n| n.to_str()) {
            Some("fixed") => assert!(errors.is_empty(), "{}: the fixed variant has errors: {errors:#?}", case.display()),
            Some("broken") => {
                assert!(!errors.is_empty(), "{}: the broken variant has no error", case.display());
                let expect = fs::read_to_string(case.join("expect.txt")).unwrap_or_else(|_| panic!("{}: no expect.txt", case.display()));
                for id in expect.lines().map(|l| l.split('#').next().unwrap_or("").trim()).filter(|l| !l.is_empty()) {
                    assert!(report.diagnostics.iter().any(|d| d.rule == id), "{}: expected a {id} finding", case.display());
                }
            }
            other => panic!("{}: a scenario variant is `broken` or `fixed`, not {other:?}", case.display()),
        }
    }
    assert!(seen >= 10, "expected the source-document scenarios, found {seen} variants");
}

#[test]
fn fail_cases_report_and_pass_cases_do_not() {
    for case in all_cases() {
        let Some(name) = case.file_name().and_then(|n| n.to_str()) else { continue };
        let Some(rule_dir) = case.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()) else { continue };
        let Some(rule) = netreach_policy::rules::find(rule_dir) else { continue };
        let text = fs::read_to_string(case.join("input.yaml")).unwrap_or_default();
        let report = netreach_policy::check(&[Source::new("input.yaml", text)], &case_options(&case));
        let hits = report.diagnostics.iter().filter(|d| d.rule == rule.meta.id).count();
        if name.starts_with("fail-") {
            assert!(hits > 0, "{}: expected a {} finding", case.display(), rule.meta.id);
        } else if name.starts_with("pass-") {
            assert_eq!(hits, 0, "{}: expected no {} finding", case.display(), rule.meta.id);
        }
    }
}

/// Every fix that comes with text edits (the quick fixes of the playground and editors) applies
/// cleanly: the edited input still parses and the finding it fixes is gone.
#[test]
fn fix_edits_remove_their_finding() {
    let mut applied = 0;
    for case in all_cases() {
        let text = fs::read_to_string(case.join("input.yaml")).unwrap_or_default();
        let options = options(&case);
        let report = netreach_policy::check(&[Source::new("input.yaml", text.clone())], &options);
        for d in &report.diagnostics {
            let Some(fix) = &d.fix else { continue };
            if fix.edits.is_empty() {
                continue;
            }
            let mut edited = text.clone();
            let mut edits = fix.edits.clone();
            edits.sort_by_key(|e| std::cmp::Reverse(e.start.offset));
            for e in &edits {
                assert_eq!(e.file, "input.yaml");
                edited.replace_range(e.start.offset..e.end.offset, &e.text);
            }
            let after = netreach_policy::check(&[Source::new("input.yaml", edited.clone())], &options);
            let broken: Vec<&str> = after.diagnostics.iter().filter(|a| a.rule == "NR001" || a.rule == "NR002").map(|a| a.message.as_str()).collect();
            let before_broken = report.diagnostics.iter().filter(|a| a.rule == "NR001" || a.rule == "NR002").count();
            assert_eq!(broken.len(), before_broken, "{}: the {} fix leaves unreadable input: {broken:#?}\n{edited}", case.display(), d.rule);
            assert!(
                !after.diagnostics.iter().any(|a| a.rule == d.rule && a.message == d.message),
                "{}: the {} fix ({}) does not remove its finding\n{edited}",
                case.display(),
                d.rule,
                fix.description
            );
            applied += 1;
        }
    }
    println!("{applied} fix edits applied");
    assert!(applied >= 20, "expected the corpus to exercise the quick fixes, applied {applied}");
}

/// "Disable this rule for this object" works on every finding whose object is written in the
/// input: the annotation edit keeps the input readable, the finding is gone and the summary
/// counts it as suppressed.
#[test]
fn suppress_edits_silence_their_finding() {
    let mut applied = 0;
    for case in all_cases() {
        let text = fs::read_to_string(case.join("input.yaml")).unwrap_or_default();
        let options = options(&case);
        let sources = [Source::new("input.yaml", text.clone())];
        let ws = Workspace::load(&sources, &options.load);
        let report = netreach_policy::check(&sources, &options);
        let unreadable = |r: &netreach_policy::Report| r.diagnostics.iter().filter(|a| a.rule == "NR001" || a.rule == "NR002").count();
        for d in &report.diagnostics {
            let Some(object) = &d.object else { continue };
            let Some(e) = netreach_policy::query::suppress_edit(&sources, &ws, object, &d.rule) else { continue };
            let mut edited = text.clone();
            edited.replace_range(e.start.offset..e.end.offset, &e.text);
            let after = netreach_policy::check(&[Source::new("input.yaml", edited.clone())], &options);
            assert_eq!(unreadable(&after), unreadable(&report), "{}: suppressing {} leaves unreadable input\n{edited}", case.display(), d.rule);
            assert!(
                !after.diagnostics.iter().any(|a| a.rule == d.rule && a.message == d.message && a.object == d.object),
                "{}: suppressing {} on {object} does not remove the finding\n{edited}",
                case.display(),
                d.rule
            );
            assert!(after.summary.suppressed.get(&d.rule).is_some_and(|n| *n > 0), "{}: {} not counted as suppressed", case.display(), d.rule);
            applied += 1;
        }
    }
    println!("{applied} suppression edits applied");
    assert!(applied >= 100, "expected the corpus to exercise suppression, applied {applied}");
}

/// Editors keep parsed sources between checks: a workspace loaded from them, in any order and
/// after positions were already looked up, reports exactly what a fresh load does.
#[test]
fn parsed_sources_load_like_fresh_text() {
    use netreach_policy::source::Parsed;
    let sources: Vec<Source> = all_cases()
        .iter()
        .map(|c| Source::new(c.strip_prefix(corpus()).unwrap().display().to_string(), fs::read_to_string(c.join("input.yaml")).unwrap()))
        .collect();
    assert!(sources.len() > 50, "corpus not found");
    let options = Options::default();
    let parsed: Vec<Parsed> = sources.iter().map(|s| Parsed::new(&s.text, &options.load.limits)).collect();
    let fresh = |sources: &[Source]| {
        let ws = Workspace::load(sources, &options.load);
        serde_json::to_string(&netreach_policy::check_selected(sources, &ws, &options)).unwrap()
    };
    let cached = |order: &[usize]| {
        let srcs: Vec<Source> = order.iter().map(|&i| sources[i].clone()).collect();
        let named: Vec<(&str, &Parsed)> = order.iter().map(|&i| (sources[i].name.as_str(), &parsed[i])).collect();
        let ws = Workspace::load_parsed(&named, &options.load);
        (serde_json::to_string(&netreach_policy::check_selected(&srcs, &ws, &options)).unwrap(), fresh(&srcs))
    };
    let forward: Vec<usize> = (0..sources.len()).collect();
    let (a, b) = cached(&forward);
    assert_eq!(a, b);
    assert!(a.contains("\"NR0"), "the corpus has input errors, which must survive the cache");
    // Second use: positions are now cached in the documents, and every file has a new index.
    let backward: Vec<usize> = forward.iter().rev().step_by(2).copied().collect();
    let (a, b) = cached(&backward);
    assert_eq!(a, b);
    assert!(parsed.iter().zip(&sources).all(|(p, s)| p.is(&s.text, &options.load.limits)));
    assert!(!parsed[0].is("kind: Pod", &options.load.limits));
}
