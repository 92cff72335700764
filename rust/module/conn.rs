// SPDX-License-Identifier: GPL-2.0

//! One iSCSI connection of a session (RFC 7143 §4.2: a TCP connection with a
//! CID), and its life cycle up to the hand-over to the data path.
//!
//! The login (`login.rs`) moves a connection from `LoggingIn` to
//! `FullFeature`; from there the data path (`ffp::start`) owns the traffic.
//! Each connection has its own lock so that the connections of one session
//! never contend with each other.
#![forbid(unsafe_code)]

use crate::abi;
use crate::abs::net::{SockAddr, TcpSocket};
use crate::proto::keys::params::ConnectionParams;
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

/// Mutable per-connection state, behind the connection's own lock.
pub(crate) struct ConnInner {
    /// Life-cycle state.
    pub(crate) state: ConnState,
    /// The portal this connection logs in to.
    pub(crate) portal: SockAddr,
}

/// One connection (slot `cid` of its session).
#[pin_data]
pub(crate) struct Connection {
    /// Connection ID (RFC 7143 §13.4 / §11.12.5), the slot index.
    pub(crate) cid: u16,
    /// State, behind this connection's lock.
    #[pin]
    pub(crate) inner: Mutex<ConnInner>,
}

impl Connection {
    /// A connection about to log in to `portal`.
    pub(crate) fn new(cid: u16, portal: SockAddr) -> Result<Arc<Connection>> {
        Arc::pin_init(
            pin_init!(Connection {
                cid,
                inner <- kernel::new_mutex!(
                    ConnInner {
                        state: ConnState::LoggingIn,
                        portal,
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

    /// Marks the connection down for `reason`.
    pub(crate) fn set_down(&self, reason: &'static str) {
        self.inner.lock().state = ConnState::Down { reason };
    }
}
