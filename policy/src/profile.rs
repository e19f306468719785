//! The cluster profile: facts about the cluster that manifests do not carry (cluster domain,
//! where DNS and the API server are, which controllers run where). One small YAML document of
//! netreach's own kind, `--profile` on the CLI, `profile` in a check request or in admission
//! settings:
//!
//! ```yaml
//! apiVersion: netreach.dev/v1alpha1
//! kind: ClusterProfile
//! clusterDomain: cluster.local
//! dns: {namespace: kube-system, podLabels: {k8s-app: kube-dns}, serviceIP: 10.96.0.10}
//! apiServer: {addresses: [10.0.0.1/32], ports: [443, 6443]}
//! ```
//!
//! Every field has a documented default that matches an unmodified upstream install. A fact a
//! rule needs that has no safe default (the API server's addresses, the ingress controller, the
//! mesh's outbound policy) stays `None`, and the rule reports "unverifiable" instead of guessing.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::model::Labels;
use crate::Severity;
use crate::source::{parse_source, Limits};

/// The `apiVersion` of a profile document.
pub const API_VERSION: &str = "netreach.dev/v1alpha1";
/// The `kind` of a profile document.
pub const KIND: &str = "ClusterProfile";

/// Cluster facts (see the module docs). `Default` is the profile of an unmodified cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Profile {
    /// Always [`API_VERSION`].
    pub api_version: String,
    /// Always [`KIND`].
    pub kind: String,
    /// DNS suffix of Services (`<svc>.<ns>.svc.<clusterDomain>`); default `cluster.local`.
    pub cluster_domain: String,
    /// The cluster resolver.
    pub dns: Dns,
    /// The Kubernetes API server as pods reach it.
    pub api_server: ApiServer,
    /// Pod address ranges; empty when unknown.
    #[serde(rename = "podCIDRs")]
    pub pod_cidrs: Vec<IpNet>,
    /// Service (ClusterIP) address ranges; empty when unknown.
    #[serde(rename = "serviceCIDRs")]
    pub service_cidrs: Vec<IpNet>,
    /// The ingress controller whose pods forward to Ingress backends; `None` when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_controller: Option<Component>,
    /// cert-manager.
    pub cert_manager: CertManager,
    /// Istio.
    pub istio: Istio,
    /// Namespaces the segregation rules (NR115, NR116) leave alone.
    pub unsegregated_namespaces: BTreeSet<String>,
    /// Rule selection and severities, as on the command line (ids or names).
    pub rules: RuleSettings,
}

/// Where the cluster resolver runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Dns {
    /// Namespace of the DNS pods; default `kube-system`.
    pub namespace: String,
    /// Labels of the DNS pods; default `k8s-app: kube-dns` (CoreDNS keeps it).
    pub pod_labels: Labels,
    /// ClusterIP of the DNS Service, when known.
    #[serde(rename = "serviceIP", skip_serializing_if = "Option::is_none")]
    pub service_ip: Option<IpAddr>,
    /// NodeLocal DNSCache (or another link-local resolver) address pods send queries to.
    #[serde(rename = "nodeLocalIP", skip_serializing_if = "Option::is_none")]
    pub node_local_ip: Option<IpAddr>,
}

/// The API server endpoints pods connect to (after the `kubernetes` Service's DNAT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ApiServer {
    /// Endpoint addresses; empty when unknown.
    pub addresses: Vec<IpNet>,
    /// Ports; default 443 and 6443 (the Service port and the usual endpoint port).
    pub ports: Vec<u16>,
}

/// A component found by namespace and pod labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Component {
    /// Namespace.
    pub namespace: String,
    /// Pod labels.
    pub pod_labels: Labels,
    /// Pods use the node's network: selectors never match them, only `ipBlock`s do.
    #[serde(default)]
    pub host_network: bool,
}

/// cert-manager's install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CertManager {
    /// Namespace; default `cert-manager`.
    pub namespace: String,
    /// Controller pod labels; default the Helm chart's.
    pub controller_labels: Labels,
    /// Port of the HTTP-01 solver pods; default 8089.
    #[serde(rename = "http01SolverPort")]
    pub http01_solver_port: u16,
    /// Namespace where ClusterIssuer secrets live; default `cert-manager`.
    pub cluster_resource_namespace: String,
}

/// Istio's install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Istio {
    /// Namespace of istiod; default `istio-system`.
    pub namespace: String,
    /// istiod pod labels; default `app: istiod`.
    pub istiod_labels: Labels,
    /// Port sidecars fetch configuration from; default 15012.
    pub xds_port: u16,
    /// `meshConfig.outboundTrafficPolicy.mode`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound_traffic_policy: Option<OutboundTrafficPolicy>,
    /// Sidecars capture DNS and allocate addresses to ServiceEntries (`ISTIO_META_DNS_CAPTURE`
    /// with `ISTIO_META_DNS_AUTO_ALLOCATE`); default false, as in an upstream install.
    #[serde(rename = "dnsAutoAllocate")]
    pub dns_auto_allocate: bool,
}

/// Istio's mesh-wide outbound policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboundTrafficPolicy {
    /// Unknown hosts pass through.
    AllowAny,
    /// Only hosts in the registry (Services, ServiceEntries) are reachable.
    RegistryOnly,
}

/// Rule selection carried by a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RuleSettings {
    /// Rules to run; empty: all.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub only: BTreeSet<String>,
    /// Rules to leave out.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub skip: BTreeSet<String>,
    /// Severity per rule.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub severity: BTreeMap<String, Severity>,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            api_version: API_VERSION.into(),
            kind: KIND.into(),
            cluster_domain: "cluster.local".into(),
            dns: Dns::default(),
            api_server: ApiServer::default(),
            pod_cidrs: Vec::new(),
            service_cidrs: Vec::new(),
            ingress_controller: None,
            cert_manager: CertManager::default(),
            istio: Istio::default(),
            unsegregated_namespaces: ["kube-system", "kube-public", "kube-node-lease"].iter().map(|s| (*s).to_string()).collect(),
            rules: RuleSettings::default(),
        }
    }
}

impl Default for Dns {
    fn default() -> Self {
        Self { namespace: "kube-system".into(), pod_labels: labels(&[("k8s-app", "kube-dns")]), service_ip: None, node_local_ip: None }
    }
}

impl Default for ApiServer {
    fn default() -> Self {
        Self { addresses: Vec::new(), ports: vec![443, 6443] }
    }
}

impl Default for CertManager {
    fn default() -> Self {
        Self {
            namespace: "cert-manager".into(),
            controller_labels: labels(&[("app.kubernetes.io/name", "cert-manager"), ("app.kubernetes.io/component", "controller")]),
            http01_solver_port: 8089,
            cluster_resource_namespace: "cert-manager".into(),
        }
    }
}

impl Default for Istio {
    fn default() -> Self {
        Self {
            namespace: "istio-system".into(),
            istiod_labels: labels(&[("app", "istiod")]),
            xds_port: 15012,
            outbound_traffic_policy: None,
            dns_auto_allocate: false,
        }
    }
}

impl Profile {
    /// Read a profile from YAML or JSON text. Errors name the field and its `line:col`.
    pub fn from_text(text: &str) -> Result<Profile, String> {
        let (docs, errors) = parse_source(0, text, &Limits::default());
        if let Some(e) = errors.first() {
            let (line, col) = line_col(text, e.span.start);
            return Err(format!("{line}:{col}: {}", e.message));
        }
        let [doc] = docs.as_slice() else {
            return Err(format!("a profile is one document, found {}", docs.len()));
        };
        Profile::from_value(&doc.value).map_err(|(path, message)| {
            let (line, col) = line_col(text, doc.span_of(&path).start);
            format!("{line}:{col}: {message}")
        })
    }

    /// Read a profile from a JSON value; an error gives the field path and the message.
    pub fn from_value(value: &serde_json::Value) -> Result<Profile, (String, String)> {
        let profile: Profile = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            (if path == "." { String::new() } else { path.clone() }, format!("`{path}`: {inner}"))
        })?;
        profile.validate().map(|()| profile)
    }

    /// The checks serde cannot make: the document's kind, at least one API server port.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.api_version != API_VERSION || self.kind != KIND {
            return Err((
                "kind".into(),
                format!("a profile has `apiVersion: {API_VERSION}` and `kind: {KIND}`, not `{}` `{}`", self.api_version, self.kind),
            ));
        }
        if self.api_server.ports.is_empty() {
            return Err(("apiServer.ports".into(), "`apiServer.ports` must list at least one port".into()));
        }
        Ok(())
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn empty_profile_document_gives_the_defaults() {
        let p = Profile::from_text("apiVersion: netreach.dev/v1alpha1\nkind: ClusterProfile\n").unwrap();
        assert_eq!(p, Profile::default());
        assert_eq!(p.api_server.ports, vec![443, 6443]);
        assert_eq!(p.dns.pod_labels.get("k8s-app").map(String::as_str), Some("kube-dns"));
    }

    #[test]
    fn fields_are_read_and_errors_point_at_the_field() {
        let p = Profile::from_text(
            "apiVersion: netreach.dev/v1alpha1\nkind: ClusterProfile\ndns: {serviceIP: 10.96.0.10, nodeLocalIP: 169.254.20.10}\npodCIDRs: [10.244.0.0/16]\n",
        )
        .unwrap();
        assert_eq!(p.dns.service_ip, "10.96.0.10".parse().ok());
        assert_eq!(p.pod_cidrs.len(), 1);
        assert_eq!(p.dns.namespace, "kube-system", "unset fields keep their defaults");

        let e = Profile::from_text("apiVersion: netreach.dev/v1alpha1\nkind: ClusterProfile\ndns:\n  serviceIP: ten\n").unwrap_err();
        assert!(e.starts_with("4:14: `dns.serviceIP`"), "{e}");
        let e = Profile::from_text("apiVersion: netreach.dev/v1alpha1\nkind: ClusterProfile\ndnss: {}\n").unwrap_err();
        assert!(e.contains("unknown field `dnss`"), "{e}");
        let e = Profile::from_text("apiVersion: v1\nkind: ConfigMap\n").unwrap_err();
        assert!(e.starts_with("2:7: a profile has"), "{e}");
    }
}
