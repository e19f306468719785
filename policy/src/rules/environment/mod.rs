//! Workload environment (`NR5xx`): what the containers' environment, arguments and host
//! aliases say about where they connect — proxies, `NO_PROXY`, hard-coded addresses.

mod helpers;
mod hardcoded_cluster_ip;
mod no_proxy_misses_cluster;
mod proxy_env_malformed;

pub use hardcoded_cluster_ip::HardcodedClusterIp;
pub use no_proxy_misses_cluster::NoProxyMissesCluster;
pub use proxy_env_malformed::ProxyEnvMalformed;
