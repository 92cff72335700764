// SPDX-License-Identifier: GPL-2.0
//! Logout request (opcode 0x06, RFC 7143 §11.14) and Logout response (opcode
//! 0x26, §11.15).
//!
//! ```text
//! Request                              Response
//! byte 0   .|I| 0x06                   .|.| 0x26
//! byte 1   1|Reason Code               1|reserved
//! byte 2   reserved                    Response
//! 16-19    ITT                         ITT
//! 20-21    CID or reserved             reserved
//! 24-27    CmdSN                       StatSN
//! 28-31    ExpStatSN                   ExpCmdSN
//! 32-35    reserved                    MaxCmdSN
//! 40-41    reserved                    Time2Wait
//! 42-43    reserved                    Time2Retain
//! ```

use super::bhs::{self, get16, get32, get8, put16, put32, put8, Bhs, F_BIT};
use super::{Opcode, PduError};

/// Logout reason codes (RFC 7143 §11.14.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutReason {
    /// 0: close the session (all connections).
    CloseSession = 0,
    /// 1: close the connection named by CID.
    CloseConnection = 1,
    /// 2: remove the connection named by CID for recovery (ERL 2, §7.2.2):
    /// its tasks stay alive for TASK REASSIGN.
    RemoveConnectionForRecovery = 2,
}

impl LogoutReason {
    /// Decodes the 7-bit reason field.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::CloseSession),
            1 => Some(Self::CloseConnection),
            2 => Some(Self::RemoveConnectionForRecovery),
            _ => None,
        }
    }
}

/// Logout Response "connection or session closed successfully" (§11.15.1).
pub const LOGOUT_RSP_SUCCESS: u8 = 0;
/// Logout Response "CID not found".
pub const LOGOUT_RSP_CID_NOT_FOUND: u8 = 1;
/// Logout Response "connection recovery is not supported".
pub const LOGOUT_RSP_RECOVERY_NOT_SUPPORTED: u8 = 2;
/// Logout Response "cleanup failed for various reasons".
pub const LOGOUT_RSP_CLEANUP_FAILED: u8 = 3;

/// Logout request (RFC 7143 §11.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogoutRequest {
    /// I bit.
    pub immediate: bool,
    /// Reason Code.
    pub reason: LogoutReason,
    /// ITT.
    pub itt: u32,
    /// CID of the connection to close (ignored for CloseSession).
    pub cid: u16,
    /// CmdSN.
    pub cmd_sn: u32,
    /// ExpStatSN.
    pub exp_stat_sn: u32,
}

impl LogoutRequest {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        bhs::begin(
            bhs,
            Opcode::LogoutRequest,
            self.immediate,
            F_BIT | self.reason as u8,
            0,
        )?;
        put32(bhs, 16, self.itt);
        put16(bhs, 20, self.cid);
        put32(bhs, 24, self.cmd_sn);
        put32(bhs, 28, self.exp_stat_sn);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        let immediate = bhs::check_initiator(bhs, Opcode::LogoutRequest, false)?;
        bhs::require_final(bhs)?;
        bhs::require_no_data(bhs)?;
        Ok(Self {
            immediate,
            reason: LogoutReason::from_u8(get8(bhs, 1) & 0x7f).ok_or(PduError::InvalidField)?,
            itt: get32(bhs, 16),
            cid: get16(bhs, 20),
            cmd_sn: get32(bhs, 24),
            exp_stat_sn: get32(bhs, 28),
        })
    }
}

/// Logout response (RFC 7143 §11.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogoutResponse {
    /// Response (`LOGOUT_RSP_*`).
    pub response: u8,
    /// ITT echoed.
    pub itt: u32,
    /// StatSN.
    pub stat_sn: u32,
    /// ExpCmdSN.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN.
    pub max_cmd_sn: u32,
    /// Time2Wait (seconds) before reconnecting for recovery.
    pub time2wait: u16,
    /// Time2Retain (seconds) the target keeps the connection's tasks.
    pub time2retain: u16,
}

impl LogoutResponse {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        bhs::begin(bhs, Opcode::LogoutResponse, false, F_BIT, 0)?;
        put8(bhs, 2, self.response);
        put32(bhs, 16, self.itt);
        put32(bhs, 24, self.stat_sn);
        put32(bhs, 28, self.exp_cmd_sn);
        put32(bhs, 32, self.max_cmd_sn);
        put16(bhs, 40, self.time2wait);
        put16(bhs, 42, self.time2retain);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        bhs::check_target(bhs, Opcode::LogoutResponse)?;
        bhs::require_final(bhs)?;
        bhs::require_no_data(bhs)?;
        Ok(Self {
            response: get8(bhs, 2),
            itt: get32(bhs, 16),
            stat_sn: get32(bhs, 24),
            exp_cmd_sn: get32(bhs, 28),
            max_cmd_sn: get32(bhs, 32),
            time2wait: get16(bhs, 40),
            time2retain: get16(bhs, 42),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_for_recovery_layout() {
        let l = LogoutRequest {
            immediate: true,
            reason: LogoutReason::RemoveConnectionForRecovery,
            itt: 0x77,
            cid: 3,
            cmd_sn: 100,
            exp_stat_sn: 200,
        };
        let mut b = [0u8; 48];
        l.encode(&mut b).unwrap();
        let mut want = [0u8; 48];
        want[0] = 0x46;
        want[1] = 0x82;
        want[19] = 0x77;
        want[21] = 3;
        want[27] = 100;
        want[31] = 200;
        assert_eq!(b, want);
        assert_eq!(LogoutRequest::decode(&b), Ok(l));
        b[1] = 0x83;
        assert_eq!(LogoutRequest::decode(&b), Err(PduError::InvalidField));
    }

    #[test]
    fn response_times() {
        let mut b = [0u8; 48];
        b[0] = 0x26;
        b[1] = 0x80;
        b[2] = LOGOUT_RSP_SUCCESS;
        b[40..44].copy_from_slice(&[0, 2, 0, 20]);
        let r = LogoutResponse::decode(&b).unwrap();
        assert_eq!((r.time2wait, r.time2retain), (2, 20));
        let mut again = [0u8; 48];
        r.encode(&mut again).unwrap();
        assert_eq!(again, b);
    }
}
