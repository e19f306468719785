//! The resource envelope: every generated hostile input up to 8 MiB is answered (a report,
//! NR001 where a limit is met) within 256 MB of peak heap, counted by the allocator (so the
//! figure is the same on every machine). Time is measured by `cargo bench --bench envelope`,
//! which runs the same inputs in a release build.

#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)] // test code

use std::sync::atomic::Ordering;

#[path = "../benches/support/hostile.rs"]
mod hostile;
#[path = "../benches/support/counting.rs"]
mod counting;

use counting::{reset_peak, Counting, PEAK};
use netreach_policy::{check, Options, Source};

#[global_allocator]
static ALLOC: Counting = Counting;

/// The envelope for every input: shaped to hit a limit of the loader, or large and
/// real-looking (hundreds of thousands of objects and findings in 8 MiB).
const BUDGET: usize = 256 * 1024 * 1024;

#[test]
fn every_hostile_input_is_answered_within_256_mb() {
    let mut over = Vec::new();
    for (name, text) in hostile::inputs() {
        assert!(text.len() <= 8 * 1024 * 1024 + 1024, "{name} is {} bytes", text.len());
        let before = reset_peak();
        let sources = [Source::new("hostile.yaml", text)];
        let report = check(&sources, &Options::default());
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
        let nr001 = report.diagnostics.iter().filter(|d| d.rule == "NR001").count();
        println!("envelope: {name:<28} peak {:>6.1} MB, {nr001} NR001, {} findings", peak as f64 / 1e6, report.diagnostics.len());
        drop(report);
        drop(sources);
        if peak > BUDGET {
            over.push(format!("{name}: {} MB", peak / 1_000_000));
        }
    }
    assert!(over.is_empty(), "over the 256 MB envelope: {over:?}");
}
