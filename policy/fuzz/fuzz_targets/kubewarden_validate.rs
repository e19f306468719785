//! Kubewarden's `validate` payload (and `validate_settings`), with a host whose context calls
//! answer with the same fuzzed bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netreach_policy::admission::{kubewarden_operation, HostCalls};

struct Echo<'a>(&'a [u8]);

impl HostCalls for Echo<'_> {
    fn call(&mut self, _: &str, _: &str, _: &str, _: &[u8]) -> Result<Vec<u8>, String> {
        Ok(self.0.to_vec())
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = kubewarden_operation(b"validate", data, &mut Echo(data));
    let _ = kubewarden_operation(b"validate_settings", data, &mut Echo(data));
});
