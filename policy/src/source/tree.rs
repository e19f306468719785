//! A YAML chunk as a flat tree of nodes, built from saphyr-parser's events with every limit
//! checked as the events arrive: nesting depth (as written and as aliases expand it), the nodes
//! aliases expand to (keys and tagged nodes included) and the nodes of the whole document.
//!
//! An alias is a reference to its anchor's node, never a copy, so nothing is expanded before it
//! has been counted; every node knows how many nodes it stands for once expanded and how deep it
//! reaches, so an alias costs O(1) to check. Nodes live in one `Vec`: dropping a tree never
//! recurses, however deep the input tried to go.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr::Scalar;
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Tag};

use super::Limits;

/// Index of a node in [`Tree::nodes`].
pub(super) type NodeId = usize;

/// One node: what it is, where it was written, and what it costs once aliases are expanded.
pub(super) struct Node<'a> {
    pub kind: Kind<'a>,
    pub start: Marker,
    pub end: Marker,
    /// Nodes this one stands for when every alias under it is expanded (itself included).
    pub size: usize,
    /// Levels of collections at and under this node, aliases expanded (a scalar has 0).
    pub height: usize,
}

pub(super) enum Kind<'a> {
    Scalar(Scalar<'a>),
    /// A plain `<<` key: YAML's merge key.
    MergeKey,
    /// A scalar with a core-schema tag its text does not fit (`!!int abc`).
    Bad,
    Sequence(Vec<NodeId>),
    Mapping(Vec<(NodeId, NodeId)>),
    /// `*name`: the anchored node.
    Alias(NodeId),
}

/// The documents of one chunk.
pub(super) struct Tree<'a> {
    pub nodes: Vec<Node<'a>>,
    pub roots: Vec<NodeId>,
}

/// Why a chunk could not be read, and where.
pub(super) struct LoadError {
    pub message: String,
    pub at: Marker,
}

impl LoadError {
    fn new(message: impl Into<String>, at: Marker) -> Self {
        Self { message: message.into(), at }
    }
}

/// An open collection while its children are read.
struct Open {
    id: NodeId,
    anchor: usize,
    /// A mapping's key waiting for its value.
    key: Option<NodeId>,
}

impl<'a> Tree<'a> {
    /// Read every document of `body`, stopping at the first error or exceeded limit.
    pub fn load(body: &'a str, limits: &Limits) -> Result<Tree<'a>, LoadError> {
        let mut b = Builder { tree: Tree { nodes: Vec::new(), roots: Vec::new() }, stack: Vec::new(), anchors: HashMap::new(), aliased: 0, root_seen: false, limits };
        let mut parser = Parser::new_from_str(body);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| LoadError::new(e.info().to_string(), *e.marker()))?;
            if b.event(event, span.start, span.end)? {
                break;
            }
        }
        Ok(b.tree)
    }

    pub fn node(&self, id: NodeId) -> Option<&Node<'a>> {
        self.nodes.get(id)
    }

    /// The node an alias stands for (any other node is itself).
    pub fn resolve(&self, id: NodeId) -> Option<&Node<'a>> {
        let node = self.nodes.get(id)?;
        match node.kind {
            // Anchors are registered only once their node is complete, so an alias never points
            // at another alias's target chain longer than one step.
            Kind::Alias(target) => self.nodes.get(target),
            _ => Some(node),
        }
    }
}

struct Builder<'a, 'l> {
    tree: Tree<'a>,
    stack: Vec<Open>,
    anchors: HashMap<usize, NodeId>,
    /// Nodes produced by aliases so far in this document.
    aliased: usize,
    /// Whether the current document has its root node.
    root_seen: bool,
    limits: &'l Limits,
}

impl<'a> Builder<'a, '_> {
    /// Handle one event; `true` when the stream has ended.
    fn event(&mut self, event: Event<'a>, start: Marker, end: Marker) -> Result<bool, LoadError> {
        match event {
            Event::StreamEnd => return Ok(true),
            Event::Nothing | Event::StreamStart => {}
            Event::DocumentStart(_) => {
                self.anchors.clear();
                self.aliased = 0;
                self.root_seen = false;
            }
            Event::DocumentEnd => {
                if !self.root_seen {
                    // An empty document: saphyr's loader made it a `BadValue`.
                    let id = self.push(Kind::Bad, start, end, 1, 0);
                    self.tree.roots.push(id);
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let kind = scalar_kind(value, style, tag.as_ref());
                let id = self.push(kind, start, end, 1, 0);
                self.attach(id, anchor, start)?;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= self.limits.max_depth {
                    return Err(self.too_deep(start));
                }
                let kind = if matches!(event, Event::SequenceStart(..)) { Kind::Sequence(Vec::new()) } else { Kind::Mapping(Vec::new()) };
                let id = self.push(kind, start, start, 1, 1);
                self.stack.push(Open { id, anchor, key: None });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = self.stack.pop() else { return Err(LoadError::new("unbalanced collection end", start)) };
                if let Some(node) = self.tree.nodes.get_mut(open.id) {
                    node.end = start;
                }
                self.attach(open.id, open.anchor, start)?;
            }
            Event::Alias(anchor) => {
                let Some(&target) = self.anchors.get(&anchor) else {
                    return Err(LoadError::new("alias to an unknown anchor (an anchor must be complete before it is used)", start));
                };
                let (size, height) = self.tree.node(target).map_or((1, 0), |t| (t.size, t.height));
                self.aliased = self.aliased.saturating_add(size);
                if self.aliased > self.limits.max_alias_nodes {
                    return Err(LoadError::new(
                        format!("aliases expand to more than {} nodes (a billion-laughs document?)", self.limits.max_alias_nodes),
                        start,
                    ));
                }
                if self.stack.len() + height > self.limits.max_depth {
                    return Err(self.too_deep(start));
                }
                let id = self.push(Kind::Alias(target), start, end, size, height);
                self.attach(id, 0, start)?;
            }
        }
        Ok(false)
    }

    fn too_deep(&self, at: Marker) -> LoadError {
        LoadError::new(format!("nesting deeper than {} levels", self.limits.max_depth), at)
    }

    fn push(&mut self, kind: Kind<'a>, start: Marker, end: Marker, size: usize, height: usize) -> NodeId {
        self.tree.nodes.push(Node { kind, start, end, size, height });
        self.tree.nodes.len() - 1
    }

    /// Register a finished node's anchor and hang it under the open collection (or make it a root).
    fn attach(&mut self, id: NodeId, anchor: usize, at: Marker) -> Result<(), LoadError> {
        if anchor > 0 {
            self.anchors.insert(anchor, id);
        }
        let (size, height) = self.tree.node(id).map_or((1, 0), |n| (n.size, n.height));
        let Some(open) = self.stack.last_mut() else {
            if size > self.limits.max_nodes {
                return Err(LoadError::new(format!("document has more than {} nodes", self.limits.max_nodes), at));
            }
            self.tree.roots.push(id);
            self.root_seen = true;
            return Ok(());
        };
        let Some(parent) = self.tree.nodes.get_mut(open.id) else { return Ok(()) };
        parent.size = parent.size.saturating_add(size);
        parent.height = parent.height.max(height + 1);
        if parent.size > self.limits.max_nodes {
            return Err(LoadError::new(format!("document has more than {} nodes", self.limits.max_nodes), at));
        }
        match &mut parent.kind {
            Kind::Sequence(items) => items.push(id),
            Kind::Mapping(pairs) => match open.key.take() {
                None => open.key = Some(id),
                Some(key) => pairs.push((key, id)),
            },
            _ => {}
        }
        Ok(())
    }
}

/// A scalar as the YAML 1.2 core schema reads it: quoted is a string, a core tag (`!!int`) must
/// fit, any other tag is ignored.
fn scalar_kind<'a>(value: Cow<'a, str>, style: ScalarStyle, tag: Option<&Cow<'a, Tag>>) -> Kind<'a> {
    if style == ScalarStyle::Plain && tag.is_none() && value == "<<" {
        return Kind::MergeKey;
    }
    if tag.is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "merge") {
        return Kind::MergeKey;
    }
    Scalar::parse_from_cow_and_metadata(value, style, tag).map_or(Kind::Bad, Kind::Scalar)
}
