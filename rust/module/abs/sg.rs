// SPDX-License-Identifier: GPL-2.0
//! Scatterlists by page, offset and length.
//!
//! C header: [`include/linux/scatterlist.h`](srctree/include/linux/scatterlist.h),
//! through `rust/module/shim/sg_shim.c`. 7.3's `kernel::scatterlist` only
//! exposes DMA addresses; a software transport needs the pages themselves.

use core::marker::PhantomData;
use kernel::bindings;
use kernel::prelude::*;

extern "C" {
    fn rsiscsi_sg_next(sg: *mut bindings::scatterlist) -> *mut bindings::scatterlist;
    fn rsiscsi_sg_entry(sg: *mut bindings::scatterlist, offset: *mut u32, length: *mut u32);
    fn rsiscsi_sg_crc32c(crc: u32, sg: *mut bindings::scatterlist, skip: u32, len: u32) -> u32;
}

/// A command's data buffer: a chain of scatterlist entries.
///
/// # Invariants
/// `head` is null with `count == 0`, or the first of `count` valid, mapped
/// entries whose pages stay valid for `'a`; `len` is at most the sum of the
/// entry lengths.
#[derive(Clone, Copy)]
pub(crate) struct SgList<'a> {
    head: *mut bindings::scatterlist,
    count: u32,
    len: u32,
    _p: PhantomData<&'a bindings::scatterlist>,
}

// SAFETY: the list is only read, and its pages may be accessed from any
// context while `'a` lasts.
unsafe impl Send for SgList<'_> {}
// SAFETY: as above.
unsafe impl Sync for SgList<'_> {}

/// One entry: `length` bytes at `offset` in its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SgEntry {
    /// Offset of the data in the entry's first page.
    pub offset: u32,
    /// Bytes in the entry.
    pub length: u32,
}

impl<'a> SgList<'a> {
    /// Wraps a scatterlist.
    ///
    /// # Safety
    /// `head` is null with `count == 0`, or the first of `count` valid entries
    /// whose pages stay valid and unchanged in layout for `'a`, holding at
    /// least `len` bytes in total.
    pub(crate) unsafe fn from_raw(head: *mut bindings::scatterlist, count: u32, len: u32) -> Self {
        let (count, len) = if head.is_null() { (0, 0) } else { (count, len) };
        // INVARIANT: guaranteed by the caller.
        SgList {
            head,
            count,
            len,
            _p: PhantomData,
        }
    }

    /// Bytes of data in the list.
    #[expect(
        dead_code,
        reason = "scatterlist walking API; the transport walks lists inside the page-level socket functions"
    )]
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// No data.
    #[expect(
        dead_code,
        reason = "scatterlist walking API; the transport walks lists inside the page-level socket functions"
    )]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries.
    #[expect(
        dead_code,
        reason = "scatterlist walking API; the transport walks lists inside the page-level socket functions"
    )]
    pub(crate) fn entries(&self) -> SgIter<'a> {
        SgIter {
            sg: self.head,
            left: self.count,
            _p: PhantomData,
        }
    }

    /// Checks `[skip, skip + len)` lies within the list.
    pub(crate) fn check_range(&self, skip: u32, len: u32) -> Result {
        match skip.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(EINVAL),
        }
    }

    /// CRC32C (the kernel's, CPU-accelerated) of bytes `[skip, skip + len)`,
    /// continuing from `crc` (raw register value, no inversion).
    pub(crate) fn crc32c(&self, crc: u32, skip: u32, len: u32) -> Result<u32> {
        self.check_range(skip, len)?;
        if len == 0 {
            return Ok(crc);
        }
        // SAFETY: by the type invariant the entries and their pages are
        // valid; the range was checked against the list's length.
        Ok(unsafe { rsiscsi_sg_crc32c(crc, self.head, skip, len) })
    }

    /// The raw head, for the page-level socket functions.
    pub(crate) fn as_raw(&self) -> *mut bindings::scatterlist {
        self.head
    }
}

/// Iterator over an [`SgList`]'s entries.
///
/// # Invariants
/// `sg` is a valid entry when `left > 0`.
pub(crate) struct SgIter<'a> {
    sg: *mut bindings::scatterlist,
    left: u32,
    _p: PhantomData<&'a bindings::scatterlist>,
}

impl Iterator for SgIter<'_> {
    type Item = SgEntry;

    fn next(&mut self) -> Option<SgEntry> {
        if self.left == 0 || self.sg.is_null() {
            return None;
        }
        let mut e = SgEntry {
            offset: 0,
            length: 0,
        };
        // SAFETY: by the type invariant `sg` is a valid entry.
        unsafe { rsiscsi_sg_entry(self.sg, &mut e.offset, &mut e.length) };
        self.left -= 1;
        if self.left > 0 {
            // INVARIANT: `count` entries exist, so the next is valid.
            // SAFETY: `sg` is valid and not the last entry.
            self.sg = unsafe { rsiscsi_sg_next(self.sg) };
        }
        Some(e)
    }
}
