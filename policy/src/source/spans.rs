//! Field positions of one document, as a tree of entries rather than a map of paths: a path
//! is as long as the keys above it, so a map of owned paths grows with depth × width × key
//! length (a few hundred bytes of long keys nested deep, under a wide mapping, make gigabytes).
//! Here every field costs one fixed-size entry and its own key once; a path is looked up by
//! walking its segments.

use super::{FieldSpan, Span};

/// Marks "no parent" (the root) and "no key span" in the compact entries.
const NONE: u32 = u32::MAX;

/// One field: its parent entry, its segment (a key in `keys`, or a sequence index) and its
/// spans, as `u32` byte offsets.
#[derive(Debug, Clone, Copy)]
struct Entry {
    parent: u32,
    /// Key: `keys[seg_start..seg_end]`. Index: `seg_start == NONE`, `seg_end` the index.
    seg_start: u32,
    seg_end: u32,
    key: (u32, u32),
    value: (u32, u32),
}

/// One step of a path.
#[derive(Debug, PartialEq, Eq)]
enum Seg<'p> {
    Key(std::borrow::Cow<'p, str>),
    Index(u32),
}

/// The span of every field of one document.
#[derive(Debug, Default)]
pub(crate) struct FieldSpans {
    /// Every key, concatenated.
    keys: String,
    /// Entry 0 is the root; children follow their parent.
    entries: Vec<Entry>,
    /// Entry ids sorted by (parent, segment), for lookups.
    order: Box<[u32]>,
}

/// Fills a [`FieldSpans`] while a document is walked.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    keys: String,
    entries: Vec<Entry>,
}

fn pair(s: Span) -> Option<(u32, u32)> {
    Some((u32::try_from(s.start).ok()?, u32::try_from(s.end).ok()?))
}

impl Builder {
    /// The root value; its id.
    pub(crate) fn root(&mut self, value: Span) -> Option<u32> {
        self.push(NONE, NONE, 0, None, value)
    }

    /// Field `key` of mapping `parent`; its id. `None` (and nothing recorded) when an offset
    /// does not fit in 32 bits: that field's findings then point at its nearest ancestor.
    pub(crate) fn key(&mut self, parent: u32, key: &str, key_span: Span, value: Span) -> Option<u32> {
        let start = u32::try_from(self.keys.len()).ok()?;
        let end = u32::try_from(self.keys.len() + key.len()).ok()?;
        let id = self.push(parent, start, end, Some(key_span), value)?;
        self.keys.push_str(key);
        Some(id)
    }

    /// Item `index` of sequence `parent`; its id.
    pub(crate) fn item(&mut self, parent: u32, index: usize, value: Span) -> Option<u32> {
        self.push(parent, NONE, u32::try_from(index).ok()?, None, value)
    }

    fn push(&mut self, parent: u32, seg_start: u32, seg_end: u32, key: Option<Span>, value: Span) -> Option<u32> {
        let id = u32::try_from(self.entries.len()).ok().filter(|&i| i != NONE)?;
        let key = match key {
            Some(k) => pair(k)?,
            None => (NONE, NONE),
        };
        self.entries.push(Entry { parent, seg_start, seg_end, key, value: pair(value)? });
        Some(id)
    }

    /// The finished table.
    pub(crate) fn finish(self) -> FieldSpans {
        let Builder { keys, mut entries } = self;
        entries.shrink_to_fit();
        let mut spans = FieldSpans { keys, entries, order: Box::default() };
        let mut order: Vec<u32> = (0..spans.entries.len()).filter_map(|i| u32::try_from(i).ok()).collect();
        order.sort_by(|&a, &b| spans.sort_key(a).cmp(&spans.sort_key(b)));
        spans.order = order.into_boxed_slice();
        spans
    }
}

impl FieldSpans {
    fn entry(&self, id: u32) -> Option<&Entry> {
        self.entries.get(usize::try_from(id).ok()?)
    }

    /// Indices sort before keys, keys by text.
    fn sort_key(&self, id: u32) -> (u32, u8, u32, &str) {
        let Some(e) = self.entry(id) else { return (NONE, 2, 0, "") };
        if e.seg_start == NONE {
            return (e.parent, 0, e.seg_end, "");
        }
        (e.parent, 1, 0, self.keys.get(e.seg_start as usize..e.seg_end as usize).unwrap_or(""))
    }

    /// The child of `parent` at `seg`.
    fn child(&self, parent: u32, seg: &Seg<'_>) -> Option<u32> {
        let want = match seg {
            Seg::Index(i) => (parent, 0, *i, ""),
            Seg::Key(k) => (parent, 1, 0, k.as_ref()),
        };
        let i = self.order.binary_search_by(|&id| self.sort_key(id).cmp(&want)).ok()?;
        self.order.get(i).copied()
    }

    fn find(&self, path: &str) -> Option<u32> {
        if self.entries.is_empty() {
            return None;
        }
        let mut id = 0;
        for seg in segments(path)? {
            id = self.child(id, &seg)?;
        }
        Some(id)
    }

    fn field_span(e: &Entry) -> FieldSpan {
        let span = |(s, t): (u32, u32)| Span::new(s as usize, t as usize);
        FieldSpan { key: (e.key.0 != NONE).then(|| span(e.key)), value: span(e.value) }
    }

    /// The spans of `path`, if the document writes it.
    pub(crate) fn get(&self, path: &str) -> Option<FieldSpan> {
        self.find(path).and_then(|id| self.entry(id)).map(Self::field_span)
    }

    /// Key spans of the fields directly under `path`.
    pub(crate) fn child_keys(&self, path: &str) -> Vec<Span> {
        let Some(pid) = self.find(path) else { return Vec::new() };
        let start = self.order.partition_point(|&id| self.entry(id).is_some_and(|e| e.parent < pid));
        self.order
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .map_while(|&id| self.entry(id).filter(|e| e.parent == pid))
            .filter_map(|e| Self::field_span(e).key)
            .collect()
    }
}

/// The segments of a path as `join_key`/`join_index` write it (`spec.egress[0]["a.b/c"]`);
/// `None` when it is not such a path.
fn segments(path: &str) -> Option<Vec<Seg<'_>>> {
    let mut out = Vec::new();
    let mut rest = path;
    let mut first = true;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            if inner.starts_with('"') {
                // A JSON string: find its closing quote, skipping escapes.
                let bytes = inner.as_bytes();
                let mut i = 1;
                loop {
                    match bytes.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                let key: String = serde_json::from_str(inner.get(..=i)?).ok()?;
                out.push(Seg::Key(key.into()));
                rest = inner.get(i + 1..)?.strip_prefix(']')?;
            } else {
                let end = inner.find(']')?;
                let index = inner.get(..end)?;
                if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                out.push(Seg::Index(index.parse().ok()?));
                rest = inner.get(end + 1..)?;
            }
        } else {
            if !first {
                rest = rest.strip_prefix('.')?;
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let key = rest.get(..end)?;
            if key.is_empty() {
                return None;
            }
            out.push(Seg::Key(key.into()));
            rest = rest.get(end..)?;
        }
        first = false;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::source::{join_index, join_key};

    #[test]
    fn paths_written_by_join_are_read_back() {
        let p = join_key(&join_index(&join_key("spec", "egress"), 12), "kubernetes.io/metadata.name");
        let segs = segments(&p).unwrap();
        assert_eq!(
            segs,
            vec![Seg::Key("spec".into()), Seg::Key("egress".into()), Seg::Index(12), Seg::Key("kubernetes.io/metadata.name".into())]
        );
        assert_eq!(segments(&join_key("", "a\"]b")).unwrap(), vec![Seg::Key("a\"]b".into())]);
        assert_eq!(segments("").unwrap(), vec![]);
        for bad in ["a..b", ".a", "a[", "a[x]", "a[\"b\"", "a[1]b"] {
            assert_eq!(segments(bad), None, "{bad}");
        }
    }

    #[test]
    fn lookups_walk_the_tree() {
        let mut b = Builder::default();
        let root = b.root(Span::new(0, 100)).unwrap();
        let spec = b.key(root, "spec", Span::new(0, 4), Span::new(6, 90)).unwrap();
        let list = b.key(spec, "a.b", Span::new(8, 13), Span::new(15, 40)).unwrap();
        b.item(list, 0, Span::new(17, 20)).unwrap();
        b.item(list, 1, Span::new(22, 25)).unwrap();
        b.key(spec, "0", Span::new(41, 42), Span::new(44, 45)).unwrap();
        let s = b.finish();
        assert_eq!(s.get("").unwrap().value, Span::new(0, 100));
        assert_eq!(s.get("spec").unwrap().key, Some(Span::new(0, 4)));
        assert_eq!(s.get(r#"spec["a.b"][1]"#).unwrap().value, Span::new(22, 25));
        assert_eq!(s.get("spec.0").unwrap().value, Span::new(44, 45));
        assert_eq!(s.get("spec[0]"), None);
        assert_eq!(s.get("spec.a.b"), None);
        assert_eq!(s.child_keys("spec"), vec![Span::new(41, 42), Span::new(8, 13)]);
    }
}
