// SPDX-License-Identifier: GPL-2.0

//! The connection layer: one iSCSI connection of a session (RFC 7143 §4.2:
//! a TCP connection with a CID) and its life cycle, and below it the
//! connection's full feature phase — socket, transmit, receive, liveness
//! ([`link`], [`rx`], [`tx`]).
//!
//! The control plane's login (`control::login`) moves a connection from
//! `LoggingIn` to `FullFeature`; from there the session's data path owns
//! the traffic. Each connection has its own lock so that the connections of
//! one session never contend with each other. Nothing here reaches into the
//! session: a connection reports upward through
//! [`crate::session::port::SessionPort`] alone.
#![forbid(unsafe_code)]

pub(crate) mod link;
mod rx;
mod tx;

use crate::abi;
use crate::abs::net::{IpAddr, SockAddr, TcpSocket};
use crate::proto::keys::params::ConnectionParams;
use crate::proto::nop::NopConfig;
use crate::stats::Stats;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

/// A connection in full feature phase: what the data path takes over.
pub(crate) struct FullFeature {
    /// The logged-in socket, shared with the data path while it runs.
    pub(crate) sock: Arc<TcpSocket>,
    /// This connection's negotiated values (digests, data segment sizes).
    pub(crate) params: ConnectionParams,
    /// The next StatSN expected from the target (seed of the StatSN tracker).
    pub(crate) exp_stat_sn: u32,
    /// Our end.
    pub(crate) local: Option<SockAddr>,
    /// The portal's end.
    pub(crate) peer: SockAddr,
}

/// Where a connection is in its life.
pub(crate) enum ConnState {
    /// TCP connect and login exchange running.
    LoggingIn,
    /// Logged in; the socket and negotiated values are here.
    FullFeature(FullFeature),
    /// A Logout is being exchanged; the socket is with the logout code.
    LoggingOut,
    /// Closed; `reason` says why.
    Down {
        /// Why it went down (shown in events and listings).
        reason: &'static str,
    },
}

impl ConnState {
    /// The state as the netlink ABI reports it.
    pub(crate) fn abi(&self) -> abi::ConnState {
        match self {
            ConnState::LoggingIn => abi::ConnState::LoggingIn,
            ConnState::FullFeature(_) => abi::ConnState::FullFeature,
            ConnState::LoggingOut => abi::ConnState::LoggingOut,
            ConnState::Down { .. } => abi::ConnState::Down,
        }
    }
}

/// Where a connection runs and how it is watched and weighted: one path of
/// the session (a target portal, reached from a source address or over an
/// interface), fixed for the connection's life.
pub(crate) struct PathConfig {
    /// The target portal.
    pub(crate) portal: SockAddr,
    /// Local address to bind.
    pub(crate) source: Option<IpAddr>,
    /// Interface to bind to, NUL-terminated.
    pub(crate) iface: Option<KVec<u8>>,
    /// How its liveness is watched (NOP and stall times, ms).
    pub(crate) live: NopConfig,
    /// Initial weight (weighted-paths, fail-over-only preference).
    pub(crate) weight: u32,
    /// Initially in the standby set.
    pub(crate) standby: bool,
}

/// Mutable per-connection state, behind the connection's own lock.
pub(crate) struct ConnInner {
    /// Life-cycle state.
    pub(crate) state: ConnState,
}

/// One connection (slot `cid` of its session).
#[pin_data]
pub(crate) struct Connection {
    /// Connection ID (RFC 7143 §13.4 / §11.12.5), the slot index.
    pub(crate) cid: u16,
    /// Its path.
    pub(crate) path: PathConfig,
    /// Current weight (weighted-paths, fail-over-only preference; CONN_SET).
    pub(crate) weight: AtomicU32,
    /// Currently in the standby set (round-robin-with-subset; CONN_SET).
    pub(crate) standby: AtomicBool,
    /// This connection's counters (the session's sum them all).
    pub(crate) stats: Stats,
    /// State, behind this connection's lock.
    #[pin]
    pub(crate) inner: Mutex<ConnInner>,
}

impl Connection {
    /// A connection about to log in over `path`.
    pub(crate) fn new(cid: u16, path: PathConfig) -> Result<Arc<Connection>> {
        Arc::pin_init(
            pin_init!(Connection {
                cid,
                weight: AtomicU32::new(path.weight),
                standby: AtomicBool::new(path.standby),
                path,
                stats: Stats::default(),
                inner <- kernel::new_mutex!(
                    ConnInner {
                        state: ConnState::LoggingIn,
                    },
                    "Connection::inner"
                ),
            }),
            GFP_KERNEL,
        )
    }

    /// Takes the full-feature state out (for logout or teardown), leaving
    /// `LoggingOut`; `None` if the connection is not in full feature phase.
    pub(crate) fn take_full_feature(&self) -> Option<FullFeature> {
        let mut g = self.inner.lock();
        match core::mem::replace(&mut g.state, ConnState::LoggingOut) {
            ConnState::FullFeature(ff) => Some(ff),
            other => {
                g.state = other;
                None
            }
        }
    }

    /// Current weight.
    pub(crate) fn weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }

    /// Currently in the standby set.
    pub(crate) fn is_standby(&self) -> bool {
        self.standby.load(Ordering::Relaxed)
    }

    /// Marks the connection down for `reason`.
    pub(crate) fn set_down(&self, reason: &'static str) {
        self.inner.lock().state = ConnState::Down { reason };
    }
}
