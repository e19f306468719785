use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::model::validate::{dns1123_label, dns1123_subdomain, iana_service_name, label_key, label_value};
use crate::model::{parse_cidr, NetworkPolicy};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::{join_index, join_key};

declare_rule! {
    /// NetworkPolicy would be rejected by the API
    ///
    /// ## What it does
    /// Mirrors the API server's validation of NetworkPolicy: a peer with no field set;
    /// `ipBlock` combined with a selector; an invalid `cidr` or `except`, or an `except` that is
    /// not a strict subset of its `cidr`; a protocol other than TCP, UDP or SCTP; a port outside
    /// 1–65535 or a port name that is not an IANA service name; `endPort` with a named port,
    /// without `port`, or below `port`; a `policyTypes` entry other than `Ingress`/`Egress`, or
    /// more than two; an invalid label selector (operator, values, key or value syntax); an
    /// invalid name or namespace. Each problem is reported at its field.
    ///
    /// ## Why is this bad?
    /// `kubectl apply` fails, so the isolation or allowance you wrote does not exist. netreach
    /// still analyses the policy as written, but parts the API would reject match nothing.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: allow-web, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: web}}
    ///   ingress:
    ///   - ports:
    ///     - {port: 8000, endPort: 7000}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: allow-web, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: web}}
    ///   ingress:
    ///   - ports:
    ///     - {port: 7000, endPort: 8000}
    /// ```
    pub InvalidNetworkPolicy {
        id: "NR101", name: "invalid-network-policy", severity: Severity::Error, tags: &[],
    }
}

impl Rule for InvalidNetworkPolicy {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        for p in cx.reported(&cx.ws.policies) {
            for Found { field, on_key, message, help } in problems(p) {
                let loc = if on_key { cx.ws.key_loc(&p.obj, &field) } else { cx.at(&p.obj, &field) };
                let d = out.report_at(
                    &Self::META,
                    Some(p.id.clone()),
                    loc,
                    format!("NetworkPolicy `{}` would be rejected: `{field}` {message}", p.qualified_name()),
                );
                d.help(help);
            }
        }
    }
}

/// One validation failure of a policy.
struct Found {
    /// The field's path.
    field: String,
    /// The problem is the mapping key itself (a label key), so the finding points at the key.
    on_key: bool,
    /// What is wrong, after the field's name.
    message: String,
    /// How to fix it.
    help: String,
}

impl Found {
    fn new(field: impl Into<String>, message: impl Into<String>, help: impl Into<String>) -> Self {
        Found { field: field.into(), on_key: false, message: message.into(), help: help.into() }
    }

    fn on_key(self) -> Self {
        Found { on_key: true, ..self }
    }
}

/// Every validation failure of one policy.
fn problems(p: &NetworkPolicy) -> Vec<Found> {
    let mut out = Vec::new();
    if let Some(why) = dns1123_subdomain(&p.name) {
        out.push(Found::new("metadata.name", why, "use lowercase letters, digits, '-' and '.'"));
    }
    if let Some(why) = dns1123_label(&p.namespace) {
        out.push(Found::new("metadata.namespace", why, "use lowercase letters, digits and '-'"));
    }
    if let Some(sel) = &p.spec.pod_selector {
        selector(sel, "spec.podSelector", &mut out);
    }
    let types = p.spec.policy_types.as_deref().unwrap_or_default();
    if types.len() > 2 {
        out.push(Found::new("spec.policyTypes", format!("has {} entries; at most 2 are allowed", types.len()), "list each of Ingress and Egress at most once"));
    }
    for (i, t) in types.iter().enumerate() {
        if t != "Ingress" && t != "Egress" {
            out.push(Found::new(join_index("spec.policyTypes", i), format!("is {t:?}; supported values are \"Ingress\" and \"Egress\""), "use `Ingress` or `Egress` (exact case)"));
        }
    }
    for (i, r) in p.spec.ingress.iter().flatten().enumerate() {
        let path = join_index("spec.ingress", i);
        rule(&path, "from", r.from.as_deref(), r.ports.as_deref(), &mut out);
    }
    for (i, r) in p.spec.egress.iter().flatten().enumerate() {
        let path = join_index("spec.egress", i);
        rule(&path, "to", r.to.as_deref(), r.ports.as_deref(), &mut out);
    }
    out
}

fn rule(path: &str, key: &str, peers: Option<&[NetworkPolicyPeer]>, ports: Option<&[NetworkPolicyPort]>, out: &mut Vec<Found>) {
    for (i, port) in ports.unwrap_or_default().iter().enumerate() {
        check_port(&join_index(&join_key(path, "ports"), i), port, out);
    }
    for (i, peer) in peers.unwrap_or_default().iter().enumerate() {
        check_peer(&join_index(&join_key(path, key), i), peer, out);
    }
}

fn check_port(path: &str, p: &NetworkPolicyPort, out: &mut Vec<Found>) {
    if let Some(proto) = &p.protocol {
        if !matches!(proto.as_str(), "TCP" | "UDP" | "SCTP") {
            out.push(Found::new(join_key(path, "protocol"), format!("is {proto:?}; supported values are \"TCP\", \"UDP\", \"SCTP\""), "use TCP, UDP or SCTP (upper case)"));
        }
    }
    let port_path = join_key(path, "port");
    let end_path = join_key(path, "endPort");
    match (&p.port, p.end_port) {
        (None, Some(_)) => out.push(Found::new(end_path, "may not be specified when `port` is not specified", "add `port` as the start of the range, or remove `endPort`")),
        (Some(IntOrString::String(name)), end) => {
            if let Some(why) = iana_service_name(name) {
                out.push(Found::new(port_path, why, "use a port number, or the name of a container port (≤ 15 chars, a-z, 0-9, '-')"));
            }
            if end.is_some() {
                out.push(Found::new(end_path, "may not be specified when `port` is non-numeric", "use a numeric `port` with `endPort`, or remove `endPort`"));
            }
        }
        (Some(IntOrString::Int(n)), end) => {
            if !(1..=65535).contains(n) {
                out.push(Found::new(port_path, format!("is {n}; must be between 1 and 65535, inclusive"), "use a port between 1 and 65535"));
            }
            if let Some(e) = end {
                if e < *n {
                    out.push(Found::new(end_path.clone(), format!("is {e}; must be greater than or equal to `port` ({n})"), format!("set `endPort` to at least {n}, or swap `port` and `endPort`")));
                }
                if !(1..=65535).contains(&e) {
                    out.push(Found::new(end_path, format!("is {e}; must be between 1 and 65535, inclusive"), "use a port between 1 and 65535"));
                }
            }
        }
        (None, None) => {}
    }
}

fn check_peer(path: &str, p: &NetworkPolicyPeer, out: &mut Vec<Found>) {
    let n = usize::from(p.pod_selector.is_some()) + usize::from(p.namespace_selector.is_some()) + usize::from(p.ip_block.is_some());
    if n == 0 {
        out.push(Found::new(path.to_string(), "must specify a peer: none of podSelector, namespaceSelector, ipBlock is set", "set podSelector and/or namespaceSelector, or ipBlock; or remove the empty item (an absent from/to allows every peer)"));
    }
    if n > 1 && p.ip_block.is_some() {
        out.push(Found::new(join_key(path, "ipBlock"), "may not be combined with podSelector or namespaceSelector in one peer", "put ipBlock in its own list item"));
    }
    if let Some(s) = &p.pod_selector {
        selector(s, &join_key(path, "podSelector"), out);
    }
    if let Some(s) = &p.namespace_selector {
        selector(s, &join_key(path, "namespaceSelector"), out);
    }
    if let Some(b) = &p.ip_block {
        let bpath = join_key(path, "ipBlock");
        let cidr_path = join_key(&bpath, "cidr");
        let cidr = if b.cidr.is_empty() {
            out.push(Found::new(cidr_path, "is required", "set a CIDR such as 203.0.113.0/24"));
            None
        } else {
            match parse_cidr(&b.cidr) {
                Ok(c) => Some(c),
                Err(_) => {
                    out.push(Found::new(cidr_path, format!("is {:?}; must be a valid CIDR (e.g. 10.0.0.0/8 or fd00::/8)", b.cidr), "write the block as address/prefix-length"));
                    None
                }
            }
        };
        for (i, x) in b.except.iter().flatten().enumerate() {
            let xpath = join_index(&join_key(&bpath, "except"), i);
            match (parse_cidr(x), cidr) {
                (Err(_), _) => out.push(Found::new(xpath, format!("is {x:?}; must be a valid CIDR"), "write the block as address/prefix-length")),
                (Ok(e), Some(c)) if !(c.contains(&e.network()) && c.prefix_len() < e.prefix_len()) => out.push(Found::new(
                    xpath,
                    format!("{e} must be a strict subset of `cidr` {c}"),
                    format!("use a block inside {c} with a longer prefix, or remove it"),
                )),
                _ => {}
            }
        }
    }
}

fn selector(s: &LabelSelector, path: &str, out: &mut Vec<Found>) {
    for (k, v) in s.match_labels.iter().flatten() {
        let kpath = join_key(&join_key(path, "matchLabels"), k);
        if let Some(why) = label_key(k) {
            out.push(Found::new(kpath.clone(), format!("key {k:?} is not a valid label key: {why}"), "label keys are [prefix/]name, name ≤ 63 chars of [A-Za-z0-9-_.]").on_key());
        }
        if let Some(why) = label_value(v) {
            out.push(Found::new(kpath, format!("value {v:?} is not a valid label value: {why}"), "label values are ≤ 63 chars of [A-Za-z0-9-_.], starting and ending alphanumeric"));
        }
    }
    for (i, e) in s.match_expressions.iter().flatten().enumerate() {
        let epath = join_index(&join_key(path, "matchExpressions"), i);
        if let Some(why) = label_key(&e.key) {
            out.push(Found::new(join_key(&epath, "key"), format!("{:?} is not a valid label key: {why}", e.key), "label keys are [prefix/]name, name ≤ 63 chars of [A-Za-z0-9-_.]"));
        }
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => out.push(Found::new(epath.clone(), format!("operator {} requires a non-empty `values`", e.operator), "list at least one value")),
            "Exists" | "DoesNotExist" if !values.is_empty() => out.push(Found::new(join_key(&epath, "values"), format!("must be empty when operator is {}", e.operator), "remove `values`")),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => out.push(Found::new(join_key(&epath, "operator"), format!("is {other:?}; supported values are \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\""), "use one of In, NotIn, Exists, DoesNotExist")),
        }
        for (j, v) in values.iter().enumerate() {
            if let Some(why) = label_value(v) {
                out.push(Found::new(join_index(&join_key(&epath, "values"), j), format!("{v:?} is not a valid label value: {why}"), "label values are ≤ 63 chars of [A-Za-z0-9-_.]"));
            }
        }
    }
}
