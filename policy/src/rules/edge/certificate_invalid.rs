use std::net::IpAddr;

use crate::model::CertificateSpec;

use crate::model::host::ingress_host_error;
use crate::model::validate::{dns1123_subdomain_error, label_key, label_value};
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};
use crate::source::{join_index, join_key};

declare_rule! {
    /// Certificate would be rejected by the cert-manager webhook
    ///
    /// ## What it does
    /// Mirrors cert-manager's `ValidateCertificateSpec`: `secretName` set and a valid Secret
    /// name; `issuerRef.name` set; `issuerRef.kind` `Issuer` or `ClusterIssuer` for
    /// cert-manager's own group; at least one of `commonName`, `literalSubject`, `dnsNames`,
    /// `uris`, `emailAddresses`, `ipAddresses`, `otherNames`; not `commonName` beside
    /// `literalSubject`; `commonName` at most 64 characters; valid IP and e-mail addresses;
    /// `otherNames` with a dotted `oid` and a `utf8Value`; private key algorithm `RSA`
    /// (2048–8192 bits), `ECDSA` (256, 384 or 521) or `Ed25519`; a `signatureAlgorithm` that
    /// suits the key; `duration` at least 1h; `renewBefore` at least 5m and shorter than the
    /// duration (default 90 days); not both `renewBefore` and `renewBeforePercentage`, and a
    /// percentage that renews 5m or more before expiry and after issuance; known `usages`;
    /// `revisionHistoryLimit` at least 1; `secretTemplate` labels and annotation keys valid,
    /// and no `cert-manager.io/` annotations there. And what the webhook lets through but no
    /// CA issues: each `dnsNames` entry must be a lower-case DNS name (one leading `*.`
    /// allowed), not an IP address. The `otherNames` feature gate (off by default) is not
    /// assumed either way.
    ///
    /// ## Why is this bad?
    /// A rejected Certificate fails the whole apply; a bad DNS name passes the webhook and the
    /// order then fails at the CA, leaving the Certificate not ready.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: cert-manager.io/v1
    /// kind: Certificate
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   secretName: demo-tls
    ///   dnsNames: [demo.example.com]
    ///   duration: 30m
    ///   issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: cert-manager.io/v1
    /// kind: Certificate
    /// metadata: {name: demo, namespace: demo}
    /// spec:
    ///   secretName: demo-tls
    ///   dnsNames: [demo.example.com]
    ///   duration: 2160h
    ///   issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}
    /// ```
    pub CertificateInvalid {
        id: "NR308", name: "certificate-invalid", severity: Severity::Error, tags: &["iso27001:A.10.1.2"],
    }
}

/// Key usages cert-manager accepts.
const USAGES: [&str; 23] = [
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement", "data encipherment", "cert sign",
    "crl sign", "encipher only", "decipher only", "any", "server auth", "client auth", "code signing", "email protection",
    "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc",
];

/// Seconds in a Go duration string (`2160h`, `1h30m`, `90s`, `1.5h`), or `None` if it is not one.
pub(crate) fn go_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    if s == "0" {
        return Some(0.0);
    }
    let mut rest = s;
    let mut total = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (num, tail) = rest.split_at(num_end);
        let n: f64 = num.parse().ok()?;
        let unit_end = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_end);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * scale;
        rest = next;
    }
    Some(total)
}

fn set(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.is_empty())
}

/// Every problem of a Certificate spec: (field path, message).
fn problems(spec: &CertificateSpec) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |p: String, m: String| out.push((p, m));
    if spec.secret_name.is_empty() {
        push("spec.secretName".into(), "`secretName` must be set".into());
    } else if let Some(why) = dns1123_subdomain_error(&spec.secret_name) {
        push("spec.secretName".into(), format!("`secretName` {:?} is not a valid Secret name: {why}", spec.secret_name));
    }
    if set(&spec.literal_subject) && set(&spec.common_name) {
        push("spec.commonName".into(), "`commonName` may not be set beside `literalSubject`".into());
    }
    let issuer = &spec.issuer_ref;
    if issuer.name.is_empty() {
        push("spec.issuerRef".into(), "`issuerRef.name` must be set".into());
    }
    let group = issuer.group.as_deref().unwrap_or("");
    let kind = issuer.kind.as_deref().unwrap_or("");
    if (group.is_empty() || group == "cert-manager.io") && !matches!(kind, "" | "Issuer" | "ClusterIssuer") {
        push("spec.issuerRef.kind".into(), format!("`issuerRef.kind` {kind:?} must be Issuer or ClusterIssuer"));
    }
    let identity = set(&spec.common_name)
        || set(&spec.literal_subject)
        || !spec.dns_names.is_empty()
        || !spec.uris.is_empty()
        || !spec.email_addresses.is_empty()
        || !spec.ip_addresses.is_empty()
        || !spec.other_names.is_empty();
    if !identity {
        push("spec".into(), "at least one of commonName (or literalSubject), dnsNames, uris, emailAddresses, ipAddresses or otherNames must be set".into());
    }
    if let Some(cn) = spec.common_name.as_deref().filter(|cn| cn.chars().count() > 64) {
        push("spec.commonName".into(), format!("`commonName` has {} characters; at most 64 are allowed", cn.chars().count()));
    }
    for (i, ip) in spec.ip_addresses.iter().enumerate() {
        if ip.parse::<IpAddr>().is_err() {
            push(join_index("spec.ipAddresses", i), format!("{ip:?} is not an IP address"));
        }
    }
    for (i, e) in spec.email_addresses.iter().enumerate() {
        let valid = e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@') && !e.contains(char::is_whitespace));
        if !valid {
            push(join_index("spec.emailAddresses", i), format!("{e:?} is not an e-mail address"));
        }
    }
    for (i, d) in spec.dns_names.iter().enumerate() {
        if let Some(why) = ingress_host_error(d) {
            push(join_index("spec.dnsNames", i), format!("dnsName {d:?} is not a valid DNS name: {why}; the CA will refuse it"));
        }
    }
    for (i, o) in spec.other_names.iter().enumerate() {
        let path = join_index("spec.otherNames", i);
        let arcs: Vec<&str> = o.oid.split('.').collect();
        if arcs.len() < 2 || arcs.iter().any(|a| a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit())) {
            push(format!("{path}.oid"), format!("oid {:?} is not a dotted object identifier such as `1.3.6.1.4.1.311.20.2.3`", o.oid));
        }
        if o.utf8_value.is_empty() {
            push(format!("{path}.utf8Value"), "`utf8Value` must be set".into());
        }
    }
    let key = spec.private_key.clone().unwrap_or_default();
    let size = key.size.unwrap_or(0);
    match key.algorithm.as_deref().unwrap_or("") {
        "" | "RSA" if size > 0 && !(2048..=8192).contains(&size) => {
            push("spec.privateKey.size".into(), format!("RSA key size {size} must be between 2048 and 8192"))
        }
        "ECDSA" if size > 0 && ![256, 384, 521].contains(&size) => {
            push("spec.privateKey.size".into(), format!("ECDSA key size {size} must be 256, 384 or 521"))
        }
        "" | "RSA" | "ECDSA" | "Ed25519" => {}
        other => push("spec.privateKey.algorithm".into(), format!("private key algorithm {other:?} must be RSA, ECDSA or Ed25519")),
    }
    if let Some(sig) = spec.signature_algorithm.as_deref().filter(|s| !s.is_empty()) {
        let alg = key.algorithm.as_deref().filter(|a| !a.is_empty()).unwrap_or("RSA");
        let allowed: &[&str] = match alg {
            "RSA" => &["SHA256WithRSA", "SHA384WithRSA", "SHA512WithRSA"],
            "ECDSA" => &["ECDSAWithSHA256", "ECDSAWithSHA384", "ECDSAWithSHA512"],
            "Ed25519" => &["PureEd25519"],
            _ => &[],
        };
        if !allowed.is_empty() && !allowed.contains(&sig) {
            push("spec.signatureAlgorithm".into(), format!("signature algorithm {sig:?} does not suit the {alg} key; use one of {}", allowed.join(", ")));
        }
    }
    let duration = match spec.duration.as_deref() {
        None => Some(90.0 * 24.0 * 3600.0),
        Some(d) => {
            let parsed = go_duration(d);
            match parsed {
                None => push("spec.duration".into(), format!("duration {d:?} is not a duration such as `2160h`")),
                Some(s) if s < 3600.0 => push("spec.duration".into(), format!("duration {d} is shorter than the minimum of 1h")),
                Some(_) => {}
            }
            parsed
        }
    };
    if let Some(rb) = spec.renew_before.as_deref() {
        match go_duration(rb) {
            None => push("spec.renewBefore".into(), format!("renewBefore {rb:?} is not a duration such as `360h`")),
            Some(s) if s < 300.0 => push("spec.renewBefore".into(), format!("renewBefore {rb} is shorter than the minimum of 5m")),
            Some(s) if duration.is_some_and(|d| s >= d) => push("spec.renewBefore".into(), format!("renewBefore {rb} is not shorter than the certificate's duration")),
            Some(_) => {}
        }
        if spec.renew_before_percentage.is_some() {
            push("spec.renewBeforePercentage".into(), "renewBefore and renewBeforePercentage are mutually exclusive".into());
        }
    }
    if let (Some(p), Some(d)) = (spec.renew_before_percentage, duration) {
        let renew_before = d * (100.0 - p as f64) / 100.0;
        if renew_before < 300.0 {
            push("spec.renewBeforePercentage".into(), format!("renewBeforePercentage {p} renews less than 5m before expiry"));
        } else if renew_before >= d {
            push("spec.renewBeforePercentage".into(), format!("renewBeforePercentage {p} renews at or before issuance"));
        }
    }
    if let Some(t) = &spec.secret_template {
        for (k, v) in &t.labels {
            let path = join_key("spec.secretTemplate.labels", k);
            if let Some(why) = label_key(k).or_else(|| label_value(v)) {
                push(path, format!("label {k:?}: {v:?} is not a valid label: {why}"));
            }
        }
        for k in t.annotations.keys() {
            let path = join_key("spec.secretTemplate.annotations", k);
            if k.starts_with("cert-manager.io/") && k != "cert-manager.io/allow-direct-injection" {
                push(path, format!("annotation {k:?}: cert-manager.io/ annotations are cert-manager's own and may not be templated"));
            } else if let Some(why) = label_key(k) {
                push(path, format!("annotation key {k:?} is not valid: {why}"));
            }
        }
    }
    for (i, u) in spec.usages.iter().enumerate() {
        if !USAGES.contains(&u.as_str()) {
            push(join_index("spec.usages", i), format!("usage {u:?} is not a key usage cert-manager knows"));
        }
    }
    if let Some(n) = spec.revision_history_limit.filter(|n| *n < 1) {
        push("spec.revisionHistoryLimit".into(), format!("revisionHistoryLimit {n} must be at least 1"));
    }
    out
}

impl Rule for CertificateInvalid {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        for c in cx.reported(&cx.ws.certificates) {
            for (path, message) in problems(&c.spec) {
                let d = out.report(&meta, c, &path, format!("Certificate `{}/{}`: {message}", c.namespace, c.id.name));
                d.help("fix the field; cert-manager's webhook rejects the Certificate (or the CA refuses the order) otherwise");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("2160h"), Some(2160.0 * 3600.0));
        assert_eq!(go_duration("1h30m"), Some(5400.0));
        assert_eq!(go_duration("1.5h"), Some(5400.0));
        assert_eq!(go_duration("90s"), Some(90.0));
        assert_eq!(go_duration("0"), Some(0.0));
        assert_eq!(go_duration("90d"), None);
        assert_eq!(go_duration("h"), None);
        assert_eq!(go_duration(""), None);
    }
}
