//! `netreach admit`: review one object as an admission webhook would, with the same code the
//! Kubewarden and OPA artifacts run (`netreach_policy::admission`).

use serde_json::{json, Value};

use netreach_policy::admission::{self, ContextScope, Settings};
use netreach_policy::model::Coverage;
use netreach_policy::Limits;

use crate::inputs::read_sources;

type Out = (i32, String, String);

fn fail(msg: String) -> Out {
    (2, String::new(), format!("error: {msg}\n"))
}

/// Run `admit`. `paths` holds the AdmissionReview file unless `object` is given.
pub fn run(paths: &[String], object: Option<&str>, context: &[String], operation: Option<&str>, settings: Option<&str>) -> Out {
    match admit(paths, object, context, operation, settings) {
        Ok((allowed, review)) => {
            let text = serde_json::to_string_pretty(&review).unwrap_or_default();
            (i32::from(!allowed), format!("{text}\n"), String::new())
        }
        Err(e) => fail(e),
    }
}

fn admit(paths: &[String], object: Option<&str>, context: &[String], operation: Option<&str>, settings: Option<&str>) -> Result<(bool, Value), String> {
    let settings_value = match settings {
        Some(path) => read_documents(path)?.into_iter().next().unwrap_or(Value::Null),
        None => Value::Null,
    };
    let settings = Settings::from_value(&settings_value)?;
    // Settings that say `context: none` read no context, even when --context hands some in.
    let no_context = settings.context == Some(ContextScope::None);
    let operation = operation.unwrap_or("CREATE");
    if !matches!(operation, "CREATE" | "UPDATE" | "DELETE" | "CONNECT") {
        return Err(format!("--operation {operation:?}: the API server sends CREATE, UPDATE, DELETE or CONNECT"));
    }
    let request = match (object, paths) {
        (Some(path), []) => {
            let mut objects = read_documents(path)?;
            if objects.len() != 1 {
                return Err(format!(
                    "{path} holds {} objects; admit reviews exactly one (use `netreach check` for a set)",
                    objects.len()
                ));
            }
            let object = objects.remove(0);
            if !object.is_object() {
                return Err(format!("{path} holds no Kubernetes object (a mapping with `apiVersion` and `kind`)"));
            }
            synthesize(object, operation)
        }
        (None, [path]) => {
            let review = read_documents(path)?.into_iter().next().unwrap_or(Value::Null);
            // What the request holds is `admission::review`'s to judge, as in every host.
            match review.get("request") {
                Some(r) if review.get("kind").and_then(Value::as_str) == Some("AdmissionReview") => r.clone(),
                _ => return Err(format!("{path} is not an AdmissionReview with a `request` (for a plain manifest use --object)")),
            }
        }
        (Some(_), _) => return Err("give either REQUEST.json or --object MANIFEST, not both".into()),
        (None, _) => return Err("admit takes one REQUEST.json (an AdmissionReview), or --object MANIFEST".into()),
    };
    // Without --context, or with settings that read no context, the object is judged alone.
    let (context, coverage) = if context.is_empty() || no_context {
        (Vec::new(), Coverage::Object)
    } else {
        (read_sources(context)?, admission::handed_in_coverage(&settings, &request))
    };
    let review = admission::review(&request, &settings, context, coverage)?;
    let uid = request.get("uid").and_then(Value::as_str).unwrap_or("");
    let response = admission::admission_response(uid, &review.verdict);
    Ok((review.verdict.accepted, json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})))
}

/// Every document of a JSON or YAML file, as plain data.
fn read_documents(path: &str) -> Result<Vec<Value>, String> {
    let sources = read_sources(&[path.to_string()])?;
    let mut out = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        let (docs, errors) = s.parse(i, &Limits::default());
        if let Some(e) = errors.first() {
            return Err(format!("{}: {}", s.name, e.message));
        }
        out.extend(docs.into_iter().map(|d| d.value).filter(|v| !v.is_null()));
    }
    Ok(out)
}

/// The `AdmissionRequest` the API server would send for `object`.
fn synthesize(object: Value, operation: &str) -> Value {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let meta = object.get("metadata");
    let field = |f: &str| meta.and_then(|m| m.get(f)).and_then(Value::as_str).unwrap_or("").to_string();
    let resource = plural(kind);
    json!({
        "uid": "netreach-admit",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "requestResource": {"group": group, "version": version, "resource": resource},
        "name": field("name"),
        "namespace": field("namespace"),
        "operation": operation,
        "userInfo": {"username": "netreach-admit"},
        "object": object,
        "oldObject": null,
        "dryRun": true,
    })
}

/// The resource name of a kind, as the API server spells the kinds netreach reads.
fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else if lower.ends_with('s') {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn resources_are_spelled_as_the_api_server_does() {
        let got: Vec<String> = ["NetworkPolicy", "Ingress", "Deployment", "Namespace", "DaemonSet", "CronJob"].iter().map(|k| plural(k)).collect();
        assert_eq!(got, ["networkpolicies", "ingresses", "deployments", "namespaces", "daemonsets", "cronjobs"]);
    }
}
