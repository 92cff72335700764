// SPDX-License-Identifier: GPL-2.0
//! Per-command protocol state, kept in the SCSI command's private area (the
//! host template's `cmd_size`), so an I/O allocates nothing: what the core
//! needs to place Data-In, answer R2Ts and judge the SCSI Response.
#![forbid(unsafe_code)]

use crate::proto::datain::{self, DataInParams, DataInTracker};
use crate::proto::dataout::{DataOutSequence, WriteParams, WriteTransfer};
use crate::proto::pdu::Lun;
use crate::proto::task::Direction;

/// Task table capacity: the host's `can_queue`, with room above LIO's
/// default CmdSN window (64) for TMFs and pings, which take ITTs too.
pub(crate) const TASKS: usize = 128;

/// R2Ts a write may have open at once (our MaxOutstandingR2T ceiling; LIO
/// uses 1).
pub(crate) const MAX_R2T: usize = 4;

/// Where a command is on the transmit side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxStage {
    /// The SCSI Command PDU (with immediate data) is still to be sent.
    Command,
    /// The command went out; only solicited Data-Out may follow.
    Sent,
}

/// One queued Data-Out sequence: `r2tsn` is `None` for the unsolicited one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingSeq {
    pub(crate) r2tsn: Option<u32>,
    pub(crate) seq: DataOutSequence,
}

/// The state of one live command.
pub(crate) struct TaskIo {
    /// CmdSN it carries.
    pub(crate) cmd_sn: u32,
    /// iSCSI LUN field.
    pub(crate) lun: Lun,
    /// R/W bits.
    pub(crate) dir: Direction,
    /// Write plan (writes only).
    pub(crate) write: Option<WriteTransfer<MAX_R2T>>,
    /// Data-In / R2T numbering and completion.
    pub(crate) datain: DataInTracker,
    /// Transmit progress.
    pub(crate) stage: TxStage,
    /// Data-Out sequences waiting for the transmit work.
    pub(crate) seqs: [Option<PendingSeq>; MAX_R2T + 1],
    /// The ITT is in its connection's transmit queue.
    pub(crate) tx_queued: bool,
    /// CID of the connection carrying it (the policy's slot).
    pub(crate) cid: u16,
    /// Expected transfer length, as the policy and counters account it.
    pub(crate) bytes: u32,
    /// Issue time, ns on the session clock (latency).
    pub(crate) issued_ns: u64,
    /// Taken off the policy's and counters' outstanding figures already.
    pub(crate) retired: bool,
}

/// Where and when a command was issued.
#[derive(Clone, Copy)]
pub(crate) struct Issue {
    /// CID of the connection chosen for it.
    pub(crate) cid: u16,
    /// ns on the session clock.
    pub(crate) now_ns: u64,
}

impl TaskIo {
    /// State for a new command.
    pub(crate) fn new(
        issue: Issue,
        cmd_sn: u32,
        lun: Lun,
        dir: Direction,
        length: u32,
        wp: WriteParams,
        dp: DataInParams,
    ) -> Option<Self> {
        let (write, ddir) = match dir {
            Direction::Write => (
                Some(WriteTransfer::new(wp, length).ok()?),
                datain::Direction::Write,
            ),
            Direction::Read => (None, datain::Direction::Read),
            Direction::None => (None, datain::Direction::None),
            Direction::Bidirectional => return None,
        };
        let mut t = TaskIo {
            cmd_sn,
            lun,
            dir,
            write,
            datain: DataInTracker::new(dp, ddir, length),
            stage: TxStage::Command,
            seqs: [None; MAX_R2T + 1],
            tx_queued: false,
            cid: issue.cid,
            bytes: length,
            issued_ns: issue.now_ns,
            retired: false,
        };
        if let Some(w) = &t.write {
            let seq = w.unsolicited_sequence();
            if seq.remaining() > 0 {
                t.push_seq(PendingSeq { r2tsn: None, seq });
            }
        }
        Some(t)
    }

    /// The same command from the start, on connection `cid`: the state a
    /// resend with its original CmdSN needs (connection recovery retries a
    /// command the target never received, RFC 7143 §7.2.1). Issue time and
    /// accounting stay; `None` as for [`TaskIo::new`].
    pub(crate) fn restarted(&self, cid: u16, wp: WriteParams, dp: DataInParams) -> Option<Self> {
        let issue = Issue {
            cid,
            now_ns: self.issued_ns,
        };
        let mut t = TaskIo::new(issue, self.cmd_sn, self.lun, self.dir, self.bytes, wp, dp)?;
        t.retired = self.retired;
        Some(t)
    }

    /// Bytes of immediate data in the SCSI Command PDU.
    pub(crate) fn immediate_length(&self) -> u32 {
        self.write.as_ref().map_or(0, |w| w.immediate_length())
    }

    /// F bit of the SCSI Command PDU.
    pub(crate) fn command_final(&self) -> bool {
        self.write.as_ref().is_none_or(|w| w.command_final_flag())
    }

    /// Queues a Data-Out sequence; `false` if all slots are taken (more
    /// R2Ts than MaxOutstandingR2T allows, which `on_r2t` already refuses).
    pub(crate) fn push_seq(&mut self, p: PendingSeq) -> bool {
        match self.seqs.iter_mut().find(|s| s.is_none()) {
            Some(s) => {
                *s = Some(p);
                true
            }
            None => false,
        }
    }

    /// Takes the oldest queued sequence.
    pub(crate) fn pop_seq(&mut self) -> Option<PendingSeq> {
        let i = self.seqs.iter().position(Option::is_some)?;
        let first = self.seqs.get_mut(i)?.take();
        // Keep FIFO order: unsolicited data before the first R2T's answer.
        if let Some(tail) = self.seqs.get_mut(i..) {
            tail.rotate_left(1);
        }
        first
    }
}
