use crate::model::Labels;
use crate::netpol::Direction;
use crate::Severity;
use crate::rules::fixes::NewPolicy;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Workload not isolated by any NetworkPolicy
    ///
    /// ## What it does
    /// Finds a workload (Pod or pod template) that no NetworkPolicy with `Ingress` in its
    /// effective `policyTypes` selects (warning), or none with `Egress` (info). Namespaces listed
    /// in the profile's `unsegregatedNamespaces` (default `kube-system`, `kube-public`,
    /// `kube-node-lease`) and `hostNetwork` pods, which NetworkPolicy does not govern, are left
    /// out.
    ///
    /// ## Why is this bad?
    /// A pod that no policy selects for a direction accepts (or sends) any traffic in that
    /// direction, from any namespace. Segregation requirements (ISO 27001 A.13.1.3, CIS
    /// Kubernetes 5.3.2) ask for every workload to be isolated, typically by a namespace
    /// default-deny plus explicit allowances.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny-egress, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    /// ---
    /// apiVersion: v1
    /// kind: Pod
    /// metadata: {name: web, namespace: shop}
    /// spec: {containers: [{name: web, image: shop/web}]}
    /// ```
    /// Use instead:
    /// ```yaml
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
    pub WorkloadNotIsolated {
        id: "NR115", name: "workload-not-isolated", severity: Severity::Warning,
        tags: &["iso27001:A.13.1.3", "cis-k8s:5.3.2"],
    }
}

impl Rule for WorkloadNotIsolated {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        for (i, w) in cx.ws.workloads.iter().enumerate() {
            if !cx.ws.reported(&w.obj) || w.host_network() || cx.profile.unsegregated_namespaces.contains(&w.namespace) {
                continue;
            }
            if !cx.sees_namespace(&w.namespace) {
                let what = format!("whether a NetworkPolicy isolates `{}`", w.display());
                out.unverifiable(&Self::META, Some(w.id.clone()), cx.at(&w.obj, "metadata.name"), &what, &cx.ws.coverage);
                continue;
            }
            for dir in [Direction::Ingress, Direction::Egress] {
                // A cluster policy that can deny in this direction restricts it as much as a
                // NetworkPolicy would; the NR6xx rules judge those.
                if cx.engine.is_isolated(i, dir) || cx.engine.cluster_may_deny(i, dir) {
                    continue;
                }
                let lower = dir.as_str().to_lowercase();
                let d = out.report(
                    &Self::META,
                    w,
                    "metadata.name",
                    format!("`{}` is not isolated for {lower}: no NetworkPolicy with {} selects it", w.display(), dir.as_str()),
                );
                if dir == Direction::Egress {
                    d.severity(Severity::Info);
                }
                d.why(format!(
                    "without a selecting policy whose policyTypes include {}, every {lower} connection of its pods is allowed",
                    dir.as_str()
                ));
                d.help(format!(
                    "add a default-deny {lower} policy to namespace `{}` and allow what the workload needs",
                    w.namespace
                ));
                let (name, all) = (format!("default-deny-{lower}"), Labels::new());
                let policy = NewPolicy { namespace: &w.namespace, name: &name, pods: &all };
                d.fix(policy.deny(format!("add a default-deny {lower} NetworkPolicy to namespace {}", w.namespace), &[dir.as_str()]));
            }
        }
    }
}
