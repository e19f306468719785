//! Istio's `ServiceEntry`, `Sidecar` and `DestinationRule` (networking.istio.io v1, v1beta1 and
//! v1alpha3 share these fields) and the mesh config: the fields the rules read, typed as the
//! CRD schema types them.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{nullable, Labels, ObjRef, ObjectId};

/// An Istio object of one kind, with its typed `spec`.
#[derive(Debug, Clone)]
pub struct IstioObject<S> {
    /// Identity.
    pub id: ObjectId,
    /// Where.
    pub obj: ObjRef,
    /// Namespace.
    pub namespace: String,
    /// `spec`.
    pub spec: S,
}

/// A ServiceEntry.
pub type ServiceEntry = IstioObject<ServiceEntrySpec>;
/// A Sidecar.
pub type Sidecar = IstioObject<SidecarSpec>;
/// A DestinationRule.
pub type DestinationRule = IstioObject<DestinationRuleSpec>;

/// A ServiceEntry's `spec`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEntrySpec {
    /// Host names (exact, or `*.` wildcard).
    #[serde(default, deserialize_with = "nullable")]
    pub hosts: Vec<String>,
    /// Virtual IPs or CIDRs.
    #[serde(default, deserialize_with = "nullable")]
    pub addresses: Vec<String>,
    /// Ports.
    #[serde(default, deserialize_with = "nullable")]
    pub ports: Vec<ServicePort>,
    /// `MESH_EXTERNAL` (default) or `MESH_INTERNAL`.
    #[serde(default)]
    pub location: Option<String>,
    /// `NONE` (default), `STATIC`, `DNS`, `DNS_ROUND_ROBIN` or `DYNAMIC_DNS`.
    #[serde(default)]
    pub resolution: Option<String>,
    /// Endpoints.
    #[serde(default, deserialize_with = "nullable")]
    pub endpoints: Vec<WorkloadEntry>,
    /// Selects WorkloadEntries and pods as endpoints instead.
    #[serde(default)]
    pub workload_selector: Option<WorkloadSelector>,
    /// Namespaces the entry is visible to.
    #[serde(default, deserialize_with = "nullable")]
    pub export_to: Vec<String>,
    /// Addresses Istio allocated (`status.addresses[].value`); filled from the object's status.
    #[serde(skip)]
    pub allocated: Vec<String>,
}

impl ServiceEntrySpec {
    /// `resolution`, `NONE` when unset.
    pub fn resolution(&self) -> &str {
        self.resolution.as_deref().filter(|r| !r.is_empty()).unwrap_or("NONE")
    }
}

/// A ServiceEntry port.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    /// Port number.
    #[serde(default)]
    pub number: Option<u32>,
    /// Protocol as written (Istio compares it case-insensitively).
    #[serde(default, deserialize_with = "nullable")]
    pub protocol: String,
    /// Port name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Port on the endpoints.
    #[serde(default)]
    pub target_port: Option<u32>,
}

impl ServicePort {
    /// The protocol in upper case (empty when unset).
    pub fn protocol(&self) -> String {
        self.protocol.to_ascii_uppercase()
    }
}

/// A ServiceEntry endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadEntry {
    /// Address (IP, host name or unix socket).
    #[serde(default, deserialize_with = "nullable")]
    pub address: String,
    /// Port name → endpoint port.
    #[serde(default, deserialize_with = "nullable")]
    pub ports: BTreeMap<String, u32>,
    /// Labels.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: Labels,
}

/// `workloadSelector`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkloadSelector {
    /// Labels a workload must all carry.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: Labels,
}

/// The `status` of a ServiceEntry.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ServiceEntryStatus {
    #[serde(default, deserialize_with = "nullable")]
    pub addresses: Vec<AllocatedAddress>,
}

/// One `status.addresses` entry.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct AllocatedAddress {
    #[serde(default, deserialize_with = "nullable")]
    pub value: String,
}

/// A Sidecar's `spec`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarSpec {
    /// Workloads it applies to; absent for its whole namespace.
    #[serde(default)]
    pub workload_selector: Option<WorkloadSelector>,
    /// Inbound listeners.
    #[serde(default, deserialize_with = "nullable")]
    pub ingress: Vec<IgnoredAny>,
    /// Outbound listeners.
    #[serde(default, deserialize_with = "nullable")]
    pub egress: Vec<EgressListener>,
    /// Outbound mode for its workloads.
    #[serde(default)]
    pub outbound_traffic_policy: Option<OutboundTrafficPolicy>,
    /// Inbound connection pool settings.
    #[serde(default)]
    pub inbound_connection_pool: Option<IgnoredAny>,
}

/// `egress[]` of a Sidecar.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressListener {
    /// The listener's port; absent for the catch-all listener.
    #[serde(default)]
    pub port: Option<SidecarPort>,
    /// Address (or `unix://` socket) the listener binds to.
    #[serde(default)]
    pub bind: Option<String>,
    /// `namespace/dnsName` hosts the listener admits.
    #[serde(default, deserialize_with = "nullable")]
    pub hosts: Vec<String>,
}

/// A Sidecar listener's port.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SidecarPort {
    /// Port number; 0 for a Unix domain socket listener.
    #[serde(default)]
    pub number: u32,
    /// Protocol as written.
    #[serde(default, deserialize_with = "nullable")]
    pub protocol: String,
    /// Port name (optional).
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
}

/// `outboundTrafficPolicy` (of a Sidecar or of the mesh config).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundTrafficPolicy {
    /// `REGISTRY_ONLY` or `ALLOW_ANY` (mesh config also `ALLOW_ANY_DYNAMIC_DNS`).
    #[serde(default)]
    pub mode: Option<String>,
    /// Deprecated proxy for unknown hosts.
    #[serde(default)]
    pub egress_proxy: Option<IgnoredAny>,
}

/// A DestinationRule's `spec`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationRuleSpec {
    /// The host it applies to.
    #[serde(default, deserialize_with = "nullable")]
    pub host: String,
    /// Traffic policy.
    #[serde(default)]
    pub traffic_policy: Option<TrafficPolicy>,
}

/// `trafficPolicy`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPolicy {
    /// TLS towards the host.
    #[serde(default)]
    pub tls: Option<ClientTls>,
    /// Per-port overrides.
    #[serde(default, deserialize_with = "nullable")]
    pub port_level_settings: Vec<PortTrafficPolicy>,
}

/// `trafficPolicy.portLevelSettings[]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortTrafficPolicy {
    /// The port.
    #[serde(default)]
    pub port: Option<PortSelector>,
    /// TLS towards the host on that port.
    #[serde(default)]
    pub tls: Option<ClientTls>,
}

/// `{number: …}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PortSelector {
    /// Port number.
    #[serde(default)]
    pub number: Option<u32>,
}

/// `tls` of a traffic policy.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClientTls {
    /// `DISABLE`, `SIMPLE`, `MUTUAL` or `ISTIO_MUTUAL`.
    #[serde(default)]
    pub mode: Option<String>,
}

impl ClientTls {
    /// Whether the sidecar originates TLS to a non-mesh destination.
    pub fn originates(&self) -> bool {
        matches!(self.mode.as_deref(), Some("SIMPLE" | "MUTUAL"))
    }
}

/// The parts of Istio's MeshConfig the rules read (the `mesh` key of the `istio` ConfigMap).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshConfig {
    /// Mesh-wide outbound mode.
    #[serde(default)]
    pub outbound_traffic_policy: Option<OutboundTrafficPolicy>,
    /// Defaults for every proxy.
    #[serde(default)]
    pub default_config: Option<ProxyConfig>,
}

/// `defaultConfig` of the mesh config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyConfig {
    /// Environment of every sidecar (`ISTIO_META_DNS_CAPTURE`, …).
    #[serde(default, deserialize_with = "nullable")]
    pub proxy_metadata: BTreeMap<String, String>,
}

impl MeshConfig {
    /// Whether `proxyMetadata` sets `key` to "true".
    pub fn proxy_flag(&self, key: &str) -> bool {
        self.default_config.as_ref().and_then(|d| d.proxy_metadata.get(key)).is_some_and(|v| v == "true")
    }
}
