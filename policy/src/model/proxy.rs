//! Proxy environment variables as Go's `net/http` reads them (`golang.org/x/net/http/httpproxy`):
//! the upper-case name wins over the lower-case one, a proxy URL without a scheme is `http://`,
//! and `NO_PROXY` entries match as described on [`NoProxy`].

use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::api::core::v1::Container;

/// One environment variable of a container, as far as it can be read from the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// A literal `value`.
    Literal(String),
    /// `valueFrom` (a Secret, ConfigMap or field): not visible in the manifest.
    Indirect,
}

/// Value of the first of `names` that `c` sets (the last definition of a name wins, as in
/// Kubernetes), with the name used.
pub fn env<'a>(c: &Container, names: &[&'a str]) -> Option<(&'a str, EnvValue)> {
    for name in names {
        let found = c.env.iter().flatten().rfind(|e| e.name == *name);
        if let Some(e) = found {
            let v = match (&e.value, &e.value_from) {
                (_, Some(_)) => EnvValue::Indirect,
                (Some(v), None) => EnvValue::Literal(v.clone()),
                (None, None) => EnvValue::Literal(String::new()),
            };
            return Some((name, v));
        }
    }
    None
}

/// A proxy URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// Scheme (`http` when omitted).
    pub scheme: String,
    /// Whether the scheme was written.
    pub explicit_scheme: bool,
    /// Host name or IP address, lower case, without brackets.
    pub host: String,
    /// Port (the scheme's default when omitted).
    pub port: u16,
    /// Whether the port was written.
    pub explicit_port: bool,
}

impl ProxyUrl {
    /// Parse `[scheme://][user[:pass]@]host[:port][/…]`.
    pub fn parse(s: &str) -> Result<ProxyUrl, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("the value is empty".into());
        }
        let (scheme, rest, explicit_scheme) = match s.split_once("://") {
            Some((sch, rest)) => (sch.to_ascii_lowercase(), rest, true),
            None => ("http".to_string(), s, false),
        };
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            "socks5" | "socks5h" => 1080,
            other => return Err(format!("scheme {other:?} is not http, https or socks5")),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
            match inner.split_once(']') {
                Some((h, rest)) => (h.to_string(), rest.strip_prefix(':')),
                None => return Err("unclosed `[` in the host".into()),
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(format!("no valid host in {s:?}"));
        }
        let (port, explicit_port) = match port {
            None | Some("") => (default_port, false),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => (n, true),
                _ => return Err(format!("port {p:?} is not 1-65535")),
            },
        };
        Ok(ProxyUrl { scheme, explicit_scheme, host: host.to_ascii_lowercase(), port, explicit_port })
    }
}

/// `NO_PROXY` with Go's semantics:
/// - `*` bypasses the proxy for every host;
/// - an IP address or CIDR matches only requests to an IP literal (never a host name);
/// - `example.com` matches `example.com` and every subdomain; `.example.com` and
///   `*.example.com` match subdomains only;
/// - `host:port` matches only that port;
/// - `localhost` and loopback addresses never use a proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    nets: Vec<IpNet>,
    domains: Vec<(String, Option<u16>, bool)>,
}

impl NoProxy {
    /// Parse a comma-separated list.
    pub fn parse(s: &str) -> NoProxy {
        let mut out = NoProxy::default();
        for entry in s.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()) {
            if entry == "*" {
                out.all = true;
                continue;
            }
            if let Ok(net) = entry.parse::<IpNet>() {
                out.nets.push(net);
                continue;
            }
            if let Ok(ip) = entry.parse::<IpAddr>() {
                out.nets.push(IpNet::from(ip));
                continue;
            }
            let (host, port) = match entry.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_string(), p.parse::<u16>().ok()),
                _ => (entry.clone(), None),
            };
            let host = host.strip_prefix('*').filter(|h| h.starts_with('.')).map_or(host.clone(), str::to_string);
            match host.strip_prefix('.') {
                Some(rest) if !rest.is_empty() => out.domains.push((format!(".{rest}"), port, false)),
                Some(_) => {}
                None => out.domains.push((format!(".{host}"), port, true)),
            }
        }
        out
    }

    /// Whether a request to `host:port` bypasses the proxy.
    pub fn bypasses(&self, host: &str, port: u16) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host == "localhost" {
            return true;
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return ip.is_loopback() || self.all || self.nets.iter().any(|n| n.contains(&ip));
        }
        self.all
            || self.domains.iter().any(|(suffix, p, exact_too)| {
                let hit = host.ends_with(suffix.as_str()) || (*exact_too && suffix.get(1..) == Some(host.as_str()));
                hit && p.is_none_or(|p| p == port)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_default_like_go() {
        let u = ProxyUrl::parse("proxy.corp:3128").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.scheme.as_str(), u.host.as_str(), u.port, u.explicit_scheme), ("http", "proxy.corp", 3128, false));
        let u = ProxyUrl::parse("https://user:pw@Proxy.Corp/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.host.as_str(), u.port, u.explicit_port), ("proxy.corp", 443, false));
        let u = ProxyUrl::parse("http://[fd00::1]:8080").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.host.as_str(), u.port), ("fd00::1", 8080));
        assert!(ProxyUrl::parse("ftp://x").is_err());
        assert!(ProxyUrl::parse("http://x:99999").is_err());
        assert!(ProxyUrl::parse("").is_err());
    }

    #[test]
    fn no_proxy_matches_like_go() {
        let n = NoProxy::parse("example.com, .svc,*.corp.internal, 10.96.0.0/12, 192.168.1.1, api.local:8443");
        assert!(n.bypasses("example.com", 443));
        assert!(n.bypasses("a.example.com", 443));
        assert!(!n.bypasses("badexample.com", 443));
        assert!(n.bypasses("kubernetes.default.svc", 443));
        assert!(!n.bypasses("svc", 443), "`.svc` matches subdomains only");
        assert!(n.bypasses("x.corp.internal", 80));
        assert!(!n.bypasses("corp.internal", 80), "`*.d` is `.d`: subdomains only");
        assert!(n.bypasses("10.96.0.1", 443));
        assert!(!n.bypasses("kubernetes.default.svc.cluster.local.example", 443));
        assert!(n.bypasses("192.168.1.1", 80));
        assert!(n.bypasses("api.local", 8443));
        assert!(!n.bypasses("api.local", 443));
        assert!(n.bypasses("localhost", 1) && n.bypasses("127.0.0.1", 1));
        let cidr_only = NoProxy::parse("10.0.0.0/8");
        assert!(!cidr_only.bypasses("db.internal", 5432), "CIDRs never match host names");
        assert!(NoProxy::parse("*").bypasses("anything", 1));
    }
}
