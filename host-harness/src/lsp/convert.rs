//! Report → LSP: positions in UTF-16 code units (what LSP counts by default), diagnostics with
//! rule id, docs link and related places, fixes as workspace edits.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeDescription, Diagnostic, DiagnosticRelatedInformation, Location as LspLocation,
    NumberOrString, Position as LspPosition, Range, TextEdit as LspTextEdit, Uri, WorkspaceEdit,
};
use netreach_policy::report::{Location, Position, ReportDiagnostic, TextEdit};
use netreach_policy::source::LineIndex;
use netreach_policy::Source;

/// UTF-16 code units in `line_text` before byte `byte_col` (clamped to a char boundary).
pub fn utf16_col(line_text: &str, byte_col: usize) -> u32 {
    let mut end = byte_col.min(line_text.len());
    while !line_text.is_char_boundary(end) {
        end -= 1;
    }
    let n = line_text.get(..end).map_or(0, |s| s.encode_utf16().count());
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Converts positions and findings of one analysis for the editor.
pub struct Converter<'a> {
    sources: &'a [Source],
    uris: &'a [String],
    lines: Vec<LineIndex>,
    by_name: HashMap<&'a str, usize>,
    docs_base: &'a str,
}

impl<'a> Converter<'a> {
    /// For `sources`, whose URIs are `uris` (same order); rule pages at `docs_base`.
    pub fn new(sources: &'a [Source], uris: &'a [String], docs_base: &'a str) -> Self {
        Converter {
            sources,
            uris,
            lines: sources.iter().map(|s| LineIndex::new(&s.text)).collect(),
            by_name: sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect(),
            docs_base,
        }
    }

    /// The URI of the source named `name`.
    pub fn uri(&self, name: &str) -> Option<&'a str> {
        self.by_name.get(name).and_then(|i| self.uris.get(*i)).map(String::as_str)
    }

    fn text(&self, file: usize) -> &'a str {
        self.sources.get(file).map_or("", |s| s.text.as_str())
    }

    /// A report position of the source named `name` as an LSP position.
    pub fn position(&self, name: &str, p: &Position) -> LspPosition {
        let file = self.by_name.get(name).copied().unwrap_or(usize::MAX);
        let text = self.text(file);
        let line = p.line.saturating_sub(1);
        let start = self.lines.get(file).map_or(0, |l| l.line_start(line));
        let line_text = text.get(start..).unwrap_or("");
        LspPosition { line: u32::try_from(line).unwrap_or(u32::MAX), character: utf16_col(line_text, p.offset.saturating_sub(start)) }
    }

    /// A report location as an LSP range.
    pub fn range(&self, l: &Location) -> Range {
        Range { start: self.position(&l.file, &l.start), end: self.position(&l.file, &l.end) }
    }

    /// The byte offset of an LSP position in source `file`; `None` past the end.
    pub fn offset(&self, file: usize, p: LspPosition) -> Option<usize> {
        let text = self.text(file);
        let lines = self.lines.get(file)?;
        let line = usize::try_from(p.line).ok().filter(|l| *l < lines.count())?;
        let start = lines.line_start(line);
        let rest = text.get(start..)?;
        let mut units = 0u32;
        for (i, c) in rest.char_indices() {
            if units >= p.character || c == '\n' {
                return Some(start + i);
            }
            units += u32::try_from(c.len_utf16()).unwrap_or(2);
        }
        Some(text.len())
    }

    fn uri_of(&self, name: &str) -> Option<Uri> {
        self.uri(name)?.parse().ok()
    }

    /// A finding as an LSP diagnostic: code = rule id, a link to the rule's page, the
    /// explanation and help in the message, the other objects involved as related places.
    pub fn diagnostic(&self, d: &ReportDiagnostic) -> Diagnostic {
        let mut message = d.message.clone();
        for why in &d.explanation {
            message.push_str("\nwhy: ");
            message.push_str(why);
        }
        if let Some(h) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        let related: Vec<DiagnosticRelatedInformation> = d
            .related
            .iter()
            .filter_map(|r| {
                Some(DiagnosticRelatedInformation {
                    location: LspLocation { uri: self.uri_of(&r.location.file)?, range: self.range(&r.location) },
                    message: r.message.clone(),
                })
            })
            .collect();
        let href = if self.docs_base.is_empty() { None } else { format!("{}/{}.md", self.docs_base, d.name).parse::<Uri>().ok() };
        Diagnostic {
            range: self.range(&d.location),
            severity: Some(super::severity(d.severity)),
            code: Some(NumberOrString::String(d.rule.clone())),
            code_description: href.map(|href| CodeDescription { href }),
            source: Some("netreach".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            tags: None,
            data: None,
        }
    }

    /// A quick fix applying `edits`, for `diag`.
    #[allow(clippy::mutable_key_type)] // lsp-types keys `WorkspaceEdit::changes` by `Uri`; its cache never changes equality
    pub fn action(&self, title: &str, edits: &[TextEdit], diag: &Diagnostic, preferred: bool) -> CodeActionOrCommand {
        let mut changes: HashMap<Uri, Vec<LspTextEdit>> = HashMap::new();
        for e in edits {
            let Some(uri) = self.uri_of(&e.file) else { continue };
            let range = Range { start: self.position(&e.file, &e.start), end: self.position(&e.file, &e.end) };
            changes.entry(uri).or_default().push(LspTextEdit { range, new_text: e.text.clone() });
        }
        CodeActionOrCommand::CodeAction(CodeAction {
            title: title.to_string(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diag.clone()]),
            edit: Some(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() }),
            is_preferred: Some(preferred),
            ..CodeAction::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        // `é` is 2 bytes and 1 unit; `😀` is 4 bytes and 2 units.
        let line = "a: é😀x";
        assert_eq!(utf16_col(line, 3), 3);
        assert_eq!(utf16_col(line, 5), 4);
        assert_eq!(utf16_col(line, 9), 6);
        assert_eq!(utf16_col(line, 6), 4, "inside a char: its start");
        let sources = vec![Source::new("f", format!("{line}\nb: 1\n"))];
        let uris = vec!["file:///f".to_string()];
        let c = Converter::new(&sources, &uris, "");
        assert_eq!(c.offset(0, LspPosition { line: 0, character: 6 }), Some(9));
        assert_eq!(c.offset(0, LspPosition { line: 1, character: 3 }), Some(14));
        assert_eq!(c.offset(0, LspPosition { line: 9, character: 0 }), None);
        let p = c.position("f", &Position { column: 7, line: 1, offset: 9 });
        assert_eq!((p.line, p.character), (0, 6));
    }
}
