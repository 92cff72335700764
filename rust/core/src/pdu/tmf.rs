// SPDX-License-Identifier: GPL-2.0
//! Task Management Function request (opcode 0x02, RFC 7143 §11.5) and
//! response (opcode 0x22, §11.6).
//!
//! ```text
//! Request                              Response
//! byte 0   .|I| 0x02                   .|.| 0x22
//! byte 1   1|Function                  1|reserved
//! byte 2   reserved                    Response
//! 8-15     LUN or reserved             reserved
//! 16-19    ITT                         ITT
//! 20-23    Referenced Task Tag         reserved
//! 24-27    CmdSN                       StatSN
//! 28-31    ExpStatSN                   ExpCmdSN
//! 32-35    RefCmdSN                    MaxCmdSN
//! 36-39    ExpDataSN                   reserved
//! ```

use super::bhs::{self, get32, get8, get_array, put32, put8, put_bytes, Bhs, F_BIT};
use super::{Lun, Opcode, PduError};

/// Task management function codes (RFC 7143 §11.5.1). TASK REASSIGN is 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TmfFunction {
    /// 1: ABORT TASK (Referenced Task Tag, RefCmdSN).
    AbortTask = 1,
    /// 2: ABORT TASK SET.
    AbortTaskSet = 2,
    /// 3: CLEAR ACA.
    ClearAca = 3,
    /// 4: CLEAR TASK SET.
    ClearTaskSet = 4,
    /// 5: LOGICAL UNIT RESET.
    LogicalUnitReset = 5,
    /// 6: TARGET WARM RESET.
    TargetWarmReset = 6,
    /// 7: TARGET COLD RESET.
    TargetColdReset = 7,
    /// 8: TASK REASSIGN (ERL 2 connection recovery, §7.2.2; ExpDataSN).
    TaskReassign = 8,
}

impl TmfFunction {
    /// Decodes the 7-bit function field.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::AbortTask),
            2 => Some(Self::AbortTaskSet),
            3 => Some(Self::ClearAca),
            4 => Some(Self::ClearTaskSet),
            5 => Some(Self::LogicalUnitReset),
            6 => Some(Self::TargetWarmReset),
            7 => Some(Self::TargetColdReset),
            8 => Some(Self::TaskReassign),
            _ => None,
        }
    }

    /// The function's name as RFC 7143 §11.5.1 spells it, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AbortTask => "ABORT TASK",
            Self::AbortTaskSet => "ABORT TASK SET",
            Self::ClearAca => "CLEAR ACA",
            Self::ClearTaskSet => "CLEAR TASK SET",
            Self::LogicalUnitReset => "LOGICAL UNIT RESET",
            Self::TargetWarmReset => "TARGET WARM RESET",
            Self::TargetColdReset => "TARGET COLD RESET",
            Self::TaskReassign => "TASK REASSIGN",
        }
    }
}

/// TMF Response "Function complete" (§11.6.1).
pub const TMF_RSP_COMPLETE: u8 = 0;
/// TMF Response "Task does not exist".
pub const TMF_RSP_NO_TASK: u8 = 1;
/// TMF Response "LUN does not exist".
pub const TMF_RSP_NO_LUN: u8 = 2;
/// TMF Response "Task still allegiant" (old connection not yet logged out).
pub const TMF_RSP_TASK_ALLEGIANT: u8 = 3;
/// TMF Response "Task allegiance reassignment not supported".
pub const TMF_RSP_REASSIGN_NOT_SUPPORTED: u8 = 4;
/// TMF Response "Task management function not supported".
pub const TMF_RSP_NOT_SUPPORTED: u8 = 5;
/// TMF Response "Function authorization failed".
pub const TMF_RSP_AUTH_FAILED: u8 = 6;
/// TMF Response "Function rejected".
pub const TMF_RSP_REJECTED: u8 = 255;

/// Task Management Function request (RFC 7143 §11.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskMgmtRequest {
    /// I bit (TMF requests are usually sent immediate).
    pub immediate: bool,
    /// Function.
    pub function: TmfFunction,
    /// LUN (for functions that address a logical unit or a task in one).
    pub lun: Lun,
    /// ITT of this TMF request.
    pub itt: u32,
    /// Referenced Task Tag: ITT of the task to abort or reassign, else
    /// 0xffffffff.
    pub referenced_task_tag: u32,
    /// CmdSN.
    pub cmd_sn: u32,
    /// ExpStatSN.
    pub exp_stat_sn: u32,
    /// RefCmdSN: CmdSN of the referenced task (ABORT TASK), else reserved.
    pub ref_cmd_sn: u32,
    /// ExpDataSN (TASK REASSIGN): first Data-In/R2T to resend, 0 for all.
    pub exp_data_sn: u32,
}

impl TaskMgmtRequest {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        bhs::begin(
            bhs,
            Opcode::TaskMgmtRequest,
            self.immediate,
            F_BIT | self.function as u8,
            0,
        )?;
        put_bytes(bhs, 8, &self.lun.0);
        put32(bhs, 16, self.itt);
        put32(bhs, 20, self.referenced_task_tag);
        put32(bhs, 24, self.cmd_sn);
        put32(bhs, 28, self.exp_stat_sn);
        put32(bhs, 32, self.ref_cmd_sn);
        put32(bhs, 36, self.exp_data_sn);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        let immediate = bhs::check_initiator(bhs, Opcode::TaskMgmtRequest, false)?;
        bhs::require_final(bhs)?;
        bhs::require_no_data(bhs)?;
        let f = get8(bhs, 1) & 0x7f;
        Ok(Self {
            immediate,
            function: TmfFunction::from_u8(f).ok_or(PduError::InvalidField)?,
            lun: Lun(get_array(bhs, 8)),
            itt: get32(bhs, 16),
            referenced_task_tag: get32(bhs, 20),
            cmd_sn: get32(bhs, 24),
            exp_stat_sn: get32(bhs, 28),
            ref_cmd_sn: get32(bhs, 32),
            exp_data_sn: get32(bhs, 36),
        })
    }
}

/// Task Management Function response (RFC 7143 §11.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskMgmtResponse {
    /// Response code, one of the `TMF_RSP_*` constants (kept raw so an unknown
    /// value still reaches the caller, who treats it as a failure).
    pub response: u8,
    /// ITT of the TMF request.
    pub itt: u32,
    /// StatSN.
    pub stat_sn: u32,
    /// ExpCmdSN.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN.
    pub max_cmd_sn: u32,
}

impl TaskMgmtResponse {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        bhs::begin(bhs, Opcode::TaskMgmtResponse, false, F_BIT, 0)?;
        put8(bhs, 2, self.response);
        put32(bhs, 16, self.itt);
        put32(bhs, 24, self.stat_sn);
        put32(bhs, 28, self.exp_cmd_sn);
        put32(bhs, 32, self.max_cmd_sn);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        bhs::check_target(bhs, Opcode::TaskMgmtResponse)?;
        bhs::require_final(bhs)?;
        bhs::require_no_data(bhs)?;
        Ok(Self {
            response: get8(bhs, 2),
            itt: get32(bhs, 16),
            stat_sn: get32(bhs, 24),
            exp_cmd_sn: get32(bhs, 28),
            max_cmd_sn: get32(bhs, 32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_reassign_layout() {
        let t = TaskMgmtRequest {
            immediate: true,
            function: TmfFunction::TaskReassign,
            lun: Lun::single_level(4).unwrap(),
            itt: 0x100,
            referenced_task_tag: 0x55,
            cmd_sn: 30,
            exp_stat_sn: 40,
            ref_cmd_sn: 0,
            exp_data_sn: 6,
        };
        let mut b = [0u8; 48];
        t.encode(&mut b).unwrap();
        let mut want = [0u8; 48];
        want[0] = 0x42;
        want[1] = 0x88;
        want[9] = 4;
        want[16..20].copy_from_slice(&[0, 0, 1, 0]);
        want[23] = 0x55;
        want[27] = 30;
        want[31] = 40;
        want[39] = 6;
        assert_eq!(b, want);
        assert_eq!(TaskMgmtRequest::decode(&b), Ok(t));
        b[1] = 0x80 | 14;
        assert_eq!(TaskMgmtRequest::decode(&b), Err(PduError::InvalidField));
    }

    #[test]
    fn response_layout() {
        let mut b = [0u8; 48];
        b[0] = 0x22;
        b[1] = 0x80;
        b[2] = TMF_RSP_TASK_ALLEGIANT;
        b[19] = 9;
        b[27] = 1;
        b[31] = 2;
        b[35] = 3;
        let r = TaskMgmtResponse::decode(&b).unwrap();
        assert_eq!(
            r,
            TaskMgmtResponse {
                response: 3,
                itt: 9,
                stat_sn: 1,
                exp_cmd_sn: 2,
                max_cmd_sn: 3
            }
        );
        let mut again = [0u8; 48];
        r.encode(&mut again).unwrap();
        assert_eq!(again, b);
    }
}
