// SPDX-License-Identifier: GPL-2.0

//! Network namespaces that die while sessions live in them.
//!
//! A session must not pin its namespace: a counted reference (`get_net`,
//! or a socket upgraded with `sk_net_refcnt_upgrade`) would keep a deleted
//! container's namespace, and its sessions, alive until rmmod. So a session
//! keeps a [`NetRef`], which holds no count, and the module registers a
//! pernet `pre_exit` hook ([`PernetHook`]): when a namespace it tracks dies,
//! the hook has the handler tear down everything in it, then waits until no
//! socket created through a [`NetRef`] of it is left. `pre_exit` runs while
//! the namespace's devices are still up, so sessions can still log out.
//!
//! Soundness rests on three things here, not on the handler: a [`NetRef`]
//! hands out a counted [`Net`] only through `maybe_get_net` (none once the
//! namespace's count is zero) and only before the hook marked it dead
//! (under a lock the hook takes first); every socket made through it is
//! counted, and the hook does not return while one remains.

use super::ffi;
use super::genl::Net;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex, SpinLock};
use kernel::time::{delay::fsleep, Delta};

/// How often a namespace exit still waiting for sockets says so.
const WAIT_REPORT_MS: i64 = 10_000;
/// How often it looks again.
const WAIT_POLL_MS: i64 = 100;

/// One tracked namespace.
#[pin_data]
struct NetEntry {
    /// Identity (the `struct net` address), kept after it dies.
    id: usize,
    /// The namespace, or null once its exit started.
    ///
    /// # Invariants
    ///
    /// While non-null, `ptr` is a `struct net` whose memory is valid: the
    /// pernet hook nulls it (under this lock) before the kernel can free it.
    #[pin]
    ptr: SpinLock<*mut bindings::net>,
    /// Sockets created in it and not yet released. Atomic, and polled by
    /// the exit: a socket may be released where nothing may sleep or lock.
    sockets: AtomicUsize,
}

// SAFETY: the raw pointer is only read under the lock and only used through
// `maybe_get_net`, which is safe on any thread.
unsafe impl Send for NetEntry {}
// SAFETY: as above; the rest is behind a lock or atomic.
unsafe impl Sync for NetEntry {}

/// A namespace a session lives in, without a reference count on it.
#[derive(Clone)]
pub(crate) struct NetRef {
    entry: Arc<NetEntry>,
}

impl NetRef {
    /// Identity of the namespace, comparable with [`Net::id`]; stays valid
    /// (and unique among live namespaces) after it died.
    pub(crate) fn id(&self) -> usize {
        self.entry.id
    }

    /// A counted reference, unless the namespace is going away.
    pub(crate) fn get(&self) -> Option<Net> {
        let g = self.entry.ptr.lock();
        if g.is_null() {
            return None;
        }
        // SAFETY: non-null under the lock, so the memory is valid (type
        // invariant of `NetEntry::ptr`); `maybe_get_net` takes a count only
        // if the namespace still has one.
        let p = unsafe { ffi::rsiscsi_maybe_get_net(*g) };
        // SAFETY: `p` is null or a namespace we now hold a count on.
        (!p.is_null()).then(|| unsafe { Net::adopt(p) })
    }

    /// Records a socket created in this namespace until the guard drops.
    pub(crate) fn socket_guard(&self) -> SocketGuard {
        self.entry.sockets.fetch_add(1, Ordering::AcqRel);
        SocketGuard {
            entry: self.entry.clone(),
        }
    }
}

/// Keeps a namespace's exit waiting while a socket in it exists.
pub(crate) struct SocketGuard {
    entry: Arc<NetEntry>,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.entry.sockets.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The namespaces the module has sessions in.
pub(crate) struct NetTable {
    entries: Pin<KBox<Mutex<KVec<Arc<NetEntry>>>>>,
}

impl NetTable {
    /// An empty table.
    pub(crate) fn new() -> Result<NetTable> {
        Ok(NetTable {
            entries: KBox::pin_init(
                kernel::new_mutex!(KVec::new(), "NetTable::entries"),
                GFP_KERNEL,
            )?,
        })
    }

    /// An uncounted reference to `net`, tracked so that its exit finds it.
    pub(crate) fn track(&self, net: &Net) -> Result<NetRef> {
        let mut g = self.entries.lock();
        if let Some(e) = g.iter().find(|e| e.id == net.id()) {
            return Ok(NetRef { entry: e.clone() });
        }
        // INVARIANT: `net` is counted by the caller now, and the entry is
        // in the table before that count can go, so the hook will null the
        // pointer before the namespace is freed.
        let entry = Arc::pin_init(
            pin_init!(NetEntry {
                id: net.id(),
                ptr <- kernel::new_spinlock!(net.as_ptr(), "NetEntry::ptr"),
                sockets: AtomicUsize::new(0),
            }),
            GFP_KERNEL,
        )?;
        g.push(entry.clone(), GFP_KERNEL)?;
        Ok(NetRef { entry })
    }

    /// Takes `net`'s entry out of the table and marks it dead: no
    /// [`NetRef::get`] succeeds from now on.
    fn dying(&self, net: *mut bindings::net) -> Option<Arc<NetEntry>> {
        let mut g = self.entries.lock();
        let i = g.iter().position(|e| e.id == net as usize)?;
        let e = g.remove(i).ok()?;
        *e.ptr.lock() = core::ptr::null_mut();
        Some(e)
    }
}

/// What to do when a tracked namespace dies.
pub(crate) trait NetExit: Send + Sync + 'static {
    /// The table the module's [`NetRef`]s come from.
    fn table(&self) -> &NetTable;

    /// Tears down everything living in namespace `id`; may sleep. Sockets
    /// still open when it returns delay the namespace's exit until closed.
    fn net_exit(&self, id: usize);
}

/// The module's pernet registration (at most one per module: the C shim
/// keeps the context in a static).
///
/// # Invariants
///
/// While registered, the shim holds `ctx`'s pointer; the `Arc` keeps it
/// alive until `drop` unregisters.
pub(crate) struct PernetHook<T: NetExit> {
    _ctx: Arc<T>,
}

/// The shim's `pre_exit` callback.
///
/// # Safety
///
/// `ctx` is the pointer `PernetHook::register` gave the shim, and `net` a
/// namespace in its exit.
unsafe extern "C" fn pre_exit_tramp<T: NetExit>(ctx: *mut c_void, net: *mut bindings::net) {
    // SAFETY: `ctx` is the `Arc<T>`'s pointer registered in `register`,
    // alive until unregistration, which waits for running exits.
    let t = unsafe { &*ctx.cast::<T>() };
    let Some(entry) = t.table().dying(net) else {
        return;
    };
    t.net_exit(entry.id);
    // The handler closed what it knew of; anything still open is waited for
    // (the common case is nothing, so a poll costs nothing).
    let mut waited = 0;
    loop {
        let n = entry.sockets.load(Ordering::Acquire);
        if n == 0 {
            break;
        }
        if waited >= WAIT_REPORT_MS {
            pr_warn!(
                "rsiscsi: namespace exit waits for {} socket(s) to close\n",
                n
            );
            waited = 0;
        }
        fsleep(Delta::from_millis(WAIT_POLL_MS));
        waited += WAIT_POLL_MS;
    }
}

impl<T: NetExit> PernetHook<T> {
    /// Registers the hook; `ctx` handles every tracked namespace's exit.
    pub(crate) fn register(ctx: Arc<T>) -> Result<PernetHook<T>> {
        // SAFETY: the trampoline matches the shim's callback type; the
        // pointer stays valid while registered (type invariant).
        to_result(unsafe {
            ffi::rsiscsi_pernet_register(
                Arc::as_ptr(&ctx).cast_mut().cast(),
                Some(pre_exit_tramp::<T>),
            )
        })?;
        Ok(PernetHook { _ctx: ctx })
    }
}

impl<T: NetExit> Drop for PernetHook<T> {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; unregistering waits for running
        // exits and runs the hook for every live namespace first.
        unsafe { ffi::rsiscsi_pernet_unregister() };
    }
}
