// SPDX-License-Identifier: GPL-2.0
//! Data-Out generation for WRITE (and the write half of bidirectional)
//! commands: how much rides as immediate data, the unsolicited Data-Out
//! sequence, and one solicited sequence per R2T (RFC 7143 §11.7 SCSI Data-Out,
//! §11.8 R2T, §13.10–§13.19 for the keys that shape them).
//!
//! Nothing here touches payload bytes. Every PDU is described as
//! `(BufferOffset, length, DataSN, TTT, F)` so the caller can send the data
//! segment straight out of the command's scatterlist; sequences are small
//! `Copy` iterators, so the kernel can keep one per connection without
//! allocating.
//!
//! [`WriteTransfer`] holds the per-task state that needs remembering between
//! R2Ts: the next R2TSN, which R2Ts are still outstanding (bounded by
//! MaxOutstandingR2T and by the const capacity `N` the caller chose), and
//! where the next in-order sequence must start.

use super::keys::params::NegotiatedParams;
use super::pdu::{self, Lun};

/// The reserved tag value 0xffffffff: the TTT of unsolicited Data-Out
/// (RFC 7143 §11.7.4) and the "no tag" value of ITT/TTT elsewhere.
pub use super::pdu::RESERVED_TAG;

/// Session parameters that shape a write (RFC 7143 §13.10–§13.20), as
/// negotiated for the session and the connection carrying the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteParams {
    /// ImmediateData (§13.11): data may ride in the SCSI Command PDU.
    pub immediate_data: bool,
    /// InitialR2T (§13.10): `false` allows an unsolicited Data-Out sequence.
    pub initial_r2t: bool,
    /// FirstBurstLength (§13.14): cap on all unsolicited data of one command.
    pub first_burst_length: u32,
    /// MaxBurstLength (§13.13): cap on one solicited sequence.
    pub max_burst_length: u32,
    /// MaxXmitDataSegmentLength: the target's declared
    /// MaxRecvDataSegmentLength on this connection (§13.12), cap on one PDU.
    pub max_xmit_data_segment_length: u32,
    /// MaxOutstandingR2T (§13.17): R2Ts the target may have open at once.
    pub max_outstanding_r2t: u16,
    /// DataPDUInOrder (§13.18). The generator always emits PDUs in offset
    /// order, which satisfies either value.
    pub data_pdu_in_order: bool,
    /// DataSequenceInOrder (§13.19): with `true` the target must request
    /// sequences at continuously increasing offsets, which is checked at
    /// ErrorRecoveryLevel 0.
    pub data_sequence_in_order: bool,
    /// ErrorRecoveryLevel (§13.20): at 1 and above the target may resend
    /// R2Ts (R2T SNACK) and send recovery R2Ts for data already sent.
    pub error_recovery_level: u8,
}

impl WriteParams {
    /// The RFC 7143 defaults (InitialR2T=Yes, ImmediateData=Yes,
    /// FirstBurstLength 65536, MaxBurstLength 262144,
    /// MaxRecvDataSegmentLength 8192, MaxOutstandingR2T 1, both InOrder keys
    /// Yes, ErrorRecoveryLevel 0).
    pub const RFC_DEFAULTS: WriteParams = WriteParams {
        immediate_data: true,
        initial_r2t: true,
        first_burst_length: 65536,
        max_burst_length: 262_144,
        max_xmit_data_segment_length: 8192,
        max_outstanding_r2t: 1,
        data_pdu_in_order: true,
        data_sequence_in_order: true,
        error_recovery_level: 0,
    };

    /// The parameters a login agreed, for a command on that connection
    /// (MaxXmitDataSegmentLength is per connection, the rest per session).
    pub fn from_negotiated(n: &NegotiatedParams) -> Self {
        WriteParams {
            immediate_data: n.session.immediate_data,
            initial_r2t: n.session.initial_r2t,
            first_burst_length: n.session.first_burst_length,
            max_burst_length: n.session.max_burst_length,
            max_xmit_data_segment_length: n.connection.max_xmit_data_segment_length,
            max_outstanding_r2t: n.session.max_outstanding_r2t,
            data_pdu_in_order: n.session.data_pdu_in_order,
            data_sequence_in_order: n.session.data_sequence_in_order,
            error_recovery_level: n.session.error_recovery_level,
        }
    }

    fn validate(&self) -> Result<(), DataOutError> {
        // The length keys range up to 2^24-1, the largest DataSegmentLength
        // (§13.12-§13.14).
        let len_ok = |v: u32| v != 0 && v <= pdu::MAX_DATA_SEGMENT_LENGTH;
        if !len_ok(self.first_burst_length)
            || !len_ok(self.max_burst_length)
            || !len_ok(self.max_xmit_data_segment_length)
            || self.max_outstanding_r2t == 0
            // §13.14: FirstBurstLength MUST NOT exceed MaxBurstLength.
            || self.first_burst_length > self.max_burst_length
        {
            return Err(DataOutError::InvalidParams);
        }
        Ok(())
    }
}

/// Why a write could not be set up or an R2T was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOutError {
    /// A length key is 0 or above 2^24-1, MaxOutstandingR2T is 0,
    /// FirstBurstLength exceeds MaxBurstLength, or the capacity `N` is 0.
    InvalidParams,
    /// R2T with DesiredDataTransferLength 0 (§11.8.5 forbids it).
    ZeroLengthR2t,
    /// R2T asking for more than MaxBurstLength in one sequence (§11.8.5).
    R2tExceedsMaxBurst,
    /// R2T BufferOffset + DesiredDataTransferLength beyond the expected
    /// data transfer length of the command.
    R2tOutOfRange,
    /// R2TSN not the next expected one (a gap, or an old R2TSN at
    /// ErrorRecoveryLevel 0, §11.8.3).
    R2tSnMismatch {
        /// The R2TSN this task expected next.
        expected: u32,
        /// The R2TSN the target sent.
        received: u32,
    },
    /// With DataSequenceInOrder=Yes the R2T did not start where the previous
    /// sequence ended (§13.19).
    R2tOffsetOutOfOrder {
        /// The BufferOffset the next sequence had to start at.
        expected: u32,
        /// The BufferOffset the target sent.
        received: u32,
    },
    /// A new R2T while MaxOutstandingR2T are already open (§13.17).
    TooManyOutstandingR2ts,
    /// More R2Ts open than the caller-chosen capacity `N` can track; the
    /// caller offered a MaxOutstandingR2T above `N`.
    CapacityExceeded,
    /// [`WriteTransfer::sequence_sent`] for an R2TSN that is not open.
    UnknownR2t,
}

/// One Data-Out PDU to send (RFC 7143 §11.7): its data segment is bytes
/// `[buffer_offset, buffer_offset + length)` of the command's write buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataOutPdu {
    /// BufferOffset field.
    pub buffer_offset: u32,
    /// DataSegmentLength, never above MaxXmitDataSegmentLength.
    pub length: u32,
    /// DataSN within this output sequence (§11.7.5), from 0.
    pub data_sn: u32,
    /// Target Transfer Tag: the R2T's TTT, or [`RESERVED_TAG`] when
    /// unsolicited.
    pub ttt: u32,
    /// F bit: last PDU of the sequence.
    pub final_flag: bool,
}

impl DataOutPdu {
    /// The Data-Out header for this PDU of the command with `itt` on `lun`,
    /// carrying the connection's current `exp_stat_sn`.
    pub fn to_pdu(&self, lun: Lun, itt: u32, exp_stat_sn: u32) -> pdu::DataOut {
        pdu::DataOut {
            final_flag: self.final_flag,
            data_segment_length: self.length,
            lun,
            itt,
            ttt: self.ttt,
            exp_stat_sn,
            data_sn: self.data_sn,
            buffer_offset: self.buffer_offset,
        }
    }
}

/// The PDUs of one output sequence, in offset order. Each sequence restarts
/// DataSN at 0 (RFC 7143 §11.7.5: DataSN counts within the unsolicited
/// sequence or within the sequence one R2T solicited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataOutSequence {
    ttt: u32,
    next_offset: u32,
    end: u32,
    data_sn: u32,
    max_pdu: u32,
}

impl DataOutSequence {
    /// A sequence covering `[offset, offset + length)` in PDUs of at most
    /// `max_pdu` bytes; `None` if the range overflows or `max_pdu` is 0.
    pub fn new(ttt: u32, offset: u32, length: u32, max_pdu: u32) -> Option<Self> {
        if max_pdu == 0 {
            return None;
        }
        let end = offset.checked_add(length)?;
        Some(Self {
            ttt,
            next_offset: offset,
            end,
            data_sn: 0,
            max_pdu,
        })
    }

    /// A sequence with nothing to send.
    pub const fn empty() -> Self {
        Self {
            ttt: RESERVED_TAG,
            next_offset: 0,
            end: 0,
            data_sn: 0,
            max_pdu: 1,
        }
    }

    /// The Target Transfer Tag every PDU of this sequence carries.
    pub fn ttt(&self) -> u32 {
        self.ttt
    }

    /// Bytes not yet handed out.
    pub fn remaining(&self) -> u32 {
        self.end.saturating_sub(self.next_offset)
    }
}

impl Iterator for DataOutSequence {
    type Item = DataOutPdu;

    fn next(&mut self) -> Option<DataOutPdu> {
        let remaining = self.remaining();
        if remaining == 0 {
            return None;
        }
        let length = remaining.min(self.max_pdu);
        let pdu = DataOutPdu {
            buffer_offset: self.next_offset,
            length,
            data_sn: self.data_sn,
            ttt: self.ttt,
            final_flag: length == remaining,
        };
        // `length <= remaining` so this stays within `end`.
        self.next_offset = self.next_offset.wrapping_add(length);
        self.data_sn = self.data_sn.wrapping_add(1);
        Some(pdu)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining().div_ceil(self.max_pdu) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for DataOutSequence {}

/// An R2T as received (RFC 7143 §11.8), reduced to the fields Data-Out
/// generation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct R2t {
    /// R2TSN.
    pub r2tsn: u32,
    /// Target Transfer Tag to echo in the Data-Out PDUs.
    pub ttt: u32,
    /// BufferOffset where the requested data starts.
    pub buffer_offset: u32,
    /// DesiredDataTransferLength.
    pub desired_length: u32,
}

impl From<&pdu::R2t> for R2t {
    fn from(r: &pdu::R2t) -> Self {
        R2t {
            r2tsn: r.r2t_sn,
            ttt: r.ttt,
            buffer_offset: r.buffer_offset,
            desired_length: r.desired_data_transfer_length,
        }
    }
}

/// Per-task write state. `N` bounds the R2Ts tracked at once; offer a
/// MaxOutstandingR2T no larger than `N` (§13.17), R2Ts beyond `N` are
/// refused with [`DataOutError::CapacityExceeded`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteTransfer<const N: usize> {
    params: WriteParams,
    expected_length: u32,
    immediate_length: u32,
    unsolicited_end: u32,
    next_r2tsn: u32,
    next_sequence_offset: u32,
    // After TASK REASSIGN the target re-requests whatever it lost, at
    // offsets behind where in-order sequences had reached.
    reassigned: bool,
    // Bidirectional commands number R2Ts and Data-In in one sequence
    // (§11.7.5), so R2TSNs skip the numbers Data-In took.
    shared_sn: bool,
    open: [Option<R2t>; N],
}

impl<const N: usize> WriteTransfer<N> {
    /// Plan a write of `expected_length` bytes (the Expected Data Transfer
    /// Length of the SCSI Command PDU).
    ///
    /// Immediate data is limited by FirstBurstLength and by one PDU's
    /// MaxXmitDataSegmentLength (§13.11). With InitialR2T=No the initiator
    /// sends unsolicited data up to min(FirstBurstLength, length) in total;
    /// targets (LIO among them) count on receiving all of it before their
    /// first R2T, so the plan always sends that full amount.
    pub fn new(params: WriteParams, expected_length: u32) -> Result<Self, DataOutError> {
        params.validate()?;
        if N == 0 {
            return Err(DataOutError::InvalidParams);
        }
        let first_burst = params.first_burst_length.min(expected_length);
        let immediate_length = if params.immediate_data {
            first_burst.min(params.max_xmit_data_segment_length)
        } else {
            0
        };
        let unsolicited_end = if params.initial_r2t {
            immediate_length
        } else {
            first_burst
        };
        Ok(Self {
            params,
            expected_length,
            immediate_length,
            unsolicited_end,
            next_r2tsn: 0,
            next_sequence_offset: unsolicited_end,
            reassigned: false,
            shared_sn: false,
            open: [None; N],
        })
    }

    /// Mark the command bidirectional: R2TSNs then share the sequence with
    /// Data-In DataSNs and may skip ahead. Exact ordering of that shared
    /// sequence is [`super::datain::DataInTracker::on_r2t`]'s job; call it
    /// first and answer only R2Ts it accepts.
    pub fn bidirectional(mut self) -> Self {
        self.shared_sn = true;
        self
    }

    /// The parameters this plan was built with.
    pub fn params(&self) -> &WriteParams {
        &self.params
    }

    /// Expected Data Transfer Length of the command.
    pub fn expected_length(&self) -> u32 {
        self.expected_length
    }

    /// Bytes `[0, immediate_length)` go in the SCSI Command PDU's data
    /// segment.
    pub fn immediate_length(&self) -> u32 {
        self.immediate_length
    }

    /// Total unsolicited bytes (immediate data plus the unsolicited Data-Out
    /// sequence); solicited data starts here.
    pub fn unsolicited_length(&self) -> u32 {
        self.unsolicited_end
    }

    /// The F bit of the SCSI Command PDU: set unless unsolicited Data-Out
    /// PDUs follow it (RFC 7143 §11.3.1).
    pub fn command_final_flag(&self) -> bool {
        self.unsolicited_end == self.immediate_length
    }

    /// Bytes the target has to solicit with R2Ts.
    pub fn solicited_length(&self) -> u32 {
        self.expected_length.saturating_sub(self.unsolicited_end)
    }

    /// The unsolicited Data-Out sequence that follows the command: TTT
    /// 0xffffffff, DataSN from 0, F on its last PDU (§11.7.1). Empty when
    /// InitialR2T=Yes or when immediate data already covered the first burst.
    pub fn unsolicited_sequence(&self) -> DataOutSequence {
        DataOutSequence::new(
            RESERVED_TAG,
            self.immediate_length,
            self.unsolicited_end.saturating_sub(self.immediate_length),
            self.params.max_xmit_data_segment_length,
        )
        .unwrap_or(DataOutSequence::empty())
    }

    /// R2TSN expected on the next new R2T; also the ExpDataSN to put in a
    /// TASK REASSIGN for this write (§11.5.6; LIO re-requests any data of
    /// earlier R2Ts it did not get with new R2TSNs from this value).
    pub fn next_r2tsn(&self) -> u32 {
        self.next_r2tsn
    }

    /// R2Ts whose sequence has not been fully sent yet.
    pub fn outstanding_r2ts(&self) -> usize {
        self.open.iter().filter(|s| s.is_some()).count()
    }

    /// Accept an R2T and return the Data-Out sequence that answers it.
    /// The R2T stays outstanding until [`Self::sequence_sent`].
    ///
    /// At ErrorRecoveryLevel ≥ 1 an R2T with an R2TSN already seen is a
    /// retransmission (R2T SNACK) or recovery R2T and is answered again
    /// without advancing the R2TSN.
    pub fn on_r2t(&mut self, r2t: R2t) -> Result<DataOutSequence, DataOutError> {
        if r2t.desired_length == 0 {
            return Err(DataOutError::ZeroLengthR2t);
        }
        if r2t.desired_length > self.params.max_burst_length {
            return Err(DataOutError::R2tExceedsMaxBurst);
        }
        let end = r2t
            .buffer_offset
            .checked_add(r2t.desired_length)
            .filter(|&e| e <= self.expected_length)
            .ok_or(DataOutError::R2tOutOfRange)?;
        let ahead = r2t.r2tsn.wrapping_sub(self.next_r2tsn);
        // RFC 1982 comparison: a difference in the upper half means "older".
        let is_old = ahead >= 0x8000_0000;
        let is_new = ahead == 0 || (self.shared_sn && !is_old);
        let retransmit_ok = is_old && self.params.error_recovery_level >= 1;
        if !(is_new || retransmit_ok) {
            return Err(DataOutError::R2tSnMismatch {
                expected: self.next_r2tsn,
                received: r2t.r2tsn,
            });
        }
        let check_order = is_new
            && self.params.data_sequence_in_order
            && self.params.error_recovery_level == 0
            && !self.reassigned;
        if check_order && r2t.buffer_offset != self.next_sequence_offset {
            return Err(DataOutError::R2tOffsetOutOfOrder {
                expected: self.next_sequence_offset,
                received: r2t.buffer_offset,
            });
        }
        let existing = self
            .open
            .iter()
            .position(|s| s.is_some_and(|o| o.r2tsn == r2t.r2tsn));
        let slot = match existing {
            Some(i) => i,
            None => {
                if self.outstanding_r2ts() >= usize::from(self.params.max_outstanding_r2t) {
                    return Err(DataOutError::TooManyOutstandingR2ts);
                }
                self.open
                    .iter()
                    .position(Option::is_none)
                    .ok_or(DataOutError::CapacityExceeded)?
            }
        };
        let seq = DataOutSequence::new(
            r2t.ttt,
            r2t.buffer_offset,
            r2t.desired_length,
            self.params.max_xmit_data_segment_length,
        )
        .ok_or(DataOutError::R2tOutOfRange)?;
        if let Some(s) = self.open.get_mut(slot) {
            *s = Some(r2t);
        }
        if is_new {
            self.next_r2tsn = r2t.r2tsn.wrapping_add(1);
            if end > self.next_sequence_offset {
                self.next_sequence_offset = end;
            }
        }
        Ok(seq)
    }

    /// The last PDU (F bit) of the sequence for `r2tsn` has been sent, so
    /// the R2T no longer counts against MaxOutstandingR2T (§13.17).
    pub fn sequence_sent(&mut self, r2tsn: u32) -> Result<(), DataOutError> {
        let slot = self
            .open
            .iter_mut()
            .find(|s| s.is_some_and(|o| o.r2tsn == r2tsn))
            .ok_or(DataOutError::UnknownR2t)?;
        *slot = None;
        Ok(())
    }

    /// The sequence of an outstanding R2T, again from its start (to resend
    /// it after an R2T retransmission, or on the new connection).
    pub fn resend(&self, r2tsn: u32) -> Option<DataOutSequence> {
        let r2t = self.open.iter().flatten().find(|o| o.r2tsn == r2tsn)?;
        DataOutSequence::new(
            r2t.ttt,
            r2t.buffer_offset,
            r2t.desired_length,
            self.params.max_xmit_data_segment_length,
        )
    }

    /// Prepare for TASK REASSIGN (§11.5.1 function 8) and return the
    /// ExpDataSN to put in it. Open R2Ts are dropped: the target re-issues
    /// R2Ts, numbered from the returned value, for whatever it is missing.
    /// `params` are those of the new connection (MaxXmitDataSegmentLength is
    /// per connection).
    pub fn reassign(&mut self, params: WriteParams) -> Result<u32, DataOutError> {
        params.validate()?;
        self.params = params;
        self.open = [None; N];
        self.reassigned = true;
        Ok(self.next_r2tsn)
    }
}

#[cfg(test)]
mod tests;
