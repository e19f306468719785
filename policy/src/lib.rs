//! netreach core: Kubernetes manifests → positioned, typed model → exact NetworkPolicy
//! engine → rules → diagnostics. No I/O: every host (CLI, wasm modules, playground) hands in
//! sources and gets back the same [`Report`].

// The module ABIs export unmangled functions and read host memory: the only unsafe code.
#[cfg(any(feature = "abi-core", feature = "abi-kubewarden", feature = "abi-opa", feature = "abi-bindgen"))]
#[allow(unsafe_code)]
pub mod abi;
pub mod admission;
pub mod config;
pub mod docs;
pub mod model;
pub mod netpol;
pub mod profile;
pub mod query;
pub mod report;
pub mod rules;
mod severity;
pub mod source;

use std::collections::{BTreeMap, BTreeSet};

pub use config::Config;
pub use model::{LoadOptions, Workspace};
pub use netpol::{Connectivity, Engine};
pub use profile::Profile;
pub use report::{Report, ReportDiagnostic};
pub use severity::Severity;
pub use source::{Limits, Source};

/// What to check and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// How manifests are read (default namespace, parser limits).
    pub load: LoadOptions,
    /// Rule ids to run; empty: every rule.
    pub only: BTreeSet<String>,
    /// Rule ids whose findings are dropped.
    pub skip: BTreeSet<String>,
    /// Severity per rule id, replacing the rule's default.
    pub severity: BTreeMap<String, Severity>,
    /// Cluster facts; its rule settings apply under `skip` and `severity`.
    pub profile: Profile,
}

impl Options {
    /// Check that every rule id named in `only`, `skip` and `severity` (and in the profile's
    /// rule settings) exists, ids or names accepted; names are turned into ids. The profile's
    /// skips are added; `only` given here replaces the profile's; a severity given here wins
    /// over the profile's.
    pub fn resolve_rule_names(&mut self) -> Result<(), String> {
        let id = |r: &str| rules::find(r).map(|e| e.meta.id.to_string()).ok_or_else(|| format!("unknown rule {r:?} (see `netreach rules`)"));
        let from_profile = &self.profile.rules;
        let only = if self.only.is_empty() { &from_profile.only } else { &self.only };
        let only: BTreeSet<String> = only.iter().map(|r| id(r)).collect::<Result<_, _>>()?;
        let mut skip: BTreeSet<String> = from_profile.skip.iter().map(|r| id(r)).collect::<Result<_, _>>()?;
        let mut severity: BTreeMap<String, Severity> =
            from_profile.severity.iter().map(|(r, s)| Ok((id(r)?, *s))).collect::<Result<_, String>>()?;
        for r in &self.skip {
            skip.insert(id(r)?);
        }
        for (r, s) in &self.severity {
            severity.insert(id(r)?, *s);
        }
        (self.only, self.skip, self.severity) = (only, skip, severity);
        Ok(())
    }
}

/// Check a set of sources with every rule and return the report.
pub fn check(sources: &[Source], options: &Options) -> Report {
    let ws = Workspace::load(sources, &options.load);
    check_selected(sources, &ws, options)
}

/// Check an already loaded workspace with every rule at its default severity (its sources are
/// needed to resolve positions).
pub fn check_workspace(sources: &[Source], ws: &Workspace) -> Report {
    check_selected(sources, ws, &Options::default())
}

/// Check a loaded workspace, honouring the rule selection and severities of `options`.
pub fn check_selected(sources: &[Source], ws: &Workspace, options: &Options) -> Report {
    let engine = Engine::new(ws);
    let cx = rules::Context { ws, engine: &engine, profile: &options.profile };
    let selected = |id: &str| (options.only.is_empty() || options.only.contains(id)) && !options.skip.contains(id);
    let mut diagnostics = rules::run_selected(&cx, &selected);
    diagnostics.retain(|d| ws.reports_file(d.loc.file));
    let mut suppressed = BTreeMap::new();
    diagnostics.retain(|d| {
        let skip = d.object.as_ref().is_some_and(|o| ws.suppresses(o, d.rule, d.name));
        if skip {
            *suppressed.entry(d.rule.to_string()).or_insert(0) += 1;
        }
        !skip
    });
    for d in &mut diagnostics {
        // A fix that is a whole new object is applied by adding it beside the finding, unless
        // an object of that name is already there (the user then merges by hand).
        if let (None, Some(fix)) = (&d.edit, &d.fix) {
            if fix.kind == rules::FixKind::NewObject && !ws.declares(&fix.target) {
                d.edit = Some(Box::new(report::Edit::AppendDocument { file: d.loc.file }));
            }
        }
        if let Some(s) = options.severity.get(d.rule).filter(|_| !d.unverifiable) {
            d.severity = *s;
        }
    }
    let files = report::Files::new(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())));
    let summary = report::Summary {
        documents: ws.document_count,
        files: sources.len(),
        findings: report::Findings::default(),
        objects: ws.objects,
        skipped: ws.skipped.clone(),
        suppressed,
    };
    report::build_report(&files, diagnostics, summary)
}

/// A check request as every host ABI receives it (JSON, camelCase).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Request {
    /// The manifests.
    pub sources: Vec<Source>,
    /// Namespace for objects without one (default `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_namespace: Option<String>,
    /// Rule ids or names to run; empty: every rule.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub only: BTreeSet<String>,
    /// Rule ids or names to leave out.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub skip: BTreeSet<String>,
    /// Severity per rule id or name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub severity: BTreeMap<String, Severity>,
    /// The cluster profile (the defaults when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// The cluster profile as YAML or JSON text, as `--profile` reads it (for hosts that hold
    /// the profile as a file, such as the playground); not together with `profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_text: Option<String>,
}

impl Request {
    /// The options this request asks for; an unknown rule is an error.
    pub fn options(&self) -> Result<Options, String> {
        let mut o = Options { only: self.only.clone(), skip: self.skip.clone(), severity: self.severity.clone(), ..Options::default() };
        if let Some(p) = &self.profile {
            p.validate().map_err(|(_, e)| format!("invalid profile: {e}"))?;
            o.profile = p.clone();
        }
        if let Some(text) = &self.profile_text {
            if self.profile.is_some() {
                return Err("give `profile` or `profileText`, not both".into());
            }
            o.profile = Profile::from_text(text).map_err(|e| format!("invalid profile: {e}"))?;
        }
        if let Some(ns) = &self.default_namespace {
            o.load.default_namespace.clone_from(ns);
        }
        o.resolve_rule_names()?;
        Ok(o)
    }
}

/// Handle a JSON check request and answer with the report JSON — the one function behind every
/// ABI. A request that cannot be read is answered with `{"error": …, "version": 1}`.
pub fn check_json(request: &[u8]) -> String {
    let options = serde_json::from_slice::<Request>(request)
        .map_err(|e| e.to_string())
        .and_then(|req| Ok((req.options()?, req)));
    match options {
        Ok((options, req)) => check(&req.sources, &options).to_json(),
        Err(e) => {
            let v = serde_json::json!({"error": format!("invalid request: {e}"), "version": 1});
            serde_json::to_string_pretty(&v).unwrap_or_default()
        }
    }
}

/// A report JSON (as [`check_json`] answers) as SARIF 2.1.0; `{"error": …}` if it does not read.
pub fn sarif_json(report: &[u8]) -> String {
    match serde_json::from_slice::<Report>(report) {
        Ok(r) => report::to_sarif(&r),
        Err(e) => serde_json::to_string_pretty(&serde_json::json!({"error": format!("invalid report: {e}"), "version": 1})).unwrap_or_default(),
    }
}

/// Rule metadata as JSON (id, name, title, severity, tags, docs), for hosts and playgrounds.
pub fn rules_json() -> String {
    let rules: Vec<serde_json::Value> = rules::ALL
        .iter()
        .map(|r| {
            serde_json::json!({
                "docs": r.meta.markdown(), "id": r.meta.id, "name": r.meta.name,
                "severity": r.meta.severity.as_str(), "tags": r.meta.tags, "title": r.meta.title,
            })
        })
        .collect();
    serde_json::to_string_pretty(&rules).unwrap_or_default()
}

/// Check and render as text (the form of the CLI and the corpus snapshots).
pub fn check_text(sources: &[Source], options: &Options) -> String {
    let report = check(sources, options);
    let files = report::Files::new(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())));
    report::render_text(&report, &files)
}
