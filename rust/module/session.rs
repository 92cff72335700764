// SPDX-License-Identifier: GPL-2.0

//! An iSCSI session (RFC 7143 §4.2): its configuration from SESSION_CREATE,
//! the connection slots (up to `MAX_CONNS`, indexed by CID), the session-wide
//! CmdSN window and the load-balancing policy from the core.
#![forbid(unsafe_code)]

use crate::abi;
use crate::abs::genl::Net;
use crate::abs::net::{IpAddr, SockAddr};
use crate::conn::Connection;
use crate::netlink::Control;
use crate::proto::keys::params::{InitiatorParams, NegotiatedParams};
use crate::proto::login::Isid;
use crate::proto::policy::{Policy, PolicyKind};
use crate::proto::seq::CmdWindow;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

/// Connection slots per session (MC/S); a CID is a slot index.
pub(crate) const MAX_CONNS: usize = 8;

/// CHAP name and secret.
pub(crate) struct ChapCred {
    /// CHAP_N.
    pub(crate) user: KVec<u8>,
    /// The shared secret.
    pub(crate) secret: KVec<u8>,
}

/// What SESSION_CREATE asked for.
pub(crate) struct SessionConfig {
    /// TargetName.
    pub(crate) target: KVec<u8>,
    /// InitiatorName.
    pub(crate) initiator: KVec<u8>,
    /// InitiatorAlias.
    pub(crate) alias: Option<KVec<u8>>,
    /// The portal of the leading connection.
    pub(crate) portal: SockAddr,
    /// Local address to bind.
    pub(crate) source: Option<IpAddr>,
    /// Interface to bind to, NUL-terminated.
    pub(crate) iface: Option<KVec<u8>>,
    /// One-way CHAP.
    pub(crate) chap: Option<ChapCred>,
    /// What the target must answer for mutual CHAP.
    pub(crate) mutual: Option<ChapCred>,
    /// Operational values to offer.
    pub(crate) params: InitiatorParams,
    /// Seconds between NOP-Out pings on an idle connection (0: none).
    pub(crate) nop_interval: u32,
    /// Seconds to wait for a NOP-In.
    pub(crate) nop_timeout: u32,
    /// Seconds I/O is held during session recovery.
    pub(crate) replacement_timeout: u32,
}

/// Session counters, reported by SESSION_GET. Atomics outside the session
/// lock, so the data path counts without taking it.
#[derive(Default)]
pub(crate) struct Stats {
    cmds: AtomicU64,
    tx_bytes: AtomicU64,
    rx_bytes: AtomicU64,
    errors: AtomicU64,
    outstanding: AtomicU32,
}

/// The counters at one moment.
#[derive(Clone, Copy)]
pub(crate) struct StatsSnapshot {
    /// SCSI commands issued.
    pub(crate) cmds: u64,
    /// Bytes sent (PDUs: headers, data, digests).
    pub(crate) tx_bytes: u64,
    /// Bytes received.
    pub(crate) rx_bytes: u64,
    /// Commands completed with an error.
    pub(crate) errors: u64,
    /// Commands issued and not completed.
    pub(crate) outstanding: u32,
}

impl Stats {
    /// A SCSI command was issued.
    pub(crate) fn issued(&self) {
        self.cmds.fetch_add(1, Ordering::Relaxed);
        self.outstanding.fetch_add(1, Ordering::Relaxed);
    }

    /// A command completed, with an error or not.
    pub(crate) fn completed(&self, error: bool) {
        // Never below zero, whatever order completions race in.
        let _ = self
            .outstanding
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        if error {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `n` bytes went out.
    pub(crate) fn sent(&self, n: u64) {
        self.tx_bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` bytes came in.
    pub(crate) fn received(&self, n: u64) {
        self.rx_bytes.fetch_add(n, Ordering::Relaxed);
    }
}

impl Stats {
    /// The current values.
    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            cmds: self.cmds.load(Ordering::Relaxed),
            tx_bytes: self.tx_bytes.load(Ordering::Relaxed),
            rx_bytes: self.rx_bytes.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            outstanding: self.outstanding.load(Ordering::Relaxed),
        }
    }
}

/// Mutable session-wide state, behind the session lock.
pub(crate) struct SessionInner {
    /// Life-cycle state.
    pub(crate) state: abi::SessionState,
    /// TSIH the target assigned (0 before the leading login).
    pub(crate) tsih: u16,
    /// Everything the leading login agreed.
    pub(crate) negotiated: Option<NegotiatedParams>,
    /// Target portal group tag, when known.
    pub(crate) tpgt: u16,
    /// The session-wide CmdSN window (RFC 7143 §4.2.2.1).
    pub(crate) window: CmdWindow,
    /// Connection slots, indexed by CID.
    pub(crate) conns: [Option<Arc<Connection>>; MAX_CONNS],
    /// Which connection carries the next command.
    #[expect(
        dead_code,
        reason = "one connection until MC/S; the data path will ask it"
    )]
    pub(crate) policy: Policy<MAX_CONNS>,
    /// The data path, once the leading connection is in full feature phase.
    pub(crate) data_path: Option<Arc<crate::ffp::SessionIo>>,
}

/// One session.
#[pin_data]
pub(crate) struct Session {
    /// Local session id (unique in the module).
    pub(crate) sid: u32,
    /// The network namespace it was created in; its sockets live there.
    pub(crate) net: Net,
    /// ISID (RFC 7143 §11.12.5), random format.
    pub(crate) isid: Isid,
    /// Configuration.
    pub(crate) cfg: SessionConfig,
    /// Where events go (the netlink family). The registry inside it lists
    /// this session until teardown, so this reference cycle is broken by
    /// every removal from the registry.
    ctl: Arc<Control>,
    /// Counters.
    pub(crate) stats: Stats,
    /// Mutable state.
    #[pin]
    pub(crate) inner: Mutex<SessionInner>,
}

impl Session {
    /// A session about to log in its leading connection (CID 0), which is
    /// returned along.
    pub(crate) fn new(
        sid: u32,
        net: Net,
        isid: Isid,
        cfg: SessionConfig,
        ctl: Arc<Control>,
    ) -> Result<(Arc<Session>, Arc<Connection>)> {
        let lead = Connection::new(0, cfg.portal)?;
        let mut conns: [Option<Arc<Connection>>; MAX_CONNS] = Default::default();
        conns[0] = Some(lead.clone());
        let s = Arc::pin_init(
            pin_init!(Session {
                sid,
                net,
                isid,
                cfg,
                ctl,
                stats: Stats::default(),
                inner <- kernel::new_mutex!(
                    SessionInner {
                        state: abi::SessionState::LoggingIn,
                        tsih: 0,
                        negotiated: None,
                        tpgt: 1,
                        window: CmdWindow::from_login(1, 1),
                        conns,
                        policy: Policy::new(PolicyKind::RoundRobin),
                        data_path: None,
                    },
                    "Session::inner"
                ),
            }),
            GFP_KERNEL,
        )?;
        Ok((s, lead))
    }

    /// Multicasts event `kind` about this session (and connection `cid`)
    /// to the `events` group of its namespace, with an optional `reason`.
    /// Any context that may sleep briefly (it allocates with GFP_KERNEL).
    pub(crate) fn emit(&self, kind: abi::EventKind, cid: Option<u16>, reason: &[u8]) {
        crate::events::emit(&self.ctl, self, kind, cid, reason);
    }

    /// Every connection in a slot.
    pub(crate) fn connections(&self) -> KVec<Arc<Connection>> {
        let g = self.inner.lock();
        let mut v = KVec::new();
        for c in g.conns.iter().flatten() {
            // Listing is best effort under memory pressure.
            let _ = v.push(c.clone(), GFP_KERNEL);
        }
        v
    }

    /// Whether this session logs in to `target` at `portal`.
    pub(crate) fn is_same_target(&self, target: &[u8], portal: &SockAddr) -> bool {
        self.cfg.target.as_slice() == target && self.cfg.portal == *portal
    }
}
