// SPDX-License-Identifier: GPL-2.0
//! Reject PDU (RFC 7143 §11.17), opcode 0x3f.
//!
//! ```text
//! byte 0   .|.| 0x3f           byte 1  1|reserved
//! byte 2   Reason              16-19   ffffffff
//! 24-27    StatSN              28-31   ExpCmdSN
//! 32-35    MaxCmdSN            36-39   DataSN/R2TSN or reserved
//! ```
//! The data segment is the complete header (BHS) of the rejected PDU; see
//! [`rejected_header`].

use super::bhs::{self, get32, get8, put32, put8, Bhs, BHS_LEN, F_BIT};
use super::{Opcode, PduError};

/// Reason 0x02: data (payload) digest error; the original PDU may be resent.
pub const REJECT_DATA_DIGEST_ERROR: u8 = 0x02;
/// Reason 0x03: SNACK reject; the original PDU may be resent.
pub const REJECT_SNACK_REJECT: u8 = 0x03;
/// Reason 0x04: protocol error (e.g., SNACK for an acknowledged status).
pub const REJECT_PROTOCOL_ERROR: u8 = 0x04;
/// Reason 0x05: command not supported.
pub const REJECT_COMMAND_NOT_SUPPORTED: u8 = 0x05;
/// Reason 0x06: immediate command rejected (too many immediate commands).
pub const REJECT_IMMEDIATE_COMMAND: u8 = 0x06;
/// Reason 0x07: task in progress.
pub const REJECT_TASK_IN_PROGRESS: u8 = 0x07;
/// Reason 0x08: invalid data ack.
pub const REJECT_INVALID_DATA_ACK: u8 = 0x08;
/// Reason 0x09: invalid PDU field.
pub const REJECT_INVALID_PDU_FIELD: u8 = 0x09;
/// Reason 0x0a: long operation reject (out of resources generating a TTT).
pub const REJECT_LONG_OPERATION: u8 = 0x0a;
/// Reason 0x0b: deprecated by RFC 7143 (negotiation reset).
pub const REJECT_NEGOTIATION_RESET: u8 = 0x0b;
/// Reason 0x0c: waiting for logout.
pub const REJECT_WAITING_FOR_LOGOUT: u8 = 0x0c;

/// Reject (RFC 7143 §11.17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject {
    /// Reason (`REJECT_*`), raw so unknown reasons reach the caller.
    pub reason: u8,
    /// Length of the data segment (48 plus any AHS of the rejected PDU).
    pub data_segment_length: u32,
    /// StatSN (consumed).
    pub stat_sn: u32,
    /// ExpCmdSN.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN.
    pub max_cmd_sn: u32,
    /// DataSN/R2TSN of the rejected PDU, for data-related rejects.
    pub data_sn: u32,
}

impl Reject {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        bhs::begin(bhs, Opcode::Reject, false, F_BIT, self.data_segment_length)?;
        put8(bhs, 2, self.reason);
        put32(bhs, 16, bhs::RESERVED_TAG);
        put32(bhs, 24, self.stat_sn);
        put32(bhs, 28, self.exp_cmd_sn);
        put32(bhs, 32, self.max_cmd_sn);
        put32(bhs, 36, self.data_sn);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        bhs::check_target(bhs, Opcode::Reject)?;
        bhs::require_final(bhs)?;
        if bhs::itt(bhs) != bhs::RESERVED_TAG {
            return Err(PduError::InvalidField);
        }
        Ok(Self {
            reason: get8(bhs, 2),
            data_segment_length: bhs::data_segment_length(bhs),
            stat_sn: get32(bhs, 24),
            exp_cmd_sn: get32(bhs, 28),
            max_cmd_sn: get32(bhs, 32),
            data_sn: get32(bhs, 36),
        })
    }
}

/// The BHS of the rejected PDU, from the start of a Reject data segment; its
/// ITT tells which task the Reject concerns.
pub fn rejected_header(data: &[u8]) -> Result<&Bhs, PduError> {
    data.get(..BHS_LEN)
        .and_then(|s| s.try_into().ok())
        .ok_or(PduError::BadLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_rejected_header() {
        let r = Reject {
            reason: REJECT_DATA_DIGEST_ERROR,
            data_segment_length: 48,
            stat_sn: 5,
            exp_cmd_sn: 6,
            max_cmd_sn: 7,
            data_sn: 0,
        };
        let mut b = [0u8; 48];
        r.encode(&mut b).unwrap();
        assert_eq!(&b[..8], &[0x3f, 0x80, 0x02, 0, 0, 0, 0, 48]);
        assert_eq!(&b[16..20], &[0xff; 4]);
        assert_eq!(Reject::decode(&b), Ok(r));
        let mut seg = [0u8; 50];
        seg[16..20].copy_from_slice(&[0, 0, 0, 0x21]);
        assert_eq!(bhs::itt(rejected_header(&seg).unwrap()), 0x21);
        assert_eq!(rejected_header(&seg[..47]), Err(PduError::BadLength));
    }
}
