//! # netreach Kubewarden artifact (waPC guest, protocol `v1`)
//!
//! Target `wasm32-unknown-unknown`. Imports only from module `wapc`: `__guest_request(op_ptr,
//! msg_ptr)`, `__guest_response(ptr, len)`, `__guest_error(ptr, len)`. Exports `memory` and
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
//! Settings: `{"disabledRules": [id|name…], "severityOverrides": {id|name: "error"|"warning"|"info"}}`;
//! anything else is invalid with a message naming the field. Every rule of netreach today judges
//! the reviewed object alone, so no host capability is called. The module keeps no state between
//! calls, never prints, and reads no clock, environment or randomness.

use crate::admission;

#[link(wasm_import_module = "wapc")]
extern "C" {
    fn __guest_request(op_ptr: *mut u8, msg_ptr: *mut u8);
    fn __guest_response(ptr: *const u8, len: usize);
    fn __guest_error(ptr: *const u8, len: usize);
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
    match admission::kubewarden_operation(&op, &msg) {
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

