//! The generated bundle the benchmarks share (`policy/benches/connectivity.rs`,
//! `host-harness/benches/hosts.rs`).

use std::fmt::Write;

/// N namespaces × D deployments, 3 policies per deployment, using named ports, endPort ranges,
/// ipBlock with except, namespaceSelector AND podSelector, and matchExpressions.
pub fn generate(namespaces: usize, per_ns: usize) -> String {
    let tiers = ["web", "api", "db", "cache"];
    let mut y = String::new();
    for n in 0..namespaces {
        let team = format!("team{}", n % 5);
        let _ = write!(y, "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns{n}\n  labels: {{team: {team}, env: {}}}\n", if n % 2 == 0 { "prod" } else { "dev" });
        for d in 0..per_ns {
            let tier = tiers[d % tiers.len()];
            let port = 8000 + (d % 50);
            let _ = write!(
                y,
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{d}, namespace: ns{n}}}\nspec:\n  selector: {{matchLabels: {{app: d{d}}}}}\n  template:\n    metadata: {{labels: {{app: d{d}, tier: {tier}, shard: s{}}}}}\n    spec:\n      containers:\n      - name: main\n        image: example/app\n        ports:\n        - {{name: http, containerPort: {port}}}\n        - {{name: metrics, containerPort: 9090}}\n        - {{name: dns, containerPort: 5353, protocol: UDP}}\n",
                d % 7
            );
            // 1: ingress from same-namespace web/api pods on the named port, and from monitoring.
            let _ = write!(
                y,
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: d{d}-ingress, namespace: ns{n}}}\nspec:\n  podSelector: {{matchLabels: {{app: d{d}}}}}\n  policyTypes: [Ingress]\n  ingress:\n  - from:\n    - podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [web, api]}}, {{key: shard, operator: NotIn, values: [s{}]}}]}}\n    ports: [{{port: http}}]\n  - from:\n    - namespaceSelector: {{matchLabels: {{team: team{}}}}}\n      podSelector: {{matchExpressions: [{{key: tier, operator: Exists}}]}}\n    ports: [{{port: metrics}}, {{port: dns, protocol: UDP}}]\n",
                (d + 1) % 7,
                (n + d) % 5
            );
            // 2: egress to db pods of namespaces of a team, with a port range.
            let _ = write!(
                y,
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: d{d}-egress-db, namespace: ns{n}}}\nspec:\n  podSelector: {{matchLabels: {{app: d{d}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: {{matchLabels: {{team: {team}}}}}\n      podSelector: {{matchLabels: {{tier: db}}}}\n    ports: [{{port: 5432}}, {{port: 8000, endPort: 8049}}]\n  - to: [{{podSelector: {{}}}}]\n    ports: [{{port: http}}]\n"
            );
            // 3: egress to the internet minus private ranges and one per-deployment hole.
            let _ = write!(
                y,
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: d{d}-egress-internet, namespace: ns{n}}}\nspec:\n  podSelector: {{matchLabels: {{app: d{d}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - ipBlock:\n        cidr: 0.0.0.0/0\n        except: [10.0.0.0/8, 172.16.0.0/12, 192.168.{}.0/24]\n    ports: [{{port: 443}}, {{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}]\n",
                (n * per_ns + d) % 256
            );
        }
    }
    y
}

/// `n` cluster policies over the namespaces of [`generate`]: four in five Admin-tier (by
/// team: Deny of dev namespaces on a port range, Accept of the team's db pods, Pass of private
/// networks, Deny of one external block), the rest Baseline-tier (Deny of other teams'
/// ingress on the named port, Accept of DNS).
#[allow(dead_code)] // the hosts bench shares this file and does not use it
pub fn cluster_policies(n: usize) -> String {
    let mut y = String::new();
    for i in 0..n {
        let team = format!("team{}", i % 5);
        if i % 5 != 4 {
            let _ = write!(
                y,
                "---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: admin-{i}}}\nspec:\n  tier: Admin\n  priority: {i}\n  subject:\n    pods: {{namespaceSelector: {{matchLabels: {{team: {team}}}}}, podSelector: {{matchLabels: {{shard: s{}}}}}}}\n  ingress:\n  - name: no-dev-admin\n    action: Deny\n    from: [{{namespaces: {{matchLabels: {{env: dev}}}}}}]\n    protocols: [{{tcp: {{destinationPort: {{range: {{start: {}, end: {}}}}}}}}}]\n  egress:\n  - name: team-db\n    action: Accept\n    to: [{{pods: {{namespaceSelector: {{matchLabels: {{team: {team}}}}}, podSelector: {{matchLabels: {{tier: db}}}}}}}}]\n    protocols: [{{tcp: {{destinationPort: {{number: 5432}}}}}}]\n  - name: private\n    action: Pass\n    to: [{{networks: [10.0.0.0/8, 172.16.0.0/12]}}]\n  - name: one-block\n    action: Deny\n    to: [{{networks: [198.51.{}.0/24]}}]\n",
                i % 7,
                9000 + i,
                9100 + i,
                i % 256
            );
        } else {
            let _ = write!(
                y,
                "---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: baseline-{i}}}\nspec:\n  tier: Baseline\n  priority: {i}\n  subject:\n    namespaces: {{matchLabels: {{team: {team}}}}}\n  ingress:\n  - name: other-teams\n    action: Deny\n    from: [{{namespaces: {{matchExpressions: [{{key: team, operator: NotIn, values: [{team}]}}]}}}}]\n    protocols: [{{destinationNamedPort: http}}]\n  egress:\n  - name: dns\n    action: Accept\n    to: [{{namespaces: {{}}}}]\n    protocols: [{{udp: {{destinationPort: {{number: 53}}}}}}]\n"
            );
        }
    }
    y
}
