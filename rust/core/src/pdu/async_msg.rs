// SPDX-License-Identifier: GPL-2.0
//! Asynchronous Message PDU (RFC 7143 §11.9), opcode 0x32.
//!
//! ```text
//! byte 0   .|.| 0x32           byte 1  1|reserved
//! 8-15     LUN or reserved     16-19   ffffffff
//! 24-27    StatSN              28-31   ExpCmdSN
//! 32-35    MaxCmdSN            36      AsyncEvent
//! 37       AsyncVCode          38-39   Parameter1
//! 40-41    Parameter2          42-43   Parameter3
//! ```
//! The data segment holds SenseLength, sense data and iSCSI event data
//! (§11.9.4); [`super::scsi_response::split_sense`] splits it.

use super::bhs::{self, get16, get32, get8, get_array, put16, put32, put8, put_bytes, Bhs, F_BIT};
use super::{Lun, Opcode, PduError};

/// AsyncEvent 0: SCSI asynchronous event; sense data in the data segment.
pub const ASYNC_EVENT_SCSI: u8 = 0;
/// AsyncEvent 1: the target asks for a Logout; Parameter3 is the deadline.
pub const ASYNC_EVENT_LOGOUT_REQUEST: u8 = 1;
/// AsyncEvent 2: the target will drop connection Parameter1 (Parameter2
/// Time2Wait, Parameter3 Time2Retain).
pub const ASYNC_EVENT_CONNECTION_DROP: u8 = 2;
/// AsyncEvent 3: the target will drop all connections of the session.
pub const ASYNC_EVENT_SESSION_DROP: u8 = 3;
/// AsyncEvent 4: the target asks for parameter renegotiation.
pub const ASYNC_EVENT_RENEGOTIATE: u8 = 4;
/// AsyncEvent 5: all active tasks for a LU are terminated (RFC 7143 addition).
pub const ASYNC_EVENT_TASK_TERMINATION: u8 = 5;
/// AsyncEvent 255: vendor-specific event.
pub const ASYNC_EVENT_VENDOR: u8 = 255;

/// Asynchronous Message (RFC 7143 §11.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncMessage {
    /// Length of sense + event data.
    pub data_segment_length: u32,
    /// LUN the event concerns (SCSI events, task termination).
    pub lun: Lun,
    /// StatSN (consumed).
    pub stat_sn: u32,
    /// ExpCmdSN.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN.
    pub max_cmd_sn: u32,
    /// AsyncEvent (`ASYNC_EVENT_*`), raw so unknown events reach the caller.
    pub async_event: u8,
    /// AsyncVCode (vendor code).
    pub async_vcode: u8,
    /// Parameter1.
    pub parameter1: u16,
    /// Parameter2.
    pub parameter2: u16,
    /// Parameter3.
    pub parameter3: u16,
}

impl AsyncMessage {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        bhs::begin(
            bhs,
            Opcode::AsyncMessage,
            false,
            F_BIT,
            self.data_segment_length,
        )?;
        put_bytes(bhs, 8, &self.lun.0);
        put32(bhs, 16, bhs::RESERVED_TAG);
        put32(bhs, 24, self.stat_sn);
        put32(bhs, 28, self.exp_cmd_sn);
        put32(bhs, 32, self.max_cmd_sn);
        put8(bhs, 36, self.async_event);
        put8(bhs, 37, self.async_vcode);
        put16(bhs, 38, self.parameter1);
        put16(bhs, 40, self.parameter2);
        put16(bhs, 42, self.parameter3);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        bhs::check_target(bhs, Opcode::AsyncMessage)?;
        bhs::require_final(bhs)?;
        if bhs::itt(bhs) != bhs::RESERVED_TAG {
            return Err(PduError::InvalidField);
        }
        Ok(Self {
            data_segment_length: bhs::data_segment_length(bhs),
            lun: Lun(get_array(bhs, 8)),
            stat_sn: get32(bhs, 24),
            exp_cmd_sn: get32(bhs, 28),
            max_cmd_sn: get32(bhs, 32),
            async_event: get8(bhs, 36),
            async_vcode: get8(bhs, 37),
            parameter1: get16(bhs, 38),
            parameter2: get16(bhs, 40),
            parameter3: get16(bhs, 42),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_drop_layout() {
        let mut b = [0u8; 48];
        b[0] = 0x32;
        b[1] = 0x80;
        b[16..20].copy_from_slice(&[0xff; 4]);
        b[27] = 9;
        b[36] = ASYNC_EVENT_CONNECTION_DROP;
        b[38..44].copy_from_slice(&[0, 1, 0, 2, 0, 20]);
        let a = AsyncMessage::decode(&b).unwrap();
        assert_eq!(a.async_event, 2);
        assert_eq!((a.parameter1, a.parameter2, a.parameter3), (1, 2, 20));
        assert_eq!(a.stat_sn, 9);
        let mut again = [0u8; 48];
        a.encode(&mut again).unwrap();
        assert_eq!(again, b);
        b[19] = 0;
        assert_eq!(AsyncMessage::decode(&b), Err(PduError::InvalidField));
    }
}
