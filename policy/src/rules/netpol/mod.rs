//! NetworkPolicy correctness and hygiene (`NR1xx`).

mod invalid_network_policy;

pub use invalid_network_policy::InvalidNetworkPolicy;
