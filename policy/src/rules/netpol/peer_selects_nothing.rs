use std::collections::BTreeSet;

use super::helpers::{known_namespaces, names_by_missing_label};
use crate::model::{NamespaceScope, NetworkPolicy, Peer, PeerKind, Requirement, Selector, NAMESPACE_NAME_LABEL};
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
        let namespaces = known_namespaces(cx);
        let scan = Scan::new(cx, &namespaces);
        for p in cx.reported(&cx.ws.policies) {
            let peers = [Direction::Ingress, Direction::Egress].into_iter().flat_map(|dir| dir.rules(p)).flat_map(|r| r.peers.iter().flatten());
            let mut blind = false;
            for peer in peers {
                blind |= scan.peer(out, p, peer) == Seen::Partly;
            }
            if blind {
                let what = format!("whether the peers of NetworkPolicy `{}` select any pod", p.qualified_name());
                out.unverifiable(&Self::META, Some(p.id.clone()), cx.at(&p.obj, "spec"), &what, &cx.ws.coverage);
            }
        }
    }
}

/// Whether the input showed enough to check a peer.
#[derive(PartialEq, Eq)]
enum Seen {
    Fully,
    Partly,
}

/// What every peer is checked against: the known namespaces, pods and label keys.
struct Scan<'c> {
    cx: &'c Context<'c>,
    namespaces: &'c [(&'c str, crate::model::Labels)],
    pod_keys: BTreeSet<&'c str>,
    ns_keys: BTreeSet<&'c str>,
    runtime: Vec<(&'c str, crate::model::Labels)>,
}

impl<'c> Scan<'c> {
    fn new(cx: &'c Context<'c>, namespaces: &'c [(&'c str, crate::model::Labels)]) -> Self {
        let pod_keys = cx.ws.workloads.iter().flat_map(|w| w.labels.keys().map(String::as_str)).collect();
        let ns_keys = namespaces.iter().flat_map(|(_, l)| l.keys().map(String::as_str)).collect();
        Scan { cx, namespaces, pod_keys, ns_keys, runtime: cx.runtime_pods() }
    }

    /// Report what `peer` of `p` selects wrongly.
    fn peer(&self, out: &mut Diagnostics, p: &NetworkPolicy, peer: &Peer) -> Seen {
        let PeerKind::Pods { namespaces: scope, pods } = &peer.kind else { return Seen::Fully };
        let meta = PeerSelectsNothing::META;
        let psel_path = format!("{}.podSelector", peer.path);
        // Negative requirements on keys nobody carries select everything.
        if let NamespaceScope::Selected(sel) = scope {
            typo(out, &meta, p, sel, &self.ns_keys, &format!("{}.namespaceSelector", peer.path), "namespace");
        }
        typo(out, &meta, p, pods, &self.pod_keys, &psel_path, "pod");
        let in_scope = match scope {
            NamespaceScope::Own(ns) => vec![ns.as_str()],
            NamespaceScope::Selected(sel) => match self.selected_namespaces(out, p, peer, sel) {
                Ok(hit) => hit,
                Err(seen) => return seen,
            },
        };
        if pods.invalid.is_some() || pods.is_everything() {
            return Seen::Fully;
        }
        if in_scope.iter().any(|ns| !self.cx.sees_namespace(ns)) {
            return Seen::Partly;
        }
        let workloads = in_scope
            .iter()
            .flat_map(|ns| self.cx.engine.workloads_in(ns))
            .any(|&i| self.cx.ws.workloads.get(i).is_some_and(|w| pods.matches(&w.labels)));
        let known = self.runtime.iter().any(|(ns, l)| in_scope.contains(ns) && pods.matches(l));
        if !workloads && !known {
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
        Seen::Fully
    }

    /// The namespaces `sel` selects; when none, the finding is reported (or the input cannot
    /// tell) and the peer needs no further check.
    fn selected_namespaces(&self, out: &mut Diagnostics, p: &NetworkPolicy, peer: &Peer, sel: &Selector) -> Result<Vec<&'c str>, Seen> {
        if sel.invalid.is_some() {
            return Err(Seen::Fully);
        }
        let hit: Vec<&str> = self.namespaces.iter().filter(|(_, l)| sel.matches(l)).map(|(n, _)| *n).collect();
        if !hit.is_empty() {
            return Ok(hit);
        }
        if names_by_missing_label(sel, self.namespaces) {
            return Err(Seen::Fully);
        }
        if self.cx.ws.coverage == crate::model::Coverage::Object {
            return Err(Seen::Partly);
        }
        let d = out.report(
            &PeerSelectsNothing::META,
            p,
            &format!("{}.namespaceSelector", peer.path),
            format!("`{}` of NetworkPolicy `{}` selects no namespace: no namespace of the input or the profile has labels matching {sel}", peer.path, p.qualified_name()),
        );
        d.why(format!("namespaces known: {}", self.namespaces.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")));
        d.help(format!("select namespaces by `{NAMESPACE_NAME_LABEL}`, which the API server sets on every namespace"));
        Err(Seen::Fully)
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
