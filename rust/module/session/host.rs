// SPDX-License-Identifier: GPL-2.0
//! The session as a SCSI host: `queuecommand` and the error handler.
//!
//! `queuecommand` takes only the session's spinlock (no global lock), does
//! not sleep and allocates nothing: the CmdSN, ITT and per-command state
//! come from fixed tables, and the command goes onto its connection's
//! transmit ring. The error handler may sleep: it sends a TMF and waits
//! for the response.
#![forbid(unsafe_code)]

use crate::abs::scsi::{Busy, Command, CommandId, EhCommand, HostByte, HostOps};
use crate::conn::link::{ConnIo, Ctrl};
use crate::proto::pdu::Lun;
use crate::proto::task::{Direction, NewTask};
use crate::proto::tmf::{self, TmfRequest, TmfResponse, TmfVerdict};
use crate::session::datapath::{CmdSlot, CtrlWait, IoInner, IoState, SessionIo};
use crate::session::task::{Issue, TaskIo, TxStage};
use kernel::prelude::*;
use kernel::sync::{Arc, CondVarTimeoutResult};

/// How long the error handler waits for a TMF response.
const TMF_TIMEOUT_MS: u32 = 10_000;
/// How much longer than ReplacementTimeout a target reset by session
/// reinstatement waits for the session (the recovery's last login attempt
/// may start just before the deadline).
const REINSTATE_SLACK_MS: u64 = 5_000;

impl HostOps for SessionIo {
    type CmdPriv = Option<TaskIo>;

    fn queue_command(&self, mut cmd: Command<Self>) -> Result<(), Busy<Self>> {
        // One clock read per command: latency wants ns, the recovery
        // deadline ms on the same clock.
        let now_ns = self.now_ns();
        let now = now_ns / 1_000_000;
        let bytes = cmd.transfer_length();
        let conn = {
            let mut g = self.inner.lock();
            match g.state {
                IoState::Running => {}
                IoState::Recovering { deadline_ms } if now < deadline_ms => {
                    return Err(Busy(cmd));
                }
                // Past the replacement timeout (the recovery work marks the
                // session failed on its next attempt).
                IoState::Recovering { .. } | IoState::Failed | IoState::Stopping => {
                    drop(g);
                    self.fail_cmd(cmd, HostByte::TransportFailfast);
                    return Ok(());
                }
            }
            // The policy's one choice for this command, made under the
            // session's own lock, without allocating.
            let Some(conn) = g.pick_conn(bytes) else {
                return Err(Busy(cmd));
            };
            let issue = Issue {
                cid: conn.cid,
                now_ns,
            };
            let Ok(itt) = self.begin_task(&mut g, &mut cmd, issue) else {
                return Err(Busy(cmd));
            };
            g.balance.issued(usize::from(conn.cid), bytes);
            // Counted before the transmit work can see the command, so a
            // completion never overtakes its issue.
            self.sess.stats.issued(bytes);
            conn.conn.stats.issued(bytes);
            if let Some(t) = cmd.priv_mut().as_mut() {
                t.tx_queued = true;
            }
            let id = cmd.id();
            let idx = IoInner::slot_index(itt);
            if let Some(slot) = g.slots.get_mut(idx) {
                slot.cmd = Some(cmd);
                slot.id = Some(id);
            }
            conn.ring.lock().push_itt(itt);
            conn
        };
        conn.kick_tx();
        Ok(())
    }

    fn abort(&self, cmd: &EhCommand) -> bool {
        let Some((itt, cmd_sn, lun, conn)) = self.find(cmd.id()) else {
            // Completed before the error handler got to it.
            return true;
        };
        let req = TmfRequest::AbortTask {
            referenced_task_tag: itt,
            ref_cmd_sn: cmd_sn,
        };
        match self.tmf(&conn, req, lun) {
            Some(TmfVerdict::Done) | Some(TmfVerdict::TaskGone) => {
                self.release(|t| t == itt);
                true
            }
            _ => false,
        }
    }

    fn device_reset(&self, cmd: &EhCommand) -> bool {
        let lun = Lun::from_linux(cmd.lun());
        let Some(conn) = self.inner.lock().any_conn() else {
            return false;
        };
        match self.tmf(&conn, TmfRequest::LogicalUnitReset, lun) {
            Some(TmfVerdict::Done) => {
                self.reset_lun(lun);
                true
            }
            _ => false,
        }
    }

    fn target_reset(&self, _cmd: &EhCommand) -> bool {
        let Some(conn) = self.inner.lock().any_conn() else {
            return false;
        };
        if let Some(TmfVerdict::Done) = self.tmf(&conn, TmfRequest::TargetWarmReset, Lun::ZERO) {
            self.reset_tasks(|_| true);
            return true;
        }
        // LIO refuses TARGET WARM RESET (authorization failed, or rejected
        // when allowed), and a failed target reset leaves the midlayer
        // nothing but offlining the devices. Reinstating the session ends
        // every task of this I_T nexus at the target just as well (RFC 7143
        // §6.3.5), so do that, as open-iscsi does.
        self.reinstate(&conn)
    }
}

impl SessionIo {
    /// The live task of the command `id`: its ITT, CmdSN, LUN and
    /// connection.
    fn find(&self, id: CommandId) -> Option<(u32, u32, Lun, Arc<ConnIo>)> {
        let g = self.inner.lock();
        let t = g.tasks.iter().find(|t| {
            g.slots
                .get(IoInner::slot_index(t.itt))
                .is_some_and(|s| s.id == Some(id))
        })?;
        let conn = g
            .conns
            .get(usize::from(t.cid))
            .and_then(|c| c.clone())
            .filter(|c| c.is_alive())
            .or_else(|| g.any_conn())?;
        Some((t.itt, t.cmd_sn, t.lun, conn))
    }

    /// Sends `req` on `conn` and waits for its response; `None` on timeout
    /// or when the connection failed. Logs the function and the outcome,
    /// one line per TMF.
    fn tmf(&self, conn: &Arc<ConnIo>, req: TmfRequest, lun: Lun) -> Option<TmfVerdict> {
        let response = self.ctrl_exchange(conn, lun, |itt| Ctrl::Tmf { req, lun, itt });
        let name = req.function().name();
        let lun_no = lun.to_linux();
        let outcome = response.map_or("no response (timeout or connection lost)", |r| {
            TmfResponse::from_u8(r).name()
        });
        match req {
            TmfRequest::AbortTask {
                referenced_task_tag,
                ..
            } => pr_info!(
                "session {}: {} (LUN {}, ITT {:#x}): {}\n",
                self.sid,
                name,
                lun_no,
                referenced_task_tag,
                outcome
            ),
            _ => pr_info!(
                "session {}: {} (LUN {}): {}\n",
                self.sid,
                name,
                lun_no,
                outcome
            ),
        }
        response.map(|r| tmf::interpret(&req, r))
    }

    /// Target reset by session reinstatement: fails the connection (the
    /// outstanding commands go back to the midlayer for retry, new ones
    /// are held) and waits for the recovery to log in again with the same
    /// ISID. `true` once the session runs again.
    fn reinstate(&self, conn: &Arc<ConnIo>) -> bool {
        pr_info!(
            "session {}: target reset by session reinstatement\n",
            self.sid
        );
        // Not `conn.fail`: at ERL 2 that would be a connection recovery,
        // which keeps the tasks the reset must end.
        conn.up.session_dropped();
        let limit = self.now_ms() + self.params.replacement_timeout_ms + REINSTATE_SLACK_MS;
        loop {
            match self.inner.lock().state {
                IoState::Running => break,
                IoState::Recovering { .. } if self.now_ms() < limit => {}
                _ => {
                    pr_info!(
                        "session {}: target reset: the session did not come back\n",
                        self.sid
                    );
                    return false;
                }
            }
            kernel::time::delay::fsleep(kernel::time::Delta::from_millis(100));
        }
        pr_info!("session {}: target reset: session reinstated\n", self.sid);
        true
    }

    /// Allocates an ITT, queues the control PDU `make(itt)` and waits for
    /// the response byte (TMF or Logout Response).
    pub(crate) fn ctrl_exchange(
        &self,
        conn: &Arc<ConnIo>,
        lun: Lun,
        make: impl FnOnce(u32) -> Ctrl,
    ) -> Option<u8> {
        self.ctrl_exchange_times(conn, lun, make).map(|(r, _)| r)
    }

    /// As [`SessionIo::ctrl_exchange`], with the Time2Wait and Time2Retain
    /// of a Logout Response (0 for a TMF).
    pub(crate) fn ctrl_exchange_times(
        &self,
        conn: &Arc<ConnIo>,
        lun: Lun,
        make: impl FnOnce(u32) -> Ctrl,
    ) -> Option<(u8, (u16, u16))> {
        let itt = {
            let mut g = self.inner.lock();
            let cmd_sn = g.window.immediate_cmd_sn();
            let itt = g
                .tasks
                .insert(NewTask {
                    lun,
                    cmd_sn,
                    immediate: true,
                    cid: conn.cid,
                    direction: Direction::None,
                    expected_transfer_length: 0,
                })
                .ok()?;
            match g.tmf.iter_mut().find(|w| w.is_none()) {
                Some(w) => {
                    *w = Some(CtrlWait {
                        itt,
                        response: None,
                        lost: false,
                        times: (0, 0),
                    })
                }
                None => {
                    g.tasks.remove(itt);
                    return None;
                }
            }
            itt
        };
        conn.queue_ctrl(make(itt));
        let mut g = self.inner.lock();
        // `returned` also fires for every lent command coming back, so
        // each wait continues with what is left of the deadline rather
        // than starting it afresh (busy I/O would postpone it forever).
        let mut left = kernel::time::msecs_to_jiffies(TMF_TIMEOUT_MS);
        let response = loop {
            let w = g.tmf.iter().flatten().find(|w| w.itt == itt);
            if let Some(w) = w.filter(|w| w.response.is_some()) {
                break w.response.map(|r| (r, w.times));
            }
            if w.is_none_or(|w| w.lost) || !conn.is_alive() {
                break None;
            }
            match self.returned.wait_interruptible_timeout(&mut g, left) {
                CondVarTimeoutResult::Woken { jiffies } if jiffies > 0 => left = jiffies,
                _ => break None,
            }
        };
        for w in g.tmf.iter_mut() {
            if w.is_some_and(|w| w.itt == itt) {
                *w = None;
            }
        }
        g.tasks.remove(itt);
        response
    }

    /// Hands the commands of the tasks `pick` selects back to the error
    /// handler and frees the tasks. Only for commands the error handler
    /// owns (the one an abort was asked for).
    fn release(&self, pick: impl Fn(u32) -> bool) {
        self.end_tasks(pick, None);
    }

    /// Ends the tasks `pick` selects after a reset terminated them at the
    /// target: each command completes with `DID_RESET`, which the midlayer
    /// retries. A reset may come from the error handler, which owns the
    /// timed-out commands (their completion is then ignored), or from the
    /// SCSI reset ioctl (`sg_reset`), where the commands are still ours
    /// and only completing them gives them back; the target sends nothing
    /// more for them either way.
    fn reset_tasks(&self, pick: impl Fn(u32) -> bool) {
        self.end_tasks(pick, Some(HostByte::Reset));
    }

    /// Frees the tasks `pick` selects; their commands are completed with
    /// `fail` or, if `None`, handed to the error handler.
    fn end_tasks(&self, pick: impl Fn(u32) -> bool, fail: Option<HostByte>) {
        loop {
            let cmd = {
                let mut g = self.inner.lock();
                let Some(itt) = g
                    .tasks
                    .iter()
                    .find(|t| {
                        pick(t.itt)
                            && g.slots
                                .get(IoInner::slot_index(t.itt))
                                .is_some_and(|s| s.id.is_some() && (fail.is_none() || !unsent(s)))
                    })
                    .map(|t| t.itt)
                else {
                    return;
                };
                let c = self.finish_task(&mut g, itt);
                if let Some(s) = g.slots.get_mut(IoInner::slot_index(itt)) {
                    s.id = None;
                }
                c
            };
            match (cmd, fail) {
                (Some(c), Some(host)) => self.fail_cmd(c, host),
                (Some(c), None) => {
                    self.count_error(&c);
                    c.release_to_eh();
                }
                (None, _) => {}
            }
        }
    }

    /// Ends the tasks of `lun` after a LOGICAL UNIT RESET.
    fn reset_lun(&self, lun: Lun) {
        let itts = {
            let g = self.inner.lock();
            let mut mask = [false; crate::session::datapath::TASKS];
            for t in g.tasks.iter().filter(|t| t.lun == lun) {
                if let Some(m) = mask.get_mut(IoInner::slot_index(t.itt)) {
                    *m = true;
                }
            }
            mask
        };
        self.reset_tasks(|itt| itts.get(IoInner::slot_index(itt)).copied().unwrap_or(false));
    }
}

/// Whether the command in `s` has not gone out yet. A reset leaves such a
/// command alone: ending it would leave its CmdSN unsent, a hole the target
/// would wait on forever, and it reaches the target after the reset anyway.
fn unsent(s: &CmdSlot) -> bool {
    s.cmd
        .as_ref()
        .and_then(|c| c.priv_ref().as_ref())
        .is_some_and(|t| t.stage == TxStage::Command)
}
