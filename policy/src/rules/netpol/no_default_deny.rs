use crate::model::{Labels, NetworkPolicy, ObjRef, ObjectId};
use crate::netpol::Direction;
use crate::Severity;
use crate::rules::fixes::NewPolicy;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Namespace has no default-deny NetworkPolicy
    ///
    /// ## What it does
    /// Finds a namespace with workloads where no NetworkPolicy selects every pod
    /// (`podSelector: {}`), lists a direction in its effective `policyTypes` and has no rule for
    /// it — the default-deny for that direction. Namespaces in the profile's
    /// `unsegregatedNamespaces` are left out. Reported on the Namespace object, or on the first
    /// workload of the namespace when the input has no Namespace object.
    ///
    /// ## Why is this bad?
    /// Without a default-deny, every new workload in the namespace starts unisolated until
    /// someone writes a policy for it. A default-deny per direction plus explicit allowances
    /// (DNS first) is the baseline CIS Kubernetes 5.3.2 and segregation controls ask for.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop}
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: web, namespace: shop}
    /// spec: {containers: [{name: web, image: shop/web}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop}
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress, Egress]
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: allow-dns, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress: [{ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]}]
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: web, namespace: shop}
    /// spec: {containers: [{name: web, image: shop/web}]}
    /// ```
    pub NoDefaultDeny {
        id: "NR116", name: "no-default-deny", severity: Severity::Info, tags: &["iso27001:A.13.1.3", "cis-k8s:5.3.2"],
    }
}

impl Rule for NoDefaultDeny {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        for ns in cx.ws.namespaces.values() {
            if cx.profile.unsegregated_namespaces.contains(&ns.name) {
                continue;
            }
            let Some(first) = cx.ws.workloads.iter().find(|w| w.namespace == ns.name) else { continue };
            let (obj, field): (&ObjRef, &str) = match &ns.obj {
                Some(o) => (o, "metadata.name"),
                None => (&first.obj, "metadata.namespace"),
            };
            if !cx.ws.reported(obj) {
                continue;
            }
            let id = ObjectId { api_version: "v1".into(), kind: "Namespace".into(), name: ns.name.clone(), namespace: None };
            if !cx.sees_namespace(&ns.name) {
                let what = format!("whether namespace `{}` has a default-deny NetworkPolicy", ns.name);
                out.unverifiable(&Self::META, Some(id), cx.at(obj, field), &what, &cx.ws.coverage);
                continue;
            }
            let policies: Vec<&NetworkPolicy> = cx.ws.policies.iter().filter(|p| p.namespace == ns.name).collect();
            let missing: Vec<Direction> =
                [Direction::Ingress, Direction::Egress].into_iter().filter(|d| !policies.iter().any(|p| denies_all(p, *d))).collect();
            if missing.is_empty() {
                continue;
            }
            let names: Vec<&str> = missing.iter().map(|d| d.as_str()).collect();
            let lower = names.join(" and ").to_lowercase();
            let d = out.report_at(
                &Self::META,
                Some(id),
                cx.at(obj, field),
                format!("namespace `{}` has no default-deny NetworkPolicy for {lower}", ns.name),
            );
            d.why(format!(
                "no policy in `{}` has `podSelector: {{}}`, {} in policyTypes and no rules for it",
                ns.name,
                names.join("/")
            ));
            d.help(format!("add a default-deny policy to `{}`, then allow what each workload needs (DNS first)", ns.name));
            let name = if missing.len() == 2 { "default-deny".to_string() } else { format!("default-deny-{lower}") };
            let all = Labels::new();
            let policy = NewPolicy { namespace: &ns.name, name: &name, pods: &all };
            d.fix(policy.deny(format!("add a default-deny NetworkPolicy to namespace {}", ns.name), &names));
        }
    }
}

/// Whether `p` is a default-deny for `dir`: selects every pod, isolates `dir`, allows nothing in it.
fn denies_all(p: &NetworkPolicy, dir: Direction) -> bool {
    let isolates = dir.isolates(p);
    let rules = dir.rules(p);
    p.pod_selector.is_everything() && isolates && rules.is_empty()
}
