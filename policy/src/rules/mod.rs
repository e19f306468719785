//! Rules: one file each, registered in [`ALL`]. A rule reads the workspace and asks the engine
//! questions; it never computes positions itself (`Workspace::loc` does) and never panics.
//!
//! To add a rule: `scripts/new-rule FAMILY RULE-NAME` writes the rule file, registers it in
//! its family and in [`ALL`], and creates its `fail-*`/`pass-*` corpus folders.

mod cluster;
mod diagnostic;
mod edge;
mod environment;
mod fixes;
mod input;
mod istio;
mod netpol;
mod reachability;

pub use diagnostic::{Diagnostic, Fix, FixKind};

use crate::model::{ContainerPort, Coverage, ObjRef, Object, ObjectId, Protocol, Workspace};
use crate::profile::Profile;
use crate::netpol::{Engine, KnownPods, Target};
use crate::source::Loc;
use crate::Severity;

/// What a rule is, for reports, docs and hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMeta {
    /// Stable id, e.g. `NR101`.
    pub id: &'static str,
    /// Stable kebab-case name.
    pub name: &'static str,
    /// One-line title (the first line of the docs).
    pub title: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Compliance tags.
    pub tags: &'static [&'static str],
    /// Markdown docs: why, a failing example, a passing one.
    pub docs: &'static str,
}

impl RuleMeta {
    /// The corpus family folder of the rule: `input` for `NR0xx`, `netpol` for `NR1xx`, …
    pub fn family(&self) -> &'static str {
        match self.id.as_bytes().get(2) {
            Some(b'0') => "input",
            Some(b'1') => "netpol",
            Some(b'2') => "reachability",
            Some(b'3') => "edge",
            Some(b'4') => "istio",
            Some(b'5') => "environment",
            Some(b'6') => "cluster",
            _ => "other",
        }
    }

    /// The docs as plain Markdown: without rustdoc's leading space, examples fenced as `yaml`.
    pub fn markdown(&self) -> String {
        let lines: Vec<&str> = self.docs.lines().map(|l| l.strip_prefix(' ').unwrap_or(l)).collect();
        lines.join("\n").replace("```yaml,expect_diagnostic", "```yaml")
    }
}

/// A rule: its metadata (written by [`declare_rule!`], read as `Self::META`) plus a check over
/// the whole workspace.
pub trait Rule: Declared {
    /// Add this rule's findings to `out`.
    fn check(cx: &Context<'_>, out: &mut Diagnostics);
}

/// What a rule may look at.
pub struct Context<'a> {
    /// Everything read.
    pub ws: &'a Workspace,
    /// The reachability engine over it.
    pub engine: &'a Engine<'a>,
    /// Cluster facts.
    pub profile: &'a Profile,
}

impl Context<'_> {
    /// Location of a field of an object.
    pub fn at(&self, obj: &ObjRef, field: &str) -> Loc {
        self.ws.loc(obj, field)
    }

    /// Pods that run without being in the input, as (namespace, labels): the profile's
    /// components (DNS, cert-manager, the ingress controller, istiod) and the HTTP-01 solver
    /// pods cert-manager creates in a namespace that asks it for certificates (a Certificate,
    /// or an Ingress with a `cert-manager.io/` issuer annotation).
    pub fn runtime_pods(&self) -> Vec<(&str, crate::model::Labels)> {
        let p = self.profile;
        let mut out = vec![
            (p.dns.namespace.as_str(), p.dns.pod_labels.clone()),
            (p.cert_manager.namespace.as_str(), p.cert_manager.controller_labels.clone()),
            (p.istio.namespace.as_str(), p.istio.istiod_labels.clone()),
        ];
        if let Some(c) = &p.ingress_controller {
            out.push((c.namespace.as_str(), c.pod_labels.clone()));
        }
        let solver: crate::model::Labels = [(crate::model::SOLVER_LABEL.to_string(), "true".to_string())].into();
        let issuing = self.ws.certificates.iter().map(|c| c.namespace.as_str()).chain(
            self.ws
                .ingresses
                .iter()
                .filter(|i| i.annotations.keys().any(|k| k == "cert-manager.io/issuer" || k == "cert-manager.io/cluster-issuer"))
                .map(|i| i.namespace.as_str()),
        );
        for ns in issuing {
            out.push((ns, solver.clone()));
        }
        out
    }

    /// What `host` names: an address, a Service of the input's namespaces, or an external
    /// name (see [`crate::model::Need::target`]).
    pub fn classify(&self, host: &str) -> crate::model::NeedTarget {
        let need = crate::model::Need { text: String::new(), host: host.to_ascii_lowercase(), protocol: crate::model::Protocol::Tcp, port: 1 };
        need.target(&self.profile.cluster_domain, |ns| self.ws.namespaces.contains_key(ns))
    }

    /// Whether workload `w` gets an Istio sidecar: its namespace's injection labels
    /// (`istio-injection: enabled`, `istio.io/rev`), unless its pods say otherwise with
    /// `sidecar.istio.io/inject`.
    pub fn sidecar_injected(&self, w: &crate::model::Workload) -> bool {
        match w.labels.get("sidecar.istio.io/inject").map(String::as_str) {
            Some("false") => false,
            Some("true") => true,
            _ => self.ws.namespaces.get(&w.namespace).is_some_and(|n| {
                n.labels.get("istio-injection").is_some_and(|v| v == "enabled") || n.labels.contains_key("istio.io/rev")
            }),
        }
    }

    /// The Issuer (of namespace `ns`) or ClusterIssuer of the input that `r` names.
    pub fn issuer(&self, r: &crate::model::IssuerRef, ns: &str) -> Option<&'_ crate::model::Issuer> {
        self.ws.issuers.iter().find(|i| {
            i.id.name == r.name && if r.is_cluster() { i.namespace.is_none() } else { i.namespace.as_deref() == Some(ns) }
        })
    }

    /// Every issuer reference of the input: a Certificate's `spec.issuerRef`, an Ingress's
    /// ingress-shim annotation (`cert-manager.io/issuer`, `cert-manager.io/cluster-issuer`).
    pub fn issuer_refs(&self) -> Vec<IssuerUse<'_>> {
        let mut out = Vec::new();
        for c in &self.ws.certificates {
            out.push(IssuerUse { id: c.id.clone(), loc: self.at(&c.obj, "spec.issuerRef"), issuer: c.spec.issuer_ref.clone(), namespace: c.namespace.clone(), obj: &c.obj });
        }
        for ing in &self.ws.ingresses {
            for (key, kind) in [("cert-manager.io/issuer", None), ("cert-manager.io/cluster-issuer", Some("ClusterIssuer".to_string()))] {
                if let Some(name) = ing.annotations.get(key) {
                    let issuer = crate::model::IssuerRef { name: name.clone(), kind: kind.clone(), group: None };
                    let loc = self.at(&ing.obj, &crate::source::join_key("metadata.annotations", key));
                    out.push(IssuerUse { id: ing.id.clone(), loc, issuer, namespace: ing.namespace.clone(), obj: &ing.obj });
                }
            }
        }
        out
    }

    /// The `objects` whose findings are reported (all of them, except in an admission review,
    /// where only the reviewed object's are; see [`Workspace::reported`]).
    pub fn reported<'o, T: Object>(&self, objects: &'o [T]) -> impl Iterator<Item = &'o T> + use<'o, '_, T> {
        objects.iter().filter(|o| self.ws.reported(o.obj()))
    }

    /// [`Context::reported`], with each object's index in `objects`.
    pub fn reported_indexed<'o, T: Object>(&self, objects: &'o [T]) -> impl Iterator<Item = (usize, &'o T)> + use<'o, '_, T> {
        objects.iter().enumerate().filter(|(_, o)| self.ws.reported(o.obj()))
    }

    /// The cluster DNS pods of the profile (CoreDNS declares `dns` UDP 53 and `dns-tcp` TCP 53).
    pub fn dns_pods(&self) -> KnownPods {
        let dns = &self.profile.dns;
        KnownPods {
            display: format!("the cluster DNS pods ({} in {})", crate::model::labels_text(&dns.pod_labels), dns.namespace),
            namespace: dns.namespace.clone(),
            labels: dns.pod_labels.clone(),
            ports: vec![
                ContainerPort { name: Some("dns".into()), number: 53, protocol: Some(Protocol::Udp) },
                ContainerPort { name: Some("dns-tcp".into()), number: 53, protocol: Some(Protocol::Tcp) },
            ],
            pod_cidrs: self.profile.pod_cidrs.clone(),
        }
    }

    /// The API server as a target: its profile addresses, or, when unknown, any address
    /// outside the pod network.
    pub fn api_server_targets(&self) -> Vec<Target> {
        let a = &self.profile.api_server.addresses;
        if a.is_empty() {
            vec![Target::Host("the API server".into())]
        } else {
            a.iter().map(|n| Target::Ip(n.addr())).collect()
        }
    }

    /// Whether `w` talks to the Kubernetes API: declared by annotation, bound to a Role or
    /// ClusterRole through its ServiceAccount, or a component the profile names.
    pub fn is_api_client(&self, w: &crate::model::Workload) -> bool {
        if let Some(v) = w.annotations.get(crate::model::API_CLIENT_ANNOTATION) {
            return v == "true";
        }
        if w.spec.automount_service_account_token == Some(false) {
            return false;
        }
        let sa = w.spec.service_account_name.as_deref().or(w.spec.service_account.as_deref()).unwrap_or("default");
        self.ws.bindings.iter().any(|b| {
            b.subjects.iter().any(|s| {
                let ns = s.namespace.as_deref().or(b.namespace.as_deref());
                s.kind == "ServiceAccount" && s.name == sa && ns == Some(w.namespace.as_str())
            })
        })
    }

    /// Whether the objects of namespace `ns` are all in the input (see [`Coverage`]).
    pub fn sees_namespace(&self, ns: &str) -> bool {
        self.ws.coverage.sees_namespace(ns)
    }
}

/// An object that asks cert-manager for certificates from an issuer.
pub struct IssuerUse<'w> {
    /// The Certificate or Ingress.
    pub id: ObjectId,
    /// Where the reference is written.
    pub loc: Loc,
    /// The issuer it names.
    pub issuer: crate::model::IssuerRef,
    /// Its namespace (where an `Issuer` is looked up).
    pub namespace: String,
    /// The object, for [`Workspace::reported`].
    pub obj: &'w ObjRef,
}

/// Findings per chunk of [`Diagnostics`].
const CHUNK: usize = 4096;

/// Collects findings, in chunks: a single growing vector would, at each doubling, hold its
/// old and new buffers at once, and an input can have hundreds of thousands of findings.
#[derive(Debug)]
pub struct Diagnostics<'w> {
    /// Where positions are looked up.
    ws: &'w Workspace,
    /// Full chunks.
    done: Vec<Vec<Diagnostic>>,
    /// The chunk being filled.
    current: Vec<Diagnostic>,
}

/// A string as a YAML scalar that reads back as that string in flow and block context: plain
/// when it is a simple name, else double-quoted (`*.example.com` would be an alias).
pub(crate) fn yaml_str(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
        && !matches!(s, "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~")
        && s.parse::<f64>().is_err();
    if plain { s.to_string() } else { serde_json::Value::String(s.to_string()).to_string() }
}

impl<'w> Diagnostics<'w> {
    /// No findings yet; positions are looked up in `ws`.
    pub fn new(ws: &'w Workspace) -> Self {
        Self { ws, done: Vec::new(), current: Vec::new() }
    }

    /// Record a finding of `meta` on `object`, at its field `path` (`spec.podSelector`);
    /// refine it through the returned reference (`.why(..).help(..).fix(..)`). The position is
    /// looked up now, only because there is a finding.
    pub fn report(&mut self, meta: &RuleMeta, object: &impl Object, path: &str, message: impl Into<String>) -> &mut Diagnostic {
        let loc = self.ws.loc(object.obj(), path);
        self.report_at(meta, Some(object.id().clone()), loc, message.into())
    }

    /// [`Diagnostics::report`] at a position found otherwise (a key, another object's field),
    /// or about no object.
    pub fn report_at(&mut self, meta: &RuleMeta, object: Option<ObjectId>, loc: Loc, message: String) -> &mut Diagnostic {
        if self.current.len() == CHUNK {
            self.done.push(std::mem::take(&mut self.current));
        }
        self.current.push_mut(Diagnostic {
            rule: meta.id,
            name: meta.name,
            severity: meta.severity,
            message,
            object: object.map(Box::new),
            loc,
            explanation: Vec::new(),
            help: None,
            fix: None,
            edit: None,
            related: Vec::new(),
            tags: meta.tags,
            unverifiable: false,
        })
    }

    /// Record that `meta` could not be checked on `object` because the input does not show
    /// enough of the cluster: an info finding naming what is missing, instead of a guess.
    pub fn unverifiable(&mut self, meta: &RuleMeta, object: Option<ObjectId>, loc: Loc, what: &str, coverage: &Coverage) {
        let d = self.report_at(meta, object, loc, format!("unverifiable: {what}; {}", coverage.blind_spot()));
        d.severity(Severity::Info);
        d.unverifiable = true;
        d.help("run the admission policy with cluster context (settings `context: cluster`), or check the manifest set with `netreach check`");
    }

    /// Record that `meta` could not be checked on `object` because the cluster profile lacks
    /// a fact (`field`): an info finding naming it, instead of a guess.
    pub fn unverifiable_without(&mut self, meta: &RuleMeta, object: Option<ObjectId>, loc: Loc, what: &str, field: &str) {
        let d = self.report_at(meta, object, loc, format!("unverifiable: {what}; the cluster profile does not set `{field}`"));
        d.severity(Severity::Info);
        d.unverifiable = true;
        d.help(format!("set `{field}` in the cluster profile (`--profile`)"));
    }

    /// The findings.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        let mut out = Vec::with_capacity(self.done.iter().map(Vec::len).sum::<usize>() + self.current.len());
        for chunk in self.done {
            out.extend(chunk);
        }
        out.extend(self.current);
        out
    }
}

/// A registered rule.
#[derive(Clone, Copy)]
pub struct RuleEntry {
    /// Metadata.
    pub meta: RuleMeta,
    /// The check.
    pub check: fn(&Context<'_>, &mut Diagnostics),
}

const fn entry<R: Rule>() -> RuleEntry {
    RuleEntry { meta: R::META, check: R::check }
}

/// Every rule, in id order.
pub static ALL: &[RuleEntry] = &[
    entry::<input::InvalidYaml>(),
    entry::<input::InvalidObject>(),
    entry::<input::DuplicateObject>(),
    entry::<input::NotAnObject>(),
    entry::<input::SuppressionUnknownRule>(),
    entry::<netpol::InvalidNetworkPolicy>(),
    entry::<netpol::RulesOutsidePolicyTypes>(),
    entry::<netpol::PolicySelectsNothing>(),
    entry::<netpol::PeerSelectsNothing>(),
    entry::<netpol::NamespaceNameLabel>(),
    entry::<netpol::RuleAllowsEverything>(),
    entry::<netpol::NamedPortUndeclared>(),
    entry::<netpol::ServicePortInPolicy>(),
    entry::<netpol::WorkloadNotIsolated>(),
    entry::<netpol::NoDefaultDeny>(),
    entry::<reachability::DnsUdpBlocked>(),
    entry::<reachability::DnsTcpBlocked>(),
    entry::<reachability::DnsWrongResolver>(),
    entry::<reachability::ApiServerBlocked>(),
    entry::<reachability::ProxyBlocked>(),
    entry::<reachability::RequirementBlocked>(),
    entry::<reachability::IngressBackendBlocked>(),
    entry::<reachability::Http01SolverBlocked>(),
    entry::<reachability::CertManagerEgress>(),
    entry::<reachability::IstiodBlocked>(),
    entry::<edge::IngressHostInvalid>(),
    entry::<edge::RuleHostNotInTls>(),
    entry::<edge::TlsHostNotRouted>(),
    entry::<edge::IngressWithoutTls>(),
    entry::<edge::TlsUnusableByCertManager>(),
    entry::<edge::ConflictingIssuerAnnotations>(),
    entry::<edge::IssuerMissing>(),
    entry::<edge::CertificateInvalid>(),
    entry::<edge::IssuerInvalid>(),
    entry::<edge::AcmeServerSuspicious>(),
    entry::<edge::NoUsableSolver>(),
    entry::<edge::CertificatesShareSecret>(),
    entry::<edge::NginxAllowlistInvalid>(),
    entry::<edge::AuthAnnotationsBroken>(),
    entry::<edge::IngressClassUnresolved>(),
    entry::<edge::BackendMissing>(),
    entry::<edge::IngressPathInvalid>(),
    entry::<istio::ExternalHostUnregistered>(),
    entry::<istio::ServiceEntryWildcardDns>(),
    entry::<istio::ServiceEntryInvalid>(),
    entry::<istio::ServiceEntryNeedsAddresses>(),
    entry::<istio::ServiceEntryConflictingProtocols>(),
    entry::<istio::ServiceEntryTlsAsHttp>(),
    entry::<istio::PassthroughShadowed>(),
    entry::<istio::ServiceEntryInvisible>(),
    entry::<istio::SidecarInvalid>(),
    entry::<environment::NoProxyMissesCluster>(),
    entry::<environment::ProxyEnvMalformed>(),
    entry::<environment::HardcodedClusterIp>(),
    entry::<cluster::InvalidClusterNetworkPolicy>(),
    entry::<cluster::ClusterPriorityOverlap>(),
    entry::<cluster::ClusterRuleShadowed>(),
    entry::<cluster::ClusterPassDecidesNothing>(),
    entry::<cluster::ClusterDenyBlocksEssentials>(),
    entry::<cluster::ClusterPolicyV1alpha1>(),
];

/// Declare a rule: doc comments become its docs, the first line its title.
///
/// The OPA artifact leaves the docs out (`docs` is empty there): OPA hosts hand the module a
/// fixed 5-page memory that the module's static data must fit in, and no OPA host shows docs.
macro_rules! declare_rule {
    (
        #[doc = $title:expr]
        $(#[doc = $doc:expr])*
        pub $name:ident {
            id: $id:expr, name: $rname:expr, severity: $sev:expr, tags: $tags:expr $(,)?
        }
    ) => {
        #[doc = $title]
        $(#[doc = $doc])*
        pub struct $name;
        impl $name {
            const DOCS: &'static str = concat!($title, "\n", $($doc, "\n"),*);
            /// The rule's metadata (also through [`Declared`](crate::rules::Declared)).
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                id: $id,
                name: $rname,
                title: $crate::rules::first_line($title),
                severity: $sev,
                tags: $tags,
                docs: if cfg!(feature = "abi-opa") { "" } else { Self::DOCS },
            };
        }
        impl $crate::rules::Declared for $name {
            const META: $crate::rules::RuleMeta = $name::META;
        }
    };
}
pub(crate) use declare_rule;

/// A rule's metadata, as [`declare_rule!`] writes it from the rule's doc comment.
pub trait Declared {
    /// The metadata.
    const META: RuleMeta;
}

/// The first non-empty line of a doc string, trimmed (usable in constants).
#[allow(clippy::indexing_slicing)] // const fn: every index is checked against len() first
pub const fn first_line(s: &'static str) -> &'static str {
    let bytes = s.as_bytes();
    let mut start = 0;
    while start < bytes.len() && (bytes[start] == b' ' || bytes[start] == b'\n') {
        start += 1;
    }
    let mut end = start;
    while end < bytes.len() && bytes[end] != b'\n' {
        end += 1;
    }
    let (_, rest) = bytes.split_at(start);
    let (line, _) = rest.split_at(end - start);
    match std::str::from_utf8(line) {
        Ok(s) => s,
        Err(_) => "",
    }
}

/// Run every rule.
pub fn run_all(cx: &Context<'_>) -> Vec<Diagnostic> {
    run_selected(cx, &|_| true)
}

/// Run the rules whose id `selected` accepts.
pub fn run_selected(cx: &Context<'_>, selected: &dyn Fn(&str) -> bool) -> Vec<Diagnostic> {
    let mut out = Diagnostics::new(cx.ws);
    for r in ALL.iter().filter(|r| selected(r.meta.id)) {
        (r.check)(cx, &mut out);
    }
    out.into_vec()
}

/// Metadata of a rule by id or name.
pub fn find(id_or_name: &str) -> Option<&'static RuleEntry> {
    ALL.iter().find(|r| r.meta.id == id_or_name || r.meta.name == id_or_name)
}
