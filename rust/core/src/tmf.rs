// SPDX-License-Identifier: GPL-2.0
//! Task Management Function requests and responses (RFC 7143 §11.5, §11.6):
//! which fields each function uses, and what each response means for the
//! tasks involved.
//!
//! Function codes follow RFC 7143 §11.5.1 (TASK REASSIGN is 8, CLEAR ACA 3,
//! CLEAR TASK SET 4); see research/mcs-lio.md §0 on initiators that got
//! them wrong.

use super::pdu::{self, Lun, TmfFunction, RESERVED_TAG};

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
        /// [`super::datain::DataInTracker::prepare_reassign`]) or next
        /// R2TSN (writes, from [`super::dataout::WriteTransfer::reassign`]);
        /// 0 means "resend everything not acknowledged".
        exp_data_sn: u32,
    },
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
    pub const fn function(&self) -> TmfFunction {
        match self {
            TmfRequest::AbortTask { .. } => TmfFunction::AbortTask,
            TmfRequest::AbortTaskSet => TmfFunction::AbortTaskSet,
            TmfRequest::ClearAca => TmfFunction::ClearAca,
            TmfRequest::ClearTaskSet => TmfFunction::ClearTaskSet,
            TmfRequest::LogicalUnitReset => TmfFunction::LogicalUnitReset,
            TmfRequest::TargetWarmReset => TmfFunction::TargetWarmReset,
            TmfRequest::TargetColdReset => TmfFunction::TargetColdReset,
            TmfRequest::TaskReassign { .. } => TmfFunction::TaskReassign,
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

    /// The request PDU (§11.5) for `lun`, with the TMF's own `itt`, the
    /// session's `cmd_sn` and the connection's `exp_stat_sn`. It is always
    /// immediate: a TMF must not queue behind the commands it manages, and
    /// LIO rejects a non-immediate TASK REASSIGN. The LUN is reserved for
    /// the target resets and sent as zero there; Referenced Task Tag,
    /// RefCmdSN and ExpDataSN are 0xffffffff / 0 / 0 where unused.
    pub const fn to_pdu(
        &self,
        lun: Lun,
        itt: u32,
        cmd_sn: u32,
        exp_stat_sn: u32,
    ) -> pdu::TaskMgmtRequest {
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
            TmfScope::Target => Lun::ZERO,
            _ => lun,
        };
        pdu::TaskMgmtRequest {
            immediate: true,
            function: self.function(),
            lun,
            itt,
            referenced_task_tag,
            cmd_sn,
            exp_stat_sn,
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

    /// The response as RFC 7143 §11.6.1 words it, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            TmfResponse::Complete => "Function complete",
            TmfResponse::TaskDoesNotExist => "Task does not exist",
            TmfResponse::LunDoesNotExist => "LUN does not exist",
            TmfResponse::TaskStillAllegiant => "Task still allegiant",
            TmfResponse::ReassignNotSupported => "Task allegiance reassignment not supported",
            TmfResponse::FunctionNotSupported => "Task management function not supported",
            TmfResponse::AuthorizationFailed => "Function authorization failed",
            TmfResponse::Rejected => "Function rejected",
            TmfResponse::Unknown(_) => "unknown response",
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

/// Interpret a TMF Response to `request`.
pub const fn interpret_response(request: &TmfRequest, rsp: &pdu::TaskMgmtResponse) -> TmfVerdict {
    interpret(request, rsp.response)
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

    const LUN2: Lun = Lun([0, 2, 0, 0, 0, 0, 0, 0]);

    fn fields(req: &TmfRequest) -> pdu::TaskMgmtRequest {
        req.to_pdu(LUN2, 0x5000, 100, 200)
    }

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
            assert_eq!(req.function() as u8, code);
            let p = fields(&req);
            assert_eq!(p.function as u8, code);
            assert!(p.immediate);
            assert_eq!((p.itt, p.cmd_sn, p.exp_stat_sn), (0x5000, 100, 200));
        }
    }

    #[test]
    fn abort_task_fields() {
        let f = fields(&TmfRequest::AbortTask {
            referenced_task_tag: 0x10,
            ref_cmd_sn: 77,
        });
        let mut bhs = [0u8; pdu::BHS_LEN];
        f.encode(&mut bhs).unwrap();
        // RFC 7143 §11.5: I bit + opcode 0x02, F bit + function 1, LUN,
        // ITT, Referenced Task Tag, CmdSN, ExpStatSN, RefCmdSN, ExpDataSN.
        assert_eq!(&bhs[..2], &[0x42, 0x81]);
        assert_eq!(&bhs[8..16], &LUN2.0);
        assert_eq!(
            &bhs[16..40],
            &[0, 0, 0x50, 0, 0, 0, 0, 0x10, 0, 0, 0, 100, 0, 0, 0, 200, 0, 0, 0, 77, 0, 0, 0, 0]
        );
    }

    #[test]
    fn reassign_carries_exp_data_sn_and_lun() {
        let req = TmfRequest::TaskReassign {
            referenced_task_tag: 0x99,
            exp_data_sn: 12,
        };
        let f = fields(&req);
        assert_eq!(
            (f.referenced_task_tag, f.ref_cmd_sn, f.exp_data_sn, f.lun),
            (0x99, 0, 12, LUN2)
        );
        assert_eq!(req.scope(), TmfScope::None);
    }

    #[test]
    fn lun_and_target_scoped_functions() {
        let f = fields(&TmfRequest::LogicalUnitReset);
        assert_eq!(
            (f.referenced_task_tag, f.lun, f.ref_cmd_sn),
            (0xffff_ffff, LUN2, 0)
        );
        assert_eq!(TmfRequest::LogicalUnitReset.scope(), TmfScope::LogicalUnit);
        let f = fields(&TmfRequest::TargetWarmReset);
        assert_eq!(f.lun, Lun::ZERO);
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
        assert_eq!(
            TmfResponse::from_u8(6).name(),
            "Function authorization failed"
        );
        let names = table.map(|(_, r)| r.name());
        for (i, n) in names.iter().enumerate() {
            assert!(!n.is_empty() && !names[..i].contains(n), "{n}");
        }
    }

    #[test]
    fn function_names() {
        assert_eq!(
            TmfRequest::LogicalUnitReset.function().name(),
            "LOGICAL UNIT RESET"
        );
        let names = [1, 2, 3, 4, 5, 6, 7, 8].map(|c| TmfFunction::from_u8(c).unwrap().name());
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "{n}");
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
        let rsp = pdu::TaskMgmtResponse {
            response: 0,
            itt: 1,
            stat_sn: 0,
            exp_cmd_sn: 0,
            max_cmd_sn: 0,
        };
        assert_eq!(interpret_response(&reassign, &rsp), TmfVerdict::Done);
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
