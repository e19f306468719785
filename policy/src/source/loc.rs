//! Places in the input: a [`Loc`] (file, document, byte span, field path) as rules keep it,
//! the [`Position`]s and [`Location`]s it resolves to for output, and text edits.

use serde::{Deserialize, Serialize};

use super::Span;

/// A place in the input: which document, which bytes, which field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    /// Index of the source.
    pub file: usize,
    /// Index of the document in its source.
    pub doc: usize,
    /// Bytes of the field (or of the document, when no field applies).
    pub span: Span,
    /// Field path inside the document, e.g. `spec.egress[0].ports[1].port`.
    pub path: String,
}

/// How a fix changes the input, before positions are resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Edit {
    /// Replace the bytes `span` of source `file` with `text` (one line of flow YAML).
    Replace {
        /// Index of the source.
        file: usize,
        /// Bytes replaced.
        span: Span,
        /// New text.
        text: String,
    },
    /// Add the fix's patch as a new document at the end of source `file`.
    AppendDocument {
        /// Index of the source.
        file: usize,
    },
}

/// A position resolved for output: 1-based line, 1-based column in chars, byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// 1-based column, counted in Unicode scalar values.
    pub column: usize,
    /// 1-based line.
    pub line: usize,
    /// Byte offset from the start of the file.
    pub offset: usize,
}

/// A resolved location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Index of the document in its file.
    pub document: usize,
    /// End of the span (exclusive).
    pub end: Position,
    /// File name as given.
    pub file: String,
    /// Field path.
    pub path: String,
    /// Start of the span.
    pub start: Position,
}

/// One resolved text edit: replace `start..end` of `file` with `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextEdit {
    /// End of the replaced range (exclusive); equal to `start` for an insertion.
    pub end: Position,
    /// File name as given.
    pub file: String,
    /// Start of the replaced range.
    pub start: Position,
    /// The new text.
    pub text: String,
}
