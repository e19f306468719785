use super::helpers::report_problems;
use crate::model::ProblemKind;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Document is not a valid object of its kind
    ///
    /// ## What it does
    /// Reports a document that is not a mapping, lacks `kind`, `apiVersion` or
    /// `metadata.name`, uses an apiVersion the API no longer serves for a known kind, or has a
    /// field of the wrong type (e.g. a list where a port is expected). The object is left out
    /// of the analysis; everything else is still checked.
    ///
    /// ## Why is this bad?
    /// The API server rejects the object, so the workload or policy you reason about does not
    /// exist in the cluster.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   ingress:
    ///   - ports:
    ///     - port: [80]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   ingress:
    ///   - ports:
    ///     - port: 80
    /// ```
    pub InvalidObject {
        id: "NR002", name: "invalid-object", severity: Severity::Error, tags: &[],
    }
}

impl Rule for InvalidObject {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        report_problems(cx.ws, ProblemKind::Object, &Self::META, "correct the field so the API server accepts the object", out);
    }
}
