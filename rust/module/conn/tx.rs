// SPDX-License-Identifier: GPL-2.0
//! The transmit work: SCSI Command PDUs with their immediate data, Data-Out
//! for unsolicited data and R2Ts, and control PDUs (NOP-Out, TMF, Logout).
//!
//! Headers are encoded into a per-connection scratch buffer; data goes from
//! the command's scatterlist pages, spliced (no copy) unless a data digest
//! must match exactly what leaves. Every piece is sent with `MSG_MORE` and
//! the batch is pushed once the queue is empty.
#![forbid(unsafe_code)]

use super::link::{ConnIo, Ctrl};
use crate::abs::sg::SgList;
use crate::proto::crc32c::{digest_to_wire, Crc32c};
use crate::proto::logout::LogoutKind;
use crate::proto::pdu::{
    header_digest_bytes, pad_len, Bhs, Cdb, ScsiCommand, TaskAttr, BHS_LEN, DIGEST_LEN,
};
use crate::proto::task::Direction;
use crate::session::port::TaskCmd;
use crate::session::task::{PendingSeq, TxStage};
use kernel::prelude::*;
use kernel::sync::Arc;

/// Largest AHS we send: an Extended CDB AHS for a 260-byte variable CDB.
const AHS_MAX: usize = 260;

/// Per-connection transmit scratch space.
pub(crate) struct TxScratch {
    hdr: [u8; BHS_LEN + AHS_MAX + DIGEST_LEN],
    /// The PDU the socket took only part of when its send buffer filled
    /// up, with the ITT of its command (`None`: a control PDU). It goes on
    /// before anything else, or the byte stream would be corrupt.
    inflight: Option<(Option<u32>, Pdu)>,
}

impl TxScratch {
    pub(crate) const fn new() -> Self {
        TxScratch {
            hdr: [0; BHS_LEN + AHS_MAX + DIGEST_LEN],
            inflight: None,
        }
    }
}

/// One PDU on its way into the socket: the header in `TxScratch::hdr`, a
/// range of the command's data, then pad and data digest.
#[derive(Clone, Copy)]
struct Pdu {
    hdr_len: usize,
    data_off: u32,
    data_len: u32,
    tail: [u8; 3 + DIGEST_LEN],
    tail_len: usize,
    /// Bytes of the PDU the socket has taken.
    sent: usize,
}

impl Pdu {
    /// A PDU of `hdr_len` header bytes and `[off, off + len)` of `sg`,
    /// with its pad and data digest.
    fn new(
        c: &ConnIo,
        hdr_len: usize,
        sg: Option<&SgList<'_>>,
        off: u32,
        len: u32,
    ) -> Result<Self> {
        let mut p = Pdu {
            hdr_len,
            data_off: off,
            data_len: len,
            tail: [0; 3 + DIGEST_LEN],
            tail_len: 0,
            sent: 0,
        };
        if len > 0 {
            let pad = pad_len(len);
            p.tail_len = pad as usize;
            if c.digests.data {
                let sg = sg.ok_or(EINVAL)?;
                // The kernel's crc32c() covers the pages; the pad bytes
                // (zeros) follow in the core's CRC.
                let mut d = Crc32c::resume(sg.crc32c(!0, off, len)?);
                d.update(p.tail.get(..p.tail_len).ok_or(EINVAL)?);
                let wire = digest_to_wire(d.finish());
                p.tail
                    .get_mut(p.tail_len..p.tail_len + DIGEST_LEN)
                    .ok_or(EINVAL)?
                    .copy_from_slice(&wire);
                p.tail_len += DIGEST_LEN;
            }
        }
        Ok(p)
    }

    fn total(&self) -> usize {
        self.hdr_len + self.data_len as usize + self.tail_len
    }

    /// Hands the socket as much of the rest as it takes; `Ok(false)` when
    /// its send buffer is full.
    fn send(&mut self, c: &ConnIo, hdr: &[u8], sg: Option<&SgList<'_>>) -> Result<bool> {
        let data_end = self.hdr_len + self.data_len as usize;
        while self.sent < self.total() {
            let r = if self.sent < self.hdr_len {
                c.sock
                    .send_more(hdr.get(self.sent..self.hdr_len).ok_or(EINVAL)?)
            } else if self.sent < data_end {
                let done = (self.sent - self.hdr_len) as u32;
                c.sock
                    .send_sg(
                        sg.ok_or(EINVAL)?,
                        self.data_off + done,
                        self.data_len - done,
                        true,
                        // A data digest must cover exactly what leaves.
                        !c.digests.data,
                    )
                    .map(|n| n as usize)
            } else {
                let from = self.sent - data_end;
                c.sock
                    .send_more(self.tail.get(from..self.tail_len).ok_or(EINVAL)?)
            };
            match r {
                Ok(n) => {
                    self.sent += n;
                    c.up.sent(n as u64);
                    c.conn.stats.sent(n as u64);
                }
                Err(e) if e == EAGAIN => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

enum Job {
    Ctrl(Ctrl),
    Cmd(u32),
}

/// Runs the transmit work for `c`. It never waits for send buffer space:
/// when the socket is full it keeps the PDU in progress and returns, and
/// the socket's write-space callback queues it again.
pub(crate) fn run(c: &Arc<ConnIo>) {
    let mut scratch = c.tx.lock();
    let mut sent = false;
    let r = (|| -> Result<bool> {
        if let Some((job, pdu)) = scratch.inflight.take() {
            let done = match job {
                None => finish_pdu(c, &mut scratch, None, pdu, None)?,
                Some(itt) => send_command(c, &mut scratch, itt, Some(pdu))?,
            };
            if !done {
                return Ok(false);
            }
            sent = true;
        }
        loop {
            if !c.is_alive() {
                return Ok(true);
            }
            let job = {
                let mut r = c.ring.lock();
                match r.pop_ctrl() {
                    Some(x) => Some(Job::Ctrl(x)),
                    None => r.pop_itt().map(Job::Cmd),
                }
            };
            let Some(job) = job else { return Ok(true) };
            let done = match job {
                Job::Ctrl(x) => send_ctrl(c, &mut scratch, x)?,
                Job::Cmd(itt) => send_command(c, &mut scratch, itt, None)?,
            };
            sent = true;
            if !done {
                return Ok(false);
            }
        }
    })();
    if !c.is_alive() {
        c.ring.lock().clear();
        scratch.inflight = None;
        return;
    }
    match r {
        Ok(_) => {
            if sent {
                c.sock.push();
            }
        }
        Err(e) => c.fail(if e == ENOTCONN || e == EPIPE {
            "send: connection closed"
        } else {
            "send failed"
        }),
    }
}

/// Sends `pdu` on; if the socket fills up, parks it in `s.inflight` (as
/// part of the command `itt`, if any) and says `false`.
fn finish_pdu(
    c: &ConnIo,
    s: &mut TxScratch,
    sg: Option<&SgList<'_>>,
    mut pdu: Pdu,
    itt: Option<u32>,
) -> Result<bool> {
    if pdu.send(c, &s.hdr, sg)? {
        return Ok(true);
    }
    s.inflight = Some((itt, pdu));
    Ok(false)
}

/// Adds the header digest, if negotiated, after the `BHS + ahs_len`
/// header bytes in `s.hdr`; returns the header's length on the wire.
fn seal_header(c: &ConnIo, s: &mut TxScratch, ahs_len: usize) -> Result<usize> {
    let end = BHS_LEN + ahs_len;
    if !c.digests.header {
        return Ok(end);
    }
    let (bhs, rest) = s.hdr.split_at_mut(BHS_LEN);
    let bhs: &Bhs = (&*bhs).try_into().map_err(|_| EINVAL)?;
    let (ahs, dig) = rest.split_at_mut(ahs_len);
    let d = header_digest_bytes(bhs, ahs);
    dig.get_mut(..DIGEST_LEN).ok_or(EINVAL)?.copy_from_slice(&d);
    Ok(end + DIGEST_LEN)
}

fn bhs_mut(s: &mut TxScratch) -> &mut Bhs {
    let (b, _) = s
        .hdr
        .split_first_chunk_mut::<BHS_LEN>()
        .unwrap_or_else(|| unreachable!());
    b
}

fn send_ctrl(c: &ConnIo, s: &mut TxScratch, x: Ctrl) -> Result<bool> {
    let cmd_sn = c.up.immediate_cmd_sn();
    let esn = c.exp_stat_sn();
    let bhs = bhs_mut(s);
    match x {
        Ctrl::Nop(f) => f.to_pdu(cmd_sn, esn).encode(bhs),
        Ctrl::Tmf { req, lun, itt } => req.to_pdu(lun, itt, cmd_sn, esn).encode(bhs),
        Ctrl::Logout { cid, itt } => LogoutKind::CloseConnection { cid }
            .to_pdu(c.cid, c.up.erl(), itt, cmd_sn, esn)
            .map_err(|_| EINVAL)?
            .encode(bhs),
        Ctrl::LogoutForRecovery {
            cid,
            itt,
            exp_stat_sn,
        } => LogoutKind::RemoveConnectionForRecovery { cid }
            .to_pdu(c.cid, c.up.erl(), itt, cmd_sn, exp_stat_sn)
            .map_err(|_| EINVAL)?
            .encode(bhs),
    }
    .map_err(|_| EINVAL)?;
    let hdr_len = seal_header(c, s, 0)?;
    let pdu = Pdu::new(c, hdr_len, None, 0, 0)?;
    finish_pdu(c, s, None, pdu, None)
}

/// Lends the command of `itt` for transmitting (waiting if the receive side
/// has it); `None` if the task is gone. Once lent, the receive side queues
/// it again for an R2T that arrives meanwhile.
fn lend(c: &ConnIo, itt: u32) -> Option<TaskCmd> {
    let mut cmd = c.up.lend(itt).ok().flatten()?;
    if let Some(t) = cmd.priv_mut().as_mut() {
        t.tx_queued = false;
    }
    Some(cmd)
}

/// Sends what the command of `itt` has to send, starting with the rest of
/// `resume`, one of its PDUs the socket took only part of. `Ok(false)`: the
/// socket filled up (the PDU in progress is parked, the command goes back
/// to its slot meanwhile).
fn send_command(c: &Arc<ConnIo>, s: &mut TxScratch, itt: u32, resume: Option<Pdu>) -> Result<bool> {
    let Some(mut cmd) = lend(c, itt) else {
        return if resume.is_some() {
            // Part of its PDU is on the wire; the stream cannot go on.
            Err(ECANCELED)
        } else {
            Ok(true)
        };
    };
    let r = send_command_lent(c, s, itt, &mut cmd, resume);
    c.up.give_back(itt, cmd);
    r
}

fn send_command_lent(
    c: &ConnIo,
    s: &mut TxScratch,
    itt: u32,
    cmd: &mut TaskCmd,
    resume: Option<Pdu>,
) -> Result<bool> {
    if let Some(p) = resume {
        if !finish_pdu(c, s, Some(&cmd.sg()), p, Some(itt))? {
            return Ok(false);
        }
    }
    while let Some(p) = next_pdu(c, s, itt, cmd)? {
        if !finish_pdu(c, s, Some(&cmd.sg()), p, Some(itt))? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Encodes the command's next PDU into `s.hdr` and moves its transmit
/// state past it: the SCSI Command PDU, then each Data-Out of its queued
/// sequences. `None` when there is nothing more to send.
fn next_pdu(c: &ConnIo, s: &mut TxScratch, itt: u32, cmd: &mut TaskCmd) -> Result<Option<Pdu>> {
    let esn = c.exp_stat_sn();
    let Some(t) = cmd.priv_ref().as_ref() else {
        return Ok(None);
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
        let hdr_len = seal_header(c, s, ahs_len)?;
        let p = Pdu::new(c, hdr_len, Some(&cmd.sg()), 0, imm)?;
        if let Some(t) = cmd.priv_mut().as_mut() {
            t.stage = TxStage::Sent;
        }
        return Ok(Some(p));
    }
    loop {
        let Some(t) = cmd.priv_mut().as_mut() else {
            return Ok(None);
        };
        let Some(front) = t.seqs.iter_mut().flatten().next() else {
            return Ok(None);
        };
        if let Some(d) = front.seq.next() {
            d.to_pdu(lun, itt, esn)
                .encode(bhs_mut(s))
                .map_err(|_| EINVAL)?;
            let hdr_len = seal_header(c, s, 0)?;
            return Pdu::new(c, hdr_len, Some(&cmd.sg()), d.buffer_offset, d.length).map(Some);
        }
        // The sequence is all out: answer for its R2T and go to the next.
        if let Some(PendingSeq {
            r2tsn: Some(r2tsn), ..
        }) = t.pop_seq()
        {
            if let Some(w) = t.write.as_mut() {
                // Only fails for an R2T not open, which cannot be: it was
                // opened when the sequence was queued.
                let _ = w.sequence_sent(r2tsn);
            }
        }
    }
}
