//! Command-line parsing and the commands. `run` returns (exit code, stdout, stderr) so tests
//! can drive it without a process.

use std::net::IpAddr;

use netreach_policy::model::Protocol;
use netreach_policy::netpol::{Endpoint, Verdict};
use netreach_policy::report::{render_text, Files};
use netreach_policy::{check_workspace, Connectivity, Engine, Options, Source, Workspace};

use crate::inputs::read_sources;

const USAGE: &str = "\
netreach — can each workload reach what it needs, and nothing more?

Usage:
  netreach check [-o text|json] [--namespace NS] PATH...
  netreach connectivity [-o text|json] [--focus-workload NS/NAME] [--namespace NS] PATH...
  netreach explain --from NS/NAME|IP --to NS/NAME|IP --port N [--protocol TCP|UDP|SCTP] PATH...
  netreach rules

PATH is a file, a directory (recursive *.yaml, *.yml, *.json) or - for standard input.
--namespace sets the namespace of objects without metadata.namespace (default: default).

Exit codes: check: 0 no error-severity finding, 1 errors found; explain: 0 allowed, 1 denied;
2 usage error or unreadable input.
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
    paths: Vec<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args { output: "text".into(), ..Args::default() };
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
            "-" => a.paths.push(arg.clone()),
            f if f.starts_with('-') => return Err(format!("unknown option {f}")),
            _ => a.paths.push(arg.clone()),
        }
    }
    if a.output != "text" && a.output != "json" {
        return Err(format!("-o must be text or json, not {}", a.output));
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
    if cmd == "rules" {
        return rules();
    }
    let a = match parse(rest) {
        Ok(a) => a,
        Err(e) => return usage_error(&e),
    };
    if a.paths.is_empty() {
        return usage_error("no PATH given");
    }
    let sources = match read_sources(&a.paths) {
        Ok(s) => s,
        Err(e) => return (2, String::new(), format!("error: {e}\n")),
    };
    let mut options = Options::default();
    if let Some(ns) = &a.namespace {
        options.load.default_namespace.clone_from(ns);
    }
    let ws = Workspace::load(&sources, &options.load);
    match cmd.as_str() {
        "check" => check(&sources, &ws, &a),
        "connectivity" | "list" => connectivity(&ws, &a),
        "explain" | "eval" => explain(&ws, &a),
        other => usage_error(&format!("unknown command {other}")),
    }
}

fn check(sources: &[Source], ws: &Workspace, a: &Args) -> Out {
    let report = check_workspace(sources, ws);
    let code = i32::from(report.has_errors());
    let out = if a.output == "json" {
        format!("{}\n", report.to_json())
    } else {
        let files = Files::new(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())));
        render_text(&report, &files)
    };
    (code, out, String::new())
}

fn connectivity(ws: &Workspace, a: &Args) -> Out {
    let engine = Engine::new(ws);
    let mut map = Connectivity::compute(&engine);
    if let Some(f) = &a.focus {
        map = map.focus(f);
    }
    let out = if a.output == "json" {
        format!("{}\n", serde_json::to_string_pretty(&map).unwrap_or_default())
    } else {
        map.to_text()
    };
    let warn = if ws.problems.is_empty() {
        String::new()
    } else {
        format!("warning: {} input problem(s); run `netreach check` for details\n", ws.problems.len())
    };
    (0, out, warn)
}

fn endpoint(ws: &Workspace, s: &str) -> Result<Endpoint, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Endpoint::Ip(ip));
    }
    ws.find_workload(s).map(Endpoint::Workload).ok_or_else(|| format!("no workload {s} in the input (use namespace/name or an IP address)"))
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
    let (from_ep, to_ep) = match (endpoint(ws, from), endpoint(ws, to)) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return (2, String::new(), format!("error: {e}\n")),
    };
    let engine = Engine::new(ws);
    let v: Verdict = engine.allowed(from_ep, to_ep, port, protocol);
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
        s
    };
    (code, out, String::new())
}

fn rules() -> Out {
    let mut s = String::new();
    for r in netreach_policy::rules::ALL {
        s.push_str(&format!("{}  {:<7}  {:<24}  {}\n", r.meta.id, r.meta.severity.as_str(), r.meta.name, r.meta.title));
    }
    (0, s, String::new())
}
