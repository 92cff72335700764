// SPDX-License-Identifier: GPL-2.0

//! The generic netlink control interface (`abi`): SESSION_CREATE,
//! SESSION_DESTROY, SESSION_GET, and the registry of sessions per network
//! namespace.
#![forbid(unsafe_code)]

use crate::abi::{self, Attr, Cmd};
use crate::abs::genl::{AttrRef, Dump, Family, Handler, MsgWriter, Net, OpSpec, Request};
use crate::abs::net::{IpAddr, SockAddr};
use crate::abs::random;
use crate::abs::workqueue::OwnedQueue;
use crate::conn::{ConnState, Connection};
use crate::login::{self, Failure};
use crate::proto::keys::params::{DigestPref, DigestType, InitiatorParams};
use crate::proto::login::{Isid, LoginDone};
use crate::session::{ChapCred, Session, SessionConfig};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow, CondVar, Mutex};
use kernel::ThisModule;

/// The registered family with its registry.
pub(crate) type Control = Family<Registry>;

/// Default replacement_timeout (open-iscsi's default, seconds).
const DEFAULT_REPLACEMENT_TIMEOUT: u32 = 120;
/// Default NOP-Out interval and timeout (open-iscsi's defaults, seconds).
const DEFAULT_NOP_INTERVAL: u32 = 5;
const DEFAULT_NOP_TIMEOUT: u32 = 5;

const OPS: [OpSpec; 3] = [
    OpSpec {
        cmd: Cmd::SessionCreate,
        dump: false,
    },
    OpSpec {
        cmd: Cmd::SessionDestroy,
        dump: false,
    },
    OpSpec {
        cmd: Cmd::SessionGet,
        dump: true,
    },
];

/// Every session of the module, and the queue their control work runs on.
pub(crate) struct Registry {
    sessions: Pin<KBox<Mutex<KVec<Arc<Session>>>>>,
    next_sid: AtomicU32,
    wq: OwnedQueue,
}

/// Creates and registers the family.
pub(crate) fn register(module: &'static ThisModule) -> Result<Arc<Control>> {
    let wq = OwnedQueue::new_reclaim(c"rsiscsi_ctl", true, false)?;
    crate::abs::workqueue::self_test(&wq)?;
    let reg = Registry {
        sessions: KBox::pin_init(
            kernel::new_mutex!(KVec::new(), "Registry::sessions"),
            GFP_KERNEL,
        )?,
        next_sid: AtomicU32::new(1),
        wq,
    };
    let ctl = Family::new(
        module,
        abi::FAMILY_NAME,
        abi::VERSION,
        &OPS,
        abi::MCGRP_EVENTS,
        reg,
    )?;
    ctl.register()?;
    Ok(ctl)
}

/// Unregisters the family, then logs every session out (module unload).
pub(crate) fn shutdown(ctl: &Control) {
    ctl.unregister();
    let reg = ctl.data();
    let all = core::mem::take(&mut *reg.sessions.lock());
    for s in all.iter() {
        if let Err(f) = run_teardown(ctl, s.clone()) {
            pr_warn!(
                "rsiscsi: session {}: {}\n",
                s.sid,
                core::str::from_utf8(f.msg.as_bytes()).unwrap_or("logout failed")
            );
        }
    }
    reg.wq.flush();
}

/// A result handed from a work item to the request waiting for it.
#[pin_data]
struct Waiter<T> {
    #[pin]
    result: Mutex<Option<T>>,
    #[pin]
    cv: CondVar,
}

impl<T: Send + Unpin + 'static> Waiter<T> {
    fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                result <- kernel::new_mutex!(None, "Waiter::result"),
                cv <- kernel::new_condvar!("Waiter::cv"),
            }),
            GFP_KERNEL,
        )
    }

    fn set(&self, v: T) {
        *self.result.lock() = Some(v);
        self.cv.notify_all();
    }

    fn wait(&self) -> T {
        let mut g = self.result.lock();
        loop {
            if let Some(v) = g.take() {
                return v;
            }
            self.cv.wait(&mut g);
        }
    }
}

/// Runs `f` on the control queue and waits for its result: login and logout
/// run there, on a queue that can progress under memory pressure.
fn on_wq<T: Send + Unpin + 'static>(
    ctl: &Control,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let w = Waiter::new()?;
    let w2 = w.clone();
    ctl.data()
        .wq
        .queue()
        .try_spawn(GFP_KERNEL, move || w2.set(f()))?;
    Ok(w.wait())
}

fn err_msg(req: &mut Request<'_>, err: Error, msg: &str) -> Error {
    req.set_error(msg.as_bytes());
    err
}

fn owned(b: &[u8]) -> Result<KVec<u8>> {
    let mut v = KVec::with_capacity(b.len(), GFP_KERNEL)?;
    v.extend_from_slice(b, GFP_KERNEL)?;
    Ok(v)
}

fn digest_pref(a: Option<AttrRef<'_>>) -> Result<DigestPref> {
    Ok(match a.map(|a| abi::Digest::from_u8(a.u8())) {
        None => DigestPref::NoneOnly,
        Some(Some(abi::Digest::None)) => DigestPref::NoneOnly,
        Some(Some(abi::Digest::Crc32c)) => DigestPref::Crc32cOnly,
        Some(Some(abi::Digest::PreferCrc32c)) => DigestPref::PreferCrc32c,
        Some(None) => return Err(EINVAL),
    })
}

fn parse_create(req: &mut Request<'_>) -> Result<SessionConfig> {
    let need = |req: &mut Request<'_>, a: Attr, name: &str| -> Result<KVec<u8>> {
        match req.attr(a) {
            Some(v) if !v.str_bytes().is_empty() => owned(v.str_bytes()),
            _ => {
                let mut m = KVec::new();
                m.extend_from_slice(b"missing ", GFP_KERNEL)?;
                m.extend_from_slice(name.as_bytes(), GFP_KERNEL)?;
                req.set_error(&m);
                Err(EINVAL)
            }
        }
    };
    let target = need(req, Attr::TargetName, "target name")?;
    let initiator = need(req, Attr::InitiatorName, "initiator name")?;
    let alias = req
        .attr(Attr::InitiatorAlias)
        .map(|a| owned(a.str_bytes()))
        .transpose()?;
    let ip = match req
        .attr(Attr::PortalAddr)
        .map(|a| IpAddr::from_bytes(a.bytes()))
    {
        Some(Some(ip)) => ip,
        Some(None) => return Err(err_msg(req, EINVAL, "portal address must be 4 or 16 bytes")),
        None => return Err(err_msg(req, EINVAL, "missing portal address")),
    };
    let port = req
        .attr(Attr::PortalPort)
        .map_or(abi::DEFAULT_PORT, |a| a.u16());
    let source = match req
        .attr(Attr::SourceAddr)
        .map(|a| IpAddr::from_bytes(a.bytes()))
    {
        Some(Some(ip)) => Some(ip),
        Some(None) => return Err(err_msg(req, EINVAL, "source address must be 4 or 16 bytes")),
        None => None,
    };
    let iface = match req.attr(Attr::Iface) {
        Some(a) => {
            let mut v = owned(a.str_bytes())?;
            v.push(0, GFP_KERNEL)?;
            Some(v)
        }
        None => None,
    };
    let cred = |req: &Request<'_>, u: Attr, s: Attr| -> Result<Option<ChapCred>> {
        match (req.attr(u), req.attr(s)) {
            (Some(u), Some(s)) => Ok(Some(ChapCred {
                user: owned(u.str_bytes())?,
                secret: owned(s.bytes())?,
            })),
            (None, None) => Ok(None),
            _ => Err(EINVAL),
        }
    };
    let chap = cred(req, Attr::ChapUser, Attr::ChapSecret)
        .map_err(|e| err_msg(req, e, "CHAP needs both a user and a secret"))?;
    let mutual = cred(req, Attr::MutualUser, Attr::MutualSecret)
        .map_err(|e| err_msg(req, e, "mutual CHAP needs both a user and a secret"))?;
    if mutual.is_some() && chap.is_none() {
        return Err(err_msg(req, EINVAL, "mutual CHAP needs one-way CHAP too"));
    }
    let d = InitiatorParams {
        // What makes every write path possible, and ERL 2 for MC/S
        // recovery; the target may lower each.
        initial_r2t: false,
        immediate_data: true,
        max_recv_data_segment_length: 262_144,
        error_recovery_level: 2,
        max_connections: crate::session::MAX_CONNS as u16,
        ..InitiatorParams::default()
    };
    let hd = digest_pref(req.attr(Attr::HeaderDigest));
    let dd = digest_pref(req.attr(Attr::DataDigest));
    let (Ok(header_digest), Ok(data_digest)) = (hd, dd) else {
        return Err(err_msg(req, EINVAL, "unknown digest value"));
    };
    let b = |a: Option<AttrRef<'_>>, d: bool| a.map_or(d, |a| a.u8() != 0);
    let n32 = |a: Option<AttrRef<'_>>, d: u32| a.map_or(d, |a| a.u32());
    let params = InitiatorParams {
        header_digest,
        data_digest,
        immediate_data: b(req.attr(Attr::ImmediateData), d.immediate_data),
        initial_r2t: b(req.attr(Attr::InitialR2t), d.initial_r2t),
        max_burst_length: n32(req.attr(Attr::MaxBurstLength), d.max_burst_length),
        first_burst_length: n32(req.attr(Attr::FirstBurstLength), d.first_burst_length),
        max_recv_data_segment_length: n32(
            req.attr(Attr::MaxRecvDsl),
            d.max_recv_data_segment_length,
        ),
        error_recovery_level: req
            .attr(Attr::ErrorRecoveryLevel)
            .map_or(d.error_recovery_level, |a| a.u8()),
        max_connections: req
            .attr(Attr::MaxConnections)
            .map_or(d.max_connections, |a| a.u16()),
        ..d
    };
    if params.validate().is_err() {
        return Err(err_msg(
            req,
            EINVAL,
            "negotiation proposal out of range (RFC 7143 section 13)",
        ));
    }
    Ok(SessionConfig {
        target,
        initiator,
        alias,
        portal: SockAddr { ip, port },
        source,
        iface,
        chap,
        mutual,
        params,
        nop_interval: n32(req.attr(Attr::NopInterval), DEFAULT_NOP_INTERVAL),
        nop_timeout: n32(req.attr(Attr::NopTimeout), DEFAULT_NOP_TIMEOUT),
        replacement_timeout: n32(
            req.attr(Attr::ReplacementTimeout),
            DEFAULT_REPLACEMENT_TIMEOUT,
        ),
    })
}

fn new_isid() -> Isid {
    let mut r = [0u8; 5];
    random::fill(&mut r);
    Isid::random(
        u32::from_be_bytes([0, r[0], r[1], r[2]]),
        u16::from_be_bytes([r[3], r[4]]),
    )
}

impl Registry {
    fn remove(&self, sid: u32) -> Option<Arc<Session>> {
        let mut g = self.sessions.lock();
        let i = g.iter().position(|s| s.sid == sid)?;
        g.remove(i).ok()
    }

    /// Removes session `sid` of namespace `net` for teardown: `ENOENT` if
    /// there is none, `EBUSY` while its leading login has not settled (the
    /// login's own failure path removes it then).
    fn take_settled(&self, net: &Net, sid: u32) -> Result<Arc<Session>> {
        let mut g = self.sessions.lock();
        let i = g
            .iter()
            .position(|s| s.sid == sid && s.net.id() == net.id())
            .ok_or(ENOENT)?;
        if g[i].inner.lock().state == abi::SessionState::LoggingIn {
            return Err(EBUSY);
        }
        g.remove(i).map_err(|_| ENOENT)
    }
}

fn session_create(ctl: ArcBorrow<'_, Control>, req: &mut Request<'_>) -> Result {
    let cfg = parse_create(req)?;
    let net = req.net();
    let reg = ctl.data();
    let (sess, lead) = {
        let mut g = reg.sessions.lock();
        if g.iter()
            .any(|s| s.net.id() == net.id() && s.is_same_target(&cfg.target, &cfg.portal))
        {
            drop(g);
            return Err(err_msg(req, EEXIST, "session exists"));
        }
        let sid = reg.next_sid.fetch_add(1, Ordering::Relaxed);
        let (sess, lead) = Session::new(sid, net, new_isid(), cfg, ctl.into())?;
        g.push(sess.clone(), GFP_KERNEL)?;
        (sess, lead)
    };
    let s2 = sess.clone();
    let r = on_wq(&ctl, move || login::login_leading(&s2));
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            reg.remove(sess.sid);
            return Err(e);
        }
    };
    match r {
        Ok((ff, done)) => {
            finish_login(&sess, &lead, ff, done);
            req.reply(Cmd::SessionCreate, |w| w.put_u32(Attr::Sid, sess.sid))
        }
        Err(f) => {
            reg.remove(sess.sid);
            lead.set_down("login failed");
            pr_info!(
                "rsiscsi: session {}: login failed: {}\n",
                sess.sid,
                core::str::from_utf8(f.msg.as_bytes()).unwrap_or("?")
            );
            req.set_error(f.msg.as_bytes());
            Err(f.err)
        }
    }
}

/// Records a successful leading login and announces it. The connection
/// then sits in full feature phase, ready for the data path to take over.
fn finish_login(
    sess: &Arc<Session>,
    conn: &Arc<Connection>,
    ff: crate::conn::FullFeature,
    done: LoginDone,
) {
    {
        let mut g = sess.inner.lock();
        g.tsih = done.tsih;
        g.negotiated = Some(done.negotiated);
        g.window = crate::proto::seq::CmdWindow::from_login(done.exp_cmd_sn, done.max_cmd_sn);
    }
    conn.inner.lock().state = ConnState::FullFeature(ff);
    pr_info!(
        "rsiscsi: session {}: logged in, TSIH {:#06x}, ERL {}\n",
        sess.sid,
        done.tsih,
        done.negotiated.session.error_recovery_level
    );
    sess.emit(abi::EventKind::ConnUp, Some(conn.cid), b"");
    sess.emit(abi::EventKind::SessionUp, None, b"");
    match crate::ffp::start(sess, conn) {
        Ok(io) => sess.inner.lock().data_path = Some(io),
        Err(e) => pr_err!(
            "rsiscsi: session {}: data path failed to start: {:?}\n",
            sess.sid,
            e
        ),
    }
    // Last: SESSION_DESTROY leaves a session alone until it is settled (see
    // `Registry::take_settled`).
    sess.inner.lock().state = abi::SessionState::LoggedIn;
}

/// Logs `sess` out on a work item and waits; marks its connections down.
fn run_teardown(ctl: &Control, sess: Arc<Session>) -> Result<(), Failure> {
    // The SCSI host goes first, while its connections still carry the
    // devices' final commands; the data path then hands the connections
    // back for the logout below.
    let io = sess.inner.lock().data_path.take();
    if let Some(io) = io {
        crate::ffp::stop(&sess, &io);
    }
    let (erl, cmd_sn) = {
        let mut g = sess.inner.lock();
        g.state = abi::SessionState::LoggingOut;
        let erl = g.negotiated.map_or(0, |n| n.session.error_recovery_level);
        (erl, g.window.next_cmd_sn())
    };
    let s2 = sess.clone();
    let r = on_wq(ctl, move || {
        let mut result = Ok(());
        let mut logged_out = false;
        for c in s2.connections().iter() {
            if let Some(ff) = c.take_full_feature() {
                if !logged_out {
                    result = login::logout_session(ff, erl, cmd_sn);
                    logged_out = true;
                } else {
                    ff.sock.shutdown();
                }
            }
            c.set_down("logout");
        }
        result
    });
    let r = match r {
        // A session whose connection had already failed has nothing to log
        // out of: the target drops its side on its own. Removing it is what
        // the admin asked for, so that is a success.
        Ok(Err(f)) if f.err == ENOTCONN => {
            pr_info!(
                "rsiscsi: session {}: {}\n",
                sess.sid,
                core::str::from_utf8(f.msg.as_bytes()).unwrap_or("no logout exchanged")
            );
            Ok(())
        }
        Ok(r) => r,
        Err(e) => Err(Failure {
            err: e,
            msg: login::Msg::from_str("out of memory"),
        }),
    };
    for c in sess.connections().iter() {
        sess.emit(abi::EventKind::ConnDown, Some(c.cid), b"logout");
    }
    sess.emit(abi::EventKind::SessionDown, None, b"logout");
    pr_info!("rsiscsi: session {}: logged out\n", sess.sid);
    r
}

fn session_destroy(ctl: ArcBorrow<'_, Control>, req: &mut Request<'_>) -> Result {
    let Some(sid) = req.attr(Attr::Sid).map(|a| a.u32()) else {
        return Err(err_msg(req, EINVAL, "missing session id"));
    };
    let net = req.net();
    let reg = ctl.data();
    let sess = match reg.take_settled(&net, sid) {
        Ok(s) => s,
        Err(e) if e == EBUSY => return Err(err_msg(req, e, "login in progress")),
        Err(e) => return Err(err_msg(req, e, "no such session")),
    };
    match run_teardown(&ctl, sess) {
        Ok(()) => Ok(()),
        Err(f) => {
            // The session is gone either way; say why the logout was not
            // clean.
            req.set_error(f.msg.as_bytes());
            Err(f.err)
        }
    }
}

fn digest_abi(d: DigestType) -> u8 {
    match d {
        DigestType::None => abi::Digest::None as u8,
        DigestType::Crc32c => abi::Digest::Crc32c as u8,
    }
}

fn put_addr(w: &mut MsgWriter<'_>, a: Attr, p: Attr, sa: &SockAddr) -> Result {
    w.put_bytes(a, sa.ip.bytes())?;
    w.put_u16(p, sa.port)
}

fn put_conn(w: &mut MsgWriter<'_>, c: &Connection) -> Result {
    let g = c.inner.lock();
    w.nest(Attr::Conn, |w| {
        w.put_u16(Attr::Cid, c.cid)?;
        w.put_u8(Attr::ConnState, g.state.abi() as u8)?;
        match &g.state {
            ConnState::FullFeature(ff) => {
                put_addr(w, Attr::PortalAddr, Attr::PortalPort, &ff.peer)?;
                if let Some(l) = &ff.local {
                    put_addr(w, Attr::LocalAddr, Attr::LocalPort, l)?;
                }
                w.put_u8(Attr::HeaderDigest, digest_abi(ff.params.header_digest))?;
                w.put_u8(Attr::DataDigest, digest_abi(ff.params.data_digest))?;
                w.put_u32(Attr::MaxRecvDsl, ff.params.max_recv_data_segment_length)?;
                w.put_u32(Attr::MaxXmitDsl, ff.params.max_xmit_data_segment_length)?;
            }
            ConnState::Down { reason } => {
                put_addr(w, Attr::PortalAddr, Attr::PortalPort, &g.portal)?;
                w.put_str(Attr::Reason, reason.as_bytes())?;
            }
            _ => put_addr(w, Attr::PortalAddr, Attr::PortalPort, &g.portal)?,
        }
        Ok(())
    })
}

fn put_session(w: &mut MsgWriter<'_>, s: &Session) -> Result {
    w.put_u32(Attr::Sid, s.sid)?;
    w.put_str(Attr::TargetName, &s.cfg.target)?;
    w.put_str(Attr::InitiatorName, &s.cfg.initiator)?;
    put_addr(w, Attr::PortalAddr, Attr::PortalPort, &s.cfg.portal)?;
    w.put_bytes(Attr::Isid, &s.isid.to_bytes())?;
    w.put_u32(Attr::ReplacementTimeout, s.cfg.replacement_timeout)?;
    w.put_u32(Attr::NopInterval, s.cfg.nop_interval)?;
    w.put_u32(Attr::NopTimeout, s.cfg.nop_timeout)?;
    let (state, tsih, tpgt, neg) = {
        let g = s.inner.lock();
        (g.state, g.tsih, g.tpgt, g.negotiated)
    };
    let stats = s.stats.snapshot();
    w.put_u8(Attr::SessionState, state as u8)?;
    w.put_u16(Attr::Tsih, tsih)?;
    w.put_u16(Attr::Tpgt, tpgt)?;
    if let Some(n) = neg {
        let p = &n.session;
        w.put_u8(Attr::InitialR2t, u8::from(p.initial_r2t))?;
        w.put_u8(Attr::ImmediateData, u8::from(p.immediate_data))?;
        w.put_u32(Attr::MaxBurstLength, p.max_burst_length)?;
        w.put_u32(Attr::FirstBurstLength, p.first_burst_length)?;
        w.put_u8(Attr::ErrorRecoveryLevel, p.error_recovery_level)?;
        w.put_u16(Attr::MaxConnections, p.max_connections)?;
        w.put_u16(Attr::MaxOutstandingR2t, p.max_outstanding_r2t)?;
        w.put_u16(Attr::DefaultTime2Wait, p.default_time2wait)?;
        w.put_u16(Attr::DefaultTime2Retain, p.default_time2retain)?;
    }
    w.put_u64(Attr::StatCmds, stats.cmds)?;
    w.put_u64(Attr::StatTxBytes, stats.tx_bytes)?;
    w.put_u64(Attr::StatRxBytes, stats.rx_bytes)?;
    w.put_u64(Attr::StatErrors, stats.errors)?;
    w.put_u32(Attr::StatOutstanding, stats.outstanding)?;
    for c in s.connections().iter() {
        put_conn(w, c)?;
    }
    Ok(())
}

fn session_get(ctl: ArcBorrow<'_, Control>, dump: &mut Dump<'_>) -> Result {
    let net = dump.net();
    let only = dump.attr(Attr::Sid).map(|a| a.u32());
    let start = dump.cursor();
    let list: KVec<Arc<Session>> = {
        let g = ctl.data().sessions.lock();
        let mut v = KVec::with_capacity(g.len(), GFP_KERNEL)?;
        for s in g.iter() {
            if s.net.id() == net.id()
                && u64::from(s.sid) >= start
                && only.is_none_or(|o| o == s.sid)
            {
                v.push(s.clone(), GFP_KERNEL)?;
            }
        }
        v
    };
    for s in list.iter() {
        if !dump.add(Cmd::SessionGet, |w| put_session(w, s))? {
            dump.set_cursor(u64::from(s.sid));
            return Ok(());
        }
    }
    dump.set_cursor(u64::from(u32::MAX) + 1);
    Ok(())
}

impl Handler for Registry {
    fn doit(family: ArcBorrow<'_, Family<Self>>, req: &mut Request<'_>) -> Result {
        match req.cmd() {
            Cmd::SessionCreate => session_create(family, req),
            Cmd::SessionDestroy => session_destroy(family, req),
            _ => Err(EOPNOTSUPP),
        }
    }

    fn dumpit(family: ArcBorrow<'_, Family<Self>>, dump: &mut Dump<'_>) -> Result {
        match dump.cmd() {
            Cmd::SessionGet => session_get(family, dump),
            _ => Err(EOPNOTSUPP),
        }
    }
}
