//! Label selectors, parsed once into a checked form.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Labels of a pod or namespace.
pub type Labels = BTreeMap<String, String>;

/// `{k=v, …}`, how messages show labels.
pub fn labels_text(l: &Labels) -> String {
    let pairs: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// Whether `labels` has every pair of `wanted` (a Service selector, a profile component).
pub fn contains_labels(labels: &Labels, wanted: &Labels) -> bool {
    wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// Key present with one of the values (`matchLabels` entries become a one-value `In`).
    In(String, BTreeSet<String>),
    /// Key absent, or present with none of the values.
    NotIn(String, BTreeSet<String>),
    /// Key present.
    Exists(String),
    /// Key absent.
    DoesNotExist(String),
}

impl Requirement {
    /// The label key this requirement is about.
    pub fn key(&self) -> &str {
        match self {
            Requirement::In(k, _) | Requirement::NotIn(k, _) | Requirement::Exists(k) | Requirement::DoesNotExist(k) => k,
        }
    }

    fn matches(&self, labels: &Labels) -> bool {
        match self {
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        }
    }
}

/// A checked label selector. An invalid selector (unknown operator, `In` without values…)
/// matches nothing: the API would reject it, and netreach never guesses an allowance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Selector {
    /// All must hold.
    pub requirements: Vec<Requirement>,
    /// Why the selector is invalid, if it is.
    pub invalid: Option<String>,
}

impl Selector {
    /// The selector that matches everything (`{}`).
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parse a Kubernetes `LabelSelector`.
    pub fn parse(sel: &LabelSelector) -> Self {
        let mut requirements = Vec::new();
        let mut invalid = None;
        for (k, v) in sel.match_labels.iter().flatten() {
            requirements.push(Requirement::In(k.clone(), BTreeSet::from([v.clone()])));
        }
        for (i, e) in sel.match_expressions.iter().flatten().enumerate() {
            let values: BTreeSet<String> = e.values.iter().flatten().cloned().collect();
            let req = match e.operator.as_str() {
                "In" | "NotIn" if values.is_empty() => {
                    invalid.get_or_insert(format!("matchExpressions[{i}]: operator {} needs values", e.operator));
                    continue;
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    invalid.get_or_insert(format!("matchExpressions[{i}]: operator {} takes no values", e.operator));
                    continue;
                }
                "In" => Requirement::In(e.key.clone(), values),
                "NotIn" => Requirement::NotIn(e.key.clone(), values),
                "Exists" => Requirement::Exists(e.key.clone()),
                "DoesNotExist" => Requirement::DoesNotExist(e.key.clone()),
                other => {
                    invalid.get_or_insert(format!("matchExpressions[{i}]: unknown operator {other:?}"));
                    continue;
                }
            };
            requirements.push(req);
        }
        Self { requirements, invalid }
    }

    /// Whether the selector matches these labels.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.invalid.is_none() && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether this is `{}`, which selects everything.
    pub fn is_everything(&self) -> bool {
        self.invalid.is_none() && self.requirements.is_empty()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invalid.is_some() {
            return f.write_str("<invalid selector>");
        }
        if self.requirements.is_empty() {
            return f.write_str("{}");
        }
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::In(k, vs) if vs.len() == 1 => format!("{k}={}", vs.iter().next().map_or("", |s| s)),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.iter().cloned().collect::<Vec<_>>().join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.iter().cloned().collect::<Vec<_>>().join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: if values.is_empty() { None } else { Some(values.iter().map(|s| s.to_string()).collect()) },
        }
    }

    #[test]
    fn operators_follow_kubernetes() {
        let sel = |e| Selector::parse(&LabelSelector { match_expressions: Some(vec![e]), match_labels: None });
        let web = labels(&[("app", "web")]);
        let none = labels(&[]);
        assert!(sel(expr("app", "In", &["web", "db"])).matches(&web));
        assert!(!sel(expr("app", "In", &["db"])).matches(&web));
        assert!(!sel(expr("app", "In", &["web"])).matches(&none));
        assert!(sel(expr("app", "NotIn", &["db"])).matches(&web));
        assert!(sel(expr("app", "NotIn", &["db"])).matches(&none), "NotIn matches pods without the key");
        assert!(!sel(expr("app", "NotIn", &["web"])).matches(&web));
        assert!(sel(expr("app", "Exists", &[])).matches(&web));
        assert!(!sel(expr("app", "Exists", &[])).matches(&none));
        assert!(sel(expr("app", "DoesNotExist", &[])).matches(&none));
        assert!(!sel(expr("app", "DoesNotExist", &[])).matches(&web));
    }

    #[test]
    fn invalid_selectors_match_nothing() {
        let sel = |e| Selector::parse(&LabelSelector { match_expressions: Some(vec![e]), match_labels: None });
        assert!(!sel(expr("app", "In", &[])).matches(&labels(&[("app", "x")])));
        assert!(!sel(expr("app", "Exists", &["x"])).matches(&labels(&[("app", "x")])));
        assert!(!sel(expr("app", "Equals", &["x"])).matches(&labels(&[("app", "x")])));
    }

    #[test]
    fn empty_selector_matches_everything_and_labels_and() {
        assert!(Selector::everything().matches(&labels(&[])));
        let s = Selector::parse(&LabelSelector {
            match_labels: Some([("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())].into()),
            match_expressions: None,
        });
        assert!(s.matches(&labels(&[("a", "1"), ("b", "2"), ("c", "3")])));
        assert!(!s.matches(&labels(&[("a", "1")])));
    }
}
