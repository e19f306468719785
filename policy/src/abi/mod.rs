//! Host ABIs: thin shims over [`crate::check_json`], one file per ABI, each behind a cargo
//! feature and built for `wasm32-unknown-unknown`. The only `unsafe` code of the crate lives
//! here: raw pointers are how a wasm host and guest share bytes.

#[cfg(feature = "abi-bindgen")]
pub mod bindgen;
#[cfg(feature = "abi-core")]
pub mod core;
#[cfg(feature = "abi-kubewarden")]
pub mod kubewarden;
#[cfg(all(feature = "abi-opa", target_arch = "wasm32"))]
pub mod opa;

/// Memory handed to the host: leaked boxed bytes, freed by the host through the ABI.
#[allow(dead_code)] // each ABI uses a subset
pub(crate) mod buffers {
    /// Leak `bytes` and return (pointer, length).
    pub fn leak(bytes: Vec<u8>) -> (usize, usize) {
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len();
        let ptr = Box::into_raw(boxed) as *mut u8 as usize;
        (ptr, len)
    }

    /// Allocate `len` zeroed bytes for the host to write into.
    pub fn alloc(len: usize) -> usize {
        leak(vec![0; len]).0
    }

    /// Free a buffer from [`leak`] or [`alloc`].
    ///
    /// # Safety
    /// `ptr`/`len` must come from `leak`/`alloc` and not have been freed.
    pub unsafe fn free(ptr: usize, len: usize) {
        if ptr == 0 {
            return;
        }
        let slice = std::ptr::slice_from_raw_parts_mut(ptr as *mut u8, len);
        // SAFETY: the caller guarantees this is a live boxed slice of exactly `len` bytes.
        drop(unsafe { Box::from_raw(slice) });
    }

    /// Borrow `len` bytes at `ptr`.
    ///
    /// # Safety
    /// The range must be a live allocation of this module.
    pub unsafe fn bytes<'a>(ptr: usize, len: usize) -> &'a [u8] {
        if ptr == 0 || len == 0 {
            return &[];
        }
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(ptr as *const u8, len) }
    }
}
