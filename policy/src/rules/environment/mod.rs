//! Workload environment (`NR5xx`): what the containers' environment, arguments and host
//! aliases say about where they connect — proxies, `NO_PROXY`, hard-coded addresses.

mod hardcoded_cluster_ip;
mod no_proxy_misses_cluster;
mod proxy_env_malformed;

pub use hardcoded_cluster_ip::HardcodedClusterIp;
pub use no_proxy_misses_cluster::NoProxyMissesCluster;
pub use proxy_env_malformed::ProxyEnvMalformed;

use k8s_openapi::api::core::v1::Container;

use crate::model::Workload;

/// Every container of `w` (init containers too) with its field path relative to the object.
fn containers(w: &Workload) -> Vec<(String, &Container)> {
    let main = w.spec.containers.iter().enumerate().map(|(i, c)| (w.template_field(&format!("spec.containers[{i}]")), c));
    let init = w.spec.init_containers.iter().flatten().enumerate().map(|(i, c)| (w.template_field(&format!("spec.initContainers[{i}]")), c));
    main.chain(init).collect()
}

/// The field path of the last `env` entry named `name` in a container at `base`.
fn env_path(base: &str, c: &Container, name: &str) -> Option<String> {
    let i = c.env.as_deref()?.iter().rposition(|e| e.name == name)?;
    Some(format!("{base}.env[{i}]"))
}
