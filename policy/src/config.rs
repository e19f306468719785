//! `.netreach.yaml`: the project's settings, kept at the root of the repository beside the
//! manifests. The CLI reads it from the current directory or the nearest parent that has one;
//! the language server reads it from the workspace root. Both apply it the same way
//! ([`Config::apply`]), under what the command line or the editor settings add.
//!
//! ```yaml
//! profile: cluster/profile.yaml   # relative to this file
//! namespace: default              # for objects without metadata.namespace
//! rules:
//!   skip: [NR116]
//!   severity: {NR501: warning}
//! exclude: [charts/, vendor/]     # not read when a directory is checked
//! ```

use serde::{Deserialize, Serialize};

use crate::profile::RuleSettings;
use crate::source::{parse_source, Limits};
use crate::Options;

/// The file name looked for.
pub const FILE_NAME: &str = ".netreach.yaml";

/// Project settings (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Config {
    /// The cluster profile file, relative to the config file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Namespace of objects without `metadata.namespace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Rule selection and severities, by id or name.
    pub rules: RuleSettings,
    /// Files and folders, relative to the config file, that are not read when a folder is
    /// checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

impl Config {
    /// Read a config from YAML or JSON text; errors carry `line:col`. An empty file is the
    /// default config.
    pub fn from_text(text: &str) -> Result<Config, String> {
        let (docs, errors) = parse_source(0, text, &Limits::default());
        let at = |offset: usize| {
            let lines = crate::source::LineIndex::new(text);
            let (l, c) = lines.line_col(text, offset);
            format!("{l}:{c}")
        };
        if let Some(e) = errors.first() {
            return Err(format!("{}: {}", at(e.span.start), e.message));
        }
        match docs.as_slice() {
            [] => Ok(Config::default()),
            [doc] if doc.value.is_null() => Ok(Config::default()),
            [doc] => serde_path_to_error::deserialize(&doc.value).map_err(|e| {
                let path = e.path().to_string();
                let span = doc.key_span_of(if path == "." { "" } else { &path });
                format!("{}: `{path}`: {}", at(span.start), e.into_inner())
            }),
            more => Err(format!("a config is one document, found {}", more.len())),
        }
    }

    /// Put the namespace and rule settings into `options`; settings given later (command
    /// line, editor) add to them: skips add up, a later severity wins, a later `only` replaces.
    pub fn apply(&self, options: &mut Options) {
        if let Some(ns) = &self.namespace {
            options.load.default_namespace.clone_from(ns);
        }
        options.only.extend(self.rules.only.iter().cloned());
        options.skip.extend(self.rules.skip.iter().cloned());
        for (r, s) in &self.rules.severity {
            options.severity.insert(r.clone(), *s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    #[test]
    fn reads_settings_and_points_at_bad_fields() {
        let c = Config::from_text("profile: p.yaml\nrules: {skip: [NR116], severity: {NR501: info}}\nexclude: [charts/]\n");
        let c = c.unwrap_or_default();
        assert_eq!(c.profile.as_deref(), Some("p.yaml"));
        assert_eq!(c.exclude, vec!["charts/".to_string()]);
        let mut o = Options::default();
        c.apply(&mut o);
        assert!(o.skip.contains("NR116"));
        assert_eq!(o.severity.get("NR501"), Some(&Severity::Info));
        assert_eq!(Config::from_text("").ok(), Some(Config::default()));
        let err = Config::from_text("rules:\n  skipp: [NR116]\n").err().unwrap_or_default();
        assert_eq!(err, "2:3: `rules.skipp`: unknown field `skipp`, expected one of `only`, `skip`, `severity`");
    }
}
