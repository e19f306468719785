//! Diagnostics and the one report every host carries (`-o json`, the ABIs, the playground).
//!
//! Rules produce [`Diagnostic`]s that point at a [`Loc`] (file, document, byte span, field
//! path); line and column are resolved only here, when the report is built.

mod sarif;
mod text;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::ObjectId;
use crate::source::{LineIndex, Span};

pub use crate::rules::{Diagnostic, Fix, FixKind};
pub use crate::severity::Severity;
pub use crate::source::{escape_controls, Edit, Loc, Location, Position, TextEdit};
pub use sarif::to_sarif;
pub use text::render_text;

/// A related place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    /// Where.
    pub location: Location,
    /// What it is.
    pub message: String,
}

/// A finding as every host carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDiagnostic {
    /// Why, step by step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
    /// The suggested patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Box<Fix>>,
    /// How to fix it, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Where.
    pub location: Location,
    /// What is wrong.
    pub message: String,
    /// Rule name.
    pub name: String,
    /// The object concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<Box<ObjectId>>,
    /// Other places involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    /// Rule id.
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// Compliance tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Counts of findings per severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    /// Error-severity findings.
    pub error: usize,
    /// Info-severity findings.
    pub info: usize,
    /// Warning-severity findings.
    pub warning: usize,
}

/// What was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Documents read (including unreadable ones).
    pub documents: usize,
    /// Files read.
    pub files: usize,
    /// Findings per severity.
    pub findings: Findings,
    /// Objects analysed.
    pub objects: usize,
    /// Objects of kinds netreach does not analyse, per kind.
    pub skipped: BTreeMap<String, usize>,
    /// Findings not reported because their object's `netreach.dev/skip` annotation names the
    /// rule, per rule id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub suppressed: BTreeMap<String, usize>,
}

/// The report: same input, same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Findings sorted by file, position, rule.
    pub diagnostics: Vec<ReportDiagnostic>,
    /// What was read.
    pub summary: Summary,
    /// Report format version.
    pub version: u32,
}

impl Report {
    /// Whether any finding has error severity.
    pub fn has_errors(&self) -> bool {
        self.summary.findings.error > 0
    }

    /// The report as pretty JSON with sorted keys.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// File names and texts, to resolve [`Loc`]s into [`Location`]s.
pub struct Files<'a> {
    names: Vec<&'a str>,
    texts: Vec<&'a str>,
    lines: Vec<LineIndex>,
}

impl<'a> Files<'a> {
    /// Index the given (name, text) pairs.
    pub fn new(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut out = Files { names: Vec::new(), texts: Vec::new(), lines: Vec::new() };
        for (name, text) in files {
            out.names.push(name);
            out.texts.push(text);
            out.lines.push(LineIndex::new(text));
        }
        out
    }

    /// File name of source `file`.
    pub fn name(&self, file: usize) -> &'a str {
        self.names.get(file).copied().unwrap_or("<unknown>")
    }

    /// Text of source `file`.
    pub fn text(&self, file: usize) -> &'a str {
        self.texts.get(file).copied().unwrap_or("")
    }

    /// Line index of source `file`.
    pub fn lines(&self, file: usize) -> Option<&LineIndex> {
        self.lines.get(file)
    }

    fn position(&self, file: usize, offset: usize) -> Position {
        let text = self.text(file);
        let (line, column) = self.lines.get(file).map_or((1, 1), |l| l.line_col(text, offset));
        Position { column, line, offset: offset.min(text.len()) }
    }

    /// Resolve an edit of `patch` into a text edit.
    pub fn resolve_edit(&self, edit: &Edit, patch: &str) -> TextEdit {
        let (file, span, text) = match edit {
            Edit::Replace { file, span, text } => (*file, *span, text.clone()),
            Edit::AppendDocument { file } => {
                let existing = self.text(*file);
                let end = existing.len();
                let text = if existing.trim().is_empty() {
                    format!("{patch}\n")
                } else if existing.ends_with('\n') {
                    format!("---\n{patch}\n")
                } else {
                    format!("\n---\n{patch}\n")
                };
                (*file, Span::new(end, end), text)
            }
        };
        TextEdit { end: self.position(file, span.end), file: self.name(file).to_string(), start: self.position(file, span.start), text }
    }

    /// Resolve a location.
    pub fn resolve(&self, loc: &Loc) -> Location {
        Location {
            document: loc.doc,
            end: self.position(loc.file, loc.span.end),
            file: self.name(loc.file).to_string(),
            path: loc.path.clone(),
            start: self.position(loc.file, loc.span.start),
        }
    }
}

/// Build the report: resolve positions, sort, count.
pub fn build_report(files: &Files<'_>, mut diags: Vec<Diagnostic>, mut summary: Summary) -> Report {
    // By file name, not input index, so the order in which files are given does not matter.
    diags.sort_by(|a, b| {
        (files.name(a.loc.file), a.loc.span.start, a.rule, &a.message, a.loc.span.end)
            .cmp(&(files.name(b.loc.file), b.loc.span.start, b.rule, &b.message, b.loc.span.end))
    });
    diags.dedup();
    let mut findings = Findings::default();
    let mut diagnostics = Vec::with_capacity(diags.len());
    // Popped from the back, the finding list shrinks as the report grows, so a report of
    // hundreds of thousands of findings is not held twice.
    diags.reverse();
    while let Some(d) = diags.pop() {
        if diags.len() < diags.capacity() / 2 {
            diags.shrink_to_fit();
        }
        match d.severity {
            Severity::Error => findings.error += 1,
            Severity::Warning => findings.warning += 1,
            Severity::Info => findings.info += 1,
        }
        let fix = d.fix.map(|mut f| {
            if let Some(e) = &d.edit {
                f.edits = vec![files.resolve_edit(e, &f.patch)];
            }
            f
        });
        diagnostics.push(ReportDiagnostic {
            explanation: d.explanation,
            fix,
            help: d.help,
            location: files.resolve(&d.loc),
            message: d.message,
            name: d.name.to_string(),
            object: d.object,
            related: d.related.iter().map(|(m, l)| Related { location: files.resolve(l), message: m.clone() }).collect(),
            rule: d.rule.to_string(),
            severity: d.severity,
            tags: d.tags.iter().map(|t| t.to_string()).collect(),
        });
    }
    summary.findings = findings;
    Report { diagnostics, summary, version: 1 }
}
