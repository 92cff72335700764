// SPDX-License-Identifier: GPL-2.0
//! The recovery state machine (see the parent module for the procedure).

use super::super::policy::PathState;
use super::super::serial::SerialNumber;
use super::table::{TaskState, TaskTable, Tracked};
use super::{Action, LogoutMethod, RecoveryConfig, RecoveryError, TaskSnapshot};

/// Coarse progress of a recovery, for diagnostics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Collecting tasks; [`Planner::start`] not called yet.
    Idle,
    /// Waiting out Time2Wait before touching the failed connection.
    Time2Wait,
    /// Logout Request for the failed CID sent, response pending.
    AwaitLogout,
    /// Login reinstating the failed CID running.
    AwaitConnectionLogin,
    /// Failed CID logged out: resending and reassigning tasks.
    Reassigning,
    /// Reinstating the session, re-issuing or failing the remaining tasks.
    SessionRecovery,
    /// Every task handed back.
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Idle,
    Time2Wait,
    AwaitLogout {
        via_cid: u16,
    },
    AwaitConnLogin,
    Reassign {
        not_before: u64,
    },
    SessionLogin {
        in_flight: bool,
        next_try: u64,
        deadline: u64,
    },
    SessionReissue,
    SessionFailed {
        announced: bool,
    },
    Done,
}

enum Step {
    Act(Action),
    Again,
    Wait,
}

/// Longest chain of stage changes one poll can make without emitting an
/// action (Time2Wait -> session login -> failed -> done); bounds the loop
/// that replaces recursion.
const MAX_TRANSITIONS: usize = 8;

/// Recovery of one failed connection with up to `T` outstanding tasks.
///
/// It holds the task list inline (about 48 bytes per task), so keep it in
/// the session structure rather than on the stack: [`Planner::new`] is a
/// `const fn` and [`Planner::reset`] reuses it in place.
#[derive(Debug, Clone)]
pub struct Planner<const T: usize> {
    cfg: RecoveryConfig,
    method: LogoutMethod,
    stage: Stage,
    /// End of the initial Time2Wait.
    t2w_until: u64,
    /// From this instant the target may have discarded the tasks.
    retain_until: u64,
    /// The failed CID was reinstated by a login, so that CID now names a
    /// healthy connection.
    cid_reinstated: bool,
    tasks: TaskTable<T>,
}

fn secs_to_ms(s: u16) -> u64 {
    u64::from(s) * 1000
}

impl<const T: usize> Planner<T> {
    /// An idle planner for `cfg`.
    pub const fn new(cfg: RecoveryConfig) -> Self {
        Planner {
            cfg,
            method: cfg.logout,
            stage: Stage::Idle,
            t2w_until: 0,
            retain_until: 0,
            cid_reinstated: false,
            tasks: TaskTable::new(),
        }
    }

    /// Drops all state and prepares for a new recovery with `cfg`.
    pub fn reset(&mut self, cfg: RecoveryConfig) {
        self.cfg = cfg;
        self.method = cfg.logout;
        self.stage = Stage::Idle;
        self.t2w_until = 0;
        self.retain_until = 0;
        self.cid_reinstated = false;
        self.tasks.clear();
    }

    /// Adds an outstanding task of the failed connection (before
    /// [`Planner::start`]).
    pub fn add_task(&mut self, task: TaskSnapshot) -> Result<(), RecoveryError> {
        if self.stage != Stage::Idle {
            return Err(RecoveryError::AlreadyStarted);
        }
        self.tasks.push(task)
    }

    /// Starts the recovery; `now` is when the failure was detected, which is
    /// where Time2Wait and Time2Retain count from.
    pub fn start(&mut self, now: u64) -> Result<(), RecoveryError> {
        if self.stage != Stage::Idle {
            return Err(RecoveryError::AlreadyStarted);
        }
        self.t2w_until = now.saturating_add(secs_to_ms(self.cfg.time2wait_s));
        self.retain_until = self
            .t2w_until
            .saturating_add(secs_to_ms(self.cfg.time2retain_s));
        if self.cfg.erl >= 2 {
            self.stage = Stage::Time2Wait;
        } else {
            // Connection recovery needs ERL 2 (RFC 7143 §7.1.5); below it a
            // failed connection takes the whole session down.
            self.enter_session_recovery(now);
        }
        Ok(())
    }

    /// Coarse progress.
    pub fn phase(&self) -> Phase {
        match self.stage {
            Stage::Idle => Phase::Idle,
            Stage::Time2Wait => Phase::Time2Wait,
            Stage::AwaitLogout { .. } => Phase::AwaitLogout,
            Stage::AwaitConnLogin => Phase::AwaitConnectionLogin,
            Stage::Reassign { .. } => Phase::Reassigning,
            Stage::SessionLogin { .. } | Stage::SessionReissue | Stage::SessionFailed { .. } => {
                Phase::SessionRecovery
            }
            Stage::Done => Phase::Finished,
        }
    }

    /// Whether every task has been handed back and nothing is pending.
    pub fn is_finished(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Tasks not yet handed back.
    pub fn remaining(&self) -> usize {
        self.tasks.count(|t| t.state != TaskState::Done)
    }

    /// The time at which [`Planner::poll`] has something to do even if no
    /// response arrives; `None` when only a response (or nothing) can move
    /// the recovery on. Poll again after every `on_*` call as well.
    pub fn next_deadline(&self) -> Option<u64> {
        match self.stage {
            Stage::Idle | Stage::SessionReissue | Stage::SessionFailed { .. } | Stage::Done => None,
            Stage::Time2Wait => Some(self.t2w_until),
            Stage::AwaitLogout { .. } | Stage::AwaitConnLogin => Some(self.retain_until),
            Stage::Reassign { not_before } => {
                let waiting_reassign = self
                    .tasks
                    .any(|t| t.state == TaskState::Pending && t.snap.acknowledged)
                    .then_some(not_before);
                let retry = self.tasks.earliest(|t| match t.state {
                    TaskState::TmfRetryAt(at) => Some(at),
                    _ => None,
                });
                let retain = self.tasks.any(at_target).then_some(self.retain_until);
                [waiting_reassign, retry, retain]
                    .into_iter()
                    .flatten()
                    .min()
            }
            Stage::SessionLogin {
                in_flight,
                next_try,
                deadline,
            } => {
                if in_flight {
                    Some(deadline)
                } else {
                    Some(core::cmp::min(next_try, deadline))
                }
            }
        }
    }

    /// The session's ExpCmdSN moved to `exp_cmd_sn` (RFC 7143 §4.2.2.1): a
    /// pending task whose CmdSN is now serially below it reached the target
    /// after all, so it needs TASK REASSIGN rather than a resend.
    pub fn on_exp_cmd_sn(&mut self, exp_cmd_sn: u32) {
        let exp = SerialNumber(exp_cmd_sn);
        self.tasks.for_each_mut(|t| {
            if t.state == TaskState::Pending && SerialNumber(t.snap.cmd_sn).lt(exp) {
                t.snap.acknowledged = true;
            }
        });
    }

    /// Logout Response for the failed CID (RFC 7143 §11.15): `response` code,
    /// and the Time2Wait / Time2Retain fields in seconds.
    pub fn on_logout_response(
        &mut self,
        now: u64,
        response: u8,
        time2wait_s: u16,
        time2retain_s: u16,
    ) -> Result<(), RecoveryError> {
        if !matches!(self.stage, Stage::AwaitLogout { .. }) {
            return Err(RecoveryError::Unexpected);
        }
        match response {
            0 => {
                // §11.15.2/3: with response 0 at ERL 2 these fields are the
                // target's promise counted from now. They may only extend
                // the window: LIO leaves both at 0 (iscsit_build_logout_rsp
                // never sets them) yet keeps the tasks until the session
                // ends, and believing 0 would turn every recovery against it
                // into session recovery. Overstaying a target that meant it
                // costs little: its TASK REASSIGN answer is then 1 and the
                // task is re-issued.
                let not_before = now.saturating_add(secs_to_ms(time2wait_s));
                let promised = not_before.saturating_add(secs_to_ms(time2retain_s));
                self.retain_until = core::cmp::max(self.retain_until, promised);
                self.stage = Stage::Reassign { not_before };
            }
            // "CID not found": the target has already removed the
            // connection, which is what the logout was for. Its tasks may
            // or may not survive; TASK REASSIGN will tell (response 1).
            1 => self.stage = Stage::Reassign { not_before: now },
            // 2: connection recovery not supported; 3: cleanup failed.
            _ => self.enter_session_recovery(now),
        }
        Ok(())
    }

    /// Result of the login that reinstates the failed CID.
    pub fn on_connection_reinstated(
        &mut self,
        now: u64,
        success: bool,
    ) -> Result<(), RecoveryError> {
        if self.stage != Stage::AwaitConnLogin {
            return Err(RecoveryError::Unexpected);
        }
        if success {
            // The login's implicit logout is complete once it succeeds; no
            // further Time2Wait is announced on this path.
            self.cid_reinstated = true;
            self.stage = Stage::Reassign { not_before: now };
        } else {
            // Try the explicit logout instead; Time2Wait is already over, so
            // the next poll sends it (or starts session recovery when no
            // connection survives).
            self.method = LogoutMethod::Explicit;
            self.stage = Stage::Time2Wait;
        }
        Ok(())
    }

    /// Task Management Function Response (RFC 7143 §11.6.1) to the TASK
    /// REASSIGN whose Referenced Task Tag was `itt`.
    pub fn on_tmf_response(
        &mut self,
        now: u64,
        itt: u32,
        response: u8,
    ) -> Result<(), RecoveryError> {
        if !matches!(self.stage, Stage::Reassign { .. }) {
            return Err(RecoveryError::Unexpected);
        }
        let retry_at = now.saturating_add(self.cfg.reassign_retry_ms);
        let task = self
            .tasks
            .find(itt)
            .and_then(|i| self.tasks.get_mut(i))
            .ok_or(RecoveryError::UnknownTask)?;
        let TaskState::TmfSent { via_cid } = task.state else {
            return Err(RecoveryError::UnknownTask);
        };
        match response {
            0 => task.state = TaskState::Confirmed { cid: via_cid },
            1 => task.state = TaskState::Lost,
            // Still allegiant: the target has not finished the logout.
            3 => task.state = TaskState::TmfRetryAt(retry_at),
            // 4/5 not supported (LIO says 5 when ERL != 2), 255 rejected, or
            // anything else: the target will not move tasks.
            _ => self.enter_session_recovery(now),
        }
        Ok(())
    }

    /// Result of the session reinstatement login.
    pub fn on_session_reinstated(&mut self, now: u64, success: bool) -> Result<(), RecoveryError> {
        let Stage::SessionLogin {
            in_flight: true,
            deadline,
            ..
        } = self.stage
        else {
            return Err(RecoveryError::Unexpected);
        };
        self.stage = if success {
            Stage::SessionReissue
        } else {
            Stage::SessionLogin {
                in_flight: false,
                next_try: now.saturating_add(self.cfg.relogin_interval_ms),
                deadline,
            }
        };
        Ok(())
    }

    /// The next action at time `now`, or `None` when the recovery waits for
    /// a response or a deadline. Call repeatedly until `None`.
    ///
    /// `conns` is the session's current connection list. `pick` chooses the
    /// connection for each request (for instance the session's
    /// [`crate::policy::Policy::select`]); a choice that is not usable, or is
    /// the failed CID, is replaced by the first usable other connection.
    pub fn poll<F>(&mut self, now: u64, conns: &[PathState], mut pick: F) -> Option<Action>
    where
        F: FnMut(&[PathState]) -> Option<usize>,
    {
        for _ in 0..MAX_TRANSITIONS {
            match self.step(now, conns, &mut pick) {
                Step::Act(a) => return Some(a),
                Step::Again => continue,
                Step::Wait => return None,
            }
        }
        None
    }

    fn step<F>(&mut self, now: u64, conns: &[PathState], pick: &mut F) -> Step
    where
        F: FnMut(&[PathState]) -> Option<usize>,
    {
        match self.stage {
            Stage::Idle | Stage::Done => Step::Wait,
            Stage::Time2Wait => self.step_time2wait(now, conns, pick),
            Stage::AwaitLogout { via_cid } => {
                if let Some(s) = self.retain_expired_before_logout(now) {
                    return s;
                }
                if cid_usable(conns, via_cid) {
                    return Step::Wait;
                }
                // The carrier died with the request in flight: say it again
                // elsewhere. If the first one did reach the target, the
                // repeat is answered 0 or 1, and both count as logged out.
                self.send_logout(now, conns, pick)
            }
            Stage::AwaitConnLogin => self.retain_expired_before_logout(now).unwrap_or(Step::Wait),
            Stage::Reassign { not_before } => self.step_reassign(now, not_before, conns, pick),
            Stage::SessionLogin {
                in_flight,
                next_try,
                deadline,
            } => {
                if now >= deadline {
                    self.stage = Stage::SessionFailed { announced: false };
                    Step::Again
                } else if !in_flight && now >= next_try {
                    self.stage = Stage::SessionLogin {
                        in_flight: true,
                        next_try,
                        deadline,
                    };
                    Step::Act(Action::ReinstateSession)
                } else {
                    Step::Wait
                }
            }
            Stage::SessionReissue => match self.take(|t| t.state == TaskState::Session) {
                Some(t) => Step::Act(Action::ReissueInNewSession { itt: t.snap.itt }),
                None => self.finish(),
            },
            Stage::SessionFailed { announced } => {
                if !announced {
                    self.stage = Stage::SessionFailed { announced: true };
                    return Step::Act(Action::ReplacementTimeout);
                }
                match self.take(|t| t.state == TaskState::Session) {
                    Some(t) => Step::Act(Action::FailTask { itt: t.snap.itt }),
                    None => self.finish(),
                }
            }
        }
    }

    fn step_time2wait<F>(&mut self, now: u64, conns: &[PathState], pick: &mut F) -> Step
    where
        F: FnMut(&[PathState]) -> Option<usize>,
    {
        if now < self.t2w_until {
            return Step::Wait;
        }
        if let Some(s) = self.retain_expired_before_logout(now) {
            return s;
        }
        match self.method {
            LogoutMethod::Reinstate => {
                self.stage = Stage::AwaitConnLogin;
                Step::Act(Action::ReinstateConnection {
                    cid: self.cfg.failed_cid,
                    exp_stat_sn: self.cfg.failed_exp_stat_sn,
                })
            }
            LogoutMethod::Explicit => self.send_logout(now, conns, pick),
        }
    }

    fn send_logout<F>(&mut self, now: u64, conns: &[PathState], pick: &mut F) -> Step
    where
        F: FnMut(&[PathState]) -> Option<usize>,
    {
        match self.survivor(conns, pick) {
            Some((conn, via_cid)) => {
                self.stage = Stage::AwaitLogout { via_cid };
                Step::Act(Action::SendLogout {
                    conn,
                    via_cid,
                    cid: self.cfg.failed_cid,
                    exp_stat_sn: self.cfg.failed_exp_stat_sn,
                })
            }
            None => {
                self.enter_session_recovery(now);
                Step::Again
            }
        }
    }

    /// Before the logout completes, Time2Retain running out means the target
    /// has dropped the tasks: session recovery, or nothing at all when there
    /// were no tasks to save.
    fn retain_expired_before_logout(&mut self, now: u64) -> Option<Step> {
        if now < self.retain_until {
            return None;
        }
        if self.tasks.any(|t| t.state != TaskState::Done) {
            self.enter_session_recovery(now);
            Some(Step::Again)
        } else {
            Some(self.finish())
        }
    }

    fn step_reassign<F>(
        &mut self,
        now: u64,
        not_before: u64,
        conns: &[PathState],
        pick: &mut F,
    ) -> Step
    where
        F: FnMut(&[PathState]) -> Option<usize>,
    {
        let expired = now >= self.retain_until && self.tasks.any(at_target);
        // A TASK REASSIGN whose carrier failed may or may not have moved the
        // task to a connection that is now dead; only session recovery
        // resolves that.
        let carrier_lost = self.tasks.any(|t| match t.state {
            TaskState::TmfSent { via_cid } => !cid_usable(conns, via_cid),
            _ => false,
        });
        if expired || carrier_lost {
            self.enter_session_recovery(now);
            return Step::Again;
        }
        if let Some(t) = self.take(|t| matches!(t.state, TaskState::Confirmed { .. })) {
            if let TaskState::Confirmed { cid } = t.state {
                return Step::Act(Action::TaskReassigned {
                    itt: t.snap.itt,
                    cid,
                });
            }
        }
        // Unacknowledged resends first, lowest CmdSN first: the target is
        // holding every later command until these holes are filled.
        let resend = self
            .tasks
            .lowest_cmd_sn(|t| t.state == TaskState::Pending && !t.snap.acknowledged);
        let lost = self.tasks.position(|t| t.state == TaskState::Lost);
        let reassign = if now >= not_before {
            self.tasks.position(|t| match t.state {
                TaskState::Pending => t.snap.acknowledged,
                TaskState::TmfRetryAt(at) => now >= at,
                _ => false,
            })
        } else {
            None
        };
        let Some(i) = resend.or(lost).or(reassign) else {
            if self.tasks.any(|t| t.state != TaskState::Done) {
                return Step::Wait;
            }
            return self.finish();
        };
        let Some((conn, cid)) = self.survivor(conns, pick) else {
            self.enter_session_recovery(now);
            return Step::Again;
        };
        let Some(t) = self.tasks.get_mut(i) else {
            return Step::Wait;
        };
        let itt = t.snap.itt;
        if Some(i) == resend {
            t.state = TaskState::Done;
            Step::Act(Action::RetryCommand {
                itt,
                cmd_sn: t.snap.cmd_sn,
                conn,
                cid,
            })
        } else if Some(i) == lost {
            t.state = TaskState::Done;
            Step::Act(Action::ReissueCommand { itt, conn, cid })
        } else {
            t.state = TaskState::TmfSent { via_cid: cid };
            Step::Act(Action::SendTaskReassign {
                itt,
                lun: t.snap.lun,
                exp_data_sn: t.snap.exp_data_sn(),
                conn,
                cid,
            })
        }
    }

    fn enter_session_recovery(&mut self, now: u64) {
        self.tasks.for_each_mut(|t| {
            if t.state != TaskState::Done {
                t.state = TaskState::Session;
            }
        });
        // Reinstatement implicitly logs out every connection, so Time2Wait
        // applies to it as well (§13.15).
        self.stage = Stage::SessionLogin {
            in_flight: false,
            next_try: core::cmp::max(now, self.t2w_until),
            deadline: now.saturating_add(self.cfg.replacement_timeout_ms),
        };
    }

    fn finish(&mut self) -> Step {
        self.stage = Stage::Done;
        Step::Wait
    }

    /// Marks the first task matching `pred` as handed back and returns a copy
    /// of it as it was.
    fn take(&mut self, pred: impl Fn(&Tracked) -> bool) -> Option<Tracked> {
        let t = self.tasks.get_mut(self.tasks.position(pred)?)?;
        let before = *t;
        t.state = TaskState::Done;
        Some(before)
    }

    fn eligible(&self, c: &PathState) -> bool {
        c.usable && (c.cid != self.cfg.failed_cid || self.cid_reinstated)
    }

    fn survivor<F>(&self, conns: &[PathState], pick: &mut F) -> Option<(usize, u16)>
    where
        F: FnMut(&[PathState]) -> Option<usize>,
    {
        if let Some(i) = pick(conns) {
            if let Some(c) = conns.get(i).filter(|c| self.eligible(c)) {
                return Some((i, c.cid));
            }
        }
        let i = conns.iter().position(|c| self.eligible(c))?;
        conns.get(i).map(|c| (i, c.cid))
    }
}

/// Task whose fate still depends on state the target keeps only until
/// Time2Retain runs out.
fn at_target(t: &Tracked) -> bool {
    matches!(
        t.state,
        TaskState::Pending | TaskState::TmfSent { .. } | TaskState::TmfRetryAt(_)
    )
}

fn cid_usable(conns: &[PathState], cid: u16) -> bool {
    conns.iter().any(|c| c.cid == cid && c.usable)
}

#[cfg(test)]
mod tests;
