//! Patches that add a whole object, shared by every family: one NetworkPolicy builder (the
//! default-deny fixes of `NR1xx`, the allow fixes of `NR2xx`) so every generated policy has the
//! same shape.

use crate::model::{Labels, ObjectId, Protocol};
use crate::netpol::Direction;
use crate::rules::Fix;

/// A new NetworkPolicy `name` in `namespace` for the pods with `pods` labels (every pod of the
/// namespace when empty).
pub(crate) struct NewPolicy<'a> {
    /// Its namespace.
    pub namespace: &'a str,
    /// Its name.
    pub name: &'a str,
    /// The labels its `podSelector` matches.
    pub pods: &'a Labels,
}

impl NewPolicy<'_> {
    /// A policy that isolates its pods for `types` and allows nothing.
    pub fn deny(&self, description: String, types: &[&str]) -> Fix {
        self.fix(description, self.header(&types.join(", ")))
    }

    /// A policy that allows `ports` in `dir` to (or from) `peers` (YAML list items, as
    /// `to:`/`from:` holds them). Adding a policy is the least intrusive patch: policies are a
    /// union, and the pods are already isolated in `dir`.
    pub fn allow(&self, description: String, dir: Direction, peers: &[String], ports: &[(Protocol, u16)]) -> Fix {
        let (key, peer_key) = match dir {
            Direction::Egress => ("egress", "to"),
            Direction::Ingress => ("ingress", "from"),
        };
        let mut patch = self.header(dir.as_str());
        patch.push_str(&format!("\n  {key}:\n    - "));
        let mut first = true;
        if !peers.is_empty() {
            patch.push_str(&format!("{peer_key}:\n"));
            first = false;
            for p in peers {
                for line in p.lines() {
                    patch.push_str(&format!("        {line}\n"));
                }
            }
        }
        let ports: Vec<String> = ports.iter().map(|(proto, port)| format!("{{protocol: {proto}, port: {port}}}")).collect();
        patch.push_str(&format!("{}ports: [{}]", if first { "" } else { "      " }, ports.join(", ")));
        self.fix(description, patch)
    }

    /// Everything up to and including `policyTypes`.
    fn header(&self, types: &str) -> String {
        let selector = if self.pods.is_empty() { "{}".to_string() } else { format!("{{matchLabels: {}}}", labels_yaml(self.pods)) };
        let (name, namespace) = (self.name, self.namespace);
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  podSelector: {selector}\n  policyTypes: [{types}]"
        )
    }

    fn fix(&self, description: String, patch: String) -> Fix {
        let target = ObjectId {
            api_version: "networking.k8s.io/v1".into(),
            kind: "NetworkPolicy".into(),
            name: self.name.to_string(),
            namespace: Some(self.namespace.to_string()),
        };
        Fix::new_object(description, patch, target)
    }
}

/// Labels as a flow mapping, values quoted as JSON strings (always valid YAML).
pub(crate) fn labels_yaml(l: &Labels) -> String {
    let pairs: Vec<String> = l.iter().map(|(k, v)| format!("{k}: {}", serde_json::Value::String(v.clone()))).collect();
    format!("{{{}}}", pairs.join(", "))
}
