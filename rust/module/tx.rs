// SPDX-License-Identifier: GPL-2.0
//! The transmit work: SCSI Command PDUs with their immediate data, Data-Out
//! for unsolicited data and R2Ts, and control PDUs (NOP-Out, TMF, Logout).
//!
//! Headers are encoded into a per-connection scratch buffer; data goes from
//! the command's scatterlist pages, spliced (no copy) unless a data digest
//! must match exactly what leaves. Every piece is sent with `MSG_MORE` and
//! the batch is pushed once the queue is empty.
#![forbid(unsafe_code)]

use crate::abs::scsi::{Command, HostByte};
use crate::abs::sg::SgList;
use crate::ffp::{IoInner, SessionIo};
use crate::io::TxStage;
use crate::link::{ConnIo, Ctrl};
use crate::proto::crc32c::digest_to_wire;
use crate::proto::pdu::{
    header_digest_bytes, pad_len, Bhs, Cdb, ScsiCommand, TaskAttr, BHS_LEN, DIGEST_LEN,
};
use crate::proto::task::Direction;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Largest AHS we send: an Extended CDB AHS for a 260-byte variable CDB.
const AHS_MAX: usize = 260;

/// Per-connection transmit scratch space.
pub(crate) struct TxScratch {
    hdr: [u8; BHS_LEN + AHS_MAX + DIGEST_LEN],
}

impl TxScratch {
    pub(crate) const fn new() -> Self {
        TxScratch {
            hdr: [0; BHS_LEN + AHS_MAX + DIGEST_LEN],
        }
    }
}

enum Job {
    Ctrl(Ctrl),
    Cmd(u32),
}

/// Runs the transmit work for `c`.
pub(crate) fn run(c: &Arc<ConnIo>) {
    let mut scratch = c.tx.lock();
    let mut sent = false;
    loop {
        if !c.is_alive() {
            c.ring.lock().clear();
            return;
        }
        let job = {
            let mut r = c.ring.lock();
            match r.pop_ctrl() {
                Some(x) => Some(Job::Ctrl(x)),
                None => r.pop_itt().map(Job::Cmd),
            }
        };
        let Some(job) = job else { break };
        let r = match job {
            Job::Ctrl(x) => send_ctrl(c, &mut scratch, x),
            Job::Cmd(itt) => send_command(c, &mut scratch, itt),
        };
        if let Err(e) = r {
            c.fail(if e == ENOTCONN || e == EPIPE {
                "send: connection closed"
            } else {
                "send failed"
            });
            return;
        }
        sent = true;
    }
    if sent {
        c.sock.push();
    }
}

/// Sends header bytes `[0, BHS + ahs_len)` of `s.hdr`, plus the header
/// digest if negotiated.
fn send_header(c: &ConnIo, s: &mut TxScratch, ahs_len: usize) -> Result {
    let end = BHS_LEN + ahs_len;
    let digest = if c.digests.header { DIGEST_LEN } else { 0 };
    c.io.sess.stats.sent((end + digest) as u64);
    if c.digests.header {
        let (bhs, rest) = s.hdr.split_at_mut(BHS_LEN);
        let bhs: &Bhs = (&*bhs).try_into().map_err(|_| EINVAL)?;
        let (ahs, dig) = rest.split_at_mut(ahs_len);
        let d = header_digest_bytes(bhs, ahs);
        dig.get_mut(..DIGEST_LEN).ok_or(EINVAL)?.copy_from_slice(&d);
        c.sock
            .send_more(s.hdr.get(..end + DIGEST_LEN).ok_or(EINVAL)?)
    } else {
        c.sock.send_more(s.hdr.get(..end).ok_or(EINVAL)?)
    }
}

fn bhs_mut(s: &mut TxScratch) -> &mut Bhs {
    let (b, _) = s
        .hdr
        .split_first_chunk_mut::<BHS_LEN>()
        .unwrap_or_else(|| unreachable!());
    b
}

/// CRC32C register after `n` zero pad bytes.
fn crc_zeros(mut crc: u32, n: u32) -> u32 {
    for _ in 0..n {
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ crate::proto::crc32c::POLY_REFLECTED
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// Sends `[off, off + len)` of `sg` as a data segment: payload, pad, digest.
fn send_data(c: &ConnIo, sg: &SgList<'_>, off: u32, len: u32) -> Result {
    if len == 0 {
        return Ok(());
    }
    c.sock.send_sg(sg, off, len, true, !c.digests.data)?;
    let pad = pad_len(len);
    let digest = if c.digests.data { DIGEST_LEN as u32 } else { 0 };
    c.io.sess.stats.sent(u64::from(len + pad + digest));
    let mut tail = [0u8; 3 + DIGEST_LEN];
    let mut n = pad as usize;
    if c.digests.data {
        let crc = crc_zeros(sg.crc32c(!0, off, len)?, pad);
        tail.get_mut(n..n + DIGEST_LEN)
            .ok_or(EINVAL)?
            .copy_from_slice(&digest_to_wire(!crc));
        n += DIGEST_LEN;
    }
    if n > 0 {
        c.sock.send_more(tail.get(..n).ok_or(EINVAL)?)?;
    }
    Ok(())
}

fn send_ctrl(c: &ConnIo, s: &mut TxScratch, x: Ctrl) -> Result {
    let cmd_sn = c.io.inner.lock().window.immediate_cmd_sn();
    let esn = c.exp_stat_sn();
    let bhs = bhs_mut(s);
    match x {
        Ctrl::Nop(f) => f.to_pdu(cmd_sn, esn).encode(bhs),
        Ctrl::Tmf { req, lun, itt } => req.to_pdu(lun, itt, cmd_sn, esn).encode(bhs),
    }
    .map_err(|_| EINVAL)?;
    send_header(c, s, 0)
}

/// Lends the command of `itt` out of its slot (waiting if the receive side
/// has it); `None` if the task is gone.
fn lend(io: &SessionIo, itt: u32) -> Option<Command<SessionIo>> {
    let mut g = io.inner.lock();
    loop {
        g.tasks.get(itt)?;
        let slot = g.slots.get_mut(IoInner::slot_index(itt))?;
        if !slot.lent {
            let mut cmd = slot.cmd.take()?;
            slot.lent = true;
            if let Some(t) = cmd.priv_mut().as_mut() {
                t.tx_queued = false;
            }
            return Some(cmd);
        }
        io.returned.wait(&mut g);
    }
}

fn send_command(c: &Arc<ConnIo>, s: &mut TxScratch, itt: u32) -> Result {
    let io = &c.io;
    let Some(mut cmd) = lend(io, itt) else {
        return Ok(());
    };
    let r = send_command_lent(c, s, itt, &mut cmd);
    let back = {
        let mut g = io.inner.lock();
        io.give_back(&mut g, itt, cmd)
    };
    if let Some(cmd) = back {
        io.fail_cmd(cmd, HostByte::TransportDisrupted);
    }
    r
}

fn send_command_lent(
    c: &ConnIo,
    s: &mut TxScratch,
    itt: u32,
    cmd: &mut Command<SessionIo>,
) -> Result {
    let esn = c.exp_stat_sn();
    let Some(t) = cmd.priv_ref().as_ref() else {
        return Ok(());
    };
    let (stage, lun, dir, cmd_sn, imm, fin) = (
        t.stage,
        t.lun,
        t.dir,
        t.cmd_sn,
        t.immediate_length(),
        t.command_final(),
    );
    if stage == TxStage::Command {
        let pdu = ScsiCommand {
            immediate: false,
            final_flag: fin,
            read: dir == Direction::Read,
            write: dir == Direction::Write,
            attr: TaskAttr::Simple,
            data_segment_length: imm,
            lun,
            itt,
            expected_data_transfer_length: cmd.transfer_length(),
            cmd_sn,
            exp_stat_sn: esn,
            cdb: Cdb::new(cmd.cdb()).map_err(|_| EINVAL)?,
            bidi_read_length: None,
        };
        let (bhs, rest) = s.hdr.split_at_mut(BHS_LEN);
        let bhs: &mut Bhs = bhs.try_into().map_err(|_| EINVAL)?;
        let ahs_len = pdu
            .encode(bhs, rest.get_mut(..AHS_MAX).ok_or(EINVAL)?)
            .map_err(|_| EINVAL)?;
        send_header(c, s, ahs_len)?;
        send_data(c, &cmd.sg(), 0, imm)?;
        if let Some(t) = cmd.priv_mut().as_mut() {
            t.stage = TxStage::Sent;
        }
    }
    loop {
        let Some(p) = cmd.priv_mut().as_mut().and_then(|t| t.pop_seq()) else {
            break;
        };
        for d in p.seq {
            d.to_pdu(lun, itt, c.exp_stat_sn())
                .encode(bhs_mut(s))
                .map_err(|_| EINVAL)?;
            send_header(c, s, 0)?;
            send_data(c, &cmd.sg(), d.buffer_offset, d.length)?;
        }
        if let (Some(r2tsn), Some(t)) = (p.r2tsn, cmd.priv_mut().as_mut()) {
            if let Some(w) = t.write.as_mut() {
                // Only fails for an R2T not open, which cannot be: it was
                // opened when the sequence was queued.
                let _ = w.sequence_sent(r2tsn);
            }
        }
    }
    Ok(())
}
