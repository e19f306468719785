//! Time of the resource envelope: each hostile input of up to 8 MiB (the shapes the envelope
//! test holds to 256 MB) checked natively in a release build, three runs each. Prints the worst
//! run against the 2 s target and exits non-zero when an input is over.
//!
//! `cargo bench -p netreach-policy --bench envelope [-- NAME…]` (only inputs whose name
//! contains one of the NAMEs)

#[path = "support/hostile.rs"]
mod hostile;

use std::time::Instant;

use netreach_policy::{check, Options, Source};

fn main() {
    let mut over = 0;
    // cargo passes `--bench`; the other arguments filter by name.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    for (name, text) in hostile::inputs() {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let sources = [Source::new("hostile.yaml", text)];
        let mut worst = 0f64;
        for _ in 0..3 {
            let t = Instant::now();
            let report = check(&sources, &Options::default());
            std::hint::black_box(report);
            worst = worst.max(t.elapsed().as_secs_f64());
        }
        let verdict = if worst <= 2.0 { "ok" } else { "OVER" };
        if worst > 2.0 {
            over += 1;
        }
        println!("envelope time: {name:<28} worst of 3 {worst:>7.3} s  {verdict}");
    }
    println!("envelope time: {over} input(s) over 2 s");
    if over > 0 {
        std::process::exit(1);
    }
}
