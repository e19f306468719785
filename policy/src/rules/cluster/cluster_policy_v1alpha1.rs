use serde_json::{json, Map, Value};

use super::helpers::yaml;
use crate::model::{ClusterApi, ClusterPolicy, PeerSpec, RuleSpec};
use crate::rules::{declare_rule, Context, Diagnostics, Fix, Rule};
use crate::Severity;

declare_rule! {
    /// v1alpha1 AdminNetworkPolicy or BaselineAdminNetworkPolicy
    ///
    /// ## What it does
    /// Finds `AdminNetworkPolicy` and `BaselineAdminNetworkPolicy` objects
    /// (`policy.networking.k8s.io/v1alpha1`) and gives their `ClusterNetworkPolicy` form as
    /// the fix: tier Admin (with the same priority) or Baseline (priority 0), `Allow` as
    /// `Accept`, `ports` as `protocols` (`portNumber` → `destinationPort.number`, `portRange`
    /// → `destinationPort.range`, `namedPort` → `destinationNamedPort`), subject and peers
    /// unchanged.
    ///
    /// ## Why is this bad?
    /// v1alpha2 `ClusterNetworkPolicy` (network-policy-api v0.2.0) replaces both kinds; Calico,
    /// Antrea, Cilium and kube-network-policies implement it, and v1alpha1 support is being
    /// removed. The mapping is mechanical, and netreach proves the translation allows exactly
    /// what the original does.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: policy.networking.k8s.io/v1alpha1
    /// kind: AdminNetworkPolicy
    /// metadata: {name: tenants}
    /// spec:
    ///   priority: 20
    ///   subject: {namespaces: {matchLabels: {tenant: a}}}
    ///   ingress:
    ///   - name: same-tenant
    ///     action: Allow
    ///     from: [{namespaces: {matchLabels: {tenant: a}}}]
    ///     ports: [{portNumber: {protocol: TCP, port: 80}}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: policy.networking.k8s.io/v1alpha2
    /// kind: ClusterNetworkPolicy
    /// metadata: {name: tenants}
    /// spec:
    ///   tier: Admin
    ///   priority: 20
    ///   subject: {namespaces: {matchLabels: {tenant: a}}}
    ///   ingress:
    ///   - name: same-tenant
    ///     action: Accept
    ///     from: [{namespaces: {matchLabels: {tenant: a}}}]
    ///     protocols: [{tcp: {destinationPort: {number: 80}}}]
    /// ```
    pub ClusterPolicyV1alpha1 {
        id: "NR606", name: "cluster-policy-v1alpha1", severity: Severity::Info, tags: &[],
    }
}

impl Rule for ClusterPolicyV1alpha1 {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        for p in cx.reported(&cx.ws.cluster_policies).filter(|p| p.api.is_v1alpha1()) {
            let d = out.report(
                &Self::META,
                p,
                "apiVersion",
                format!("{} uses the v1alpha1 API; ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) replaces it", p.qualified_name()),
            );
            d.why("implementations are moving to ClusterNetworkPolicy; the v1alpha1 kinds are served by fewer of them with each release");
            d.help("apply the ClusterNetworkPolicy form below, check it with `netreach connectivity` (the map must not change), then delete the v1alpha1 object");
            let mut target = p.id.clone();
            target.api_version = ClusterApi::ClusterNetworkPolicy.api_version().to_string();
            target.kind = ClusterApi::ClusterNetworkPolicy.kind().to_string();
            let form = yaml(&v1alpha2_form(p));
            d.edit(cx.ws.replace_object_edit(&p.obj, &form));
            d.fix(Fix::new(format!("replace {} with its ClusterNetworkPolicy form", p.qualified_name()), form, target));
        }
    }
}

/// `p` (a v1alpha1 object) as a v1alpha2 ClusterNetworkPolicy.
fn v1alpha2_form(p: &ClusterPolicy) -> Value {
    let tier = if p.api == ClusterApi::BaselineAdminNetworkPolicy { "Baseline" } else { "Admin" };
    let mut spec = Map::new();
    spec.insert("tier".into(), json!(tier));
    spec.insert("priority".into(), json!(p.priority));
    if let Some(s) = &p.spec.subject {
        let mut subject = Map::new();
        if let Some(ns) = &s.namespaces {
            subject.insert("namespaces".into(), json!(ns));
        }
        if let Some(pods) = &s.pods {
            subject.insert("pods".into(), json!({"namespaceSelector": pods.namespace_selector.clone().unwrap_or_default(), "podSelector": pods.pod_selector.clone().unwrap_or_default()}));
        }
        spec.insert("subject".into(), Value::Object(subject));
    }
    for (key, peers_key, rules) in [("ingress", "from", &p.spec.ingress), ("egress", "to", &p.spec.egress)] {
        if let Some(rules) = rules {
            spec.insert(key.into(), Value::Array(rules.iter().map(|r| rule(r, peers_key)).collect()));
        }
    }
    json!({
        "apiVersion": ClusterApi::ClusterNetworkPolicy.api_version(),
        "kind": ClusterApi::ClusterNetworkPolicy.kind(),
        "metadata": {"name": p.name},
        "spec": Value::Object(spec),
    })
}

fn rule(r: &RuleSpec, peers_key: &str) -> Value {
    let mut out = Map::new();
    if let Some(n) = &r.name {
        out.insert("name".into(), json!(n));
    }
    let action = match r.action.as_deref() {
        Some("Allow") => "Accept",
        Some(a) => a,
        None => "",
    };
    out.insert("action".into(), json!(action));
    let peers = if peers_key == "from" { &r.from } else { &r.to };
    out.insert(peers_key.into(), Value::Array(peers.iter().flatten().map(peer).collect()));
    if let Some(ports) = &r.ports {
        let mut protocols = Vec::new();
        for port in ports {
            let proto = |p: &Option<String>| p.as_deref().unwrap_or("TCP").to_ascii_lowercase();
            if let Some(n) = &port.port_number {
                protocols.push(json!({proto(&n.protocol): {"destinationPort": {"number": n.port}}}));
            }
            if let Some(r) = &port.port_range {
                protocols.push(json!({proto(&r.protocol): {"destinationPort": {"range": {"start": r.start, "end": r.end}}}}));
            }
            if let Some(name) = &port.named_port {
                protocols.push(json!({"destinationNamedPort": name}));
            }
        }
        out.insert("protocols".into(), Value::Array(protocols));
    }
    Value::Object(out)
}

fn peer(p: &PeerSpec) -> Value {
    let mut out = Map::new();
    if let Some(ns) = &p.namespaces {
        out.insert("namespaces".into(), json!(ns));
    }
    if let Some(pods) = &p.pods {
        out.insert("pods".into(), json!({"namespaceSelector": pods.namespace_selector.clone().unwrap_or_default(), "podSelector": pods.pod_selector.clone().unwrap_or_default()}));
    }
    if let Some(n) = &p.networks {
        out.insert("networks".into(), json!(n));
    }
    if let Some(n) = &p.nodes {
        out.insert("nodes".into(), json!(n));
    }
    for (k, v) in &p.other {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}
