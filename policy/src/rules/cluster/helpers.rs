//! What the cluster-policy rules share.

use crate::model::{ClusterPolicy, ClusterRule, RuleSpec};
use crate::netpol::Direction;

/// The rules of `p` per direction, evaluated and as written, with the key of their peers.
pub(super) fn directions(p: &ClusterPolicy) -> [(Direction, &'static str, &[ClusterRule], &[RuleSpec]); 2] {
    [
        (Direction::Ingress, "from", Direction::Ingress.cluster_rules(p), p.spec.ingress.as_deref().unwrap_or_default()),
        (Direction::Egress, "to", Direction::Egress.cluster_rules(p), p.spec.egress.as_deref().unwrap_or_default()),
    ]
}

/// Rule `index` of `p` in direction `dir`.
pub(super) fn rule_of(p: &ClusterPolicy, dir: Direction, index: usize) -> Option<&ClusterRule> {
    dir.cluster_rules(p).get(index)
}

/// `v` as block-style YAML (flow style for empty maps and lists), keys in their order.
pub(super) fn yaml(v: &serde_json::Value) -> String {
    let mut out = String::new();
    block(v, 0, &mut out);
    out
}

fn scalar(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        // JSON strings are valid YAML double-quoted scalars; plain ones read back the same.
        Value::String(s) => Some(if plain(s) { s.clone() } else { serde_json::Value::String(s.clone()).to_string() }),
        Value::Array(a) if a.is_empty() => Some("[]".into()),
        Value::Object(m) if m.is_empty() => Some("{}".into()),
        _ => None,
    }
}

/// Whether `s` reads back as the same string without quotes.
fn plain(s: &str) -> bool {
    let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let reserved = matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n");
    first_ok && !reserved && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/' | '_'))
}

fn block(v: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = scalar(&Value::String(k.clone())).unwrap_or_default();
                match scalar(v) {
                    Some(s) => out.push_str(&format!("{pad}{key}: {s}\n")),
                    None => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        block(v, indent + 2, out);
                    }
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                match scalar(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        // The item's first line follows the dash; the rest indent under it.
                        let mut inner = String::new();
                        block(item, indent + 2, &mut inner);
                        let inner = inner.strip_prefix(&" ".repeat(indent + 2)).unwrap_or(&inner);
                        out.push_str(&format!("{pad}- {inner}"));
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other).unwrap_or_default())),
    }
}
