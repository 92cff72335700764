// SPDX-License-Identifier: GPL-2.0
//! Per-task tracking of what the target sends back for a command: Data-In
//! PDUs (RFC 7143 §11.7), the R2TSN numbering that shares their sequence
//! space, and the SCSI Response (§11.4), ending in one [`CommandOutcome`].
//!
//! DataSN order is enforced (§11.7.5). A gap is fatal at ErrorRecoveryLevel 0;
//! at ErrorRecoveryLevel ≥ 1 it is answered with one Data/R2T SNACK
//! (§11.16) asking for everything from the first missing DataSN
//! (RunLength 0), and PDUs beyond the gap are dropped until the
//! retransmission arrives. That "go back" recovery needs no per-PDU memory,
//! which is what keeps this state a few words in size without allocation;
//! it costs resending PDUs that did arrive, acceptable for a path that only
//! runs after a digest error.

use super::keys::params::NegotiatedParams;
use super::pdu::{self, Lun, Residual, SnackType, RESERVED_TAG};

pub use super::pdu::scsi_response::{RESPONSE_COMPLETED, RESPONSE_TARGET_FAILURE};

/// SCSI status GOOD (SAM).
pub const STATUS_GOOD: u8 = 0x00;
/// SCSI status CHECK CONDITION (SAM): the response carries sense data.
pub const STATUS_CHECK_CONDITION: u8 = 0x02;

/// Which data phases a command has (the R and W bits of the SCSI Command
/// PDU, RFC 7143 §11.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Neither R nor W.
    None,
    /// R: Data-In only.
    Read,
    /// W: Data-Out only; the target numbers its R2Ts from 0.
    Write,
    /// R and W: R2Ts and Data-In share one DataSN/R2TSN sequence
    /// (§11.7.5, §11.8.3).
    Bidirectional,
}

/// What [`DataInTracker`] does with a Data-In sequence longer than
/// MaxBurstLength (RFC 7143 §13.13 caps each one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BurstLimit {
    /// Accept the data (the default). tgt sends a whole read as one Data-In
    /// sequence whatever MaxBurstLength says, and open-iscsi accepts it;
    /// refusing data that already arrived would fail the command (at ERL 0
    /// the session) without protecting anything, since every PDU is still
    /// checked against MaxRecvDataSegmentLength and must land inside the
    /// read buffer.
    #[default]
    Tolerate,
    /// Fail such a PDU with [`DataInError::SequenceExceedsMaxBurst`], for
    /// checking a target's conformance.
    Enforce,
}

/// Session parameters that constrain Data-In (RFC 7143 §13.13, §13.18–§13.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataInParams {
    /// ErrorRecoveryLevel.
    pub error_recovery_level: u8,
    /// DataPDUInOrder: PDUs of one sequence at increasing offsets.
    pub data_pdu_in_order: bool,
    /// DataSequenceInOrder: sequences at increasing offsets.
    pub data_sequence_in_order: bool,
    /// MaxBurstLength: the cap on one Data-In sequence, enforced only with
    /// [`BurstLimit::Enforce`].
    pub max_burst_length: u32,
    /// Our declared MaxRecvDataSegmentLength on the task's connection: the
    /// cap on one Data-In PDU (§13.12).
    pub max_recv_data_segment_length: u32,
    /// Whether a sequence beyond `max_burst_length` is an error.
    pub burst_limit: BurstLimit,
}

impl DataInParams {
    /// RFC 7143 defaults: ERL 0, both InOrder keys Yes, MaxBurstLength 262144,
    /// with over-long sequences tolerated ([`BurstLimit::Tolerate`]).
    pub const RFC_DEFAULTS: DataInParams = DataInParams {
        error_recovery_level: 0,
        data_pdu_in_order: true,
        data_sequence_in_order: true,
        max_burst_length: 262_144,
        max_recv_data_segment_length: 8192,
        burst_limit: BurstLimit::Tolerate,
    };

    /// The parameters a login agreed, for a task on that connection;
    /// over-long sequences are tolerated ([`BurstLimit::Tolerate`]).
    pub fn from_negotiated(n: &NegotiatedParams) -> Self {
        DataInParams {
            error_recovery_level: n.session.error_recovery_level,
            data_pdu_in_order: n.session.data_pdu_in_order,
            data_sequence_in_order: n.session.data_sequence_in_order,
            max_burst_length: n.session.max_burst_length,
            max_recv_data_segment_length: n.connection.max_recv_data_segment_length,
            burst_limit: BurstLimit::Tolerate,
        }
    }
}

/// Why a Data-In, R2T number or SCSI Response was refused. At
/// ErrorRecoveryLevel 0 any of these means session recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataInError {
    /// Data-In for a command with no read phase.
    UnexpectedDataIn,
    /// R2T for a command with no write phase.
    UnexpectedR2t,
    /// DataSN/R2TSN out of order where recovery is not available (ERL 0).
    SnMismatch {
        /// The number expected next.
        expected: u32,
        /// The number received.
        received: u32,
    },
    /// A Data-In data segment longer than our MaxRecvDataSegmentLength.
    SegmentTooLong,
    /// BufferOffset + length beyond the expected read length.
    OffsetOutOfRange,
    /// Offset not where DataPDUInOrder/DataSequenceInOrder require.
    OffsetOutOfOrder {
        /// Offset the PDU had to start at.
        expected: u32,
        /// Offset it carried.
        received: u32,
    },
    /// One Data-In sequence carried more than MaxBurstLength (only with
    /// [`BurstLimit::Enforce`]).
    SequenceExceedsMaxBurst,
    /// S bit without F bit (§11.7.1: status only in the final PDU).
    StatusWithoutFinal,
    /// Bidirectional residual flags on a command that is not bidirectional.
    UnexpectedBidiResidual,
    /// The sense data length prefix is truncated or runs past the segment.
    MalformedSense,
    /// The SCSI Response reports fewer Data-In/R2T PDUs than arrived.
    ExpDataSnBehind {
        /// PDUs this side counted.
        received: u32,
        /// The ExpDataSN of the response.
        exp_data_sn: u32,
    },
    /// Status arrived for a command that already has its status.
    AlreadyComplete,
    /// GOOD status for a read that delivered fewer bytes than the expected
    /// length minus the underflow residual (a SCSI Response at ERL 0, or a
    /// Data-In with the S bit).
    DataMissing {
        /// Bytes placed.
        received: u32,
        /// Bytes the response implies were sent.
        expected: u32,
    },
}

/// A SNACK Request the caller should send for this task (RFC 7143 §11.16),
/// on the connection the task is allegiant to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnackRequest {
    /// SNACK type: [`SnackType::DataR2t`] or [`SnackType::DataAck`].
    pub kind: SnackType,
    /// LUN: echoed from the Data-In for a DataACK, zero otherwise.
    pub lun: Lun,
    /// Target Transfer Tag: the TTT of the Data-In with the A bit for
    /// DataACK, 0xffffffff otherwise.
    pub ttt: u32,
    /// BegRun: first DataSN/R2TSN asked for, or for DataACK the next DataSN
    /// expected (everything below it is acknowledged).
    pub beg_run: u32,
    /// RunLength; 0 means "BegRun and everything after it".
    pub run_length: u32,
}

impl SnackRequest {
    /// The SNACK Request PDU for the task with `itt`, carrying the
    /// connection's current `exp_stat_sn`.
    pub fn to_pdu(&self, itt: u32, exp_stat_sn: u32) -> pdu::SnackRequest {
        pdu::SnackRequest {
            snack_type: self.kind,
            lun: self.lun,
            itt,
            ttt_or_snack_tag: self.ttt,
            exp_stat_sn,
            beg_run: self.beg_run,
            run_length: self.run_length,
        }
    }
}

/// Where a received Data-In segment belongs in the command's read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Byte offset in the read buffer.
    pub buffer_offset: u32,
    /// Bytes to copy from the data segment.
    pub length: u32,
}

/// Location of the sense data inside a SCSI Response data segment
/// (§11.4.7: a 2-byte big-endian SenseLength, the sense bytes, then any
/// response data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenseRange {
    /// Offset of the first sense byte in the data segment (always 2).
    pub offset: usize,
    /// SenseLength.
    pub length: u16,
}

impl SenseRange {
    /// The sense bytes of `segment`, the data segment this range came from.
    pub fn slice<'a>(&self, segment: &'a [u8]) -> Option<&'a [u8]> {
        segment.get(self.offset..self.offset.checked_add(usize::from(self.length))?)
    }
}

/// Find the sense data in a SCSI Response data segment (§11.4.7). An empty
/// segment or a SenseLength of 0 means no sense data.
pub fn parse_sense(segment: &[u8]) -> Result<Option<SenseRange>, DataInError> {
    let (sense, _response_data) =
        pdu::scsi_response::split_sense(segment).map_err(|_| DataInError::MalformedSense)?;
    match u16::try_from(sense.len()) {
        Ok(0) => Ok(None),
        Ok(length) => Ok(Some(SenseRange { offset: 2, length })),
        Err(_) => Err(DataInError::MalformedSense),
    }
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandOutcome {
    /// iSCSI Response code; anything but [`RESPONSE_COMPLETED`] means the
    /// command failed in the iSCSI layer and `status` is meaningless.
    pub response: u8,
    /// SCSI status byte.
    pub status: u8,
    /// Sense data in the SCSI Response data segment, if any.
    pub sense: Option<SenseRange>,
    /// O/U residual: of the read for read commands, of the write for write
    /// and bidirectional commands (§11.4.5).
    pub residual: Residual,
    /// o/u Bidirectional Read Residual (bidirectional commands only).
    pub bidi_read_residual: Residual,
    /// Data-In payload bytes accepted for this command.
    pub bytes_received: u32,
}

/// What to do after a PDU was accepted. All fields may be empty, e.g. for a
/// duplicate dropped during recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataInVerdict {
    /// Copy the data segment here (Data-In only).
    pub deliver: Option<Placement>,
    /// Send this SNACK.
    pub snack: Option<SnackRequest>,
    /// The command is finished.
    pub complete: Option<CommandOutcome>,
}

/// What a SCSI Response that arrived early is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Await {
    /// All numbers below this ExpDataSN.
    DataSn(u32),
    /// No open gap and at least this many bytes placed (ExpDataSN was 0).
    Bytes(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SnOrder {
    Next,
    Old,
    Ahead,
}

/// Per-task Data-In/R2T sequencing and completion state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataInTracker {
    params: DataInParams,
    direction: Direction,
    read_length: u32,
    next_sn: u32,
    next_offset: u32,
    sequence_bytes: u32,
    bytes_received: u32,
    snack_pending: bool,
    // A SCSI Response that says PDUs are still missing waits here until the
    // retransmitted ones arrive.
    pending: Option<(CommandOutcome, Await)>,
    complete: bool,
}

impl DataInTracker {
    /// Track a new command. `read_length` is the Expected Data Transfer
    /// Length for reads, or the Bidirectional Read Expected Data Transfer
    /// Length (AHS, §11.3.5) for bidirectional commands; ignored otherwise.
    pub fn new(params: DataInParams, direction: Direction, read_length: u32) -> Self {
        let read_length = match direction {
            Direction::Read | Direction::Bidirectional => read_length,
            Direction::None | Direction::Write => 0,
        };
        Self {
            params,
            direction,
            read_length,
            next_sn: 0,
            next_offset: 0,
            sequence_bytes: 0,
            bytes_received: 0,
            snack_pending: false,
            pending: None,
            complete: false,
        }
    }

    /// The next DataSN (or R2TSN) expected: the ExpDataSN of a TASK
    /// REASSIGN for a read or bidirectional command (§11.5.6), and BegRun of
    /// a DataACK.
    pub fn next_data_sn(&self) -> u32 {
        self.next_sn
    }

    /// Data-In payload bytes accepted so far.
    pub fn bytes_received(&self) -> u32 {
        self.bytes_received
    }

    /// Whether the command has its final outcome.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Whether a Data/R2T SNACK is outstanding.
    pub fn snack_pending(&self) -> bool {
        self.snack_pending
    }

    /// The SNACK to (re)send while recovery is pending, e.g. when the
    /// caller's SNACK retry timer fires.
    pub fn pending_snack(&self) -> Option<SnackRequest> {
        self.snack_pending.then_some(SnackRequest {
            kind: SnackType::DataR2t,
            lun: Lun::ZERO,
            ttt: RESERVED_TAG,
            beg_run: self.next_sn,
            run_length: 0,
        })
    }

    /// The task moves to another connection with TASK REASSIGN; returns the
    /// ExpDataSN to send. The target resends from there (§7.2.2), so any
    /// SNACK in progress is void.
    pub fn prepare_reassign(&mut self) -> u32 {
        self.snack_pending = false;
        self.next_sn
    }

    fn classify(&self, sn: u32) -> SnOrder {
        match sn.wrapping_sub(self.next_sn) {
            0 => SnOrder::Next,
            d if d > 0x8000_0000 => SnOrder::Old,
            _ => SnOrder::Ahead,
        }
    }

    /// Shared handling of an out-of-order number: `Ok(verdict)` to drop the
    /// PDU (maybe with a SNACK), `Err` at ERL 0.
    fn out_of_order(&mut self, sn: u32, order: SnOrder) -> Result<DataInVerdict, DataInError> {
        if self.params.error_recovery_level == 0 {
            return Err(DataInError::SnMismatch {
                expected: self.next_sn,
                received: sn,
            });
        }
        let mut verdict = DataInVerdict::default();
        if order == SnOrder::Ahead && !self.snack_pending {
            self.snack_pending = true;
            verdict.snack = self.pending_snack();
        }
        Ok(verdict)
    }

    fn advance(&mut self, verdict: &mut DataInVerdict) {
        self.next_sn = self.next_sn.wrapping_add(1);
        self.snack_pending = false;
        if let Some((outcome, until)) = self.pending {
            let done = match until {
                Await::DataSn(exp) => self.next_sn == exp,
                Await::Bytes(n) => self.bytes_received >= n,
            };
            if done {
                self.pending = None;
                self.complete = true;
                verdict.complete = Some(CommandOutcome {
                    bytes_received: self.bytes_received,
                    ..outcome
                });
            }
        }
    }

    /// Account for an R2T's R2TSN (§11.8.3), before answering the R2T.
    /// The flag says whether to answer it; `false` (only possible at ERL ≥ 1)
    /// means drop it: a duplicate, or beyond a gap, with the verdict's SNACK
    /// asking for the missing numbers.
    pub fn on_r2t(&mut self, r2tsn: u32) -> Result<(bool, DataInVerdict), DataInError> {
        if !matches!(self.direction, Direction::Write | Direction::Bidirectional) {
            return Err(DataInError::UnexpectedR2t);
        }
        let order = self.classify(r2tsn);
        if order != SnOrder::Next {
            return Ok((false, self.out_of_order(r2tsn, order)?));
        }
        let mut verdict = DataInVerdict::default();
        self.advance(&mut verdict);
        Ok((true, verdict))
    }

    /// Check a Data-In PDU and say where its data goes.
    pub fn on_data_in(&mut self, pdu: &pdu::DataIn) -> Result<DataInVerdict, DataInError> {
        if !matches!(self.direction, Direction::Read | Direction::Bidirectional) {
            return Err(DataInError::UnexpectedDataIn);
        }
        if pdu.status_flag && !pdu.final_flag {
            return Err(DataInError::StatusWithoutFinal);
        }
        let order = self.classify(pdu.data_sn);
        if order != SnOrder::Next {
            return self.out_of_order(pdu.data_sn, order);
        }
        if self.complete {
            return Err(DataInError::AlreadyComplete);
        }
        if pdu.data_segment_length > self.params.max_recv_data_segment_length {
            return Err(DataInError::SegmentTooLong);
        }
        let end = pdu
            .buffer_offset
            .checked_add(pdu.data_segment_length)
            .filter(|&e| e <= self.read_length)
            .ok_or(DataInError::OffsetOutOfRange)?;
        let starts_sequence = self.sequence_bytes == 0;
        let contiguous_required = self.params.data_pdu_in_order
            && (!starts_sequence || self.params.data_sequence_in_order);
        if contiguous_required && pdu.buffer_offset != self.next_offset {
            return Err(DataInError::OffsetOutOfOrder {
                expected: self.next_offset,
                received: pdu.buffer_offset,
            });
        }
        // Saturating: with the limit tolerated the count only tells whether
        // a sequence has started, and u32::MAX still exceeds any limit.
        let sequence_bytes = self.sequence_bytes.saturating_add(pdu.data_segment_length);
        if self.params.burst_limit == BurstLimit::Enforce
            && sequence_bytes > self.params.max_burst_length
        {
            return Err(DataInError::SequenceExceedsMaxBurst);
        }

        let bytes_received = self.bytes_received.saturating_add(pdu.data_segment_length);
        if pdu.status_flag && pdu.status == STATUS_GOOD {
            // DataSN order already proves nothing was lost, so a short count
            // here is the target's own inconsistency.
            let expected = match pdu.residual {
                Residual::Underflow(n) => self.read_length.saturating_sub(n),
                Residual::None | Residual::Overflow(_) => self.read_length,
            };
            if bytes_received < expected {
                return Err(DataInError::DataMissing {
                    received: bytes_received,
                    expected,
                });
            }
        }

        self.sequence_bytes = if pdu.final_flag { 0 } else { sequence_bytes };
        self.next_offset = end;
        // Bounded by read_length through the range check above, unless the
        // target resends ranges; saturated rather than wrapped.
        self.bytes_received = bytes_received;
        let mut verdict = DataInVerdict {
            deliver: Some(Placement {
                buffer_offset: pdu.buffer_offset,
                length: pdu.data_segment_length,
            }),
            ..DataInVerdict::default()
        };
        self.advance(&mut verdict);
        if pdu.acknowledge && self.params.error_recovery_level >= 1 {
            verdict.snack = Some(SnackRequest {
                kind: SnackType::DataAck,
                lun: pdu.lun,
                ttt: pdu.ttt,
                beg_run: self.next_sn,
                run_length: 0,
            });
        }
        if pdu.status_flag {
            self.complete = true;
            self.pending = None;
            verdict.complete = Some(CommandOutcome {
                response: RESPONSE_COMPLETED,
                status: pdu.status,
                sense: None,
                residual: pdu.residual,
                bidi_read_residual: Residual::None,
                bytes_received: self.bytes_received,
            });
        }
        Ok(verdict)
    }

    /// Handle the SCSI Response for this task; `segment` is its data
    /// segment (sense and response data).
    ///
    /// ExpDataSN 0 is not checked: the RFC requires it to count Data-In and
    /// R2T PDUs, but LIO leaves it 0 in every SCSI Response. For reads with
    /// GOOD status the byte count stands in for it: the data placed must
    /// reach the expected length minus any underflow residual, otherwise
    /// the tail is missing (an error at ERL 0, a SNACK at ERL ≥ 1). Without
    /// that check, a lost final Data-In would complete a read as GOOD with
    /// a hole in the buffer.
    ///
    /// For writes the caller must have passed every R2T through
    /// [`Self::on_r2t`], or a correct non-zero ExpDataSN looks like lost
    /// R2Ts.
    pub fn on_scsi_response(
        &mut self,
        rsp: &pdu::ScsiResponse,
        segment: &[u8],
    ) -> Result<DataInVerdict, DataInError> {
        if self.complete || self.pending.is_some() {
            return Err(DataInError::AlreadyComplete);
        }
        let residual = rsp.residual;
        let bidi_read_residual = rsp.bidi_read_residual;
        if bidi_read_residual != Residual::None && self.direction != Direction::Bidirectional {
            return Err(DataInError::UnexpectedBidiResidual);
        }
        let sense = parse_sense(segment)?;
        let outcome = CommandOutcome {
            response: rsp.response,
            status: rsp.status,
            sense,
            residual,
            bidi_read_residual,
            bytes_received: self.bytes_received,
        };
        let mut verdict = DataInVerdict::default();
        let check_count = rsp.response == RESPONSE_COMPLETED && rsp.exp_data_sn != 0;
        if check_count {
            match self.classify(rsp.exp_data_sn) {
                SnOrder::Next => {}
                SnOrder::Old => {
                    return Err(DataInError::ExpDataSnBehind {
                        received: self.next_sn,
                        exp_data_sn: rsp.exp_data_sn,
                    })
                }
                SnOrder::Ahead => {
                    // PDUs before the status are missing: recover them first.
                    let v = self.out_of_order(rsp.exp_data_sn, SnOrder::Ahead)?;
                    self.pending = Some((outcome, Await::DataSn(rsp.exp_data_sn)));
                    return Ok(v);
                }
            }
        }
        let read_residual = match self.direction {
            Direction::Read => Some(residual),
            Direction::Bidirectional => Some(bidi_read_residual),
            Direction::None | Direction::Write => None,
        };
        let good = rsp.response == RESPONSE_COMPLETED && rsp.status == STATUS_GOOD;
        if let (Some(read_residual), true) = (read_residual, good) {
            let expected = match read_residual {
                Residual::Underflow(n) => self.read_length.saturating_sub(n),
                Residual::None | Residual::Overflow(_) => self.read_length,
            };
            if self.snack_pending || self.bytes_received < expected {
                if self.params.error_recovery_level == 0 {
                    return Err(DataInError::DataMissing {
                        received: self.bytes_received,
                        expected,
                    });
                }
                if !self.snack_pending {
                    self.snack_pending = true;
                    verdict.snack = self.pending_snack();
                }
                self.pending = Some((outcome, Await::Bytes(expected)));
                return Ok(verdict);
            }
        }
        self.complete = true;
        verdict.complete = Some(outcome);
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests;
