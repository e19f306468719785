//! # netreach Kubewarden artifact (waPC guest, protocol `v1`)
//!
//! Target `wasm32-unknown-unknown`. Imports only from module `wapc`: `__guest_request(op_ptr,
//! msg_ptr)`, `__guest_response(ptr, len)`, `__guest_error(ptr, len)`, and for host capabilities
//! `__host_call(bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, ptr, len) -> i32`,
//! `__host_response_len()`, `__host_response(ptr)`, `__host_error_len()`, `__host_error(ptr)`. Exports `memory` and
//! `__guest_call(op_len, msg_len) -> i32` (1 = answered with `__guest_response`, 0 = failed with
//! `__guest_error`). The policy metadata (`policy/kubewarden/metadata.yml` as JSON) is embedded in
//! the custom section `io.kubewarden.metadata`, so kwctl and policy-server read it without
//! `kwctl annotate`.
//!
//! | operation | payload | answer |
//! |---|---|---|
//! | `protocol_version` | empty | `"v1"` |
//! | `validate_settings` | settings object | `{"valid": bool, "message"?: string}` |
//! | `validate` | `{"request": AdmissionRequest \| raw object, "settings": {…}}` | `{"accepted": bool, "message"?, "code"?: 400, "warnings"?: [≤ 120 chars]}` |
//!
//! Settings: `{"disabledRules": [id|name…], "severityOverrides": {id|name: "error"|"warning"|"info"},
//! "context": "none"|"namespace"|"cluster"}`; anything else is invalid with a message naming the
//! field. With `context` other than `none`, `validate` first reads Namespaces, NetworkPolicies,
//! Pods and Services through `kubewarden/kubernetes/list_resources_by_namespace` (the reviewed
//! object's namespace) or `list_resources_all`; a refused read (the operator did not grant
//! `contextAwareResources`) becomes an admission warning naming what was not read. The module
//! keeps no state between calls, never prints, and reads no clock, environment or randomness.

use crate::admission::{self, HostCalls};

#[link(wasm_import_module = "wapc")]
extern "C" {
    fn __guest_request(op_ptr: *mut u8, msg_ptr: *mut u8);
    fn __guest_response(ptr: *const u8, len: usize);
    fn __guest_error(ptr: *const u8, len: usize);
    #[allow(clippy::too_many_arguments)] // the waPC signature
    fn __host_call(
        bd_ptr: *const u8,
        bd_len: usize,
        ns_ptr: *const u8,
        ns_len: usize,
        op_ptr: *const u8,
        op_len: usize,
        ptr: *const u8,
        len: usize,
    ) -> i32;
    fn __host_response_len() -> usize;
    fn __host_response(ptr: *mut u8);
    fn __host_error_len() -> usize;
    fn __host_error(ptr: *mut u8);
}

/// The waPC host this module runs in.
struct Wapc;

impl HostCalls for Wapc {
    fn call(&mut self, binding: &str, namespace: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
        // SAFETY: every pointer/length pair describes a live buffer; the host copies them out.
        let ok = unsafe {
            __host_call(
                binding.as_ptr(),
                binding.len(),
                namespace.as_ptr(),
                namespace.len(),
                operation.as_ptr(),
                operation.len(),
                payload.as_ptr(),
                payload.len(),
            )
        };
        if ok == 1 {
            // SAFETY: the buffer has the length the host announced for its answer.
            let mut answer = vec![0u8; unsafe { __host_response_len() }];
            unsafe { __host_response(answer.as_mut_ptr()) };
            Ok(answer)
        } else {
            // SAFETY: as above, for the error text.
            let mut error = vec![0u8; unsafe { __host_error_len() }];
            unsafe { __host_error(error.as_mut_ptr()) };
            Err(String::from_utf8_lossy(&error).into_owned())
        }
    }
}

/// The metadata kwctl reads (`kwctl inspect`), generated from `policy/kubewarden/metadata.yml`.
#[used]
#[link_section = "io.kubewarden.metadata"]
static METADATA: [u8; include_bytes!("../../kubewarden/metadata.json").len()] = *include_bytes!("../../kubewarden/metadata.json");

/// The waPC entry point.
#[no_mangle]
pub extern "C" fn __guest_call(op_len: usize, msg_len: usize) -> i32 {
    let mut op = vec![0u8; op_len];
    let mut msg = vec![0u8; msg_len];
    // SAFETY: both buffers have exactly the lengths the host announced.
    unsafe { __guest_request(op.as_mut_ptr(), msg.as_mut_ptr()) };
    match admission::kubewarden_operation(&op, &msg, &mut Wapc) {
        Ok(answer) => {
            // SAFETY: the host copies `answer` out before this call returns.
            unsafe { __guest_response(answer.as_ptr(), answer.len()) };
            1
        }
        Err(e) => {
            // SAFETY: as above.
            unsafe { __guest_error(e.as_ptr(), e.len()) };
            0
        }
    }
}

