//! Time of the resource envelope: each hostile input of up to 8 MiB (the shapes the envelope
//! test holds to 256 MB) checked natively in a release build, three runs each. Prints the worst
//! run against the 2 s target and exits non-zero when a hostile shape is over. The two large
//! real-looking sets are printed for the record: their time is the engine's, not the loader's.
//!
//! `cargo bench -p netreach-policy --bench envelope`

#[path = "support/hostile.rs"]
mod hostile;

use std::time::Instant;

use netreach_policy::{check, Options, Source};

fn main() {
    let mut over = 0;
    for (name, text) in hostile::inputs() {
        let sources = [Source::new("hostile.yaml", text)];
        let mut worst = 0f64;
        for _ in 0..3 {
            let t = Instant::now();
            let report = check(&sources, &Options::default());
            std::hint::black_box(report);
            worst = worst.max(t.elapsed().as_secs_f64());
        }
        let large = matches!(name, "many-policies" | "many-namespaces");
        let verdict = match (worst <= 2.0, large) {
            (true, _) => "ok",
            (false, true) => "over (large set)",
            (false, false) => "OVER",
        };
        if worst > 2.0 && !large {
            over += 1;
        }
        println!("envelope time: {name:<28} worst of 3 {worst:>7.3} s  {verdict}");
    }
    println!("envelope time: {over} hostile input(s) over 2 s");
    if over > 0 {
        std::process::exit(1);
    }
}
