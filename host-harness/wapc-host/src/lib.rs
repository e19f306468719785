//! Tests only: see `tests/kubewarden.rs`. Kept apart from the harness because the waPC host
//! layer turns on wasmtime's full feature set.
