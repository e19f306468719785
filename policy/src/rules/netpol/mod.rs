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

use crate::model::ObjectId;
use crate::report::Fix;

/// A fix that adds the default-deny NetworkPolicy `name` for `types` to `namespace` (NR115, NR116).
fn default_deny_fix(description: String, namespace: &str, name: &str, types: &[&str]) -> Fix {
    let policy_types = types.join(", ");
    Fix {
        description,
        patch: format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  podSelector: {{}}\n  policyTypes: [{policy_types}]"
        ),
        target: ObjectId {
            api_version: "networking.k8s.io/v1".into(),
            kind: "NetworkPolicy".into(),
            name: name.to_string(),
            namespace: Some(namespace.to_string()),
        },
    }
}
