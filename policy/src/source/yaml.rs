//! One `---` chunk at a time: plain JSON through `serde_json`, anything else through saphyr's
//! `MarkedYaml` → `serde_json::Value`; field spans through saphyr when first asked for.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr::{MarkedYaml, Marker, Scalar, YamlData, YamlLoader};
use saphyr_parser::Parser;
use serde_json::{Map, Number, Value};

use super::{join_index, join_key, Document, FieldSpan, LineIndex, Limits, Positions, Span, SyntaxError};

/// Parse every document of one source. Documents that cannot be read become errors; the
/// others are returned in order.
pub fn parse_source(file: usize, text: &str, limits: &Limits) -> (Vec<Document>, Vec<SyntaxError>) {
    let shared: Arc<str> = Arc::from(text);
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut index = 0;
    for chunk in split_documents(text) {
        let Some(body) = text.get(chunk.start..chunk.end) else { continue };
        if is_blank(body) {
            continue;
        }
        let whole = Span::new(chunk.start + leading_blank(body), chunk.end);
        let mut error = |message: String, at: usize| {
            errors.push(SyntaxError { file, index, message, span: Span::new(at, at) });
            index += 1;
        };
        if body.len() > limits.max_document_bytes {
            let message = format!("document is {} bytes, more than the limit of {} bytes", body.len(), limits.max_document_bytes);
            error(message, whole.start);
            continue;
        }
        if let Some(at) = too_deep(body, limits.max_depth) {
            error(format!("nesting deeper than {} levels", limits.max_depth), chunk.start + at);
            continue;
        }
        let positions = |node: usize| Positions { text: Arc::clone(&shared), chunk, node, limits: *limits, spans: Arc::default() };
        if let Some((value, span)) = json_document(body) {
            let span = Span::new(chunk.start + span.start, chunk.start + span.end);
            docs.push(Document { file, index, value, span, positions: positions(0) });
            index += 1;
            continue;
        }
        let cx = ChunkCx::new(body, chunk.start, limits);
        match load_chunk(body, limits) {
            Err((message, at)) => error(message, cx.offset(&at)),
            Ok(nodes) => {
                for (n, node) in nodes.iter().enumerate() {
                    match cx.value(node, 0) {
                        Ok(value) => docs.push(Document { file, index, value, span: cx.span(node), positions: positions(n) }),
                        Err((message, span)) => errors.push(SyntaxError { file, index, message, span }),
                    }
                    index += 1;
                }
            }
        }
    }
    (docs, errors)
}

/// A chunk that is one JSON value (what API servers and admission hosts send), with the span of
/// that value inside the chunk. JSON is YAML, so the YAML path would read the same value, slower.
fn json_document(body: &str) -> Option<(Value, Span)> {
    let trimmed = body.trim_start();
    if !trimmed.starts_with(['{', '[']) {
        return None;
    }
    let value = serde_json::from_str::<Value>(body).ok()?;
    let start = body.len() - trimmed.len();
    Some((value, Span::new(start, body.trim_end().len())))
}

/// The span of every field of document `node` of `chunk`, keyed by path; empty if the chunk
/// cannot be read as YAML (its fields then point at the whole document).
pub(super) fn field_spans(text: &str, chunk: Span, node: usize, limits: &Limits) -> HashMap<String, FieldSpan> {
    let mut spans = HashMap::new();
    let Some(body) = text.get(chunk.start..chunk.end) else { return spans };
    let cx = ChunkCx::new(body, chunk.start, limits);
    if let Some(root) = load_chunk(body, limits).ok().as_ref().and_then(|nodes| nodes.get(node)) {
        cx.collect_spans(root, "", None, &mut spans, 0);
    }
    spans
}

/// Byte ranges of the `---`-separated chunks. A marker line belongs to the chunk it opens.
fn split_documents(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if pos != 0 && is_marker(line) {
            out.push(Span::new(start, pos));
            start = pos;
        }
        pos += line.len();
    }
    out.push(Span::new(start, text.len()));
    out
}

fn is_marker(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Only whitespace, comments, document markers and directives.
fn is_blank(body: &str) -> bool {
    body.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..." || t.starts_with('%')
            || (is_marker(l) && t.get(3..).is_some_and(|r| r.trim().is_empty() || r.trim().starts_with('#')))
    })
}

fn leading_blank(body: &str) -> usize {
    let mut n = 0;
    for line in body.split_inclusive('\n') {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t == "---" {
            n += line.len();
        } else {
            break;
        }
    }
    n.min(body.len())
}

/// A conservative pre-check so that neither the parser's tree nor its drop can run deep:
/// counts open flow brackets (outside quotes and comments) and block indentation.
fn too_deep(body: &str, max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut line_start = true;
    let mut indent = 0usize;
    let mut in_comment = false;
    for (i, c) in body.char_indices() {
        if c == '\n' {
            line_start = true;
            indent = 0;
            in_comment = false;
            continue;
        }
        if line_start {
            if c == ' ' || c == '-' {
                indent += 1;
                if indent / 2 > max * 2 {
                    return Some(i);
                }
                continue;
            }
            line_start = false;
        }
        if in_comment {
            continue;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"') | (None, '\'') => quote = Some(c),
            (None, '#') => in_comment = true,
            (None, '[') | (None, '{') => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            (None, ']') | (None, '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

type LoadResult<'a> = Result<Vec<MarkedYaml<'a>>, (String, Marker)>;

fn load_chunk<'a>(body: &'a str, limits: &Limits) -> LoadResult<'a> {
    let mut parser = Parser::new_from_str(body);
    let mut loader: YamlLoader<'a, MarkedYaml<'a>> = YamlLoader::default();
    loader.alias_limit(limits.max_alias_nodes);
    let scan = |e: &saphyr::ScanError| (e.info().to_string(), *e.marker());
    if let Err(e) = parser.load(&mut loader, true) {
        return Err(scan(&e));
    }
    if let Some(e) = loader.error() {
        return Err(scan(e));
    }
    Ok(loader.into_documents())
}

/// One chunk's text and where it starts in its source.
struct ChunkCx<'t> {
    body: &'t str,
    base: usize,
    /// Line starts, for text that is not ASCII (there a marker's char index is not a byte offset).
    lines: Option<LineIndex>,
    limits: &'t Limits,
}

type ConvertError = (String, Span);

impl<'t> ChunkCx<'t> {
    fn new(body: &'t str, base: usize, limits: &'t Limits) -> Self {
        let lines = (!body.is_ascii()).then(|| LineIndex::new(body));
        Self { body, base, lines, limits }
    }

    /// Byte offset in the source of a chunk-relative marker.
    fn offset(&self, m: &Marker) -> usize {
        self.base + self.local(m)
    }

    fn local(&self, m: &Marker) -> usize {
        match &self.lines {
            None => m.index().min(self.body.len()),
            Some(lines) => lines.offset(self.body, m.line().saturating_sub(1), m.col()),
        }
    }

    fn span(&self, node: &MarkedYaml<'_>) -> Span {
        let start = self.local(&node.span.start);
        let mut end = self.local(&node.span.end).max(start);
        let rest = self.body.get(start..).unwrap_or("");
        // Flow collections end just before their closing bracket: include it.
        let closer = match rest.chars().next() {
            Some('[') => Some(']'),
            Some('{') => Some('}'),
            _ => None,
        };
        if let Some(c) = closer {
            if self.body.get(end..).is_some_and(|t| t.starts_with(c)) {
                end += 1;
            }
        }
        // Block collections end at the start of the next token; trim trailing blanks.
        if let Some(t) = self.body.get(start..end) {
            end = start + t.trim_end().len();
        }
        Span::new(self.base + start, self.base + end)
    }

    fn value(&self, node: &MarkedYaml<'_>, depth: usize) -> Result<Value, ConvertError> {
        if depth > self.limits.max_depth {
            return Err((format!("nesting deeper than {} levels", self.limits.max_depth), self.span(node)));
        }
        Ok(match &node.data {
            YamlData::Value(s) => scalar(s),
            YamlData::Representation(raw, _, _) => Value::String(raw.to_string()),
            YamlData::Tagged(_, inner) => self.value(inner, depth + 1)?,
            YamlData::Sequence(items) => {
                Value::Array(items.iter().map(|item| self.value(item, depth + 1)).collect::<Result<_, _>>()?)
            }
            YamlData::Mapping(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let name = key_name(k).ok_or_else(|| ("mapping keys must be scalars".to_string(), self.span(k)))?;
                    out.insert(name, self.value(v, depth + 1)?);
                }
                Value::Object(out)
            }
            YamlData::Alias(_) => Value::Null,
            YamlData::BadValue => return Err(("value cannot be read".to_string(), self.span(node))),
        })
    }

    fn collect_spans(
        &self,
        node: &MarkedYaml<'_>,
        path: &str,
        key: Option<Span>,
        spans: &mut HashMap<String, FieldSpan>,
        depth: usize,
    ) {
        if depth > self.limits.max_depth {
            return;
        }
        spans.insert(path.to_string(), FieldSpan { key, value: self.span(node) });
        match &node.data {
            YamlData::Tagged(_, inner) => self.collect_spans(inner, path, key, spans, depth + 1),
            YamlData::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.collect_spans(item, &join_index(path, i), None, spans, depth + 1);
                }
            }
            YamlData::Mapping(map) => {
                for (k, v) in map {
                    if let Some(name) = key_name(k) {
                        self.collect_spans(v, &join_key(path, &name), Some(self.span(k)), spans, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A mapping key as the JSON object key it becomes; `None` for a collection used as a key.
fn key_name(k: &MarkedYaml<'_>) -> Option<String> {
    match &k.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(s) => Some(match scalar(s) {
            Value::String(s) => s,
            other => other.to_string(),
        }),
        YamlData::Representation(raw, _, _) => Some(raw.to_string()),
        _ => None,
    }
}

fn scalar(s: &Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => {
            Number::from_f64(f.into_inner()).map_or_else(|| Value::String(f.to_string()), Value::Number)
        }
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Document>, Vec<SyntaxError>) {
        parse_source(0, text, &Limits::default())
    }

    #[test]
    fn a_syntax_error_costs_only_its_document() {
        let text = "a: 1\n---\nb: [1, 2\n---\nc: 3\n";
        let (docs, errs) = parse(text);
        assert_eq!(docs.len(), 2);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].index, 1);
        assert_eq!(docs[1].index, 2);
        assert_eq!(docs[1].value["c"], 3);
    }

    #[test]
    fn field_spans_point_at_the_value() {
        let text = "kind: X\nspec:\n  policyTypes: [Egress]\n";
        let (docs, _) = parse(text);
        let s = docs[0].span_of("spec.policyTypes");
        assert_eq!(&text[s.start..s.end], "[Egress]");
        let k = docs[0].key_span_of("spec.policyTypes");
        assert_eq!(&text[k.start..k.end], "policyTypes");
        let s = docs[0].span_of("spec.policyTypes[0]");
        assert_eq!(&text[s.start..s.end], "Egress");
    }

    #[test]
    fn json_is_read_like_yaml_with_the_same_positions() {
        let json = "{\"kind\": \"X\", \"spec\": {\"n\": [1, 2.5, -3], \"s\": \"ä/\\u00e9\", \"t\": true, \"z\": null}}\n";
        let (fast, errs) = parse(json);
        assert!(errs.is_empty());
        // A leading comment sends the same text down the YAML path.
        let commented = format!("# c\n{json}");
        let (slow, errs) = parse(&commented);
        assert!(errs.is_empty());
        assert_eq!(fast[0].value, slow[0].value);
        assert_eq!((fast[0].span.start + 4, fast[0].span.end + 4), (slow[0].span.start, slow[0].span.end));
        assert_eq!(fast[0].value["spec"]["s"], "ä/é");
        for path in ["", "kind", "spec", "spec.n", "spec.n[1]", "spec.s", "spec.z", "spec.missing"] {
            let (f, s) = (fast[0].span_of(path), slow[0].span_of(path));
            assert_eq!((f.start + 4, f.end + 4), (s.start, s.end), "{path}");
            let (f, s) = (fast[0].key_span_of(path), slow[0].key_span_of(path));
            assert_eq!((f.start + 4, f.end + 4), (s.start, s.end), "{path}");
        }
    }

    #[test]
    fn positions_after_non_ascii_text() {
        let text = "a: äöü\nb: [x]\n";
        let (docs, _) = parse(text);
        let s = docs[0].span_of("b");
        assert_eq!(&text[s.start..s.end], "[x]");
        let (_, errs) = parse("a: ä\nb: [x\n");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].span.start <= "a: ä\nb: [x\n".len());
    }

    #[test]
    fn every_document_of_a_chunk_has_its_own_positions() {
        let text = "a: 1\n...\nb: [2]\n";
        let (docs, _) = parse(text);
        assert_eq!(docs.len(), 2);
        let s = docs[1].span_of("b");
        assert_eq!(&text[s.start..s.end], "[2]");
        assert_eq!(docs[1].value["b"][0], 2);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='j' {
            text.push_str(&format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = c;
        }
        let (docs, errs) = parse(&text);
        assert!(docs.is_empty());
        assert_eq!(errs.len(), 1);
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let text = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let (docs, errs) = parse(&text);
        assert!(docs.is_empty());
        assert!(errs[0].message.contains("nesting"));
    }

    #[test]
    fn quoted_numbers_stay_strings_and_json_parses() {
        let (docs, errs) = parse("{\"a\": \"80\", \"b\": 80, \"c\": yes}");
        assert!(errs.is_empty());
        assert_eq!(docs[0].value["a"], "80");
        assert_eq!(docs[0].value["b"], 80);
        assert_eq!(docs[0].value["c"], "yes");
    }
}
