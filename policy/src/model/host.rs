//! Host names as Kubernetes validates them and as browsers and Ingress controllers match them.

use std::net::IpAddr;

use super::validate::dns1123_subdomain_error;

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
