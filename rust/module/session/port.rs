// SPDX-License-Identifier: GPL-2.0
//! The session's face toward its connections: everything a connection in
//! full feature phase may ask of its session, and the one way it reports a
//! failure upward.
//!
//! A connection (`crate::conn::link`, `rx`, `tx`) holds a [`SessionPort`],
//! never the session's I/O state: the task table, the command slots and the
//! CmdSN window stay private to the session layer, and every call here keeps
//! its own short critical section on the session's spinlock. That is what
//! lets the session change how it reacts to a connection's events (session
//! recovery today, task reassignment at ERL 2) without the connections
//! knowing, and what a receive path in the socket's data-ready callback
//! needs: a small, explicit set of upcalls whose locking is known.
//!
//! Calls that may sleep say so; today they are [`SessionPort::lend`] and
//! [`SessionPort::with_task`], which wait while another work item of the
//! same session has the command lent.
#![forbid(unsafe_code)]

use super::datapath::{IoInner, SessionIo};
use super::task::TaskIo;
use crate::abs::scsi::{Command, HostByte};
use crate::proto::datain::{CommandOutcome, RESPONSE_COMPLETED, STATUS_GOOD};
use crate::proto::pdu::Residual;
use kernel::prelude::*;
use kernel::sync::{Arc, CondVar, SpinLockIrq};
use kernel::workqueue::Queue;

/// A SCSI command as the session lends it to a connection for a transfer.
pub(crate) type TaskCmd = Command<SessionIo>;

/// The ITT names a task that is not a SCSI command (a ping, a TMF, a
/// logout): a target that sends data or R2Ts for it is broken.
#[derive(Debug)]
pub(crate) struct NotACommand;

/// How many [`SessionPort`]s of a data path are alive, so its teardown can
/// wait for the last one.
///
/// A connection's work item may hold the last reference to its connection
/// and so, through the port, to the data path. Were that the last reference
/// to the data path, the work item would destroy its own workqueue (a
/// deadlock lockdep reports). Teardown waits here instead until every port
/// is gone, which makes its own reference the last.
#[pin_data]
pub(crate) struct Ports {
    /// Irq-safe: the last reference to a connection may go in a socket
    /// callback.
    #[pin]
    live: SpinLockIrq<usize>,
    #[pin]
    gone: CondVar,
}

impl Ports {
    /// A count of none.
    pub(super) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Ports {
                live <- kernel::new_spinlock_irq!(0, "Ports::live"),
                gone <- kernel::new_condvar!("Ports::gone"),
            }),
            GFP_KERNEL,
        )
    }

    /// Waits (sleeps) until no port is alive. Connections' work items
    /// end promptly once their connection is stopped and its socket shut
    /// down, so this wait is short.
    pub(super) fn wait_none(&self) {
        let mut g = self.live.lock();
        while *g > 0 {
            self.gone.wait(&mut g);
        }
    }
}

/// One live port; counted down after the port's reference to the data path
/// is dropped (fields drop in declaration order).
struct Live(Arc<Ports>);

impl Live {
    fn new(ports: &Arc<Ports>) -> Self {
        *ports.live.lock() += 1;
        Live(ports.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let mut g = self.0.live.lock();
        *g -= 1;
        if *g == 0 {
            self.0.gone.notify_all();
        }
    }
}

/// A connection's handle on its session.
pub(crate) struct SessionPort {
    // INVARIANT: declared before `live`, so it is dropped first.
    io: Arc<SessionIo>,
    live: Live,
}

impl Clone for SessionPort {
    fn clone(&self) -> Self {
        SessionPort {
            io: self.io.clone(),
            live: Live::new(&self.live.0),
        }
    }
}

impl SessionPort {
    /// The port of the data path `io`.
    pub(super) fn new(io: &Arc<SessionIo>) -> Self {
        SessionPort {
            io: io.clone(),
            live: Live::new(&io.ports),
        }
    }

    /// Session id, for messages.
    pub(crate) fn sid(&self) -> u32 {
        self.io.sid
    }

    /// Milliseconds on the session clock.
    pub(crate) fn now_ms(&self) -> u64 {
        self.io.now_ms()
    }

    /// Negotiated ErrorRecoveryLevel (Logout requests carry it).
    pub(crate) fn erl(&self) -> u8 {
        self.io.params.erl
    }

    /// The session's `WQ_MEM_RECLAIM` queue, where connection work runs.
    pub(crate) fn queue(&self) -> &Queue {
        self.io.queue.queue()
    }

    /// `n` bytes went out on one of the connections (session totals).
    pub(crate) fn sent(&self, n: u64) {
        self.io.sess.stats.sent(n);
    }

    /// `n` bytes came in on one of the connections (session totals).
    pub(crate) fn received(&self, n: u64) {
        self.io.sess.stats.received(n);
    }

    /// Applies ExpCmdSN / MaxCmdSN from a target PDU.
    pub(crate) fn update_window(&self, exp: u32, max: u32) {
        self.io.inner.lock().update_window(exp, max);
    }

    /// The CmdSN an immediate PDU carries now (not consumed).
    pub(crate) fn immediate_cmd_sn(&self) -> u32 {
        self.io.inner.lock().window.immediate_cmd_sn()
    }

    /// Reserves an ITT for an immediate request of connection `cid` (a
    /// ping); `None` when the task table is full.
    pub(crate) fn reserve_immediate(&self, cid: u16) -> Option<u32> {
        self.io.reserve_immediate(cid).map(|(itt, _)| itt)
    }

    /// Frees the ITT of an immediate request that got its answer or will
    /// never get one.
    pub(crate) fn release(&self, itt: u32) {
        self.io.inner.lock().tasks.remove(itt);
    }

    /// Lends the command of `itt` out of its slot for a transfer, waiting
    /// (sleeps) while another work item has it. `Ok(None)`: the task is
    /// gone (completed or aborted). The command must come back through
    /// [`SessionPort::give_back`].
    pub(crate) fn lend(&self, itt: u32) -> Result<Option<TaskCmd>, NotACommand> {
        let io = &*self.io;
        let mut g = io.inner.lock();
        loop {
            if g.tasks.get(itt).is_none() {
                return Ok(None);
            }
            let slot = g
                .slots
                .get_mut(IoInner::slot_index(itt))
                .ok_or(NotACommand)?;
            if !slot.lent {
                let cmd = slot.cmd.take().ok_or(NotACommand)?;
                slot.lent = true;
                return Ok(Some(cmd));
            }
            io.returned.wait(&mut g);
        }
    }

    /// Hands a lent command back; if its task ended meanwhile (the session
    /// failed it), the command is failed here.
    pub(crate) fn give_back(&self, itt: u32, cmd: TaskCmd) {
        let back = {
            let mut g = self.io.inner.lock();
            self.io.give_back(&mut g, itt, cmd)
        };
        if let Some(cmd) = back {
            self.io.fail_cmd(cmd, HostByte::TransportDisrupted);
        }
    }

    /// Runs `f` on the per-command state of `itt` under the session lock,
    /// waiting (sleeps) while the command is lent. `Ok(None)`: the task is
    /// gone. `f` must not sleep.
    pub(crate) fn with_task<R>(
        &self,
        itt: u32,
        f: impl FnOnce(&mut TaskIo) -> R,
    ) -> Result<Option<R>, NotACommand> {
        let io = &*self.io;
        let mut g = io.inner.lock();
        loop {
            if g.tasks.get(itt).is_none() {
                return Ok(None);
            }
            let slot = g.slots.get(IoInner::slot_index(itt)).ok_or(NotACommand)?;
            if !slot.lent {
                break;
            }
            io.returned.wait(&mut g);
        }
        let t = g
            .slots
            .get_mut(IoInner::slot_index(itt))
            .and_then(|s| s.cmd.as_mut())
            .and_then(|cmd| cmd.priv_mut().as_mut())
            .ok_or(NotACommand)?;
        Ok(Some(f(t)))
    }

    /// Ends the command of `itt` with `outcome` (`seg` holds the sense
    /// data) and hands it back to the midlayer. A task already gone is
    /// left alone.
    pub(crate) fn complete(&self, itt: u32, outcome: CommandOutcome, seg: &[u8]) {
        let cmd = {
            let mut g = self.io.inner.lock();
            self.io.finish_task(&mut g, itt)
        };
        let Some(mut cmd) = cmd else { return };
        if outcome.response != RESPONSE_COMPLETED || outcome.status != STATUS_GOOD {
            self.io.count_error(&cmd);
        }
        if outcome.response != RESPONSE_COMPLETED {
            cmd.set_result(HostByte::Error, 0);
        } else {
            cmd.set_result(HostByte::Ok, outcome.status);
            if let Some(sense) = outcome.sense.and_then(|s| s.slice(seg)) {
                cmd.set_sense(sense);
            }
            match outcome.residual {
                Residual::Underflow(n) => cmd.set_residual(n),
                Residual::None | Residual::Overflow(_) => {}
            }
        }
        cmd.done();
    }

    /// Fails the command of `itt` with `host` (the target rejected its
    /// PDU).
    pub(crate) fn fail_task(&self, itt: u32, host: HostByte) {
        let cmd = {
            let mut g = self.io.inner.lock();
            self.io.finish_task(&mut g, itt)
        };
        if let Some(cmd) = cmd {
            self.io.fail_cmd(cmd, host);
        }
    }

    /// A TMF or Logout Response with `response` arrived for `itt`: wakes
    /// whoever waits for it and frees the ITT.
    pub(crate) fn control_answered(&self, itt: u32, response: u8) {
        let mut g = self.io.inner.lock();
        for w in g.tmf.iter_mut().flatten() {
            if w.itt == itt {
                w.response = Some(response);
            }
        }
        g.tasks.remove(itt);
        self.io.returned.notify_all();
    }

    /// A Logout Response with `response` and the Time2Wait / Time2Retain
    /// fields arrived for `itt`.
    pub(crate) fn logout_answered(&self, itt: u32, response: u8, time2wait: u16, time2retain: u16) {
        {
            let mut g = self.io.inner.lock();
            for w in g.tmf.iter_mut().flatten() {
                if w.itt == itt {
                    w.times = (time2wait, time2retain);
                }
            }
        }
        self.control_answered(itt, response);
    }

    /// The target announced it drops connection `cid` of this session
    /// (Async Message event 2 received on another connection).
    pub(crate) fn drop_connection(&self, cid: u16, reason: &str) {
        if let Some(c) = self.io.link(cid) {
            c.fail(reason);
        }
    }

    /// The target asked to log connection `cid` out by `deadline_ms`
    /// (Async Message event 1); `false` when the session cannot do without
    /// it, and the caller fails the connection instead.
    pub(crate) fn logout_requested(&self, cid: u16, deadline_ms: u64) -> bool {
        self.io.logout_requested(cid, deadline_ms)
    }

    /// The target announced it drops every connection (Async Message
    /// event 3): no connection can carry a recovery, so the session is
    /// reinstated.
    pub(crate) fn session_dropped(&self) {
        self.io.begin_session_recovery(None);
    }

    /// Connection `cid` failed for `reason`; the session decides what
    /// becomes of its tasks. Called once per failure, from any work item
    /// of the connection.
    pub(crate) fn connection_failed(&self, cid: u16, reason: &str) {
        self.io.connection_failed(cid, reason);
    }
}
