//! # netreach core ABI, version 1
//!
//! Target `wasm32-unknown-unknown`; the module imports nothing. All pointers and lengths are
//! wasm32 `i32` (unsigned in meaning). Strings are UTF-8 JSON. The module keeps no state between
//! calls, never prints, and reads no clock, environment or randomness.
//!
//! | export | signature | meaning |
//! |---|---|---|
//! | `memory` | memory | the module's linear memory |
//! | `netreach_abi_version` | `() -> i32` | `1`; a host refuses other versions |
//! | `netreach_alloc` | `(len: i32) -> i32` | a buffer of `len` bytes for the host to fill (0 = out of memory) |
//! | `netreach_free` | `(ptr: i32, len: i32)` | release a buffer from `netreach_alloc` or a result |
//! | `netreach_check` | `(ptr: i32, len: i32) -> i64` | run every rule on the request at `ptr`; returns `(result_ptr << 32) \| result_len` |
//! | `netreach_rules` | `() -> i64` | rule metadata JSON, same packing |
//!
//! A call: `p = netreach_alloc(n)`, write the request at `p`, `r = netreach_check(p, n)`,
//! `netreach_free(p, n)`, read `r & 0xffffffff` bytes at `r >> 32`, `netreach_free` them.
//!
//! Request: `{"sources": [{"name": "shop.yaml", "text": "…"}], "defaultNamespace"?: "default"}`.
//! Answer: the report (see README), byte-identical to `netreach check -o json`; a request that
//! cannot be read gives `{"error": "invalid request: …", "version": 1}`. Bad manifests never
//! trap: they are findings in the report.

use super::buffers;

fn pack((ptr, len): (usize, usize)) -> i64 {
    ((ptr as u64) << 32 | (len as u64 & 0xffff_ffff)) as i64
}

/// ABI version handshake.
#[no_mangle]
pub extern "C" fn netreach_abi_version() -> i32 {
    1
}

/// Allocate a buffer for the host to write a request into.
#[no_mangle]
pub extern "C" fn netreach_alloc(len: usize) -> usize {
    buffers::alloc(len)
}

/// Free a buffer from `netreach_alloc` or a result.
///
/// # Safety
/// `ptr`/`len` must describe a live buffer handed out by this module.
#[no_mangle]
pub unsafe extern "C" fn netreach_free(ptr: usize, len: usize) {
    // SAFETY: forwarded from the host, per the ABI contract above.
    unsafe { buffers::free(ptr, len) }
}

/// Check the request at `ptr`/`len` and return the packed report.
///
/// # Safety
/// `ptr`/`len` must describe a buffer from `netreach_alloc` that the host filled.
#[no_mangle]
pub unsafe extern "C" fn netreach_check(ptr: usize, len: usize) -> i64 {
    // SAFETY: per the ABI contract above.
    let request = unsafe { buffers::bytes(ptr, len) };
    pack(buffers::leak(crate::check_json(request).into_bytes()))
}

/// Rule metadata JSON, packed.
#[no_mangle]
pub extern "C" fn netreach_rules() -> i64 {
    pack(buffers::leak(crate::rules_json().into_bytes()))
}
