// SPDX-License-Identifier: GPL-2.0
//! SCSI Response PDU (RFC 7143 §11.4), opcode 0x21.
//!
//! ```text
//! byte 0     .|.| 0x21
//! byte 1     1|.|.|o|u|O|U|.
//! byte 2     Response           byte 3  Status
//! 4          TotalAHSLength     5-7     DataSegmentLength
//! 8-15       reserved           16-19   ITT
//! 20-23      SNACK Tag          24-27   StatSN
//! 28-31      ExpCmdSN           32-35   MaxCmdSN
//! 36-39      ExpDataSN          40-43   Bidirectional Read Residual Count
//! 44-47      Residual Count
//! ```
//! The data segment holds SenseLength (2 bytes), sense data, then response
//! data (§11.4.7); see [`split_sense`].

use super::bhs::{self, get32, get8, put32, put8, Bhs, F_BIT};
use super::{Opcode, PduError};

/// Response value "Command Completed at Target" (§11.4.3).
pub const RESPONSE_COMPLETED: u8 = 0x00;
/// Response value "Target Failure" (§11.4.3).
pub const RESPONSE_TARGET_FAILURE: u8 = 0x01;

/// Residual over- or underflow reported in a SCSI Response or final Data-In
/// (§11.4.5): the O and U bits are mutually exclusive, hence an enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Residual {
    /// Neither bit: the transfer matched the expected length.
    #[default]
    None,
    /// O bit: the target wanted to move this many more bytes.
    Overflow(u32),
    /// U bit: this many expected bytes were not moved.
    Underflow(u32),
}

impl Residual {
    /// Decodes an (overflow bit, underflow bit, count) triple.
    pub(crate) fn from_bits(o: bool, u: bool, count: u32) -> Result<Self, PduError> {
        match (o, u) {
            (false, false) => Ok(Self::None),
            (true, false) => Ok(Self::Overflow(count)),
            (false, true) => Ok(Self::Underflow(count)),
            (true, true) => Err(PduError::InvalidFlags),
        }
    }

    /// (overflow bit, underflow bit, count) for encoding.
    pub(crate) const fn to_bits(self) -> (bool, bool, u32) {
        match self {
            Self::None => (false, false, 0),
            Self::Overflow(c) => (true, false, c),
            Self::Underflow(c) => (false, true, c),
        }
    }
}

/// SCSI Response (RFC 7143 §11.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScsiResponse {
    /// iSCSI service response (§11.4.3): 0 completed, 1 target failure.
    pub response: u8,
    /// SCSI status byte (§11.4.4), valid when `response` is 0.
    pub status: u8,
    /// Length of sense + response data.
    pub data_segment_length: u32,
    /// Initiator Task Tag of the command.
    pub itt: u32,
    /// SNACK Tag (§11.4.6), 0 unless answering an R-Data SNACK.
    pub snack_tag: u32,
    /// StatSN.
    pub stat_sn: u32,
    /// ExpCmdSN.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN.
    pub max_cmd_sn: u32,
    /// ExpDataSN (§11.4.8): Data-In plus R2T PDUs sent for the command.
    pub exp_data_sn: u32,
    /// Bidirectional read residual (o/u bits, §11.4.5.1).
    pub bidi_read_residual: Residual,
    /// Residual (O/U bits, §11.4.5.2).
    pub residual: Residual,
}

impl ScsiResponse {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        let (bo, bu, bcount) = self.bidi_read_residual.to_bits();
        let (o, u, count) = self.residual.to_bits();
        let b1 = F_BIT
            | if bo { 0x10 } else { 0 }
            | if bu { 0x08 } else { 0 }
            | if o { 0x04 } else { 0 }
            | if u { 0x02 } else { 0 };
        bhs::begin(
            bhs,
            Opcode::ScsiResponse,
            false,
            b1,
            self.data_segment_length,
        )?;
        put8(bhs, 2, self.response);
        put8(bhs, 3, self.status);
        put32(bhs, 16, self.itt);
        put32(bhs, 20, self.snack_tag);
        put32(bhs, 24, self.stat_sn);
        put32(bhs, 28, self.exp_cmd_sn);
        put32(bhs, 32, self.max_cmd_sn);
        put32(bhs, 36, self.exp_data_sn);
        put32(bhs, 40, bcount);
        put32(bhs, 44, count);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        bhs::check_target(bhs, Opcode::ScsiResponse)?;
        bhs::require_final(bhs)?;
        let b1 = get8(bhs, 1);
        Ok(Self {
            response: get8(bhs, 2),
            status: get8(bhs, 3),
            data_segment_length: bhs::data_segment_length(bhs),
            itt: get32(bhs, 16),
            snack_tag: get32(bhs, 20),
            stat_sn: get32(bhs, 24),
            exp_cmd_sn: get32(bhs, 28),
            max_cmd_sn: get32(bhs, 32),
            exp_data_sn: get32(bhs, 36),
            bidi_read_residual: Residual::from_bits(
                b1 & 0x10 != 0,
                b1 & 0x08 != 0,
                get32(bhs, 40),
            )?,
            residual: Residual::from_bits(b1 & 0x04 != 0, b1 & 0x02 != 0, get32(bhs, 44))?,
        })
    }
}

/// Splits a SCSI Response data segment into (sense data, response data)
/// using its 2-byte SenseLength prefix (§11.4.7.2). An empty segment has
/// neither.
pub fn split_sense(data: &[u8]) -> Result<(&[u8], &[u8]), PduError> {
    if data.is_empty() {
        return Ok((&[], &[]));
    }
    let (len, rest) = super::ahs::split_fixed::<2>(data).ok_or(PduError::BadLength)?;
    let len = usize::from(u16::from_be_bytes(*len));
    rest.split_at_checked(len).ok_or(PduError::BadLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ScsiResponse {
        ScsiResponse {
            response: RESPONSE_COMPLETED,
            status: 0x02,
            data_segment_length: 20,
            itt: 0x1234,
            snack_tag: 0,
            stat_sn: 100,
            exp_cmd_sn: 101,
            max_cmd_sn: 164,
            exp_data_sn: 3,
            bidi_read_residual: Residual::None,
            residual: Residual::Underflow(512),
        }
    }

    #[test]
    fn layout_matches_rfc_offsets() {
        let mut b = [0u8; 48];
        sample().encode(&mut b).unwrap();
        assert_eq!(b[0], 0x21);
        assert_eq!(b[1], 0x82);
        assert_eq!(b[3], 0x02);
        assert_eq!(b[7], 20);
        assert_eq!(&b[16..20], &[0, 0, 0x12, 0x34]);
        assert_eq!(b[27], 100);
        assert_eq!(b[31], 101);
        assert_eq!(b[35], 164);
        assert_eq!(b[39], 3);
        assert_eq!(&b[44..48], &[0, 0, 2, 0]);
        assert_eq!(ScsiResponse::decode(&b), Ok(sample()));
    }

    #[test]
    fn overflow_and_underflow_together_is_invalid() {
        let mut b = [0u8; 48];
        sample().encode(&mut b).unwrap();
        b[1] |= 0x04;
        assert_eq!(ScsiResponse::decode(&b), Err(PduError::InvalidFlags));
        b[1] = 0x02;
        assert_eq!(ScsiResponse::decode(&b), Err(PduError::InvalidFlags));
    }

    #[test]
    fn sense_split() {
        let seg = [0u8, 3, 0x70, 0, 5, 0xaa];
        assert_eq!(split_sense(&seg), Ok((&seg[2..5], &seg[5..])));
        assert_eq!(split_sense(&[]), Ok((&[][..], &[][..])));
        assert_eq!(split_sense(&[0, 9, 1]), Err(PduError::BadLength));
        assert_eq!(split_sense(&[0]), Err(PduError::BadLength));
    }
}
