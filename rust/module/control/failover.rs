// SPDX-License-Identifier: GPL-2.0
//! The failover work: connection recovery at ErrorRecoveryLevel 2 (RFC 7143
//! §7.1.4.3, §7.2) and the reinstatement of the failed connection once its
//! path answers again.
//!
//! For each failed connection the work drives the core's recovery planner:
//! after Time2Wait it logs the failed CID out with a Logout reason 2 on a
//! survivor, resends the commands the target never received unchanged (same
//! ITT and CmdSN: the target holds every later CmdSN behind them), and moves
//! the ones it holds with TASK REASSIGN, one survivor after another. When the
//! target will not (responses 2/3 to the logout, 4/5/255 to a reassign,
//! Time2Retain over) or the survivors fail too, the session is reinstated
//! instead, with every outstanding command retried. Then the CID is logged in
//! again on its own path, with backoff, and the policy gives it its share.
//!
//! Everything here may sleep (responses, logins, Time2Wait); it runs on the
//! session's queue while commands keep flowing on the other connections.
#![forbid(unsafe_code)]

use crate::abi::EventKind;
use crate::conn::link::Ctrl;
use crate::control::login::Failure;
use crate::control::mcs;
use crate::proto::pdu::Lun;
use crate::proto::policy::PathState;
use crate::proto::recovery::{Action, RecoveryConfig};
use crate::proto::tmf::TmfRequest;
use crate::session::datapath::{IoState, Join, SessionIo, MAX_CONNS};
use crate::session::failover::MoveError;
use crate::session::Session;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::time::Delta;

/// First pause before logging a failed connection in again; it doubles per
/// failed attempt up to [`REINSTATE_MAX_MS`].
const REINSTATE_MIN_MS: u64 = 500;
/// Longest pause between reinstatement attempts.
const REINSTATE_MAX_MS: u64 = 8_000;
/// Longest sleep of the work, so a new failure or a teardown is seen soon.
const TICK_MS: u64 = 100;

impl kernel::workqueue::WorkItem<1> for SessionIo {
    type Pointer = Arc<SessionIo>;
    fn run(this: Arc<SessionIo>) {
        run(&this);
    }
}

fn sleep_ms(ms: u64) {
    kernel::time::delay::fsleep(Delta::from_millis(ms.clamp(1, TICK_MS) as i64));
}

/// When and how often a down connection is logged in again.
#[derive(Clone, Copy, Default)]
struct Retry {
    next_try: u64,
    backoff: u64,
    attempts: u32,
}

impl Retry {
    /// A connection just went down: first attempt after the shortest pause.
    fn restart(&mut self, now: u64) {
        *self = Retry {
            next_try: now + REINSTATE_MIN_MS,
            backoff: REINSTATE_MIN_MS,
            attempts: 0,
        };
    }

    /// An attempt failed: back off.
    fn failed(&mut self, now: u64) {
        self.backoff = (self.backoff * 2).clamp(REINSTATE_MIN_MS, REINSTATE_MAX_MS);
        self.next_try = now + self.backoff;
    }
}

/// Recovers every failed connection, logs out the ones the target asked
/// for, then reinstates them until all are back or the session leaves the
/// running state.
fn run(io: &Arc<SessionIo>) {
    let sess = io.sess.clone();
    let mut retry = [Retry::default(); MAX_CONNS];
    loop {
        if io.state() != IoState::Running {
            return;
        }
        if let Some(cid) = io.take_failed() {
            if let Err(why) = recover(io, &sess, cid) {
                escalate(io, cid, why);
                return;
            }
            if let Some(r) = retry.get_mut(usize::from(cid)) {
                r.restart(io.now_ms());
            }
            continue;
        }
        let mut wake = u64::MAX;
        if let Some((cid, done, late)) = io.next_draining() {
            if done {
                log_out_drained(io, &sess, cid);
                if let Some(r) = retry.get_mut(usize::from(cid)) {
                    r.restart(io.now_ms());
                }
                continue;
            }
            if late {
                io.drain_done(cid);
                if let Some(link) = io.link(cid) {
                    link.set_closing(false);
                    link.fail("commands still outstanding at the target's logout deadline");
                }
                continue;
            }
            wake = io.now_ms() + TICK_MS;
        }
        let down = io.down_mask();
        if down == 0 && wake == u64::MAX {
            return;
        }
        for (cid, r) in (0u16..).zip(retry.iter_mut()) {
            if down & (1 << cid) == 0 {
                continue;
            }
            if io.now_ms() >= r.next_try {
                r.attempts += 1;
                match reinstate(io, &sess, cid) {
                    Ok(()) => {
                        pr_info!(
                            "session {}: connection {} reinstated after {} attempt(s)\n",
                            io.sid,
                            cid,
                            r.attempts
                        );
                        continue;
                    }
                    Err(f) => {
                        if r.attempts == 1 || r.attempts % 30 == 0 {
                            pr_info!(
                                "session {}: connection {}: reinstatement attempt {} failed: {}\n",
                                io.sid,
                                cid,
                                r.attempts,
                                core::str::from_utf8(f.msg.as_bytes()).unwrap_or("?")
                            );
                        }
                        r.failed(io.now_ms());
                    }
                }
            }
            wake = wake.min(r.next_try);
        }
        if wake != u64::MAX {
            sleep_ms(wake.saturating_sub(io.now_ms()));
        }
    }
}

/// Logs out connection `cid`, drained at the target's request (Async
/// Message event 1), with Logout reason 1 on itself, and leaves it to be
/// reinstated like a recovered one.
fn log_out_drained(io: &Arc<SessionIo>, sess: &Arc<Session>, cid: u16) {
    io.drain_done(cid);
    let Some(link) = io.link(cid) else {
        return;
    };
    mcs::log_out_connection(io, link, "logged out at the target's request");
    if let Some(c) = sess.connection(cid) {
        if let Some(ff) = c.take_full_feature() {
            ff.sock.shutdown();
        }
        c.set_down("logged out at the target's request");
    }
    sess.emit(
        EventKind::ConnDown,
        Some(cid),
        b"logged out at the target's request",
    );
    pr_info!(
        "session {}: connection {} logged out at the target's request; it will be reinstated\n",
        io.sid,
        cid
    );
    io.mark_down(cid);
}

/// The planner's configuration for failed connection `cid`, whose last
/// ExpStatSN was `exp_stat_sn`.
fn config(io: &SessionIo, sess: &Session, cid: u16, exp_stat_sn: u32) -> RecoveryConfig {
    let mut cfg = RecoveryConfig::new(io.params.erl, cid, exp_stat_sn);
    if let Some(n) = sess.inner.lock().negotiated {
        cfg.time2wait_s = n.session.default_time2wait;
        cfg.time2retain_s = n.session.default_time2retain;
    }
    cfg.replacement_timeout_ms = io.params.replacement_timeout_ms;
    cfg
}

/// Connection recovery of `cid`; `Err` (with why) when the session has to be
/// reinstated instead.
fn recover(io: &Arc<SessionIo>, sess: &Arc<Session>, cid: u16) -> Result<(), &'static str> {
    // The dead connection's work items stop on their own; wait for its
    // liveness timer and cut its socket callbacks before the CID is reused.
    let Some(old) = io.detach(cid) else {
        return Ok(());
    };
    old.wait_stopped();
    let exp_stat_sn = old.exp_stat_sn();
    drop(old);
    if let Some(c) = sess.connection(cid) {
        if let Some(ff) = c.take_full_feature() {
            ff.sock.shutdown();
        }
        c.set_down("failed; recovering");
    }
    let mut planner = io.planner.lock();
    planner.reset(config(io, sess, cid, exp_stat_sn));
    let n = io.snapshot_failed(cid, &mut planner);
    let cfg = config(io, sess, cid, exp_stat_sn);
    let usable = io.paths().as_slice().iter().filter(|p| p.usable).count();
    pr_info!(
        "session {}: connection {} failed: moving its {} command(s) to the {} other usable connection(s) (ERL 2, Time2Wait {} s, Time2Retain {} s)\n",
        io.sid,
        cid,
        n,
        usable,
        cfg.time2wait_s,
        cfg.time2retain_s
    );
    sess.emit(EventKind::RecoveryStart, Some(cid), b"connection recovery");
    planner
        .start(io.now_ms())
        .map_err(|_| "recovery planner refused to start")?;
    let mut turn = 0usize;
    // Requests go to the usable survivors in turn.
    let mut pick = |c: &[PathState]| -> Option<usize> {
        let usable = c.iter().filter(|p| p.usable && p.cid != cid).count();
        if usable == 0 {
            return None;
        }
        turn = turn.wrapping_add(1);
        c.iter()
            .enumerate()
            .filter(|(_, p)| p.usable && p.cid != cid)
            .nth(turn % usable)
            .map(|(i, _)| i)
    };
    let (mut retried, mut moved, mut reissued) = (0u32, 0u32, 0u32);
    loop {
        if io.state() != IoState::Running {
            // Session recovery took over (a survivor failed too); it
            // retries every command, these included.
            return Ok(());
        }
        let paths = io.paths();
        let now = io.now_ms();
        let Some(action) = planner.poll(now, paths.as_slice(), &mut pick) else {
            if planner.is_finished() {
                break;
            }
            let wait = planner
                .next_deadline()
                .map_or(TICK_MS, |d| d.saturating_sub(now));
            sleep_ms(wait);
            continue;
        };
        let cid_at = |i: usize| paths.as_slice().get(i).map(|p| p.cid);
        match action {
            Action::SendLogout {
                conn,
                cid: failed,
                exp_stat_sn,
                ..
            } => {
                let link = cid_at(conn)
                    .and_then(|c| io.link(c))
                    .ok_or("no connection for the logout")?;
                let r = io.ctrl_exchange_times(&link, Lun::ZERO, |itt| Ctrl::LogoutForRecovery {
                    cid: failed,
                    itt,
                    exp_stat_sn,
                });
                let (response, (t2w, t2r)) = r.ok_or("no Logout Response")?;
                if response != 0 {
                    pr_warn!(
                        "session {}: Logout (remove connection {} for recovery): response {}\n",
                        io.sid,
                        failed,
                        response
                    );
                }
                let _ = planner.on_logout_response(io.now_ms(), response, t2w, t2r);
                // The response's ExpCmdSN says which of the commands reached
                // the target after all: those are reassigned, not resent.
                planner.on_exp_cmd_sn(io.exp_cmd_sn());
            }
            Action::RetryCommand { itt, cid: to, .. } => {
                io.retry_on(itt, to).map_err(move_error)?;
                retried += 1;
            }
            Action::SendTaskReassign {
                itt, lun, cid: to, ..
            } => {
                let Some(exp_data_sn) = io.prepare_reassign(itt, to).map_err(move_error)? else {
                    // Gone meanwhile (released to the error handler).
                    let _ = planner.on_tmf_response(io.now_ms(), itt, 1);
                    continue;
                };
                let link = io.link(to).ok_or("no connection for TASK REASSIGN")?;
                let req = TmfRequest::TaskReassign {
                    referenced_task_tag: itt,
                    exp_data_sn,
                };
                let lun = Lun(lun.to_be_bytes());
                let response = io
                    .ctrl_exchange(&link, lun, |t| Ctrl::Tmf { req, lun, itt: t })
                    .ok_or("no response to TASK REASSIGN")?;
                if response != 0 {
                    pr_warn!(
                        "session {}: TASK REASSIGN (ITT {:#x} to connection {}): response {}\n",
                        io.sid,
                        itt,
                        to,
                        response
                    );
                }
                let _ = planner.on_tmf_response(io.now_ms(), itt, response);
            }
            Action::TaskReassigned { .. } => moved += 1,
            Action::ReissueCommand { itt, .. } => {
                io.reissue(itt);
                reissued += 1;
            }
            Action::ReinstateSession => {
                let p = io.paths();
                let usable = p.as_slice().iter().filter(|p| p.usable).count();
                pr_err!(
                    "session {}: connection {}: recovery planner gave up at {} ms (phase {:?}, {} usable of {} connection(s), {} task(s) left)\n",
                    io.sid,
                    cid,
                    io.now_ms(),
                    planner.phase(),
                    usable,
                    p.len,
                    planner.remaining()
                );
                return Err("the target refused connection recovery, or Time2Retain ran out");
            }
            // Only after a session reinstatement, which is not the
            // planner's to run here, or with the implicit logout, which is
            // not configured.
            Action::ReinstateConnection { .. }
            | Action::ReissueInNewSession { .. }
            | Action::ReplacementTimeout
            | Action::FailTask { .. } => return Err("unexpected recovery step"),
        }
    }
    drop(planner);
    pr_info!(
        "session {}: connection {} recovered: {} command(s) resent, {} reassigned, {} reissued\n",
        io.sid,
        cid,
        retried,
        moved,
        reissued
    );
    sess.emit(EventKind::RecoveryEnd, Some(cid), b"commands moved");
    io.mark_down(cid);
    Ok(())
}

fn move_error(e: MoveError) -> &'static str {
    match e {
        MoveError::ConnGone => "the connection chosen for a command failed too",
        MoveError::Unsupported => "a command's transfer could not be set up again",
    }
}

/// Connection recovery cannot finish: reinstate the session.
fn escalate(io: &Arc<SessionIo>, cid: u16, why: &str) {
    pr_err!(
        "session {}: connection {}: connection recovery failed ({}); reinstating the session\n",
        io.sid,
        cid,
        why
    );
    io.begin_session_recovery(None);
}

/// Logs connection `cid` in again on its own path (same CID: the target
/// forgot it at the recovery's logout) and gives it to the policy.
fn reinstate(io: &Arc<SessionIo>, sess: &Arc<Session>, cid: u16) -> Result<(), Failure> {
    let Some(conn) = sess.connection(cid) else {
        // Removed meanwhile.
        io.clear_down(cid);
        return Ok(());
    };
    let r = mcs::login_into(io, sess, &conn).and_then(|(ff, _)| {
        io.attach(&conn, ff, Join::Running).map_err(|e| Failure {
            err: e,
            msg: crate::control::login::Msg::from_str("the connection failed to start"),
        })
    });
    match r {
        Ok(_) => {
            io.clear_down(cid);
            sess.emit(EventKind::ConnUp, Some(cid), b"reinstated");
            Ok(())
        }
        Err(f) => {
            if let Some(ff) = conn.take_full_feature() {
                ff.sock.shutdown();
            }
            conn.set_down("reinstatement login failed");
            Err(f)
        }
    }
}
