// SPDX-License-Identifier: GPL-2.0
//! Full feature phase: the data path of a session.
//!
//! [`SessionIo`] is the session's I/O side: the SCSI host, the CmdSN window
//! and the task table behind one spinlock (the only lock `queuecommand`
//! takes, and it is per session), and the connections' [`ConnIo`]s by CID.
//! Each [`ConnIo`] owns its socket and has a transmit, a receive and a
//! liveness work item on the session's `WQ_MEM_RECLAIM` queue; it sees this
//! state only through [`super::port::SessionPort`], and the control plane
//! only through the methods below: the lock and what it guards are private
//! to the session layer.
//!
//! Per-command state lives in the SCSI command's private area
//! ([`super::task::TaskIo`]); the session keeps the command itself in the slot
//! its ITT indexes. A work item that moves a command's data over the socket
//! (transmit: write data; receive: Data-In) "lends" the command out of its
//! slot for the transfer, so no lock is held across socket calls; anyone else
//! who needs that command waits on `returned` until it is back.
#![forbid(unsafe_code)]

use super::balance::Balancer;
use super::port::SessionPort;
use super::task::{Issue, TaskIo};
use super::Session;
use crate::abs::scsi::{Command, Host, HostByte, HostLimits};
use crate::abs::workqueue::OwnedQueue;
use crate::conn::link::ConnIo;
use crate::conn::{ConnState, Connection, FullFeature};
use crate::proto::datain::DataInParams;
use crate::proto::dataout::WriteParams;
use crate::proto::keys::params::NegotiatedParams;
use crate::proto::seq::CmdWindow;
use crate::proto::task::{NewTask, TaskTable};
use kernel::prelude::*;
use kernel::sync::{Arc, CondVar, Mutex, SpinLock, SpinLockGuard};

pub(crate) use super::task::TASKS;
/// Connection slots (as the session's).
pub(crate) const MAX_CONNS: usize = crate::session::MAX_CONNS;

/// The session's data path.
pub(crate) type SessionHost = Host<SessionIo>;

/// Life of the data path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoState {
    /// Commands flow.
    Running,
    /// No usable connection; I/O is held (HOST_BUSY) until `deadline_ms`
    /// (milliseconds on the session clock), then failed.
    Recovering {
        /// When held I/O starts failing with `DID_TRANSPORT_FAILFAST`.
        deadline_ms: u64,
    },
    /// Recovery gave up: every command fails fast.
    Failed,
    /// Being torn down.
    Stopping,
}

/// One command slot, indexed by the ITT's slot bits.
pub(super) struct CmdSlot {
    /// The command, unless lent out or free.
    pub(crate) cmd: Option<Command<SessionIo>>,
    /// Lent to a work item for a data transfer.
    pub(crate) lent: bool,
    /// Identity of the command this slot holds (lent or not), for the
    /// error handler.
    pub(crate) id: Option<crate::abs::scsi::CommandId>,
}

/// A TMF or ping waiting for its response.
#[derive(Clone, Copy)]
pub(super) struct CtrlWait {
    /// Its ITT.
    pub(crate) itt: u32,
    /// The TMF Response byte, once received.
    pub(crate) response: Option<u8>,
    /// No response can come: the session lost its connections. (Not a
    /// Response value: every byte, 255 "Function rejected" included, is
    /// one a target may send.)
    pub(crate) lost: bool,
    /// Time2Wait and Time2Retain of a Logout Response.
    pub(crate) times: (u16, u16),
}

/// Session-wide I/O state, behind `SessionIo::inner`.
pub(super) struct IoInner {
    pub(crate) state: IoState,
    pub(crate) window: CmdWindow,
    pub(crate) tasks: KBox<TaskTable<TASKS>>,
    pub(crate) slots: KVec<CmdSlot>,
    pub(crate) conns: crate::session::balance::Slots,
    pub(crate) tmf: [Option<CtrlWait>; 4],
    /// Which connection carries each new command.
    pub(crate) balance: Balancer,
    /// CIDs (bit mask) whose failure waits for connection recovery.
    pub(crate) failed: u32,
    /// CIDs (bit mask) recovered from and waiting to be reinstated.
    pub(crate) down: u32,
    /// CIDs (bit mask) the target asked to log out (Async event 1): no new
    /// commands, logged out once their commands are done.
    pub(crate) draining: u32,
    /// Per CID: when the target wants the logout done (session clock, ms).
    pub(crate) drain_deadline: [u64; MAX_CONNS],
}

impl IoInner {
    /// Whether a connection other than `cid` may take new commands.
    pub(crate) fn other_usable(&self, cid: u16) -> bool {
        self.conns
            .iter()
            .flatten()
            .any(|c| c.cid != cid && c.is_usable())
    }

    /// The slot of `itt`.
    pub(super) fn slot_index(itt: u32) -> usize {
        (itt & ((1u32 << TaskTable::<TASKS>::INDEX_BITS) - 1)) as usize
    }

    /// The connection the session's policy chooses for a new command of
    /// `bytes` bytes.
    pub(super) fn pick_conn(&mut self, bytes: u32) -> Option<Arc<ConnIo>> {
        let slot = self.balance.pick(&self.conns, bytes)?;
        self.conns.get(slot)?.clone()
    }

    /// A connection for control traffic (TMF, target reset): a usable one,
    /// else one being removed but still alive.
    pub(super) fn any_conn(&self) -> Option<Arc<ConnIo>> {
        let live = || self.conns.iter().flatten();
        live()
            .find(|c| c.is_usable())
            .or_else(|| live().find(|c| c.is_alive()))
            .cloned()
    }

    /// Commands outstanding on connection `cid`.
    pub(super) fn outstanding_on(&self, cid: u16) -> usize {
        self.tasks
            .iter()
            .filter(|t| t.cid == cid && !t.immediate)
            .count()
    }

    /// Applies ExpCmdSN / MaxCmdSN from a target PDU.
    pub(super) fn update_window(&mut self, exp: u32, max: u32) {
        let u = self.window.update(exp, max);
        if u.exp_cmd_sn_advanced {
            self.tasks.acknowledge_through(exp);
        }
    }
}

/// Negotiated values the data path needs on every command.
#[derive(Clone, Copy)]
pub(crate) struct IoParams {
    pub(crate) write: WriteParams,
    pub(crate) datain: DataInParams,
    pub(crate) replacement_timeout_ms: u64,
    /// ErrorRecoveryLevel (Logout requests carry it in the core's encoder).
    pub(crate) erl: u8,
}

/// The I/O side of a session.
#[pin_data]
pub(crate) struct SessionIo {
    /// Session id, for messages.
    pub(crate) sid: u32,
    /// Negotiated values.
    pub(crate) params: IoParams,
    /// Window, tasks, commands, connections.
    #[pin]
    pub(super) inner: SpinLock<IoInner>,
    /// Signalled when a lent command comes back or a TMF response arrives.
    #[pin]
    pub(super) returned: CondVar,
    /// The SCSI host; taken out on teardown.
    #[pin]
    pub(crate) host: Mutex<Option<SessionHost>>,
    /// Transmit, receive and liveness work.
    pub(crate) queue: OwnedQueue,
    /// Session clock origin.
    pub(crate) epoch: kernel::time::Instant<kernel::time::Monotonic>,
    /// The session (configuration, connections, events); the reference
    /// cycle through `Session::inner.data_path` is cut by teardown.
    pub(crate) sess: Arc<Session>,
    /// Session recovery: re-login and replace the failed connection.
    #[pin]
    pub(crate) recover_work: kernel::workqueue::Work<SessionIo, 0>,
    /// Connection recovery (ERL 2) and reinstatement of failed connections.
    #[pin]
    pub(crate) failover_work: kernel::workqueue::Work<SessionIo, 1>,
    /// The failover work's planner, allocated up front: a recovery must not
    /// need memory the writeback it unblocks would free.
    #[pin]
    pub(crate) planner: Mutex<KBox<super::failover::ConnPlanner>>,
    /// The connections' ports into this data path, for teardown.
    pub(super) ports: Arc<super::port::Ports>,
}

kernel::impl_has_work! {
    impl HasWork<Self, 0> for SessionIo { self.recover_work }
    impl HasWork<Self, 1> for SessionIo { self.failover_work }
}

/// Which sessions a connection may join (see [`SessionIo::attach`]).
#[derive(Clone, Copy)]
pub(crate) enum Join {
    /// A running session (CONN_ADD, the leading connection).
    Running,
    /// A session under recovery; `window` restarts the CmdSN window (the
    /// new leading connection's login).
    Recovery {
        /// The window the leading login agreed.
        window: Option<CmdWindow>,
    },
}

impl SessionIo {
    /// Milliseconds since the data path started.
    pub(crate) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis().max(0) as u64
    }

    /// Nanoseconds since the data path started (command latency).
    pub(crate) fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos().max(0) as u64
    }

    fn new(sess: &Arc<Session>, params: IoParams, window: CmdWindow) -> Result<Arc<Self>> {
        let sid = sess.sid;
        let mut slots = KVec::with_capacity(TASKS, GFP_KERNEL)?;
        for _ in 0..TASKS {
            slots.push(
                CmdSlot {
                    cmd: None,
                    lent: false,
                    id: None,
                },
                GFP_KERNEL,
            )?;
        }
        // A const table is copied from .rodata into the allocation rather
        // than built on the stack.
        let tasks = KBox::new(const { TaskTable::<TASKS>::new() }, GFP_KERNEL)?;
        let queue = OwnedQueue::new_reclaim(c"rsiscsi_io", true, true)?;
        let planner = KBox::new(
            const {
                super::failover::ConnPlanner::new(crate::proto::recovery::RecoveryConfig::new(
                    2, 0, 0,
                ))
            },
            GFP_KERNEL,
        )?;
        let policy = sess.inner.lock().policy;
        let ports = super::port::Ports::new()?;
        Arc::pin_init(
            pin_init!(SessionIo {
                sid,
                params,
                inner <- kernel::new_spinlock!(
                    IoInner {
                        state: IoState::Running,
                        window,
                        tasks,
                        slots,
                        conns: Default::default(),
                        tmf: [None; 4],
                        balance: Balancer::new(policy),
                        failed: 0,
                        down: 0,
                        draining: 0,
                        drain_deadline: [0; MAX_CONNS],
                    },
                    "SessionIo::inner"
                ),
                returned <- kernel::new_condvar!("SessionIo::returned"),
                host <- kernel::new_mutex!(None, "SessionIo::host"),
                queue,
                epoch: kernel::time::Instant::now(),
                sess: sess.clone(),
                recover_work <- kernel::new_work!("SessionIo::recover_work"),
                failover_work <- kernel::new_work!("SessionIo::failover_work"),
                planner <- kernel::new_mutex!(planner, "SessionIo::planner"),
                ports,
            }),
            GFP_KERNEL,
        )
    }

    /// Starts a new command's task: numbers it, allocates its ITT and
    /// fills its private state. `Err(())` when the window or the table is
    /// full (the caller answers HOST_BUSY).
    pub(super) fn begin_task(
        &self,
        g: &mut IoInner,
        cmd: &mut Command<SessionIo>,
        issue: Issue,
    ) -> core::result::Result<u32, ()> {
        use crate::abs::scsi::DataDirection as D;
        use crate::proto::task::Direction;
        if !g.window.can_send() || g.tasks.is_full() {
            return Err(());
        }
        let dir = match cmd.direction() {
            D::None => Direction::None,
            D::Read => Direction::Read,
            D::Write => Direction::Write,
            D::Bidirectional => Direction::Bidirectional,
        };
        let lun = crate::proto::pdu::Lun::from_linux(cmd.lun());
        let length = cmd.transfer_length();
        let cmd_sn = g.window.next_cmd_sn();
        let itt = g
            .tasks
            .insert(NewTask {
                lun,
                cmd_sn,
                immediate: false,
                cid: issue.cid,
                direction: dir,
                expected_transfer_length: length,
            })
            .map_err(|_| ())?;
        let p = self.params;
        match TaskIo::new(issue, cmd_sn, lun, dir, length, p.write, p.datain) {
            Some(t) => {
                *cmd.priv_mut() = Some(t);
                // Consumes the CmdSN checked by `can_send` above.
                let _ = g.window.assign();
                Ok(itt)
            }
            None => {
                g.tasks.remove(itt);
                Err(())
            }
        }
    }

    /// Hands back a lent command; if the session failed meanwhile, returns
    /// it to the caller to fail.
    pub(super) fn give_back(
        &self,
        g: &mut IoInner,
        itt: u32,
        cmd: Command<SessionIo>,
    ) -> Option<Command<SessionIo>> {
        let still_live = g.tasks.get(itt).is_some();
        let Some(slot) = g.slots.get_mut(IoInner::slot_index(itt)) else {
            return Some(cmd);
        };
        slot.lent = false;
        self.returned.notify_all();
        if !still_live {
            if slot.cmd.is_none() {
                slot.id = None;
            }
            let mut cmd = cmd;
            self.retire(g, &mut cmd);
            return Some(cmd);
        }
        slot.cmd = Some(cmd);
        None
    }

    /// Takes the command of `itt` out of its slot for good (completion),
    /// waiting if it is lent. `None` if the task is unknown.
    pub(super) fn finish_task(
        &self,
        g: &mut SpinLockGuard<'_, IoInner>,
        itt: u32,
    ) -> Option<Command<SessionIo>> {
        loop {
            g.tasks.get(itt)?;
            let idx = IoInner::slot_index(itt);
            let lent = g.slots.get(idx)?.lent;
            if !lent {
                g.tasks.remove(itt);
                let slot = g.slots.get_mut(idx)?;
                slot.id = None;
                let mut cmd = slot.cmd.take()?;
                self.retire(g, &mut cmd);
                return Some(cmd);
            }
            self.returned.wait(g);
        }
    }

    /// Takes a command that left the task table off the policy's and the
    /// counters' outstanding figures (once: every path out of the table
    /// calls it).
    pub(super) fn retire(&self, g: &mut IoInner, cmd: &mut Command<SessionIo>) {
        let now = self.now_ns();
        let Some(t) = cmd.priv_mut().as_mut() else {
            return;
        };
        if t.retired {
            return;
        }
        t.retired = true;
        let ns = now.saturating_sub(t.issued_ns);
        let us = u32::try_from(ns / 1000).unwrap_or(u32::MAX);
        let slot = usize::from(t.cid);
        g.balance.completed(slot, t.bytes, ns);
        self.sess.stats.retired(t.bytes, us);
        if let Some(c) = g.conns.get(slot).and_then(|c| c.as_ref()) {
            c.conn.stats.retired(t.bytes, us);
        }
    }

    /// Counts `cmd` as completed with an error, for the session and the
    /// connection that carried it.
    pub(super) fn count_error(&self, cmd: &Command<SessionIo>) {
        self.sess.stats.error();
        let Some(cid) = cmd.priv_ref().as_ref().map(|t| t.cid) else {
            return;
        };
        let conn = self.inner.lock().conns.get(usize::from(cid)).cloned();
        if let Some(c) = conn.flatten() {
            c.conn.stats.error();
        }
    }

    /// Completes `cmd` with `host` and counts it as an error.
    pub(super) fn fail_cmd(&self, cmd: Command<SessionIo>, host: HostByte) {
        self.count_error(&cmd);
        cmd.fail(host);
    }

    /// Frees every task and fails its command (a lent one is failed by
    /// its borrower when it comes back). Takes one at a time so nothing is
    /// allocated and no command completes under the lock.
    pub(crate) fn fail_all(&self, host: HostByte) {
        loop {
            let victim = {
                let mut g = self.inner.lock();
                let Some(itt) = g.tasks.iter().next().map(|t| t.itt) else {
                    for w in g.tmf.iter_mut().flatten() {
                        w.lost = true;
                    }
                    self.returned.notify_all();
                    return;
                };
                g.tasks.remove(itt);
                let idx = IoInner::slot_index(itt);
                let mut victim = g.slots.get_mut(idx).and_then(|s| {
                    s.id = None;
                    s.cmd.take()
                });
                if let Some(c) = victim.as_mut() {
                    self.retire(&mut g, c);
                }
                victim
            };
            if let Some(c) = victim {
                self.fail_cmd(c, host);
            }
        }
    }

    /// The connection `cid` failed. At ERL 2, with another connection
    /// usable, that is a connection recovery (RFC 7143 §7.1.4.3): the policy
    /// passes the connection over at once and the failover work moves its
    /// tasks to the survivors, then reinstates it. Otherwise it is a session
    /// failure ([`SessionIo::begin_session_recovery`]).
    ///
    /// A connection being removed whose commands have all completed is
    /// closing as asked: the removal reports it.
    pub(crate) fn connection_failed(self: &Arc<Self>, cid: u16, reason: &str) {
        let connection_only = {
            let mut g = self.inner.lock();
            // Teardown stops every connection and reports them down itself
            // after the logout.
            if g.state == IoState::Stopping {
                return;
            }
            let slot = usize::from(cid);
            let closing = g
                .conns
                .get(slot)
                .and_then(|c| c.as_ref())
                .is_some_and(|c| c.is_closing());
            if closing && g.outstanding_on(cid) == 0 {
                return;
            }
            // The dead ConnIo stays in its slot until the recovery replaces
            // it, so its work items can finish; the policy skips it.
            g.balance.reset(slot);
            let only = self.connection_recoverable(&g, cid);
            if only {
                self.note_failed(&mut g, cid);
            }
            only
        };
        self.sess.emit(
            crate::abi::EventKind::ConnDown,
            Some(cid),
            reason.as_bytes(),
        );
        if connection_only {
            self.kick_failover();
            return;
        }
        self.begin_session_recovery(Some(cid));
    }

    /// A session failure (RFC 7143 §6.1.5 at ERL 0 and 1, and wherever
    /// connection recovery cannot help): every connection but `except`
    /// (already dead) is closed, outstanding commands go back to the
    /// midlayer, new ones are held, and the recovery work reinstates the
    /// session on the paths that still work.
    pub(crate) fn begin_session_recovery(self: &Arc<Self>, except: Option<u16>) {
        let now = self.now_ms();
        let timeout = self.params.replacement_timeout_ms;
        let (recover, others) = {
            let mut g = self.inner.lock();
            if g.state == IoState::Stopping {
                return;
            }
            let recover = g.state == IoState::Running;
            if recover {
                g.state = if timeout == 0 {
                    IoState::Failed
                } else {
                    IoState::Recovering {
                        deadline_ms: now + timeout,
                    }
                };
            }
            // Session recovery logs every connection in again.
            g.failed = 0;
            g.down = 0;
            let mut others: crate::session::balance::Slots = Default::default();
            for (o, c) in others.iter_mut().zip(g.conns.iter()) {
                if let Some(c) = c.as_ref().filter(|c| Some(c.cid) != except && c.is_alive()) {
                    *o = Some(c.clone());
                }
            }
            (recover && timeout != 0, others)
        };
        if recover {
            self.sess
                .emit(crate::abi::EventKind::RecoveryStart, None, b"");
            let _ = self
                .queue
                .queue()
                .enqueue::<Arc<SessionIo>, 0>(self.clone());
        }
        for o in others.iter().flatten() {
            o.fail("session recovery: another connection of the session failed");
        }
        // Outstanding commands are retried by the midlayer
        // (DID_TRANSPORT_DISRUPTED does not count against retries); new ones
        // are held by queuecommand until the deadline.
        self.fail_all(HostByte::TransportDisrupted);
    }

    /// Hands connection `conn`, just logged in, to the data path: starts
    /// its work items and puts it in its CID's slot, where the policy sees
    /// it. `join` says which state the session must be in, checked under
    /// the data path's lock (`ESHUTDOWN` if not: the connection is stopped
    /// again and left for the control plane to log out).
    pub(crate) fn attach(
        self: &Arc<Self>,
        conn: &Arc<Connection>,
        ff: FullFeature,
        join: Join,
    ) -> Result<Arc<ConnIo>> {
        let (ff, link) = ConnIo::start(SessionPort::new(self), conn, ff);
        if let Some(ff) = ff {
            conn.inner.lock().state = ConnState::FullFeature(ff);
        }
        let link = link?;
        {
            let mut g = self.inner.lock();
            let accept = match join {
                Join::Running => g.state == IoState::Running,
                Join::Recovery { window } => {
                    let ok = matches!(g.state, IoState::Recovering { .. } | IoState::Failed);
                    if let (true, Some(w)) = (ok, window) {
                        g.window = w;
                    }
                    ok
                }
            };
            if !accept {
                drop(g);
                link.stop("session teardown");
                link.wait_stopped();
                return Err(ESHUTDOWN);
            }
            let slot = usize::from(conn.cid);
            let g = &mut *g;
            if let Some(s) = g.conns.get_mut(slot) {
                *s = Some(link.clone());
            }
            g.balance.reset(slot);
            g.balance.refresh(&g.conns);
        }
        link.kick_rx();
        link.arm_nop();
        Ok(link)
    }

    /// Takes connection `cid` out of its slot (removal, recovery), after its
    /// work items stopped.
    pub(crate) fn detach(&self, cid: u16) -> Option<Arc<ConnIo>> {
        let mut g = self.inner.lock();
        let slot = usize::from(cid);
        let g = &mut *g;
        let old = g.conns.get_mut(slot).and_then(Option::take);
        g.balance.reset(slot);
        g.balance.refresh(&g.conns);
        old
    }

    /// Where the data path is in its life.
    pub(crate) fn state(&self) -> IoState {
        self.inner.lock().state
    }

    /// Connection `cid` of the data path, alive or not.
    pub(crate) fn link(&self, cid: u16) -> Option<Arc<ConnIo>> {
        self.inner.lock().conns.get(usize::from(cid))?.clone()
    }

    /// Commands outstanding on connection `cid`.
    pub(crate) fn outstanding(&self, cid: u16) -> usize {
        self.inner.lock().outstanding_on(cid)
    }

    /// Starts removing connection `link`: from now on the policy passes it
    /// over. Refused (with why) while the session recovers, or when it is
    /// the session's last usable connection.
    pub(crate) fn start_closing(&self, link: &ConnIo) -> core::result::Result<(), &'static str> {
        let g = self.inner.lock();
        if g.state != IoState::Running {
            return Err("session is recovering");
        }
        if !g.other_usable(link.cid) {
            return Err("the session's last usable connection");
        }
        link.set_closing(true);
        Ok(())
    }

    /// Reserves an ITT for an immediate request on connection `cid` (a
    /// ping, an added connection's login) and returns it with the CmdSN
    /// the request carries; `None` when the task table is full.
    pub(crate) fn reserve_immediate(&self, cid: u16) -> Option<(u32, u32)> {
        let mut g = self.inner.lock();
        let cmd_sn = g.window.immediate_cmd_sn();
        let itt = g
            .tasks
            .insert(NewTask {
                lun: crate::proto::pdu::Lun::ZERO,
                cmd_sn,
                immediate: true,
                cid,
                direction: crate::proto::task::Direction::None,
                expected_transfer_length: 0,
            })
            .ok()?;
        Some((itt, cmd_sn))
    }

    /// Frees an ITT from [`SessionIo::reserve_immediate`], applying the
    /// ExpCmdSN / MaxCmdSN its answer carried, if any.
    pub(crate) fn release_immediate(&self, itt: u32, window: Option<(u32, u32)>) {
        let mut g = self.inner.lock();
        g.tasks.remove(itt);
        if let Some((exp, max)) = window {
            g.update_window(exp, max);
        }
    }

    /// Ends a session recovery: commands flow again. `false` if the session
    /// was torn down meanwhile.
    pub(crate) fn resume(&self) -> bool {
        let mut g = self.inner.lock();
        if !matches!(g.state, IoState::Recovering { .. } | IoState::Failed) {
            return false;
        }
        g.state = IoState::Running;
        true
    }

    /// Recovery ran past the replacement timeout: from now on every command
    /// fails fast. `false` if the session was not recovering.
    pub(crate) fn give_up(&self) -> bool {
        {
            let mut g = self.inner.lock();
            if !matches!(g.state, IoState::Recovering { .. }) {
                return false;
            }
            g.state = IoState::Failed;
        }
        self.fail_all(HostByte::TransportFailfast);
        true
    }

    /// Applies a new policy configuration, or the connections' changed
    /// weights and standby flags (`None`), to the next command on.
    pub(crate) fn set_policy(&self, conf: Option<crate::session::PolicyConfig>) {
        let mut g = self.inner.lock();
        let g = &mut *g;
        match conf {
            Some(conf) => g.balance.configure(conf, &g.conns),
            None => g.balance.refresh(&g.conns),
        }
    }
}

/// Starts the data path on `conn`, just logged in to full feature phase:
/// the first connection creates the session's I/O side and its SCSI host
/// (and scans it); later ones join it.
pub(crate) fn start(sess: &Arc<Session>, conn: &Arc<Connection>) -> Result<Arc<SessionIo>> {
    let (negotiated, window) = {
        let g = sess.inner.lock();
        (g.negotiated.ok_or(EINVAL)?, g.window)
    };
    let params = io_params(sess, &negotiated);
    let w = params.write;
    pr_info!(
        "session {}: ImmediateData={} InitialR2T={} FirstBurstLength={} MaxBurstLength={} MaxXmitDataSegmentLength={} MaxOutstandingR2T={}\n",
        sess.sid,
        w.immediate_data,
        w.initial_r2t,
        w.first_burst_length,
        w.max_burst_length,
        w.max_xmit_data_segment_length,
        w.max_outstanding_r2t
    );
    let io = SessionIo::new(sess, params, window)?;
    let ff = conn.take_full_feature().ok_or(ENOTCONN)?;
    io.attach(conn, ff, Join::Running)?;

    let lim = HostLimits::from_negotiated(
        TASKS as u32,
        negotiated.session.max_burst_length,
        negotiated.connection.data_digest == crate::proto::keys::params::DigestType::Crc32c,
    );
    let setup = (|| {
        let mut host = Host::new(io.clone(), &lim)?;
        host.add()?;
        let no = host.host_no();
        *io.host.lock() = Some(host);
        pr_info!("session {} is SCSI host{}\n", sess.sid, no);
        Ok(())
    })();
    if let Err(e) = setup {
        stop(sess, &io);
        return Err(e);
    }
    if let Some(h) = io.host.lock().as_ref() {
        h.scan();
    }
    Ok(io)
}

fn io_params(sess: &Session, n: &NegotiatedParams) -> IoParams {
    IoParams {
        write: WriteParams::from_negotiated(n),
        datain: DataInParams::from_negotiated(n),
        replacement_timeout_ms: u64::from(sess.cfg.replacement_timeout) * 1000,
        erl: n.session.error_recovery_level,
    }
}

/// Tears the data path down: removes the SCSI host (its devices flush
/// through the still-running connections), then stops the connections,
/// fails whatever is left and leaves the connections' sockets, CmdSN and
/// ExpStatSN to the control plane for the logout.
pub(crate) fn stop(sess: &Session, io: &Arc<SessionIo>) {
    {
        // A session without a working connection fails the devices' last
        // commands at once instead of holding them for the recovery.
        let mut g = io.inner.lock();
        if g.state != IoState::Running {
            g.state = IoState::Stopping;
        }
    }
    let host = io.host.lock().take();
    if let Some(mut h) = host {
        h.remove();
        // Dropped after the connections stop: the host holds an `Arc` to
        // `io`, and no callback runs after `remove`.
        drop(h);
    }
    let conns: crate::session::balance::Slots = {
        let mut g = io.inner.lock();
        g.state = IoState::Stopping;
        core::mem::take(&mut g.conns)
    };
    for c in conns.iter().flatten() {
        c.stop("session teardown");
    }
    io.fail_all(HostByte::NoConnect);
    for c in conns.iter().flatten() {
        c.wait_stopped();
    }
    io.queue.flush();
    // The control plane logs out with the numbers the data path reached.
    for c in conns.iter().flatten() {
        for conn in sess.connections().iter().filter(|x| x.cid == c.cid) {
            if let ConnState::FullFeature(ff) = &mut conn.inner.lock().state {
                ff.exp_stat_sn = c.exp_stat_sn();
            }
        }
    }
    let window = io.inner.lock().window;
    sess.inner.lock().window = window;
    // The caller's reference to `io` must be the last (see `Ports`): wait
    // for every connection, including ones a recovery let go whose work
    // items still run, then for the work those queued.
    drop(conns);
    io.ports.wait_none();
    io.queue.flush();
}
