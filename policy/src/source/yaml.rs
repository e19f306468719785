//! saphyr `MarkedYaml` → `serde_json::Value` + path→span map, one `---` chunk at a time.

use std::collections::HashMap;

use saphyr::{MarkedYaml, Scalar, YamlData, YamlLoader};
use saphyr_parser::Parser;
use serde_json::{Map, Number, Value};

use super::{join_index, join_key, Document, FieldSpan, LineIndex, Limits, Span, SyntaxError};

/// Parse every document of one source. Documents that cannot be read become errors; the
/// others are returned in order.
pub fn parse_source(file: usize, text: &str, limits: &Limits) -> (Vec<Document>, Vec<SyntaxError>) {
    let lines = LineIndex::new(text);
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut index = 0;
    for chunk in split_documents(text) {
        let Some(body) = text.get(chunk.start..chunk.end) else { continue };
        if is_blank(body) {
            continue;
        }
        let chunk_line = lines.line_col(text, chunk.start).0 - 1;
        let cx = ChunkCx { text, lines: &lines, first_line: chunk_line, limits };
        let whole = Span::new(chunk.start + leading_blank(body), chunk.end);
        if body.len() > limits.max_document_bytes {
            errors.push(SyntaxError {
                file,
                index,
                message: format!(
                    "document is {} bytes, more than the limit of {} bytes",
                    body.len(),
                    limits.max_document_bytes
                ),
                span: Span::new(whole.start, whole.start),
            });
            index += 1;
            continue;
        }
        if let Some(at) = too_deep(body, limits.max_depth) {
            errors.push(SyntaxError {
                file,
                index,
                message: format!("nesting deeper than {} levels", limits.max_depth),
                span: Span::new(chunk.start + at, chunk.start + at),
            });
            index += 1;
            continue;
        }
        match load_chunk(body, limits) {
            Err((message, line, col)) => {
                let at = cx.offset(line, col);
                errors.push(SyntaxError { file, index, message, span: Span::new(at, at) });
                index += 1;
            }
            Ok(nodes) => {
                for node in nodes {
                    let mut spans = HashMap::new();
                    let value = match cx.convert(&node, "", None, &mut spans, 0) {
                        Ok(v) => v,
                        Err((message, span)) => {
                            errors.push(SyntaxError { file, index, message, span });
                            index += 1;
                            continue;
                        }
                    };
                    let span = spans.get("").map_or(whole, |f: &FieldSpan| f.value);
                    docs.push(Document { file, index, value, spans, span });
                    index += 1;
                }
            }
        }
    }
    (docs, errors)
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

type LoadResult<'a> = Result<Vec<MarkedYaml<'a>>, (String, usize, usize)>;

fn load_chunk<'a>(body: &'a str, limits: &Limits) -> LoadResult<'a> {
    let mut parser = Parser::new_from_str(body);
    let mut loader: YamlLoader<'a, MarkedYaml<'a>> = YamlLoader::default();
    loader.alias_limit(limits.max_alias_nodes);
    let scan = |e: &saphyr::ScanError| (e.info().to_string(), e.marker().line(), e.marker().col());
    if let Err(e) = parser.load(&mut loader, true) {
        return Err(scan(&e));
    }
    if let Some(e) = loader.error() {
        return Err(scan(e));
    }
    Ok(loader.into_documents())
}

struct ChunkCx<'t> {
    text: &'t str,
    lines: &'t LineIndex,
    first_line: usize,
    limits: &'t Limits,
}

type ConvertError = (String, Span);

impl ChunkCx<'_> {
    /// Byte offset of a chunk-relative marker (line 1-based, col 0-based chars).
    fn offset(&self, line: usize, col: usize) -> usize {
        self.lines.offset(self.text, self.first_line + line.saturating_sub(1), col)
    }

    fn span(&self, node: &MarkedYaml<'_>) -> Span {
        let s = node.span.start;
        let e = node.span.end;
        let start = self.offset(s.line(), s.col());
        let mut end = self.offset(e.line(), e.col());
        if end < start {
            end = start;
        }
        // Flow collections end just before their closing bracket: include it.
        let opens = self.text.get(start..).and_then(|t| t.chars().next());
        let closer = match opens {
            Some('[') => Some(']'),
            Some('{') => Some('}'),
            _ => None,
        };
        if let Some(c) = closer {
            if self.text.get(end..).is_some_and(|t| t.starts_with(c)) {
                end += 1;
            }
        }
        // Block collections end at the start of the next token; trim trailing blanks.
        if let Some(t) = self.text.get(start..end) {
            end = start + t.trim_end().len();
        }
        Span::new(start, end)
    }

    fn convert(
        &self,
        node: &MarkedYaml<'_>,
        path: &str,
        key: Option<Span>,
        spans: &mut HashMap<String, FieldSpan>,
        depth: usize,
    ) -> Result<Value, ConvertError> {
        let span = self.span(node);
        if depth > self.limits.max_depth {
            return Err((format!("nesting deeper than {} levels", self.limits.max_depth), span));
        }
        spans.insert(path.to_string(), FieldSpan { key, value: span });
        Ok(match &node.data {
            YamlData::Value(s) => scalar(s),
            YamlData::Representation(raw, _, _) => Value::String(raw.to_string()),
            YamlData::Tagged(_, inner) => self.convert(inner, path, key, spans, depth + 1)?,
            YamlData::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.convert(item, &join_index(path, i), None, spans, depth + 1)?);
                }
                Value::Array(out)
            }
            YamlData::Mapping(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let kspan = self.span(k);
                    let name = match &k.data {
                        YamlData::Value(Scalar::String(s)) => s.to_string(),
                        YamlData::Value(s) => match scalar(s) {
                            Value::String(s) => s,
                            other => other.to_string(),
                        },
                        YamlData::Representation(raw, _, _) => raw.to_string(),
                        _ => return Err(("mapping keys must be scalars".to_string(), kspan)),
                    };
                    let child = join_key(path, &name);
                    let value = self.convert(v, &child, Some(kspan), spans, depth + 1)?;
                    out.insert(name, value);
                }
                Value::Object(out)
            }
            YamlData::Alias(_) => Value::Null,
            YamlData::BadValue => return Err(("value cannot be read".to_string(), span)),
        })
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
        let s = docs[0].spans["spec.policyTypes"];
        assert_eq!(&text[s.value.start..s.value.end], "[Egress]");
        assert_eq!(&text[s.key.unwrap().start..s.key.unwrap().end], "policyTypes");
        let s = docs[0].spans["spec.policyTypes[0]"];
        assert_eq!(&text[s.value.start..s.value.end], "Egress");
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
