use super::helpers::{allow_policy, egress_blocked, egress_candidates, fix_name, peer_yaml, report_egress, unverifiable};
use crate::model::Protocol;
use crate::netpol::Direction;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Kubernetes API unreachable for an API client
    ///
    /// ## What it does
    /// Finds an egress-isolated workload that talks to the Kubernetes API — its ServiceAccount
    /// is a subject of a RoleBinding or ClusterRoleBinding in the input, it is the cert-manager
    /// controller of the profile, or it carries `netreach.dev/api-client: "true"` — whose
    /// policies do not allow TCP to the API server on every port of the profile
    /// (`apiServer.ports`, default 443 and 6443) and address (`apiServer.addresses`; when
    /// unknown, only a rule without `to` or with an `ipBlock` can match).
    ///
    /// ## Why is this bad?
    /// The API server is not a pod: pod and namespace selectors never match it. Policies see
    /// the connection after the `kubernetes` Service's DNAT, so the port that counts is the
    /// endpoint's (often 6443), not the Service's 443. Controllers then fail to list, watch or
    /// take their leader lease, usually with a timeout that names no policy.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: operator-egress, namespace: ops}
    /// spec:
    ///   podSelector: {matchLabels: {app: operator}}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ///       ports: [{protocol: TCP, port: 443}, {protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: operator, namespace: ops}
    /// spec:
    ///   selector: {matchLabels: {app: operator}}
    ///   template:
    ///     metadata:
    ///       labels: {app: operator}
    ///       annotations: {netreach.dev/api-client: "true"}
    ///     spec: {containers: [{name: operator, image: ops/operator}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: operator-egress, namespace: ops}
    /// spec:
    ///   podSelector: {matchLabels: {app: operator}}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ///       ports: [{protocol: TCP, port: 443}, {protocol: TCP, port: 6443}, {protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: operator, namespace: ops}
    /// spec:
    ///   selector: {matchLabels: {app: operator}}
    ///   template:
    ///     metadata:
    ///       labels: {app: operator}
    ///       annotations: {netreach.dev/api-client: "true"}
    ///     spec: {containers: [{name: operator, image: ops/operator}]}
    /// ```
    pub ApiServerBlocked {
        id: "NR204", name: "api-server-blocked", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for ApiServerBlocked {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let cm = &cx.profile.cert_manager;
        for (i, w) in egress_candidates(cx) {
            let cert_manager = w.namespace == cm.namespace && crate::model::contains_labels(&w.labels, &cm.controller_labels);
            if !cert_manager && !cx.is_api_client(w) {
                continue;
            }
            if unverifiable(cx, out, &meta, w, &format!("whether `{}` can reach the Kubernetes API", w.display())) {
                continue;
            }
            let targets = cx.api_server_targets();
            let mut blocked = Vec::new();
            let mut verdict = None;
            for &port in &cx.profile.api_server.ports {
                if let Some(v) = egress_blocked(cx, i, &targets, Protocol::Tcp, port) {
                    blocked.push(port);
                    verdict.get_or_insert(v);
                }
            }
            let Some(verdict) = verdict else { continue };
            let peers: Vec<String> = targets.iter().map(|t| peer_yaml(cx, t)).collect();
            let ports: Vec<(Protocol, u16)> = blocked.iter().map(|p| (Protocol::Tcp, *p)).collect();
            let shown: Vec<String> = blocked.iter().map(u16::to_string).collect();
            let fix = allow_policy(
                format!("allow {} to reach the Kubernetes API on TCP {}", w.display(), shown.join(" and ")),
                &w.namespace,
                &fix_name("apiserver", w),
                &w.labels,
                Direction::Egress,
                &peers,
                &ports,
            );
            let message = format!("`{}` talks to the Kubernetes API but cannot reach it on TCP {}", w.display(), shown.join(" and "));
            if let Some(d) = report_egress(out, &meta, cx, i, message, &verdict, fix) {
                d.help("allow TCP to the API server's endpoint addresses (an ipBlock; set `apiServer.addresses` in the profile to narrow it) on 443 and 6443");
            }
        }
    }
}
