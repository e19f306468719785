use super::helpers::report_problems;
use crate::model::ProblemKind;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Document is not a Kubernetes object
    ///
    /// ## What it does
    /// Reports a top-level document that is a list or a scalar rather than a mapping, such as
    /// a stray JSON report or a values file that sits among the manifests. It is skipped; the
    /// other documents are checked as usual.
    ///
    /// ## Why is this bad?
    /// `kubectl apply -f <dir>` fails on it, and a manifest that was meant to be here may be
    /// missing from the analysis.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// - apiVersion: v1
    ///   kind: Namespace
    ///   metadata: {name: shop}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: List
    /// items:
    /// - apiVersion: v1
    ///   kind: Namespace
    ///   metadata: {name: shop}
    /// ```
    pub NotAnObject {
        id: "NR004", name: "not-an-object", severity: Severity::Warning, tags: &[],
    }
}

impl Rule for NotAnObject {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        report_problems(cx.ws, ProblemKind::NotAnObject, &Self::META, "remove the file from the manifest set, or wrap the objects in a `kind: List`", out);
    }
}
