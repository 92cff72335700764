// SPDX-License-Identifier: GPL-2.0
//! Recovery planner for a failed connection of an MC/S session: connection
//! recovery at ErrorRecoveryLevel 2 (RFC 7143 §7.1.4.3, §7.2), falling back to
//! session recovery (§6.3.5, §7.1.4.4).
//!
//! The planner is sans-IO and event driven. The session feeds it the failed
//! connection's outstanding tasks ([`TaskSnapshot`]) and then alternates
//! between [`Planner::poll`], which hands out the next [`Action`] (a PDU to
//! send, a login to run, or a verdict on one task), and the `on_*` methods,
//! which report the responses. Time is a caller-supplied millisecond clock;
//! [`Planner::next_deadline`] says when to poll again if nothing arrives.
//!
//! # Connection recovery (ERL 2)
//! 1. Wait Time2Wait (§13.15) after the failure.
//! 2. Log the failed CID out: an explicit Logout with reason code 2 on a
//!    surviving connection, carrying the last ExpStatSN sent on the failed
//!    one (§11.14), or a login that reinstates the CID (implicit logout).
//!    Nothing below happens before this completes: LIO answers a TASK
//!    REASSIGN sent earlier with response 3, and §7.2.1 forbids retrying
//!    unacknowledged commands before the old connection is logged out.
//! 3. Resend the unacknowledged commands (CmdSN not yet below ExpCmdSN)
//!    unchanged, same ITT and CmdSN, in CmdSN order: the target discarded
//!    them and holds every later CmdSN until the hole is filled (§4.2.2.1).
//! 4. After the Time2Wait of the Logout Response (§11.15.2), send TASK
//!    REASSIGN (function 8, immediate, §11.5.1) for each acknowledged task.
//!    Everything must be done before Time2Wait + Time2Retain (§13.16) runs
//!    out, after which the target discards the tasks.
//!
//! # Why re-issuing a lost task is safe
//! When TASK REASSIGN answers 1 ("task does not exist") the target no longer
//! holds the task, so it cannot still complete: the planner has the session
//! issue it again as a new task with a new CmdSN. A READ returns the medium's
//! current contents whichever incarnation runs. A WRITE carries the same data
//! to the same blocks, so running it twice leaves the same result as running
//! it once; and since the old incarnation is gone it cannot land after, and
//! undo, a later write. This is the same argument SCSI's own retry of a
//! timed-out READ or WRITE rests on, and it does not hold for
//! non-idempotent commands (COMPARE AND WRITE, reservations): the session
//! should map [`Action::ReissueCommand`] for those onto its normal "retry or
//! fail" decision instead of resending blindly.
//!
//! # Session recovery
//! Used when ERL < 2, when no surviving connection exists (and the CID is
//! not being reinstated), when the target refuses connection recovery (Logout
//! response 2 or 3, TMF response 4, 5, 255 or another error), when a
//! connection carrying a TASK REASSIGN fails too, and when Time2Retain expires
//! with work left. The session is reinstated (leading login, same ISID, TSIH
//! 0), which ends every task of the session on the target, so every task still
//! in the planner is issued again as new; if no login succeeds within the
//! replacement timeout they are failed back with a retryable status.
//!
//! Every task given to the planner leaves it exactly once, through one of
//! the terminal actions ([`Action::is_terminal`]). Until then the session must
//! leave the task alone; afterwards it is an ordinary task of the session
//! again (including, after session reinstatement, in the session's own
//! retry of all its tasks), and counts as issued on its new connection for
//! the load-balancing [`crate::policy::Policy`].
//!
//! # Driving it
//! ```
//! use rsiscsi_core::policy::{PathState, Policy, PolicyKind};
//! use rsiscsi_core::recovery::{Action, Direction, Planner, RecoveryConfig, TaskSnapshot};
//!
//! // CID 1 failed at t = 0 ms; CID 2 survives. ERL 2, ExpStatSN 40 on CID 1.
//! let conns = [PathState { cid: 1, usable: false }, PathState { cid: 2, usable: true }];
//! let mut policy = Policy::<4>::new(PolicyKind::RoundRobin);
//! let mut planner = Planner::<64>::new(RecoveryConfig::new(2, 1, 40));
//! planner
//!     .add_task(TaskSnapshot {
//!         itt: 7,
//!         cmd_sn: 100,
//!         lun: 0,
//!         direction: Direction::Read,
//!         acknowledged: true,
//!         next_data_sn: 3,
//!         next_r2t_sn: 0,
//!     })
//!     .unwrap();
//! planner.start(0).unwrap();
//! assert_eq!(planner.poll(0, &conns, |c| policy.select(c, 0)), None);
//! // Time2Wait (2 s) later: log CID 1 out on CID 2.
//! let at = planner.next_deadline().unwrap();
//! assert_eq!(
//!     planner.poll(at, &conns, |c| policy.select(c, 0)),
//!     Some(Action::SendLogout { conn: 1, via_cid: 2, cid: 1, exp_stat_sn: 40 })
//! );
//! planner.on_logout_response(at + 5, 0, 0, 20).unwrap();
//! assert_eq!(
//!     planner.poll(at + 5, &conns, |c| policy.select(c, 0)),
//!     Some(Action::SendTaskReassign { itt: 7, lun: 0, exp_data_sn: 3, conn: 1, cid: 2 })
//! );
//! planner.on_tmf_response(at + 9, 7, 0).unwrap();
//! assert_eq!(
//!     planner.poll(at + 9, &conns, |c| policy.select(c, 0)),
//!     Some(Action::TaskReassigned { itt: 7, cid: 2 })
//! );
//! assert!(planner.poll(at + 9, &conns, |c| policy.select(c, 0)).is_none());
//! assert!(planner.is_finished());
//! ```

mod planner;
mod table;

pub use planner::{Phase, Planner};

/// Data direction of a task, for TASK REASSIGN's ExpDataSN (RFC 7143 §11.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// No data transfer.
    None,
    /// Data-In (read).
    Read,
    /// Data-Out (write).
    Write,
    /// Both directions.
    Bidirectional,
}

/// What the planner needs to know about one outstanding task of the failed
/// connection; the session copies it out of its task table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskSnapshot {
    /// Initiator Task Tag (RFC 7143 §11.2.1.7).
    pub itt: u32,
    /// CmdSN the command was sent with (§4.2.2.1).
    pub cmd_sn: u32,
    /// LUN field exactly as sent in the command (§11.2.1.6).
    pub lun: u64,
    /// Data direction.
    pub direction: Direction,
    /// CmdSN serially below the session's ExpCmdSN: the target has received
    /// the command, so it needs TASK REASSIGN rather than a resend.
    pub acknowledged: bool,
    /// DataSN of the next Data-In PDU expected (reads; 0 if none received).
    pub next_data_sn: u32,
    /// R2TSN of the next R2T expected (writes; 0 if none received).
    pub next_r2t_sn: u32,
}

impl TaskSnapshot {
    /// ExpDataSN for TASK REASSIGN (RFC 7143 §11.5.1): the next DataSN for a
    /// read, the next R2TSN for a write, 0 ("start from the beginning") for
    /// a command without data. Bidirectional commands use the Data-In number
    /// (our reading of §11.5.1, not yet checked against a target).
    pub const fn exp_data_sn(&self) -> u32 {
        match self.direction {
            Direction::Read | Direction::Bidirectional => self.next_data_sn,
            Direction::Write => self.next_r2t_sn,
            Direction::None => 0,
        }
    }
}

/// How the failed CID is logged out (RFC 7143 §7.1.4.3 step 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutMethod {
    /// Logout Request with reason code 2 on a surviving connection (§11.14).
    Explicit,
    /// Log in a new connection with the same ISID, TSIH and CID; the login
    /// implicitly logs the old connection out (§6.3.4). Works without a
    /// surviving connection. If that login fails and a survivor exists the
    /// planner falls back to the explicit logout.
    Reinstate,
}

/// Parameters of one recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// Operational ErrorRecoveryLevel of the session (§13.20).
    pub erl: u8,
    /// CID of the failed connection.
    pub failed_cid: u16,
    /// The failed connection's ExpStatSN (one past the last in-order StatSN
    /// received on it), for the Logout Request (§11.14) or the reinstating
    /// Login. LIO drops the recovered commands whose status this
    /// acknowledges (`iscsit_discard_cr_cmds_by_expstatsn`), so it must
    /// cover every status already received, and nothing more.
    pub failed_exp_stat_sn: u32,
    /// Time2Wait in seconds: negotiated DefaultTime2Wait, or Parameter2 of
    /// the Async Message that announced the drop (§11.9.1).
    pub time2wait_s: u16,
    /// Time2Retain in seconds: negotiated DefaultTime2Retain or Parameter3 of
    /// the Async Message.
    pub time2retain_s: u16,
    /// How long session recovery may try to log in before failing the tasks.
    pub replacement_timeout_ms: u64,
    /// Pause between failed session reinstatement logins.
    pub relogin_interval_ms: u64,
    /// Pause before repeating a TASK REASSIGN answered with 3 (still
    /// allegiant).
    pub reassign_retry_ms: u64,
    /// How to log the failed CID out.
    pub logout: LogoutMethod,
}

impl RecoveryConfig {
    /// Defaults: RFC 7143 default Time2Wait 2 s and Time2Retain 20 s
    /// (§13.15, §13.16), open-iscsi's 120 s replacement timeout, relogin
    /// every second, reassign retry after half a second, explicit logout.
    pub const fn new(erl: u8, failed_cid: u16, failed_exp_stat_sn: u32) -> Self {
        RecoveryConfig {
            erl,
            failed_cid,
            failed_exp_stat_sn,
            time2wait_s: 2,
            time2retain_s: 20,
            replacement_timeout_ms: 120_000,
            relogin_interval_ms: 1_000,
            reassign_retry_ms: 500,
            logout: LogoutMethod::Explicit,
        }
    }
}

/// Next step for the session. `conn` is an index into the connection slice
/// passed to [`Planner::poll`], `cid` that connection's CID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send a Logout Request, reason code 2 "remove the connection for
    /// recovery" (RFC 7143 §11.14.1), for CID `cid` on connection `conn`,
    /// with ExpStatSN `exp_stat_sn`. Answer with
    /// [`Planner::on_logout_response`].
    SendLogout {
        /// Connection that carries the request.
        conn: usize,
        /// Its CID.
        via_cid: u16,
        /// CID being logged out (the failed one).
        cid: u16,
        /// Last ExpStatSN sent on the failed connection.
        exp_stat_sn: u32,
    },
    /// Log in a new connection with the session's ISID and TSIH and CID
    /// `cid` (connection reinstatement, §6.3.4), with ExpStatSN
    /// `exp_stat_sn`. Answer with [`Planner::on_connection_reinstated`].
    ReinstateConnection {
        /// The failed CID, reused.
        cid: u16,
        /// Acknowledges status received on the old connection.
        exp_stat_sn: u32,
    },
    /// Terminal. Resend the unacknowledged command unchanged (same ITT,
    /// CmdSN and CDB, §7.2.1) on `conn`; the task now belongs to that
    /// connection.
    RetryCommand {
        /// Initiator Task Tag.
        itt: u32,
        /// Its original CmdSN.
        cmd_sn: u32,
        /// Connection to send it on.
        conn: usize,
        /// Its CID.
        cid: u16,
    },
    /// Send a Task Management Function Request on `conn`: function 8 TASK
    /// REASSIGN, I bit set, LUN `lun`, Referenced Task Tag `itt`, ExpDataSN
    /// `exp_data_sn` (§11.5.1), with a fresh ITT of its own. Answer with
    /// [`Planner::on_tmf_response`] keyed by the referenced `itt`.
    SendTaskReassign {
        /// Referenced Task Tag: the task being moved.
        itt: u32,
        /// The task's LUN (LIO rejects a reassign whose LUN differs).
        lun: u64,
        /// Where the target resumes (see [`TaskSnapshot::exp_data_sn`]).
        exp_data_sn: u32,
        /// Connection that carries the request and receives the task.
        conn: usize,
        /// Its CID.
        cid: u16,
    },
    /// Terminal. The target accepted TASK REASSIGN (response 0): the task is
    /// allegiant to `cid` and continues there (Data-In from ExpDataSN, new
    /// R2Ts, status with that connection's StatSN).
    TaskReassigned {
        /// Initiator Task Tag.
        itt: u32,
        /// Its new connection.
        cid: u16,
    },
    /// Terminal. The target no longer knows the task (TMF response 1): issue
    /// it again as a new task with a new CmdSN, preferably on `conn` (see
    /// the module documentation for why this is safe).
    ReissueCommand {
        /// Initiator Task Tag.
        itt: u32,
        /// Suggested connection.
        conn: usize,
        /// Its CID.
        cid: u16,
    },
    /// Reinstate the session: leading login with the same ISID and TSIH 0
    /// (§6.3.5). Answer with [`Planner::on_session_reinstated`].
    ReinstateSession,
    /// Terminal. The session was reinstated: issue the task again as new
    /// (new CmdSN) in the new session.
    ReissueInNewSession {
        /// Initiator Task Tag.
        itt: u32,
    },
    /// The replacement timeout expired without a new session; the
    /// [`Action::FailTask`] actions follow.
    ReplacementTimeout,
    /// Terminal. Complete the command with a retryable host status (the
    /// Linux equivalent is DID_TRANSPORT_DISRUPTED / FAILFAST).
    FailTask {
        /// Initiator Task Tag.
        itt: u32,
    },
}

impl Action {
    /// The ITT of the task this action ends the planner's responsibility
    /// for, if it is one of the terminal actions.
    pub const fn terminal_itt(&self) -> Option<u32> {
        match *self {
            Action::RetryCommand { itt, .. }
            | Action::TaskReassigned { itt, .. }
            | Action::ReissueCommand { itt, .. }
            | Action::ReissueInNewSession { itt }
            | Action::FailTask { itt } => Some(itt),
            _ => None,
        }
    }

    /// Whether the action hands a task back to the session.
    pub const fn is_terminal(&self) -> bool {
        self.terminal_itt().is_some()
    }
}

/// Errors from feeding the planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryError {
    /// More tasks than the planner's capacity `T`.
    TableFull,
    /// A task with this ITT was already added.
    DuplicateItt,
    /// Tasks can only be added before [`Planner::start`], and it runs once.
    AlreadyStarted,
    /// The planner is not waiting for this response (late, duplicate, or
    /// after a switch to session recovery); it was ignored.
    Unexpected,
    /// No TASK REASSIGN is outstanding for this Referenced Task Tag.
    UnknownTask,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_data_sn_follows_direction() {
        let mut t = TaskSnapshot {
            itt: 1,
            cmd_sn: 2,
            lun: 0,
            direction: Direction::Read,
            acknowledged: true,
            next_data_sn: 11,
            next_r2t_sn: 4,
        };
        assert_eq!(t.exp_data_sn(), 11);
        t.direction = Direction::Write;
        assert_eq!(t.exp_data_sn(), 4);
        t.direction = Direction::Bidirectional;
        assert_eq!(t.exp_data_sn(), 11);
        t.direction = Direction::None;
        assert_eq!(t.exp_data_sn(), 0);
    }

    #[test]
    fn defaults_match_rfc_7143() {
        let c = RecoveryConfig::new(2, 3, 9);
        assert_eq!((c.time2wait_s, c.time2retain_s), (2, 20));
        assert_eq!((c.erl, c.failed_cid, c.failed_exp_stat_sn), (2, 3, 9));
        assert_eq!(c.logout, LogoutMethod::Explicit);
    }
}
