use serde_json::Value;

use super::strings;
use crate::model::host::dns1123_subdomain_error;
use crate::report::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule, RuleCheck};
use crate::source::join_index;

declare_rule! {
    /// Sidecar or its outbound traffic policy invalid
    ///
    /// ## What it does
    /// Mirrors Istio's `ValidateSidecar`: a spec with nothing in it; an egress listener without
    /// hosts; a host not of the form `namespace/dnsName` (`*`, `.` and `~` allowed as the
    /// namespace); more than one catch-all listener (no port), or one that is not last;
    /// `outboundTrafficPolicy.egressProxy` without mode `ALLOW_ANY`; mode
    /// `ALLOW_ANY_DYNAMIC_DNS`, valid only in MeshConfig. Warnings: a duplicated egress host,
    /// `*/*` beside other hosts, and `egressProxy` at all (deprecated and ignored, IST0002).
    ///
    /// ## Why is this bad?
    /// Istio rejects the Sidecar, or accepts it and ignores the part that was meant to
    /// restrict or route the workload's egress.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.istio.io/v1
    /// kind: Sidecar
    /// metadata: {name: default, namespace: shop}
    /// spec:
    ///   egress: [{hosts: ["github.com"]}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: Sidecar
    /// metadata: {name: default, namespace: shop}
    /// spec:
    ///   egress: [{hosts: ["./*", "istio-system/*", "*/github.com"]}]
    /// ```
    pub SidecarInvalid {
        id: "NR409", name: "sidecar-invalid", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

/// (path, message, warning) for every problem of a Sidecar spec.
fn problems(spec: &Value) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let has = |k: &str| spec.get(k).is_some_and(|v| !v.is_null() && v != &Value::Array(Vec::new()));
    if !["egress", "ingress", "outboundTrafficPolicy", "workloadSelector", "inboundConnectionPool"].iter().any(|k| has(k)) {
        out.push(("spec".to_string(), "the Sidecar configures nothing".to_string(), false));
    }
    let listeners = spec.get("egress").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut catch_all = 0;
    for (i, l) in listeners.iter().enumerate() {
        let path = join_index("spec.egress", i);
        if l.get("port").is_none_or(Value::is_null) {
            catch_all += 1;
            if catch_all > 1 {
                out.push((path.clone(), "only one egress listener may omit `port` (the catch-all)".into(), false));
            } else if i + 1 != listeners.len() {
                out.push((path.clone(), "the catch-all egress listener (no `port`) must be the last".into(), false));
            }
        }
        let hosts = strings(l, "hosts");
        if hosts.is_empty() {
            out.push((path.clone(), "an egress listener needs at least one host".into(), false));
        }
        let mut seen = Vec::new();
        for (j, h) in hosts.iter().enumerate() {
            let hp = join_index(&format!("{path}.hosts"), j);
            match h.split_once('/') {
                None => out.push((hp, format!("egress host {h:?} must be `namespace/dnsName` (e.g. `*/{h}` or `./{h}`)"), false)),
                Some((ns, name)) => {
                    let ns_ok = matches!(ns, "*" | "." | "~") || dns1123_subdomain_error(ns).is_none();
                    let name_ok = name == "*" || dns1123_subdomain_error(name.strip_prefix("*.").unwrap_or(name)).is_none();
                    if !ns_ok || !name_ok {
                        out.push((hp, format!("egress host {h:?} is not `namespace/dnsName`"), false));
                    } else if seen.contains(h) {
                        out.push((hp, format!("egress host {h:?} is listed twice"), true));
                    } else if *h == "*/*" && hosts.len() > 1 {
                        out.push((hp, "`*/*` already admits every host; the other hosts of the listener are redundant".into(), true));
                    }
                }
            }
            seen.push(h);
        }
    }
    if let Some(otp) = spec.get("outboundTrafficPolicy").filter(|v| !v.is_null()) {
        let mode = otp.get("mode").and_then(Value::as_str).unwrap_or("REGISTRY_ONLY");
        if mode == "ALLOW_ANY_DYNAMIC_DNS" {
            out.push(("spec.outboundTrafficPolicy.mode".into(), "mode ALLOW_ANY_DYNAMIC_DNS is valid only in MeshConfig".into(), false));
        }
        if otp.get("egressProxy").is_some_and(|v| !v.is_null()) {
            if mode != "ALLOW_ANY" {
                out.push(("spec.outboundTrafficPolicy.egressProxy".into(), "egressProxy needs mode ALLOW_ANY".into(), false));
            }
            out.push(("spec.outboundTrafficPolicy.egressProxy".into(), "egressProxy is deprecated and ignored (IST0002)".into(), true));
        }
    }
    out
}

impl RuleCheck for SidecarInvalid {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = <Self as Rule>::META;
        for s in cx.ws.sidecars.iter().filter(|s| cx.ws.reported(&s.obj)) {
            for (path, message, warning) in problems(&s.spec) {
                let d = out.report(&meta, Some(s.id.clone()), cx.at(&s.obj, &path), format!("Sidecar `{}/{}`: {message}", s.namespace, s.id.name));
                if warning {
                    d.severity = Severity::Warning;
                }
                d.help = Some("fix the field; Istio's validation rejects (or ignores) it otherwise".into());
            }
        }
    }
}
