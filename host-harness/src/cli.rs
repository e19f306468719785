//! Command-line parsing and the commands. `run` returns (exit code, stdout, stderr) so tests
//! can drive it without a process.

use std::io::Write as _;

use netreach_policy::model::Protocol;
use netreach_policy::netpol::Verdict;
use netreach_policy::report::{render_text, Files};
use netreach_policy::{check_selected, Connectivity, Engine, Options, Source, Workspace};

use crate::config::{discover, read_profile, Project};
use crate::inputs::read_sources_except;
use crate::wasm::{Limits, WasmHost};

const USAGE: &str = "\
netreach — can each workload reach what it needs, and nothing more?

Usage:
  netreach check [-o text|json|sarif] [--namespace NS] [--engine native|wasm] [--profile FILE]
                 [--rule RULE]... [--skip RULE]... [--severity RULE=error|warning|info]...
                 [--config FILE | --no-config] PATH...
  netreach connectivity [-o text|json] [--focus-workload NS/NAME] [--namespace NS] PATH...
  netreach explain --from NS/NAME|IP --to NS/NAME|IP|HOST --port N [--protocol TCP|UDP|SCTP] PATH...
  netreach admit [--settings FILE] REQUEST.json
  netreach admit --object MANIFEST [--context PATH]... [--operation OP] [--settings FILE]
  netreach artifacts --out DIR
  netreach rules [-o text|json]
  netreach lsp

PATH is a file, a directory (recursive *.yaml, *.yml, *.json) or - for standard input.
--namespace sets the namespace of objects without metadata.namespace (default: default).
--engine wasm runs the checks through the embedded core wasm module under wasmtime;
  the report is byte-identical to the native one.
--profile reads cluster facts (a ClusterProfile document: DNS, API server, controllers;
  see README); without it the documented defaults apply.
--config reads project settings (profile, namespace, rules, exclude; see README); without it
  the nearest .netreach.yaml in the current directory or a parent is read; --no-config
  reads none. Command-line settings add to the file's.
--rule runs only the rules named (repeatable); --skip leaves a rule out; --severity changes
  a rule's severity (ids or names). --skip and --severity add to the profile's `rules`
  settings; --rule replaces the profile's `rules.only`.
rules lists every rule: id, severity, name, title and compliance tags (-o json: with docs).
admit reviews one object as an admission webhook would and prints the AdmissionReview
  response (uid echoed): from an AdmissionReview file, or from a plain manifest with
  --object (other objects for cross-object rules with --context). --settings is a JSON or
  YAML file with the policy settings (disabledRules, severityOverrides).
artifacts writes the wasm modules (core, Kubewarden, OPA) and the Kubewarden metadata.
lsp runs the language server on standard input and output (for editors; see README).

Exit codes: check: 0 no error-severity finding, 1 errors found; explain: 0 allowed, 1 denied;
admit: 0 allowed, 1 denied; 2 usage error or unreadable input.
";

/// Output type.
type Out = (i32, String, String);

fn usage_error(msg: &str) -> Out {
    (2, String::new(), format!("error: {msg}\n\n{USAGE}"))
}

#[derive(Default)]
struct Args {
    output: String,
    namespace: Option<String>,
    focus: Option<String>,
    from: Option<String>,
    to: Option<String>,
    port: Option<String>,
    protocol: Option<String>,
    engine: String,
    skip: Vec<String>,
    only: Vec<String>,
    severity: Vec<String>,
    settings: Option<String>,
    profile: Option<String>,
    object: Option<String>,
    context: Vec<String>,
    operation: Option<String>,
    out: Option<String>,
    config: Option<String>,
    no_config: bool,
    paths: Vec<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args { output: "text".into(), engine: "native".into(), ..Args::default() };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline.clone().or_else(|| it.next().cloned()).ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-o" | "--output" => a.output = value("-o")?,
            "--namespace" => a.namespace = Some(value("--namespace")?),
            "--focus-workload" | "--focusworkload" => a.focus = Some(value("--focus-workload")?),
            "--from" => a.from = Some(value("--from")?),
            "--to" => a.to = Some(value("--to")?),
            "--port" => a.port = Some(value("--port")?),
            "--protocol" => a.protocol = Some(value("--protocol")?),
            "--engine" => a.engine = value("--engine")?,
            "--skip" => a.skip.push(value("--skip")?),
            "--rule" => a.only.push(value("--rule")?),
            "--severity" => a.severity.push(value("--severity")?),
            "--settings" => a.settings = Some(value("--settings")?),
            "--profile" => a.profile = Some(value("--profile")?),
            "--object" => a.object = Some(value("--object")?),
            "--context" => a.context.push(value("--context")?),
            "--operation" => a.operation = Some(value("--operation")?),
            "--out" => a.out = Some(value("--out")?),
            "--config" => a.config = Some(value("--config")?),
            "--no-config" => a.no_config = true,
            "-" => a.paths.push(arg.clone()),
            f if f.starts_with('-') => return Err(format!("unknown option {f}")),
            _ => a.paths.push(arg.clone()),
        }
    }
    if a.engine != "native" && a.engine != "wasm" {
        return Err(format!("--engine must be native or wasm, not {}", a.engine));
    }
    if !matches!(a.output.as_str(), "text" | "json" | "sarif") {
        return Err(format!("-o must be text, json or sarif (sarif: check only), not {}", a.output));
    }
    Ok(a)
}

/// Run the CLI with `args` (without the program name).
pub fn run(args: &[String]) -> Out {
    let Some((cmd, rest)) = args.split_first() else { return usage_error("no command") };
    if cmd == "-h" || cmd == "--help" || cmd == "help" {
        return (0, USAGE.to_string(), String::new());
    }
    if cmd == "--version" {
        return (0, format!("netreach {}\n", env!("CARGO_PKG_VERSION")), String::new());
    }
    let a = match parse(rest) {
        Ok(a) => a,
        Err(e) => return usage_error(&e),
    };
    if a.output == "sarif" && cmd != "check" {
        return usage_error("-o sarif is for check");
    }
    if cmd == "rules" {
        return rules(&a.output);
    }
    match cmd.as_str() {
        "lsp" => return crate::lsp::run_stdio(),
        "admit" => return crate::admit::run(&a.paths, a.object.as_deref(), &a.context, a.operation.as_deref(), a.settings.as_deref()),
        "artifacts" => return artifacts(a.out.as_deref()),
        _ => {}
    }
    if a.paths.is_empty() {
        return usage_error("no PATH given");
    }
    let project = match project(&a) {
        Ok(p) => p,
        Err(e) => return (2, String::new(), format!("error: {e}\n")),
    };
    // The project file sits among the manifests but is not one.
    let skip = |p: &std::path::Path| {
        p.file_name().is_some_and(|n| n == netreach_policy::config::FILE_NAME) || project.as_ref().is_some_and(|c| c.excluded(p))
    };
    let sources = match read_sources_except(&a.paths, &skip) {
        Ok(s) => s,
        Err(e) => return (2, String::new(), format!("error: {e}\n")),
    };
    let mut options = Options::default();
    if let Some(c) = &project {
        if let Err(e) = c.apply(&mut options) {
            return (2, String::new(), format!("error: {e}\n"));
        }
    }
    if let Some(path) = &a.profile {
        match read_profile(std::path::Path::new(path)) {
            Ok(p) => options.profile = p,
            Err(e) => return (2, String::new(), format!("error: {e}\n")),
        }
    }
    if let Some(ns) = &a.namespace {
        options.load.default_namespace.clone_from(ns);
    }
    options.skip.extend(a.skip.iter().cloned());
    if !a.only.is_empty() {
        options.only = a.only.iter().cloned().collect();
    }
    for s in &a.severity {
        let parsed = s.split_once('=').and_then(|(r, l)| Some((r.to_string(), serde_json::from_value(serde_json::Value::String(l.to_string())).ok()?)));
        let Some((rule, level)) = parsed else { return usage_error(&format!("--severity takes RULE=error|warning|info, not {s:?}")) };
        options.severity.insert(rule, level);
    }
    if let Err(e) = options.resolve_rule_names() {
        return usage_error(&e);
    }
    if cmd == "check" && a.engine == "wasm" {
        // The module reads the raw sources itself: nothing is parsed natively first.
        return match check_wasm(&sources, &options) {
            Ok(report) => render_check(&report, &sources, &a),
            Err(e) => (2, String::new(), format!("error: {e}\n")),
        };
    }
    let ws = Workspace::load(&sources, &options.load);
    match cmd.as_str() {
        "check" => check(&sources, &ws, &a, &options),
        "connectivity" | "list" => connectivity(&ws, &a),
        "explain" | "eval" => explain(&ws, &a),
        other => usage_error(&format!("unknown command {other}")),
    }
}

/// The project settings: `--config`, else the nearest `.netreach.yaml`, unless `--no-config`.
fn project(a: &Args) -> Result<Option<Project>, String> {
    if a.no_config {
        return Ok(None);
    }
    let path = match &a.config {
        Some(p) => Some(std::path::PathBuf::from(p)),
        None => std::env::current_dir().ok().and_then(|d| discover(&d)),
    };
    path.map(|p| Project::load(&p)).transpose()
}

fn check(sources: &[Source], ws: &Workspace, a: &Args, options: &Options) -> Out {
    render_check(&check_selected(sources, ws, options), sources, a)
}

fn render_check(report: &netreach_policy::Report, sources: &[Source], a: &Args) -> Out {
    let code = i32::from(report.has_errors());
    let out = if a.output == "json" {
        format!("{}\n", report.to_json())
    } else if a.output == "sarif" {
        format!("{}\n", netreach_policy::report::to_sarif(report))
    } else {
        let files = Files::new(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())));
        render_text(report, &files)
    };
    (code, out, String::new())
}

/// The same check through the core wasm module.
fn check_wasm(sources: &[Source], options: &Options) -> Result<netreach_policy::Report, String> {
    let request = netreach_policy::Request {
        sources: sources.to_vec(),
        default_namespace: Some(options.load.default_namespace.clone()),
        only: options.only.clone(),
        skip: options.skip.clone(),
        severity: options.severity.clone(),
        profile: Some(options.profile.clone()),
        profile_text: None,
    };
    let body = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    let host = WasmHost::core_cached(Limits::default()).map_err(|e| e.to_string())?;
    let json = host.check_json(&body).map_err(|e| e.to_string())?;
    serde_json::from_str(&json).map_err(|e| format!("the wasm module's report does not parse: {e}"))
}

/// Write every embedded artifact into `dir`.
fn artifacts(dir: Option<&str>) -> Out {
    let Some(dir) = dir else { return usage_error("artifacts needs --out DIR") };
    let dir = std::path::Path::new(dir);
    if let Err(e) = std::fs::create_dir_all(dir) {
        return (2, String::new(), format!("error: cannot create {}: {e}\n", dir.display()));
    }
    let mut out = String::new();
    for (name, bytes) in crate::artifacts::all() {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(parent) {
                return (2, out, format!("error: cannot create {}: {e}\n", parent.display()));
            }
        }
        if let Err(e) = std::fs::write(&path, bytes) {
            return (2, out, format!("error: cannot write {}: {e}\n", path.display()));
        }
        out.push_str(&format!("{} ({} bytes)\n", path.display(), bytes.len()));
    }
    (0, out, String::new())
}

/// The map is written to stdout as it is computed, row by row: its text can be gigabytes and
/// its pairs hundreds of millions.
fn connectivity(ws: &Workspace, a: &Args) -> Out {
    let engine = Engine::new(ws);
    if let Some(f) = &a.focus {
        if !Connectivity::names_workload(&engine, f) {
            return (2, String::new(), format!("error: no workload {}\n", netreach_policy::report::escape_controls(f)));
        }
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = Connectivity::write(&engine, a.focus.as_deref(), a.output == "json", &mut out);
    // A reader that stops early (`| head`) closes the pipe: not an error.
    let _ = written.and_then(|()| out.flush());
    let warn = if ws.problems.is_empty() {
        String::new()
    } else {
        format!("warning: {} input problem(s); run `netreach check` for details\n", ws.problems.len())
    };
    (0, String::new(), warn)
}

fn explain(ws: &Workspace, a: &Args) -> Out {
    let (Some(from), Some(to), Some(port)) = (&a.from, &a.to, &a.port) else {
        return usage_error("explain needs --from, --to and --port");
    };
    let port: u16 = match port.parse() {
        Ok(p) if p > 0 => p,
        _ => return usage_error(&format!("--port must be 1-65535, not {port}")),
    };
    let proto = a.protocol.as_deref().unwrap_or("TCP").to_uppercase();
    let Some(protocol) = Protocol::parse(&proto) else {
        return usage_error(&format!("--protocol must be TCP, UDP or SCTP, not {proto}"));
    };
    let v: Verdict = match netreach_policy::query::explain(ws, from, to, port, protocol) {
        Ok(v) => v,
        Err(e) => return (2, String::new(), format!("error: {e}\n")),
    };
    let code = if v.allowed { 0 } else { 1 };
    let out = if a.output == "json" {
        format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
    } else {
        let mut s = format!(
            "{} {from} => {to} : {protocol} {port}\n",
            if v.allowed { "ALLOWED" } else { "DENIED" }
        );
        for l in v.lines() {
            s.push_str(&format!("  - {l}\n"));
        }
        netreach_policy::report::escape_controls(&s)
    };
    (code, out, String::new())
}

fn rules(output: &str) -> Out {
    if output == "json" {
        return (0, format!("{}\n", netreach_policy::rules_json()), String::new());
    }
    let mut s = String::new();
    for r in netreach_policy::rules::ALL {
        let tags = if r.meta.tags.is_empty() { String::new() } else { format!("  [{}]", r.meta.tags.join(", ")) };
        s.push_str(&format!("{}  {:<7}  {:<26}  {}{tags}\n", r.meta.id, r.meta.severity.as_str(), r.meta.name, r.meta.title));
    }
    (0, s, String::new())
}
