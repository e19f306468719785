//! The cluster of an admission fixture (`tests/admission/*/cluster.json`), served as Kubewarden's
//! `kubernetes` host capabilities would serve it. The JavaScript hosts (`js/hosts.test.mjs`)
//! serve it the same way, so every host sees the same cluster.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use netreach_policy::admission::HostCalls;

/// The fixture folders (`tests/admission/*/`), sorted.
pub fn cases() -> Result<Vec<PathBuf>, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/admission");
    let entries = fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut cases: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    Ok(cases)
}

/// One JSON file of a fixture.
pub fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The objects of a fixture's cluster (`cluster.json`), or `None` when it has none.
pub fn cluster_objects(case: &Path) -> Result<Option<Vec<Value>>, String> {
    let path = case.join("cluster.json");
    if !path.exists() {
        return Ok(None);
    }
    match read_json(&path)? {
        Value::Array(objects) => Ok(Some(objects)),
        _ => Err(format!("{}: not a list of objects", path.display())),
    }
}

/// A fixture cluster: its objects, or `None` when the fixture grants no context (every read is
/// refused, as policy-server refuses a policy the operator did not grant `contextAwareResources`).
#[derive(Debug, Default)]
pub struct FixtureCluster {
    objects: Option<Vec<Value>>,
    /// Every call, as `binding/namespace/operation payload`.
    pub calls: Vec<String>,
}

impl FixtureCluster {
    /// A cluster holding `objects` (`None`: reads are refused).
    pub fn new(objects: Option<Vec<Value>>) -> Self {
        Self { objects, calls: Vec::new() }
    }
}

impl HostCalls for FixtureCluster {
    fn call(&mut self, binding: &str, namespace: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
        let payload: Value = serde_json::from_slice(payload).map_err(|e| format!("payload is not JSON: {e}"))?;
        self.calls.push(format!("{binding}/{namespace}/{operation} {payload}"));
        answer(self.objects.as_deref(), binding, namespace, operation, &payload)
    }
}

/// The answer to one host call. List items carry no `apiVersion`/`kind`, as the API server sends them.
pub fn answer(objects: Option<&[Value]>, binding: &str, namespace: &str, operation: &str, payload: &Value) -> Result<Vec<u8>, String> {
    let field = |name: &str| payload.get(name).and_then(Value::as_str).unwrap_or("");
    let (api_version, kind) = (field("api_version"), field("kind"));
    let in_namespace = match (binding, namespace, operation) {
        ("kubewarden", "kubernetes", "list_resources_all") => None,
        ("kubewarden", "kubernetes", "list_resources_by_namespace") => Some(field("namespace")),
        _ => return Err(format!("host capability {binding}/{namespace}/{operation} is not implemented")),
    };
    let Some(objects) = objects else {
        return Err(format!("Policy has not been granted access to Kubernetes {api_version}/{kind} resources"));
    };
    let items: Vec<Value> = objects
        .iter()
        .filter(|o| o["apiVersion"] == api_version && o["kind"] == kind)
        .filter(|o| in_namespace.is_none_or(|ns| o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)))
        .map(|o| {
            let mut item = o.clone();
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            item
        })
        .collect();
    Ok(json!({"apiVersion": api_version, "kind": format!("{kind}List"), "items": items}).to_string().into_bytes())
}

/// The same cluster in Gatekeeper's `data.inventory` layout (what the OPA artifact reads), its
/// items as the API server lists them: without `apiVersion` and `kind`, which the policy must
/// take from the keys.
pub fn inventory(objects: &[Value]) -> Value {
    // groupVersion → kind → name → object
    type Kinds = BTreeMap<String, BTreeMap<String, BTreeMap<String, Value>>>;
    let mut cluster = Kinds::new();
    let mut namespaced: BTreeMap<String, Kinds> = BTreeMap::new();
    for o in objects {
        let text = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
        let slot = match o.pointer("/metadata/namespace").and_then(Value::as_str) {
            Some(ns) => namespaced.entry(ns.to_string()).or_default(),
            None => &mut cluster,
        };
        let mut listed = o.clone();
        if let Some(map) = listed.as_object_mut() {
            map.remove("apiVersion");
            map.remove("kind");
        }
        slot.entry(text("/apiVersion")).or_default().entry(text("/kind")).or_default().insert(text("/metadata/name"), listed);
    }
    json!({"cluster": cluster, "namespace": namespaced})
}
