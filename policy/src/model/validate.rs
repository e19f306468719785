//! Kubernetes name validation, as the API server validates names, label keys and values, and
//! port names: one place for every rule that checks them. `None` means valid; `Some(why)` says
//! what is wrong, in the words the findings use.

/// Why `s` is not a DNS-1123 subdomain (lower-case labels of `a-z0-9-`, each 1–63 characters,
/// starting and ending alphanumeric; 253 characters at most), or `None` when it is one.
pub fn dns1123_subdomain_error(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.len() > 253 {
        return Some(format!("it has {} characters, more than 253", s.len()));
    }
    if s.ends_with('.') {
        return Some("it ends with a dot".into());
    }
    s.split('.').find_map(dns1123_label_error)
}

/// Why `label` is not a DNS-1123 label (`a-z0-9-`, 1–63 characters, alphanumeric at both
/// ends), or `None` when it is one.
pub fn dns1123_label_error(label: &str) -> Option<String> {
    if label.is_empty() {
        return Some("it has an empty label (`..` or a leading dot)".into());
    }
    if label.len() > 63 {
        return Some(format!("label `{label}` has more than 63 characters"));
    }
    if let Some(c) = label.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        let what = if c.is_ascii_uppercase() { "an upper-case letter".to_string() } else { format!("{c:?}") };
        return Some(format!("label `{label}` contains {what}; only a-z, 0-9 and `-` are allowed"));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Some(format!("label `{label}` starts or ends with `-`"));
    }
    None
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63 characters.
pub fn label_name(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.len() > 63 {
        return Some("must be no more than 63 characters".into());
    }
    let ok_inner = s.chars().all(|c| is_alnum(c) || matches!(c, '-' | '_' | '.'));
    let ok_ends = s.chars().next().is_some_and(is_alnum) && s.chars().last().is_some_and(is_alnum);
    (!(ok_inner && ok_ends)).then(|| "must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric".into())
}

/// Label value: empty, or a label name.
pub fn label_value(s: &str) -> Option<String> {
    if s.is_empty() { None } else { label_name(s) }
}

/// Label key (a "qualified name" in the API's words): optional DNS-subdomain prefix and `/`,
/// then a label name.
pub fn label_key(s: &str) -> Option<String> {
    match s.split_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty() {
                return Some("prefix part must not be empty".into());
            }
            dns1123_subdomain(prefix).map(|w| format!("prefix part {w}")).or_else(|| label_name(name).map(|w| format!("name part {w}")))
        }
        None => label_name(s),
    }
}

/// A namespace name: a lower-case RFC 1123 label (the wording of NR101's messages; see
/// [`dns1123_label_error`] for the reason in words).
pub fn dns1123_label(s: &str) -> Option<String> {
    dns1123_label_error(s).map(|_| "must be a lowercase RFC 1123 label ([a-z0-9-], at most 63 characters, alphanumeric at both ends)".into())
}

/// An object name: a lower-case RFC 1123 subdomain (the wording of NR101's messages; see
/// [`dns1123_subdomain_error`] for the reason in words).
pub fn dns1123_subdomain(s: &str) -> Option<String> {
    dns1123_subdomain_error(s).map(|_| format!("is {s:?}; must be a lowercase RFC 1123 subdomain ([a-z0-9-.], at most 253 characters, alphanumeric at both ends)"))
}

/// IANA service name: ≤ 15 chars of [a-z0-9-], at least one letter, no leading, trailing or double '-'.
pub fn iana_service_name(s: &str) -> Option<String> {
    let why = if s.is_empty() || s.len() > 15 {
        "must be 1 to 15 characters"
    } else if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        "must contain only lowercase letters, digits and '-'"
    } else if !s.chars().any(|c| c.is_ascii_lowercase()) {
        "must contain at least one letter"
    } else if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        "must not begin or end with '-' or contain '--'"
    } else {
        return None;
    };
    Some(format!("is {s:?}, not a valid port name: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_follow_dns1123() {
        assert!(dns1123_subdomain_error("demo.example.com").is_none());
        assert!(dns1123_subdomain_error("a-1.b").is_none());
        assert!(dns1123_subdomain_error("Demo.example.com").is_some());
        assert!(dns1123_subdomain_error("demo_app.example.com").is_some());
        assert!(dns1123_subdomain_error("demo.example.com.").is_some());
        assert!(dns1123_subdomain_error("-demo.example.com").is_some());
        assert!(dns1123_subdomain_error(&format!("{}.com", "a".repeat(64))).is_some());
        assert!(dns1123_subdomain_error("a.".repeat(128).trim_end_matches('.')).is_some());
    }

    #[test]
    fn name_checks_follow_the_api() {
        assert!(iana_service_name("http").is_none());
        assert!(iana_service_name("dns-tcp").is_none());
        assert!(iana_service_name("80").is_some());
        assert!(iana_service_name("a--b").is_some());
        assert!(iana_service_name("abcdefghijklmnop").is_some());
        assert!(label_key("kubernetes.io/metadata.name").is_none());
        assert!(label_key("app@b").is_some());
        assert!(label_key("/x").is_some());
        assert!(label_value("").is_none());
        assert!(label_value("-x").is_some());
        assert!(dns1123_subdomain("use_common_labels").is_some());
        assert!(dns1123_subdomain("allow-dns.v2").is_none());
        assert!(dns1123_label("shop-2").is_none());
        for bad in ["", "Shop", "-shop", "shop.v2", &"a".repeat(64)] {
            assert!(dns1123_label(bad).is_some(), "{bad}");
        }
    }
}
