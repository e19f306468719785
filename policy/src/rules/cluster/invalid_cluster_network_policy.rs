use super::helpers::directions;
use crate::model::validate::label_key;
use crate::model::{parse_cidr, ClusterApi, ClusterPolicy, PeerSpec, RuleSpec};
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::{join_index, join_key};
use crate::Severity;

declare_rule! {
    /// ClusterNetworkPolicy the API server rejects
    ///
    /// ## What it does
    /// Mirrors the validation of the upstream CRDs (`policy.networking.k8s.io`, v1alpha2 and
    /// v1beta1 `ClusterNetworkPolicy`, v1alpha1 `AdminNetworkPolicy` and
    /// `BaselineAdminNetworkPolicy`): `tier` Admin or Baseline; `priority` 0–1000; a subject
    /// with exactly one of `namespaces` and `pods`; at most 25 ingress and 25 egress rules; rule
    /// names of at most 100 characters; the action the version defines (`Accept`/`Deny`/`Pass`,
    /// v1alpha1 `Allow`/`Deny`/`Pass`, no `Pass` in a BaselineAdminNetworkPolicy); 1–25 peers
    /// with exactly one field each (`networks`, `nodes` and `domainNames` only in egress);
    /// 1–25 valid CIDRs of at most 43 characters; 1–25 domain names of the upstream pattern,
    /// only in `Accept` rules; 1–25 `protocols` with exactly one field, a `destinationPort`
    /// with exactly one of `number` (1–65535) and `range` (start below end); no named port in a
    /// rule whose peers are networks, nodes or domain names; a BaselineAdminNetworkPolicy
    /// named `default`. It also reports fields of the other API version, which the API server
    /// drops (a v1alpha2 rule with v1alpha1 `ports` then applies to every port).
    ///
    /// ## Why is this bad?
    /// The API server refuses the object, so the cluster runs without it: the isolation it
    /// was written for does not exist. A dropped field silently widens a rule.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: lock-down}
    /// spec:
    ///   tier: Admin
    ///   priority: 1200
    ///   subject: {namespaces: {}}
    ///   egress:
    ///   - {name: no-metadata, action: Deny, to: [{networks: [169.254.169.254/32]}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: lock-down}
    /// spec:
    ///   tier: Admin
    ///   priority: 100
    ///   subject: {namespaces: {}}
    ///   egress:
    ///   - {name: no-metadata, action: Deny, to: [{networks: [169.254.169.254/32]}]}
    /// ```
    pub InvalidClusterNetworkPolicy {
        id: "NR601", name: "invalid-cluster-network-policy", severity: Severity::Error, tags: &[],
    }
}

/// The upstream limit on rules, peers, networks, domain names and protocols.
const MAX_ITEMS: usize = 25;

impl Rule for InvalidClusterNetworkPolicy {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        for p in cx.reported(&cx.ws.cluster_policies) {
            for Problem { field, message, help, dropped } in problems(p) {
                let outcome = if dropped { "loses a field" } else { "would be rejected" };
                let d = out.report(&Self::META, p, &field, format!("{} {outcome}: `{field}` {message}", p.qualified_name()));
                d.help(help);
            }
        }
    }
}

/// One validation failure.
struct Problem {
    field: String,
    /// What is wrong, after the field's name.
    message: String,
    help: String,
    /// The API server accepts the object without the field (it is not in the schema) rather
    /// than refusing it.
    dropped: bool,
}

type Problems = Vec<Problem>;

fn push(out: &mut Problems, field: impl Into<String>, message: impl Into<String>, help: impl Into<String>) {
    out.push(Problem { field: field.into(), message: message.into(), help: help.into(), dropped: false });
}

/// [`push`] for a field the schema does not have: the API server drops it.
fn dropped(out: &mut Problems, field: impl Into<String>, message: impl Into<String>, help: impl Into<String>) {
    out.push(Problem { field: field.into(), message: message.into(), help: help.into(), dropped: true });
}

/// Every validation failure of `p`.
fn problems(p: &ClusterPolicy) -> Problems {
    let mut out = Vec::new();
    let spec = &p.spec;
    match p.api {
        ClusterApi::ClusterNetworkPolicy => {
            if !matches!(spec.tier.as_deref(), Some("Admin" | "Baseline")) {
                push(&mut out, "spec.tier", format!("is {:?}; it must be \"Admin\" or \"Baseline\"", spec.tier.as_deref().unwrap_or("")), "set `tier: Admin` (before NetworkPolicies) or `tier: Baseline` (after them)");
            }
        }
        ClusterApi::AdminNetworkPolicy | ClusterApi::BaselineAdminNetworkPolicy => {
            if spec.tier.is_some() {
                dropped(&mut out, "spec.tier", "is not a field of v1alpha1; the API server drops it", "remove `tier`: the kind sets it (AdminNetworkPolicy: Admin, BaselineAdminNetworkPolicy: Baseline)");
            }
        }
    }
    if p.api == ClusterApi::BaselineAdminNetworkPolicy {
        if p.name != "default" {
            push(&mut out, "metadata.name", format!("is {:?}; a BaselineAdminNetworkPolicy must be named \"default\"", p.name), "name it `default` (there is one per cluster)");
        }
        if spec.priority.is_some() {
            dropped(&mut out, "spec.priority", "is not a field of BaselineAdminNetworkPolicy; the API server drops it", "remove `priority`");
        }
    } else {
        match spec.priority {
            None => push(&mut out, "spec", "has no `priority`; it is required", "add `priority` (0–1000, lower first)"),
            Some(n) if !(0..=1000).contains(&n) => push(&mut out, "spec.priority", format!("is {n}; it must be between 0 and 1000"), "use a priority from 0 to 1000 (lower is evaluated first)"),
            Some(_) => {}
        }
    }
    match &spec.subject {
        None => push(&mut out, "spec", "has no `subject`; it is required", "add `subject` with `namespaces` or `pods`"),
        Some(s) if s.namespaces.is_some() == s.pods.is_some() => {
            push(&mut out, "spec.subject", "must set exactly one of `namespaces` and `pods`", "keep `namespaces` (every pod of the selected namespaces) or `pods` (namespace and pod selectors)");
        }
        Some(_) => {}
    }
    for (dir, key, _, specs) in directions(p) {
        let base = format!("spec.{}", dir.as_str().to_lowercase());
        if specs.len() > MAX_ITEMS {
            push(&mut out, base.clone(), format!("has {} rules; at most {MAX_ITEMS} are allowed", specs.len()), "merge rules or split the policy");
        }
        for (i, r) in specs.iter().enumerate() {
            rule(p.api, &join_index(&base, i), key, r, &mut out);
        }
    }
    out
}

fn rule(api: ClusterApi, path: &str, key: &str, r: &RuleSpec, out: &mut Problems) {
    if let Some(name) = &r.name {
        if name.chars().count() > 100 {
            push(out, join_key(path, "name"), format!("has {} characters; at most 100 are allowed", name.chars().count()), "shorten the rule name");
        }
    }
    let actions: &[&str] = match api {
        ClusterApi::ClusterNetworkPolicy => &["Accept", "Deny", "Pass"],
        ClusterApi::AdminNetworkPolicy => &["Allow", "Deny", "Pass"],
        ClusterApi::BaselineAdminNetworkPolicy => &["Allow", "Deny"],
    };
    let action = r.action.as_deref().unwrap_or("");
    if !actions.contains(&action) {
        let hint = match (api, action) {
            (ClusterApi::ClusterNetworkPolicy, "Allow") => " (v1alpha1 spelling)".to_string(),
            (ClusterApi::AdminNetworkPolicy | ClusterApi::BaselineAdminNetworkPolicy, "Accept") => " (v1alpha2 spelling)".to_string(),
            _ => String::new(),
        };
        push(out, join_key(path, "action"), format!("is {action:?}{hint}; {} defines {}", api.kind(), actions.join(", ")), format!("use one of {}", actions.join(", ")));
    }
    let peers = if key == "from" { &r.from } else { &r.to };
    let peers_path = join_key(path, key);
    match peers {
        None => push(out, path, format!("has no `{key}`; it is required"), format!("list the peers in `{key}`")),
        Some(ps) if ps.is_empty() || ps.len() > MAX_ITEMS => {
            push(out, peers_path.clone(), format!("has {} peers; 1 to {MAX_ITEMS} are allowed", ps.len()), "list between 1 and 25 peers");
        }
        Some(_) => {}
    }
    let mut address_peers = false;
    for (i, peer) in peers.iter().flatten().enumerate() {
        address_peers |= peer.networks.is_some() || peer.nodes.is_some() || peer.domain_names.is_some();
        self::peer(&join_index(&peers_path, i), key, action, peer, out);
    }
    match api {
        ClusterApi::ClusterNetworkPolicy => {
            if r.ports.is_some() {
                dropped(out, join_key(path, "ports"), "is the v1alpha1 field; v1alpha2 drops it, so the rule applies to every port", "write the ports as `protocols` (e.g. `- tcp: {destinationPort: {number: 443}}`)");
            }
            protocols(path, r, address_peers, out);
        }
        ClusterApi::AdminNetworkPolicy | ClusterApi::BaselineAdminNetworkPolicy => {
            if r.protocols.is_some() {
                dropped(out, join_key(path, "protocols"), "is the v1alpha2 field; v1alpha1 drops it, so the rule applies to every port", "write the ports as `ports` (e.g. `- portNumber: {protocol: TCP, port: 443}`)");
            }
            v1alpha1_ports(path, r, address_peers, out);
        }
    }
}

fn peer(path: &str, key: &str, action: &str, p: &PeerSpec, out: &mut Problems) {
    let set: Vec<&str> = [
        ("namespaces", p.namespaces.is_some()),
        ("pods", p.pods.is_some()),
        ("networks", p.networks.is_some()),
        ("nodes", p.nodes.is_some()),
        ("domainNames", p.domain_names.is_some()),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(k, _)| k)
    .collect();
    match set.len() {
        0 if p.other.is_empty() => push(out, path, "sets no peer field; exactly one is required", "set one of `namespaces`, `pods` (and for egress `networks`, `nodes`, `domainNames`)"),
        0 => {
            let unknown: Vec<&str> = p.other.keys().map(String::as_str).collect();
            push(out, path, format!("sets only fields this version does not define ({}); the API server drops them and then refuses the empty peer", unknown.join(", ")), "use a peer field of this API version");
        }
        1 => {}
        _ => push(out, path, format!("sets {}; exactly one peer field is allowed per item", set.join(" and ")), "put each kind of peer in its own list item"),
    }
    if key == "from" {
        for f in set.iter().filter(|f| !matches!(**f, "namespaces" | "pods")) {
            push(out, join_key(path, f), "is an egress peer; ingress peers are `namespaces` and `pods`", "move it to an egress rule, or select the sources by namespace or pod");
        }
    }
    if let Some(nets) = &p.networks {
        let npath = join_key(path, "networks");
        if nets.is_empty() || nets.len() > MAX_ITEMS {
            push(out, npath.clone(), format!("has {} CIDRs; 1 to {MAX_ITEMS} are allowed", nets.len()), "list between 1 and 25 CIDRs");
        }
        for (i, c) in nets.iter().enumerate() {
            if c.len() > 43 || parse_cidr(c).is_err() {
                push(out, join_index(&npath, i), format!("is {c:?}; it must be a CIDR such as 10.0.0.0/8 or fd00::/8"), "write the network as address/prefix-length");
            }
        }
    }
    if let Some(names) = &p.domain_names {
        let dpath = join_key(path, "domainNames");
        if names.is_empty() || names.len() > MAX_ITEMS {
            push(out, dpath.clone(), format!("has {} names; 1 to {MAX_ITEMS} are allowed", names.len()), "list between 1 and 25 domain names");
        }
        if action != "Accept" {
            push(out, dpath.clone(), format!("is only allowed in Accept rules, and this rule's action is {action:?}"), "allow the domains in an Accept rule and deny the rest in a later rule");
        }
        for (i, n) in names.iter().enumerate() {
            if !domain_name(n) {
                push(out, join_index(&dpath, i), format!("is {n:?}; a domain name is labels of [a-zA-Z0-9-_] separated by dots, with `*.` only as a prefix"), "write a name such as `api.example.com` or `*.example.com`");
            }
        }
    }
    for sel in [p.namespaces.as_ref(), p.nodes.as_ref()].into_iter().flatten() {
        for k in sel.match_labels.iter().flatten().map(|(k, _)| k) {
            if let Some(why) = label_key(k) {
                push(out, path, format!("selects by {k:?}, which is not a valid label key: {why}"), "use a label key of the form [prefix/]name");
            }
        }
    }
}

/// The upstream `DomainName` pattern: optional `*.`, then two or more labels of
/// `[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?`, an optional final dot.
fn domain_name(s: &str) -> bool {
    let s = s.strip_prefix("*.").unwrap_or(s);
    let s = s.strip_suffix('.').unwrap_or(s);
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            let b = l.as_bytes();
            matches!((b.first(), b.last()), (Some(f), Some(e)) if f.is_ascii_alphanumeric() && e.is_ascii_alphanumeric())
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
        })
}

fn port_ok(n: i64) -> bool {
    (1..=65535).contains(&n)
}

fn range(path: &str, start: Option<i64>, end: Option<i64>, out: &mut Problems) {
    let (s, e) = (start.unwrap_or(0), end.unwrap_or(0));
    if !port_ok(s) || !port_ok(e) {
        push(out, path, format!("is {s}-{e}; start and end must be between 1 and 65535"), "use ports from 1 to 65535");
    } else if s >= e {
        push(out, path, format!("is {s}-{e}; start must be less than end"), "use a number for one port, or a range with start below end");
    }
}

fn protocols(path: &str, r: &RuleSpec, address_peers: bool, out: &mut Problems) {
    let Some(ps) = &r.protocols else { return };
    let base = join_key(path, "protocols");
    if ps.is_empty() || ps.len() > MAX_ITEMS {
        push(out, base.clone(), format!("has {} items; 1 to {MAX_ITEMS} are allowed", ps.len()), "list between 1 and 25 protocols, or remove `protocols` for every port");
    }
    for (i, p) in ps.iter().enumerate() {
        let at = join_index(&base, i);
        let set = [p.tcp.is_some(), p.udp.is_some(), p.sctp.is_some(), p.destination_named_port.is_some()].into_iter().filter(|b| *b).count();
        if set != 1 {
            push(out, at.clone(), format!("sets {set} of tcp, udp, sctp, destinationNamedPort; exactly one is required"), "put each protocol in its own item");
        }
        for (key, ports) in [("tcp", &p.tcp), ("udp", &p.udp), ("sctp", &p.sctp)] {
            let Some(ports) = ports else { continue };
            let ppath = join_key(&at, key);
            match &ports.destination_port {
                None => push(out, ppath, "sets no `destinationPort`; it needs one (for every port of the protocol, use a range 1-65535)", "add `destinationPort: {number: N}` or `{range: {start: A, end: B}}`"),
                Some(d) => {
                    let dpath = join_key(&ppath, "destinationPort");
                    match (d.number, &d.range) {
                        (Some(n), None) if !port_ok(n) => push(out, join_key(&dpath, "number"), format!("is {n}; it must be between 1 and 65535"), "use a port from 1 to 65535"),
                        (Some(_), None) => {}
                        (None, Some(r)) => range(&join_key(&dpath, "range"), r.start, r.end, out),
                        _ => push(out, dpath, "must set exactly one of `number` and `range`", "keep `number` for one port or `range` for several"),
                    }
                }
            }
        }
        if p.destination_named_port.is_some() && address_peers {
            push(out, join_key(&at, "destinationNamedPort"), "is not allowed in a rule with networks, nodes or domainNames peers (they have no named ports)", "use a port number, or move the named port to a rule with pod peers");
        }
    }
}

fn v1alpha1_ports(path: &str, r: &RuleSpec, address_peers: bool, out: &mut Problems) {
    let Some(ps) = &r.ports else { return };
    let base = join_key(path, "ports");
    if ps.is_empty() {
        push(out, base.clone(), "is empty; list at least one port or remove `ports`", "remove `ports` for every port");
    }
    for (i, p) in ps.iter().enumerate() {
        let at = join_index(&base, i);
        let set = [p.port_number.is_some(), p.named_port.is_some(), p.port_range.is_some()].into_iter().filter(|b| *b).count();
        if set != 1 {
            push(out, at.clone(), format!("sets {set} of portNumber, namedPort, portRange; exactly one is required"), "put each port in its own item");
        }
        for proto in [p.port_number.as_ref().and_then(|n| n.protocol.as_deref()), p.port_range.as_ref().and_then(|r| r.protocol.as_deref())].into_iter().flatten() {
            if !matches!(proto, "TCP" | "UDP" | "SCTP") {
                push(out, at.clone(), format!("has protocol {proto:?}; it must be TCP, UDP or SCTP"), "use TCP, UDP or SCTP (upper case)");
            }
        }
        if let Some(n) = &p.port_number {
            let port = n.port.unwrap_or(0);
            if !port_ok(port) {
                push(out, join_key(&at, "portNumber"), format!("has port {port}; it must be between 1 and 65535"), "use a port from 1 to 65535");
            }
        }
        if let Some(r) = &p.port_range {
            range(&join_key(&at, "portRange"), r.start, r.end, out);
        }
        if p.named_port.is_some() && address_peers {
            push(out, join_key(&at, "namedPort"), "is not allowed in a rule with networks or nodes peers (they have no named ports)", "use a port number, or move the named port to a rule with pod peers");
        }
    }
}
