// SPDX-License-Identifier: GPL-2.0

//! The kernel's cryptographically secure random number generator.

use kernel::bindings;

/// Fills `buf` from the kernel RNG (`get_random_bytes`), e.g. for CHAP
/// challenges and ISIDs.
pub(crate) fn fill(buf: &mut [u8]) {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
    unsafe { bindings::get_random_bytes(buf.as_mut_ptr().cast(), buf.len()) };
}
