//! What the input (`NR0xx`) rules share. A rule file uses these; it never uses another rule file.

use crate::rules::{Diagnostics, RuleMeta};
use crate::model::{ProblemKind, Workspace};

pub(super) fn report_problems(ws: &Workspace, kind: ProblemKind, meta: &RuleMeta, help: &str, out: &mut Diagnostics) {
    for p in ws.problems.iter().filter(|p| p.kind == kind) {
        let d = out.report_at(meta, p.object.as_deref().cloned(), p.loc.clone(), p.message.clone());
        d.help(help);
        d.related.clone_from(&p.related);
    }
}
