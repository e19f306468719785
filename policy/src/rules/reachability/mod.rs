//! Reachability requirements (`NR2xx`): what a workload needs to reach — DNS, the API server,
//! its proxy, declared needs, the paths of ingress and cert-manager — checked through every
//! NetworkPolicy that applies, with the blocking policy and rule named and a patch to add.

mod helpers;
mod api_server_blocked;
mod cert_manager_egress;
mod dns_tcp_blocked;
mod dns_udp_blocked;
mod dns_wrong_resolver;
mod http01_solver_blocked;
mod ingress_backend_blocked;
mod istiod_blocked;
mod proxy_blocked;
mod requirement_blocked;

pub use api_server_blocked::ApiServerBlocked;
pub use cert_manager_egress::CertManagerEgress;
pub use dns_tcp_blocked::DnsTcpBlocked;
pub use dns_udp_blocked::DnsUdpBlocked;
pub use dns_wrong_resolver::DnsWrongResolver;
pub use http01_solver_blocked::Http01SolverBlocked;
pub use ingress_backend_blocked::IngressBackendBlocked;
pub use istiod_blocked::IstiodBlocked;
pub use proxy_blocked::ProxyBlocked;
pub use requirement_blocked::RequirementBlocked;
