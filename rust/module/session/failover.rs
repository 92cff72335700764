// SPDX-License-Identifier: GPL-2.0
//! Connection recovery at ErrorRecoveryLevel 2, the session's half (RFC 7143
//! §7.1.4.3, §7.2): what the control plane's failover work may do to the
//! tasks of a failed connection — copy them into the core's recovery
//! planner, resend an unacknowledged command unchanged on a survivor, move an
//! acknowledged one to a survivor ahead of its TASK REASSIGN, hand a lost one
//! back to the midlayer — each in one short critical section on the data
//! path's lock.
//!
//! While the work runs, the failed connection's tasks stay in the task
//! table under their ITTs and CmdSNs: the target still knows them by those,
//! and the CmdSN of a command it never received is a hole it holds every
//! later command behind until the resend fills it.
#![forbid(unsafe_code)]

use super::datapath::{IoInner, IoState, SessionIo, MAX_CONNS, TASKS};
use super::task::TxStage;
use crate::abs::scsi::HostByte;
use crate::conn::link::ConnIo;
use crate::proto::policy::PathState;
use crate::proto::recovery::{Direction as RecDir, Planner, TaskSnapshot};
use crate::proto::task::Direction;
use kernel::sync::{Arc, SpinLockGuard};

/// The recovery planner, sized for the session's task table.
pub(crate) type ConnPlanner = Planner<TASKS>;

/// The connections as the planner sees them.
pub(crate) struct Paths {
    /// One entry per connection in a slot.
    pub(crate) list: [PathState; MAX_CONNS],
    /// Entries used.
    pub(crate) len: usize,
}

impl Paths {
    /// The used entries.
    pub(crate) fn as_slice(&self) -> &[PathState] {
        self.list.get(..self.len).unwrap_or(&[])
    }
}

/// Why a task could not be moved to the connection chosen for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MoveError {
    /// That connection is gone or failed meanwhile.
    ConnGone,
    /// The command's transfer cannot be set up again (only for lengths the
    /// original setup refused already).
    Unsupported,
}

fn bit(cid: u16) -> u32 {
    1u32 << (u32::from(cid) % 32)
}

impl SessionIo {
    /// Whether connection `cid`'s failure can be recovered without the
    /// rest of the session: ERL 2, commands flowing, and another connection
    /// usable to carry the recovery.
    pub(super) fn connection_recoverable(&self, g: &IoInner, cid: u16) -> bool {
        self.params.erl == 2 && g.state == IoState::Running && g.other_usable(cid)
    }

    /// Queues the failover work (recovery, drain, reinstatement).
    pub(crate) fn kick_failover(self: &Arc<Self>) {
        let _ = self
            .queue
            .queue()
            .enqueue::<Arc<SessionIo>, 1>(self.clone());
    }

    /// Marks connection `cid` for the failover work (under the lock).
    pub(super) fn note_failed(&self, g: &mut IoInner, cid: u16) {
        g.failed |= bit(cid);
        g.down &= !bit(cid);
    }

    /// Takes the next connection waiting for connection recovery.
    pub(crate) fn take_failed(&self) -> Option<u16> {
        let mut g = self.inner.lock();
        if g.failed == 0 {
            return None;
        }
        let cid = g.failed.trailing_zeros() as u16;
        g.failed &= !bit(cid);
        Some(cid)
    }

    /// The target asked (Async Message event 1) to log connection `cid` out
    /// by `deadline_ms`: from now on the policy passes it over, and the
    /// failover work logs it out once its commands are done. `false` when
    /// it cannot be drained (the session's last usable connection, or not
    /// running): the caller treats the request as a connection failure.
    pub(crate) fn logout_requested(self: &Arc<Self>, cid: u16, deadline_ms: u64) -> bool {
        {
            let mut g = self.inner.lock();
            let g = &mut *g;
            if g.state != IoState::Running {
                return false;
            }
            let slot = usize::from(cid);
            let Some(link) = g.conns.get(slot).and_then(|c| c.clone()) else {
                return false;
            };
            if !g.other_usable(cid) {
                return false;
            }
            link.set_closing(true);
            g.balance.refresh(&g.conns);
            g.draining |= bit(cid);
            if let Some(d) = g.drain_deadline.get_mut(slot) {
                *d = deadline_ms;
            }
        }
        self.kick_failover();
        true
    }

    /// A connection the target asked to log out: its CID, whether its
    /// commands are done, and whether the target's deadline passed. It
    /// stays listed until [`SessionIo::drain_done`].
    pub(crate) fn next_draining(&self) -> Option<(u16, bool, bool)> {
        let g = self.inner.lock();
        if g.draining == 0 {
            return None;
        }
        let cid = g.draining.trailing_zeros() as u16;
        let deadline = g.drain_deadline.get(usize::from(cid)).copied().unwrap_or(0);
        Some((cid, g.outstanding_on(cid) == 0, self.now_ms() >= deadline))
    }

    /// Connection `cid` is no longer drained for a logout.
    pub(crate) fn drain_done(&self, cid: u16) {
        self.inner.lock().draining &= !bit(cid);
    }

    /// Connection `cid` is recovered from and waits to be reinstated.
    pub(crate) fn mark_down(&self, cid: u16) {
        let mut g = self.inner.lock();
        if g.state == IoState::Running {
            g.down |= bit(cid);
        }
    }

    /// Connection `cid` is not to be reinstated (back, or removed).
    pub(crate) fn clear_down(&self, cid: u16) {
        self.inner.lock().down &= !bit(cid);
    }

    /// The CIDs waiting to be reinstated, as a bit mask.
    pub(crate) fn down_mask(&self) -> u32 {
        self.inner.lock().down
    }

    /// The session's current ExpCmdSN.
    pub(crate) fn exp_cmd_sn(&self) -> u32 {
        self.inner.lock().window.exp_cmd_sn()
    }

    /// Every connection in a slot, with whether it may carry requests.
    pub(crate) fn paths(&self) -> Paths {
        let g = self.inner.lock();
        let mut p = Paths {
            list: [PathState {
                cid: 0,
                usable: false,
            }; MAX_CONNS],
            len: 0,
        };
        for (dst, c) in p.list.iter_mut().zip(g.conns.iter().flatten()) {
            *dst = PathState {
                cid: c.cid,
                usable: c.is_usable(),
            };
            p.len += 1;
        }
        p
    }

    /// Waits (sleeps) until no command of connection `cid` is lent to a
    /// work item: the failed connection's transmit and receive work give
    /// theirs back as they notice the failure.
    fn wait_unlent(&self, g: &mut SpinLockGuard<'_, IoInner>, cid: u16) {
        loop {
            let lent = g.tasks.iter().any(|t| {
                t.cid == cid
                    && g.slots
                        .get(IoInner::slot_index(t.itt))
                        .is_some_and(|s| s.lent)
            });
            if !lent {
                return;
            }
            self.returned.wait(g);
        }
    }

    /// Copies the outstanding commands of failed connection `cid` into
    /// `planner` and frees the ITTs of the immediate requests (pings) it
    /// left behind; returns how many commands it holds. A TMF or logout
    /// still waiting on that connection frees its own ITT.
    pub(crate) fn snapshot_failed(&self, cid: u16, planner: &mut ConnPlanner) -> usize {
        let mut g = self.inner.lock();
        self.wait_unlent(&mut g, cid);
        let g = &mut *g;
        let mut stale = [0u32; TASKS];
        let mut n_stale = 0;
        let mut n = 0;
        for t in g.tasks.iter().filter(|t| t.cid == cid) {
            if t.immediate {
                let waited = g.tmf.iter().flatten().any(|w| w.itt == t.itt);
                if let (false, Some(s)) = (waited, stale.get_mut(n_stale)) {
                    *s = t.itt;
                    n_stale += 1;
                }
                continue;
            }
            let io = g
                .slots
                .get(IoInner::slot_index(t.itt))
                .and_then(|s| s.cmd.as_ref())
                .and_then(|c| c.priv_ref().as_ref());
            let (next_data_sn, next_r2t_sn) = io.map_or((0, 0), |io| {
                let r2t = io.write.as_ref().map_or(0, |w| w.next_r2tsn());
                (io.datain.next_data_sn(), r2t)
            });
            let snap = TaskSnapshot {
                itt: t.itt,
                cmd_sn: t.cmd_sn,
                lun: u64::from_be_bytes(t.lun.0),
                direction: match t.direction {
                    Direction::None => RecDir::None,
                    Direction::Read => RecDir::Read,
                    Direction::Write => RecDir::Write,
                    Direction::Bidirectional => RecDir::Bidirectional,
                },
                acknowledged: t.acknowledged,
                next_data_sn,
                next_r2t_sn,
            };
            // The planner holds as many tasks as the table.
            if planner.add_task(snap).is_ok() {
                n += 1;
            }
        }
        for itt in stale.iter().take(n_stale) {
            g.tasks.remove(*itt);
        }
        n
    }

    /// The usable connection `to`, under the lock.
    fn usable(g: &IoInner, to: u16) -> Option<Arc<ConnIo>> {
        g.conns
            .get(usize::from(to))?
            .clone()
            .filter(|c| c.is_usable())
    }

    /// Points task `itt` at connection `to` for the policy and returns the
    /// CID it had and its byte count, for the counters.
    fn move_task(&self, g: &mut IoInner, itt: u32, to: u16, bytes: u32) -> Option<u16> {
        let t = g.tasks.get_mut(itt)?;
        let from = t.cid;
        t.cid = to;
        g.balance.issued(usize::from(to), bytes);
        Some(from)
    }

    /// Moves the connection counters' outstanding figures with a task.
    fn move_stats(&self, from: u16, to: &ConnIo, bytes: u32) {
        if let Some(old) = self.sess.connection(from) {
            old.stats.moved_out(bytes);
        }
        to.conn.stats.moved_in(bytes);
    }

    /// Resends command `itt`, which the target never received, unchanged
    /// (same ITT and CmdSN, RFC 7143 §7.2.1) on connection `to`. `Ok` also
    /// when the task ended meanwhile (the error handler released it).
    pub(crate) fn retry_on(&self, itt: u32, to: u16) -> core::result::Result<(), MoveError> {
        let p = self.params;
        let (link, moved) = {
            let mut g = self.inner.lock();
            let link = Self::usable(&g, to).ok_or(MoveError::ConnGone)?;
            if g.tasks.get(itt).is_none() {
                return Ok(());
            }
            let g = &mut *g;
            let slot = g
                .slots
                .get_mut(IoInner::slot_index(itt))
                .ok_or(MoveError::Unsupported)?;
            let Some(t) = slot.cmd.as_mut().and_then(|c| c.priv_mut().as_mut()) else {
                return Ok(());
            };
            let mut fresh = t
                .restarted(to, p.write, p.datain)
                .ok_or(MoveError::Unsupported)?;
            fresh.tx_queued = true;
            let bytes = fresh.bytes;
            *t = fresh;
            let from = self.move_task(g, itt, to, bytes);
            link.ring.lock().push_itt(itt);
            (link, from.map(|f| (f, bytes)))
        };
        if let Some((from, bytes)) = moved {
            self.move_stats(from, &link, bytes);
        }
        link.kick_tx();
        Ok(())
    }

    /// Moves command `itt`, which the target holds, to connection `to`
    /// ahead of its TASK REASSIGN and returns the ExpDataSN to send: a read
    /// goes on from the next Data-In (§7.2.2), a write drops its open R2Ts
    /// and answers the ones the target issues anew. `Ok(None)`: the task
    /// ended meanwhile.
    pub(crate) fn prepare_reassign(
        &self,
        itt: u32,
        to: u16,
    ) -> core::result::Result<Option<u32>, MoveError> {
        let p = self.params;
        let (link, exp, moved) = {
            let mut g = self.inner.lock();
            let link = Self::usable(&g, to).ok_or(MoveError::ConnGone)?;
            if g.tasks.get(itt).is_none() {
                return Ok(None);
            }
            let g = &mut *g;
            let Some(t) = g
                .slots
                .get_mut(IoInner::slot_index(itt))
                .and_then(|s| s.cmd.as_mut())
                .and_then(|c| c.priv_mut().as_mut())
            else {
                return Ok(None);
            };
            let exp_data = t.datain.prepare_reassign();
            let exp = match t.write.as_mut() {
                Some(w) => {
                    // R2Ts and their Data-Out sequences of the old connection
                    // are void; the target solicits what it still lacks.
                    t.seqs = Default::default();
                    w.reassign(p.write).map_err(|_| MoveError::Unsupported)?
                }
                None => exp_data,
            };
            t.stage = TxStage::Sent;
            t.tx_queued = false;
            t.cid = to;
            let bytes = t.bytes;
            let from = self.move_task(g, itt, to, bytes);
            (link, exp, from.map(|f| (f, bytes)))
        };
        if let Some((from, bytes)) = moved {
            self.move_stats(from, &link, bytes);
        }
        Ok(Some(exp))
    }

    /// The target no longer holds task `itt` (TASK REASSIGN response 1):
    /// its command goes back to the midlayer, which issues it again as a
    /// new task (see the core's `recovery` module for why that is safe for
    /// READ and WRITE).
    pub(crate) fn reissue(&self, itt: u32) {
        let cmd = {
            let mut g = self.inner.lock();
            self.finish_task(&mut g, itt)
        };
        if let Some(cmd) = cmd {
            cmd.fail(HostByte::TransportDisrupted);
        }
    }
}
