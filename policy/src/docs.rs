//! A rule's docs page, and the examples in it, so `docs/rules/*.md`, the editor's docs links
//! and the doc-example tests are one text.

use crate::rules::RuleMeta;
use crate::profile::Profile;
use crate::{check_text, Options, Source};

/// One fenced `yaml` example of a rule's docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Fenced as `yaml,expect_diagnostic`: the rule must report it exactly once.
    pub fails: bool,
    /// The example's text.
    pub yaml: String,
}

impl Example {
    /// The sources and options the example stands for: a `kind: ClusterProfile` document in it
    /// is the profile (as `--profile` would give it), the rest is the input.
    pub fn input(&self) -> Result<(Vec<Source>, Options), String> {
        let mut options = Options::default();
        let mut docs = Vec::new();
        for doc in self.yaml.split("\n---\n") {
            if doc.lines().any(|l| l.trim() == "kind: ClusterProfile") {
                options.profile = Profile::from_text(doc).map_err(|e| format!("example profile: {e}"))?;
            } else {
                docs.push(doc);
            }
        }
        Ok((vec![Source::new("example.yaml", docs.join("\n---\n"))], options))
    }
}

impl RuleMeta {
    /// The fenced `yaml` examples of the docs, in order.
    pub fn examples(&self) -> Vec<Example> {
        let mut out = Vec::new();
        let mut cur: Option<Example> = None;
        for line in self.docs.lines() {
            let line = line.strip_prefix(' ').unwrap_or(line);
            let t = line.trim_start();
            match &mut cur {
                None if t.starts_with("```yaml") => {
                    cur = Some(Example { fails: t.contains("expect_diagnostic"), yaml: String::new() })
                }
                Some(_) if t.starts_with("```") => out.extend(cur.take()),
                Some(ex) => {
                    ex.yaml.push_str(line);
                    ex.yaml.push('\n');
                }
                None => {}
            }
        }
        out
    }

    /// The rule's docs page as published in `docs/rules/<name>.md`: heading, severity, the docs,
    /// and the diagnostic the failing example gives.
    pub fn page(&self) -> String {
        let mut s = format!("# {} {}: {}\n\nSeverity: {}", self.id, self.name, self.title, self.severity.as_str());
        if !self.tags.is_empty() {
            s.push_str(" · tags: ");
            s.push_str(&self.tags.join(", "));
        }
        s.push_str("\n\n");
        let markdown = self.markdown();
        let body = markdown.lines().skip_while(|l| !l.starts_with("## ")).collect::<Vec<_>>().join("\n");
        s.push_str(body.trim_end());
        if let Some(Ok((sources, options))) = self.examples().into_iter().find(|e| e.fails).map(|e| e.input()) {
            s.push_str("\n\n## Diagnostic for the example\n```text\n");
            s.push_str(&check_text(&sources, &options));
            s.push_str("```\n");
        }
        s
    }
}
