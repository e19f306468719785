//! Admission: one object under review (an `AdmissionRequest`), optional context objects, the
//! policy settings → a verdict. Shared by the Kubewarden and OPA artifacts and `netreach admit`,
//! so every admission host answers the same.
//!
//! Error-severity findings on the reviewed object deny (code 400); warning-severity findings
//! become admission warnings (≤ 120 characters each, as the API server advises); info findings
//! are returned in the report only. Findings on context objects are not the reviewed object's
//! fault and are left out.
//!
//! Context objects (the rest of the cluster) come per host: Kubewarden host capabilities when the
//! settings ask for them ([`ContextScope`], read by [`read_cluster`]), Gatekeeper's synced
//! `data.inventory`, or `netreach admit --context`. An object of the context with the reviewed
//! object's identity is its stored version, replaced by the one under review.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::Coverage;
use crate::{check, Options, Profile, Report, ReportDiagnostic, Severity, Source};

/// Longest admission warning; longer ones are cut with `…`.
pub const MAX_WARNING_CHARS: usize = 120;

/// The file name the reviewed object gets in reports.
pub const OBJECT_FILE: &str = "request.object";

/// Policy settings (Kubewarden `settings`, Gatekeeper `parameters`, `netreach admit --settings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Rule ids or names whose findings are ignored.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub disabled_rules: BTreeSet<String>,
    /// Severity per rule id or name (`error` denies, `warning` warns, `info` only reports).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub severity_overrides: BTreeMap<String, Severity>,
    /// Which cluster objects the Kubewarden artifact reads through host capabilities; absent
    /// means none (kept apart from an explicit `none`, which also overrules `admit --context`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextScope>,
    /// The cluster profile (the defaults when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Whether reading context includes the cluster-wide policies ([`CLUSTER_POLICY_RESOURCES`]);
    /// absent means yes. `false` where their CRDs are not installed silences the warning that
    /// they could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_policies: Option<bool>,
}

/// How much of the cluster a context-aware Kubewarden policy reads ([`CONTEXT_RESOURCES`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextScope {
    /// Nothing: the reviewed object is judged alone (no host capability is called).
    #[default]
    None,
    /// Namespaces, and the other kinds in the reviewed object's namespace
    /// (`list_resources_by_namespace`): cheap, but blind to peers in other namespaces.
    Namespace,
    /// Every object of each kind (`list_resources_all`).
    Cluster,
}

/// The kinds read as context; each is listed in the Kubewarden metadata's `contextAwareResources`.
pub const CONTEXT_RESOURCES: [(&str, &str); 4] =
    [("v1", "Namespace"), ("networking.k8s.io/v1", "NetworkPolicy"), ("v1", "Pod"), ("v1", "Service")];

/// The cluster-wide policy kinds read as context (cluster-scoped, always listed whole); their
/// CRDs are optional, so a failed read is a warning that leaves the other context in force.
pub const CLUSTER_POLICY_RESOURCES: [(&str, &str); 3] = [
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"),
];

/// The waPC host side of `__host_call`: Kubewarden's capabilities (or a test double).
pub trait HostCalls {
    /// Call `binding/namespace/operation` with `payload`; the host's answer or its error.
    fn call(&mut self, binding: &str, namespace: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String>;
}

/// Read the context objects of `scope` through Kubewarden's `kubernetes` capabilities: one
/// source per kind, the host's List answer with its kind restored (the API server leaves
/// apiVersion and kind out of a List's items). The items are not parsed here: the check reads
/// them once, as JSON. A kind that cannot be read is left out and named in the returned notes
/// (they become admission warnings), so the policy says what it could not see instead of
/// failing closed.
pub fn read_cluster(scope: ContextScope, namespace: Option<&str>, host: &mut dyn HostCalls) -> (Vec<Source>, Vec<String>) {
    let mut lists = Vec::new();
    let mut unread: Vec<(&str, String)> = Vec::new();
    if scope == ContextScope::None {
        return (lists, Vec::new());
    }
    for (api_version, kind) in CONTEXT_RESOURCES {
        let (operation, payload) = match namespace {
            Some(ns) if scope == ContextScope::Namespace && kind != "Namespace" => (
                "list_resources_by_namespace",
                serde_json::json!({"api_version": api_version, "kind": kind, "namespace": ns}),
            ),
            _ => ("list_resources_all", serde_json::json!({"api_version": api_version, "kind": kind})),
        };
        match list(host, operation, &payload, api_version, kind) {
            Ok(text) => lists.push(Source::new(format!("cluster/{kind}List"), text)),
            Err(e) => unread.push((kind, e)),
        }
    }
    let notes = match unread.first() {
        None => Vec::new(),
        Some((_, first)) => {
            let kinds: Vec<&str> = unread.iter().map(|(k, _)| *k).collect();
            vec![truncate(&format!("netreach: cluster {} not read, checks ran without them: {first}", kinds.join(", ")), MAX_WARNING_CHARS)]
        }
    };
    (lists, notes)
}

/// One `kubernetes` capability list call: the answer as a typed List document.
fn list(host: &mut dyn HostCalls, operation: &str, payload: &Value, api_version: &str, kind: &str) -> Result<String, String> {
    let bytes = host.call("kubewarden", "kubernetes", operation, payload.to_string().as_bytes())?;
    let list: ListAnswer<'_> = serde_json::from_slice(&bytes).map_err(|e| format!("answer is not a List: {e}"))?;
    let items = list.items.get();
    if !items.starts_with('[') {
        return Err("answer is not a List: `items` is not an array".to_string());
    }
    // Both are constants without quotes, so plain interpolation is valid JSON.
    Ok(format!(r#"{{"apiVersion":"{api_version}","kind":"{kind}List","items":{items}}}"#))
}

/// Read the cluster-wide policies ([`CLUSTER_POLICY_RESOURCES`]) through `host`: the lists
/// read, and a warning naming the kinds that could not be (their CRDs may be absent).
pub fn read_cluster_policies(host: &mut dyn HostCalls) -> (Vec<Source>, Option<String>) {
    let mut lists = Vec::new();
    let mut unread: Vec<(&str, String)> = Vec::new();
    for (api_version, kind) in CLUSTER_POLICY_RESOURCES {
        let payload = serde_json::json!({"api_version": api_version, "kind": kind});
        match list(host, "list_resources_all", &payload, api_version, kind) {
            Ok(text) => lists.push(Source::new(format!("cluster/{kind}List"), text)),
            Err(e) => unread.push((kind, e)),
        }
    }
    let note = unread.first().map(|(_, first)| {
        let kinds: Vec<&str> = unread.iter().map(|(k, _)| *k).collect();
        truncate(
            &format!(
                "netreach: cluster {} not read, verdicts ignore those tiers (settings `clusterPolicies: false` where the CRDs are not installed): {first}",
                kinds.join(", ")
            ),
            MAX_WARNING_CHARS,
        )
    });
    (lists, note)
}

/// The part of a `kubernetes` capability answer netreach reads.
#[derive(Deserialize)]
struct ListAnswer<'a> {
    #[serde(borrow)]
    items: &'a serde_json::value::RawValue,
}

/// The namespace whose objects a [`ContextScope::Namespace`] read lists: the request's, else the
/// object's own, else (for a Namespace) its name.
pub fn review_namespace(request: &Value) -> Option<String> {
    let object = reviewed_object(request)?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    text(request.get("namespace")).or_else(|| text(object.pointer("/metadata/namespace"))).or_else(|| {
        (object.get("kind").and_then(Value::as_str) == Some("Namespace")).then(|| text(object.pointer("/metadata/name"))).flatten()
    })
}

impl Settings {
    /// Which cluster objects to read (none unless the settings say otherwise).
    pub fn scope(&self) -> ContextScope {
        self.context.unwrap_or_default()
    }

    /// Read settings from JSON (`null` and `{}` mean the defaults) and check every rule exists.
    pub fn from_value(v: &Value) -> Result<Settings, String> {
        let settings: Settings = if v.is_null() {
            Settings::default()
        } else {
            serde_json::from_value(v.clone()).map_err(|e| format!("invalid settings: {e}"))?
        };
        settings.options().map(|_| settings)
    }

    /// The check options these settings select.
    pub fn options(&self) -> Result<Options, String> {
        let mut o = Options { skip: self.disabled_rules.clone(), severity: self.severity_overrides.clone(), ..Options::default() };
        if let Some(p) = &self.profile {
            p.validate().map_err(|(_, e)| format!("invalid settings: profile: {e}"))?;
            o.profile = p.clone();
        }
        o.resolve_rule_names().map_err(|e| format!("invalid settings: {e}"))?;
        Ok(o)
    }
}

/// The answer of `validate_settings` (Kubewarden's shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsValidation {
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Whether the settings can be used.
    pub valid: bool,
}

/// Validate settings JSON.
pub fn validate_settings(settings: &Value) -> SettingsValidation {
    match Settings::from_value(settings) {
        Ok(_) => SettingsValidation { message: None, valid: true },
        Err(e) => SettingsValidation { message: Some(e), valid: false },
    }
}

/// The verdict on one object (Kubewarden's `ValidationResponse` field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Whether the object is admitted.
    pub accepted: bool,
    /// HTTP code of a rejection: 400.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Why it is rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Admission warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A verdict and the findings on the reviewed object behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// What the admission host returns.
    pub verdict: Verdict,
    /// Every finding on the reviewed object, as in a report.
    pub findings: Vec<ReportDiagnostic>,
}

/// The reviewed object of an `AdmissionRequest`, or `None` when there is none (DELETE,
/// CONNECT). A document that is not an `AdmissionRequest` but has `kind` is taken as the object
/// itself (Kubewarden raw policies).
pub fn reviewed_object(request: &Value) -> Option<&Value> {
    match request.get("object") {
        Some(Value::Null) => None,
        Some(o) => Some(o),
        None if request.get("uid").is_none() && request.get("kind").is_some_and(Value::is_string) => Some(request),
        None => None,
    }
}

/// Review the object of `request` (an `AdmissionRequest`) with `context` objects beside it,
/// which show `coverage` of the cluster.
pub fn review(request: &Value, settings: &Settings, context: Vec<Source>, coverage: Coverage) -> Result<Review, String> {
    if !request.is_object() {
        return Err(format!("the admission `request` is {}, not a mapping", crate::model::type_name(request)));
    }
    let Some(object) = reviewed_object(request) else {
        return Ok(Review { verdict: Verdict { accepted: true, message: None, code: None, warnings: Vec::new() }, findings: Vec::new() });
    };
    if !object.is_object() {
        // Never allowed unread: the API server sends objects only, so this is a forged request.
        let message = format!("the reviewed `object` is {}, not a Kubernetes object", crate::model::type_name(object));
        return Ok(Review { verdict: Verdict { accepted: false, code: Some(400), message: Some(message), warnings: Vec::new() }, findings: Vec::new() });
    }
    let mut options = settings.options()?;
    options.load.review = true;
    options.load.coverage = coverage;
    if let Some(ns) = request.get("namespace").and_then(Value::as_str).filter(|ns| !ns.is_empty()) {
        ns.clone_into(&mut options.load.default_namespace);
    }
    let text = serde_json::to_string_pretty(object).map_err(|e| e.to_string())?;
    let mut sources = vec![Source::new(OBJECT_FILE, text)];
    sources.extend(context.into_iter().filter(|s| s.name != OBJECT_FILE));
    let report = check(&sources, &options);
    Ok(review_from_report(report))
}

/// Turn the report of a check (reviewed object in [`OBJECT_FILE`]) into a verdict.
pub fn review_from_report(report: Report) -> Review {
    let findings: Vec<ReportDiagnostic> = report.diagnostics.into_iter().filter(|d| d.location.file == OBJECT_FILE).collect();
    let line = |d: &ReportDiagnostic| match d.location.path.as_str() {
        "" => format!("{} ({})", d.message, d.rule),
        path => format!("{} ({} at {path})", d.message, d.rule),
    };
    let errors: Vec<String> = findings.iter().filter(|d| d.severity == Severity::Error).map(line).collect();
    let warnings = findings
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| truncate(&format!("{}: {}", d.rule, d.message), MAX_WARNING_CHARS))
        .collect();
    let verdict = if errors.is_empty() {
        Verdict { accepted: true, message: None, code: None, warnings }
    } else {
        Verdict { accepted: false, message: Some(errors.join("; ")), code: Some(400), warnings }
    };
    Review { verdict, findings }
}

/// Cut `s` to at most `max` characters, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Context objects from Gatekeeper's `data.inventory` layout:
/// `cluster[groupVersion][kind][name]` and `namespace[ns][groupVersion][kind][name]`.
///
/// Objects as the API server lists them carry no `apiVersion` and `kind`: both are taken from
/// the keys they are filed under (and the namespace from its key), so no object is dropped.
pub fn inventory_sources(inventory: &Value) -> Vec<Source> {
    let mut objects = Vec::new();
    let mut collect = |by_gv: &Value, namespace: Option<&str>| {
        for (gv, by_kind) in by_gv.as_object().into_iter().flatten() {
            for (kind, by_name) in by_kind.as_object().into_iter().flatten() {
                for object in by_name.as_object().into_iter().flat_map(|m| m.values()) {
                    let mut object = object.clone();
                    if let Some(map) = object.as_object_mut() {
                        map.entry("apiVersion").or_insert_with(|| Value::String(gv.clone()));
                        map.entry("kind").or_insert_with(|| Value::String(kind.clone()));
                        if let (Some(ns), Some(meta)) = (namespace, map.get_mut("metadata").and_then(Value::as_object_mut)) {
                            meta.entry("namespace").or_insert_with(|| Value::String(ns.to_string()));
                        }
                    }
                    objects.push(object);
                }
            }
        }
    };
    if let Some(cluster) = inventory.get("cluster") {
        collect(cluster, None);
    }
    for (ns, by_gv) in inventory.get("namespace").and_then(Value::as_object).into_iter().flatten() {
        collect(by_gv, Some(ns));
    }
    context_sources(objects)
}

/// Context objects as sources (one JSON document each, named `context[i]`). Compact, not
/// pretty: findings on context objects never reach the admission answer, so their line numbers
/// do not matter, and every admission pays for this text.
pub fn context_sources(objects: Vec<Value>) -> Vec<Source> {
    objects
        .into_iter()
        .enumerate()
        .map(|(i, o)| Source::new(format!("context[{i}]"), serde_json::to_string(&o).unwrap_or_default()))
        .collect()
}

/// An `AdmissionResponse` for a verdict (`uid` echoed), as `netreach admit` and the OPA
/// artifact's `{request}` entry return it.
pub fn admission_response(uid: &str, verdict: &Verdict) -> Value {
    let mut r = serde_json::json!({"uid": uid, "allowed": verdict.accepted});
    if let (Some(map), Some(message)) = (r.as_object_mut(), &verdict.message) {
        map.insert("status".into(), serde_json::json!({"code": verdict.code.unwrap_or(400), "message": message}));
    }
    if let (Some(map), false) = (r.as_object_mut(), verdict.warnings.is_empty()) {
        map.insert("warnings".into(), serde_json::json!(verdict.warnings));
    }
    r
}

// ---- the shapes of the admission hosts (shared by the artifacts and tested natively) ----

/// Kubewarden artifact: one waPC operation: its answer bytes, or an error message. Context
/// objects are read through `host` when the settings ask for them.
pub fn kubewarden_operation(op: &[u8], msg: &[u8], host: &mut dyn HostCalls) -> Result<Vec<u8>, String> {
    match op {
        b"protocol_version" => Ok(b"\"v1\"".to_vec()),
        b"validate_settings" => {
            let settings: Value = parse(msg, "settings")?;
            to_json(&validate_settings(&settings))
        }
        b"validate" => {
            let payload: Value = parse(msg, "validation request")?;
            let request = payload.get("request").ok_or("validation request has no `request`")?;
            let settings = Settings::from_value(payload.get("settings").unwrap_or(&Value::Null))?;
            let (mut context, notes) = match reviewed_object(request) {
                Some(_) => read_cluster(settings.scope(), review_namespace(request).as_deref(), host),
                None => (Vec::new(), Vec::new()),
            };
            // The cluster tiers come with any context; failing to read them (no CRDs) warns but
            // leaves the rest of the context in force.
            let mut soft = None;
            if settings.scope() != ContextScope::None && settings.cluster_policies != Some(false) && reviewed_object(request).is_some() {
                let (lists, note) = read_cluster_policies(host);
                context.extend(lists);
                soft = note;
            }
            // Nothing read, or some kind missing: the object is judged alone.
            let coverage = if settings.scope() == ContextScope::None || !notes.is_empty() {
                Coverage::Object
            } else {
                handed_in_coverage(&settings, request)
            };
            let mut review = review(request, &settings, context, coverage)?;
            review.verdict.warnings.extend(notes);
            review.verdict.warnings.extend(soft);
            to_json(&review.verdict)
        }
        other => Err(format!("unknown operation {:?}", String::from_utf8_lossy(other))),
    }
}

fn parse(msg: &[u8], what: &str) -> Result<Value, String> {
    if msg.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(msg).map_err(|e| format!("{what} is not JSON: {e}"))
}

/// Through `Value`, whose maps are sorted: the answer has sorted keys whatever the struct order.
fn to_json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, String> {
    serde_json::to_value(v).and_then(|v| serde_json::to_vec(&v)).map_err(|e| e.to_string())
}

/// How much of the cluster the context objects of a review cover (Kubewarden's reads,
/// Gatekeeper's inventory, `netreach admit --context`): the reviewed namespace with settings
/// `context: namespace`, else all of it (a host that hands in context means it; which kinds
/// Gatekeeper syncs is its own configuration).
pub fn handed_in_coverage(settings: &Settings, request: &Value) -> Coverage {
    match settings.scope() {
        ContextScope::Namespace => review_namespace(request).map_or(Coverage::Complete, Coverage::Namespace),
        ContextScope::Cluster | ContextScope::None => Coverage::Complete,
    }
}

/// Gatekeeper's synced inventory as context; without one, the object is judged alone.
fn context(data: &Value, settings: &Settings, request: &Value) -> (Vec<crate::Source>, Coverage) {
    match data.get("inventory") {
        Some(inventory) => (inventory_sources(inventory), handed_in_coverage(settings, request)),
        None => (Vec::new(), Coverage::Object),
    }
}

/// OPA artifact, Gatekeeper input `{review, parameters}`: a violation per error-severity finding; bad parameters are one violation.
pub fn gatekeeper_violations(input: &Value, data: &Value) -> Value {
    let under_review = input.get("review").unwrap_or(&Value::Null);
    let reviewed = match (under_review.get("request"), under_review.get("kind").and_then(Value::as_str)) {
        // gator may hand in a whole AdmissionReview.
        (Some(r), Some("AdmissionReview")) => r,
        _ => under_review,
    };
    let settings = match Settings::from_value(input.get("parameters").unwrap_or(&Value::Null)) {
        Ok(s) => s,
        Err(e) => return serde_json::json!([{ "msg": e }]),
    };
    let (context, coverage) = context(data, &settings, reviewed);
    match review(reviewed, &settings, context, coverage) {
        Ok(r) => {
            let violations: Vec<Value> = r
                .findings
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| {
                    serde_json::json!({"msg": format!("{} ({})", d.message, d.rule), "details": {
                        "column": d.location.start.column, "line": d.location.start.line,
                        "path": d.location.path, "rule": d.rule, "severity": d.severity.as_str()}})
                })
                .collect();
            match (&r.verdict.message, r.verdict.accepted, violations.is_empty()) {
                // Denied before any rule ran (a forged object): still a violation.
                (Some(message), false, true) => serde_json::json!([{ "msg": message }]),
                _ => Value::Array(violations),
            }
        }
        Err(e) => serde_json::json!([{ "msg": e }]),
    }
}

/// OPA artifact, Kubewarden "opa" mode: `{request}` → `{response: AdmissionResponse}`; settings come as data.
pub fn opa_response(input: &Value, data: &Value) -> Value {
    let request = input.get("request").unwrap_or(&Value::Null);
    let uid = request.get("uid").and_then(Value::as_str).unwrap_or("");
    // Kubewarden passes the settings as data, with its context objects beside them.
    let mut settings_value = data.clone();
    if let Some(map) = settings_value.as_object_mut() {
        map.remove("kubernetes");
        map.remove("inventory");
    }
    let verdict = Settings::from_value(&settings_value)
        .and_then(|s| {
            let (context, coverage) = context(data, &s, request);
            review(request, &s, context, coverage)
        })
        .map(|r| r.verdict)
        .unwrap_or_else(|e| Verdict { accepted: false, code: Some(400), message: Some(e), warnings: Vec::new() });
    serde_json::json!({ "response": admission_response(uid, &verdict) })
}

/// OPA artifact: evaluate `entrypoint` (see `abi/opa.rs`) and wrap the result as a result set.
pub fn opa_evaluate(entrypoint: i32, input: &Value, data: &Value) -> Value {
    let result = match entrypoint {
        0 if input.get("review").is_some() => gatekeeper_violations(input, data),
        0 if input.get("request").is_some() => opa_response(input, data),
        0 | 3 => serde_json::from_str(&crate::check_json(input.to_string().as_bytes())).unwrap_or(Value::Null),
        1 => gatekeeper_violations(input, data),
        2 => opa_response(input, data),
        other => return serde_json::json!([{"result": {"error": format!("unknown entrypoint {other}")}}]),
    };
    serde_json::json!([{ "result": result }])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    fn bad_policy() -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "bad", "namespace": "shop"},
               "spec": {"podSelector": {}, "policyTypes": ["Egress", "Sideways"]}})
    }

    #[test]
    fn error_findings_deny_with_400() {
        let req = json!({"uid": "u1", "operation": "CREATE", "object": bad_policy()});
        let r = review(&req, &Settings::default(), vec![], Coverage::Object).unwrap();
        assert!(!r.verdict.accepted);
        assert_eq!(r.verdict.code, Some(400));
        let msg = r.verdict.message.unwrap();
        assert!(msg.contains("NetworkPolicy `shop/bad`") && msg.contains("NR101") && msg.contains("spec.policyTypes"), "{msg}");
    }

    #[test]
    fn overrides_turn_errors_into_warnings_or_nothing() {
        let req = json!({"uid": "u1", "object": bad_policy()});
        let warn = Settings { severity_overrides: [("invalid-network-policy".into(), Severity::Warning)].into(), ..Settings::default() };
        let r = review(&req, &warn, vec![], Coverage::Object).unwrap();
        assert!(r.verdict.accepted);
        assert!(!r.verdict.warnings.is_empty());
        assert!(r.verdict.warnings.iter().all(|w| w.chars().count() <= MAX_WARNING_CHARS && w.starts_with("NR101")));
        let off = Settings { disabled_rules: ["NR101".into()].into(), ..Settings::default() };
        let r = review(&req, &off, vec![], Coverage::Object).unwrap();
        assert_eq!(r.verdict, Verdict { accepted: true, message: None, code: None, warnings: vec![] });
    }

    #[test]
    fn delete_and_raw_documents() {
        let del = json!({"uid": "u1", "operation": "DELETE", "object": null, "oldObject": bad_policy()});
        assert!(review(&del, &Settings::default(), vec![], Coverage::Object).unwrap().verdict.accepted);
        assert!(!review(&bad_policy(), &Settings::default(), vec![], Coverage::Object).unwrap().verdict.accepted);
    }

    #[test]
    fn request_namespace_is_the_default() {
        let mut p = bad_policy();
        p["metadata"].as_object_mut().unwrap().remove("namespace");
        let r = review(&json!({"uid": "u", "namespace": "team-a", "object": p}), &Settings::default(), vec![], Coverage::Object).unwrap();
        assert!(r.verdict.message.unwrap().contains("team-a/bad"));
    }

    #[test]
    fn settings_are_validated() {
        assert!(validate_settings(&json!({})).valid);
        assert!(validate_settings(&Value::Null).valid);
        assert!(validate_settings(&json!({"disabledRules": ["NR101", "invalid-yaml"], "severityOverrides": {"NR004": "error"}})).valid);
        let bad = validate_settings(&json!({"disabledRules": ["NR999"]}));
        assert!(!bad.valid && bad.message.unwrap().contains("NR999"));
        assert!(validate_settings(&json!({"context": "namespace"})).valid);
        assert!(!validate_settings(&json!({"context": "everything"})).valid);
        let typo = validate_settings(&json!({"disabledRule": []}));
        assert!(!typo.valid && typo.message.unwrap().contains("disabledRule"));
        assert!(!validate_settings(&json!({"severityOverrides": {"NR101": "fatal"}})).valid);
    }

    #[test]
    fn warnings_are_cut_to_120_chars() {
        let long = "x".repeat(300);
        let t = truncate(&long, MAX_WARNING_CHARS);
        assert_eq!(t.chars().count(), 120);
        assert!(t.ends_with('…'));
        assert_eq!(truncate("short", 120), "short");
    }

    #[test]
    fn inventory_layout_is_read() {
        let inv = json!({"cluster": {"v1": {"Namespace": {"shop": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}}}},
                         "namespace": {"shop": {"networking.k8s.io/v1": {"NetworkPolicy": {"a": bad_policy()}}}}});
        let s = inventory_sources(&inv);
        assert_eq!(s.len(), 2);
        assert!(s.iter().any(|s| s.text.contains("\"Namespace\"")));
    }

    #[test]
    fn context_findings_do_not_deny() {
        let good = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        let ctx = context_sources(vec![bad_policy()]);
        let r = review(&json!({"uid": "u", "object": good}), &Settings::default(), ctx, Coverage::Complete).unwrap();
        assert!(r.verdict.accepted, "{:?}", r.verdict);
    }

    #[test]
    fn a_review_reports_the_reviewed_object_only() {
        let text = bad_policy().to_string();
        let mut options = Options::default();
        options.load.review = true;
        let reviewed = crate::check(&[Source::new(OBJECT_FILE, text.clone())], &options);
        assert!(!reviewed.diagnostics.is_empty());
        let context = crate::check(&[Source::new(OBJECT_FILE, "{}"), Source::new("context", text.clone())], &options);
        assert!(context.diagnostics.is_empty(), "{:?}", context.diagnostics);
        options.load.review = false;
        let plain = crate::check(&[Source::new("a", "{}"), Source::new("b", text)], &options);
        assert_eq!(plain.diagnostics.len(), reviewed.diagnostics.len());
    }

    /// A host that answers from `objects` (by kind, then namespace) or refuses everything.
    struct Fake(Option<Vec<Value>>, Vec<String>);

    impl HostCalls for Fake {
        fn call(&mut self, _: &str, _: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
            let p: Value = serde_json::from_slice(payload).unwrap();
            self.1.push(format!("{operation} {}", p["namespace"].as_str().unwrap_or("*")));
            let objects = self.0.as_ref().ok_or("not granted")?;
            let items: Vec<&Value> = objects
                .iter()
                .filter(|o| o["kind"] == p["kind"] && (p["namespace"].is_null() || o["metadata"]["namespace"] == p["namespace"]))
                .collect();
            Ok(json!({"items": items}).to_string().into_bytes())
        }
    }

    #[test]
    fn context_is_read_per_scope() {
        let stored = bad_policy();
        let mut host = Fake(Some(vec![stored.clone(), json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})]), vec![]);
        let (lists, notes) = read_cluster(ContextScope::Namespace, Some("shop"), &mut host);
        let ws = crate::Workspace::load(&lists, &crate::LoadOptions::default());
        assert!(ws.problems.is_empty(), "{:?}", ws.problems);
        assert_eq!((ws.policies.len(), ws.namespaces.get("shop").and_then(|n| n.obj.as_ref()).is_some()), (1, true));
        assert!(notes.is_empty());
        assert_eq!(host.1, ["list_resources_all *", "list_resources_by_namespace shop", "list_resources_by_namespace shop", "list_resources_by_namespace shop"]);

        let mut host = Fake(Some(vec![]), vec![]);
        read_cluster(ContextScope::Cluster, Some("shop"), &mut host);
        assert!(host.1.iter().all(|c| c == "list_resources_all *"), "{:?}", host.1);

        let mut host = Fake(Some(vec![]), vec![]);
        assert_eq!(read_cluster(ContextScope::None, Some("shop"), &mut host), (vec![], vec![]));
        assert!(host.1.is_empty(), "scope none calls no host capability");
    }

    #[test]
    fn refused_reads_become_one_warning() {
        let (lists, notes) = read_cluster(ContextScope::Cluster, None, &mut Fake(None, vec![]));
        assert!(lists.is_empty());
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("netreach: cluster Namespace, NetworkPolicy, Pod, Service not read, checks ran without them: not granted"), "{}", notes[0]);
    }

    #[test]
    fn cluster_policies_are_read_whole_and_their_absence_only_warns() {
        let cnp = json!({"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy", "metadata": {"name": "deny"},
                         "spec": {"tier": "Admin", "priority": 1, "subject": {"namespaces": {}}, "egress": [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}]}});
        let mut host = Fake(Some(vec![cnp]), vec![]);
        let (lists, note) = read_cluster_policies(&mut host);
        assert_eq!(note, None);
        assert_eq!(host.1, ["list_resources_all *", "list_resources_all *", "list_resources_all *"]);
        let ws = crate::Workspace::load(&lists, &crate::LoadOptions::default());
        assert!(ws.problems.is_empty(), "{:?}", ws.problems);
        assert_eq!(ws.cluster_policies.len(), 1);

        let (lists, note) = read_cluster_policies(&mut Fake(None, vec![]));
        assert!(lists.is_empty());
        let note = note.unwrap_or_default();
        assert!(note.starts_with("netreach: cluster ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy not read"), "{note}");
    }

    #[test]
    fn list_items_get_their_kind_back() {
        let mut item = bad_policy();
        item.as_object_mut().unwrap().remove("kind");
        item.as_object_mut().unwrap().remove("apiVersion");
        struct One(Value);
        impl HostCalls for One {
            fn call(&mut self, _: &str, _: &str, _: &str, p: &[u8]) -> Result<Vec<u8>, String> {
                let p: Value = serde_json::from_slice(p).unwrap();
                Ok(match p["kind"].as_str() {
                    Some("NetworkPolicy") => json!({"apiVersion": "v1", "kind": "List", "items": [self.0]}),
                    Some("Pod") => json!({"items": null}),
                    _ => json!({"items": []}),
                }
                .to_string()
                .into_bytes())
            }
        }
        let (lists, notes) = read_cluster(ContextScope::Cluster, None, &mut One(item));
        let ws = crate::Workspace::load(&lists, &crate::LoadOptions::default());
        assert!(ws.problems.is_empty(), "{:?}", ws.problems);
        assert_eq!(ws.policies.len(), 1);
        assert_eq!(ws.policies[0].id.kind, "NetworkPolicy");
        assert_eq!(notes, ["netreach: cluster Pod not read, checks ran without them: answer is not a List: `items` is not an array"]);
    }

    #[test]
    fn the_stored_version_is_replaced_not_duplicated() {
        let mut new = bad_policy();
        new["spec"]["policyTypes"] = json!(["Egress"]);
        let req = json!({"uid": "u", "operation": "UPDATE", "namespace": "shop", "object": new, "oldObject": bad_policy()});
        let r = review(&req, &Settings::default(), context_sources(vec![bad_policy()]), Coverage::Complete).unwrap();
        assert!(r.verdict.accepted, "{:?}", r.verdict);
        // Not a duplicate of its stored version; the only finding is that it selects no workload.
        let rules: Vec<&str> = r.findings.iter().map(|d| d.rule.as_str()).collect();
        assert_eq!(rules, ["NR104"], "{:?}", r.findings);
    }

    #[test]
    fn set_rules_say_unverifiable_without_context() {
        // Alone, the policy cannot be said to select nothing: the workloads were not read.
        let req = json!({"uid": "u", "namespace": "shop", "object": bad_policy()});
        let mut p = bad_policy();
        p["spec"] = json!({"podSelector": {"matchLabels": {"app": "web"}}});
        let req_ok = json!({"uid": "u", "namespace": "shop", "object": p});
        let alone = review(&req_ok, &Settings::default(), vec![], Coverage::Object).unwrap();
        let nr104: Vec<&ReportDiagnostic> = alone.findings.iter().filter(|d| d.rule == "NR104").collect();
        assert_eq!(nr104.len(), 1, "{:?}", alone.findings);
        assert_eq!(nr104[0].severity, Severity::Info);
        assert!(nr104[0].message.starts_with("unverifiable: whether NetworkPolicy `shop/bad` selects any workload"), "{}", nr104[0].message);
        assert!(alone.verdict.warnings.is_empty(), "{:?}", alone.verdict);
        // Namespace context covering shop: a real finding (a warning).
        let seen = review(&req_ok, &Settings::default(), vec![], Coverage::Namespace("shop".into())).unwrap();
        assert!(seen.verdict.warnings.iter().any(|w| w.starts_with("NR104: NetworkPolicy `shop/bad` selects no workload")), "{:?}", seen.verdict);
        // Context of another namespace does not cover shop.
        let other = review(&req, &Settings::default(), vec![], Coverage::Namespace("billing".into())).unwrap();
        assert!(other.findings.iter().any(|d| d.rule == "NR104" && d.severity == Severity::Info));
    }

    #[test]
    fn reachability_needs_context_or_says_unverifiable() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "shop/web"}]}}}});
        let req = json!({"uid": "u", "namespace": "shop", "object": deployment});
        // Alone: whether DNS is blocked is not known, and the answer says so instead of guessing.
        let alone = review(&req, &Settings::default(), vec![], Coverage::Object).unwrap();
        let nr201: Vec<&ReportDiagnostic> = alone.findings.iter().filter(|d| d.rule == "NR201").collect();
        assert_eq!(nr201.len(), 1, "{:?}", alone.findings);
        assert_eq!(nr201[0].severity, Severity::Info);
        assert!(nr201[0].message.starts_with("unverifiable: whether `shop/web[Deployment]` can reach DNS"), "{}", nr201[0].message);
        assert!(alone.verdict.accepted);
        // With the namespace's default-deny in context, the real finding denies the Deployment.
        let deny = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "shop"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"]}});
        let with = review(&req, &Settings::default(), context_sources(vec![deny]), Coverage::Namespace("shop".into())).unwrap();
        assert!(!with.verdict.accepted, "{:?}", with.verdict);
        assert!(with.verdict.message.as_deref().is_some_and(|m| m.contains("NR201")), "{:?}", with.verdict);
    }

    #[test]
    fn edge_rules_judge_the_single_object_and_set_rules_say_unverifiable() {
        // An Ingress is judged alone: an invalid allowlist denies it without any context.
        let ingress = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "demo", "namespace": "demo", "annotations": {"nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0/8"}},
            "spec": {"tls": [{"hosts": ["demo.example.com"], "secretName": "demo-tls"}],
                     "rules": [{"host": "demo.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": "demo", "port": {"number": 80}}}}]}}]}});
        let r = review(&json!({"uid": "u", "namespace": "demo", "object": ingress}), &Settings::default(), vec![], Coverage::Object).unwrap();
        assert!(!r.verdict.accepted, "{:?}", r.verdict);
        assert!(r.verdict.message.as_deref().is_some_and(|m| m.contains("NR316")), "{:?}", r.verdict);
        // Under REGISTRY_ONLY, whether a ServiceEntry registers a need is unknown without the
        // mesh's ServiceEntries: info, and the Deployment is admitted.
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "ci", "namespace": "ci", "annotations": {"netreach.dev/egress": "github.com:443"}},
            "spec": {"selector": {"matchLabels": {"app": "ci"}}, "template": {"metadata": {"labels": {"app": "ci", "sidecar.istio.io/inject": "true"}},
            "spec": {"containers": [{"name": "ci", "image": "ci/runner"}]}}}});
        let mut settings = Settings::default();
        let mut profile = crate::Profile::default();
        profile.istio.outbound_traffic_policy = Some(crate::profile::OutboundTrafficPolicy::RegistryOnly);
        settings.profile = Some(profile);
        let r = review(&json!({"uid": "u", "namespace": "ci", "object": deployment}), &settings, vec![], Coverage::Object).unwrap();
        let nr401: Vec<&ReportDiagnostic> = r.findings.iter().filter(|d| d.rule == "NR401").collect();
        assert_eq!(nr401.len(), 1, "{:?}", r.findings);
        assert_eq!(nr401[0].severity, Severity::Info);
        assert!(nr401[0].message.starts_with("unverifiable: whether a ServiceEntry registers github.com:443"), "{}", nr401[0].message);
        assert!(r.verdict.accepted, "{:?}", r.verdict);
    }

    #[test]
    fn a_reviewed_service_entry_conflicting_with_a_stored_one_is_reported() {
        let se = |name: &str, proto: &str| {
            json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": name, "namespace": "shop"},
                "spec": {"hosts": ["api.example.com"], "ports": [{"number": 443, "name": "p", "protocol": proto}]}})
        };
        // The reviewed object comes first in the input; the conflict is still its finding.
        let req = json!({"uid": "u", "namespace": "shop", "object": se("new", "HTTPS")});
        let r = review(&req, &Settings::default(), context_sources(vec![se("stored", "TLS")]), Coverage::Complete).unwrap();
        let nr405: Vec<&ReportDiagnostic> = r.findings.iter().filter(|d| d.rule == "NR405").collect();
        assert_eq!(nr405.len(), 1, "{:?}", r.findings);
        assert!(nr405[0].message.starts_with("ServiceEntry shop/new defines host \"api.example.com\" port 443 as HTTPS"), "{}", nr405[0].message);
    }

    #[test]
    fn review_namespace_falls_back_to_the_object() {
        assert_eq!(review_namespace(&json!({"uid": "u", "namespace": "a", "object": bad_policy()})).as_deref(), Some("a"));
        assert_eq!(review_namespace(&json!({"uid": "u", "object": bad_policy()})).as_deref(), Some("shop"));
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
        assert_eq!(review_namespace(&json!({"uid": "u", "object": ns})).as_deref(), Some("team"));
    }

    #[test]
    fn response_echoes_uid() {
        let v = Verdict { accepted: false, message: Some("m".into()), code: Some(400), warnings: vec!["w".into()] };
        assert_eq!(admission_response("u9", &v), json!({"uid": "u9", "allowed": false, "status": {"code": 400, "message": "m"}, "warnings": ["w"]}));
    }
}
