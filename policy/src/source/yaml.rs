//! One `---` chunk at a time: plain JSON through `serde_json`, anything else through saphyr's
//! `MarkedYaml` → `serde_json::Value`; field spans through saphyr when first asked for.

use std::sync::Arc;

use saphyr::Scalar;
use saphyr_parser::Marker;
use serde_json::{Map, Number, Value};

use super::tree::{Kind, NodeId, Tree};
use super::{spans, Document, LineIndex, Limits, Positions, Span, SyntaxError};

/// Parse every document of one source. Documents that cannot be read become errors; the
/// others are returned in order.
pub fn parse_source(file: usize, text: &str, limits: &Limits) -> (Vec<Document>, Vec<SyntaxError>) {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    parse_each(file, text, limits, &mut |d| docs.push(d), &mut |e| errors.push(e));
    (docs, errors)
}

/// Read `text` document by document, handing each document or error on as soon as it is read:
/// a caller that keeps only a typed model never holds every document's data at once.
pub fn parse_each(file: usize, text: &str, limits: &Limits, on_doc: &mut dyn FnMut(Document), on_error: &mut dyn FnMut(SyntaxError)) {
    let shared: Arc<str> = Arc::from(text);
    let shared_limits = Arc::new(*limits);
    let mut index = 0;
    for chunk in split_documents(text) {
        let Some(body) = text.get(chunk.start..chunk.end) else { continue };
        if is_blank(body) {
            continue;
        }
        let whole = Span::new(chunk.start + leading_blank(body), chunk.end);
        let mut error = |message: String, at: usize| {
            on_error(SyntaxError { file, index, message, span: Span::new(at, at) });
            index += 1;
        };
        if body.len() > limits.max_document_bytes {
            let message = format!("document is {} bytes, more than the limit of {} bytes", body.len(), limits.max_document_bytes);
            error(message, whole.start);
            continue;
        }
        let positions = |node: usize| Positions { text: Arc::clone(&shared), chunk, node, limits: Arc::clone(&shared_limits), spans: Arc::default() };
        match json_document(body, limits) {
            Ok(Some((value, span))) => {
                let span = Span::new(chunk.start + span.start, chunk.start + span.end);
                on_doc(Document { file, index, value, span, positions: positions(0) });
                index += 1;
                continue;
            }
            Err((message, at)) => {
                error(message, chunk.start + at);
                continue;
            }
            Ok(None) => {}
        }
        if let Some(at) = flow_entries_over(body, limits.max_flow_entries) {
            let message = format!(
                "a flow collection (`[…]` or `{{…}}`) of more than {} entries outside plain JSON: write it as block YAML",
                limits.max_flow_entries
            );
            error(message, chunk.start + at);
            continue;
        }
        match Tree::load(body, limits) {
            Err(e) => {
                let cx = ChunkCx::new(body, chunk.start, limits, None);
                error(describe(body, &e.message, &e.at, limits), cx.offset(&e.at));
            }
            Ok(tree) => {
                let cx = ChunkCx::new(body, chunk.start, limits, Some(&tree));
                for (n, &root) in tree.roots.iter().enumerate() {
                    match cx.value(root, 0) {
                        Ok(value) => on_doc(Document { file, index, value, span: cx.span(root), positions: positions(n) }),
                        Err((message, span)) => on_error(SyntaxError { file, index, message, span }),
                    }
                    index += 1;
                }
            }
        }
    }
}

/// A chunk that is one JSON value (what API servers and admission hosts send), with the span of
/// that value inside the chunk. JSON is YAML, so the YAML path would read the same value, slower.
/// `Err((message, offset))`: the chunk is JSON but over the node limit — said here, since the
/// YAML path would blame the size of its flow collections instead.
fn json_document(body: &str, limits: &Limits) -> Result<Option<(Value, Span)>, (String, usize)> {
    let trimmed = body.trim_start();
    if !trimmed.starts_with(['{', '[']) {
        return Ok(None);
    }
    let start = body.len() - trimmed.len();
    let budget = std::cell::Cell::new(limits.max_nodes);
    let mut de = serde_json::Deserializer::from_str(body);
    let read = serde::de::DeserializeSeed::deserialize(StrictSeed { budget: &budget, depth: limits.max_depth }, &mut de);
    let value = match read {
        Ok(v) => v,
        Err(e) if e.to_string().starts_with(TOO_MANY_NODES) => {
            return Err((format!("document has more than {} nodes", limits.max_nodes), start));
        }
        Err(_) => return Ok(None),
    };
    if de.end().is_err() {
        return Ok(None);
    }
    Ok(Some((value, Span::new(start, body.trim_end().len()))))
}

/// Where the entries of flow collections first pass `max`, if they do. The YAML scanner holds
/// every token of a flow collection that could still be a mapping key (`[…]: v`) until the
/// collection closes, about 300 bytes a token, so a wide one is refused before it is scanned.
/// Plain JSON never comes here: it is read by `serde_json`.
fn flow_entries_over(body: &str, max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut entries = 0usize;
    let mut quote: Option<char> = None;
    let mut in_comment = false;
    let mut prev = ' ';
    for (i, c) in body.char_indices() {
        if c == '\n' {
            in_comment = false;
        }
        if in_comment {
            prev = c;
            continue;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if prev.is_whitespace() || matches!(prev, '[' | '{' | ',' | ':' | '-' | '?') => quote = Some(c),
            (None, '#') if prev.is_whitespace() => in_comment = true,
            (None, '[' | '{') => {
                depth += 1;
                entries += 1;
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            (None, ',') if depth > 0 => entries += 1,
            _ => {}
        }
        if entries > max {
            return Some(i);
        }
        prev = c;
    }
    None
}

/// The error of [`StrictSeed`] when its budget runs out.
const TOO_MANY_NODES: &str = "too many nodes";

/// A JSON value whose objects may not repeat a key (`serde_json::Value` keeps the last one
/// silently, where the YAML path and the API server's strict decoding refuse the document),
/// read with a budget of nodes.
#[derive(Clone, Copy)]
struct StrictSeed<'b> {
    budget: &'b std::cell::Cell<usize>,
    /// Levels still allowed under this value (the YAML path's depth limit, the same here).
    depth: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let left = self.budget.get();
        if left == 0 {
            return Err(serde::de::Error::custom(TOO_MANY_NODES));
        }
        self.budget.set(left - 1);
        d.deserialize_any(self)
    }
}

impl StrictSeed<'_> {
    fn inner<E: serde::de::Error>(self) -> Result<Self, E> {
        match self.depth.checked_sub(1) {
            Some(depth) => Ok(StrictSeed { depth, ..self }),
            None => Err(E::custom("nesting too deep")),
        }
    }
}

impl<'de> serde::de::Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(inner)?;
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicated key `{key}`")));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// The span of every field of document `node` of `chunk`, keyed by path; empty if the chunk
/// cannot be read as YAML (its fields then point at the whole document).
pub(super) fn field_spans(text: &str, chunk: Span, node: usize, limits: &Limits) -> spans::FieldSpans {
    let mut spans = spans::Builder::default();
    let Some(body) = text.get(chunk.start..chunk.end) else { return spans.finish() };
    let Ok(tree) = Tree::load(body, limits) else { return spans.finish() };
    let cx = ChunkCx::new(body, chunk.start, limits, Some(&tree));
    if let Some(&root) = tree.roots.get(node) {
        if let Some(e) = spans.root(cx.span(root)) {
            cx.collect_spans(root, e, &mut spans, 0);
        }
    }
    spans.finish()
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

/// One chunk's text, where it starts in its source, and its nodes.
struct ChunkCx<'t, 'a> {
    body: &'t str,
    base: usize,
    /// Line starts, for text that is not ASCII (there a marker's char index is not a byte offset).
    lines: Option<LineIndex>,
    limits: &'t Limits,
    tree: Option<&'t Tree<'a>>,
}

type ConvertError = (String, Span);

/// The fields of a mapping once merge keys are applied: name, key node, value node.
type Fields = Vec<(String, NodeId, NodeId)>;

impl<'t, 'a> ChunkCx<'t, 'a> {
    fn new(body: &'t str, base: usize, limits: &'t Limits, tree: Option<&'t Tree<'a>>) -> Self {
        let lines = (!body.is_ascii()).then(|| LineIndex::new(body));
        Self { body, base, lines, limits, tree }
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

    fn span(&self, id: NodeId) -> Span {
        let Some(node) = self.tree.and_then(|t| t.node(id)) else { return Span::new(self.base, self.base) };
        let start = self.local(&node.start);
        let mut end = self.local(&node.end).max(start);
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

    fn kind(&self, id: NodeId) -> Option<&'t Kind<'a>> {
        self.tree.and_then(|t| t.resolve(id)).map(|n| &n.kind)
    }

    fn value(&self, id: NodeId, depth: usize) -> Result<Value, ConvertError> {
        if depth > self.limits.max_depth {
            return Err((format!("nesting deeper than {} levels", self.limits.max_depth), self.span(id)));
        }
        Ok(match self.kind(id) {
            Some(Kind::Scalar(s)) => scalar(s),
            Some(Kind::MergeKey) => Value::String("<<".to_string()),
            Some(Kind::Sequence(items)) => {
                Value::Array(items.iter().map(|&item| self.value(item, depth + 1)).collect::<Result<_, _>>()?)
            }
            Some(Kind::Mapping(_)) => {
                let mut out = Map::new();
                for (name, _, v) in self.fields(id, 0)? {
                    out.insert(name, self.value(v, depth + 1)?);
                }
                Value::Object(out)
            }
            Some(Kind::Bad | Kind::Alias(_)) | None => return Err(("value cannot be read".to_string(), self.span(id))),
        })
    }

    /// The fields of mapping `id`: its own keys (each once), then the keys its merge keys (`<<`)
    /// bring in that it does not write itself, earlier sources first, as YAML 1.1's merge type
    /// and kubectl apply them.
    fn fields(&self, id: NodeId, depth: usize) -> Result<Fields, ConvertError> {
        let Some(Kind::Mapping(pairs)) = self.kind(id) else { return Ok(Vec::new()) };
        if depth > self.limits.max_depth {
            return Err((format!("nesting deeper than {} levels", self.limits.max_depth), self.span(id)));
        }
        let mut out: Fields = Vec::with_capacity(pairs.len());
        let mut seen = std::collections::HashSet::with_capacity(pairs.len());
        let mut merges = Vec::new();
        for &(k, v) in pairs {
            if matches!(self.kind(k), Some(Kind::MergeKey)) {
                if !merges.is_empty() {
                    return Err(("duplicated merge key `<<` in mapping".to_string(), self.span(k)));
                }
                merges.extend(self.merge_sources(k, v)?);
                continue;
            }
            let name = self.key_name(k).ok_or_else(|| ("mapping keys must be scalars".to_string(), self.span(k)))?;
            if !seen.insert(name.clone()) {
                return Err((format!("duplicated key `{}` in mapping", name.escape_debug()), self.span(k)));
            }
            out.push((name, k, v));
        }
        for source in merges {
            for field in self.fields(source, depth + 1)? {
                if seen.insert(field.0.clone()) {
                    out.push(field);
                }
            }
        }
        Ok(out)
    }

    /// The mappings a merge key's value names: one mapping, or a list of them.
    fn merge_sources(&self, key: NodeId, value: NodeId) -> Result<Vec<NodeId>, ConvertError> {
        let wrong = || ("a merge key `<<` takes a mapping or a list of mappings".to_string(), self.span(key));
        let resolved = |id: NodeId| match self.tree.and_then(|t| t.node(id)).map(|n| &n.kind) {
            Some(Kind::Alias(target)) => *target,
            _ => id,
        };
        match self.kind(value) {
            Some(Kind::Mapping(_)) => Ok(vec![resolved(value)]),
            Some(Kind::Sequence(items)) => items
                .iter()
                .map(|&item| match self.kind(item) {
                    Some(Kind::Mapping(_)) => Ok(resolved(item)),
                    _ => Err(wrong()),
                })
                .collect(),
            _ => Err(wrong()),
        }
    }

    /// A mapping key as the JSON object key it becomes; `None` for a collection used as a key.
    fn key_name(&self, id: NodeId) -> Option<String> {
        match self.kind(id)? {
            Kind::Scalar(Scalar::String(s)) => Some(s.to_string()),
            Kind::Scalar(s) => Some(match scalar(s) {
                Value::String(s) => s,
                other => other.to_string(),
            }),
            _ => None,
        }
    }

    /// Record the spans of `id` (entry `entry`) and of everything under it.
    fn collect_spans(&self, id: NodeId, entry: u32, spans: &mut spans::Builder, depth: usize) {
        if depth >= self.limits.max_depth {
            return;
        }
        match self.kind(id) {
            Some(Kind::Sequence(items)) => {
                for (i, &item) in items.iter().enumerate() {
                    if let Some(e) = spans.item(entry, i, self.span(item)) {
                        self.collect_spans(item, e, spans, depth + 1);
                    }
                }
            }
            Some(Kind::Mapping(_)) => {
                for (name, k, v) in self.fields(id, 0).unwrap_or_default() {
                    if let Some(e) = spans.key(entry, &name, self.span(k), self.span(v)) {
                        self.collect_spans(v, e, spans, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A parser message with its cause named where the parser's words do not: control characters,
/// over-long implicit keys, text that is not UTF-8.
fn describe(body: &str, message: &str, at: &Marker, limits: &Limits) -> String {
    if message.contains("recursion limit") {
        // The scanner's own flow-level cap, met while it looks ahead of the events.
        return format!("nesting deeper than {} levels", limits.max_depth);
    }
    let line = body.lines().nth(at.line().saturating_sub(1)).unwrap_or("");
    if let Some(c) = body.chars().find(|&c| is_forbidden(c)) {
        if message.contains("unprintable") || message.contains("end of stream") || c == '\0' {
            return format!("control character U+{:04X} is not allowed in YAML (a binary or UTF-16 file?)", u32::from(c));
        }
    }
    if message.contains("mapping values are not allowed") || message.contains("simple key") {
        let key_len = line.find(": ").or_else(|| line.strip_suffix(':').map(str::len)).map_or(0, |i| line.get(..i).map_or(0, |k| k.chars().count()));
        if key_len > 1024 {
            return format!("a mapping key of {key_len} characters: YAML allows at most 1024 for a key on one line (write it as `? key`)");
        }
    }
    message.to_string()
}

/// Characters YAML does not allow in a stream (outside the printable set of YAML 1.2 §5.1).
fn is_forbidden(c: char) -> bool {
    matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}' | '\u{fffe}' | '\u{ffff}')
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

    /// Anchors on tagged sequences and on collection keys: what aliases expand to is counted,
    /// tags and keys included, before anything is expanded.
    #[test]
    fn alias_budget_counts_tagged_nodes_and_keys() {
        let mut tagged = String::from("a: &a !t [x, x, x, x, x, x, x, x, x, x]\n");
        let mut keyed = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..=7 {
            let prev = level - 1;
            let refs = vec![format!("*l{prev}"); 10].join(", ");
            tagged.push_str(&format!("l{level}: &l{level} !t [{refs}]\n").replace("*l0", "*a"));
            let refs = vec![format!("*a{prev}"); 10].join(", ");
            keyed.push_str(&format!("a{level}: &a{level} {{? [{refs}] : v}}\n"));
        }
        for text in [tagged, keyed] {
            let started = std::time::Instant::now();
            let (docs, errs) = parse(&format!("{text}---\nkind: Namespace\n"));
            assert_eq!(docs.len(), 1, "the other document is still read");
            assert_eq!(errs.len(), 1);
            assert!(errs[0].message.contains("aliases expand to more than 10000 nodes"), "{}", errs[0].message);
            // Not a timing assertion on the product: a guard that the budget stops expansion at all.
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
        }
    }

    #[test]
    fn explicit_keys_nest_no_deeper_than_the_limit() {
        for line in ["? ".repeat(20_000) + "x", "? - ".repeat(20_000) + "x", "- ".repeat(20_000) + "x", "a: ".repeat(2_000) + "x"] {
            let (docs, errs) = parse(&line);
            assert!(docs.is_empty());
            assert_eq!(errs.len(), 1, "{line:.20}");
            assert!(errs[0].message.contains("nesting deeper than 100 levels") || errs[0].message.contains("mapping values"), "{}", errs[0].message);
        }
        let (_, errs) = parse(&("? ".repeat(20_000) + "x"));
        assert_eq!(errs[0].message, "nesting deeper than 100 levels");
    }

    #[test]
    fn aliases_cannot_nest_deeper_than_written() {
        let deep = format!("a: &a {}x{}\n", "[".repeat(60), "]".repeat(60));
        let (docs, _) = parse(&deep);
        assert_eq!(docs.len(), 1);
        let (docs, errs) = parse(&format!("{deep}b: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"));
        assert!(docs.is_empty());
        assert!(errs[0].message.contains("nesting deeper"), "{}", errs[0].message);
    }

    #[test]
    fn merge_keys_apply_with_explicit_keys_first() {
        let text = "base: &base {a: 1, b: 2}\nother: &other {b: 3, c: 4}\nspec:\n  <<: [*base, *other]\n  a: 9\n";
        let (docs, errs) = parse(text);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(docs[0].value["spec"], serde_json::json!({"a": 9, "b": 2, "c": 4}));
        // A merged field points at where it was written.
        let s = docs[0].span_of("spec.c");
        assert_eq!(&text[s.start..s.end], "4");
        let (docs, _) = parse("b: &b {x: 1}\nm: {<<: *b}\n");
        assert_eq!(docs[0].value["m"], serde_json::json!({"x": 1}));
        let (docs, _) = parse("m: {\"<<\": 1}\n");
        assert_eq!(docs[0].value["m"], serde_json::json!({"<<": 1}), "a quoted << is an ordinary key");
        let (_, errs) = parse("m: {<<: 1}\n");
        assert!(errs[0].message.contains("merge key"), "{}", errs[0].message);
    }

    #[test]
    fn duplicated_keys_are_refused_in_yaml_and_json_alike() {
        for text in ["{\"spec\": {\"a\": 1}, \"spec\": {}}", "spec: {a: 1}\nspec: {}\n"] {
            let (docs, errs) = parse(text);
            assert!(docs.is_empty(), "{text}");
            assert_eq!(errs.len(), 1);
            assert!(errs[0].message.contains("duplicated key `spec`"), "{}", errs[0].message);
        }
    }

    #[test]
    fn json_over_the_node_limit_is_named_as_such() {
        let limits = Limits { max_nodes: 1_000, max_flow_entries: 100, ..Limits::default() };
        let (docs, errs) = parse_source(0, &format!("[{}1]", "1,".repeat(1_000)), &limits);
        assert!(docs.is_empty());
        assert_eq!(errs[0].message, "document has more than 1000 nodes");
        // Exactly at the limit is read.
        let (docs, errs) = parse_source(0, &format!("[{}1]", "1,".repeat(998)), &limits);
        assert_eq!((docs.len(), errs.len()), (1, 0));
    }

    #[test]
    fn unreadable_text_is_named() {
        let (_, errs) = parse("a: b\u{0}c\n");
        assert!(errs[0].message.contains("control character U+0000"), "{}", errs[0].message);
        let long = format!("a: 1\n{}: x\n", "k".repeat(2_000));
        let (_, errs) = parse(&long);
        assert!(errs[0].message.contains("mapping key of 2000 characters"), "{}", errs[0].message);
    }
}
