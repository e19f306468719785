//! Input problems: text that is not YAML, documents that are not valid objects, duplicates,
//! suppressions that name no rule.
//! The loader finds them; these rules give them ids, docs and the report's shape.

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

use super::{Diagnostics, RuleMeta};
use crate::model::{ProblemKind, Workspace};

fn report_problems(ws: &Workspace, kind: ProblemKind, meta: &RuleMeta, help: &str, out: &mut Diagnostics) {
    for p in ws.problems.iter().filter(|p| p.kind == kind) {
        let d = out.report_at(meta, p.object.as_deref().cloned(), p.loc.clone(), p.message.clone());
        d.help(help);
        d.related.clone_from(&p.related);
    }
}
