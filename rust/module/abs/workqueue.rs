// SPDX-License-Identifier: GPL-2.0

//! An owned workqueue: `alloc_workqueue()` with the flags a storage
//! transport needs (7.3's `kernel::workqueue` only offers the system queues).
//!
//! Work that sits on the path of writeback (login after a reconnect, receive,
//! transmit) must be able to run when no memory can be allocated to create a
//! worker thread; `WQ_MEM_RECLAIM` gives the queue a rescuer thread for that.

use super::ffi;
use kernel::bindings;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::workqueue::Queue;

/// A workqueue created by this module, flushed and destroyed on drop.
///
/// # Invariants
///
/// `ptr` points at a live workqueue created by `alloc_workqueue()` that only
/// this object destroys.
pub(crate) struct OwnedQueue {
    ptr: *mut bindings::workqueue_struct,
}

// SAFETY: a workqueue may be used and destroyed from any thread.
unsafe impl Send for OwnedQueue {}
// SAFETY: every workqueue operation is safe to call concurrently.
unsafe impl Sync for OwnedQueue {}

impl OwnedQueue {
    /// A queue with a rescuer thread (`WQ_MEM_RECLAIM`), unbound if
    /// `unbound` (work may run on any CPU) and high priority if `highpri`.
    pub(crate) fn new_reclaim(name: &'static CStr, unbound: bool, highpri: bool) -> Result<Self> {
        let mut flags = bindings::wq_flags_WQ_MEM_RECLAIM;
        if unbound {
            flags |= bindings::wq_flags_WQ_UNBOUND;
        }
        if highpri {
            flags |= bindings::wq_flags_WQ_HIGHPRI;
        }
        // SAFETY: `name` is a NUL-terminated string that outlives the queue
        // (it is only formatted into the queue's own name buffer anyway).
        let ptr = unsafe { ffi::rsiscsi_alloc_wq(name.as_char_ptr(), flags) };
        if ptr.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: `alloc_workqueue` returned a new queue that we own.
        Ok(OwnedQueue { ptr })
    }

    /// The queue, for enqueueing `kernel::workqueue` work items.
    pub(crate) fn queue(&self) -> &Queue {
        // SAFETY: by the type invariant the queue is valid until `self` is
        // dropped, which the returned borrow cannot outlive.
        unsafe { Queue::from_raw(self.ptr) }
    }

    /// Waits until every work item queued so far has run.
    pub(crate) fn flush(&self) {
        // SAFETY: by the type invariant the queue is valid.
        unsafe { bindings::__flush_workqueue(self.ptr) };
    }
}

impl Drop for OwnedQueue {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the queue is valid and nobody else
        // destroys it; `destroy_workqueue` drains it first, so no queued
        // work item still runs on it afterwards.
        unsafe { bindings::destroy_workqueue(self.ptr) };
    }
}
