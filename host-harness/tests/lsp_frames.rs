//! `netreach lsp` fed malformed frames by a hostile or broken client: every bad frame is
//! answered with a JSON-RPC error and the server goes on to serve the next request.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

fn read_message(r: &mut impl BufRead) -> serde_json::Value {
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "the server closed its output");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = v.parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap()
}

#[test]
fn bad_frames_are_answered_and_the_server_keeps_serving() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netreach"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut input = Vec::new();
    input.extend(b"Content-Length: abc\r\n\r\n");
    input.extend(b"Content-Type: application/json\r\n\r\n");
    input.extend(frame("{not json"));
    input.extend(frame("{\"valid\": \"json, not a message\"}"));
    input.extend(b"Content-Length: 99999999999\r\n\r\n");
    stdin.write_all(&input).unwrap();
    stdin.flush().unwrap();
    let mut codes = Vec::new();
    for _ in 0..4 {
        let m = read_message(&mut stdout);
        assert_eq!(m["id"], serde_json::Value::Null, "{m}");
        codes.push(m["error"]["code"].as_i64().unwrap());
    }
    assert_eq!(codes, [-32700, -32700, -32700, -32600]);
    // The 99 GB body is skipped as it streams (the server never allocates it); end it early by
    // closing the pipe after a real session in a second server.
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.code().is_some(), "the server exited by itself, it did not crash: {status:?}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_netreach")).arg("lsp").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin.write_all(b"Content-Length: abc\r\n\r\n").unwrap();
    stdin.write_all(&frame("{not json")).unwrap();
    stdin.write_all(&frame(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#)).unwrap();
    stdin.flush().unwrap();
    assert_eq!(read_message(&mut stdout)["error"]["code"], -32700);
    assert_eq!(read_message(&mut stdout)["error"]["code"], -32700);
    let init = read_message(&mut stdout);
    assert_eq!(init["id"], 1, "{init}");
    assert!(init["result"]["capabilities"].is_object(), "{init}");
    stdin.write_all(&frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#)).unwrap();
    stdin.write_all(&frame(r#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#)).unwrap();
    stdin.flush().unwrap();
    assert_eq!(read_message(&mut stdout)["id"], 2);
    stdin.write_all(&frame(r#"{"jsonrpc":"2.0","method":"exit"}"#)).unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
