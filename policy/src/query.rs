//! Questions about the network besides the rule findings: "may A open this connection to B, and
//! which policy decides?" and the whole connectivity graph. The CLI (`explain`,
//! `connectivity`) and the playground's module ask through here, so both answer alike.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::Protocol;
use crate::netpol::{Direction, Endpoint, SideVerdict, Target, Verdict};
use crate::report::{Files, Location};
use crate::{Connectivity, Engine, LoadOptions, Source, Workspace};

/// `a.b` of letters, digits, `-` and `.`, not a `namespace/name`.
fn is_host_name(s: &str) -> bool {
    s.contains('.') && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn endpoint(ws: &Workspace, s: &str) -> Result<Endpoint, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Endpoint::Ip(ip));
    }
    ws.find_workload(s).map(Endpoint::Workload).ok_or_else(|| format!("no workload {s} in the input (use namespace/name or an IP address)"))
}

/// Whether `from` (a workload `namespace/name` or an IP address) may open a `protocol`/`port`
/// connection to `to` (a workload, an IP address or an external host name), with the policies
/// and rules that decide each side.
pub fn explain(ws: &Workspace, from: &str, to: &str, port: u16, protocol: Protocol) -> Result<Verdict, String> {
    if port == 0 {
        return Err("the port must be 1-65535".into());
    }
    let engine = Engine::new(ws);
    match (endpoint(ws, from), endpoint(ws, to)) {
        (Ok(f), Ok(t)) => Ok(engine.allowed(f, t, port, protocol)),
        // A host name outside the cluster: only the source's egress decides, as for the
        // declared needs of NR207.
        (Ok(Endpoint::Workload(f)), Err(_)) if is_host_name(to) => {
            let egress = engine.egress_to(f, &Target::Host(to.to_ascii_lowercase()), port, protocol);
            let ingress = SideVerdict {
                allowed: true,
                allowed_by: Vec::new(),
                isolated_by: Vec::new(),
                reasons: vec![format!("destination {to} is outside the cluster: no NetworkPolicy governs its ingress")],
                decided_by: None,
            };
            Ok(Verdict { allowed: egress.allowed, egress, ingress })
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// A workload as the graph draws it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphWorkload {
    /// Whether a policy isolates its egress.
    pub egress_isolated: bool,
    /// Whether a policy isolates its ingress.
    pub ingress_isolated: bool,
    /// Kind of the object carrying the pods.
    pub kind: String,
    /// Where the object is named.
    pub location: Location,
    /// `namespace/name[Kind]`, as connections name it.
    pub name: String,
    /// Namespace.
    pub namespace: String,
}

/// The connectivity graph: every workload and every allowed connection.
#[derive(Debug, Serialize)]
pub struct Graph {
    /// Allowed connections: the `connections` of `netreach connectivity -o json`.
    #[serde(flatten)]
    pub connections: Connectivity,
    /// Every workload, sorted by name.
    pub workloads: Vec<GraphWorkload>,
}

/// The connectivity graph of a loaded workspace.
pub fn graph(sources: &[Source], ws: &Workspace) -> Graph {
    let engine = Engine::new(ws);
    let files = Files::new(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())));
    let mut workloads: Vec<GraphWorkload> = ws
        .workloads
        .iter()
        .enumerate()
        .map(|(i, w)| GraphWorkload {
            egress_isolated: engine.is_isolated(i, Direction::Egress),
            ingress_isolated: engine.is_isolated(i, Direction::Ingress),
            kind: w.id.kind.clone(),
            location: files.resolve(&ws.loc(&w.obj, "metadata.name")),
            name: w.display(),
            namespace: w.namespace.clone(),
        })
        .collect();
    workloads.sort_by(|a, b| a.name.cmp(&b.name));
    workloads.dedup_by(|a, b| a.name == b.name);
    Graph { connections: Connectivity::compute(&engine), workloads }
}

/// A graph request (JSON, camelCase): the manifests and how to read them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphRequest {
    /// The manifests.
    pub sources: Vec<Source>,
    /// Namespace for objects without one (default `default`).
    #[serde(default)]
    pub default_namespace: Option<String>,
}

/// An explain request (JSON, camelCase): the manifests and one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExplainRequest {
    /// The manifests.
    pub sources: Vec<Source>,
    /// Namespace for objects without one (default `default`).
    #[serde(default)]
    pub default_namespace: Option<String>,
    /// Source: `namespace/name` of a workload, or an IP address.
    pub from: String,
    /// Destination: `namespace/name`, an IP address or an external host name.
    pub to: String,
    /// Destination port.
    pub port: u16,
    /// `TCP` (default), `UDP` or `SCTP`.
    #[serde(default)]
    pub protocol: Option<String>,
}

fn load(sources: &[Source], default_namespace: Option<&String>) -> Workspace {
    let mut load = LoadOptions::default();
    if let Some(ns) = default_namespace {
        load.default_namespace.clone_from(ns);
    }
    Workspace::load(sources, &load)
}

fn error_json(e: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({"error": e, "version": 1})).unwrap_or_default()
}

/// Handle a JSON graph request: `{"connections": […], "workloads": […]}` or `{"error": …}`.
pub fn graph_json(request: &[u8]) -> String {
    match serde_json::from_slice::<GraphRequest>(request) {
        Ok(req) => {
            let ws = load(&req.sources, req.default_namespace.as_ref());
            serde_json::to_string_pretty(&graph(&req.sources, &ws)).unwrap_or_default()
        }
        Err(e) => error_json(&format!("invalid request: {e}")),
    }
}

/// Handle a JSON explain request: the [`Verdict`] or `{"error": …}`.
pub fn explain_json(request: &[u8]) -> String {
    let req = match serde_json::from_slice::<ExplainRequest>(request) {
        Ok(r) => r,
        Err(e) => return error_json(&format!("invalid request: {e}")),
    };
    let proto = req.protocol.as_deref().unwrap_or("TCP").to_ascii_uppercase();
    let Some(protocol) = Protocol::parse(&proto) else {
        return error_json(&format!("the protocol must be TCP, UDP or SCTP, not {proto}"));
    };
    let ws = load(&req.sources, req.default_namespace.as_ref());
    match explain(&ws, &req.from, &req.to, req.port, protocol) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        Err(e) => error_json(&e),
    }
}

/// The text edit that adds `rule` to the `netreach.dev/skip` annotation of `object` — the
/// "disable this rule for this object" action of editors; `None` when `object` is not written
/// in `sources`.
pub fn suppress_edit(sources: &[Source], ws: &Workspace, object: &crate::model::ObjectId, rule: &str) -> Option<crate::report::TextEdit> {
    let edit = ws.suppress_edit(object, rule)?;
    let files = Files::new(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())));
    Some(files.resolve_edit(&edit, ""))
}

/// What a hover over an object's name shows: Markdown, and the name's place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hover {
    /// The text, as Markdown.
    pub markdown: String,
    /// The `metadata.name` the hover is for.
    pub location: Location,
}

/// The hover for the workload or NetworkPolicy whose `metadata.name` covers byte `offset` of
/// source `file`: for a workload, the policies isolating it per direction and what it may
/// reach; for a policy, what it selects and isolates.
pub fn hover(sources: &[Source], ws: &Workspace, file: usize, offset: usize) -> Option<Hover> {
    let at = |obj: &crate::model::ObjRef| {
        let loc = ws.loc(obj, "metadata.name");
        (loc.file == file && loc.span.start <= offset && offset <= loc.span.end && loc.path.ends_with("metadata.name")).then_some(loc)
    };
    let files = Files::new(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())));
    let engine = Engine::new(ws);
    let policy_name = |p: usize| ws.policies.get(p).map_or_else(String::new, |p| format!("`{}/{}`", p.namespace, p.name));
    for (i, w) in ws.workloads.iter().enumerate() {
        let Some(loc) = at(&w.obj) else { continue };
        let mut md = format!("**{} {}/{}**\n\n", w.id.kind, w.namespace, w.id.name);
        for dir in [Direction::Ingress, Direction::Egress] {
            let by = engine.isolating(i, dir);
            if by.is_empty() {
                md.push_str(&format!("- **{}**: not isolated — no NetworkPolicy with {} in its policyTypes selects it, so all {} traffic is allowed\n", dir.as_str(), dir.as_str(), dir.as_str().to_lowercase()));
            } else {
                let names: Vec<String> = by.iter().map(|p| policy_name(*p)).collect();
                md.push_str(&format!("- **{}**: isolated by {}; only what they allow gets through\n", dir.as_str(), names.join(", ")));
            }
        }
        md.push_str(&format!("- **Reach**: {}\n", reach_summary(&Connectivity::compute(&engine), &w.display())));
        return Some(Hover { markdown: md, location: files.resolve(&loc) });
    }
    for (pi, p) in ws.policies.iter().enumerate() {
        let Some(loc) = at(&p.obj) else { continue };
        let selected = engine.selected_by(pi);
        let names: Vec<String> = selected.iter().filter_map(|w| ws.workloads.get(*w)).map(|w| format!("`{}`", w.display())).collect();
        let mut md = format!("**NetworkPolicy {}/{}**\n\n", p.namespace, p.name);
        md.push_str(&format!("- **Selects**: {}\n", if names.is_empty() { "no workload of the input".to_string() } else { list(&names, 8) }));
        for dir in [Direction::Ingress, Direction::Egress] {
            let isolates = dir.isolates(p);
            let rules = dir.rules(p);
            let line = if isolates {
                format!("isolates the selected pods; {} rule(s) allow traffic", rules.len())
            } else {
                "not in its policyTypes: it neither isolates nor allows".to_string()
            };
            md.push_str(&format!("- **{}**: {line}\n", dir.as_str()));
        }
        return Some(Hover { markdown: md, location: files.resolve(&loc) });
    }
    None
}

/// `a, b, c and 4 more`.
fn list(items: &[String], max: usize) -> String {
    let shown = items.iter().take(max).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > max { format!("{shown} and {} more", items.len() - max) } else { shown }
}

/// One line on what `name` may reach and what reaches it.
fn reach_summary(map: &Connectivity, name: &str) -> String {
    let (mut out, mut inn) = (Vec::new(), Vec::new());
    for e in map.iter() {
        if e.src.label() == name {
            out.push(format!("`{}` ({})", e.dst.label(), e.connections));
        }
        if e.dst.label() == name {
            inn.push(format!("`{}`", e.src.label()));
        }
    }
    let to = if out.is_empty() { "may open no connection".to_string() } else { format!("may connect to {} peer(s): {}", out.len(), list(&out, 5)) };
    let from = if inn.is_empty() { "nothing may connect to it".to_string() } else { format!("{} peer(s) may connect to it", inn.len()) };
    format!("{to}; {from}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectId;

    fn suppressed(text: &str, rule: &str) -> String {
        let sources = [Source::new("m", text)];
        let ws = Workspace::load(&sources, &LoadOptions::default());
        let id = ObjectId { api_version: "v1".into(), kind: "Service".into(), name: "web".into(), namespace: Some("shop".into()) };
        let e = suppress_edit(&sources, &ws, &id, rule).unwrap_or_else(|| panic!("no edit for {text}"));
        let mut out = text.to_string();
        out.replace_range(e.start.offset..e.end.offset, &e.text);
        out
    }

    #[test]
    fn suppress_edit_keeps_json_json() {
        let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Service\",\n  \"metadata\": {\n    \"name\": \"web\",\n    \"namespace\": \"shop\"\n  }\n}\n";
        let out = suppressed(text, "NR301");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(v["metadata"]["annotations"]["netreach.dev/skip"], "NR301", "{out}");
        let again = suppressed(&out, "NR302");
        let v: serde_json::Value = serde_json::from_str(&again).unwrap_or_else(|e| panic!("{e}: {again}"));
        assert_eq!(v["metadata"]["annotations"]["netreach.dev/skip"], "NR301, NR302", "{again}");
    }

    #[test]
    fn suppress_edit_follows_block_and_flow_style() {
        let block = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    a: b\n";
        assert_eq!(
            suppressed(block, "NR301"),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    \"netreach.dev/skip\": \"NR301\"\n    a: b\n".replace("\"netreach.dev/skip\"", "netreach.dev/skip")
        );
        let flow = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n";
        assert_eq!(suppressed(flow, "NR301"), "apiVersion: v1\nkind: Service\nmetadata: {annotations: {netreach.dev/skip: \"NR301\"}, name: web, namespace: shop}\n");
        let empty = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  annotations: {}\n";
        assert!(suppressed(empty, "NR301").ends_with("annotations: {netreach.dev/skip: \"NR301\"}\n"));
    }
}
