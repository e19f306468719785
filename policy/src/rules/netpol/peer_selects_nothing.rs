use std::collections::BTreeSet;

use super::helpers::{known_namespaces, names_by_missing_label};
use crate::model::{NamespaceScope, NetworkPolicy, PeerKind, Requirement, Selector, NAMESPACE_NAME_LABEL};
use crate::netpol::Direction;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Rule peer selects nothing, or everything by a typo
    ///
    /// ## What it does
    /// Checks every `from`/`to` peer with selectors:
    /// - a `namespaceSelector` that matches no namespace of the input or of the profile (the
    ///   namespaces of DNS, cert-manager, istiod and the ingress controller), unless it names a
    ///   namespace by a label it lacks (NR106 reports that);
    /// - a `podSelector` that matches no workload in the namespaces the peer looks in (the
    ///   policy's own without `namespaceSelector`), nor a pod the profile knows runs there;
    /// - a `NotIn` or `DoesNotExist` requirement on a label key no pod (for `podSelector`) or
    ///   namespace (for `namespaceSelector`) of the input carries: it is true of every object,
    ///   so the selector selects everything — almost always a misspelt key.
    ///
    /// ## Why is this bad?
    /// A peer that selects nothing allows nothing: the connection it was written for stays
    /// blocked, and nothing says so. A misspelt key in a negative requirement is the opposite:
    /// the rule silently opens to every pod.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: db-ingress, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: db}}
    ///   policyTypes: [Ingress]
    ///   ingress:
    ///     - from: [{podSelector: {matchLabels: {app: api}}}]
    ///       ports: [{port: 5432}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app.kubernetes.io/name: api}}
    ///   template:
    ///     metadata: {labels: {app.kubernetes.io/name: api}}
    ///     spec: {containers: [{name: api, image: shop/api}]}
    /// ---
    /// apiVersion: apps/v1
    /// kind: StatefulSet
    /// metadata: {name: db, namespace: shop}
    /// spec:
    ///   serviceName: db
    ///   selector: {matchLabels: {app: db}}
    ///   template:
    ///     metadata: {labels: {app: db}}
    ///     spec: {containers: [{name: db, image: postgres}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: db-ingress, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: db}}
    ///   policyTypes: [Ingress]
    ///   ingress:
    ///     - from: [{podSelector: {matchLabels: {app.kubernetes.io/name: api}}}]
    ///       ports: [{port: 5432}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app.kubernetes.io/name: api}}
    ///   template:
    ///     metadata: {labels: {app.kubernetes.io/name: api}}
    ///     spec: {containers: [{name: api, image: shop/api}]}
    /// ---
    /// apiVersion: apps/v1
    /// kind: StatefulSet
    /// metadata: {name: db, namespace: shop}
    /// spec:
    ///   serviceName: db
    ///   selector: {matchLabels: {app: db}}
    ///   template:
    ///     metadata: {labels: {app: db}}
    ///     spec: {containers: [{name: db, image: postgres}]}
    /// ```
    pub PeerSelectsNothing {
        id: "NR105", name: "peer-selects-nothing", severity: Severity::Warning, tags: &["iso27001:A.13.1.3"],
    }
}

impl Rule for PeerSelectsNothing {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let namespaces = known_namespaces(cx);
        let pod_keys: BTreeSet<&str> = cx.ws.workloads.iter().flat_map(|w| w.labels.keys().map(String::as_str)).collect();
        let ns_keys: BTreeSet<&str> = namespaces.iter().flat_map(|(_, l)| l.keys().map(String::as_str)).collect();
        let runtime = cx.runtime_pods();
        for p in cx.reported(&cx.ws.policies) {
            let mut blind = false;
            for dir in [Direction::Ingress, Direction::Egress] {
                for rule in dir.of(p).1 {
                    for peer in rule.peers.iter().flatten() {
                        let PeerKind::Pods { namespaces: scope, pods } = &peer.kind else { continue };
                        let nsel_path = format!("{}.namespaceSelector", peer.path);
                        let psel_path = format!("{}.podSelector", peer.path);
                        // Negative requirements on keys nobody carries select everything.
                        if let NamespaceScope::Selected(sel) = scope {
                            typo(out, &meta, p, sel, &ns_keys, &nsel_path, "namespace");
                        }
                        typo(out, &meta, p, pods, &pod_keys, &psel_path, "pod");
                        let in_scope: Vec<&str> = match scope {
                            NamespaceScope::Own(ns) => vec![ns.as_str()],
                            NamespaceScope::Selected(sel) => {
                                if sel.invalid.is_some() {
                                    continue;
                                }
                                let hit: Vec<&str> = namespaces.iter().filter(|(_, l)| sel.matches(l)).map(|(n, _)| *n).collect();
                                if hit.is_empty() {
                                    if names_by_missing_label(sel, &namespaces) {
                                        continue;
                                    }
                                    if cx.ws.coverage == crate::model::Coverage::Object {
                                        blind = true;
                                        continue;
                                    }
                                    let d = out.report(
                                        &meta,
                                        p,
                                        &nsel_path,
                                        format!("`{}` of NetworkPolicy `{}` selects no namespace: no namespace of the input or the profile has labels matching {sel}", peer.path, p.qualified_name()),
                                    );
                                    d.why(format!("namespaces known: {}", namespaces.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")));
                                    d.help(format!("select namespaces by `{NAMESPACE_NAME_LABEL}`, which the API server sets on every namespace"));
                                    continue;
                                }
                                hit
                            }
                        };
                        if pods.invalid.is_some() || pods.is_everything() {
                            continue;
                        }
                        if in_scope.iter().any(|ns| !cx.sees_namespace(ns)) {
                            blind = true;
                            continue;
                        }
                        let workloads = in_scope
                            .iter()
                            .flat_map(|ns| cx.engine.workloads_in(ns))
                            .any(|&i| cx.ws.workloads.get(i).is_some_and(|w| pods.matches(&w.labels)));
                        let known = runtime.iter().any(|(ns, l)| in_scope.contains(ns) && pods.matches(l));
                        if workloads || known {
                            continue;
                        }
                        let d = out.report(
                            &meta,
                            p,
                            &psel_path,
                            format!(
                                "`{}` of NetworkPolicy `{}` selects no pod: no workload in {} has labels matching {pods}",
                                peer.path,
                                p.qualified_name(),
                                in_scope.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                            ),
                        );
                        d.help("make the podSelector match the pod template labels of the workloads meant");
                    }
                }
            }
            if blind {
                let what = format!("whether the peers of NetworkPolicy `{}` select any pod", p.qualified_name());
                out.unverifiable(&meta, Some(p.id.clone()), cx.at(&p.obj, "spec"), &what, &cx.ws.coverage);
            }
        }
    }
}

/// Report `NotIn`/`DoesNotExist` requirements of `sel` on keys not in `keys`.
#[allow(clippy::too_many_arguments)]
fn typo(out: &mut Diagnostics, meta: &crate::rules::RuleMeta, p: &NetworkPolicy, sel: &Selector, keys: &BTreeSet<&str>, path: &str, what: &str) {
    if keys.is_empty() {
        return;
    }
    for r in &sel.requirements {
        let (Requirement::NotIn(k, _) | Requirement::DoesNotExist(k)) = r else { continue };
        if keys.contains(k.as_str()) {
            continue;
        }
        let op = if matches!(r, Requirement::NotIn(..)) { "NotIn" } else { "DoesNotExist" };
        let d = out.report(
            meta,
            p,
            path,
            format!("`{path}` of NetworkPolicy `{}` uses {op} on label `{k}`, which no {what} of the input carries: it selects every {what}", p.qualified_name()),
        );
        d.help(format!("check the spelling of `{k}`; the labels in use are {}", keys.iter().take(8).map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")));
    }
}
