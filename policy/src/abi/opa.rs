//! # netreach OPA / Gatekeeper artifact (OPA WebAssembly ABI 1.2)
//!
//! Target `wasm32-unknown-unknown`, linked with `--import-memory --export-memory
//! -zstack-size=65536` (see `policy/build.rs`). Imports only `env.memory` (declared minimum
//! within the 5 pages OPA hosts create; grown on demand). Exports the ABI 1.2 set: `memory`,
//! `opa_malloc`, `opa_free`, `opa_heap_ptr_get`, `opa_heap_ptr_set`, `opa_json_parse`,
//! `opa_value_parse`, `opa_json_dump`, `opa_value_dump`, `builtins` (`{}`: no builtins),
//! `entrypoints`, `opa_eval_ctx_new`, `opa_eval_ctx_set_input`, `opa_eval_ctx_set_data`,
//! `opa_eval_ctx_set_entrypoint`, `eval`, `opa_eval_ctx_get_result`, `opa_eval`, and — added
//! after linking by the host-harness build — the globals `opa_wasm_abi_version = 1`,
//! `opa_wasm_abi_minor_version = 2`.
//!
//! Memory follows OPA's own model: the allocator is a bump arena whose top *is* the OPA heap
//! pointer; a host resets it with `opa_heap_ptr_set` (or `opa_eval`'s `heap_ptr`) before each
//! evaluation, which discards everything the previous evaluation allocated. Hence no lazily
//! initialised state anywhere in the module.
//!
//! Entrypoints (the result is a result set, `[{"result": …}]`):
//!
//! | id | name | input → result |
//! |---|---|---|
//! | 0 | `netreach/main` | by shape: `{review, parameters}` → as 1; `{request}` → as 2; else → as 3 |
//! | 1 | `netreach/violations` | Gatekeeper `{review, parameters}` → `[{"msg", "details": {rule, severity, path, line, column}}]`, error findings only |
//! | 2 | `netreach/response` | Kubewarden-OPA `{request}` → `{"response": {uid, allowed, status?, warnings?}}` |
//! | 3 | `netreach/report` | a core check request (`{sources, …}`) → the report |
//!
//! `parameters` are the policy settings (`disabledRules`, `severityOverrides`). Context objects
//! come from `data.inventory` (Gatekeeper layout: `cluster[gv][kind][name]`,
//! `namespace[ns][gv][kind][name]`), which Kubewarden's gatekeeper mode also fills.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

use serde_json::{json, Value};

use crate::admission;

// ---- the bump allocator --------------------------------------------------------------------

extern "C" {
    /// First byte after the data and stack, placed by the linker.
    static __heap_base: u8;
}

struct Bump;

/// Wasm is single-threaded; a `Cell` in a `Sync` wrapper is the simplest global.
struct Top(Cell<usize>);
// SAFETY: wasm32-unknown-unknown without threads: one thread only.
unsafe impl Sync for Top {}

static TOP: Top = Top(Cell::new(0));

fn heap_base() -> usize {
    // Only the address of the linker symbol is taken, never its contents.
    std::ptr::addr_of!(__heap_base) as usize
}

fn top() -> usize {
    match TOP.0.get() {
        0 => heap_base(),
        t => t,
    }
}

const PAGE: usize = 65536;

// SAFETY: hands out disjoint, aligned ranges inside the linear memory, growing it as needed.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let start = top().next_multiple_of(layout.align());
        let Some(end) = start.checked_add(layout.size()) else { return std::ptr::null_mut() };
        // The host may have grown the memory since the last call: ask every time.
        let have = core::arch::wasm32::memory_size(0) * PAGE;
        if end > have {
            let pages = (end - have).div_ceil(PAGE);
            if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                return std::ptr::null_mut();
            }
        }
        TOP.0.set(end);
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Give back the most recent allocation; the rest goes at the next heap reset.
        if ptr as usize + layout.size() == top() {
            TOP.0.set(ptr as usize);
        }
    }
}

#[global_allocator]
static ALLOC: Bump = Bump;

// ---- values ------------------------------------------------------------------------------------

fn boxed(v: Value) -> i32 {
    Box::into_raw(Box::new(v)) as i32
}

/// # Safety
/// `addr` must be 0 or a value from `boxed` that the heap has not been reset below.
unsafe fn value<'a>(addr: i32) -> Option<&'a Value> {
    // SAFETY: per the function contract.
    unsafe { (addr as *const Value).as_ref() }
}

fn cstr(s: String) -> i32 {
    let mut bytes = s.into_bytes();
    bytes.push(0);
    super::buffers::leak(bytes).0 as i32
}

/// # Safety
/// `ptr`/`len` must lie inside the memory.
unsafe fn parse_at(ptr: i32, len: i32) -> i32 {
    // SAFETY: per the function contract.
    let bytes = unsafe { super::buffers::bytes(ptr as usize, len as usize) };
    serde_json::from_slice::<Value>(bytes).map_or(0, boxed)
}

// ---- the ABI -----------------------------------------------------------------------------------

/// Allocate `size` bytes.
#[no_mangle]
pub extern "C" fn opa_malloc(size: i32) -> i32 {
    super::buffers::alloc(size.max(0) as usize) as i32
}

/// Memory is reclaimed by heap resets, not by `opa_free`.
#[no_mangle]
pub extern "C" fn opa_free(_addr: i32) {}

/// The heap pointer (top of the bump arena).
#[no_mangle]
pub extern "C" fn opa_heap_ptr_get() -> i32 {
    top() as i32
}

/// Reset the heap pointer, discarding everything allocated above it.
#[no_mangle]
pub extern "C" fn opa_heap_ptr_set(addr: i32) {
    TOP.0.set((addr as usize).max(heap_base()));
}

/// Parse JSON at `ptr`/`len` into a value; 0 when it is not JSON.
///
/// # Safety
/// `ptr`/`len` must lie inside the memory.
#[no_mangle]
pub unsafe extern "C" fn opa_json_parse(ptr: i32, len: i32) -> i32 {
    // SAFETY: per the ABI.
    unsafe { parse_at(ptr, len) }
}

/// Rego value syntax is JSON for every value netreach reads.
///
/// # Safety
/// `ptr`/`len` must lie inside the memory.
#[no_mangle]
pub unsafe extern "C" fn opa_value_parse(ptr: i32, len: i32) -> i32 {
    // SAFETY: per the ABI.
    unsafe { parse_at(ptr, len) }
}

/// Serialise a value as NUL-terminated JSON.
///
/// # Safety
/// `addr` must be a live value.
#[no_mangle]
pub unsafe extern "C" fn opa_json_dump(addr: i32) -> i32 {
    // SAFETY: per the ABI.
    let v = unsafe { value(addr) }.cloned().unwrap_or(Value::Null);
    cstr(v.to_string())
}

/// Same as `opa_json_dump`.
///
/// # Safety
/// `addr` must be a live value.
#[no_mangle]
pub unsafe extern "C" fn opa_value_dump(addr: i32) -> i32 {
    // SAFETY: per the ABI.
    unsafe { opa_json_dump(addr) }
}

/// No builtins are needed.
#[no_mangle]
pub extern "C" fn builtins() -> i32 {
    boxed(json!({}))
}

/// The entrypoint names and ids.
#[no_mangle]
pub extern "C" fn entrypoints() -> i32 {
    boxed(json!({"netreach/main": 0, "netreach/violations": 1, "netreach/response": 2, "netreach/report": 3}))
}

/// An evaluation context.
struct Ctx {
    input: i32,
    data: i32,
    entrypoint: i32,
    result: i32,
}

/// A new evaluation context.
#[no_mangle]
pub extern "C" fn opa_eval_ctx_new() -> i32 {
    Box::into_raw(Box::new(Ctx { input: 0, data: 0, entrypoint: 0, result: 0 })) as i32
}

/// # Safety
/// `ctx` must come from `opa_eval_ctx_new`.
unsafe fn ctx<'a>(ctx: i32) -> Option<&'a mut Ctx> {
    // SAFETY: per the function contract.
    unsafe { (ctx as *mut Ctx).as_mut() }
}

/// Set the input value.
///
/// # Safety
/// `c` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn opa_eval_ctx_set_input(c: i32, v: i32) {
    // SAFETY: per the ABI.
    if let Some(c) = unsafe { ctx(c) } {
        c.input = v;
    }
}

/// Set the data value.
///
/// # Safety
/// `c` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn opa_eval_ctx_set_data(c: i32, v: i32) {
    // SAFETY: per the ABI.
    if let Some(c) = unsafe { ctx(c) } {
        c.data = v;
    }
}

/// Choose the entrypoint.
///
/// # Safety
/// `c` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn opa_eval_ctx_set_entrypoint(c: i32, e: i32) {
    // SAFETY: per the ABI.
    if let Some(c) = unsafe { ctx(c) } {
        c.entrypoint = e;
    }
}

/// Evaluate; the result set is read with `opa_eval_ctx_get_result`. Returns 0.
///
/// # Safety
/// `c` must be a live context whose values are live.
#[no_mangle]
pub unsafe extern "C" fn eval(c: i32) -> i32 {
    // SAFETY: per the ABI.
    let Some(c) = (unsafe { ctx(c) }) else { return 1 };
    // SAFETY: per the ABI.
    let (input, data) = unsafe { (value(c.input), value(c.data)) };
    let null = Value::Null;
    c.result = boxed(admission::opa_evaluate(c.entrypoint, input.unwrap_or(&null), data.unwrap_or(&null)));
    0
}

/// The result set of the last `eval`.
///
/// # Safety
/// `c` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn opa_eval_ctx_get_result(c: i32) -> i32 {
    // SAFETY: per the ABI.
    unsafe { ctx(c) }.map_or(0, |c| c.result)
}

/// ABI 1.2 one-shot evaluation: input JSON at `input`/`input_len`, heap reset to `heap_ptr`;
/// returns the NUL-terminated result set.
///
/// # Safety
/// Addresses must lie inside the memory; `data` must be a live value or 0.
#[no_mangle]
pub unsafe extern "C" fn opa_eval(_reserved: i32, entrypoint: i32, data: i32, input: i32, input_len: i32, heap_ptr: i32, _format: i32) -> i32 {
    opa_heap_ptr_set(heap_ptr);
    // SAFETY: per the ABI.
    let bytes = unsafe { super::buffers::bytes(input as usize, input_len as usize) };
    let input = serde_json::from_slice::<Value>(bytes).unwrap_or(Value::Null);
    // SAFETY: per the ABI.
    let data = unsafe { value(data) }.cloned().unwrap_or(Value::Null);
    cstr(admission::opa_evaluate(entrypoint, &input, &data).to_string())
}
