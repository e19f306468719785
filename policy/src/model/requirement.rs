//! Declared requirements: what a workload needs to reach, written where its owners write it.
//!
//! Two places, one grammar. On the workload (object or pod template), the annotation
//! `netreach.dev/egress` holds entries separated by new lines, `;` or `,`. A `Requirements`
//! document of netreach's own kind lists them for the workloads its `podSelector` matches:
//!
//! ```yaml
//! apiVersion: netreach.dev/v1alpha1
//! kind: Requirements
//! metadata: {name: distributed-issuer, namespace: venafi}
//! spec:
//!   podSelector: {matchLabels: {app: distributed-issuer}}
//!   egress:
//!     - ALLOW ngts.paloaltonetworks.com TCP 443     # a firewall table row, verbatim
//!     - "| ALLOW | ngts.paloaltonetworks.com | TCP | 443 |"   # or with its pipes
//!     - postgres.db:5432                            # Service `postgres` in namespace `db`
//!     - vault.secrets.svc.cluster.local:8200/TCP
//! ```
//!
//! An entry is `ALLOW <host> <TCP|UDP|SCTP> <port>` or `<host>:<port>[/<protocol>]` (TCP when
//! omitted). The host is an IP address, a Service name (`svc`, `svc.ns`, `svc.ns.svc`,
//! `svc.ns.svc.<clusterDomain>`) or an external name; see [`Need::service`].

use std::net::IpAddr;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Deserialize;

use super::{ObjRef, ObjectId, Protocol, Selector};
use crate::source::join_index;

/// The `apiVersion` of a requirements document.
pub const API_VERSION: &str = "netreach.dev/v1alpha1";
/// The `kind` of a requirements document.
pub const REQUIREMENTS_KIND: &str = "Requirements";
/// The workload annotation that declares egress needs.
pub const EGRESS_ANNOTATION: &str = "netreach.dev/egress";

/// The workload annotation that says whether it talks to the Kubernetes API (`"true"`/`"false"`).
pub const API_CLIENT_ANNOTATION: &str = "netreach.dev/api-client";

/// One declared need: reach `host` on `protocol`/`port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The entry as written (trimmed).
    pub text: String,
    /// Host name, Service name or IP address.
    pub host: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Port.
    pub port: u16,
}

/// Where a need points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedTarget {
    /// An IP address.
    Ip(IpAddr),
    /// A Service: name and namespace (`None`: the workload's own namespace).
    Service(String, Option<String>),
    /// A name outside the cluster.
    External(String),
}

impl Need {
    /// Parse one entry.
    pub fn parse(entry: &str) -> Result<Need, String> {
        let text = entry.trim().to_string();
        let words: Vec<&str> = text.split(|c: char| c == '|' || c.is_whitespace()).filter(|w| !w.is_empty()).collect();
        let (host, protocol, port) = match words.as_slice() {
            [allow, host, proto, port] if allow.eq_ignore_ascii_case("allow") => (*host, *proto, *port),
            [one] => {
                let (hostport, proto) = one.split_once('/').unwrap_or((one, "TCP"));
                let Some((host, port)) = hostport.rsplit_once(':') else {
                    return Err(format!("{text:?} has no port: write `host:port` or `ALLOW host TCP port`"));
                };
                (host.trim_start_matches('[').trim_end_matches(']'), proto, port)
            }
            _ => return Err(format!("{text:?} is not `ALLOW host PROTOCOL port` nor `host:port[/PROTOCOL]`")),
        };
        let protocol = Protocol::parse(&protocol.to_ascii_uppercase())
            .ok_or_else(|| format!("{text:?}: protocol {protocol:?} is not TCP, UDP or SCTP"))?;
        let port = port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("{text:?}: port {port:?} is not 1-65535"))?;
        if host.is_empty() {
            return Err(format!("{text:?} has no host"));
        }
        Ok(Need { host: host.to_ascii_lowercase(), protocol, port, text })
    }

    /// What the host names. `svc.ns.svc[.<clusterDomain>]` and a bare `svc` are Services; a
    /// two-label `a.b` is Service `a` in namespace `b` only when `b` is a namespace of the
    /// input (`is_namespace`), since `example.com` has the same shape.
    pub fn target(&self, cluster_domain: &str, is_namespace: impl Fn(&str) -> bool) -> NeedTarget {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return NeedTarget::Ip(ip);
        }
        let host = self.host.trim_end_matches('.');
        let suffix = format!(".svc.{cluster_domain}");
        let short = host.strip_suffix(suffix.as_str()).or_else(|| host.strip_suffix(".svc"));
        let labels: Vec<&str> = short.unwrap_or(host).split('.').collect();
        match (short.is_some(), labels.as_slice()) {
            (true, [name, ns]) => NeedTarget::Service((*name).to_string(), Some((*ns).to_string())),
            (false, [name]) => NeedTarget::Service((*name).to_string(), None),
            (false, [name, ns]) if is_namespace(ns) => NeedTarget::Service((*name).to_string(), Some((*ns).to_string())),
            _ => NeedTarget::External(host.to_string()),
        }
    }
}

/// Parse an annotation value: entries separated by new lines, `;` or `,`.
pub fn parse_requirements(value: &str) -> Vec<Result<Need, String>> {
    value.split(['\n', ';', ',']).filter(|e| !e.trim().is_empty()).map(Need::parse).collect()
}

/// The `spec` of a `Requirements` document.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequirementsSpec {
    /// Workloads of the namespace the needs apply to; absent or `{}`: all.
    #[serde(default)]
    pub pod_selector: Option<LabelSelector>,
    /// Egress needs, one entry each.
    #[serde(default)]
    pub egress: Vec<String>,
}

/// A `Requirements` document.
#[derive(Debug, Clone)]
pub struct Requirements {
    /// Identity.
    pub id: ObjectId,
    /// Where.
    pub obj: ObjRef,
    /// Namespace.
    pub namespace: String,
    /// Workloads it applies to.
    pub selector: Selector,
    /// Each entry with its field path.
    pub egress: Vec<(String, Result<Need, String>)>,
}

impl Requirements {
    /// Build from the spec.
    pub fn new(id: ObjectId, obj: ObjRef, namespace: String, spec: &RequirementsSpec) -> Self {
        let selector = spec.pod_selector.as_ref().map_or_else(Selector::everything, Selector::parse);
        let egress = spec.egress.iter().enumerate().map(|(i, e)| (join_index("spec.egress", i), Need::parse(e))).collect();
        Self { id, obj, namespace, selector, egress }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(s: &str) -> Need {
        match Need::parse(s) {
            Ok(n) => n,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn table_rows_and_host_port_forms() {
        let n = need("ALLOW ngts.paloaltonetworks.com TCP 443");
        assert_eq!((n.host.as_str(), n.protocol, n.port), ("ngts.paloaltonetworks.com", Protocol::Tcp, 443));
        assert_eq!(need("| ALLOW | ngts.paloaltonetworks.com | TCP | 443 |").host, "ngts.paloaltonetworks.com");
        let n = need("dns.example:53/udp");
        assert_eq!((n.protocol, n.port), (Protocol::Udp, 53));
        assert_eq!(need("[2001:db8::1]:443").host, "2001:db8::1");
        assert!(Need::parse("example.com").is_err());
        assert!(Need::parse("ALLOW example.com ICMP 1").is_err());
        assert!(Need::parse("example.com:0").is_err());
        assert_eq!(parse_requirements("a:1; b:2\nc:3,").len(), 3);
    }

    #[test]
    fn targets_follow_service_dns() {
        let ns = |n: &str| n == "db";
        let t = |s: &str| need(s).target("cluster.local", ns);
        assert_eq!(t("postgres.db:5432"), NeedTarget::Service("postgres".into(), Some("db".into())));
        assert_eq!(t("postgres.other.svc:5432"), NeedTarget::Service("postgres".into(), Some("other".into())));
        assert_eq!(t("postgres.other.svc.cluster.local:5432"), NeedTarget::Service("postgres".into(), Some("other".into())));
        assert_eq!(t("postgres:5432"), NeedTarget::Service("postgres".into(), None));
        assert_eq!(t("example.com:443"), NeedTarget::External("example.com".into()));
        assert_eq!(t("10.0.0.1:443"), NeedTarget::Ip("10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
    }
}
