//! Bytes → report: the loader, the model, every rule and the text renderer.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netreach_policy::{check_text, Options, Source};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let sources = [Source::new("fuzz.yaml", text.into_owned())];
    let _ = check_text(&sources, &Options::default());
});
