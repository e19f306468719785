//! `netreach lsp`: the language server editors start over standard input and output.
//!
//! The manifest set is every manifest under the workspace folders, with the text of open
//! buffers in place of what is on disk, so cross-object rules (a policy in one file blocking a
//! Deployment in another) work while typing. Each change is checked again after a short quiet
//! period (debounce) and every file's diagnostics are published; files that are not Kubernetes
//! manifests (Helm templates, other YAML) are left alone.
//!
//! Settings come from `.netreach.yaml` at the workspace root (the CLI's file) and, on top, from
//! the editor (`initializationOptions` or `workspace/didChangeConfiguration`, section
//! `netreach`): `profile`, `namespace`, `rules.{only,skip,severity}`, `docsBaseUrl`,
//! `debounceMs`.

mod convert;
mod files;
pub mod frame;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, HoverProviderCapability, InitializeParams, ServerCapabilities,
    ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
};
use netreach_policy::source::Parsed;
use netreach_policy::{Options, Report, Severity, Source, Workspace};
use serde::Deserialize;

use crate::config::{read_profile, Project};
pub use convert::{utf16_col, Converter};
pub use files::{file_uri, is_manifest, uri_path};

/// Editor settings (section `netreach`), applied over `.netreach.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EditorSettings {
    /// Cluster profile file; relative paths start at the workspace root.
    pub profile: Option<String>,
    /// Namespace for objects without one.
    pub namespace: Option<String>,
    /// Rule selection and severities.
    pub rules: netreach_policy::profile::RuleSettings,
    /// Base URL of the rule pages (`{base}/{name}.md`); default: pages written beside the
    /// server's cache, so links work offline and match the running version.
    pub docs_base_url: Option<String>,
    /// Quiet time after a change before checking again, in milliseconds (default 75).
    pub debounce_ms: Option<u64>,
}

impl EditorSettings {
    /// Read the `netreach` section, or the settings object itself when it has no such key.
    fn from_value(v: &serde_json::Value) -> Result<EditorSettings, String> {
        let section = v.get("netreach").unwrap_or(v);
        if section.is_null() {
            return Ok(EditorSettings::default());
        }
        serde_json::from_value(section.clone()).map_err(|e| format!("netreach settings: {e}"))
    }
}

/// The last check: what was read and what was found.
struct Analysis {
    sources: Vec<Source>,
    uris: Vec<String>,
    ws: Workspace,
    report: Report,
}

/// The server's state.
pub struct Server {
    root: Option<PathBuf>,
    /// Manifests on disk, by URI.
    disk: BTreeMap<String, String>,
    /// Open buffers, by URI: (version, text).
    open: BTreeMap<String, (i32, String)>,
    settings: EditorSettings,
    options: Options,
    exclude: Project,
    docs_base: String,
    /// What the editor shows, by URI: the buffer version and diagnostics last published.
    published: BTreeMap<String, (Option<i32>, Vec<lsp_types::Diagnostic>)>,
    /// Every manifest read into documents, by URI, kept while its text stays the same: a change
    /// to one file then parses that file only.
    parsed: HashMap<String, Parsed>,
    last: Option<Analysis>,
    /// When the next check is due (a change is waiting for its quiet period).
    due: Option<Instant>,
    /// Sent to the editor (notifications), drained by the loop.
    outbox: Vec<Message>,
}

/// Run the server on standard input and output until the editor says `exit`.
/// The frames are read by [`frame`], not by `lsp-server`'s own transport: a malformed frame or
/// body from the client is answered with a JSON-RPC error and the server keeps serving.
pub fn run_stdio() -> (i32, String, String) {
    let (to_server, receiver) = crossbeam_channel::unbounded::<Message>();
    let (sender, from_server) = crossbeam_channel::unbounded::<Message>();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for m in from_server {
            let mut buf = Vec::new();
            m.write(&mut buf)?;
            write_stdout(&buf)?;
        }
        Ok(())
    });
    // The reader is not joined: it may sit in a blocking read of stdin after `exit`.
    std::thread::spawn(move || read_stdin(&to_server));
    let conn = Connection { sender, receiver };
    let result = serve(&conn);
    drop(conn);
    let joined = writer.join().map_err(|_| "the writer thread panicked".to_string()).and_then(|r| r.map_err(|e| e.to_string()));
    match (result, joined) {
        (Ok(()), Ok(())) => (0, String::new(), String::new()),
        (Err(e), _) | (_, Err(e)) => (1, String::new(), format!("netreach lsp: {e}\n")),
    }
}

/// One frame to stdout; the lock keeps frames of the reader's errors and the server's answers whole.
fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Read client frames until stdin ends; answer what is not a message with a JSON-RPC error.
fn read_stdin(to_server: &crossbeam_channel::Sender<Message>) {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    loop {
        let reply = match frame::read_frame(&mut input) {
            Ok(frame::Frame::End) | Err(_) => return,
            Ok(frame::Frame::Bad(why)) => frame::parse_error(&why),
            Ok(frame::Frame::Body(body)) => match serde_json::from_slice::<Message>(&body) {
                Ok(m) => {
                    if to_server.send(m).is_err() {
                        return;
                    }
                    continue;
                }
                Err(e) if serde_json::from_slice::<serde_json::Value>(&body).is_ok() => {
                    serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": format!("invalid request: {e}")}}).to_string()
                }
                Err(e) => frame::parse_error(&e.to_string()),
            },
        };
        if write_stdout(&frame::framed(&reply)).is_err() {
            return;
        }
    }
}

/// The capabilities announced in `initialize`.
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            resolve_provider: Some(false),
            work_done_progress_options: Default::default(),
        })),
        ..ServerCapabilities::default()
    }
}

/// Serve one editor session on `conn`: initialize, then messages until `exit`.
pub fn serve(conn: &Connection) -> Result<(), String> {
    let (id, params) = conn.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams = serde_json::from_value(params).map_err(|e| format!("initialize: {e}"))?;
    let result = lsp_types::InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo { name: "netreach".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
    };
    conn.initialize_finish(id, serde_json::to_value(result).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let mut server = Server::new(&params);
    server.check_now();
    server.flush(conn)?;
    loop {
        let msg = match server.due {
            Some(due) => match conn.receiver.recv_deadline(due) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            },
            None => match conn.receiver.recv() {
                Ok(m) => Some(m),
                Err(_) => return Ok(()),
            },
        };
        match msg {
            None => server.check_now(),
            Some(Message::Request(req)) => {
                if conn.handle_shutdown(&req).map_err(|e| e.to_string())? {
                    return Ok(());
                }
                let resp = server.request(req);
                server.outbox.push(resp.into());
            }
            Some(Message::Notification(n)) => {
                if n.method == lsp_types::notification::Exit::METHOD {
                    return Ok(());
                }
                server.notification(n);
            }
            Some(Message::Response(_)) => {}
        }
        server.flush(conn)?;
    }
}

impl Server {
    /// A server for the workspace `params` names, with its files read and settings applied.
    pub fn new(params: &InitializeParams) -> Server {
        #[allow(deprecated)] // `rootUri` is what older clients send
        let root = params
            .workspace_folders
            .as_ref()
            .and_then(|f| f.first())
            .map(|f| f.uri.as_str().to_string())
            .or_else(|| params.root_uri.as_ref().map(|u| u.as_str().to_string()))
            .and_then(|u| uri_path(&u));
        let mut s = Server {
            root,
            disk: BTreeMap::new(),
            open: BTreeMap::new(),
            settings: EditorSettings::default(),
            options: Options::default(),
            exclude: Project::default(),
            docs_base: String::new(),
            published: BTreeMap::new(),
            parsed: HashMap::new(),
            last: None,
            due: None,
            outbox: Vec::new(),
        };
        if let Some(v) = &params.initialization_options {
            match EditorSettings::from_value(v) {
                Ok(set) => s.settings = set,
                Err(e) => s.show_error(&e),
            }
        }
        s.configure();
        s.scan();
        s
    }

    /// Send what is queued.
    fn flush(&mut self, conn: &Connection) -> Result<(), String> {
        for m in self.outbox.drain(..) {
            conn.sender.send(m).map_err(|e| format!("the editor went away: {e}"))?;
        }
        Ok(())
    }

    fn notify<N: lsp_types::notification::Notification>(&mut self, params: N::Params) {
        self.outbox.push(Notification::new(N::METHOD.to_string(), params).into());
    }

    fn publish(&mut self, uri: &str, version: Option<i32>, diagnostics: Vec<lsp_types::Diagnostic>) {
        if let Ok(uri) = uri.parse::<lsp_types::Uri>() {
            self.notify::<lsp_types::notification::PublishDiagnostics>(lsp_types::PublishDiagnosticsParams { uri, diagnostics, version });
        }
    }

    fn show_error(&mut self, message: &str) {
        let params = lsp_types::ShowMessageParams { typ: lsp_types::MessageType::ERROR, message: format!("netreach: {message}") };
        self.notify::<lsp_types::notification::ShowMessage>(params);
    }

    /// Read `.netreach.yaml` and the editor settings into the check options.
    fn configure(&mut self) {
        let mut options = Options::default();
        let mut errors = Vec::new();
        self.exclude = Project::default();
        if let Some(root) = &self.root {
            let path = root.join(netreach_policy::config::FILE_NAME);
            if path.is_file() {
                match Project::load(&path).and_then(|p| p.apply(&mut options).map(|()| p)) {
                    Ok(p) => self.exclude = p,
                    Err(e) => errors.push(e),
                }
            }
        }
        let set = &self.settings;
        if let Some(p) = &set.profile {
            let path = self.root.as_ref().map_or_else(|| PathBuf::from(p), |r| r.join(p));
            match read_profile(&path) {
                Ok(p) => options.profile = p,
                Err(e) => errors.push(e),
            }
        }
        if let Some(ns) = &set.namespace {
            options.load.default_namespace.clone_from(ns);
        }
        options.skip.extend(set.rules.skip.iter().cloned());
        if !set.rules.only.is_empty() {
            options.only.clone_from(&set.rules.only);
        }
        options.severity.extend(set.rules.severity.iter().map(|(r, s)| (r.clone(), *s)));
        if let Err(e) = options.resolve_rule_names() {
            errors.push(e);
            options = Options { profile: options.profile, load: options.load, ..Options::default() };
        }
        self.options = options;
        self.docs_base = match &set.docs_base_url {
            Some(b) => b.trim_end_matches('/').to_string(),
            None => files::write_rule_docs().unwrap_or_default(),
        };
        for e in errors {
            self.show_error(&e);
        }
    }

    /// Read every manifest under the workspace root.
    fn scan(&mut self) {
        self.disk.clear();
        let Some(root) = self.root.clone() else { return };
        for path in files::manifest_files(&root, &|p| self.exclude.excluded(p)) {
            // Only regular files of bounded size (a link to /dev/zero or a FIFO is not read).
            if let Ok(text) = crate::inputs::read_manifest(&path) {
                self.disk.insert(file_uri(&path), text);
            }
        }
    }

    fn debounce(&self) -> Duration {
        Duration::from_millis(self.settings.debounce_ms.unwrap_or(75))
    }

    fn changed(&mut self) {
        self.due = Some(Instant::now() + self.debounce());
    }

    /// The manifest set: disk files, with open buffers in their place; non-manifests left out.
    fn sources(&self) -> (Vec<Source>, Vec<String>) {
        let mut all: BTreeMap<&str, &str> = self.disk.iter().map(|(u, t)| (u.as_str(), t.as_str())).collect();
        for (u, (_, t)) in &self.open {
            all.insert(u, t);
        }
        let root = self.root.as_ref().map(|r| file_uri(r));
        let mut sources = Vec::new();
        let mut uris = Vec::new();
        for (uri, text) in all.into_iter().filter(|(_, t)| is_manifest(t)) {
            // Names relative to the workspace, as the CLI would print them.
            let name = root.as_deref().and_then(|r| uri.strip_prefix(r)).map(|n| n.trim_start_matches('/')).map_or_else(|| uri.to_string(), files::decode);
            sources.push(Source::new(name, text.to_string()));
            uris.push(uri.to_string());
        }
        (sources, uris)
    }

    /// Check the manifest set now and publish the diagnostics of every file whose diagnostics
    /// (or buffer version) changed.
    pub fn check_now(&mut self) {
        self.due = None;
        let (sources, uris) = self.sources();
        let limits = self.options.load.limits;
        let current: std::collections::HashSet<&String> = uris.iter().collect();
        self.parsed.retain(|u, _| current.contains(u));
        for (src, uri) in sources.iter().zip(&uris) {
            if !self.parsed.get(uri).is_some_and(|p| p.is(&src.text, &limits)) {
                self.parsed.insert(uri.clone(), Parsed::new(&src.text, &limits));
            }
        }
        let named: Vec<(&str, &Parsed)> =
            sources.iter().zip(&uris).filter_map(|(s, u)| self.parsed.get(u).map(|p| (s.name.as_str(), p))).collect();
        let ws = Workspace::load_parsed(&named, &self.options.load);
        let report = netreach_policy::check_selected(&sources, &ws, &self.options);
        let analysis = Analysis { sources, uris, ws, report };
        let conv = Converter::new(&analysis.sources, &analysis.uris, &self.docs_base);
        let mut now: BTreeMap<String, (Option<i32>, Vec<lsp_types::Diagnostic>)> = BTreeMap::new();
        for d in &analysis.report.diagnostics {
            if let Some(uri) = conv.uri(&d.location.file) {
                now.entry(uri.to_string()).or_default().1.push(conv.diagnostic(d));
            }
        }
        // An open file is published at every new version, so the editor knows its diagnostics
        // are current; other files only when their diagnostics change.
        for (uri, (version, _)) in &self.open {
            now.entry(uri.clone()).or_default().0 = Some(*version);
        }
        let cleared: Vec<String> = self.published.keys().filter(|u| !now.contains_key(*u)).cloned().collect();
        for uri in cleared {
            self.publish(&uri, None, Vec::new());
        }
        for (uri, entry) in &now {
            if self.published.get(uri) != Some(entry) {
                self.publish(uri, entry.0, entry.1.clone());
            }
        }
        self.published = now;
        self.last = Some(analysis);
    }

    fn notification(&mut self, n: Notification) {
        use lsp_types::notification::{
            DidChangeConfiguration, DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
        };
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = n.extract::<lsp_types::DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD) {
                    let d = p.text_document;
                    self.open.insert(d.uri.as_str().to_string(), (d.version, d.text));
                    self.changed();
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = n.extract::<lsp_types::DidChangeTextDocumentParams>(DidChangeTextDocument::METHOD) {
                    // Full sync: the last change holds the whole text.
                    if let Some(c) = p.content_changes.into_iter().last() {
                        self.open.insert(p.text_document.uri.as_str().to_string(), (p.text_document.version, c.text));
                        self.changed();
                    }
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = n.extract::<lsp_types::DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD) {
                    let uri = p.text_document.uri.as_str().to_string();
                    self.open.remove(&uri);
                    self.reread(&uri);
                    self.changed();
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) = n.extract::<lsp_types::DidSaveTextDocumentParams>(DidSaveTextDocument::METHOD) {
                    let uri = p.text_document.uri.as_str().to_string();
                    self.reread(&uri);
                    if self.is_settings_file(&uri) {
                        self.configure();
                        self.scan();
                    }
                    self.changed();
                }
            }
            DidChangeWatchedFiles::METHOD => {
                if let Ok(p) = n.extract::<lsp_types::DidChangeWatchedFilesParams>(DidChangeWatchedFiles::METHOD) {
                    let mut settings = false;
                    for c in p.changes {
                        let uri = c.uri.as_str().to_string();
                        settings |= self.is_settings_file(&uri);
                        self.reread(&uri);
                    }
                    if settings {
                        self.configure();
                        self.scan();
                    }
                    self.changed();
                }
            }
            DidChangeConfiguration::METHOD => {
                if let Ok(p) = n.extract::<lsp_types::DidChangeConfigurationParams>(DidChangeConfiguration::METHOD) {
                    match EditorSettings::from_value(&p.settings) {
                        Ok(s) => {
                            self.settings = s;
                            self.configure();
                            self.changed();
                        }
                        Err(e) => self.show_error(&e),
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether `uri` is `.netreach.yaml` or the profile the settings name.
    fn is_settings_file(&self, uri: &str) -> bool {
        let Some(path) = uri_path(uri) else { return false };
        path.file_name().is_some_and(|n| n == netreach_policy::config::FILE_NAME)
            || self.exclude.config.profile.as_ref().is_some_and(|p| self.exclude.dir.join(p) == path)
            || self.settings.profile.as_ref().zip(self.root.as_ref()).is_some_and(|(p, r)| r.join(p) == path)
    }

    /// Take the disk version of a file again (after a save, a close or an outside change).
    fn reread(&mut self, uri: &str) {
        let Some(path) = uri_path(uri) else { return };
        let inside = self.root.as_ref().is_some_and(|r| path.starts_with(r));
        match crate::inputs::read_manifest(&path) {
            Ok(text) if inside && files::is_manifest_path(&path) && !self.exclude.excluded(&path) => {
                self.disk.insert(uri.to_string(), text);
            }
            _ => {
                self.disk.remove(uri);
            }
        }
    }

    fn request(&mut self, req: Request) -> Response {
        use lsp_types::request::{CodeActionRequest, HoverRequest};
        // Answer about the text as it is now, not as it was before the pending change.
        if self.due.is_some() {
            self.check_now();
        }
        let id: RequestId = req.id.clone();
        let result = match req.method.as_str() {
            HoverRequest::METHOD => match req.extract::<lsp_types::HoverParams>(HoverRequest::METHOD) {
                Ok((_, p)) => serde_json::to_value(self.hover(&p)),
                Err(e) => return Response::new_err(id, lsp_server::ErrorCode::InvalidParams as i32, format!("{e:?}")),
            },
            CodeActionRequest::METHOD => match req.extract::<lsp_types::CodeActionParams>(CodeActionRequest::METHOD) {
                Ok((_, p)) => serde_json::to_value(self.code_actions(&p)),
                Err(e) => return Response::new_err(id, lsp_server::ErrorCode::InvalidParams as i32, format!("{e:?}")),
            },
            other => return Response::new_err(id, lsp_server::ErrorCode::MethodNotFound as i32, format!("netreach does not answer {other}")),
        };
        match result {
            Ok(v) => Response::new_ok(id, v),
            Err(e) => Response::new_err(id, lsp_server::ErrorCode::InternalError as i32, e.to_string()),
        }
    }

    fn hover(&self, p: &lsp_types::HoverParams) -> Option<lsp_types::Hover> {
        let a = self.last.as_ref()?;
        let uri = p.text_document_position_params.text_document.uri.as_str();
        let file = a.uris.iter().position(|u| u == uri)?;
        let conv = Converter::new(&a.sources, &a.uris, &self.docs_base);
        let offset = conv.offset(file, p.text_document_position_params.position)?;
        let h = netreach_policy::query::hover(&a.sources, &a.ws, file, offset)?;
        Some(lsp_types::Hover {
            contents: lsp_types::HoverContents::Markup(lsp_types::MarkupContent { kind: lsp_types::MarkupKind::Markdown, value: h.markdown }),
            range: Some(conv.range(&h.location)),
        })
    }

    fn code_actions(&self, p: &lsp_types::CodeActionParams) -> Vec<lsp_types::CodeActionOrCommand> {
        let Some(a) = &self.last else { return Vec::new() };
        let conv = Converter::new(&a.sources, &a.uris, &self.docs_base);
        let uri = p.text_document.uri.as_str();
        let mut out = Vec::new();
        for d in &a.report.diagnostics {
            if conv.uri(&d.location.file) != Some(uri) {
                continue;
            }
            let range = conv.range(&d.location);
            if range.end < p.range.start || p.range.end < range.start {
                continue;
            }
            let diag = conv.diagnostic(d);
            if let Some(fix) = d.fix.as_ref().filter(|f| !f.edits.is_empty()) {
                out.push(conv.action(&fix.description, &fix.edits, &diag, true));
            }
            if let Some(object) = &d.object {
                if let Some(edit) = netreach_policy::query::suppress_edit(&a.sources, &a.ws, object, &d.rule) {
                    let title = format!("Disable {} ({}) for {object}", d.rule, d.name);
                    out.push(conv.action(&title, std::slice::from_ref(&edit), &diag, false));
                }
            }
        }
        out
    }
}

/// LSP severity of a finding.
fn severity(s: Severity) -> lsp_types::DiagnosticSeverity {
    match s {
        Severity::Error => lsp_types::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp_types::DiagnosticSeverity::WARNING,
        Severity::Info => lsp_types::DiagnosticSeverity::INFORMATION,
    }
}
