//! The core ABI request: JSON bytes → report JSON, as every host sends it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = netreach_policy::check_json(data);
});
