//! One finding as a rule writes it ([`Diagnostic`], refined by chaining) and the patch that
//! fixes it ([`Fix`]). Positions are resolved later, when the report is built.

use serde::{Deserialize, Serialize};

use crate::model::ObjectId;
use crate::source::{Edit, Loc, TextEdit};
use crate::Severity;

/// The suggested change, as YAML the user can paste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// One line: what the patch does.
    pub description: String,
    /// Text edits that apply the patch to the input (quick fixes in editors and the
    /// playground); empty when the change cannot be written in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<TextEdit>,
    /// YAML snippet.
    pub patch: String,
    /// The object to change.
    pub target: ObjectId,
    /// Whether the patch is a whole new object or a change to an existing one (not in the
    /// report: the patch says it).
    #[serde(skip)]
    pub kind: FixKind,
}

/// What a [`Fix`]'s patch is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FixKind {
    /// A change to the target object, shown as YAML to merge.
    #[default]
    Change,
    /// A whole new object to add (a NetworkPolicy, a ServiceEntry): it can be appended to
    /// the input as a document.
    NewObject,
}

impl Fix {
    /// A fix without text edits; the rule attaches an [`Edit`] to the diagnostic to get them.
    pub fn new(description: String, patch: String, target: ObjectId) -> Self {
        Fix { description, edits: Vec::new(), patch, target, kind: FixKind::Change }
    }

    /// A fix whose patch is the whole new object `target`.
    pub fn new_object(description: String, patch: String, target: ObjectId) -> Self {
        Fix { description, edits: Vec::new(), patch, target, kind: FixKind::NewObject }
    }
}

/// One finding, before positions are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Rule id, e.g. `NR101`.
    pub rule: &'static str,
    /// Rule name, e.g. `invalid-network-policy`.
    pub name: &'static str,
    /// Severity.
    pub severity: Severity,
    /// What is wrong, naming the object and field.
    pub message: String,
    /// The object the finding is about.
    pub object: Option<Box<ObjectId>>,
    /// Where.
    pub loc: Loc,
    /// Why: the chain of facts behind the finding.
    pub explanation: Vec<String>,
    /// How to fix it, in words.
    pub help: Option<String>,
    /// How to fix it, as a patch.
    pub fix: Option<Box<Fix>>,
    /// How the patch applies to the input, when it can be applied in place.
    pub edit: Option<Box<Edit>>,
    /// Other places involved.
    pub related: Vec<(String, Loc)>,
    /// Compliance tags.
    pub tags: &'static [&'static str],
    /// The rule could not be checked for lack of input: the finding stays info, whatever
    /// severity the user gives the rule (a blind spot must never deny).
    pub unverifiable: bool,
}

/// Refining a finding after [`Diagnostics::report`](super::Diagnostics::report), as a
/// chain: `out.report(..).why(..).help(..).fix(..)`.
impl Diagnostic {
    /// Add a line of explanation (why it happens).
    pub fn why(&mut self, line: impl Into<String>) -> &mut Self {
        self.explanation.push(line.into());
        self
    }

    /// Set every line of explanation.
    pub fn explain(&mut self, lines: Vec<String>) -> &mut Self {
        self.explanation = lines;
        self
    }

    /// How to fix it, in words.
    pub fn help(&mut self, text: impl Into<String>) -> &mut Self {
        self.help = Some(text.into());
        self
    }

    /// The patch that fixes it (boxed: most findings have none, and a report can hold
    /// hundreds of thousands of findings).
    pub fn fix(&mut self, fix: Fix) -> &mut Self {
        self.fix = Some(Box::new(fix));
        self
    }

    /// The text edit that applies the fix, when there is one.
    pub fn edit(&mut self, edit: Option<Edit>) -> &mut Self {
        self.edit = edit.map(Box::new);
        self
    }

    /// A severity other than the rule's default.
    pub fn severity(&mut self, severity: Severity) -> &mut Self {
        self.severity = severity;
        self
    }

    /// Other places that tell the story (`first defined here`).
    pub fn related(&mut self, related: Vec<(String, Loc)>) -> &mut Self {
        self.related = related;
        self
    }
}
