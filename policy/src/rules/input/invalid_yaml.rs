use super::helpers::report_problems;
use crate::model::ProblemKind;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Document is not readable YAML or JSON
    ///
    /// ## What it does
    /// Reports a document that does not parse, or that exceeds a limit (size, nesting depth,
    /// alias expansion). Only that document is lost: every other document of the file, and
    /// every other file, is still checked.
    ///
    /// ## Why is this bad?
    /// `kubectl apply` refuses the whole file, so nothing in it reaches the cluster.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: shop}
    /// ```
    pub InvalidYaml {
        id: "NR001", name: "invalid-yaml", severity: Severity::Error, tags: &[],
    }
}

impl Rule for InvalidYaml {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        report_problems(cx.ws, ProblemKind::Syntax, &Self::META, "fix the syntax at this position", out);
    }
}
