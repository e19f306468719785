//! `netreach`: check manifests, print the connectivity map, explain one connection.

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (code, out, err) = netreach_host_harness::cli::run(&args);
    // A reader that stops early (`| head`) closes the pipe; that is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    let _ = std::io::stderr().lock().write_all(err.as_bytes());
    std::process::exit(code);
}
