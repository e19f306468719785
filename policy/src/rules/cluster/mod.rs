//! Cluster-wide policies (`NR6xx`): ClusterNetworkPolicy and its v1alpha1 predecessors —
//! whether the API accepts them, and whether their tiers and rules do what they appear to.

mod cluster_deny_blocks_essentials;
mod cluster_pass_decides_nothing;
mod cluster_policy_v1alpha1;
mod cluster_priority_overlap;
mod cluster_rule_shadowed;
mod helpers;
mod invalid_cluster_network_policy;

pub use cluster_deny_blocks_essentials::ClusterDenyBlocksEssentials;
pub use cluster_pass_decides_nothing::ClusterPassDecidesNothing;
pub use cluster_policy_v1alpha1::ClusterPolicyV1alpha1;
pub use cluster_priority_overlap::ClusterPriorityOverlap;
pub use cluster_rule_shadowed::ClusterRuleShadowed;
pub use invalid_cluster_network_policy::InvalidClusterNetworkPolicy;
