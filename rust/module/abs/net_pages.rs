// SPDX-License-Identifier: GPL-2.0
//! Page-level transfers on a [`TcpSocket`]: a command's data goes out of its
//! scatterlist pages without a copy (`MSG_SPLICE_PAGES` over a `bio_vec`
//! iterator) and comes in straight into them.
//!
//! The shim (`rust/module/shim/sg_shim.c`) builds the `bio_vec`s on its
//! stack, so nothing is allocated per transfer.

use super::net::TcpSocket;
use super::sg::SgList;
use kernel::bindings;
use kernel::prelude::*;

extern "C" {
    fn rsiscsi_sock_send_sg(
        sock: *mut c_void,
        sg: *mut bindings::scatterlist,
        skip: u32,
        len: u32,
        more: bool,
        splice: bool,
    ) -> c_int;
    fn rsiscsi_sock_send_buf(sock: *mut c_void, buf: *const c_void, len: u32) -> c_int;
    fn rsiscsi_sock_push(sock: *mut c_void);
    fn rsiscsi_sock_recv_sg(
        sock: *mut c_void,
        sg: *mut bindings::scatterlist,
        skip: u32,
        len: u32,
    ) -> c_int;
}

impl TcpSocket {
    /// Queues bytes `[skip, skip + len)` of `sg` without waiting for send
    /// buffer space; returns how many were queued (fewer than `len` when the
    /// buffer filled up; `EAGAIN` when none could be). The socket's
    /// write-space callback says when to go on. With `splice` the pages are
    /// referenced by the socket instead of copied (pages that may not be,
    /// such as slab memory, are copied anyway); they hold a page reference
    /// each, and the caller keeps their contents unchanged until the
    /// command completes, which needs the target to have received them.
    /// `more` sets `MSG_MORE`: another piece of the same PDU or another PDU
    /// follows right away.
    pub(crate) fn send_sg(
        &self,
        sg: &SgList<'_>,
        skip: u32,
        len: u32,
        more: bool,
        splice: bool,
    ) -> Result<u32> {
        sg.check_range(skip, len)?;
        if len == 0 {
            return Ok(0);
        }
        // SAFETY: the socket is valid (type invariant of `TcpSocket`); the
        // list's entries and pages are valid for the borrow and the range
        // lies inside it.
        let r = unsafe {
            rsiscsi_sock_send_sg(self.raw().cast(), sg.as_raw(), skip, len, more, splice)
        };
        if r < 0 {
            return Err(Error::from_errno(r));
        }
        Ok(r as u32)
    }

    /// Queues `buf` (a PDU header, padding, a digest) with `MSG_MORE`
    /// without waiting: it stays queued until a full segment or
    /// [`Self::push`]. Returns how many bytes were queued (`EAGAIN`: none).
    pub(crate) fn send_more(&self, buf: &[u8]) -> Result<usize> {
        let len = u32::try_from(buf.len()).map_err(|_| EINVAL)?;
        // SAFETY: the socket is valid and `buf` is readable for `len` bytes.
        let r = unsafe { rsiscsi_sock_send_buf(self.raw().cast(), buf.as_ptr().cast(), len) };
        if r < 0 {
            return Err(Error::from_errno(r));
        }
        Ok(r as usize)
    }

    /// Sends whatever `MSG_MORE` held back: the end of a batch of PDUs.
    pub(crate) fn push(&self) {
        // SAFETY: the socket is valid.
        unsafe { rsiscsi_sock_push(self.raw().cast()) }
    }

    /// Receives up to `len` bytes into `sg` at byte `skip` without waiting;
    /// returns the count (0: the peer closed; `EAGAIN`: nothing queued).
    pub(crate) fn recv_sg(&self, sg: &SgList<'_>, skip: u32, len: u32) -> Result<u32> {
        sg.check_range(skip, len)?;
        if len == 0 {
            return Ok(0);
        }
        // SAFETY: the socket is valid; the range lies inside the list, whose
        // pages are writable by the command's owner for the borrow (the
        // caller holds the `Command`, so nobody else touches them).
        let r = unsafe { rsiscsi_sock_recv_sg(self.raw().cast(), sg.as_raw(), skip, len) };
        if r < 0 {
            return Err(Error::from_errno(r));
        }
        Ok(r as u32)
    }
}
