// SPDX-License-Identifier: GPL-2.0
//! SCSI host and command abstractions.
//!
//! C header: [`include/scsi/scsi_host.h`](srctree/include/scsi/scsi_host.h),
//! reached through `rust/module/shim/scsi_shim.c` (7.3 has no SCSI bindings).
//!
//! A driver implements [`HostOps`]; [`Host::new`] allocates a `Scsi_Host`
//! whose template calls the trait through a per-type callback table, like
//! `kernel::block::mq::OperationsVTable`. Each command arrives as an owned
//! [`Command`], whose private area (the template's `cmd_size`) holds the
//! driver's per-I/O state [`HostOps::CmdPriv`]: nothing is allocated per I/O.

use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::sync::Arc;

mod ffi;
use ffi::ScsiCmnd;

use super::sg::SgList;

/// SCSI host byte of a command's result (`enum scsi_host_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum HostByte {
    /// `DID_OK`: the status byte says how the command ended.
    Ok = 0x00,
    /// `DID_NO_CONNECT`: the target cannot be reached.
    NoConnect = 0x01,
    /// `DID_ERROR`: the transport failed the command.
    Error = 0x07,
    /// `DID_RESET`: a reset ended the command; the midlayer retries it.
    Reset = 0x08,
    /// `DID_TRANSPORT_DISRUPTED`: the transport is recovering; retry.
    TransportDisrupted = 0x0e,
    /// `DID_TRANSPORT_FAILFAST`: the transport gave up (replacement timeout).
    TransportFailfast = 0x0f,
}

/// Data direction of a command (`sc_data_direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataDirection {
    /// No data phase.
    None,
    /// From the device (SCSI read, Data-In).
    Read,
    /// To the device (SCSI write, Data-Out).
    Write,
    /// Both.
    Bidirectional,
}

/// Host limits, derived from the negotiated session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostLimits {
    /// Commands the host accepts at once: the task table capacity.
    pub can_queue: u32,
    /// Initial queue depth per LUN.
    pub cmd_per_lun: u32,
    /// Scatterlist entries per command (one page each).
    pub sg_tablesize: u32,
    /// Largest command in 512-byte sectors.
    pub max_sectors: u32,
    /// Highest LUN scanned, plus one.
    pub max_lun: u64,
    /// Pages must not change while a command is in flight (data digests).
    pub stable_writes: bool,
}

impl HostLimits {
    /// Limits for a session whose task table holds `task_capacity` tasks and
    /// which negotiated `max_burst_length`: a command never needs more than
    /// one solicited burst per R2T, but bounding it to a few bursts keeps the
    /// R2T round trips per command low while still letting the block layer
    /// build 1 MiB I/Os.
    pub(crate) fn from_negotiated(
        task_capacity: u32,
        max_burst_length: u32,
        data_digest: bool,
    ) -> Self {
        let max_bytes = max_burst_length.saturating_mul(4).clamp(64 * 1024, 1 << 20);
        let page = kernel::page::PAGE_SIZE as u32;
        HostLimits {
            can_queue: task_capacity,
            cmd_per_lun: task_capacity.min(32),
            sg_tablesize: max_bytes / page + 1,
            max_sectors: max_bytes / 512,
            max_lun: 16384,
            stable_writes: data_digest,
        }
    }
}

/// Why [`HostOps::queue_command`] did not take a command: it goes back to
/// the midlayer, which retries it later (`SCSI_MLQUEUE_HOST_BUSY`).
pub(crate) struct Busy<T: HostOps>(pub(crate) Command<T>);

/// The callbacks of a SCSI host.
pub(crate) trait HostOps: Send + Sync + Sized + 'static {
    /// Per-command driver state, in the command's private area. Written with
    /// `Default::default()` when the command arrives and dropped when it is
    /// completed or handed back.
    type CmdPriv: Default + Send;

    /// A new command. Must not sleep. Return `Err(Busy(cmd))` to make the
    /// midlayer retry later.
    fn queue_command(&self, cmd: Command<Self>) -> Result<(), Busy<Self>>;

    /// `eh_abort_handler`: abort `cmd`. May sleep. `true` means SUCCESS: the
    /// command is no longer the driver's (if the driver still held its
    /// [`Command`] it must have called [`Command::release_to_eh`]).
    fn abort(&self, cmd: &EhCommand) -> bool;

    /// `eh_device_reset_handler`: reset `cmd`'s LUN. May sleep.
    fn device_reset(&self, cmd: &EhCommand) -> bool;

    /// `eh_target_reset_handler`: reset the target. May sleep.
    fn target_reset(&self, cmd: &EhCommand) -> bool;
}

/// Identity of a command, stable while the midlayer and driver pass it
/// around; compares a [`Command`] with an [`EhCommand`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommandId(usize);

/// A command the driver owns: between `queuecommand` and [`Command::done`].
///
/// # Invariants
/// `ptr` is a `scsi_cmnd` handed to this host's `queuecommand` and not yet
/// completed or handed back to the error handler; its private area holds an
/// initialised `T::CmdPriv`. Exactly one `Command` exists for it.
pub(crate) struct Command<T: HostOps> {
    ptr: NonNull<ScsiCmnd>,
    _p: PhantomData<fn() -> T>,
}

// SAFETY: a `scsi_cmnd` owned by the driver may be used and completed from
// any context; `T::CmdPriv` is `Send`.
unsafe impl<T: HostOps> Send for Command<T> {}
// SAFETY: shared access only reads fields the midlayer does not change while
// the driver owns the command.
unsafe impl<T: HostOps> Sync for Command<T> {}

impl<T: HostOps> Command<T> {
    fn raw(&self) -> *mut ScsiCmnd {
        self.ptr.as_ptr()
    }

    /// This command's identity.
    pub(crate) fn id(&self) -> CommandId {
        CommandId(self.raw() as usize)
    }

    /// The CDB.
    pub(crate) fn cdb(&self) -> &[u8] {
        let mut len = 0u32;
        // SAFETY: by the type invariant `raw()` is a live command.
        let p = unsafe { ffi::rsiscsi_cmd_cdb(self.raw(), &mut len) };
        // SAFETY: `cmnd` holds `cmd_len` bytes and does not change while the
        // driver owns the command (lifetime of `&self`).
        unsafe { core::slice::from_raw_parts(p, len as usize) }
    }

    /// The LUN, as the midlayer numbers it (`scsi_device::lun`).
    pub(crate) fn lun(&self) -> u64 {
        // SAFETY: by the type invariant `raw()` is a live command.
        unsafe { ffi::rsiscsi_cmd_lun(self.raw()) }
    }

    /// Data direction.
    pub(crate) fn direction(&self) -> DataDirection {
        // SAFETY: by the type invariant `raw()` is a live command.
        match unsafe { ffi::rsiscsi_cmd_direction(self.raw()) } {
            1 => DataDirection::Read,
            2 => DataDirection::Write,
            3 => DataDirection::Bidirectional,
            _ => DataDirection::None,
        }
    }

    /// Bytes to transfer (`scsi_bufflen`).
    pub(crate) fn transfer_length(&self) -> u32 {
        // SAFETY: by the type invariant `raw()` is a live command.
        unsafe { ffi::rsiscsi_cmd_bufflen(self.raw()) }
    }

    /// The data buffer.
    pub(crate) fn sg(&self) -> SgList<'_> {
        let mut count = 0u32;
        // SAFETY: by the type invariant `raw()` is a live command.
        let head = unsafe { ffi::rsiscsi_cmd_sglist(self.raw(), &mut count) };
        // SAFETY: the command's table stays mapped while the driver owns the
        // command, which `&self` outlives the returned list.
        unsafe { SgList::from_raw(head, count, self.transfer_length()) }
    }

    /// The driver's per-command state.
    pub(crate) fn priv_ref(&self) -> &T::CmdPriv {
        // SAFETY: by the type invariant the area holds an initialised
        // `T::CmdPriv`, aligned (checked in `Host::new`).
        unsafe { &*ffi::rsiscsi_cmd_priv(self.raw()).cast::<T::CmdPriv>() }
    }

    /// The driver's per-command state, mutably.
    pub(crate) fn priv_mut(&mut self) -> &mut T::CmdPriv {
        // SAFETY: as in `priv_ref`; `&mut self` is the only access since
        // exactly one `Command` exists.
        unsafe { &mut *ffi::rsiscsi_cmd_priv(self.raw()).cast::<T::CmdPriv>() }
    }

    /// Sets the residual count (bytes not transferred).
    pub(crate) fn set_residual(&mut self, resid: u32) {
        // SAFETY: by the type invariant `raw()` is a live command.
        unsafe { ffi::rsiscsi_cmd_set_resid(self.raw(), resid) }
    }

    /// Copies sense data into the command's sense buffer (truncated to
    /// `SCSI_SENSE_BUFFERSIZE`).
    pub(crate) fn set_sense(&mut self, sense: &[u8]) {
        let mut len = 0u32;
        // SAFETY: by the type invariant `raw()` is a live command.
        let p = unsafe { ffi::rsiscsi_cmd_sense(self.raw(), &mut len) };
        let n = sense.len().min(len as usize);
        // SAFETY: the sense buffer holds `len` bytes and is the driver's
        // while it owns the command; `sense` cannot overlap it.
        unsafe { core::ptr::copy_nonoverlapping(sense.as_ptr(), p, n) };
    }

    /// Sets the result: host byte and SCSI status byte.
    pub(crate) fn set_result(&mut self, host: HostByte, status: u8) {
        // SAFETY: by the type invariant `raw()` is a live command.
        unsafe { ffi::rsiscsi_cmd_set_result(self.raw(), host as u8, status) }
    }

    fn drop_priv(&mut self) {
        // SAFETY: by the type invariant the area holds an initialised
        // `T::CmdPriv`; it is not used again (the caller consumes `self`).
        unsafe { core::ptr::drop_in_place(ffi::rsiscsi_cmd_priv(self.raw()).cast::<T::CmdPriv>()) }
    }

    /// Completes the command with the result set before.
    pub(crate) fn done(mut self) {
        self.drop_priv();
        let raw = self.raw();
        core::mem::forget(self);
        // SAFETY: the command was ours (type invariant); `self` is consumed
        // so it is completed exactly once.
        unsafe { ffi::rsiscsi_cmd_done(raw) }
    }

    /// Completes with a host byte and no SCSI status.
    pub(crate) fn fail(mut self, host: HostByte) {
        self.set_result(host, 0);
        self.done()
    }

    /// Gives the command back to the SCSI error handler without completing
    /// it: the abort or reset that claimed it will report SUCCESS.
    pub(crate) fn release_to_eh(mut self) {
        self.drop_priv();
        core::mem::forget(self);
    }
}

impl<T: HostOps> Drop for Command<T> {
    fn drop(&mut self) {
        // A command dropped without a verdict fails with DID_ERROR rather
        // than leaking until the block layer's timeout.
        self.drop_priv();
        self.set_result(HostByte::Error, 0);
        // SAFETY: the command was ours (type invariant) and is dropped, so
        // this is its only completion.
        unsafe { ffi::rsiscsi_cmd_done(self.raw()) }
    }
}

/// A command as the error handler sees it: identity only, it is not the
/// driver's to complete.
///
/// # Invariants
/// `ptr` is a live `scsi_cmnd` of this host for the lifetime of the borrow.
pub(crate) struct EhCommand {
    ptr: NonNull<ScsiCmnd>,
}

impl EhCommand {
    /// The command's identity (equal to its [`Command::id`]).
    pub(crate) fn id(&self) -> CommandId {
        CommandId(self.ptr.as_ptr() as usize)
    }

    /// The LUN of the command.
    pub(crate) fn lun(&self) -> u64 {
        // SAFETY: by the type invariant `ptr` is a live command.
        unsafe { ffi::rsiscsi_cmd_lun(self.ptr.as_ptr()) }
    }
}

struct OpsTable<T: HostOps>(PhantomData<T>);

impl<T: HostOps> OpsTable<T> {
    const OPS: ffi::ScsiOps = ffi::ScsiOps {
        queuecommand: Self::queuecommand,
        eh_abort: Self::eh_abort,
        eh_device_reset: Self::eh_device_reset,
        eh_target_reset: Self::eh_target_reset,
    };

    /// # Safety
    /// `data` is the `Arc<T>` pointer given to `rsiscsi_host_alloc`, alive
    /// while the host is; `sc` is a new command of that host whose private
    /// area is `size_of::<T::CmdPriv>()` suitably aligned bytes.
    unsafe extern "C" fn queuecommand(data: *mut c_void, sc: *mut ScsiCmnd) -> c_int {
        // SAFETY: `data` is a live `T` per the function's safety contract.
        let ops = unsafe { &*data.cast::<T>() };
        // SAFETY: the private area is ours and sized for `T::CmdPriv`; the
        // midlayer zeroed it, nothing there needs dropping.
        unsafe {
            ffi::rsiscsi_cmd_priv(sc)
                .cast::<T::CmdPriv>()
                .write(T::CmdPriv::default())
        };
        // INVARIANT: a new command, its private area initialised just above.
        let cmd = Command {
            // SAFETY: the midlayer never passes a null command.
            ptr: unsafe { NonNull::new_unchecked(sc) },
            _p: PhantomData,
        };
        match ops.queue_command(cmd) {
            Ok(()) => 0,
            Err(Busy(mut cmd)) => {
                cmd.drop_priv();
                core::mem::forget(cmd);
                ffi::QC_HOST_BUSY
            }
        }
    }

    /// # Safety
    /// As `queuecommand`, with `sc` a command the error handler holds.
    unsafe extern "C" fn eh_abort(data: *mut c_void, sc: *mut ScsiCmnd) -> bool {
        // SAFETY: `data` is a live `T` per the function's safety contract.
        let ops = unsafe { &*data.cast::<T>() };
        // SAFETY: the midlayer never passes a null command.
        let ptr = unsafe { NonNull::new_unchecked(sc) };
        // INVARIANT: the error handler holds `sc` during the call.
        let cmd = EhCommand { ptr };
        ops.abort(&cmd)
    }

    /// # Safety
    /// As `eh_abort`.
    unsafe extern "C" fn eh_device_reset(data: *mut c_void, sc: *mut ScsiCmnd) -> bool {
        // SAFETY: `data` is a live `T` per the function's safety contract.
        let ops = unsafe { &*data.cast::<T>() };
        // SAFETY: the midlayer never passes a null command.
        let ptr = unsafe { NonNull::new_unchecked(sc) };
        // INVARIANT: the error handler holds `sc` during the call.
        let cmd = EhCommand { ptr };
        ops.device_reset(&cmd)
    }

    /// # Safety
    /// As `eh_abort`.
    unsafe extern "C" fn eh_target_reset(data: *mut c_void, sc: *mut ScsiCmnd) -> bool {
        // SAFETY: `data` is a live `T` per the function's safety contract.
        let ops = unsafe { &*data.cast::<T>() };
        // SAFETY: the midlayer never passes a null command.
        let ptr = unsafe { NonNull::new_unchecked(sc) };
        // INVARIANT: the error handler holds `sc` during the call.
        let cmd = EhCommand { ptr };
        ops.target_reset(&cmd)
    }
}

/// A SCSI host (`struct Scsi_Host`) driven by `T`.
///
/// # Invariants
/// `shost` is a host from `rsiscsi_host_alloc` whose callback data is
/// `Arc::as_ptr(&_data)`; this `Host` holds one reference on it. `added` says
/// whether `scsi_add_host` succeeded and `scsi_remove_host` is still due.
pub(crate) struct Host<T: HostOps> {
    shost: NonNull<ffi::ScsiHost>,
    // Keeps the callbacks' target alive until after `scsi_host_put`.
    _data: Arc<T>,
    added: bool,
}

// SAFETY: the midlayer's host functions may be called from any task context.
unsafe impl<T: HostOps> Send for Host<T> {}
// SAFETY: `&Host` only allows `scan` and `host_no`, both thread-safe in C.
unsafe impl<T: HostOps> Sync for Host<T> {}

impl<T: HostOps> Host<T> {
    const PRIV_FITS: () = assert!(
        core::mem::align_of::<T::CmdPriv>() <= 8,
        "the scsi_cmnd private area is 8-byte aligned"
    );

    /// Allocates a host whose callbacks go to `data`.
    pub(crate) fn new(data: Arc<T>, lim: &HostLimits) -> Result<Self> {
        let () = Self::PRIV_FITS;
        let c = ffi::HostLimitsC {
            can_queue: lim.can_queue,
            cmd_per_lun: lim.cmd_per_lun,
            sg_tablesize: lim.sg_tablesize,
            max_sectors: lim.max_sectors,
            max_lun: lim.max_lun,
            stable_writes: lim.stable_writes,
        };
        let size = u32::try_from(core::mem::size_of::<T::CmdPriv>()).map_err(|_| EINVAL)?;
        // SAFETY: `OPS` is a static table; `data` stays alive as long as the
        // host because the returned `Host` keeps the `Arc` until after
        // `scsi_host_put`.
        let p = unsafe {
            ffi::rsiscsi_host_alloc(
                &OpsTable::<T>::OPS,
                Arc::as_ptr(&data).cast_mut().cast(),
                size,
                &c,
            )
        };
        // INVARIANT: a fresh host holding its allocation reference.
        Ok(Host {
            shost: NonNull::new(p).ok_or(ENOMEM)?,
            _data: data,
            added: false,
        })
    }

    /// Registers the host with the midlayer (`scsi_add_host`).
    pub(crate) fn add(&mut self) -> Result {
        if self.added {
            return Err(EBUSY);
        }
        // SAFETY: by the type invariant `shost` is a live, allocated host.
        kernel::error::to_result(unsafe { ffi::rsiscsi_host_add(self.shost.as_ptr()) })?;
        // INVARIANT: added, so removal is due.
        self.added = true;
        Ok(())
    }

    /// Scans the target for LUNs (`scsi_scan_host`); may sleep.
    pub(crate) fn scan(&self) {
        if self.added {
            // SAFETY: by the type invariant `shost` is live and added.
            unsafe { ffi::rsiscsi_host_scan(self.shost.as_ptr()) }
        }
    }

    /// Removes the host's devices and unregisters it; may sleep. Commands
    /// still held by the driver must be completed first, or removal waits
    /// for them.
    pub(crate) fn remove(&mut self) {
        if self.added {
            // SAFETY: by the type invariant `shost` is live and added.
            unsafe { ffi::rsiscsi_host_remove(self.shost.as_ptr()) };
            // INVARIANT: removed, nothing more is due.
            self.added = false;
        }
    }

    /// The host number (`hostN` in sysfs).
    pub(crate) fn host_no(&self) -> u32 {
        // SAFETY: by the type invariant `shost` is live.
        unsafe { ffi::rsiscsi_host_no(self.shost.as_ptr()) }
    }
}

impl<T: HostOps> Drop for Host<T> {
    fn drop(&mut self) {
        self.remove();
        // SAFETY: by the type invariant we hold one reference; no callback
        // runs after `scsi_remove_host`, so `data` may go after this.
        unsafe { ffi::rsiscsi_host_put(self.shost.as_ptr()) };
    }
}
