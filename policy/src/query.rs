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
