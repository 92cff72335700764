// SPDX-License-Identifier: GPL-2.0
//! One connection of the data path: its socket, transmit queue, receive
//! state and liveness timer, and the work items that drive them.
//!
//! Socket callbacks (softirq) only queue the receive work (data ready, state
//! change) or the transmit work (write space). The transmit work sends
//! everything queued in one run with `MSG_MORE` between pieces and pushes
//! once at the end, never waiting for send buffer space; the receive work
//! reads until the socket is empty. Both run on the session's `WQ_MEM_RECLAIM` queue, so writeback
//! to an rsiscsi disk never waits for a worker to be created.
#![forbid(unsafe_code)]

use super::rx::RxState;
use super::tx::TxScratch;
use super::{Connection, FullFeature};
use crate::abs::net::{SocketEvent, SocketEvents, TcpSocket};
use crate::proto::keys::params::DigestType;
use crate::proto::nop::{NopEvent, NopKeeper, NopOutFields};
use crate::proto::pdu::{Digests, Lun};
use crate::proto::tmf::TmfRequest;
use crate::session::port::SessionPort;
use crate::session::task::TASKS;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow, Completion, Mutex, SpinLock, SpinLockIrq};
use kernel::workqueue::{DelayedWork, Work, WorkItem};

/// Control PDUs waiting for the transmit work (they go before commands).
#[derive(Clone, Copy)]
pub(crate) enum Ctrl {
    /// A NOP-Out: our ping, or a reply/acknowledgement to the target.
    Nop(NopOutFields),
    /// A task management request with its own ITT.
    Tmf {
        /// The function.
        req: TmfRequest,
        /// LUN it addresses.
        lun: Lun,
        /// The TMF's ITT.
        itt: u32,
    },
    /// A Logout Request closing connection `cid` (reason 1).
    Logout {
        /// The connection to close.
        cid: u16,
        /// The request's ITT.
        itt: u32,
    },
    /// A Logout Request removing failed connection `cid` for recovery
    /// (reason 2), sent on another connection.
    LogoutForRecovery {
        /// The failed connection.
        cid: u16,
        /// The request's ITT.
        itt: u32,
        /// The failed connection's ExpStatSN: the target drops the
        /// recovered commands whose status this acknowledges.
        exp_stat_sn: u32,
    },
}

const CTRL_SLOTS: usize = 8;

/// What the transmit work has to do, filled without allocating.
pub(crate) struct TxRing {
    itts: [u32; TASKS],
    head: usize,
    len: usize,
    ctrl: [Option<Ctrl>; CTRL_SLOTS],
}

impl TxRing {
    const fn new() -> Self {
        TxRing {
            itts: [0; TASKS],
            head: 0,
            len: 0,
            ctrl: [None; CTRL_SLOTS],
        }
    }

    /// Queues a command; each live ITT is queued at most once (see
    /// `TaskIo::tx_queued`), so the ring never overflows.
    pub(crate) fn push_itt(&mut self, itt: u32) -> bool {
        if self.len == TASKS {
            return false;
        }
        let i = (self.head + self.len) % TASKS;
        if let Some(s) = self.itts.get_mut(i) {
            *s = itt;
        }
        self.len += 1;
        true
    }

    pub(crate) fn pop_itt(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let v = self.itts.get(self.head).copied();
        self.head = (self.head + 1) % TASKS;
        self.len -= 1;
        v
    }

    pub(crate) fn push_ctrl(&mut self, c: Ctrl) -> bool {
        match self.ctrl.iter_mut().find(|s| s.is_none()) {
            Some(s) => {
                *s = Some(c);
                true
            }
            None => false,
        }
    }

    pub(crate) fn pop_ctrl(&mut self) -> Option<Ctrl> {
        let c = self.ctrl.iter_mut().find(|s| s.is_some())?.take();
        self.ctrl.rotate_left(1);
        c
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.ctrl = [None; CTRL_SLOTS];
    }
}

/// The socket callbacks' context: the connection once it exists. A
/// separate object because the socket lives inside the connection; the
/// link is cut on teardown, which breaks the reference cycle.
#[pin_data]
pub(crate) struct Notifier {
    #[pin]
    conn: SpinLockIrq<Option<Arc<ConnIo>>>,
}

impl SocketEvents for Notifier {
    fn on_event(this: ArcBorrow<'_, Self>, ev: SocketEvent) {
        if let Some(c) = this.conn.lock().as_ref() {
            if ev == SocketEvent::WriteSpace {
                // The transmit work may have parked a PDU on a full socket.
                c.kick_tx();
            } else {
                c.kick_rx();
            }
        }
    }
}

/// One connection in full feature phase.
#[pin_data]
pub(crate) struct ConnIo {
    /// CID.
    pub(crate) cid: u16,
    /// The connection this carries (path, weight, counters).
    pub(crate) conn: Arc<Connection>,
    /// The session, as connections see it.
    pub(crate) up: SessionPort,
    /// The connection's socket (shared with the control plane's
    /// `FullFeature`, which closes it after the logout).
    pub(crate) sock: Arc<TcpSocket>,
    /// Negotiated digests.
    pub(crate) digests: Digests,
    /// Largest data segment we receive (our MaxRecvDataSegmentLength).
    pub(crate) max_recv_dsl: u32,
    /// ExpStatSN for outgoing PDUs, kept by the receive side.
    pub(crate) exp_stat_sn: AtomicU32,
    alive: AtomicBool,
    stopping: AtomicBool,
    /// Being removed: no new commands, and its close is not a failure.
    closing: AtomicBool,
    notifier: Arc<Notifier>,
    #[pin]
    pub(crate) ring: SpinLock<TxRing>,
    #[pin]
    pub(crate) tx: Mutex<TxScratch>,
    #[pin]
    pub(crate) rx: Mutex<RxState>,
    #[pin]
    pub(crate) nop: SpinLock<NopKeeper>,
    /// Whether the liveness timer was started; decided under this lock
    /// against `stopping`, so `wait_stopped` never waits for a timer that
    /// will not run.
    #[pin]
    nop_armed: SpinLock<bool>,
    #[pin]
    nop_exited: Completion,
    #[pin]
    tx_work: Work<ConnIo, 0>,
    #[pin]
    rx_work: Work<ConnIo, 1>,
    #[pin]
    nop_work: DelayedWork<ConnIo, 2>,
}

kernel::impl_has_work! {
    impl HasWork<Self, 0> for ConnIo { self.tx_work }
    impl HasWork<Self, 1> for ConnIo { self.rx_work }
}
kernel::impl_has_delayed_work! {
    impl HasDelayedWork<Self, 2> for ConnIo { self.nop_work }
}

impl WorkItem<0> for ConnIo {
    type Pointer = Arc<ConnIo>;
    fn run(this: Arc<ConnIo>) {
        crate::conn::tx::run(&this);
    }
}

impl WorkItem<1> for ConnIo {
    type Pointer = Arc<ConnIo>;
    fn run(this: Arc<ConnIo>) {
        crate::conn::rx::run(&this);
    }
}

impl WorkItem<2> for ConnIo {
    type Pointer = Arc<ConnIo>;
    fn run(this: Arc<ConnIo>) {
        this.nop_tick();
    }
}

/// Longest sleep of the liveness timer: teardown waits at most this long
/// for it (7.3's delayed work cannot be cancelled from Rust).
const NOP_TICK_MS: u64 = 500;

impl ConnIo {
    /// Takes over the traffic of a logged-in connection: routes its socket's
    /// notifications here. The socket stays in `ff` too (listing, logout);
    /// `ff` is returned whatever happens, unless its socket was shared
    /// already, which login never does.
    pub(crate) fn start(
        up: SessionPort,
        conn: &Arc<Connection>,
        ff: FullFeature,
    ) -> (Option<FullFeature>, Result<Arc<ConnIo>>) {
        let FullFeature {
            sock,
            params,
            exp_stat_sn,
            local,
            peer,
        } = ff;
        let Some(mut unique) = Arc::into_unique_or_drop(sock) else {
            return (None, Err(EBUSY));
        };
        let notifier = Arc::pin_init(
            pin_init!(Notifier {
                conn <- kernel::new_spinlock_irq!(None, "ConnIo::notifier"),
            }),
            GFP_KERNEL,
        );
        let installed = notifier.and_then(|n| {
            let s = Pin::get_mut(unique.as_mut());
            s.set_timeouts(0, 0);
            s.install_callbacks(n.clone())?;
            Ok(n)
        });
        let sock: Arc<TcpSocket> = unique.into();
        let ff = FullFeature {
            sock: sock.clone(),
            params,
            exp_stat_sn,
            local,
            peer,
        };
        let r = installed.and_then(|n| Self::build(up, conn, sock, n, params, exp_stat_sn));
        (Some(ff), r)
    }

    fn build(
        up: SessionPort,
        conn: &Arc<Connection>,
        sock: Arc<TcpSocket>,
        notifier: Arc<Notifier>,
        params: crate::proto::keys::params::ConnectionParams,
        exp_stat_sn: u32,
    ) -> Result<Arc<ConnIo>> {
        let digests = Digests {
            header: params.header_digest == DigestType::Crc32c,
            data: params.data_digest == DigestType::Crc32c,
        };
        let max_recv_dsl = params.max_recv_data_segment_length;
        let rx = RxState::new(max_recv_dsl, exp_stat_sn)?;
        let nop_cfg = conn.path.live;
        let now = up.now_ms();
        let notifier2 = notifier.clone();
        let c = Arc::pin_init(
            pin_init!(ConnIo {
                cid: conn.cid,
                conn: conn.clone(),
                up,
                sock,
                digests,
                max_recv_dsl,
                exp_stat_sn: AtomicU32::new(exp_stat_sn),
                alive: AtomicBool::new(true),
                stopping: AtomicBool::new(false),
                closing: AtomicBool::new(false),
                notifier: notifier2,
                ring <- kernel::new_spinlock!(TxRing::new(), "ConnIo::ring"),
                tx <- kernel::new_mutex!(TxScratch::new(), "ConnIo::tx"),
                rx <- kernel::new_mutex!(rx, "ConnIo::rx"),
                nop <- kernel::new_spinlock!(NopKeeper::new(nop_cfg, now), "ConnIo::nop"),
                nop_armed <- kernel::new_spinlock!(false, "ConnIo::nop_armed"),
                nop_exited <- Completion::new(),
                tx_work <- kernel::new_work!("ConnIo::tx_work"),
                rx_work <- kernel::new_work!("ConnIo::rx_work"),
                nop_work <- kernel::new_delayed_work!("ConnIo::nop_work"),
            }),
            GFP_KERNEL,
        )?;
        *notifier.conn.lock() = Some(c.clone());
        Ok(c)
    }

    /// Not failed or stopped.
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Alive and not being removed: may take new commands.
    pub(crate) fn is_usable(&self) -> bool {
        self.is_alive() && !self.is_closing()
    }

    /// Being removed (CONN_REMOVE).
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Starts (`true`) or calls off (`false`) the connection's removal.
    pub(crate) fn set_closing(&self, v: bool) {
        self.closing.store(v, Ordering::Release);
    }

    /// Current ExpStatSN.
    pub(crate) fn exp_stat_sn(&self) -> u32 {
        self.exp_stat_sn.load(Ordering::Acquire)
    }

    /// Queues the transmit work.
    pub(crate) fn kick_tx(self: &Arc<Self>) {
        // Already queued is fine: that run sends what is queued now.
        let _ = self.up.queue().enqueue::<Arc<ConnIo>, 0>(self.clone());
    }

    /// Queues the receive work.
    pub(crate) fn kick_rx(self: &Arc<Self>) {
        let _ = self.up.queue().enqueue::<Arc<ConnIo>, 1>(self.clone());
    }

    /// Starts the liveness timer, unless the connection is already being
    /// stopped (a teardown may overtake a connection that recovery has just
    /// brought up).
    pub(crate) fn arm_nop(self: &Arc<Self>) {
        {
            let mut armed = self.nop_armed.lock();
            if self.stopping.load(Ordering::Acquire) {
                return;
            }
            *armed = true;
        }
        self.arm_nop_in(NOP_TICK_MS);
    }

    fn arm_nop_in(self: &Arc<Self>, ms: u64) {
        let j = kernel::time::msecs_to_jiffies(ms.min(NOP_TICK_MS) as u32);
        // Only this work item re-arms itself, so it is never pending here.
        let _ = self
            .up
            .queue()
            .enqueue_delayed::<Arc<ConnIo>, 2>(self.clone(), j);
    }

    fn nop_tick(self: &Arc<Self>) {
        if self.stopping.load(Ordering::Acquire) || !self.is_alive() {
            self.nop_exited.complete_all();
            return;
        }
        let now = self.up.now_ms();
        let busy = self.conn.stats.outstanding() != 0;
        let ev = {
            let mut k = self.nop.lock();
            k.set_busy(busy);
            k.handle_timeout(now)
        };
        match ev {
            Some(NopEvent::PingDue) => self.send_ping(now),
            Some(NopEvent::ConnectionFailed { itt, stalled }) => {
                self.up.release(itt);
                self.fail(if stalled {
                    "NOP-Out timeout: stalled with commands outstanding, and no answer to a ping"
                } else {
                    "NOP-Out timeout: no NOP-In from the target"
                });
                self.nop_exited.complete_all();
                return;
            }
            None => {}
        }
        let next = self
            .nop
            .lock()
            .poll_timeout()
            .map_or(NOP_TICK_MS, |d| d.saturating_sub(now).max(10));
        self.arm_nop_in(next);
    }

    fn send_ping(self: &Arc<Self>, now: u64) {
        // No ITT free: try again at the next tick rather than give up, as
        // a stalled connection may be what holds the table full.
        let Some(itt) = self.up.reserve_immediate(self.cid) else {
            self.nop.lock().ping_skipped();
            return;
        };
        self.nop.lock().ping_sent(itt, now);
        self.queue_ctrl(Ctrl::Nop(NopKeeper::ping(itt)));
    }

    /// Queues a control PDU and the transmit work.
    pub(crate) fn queue_ctrl(self: &Arc<Self>, c: Ctrl) -> bool {
        let ok = self.ring.lock().push_ctrl(c);
        self.kick_tx();
        ok
    }

    /// The connection failed: log why, close the socket, let the session
    /// hold or fail its I/O.
    pub(crate) fn fail(self: &Arc<Self>, reason: &str) {
        if !self.alive.swap(false, Ordering::AcqRel) {
            return;
        }
        if !self.stopping.load(Ordering::Acquire) && !self.is_closing() {
            pr_err!(
                "session {} connection {} failed: {}\n",
                self.up.sid(),
                self.cid,
                reason
            );
        }
        if !self.stopping.load(Ordering::Acquire) {
            // Wakes a blocked send; on teardown the socket stays usable for
            // the control plane's logout.
            self.sock.shutdown();
        }
        self.kick_tx();
        self.up.connection_failed(self.cid, reason);
    }

    /// Stops the connection for teardown.
    pub(crate) fn stop(self: &Arc<Self>, reason: &str) {
        self.stopping.store(true, Ordering::Release);
        self.fail(reason);
    }

    /// Waits until the liveness timer is no longer armed and cuts the
    /// socket callbacks' link to this connection.
    pub(crate) fn wait_stopped(self: &Arc<Self>) {
        // `stop` or `fail` ran before: a timer armed from now on sees
        // `stopping` or a dead connection and is not armed or exits at once.
        let armed = *self.nop_armed.lock();
        if armed {
            self.nop_exited.wait_for_completion();
        }
        *self.notifier.conn.lock() = None;
    }
}
