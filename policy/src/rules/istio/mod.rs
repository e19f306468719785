//! Istio ServiceEntry / egress (`NR4xx`): what the mesh lets a workload reach outside the
//! cluster, and the ServiceEntry and Sidecar mistakes Istio rejects or silently mis-routes.

mod helpers;
mod external_host_unregistered;
mod passthrough_shadowed;
mod service_entry_conflicting_protocols;
mod service_entry_invalid;
mod service_entry_invisible;
mod service_entry_needs_addresses;
mod service_entry_tls_as_http;
mod service_entry_wildcard_dns;
mod sidecar_invalid;

pub use external_host_unregistered::ExternalHostUnregistered;
pub use passthrough_shadowed::PassthroughShadowed;
pub use service_entry_conflicting_protocols::ServiceEntryConflictingProtocols;
pub use service_entry_invalid::ServiceEntryInvalid;
pub use service_entry_invisible::ServiceEntryInvisible;
pub use service_entry_needs_addresses::ServiceEntryNeedsAddresses;
pub use service_entry_tls_as_http::ServiceEntryTlsAsHttp;
pub use service_entry_wildcard_dns::ServiceEntryWildcardDns;
pub use sidecar_invalid::SidecarInvalid;
