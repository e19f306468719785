//! NetworkPolicy correctness and hygiene (`NR1xx`).

mod helpers;
mod invalid_network_policy;
mod named_port_undeclared;
mod namespace_name_label;
mod no_default_deny;
mod peer_selects_nothing;
mod policy_selects_nothing;
mod rule_allows_everything;
mod rules_outside_policy_types;
mod service_port_in_policy;
mod workload_not_isolated;

pub use invalid_network_policy::InvalidNetworkPolicy;
pub use named_port_undeclared::NamedPortUndeclared;
pub use namespace_name_label::NamespaceNameLabel;
pub use no_default_deny::NoDefaultDeny;
pub use peer_selects_nothing::PeerSelectsNothing;
pub use policy_selects_nothing::PolicySelectsNothing;
pub use rule_allows_everything::RuleAllowsEverything;
pub use rules_outside_policy_types::RulesOutsidePolicyTypes;
pub use service_port_in_policy::ServicePortInPolicy;
pub use workload_not_isolated::WorkloadNotIsolated;
