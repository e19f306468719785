//! The report as SARIF 2.1.0, for code-scanning services and SARIF viewers (`-o sarif`, the
//! playground's export). Columns count Unicode code points, as the report's do, and the run
//! says so (`columnKind`), so no position is converted.

use serde_json::{json, Map, Value};

use super::{Location, Report, Severity, TextEdit};
use crate::rules::ALL;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn region(start: &super::Position, end: &super::Position) -> Value {
    json!({"startLine": start.line, "startColumn": start.column, "endLine": end.line, "endColumn": end.column,
           "byteOffset": start.offset, "byteLength": end.offset.saturating_sub(start.offset)})
}

fn physical(l: &Location) -> Value {
    json!({"artifactLocation": {"uri": l.file}, "region": region(&l.start, &l.end)})
}

fn replacement(e: &TextEdit) -> Value {
    json!({"artifactLocation": {"uri": e.file}, "replacements": [{"deletedRegion": region(&e.start, &e.end), "insertedContent": {"text": e.text}}]})
}

/// The report as a SARIF 2.1.0 log (pretty JSON, keys sorted: same report, same bytes).
pub fn to_sarif(report: &Report) -> String {
    let rules: Vec<Value> = ALL
        .iter()
        .map(|r| {
            let m = &r.meta;
            json!({
                "id": m.id, "name": m.name,
                "shortDescription": {"text": m.title},
                "help": {"text": m.title, "markdown": m.markdown()},
                "defaultConfiguration": {"level": level(m.severity)},
                "properties": {"tags": m.tags},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut location = Map::new();
            location.insert("physicalLocation".into(), physical(&d.location));
            if let Some(o) = &d.object {
                location.insert("logicalLocations".into(), json!([{"fullyQualifiedName": o.to_string(), "kind": "object"}]));
            }
            let mut r = Map::new();
            r.insert("ruleId".into(), json!(d.rule));
            r.insert("level".into(), json!(level(d.severity)));
            r.insert("message".into(), json!({"text": d.message}));
            r.insert("locations".into(), json!([location]));
            if let Some(i) = ALL.iter().position(|r| r.meta.id == d.rule) {
                r.insert("ruleIndex".into(), json!(i));
            }
            if !d.related.is_empty() {
                let related: Vec<Value> = d
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, rel)| json!({"id": i, "message": {"text": rel.message}, "physicalLocation": physical(&rel.location)}))
                    .collect();
                r.insert("relatedLocations".into(), json!(related));
            }
            let mut props = Map::new();
            if !d.explanation.is_empty() {
                props.insert("explanation".into(), json!(d.explanation));
            }
            if let Some(h) = &d.help {
                props.insert("help".into(), json!(h));
            }
            if !d.tags.is_empty() {
                props.insert("tags".into(), json!(d.tags));
            }
            if !props.is_empty() {
                r.insert("properties".into(), Value::Object(props));
            }
            if let Some(f) = d.fix.as_ref().filter(|f| !f.edits.is_empty()) {
                let changes: Vec<Value> = f.edits.iter().map(replacement).collect();
                r.insert("fixes".into(), json!([{"description": {"text": f.description}, "artifactChanges": changes}]));
            }
            Value::Object(r)
        })
        .collect();
    let log = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "netreach", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]

    use crate::{check, Options, Source};

    #[test]
    fn findings_positions_and_fixes_carry_over() {
        let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  egress: [{}]\n";
        let report = check(&[Source::new("p.yaml", text)], &Options::default());
        let sarif: serde_json::Value = serde_json::from_str(&super::to_sarif(&report)).unwrap_or_default();
        let run = &sarif["runs"][0];
        assert_eq!(sarif["version"], "2.1.0");
        let results = run["results"].as_array().cloned().unwrap_or_default();
        assert_eq!(results.len(), report.diagnostics.len());
        let r = results.iter().find(|r| r["ruleId"] == "NR102").cloned().unwrap_or_default();
        let d = report.diagnostics.iter().find(|d| d.rule == "NR102").cloned();
        let d = d.unwrap_or_else(|| panic!("NR102 expected: {report:?}"));
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], d.location.start.line);
        assert_eq!(region["startColumn"], d.location.start.column);
        assert_eq!(r["level"], "error");
        let rule = &run["tool"]["driver"]["rules"][r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize];
        assert_eq!(rule["id"], "NR102");
        let inserted = &r["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"];
        assert_eq!(inserted, ": [Ingress, Egress]");
    }
}
