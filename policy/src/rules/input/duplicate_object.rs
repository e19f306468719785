use super::helpers::report_problems;
use crate::model::ProblemKind;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Same object defined more than once
    ///
    /// ## What it does
    /// Reports every definition of an object whose kind, namespace and name appear more than
    /// once in the input. netreach analyses all definitions (their union), so the result does
    /// not depend on document order.
    ///
    /// ## Why is this bad?
    /// Only one object of a kind may have a given name in a namespace: whichever is applied
    /// last silently replaces the other, so the cluster's behaviour depends on apply order.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop}
    /// ---
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop, labels: {team: a}}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop, labels: {team: a}}
    /// ```
    pub DuplicateObject {
        id: "NR003", name: "duplicate-object", severity: Severity::Error, tags: &[],
    }
}

impl Rule for DuplicateObject {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        report_problems(cx.ws, ProblemKind::Duplicate, &Self::META, "keep one definition, or rename one of them", out);
    }
}
