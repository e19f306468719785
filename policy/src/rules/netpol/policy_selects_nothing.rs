use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Policy selects no workload
    ///
    /// ## What it does
    /// Finds a NetworkPolicy whose `spec.podSelector` matches the labels of no Pod and no pod
    /// template (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
    /// CronJob) in the policy's namespace, nor pods that run without manifests in the input:
    /// the profile's components (DNS, cert-manager controller, ingress controller, istiod) and
    /// cert-manager's HTTP-01 solver pods (`acme.cert-manager.io/http01-solver: "true"`) in a
    /// namespace that has a Certificate or an Ingress with a cert-manager issuer annotation.
    ///
    /// ## Why is this bad?
    /// Policies are a union: a policy that selects nothing isolates nothing and allows nothing.
    /// The usual cause is an overlay or a copied policy whose labels drifted from the workload's
    /// (`app: api` against `app.kubernetes.io/name: api`), so the allowance it was written for
    /// does not exist.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: api-db, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: api}}
    ///   policyTypes: [Egress]
    ///   egress: [{ports: [{port: 5432}]}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app.kubernetes.io/name: api}}
    ///   template:
    ///     metadata: {labels: {app.kubernetes.io/name: api}}
    ///     spec: {containers: [{name: api, image: shop/api}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: api-db, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app.kubernetes.io/name: api}}
    ///   policyTypes: [Egress]
    ///   egress: [{ports: [{port: 5432}, {protocol: UDP, port: 53}, {protocol: TCP, port: 53}]}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app.kubernetes.io/name: api}}
    ///   template:
    ///     metadata: {labels: {app.kubernetes.io/name: api}}
    ///     spec: {containers: [{name: api, image: shop/api}]}
    /// ```
    pub PolicySelectsNothing {
        id: "NR104", name: "policy-selects-nothing", severity: Severity::Warning, tags: &["iso27001:A.13.1.3"],
    }
}

impl Rule for PolicySelectsNothing {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let runtime = cx.runtime_pods();
        for (pi, p) in cx.reported_indexed(&cx.ws.policies) {
            // An invalid selector is NR101's finding.
            if p.pod_selector.invalid.is_some() {
                continue;
            }
            if !cx.sees_namespace(&p.namespace) {
                let what = format!("whether NetworkPolicy `{}` selects any workload", p.qualified_name());
                out.unverifiable(&Self::META, Some(p.id.clone()), cx.at(&p.obj, "spec.podSelector"), &what, &cx.ws.coverage);
                continue;
            }
            if !cx.engine.selected_by(pi).is_empty() {
                continue;
            }
            // Pods the cluster runs without manifests in the input (profile components, ACME
            // solver pods) are real targets too.
            if runtime.iter().any(|(ns, l)| *ns == p.namespace && p.pod_selector.matches(l)) {
                continue;
            }
            let d = out.report(
                &Self::META,
                p,
                "spec.podSelector",
                format!(
                    "NetworkPolicy `{}` selects no workload: no pod in namespace `{}` has labels matching `spec.podSelector` {}",
                    p.qualified_name(),
                    p.namespace,
                    p.pod_selector
                ),
            );
            let in_namespace: Vec<_> = cx.engine.workloads_in(&p.namespace).iter().filter_map(|&i| cx.ws.workloads.get(i)).collect();
            d.explain(match in_namespace.len() {
                0 => vec![format!("the input has no Pod or pod template in namespace `{}`", p.namespace)],
                n => {
                    let mut shown: Vec<String> = in_namespace.iter().take(5).map(|w| format!("{} {}", w.display(), crate::model::labels_text(&w.labels))).collect();
                    if n > 5 {
                        shown.push(format!("and {} more", n - 5));
                    }
                    vec![format!("workloads in `{}` and their pod labels: {}", p.namespace, shown.join("; "))]
                }
            });
            d.help("make `spec.podSelector` match the pod template labels of the workloads this policy is for");
        }
    }
}
