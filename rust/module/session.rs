// SPDX-License-Identifier: GPL-2.0

//! The session layer: an iSCSI session (RFC 7143 §4.2), its configuration
//! from SESSION_CREATE and its connection slots (up to `MAX_CONNS`, indexed
//! by CID), and below it the session's data path — the task table, the
//! session-wide CmdSN window, the load-balancing policy and the SCSI host.
//!
//! The control plane above calls into this layer; the connections below
//! report back only through [`port::SessionPort`].
#![forbid(unsafe_code)]

pub(crate) mod balance;
pub(crate) mod datapath;
pub(crate) mod failover;
mod host;
pub(crate) mod port;
pub(crate) mod task;

use crate::abi;
use crate::abs::net::SockAddr;
use crate::abs::netns::NetRef;
use crate::conn::{Connection, PathConfig};
use crate::control::netlink::Control;
use crate::proto::keys::params::{InitiatorParams, NegotiatedParams};
use crate::proto::login::Isid;
use crate::proto::seq::CmdWindow;
use crate::stats::Stats;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

/// Connection slots per session (MC/S); a CID is a slot index.
pub(crate) const MAX_CONNS: usize = abi::MAX_CONNS as usize;

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
    /// The portal of the leading connection (the session's identity).
    pub(crate) portal: SockAddr,
    /// One-way CHAP.
    pub(crate) chap: Option<ChapCred>,
    /// What the target must answer for mutual CHAP.
    pub(crate) mutual: Option<ChapCred>,
    /// Operational values to offer.
    pub(crate) params: InitiatorParams,
    /// Default liveness settings of the session's paths.
    pub(crate) live: crate::proto::nop::NopConfig,
    /// Seconds I/O is held during session recovery.
    pub(crate) replacement_timeout: u32,
}

/// The load-balancing policy as configured (SESSION_CREATE, SESSION_SET).
#[derive(Clone, Copy)]
pub(crate) struct PolicyConfig {
    /// Which policy.
    pub(crate) kind: abi::PolicyKind,
    /// Fail-over-only returns to the preferred connection.
    pub(crate) failback: bool,
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
    /// The load-balancing policy (the data path applies it).
    pub(crate) policy: PolicyConfig,
    /// The data path, once the leading connection is in full feature phase.
    pub(crate) data_path: Option<Arc<datapath::SessionIo>>,
}

/// One session.
#[pin_data]
pub(crate) struct Session {
    /// Local session id (unique in the module).
    pub(crate) sid: u32,
    /// The network namespace it was created in; its sockets live there.
    /// Not counted: the namespace's exit tears the session down.
    pub(crate) net: NetRef,
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
    /// A connection or policy change is running (see `try_control`).
    control_busy: AtomicBool,
    /// Mutable state.
    #[pin]
    pub(crate) inner: Mutex<SessionInner>,
}

impl Session {
    /// A session about to log in its leading connection (CID 0) over
    /// `lead`; the connection is returned along.
    pub(crate) fn new(
        sid: u32,
        net: NetRef,
        isid: Isid,
        cfg: SessionConfig,
        policy: PolicyConfig,
        lead: PathConfig,
        ctl: Arc<Control>,
    ) -> Result<(Arc<Session>, Arc<Connection>)> {
        let lead = Connection::new(0, lead)?;
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
                control_busy: AtomicBool::new(false),
                inner <- kernel::new_mutex!(
                    SessionInner {
                        state: abi::SessionState::LoggingIn,
                        tsih: 0,
                        negotiated: None,
                        tpgt: 1,
                        window: CmdWindow::from_login(1, 1),
                        conns,
                        policy,
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
        crate::control::events::emit(&self.ctl, self, kind, cid, reason, |_| Ok(()));
    }

    /// As [`Session::emit`], with more attributes written by `extra`.
    pub(crate) fn emit_with(
        &self,
        kind: abi::EventKind,
        cid: Option<u16>,
        extra: impl FnOnce(&mut crate::abs::genl::MsgWriter<'_>) -> Result,
    ) {
        crate::control::events::emit(&self.ctl, self, kind, cid, b"", extra);
    }

    /// Claims the session for one connection or policy change at a time;
    /// `None` while another one runs.
    pub(crate) fn try_control(&self) -> Option<ControlClaim<'_>> {
        self.control_busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        Some(ControlClaim { sess: self })
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

    /// Connection `cid`, if its slot is taken.
    pub(crate) fn connection(&self, cid: u16) -> Option<Arc<Connection>> {
        self.inner.lock().conns.get(usize::from(cid))?.clone()
    }

    /// Takes the lowest free CID for a connection over `path`; `EUSERS`
    /// when `limit` slots (at most `MAX_CONNS`) are taken.
    pub(crate) fn add_slot(&self, path: PathConfig, limit: usize) -> Result<Arc<Connection>> {
        let mut g = self.inner.lock();
        let used = g.conns.iter().flatten().count();
        let free = g.conns.iter().position(Option::is_none);
        let (Some(cid), true) = (free, used < limit) else {
            return Err(EUSERS);
        };
        let c = Connection::new(cid as u16, path)?;
        if let Some(s) = g.conns.get_mut(cid) {
            *s = Some(c.clone());
        }
        Ok(c)
    }

    /// Frees the slot of connection `cid`.
    pub(crate) fn remove_slot(&self, cid: u16) {
        if let Some(s) = self.inner.lock().conns.get_mut(usize::from(cid)) {
            *s = None;
        }
    }

    /// Whether this session logs in to `target` at `portal`.
    pub(crate) fn is_same_target(&self, target: &[u8], portal: &SockAddr) -> bool {
        self.cfg.target.as_slice() == target && self.cfg.portal == *portal
    }
}

/// A claim on a session's control operations; released when dropped.
pub(crate) struct ControlClaim<'a> {
    sess: &'a Session,
}

impl Drop for ControlClaim<'_> {
    fn drop(&mut self) {
        self.sess.control_busy.store(false, Ordering::Release);
    }
}
