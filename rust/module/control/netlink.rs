// SPDX-License-Identifier: GPL-2.0

//! The generic netlink control interface (`abi`): SESSION_CREATE,
//! SESSION_DESTROY, SESSION_GET, CONN_ADD, CONN_REMOVE, SESSION_SET,
//! CONN_SET, and the registry of sessions per network namespace.
#![forbid(unsafe_code)]

use crate::abi::{self, Attr, Cmd};
use crate::abs::genl::{AttrRef, Attrs, Dump, Family, Handler, MsgWriter, Net, OpSpec, Request};
use crate::abs::net::{IpAddr, SockAddr};
use crate::abs::netns::{NetExit, NetTable};
use crate::abs::random;
use crate::abs::workqueue::OwnedQueue;
use crate::conn::{ConnState, Connection, PathConfig};
use crate::control::login::{self, Failure};
use crate::proto::keys::params::{DigestPref, DigestType, InitiatorParams};
use crate::proto::login::{Isid, LoginDone};
use crate::proto::nop::NopConfig;
use crate::session::{ChapCred, PolicyConfig, Session, SessionConfig};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow, CondVar, Mutex};
use kernel::ThisModule;

/// The registered family with its registry.
pub(crate) type Control = Family<Registry>;

/// Default replacement_timeout (open-iscsi's default, seconds).
const DEFAULT_REPLACEMENT_TIMEOUT: u32 = 120;

const OPS: [OpSpec; 7] = [
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
    OpSpec {
        cmd: Cmd::ConnAdd,
        dump: false,
    },
    OpSpec {
        cmd: Cmd::ConnRemove,
        dump: false,
    },
    OpSpec {
        cmd: Cmd::SessionSet,
        dump: false,
    },
    OpSpec {
        cmd: Cmd::ConnSet,
        dump: false,
    },
];

/// Weight of a path that does not give one.
const DEFAULT_WEIGHT: u32 = 1;

/// Every session of the module, and the queue their control work runs on.
pub(crate) struct Registry {
    sessions: Pin<KBox<Mutex<KVec<Arc<Session>>>>>,
    /// The namespaces sessions live in, for their exit.
    nets: NetTable,
    next_sid: AtomicU32,
    wq: OwnedQueue,
}

/// Creates and registers the family; with `userns`, an admin of a user
/// namespace may run sessions in the network namespaces it owns.
pub(crate) fn register(module: &'static ThisModule, userns: bool) -> Result<Arc<Control>> {
    let wq = OwnedQueue::new_reclaim(c"rsiscsi_ctl", true, false)?;
    crate::abs::workqueue::self_test(&wq)?;
    let reg = Registry {
        sessions: KBox::pin_init(
            kernel::new_mutex!(KVec::new(), "Registry::sessions"),
            GFP_KERNEL,
        )?,
        nets: NetTable::new()?,
        next_sid: AtomicU32::new(1),
        wq,
    };
    let ctl = Family::new(
        module,
        abi::FAMILY_NAME,
        abi::VERSION,
        &OPS,
        abi::MCGRP_EVENTS,
        userns,
        reg,
    )?;
    ctl.register()?;
    Ok(ctl)
}

/// Unregisters the family, then logs every session out (module unload).
pub(crate) fn shutdown(ctl: &Control) {
    ctl.unregister();
    let all = core::mem::take(&mut *ctl.data().sessions.lock());
    for s in all.iter() {
        log_out(ctl, s.clone());
    }
    ctl.data().wq.flush();
}

/// Logs out a session already taken out of the registry; a logout that is
/// not clean is logged, the session goes either way.
fn log_out(ctl: &Control, s: Arc<Session>) {
    let sid = s.sid;
    if let Err(f) = run_teardown(ctl, s) {
        pr_warn!(
            "rsiscsi: session {}: {}\n",
            sid,
            core::str::from_utf8(f.msg.as_bytes()).unwrap_or("logout failed")
        );
    }
}

impl NetExit for Control {
    fn table(&self) -> &NetTable {
        &self.data().nets
    }

    /// A deleted namespace's sessions log out while its devices are still
    /// up. No request can be running for them: each holds a count on its
    /// sender's namespace, so the namespace could not be dying.
    fn net_exit(&self, id: usize) {
        // One at a time, allocating nothing: every session of the namespace
        // must go, or its sockets would hold the exit.
        loop {
            let sess = {
                let mut g = self.data().sessions.lock();
                match g.iter().position(|s| s.net.id() == id) {
                    Some(i) => g.remove(i).ok(),
                    None => None,
                }
            };
            let Some(sess) = sess else {
                break;
            };
            pr_info!(
                "rsiscsi: session {}: its network namespace is being deleted\n",
                sess.sid
            );
            log_out(self, sess);
        }
        self.data().wq.flush();
    }
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

fn parse_create(req: &mut Request<'_>) -> Result<Create> {
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
        // DefaultTime2Wait is negotiated to the larger offer: offering 0
        // leaves the pause before connection recovery to the target.
        default_time2wait: 0,
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
        default_time2wait: req
            .attr(Attr::DefaultTime2Wait)
            .map_or(d.default_time2wait, |a| a.u16()),
        default_time2retain: req
            .attr(Attr::DefaultTime2Retain)
            .map_or(d.default_time2retain, |a| a.u16()),
        ..d
    };
    if params.validate().is_err() {
        return Err(err_msg(
            req,
            EINVAL,
            "negotiation proposal out of range (RFC 7143 section 13)",
        ));
    }
    let live = parse_liveness(&*req, NopConfig::DEFAULT).map_err(|m| err_msg(req, EINVAL, m))?;
    let lead = parse_path(&*req, live).map_err(|m| err_msg(req, EINVAL, m))?;
    let mut paths = KVec::new();
    let mut bad = None;
    if let Some(list) = req.attr(Attr::Paths) {
        for (i, e) in list.entries().enumerate() {
            if i + 1 >= crate::session::MAX_CONNS {
                bad = Some((EUSERS, "more paths than MAX_CONNS (8) connections"));
                break;
            }
            match parse_path(&e, live) {
                Ok(p) => paths.push(p, GFP_KERNEL)?,
                Err(m) => {
                    bad = Some((EINVAL, m));
                    break;
                }
            }
        }
    }
    if let Some((e, m)) = bad {
        return Err(err_msg(req, e, m));
    }
    let policy = PolicyConfig {
        kind: match req
            .attr(Attr::Policy)
            .map(|a| abi::PolicyKind::from_u8(a.u8()))
        {
            None => abi::PolicyKind::RoundRobin,
            Some(Some(k)) => k,
            Some(None) => return Err(err_msg(req, EINVAL, "unknown policy")),
        },
        failback: b(req.attr(Attr::Failback), false),
    };
    let cfg = SessionConfig {
        target,
        initiator,
        alias,
        portal: lead.portal,
        chap,
        mutual,
        params,
        live,
        replacement_timeout: n32(
            req.attr(Attr::ReplacementTimeout),
            DEFAULT_REPLACEMENT_TIMEOUT,
        ),
    };
    Ok(Create {
        cfg,
        policy,
        lead,
        paths,
    })
}

/// A parsed SESSION_CREATE.
struct Create {
    cfg: SessionConfig,
    policy: PolicyConfig,
    lead: PathConfig,
    paths: KVec<PathConfig>,
}

/// Longest NOP or stall time accepted: an hour.
const MAX_LIVENESS_MS: u64 = 3_600_000;

/// The NOP and stall times of `a`, each defaulting to `d`'s. A time may be
/// given in seconds (the first ABI) or in milliseconds, not both.
fn parse_liveness(a: &impl Attrs, d: NopConfig) -> core::result::Result<NopConfig, &'static str> {
    let ms = |secs: Option<Attr>, ms: Attr, d: u64| {
        let v = match (secs.and_then(|s| a.get(s)), a.get(ms)) {
            (Some(_), Some(_)) => {
                return Err("give a NOP time in seconds or in milliseconds, not both")
            }
            (Some(s), None) => u64::from(s.u32()) * 1000,
            (None, Some(m)) => u64::from(m.u32()),
            (None, None) => d,
        };
        if v > MAX_LIVENESS_MS {
            return Err("NOP and stall times are at most an hour");
        }
        Ok(v)
    };
    Ok(NopConfig {
        interval_ms: ms(Some(Attr::NopInterval), Attr::NopIntervalMs, d.interval_ms)?,
        timeout_ms: ms(Some(Attr::NopTimeout), Attr::NopTimeoutMs, d.timeout_ms)?,
        stall_ms: ms(None, Attr::StallTimeoutMs, d.stall_ms)?,
    })
}

/// The path attributes of `a` (flat in SESSION_CREATE and CONN_ADD, or one
/// `Paths` entry); NOP and stall times default to the session's `live`.
fn parse_path(a: &impl Attrs, live: NopConfig) -> core::result::Result<PathConfig, &'static str> {
    let ip = match a
        .get(Attr::PortalAddr)
        .map(|a| IpAddr::from_bytes(a.bytes()))
    {
        Some(Some(ip)) => ip,
        Some(None) => return Err("portal address must be 4 or 16 bytes"),
        None => return Err("missing portal address"),
    };
    let port = a
        .get(Attr::PortalPort)
        .map_or(abi::DEFAULT_PORT, |a| a.u16());
    let source = match a
        .get(Attr::SourceAddr)
        .map(|a| IpAddr::from_bytes(a.bytes()))
    {
        Some(Some(ip)) => Some(ip),
        Some(None) => return Err("source address must be 4 or 16 bytes"),
        None => None,
    };
    let iface = match a.get(Attr::Iface) {
        Some(i) => {
            let mut v = owned(i.str_bytes()).map_err(|_| "out of memory")?;
            v.push(0, GFP_KERNEL).map_err(|_| "out of memory")?;
            Some(v)
        }
        None => None,
    };
    let n32 = |x: Attr, d: u32| a.get(x).map_or(d, |v| v.u32());
    Ok(PathConfig {
        portal: SockAddr { ip, port },
        source,
        iface,
        live: parse_liveness(a, live)?,
        weight: n32(Attr::Weight, DEFAULT_WEIGHT),
        standby: a.get(Attr::Standby).is_some_and(|v| v.u8() != 0),
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
    /// Session `sid` of namespace `net`.
    fn find(&self, net: &Net, sid: u32) -> Option<Arc<Session>> {
        self.sessions
            .lock()
            .iter()
            .find(|s| s.sid == sid && s.net.id() == net.id())
            .cloned()
    }

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
    let Create {
        cfg,
        policy,
        lead,
        paths,
    } = parse_create(req)?;
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
        let netref = reg.nets.track(&net)?;
        let (sess, lead) = Session::new(sid, netref, new_isid(), cfg, policy, lead, ctl.into())?;
        g.push(sess.clone(), GFP_KERNEL)?;
        (sess, lead)
    };
    let (s2, l2) = (sess.clone(), lead.clone());
    let r = on_wq(&ctl, move || login::login_leading(&s2, &l2.path, l2.cid));
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            reg.remove(sess.sid);
            return Err(e);
        }
    };
    let (ff, done) = match r {
        Ok(v) => v,
        Err(f) => {
            reg.remove(sess.sid);
            lead.set_down("login failed");
            pr_info!(
                "rsiscsi: session {}: login failed: {}\n",
                sess.sid,
                core::str::from_utf8(f.msg.as_bytes()).unwrap_or("?")
            );
            req.set_error(f.msg.as_bytes());
            return Err(f.err);
        }
    };
    finish_login(&sess, &lead, ff, done);
    // The request is all or nothing: a path that does not log in takes the
    // session down with it, and the message says which one.
    for (i, path) in paths.into_iter().enumerate() {
        let s2 = sess.clone();
        let r = on_wq(&ctl, move || crate::control::mcs::add(&s2, path));
        let f = match r {
            Ok(Ok(_)) => continue,
            Ok(Err(f)) => f,
            Err(e) => Failure {
                err: e,
                msg: login::Msg::from_str("out of memory"),
            },
        };
        let mut m = login::Msg::from_str("");
        let _ = core::fmt::Write::write_fmt(
            &mut m,
            format_args!(
                "path {}: {}",
                i + 1,
                core::str::from_utf8(f.msg.as_bytes()).unwrap_or("?")
            ),
        );
        pr_info!(
            "rsiscsi: session {}: {}\n",
            sess.sid,
            core::str::from_utf8(m.as_bytes()).unwrap_or("?")
        );
        if let Some(s) = reg.remove(sess.sid) {
            let _ = run_teardown(&ctl, s);
        }
        req.set_error(m.as_bytes());
        return Err(f.err);
    }
    // Every path is in: the policy starts from its preference (fail-over-only
    // from the best-weighted connection, not from the one the scan used).
    let io = sess.inner.lock().data_path.clone();
    if let Some(io) = io {
        io.set_policy(Some(policy));
    }
    // Last: SESSION_DESTROY leaves a session alone until it is settled (see
    // `Registry::take_settled`).
    sess.inner.lock().state = abi::SessionState::LoggedIn;
    req.reply(Cmd::SessionCreate, |w| w.put_u32(Attr::Sid, sess.sid))
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
    match crate::session::datapath::start(sess, conn) {
        Ok(io) => sess.inner.lock().data_path = Some(io),
        Err(e) => pr_err!(
            "rsiscsi: session {}: data path failed to start: {:?}\n",
            sess.sid,
            e
        ),
    }
}

/// Logs `sess` out on a work item and waits; marks its connections down.
fn run_teardown(ctl: &Control, sess: Arc<Session>) -> Result<(), Failure> {
    // The SCSI host goes first, while its connections still carry the
    // devices' final commands; the data path then hands the connections
    // back for the logout below.
    let io = sess.inner.lock().data_path.take();
    if let Some(io) = io {
        crate::session::datapath::stop(&sess, &io);
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

/// The session a connection or policy request names, claimed for that one
/// change: `ENOENT` if there is none in the caller's namespace, `EBUSY` while
/// it logs in or out or another change runs.
fn claimed_session(ctl: &Control, req: &mut Request<'_>) -> Result<Arc<Session>> {
    let Some(sid) = req.attr(Attr::Sid).map(|a| a.u32()) else {
        return Err(err_msg(req, EINVAL, "missing session id"));
    };
    let Some(sess) = ctl.data().find(&req.net(), sid) else {
        return Err(err_msg(req, ENOENT, "no such session"));
    };
    if sess.inner.lock().state != abi::SessionState::LoggedIn {
        return Err(err_msg(req, EBUSY, "session not logged in"));
    }
    Ok(sess)
}

fn busy(req: &mut Request<'_>) -> Error {
    err_msg(req, EBUSY, "another change to this session is running")
}

fn conn_add(ctl: ArcBorrow<'_, Control>, req: &mut Request<'_>) -> Result {
    let sess = claimed_session(&ctl, req)?;
    let path = parse_path(&*req, sess.cfg.live).map_err(|m| err_msg(req, EINVAL, m))?;
    let Some(_claim) = sess.try_control() else {
        return Err(busy(req));
    };
    let s2 = sess.clone();
    match on_wq(&ctl, move || crate::control::mcs::add(&s2, path))? {
        Ok(cid) => req.reply(Cmd::ConnAdd, |w| {
            w.put_u32(Attr::Sid, sess.sid)?;
            w.put_u16(Attr::Cid, cid)
        }),
        Err(f) => {
            req.set_error(f.msg.as_bytes());
            Err(f.err)
        }
    }
}

fn conn_remove(ctl: ArcBorrow<'_, Control>, req: &mut Request<'_>) -> Result {
    let sess = claimed_session(&ctl, req)?;
    let Some(cid) = req.attr(Attr::Cid).map(|a| a.u16()) else {
        return Err(err_msg(req, EINVAL, "missing connection id"));
    };
    let Some(_claim) = sess.try_control() else {
        return Err(busy(req));
    };
    let s2 = sess.clone();
    match on_wq(&ctl, move || crate::control::mcs::remove(&s2, cid))? {
        Ok(()) => Ok(()),
        Err(f) => {
            req.set_error(f.msg.as_bytes());
            Err(f.err)
        }
    }
}

fn session_set(ctl: ArcBorrow<'_, Control>, req: &mut Request<'_>) -> Result {
    let sess = claimed_session(&ctl, req)?;
    let kind = match req
        .attr(Attr::Policy)
        .map(|a| abi::PolicyKind::from_u8(a.u8()))
    {
        Some(Some(k)) => k,
        Some(None) => return Err(err_msg(req, EINVAL, "unknown policy")),
        None => return Err(err_msg(req, EINVAL, "missing policy")),
    };
    let failback = req.attr(Attr::Failback).map(|a| a.u8() != 0);
    let Some(_claim) = sess.try_control() else {
        return Err(busy(req));
    };
    let conf = {
        let mut g = sess.inner.lock();
        g.policy = PolicyConfig {
            kind,
            failback: failback.unwrap_or(g.policy.failback),
        };
        g.policy
    };
    let io = sess.inner.lock().data_path.clone();
    if let Some(io) = io {
        io.set_policy(Some(conf));
    }
    pr_info!(
        "rsiscsi: session {}: policy {}{}\n",
        sess.sid,
        conf.kind.name(),
        if conf.failback { " with failback" } else { "" }
    );
    sess.emit_with(abi::EventKind::PolicyChanged, None, |w| {
        w.put_u8(Attr::Policy, conf.kind as u8)?;
        w.put_u8(Attr::Failback, u8::from(conf.failback))
    });
    Ok(())
}

fn conn_set(ctl: ArcBorrow<'_, Control>, req: &mut Request<'_>) -> Result {
    let sess = claimed_session(&ctl, req)?;
    let Some(cid) = req.attr(Attr::Cid).map(|a| a.u16()) else {
        return Err(err_msg(req, EINVAL, "missing connection id"));
    };
    let weight = req.attr(Attr::Weight).map(|a| a.u32());
    let standby = req.attr(Attr::Standby).map(|a| a.u8() != 0);
    let Some(_claim) = sess.try_control() else {
        return Err(busy(req));
    };
    let Some(conn) = sess.connection(cid) else {
        return Err(err_msg(req, ENOENT, "no such connection"));
    };
    if let Some(w) = weight {
        conn.weight.store(w, Ordering::Relaxed);
    }
    if let Some(s) = standby {
        conn.standby.store(s, Ordering::Relaxed);
    }
    let io = sess.inner.lock().data_path.clone();
    if let Some(io) = io {
        io.set_policy(None);
    }
    sess.emit_with(abi::EventKind::ConnChanged, Some(cid), |w| {
        w.put_u32(Attr::Weight, conn.weight())?;
        w.put_u8(Attr::Standby, u8::from(conn.is_standby()))
    });
    Ok(())
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

fn put_stats(w: &mut MsgWriter<'_>, st: &crate::stats::StatsSnapshot) -> Result {
    w.put_u64(Attr::StatCmds, st.cmds)?;
    w.put_u64(Attr::StatTxBytes, st.tx_bytes)?;
    w.put_u64(Attr::StatRxBytes, st.rx_bytes)?;
    w.put_u64(Attr::StatErrors, st.errors)?;
    w.put_u32(Attr::StatOutstanding, st.outstanding)
}

fn put_conn(w: &mut MsgWriter<'_>, c: &Connection) -> Result {
    let st = c.stats.snapshot();
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
                put_addr(w, Attr::PortalAddr, Attr::PortalPort, &c.path.portal)?;
                w.put_str(Attr::Reason, reason.as_bytes())?;
            }
            _ => put_addr(w, Attr::PortalAddr, Attr::PortalPort, &c.path.portal)?,
        }
        if let Some(src) = &c.path.source {
            w.put_bytes(Attr::SourceAddr, src.bytes())?;
        }
        if let Some(i) = &c.path.iface {
            w.put_str(Attr::Iface, i.strip_suffix(&[0]).unwrap_or(i))?;
        }
        put_liveness(w, &c.path.live)?;
        w.put_u32(Attr::Weight, c.weight())?;
        w.put_u8(Attr::Standby, u8::from(c.is_standby()))?;
        put_stats(w, &st)?;
        w.put_u64(Attr::StatOutstandingBytes, st.outstanding_bytes)?;
        w.put_u32(Attr::StatLatencyUs, st.latency_us)
    })
}

/// The NOP times in milliseconds and, for tools of the first ABI, in
/// seconds rounded up (a sub-second time must not read as 0, "off").
fn put_liveness(w: &mut MsgWriter<'_>, l: &NopConfig) -> Result {
    // parse_liveness keeps every time within an hour: they fit in u32.
    let ms = |v: u64| v as u32;
    w.put_u32(Attr::NopInterval, ms(l.interval_ms.div_ceil(1000)))?;
    w.put_u32(Attr::NopTimeout, ms(l.timeout_ms.div_ceil(1000)))?;
    w.put_u32(Attr::NopIntervalMs, ms(l.interval_ms))?;
    w.put_u32(Attr::NopTimeoutMs, ms(l.timeout_ms))?;
    w.put_u32(Attr::StallTimeoutMs, ms(l.stall_ms))
}

fn put_session(w: &mut MsgWriter<'_>, s: &Session) -> Result {
    w.put_u32(Attr::Sid, s.sid)?;
    w.put_str(Attr::TargetName, &s.cfg.target)?;
    w.put_str(Attr::InitiatorName, &s.cfg.initiator)?;
    put_addr(w, Attr::PortalAddr, Attr::PortalPort, &s.cfg.portal)?;
    w.put_bytes(Attr::Isid, &s.isid.to_bytes())?;
    w.put_u32(Attr::ReplacementTimeout, s.cfg.replacement_timeout)?;
    put_liveness(w, &s.cfg.live)?;
    let (state, tsih, tpgt, neg, policy) = {
        let g = s.inner.lock();
        (g.state, g.tsih, g.tpgt, g.negotiated, g.policy)
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
    w.put_u8(Attr::Policy, policy.kind as u8)?;
    w.put_u8(Attr::Failback, u8::from(policy.failback))?;
    put_stats(w, &stats)?;
    w.put_u64(Attr::StatOutstandingBytes, stats.outstanding_bytes)?;
    w.put_u32(Attr::StatLatencyUs, stats.latency_us)?;
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
            Cmd::ConnAdd => conn_add(family, req),
            Cmd::ConnRemove => conn_remove(family, req),
            Cmd::SessionSet => session_set(family, req),
            Cmd::ConnSet => conn_set(family, req),
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
