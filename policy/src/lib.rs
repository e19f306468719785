//! netreach core: Kubernetes manifests → positioned, typed model → exact NetworkPolicy
//! engine → rules → diagnostics. No I/O: every host (CLI, wasm modules, playground) hands in
//! sources and gets back the same [`Report`].

pub mod model;
pub mod netpol;
pub mod report;
pub mod rules;
pub mod source;

pub use model::{LoadOptions, Workspace};
pub use netpol::{Connectivity, Engine};
pub use report::{Report, Severity};
pub use source::{Limits, Source};

/// What to check and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// How manifests are read (default namespace, parser limits).
    pub load: LoadOptions,
}

/// Check a set of sources with every rule and return the report.
pub fn check(sources: &[Source], options: &Options) -> Report {
    let ws = Workspace::load(sources, &options.load);
    check_workspace(sources, &ws)
}

/// Check an already loaded workspace (its sources are needed to resolve positions).
pub fn check_workspace(sources: &[Source], ws: &Workspace) -> Report {
    let engine = Engine::new(ws);
    let cx = rules::Context { ws, engine: &engine };
    let diagnostics = rules::run_all(&cx);
    let files = report::Files::new(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())));
    let summary = report::Summary {
        documents: ws.document_count,
        files: sources.len(),
        findings: report::Findings::default(),
        objects: ws.objects,
        skipped: ws.skipped.clone(),
    };
    report::build_report(&files, diagnostics, summary)
}

/// Check and render as text (the form of the CLI and the corpus snapshots).
pub fn check_text(sources: &[Source], options: &Options) -> String {
    let report = check(sources, options);
    let files = report::Files::new(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())));
    report::render_text(&report, &files)
}
