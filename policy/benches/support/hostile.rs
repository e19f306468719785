//! Hostile inputs of up to 8 MiB, each aimed at one limit of the loader or the engine; shared
//! by the envelope test (memory) and the envelope benchmark (time).

const MIB: usize = 1024 * 1024;

/// `(name, text)` for every shape.
pub fn inputs() -> Vec<(&'static str, String)> {
    let eight = 8 * MIB - 64;
    let fill = |unit: &str| unit.repeat(eight / unit.len());
    let mut out = vec![
        ("flow-nesting", format!("a: {}", "[".repeat(eight - 3))),
        ("explicit-keys", fill("? ")),
        ("explicit-key-sequences", fill("? - ")),
        ("block-sequence-nesting", fill("- ")),
        ("long-scalar", format!("a: {}", "x".repeat(eight - 3))),
        ("long-implicit-key", format!("{}: x", "k".repeat(eight - 3))),
        ("wide-flow-sequence", format!("[{}1]", "1,".repeat((eight - 3) / 2))),
        ("wide-mapping", (0..).map(|i| format!("k{i}: v\n")).take_while({
            let mut n = 0;
            move |l: &String| { n += l.len(); n < eight }
        }).collect()),
        ("empty-documents", fill("---\n")),
        ("anchors-everywhere", format!("[{}x]", "&a x, *a, ".repeat((eight - 3) / 10))),
        ("nul-bytes", fill("a: \u{0}\n")),
        ("many-namespaces", fill("---\nkind: Namespace\nmetadata: {name: \"\\e[2J\"}\n")),
    ];
    // Aliases fanning out tenfold per level, on tagged sequences and on collection keys.
    let mut tagged = String::from("a0: &a0 !t [x, x, x, x, x, x, x, x, x, x]\n");
    let mut keyed = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for l in 1..=9 {
        let refs = vec![format!("*a{}", l - 1); 10].join(", ");
        tagged.push_str(&format!("a{l}: &a{l} !t [{refs}]\n"));
        keyed.push_str(&format!("a{l}: &a{l} {{? [{refs}] : v}}\n"));
    }
    out.push(("alias-bomb-tagged", tagged));
    out.push(("alias-bomb-keys", keyed));
    // Merge keys chained through anchors.
    let mut merges = String::from("m0: &m0 {a: 1, b: 2, c: 3}\n");
    for l in 1..=60 {
        merges.push_str(&format!("m{l}: &m{l} {{<<: [*m{}, *m{}], k{l}: v}}\n", l - 1, l - 1));
    }
    out.push(("merge-chain", merges));
    // Realistic but large: many policies and workloads, each policy selecting many peers.
    let mut policies = String::new();
    let mut i = 0;
    while policies.len() < eight - 2048 {
        policies.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{i}, namespace: ns{}}}\nspec:\n  selector: {{matchLabels: {{app: w{i}}}}}\n  template:\n    metadata: {{labels: {{app: w{i}, tier: t{}}}}}\n    spec: {{containers: [{{name: c, image: i, ports: [{{name: http, containerPort: 8080}}]}}]}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: ns{}}}\nspec:\n  podSelector: {{matchLabels: {{app: w{i}}}}}\n  policyTypes: [Ingress, Egress]\n  ingress: [{{from: [{{namespaceSelector: {{}}, podSelector: {{matchLabels: {{tier: t{}}}}}}}], ports: [{{port: http}}]}}]\n  egress: [{{to: [{{ipBlock: {{cidr: 10.{}.0.0/16, except: [10.{}.1.0/24]}}}}]}}]\n",
            i % 50, i % 7, i % 50, (i + 1) % 7, i % 250, i % 250
        ));
        i += 1;
    }
    out.push(("many-policies", policies));
    // 90 levels of 1,000-character keys over 96,000 leaves, in a policy with a finding: a
    // position table that wrote out every field's path would hold 90 KB per leaf.
    let mut deep = String::from("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deep}\nspec:\n  podSelector: {matchLabels: {\"bad key!\": x}}\n");
    for level in 0..90 {
        deep.push_str(&" ".repeat(2 + 2 * level));
        deep.push_str(&format!("{}{level}:\n", "k".repeat(1000)));
    }
    let indent = " ".repeat(2 + 2 * 90);
    for map in 0..4 {
        let items: Vec<String> = (0..24_000).map(|i| format!("a{i}: 1")).collect();
        deep.push_str(&format!("{indent}m{map}: {{{}}}\n", items.join(", ")));
    }
    out.push(("deep-long-keys", deep));
    out
}
