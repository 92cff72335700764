// SPDX-License-Identifier: GPL-2.0

//! Logging a connection in and the session out, in the kernel, with the
//! core's `Login` and `logout` state machines.
//!
//! Both run in a work item on the module's `WQ_MEM_RECLAIM` queue with
//! blocking socket calls bounded by timeouts; the data path is not running
//! on the connection at that point (before `datapath::start`, or after the
//! connection was taken back from it).
#![forbid(unsafe_code)]

use crate::abs::net::{ConnectSpec, TcpSocket, TcpState};
use crate::abs::random;
use crate::conn::{FullFeature, PathConfig};
use crate::proto::chap::{ChapConfig, ChapError, Credentials};
use crate::proto::hash::Algorithm;
use crate::proto::keys::params::{DigestType, SessionParams};
use crate::proto::login::{
    Auth, InitiatorError, Login, LoginConfig, LoginDone, LoginError, LoginKind, Progress,
    TargetError,
};
use crate::proto::logout::LogoutKind;
use crate::proto::pdu::{
    self, header_digest_bytes, verify_header_digest, Bhs, DataDigest, Digests, LoginResponse,
    PduLayout, TargetPdu, BHS_LEN, DIGEST_LEN,
};
use crate::proto::text::{BinaryEncoding, TextAssembler};
use crate::session::Session;
use core::fmt::Write;
use kernel::prelude::*;
use kernel::str::CStr;

/// TCP connect timeout.
const CONNECT_TIMEOUT_MS: u32 = 10_000;
/// How long one login or logout response may take.
const RESPONSE_TIMEOUT_MS: u32 = 15_000;
/// Largest Login or Logout data segment we accept (RFC 7143 §13.12: login
/// PDUs carry at most 8192 bytes).
const LOGIN_DATA_MAX: usize = 8192;
/// CHAP algorithms offered, strongest first; LIO and most targets accept one.
const CHAP_ALGORITHMS: [Algorithm; 3] = [Algorithm::Sha256, Algorithm::Sha1, Algorithm::Md5];
/// Length of our CHAP challenge (RFC 7143 §12.1.3 asks for at least the
/// digest length to resist replay).
const CHAP_CHALLENGE_LEN: usize = 32;
/// Shortest keepalive idle time and grace period, in seconds, whatever the
/// NOP settings (0 turns NOP-Out pings off, not TCP's checks).
const MIN_LIVENESS_S: u32 = 5;
/// ITT of the logout request (the only task on the connection then).
const LOGOUT_ITT: u32 = 0x4c4f_0000;

/// Why a login or logout failed: the errno for netlink and a one-line
/// message for the extended ack.
pub(crate) struct Failure {
    /// Error code returned to userspace.
    pub(crate) err: Error,
    /// Human-readable reason (at most 79 bytes reach userspace).
    pub(crate) msg: Msg,
}

/// A short message built without allocating.
pub(crate) struct Msg {
    buf: [u8; 80],
    len: usize,
}

impl Msg {
    fn new() -> Msg {
        Msg {
            buf: [0; 80],
            len: 0,
        }
    }

    /// A fixed message.
    pub(crate) fn from_str(s: &str) -> Msg {
        let mut m = Msg::new();
        let _ = m.write_str(s);
        m
    }

    /// The text.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Write for Msg {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

fn fail(err: Error, args: core::fmt::Arguments<'_>) -> Failure {
    let mut msg = Msg::new();
    let _ = msg.write_fmt(args);
    Failure { err, msg }
}

fn tcp_failure(e: Error, what: &str) -> Failure {
    let why = if e == ECONNREFUSED {
        "connection refused"
    } else if e == ETIMEDOUT {
        "timed out"
    } else if e == EHOSTUNREACH {
        "host unreachable"
    } else if e == ENETUNREACH {
        "network unreachable"
    } else if e == ECONNRESET {
        "connection reset by the target"
    } else if e == ENODEV {
        "no such interface"
    } else if e == EADDRNOTAVAIL {
        "source address is not local"
    } else if e == EAFNOSUPPORT || e == EINVAL {
        "address family mismatch"
    } else {
        "socket error"
    };
    fail(e, format_args!("{what}: {why} ({})", e.to_errno()))
}

fn initiator_text(e: InitiatorError) -> &'static str {
    match e {
        InitiatorError::AuthenticationFailure => "authentication failed",
        InitiatorError::AuthorizationFailure => "authorization failed",
        InitiatorError::NotFound => "target not found",
        InitiatorError::TargetRemoved => "target removed",
        InitiatorError::UnsupportedVersion => "unsupported iSCSI version",
        InitiatorError::TooManyConnections => "too many connections",
        InitiatorError::MissingParameter => "missing parameter",
        InitiatorError::CantIncludeInSession => "connection cannot join the session",
        InitiatorError::SessionTypeNotSupported => "session type not supported",
        InitiatorError::SessionDoesNotExist => "session does not exist",
        InitiatorError::InvalidDuringLogin => "invalid request during login",
        InitiatorError::Other | InitiatorError::Unknown(_) => "initiator error",
    }
}

/// Maps a failed login to an errno and the message with the target's
/// status (class, detail) if it sent one.
fn login_failure(e: LoginError, status: Option<(u8, u8)>) -> Failure {
    let (c, d) = status.unwrap_or((0, 0));
    match e {
        LoginError::Initiator(i) => {
            let err = match i {
                InitiatorError::AuthenticationFailure | InitiatorError::AuthorizationFailure => {
                    EACCES
                }
                InitiatorError::NotFound | InitiatorError::TargetRemoved => ENOENT,
                InitiatorError::TooManyConnections => EUSERS,
                _ => EPROTO,
            };
            fail(
                err,
                format_args!("{} (0x{c:02x}{d:02x})", initiator_text(i)),
            )
        }
        LoginError::Target(t) => {
            let what = match t {
                TargetError::ServiceUnavailable => "target service unavailable",
                TargetError::OutOfResources => "target out of resources",
                _ => "target error",
            };
            fail(EAGAIN, format_args!("{what} (0x{c:02x}{d:02x})"))
        }
        LoginError::Redirect { .. } => fail(
            EREMOTE,
            format_args!("target redirects the login (0x{c:02x}{d:02x}), not followed"),
        ),
        LoginError::Chap(ChapError::TargetAuthFailed) => fail(
            EACCES,
            format_args!("authentication failed: the target's mutual CHAP response is wrong"),
        ),
        LoginError::Chap(ChapError::TargetNameMismatch) => fail(
            EACCES,
            format_args!("authentication failed: wrong mutual CHAP name from the target"),
        ),
        LoginError::AuthMethodRefused => fail(
            EACCES,
            format_args!("authentication failed: target refused the AuthMethod"),
        ),
        LoginError::Negotiation(n) => fail(EPROTO, format_args!("negotiation failed: {n:?}")),
        other => fail(EPROTO, format_args!("login failed: {other:?}")),
    }
}

/// One received PDU: its header and its data segment (without padding).
struct Inbound {
    bhs: Bhs,
    data: KVec<u8>,
}

fn send_pdu(sock: &TcpSocket, bhs: &Bhs, data: &[u8], digests: Digests) -> Result {
    sock.send_all(bhs)?;
    if digests.header {
        sock.send_all(&header_digest_bytes(bhs, &[]))?;
    }
    if !data.is_empty() {
        sock.send_all(data)?;
        let pad = [0u8; 3];
        let pad = &pad[..pdu::pad_len(data.len() as u32) as usize];
        sock.send_all(pad)?;
        if digests.data {
            let mut d = DataDigest::new();
            d.update(data);
            let w = d.finish_with_pad(pad).map_err(|_| EPROTO)?;
            sock.send_all(&crate::proto::crc32c::digest_to_wire(w))?;
        }
    }
    Ok(())
}

fn recv_pdu(sock: &TcpSocket, digests: Digests) -> Result<Inbound> {
    let mut bhs: Bhs = [0; BHS_LEN];
    sock.recv_exact(&mut bhs)?;
    let layout = PduLayout::from_bhs(&bhs, digests);
    layout
        .check_max_data(LOGIN_DATA_MAX as u32)
        .map_err(|_| EPROTO)?;
    let mut rest = KVec::from_elem(0u8, layout.header_rest_len(), GFP_KERNEL)?;
    sock.recv_exact(&mut rest)?;
    if layout.header_digest {
        let (ahs, hd) = rest.split_at(layout.ahs_len);
        let wire: [u8; DIGEST_LEN] = hd.try_into().map_err(|_| EPROTO)?;
        verify_header_digest(&bhs, ahs, wire).map_err(|_| EPROTO)?;
    }
    let mut data = KVec::from_elem(0u8, layout.data_rest_len(), GFP_KERNEL)?;
    sock.recv_exact(&mut data)?;
    let len = layout.data_len as usize;
    if layout.data_digest {
        let pad_end = len + usize::from(layout.pad);
        let mut d = DataDigest::new();
        d.update(&data[..len]);
        let wire: [u8; DIGEST_LEN] = data[pad_end..].try_into().map_err(|_| EPROTO)?;
        d.verify(&data[len..pad_end], wire).map_err(|_| EPROTO)?;
    }
    data.truncate(len);
    Ok(Inbound { bhs, data })
}

/// Connects to `path`'s portal in the session's namespace, from its source
/// address or interface if it has one.
fn connect(sess: &Session, path: &PathConfig) -> Result<TcpSocket, Failure> {
    let iface = match &path.iface {
        Some(v) => Some(
            CStr::from_bytes_with_nul(v)
                .map_err(|_| fail(EINVAL, format_args!("bad interface name")))?,
        ),
        None => None,
    };
    let spec = ConnectSpec {
        net: &sess.net,
        peer: path.portal,
        source: path.source,
        iface,
        timeout_ms: CONNECT_TIMEOUT_MS,
    };
    let sock = TcpSocket::connect(&spec).map_err(|e| tcp_failure(e, "connect"))?;
    sock.set_timeouts(RESPONSE_TIMEOUT_MS, RESPONSE_TIMEOUT_MS);
    Ok(sock)
}

/// One connection login to run (RFC 7143 §6.3).
pub(crate) struct LoginTarget<'a> {
    /// Where to connect, and the NOP settings that size TCP's keepalive.
    pub(crate) path: &'a PathConfig,
    /// CID of the connection.
    pub(crate) cid: u16,
    /// Leading (a new session, or session reinstatement with the same ISID),
    /// an added connection (MC/S), or connection reinstatement (ERL 2).
    pub(crate) kind: LoginKind,
    /// ITT of the Login request: 0 for a leading login, else one unused in
    /// the session.
    pub(crate) itt: u32,
    /// CmdSN of the Login request: 1 for a new session, else the session's
    /// next CmdSN (the request is immediate and does not advance it).
    pub(crate) cmd_sn: u32,
}

/// Logs in the leading connection `cid` of `sess` over `path` (a new
/// session, or its reinstatement with the same ISID): connect, then the
/// Login exchange to full feature phase.
pub(crate) fn login_leading(
    sess: &Session,
    path: &PathConfig,
    cid: u16,
) -> Result<(FullFeature, LoginDone), Failure> {
    login_connection(
        sess,
        &LoginTarget {
            path,
            cid,
            kind: LoginKind::Leading,
            itt: 0,
            cmd_sn: 1,
        },
    )
}

/// Logs connection `cid` over `path` into the running session `sess`
/// (RFC 7143 §6.3.4: its ISID and TSIH, a CID not in use). `session` is what
/// the leading login fixed; `itt` one reserved in the session's task table
/// (ITTs are unique in the session); `cmd_sn` the session's next CmdSN.
pub(crate) fn login_added(
    sess: &Session,
    path: &PathConfig,
    cid: u16,
    itt: u32,
    tsih: u16,
    session: SessionParams,
    cmd_sn: u32,
) -> Result<(FullFeature, LoginDone), Failure> {
    login_connection(
        sess,
        &LoginTarget {
            path,
            cid,
            kind: LoginKind::AddConnection { tsih, session },
            itt,
            cmd_sn,
        },
    )
}

/// Logs in one connection of `sess` as `t` says, with the session's names,
/// credentials and proposals; returns what the data path needs. Blocking:
/// run it on the module's `WQ_MEM_RECLAIM` queue (session recovery and added
/// connections need no userspace round trip).
pub(crate) fn login_connection(
    sess: &Session,
    t: &LoginTarget<'_>,
) -> Result<(FullFeature, LoginDone), Failure> {
    let nomem = |_| fail(ENOMEM, format_args!("out of memory"));
    let sock = connect(sess, t.path)?;

    let mut challenge = [0u8; CHAP_CHALLENGE_LEN];
    random::fill(&mut challenge);
    let mut id = [0u8; 1];
    random::fill(&mut id);
    fn cred(c: &crate::session::ChapCred) -> Credentials<'_> {
        Credentials {
            name: c.user.as_slice(),
            secret: c.secret.as_slice(),
        }
    }
    let auth = match &sess.cfg.chap {
        None => Auth::None,
        Some(c) => Auth::Chap {
            config: ChapConfig {
                initiator: cred(c),
                target: sess.cfg.mutual.as_ref().map(cred),
                algorithms: &CHAP_ALGORITHMS,
                encoding: BinaryEncoding::Hex,
            },
            identifier: id[0],
            challenge: &challenge,
        },
    };
    let cfg = LoginConfig {
        initiator_name: &sess.cfg.initiator,
        initiator_alias: sess.cfg.alias.as_deref(),
        target_name: Some(&sess.cfg.target),
        isid: sess.isid,
        cid: t.cid,
        itt: t.itt,
        cmd_sn: t.cmd_sn,
        params: sess.cfg.params,
        auth,
    };
    // Login text is reassembled on the heap, not on the worker's stack.
    let mut text = KBox::new(TextAssembler::<LOGIN_DATA_MAX>::new(), GFP_KERNEL).map_err(nomem)?;
    let mut login =
        Login::with_buffer(cfg, t.kind, &mut *text).map_err(|e| login_failure(e, None))?;
    let mut out = KVec::from_elem(0u8, LOGIN_DATA_MAX, GFP_KERNEL).map_err(nomem)?;
    loop {
        let mut bhs: Bhs = [0; BHS_LEN];
        if let Some(n) = login
            .poll_transmit(&mut bhs, &mut out)
            .map_err(|e| login_failure(e, None))?
        {
            send_pdu(&sock, &bhs, &out[..n.min(out.len())], Digests::NONE)
                .map_err(|e| tcp_failure(e, "login request"))?;
        }
        let inb = recv_pdu(&sock, Digests::NONE).map_err(|e| {
            if e == EPROTO {
                fail(EPROTO, format_args!("malformed login response"))
            } else {
                tcp_failure(e, "login response")
            }
        })?;
        let status = LoginResponse::decode(&inb.bhs)
            .ok()
            .map(|r| (r.status_class, r.status_detail))
            .filter(|&(c, _)| c != 0);
        match login.handle_response(&inb.bhs, &inb.data) {
            Ok(Progress::Transmit) => {}
            Ok(Progress::Done(done)) => {
                // TCP's own liveness checks back up the NOP-Out pings: an
                // idle dead path is probed, and unacknowledged data fails
                // the connection instead of waiting for retransmissions to
                // give up (minutes).
                // Both at most an hour (netlink checks), so they fit.
                let secs = |ms: u64| (ms.div_ceil(1000) as u32).max(MIN_LIVENESS_S);
                let idle = secs(t.path.live.interval_ms);
                let grace = secs(t.path.live.timeout_ms);
                sock.set_keepalive(idle, (idle + grace).saturating_mul(1000))
                    .map_err(|e| tcp_failure(e, "keepalive"))?;
                let peer = sock.peer_addr().unwrap_or(t.path.portal);
                let local = sock.local_addr();
                let sock = kernel::sync::Arc::new(sock, GFP_KERNEL)
                    .map_err(|_| fail(ENOMEM, format_args!("out of memory")))?;
                let ff = FullFeature {
                    sock,
                    params: done.negotiated.connection,
                    exp_stat_sn: done.exp_stat_sn,
                    local,
                    peer,
                };
                return Ok((ff, done));
            }
            Err(e) => {
                sock.shutdown();
                return Err(login_failure(e, status));
            }
        }
    }
}

fn digests_of(ff: &FullFeature) -> Digests {
    Digests {
        header: ff.params.header_digest == DigestType::Crc32c,
        data: ff.params.data_digest == DigestType::Crc32c,
    }
}

/// Logs the whole session out on connection `ff` (Logout reason 0,
/// RFC 7143 §11.14) and closes it. `cmd_sn` is the session's next CmdSN
/// (the request is immediate, so it does not advance it).
pub(crate) fn logout_session(ff: FullFeature, erl: u8, cmd_sn: u32) -> Result<(), Failure> {
    let digests = digests_of(&ff);
    let req = LogoutKind::CloseSession
        .to_pdu(0, erl, LOGOUT_ITT, cmd_sn, ff.exp_stat_sn)
        .map_err(|e| fail(EINVAL, format_args!("logout: {e:?}")))?;
    let mut bhs: Bhs = [0; BHS_LEN];
    req.encode(&mut bhs)
        .map_err(|e| fail(EINVAL, format_args!("logout: {e:?}")))?;
    // A connection the target already closed or reset cannot carry the
    // logout: say so instead of waiting for a response that cannot come.
    let st = ff.sock.state();
    if st != TcpState::Established {
        ff.sock.shutdown();
        return Err(fail(
            ENOTCONN,
            format_args!("connection already closed ({st:?}), no logout exchanged"),
        ));
    }
    ff.sock
        .set_timeouts(RESPONSE_TIMEOUT_MS, RESPONSE_TIMEOUT_MS);
    let r = (|| {
        send_pdu(&ff.sock, &bhs, &[], digests).map_err(|e| tcp_failure(e, "logout request"))?;
        // Anything the target still sends before the response (NOP-In
        // pings, late status) is skipped: the session is going away.
        for _ in 0..64 {
            let inb = recv_pdu(&ff.sock, digests).map_err(|e| tcp_failure(e, "logout response"))?;
            if let Ok(TargetPdu::LogoutResponse(rsp)) = TargetPdu::decode(&inb.bhs) {
                if rsp.response == pdu::logout::LOGOUT_RSP_SUCCESS {
                    return Ok(());
                }
                return Err(fail(
                    EIO,
                    format_args!("target refused the logout (response {})", rsp.response),
                ));
            }
        }
        Err(fail(EPROTO, format_args!("no logout response")))
    })();
    ff.sock.shutdown();
    r
}
