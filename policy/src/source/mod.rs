//! YAML/JSON text → documents: a `serde_json::Value` per document plus the byte span of every
//! field, so that any finding can point at `file:line:col` of the exact field.
//!
//! A stream is split at its `---` markers before parsing, so a syntax error costs only the
//! document it is in. Alias expansion, nesting depth and document size are bounded.
//!
//! Field spans are found the first time a position inside the document is asked for: most
//! documents never need one, and mapping every field costs more than reading the document.
//! A document that is plain JSON (what admission hosts send) is read by the JSON parser.

mod loc;
mod spans;
mod tree;
mod yaml;

use std::fmt::{self, Write as _};
use std::sync::{Arc, OnceLock};

pub use loc::{Edit, Loc, Location, Position, TextEdit};
pub use yaml::parse_source;

/// One input file: a name (as the user gave it) and its text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Source {
    /// File name as shown in diagnostics, e.g. `examples/platform/shop.yaml` or `<stdin>`.
    pub name: String,
    /// The full text.
    pub text: String,
    /// Why the host could not read this file (not a regular file, too large, not UTF-8 or
    /// UTF-16): reported as NR001 on the file, with `text` empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

impl Source {
    /// A source from a name and its text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self { name: name.into(), text: text.into(), unreadable: None }
    }

    /// A file the host could not read, and why.
    pub fn unreadable(name: impl Into<String>, why: impl Into<String>) -> Self {
        Self { name: name.into(), text: String::new(), unreadable: Some(why.into()) }
    }

    /// The documents of this source, or the one error that says why it was not read.
    pub fn parse(&self, file: usize, limits: &Limits) -> (Vec<Document>, Vec<SyntaxError>) {
        let mut docs = Vec::new();
        let mut errors = Vec::new();
        self.parse_each(file, limits, &mut |d| docs.push(d), &mut |e| errors.push(e));
        (docs, errors)
    }

    /// Read the documents one by one (see [`yaml::parse_each`]).
    pub fn parse_each(&self, file: usize, limits: &Limits, on_doc: &mut dyn FnMut(Document), on_error: &mut dyn FnMut(SyntaxError)) {
        match &self.unreadable {
            Some(why) => on_error(SyntaxError { file, index: 0, message: why.clone(), span: Span::default() }),
            None => yaml::parse_each(file, &self.text, limits, on_doc, on_error),
        }
    }
}

/// Byte range `[start, end)` in one source's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end: end.max(start) }
    }
}

/// Limits that keep hostile input from exhausting memory or stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest document, in bytes.
    pub max_document_bytes: usize,
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most nodes that alias expansion may produce in one document (keys and tagged nodes count).
    pub max_alias_nodes: usize,
    /// Most nodes in one document once its aliases are expanded.
    pub max_nodes: usize,
    /// Most entries of the flow collections (`[…]`, `{…}`) of one document that is not plain
    /// JSON: the YAML scanner holds them all until the collection closes.
    pub max_flow_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_document_bytes: 8 * 1024 * 1024, max_depth: 100, max_alias_nodes: 10_000, max_nodes: 1_000_000, max_flow_entries: 100_000 }
    }
}

/// Start of each line, to turn byte offsets into 1-based line and column (columns count chars).
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Index the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// Number of lines (a text ending in a newline has an empty last line).
    pub fn count(&self) -> usize {
        self.starts.len()
    }

    /// Byte offset of the start of 0-based `line` (clamped to the text).
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).or(self.starts.last()).copied().unwrap_or(0)
    }

    /// 1-based line and 1-based column (in chars) of byte `offset`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.line_start(line);
        let col = text.get(start..offset).map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// Byte offset of 0-based `line` and 0-based char column `col`.
    pub fn offset(&self, text: &str, line: usize, col: usize) -> usize {
        let start = self.line_start(line);
        let rest = text.get(start..).unwrap_or("");
        let end_of_line = rest.find('\n').unwrap_or(rest.len());
        let line_text = rest.get(..end_of_line).unwrap_or("");
        start + line_text.char_indices().nth(col).map_or(line_text.len(), |(i, _)| i)
    }

    /// The text of 1-based `line`, without its newline.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let start = self.line_start(line.saturating_sub(1));
        let rest = text.get(start..).unwrap_or("");
        let rest = rest.split('\n').next().unwrap_or("");
        rest.strip_suffix('\r').unwrap_or(rest)
    }
}

/// Where a field sits: the span of its key (absent for the root and sequence items) and of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldSpan {
    /// The key, e.g. `policyTypes` in `policyTypes: [Egress]`.
    pub key: Option<Span>,
    /// The value node.
    pub value: Span,
}

/// One parsed document of a source.
#[derive(Debug, Clone)]
pub struct Document {
    /// Index of the source in the input.
    pub file: usize,
    /// 0-based index of the document in its source.
    pub index: usize,
    /// The document as plain JSON data (the loader takes it once the typed model is built).
    pub value: serde_json::Value,
    /// The whole document.
    pub span: Span,
    positions: Positions,
}

/// What is needed to map the fields of a document when a position is first asked for.
#[derive(Clone)]
struct Positions {
    /// The whole source text, shared by its documents.
    text: Arc<str>,
    /// The `---` chunk the document was read from.
    chunk: Span,
    /// Which document of the chunk (a chunk holds several only after `...` markers).
    node: usize,
    limits: Arc<Limits>,
    /// Span of every field, keyed by its path (`spec.egress[0].to[1]`); shared by copies of the
    /// document, so a host that keeps a [`Parsed`] source maps each document once.
    spans: Arc<OnceLock<spans::FieldSpans>>,
}

impl fmt::Debug for Positions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Positions").field("chunk", &self.chunk).field("node", &self.node).finish_non_exhaustive()
    }
}

impl Document {
    /// A copy without the JSON value (the loader reads the value in place), sharing the text and
    /// the field spans.
    pub(crate) fn without_value(&self) -> Document {
        Document { file: self.file, index: self.index, value: serde_json::Value::Null, span: self.span, positions: self.positions.clone() }
    }

    fn spans(&self) -> &spans::FieldSpans {
        let p = &self.positions;
        p.spans.get_or_init(|| yaml::field_spans(&p.text, p.chunk, p.node, &p.limits))
    }

    /// Whether the document writes `path`.
    pub fn has(&self, path: &str) -> bool {
        self.spans().get(path).is_some()
    }

    /// Key and value spans of `path`, if the document writes it.
    pub fn field(&self, path: &str) -> Option<FieldSpan> {
        self.spans().get(path)
    }

    /// The whole text of the document's source.
    pub fn source_text(&self) -> &str {
        &self.positions.text
    }

    /// Span of the key written first (in text order) of the mapping at `path`.
    pub fn first_key(&self, path: &str) -> Option<Span> {
        self.spans().child_keys(path).into_iter().min()
    }

    /// Span of `path`, or of its nearest ancestor that has one.
    pub fn span_of(&self, path: &str) -> Span {
        let spans = self.spans();
        let mut p = path;
        loop {
            if let Some(s) = spans.get(p) {
                return s.value;
            }
            match parent_path(p) {
                Some(parent) => p = parent,
                None => return self.span,
            }
        }
    }

    /// Span of the key of `path` if it has one, else of its value (or nearest ancestor).
    pub fn key_span_of(&self, path: &str) -> Span {
        match self.spans().get(path) {
            Some(FieldSpan { key: Some(k), .. }) => k,
            _ => self.span_of(path),
        }
    }
}

/// One source read into documents, for hosts that check the same text again and again (an
/// editor re-checks every file after each keystroke in one of them): unchanged sources are not
/// parsed again, and field positions found once stay known.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The text that was read.
    pub text: Arc<str>,
    /// The limits it was read with.
    pub limits: Limits,
    /// Documents that parsed (their `file` is set when a workspace is loaded from them).
    pub documents: Vec<Document>,
    /// Documents that did not.
    pub errors: Vec<SyntaxError>,
}

impl Parsed {
    /// Read `text`.
    pub fn new(text: &str, limits: &Limits) -> Parsed {
        let (documents, errors) = parse_source(0, text, limits);
        let text = documents.first().map_or_else(|| Arc::from(text), |d| Arc::clone(&d.positions.text));
        Parsed { text, limits: *limits, documents, errors }
    }

    /// Whether this is `text` read with `limits`.
    pub fn is(&self, text: &str, limits: &Limits) -> bool {
        *self.text == *text && self.limits == *limits
    }
}

/// A document that could not be read, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Index of the source in the input.
    pub file: usize,
    /// 0-based index of the document in its source.
    pub index: usize,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// The path one level up: `a.b[0]` → `a.b`, `a.b` → `a`, `a` → ``; `None` for the root.
pub fn parent_path(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    if path.ends_with(']') {
        // `[n]` or `["key"]`: find the opening bracket outside quotes.
        let bytes = path.as_bytes();
        let mut in_quote = false;
        let mut i = bytes.len();
        while i > 0 {
            i -= 1;
            match bytes.get(i) {
                Some(b'"') if i == 0 || bytes.get(i - 1) != Some(&b'\\') => in_quote = !in_quote,
                Some(b'[') if !in_quote => return path.get(..i),
                _ => {}
            }
        }
        return Some("");
    }
    Some(path.rfind(['.', ']']).map_or("", |i| {
        if path.as_bytes().get(i) == Some(&b']') {
            path.get(..=i).unwrap_or("")
        } else {
            path.get(..i).unwrap_or("")
        }
    }))
}

/// `parent` + key segment, using `["key"]` for keys that are not plain identifiers.
pub fn join_key(parent: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !plain {
        return format!("{parent}[{}]", serde_json::Value::String(key.to_string()));
    }
    // Built by hand: paths are made for every field of every policy, and `format!` is slower.
    let mut out = String::with_capacity(parent.len() + 1 + key.len());
    out.push_str(parent);
    if !parent.is_empty() {
        out.push('.');
    }
    out.push_str(key);
    out
}

/// `parent` + `[index]`.
pub fn join_index(parent: &str, index: usize) -> String {
    let mut out = String::with_capacity(parent.len() + 8);
    out.push_str(parent);
    // Writing into a String cannot fail.
    let _ = write!(out, "[{index}]");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_through_parent() {
        let p = join_key(&join_index(&join_key("spec", "egress"), 0), "kubernetes.io/metadata.name");
        assert_eq!(p, r#"spec.egress[0]["kubernetes.io/metadata.name"]"#);
        assert_eq!(parent_path(&p), Some("spec.egress[0]"));
        assert_eq!(parent_path("spec.egress[0]"), Some("spec.egress"));
        assert_eq!(parent_path("spec.egress"), Some("spec"));
        assert_eq!(parent_path("spec"), Some(""));
        assert_eq!(parent_path(""), None);
        assert_eq!(parent_path(r#"a["x[y"]"#), Some("a"));
        assert_eq!(join_index("a", 0), "a[0]");
        assert_eq!(join_index("", 1234567890), "[1234567890]");
        assert_eq!(join_index("b", usize::MAX), format!("b[{}]", usize::MAX));
        assert_eq!(join_key("", "spec"), "spec");
    }

    #[test]
    fn line_index_counts_chars_not_bytes() {
        let text = "a: b\nnäme: x\n";
        let idx = LineIndex::new(text);
        let off = idx.offset(text, 1, 6);
        assert_eq!(text.get(off..off + 1), Some("x"));
        assert_eq!(idx.line_col(text, off), (2, 7));
        assert_eq!(idx.line_text(text, 2), "näme: x");
    }
}

/// Text safe for a terminal: control characters other than newline and tab, and the Unicode
/// direction overrides that reorder what is shown, are written as `\u{…}`. Names and source
/// lines come from the input, and an escape sequence in a name must not drive the terminal.
pub fn escape_controls(text: &str) -> String {
    let unsafe_char = |c: char| (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod escape_tests {
    use super::escape_controls;

    #[test]
    fn terminal_controls_are_escaped() {
        assert_eq!(escape_controls("a\u{1b}]0;pwned\u{7}\u{1b}[2J\tb\n"), "a\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\tb\n");
        assert_eq!(escape_controls("x\u{202e}y\r"), "x\\u{202e}y\\u{d}");
        assert_eq!(escape_controls("plain ü"), "plain ü");
    }
}
