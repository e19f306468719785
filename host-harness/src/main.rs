//! `netreach`: check manifests, print the connectivity map, explain one connection.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (code, out, err) = netreach_host_harness::cli::run(&args);
    print!("{out}");
    eprint!("{err}");
    std::process::exit(code);
}
