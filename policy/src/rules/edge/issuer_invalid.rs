use serde_json::Value;

use crate::model::validate::dns1123_subdomain_error;
use crate::model::{Acme, IssuerSpec, LocalRef};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::join_index;

declare_rule! {
    /// Issuer or ClusterIssuer would be rejected by the cert-manager webhook
    ///
    /// ## What it does
    /// Mirrors cert-manager's `ValidateIssuerConfig`: exactly one issuer type (`acme`, `ca`,
    /// `selfSigned`, `vault`, `venafi`); for ACME, `server` and `privateKeySecretRef.name`,
    /// not both `caBundle` and `skipTLSVerify`, and every solver exactly one of `http01` and
    /// `dns01` — an `http01.ingress` naming at most one of `class`, `ingressClassName`, `name`
    /// (`ingressClassName` a DNS-1123 subdomain) with `serviceType` ClusterIP or NodePort, a
    /// `dns01` with exactly one provider and its required fields and `cnameStrategy` None or
    /// Follow; for CA, `secretName`; for Vault, `server`, `path` and one auth method; for
    /// Venafi, `zone` and exactly one of `tpp`, `cloud`, `ngts` (which needs `tsgID` and
    /// `credentialsRef.name`).
    ///
    /// ## Why is this bad?
    /// The webhook rejects the issuer, the apply fails, and every Certificate that names it
    /// waits for an issuer that never becomes ready.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: cert-manager.io/v1
    /// kind: ClusterIssuer
    /// metadata: {name: letsencrypt-prod}
    /// spec:
    ///   acme:
    ///     server: https://acme-v02.api.letsencrypt.org/directory
    ///     solvers: [{http01: {ingress: {ingressClassName: nginx}}}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: cert-manager.io/v1
    /// kind: ClusterIssuer
    /// metadata: {name: letsencrypt-prod}
    /// spec:
    ///   acme:
    ///     server: https://acme-v02.api.letsencrypt.org/directory
    ///     privateKeySecretRef: {name: letsencrypt-prod}
    ///     solvers: [{http01: {ingress: {ingressClassName: nginx}}}]
    /// ```
    pub IssuerInvalid {
        id: "NR309", name: "issuer-invalid", severity: Severity::Error, tags: &["iso27001:A.10.1.2"],
    }
}

/// Whether a provider field is set: present, and not an empty string.
fn set(v: &Value, key: &str) -> bool {
    match v.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

fn named(r: &Option<LocalRef>) -> bool {
    r.as_ref().is_some_and(|r| !r.name.is_empty())
}

/// The DNS-01 providers and, for each, the fields one of which (alternatives in a group)
/// must be set.
const DNS01: [(&str, &[&[&str]]); 11] = [
    ("acmeDNS", &[&["host"], &["accountSecretRef"]]),
    ("akamai", &[&["serviceConsumerDomain"], &["clientTokenSecretRef"], &["clientSecretSecretRef"], &["accessTokenSecretRef"]]),
    ("azureDNS", &[&["subscriptionID"], &["resourceGroupName"]]),
    ("cloudDNS", &[&["project"]]),
    ("cloudflare", &[&["apiTokenSecretRef", "apiKeySecretRef"]]),
    ("digitalocean", &[&["tokenSecretRef"]]),
    ("rfc2136", &[&["nameserver"]]),
    ("route53", &[]),
    ("webhook", &[&["groupName"], &["solverName"]]),
    ("huaweiDNS", &[]),
    ("alidns", &[]),
];

fn acme(a: &Acme, base: &str, out: &mut Vec<(String, String)>) {
    if a.server.is_empty() {
        out.push((base.into(), "`acme.server` must be set".into()));
    }
    if !named(&a.private_key_secret_ref) {
        out.push((base.into(), "`acme.privateKeySecretRef.name` must be set: the ACME account key is stored there".into()));
    }
    if a.ca_bundle.as_deref().is_some_and(|b| !b.is_empty()) && a.skip_tls_verify == Some(true) {
        out.push((format!("{base}.skipTLSVerify"), "`caBundle` and `skipTLSVerify` are mutually exclusive".into()));
    }
    for (i, s) in a.solvers.iter().enumerate() {
        let sp = join_index(&format!("{base}.solvers"), i);
        match (&s.http01, &s.dns01) {
            (None, None) => out.push((sp, "the solver configures neither `http01` nor `dns01`".into())),
            (Some(_), Some(_)) => out.push((sp, "a solver may use only one of `http01` and `dns01`".into())),
            (Some(h), None) => {
                if let Some(ing) = &h.ingress {
                    let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
                    if [&ing.class, &ing.ingress_class_name, &ing.name].into_iter().filter(|v| given(v)).count() > 1 {
                        out.push((format!("{sp}.http01.ingress"), "only one of `class`, `ingressClassName` and `name` may be set".into()));
                    }
                    if let Some(why) = ing.ingress_class_name.as_deref().and_then(dns1123_subdomain_error) {
                        out.push((format!("{sp}.http01.ingress.ingressClassName"), format!("`ingressClassName` is not a DNS-1123 subdomain: {why}")));
                    }
                    if let Some(t) = ing.service_type.as_deref().filter(|t| !matches!(*t, "" | "ClusterIP" | "NodePort")) {
                        out.push((format!("{sp}.http01.ingress.serviceType"), format!("serviceType {t:?} must be ClusterIP or NodePort")));
                    }
                }
            }
            (None, Some(d)) => {
                let dp = format!("{sp}.dns01");
                let present: Vec<&(&str, &[&[&str]])> = DNS01.iter().filter(|(k, _)| d.providers.get(*k).is_some_and(|v| !v.is_null())).collect();
                match present.as_slice() {
                    [] => out.push((dp.clone(), "the dns01 solver configures no provider".into())),
                    [(name, required)] => {
                        let p = d.providers.get(*name).unwrap_or(&Value::Null);
                        for group in required.iter() {
                            if !group.iter().any(|k| set(p, k)) {
                                out.push((format!("{dp}.{name}"), format!("`{name}` needs `{}`", group.join("` or `"))));
                            }
                        }
                    }
                    _ => out.push((dp.clone(), "a dns01 solver may configure only one provider".into())),
                }
                if let Some(c) = d.cname_strategy.as_deref().filter(|c| !matches!(*c, "" | "None" | "Follow")) {
                    out.push((format!("{dp}.cnameStrategy"), format!("cnameStrategy {c:?} must be None or Follow")));
                }
            }
        }
    }
}

/// Every problem of an issuer spec: (field path, message).
fn problems(spec: &IssuerSpec) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let types: Vec<&str> = [
        ("acme", spec.acme.is_some()),
        ("ca", spec.ca.is_some()),
        ("selfSigned", spec.self_signed.is_some()),
        ("vault", spec.vault.is_some()),
        ("venafi", spec.venafi.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect();
    match types.len() {
        0 => out.push(("spec".to_string(), "no issuer type is configured (acme, ca, selfSigned, vault or venafi)".to_string())),
        1 => {}
        _ => out.push(("spec".to_string(), format!("only one issuer type may be configured, found {}", types.join(", ")))),
    }
    if let Some(a) = &spec.acme {
        acme(a, "spec.acme", &mut out);
    }
    if spec.ca.as_ref().is_some_and(|c| c.secret_name.is_empty()) {
        out.push(("spec.ca".into(), "`ca.secretName` must be set".into()));
    }
    if let Some(v) = &spec.vault {
        for (k, value) in [("server", &v.server), ("path", &v.path)] {
            if value.is_empty() {
                out.push(("spec.vault".into(), format!("`vault.{k}` must be set")));
            }
        }
        let auth = v.auth.as_ref().is_some_and(|a| a.token_secret_ref.is_some() || a.app_role.is_some() || a.kubernetes.is_some() || a.client_certificate.is_some());
        if !auth {
            out.push(("spec.vault".into(), "`vault.auth` must configure one authentication method".into()));
        }
    }
    if let Some(v) = &spec.venafi {
        if v.zone.is_empty() {
            out.push(("spec.venafi".into(), "`venafi.zone` must be set".into()));
        }
        if [v.tpp.is_some(), v.cloud.is_some(), v.ngts.is_some()].into_iter().filter(|on| *on).count() != 1 {
            out.push(("spec.venafi".into(), "exactly one of `tpp`, `cloud` and `ngts` must be configured".into()));
        }
        if let Some(n) = &v.ngts {
            if n.tsg_id.is_empty() {
                out.push(("spec.venafi.ngts".into(), "`ngts.tsgID` must be set".into()));
            }
            if !named(&n.credentials_ref) {
                out.push(("spec.venafi.ngts".into(), "`ngts.credentialsRef.name` must be set".into()));
            }
        }
    }
    out
}

impl Rule for IssuerInvalid {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for i in cx.reported(&cx.ws.issuers) {
            for (path, message) in problems(&i.spec) {
                let d = out.report(&meta, i, &path, format!("{} `{}`: {message}", i.id.kind, i.id.name));
                d.help("fix the field; cert-manager's webhook rejects the issuer otherwise");
            }
        }
    }
}
