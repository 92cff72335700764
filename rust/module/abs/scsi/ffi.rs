// SPDX-License-Identifier: GPL-2.0
//! The C side of the SCSI abstraction: `rust/module/shim/scsi_shim.{c,h}`.
//!
//! 7.3's bindings contain no `scsi/*` header, so the midlayer's structures
//! stay opaque here and every access goes through the shim.

use kernel::prelude::*;

/// `struct Scsi_Host`, opaque.
#[repr(C)]
pub(crate) struct ScsiHost {
    _opaque: [u8; 0],
    _pin: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

/// `struct scsi_cmnd`, opaque.
#[repr(C)]
pub(crate) struct ScsiCmnd {
    _opaque: [u8; 0],
    _pin: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

/// `struct rsiscsi_scsi_ops`.
#[repr(C)]
pub(crate) struct ScsiOps {
    pub(crate) queuecommand: unsafe extern "C" fn(*mut c_void, *mut ScsiCmnd) -> c_int,
    pub(crate) eh_abort: unsafe extern "C" fn(*mut c_void, *mut ScsiCmnd) -> bool,
    pub(crate) eh_device_reset: unsafe extern "C" fn(*mut c_void, *mut ScsiCmnd) -> bool,
    pub(crate) eh_target_reset: unsafe extern "C" fn(*mut c_void, *mut ScsiCmnd) -> bool,
}

/// `struct rsiscsi_host_limits`.
#[repr(C)]
pub(crate) struct HostLimitsC {
    pub(crate) can_queue: u32,
    pub(crate) cmd_per_lun: u32,
    pub(crate) sg_tablesize: u32,
    pub(crate) max_sectors: u32,
    pub(crate) max_lun: u64,
    pub(crate) stable_writes: bool,
}

/// `RSISCSI_QC_HOST_BUSY` (`SCSI_MLQUEUE_HOST_BUSY`).
pub(crate) const QC_HOST_BUSY: c_int = 0x1055;

extern "C" {
    pub(crate) fn rsiscsi_host_alloc(
        ops: *const ScsiOps,
        data: *mut c_void,
        cmd_size: c_uint,
        lim: *const HostLimitsC,
    ) -> *mut ScsiHost;
    pub(crate) fn rsiscsi_host_add(shost: *mut ScsiHost) -> c_int;
    pub(crate) fn rsiscsi_host_scan(shost: *mut ScsiHost);
    pub(crate) fn rsiscsi_host_remove(shost: *mut ScsiHost);
    pub(crate) fn rsiscsi_host_put(shost: *mut ScsiHost);
    pub(crate) fn rsiscsi_host_no(shost: *mut ScsiHost) -> c_uint;

    pub(crate) fn rsiscsi_cmd_priv(sc: *mut ScsiCmnd) -> *mut c_void;
    pub(crate) fn rsiscsi_cmd_cdb(sc: *mut ScsiCmnd, len: *mut u32) -> *const u8;
    pub(crate) fn rsiscsi_cmd_lun(sc: *mut ScsiCmnd) -> u64;
    pub(crate) fn rsiscsi_cmd_direction(sc: *mut ScsiCmnd) -> c_int;
    pub(crate) fn rsiscsi_cmd_bufflen(sc: *mut ScsiCmnd) -> u32;
    pub(crate) fn rsiscsi_cmd_sglist(
        sc: *mut ScsiCmnd,
        count: *mut u32,
    ) -> *mut kernel::bindings::scatterlist;
    pub(crate) fn rsiscsi_cmd_set_resid(sc: *mut ScsiCmnd, resid: u32);
    pub(crate) fn rsiscsi_cmd_sense(sc: *mut ScsiCmnd, len: *mut u32) -> *mut u8;
    pub(crate) fn rsiscsi_cmd_set_result(sc: *mut ScsiCmnd, host_byte: u8, status: u8);
    pub(crate) fn rsiscsi_cmd_done(sc: *mut ScsiCmnd);
}
