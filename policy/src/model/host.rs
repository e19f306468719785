//! Host names as Kubernetes validates them and as browsers and Ingress controllers match them.

use std::net::IpAddr;

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
    for label in s.split('.') {
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
    }
    None
}

/// Why `host` is not a valid Ingress host — a DNS-1123 subdomain, or `*.` followed by one, and
/// not an IP address — or `None` when it is valid.
pub fn ingress_host_error(host: &str) -> Option<String> {
    if host.parse::<IpAddr>().is_ok() {
        return Some("it is an IP address, not a DNS name".into());
    }
    let rest = host.strip_prefix("*.").unwrap_or(host);
    if rest.contains('*') {
        return Some("a wildcard must be the whole first label (`*.example.com`)".into());
    }
    dns1123_subdomain_error(rest)
}

/// Whether `pattern` (an exact name or `*.domain`) covers `host`: exact match, or the wildcard
/// standing for exactly one label, as browsers and TLS certificates match names (RFC 6125).
pub fn covers(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    if pattern == host {
        return true;
    }
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(domain), Some((first, rest))) => !first.is_empty() && first != "*" && rest == domain,
        _ => false,
    }
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
    fn ingress_hosts_allow_one_leading_wildcard() {
        assert!(ingress_host_error("*.example.com").is_none());
        assert!(ingress_host_error("10.0.0.1").is_some());
        assert!(ingress_host_error("foo*.example.com").is_some());
        assert!(ingress_host_error("a.*.example.com").is_some());
        assert!(ingress_host_error("*.*.example.com").is_some());
        assert!(ingress_host_error("*").is_some());
    }

    #[test]
    fn wildcards_cover_exactly_one_label() {
        assert!(covers("demo.example.com", "demo.example.com"));
        assert!(covers("*.example.com", "demo.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(!covers("*.example.com", "a.demo.example.com"));
        assert!(covers("*.Example.com", "demo.example.COM"));
        assert!(!covers("demo.example.com", "*.example.com"));
    }
}
