//! Input problems: text that is not YAML, documents that are not valid objects, duplicates,
//! suppressions that name no rule.
//! The loader finds them; these rules give them ids, docs and the report's shape.

mod helpers;
mod duplicate_object;
mod invalid_object;
mod invalid_yaml;
mod not_an_object;
mod suppression_unknown_rule;

pub use duplicate_object::DuplicateObject;
pub use invalid_object::InvalidObject;
pub use invalid_yaml::InvalidYaml;
pub use not_an_object::NotAnObject;
pub use suppression_unknown_rule::SuppressionUnknownRule;
