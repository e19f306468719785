use crate::model::SKIP_ANNOTATION;
use crate::Severity;
use crate::rules::{declare_rule, find, Context, Diagnostics, Rule};
use crate::source::join_key;

declare_rule! {
    /// Suppression annotation names a rule that does not exist
    ///
    /// ## What it does
    /// Reports each entry of an object's `netreach.dev/skip` annotation that is neither a rule
    /// id (`NR201`) nor a rule name (`dns-udp-blocked`). The annotation lists the rules whose
    /// findings on that object are not reported; the report counts them in
    /// `summary.suppressed`.
    ///
    /// ## Why is this bad?
    /// A mistyped id suppresses nothing, so the finding it was meant to silence keeps failing
    /// the check, or a later rename quietly turns the suppression off.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: v1
    /// kind: Service
    /// metadata:
    ///   name: web
    ///   namespace: shop
    ///   annotations: {netreach.dev/skip: "NR9999"}
    /// spec: {selector: {app: web}, ports: [{port: 80}]}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Service
    /// metadata:
    ///   name: web
    ///   namespace: shop
    ///   annotations: {netreach.dev/skip: "NR301, ingress-without-tls"}
    /// spec: {selector: {app: web}, ports: [{port: 80}]}
    /// ```
    pub SuppressionUnknownRule {
        id: "NR005", name: "suppression-unknown-rule", severity: Severity::Warning, tags: &[],
    }
}

impl Rule for SuppressionUnknownRule {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        for s in cx.reported(&cx.ws.suppressions) {
            for r in s.rules.iter().filter(|r| find(r).is_none() && find(&r.to_ascii_uppercase()).is_none()) {
                let loc = cx.ws.loc(&s.obj, &join_key("metadata.annotations", SKIP_ANNOTATION));
                let msg = format!("{}: annotation `{SKIP_ANNOTATION}` names `{r}`, which is no rule id or name; nothing is suppressed by it", s.id);
                let d = out.report_at(&Self::META, Some(s.id.clone()), loc, msg);
                d.help("use an id or name from `netreach rules`, e.g. `NR201` or `dns-udp-blocked`");
            }
        }
    }
}
