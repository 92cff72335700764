// SPDX-License-Identifier: GPL-2.0
//! Task Management Function requests and responses (RFC 7143 §11.5, §11.6):
//! which fields each function uses, and what each response means for the
//! tasks involved.
//!
//! Function codes follow RFC 7143 §11.5.1 (TASK REASSIGN is 8, CLEAR ACA 3,
//! CLEAR TASK SET 4); see research/mcs-lio.md §0 on initiators that got
//! them wrong.

/// The reserved tag value 0xffffffff (RFC 7143 §11.2.1.8).
const RESERVED_TAG: u32 = 0xffff_ffff;

/// A task management request, with the operands each function needs
/// (RFC 7143 §11.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TmfRequest {
    /// 1: ABORT TASK.
    AbortTask {
        /// ITT of the task to abort (Referenced Task Tag).
        referenced_task_tag: u32,
        /// CmdSN of that task; for a task created by an immediate command
        /// pass the CmdSN this TMF will carry (§11.5.4).
        ref_cmd_sn: u32,
    },
    /// 2: ABORT TASK SET.
    AbortTaskSet,
    /// 3: CLEAR ACA.
    ClearAca,
    /// 4: CLEAR TASK SET.
    ClearTaskSet,
    /// 5: LOGICAL UNIT RESET.
    LogicalUnitReset,
    /// 6: TARGET WARM RESET.
    TargetWarmReset,
    /// 7: TARGET COLD RESET (the target also drops all connections).
    TargetColdReset,
    /// 8: TASK REASSIGN, moving a task's allegiance to the connection this
    /// request is sent on (ERL 2, §7.2.2).
    TaskReassign {
        /// ITT of the task to move.
        referenced_task_tag: u32,
        /// Next DataSN expected (reads/bidirectional, from
        /// [`crate::datain::DataInTracker::prepare_reassign`]) or next
        /// R2TSN (writes, from [`crate::dataout::WriteTransfer::reassign`]);
        /// 0 means "resend everything not acknowledged".
        exp_data_sn: u32,
    },
}

/// The header fields of a TMF request PDU (RFC 7143 §11.5) other than CmdSN
/// and ExpStatSN, which the session fills in when it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TmfRequestFields {
    /// I bit. Always set: a TMF must not wait behind the commands it is
    /// meant to manage, and LIO rejects a non-immediate TASK REASSIGN.
    pub immediate: bool,
    /// Function code (7 bits).
    pub function: u8,
    /// LUN, or zero for the target-wide resets where it is reserved.
    pub lun: [u8; 8],
    /// Referenced Task Tag, 0xffffffff where not used.
    pub referenced_task_tag: u32,
    /// RefCmdSN, 0 where reserved.
    pub ref_cmd_sn: u32,
    /// ExpDataSN, 0 where reserved.
    pub exp_data_sn: u32,
}

/// Which tasks a TMF acts on, so the task table knows what to terminate
/// once the response says "complete".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TmfScope {
    /// One task, by ITT.
    Task(u32),
    /// Every task of the LUN in the request.
    LogicalUnit,
    /// Every task of the session.
    Target,
    /// No task is terminated (CLEAR ACA only clears the ACA condition; TASK
    /// REASSIGN keeps the task alive).
    None,
}

impl TmfRequest {
    /// The function code (RFC 7143 §11.5.1).
    pub const fn function(&self) -> u8 {
        match self {
            TmfRequest::AbortTask { .. } => 1,
            TmfRequest::AbortTaskSet => 2,
            TmfRequest::ClearAca => 3,
            TmfRequest::ClearTaskSet => 4,
            TmfRequest::LogicalUnitReset => 5,
            TmfRequest::TargetWarmReset => 6,
            TmfRequest::TargetColdReset => 7,
            TmfRequest::TaskReassign { .. } => 8,
        }
    }

    /// The tasks this function terminates when it completes.
    pub const fn scope(&self) -> TmfScope {
        match self {
            TmfRequest::AbortTask {
                referenced_task_tag,
                ..
            } => TmfScope::Task(*referenced_task_tag),
            TmfRequest::AbortTaskSet | TmfRequest::ClearTaskSet | TmfRequest::LogicalUnitReset => {
                TmfScope::LogicalUnit
            }
            TmfRequest::TargetWarmReset | TmfRequest::TargetColdReset => TmfScope::Target,
            TmfRequest::ClearAca | TmfRequest::TaskReassign { .. } => TmfScope::None,
        }
    }

    /// Lay out the request's fields for `lun` (§11.5). The LUN is reserved
    /// for the target resets and sent as zero there.
    pub const fn fields(&self, lun: [u8; 8]) -> TmfRequestFields {
        let (referenced_task_tag, ref_cmd_sn, exp_data_sn) = match *self {
            TmfRequest::AbortTask {
                referenced_task_tag,
                ref_cmd_sn,
            } => (referenced_task_tag, ref_cmd_sn, 0),
            TmfRequest::TaskReassign {
                referenced_task_tag,
                exp_data_sn,
            } => (referenced_task_tag, 0, exp_data_sn),
            _ => (RESERVED_TAG, 0, 0),
        };
        let lun = match self.scope() {
            TmfScope::Target => [0; 8],
            _ => lun,
        };
        TmfRequestFields {
            immediate: true,
            function: self.function(),
            lun,
            referenced_task_tag,
            ref_cmd_sn,
            exp_data_sn,
        }
    }
}

/// TMF Response codes (RFC 7143 §11.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TmfResponse {
    /// 0: Function complete.
    Complete,
    /// 1: Task does not exist.
    TaskDoesNotExist,
    /// 2: LUN does not exist.
    LunDoesNotExist,
    /// 3: Task still allegiant (TASK REASSIGN before the old connection
    /// was logged out).
    TaskStillAllegiant,
    /// 4: Task allegiance reassignment not supported.
    ReassignNotSupported,
    /// 5: Task management function not supported.
    FunctionNotSupported,
    /// 6: Function authorization failed.
    AuthorizationFailed,
    /// 255: Function rejected.
    Rejected,
    /// A value RFC 7143 does not define.
    Unknown(u8),
}

impl TmfResponse {
    /// Decode the Response byte.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0 => TmfResponse::Complete,
            1 => TmfResponse::TaskDoesNotExist,
            2 => TmfResponse::LunDoesNotExist,
            3 => TmfResponse::TaskStillAllegiant,
            4 => TmfResponse::ReassignNotSupported,
            5 => TmfResponse::FunctionNotSupported,
            6 => TmfResponse::AuthorizationFailed,
            255 => TmfResponse::Rejected,
            other => TmfResponse::Unknown(other),
        }
    }
}

/// What the session should do with the task(s) after a TMF response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TmfVerdict {
    /// The function did what was asked: terminate the tasks in
    /// [`TmfRequest::scope`] (for TASK REASSIGN: the task now belongs to the
    /// new connection; resume it there).
    Done,
    /// ABORT TASK found no such task: it already completed (its response
    /// was or will be delivered) or never reached the target; either way
    /// nothing more will come for it once earlier status is in (§11.6.1).
    TaskGone,
    /// TASK REASSIGN found no such task: the target dropped it (e.g.
    /// Time2Retain expired); fail the command back to SCSI for a retry.
    ReassignTaskLost,
    /// TASK REASSIGN came before the target finished logging out the old
    /// connection; send it again after the Logout Response.
    RetryAfterLogout,
    /// TASK REASSIGN is not available (4, or 5 as LIO answers below ERL 2):
    /// fall back to session recovery.
    ReassignUnavailable,
    /// The function failed; escalate (ABORT TASK → LUN RESET → target reset
    /// → session recovery).
    Failed(TmfResponse),
}

/// Interpret the Response byte of a TMF Response to `request`.
pub const fn interpret(request: &TmfRequest, response: u8) -> TmfVerdict {
    let rsp = TmfResponse::from_u8(response);
    let reassign = matches!(request, TmfRequest::TaskReassign { .. });
    match rsp {
        TmfResponse::Complete => TmfVerdict::Done,
        TmfResponse::TaskDoesNotExist if reassign => TmfVerdict::ReassignTaskLost,
        TmfResponse::TaskDoesNotExist if matches!(request, TmfRequest::AbortTask { .. }) => {
            TmfVerdict::TaskGone
        }
        TmfResponse::TaskStillAllegiant if reassign => TmfVerdict::RetryAfterLogout,
        TmfResponse::ReassignNotSupported | TmfResponse::FunctionNotSupported if reassign => {
            TmfVerdict::ReassignUnavailable
        }
        other => TmfVerdict::Failed(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LUN2: [u8; 8] = [0, 2, 0, 0, 0, 0, 0, 0];

    #[test]
    fn function_codes_follow_rfc7143() {
        let reqs = [
            (
                TmfRequest::AbortTask {
                    referenced_task_tag: 1,
                    ref_cmd_sn: 2,
                },
                1,
            ),
            (TmfRequest::AbortTaskSet, 2),
            (TmfRequest::ClearAca, 3),
            (TmfRequest::ClearTaskSet, 4),
            (TmfRequest::LogicalUnitReset, 5),
            (TmfRequest::TargetWarmReset, 6),
            (TmfRequest::TargetColdReset, 7),
            (
                TmfRequest::TaskReassign {
                    referenced_task_tag: 1,
                    exp_data_sn: 0,
                },
                8,
            ),
        ];
        for (req, code) in reqs {
            assert_eq!(req.function(), code);
            assert_eq!(req.fields(LUN2).function, code);
            assert!(req.fields(LUN2).immediate);
        }
    }

    #[test]
    fn abort_task_fields() {
        let f = TmfRequest::AbortTask {
            referenced_task_tag: 0x10,
            ref_cmd_sn: 77,
        }
        .fields(LUN2);
        assert_eq!(
            f,
            TmfRequestFields {
                immediate: true,
                function: 1,
                lun: LUN2,
                referenced_task_tag: 0x10,
                ref_cmd_sn: 77,
                exp_data_sn: 0
            }
        );
    }

    #[test]
    fn reassign_carries_exp_data_sn_and_lun() {
        let req = TmfRequest::TaskReassign {
            referenced_task_tag: 0x99,
            exp_data_sn: 12,
        };
        let f = req.fields(LUN2);
        assert_eq!(
            (f.referenced_task_tag, f.ref_cmd_sn, f.exp_data_sn, f.lun),
            (0x99, 0, 12, LUN2)
        );
        assert_eq!(req.scope(), TmfScope::None);
    }

    #[test]
    fn lun_and_target_scoped_functions() {
        let f = TmfRequest::LogicalUnitReset.fields(LUN2);
        assert_eq!(
            (f.referenced_task_tag, f.lun, f.ref_cmd_sn),
            (0xffff_ffff, LUN2, 0)
        );
        assert_eq!(TmfRequest::LogicalUnitReset.scope(), TmfScope::LogicalUnit);
        let f = TmfRequest::TargetWarmReset.fields(LUN2);
        assert_eq!(f.lun, [0; 8]);
        assert_eq!(TmfRequest::TargetColdReset.scope(), TmfScope::Target);
        assert_eq!(
            TmfRequest::AbortTask {
                referenced_task_tag: 5,
                ref_cmd_sn: 0
            }
            .scope(),
            TmfScope::Task(5)
        );
    }

    #[test]
    fn response_codes_decode() {
        let table = [
            (0, TmfResponse::Complete),
            (1, TmfResponse::TaskDoesNotExist),
            (2, TmfResponse::LunDoesNotExist),
            (3, TmfResponse::TaskStillAllegiant),
            (4, TmfResponse::ReassignNotSupported),
            (5, TmfResponse::FunctionNotSupported),
            (6, TmfResponse::AuthorizationFailed),
            (255, TmfResponse::Rejected),
            (7, TmfResponse::Unknown(7)),
        ];
        for (v, r) in table {
            assert_eq!(TmfResponse::from_u8(v), r);
        }
    }

    #[test]
    fn verdicts() {
        let reassign = TmfRequest::TaskReassign {
            referenced_task_tag: 1,
            exp_data_sn: 0,
        };
        let abort = TmfRequest::AbortTask {
            referenced_task_tag: 1,
            ref_cmd_sn: 1,
        };
        assert_eq!(interpret(&reassign, 0), TmfVerdict::Done);
        assert_eq!(interpret(&reassign, 1), TmfVerdict::ReassignTaskLost);
        assert_eq!(interpret(&reassign, 3), TmfVerdict::RetryAfterLogout);
        assert_eq!(interpret(&reassign, 4), TmfVerdict::ReassignUnavailable);
        assert_eq!(interpret(&reassign, 5), TmfVerdict::ReassignUnavailable);
        assert_eq!(
            interpret(&reassign, 255),
            TmfVerdict::Failed(TmfResponse::Rejected)
        );
        assert_eq!(interpret(&abort, 1), TmfVerdict::TaskGone);
        assert_eq!(
            interpret(&abort, 3),
            TmfVerdict::Failed(TmfResponse::TaskStillAllegiant)
        );
        assert_eq!(
            interpret(&TmfRequest::LogicalUnitReset, 2),
            TmfVerdict::Failed(TmfResponse::LunDoesNotExist)
        );
        assert_eq!(
            interpret(&TmfRequest::LogicalUnitReset, 5),
            TmfVerdict::Failed(TmfResponse::FunctionNotSupported)
        );
        assert_eq!(
            interpret(&TmfRequest::AbortTaskSet, 1),
            TmfVerdict::Failed(TmfResponse::TaskDoesNotExist)
        );
    }
}
