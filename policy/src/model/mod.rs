//! Typed objects with their positions: namespaces, workloads (pods and pod templates),
//! Services and NetworkPolicies. One bad document or object never sinks the others.

mod cert_manager;
mod cluster_policy;
pub mod host;
mod istio;
mod network_policy;
pub mod proxy;
mod requirement;
mod selector;
pub mod validate;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{PodSpec, ServiceSpec};
use k8s_openapi::api::networking::v1::IngressSpec;
use k8s_openapi::api::rbac::v1::Subject;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use network_policy::{
    parse_cidr, NamespaceScope, NetworkPolicy, Peer, PeerKind, PolicyTypes, PortMatch, PortSel, Protocol, PolicyRule,
};
pub use cert_manager::{
    Acme, AcmeSolver, CaIssuer, Certificate, CertificateSpec, Dns01, Http01, Http01Ingress, Issuer, IssuerRef, IssuerSpec, LocalRef,
    NgtsIssuer, OtherName, PrivateKey, SecretTemplate, SolverSelector, VaultAuth, VaultIssuer, VenafiIssuer, SOLVER_LABEL,
};
pub use istio::{
    ClientTls, DestinationRule, DestinationRuleSpec, EgressListener, IstioObject, MeshConfig, OutboundTrafficPolicy, PortSelector,
    PortTrafficPolicy, ProxyConfig, ServiceEntry, ServiceEntrySpec, ServicePort, Sidecar, SidecarPort, SidecarSpec, TrafficPolicy, WorkloadEntry,
    WorkloadSelector,
};
pub use requirement::{parse_requirements, Need, NeedTarget, Requirements, REQUIREMENTS_KIND, API_CLIENT_ANNOTATION, EGRESS_ANNOTATION};
pub use cluster_policy::{
    Action, ClusterApi, ClusterPolicy, ClusterPolicySpec, ClusterRule, ClusterSubject, PeerSpec, RuleSpec, Tier,
};
pub use selector::{contains_labels, labels_text, Labels, Requirement, Selector};

use crate::source::Edit;
use crate::source::Loc;
use crate::source::{join_index, join_key, Document, Limits, Parsed, Source, Span, SyntaxError};

/// The label the API server sets on every namespace (KEP-2161).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// How manifests are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Namespace for namespaced objects without `metadata.namespace`.
    pub default_namespace: String,
    /// Parser limits.
    pub limits: Limits,
    /// Admission: the first source holds the object under review and later sources are
    /// context. An object of the context with the reviewed identity is the stored version the
    /// review replaces, so it is left out; findings are reported for the reviewed object only.
    pub review: bool,
    /// How much of the cluster the sources show.
    pub coverage: Coverage,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { default_namespace: "default".into(), limits: Limits::default(), review: false, coverage: Coverage::Complete }
    }
}

/// How much of the cluster the input shows. Rules that need other objects report
/// "unverifiable" (info) where the input is blind, rather than a finding that only holds
/// because objects are missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Coverage {
    /// Everything that matters is in the input: a manifest set, or admission with cluster-wide
    /// context.
    #[default]
    Complete,
    /// Every Namespace, and the other objects of this namespace only (admission with
    /// namespace context).
    Namespace(String),
    /// The reviewed object alone (admission without context).
    Object,
}

impl Coverage {
    /// Whether the workloads, policies and Services of namespace `ns` are all in the input.
    pub fn sees_namespace(&self, ns: &str) -> bool {
        match self {
            Coverage::Complete => true,
            Coverage::Namespace(n) => n == ns,
            Coverage::Object => false,
        }
    }

    /// What the input lacks, for "unverifiable" messages.
    pub fn blind_spot(&self) -> &'static str {
        match self {
            Coverage::Complete => "nothing",
            Coverage::Namespace(_) => "objects of other namespaces were not read",
            Coverage::Object => "no cluster context was read",
        }
    }
}

/// Identity of an object as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectId {
    /// `apiVersion`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// Namespace, for namespaced kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Where an object was written: its document and the path prefix (`items[3]` inside a List).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    /// Index into [`Workspace::documents`].
    pub doc: usize,
    /// Path of the object inside the document (empty for a top-level object).
    pub base: String,
}

impl ObjRef {
    /// Full document path of a field of this object.
    pub fn path(&self, field: &str) -> String {
        match (self.base.is_empty(), field.is_empty()) {
            (true, _) => field.to_string(),
            (false, true) => self.base.clone(),
            (false, false) if field.starts_with('[') => format!("{}{field}", self.base),
            (false, false) => format!("{}.{field}", self.base),
        }
    }
}

/// A namespace: from the input, or implied because something refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// Name.
    pub name: String,
    /// Labels, including the implied `kubernetes.io/metadata.name`.
    pub labels: Labels,
    /// The Namespace object, when the input has one.
    pub obj: Option<ObjRef>,
}

/// A container port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerPort {
    /// Port name, for named-port resolution.
    pub name: Option<String>,
    /// Port number.
    pub number: i32,
    /// Protocol (TCP when omitted); `None` when invalid.
    pub protocol: Option<Protocol>,
}

/// A pod or a pod template: the unit NetworkPolicies select.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Identity as reported: the top owner for owned pods, else the object itself.
    pub id: ObjectId,
    /// The object that carries the pod (template).
    pub obj: ObjRef,
    /// Kind of that object (`Pod`, `Deployment`, …).
    pub source_kind: String,
    /// Path of the pod template inside the object (empty for a Pod).
    pub template: String,
    /// Namespace.
    pub namespace: String,
    /// Pod labels.
    pub labels: Labels,
    /// Annotations of the object.
    pub annotations: BTreeMap<String, String>,
    /// Pod spec.
    pub spec: PodSpec,
    /// Container ports, flattened over containers.
    pub ports: Vec<ContainerPort>,
    /// Pod IPs from `status`, when the manifest carries them.
    pub ips: Vec<IpAddr>,
}

impl Workload {
    /// `namespace/name[Kind]`, the form the connectivity map prints.
    pub fn display(&self) -> String {
        format!("{}/{}[{}]", self.namespace, self.id.name, self.id.kind)
    }

    /// `hostNetwork: true`.
    pub fn host_network(&self) -> bool {
        self.spec.host_network.unwrap_or(false)
    }

    /// Path of a pod-template field relative to the object, e.g. `spec.template.metadata.labels`.
    pub fn template_field(&self, field: &str) -> String {
        match (self.template.is_empty(), field.is_empty()) {
            (true, _) => field.to_string(),
            (false, true) => self.template.clone(),
            (false, false) => format!("{}.{field}", self.template),
        }
    }

    /// Path of a pod-template field inside the document, e.g. `spec.template.metadata.labels`.
    pub fn template_path(&self, field: &str) -> String {
        let rel = match (self.template.is_empty(), field.is_empty()) {
            (true, _) => field.to_string(),
            (false, true) => self.template.clone(),
            (false, false) => format!("{}.{field}", self.template),
        };
        self.obj.path(&rel)
    }
}

/// A Service (kept for the rules that follow traffic through it).
#[derive(Debug, Clone)]
pub struct Service {
    /// Identity.
    pub id: ObjectId,
    /// Where.
    pub obj: ObjRef,
    /// Namespace.
    pub namespace: String,
    /// Spec as written.
    pub spec: ServiceSpec,
}

/// An Ingress (kept for the rules that follow traffic from the ingress controller).
#[derive(Debug, Clone)]
pub struct Ingress {
    /// Identity.
    pub id: ObjectId,
    /// Where.
    pub obj: ObjRef,
    /// Namespace.
    pub namespace: String,
    /// Annotations (cert-manager's ingress-shim reads its issuer from them).
    pub annotations: BTreeMap<String, String>,
    /// Spec as written.
    pub spec: IngressSpec,
}

/// An IngressClass.
#[derive(Debug, Clone)]
pub struct IngressClass {
    /// Identity.
    pub id: ObjectId,
    /// Where.
    pub obj: ObjRef,
    /// `spec.controller`.
    pub controller: Option<String>,
    /// Marked as the default class (`ingressclass.kubernetes.io/is-default-class: "true"`).
    pub default: bool,
}

/// A ConfigMap: only its string data matters here.
#[derive(Debug, Clone)]
pub struct ConfigMap {
    /// Identity.
    pub id: ObjectId,
    /// Where.
    pub obj: ObjRef,
    /// Namespace.
    pub namespace: String,
    /// `data`.
    pub data: BTreeMap<String, String>,
}

impl Ingress {
    /// Every backend (`defaultBackend`, then each rule path's) with its field path.
    pub fn backends(&self) -> Vec<(String, &k8s_openapi::api::networking::v1::IngressBackend)> {
        let mut out = Vec::new();
        if let Some(b) = &self.spec.default_backend {
            out.push(("spec.defaultBackend".to_string(), b));
        }
        for (ri, r) in self.spec.rules.iter().flatten().enumerate() {
            for (pi, p) in r.http.iter().flat_map(|h| h.paths.iter()).enumerate() {
                out.push((format!("{}.backend", join_index(&format!("{}.http.paths", join_index("spec.rules", ri)), pi)), &p.backend));
            }
        }
        out
    }
}

/// A RoleBinding or ClusterRoleBinding: only who it binds matters here (API clients).
#[derive(Debug, Clone)]
pub struct Binding {
    /// Identity.
    pub id: ObjectId,
    /// Where.
    pub obj: ObjRef,
    /// Namespace of a RoleBinding; `None` for a ClusterRoleBinding.
    pub namespace: Option<String>,
    /// `subjects`.
    pub subjects: Vec<Subject>,
}

/// A problem with the input itself (not a rule finding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What went wrong.
    pub kind: ProblemKind,
    /// Where.
    pub loc: Loc,
    /// Message.
    pub message: String,
    /// The object, when known.
    pub object: Option<Box<ObjectId>>,
    /// Other places involved.
    pub related: Vec<(String, Loc)>,
}

/// Kinds of input problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The text is not YAML/JSON, or exceeds a limit.
    Syntax,
    /// The document is not a valid object of its kind.
    Object,
    /// A top-level document that is not a mapping (e.g. a stray JSON array).
    NotAnObject,
    /// The same object is defined more than once.
    Duplicate,
}

/// The annotation that lists rules (ids or names, separated by commas or spaces) whose findings
/// on the annotated object are not reported; the report counts them in `summary.suppressed`.
pub const SKIP_ANNOTATION: &str = "netreach.dev/skip";

/// `s` as a JSON string, which is also a YAML double-quoted scalar (valid in block and flow).
fn json_str(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Rules one object opts out of through [`SKIP_ANNOTATION`].
#[derive(Debug, Clone)]
pub struct Suppression {
    /// The annotated object.
    pub id: ObjectId,
    /// Where it was written.
    pub obj: ObjRef,
    /// The rule ids or names as written.
    pub rules: Vec<String>,
}

/// An object of the input: its identity and where it is written. Rules report on objects.
pub trait Object {
    /// Kind, namespace and name.
    fn id(&self) -> &ObjectId;
    /// Where it is written.
    fn obj(&self) -> &ObjRef;
}

macro_rules! objects {
    ($($t:ty),* $(,)?) => {$(
        impl Object for $t {
            fn id(&self) -> &ObjectId {
                &self.id
            }
            fn obj(&self) -> &ObjRef {
                &self.obj
            }
        }
    )*};
}

objects!(Workload, Service, Ingress, IngressClass, ConfigMap, Binding, Suppression, NetworkPolicy, Issuer, Certificate, Requirements, ClusterPolicy);

impl<T: Object> Object for &T {
    fn id(&self) -> &ObjectId {
        (*self).id()
    }
    fn obj(&self) -> &ObjRef {
        (*self).obj()
    }
}

impl<S> Object for IstioObject<S> {
    fn id(&self) -> &ObjectId {
        &self.id
    }
    fn obj(&self) -> &ObjRef {
        &self.obj
    }
}

/// Everything read from the input.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Source names, in input order.
    pub files: Vec<String>,
    /// Documents that parsed.
    pub documents: Vec<Document>,
    /// Number of documents, including unreadable ones.
    pub document_count: usize,
    /// Namespaces, by name.
    pub namespaces: BTreeMap<String, Namespace>,
    /// Pods and pod templates.
    pub workloads: Vec<Workload>,
    /// NetworkPolicies.
    pub policies: Vec<NetworkPolicy>,
    /// Services.
    pub services: Vec<Service>,
    /// Ingresses.
    pub ingresses: Vec<Ingress>,
    /// RoleBindings and ClusterRoleBindings.
    pub bindings: Vec<Binding>,
    /// cert-manager Issuers and ClusterIssuers.
    pub issuers: Vec<Issuer>,
    /// cert-manager Certificates.
    pub certificates: Vec<Certificate>,
    /// Declared requirements (netreach's `Requirements` documents).
    pub requirements: Vec<Requirements>,
    /// ConfigMaps (their `data`, for values workloads read into their environment).
    pub config_maps: Vec<ConfigMap>,
    /// IngressClasses.
    pub ingress_classes: Vec<IngressClass>,
    /// Istio ServiceEntries.
    pub service_entries: Vec<ServiceEntry>,
    /// Istio Sidecars.
    pub sidecars: Vec<Sidecar>,
    /// Istio DestinationRules.
    pub destination_rules: Vec<DestinationRule>,
    /// ClusterNetworkPolicies, AdminNetworkPolicies and BaselineAdminNetworkPolicies.
    pub cluster_policies: Vec<ClusterPolicy>,
    /// Per-object rule suppressions.
    pub suppressions: Vec<Suppression>,
    /// Every object with a kind, namespace and name, valid or not: where it is first written,
    /// keyed by (kind, namespace, name), since findings ask for it once each.
    declared: HashMap<(String, Option<String>, String), ObjRef>,
    /// Input problems.
    pub problems: Vec<Problem>,
    /// Objects of kinds that are not analysed, per kind.
    pub skipped: BTreeMap<String, usize>,
    /// Objects analysed.
    pub objects: usize,
    /// Admission review ([`LoadOptions::review`]): only the first source's findings are wanted.
    pub review: bool,
    /// How much of the cluster the input shows ([`LoadOptions::coverage`]).
    pub coverage: Coverage,
}

impl Workspace {
    /// Read every source.
    pub fn load(sources: &[Source], options: &LoadOptions) -> Self {
        let mut ws = Workspace::start(options);
        let mut seen: Seen = HashMap::new();
        for (file, src) in sources.iter().enumerate() {
            let mut errors = Vec::new();
            // Each document becomes typed model as soon as it is read: the raw data of every
            // document at once would cost several times the model.
            src.parse_each(
                file,
                &options.limits,
                &mut |mut doc| {
                    let value = std::mem::take(&mut doc.value);
                    ws.add_document(doc, &value, options, &mut seen);
                },
                &mut |e| errors.push(e),
            );
            ws.add_source(file, &src.name, &errors);
        }
        ws.finish(seen)
    }

    /// Read sources parsed before (see [`Parsed`]): `(name, parsed)` in input order. The result
    /// is the one [`Workspace::load`] gives for the same texts.
    pub fn load_parsed(sources: &[(&str, &Parsed)], options: &LoadOptions) -> Self {
        let mut ws = Workspace::start(options);
        let mut seen: Seen = HashMap::new();
        for (file, (name, parsed)) in sources.iter().enumerate() {
            ws.add_source(file, name, &parsed.errors);
            for doc in &parsed.documents {
                let mut d = doc.without_value();
                d.file = file;
                ws.add_document(d, &doc.value, options, &mut seen);
            }
        }
        ws.finish(seen)
    }

    fn start(options: &LoadOptions) -> Self {
        Workspace { review: options.review, coverage: options.coverage.clone(), ..Workspace::default() }
    }

    fn add_source(&mut self, file: usize, name: &str, errors: &[SyntaxError]) {
        self.files.push(name.to_string());
        self.document_count += errors.len();
        for e in errors {
            self.problems.push(Problem {
                kind: ProblemKind::Syntax,
                loc: Loc { file, doc: e.index, span: e.span, path: String::new() },
                message: e.message.clone(),
                object: None,
                related: Vec::new(),
            });
        }
    }

    fn add_document(&mut self, doc: Document, value: &Value, options: &LoadOptions, seen: &mut Seen) {
        self.document_count += 1;
        let obj = ObjRef { doc: self.documents.len(), base: String::new() };
        self.documents.push(doc);
        self.load_value(value, obj, options, seen, None);
    }

    fn finish(mut self, seen: Seen) -> Self {
        self.report_duplicates(seen);
        self.imply_namespaces();
        // Large inputs leave these up to half empty; they live for the whole check.
        self.documents.shrink_to_fit();
        self.problems.shrink_to_fit();
        self.workloads.shrink_to_fit();
        self.policies.shrink_to_fit();
        self
    }

    /// The labels of namespace `ns`: its object's (or the implied one's), else only the name
    /// label the API server sets (a namespace the input does not mention, e.g. the profile's).
    pub fn namespace_labels(&self, ns: &str) -> Labels {
        self.namespaces.get(ns).map(|n| n.labels.clone()).unwrap_or_else(|| Labels::from([(NAMESPACE_NAME_LABEL.to_string(), ns.to_string())]))
    }

    /// The workload shown as `namespace/name[Kind]` or `namespace/name` (first match).
    pub fn find_workload(&self, name: &str) -> Option<usize> {
        self.workloads.iter().position(|w| {
            let d = w.display();
            d == name || d.split('[').next() == Some(name)
        })
    }

    /// Whether findings on `obj` are reported: always, except in an admission review, where
    /// only the reviewed object's are (context objects are not under review). Rules that look
    /// at one object at a time skip the others; the report drops them in any case.
    pub fn reported(&self, obj: &ObjRef) -> bool {
        self.documents.get(obj.doc).is_some_and(|d| self.reports_file(d.file))
    }

    /// Whether findings located in source `file` are reported (see [`Workspace::reported`]).
    pub fn reports_file(&self, file: usize) -> bool {
        !self.review || file == 0
    }

    /// Location of the first of `fields` (paths inside the object) that the document writes,
    /// else of the last one (which falls back to its nearest written ancestor).
    pub fn loc_first(&self, obj: &ObjRef, fields: &[String]) -> Loc {
        let doc = self.documents.get(obj.doc);
        let found = fields.iter().find(|f| doc.is_some_and(|d| d.has(&obj.path(f))));
        match found.or(fields.last()) {
            Some(f) => self.loc(obj, f),
            None => self.loc(obj, ""),
        }
    }

    /// Location of a field of an object (falls back to the nearest written ancestor).
    pub fn loc(&self, obj: &ObjRef, field: &str) -> Loc {
        self.loc_at(obj, &obj.path(field), false)
    }

    /// An edit that replaces the value of a field the document writes with `flow` (one line of
    /// flow YAML, valid in block and flow context alike); `None` when the field is not written.
    pub fn replace_edit(&self, obj: &ObjRef, field: &str, flow: String) -> Option<Edit> {
        let d = self.documents.get(obj.doc)?;
        let f = d.field(&obj.path(field))?;
        // From the end of the key, so a block value on the next lines becomes `key: [..]`.
        let (start, text) = match f.key {
            Some(k) => (k.end, format!(": {flow}")),
            None => (f.value.start, flow),
        };
        Some(Edit::Replace { file: d.file, span: Span::new(start, f.value.end), text })
    }

    /// An edit that replaces the whole object `obj` (a document of its own, written from the
    /// start of a line) with `block` (block YAML); `None` for an item of a list or an object
    /// that starts mid-line.
    pub fn replace_object_edit(&self, obj: &ObjRef, block: &str) -> Option<Edit> {
        if !obj.base.is_empty() {
            return None;
        }
        let d = self.documents.get(obj.doc)?;
        let root = d.field("")?.value;
        let text = d.source_text();
        let at_line_start = root.start == 0 || text.as_bytes().get(root.start.checked_sub(1)?) == Some(&b'\n');
        at_line_start.then(|| Edit::Replace { file: d.file, span: root, text: block.trim_end().to_string() })
    }

    /// Whether the input declares an object of this kind, namespace and name (API versions
    /// aside), so a fix that would add it must not.
    pub fn declares(&self, id: &ObjectId) -> bool {
        self.written(id).is_some()
    }

    /// Where the object of this kind, namespace and name (API versions aside) is written.
    pub fn written(&self, id: &ObjectId) -> Option<&ObjRef> {
        self.declared.get(&(id.kind.clone(), id.namespace.clone(), id.name.clone()))
    }

    /// An edit that adds `rule` to the [`SKIP_ANNOTATION`] of `object`, creating the annotation
    /// (and `metadata.annotations`) when absent, in the style the document is written in (block
    /// YAML, flow YAML or JSON). `None` when the object is not in the input.
    pub fn suppress_edit(&self, object: &ObjectId, rule: &str) -> Option<Edit> {
        let obj = self.written(object)?;
        let d = self.documents.get(obj.doc)?;
        let skip_field = join_key("metadata.annotations", SKIP_ANNOTATION);
        if d.has(&obj.path(&skip_field)) {
            let mut rules: Vec<String> = self.suppressions.iter().filter(|s| s.obj == *obj).flat_map(|s| s.rules.clone()).collect();
            rules.push(rule.to_string());
            return self.replace_edit(obj, &skip_field, json_str(&rules.join(", ")));
        }
        let text = d.source_text();
        let has_annotations = d.has(&obj.path("metadata.annotations"));
        let parent = if has_annotations { "metadata.annotations" } else { "metadata" };
        let entry = |json: bool| {
            let q = |k: &str| if json { json_str(k) } else { k.to_string() };
            let item = format!("{}: {}", q(SKIP_ANNOTATION), json_str(rule));
            if has_annotations { item } else { format!("{}: {{{item}}}", q("annotations")) }
        };
        let Some(first) = d.first_key(&obj.path(parent)) else {
            // `annotations: {}` or `annotations:` (null): write the whole value.
            return has_annotations.then(|| self.replace_edit(obj, parent, format!("{{{}}}", entry(false)))).flatten();
        };
        let json = text.get(first.start..).is_some_and(|t| t.starts_with('"'));
        let line_start = text.get(..first.start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
        let before = text.get(line_start..first.start).unwrap_or("");
        // On its own line: a new line with the same indentation; inside `{...}`: a new item.
        let sep = match (before.trim().is_empty(), json) {
            (true, true) => format!(",\n{before}"),
            (true, false) => format!("\n{before}"),
            (false, _) => ", ".to_string(),
        };
        Some(Edit::Replace { file: d.file, span: Span::new(first.start, first.start), text: format!("{}{sep}", entry(json)) })
    }

    /// Whether `object` opts out of rule `id` (named by id or name) through [`SKIP_ANNOTATION`].
    pub fn suppresses(&self, object: &ObjectId, id: &str, name: &str) -> bool {
        self.suppressions.iter().any(|s| {
            s.id.kind == object.kind
                && s.id.namespace == object.namespace
                && s.id.name == object.name
                && s.rules.iter().any(|r| r.eq_ignore_ascii_case(id) || r == name)
        })
    }

    /// An edit that adds the fix's patch as a new document to the file holding `obj`.
    pub fn append_edit(&self, obj: &ObjRef) -> Option<Edit> {
        self.documents.get(obj.doc).map(|d| Edit::AppendDocument { file: d.file })
    }

    /// Location of the key of a field (e.g. `policyTypes` rather than its value).
    pub fn key_loc(&self, obj: &ObjRef, field: &str) -> Loc {
        self.loc_at(obj, &obj.path(field), true)
    }

    fn loc_at(&self, obj: &ObjRef, path: &str, key: bool) -> Loc {
        match self.documents.get(obj.doc) {
            Some(d) => Loc {
                file: d.file,
                doc: d.index,
                span: if key { d.key_span_of(path) } else { d.span_of(path) },
                path: path.to_string(),
            },
            None => Loc { file: 0, doc: 0, span: Span::default(), path: path.to_string() },
        }
    }

    fn problem(&mut self, kind: ProblemKind, obj: &ObjRef, field: &str, message: String, object: Option<ObjectId>) {
        let loc = self.loc(obj, field);
        self.problems.push(Problem { kind, loc, message, object: object.map(Box::new), related: Vec::new() });
    }

    fn load_value(
        &mut self,
        value: &Value,
        obj: ObjRef,
        options: &LoadOptions,
        seen: &mut Seen,
        implied: Option<(&str, &str)>,
    ) {
        let Some(map) = value.as_object() else {
            let found = type_name(value);
            let kind = if implied.is_some() { ProblemKind::Object } else { ProblemKind::NotAnObject };
            self.problem(kind, &obj, "", format!("document is {found}, not a Kubernetes object (a mapping); it is skipped"), None);
            return;
        };
        // Items of a typed list (`PodList`) may omit kind and apiVersion, as API responses do.
        let kind = map.get("kind").and_then(Value::as_str).or(implied.map(|i| i.0)).filter(|k| !k.is_empty());
        let api_version = map.get("apiVersion").and_then(Value::as_str).or(implied.map(|i| i.1)).filter(|a| !a.is_empty());
        let (kind, api_version) = match (kind, api_version) {
            (None, None) if !map.contains_key("kind") && !map.contains_key("apiVersion") && implied.is_none() => {
                *self.skipped.entry("(no kind)".into()).or_default() += 1;
                return;
            }
            (Some(k), Some(a)) => (k.to_string(), a.to_string()),
            (None, _) => {
                self.problem(ProblemKind::Object, &obj, "kind", "`kind` must be a non-empty string".into(), None);
                return;
            }
            (Some(_), None) => {
                self.problem(ProblemKind::Object, &obj, "apiVersion", "`apiVersion` must be a non-empty string".into(), None);
                return;
            }
        };
        if kind.ends_with("List") && implied.is_none() {
            self.load_list(map, &obj, &kind, &api_version, options, seen);
            return;
        }
        let Some(expected) = served_api_version(&kind) else {
            *self.skipped.entry(kind).or_default() += 1;
            return;
        };
        let istio = ISTIO_VERSIONS.contains(&expected) && ISTIO_VERSIONS.contains(&api_version.as_str());
        // v1beta1 serves the v1alpha2 schema under its next name.
        let cnp = kind == "ClusterNetworkPolicy" && api_version == "policy.networking.k8s.io/v1beta1";
        if api_version != expected && !istio && !cnp {
            self.problem(
                ProblemKind::Object,
                &obj,
                "apiVersion",
                format!("apiVersion `{api_version}` is not served for kind {kind}; use `{expected}`"),
                None,
            );
            return;
        }
        let meta: Meta = match self.typed(map.get("metadata"), &obj, "metadata") {
            Some(m) => m,
            None => return,
        };
        let Some(name) = meta.name.clone().filter(|n| !n.is_empty()) else {
            self.problem(ProblemKind::Object, &obj, "metadata", format!("{kind} has no `metadata.name`"), None);
            return;
        };
        let namespaced = !matches!(
            kind.as_str(),
            "Namespace" | "ClusterRoleBinding" | "ClusterIssuer" | "IngressClass" | "ClusterNetworkPolicy" | "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy"
        );
        let namespace = namespaced.then(|| {
            meta.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| options.default_namespace.clone())
        });
        if options.review && self.replaced(&obj, &(kind.clone(), namespace.clone(), name.clone()), seen) {
            return;
        }
        let id = ObjectId { api_version, kind: kind.clone(), name: name.clone(), namespace: namespace.clone() };
        self.declared.entry((kind.clone(), namespace.clone(), name.clone())).or_insert_with(|| obj.clone());
        if let Some(v) = meta.annotations.as_ref().and_then(|a| a.get(SKIP_ANNOTATION)) {
            let rules = v.split(|c: char| c == ',' || c.is_whitespace()).filter(|r| !r.is_empty()).map(str::to_string).collect();
            self.suppressions.push(Suppression { id: id.clone(), obj: obj.clone(), rules });
        }
        let ns = namespace.clone().unwrap_or_default();
        if self.load_kind(&kind, map, &obj, &meta, id.clone(), ns) {
            self.objects += 1;
            seen.entry((kind, namespace, name)).or_default().push((obj, id));
        }
    }

    /// The items of a typed list (`PodList`, `List`): each loads as an object of the item kind
    /// (none for a plain `List`, whose items name their own).
    fn load_list(&mut self, map: &serde_json::Map<String, Value>, obj: &ObjRef, kind: &str, api_version: &str, options: &LoadOptions, seen: &mut Seen) {
        let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
        match map.get("items") {
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let child = ObjRef { doc: obj.doc, base: join_index(&obj.path("items"), i) };
                    let implied = Some(item_kind.map_or(("", ""), |k| (k, api_version)));
                    self.load_value(item, child, options, seen, implied);
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => {
                let found = type_name(other);
                self.problem(ProblemKind::Object, obj, "items", format!("`items` must be a list, found {found}"), None);
            }
        }
    }

    /// Build the typed object of one `kind` (already known to be served) into its list;
    /// false when its spec does not deserialize (the problem is recorded).
    fn load_kind(&mut self, kind: &str, map: &serde_json::Map<String, Value>, obj: &ObjRef, meta: &Meta, id: ObjectId, ns: String) -> bool {
        let name = id.name.clone();
        let namespace = id.namespace.clone();
        let annotations = || meta.annotations.clone().unwrap_or_default();
        let spec = map.get("spec");
        match kind {
            "Namespace" => {
                let mut labels = meta.labels.clone().unwrap_or_default();
                labels.insert(NAMESPACE_NAME_LABEL.into(), name.clone());
                self.namespaces.insert(name.clone(), Namespace { name, labels, obj: Some(obj.clone()) });
                true
            }
            "NetworkPolicy" => self.load_spec(spec, obj, "spec", |m, spec| m.policies.push(NetworkPolicy::new(id, obj.clone(), ns, name, spec))),
            "Service" => self.load_spec(spec, obj, "spec", |m, spec| m.services.push(Service { id, obj: obj.clone(), namespace: ns, spec })),
            "Ingress" => self.load_spec(with_path_types(spec).as_ref(), obj, "spec", |m, spec| {
                m.ingresses.push(Ingress { id, obj: obj.clone(), namespace: ns, annotations: annotations(), spec });
            }),
            "RoleBinding" | "ClusterRoleBinding" => self.load_spec(map.get("subjects"), obj, "subjects", |m, subjects| {
                m.bindings.push(Binding { id, obj: obj.clone(), namespace, subjects });
            }),
            "Issuer" | "ClusterIssuer" => self.load_spec(spec, obj, "spec", |m, spec| m.issuers.push(Issuer { id, obj: obj.clone(), namespace, spec })),
            "IngressClass" => self.load_spec(spec, obj, "spec", |m, spec: k8s_openapi::api::networking::v1::IngressClassSpec| {
                let default = annotations().get("ingressclass.kubernetes.io/is-default-class").is_some_and(|v| v == "true");
                m.ingress_classes.push(IngressClass { id, obj: obj.clone(), controller: spec.controller, default });
            }),
            "ServiceEntry" => {
                let spec = self.typed::<ServiceEntrySpec>(spec, obj, "spec");
                let status = self.typed::<istio::ServiceEntryStatus>(map.get("status"), obj, "status");
                let (Some(mut spec), Some(status)) = (spec, status) else { return false };
                spec.allocated = status.addresses.into_iter().map(|a| a.value).filter(|v| !v.is_empty()).collect();
                self.service_entries.push(IstioObject { id, obj: obj.clone(), namespace: ns, spec });
                true
            }
            "Sidecar" => self.load_spec(spec, obj, "spec", |m, spec| m.sidecars.push(IstioObject { id, obj: obj.clone(), namespace: ns, spec })),
            "DestinationRule" => self.load_spec(spec, obj, "spec", |m, spec| m.destination_rules.push(IstioObject { id, obj: obj.clone(), namespace: ns, spec })),
            "ConfigMap" => self.load_spec(map.get("data"), obj, "data", |m, data| m.config_maps.push(ConfigMap { id, obj: obj.clone(), namespace: ns, data })),
            "Certificate" => self.load_spec(spec, obj, "spec", |m, spec| {
                let labels = meta.labels.clone().unwrap_or_default();
                m.certificates.push(Certificate { id, obj: obj.clone(), namespace: ns, labels, spec });
            }),
            REQUIREMENTS_KIND => self.load_spec(spec, obj, "spec", |m, spec| m.requirements.push(Requirements::new(id, obj.clone(), ns, &spec))),
            "ClusterNetworkPolicy" | "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy" => {
                let Some(api) = ClusterApi::of_kind(kind) else { return false };
                self.load_spec(spec, obj, "spec", |m, spec| m.cluster_policies.push(ClusterPolicy::new(api, id, obj.clone(), name, spec)))
            }
            "Pod" => self.load_pod(map, obj, meta, id, ns),
            _ => self.load_template(map, obj, meta, id, ns),
        }
    }

    /// Deserialize `value` (the object's `field`) and hand it to `keep`; false, with the
    /// problem recorded, when it does not deserialize.
    fn load_spec<T: DeserializeOwned + Default>(&mut self, value: Option<&Value>, obj: &ObjRef, field: &str, keep: impl FnOnce(&mut Self, T)) -> bool {
        match self.typed::<T>(value, obj, field) {
            Some(spec) => {
                keep(self, spec);
                true
            }
            None => false,
        }
    }

    fn load_pod(&mut self, map: &serde_json::Map<String, Value>, obj: &ObjRef, meta: &Meta, id: ObjectId, ns: String) -> bool {
        let Some(spec) = self.typed::<PodSpec>(map.get("spec"), obj, "spec") else { return false };
        let status: PodStatus = self.typed(map.get("status"), obj, "status").unwrap_or_default();
        let mut ips = Vec::new();
        let listed = status.pod_ips.iter().flatten().filter_map(|p| p.ip.clone());
        for (i, ip) in status.pod_ip.iter().cloned().chain(listed).enumerate() {
            match ip.parse::<IpAddr>() {
                Ok(a) if !ips.contains(&a) => ips.push(a),
                Ok(_) => {}
                Err(_) => {
                    let field = if i == 0 && status.pod_ip.is_some() { "status.podIP".to_string() } else { "status.podIPs".to_string() };
                    self.problem(ProblemKind::Object, obj, &field, format!("pod IP {ip:?} is not an IP address"), Some(id.clone()));
                }
            }
        }
        let owner = meta
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
            .or_else(|| meta.owner_references.iter().flatten().next());
        // Pods of a controller collapse into it; other owners (a Node for static pods) do not.
        let controller_kinds = ["", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job", "Deployment", "CronJob"];
        let owner = owner.filter(|o| controller_kinds.contains(&o.kind.as_deref().unwrap_or("")));
        let display = match owner {
            Some(o) => ObjectId {
                api_version: o.api_version.clone().unwrap_or_default(),
                kind: o.kind.clone().filter(|k| !k.is_empty()).unwrap_or_else(|| "Pod".into()),
                name: o.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| id.name.clone()),
                namespace: id.namespace.clone(),
            },
            None => id,
        };
        self.push_workload(display, obj, "Pod", "", meta.clone(), meta.labels.clone().unwrap_or_default(), spec, ips, ns);
        true
    }

    fn load_template(&mut self, map: &serde_json::Map<String, Value>, obj: &ObjRef, meta: &Meta, id: ObjectId, ns: String) -> bool {
        let kind = id.kind.clone();
        let template = if kind == "CronJob" { "spec.jobTemplate.spec.template" } else { "spec.template" };
        let mut keys = template.split('.');
        let mut node = keys.next().and_then(|k| map.get(k));
        for key in keys {
            node = node.and_then(|n| n.get(key));
        }
        let Some(tpl) = node.filter(|n| !n.is_null()) else {
            if kind == "ReplicationController" {
                // The API allows an RC without a template; it then runs no pods.
                return true;
            }
            self.problem(ProblemKind::Object, obj, template, format!("{kind} has no pod template (`{template}`)"), Some(id));
            return false;
        };
        let tmeta: Meta = match self.typed(tpl.get("metadata"), obj, &format!("{template}.metadata")) {
            Some(m) => m,
            None => return false,
        };
        let Some(spec) = self.typed::<PodSpec>(tpl.get("spec"), obj, &format!("{template}.spec")) else { return false };
        let labels = tmeta.labels.unwrap_or_default();
        // Pod-level annotations (sidecar injection, declared needs) may sit on either level.
        let mut meta = meta.clone();
        if let Some(pod) = tmeta.annotations {
            let merged = meta.annotations.get_or_insert_with(BTreeMap::new);
            for (k, v) in pod {
                merged.entry(k).or_insert(v);
            }
        }
        self.push_workload(id, obj, &kind, template, meta, labels, spec, Vec::new(), ns);
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn push_workload(
        &mut self,
        id: ObjectId,
        obj: &ObjRef,
        source_kind: &str,
        template: &str,
        meta: Meta,
        labels: Labels,
        spec: PodSpec,
        ips: Vec<IpAddr>,
        namespace: String,
    ) {
        let ports = spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten().filter(|c| c.restart_policy.as_deref() == Some("Always")))
            .flat_map(|c| c.ports.iter().flatten())
            .map(|p| ContainerPort {
                name: p.name.clone().filter(|n| !n.is_empty()),
                number: p.container_port,
                protocol: p.protocol.as_deref().map_or(Some(Protocol::Tcp), Protocol::parse),
            })
            .collect();
        self.workloads.push(Workload {
            id,
            obj: obj.clone(),
            source_kind: source_kind.to_string(),
            template: template.to_string(),
            namespace,
            labels,
            annotations: meta.annotations.unwrap_or_default(),
            spec,
            ports,
            ips,
        });
    }

    /// Deserialize a part of an object; a type error becomes a problem at the offending field.
    fn typed<T: DeserializeOwned + Default>(&mut self, value: Option<&Value>, obj: &ObjRef, field: &str) -> Option<T> {
        let Some(value) = value.filter(|v| !v.is_null()) else { return Some(T::default()) };
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let mut path = field.to_string();
                for seg in e.path().iter() {
                    path = match seg {
                        serde_path_to_error::Segment::Seq { index } => join_index(&path, *index),
                        serde_path_to_error::Segment::Map { key } => join_key(&path, key),
                        serde_path_to_error::Segment::Enum { variant } => join_key(&path, variant),
                        serde_path_to_error::Segment::Unknown => path,
                    };
                }
                let inner = e.into_inner().to_string();
                let mut inner = inner.split(" at line ").next().unwrap_or(&inner).to_string();
                // Serde names Rust types; the manifest author thinks in schema types.
                for (rust, schema) in [("IntOrString", "an integer or a string"), ("i32", "an integer"), ("i64", "an integer"), ("u32", "a non-negative integer"), ("u16", "a non-negative integer")] {
                    if let Some(stem) = inner.strip_suffix(&format!("expected {rust}")) {
                        inner = format!("{stem}expected {schema}");
                    }
                }
                let message = format!("`{path}`: {inner}");
                self.problem(ProblemKind::Object, obj, &path, message, None);
                None
            }
        }
    }

    /// Whether `obj`, outside the first source, has the identity of an object of the first source.
    fn replaced(&self, obj: &ObjRef, key: &SeenKey, seen: &Seen) -> bool {
        let file = |o: &ObjRef| self.documents.get(o.doc).map(|d| d.file);
        file(obj) != Some(0) && seen.get(key).is_some_and(|v| v.iter().any(|(o, _)| file(o) == Some(0)))
    }

    fn report_duplicates(&mut self, seen: Seen) {
        let mut dups: Vec<_> = seen.into_values().filter(|v| v.len() > 1).collect();
        dups.sort();
        for mut group in dups {
            group.sort();
            let Some((first, _)) = group.first().cloned() else { continue };
            let first_loc = self.loc(&first, "metadata.name");
            for (obj, id) in group.iter().skip(1) {
                let loc = self.loc(obj, "metadata.name");
                self.problems.push(Problem {
                    kind: ProblemKind::Duplicate,
                    loc,
                    message: format!("{id} is already defined; only one object of a kind may have a given name"),
                    object: Some(Box::new(id.clone())),
                    related: vec![("first defined here".to_string(), first_loc.clone())],
                });
            }
        }
    }

    fn imply_namespaces(&mut self) {
        let referenced: Vec<String> = self
            .workloads
            .iter()
            .map(|w| w.namespace.clone())
            .chain(self.policies.iter().map(|p| p.namespace.clone()))
            .chain(self.services.iter().map(|s| s.namespace.clone()))
            .chain(self.ingresses.iter().map(|i| i.namespace.clone()))
            .collect();
        for name in referenced {
            self.namespaces.entry(name.clone()).or_insert_with(|| Namespace {
                labels: Labels::from([(NAMESPACE_NAME_LABEL.to_string(), name.clone())]),
                name,
                obj: None,
            });
        }
    }
}

/// Reads `null` as the type's default: the API server treats a null field as an absent one.
fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Definitions of each (kind, namespace, name), to find duplicates.
type SeenKey = (String, Option<String>, String);
type Seen = HashMap<SeenKey, Vec<(ObjRef, ObjectId)>>;

/// The Istio networking versions the API server serves for its kinds (all equivalent here).
const ISTIO_VERSIONS: [&str; 3] = ["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"];

/// The apiVersion served for each analysed kind (Kubernetes 1.37).
fn served_api_version(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Namespace" | "Pod" | "Service" | "ReplicationController" | "ConfigMap" => "v1",
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        "NetworkPolicy" | "Ingress" | "IngressClass" => "networking.k8s.io/v1",
        "RoleBinding" | "ClusterRoleBinding" => "rbac.authorization.k8s.io/v1",
        "Issuer" | "ClusterIssuer" | "Certificate" => "cert-manager.io/v1",
        REQUIREMENTS_KIND => requirement::API_VERSION,
        "ServiceEntry" | "Sidecar" | "DestinationRule" => "networking.istio.io/v1",
        k => return ClusterApi::of_kind(k).map(ClusterApi::api_version),
    })
}

/// An Ingress spec with `pathType: ""` where a path lacks one: the API requires the field, and
/// NR322 reports it with its position rather than the whole Ingress failing to load.
fn with_path_types(spec: Option<&Value>) -> Option<Value> {
    let mut spec = spec?.clone();
    if let Some(rules) = spec.get_mut("rules").and_then(Value::as_array_mut) {
        for rule in rules {
            let paths = rule.get_mut("http").and_then(|h| h.get_mut("paths")).and_then(Value::as_array_mut);
            for p in paths.into_iter().flatten() {
                if let Some(m) = p.as_object_mut() {
                    m.entry("pathType").or_insert(Value::String(String::new()));
                }
            }
        }
    }
    Some(spec)
}

/// A JSON value's type as messages name it ("a number", "a mapping").
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Object metadata, read leniently: owner references need only a name here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    labels: Option<Labels>,
    annotations: Option<BTreeMap<String, String>>,
    owner_references: Option<Vec<OwnerRef>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OwnerRef {
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    controller: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodStatus {
    #[serde(rename = "podIP")]
    pod_ip: Option<String>,
    #[serde(rename = "podIPs")]
    pod_ips: Option<Vec<PodIp>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct PodIp {
    ip: Option<String>,
}
