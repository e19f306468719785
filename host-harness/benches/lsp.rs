//! `cargo bench -p netreach-host-harness --bench lsp`: the language server's re-check per change
//! on a workspace of about 500 objects (target < 50 ms), measured the way an editor sees it —
//! from sending `didChange` to receiving the changed file's `publishDiagnostics` — over an
//! in-memory connection with the debounce set to 0 (the debounce is a deliberate wait, not
//! work). Each edit flips whether a policy selects the edited Deployment, so the findings change
//! every time. Also prints the first full check (start-up) and a hover on a warm server.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure report

use std::path::Path;
use std::time::{Duration, Instant};

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{json, Value};

#[path = "../../policy/benches/support/generate.rs"]
mod generate;

fn file_uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// The edited file: a Deployment and the policy that selects it, or not, by label.
fn edited(round: usize) -> String {
    let app = if round.is_multiple_of(2) { "edit" } else { "edited" };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: edit, namespace: ns0}}\nspec:\n  selector: {{matchLabels: {{app: {app}}}}}\n  template:\n    metadata: {{labels: {{app: {app}}}}}\n    spec: {{containers: [{{name: main, image: example/app, ports: [{{containerPort: 8080}}]}}]}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: edit, namespace: ns0}}\nspec:\n  podSelector: {{matchLabels: {{app: edit}}}}\n  policyTypes: [Ingress]\n  ingress: [{{ports: [{{port: 8080}}]}}]\n"
    )
}

/// Wait for the `publishDiagnostics` of `uri` with `version`; other messages are drained.
fn wait_publish(client: &Connection, uri: &str, version: Option<i64>) -> usize {
    loop {
        match client.receiver.recv_timeout(Duration::from_secs(30)).expect("the server answers") {
            Message::Notification(n)
                if n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri && n.params["version"].as_i64() == version =>
            {
                return n.params["diagnostics"].as_array().map_or(0, Vec::len);
            }
            _ => {}
        }
    }
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99), samples[samples.len() - 1])
}

fn main() {
    let dir = std::env::temp_dir().join(format!("netreach-lsp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // 5 namespaces × 25 deployments × (Deployment + 3 policies) + 5 Namespaces = 505 objects,
    // 10 documents per file, plus the edited file's 2.
    let docs: Vec<String> = generate::generate(5, 25).split("---\n").filter(|d| !d.trim().is_empty()).map(str::to_string).collect();
    for (i, chunk) in docs.chunks(10).enumerate() {
        std::fs::write(dir.join(format!("m{i:03}.yaml")), chunk.join("---\n")).unwrap();
    }
    let edit_path = dir.join("zz-edit.yaml");
    std::fs::write(&edit_path, edited(0)).unwrap();
    let edit_uri = file_uri(&edit_path);
    let objects = docs.len() + 2;

    let (server, client) = Connection::memory();
    let thread = std::thread::spawn(move || netreach_host_harness::lsp::serve(&server));
    let start = Instant::now();
    let init = json!({
        "processId": null, "capabilities": {}, "rootUri": file_uri(&dir),
        "initializationOptions": {"netreach": {"debounceMs": 0, "docsBaseUrl": "https://example.invalid/rules"}},
    });
    client.sender.send(Request::new(RequestId::from(1), "initialize".into(), init).into()).unwrap();
    client.sender.send(Notification::new("initialized".into(), json!({})).into()).unwrap();
    let first = wait_publish(&client, &edit_uri, None);
    let startup = start.elapsed();
    assert!(first > 0, "the edited file has findings");
    let open = json!({"textDocument": {"uri": edit_uri, "languageId": "yaml", "version": 1, "text": edited(0)}});
    client.sender.send(Notification::new("textDocument/didOpen".into(), open).into()).unwrap();
    wait_publish(&client, &edit_uri, Some(1));

    let rounds = 200;
    let mut samples = Vec::with_capacity(rounds);
    let mut counts = [0usize; 2];
    for round in 1..=rounds {
        let version = round as i64 + 1;
        let change = json!({"textDocument": {"uri": edit_uri, "version": version}, "contentChanges": [{"text": edited(round)}]});
        let t = Instant::now();
        client.sender.send(Notification::new("textDocument/didChange".into(), change).into()).unwrap();
        counts[round % 2] = wait_publish(&client, &edit_uri, Some(version));
        samples.push(t.elapsed());
    }
    assert_ne!(counts[0], counts[1], "the edits change the findings");
    let (p50, p99, max) = percentiles(samples);

    let mut hovers = Vec::new();
    for i in 0..50 {
        let hover = json!({"textDocument": {"uri": edit_uri}, "position": {"line": 2, "character": 18}});
        let t = Instant::now();
        client.sender.send(Request::new(RequestId::from(100 + i), "textDocument/hover".into(), hover).into()).unwrap();
        loop {
            if let Message::Response(r) = client.receiver.recv_timeout(Duration::from_secs(30)).unwrap() {
                assert!(r.response_result.as_ref().is_ok_and(|v: &Value| v["contents"]["value"].as_str().is_some_and(|s| s.contains("edit"))), "{r:?}");
                break;
            }
        }
        hovers.push(t.elapsed());
    }
    let (hover_p50, hover_p99, _) = percentiles(hovers);

    client.sender.send(Request::new(RequestId::from(2), "shutdown".into(), Value::Null).into()).unwrap();
    client.sender.send(Notification::new("exit".into(), Value::Null).into()).unwrap();
    thread.join().unwrap().unwrap();
    std::fs::remove_dir_all(&dir).ok();

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("workspace: {objects} objects in {} files", docs.len().div_ceil(10) + 1);
    println!("start-up (initialize → first diagnostics): {:.1} ms", ms(startup));
    println!("re-check per change, didChange → publishDiagnostics, {rounds} edits: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target < 50 ms)", ms(p50), ms(p99), ms(max));
    println!("hover, warm: p50 {:.2} ms, p99 {:.2} ms", ms(hover_p50), ms(hover_p99));
}
