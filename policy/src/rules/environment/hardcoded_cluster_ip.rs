use std::net::IpAddr;

use super::helpers::containers;
use crate::model::ConfigMap;
use crate::Severity;
use crate::rules::{declare_rule, Context, Diagnostics, Rule};

declare_rule! {
    /// Hard-coded in-cluster IP address
    ///
    /// ## What it does
    /// Finds IP addresses — bare or inside a URL — in containers' `env` values (but
    /// `NO_PROXY`, which lists cluster addresses on purpose), `command` and `args`, in the
    /// data of ConfigMaps of the input they read (`envFrom`, `configMapKeyRef`), and in
    /// `hostAliases[].ip`, that are cluster addresses: inside the profile's
    /// `podCIDRs` or `serviceCIDRs`, or equal to the ClusterIP of a Service or the IP of a Pod
    /// in the input. (Without the CIDRs in the profile only the input's addresses are known.)
    ///
    /// ## Why is this bad?
    /// Pod IPs change with every restart and ClusterIPs with every re-creation of the Service;
    /// a manifest that names one breaks on the next rollout or in the next cluster. Policies
    /// cannot follow it either: selectors match pods, not addresses.
    ///
    /// ## Example
    /// ```yaml,expect_diagnostic
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: postgres, namespace: db}
    /// spec:
    ///   clusterIP: 10.96.44.12
    ///   selector: {app: postgres}
    ///   ports: [{port: 5432}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: api}}
    ///   template:
    ///     metadata: {labels: {app: api}}
    ///     spec:
    ///       containers:
    ///         - name: api
    ///           image: shop/api
    ///           env: [{name: DATABASE_URL, value: "postgres://api@10.96.44.12:5432/shop"}]
    /// ```
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: postgres, namespace: db}
    /// spec:
    ///   clusterIP: 10.96.44.12
    ///   selector: {app: postgres}
    ///   ports: [{port: 5432}]
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {matchLabels: {app: api}}
    ///   template:
    ///     metadata: {labels: {app: api}}
    ///     spec:
    ///       containers:
    ///         - name: api
    ///           image: shop/api
    ///           env: [{name: DATABASE_URL, value: "postgres://api@postgres.db.svc:5432/shop"}]
    /// ```
    pub HardcodedClusterIp {
        id: "NR504", name: "hardcoded-cluster-ip", severity: Severity::Warning, tags: &["iso27001:A.13.1.1"],
    }
}

/// Why an address in a manifest is a problem, and what to write instead.
fn advise(d: &mut crate::rules::Diagnostic) {
    d.why("pod IPs change on every restart and ClusterIPs when a Service is re-created; NetworkPolicy selectors cannot follow an address");
    d.help("use the Service's DNS name (`svc.ns`, `svc.ns.svc.cluster.local`) instead");
}

/// ConfigMap `name` of namespace `ns` in the input.
fn config_map<'w>(cx: &Context<'w>, ns: &str, name: &str) -> Option<&'w ConfigMap> {
    cx.ws.config_maps.iter().find(|m| m.namespace == ns && m.id.name == name)
}

/// IP addresses written in `s` (dotted IPv4 runs, and IPv6 runs with at least two colons).
pub(crate) fn ip_literals(s: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let v4 = s.split(|c: char| !(c.is_ascii_digit() || c == '.'));
    out.extend(v4.filter(|t| t.matches('.').count() == 3).filter_map(|t| t.parse::<std::net::Ipv4Addr>().ok()).map(IpAddr::V4));
    let v6 = s.split(|c: char| !(c.is_ascii_hexdigit() || c == ':'));
    out.extend(v6.filter(|t| t.matches(':').count() >= 2).filter_map(|t| t.parse::<std::net::Ipv6Addr>().ok()).map(IpAddr::V6));
    out
}

impl Rule for HardcodedClusterIp {
    fn check(cx: &Context<'_>, out: &mut Diagnostics) {
        let meta = Self::META;
        // (address, what it is)
        let mut known: Vec<(IpAddr, String)> = Vec::new();
        for s in &cx.ws.services {
            for ip in s.spec.cluster_ip.iter().chain(s.spec.cluster_ips.iter().flatten()) {
                if let Ok(a) = ip.parse::<IpAddr>() {
                    let port = s.spec.ports.iter().flatten().next().map(|p| format!(":{}", p.port)).unwrap_or_default();
                    known.push((a, format!("the ClusterIP of Service {}/{} (use `{}.{}.svc{port}`)", s.namespace, s.id.name, s.id.name, s.namespace)));
                }
            }
        }
        for w in &cx.ws.workloads {
            for ip in &w.ips {
                known.push((*ip, format!("the IP of pod {}", w.display())));
            }
        }
        let classify = |ip: IpAddr| -> Option<String> {
            if let Some((_, what)) = known.iter().find(|(k, _)| *k == ip) {
                return Some(what.clone());
            }
            if let Some(n) = cx.profile.service_cidrs.iter().find(|n| n.contains(&ip)) {
                return Some(format!("a Service address (profile serviceCIDRs {n})"));
            }
            cx.profile.pod_cidrs.iter().find(|n| n.contains(&ip)).map(|n| format!("a pod address (profile podCIDRs {n})"))
        };
        for w in cx.reported(&cx.ws.workloads) {
            let mut fields: Vec<(String, String)> = Vec::new();
            for (base, c) in containers(w) {
                for (i, e) in c.env.iter().flatten().enumerate() {
                    // NO_PROXY lists cluster addresses on purpose (see NR501).
                    if e.name.eq_ignore_ascii_case("NO_PROXY") {
                        continue;
                    }
                    if let Some(v) = &e.value {
                        fields.push((format!("{base}.env[{i}].value"), v.clone()));
                    }
                }
                for (key, list) in [("command", &c.command), ("args", &c.args)] {
                    for (i, a) in list.iter().flatten().enumerate() {
                        fields.push((format!("{base}.{key}[{i}]"), a.clone()));
                    }
                }
            }
            for (i, h) in w.spec.host_aliases.iter().flatten().enumerate() {
                fields.push((w.template_field(&format!("spec.hostAliases[{i}].ip")), h.ip.clone()));
            }
            // Values read from ConfigMaps of the input: (map, key, value, the field that reads it).
            let mut from_maps: Vec<(&ConfigMap, &str, &str, String)> = Vec::new();
            for (base, c) in containers(w) {
                for (i, e) in c.env_from.iter().flatten().enumerate() {
                    let Some(m) = e.config_map_ref.as_ref().and_then(|r| config_map(cx, &w.namespace, &r.name)) else { continue };
                    for (k, v) in &m.data {
                        from_maps.push((m, k, v, format!("{base}.envFrom[{i}]")));
                    }
                }
                for (i, e) in c.env.iter().flatten().enumerate() {
                    let Some(r) = e.value_from.as_ref().and_then(|f| f.config_map_key_ref.as_ref()) else { continue };
                    let Some(m) = config_map(cx, &w.namespace, &r.name) else { continue };
                    if let Some((k, v)) = m.data.get_key_value(&r.key) {
                        from_maps.push((m, k, v, format!("{base}.env[{i}]")));
                    }
                }
            }
            for (m, key, text, reader) in from_maps {
                for ip in ip_literals(text) {
                    let Some(what) = classify(ip) else { continue };
                    let at = if cx.ws.reported(&m.obj) { cx.at(&m.obj, &crate::source::join_key("data", key)) } else { cx.at(&w.obj, &reader) };
                    let d = out.report_at(
                        &meta,
                        Some(m.id.clone()),
                        at,
                        format!("ConfigMap `{}/{}` key `{key}`, read by `{}`, hard-codes {ip}, {what}", m.namespace, m.id.name, w.display()),
                    );
                    advise(d);
                }
            }
            for (path, text) in fields {
                for ip in ip_literals(&text) {
                    let Some(what) = classify(ip) else { continue };
                    let d = out.report(
                        &meta,
                        w,
                        &path,
                        format!("`{}` hard-codes {ip}, {what}", w.display()),
                    );
                    advise(d);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_addresses_in_urls_and_text() {
        let got = ip_literals("postgres://u@10.96.44.12:5432/db --peer=[fd00::1]:80 v1.2.3 1.2.3.4.5");
        assert_eq!(got, vec![IpAddr::from([10, 96, 44, 12]), "fd00::1".parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]))]);
    }
}
