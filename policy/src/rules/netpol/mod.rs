//! NetworkPolicy correctness and hygiene (`NR1xx`).

mod invalid_network_policy;
mod no_default_deny;
mod policy_selects_nothing;
mod rules_outside_policy_types;
mod workload_not_isolated;

pub use invalid_network_policy::InvalidNetworkPolicy;
pub use no_default_deny::NoDefaultDeny;
pub use policy_selects_nothing::PolicySelectsNothing;
pub use rules_outside_policy_types::RulesOutsidePolicyTypes;
pub use workload_not_isolated::WorkloadNotIsolated;
