use super::helpers::PROTOCOLS;
use super::helpers::{istio_host_error, istio_label_ok};
use crate::model::SidecarSpec;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_index;

declare_rule! {
    /// Sidecar or its outbound traffic policy invalid
    ///
    /// ## What it does
    /// Mirrors Istio's `ValidateSidecar`: a spec with no egress, ingress, outbound traffic
    /// policy or inbound connection pool; an egress listener without hosts; a host not of the
    /// form `namespace/dnsName` (`*`, `.` and `~` allowed as the namespace); more than one
    /// catch-all listener (no port), or one that is not last; two listeners on one port
    /// number; a listener port name that is not a DNS label, a protocol Istio does not know,
    /// a number above 65535, or 0 without a `unix://` bind; `outboundTrafficPolicy.egressProxy`
    /// without mode `ALLOW_ANY`; mode `ALLOW_ANY_DYNAMIC_DNS`, valid only in MeshConfig.
    /// Warnings: a `workloadSelector` without labels (the Sidecar then applies to the whole
    /// namespace), an egress host its listener already admits (`ns/*` covers `ns/x`; `.` is
    /// the Sidecar's namespace), `*/*` beside other hosts, and `egressProxy` at all
    /// (deprecated and ignored, IST0002).
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
fn problems(spec: &SidecarSpec, namespace: &str) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let configures = !spec.egress.is_empty() || !spec.ingress.is_empty() || spec.outbound_traffic_policy.is_some() || spec.inbound_connection_pool.is_some();
    if !configures {
        out.push(("spec".to_string(), "the Sidecar configures no egress, ingress, outbound traffic policy or inbound connection pool".to_string(), false));
    }
    if spec.workload_selector.as_ref().is_some_and(|w| w.labels.is_empty()) {
        out.push(("spec.workloadSelector".into(), "the workload selector has no labels: the Sidecar applies to every workload of its namespace".into(), true));
    }
    let listeners = &spec.egress;
    let mut catch_all = 0;
    let mut numbers = Vec::new();
    for (i, l) in listeners.iter().enumerate() {
        let path = join_index("spec.egress", i);
        match &l.port {
            None => {
                catch_all += 1;
                if catch_all > 1 {
                    out.push((path.clone(), "only one egress listener may omit `port` (the catch-all)".into(), false));
                } else if i + 1 != listeners.len() {
                    out.push((path.clone(), "the catch-all egress listener (no `port`) must be the last".into(), false));
                }
            }
            Some(p) => {
                let pp = format!("{path}.port");
                if !p.name.is_empty() && !istio_label_ok(&p.name) {
                    out.push((format!("{pp}.name"), format!("port name {:?} is not a DNS label", p.name), false));
                }
                if !PROTOCOLS.contains(&p.protocol.to_ascii_uppercase().as_str()) {
                    out.push((format!("{pp}.protocol"), format!("protocol {:?} is not one Istio knows", p.protocol), false));
                }
                if p.number == 0 && !l.bind.as_deref().is_some_and(|b| b.starts_with("unix://")) {
                    out.push((format!("{pp}.number"), "port 0 needs a `unix://` bind address".into(), false));
                } else if p.number > 65535 {
                    out.push((format!("{pp}.number"), format!("port number {} must be 1-65535", p.number), false));
                } else if p.number > 0 && numbers.contains(&p.number) {
                    out.push((format!("{pp}.number"), format!("another egress listener already uses port {}", p.number), false));
                }
                numbers.push(p.number);
            }
        }
        let hosts = &l.hosts;
        if hosts.is_empty() {
            out.push((path.clone(), "an egress listener needs at least one host".into(), false));
        }
        // Per namespace (`.` resolved), the names seen so far, as Istio tracks duplicates.
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (j, h) in hosts.iter().enumerate() {
            let hp = join_index(&format!("{path}.hosts"), j);
            match h.split_once('/') {
                None => out.push((hp, format!("egress host {h:?} must be `namespace/dnsName` (e.g. `*/{h}` or `./{h}`)"), false)),
                Some((ns, name)) => {
                    let ns_ok = matches!(ns, "*" | "." | "~") || istio_label_ok(ns);
                    let name_ok = name == "*" || istio_host_error(name).is_none();
                    let ns = if ns == "." { namespace } else { ns };
                    let covered = seen.iter().any(|(n, s)| *n == ns && (*s == "*" || *s == name || name == "*"));
                    if !ns_ok || !name_ok {
                        out.push((hp, format!("egress host {h:?} is not `namespace/dnsName`"), false));
                    } else if covered {
                        out.push((hp, format!("egress host {h:?} is already admitted by this listener"), true));
                    } else if h == "*/*" && hosts.len() > 1 {
                        out.push((hp, "`*/*` already admits every host; the other hosts of the listener are redundant".into(), true));
                    }
                    seen.push((ns, name));
                }
            }
        }
    }
    if let Some(otp) = &spec.outbound_traffic_policy {
        let mode = otp.mode.as_deref().unwrap_or("REGISTRY_ONLY");
        if mode == "ALLOW_ANY_DYNAMIC_DNS" {
            out.push(("spec.outboundTrafficPolicy.mode".into(), "mode ALLOW_ANY_DYNAMIC_DNS is valid only in MeshConfig".into(), false));
        }
        if otp.egress_proxy.is_some() {
            if mode != "ALLOW_ANY" {
                out.push(("spec.outboundTrafficPolicy.egressProxy".into(), "egressProxy needs mode ALLOW_ANY".into(), false));
            }
            out.push(("spec.outboundTrafficPolicy.egressProxy".into(), "egressProxy is deprecated and ignored (IST0002)".into(), true));
        }
    }
    out
}

impl Rule for SidecarInvalid {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for s in cx.reported(&cx.ws.sidecars) {
            for (path, message, warning) in problems(&s.spec, &s.namespace) {
                let d = out.report(&meta, s, &path, format!("Sidecar `{}/{}`: {message}", s.namespace, s.id.name));
                if warning {
                    d.severity(Severity::Warning);
                }
                d.help("fix the field; Istio's validation rejects (or ignores) it otherwise");
            }
        }
    }
}
