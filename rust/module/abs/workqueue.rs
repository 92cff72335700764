// SPDX-License-Identifier: GPL-2.0

//! An owned workqueue: `alloc_workqueue()` with the flags a storage
//! transport needs (7.3's `kernel::workqueue` only offers the system queues).
//!
//! Work that sits on the path of writeback (login after a reconnect, receive,
//! transmit) must be able to run when no memory can be allocated to create a
//! worker thread; `WQ_MEM_RECLAIM` gives the queue a rescuer thread for that.

use super::ffi;
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;
use kernel::workqueue::{
    impl_has_delayed_work, DelayedWork, HasDelayedWork, HasWork, Queue, Work, WorkItem,
};

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
    /// `unbound` (work may run on any CPU), else per CPU (work runs on the
    /// CPU that queued it), and high priority if `highpri`.
    pub(crate) fn new_reclaim(name: &'static CStr, unbound: bool, highpri: bool) -> Result<Self> {
        let mut flags = bindings::wq_flags_WQ_MEM_RECLAIM;
        flags |= if unbound {
            bindings::wq_flags_WQ_UNBOUND
        } else {
            bindings::wq_flags_WQ_PERCPU
        };
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

/// Cancels `this`'s work item `ID` if it is queued, and waits for it if it is
/// running (`cancel_work_sync`). A queued item holds a reference on `this`
/// (taken when it was enqueued); cancelling releases it. Returns whether the
/// item was queued.
///
/// Must not be called from the work item itself.
#[expect(dead_code, reason = "for the data path's teardown of its work items")]
pub(crate) fn cancel_work_sync<T, const ID: u64>(this: &Arc<T>) -> bool
where
    T: WorkItem<ID, Pointer = Arc<T>> + HasWork<T, ID>,
{
    let p = Arc::as_ptr(this).cast_mut();
    // SAFETY: `p` points at a live `T` (we hold `this`), so its work field
    // is valid.
    let work = unsafe { Work::raw_get(T::raw_get_work(p)) };
    // SAFETY: `work` is an initialised `work_struct`.
    let pending = unsafe { bindings::cancel_work_sync(work) };
    if pending {
        // SAFETY: enqueueing an `Arc<T>` leaks one reference as
        // `Arc::into_raw` of this very pointer, which `run` would have
        // reclaimed; the item will not run now, so reclaim it here.
        drop(unsafe { Arc::from_raw(p) });
    }
    pending
}

/// `cancel_work_sync` for delayed work (`cancel_delayed_work_sync`): also
/// stops a pending timer.
pub(crate) fn cancel_delayed_work_sync<T, const ID: u64>(this: &Arc<T>) -> bool
where
    T: WorkItem<ID, Pointer = Arc<T>> + HasDelayedWork<T, ID>,
{
    let p = Arc::as_ptr(this).cast_mut();
    // SAFETY: as in `cancel_work_sync`.
    let work = unsafe { Work::raw_get(T::raw_get_work(p)) };
    // SAFETY: `HasDelayedWork` guarantees the work item is the `work` field
    // of a `delayed_work`, which is its first field, so the pointers agree.
    let pending = unsafe { bindings::cancel_delayed_work_sync(work.cast()) };
    if pending {
        // SAFETY: as in `cancel_work_sync`: delayed enqueueing of an
        // `Arc<T>` also leaks `Arc::into_raw` of this pointer.
        drop(unsafe { Arc::from_raw(p) });
    }
    pending
}

/// Counts `Probe`s dropped, for `self_test`.
static PROBES_DROPPED: AtomicU32 = AtomicU32::new(0);

/// A delayed work item that must never run: `self_test` cancels it.
#[pin_data]
struct Probe {
    #[pin]
    work: DelayedWork<Probe>,
    counted: DropCounter,
}

/// Counts its drops in `PROBES_DROPPED`.
struct DropCounter;

impl_has_delayed_work! {
    impl HasDelayedWork<Self> for Probe { self.work }
}

impl WorkItem for Probe {
    type Pointer = Arc<Probe>;
    fn run(_this: Arc<Probe>) {
        pr_err!("rsiscsi: workqueue self-test: a cancelled work item ran\n");
    }
}

impl Drop for DropCounter {
    fn drop(&mut self) {
        PROBES_DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Checks, at load, that cancelling queued delayed work on `q` gives back
/// the reference the queue held (the object is freed exactly once when the
/// caller's reference goes) and that cancelling idle work reports so.
pub(crate) fn self_test(q: &OwnedQueue) -> Result {
    let before = PROBES_DROPPED.load(Ordering::Relaxed);
    let p = Arc::pin_init(
        pin_init!(Probe {
            work <- kernel::new_delayed_work!("Probe::work"),
            counted: DropCounter,
        }),
        GFP_KERNEL,
    )?;
    // An hour: far beyond the test, so the item is pending when cancelled.
    if q.queue().enqueue_delayed(p.clone(), 3600 * 1000).is_err() {
        return Err(EINVAL);
    }
    let was_pending = cancel_delayed_work_sync(&p);
    let again = cancel_delayed_work_sync(&p);
    drop(p);
    let freed = PROBES_DROPPED.load(Ordering::Relaxed).wrapping_sub(before);
    if !was_pending || again || freed != 1 {
        pr_err!(
            "rsiscsi: workqueue self-test failed: pending {was_pending}, again {again}, freed {freed}\n"
        );
        return Err(EINVAL);
    }
    Ok(())
}
