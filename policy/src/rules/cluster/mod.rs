//! Cluster-wide policies (`NR6xx`): ClusterNetworkPolicy and its v1alpha1 predecessors —
//! whether the API accepts them, and whether their tiers and rules do what they appear to.

mod helpers;
mod invalid_cluster_network_policy;

pub use invalid_cluster_network_policy::InvalidClusterNetworkPolicy;
