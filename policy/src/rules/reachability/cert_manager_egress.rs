use super::helpers::{allow_policy, related};
use crate::model::contains_labels;
use crate::model::Protocol;
use crate::netpol::{Direction, KnownPods, SideVerdict, Target};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// cert-manager controller egress incomplete
    ///
    /// ## What it does
    /// Finds cert-manager controller pods (profile `certManager`: namespace and controller
    /// labels; the Deployment when it is in the input, else the pods the namespace's policies
    /// select) that are egress-isolated and lack what the input's issuers need:
    /// - TCP 443 to any address, for an ACME issuer (Let's Encrypt publishes no address list);
    /// - TCP 80 to any address, for an HTTP-01 solver (the self-check fetches the challenge
    ///   through the public address);
    /// - UDP **and** TCP 53 to any address, for a DNS-01 solver (the propagation check queries
    ///   the authoritative nameservers directly).
    ///
    /// "Any address" means a rule without `to` or an `ipBlock` of `0.0.0.0/0` (exceptions
    /// allowed). The API server is NR204's.
    ///
    /// ## Why is this bad?
    /// Every one of these failures leaves Certificates pending with a timeout in the
    /// controller's log. Who writes the Issuer (an application team) and who writes the
    /// policy (the platform team) differ, so the gap appears when a new issuer type is used.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: cert-manager-egress, namespace: cert-manager}
    /// spec:
    ///   podSelector: {matchLabels: {app.kubernetes.io/name: cert-manager}}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ///       ports: [{protocol: TCP, port: 443}, {protocol: TCP, port: 6443}]
    /// ---
    /// apiVersion: cert-manager.io/v1
    /// kind: ClusterIssuer
    /// metadata: {name: letsencrypt-dns}
    /// spec:
    ///   acme:
    ///     server: https://acme-v02.api.letsencrypt.org/directory
    ///     privateKeySecretRef: {name: letsencrypt-dns}
    ///     solvers: [{dns01: {cloudflare: {apiTokenSecretRef: {name: cf, key: token}}}}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: cert-manager-egress, namespace: cert-manager}
    /// spec:
    ///   podSelector: {matchLabels: {app.kubernetes.io/name: cert-manager}}
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ///       ports: [{protocol: TCP, port: 443}, {protocol: TCP, port: 6443}, {protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
    /// ---
    /// apiVersion: cert-manager.io/v1
    /// kind: ClusterIssuer
    /// metadata: {name: letsencrypt-dns}
    /// spec:
    ///   acme:
    ///     server: https://acme-v02.api.letsencrypt.org/directory
    ///     privateKeySecretRef: {name: letsencrypt-dns}
    ///     solvers: [{dns01: {cloudflare: {apiTokenSecretRef: {name: cf, key: token}}}}]
    /// ```
    pub CertManagerEgress {
        id: "NR210", name: "cert-manager-egress", severity: Severity::Error, tags: &["iso27001:A.13.1.1"],
    }
}

impl Rule for CertManagerEgress {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        let acme: Vec<_> = cx.ws.issuers.iter().filter_map(|i| i.spec.acme.as_ref()).collect();
        if acme.is_empty() {
            return;
        }
        let mut needs: Vec<(Protocol, u16, &str)> = vec![(Protocol::Tcp, 443, "the ACME server")];
        if acme.iter().any(|a| a.solvers.iter().any(|s| s.http01.is_some())) {
            needs.push((Protocol::Tcp, 80, "the HTTP-01 self-check"));
        }
        if acme.iter().any(|a| a.solvers.iter().any(|s| s.dns01.is_some())) {
            needs.push((Protocol::Udp, 53, "the DNS-01 propagation check"));
            needs.push((Protocol::Tcp, 53, "the DNS-01 propagation check"));
        }
        let cm = &cx.profile.cert_manager;
        if !cx.sees_namespace(&cm.namespace) {
            if let Some(i) = cx.ws.issuers.iter().find(|i| i.spec.acme.is_some() && cx.ws.reported(&i.obj)) {
                let what = format!("whether the cert-manager controller in `{}` can reach what `{}` needs", cm.namespace, i.id);
                out.unverifiable(&meta, Some(i.id.clone()), cx.at(&i.obj, "spec.acme"), &what, &cx.ws.coverage);
            }
            return;
        }
        let controller = KnownPods {
            display: format!("the cert-manager controller ({} in {})", crate::model::labels_text(&cm.controller_labels), cm.namespace),
            namespace: cm.namespace.clone(),
            labels: cm.controller_labels.clone(),
            ports: Vec::new(),
            pod_cidrs: cx.profile.pod_cidrs.clone(),
        };
        let anywhere = Target::Internet("any address".into());
        let workloads: Vec<usize> = (0..cx.ws.workloads.len())
            .filter(|&i| cx.ws.workloads.get(i).is_some_and(|w| w.namespace == cm.namespace && contains_labels(&w.labels, &cm.controller_labels)))
            .collect();
        // (display, isolating policies, verdict per need, object, location)
        let mut subjects = Vec::new();
        if workloads.is_empty() {
            let isolating = cx.engine.selecting(&cm.namespace, &cm.controller_labels, Direction::Egress);
            let Some(first) = isolating.first().and_then(|&p| cx.ws.policies.get(p)) else { return };
            let verdicts: Vec<SideVerdict> = needs.iter().map(|(proto, port, _)| cx.engine.pods_egress_to(&controller, &anywhere, *port, *proto)).collect();
            if cx.ws.reported(&first.obj) {
                subjects.push((controller.display.clone(), isolating.clone(), verdicts, first.id.clone(), cx.at(&first.obj, "spec.podSelector"), controller.labels.clone()));
            }
        }
        for i in workloads {
            let Some(w) = cx.ws.workloads.get(i) else { continue };
            let isolating = cx.engine.isolating(i, Direction::Egress).to_vec();
            if (isolating.is_empty() && !cx.engine.cluster_governed(i, Direction::Egress)) || !cx.ws.reported(&w.obj) {
                continue;
            }
            let verdicts = needs.iter().map(|(proto, port, _)| cx.engine.egress_to(i, &anywhere, *port, *proto)).collect();
            subjects.push((w.display(), isolating, verdicts, w.id.clone(), cx.at(&w.obj, "metadata.name"), w.labels.clone()));
        }
        for (display, isolating, verdicts, object, loc, labels) in subjects {
            let missing: Vec<(&(Protocol, u16, &str), &SideVerdict)> = needs.iter().zip(&verdicts).filter(|(_, v)| !v.allowed).collect();
            if missing.is_empty() {
                continue;
            }
            let what: Vec<String> = missing.iter().map(|((proto, port, why), _)| format!("{proto} {port} ({why})")).collect();
            let ports: Vec<(Protocol, u16)> = missing.iter().map(|((proto, port, _), _)| (*proto, *port)).collect();
            let fix = allow_policy(
                format!("allow {display} to reach any address on {}", what.join(", ")),
                &cm.namespace,
                "allow-cert-manager-egress",
                &labels,
                Direction::Egress,
                &["- ipBlock: {cidr: 0.0.0.0/0}".to_string()],
                &ports,
            );
            let message = format!("{display} cannot reach {}", what.join(", "));
            let d = out.report_at(&meta, Some(object), loc, message);
            for r in missing.iter().flat_map(|(_, v)| v.reasons.iter()) {
                if !d.explanation.contains(r) {
                    d.why(r.clone());
                }
            }
            d.related(related(cx, &isolating, "isolates its egress"));
            d.fix(fix);
            d.help("ACME servers, HTTP-01 self-checks and authoritative nameservers have no fixed addresses: allow these ports to 0.0.0.0/0");
        }
    }
}
