// SPDX-License-Identifier: GPL-2.0
//! The receive work: reads PDUs as they arrive, without ever blocking,
//! resuming where the socket ran dry the previous time.
//!
//! BHS, AHS and header digest go into a small buffer and are decoded by the
//! core; a Data-In's payload goes straight into the command's scatterlist
//! pages at the offset the core's `DataInTracker` gives; other data segments
//! (sense, NOP-In ping data, Reject, Async Message) go into a buffer sized
//! to our MaxRecvDataSegmentLength, allocated when the connection starts.
//! Anything the target gets wrong drops the connection with the reason in
//! the log.
#![forbid(unsafe_code)]

use super::link::{ConnIo, Ctrl};
use crate::abs::scsi::HostByte;
use crate::proto::async_event::{self, AsyncAction};
use crate::proto::crc32c::{digest_from_wire, Crc32c};
use crate::proto::datain::CommandOutcome;
use crate::proto::dataout::R2t;
use crate::proto::nop::{NopError, NopInAction};
use crate::proto::pdu::{
    self, verify_header_digest, Bhs, DataDigest, PduLayout, TargetPdu, BHS_LEN, DIGEST_LEN,
};
use crate::proto::seq::{StatSnEvent, StatSnTracker};
use crate::session::port::{NotACommand, TaskCmd};
use crate::session::task::PendingSeq;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Largest AHS accepted from a target (targets send none today).
const AHS_MAX: usize = 1024;

/// Why a connection is dropped.
type Fault = &'static str;

enum Phase {
    /// Reading the 48-byte BHS.
    Bhs,
    /// Reading AHS and header digest.
    Rest,
    /// Reading a Data-In payload into the lent command's pages.
    DataSg,
    /// Reading a data segment into `buf`.
    DataBuf,
    /// Reading a data segment nobody wants (a duplicate).
    Discard,
    /// Reading pad and data digest.
    Trailer,
}

/// A Data-In payload on its way into a command.
struct SgJob {
    itt: u32,
    cmd: TaskCmd,
    start: u32,
    done: u32,
    len: u32,
    complete: Option<CommandOutcome>,
}

/// Receive state of one connection (behind `ConnIo::rx`).
pub(crate) struct RxState {
    phase: Phase,
    bhs: Bhs,
    got: usize,
    rest: [u8; AHS_MAX + DIGEST_LEN],
    layout: PduLayout,
    pdu: Option<TargetPdu>,
    buf: KVec<u8>,
    trailer: [u8; 3 + DIGEST_LEN],
    stat: StatSnTracker,
    job: Option<SgJob>,
}

impl RxState {
    /// Receive state for a connection whose next StatSN is `exp_stat_sn`.
    pub(crate) fn new(max_recv_dsl: u32, exp_stat_sn: u32) -> Result<Self> {
        let mut buf = KVec::new();
        buf.resize(max_recv_dsl.max(8192) as usize, 0, GFP_KERNEL)?;
        let mut stat = StatSnTracker::new();
        stat.start(exp_stat_sn);
        Ok(RxState {
            phase: Phase::Bhs,
            bhs: [0; BHS_LEN],
            got: 0,
            rest: [0; AHS_MAX + DIGEST_LEN],
            layout: PduLayout::from_bhs(&[0; BHS_LEN], pdu::Digests::NONE),
            pdu: None,
            buf,
            trailer: [0; 3 + DIGEST_LEN],
            stat,
            job: None,
        })
    }
}

/// What a non-blocking read gave.
enum Read {
    /// Bytes arrived.
    Some(usize),
    /// Nothing queued; wait for the next data-ready.
    Empty,
}

fn read(c: &ConnIo, buf: &mut [u8]) -> core::result::Result<Read, Fault> {
    match c.sock.recv(buf, true) {
        Ok(0) => Err("the target closed the connection"),
        Ok(n) => {
            c.up.received(n as u64);
            c.conn.stats.received(n as u64);
            Ok(Read::Some(n))
        }
        Err(e) if e == EAGAIN => Ok(Read::Empty),
        Err(_) => Err("receive failed"),
    }
}

/// Runs the receive work for `c`.
pub(crate) fn run(c: &Arc<ConnIo>) {
    let mut rx = c.rx.lock();
    loop {
        if !c.is_alive() {
            abandon(c, &mut rx);
            return;
        }
        // Ends the run without a receive that would find nothing; whatever
        // arrives later queues this work again.
        if !c.sock.readable() {
            return;
        }
        match step(c, &mut rx) {
            Ok(true) => {}
            Ok(false) => return,
            Err(fault) => {
                abandon(c, &mut rx);
                c.fail(fault);
                return;
            }
        }
    }
}

/// Gives back a command lent for a Data-In that will not finish.
fn abandon(c: &ConnIo, rx: &mut RxState) {
    if let Some(j) = rx.job.take() {
        c.up.give_back(j.itt, j.cmd);
    }
}

/// Makes progress on the current PDU; `Ok(false)` when the socket is empty.
fn step(c: &Arc<ConnIo>, rx: &mut RxState) -> core::result::Result<bool, Fault> {
    match rx.phase {
        Phase::Bhs => {
            let n = match read(c, rx.bhs.get_mut(rx.got..).ok_or("rx state")?)? {
                Read::Empty => return Ok(false),
                Read::Some(n) => n,
            };
            rx.got += n;
            if rx.got == BHS_LEN {
                rx.layout = PduLayout::from_bhs(&rx.bhs, c.digests);
                if rx.layout.ahs_len > AHS_MAX {
                    return Err("malformed PDU: AHS too long");
                }
                rx.got = 0;
                if rx.layout.header_rest_len() == 0 {
                    header(c, rx)?;
                } else {
                    rx.phase = Phase::Rest;
                }
            }
        }
        Phase::Rest => {
            let need = rx.layout.header_rest_len();
            let n = match read(c, rx.rest.get_mut(rx.got..need).ok_or("rx state")?)? {
                Read::Empty => return Ok(false),
                Read::Some(n) => n,
            };
            rx.got += n;
            if rx.got == need {
                rx.got = 0;
                header(c, rx)?;
            }
        }
        Phase::DataSg => {
            let j = rx.job.as_mut().ok_or("rx state")?;
            let r = c
                .sock
                .recv_sg(&j.cmd.sg(), j.start + j.done, j.len - j.done);
            match r {
                Ok(0) => return Err("the target closed the connection"),
                Ok(n) => {
                    c.up.received(u64::from(n));
                    c.conn.stats.received(u64::from(n));
                    j.done += n;
                }
                Err(e) if e == EAGAIN => return Ok(false),
                Err(_) => return Err("receive failed"),
            }
            if j.done == j.len {
                after_data(c, rx)?;
            }
        }
        Phase::DataBuf | Phase::Discard => {
            let len = rx.layout.data_len as usize;
            let discard = matches!(rx.phase, Phase::Discard);
            let want = if discard {
                (len - rx.got).min(rx.buf.len())
            } else {
                len - rx.got
            };
            let from = if discard { 0 } else { rx.got };
            let dst = rx.buf.get_mut(from..from + want).ok_or("rx state")?;
            match read(c, dst)? {
                Read::Empty => return Ok(false),
                Read::Some(n) => rx.got += n,
            }
            if rx.got == len {
                after_data(c, rx)?;
            }
        }
        Phase::Trailer => {
            let need = rx.layout.pad as usize + if rx.layout.data_digest { DIGEST_LEN } else { 0 };
            let n = match read(c, rx.trailer.get_mut(rx.got..need).ok_or("rx state")?)? {
                Read::Empty => return Ok(false),
                Read::Some(n) => n,
            };
            rx.got += n;
            if rx.got == need {
                rx.got = 0;
                finish(c, rx)?;
            }
        }
    }
    Ok(true)
}

/// The header is complete: check it, decode it, and decide where its data
/// segment goes.
fn header(c: &Arc<ConnIo>, rx: &mut RxState) -> core::result::Result<(), Fault> {
    let ahs_len = rx.layout.ahs_len;
    if c.digests.header {
        let wire: [u8; DIGEST_LEN] = rx
            .rest
            .get(ahs_len..ahs_len + DIGEST_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or("rx state")?;
        let ahs = rx.rest.get(..ahs_len).ok_or("rx state")?;
        verify_header_digest(&rx.bhs, ahs, wire).map_err(|_| "header digest error")?;
    }
    let p = TargetPdu::decode(&rx.bhs).map_err(|_| "malformed PDU from the target")?;
    if rx.layout.check_max_data(c.max_recv_dsl).is_err() {
        return Err("data segment longer than our MaxRecvDataSegmentLength");
    }
    c.nop.lock().on_receive(c.up.now_ms());
    match rx.stat.on_pdu(p.stat_sn()) {
        StatSnEvent::Lost => return Err("StatSN out of sequence"),
        _ => c
            .exp_stat_sn
            .store(rx.stat.exp_stat_sn(), core::sync::atomic::Ordering::Release),
    }
    let (exp, max) = p.cmd_window();
    let len = rx.layout.data_len;
    c.up.update_window(exp, max);
    if let TargetPdu::DataIn(d) = &p {
        let d = *d;
        let itt = d.itt;
        // The command may be lent to the transmit work for a moment (its
        // command PDU just left); `lend` waits for it.
        let cmd =
            c.up.lend(itt)
                .map_err(|NotACommand| "Data-In for a task without a command")?;
        let Some(mut cmd) = cmd else {
            // A task we no longer know (aborted): skip its data.
            rx.pdu = Some(p);
            rx.phase = if len > 0 { Phase::Discard } else { Phase::Bhs };
            if len == 0 {
                rx.pdu = None;
            }
            return Ok(());
        };
        let verdict = match cmd.priv_mut().as_mut() {
            Some(t) => t.datain.on_data_in(&d),
            None => return give_up(c, itt, cmd, "Data-In for an idle command"),
        };
        let verdict = match verdict {
            Ok(v) => v,
            Err(_) => return give_up(c, itt, cmd, "Data-In out of order or out of range"),
        };
        rx.pdu = Some(p);
        match verdict.deliver {
            Some(pl) if pl.length > 0 => {
                rx.job = Some(SgJob {
                    itt,
                    cmd,
                    start: pl.buffer_offset,
                    done: 0,
                    len: pl.length,
                    complete: verdict.complete,
                });
                rx.phase = Phase::DataSg;
            }
            _ => {
                rx.job = Some(SgJob {
                    itt,
                    cmd,
                    start: 0,
                    done: 0,
                    len: 0,
                    complete: verdict.complete,
                });
                if len > 0 {
                    rx.phase = Phase::Discard;
                } else {
                    finish(c, rx)?;
                }
            }
        }
        return Ok(());
    }
    rx.pdu = Some(p);
    if len == 0 {
        finish(c, rx)
    } else if len as usize > rx.buf.len() {
        Err("data segment larger than the receive buffer")
    } else {
        rx.phase = Phase::DataBuf;
        Ok(())
    }
}

fn give_up(c: &ConnIo, itt: u32, cmd: TaskCmd, fault: Fault) -> core::result::Result<(), Fault> {
    c.up.give_back(itt, cmd);
    Err(fault)
}

/// The payload is in; pad and digest follow, if any.
fn after_data(c: &Arc<ConnIo>, rx: &mut RxState) -> core::result::Result<(), Fault> {
    rx.got = 0;
    if rx.layout.pad != 0 || rx.layout.data_digest {
        rx.phase = Phase::Trailer;
        Ok(())
    } else {
        finish(c, rx)
    }
}

/// The whole PDU is in: check the data digest and act on it.
fn finish(c: &Arc<ConnIo>, rx: &mut RxState) -> core::result::Result<(), Fault> {
    rx.phase = Phase::Bhs;
    rx.got = 0;
    let pad = rx.layout.pad as usize;
    let len = rx.layout.data_len as usize;
    let digest_ok = if rx.layout.data_digest {
        let wire: [u8; DIGEST_LEN] = rx
            .trailer
            .get(pad..pad + DIGEST_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or("rx state")?;
        let pad_bytes = rx.trailer.get(..pad).ok_or("rx state")?;
        match (&rx.job, &rx.pdu) {
            (Some(j), _) if j.len > 0 => {
                let crc = j
                    .cmd
                    .sg()
                    .crc32c(!0, j.start, j.len)
                    .map_err(|_| "rx state")?;
                let mut d = Crc32c::resume(crc);
                d.update(pad_bytes);
                d.finish() == digest_from_wire(wire)
            }
            (Some(_), _) => true,
            _ => {
                let mut d = DataDigest::new();
                d.update(rx.buf.get(..len).ok_or("rx state")?);
                d.verify(pad_bytes, wire).is_ok()
            }
        }
    } else {
        true
    };
    let p = rx.pdu.take().ok_or("rx state")?;
    if let Some(j) = rx.job.take() {
        c.up.give_back(j.itt, j.cmd);
        if !digest_ok {
            return Err("data digest error on Data-In");
        }
        if let Some(outcome) = j.complete {
            c.up.complete(j.itt, outcome, &[]);
        }
        return Ok(());
    }
    if !digest_ok {
        return Err("data digest error");
    }
    if matches!(p, TargetPdu::DataIn(_)) {
        // Data of a task we no longer know, skipped.
        return Ok(());
    }
    let seg = rx.buf.get(..len).ok_or("rx state")?;
    dispatch(c, p, seg)
}

/// Acts on a complete PDU other than a Data-In.
fn dispatch(c: &Arc<ConnIo>, p: TargetPdu, seg: &[u8]) -> core::result::Result<(), Fault> {
    let up = &c.up;
    match p {
        TargetPdu::ScsiResponse(rsp) => {
            let verdict = up
                .with_task(rsp.itt, |t| t.datain.on_scsi_response(&rsp, seg))
                .map_err(|NotACommand| "SCSI Response for a task without a command")?;
            // `None`: a late response for an aborted task.
            let Some(verdict) = verdict else {
                return Ok(());
            };
            let verdict =
                verdict.map_err(|_| "SCSI Response inconsistent with the data received")?;
            if let Some(outcome) = verdict.complete {
                up.complete(rsp.itt, outcome, seg);
            }
        }
        TargetPdu::R2t(r) => {
            let queued = up
                .with_task(r.itt, |t| -> core::result::Result<bool, Fault> {
                    let (accept, _) = t
                        .datain
                        .on_r2t(r.r2t_sn)
                        .map_err(|_| "R2T for a command that is not a write")?;
                    if !accept {
                        return Ok(false);
                    }
                    let w = t
                        .write
                        .as_mut()
                        .ok_or("R2T for a command that is not a write")?;
                    let seq = w
                        .on_r2t(R2t::from(&r))
                        .map_err(|_| "R2T refused (offset, length or R2TSN)")?;
                    if !t.push_seq(PendingSeq {
                        r2tsn: Some(r.r2t_sn),
                        seq,
                    }) {
                        return Err("more R2Ts than MaxOutstandingR2T");
                    }
                    // Queued once per live ITT, so the ring never overflows.
                    let queue = !t.tx_queued;
                    t.tx_queued = true;
                    if queue {
                        c.ring.lock().push_itt(r.itt);
                    }
                    Ok(queue)
                })
                .map_err(|NotACommand| "R2T for a task without a command")?;
            if queued.transpose()?.unwrap_or(false) {
                c.kick_tx();
            }
        }
        TargetPdu::NopIn(n) => {
            let action = c
                .nop
                .lock()
                .on_nop_in(&n, up.now_ms())
                .map_err(|e| match e {
                    NopError::UnknownItt(_) => "NOP-In with an unknown ITT",
                    NopError::IttAndTttBothSet => "NOP-In with both ITT and TTT set",
                    NopError::UnsolicitedData => {
                        "NOP-In ping or window update with data (RFC 7143 11.19)"
                    }
                })?;
            match action {
                NopInAction::PingAnswered { .. } => up.release(n.itt),
                NopInAction::Reply(f) => {
                    // The target's ping has no data (checked above), so
                    // the reply carries none either.
                    c.queue_ctrl(Ctrl::Nop(f));
                }
                NopInAction::WindowUpdate => {}
            }
        }
        TargetPdu::TaskMgmtResponse(r) => up.control_answered(r.itt, r.response),
        TargetPdu::LogoutResponse(r) => {
            up.logout_answered(r.itt, r.response, r.time2wait, r.time2retain)
        }
        TargetPdu::AsyncMessage(m) => {
            let action = async_event::interpret(&m, seg, c.cid, up.now_ms())
                .map_err(|_| "malformed Async Message")?;
            match action {
                AsyncAction::ScsiEvent { .. } => {
                    pr_info!("session {}: SCSI async event\n", up.sid());
                }
                // Moved off gracefully where another connection can take
                // the load; otherwise a failure, and the session recovers.
                AsyncAction::LogoutRequested { cid, deadline } => {
                    if !up.logout_requested(cid, deadline) {
                        return Err("the target requested a logout");
                    }
                    pr_info!(
                        "session {}: connection {}: the target requested a logout; draining it\n",
                        up.sid(),
                        cid
                    );
                }
                AsyncAction::ConnectionDropped { cid, .. } if cid == c.cid => {
                    return Err("the target dropped the connection");
                }
                // Parameter1 names another connection of the session.
                AsyncAction::ConnectionDropped { cid, .. } => {
                    up.drop_connection(cid, "the target dropped the connection");
                }
                AsyncAction::SessionDropped { .. } => {
                    up.session_dropped();
                    return Err("the target dropped the session");
                }
                AsyncAction::RenegotiationRequested { .. } => {
                    pr_info!("session {}: renegotiation request ignored\n", up.sid());
                }
                AsyncAction::TasksTerminated { ack, .. } => {
                    c.queue_ctrl(Ctrl::Nop(ack));
                }
                AsyncAction::Vendor { .. } | AsyncAction::Unknown(_) => {}
            }
        }
        TargetPdu::Reject(r) => {
            pr_warn!(
                "session {} connection {}: target rejected a PDU (reason {:#x})\n",
                up.sid(),
                c.cid,
                r.reason
            );
            if let Ok(h) = pdu::reject::rejected_header(seg) {
                let itt = u32::from_be_bytes([h[16], h[17], h[18], h[19]]);
                up.fail_task(itt, HostByte::Error);
            }
        }
        TargetPdu::DataIn(_) => return Err("rx state"),
        TargetPdu::LoginResponse(_) | TargetPdu::TextResponse(_) => {
            return Err("unexpected Login or Text Response in full feature phase");
        }
    }
    Ok(())
}
