// SPDX-License-Identifier: GPL-2.0
//! The target side of one connection: a leading login without
//! authentication, NOP-Out answers, and the malformed PDU sent in reply to
//! the first SCSI Command. The one mode that is no fault, `async-logout`,
//! serves a session of several connections instead (`crate::mcs`).

use rsiscsi_core::keys::{self, rules, KeyDefault, KeyId, KeyType, Special};
use rsiscsi_core::pdu::login::{ISCSI_VERSION, STATUS_CLASS_INITIATOR_ERROR};
use rsiscsi_core::pdu::logout::LOGOUT_RSP_SUCCESS;
use rsiscsi_core::pdu::{
    header_digest_bytes, pad_len, verify_header_digest, Bhs, DataDigest, DataIn, Digests,
    InitiatorPdu, LoginRequest, LoginResponse, LogoutResponse, Lun, NopIn, NopOut, PduLayout,
    Residual, ScsiResponse, Stage, BHS_LEN, DIGEST_LEN, MAX_DATA_SEGMENT_LENGTH, RESERVED_TAG,
};
use rsiscsi_core::text::{self, Pairs, TextWriter};
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

/// How long the initiator may stay silent while it is expected to send
/// something (login requests, the first SCSI command), and how long it may
/// keep the connection open after the malformed PDU.
pub(crate) const PEER_TIMEOUT: Duration = Duration::from_secs(60);

/// Our MaxRecvDataSegmentLength declaration; also the largest data segment
/// accepted from the initiator.
const OUR_MAX_RECV_DSL: u32 = 65_536;

/// The TSIH given to the session.
pub(crate) const TSIH: u16 = 0x0101;

/// StatSN of the first Login Response (any value is legal).
const FIRST_STAT_SN: u32 = 0x1000;

/// Commands the initiator may have outstanding (MaxCmdSN - ExpCmdSN + 1).
const CMD_WINDOW: u32 = 32;

/// A target opcode RFC 7143 §11.2.1.2 leaves undefined (0x27-0x30 are
/// unassigned; 0x3c-0x3e would be vendor-specific).
const UNDEFINED_OPCODE: u8 = 0x2a;

/// An ITT the initiator has not issued: an ITT's high bits count how often
/// its slot was used, so the first commands of a new session never reach
/// this value, and it is not the reserved tag.
const STRAY_ITT: u32 = 0x7ead_beef;

/// How far `statsn-jump` moves StatSN: far beyond any reordering window an
/// initiator could tolerate, short of the serial-number half range.
const STAT_SN_JUMP: u32 = 0x0001_0000;

/// The malformed PDU to send in reply to the first SCSI Command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A BHS whose opcode RFC 7143 does not define.
    BadOpcode,
    /// A SCSI Response whose DataSegmentLength exceeds the initiator's
    /// MaxRecvDataSegmentLength; only the header is sent.
    Oversize,
    /// A NOP-In answering a ping the initiator never sent.
    UnknownItt,
    /// A Data-In whose payload lies past the end of the command's buffer.
    BadOffset,
    /// A SCSI Response whose StatSN skips [`STAT_SN_JUMP`] numbers.
    StatSnJump,
    /// A SCSI Response whose header digest is wrong.
    HeaderDigest,
    /// The first 24 bytes of a BHS, then the target's side is closed.
    Truncated,
    /// No fault: a session of several connections, and an Async Message
    /// event 1 (logout requested) on one of them (`crate::mcs`).
    AsyncLogout,
}

impl Mode {
    /// Every mode, in the order of the usage text.
    pub const ALL: [Mode; 8] = [
        Mode::BadOpcode,
        Mode::Oversize,
        Mode::UnknownItt,
        Mode::BadOffset,
        Mode::StatSnJump,
        Mode::HeaderDigest,
        Mode::Truncated,
        Mode::AsyncLogout,
    ];

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::BadOpcode => "bad-opcode",
            Mode::Oversize => "oversize",
            Mode::UnknownItt => "unknown-itt",
            Mode::BadOffset => "bad-offset",
            Mode::StatSnJump => "statsn-jump",
            Mode::HeaderDigest => "header-digest",
            Mode::Truncated => "truncated",
            Mode::AsyncLogout => "async-logout",
        }
    }

    /// The mode named `s`.
    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to serve.
#[derive(Debug, Clone)]
pub struct Options {
    /// The misbehaviour.
    pub mode: Mode,
    /// Our TargetName; a login asking for another one is refused.
    pub target: String,
}

/// One received PDU.
pub(crate) struct Pdu {
    pub(crate) bhs: Bhs,
    pub(crate) ahs: Vec<u8>,
    pub(crate) data: Vec<u8>,
}

/// The accepted connection and the digests in force on it.
pub(crate) struct Conn {
    pub(crate) stream: TcpStream,
    pub(crate) digests: Digests,
}

fn io_err(what: &str, e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => {
            format!(
                "the initiator sent nothing for {} s ({what})",
                PEER_TIMEOUT.as_secs()
            )
        }
        ErrorKind::UnexpectedEof => format!("the initiator closed the connection ({what})"),
        _ => format!("{what}: {e}"),
    }
}

impl Conn {
    /// Reads one PDU, checking its digests; `None` if the initiator closed
    /// the connection between PDUs.
    pub(crate) fn recv(&mut self, what: &str) -> Result<Option<Pdu>, String> {
        let mut bhs: Bhs = [0; BHS_LEN];
        let mut got = 0;
        while got < BHS_LEN {
            match self.stream.read(&mut bhs[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(format!("the initiator closed the connection ({what})")),
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(what, &e)),
            }
        }
        let layout = PduLayout::from_bhs(&bhs, self.digests);
        layout.check_max_data(OUR_MAX_RECV_DSL).map_err(|_| {
            format!(
                "the initiator sent a {}-byte data segment ({what})",
                layout.data_len
            )
        })?;
        let mut rest = vec![0u8; layout.header_rest_len()];
        self.stream
            .read_exact(&mut rest)
            .map_err(|e| io_err(what, &e))?;
        let ahs = rest[..layout.ahs_len].to_vec();
        if layout.header_digest {
            let wire: [u8; DIGEST_LEN] = rest[layout.ahs_len..]
                .try_into()
                .map_err(|_| "header digest length".to_string())?;
            verify_header_digest(&bhs, &ahs, wire)
                .map_err(|e| format!("the initiator's header digest is wrong: {e:?}"))?;
        }
        let mut tail = vec![0u8; layout.data_rest_len()];
        self.stream
            .read_exact(&mut tail)
            .map_err(|e| io_err(what, &e))?;
        let len = layout.data_len as usize;
        if layout.data_digest {
            let pad_end = len + usize::from(layout.pad);
            let wire: [u8; DIGEST_LEN] = tail[pad_end..]
                .try_into()
                .map_err(|_| "data digest length".to_string())?;
            let mut d = DataDigest::new();
            d.update(&tail[..len]);
            d.verify(&tail[len..pad_end], wire)
                .map_err(|e| format!("the initiator's data digest is wrong: {e:?}"))?;
        }
        tail.truncate(len);
        Ok(Some(Pdu {
            bhs,
            ahs,
            data: tail,
        }))
    }

    /// The bytes of a PDU without AHS: BHS, header digest, data, pad, data
    /// digest, as the digests in force say.
    fn frame(&self, bhs: &Bhs, data: &[u8]) -> Vec<u8> {
        let mut out = bhs.to_vec();
        if self.digests.header {
            out.extend_from_slice(&header_digest_bytes(bhs, &[]));
        }
        if !data.is_empty() {
            out.extend_from_slice(data);
            let pad = pad_len(data.len() as u32) as usize;
            out.extend_from_slice(&[0u8; 3][..pad]);
            if self.digests.data {
                let mut d = DataDigest::new();
                d.update(data);
                out.extend_from_slice(&d.finish_bytes());
            }
        }
        out
    }

    fn send_raw(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .map_err(|e| format!("sending: {e}"))
    }

    pub(crate) fn send(&mut self, bhs: &Bhs, data: &[u8]) -> Result<(), String> {
        let bytes = self.frame(bhs, data);
        self.send_raw(&bytes)
    }

    /// Echoes the initiator's ping `n` (with its `data`) in a NOP-In; a
    /// NOP-Out answering a ping of ours (ITT 0xffffffff) needs nothing.
    pub(crate) fn answer_nop_out(
        &mut self,
        s: &mut Session,
        n: &NopOut,
        data: &[u8],
    ) -> Result<(), String> {
        if n.itt == RESERVED_TAG {
            return Ok(());
        }
        let (exp_cmd_sn, max_cmd_sn) = s.window();
        let mut out: Bhs = [0; BHS_LEN];
        NopIn {
            data_segment_length: data.len() as u32,
            lun: n.lun,
            itt: n.itt,
            ttt: RESERVED_TAG,
            stat_sn: s.next_stat_sn(),
            exp_cmd_sn,
            max_cmd_sn,
        }
        .encode(&mut out)
        .map_err(|e| format!("encoding a NOP-In: {e:?}"))?;
        self.send(&out, data)
    }

    /// Accepts the Logout Request `itt`: Time2Wait and Time2Retain 0, as
    /// nothing here is kept for a recovery.
    pub(crate) fn answer_logout(&mut self, s: &mut Session, itt: u32) -> Result<(), String> {
        let (exp_cmd_sn, max_cmd_sn) = s.window();
        let mut out: Bhs = [0; BHS_LEN];
        LogoutResponse {
            response: LOGOUT_RSP_SUCCESS,
            itt,
            stat_sn: s.next_stat_sn(),
            exp_cmd_sn,
            max_cmd_sn,
            time2wait: 0,
            time2retain: 0,
        }
        .encode(&mut out)
        .map_err(|e| format!("encoding a Logout Response: {e:?}"))?;
        self.send(&out, &[])
    }

    /// Reads and drops whatever the initiator still sends until it closes
    /// the connection.
    fn drain(&mut self) -> Result<(), String> {
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // A reset closes it too (our unread data, or theirs).
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(()),
                Err(e) => return Err(io_err("after the malformed PDU", &e)),
            }
        }
    }
}

/// The session as the target sees it (on a session of several
/// connections: one connection's view, with its own StatSN).
pub(crate) struct Session {
    /// StatSN of the next status we send.
    pub(crate) stat_sn: u32,
    /// The next CmdSN expected.
    pub(crate) exp_cmd_sn: u32,
    /// What the initiator declared (RFC 7143 §13.12 default until it does).
    pub(crate) initiator_max_recv_dsl: u32,
    /// Digests agreed; in force from Full Feature Phase on.
    pub(crate) digests: Digests,
    /// InitiatorName, for the log.
    pub(crate) initiator: String,
}

impl Session {
    fn new() -> Self {
        Session {
            stat_sn: FIRST_STAT_SN,
            exp_cmd_sn: 0,
            initiator_max_recv_dsl: 8192,
            digests: Digests::NONE,
            initiator: String::new(),
        }
    }

    /// Takes a StatSN for a status-carrying PDU.
    pub(crate) fn next_stat_sn(&mut self) -> u32 {
        let sn = self.stat_sn;
        self.stat_sn = sn.wrapping_add(1);
        sn
    }

    /// (ExpCmdSN, MaxCmdSN) to advertise.
    pub(crate) fn window(&self) -> (u32, u32) {
        (
            self.exp_cmd_sn,
            self.exp_cmd_sn.wrapping_add(CMD_WINDOW - 1),
        )
    }
}

/// A login the target turns down: the Status-Detail of class 2 and why.
struct Refusal {
    detail: u8,
    why: String,
}

fn refuse(detail: u8, why: impl Into<String>) -> Refusal {
    Refusal {
        detail,
        why: why.into(),
    }
}

/// Answers the keys of one Login Request into `w`.
fn answer_keys(
    s: &mut Session,
    opts: &Options,
    admit: &Admit,
    text: &[u8],
    w: &mut TextWriter<'_>,
) -> Result<(), Refusal> {
    let full = |e| refuse(0, format!("login response text does not fit: {e:?}"));
    for p in Pairs::new(text) {
        let p = p.map_err(|e| refuse(0, format!("bad login text: {e:?}")))?;
        let Some(def) = keys::lookup(p.key) else {
            w.push(p.key, Special::NotUnderstood.as_bytes())
                .map_err(full)?;
            continue;
        };
        if Special::parse(p.value).is_some() {
            // An answer to something we offered; we offer nothing.
            continue;
        }
        match def.id {
            KeyId::InitiatorName => s.initiator = String::from_utf8_lossy(p.value).into_owned(),
            KeyId::TargetName if p.value != opts.target.as_bytes() => {
                return Err(refuse(
                    0x03,
                    format!("unknown TargetName {}", String::from_utf8_lossy(p.value)),
                ));
            }
            KeyId::SessionType if p.value != b"Normal" => {
                return Err(refuse(0x09, "only Normal sessions"));
            }
            KeyId::AuthMethod => {
                if !text::Values::new(p.value).any(|v| v == b"None") {
                    return Err(refuse(0x01, "only AuthMethod=None"));
                }
                w.push(p.key, b"None").map_err(full)?;
            }
            KeyId::CHAP_A | KeyId::CHAP_I | KeyId::CHAP_C | KeyId::CHAP_N | KeyId::CHAP_R => {
                return Err(refuse(0x01, "no CHAP here"));
            }
            KeyId::HeaderDigest | KeyId::DataDigest => {
                // The initiator lists in preference order; we take both.
                let pick = text::Values::new(p.value)
                    .find(|v| *v == b"None" || *v == b"CRC32C")
                    .ok_or_else(|| refuse(0, "no digest we know"))?;
                let on = pick == b"CRC32C";
                if def.id == KeyId::HeaderDigest {
                    s.digests.header = on;
                } else {
                    s.digests.data = on;
                }
                w.push(p.key, pick).map_err(full)?;
            }
            KeyId::MaxRecvDataSegmentLength => {
                let v = text::parse_number(p.value)
                    .ok()
                    .filter(|&v| rules::in_range(def, v))
                    .ok_or_else(|| refuse(0, "bad MaxRecvDataSegmentLength"))?;
                // In range means at most 2^24 - 1.
                s.initiator_max_recv_dsl = v as u32;
                w.push_number(p.key, u64::from(OUR_MAX_RECV_DSL))
                    .map_err(full)?;
            }
            _ => match def.kind {
                // Names and addresses declared by the initiator need no answer.
                KeyType::Declarative => {}
                KeyType::List => {
                    let first = text::Values::new(p.value).next().unwrap_or(b"None");
                    w.push(p.key, first).map_err(full)?;
                }
                KeyType::NumericalMin | KeyType::NumericalMax => {
                    let answer = text::parse_number(p.value).ok().and_then(|offered| {
                        // No error recovery: nothing here outlives the
                        // misbehaviour or the logout.
                        let ours = match def.id {
                            KeyId::ErrorRecoveryLevel => 0,
                            KeyId::MaxConnections => u64::from(admit.max_connections),
                            _ => offered,
                        };
                        rules::respond_numeric(def, ours, offered).ok()
                    });
                    match answer {
                        Some(v) => w.push_number(p.key, v),
                        None => w.push(p.key, Special::Reject.as_bytes()),
                    }
                    .map_err(full)?;
                }
                KeyType::BooleanAnd | KeyType::BooleanOr => {
                    let answer = text::parse_bool(p.value).ok().and_then(|offered| {
                        let ours = match def.default {
                            KeyDefault::Bool(b) => b,
                            _ => offered,
                        };
                        rules::respond_bool(def, ours, offered).ok()
                    });
                    match answer {
                        Some(v) => w.push_bool(p.key, v),
                        None => w.push(p.key, Special::Reject.as_bytes()),
                    }
                    .map_err(full)?;
                }
            },
        }
    }
    Ok(())
}

/// Which logins a connection may make.
pub(crate) struct Admit {
    /// Our MaxConnections.
    pub(crate) max_connections: u16,
    /// The session (ISID) a non-leading login may join, if any; TSIH is
    /// always [`TSIH`].
    pub(crate) join: Option<[u8; 6]>,
}

impl Admit {
    /// One connection, leading logins only.
    pub(crate) const LEADING: Admit = Admit {
        max_connections: 1,
        join: None,
    };
}

/// A completed login.
pub(crate) struct Joined {
    /// ISID of the session.
    pub(crate) isid: [u8; 6],
    /// CID of the connection.
    pub(crate) cid: u16,
    /// TSIH was 0: a new session.
    pub(crate) leading: bool,
}

/// Runs the login to Full Feature Phase.
pub(crate) fn login(
    c: &mut Conn,
    opts: &Options,
    admit: &Admit,
    log: &mut dyn Write,
) -> Result<(Session, Joined), String> {
    let mut s = Session::new();
    let mut first = true;
    loop {
        let pdu = c
            .recv("during login")?
            .ok_or("the initiator closed the connection during login")?;
        let req = LoginRequest::decode(&pdu.bhs)
            .map_err(|e| format!("expected a Login Request: {e:?}"))?;
        let mut text = vec![0u8; 8192];
        let mut w = TextWriter::new(&mut text);
        let mut verdict = if req.continue_flag {
            Err(refuse(
                0,
                "login text split with the C bit is not supported",
            ))
        } else if req.tsih != 0 && (req.tsih != TSIH || admit.join != Some(req.isid)) {
            // 0x0a: Session does not exist.
            Err(refuse(
                0x0a,
                if admit.join.is_some() {
                    "no such session (TSIH, ISID)"
                } else {
                    "only leading logins (TSIH 0)"
                },
            ))
        } else if req.csg == Stage::FullFeaturePhase {
            Err(refuse(0, "a Login Request in Full Feature Phase"))
        } else {
            answer_keys(&mut s, opts, admit, &pdu.data, &mut w)
        };
        if first && verdict.is_ok() {
            // RFC 7143 §13.9: in the first response of a leading login.
            verdict = w
                .push_number(KeyId::TargetPortalGroupTag.name(), 1)
                .map_err(|e| refuse(0, format!("{e:?}")));
        }
        let len = if verdict.is_ok() { w.len() } else { 0 };
        let done = verdict.is_ok() && req.transit == Some(Stage::FullFeaturePhase);
        let mut rsp = LoginResponse {
            transit: if verdict.is_ok() { req.transit } else { None },
            continue_flag: false,
            csg: req.csg,
            version_max: ISCSI_VERSION,
            version_active: ISCSI_VERSION,
            data_segment_length: len as u32,
            isid: req.isid,
            tsih: if done { TSIH } else { 0 },
            itt: req.itt,
            stat_sn: s.next_stat_sn(),
            exp_cmd_sn: req.cmd_sn,
            max_cmd_sn: req.cmd_sn.wrapping_add(CMD_WINDOW - 1),
            status_class: 0,
            status_detail: 0,
        };
        if let Err(r) = &verdict {
            rsp.status_class = STATUS_CLASS_INITIATOR_ERROR;
            rsp.status_detail = r.detail;
        }
        let mut out: Bhs = [0; BHS_LEN];
        rsp.encode(&mut out)
            .map_err(|e| format!("encoding a Login Response: {e:?}"))?;
        c.send(&out, &text[..len])?;
        if let Err(r) = verdict {
            return Err(format!("login refused: {}", r.why));
        }
        if done {
            s.exp_cmd_sn = req.cmd_sn;
            let _ = writeln!(
                log,
                "rsiscsi-faketarget: {} logged in, TSIH {TSIH:#06x}, CID {}, header digest {}, \
                 MaxRecvDataSegmentLength {}",
                s.initiator,
                req.cid,
                if s.digests.header { "CRC32C" } else { "None" },
                s.initiator_max_recv_dsl
            );
            let joined = Joined {
                isid: req.isid,
                cid: req.cid,
                leading: req.tsih == 0,
            };
            return Ok((s, joined));
        }
        first = false;
    }
}

/// What the misbehaviour needs of the command it answers.
struct Command {
    itt: u32,
    lun: Lun,
    expected_length: u32,
    opcode: u8,
}

/// Answers pings until the first SCSI Command arrives.
fn first_command(c: &mut Conn, s: &mut Session, log: &mut dyn Write) -> Result<Command, String> {
    const WHAT: &str = "waiting for the first SCSI command";
    loop {
        let pdu = c
            .recv(WHAT)?
            .ok_or("the initiator closed the connection before sending a SCSI command")?;
        let req = InitiatorPdu::decode(&pdu.bhs, &pdu.ahs)
            .map_err(|e| format!("the initiator sent a bad PDU: {e:?}"))?;
        match req {
            InitiatorPdu::ScsiCommand(cmd) => {
                if !cmd.immediate {
                    s.exp_cmd_sn = cmd.cmd_sn.wrapping_add(1);
                }
                return Ok(Command {
                    itt: cmd.itt,
                    lun: cmd.lun,
                    expected_length: cmd.expected_data_transfer_length,
                    opcode: cmd.cdb.head()[0],
                });
            }
            InitiatorPdu::NopOut(n) => {
                if !n.immediate {
                    s.exp_cmd_sn = n.cmd_sn.wrapping_add(1);
                }
                c.answer_nop_out(s, &n, &pdu.data)?;
            }
            InitiatorPdu::LogoutRequest(l) => {
                c.answer_logout(s, l.itt)?;
                return Err("the initiator logged out before sending a SCSI command".into());
            }
            other => {
                let _ = writeln!(
                    log,
                    "rsiscsi-faketarget: ignoring {:?} while {WHAT}",
                    other.opcode()
                );
            }
        }
    }
}

/// A SCSI Response with GOOD status for `cmd`, announcing `data_len` bytes.
fn good_response(s: &mut Session, cmd: &Command, stat_sn: u32, data_len: u32) -> ScsiResponse {
    let (exp_cmd_sn, max_cmd_sn) = s.window();
    ScsiResponse {
        response: 0,
        status: 0,
        data_segment_length: data_len,
        itt: cmd.itt,
        snack_tag: 0,
        stat_sn,
        exp_cmd_sn,
        max_cmd_sn,
        exp_data_sn: 0,
        bidi_read_residual: Residual::None,
        residual: Residual::None,
    }
}

/// Sends `mode`'s malformed PDU in reply to `cmd`.
fn misbehave(c: &mut Conn, s: &mut Session, mode: Mode, cmd: &Command) -> Result<(), String> {
    let enc = |e| format!("encoding: {e:?}");
    let mut out: Bhs = [0; BHS_LEN];
    let (exp_cmd_sn, max_cmd_sn) = s.window();
    match mode {
        Mode::AsyncLogout => Err("async-logout is not a fault".into()),
        Mode::BadOpcode => {
            // A well-formed unsolicited NOP-In but for its opcode.
            NopIn {
                data_segment_length: 0,
                lun: Lun::ZERO,
                itt: RESERVED_TAG,
                ttt: RESERVED_TAG,
                stat_sn: s.stat_sn,
                exp_cmd_sn,
                max_cmd_sn,
            }
            .encode(&mut out)
            .map_err(enc)?;
            out[0] = UNDEFINED_OPCODE;
            c.send(&out, &[])
        }
        Mode::Oversize => {
            // The header alone breaks the rule: an initiator must refuse it
            // before reading the data, and sending the data would only fill
            // socket buffers nobody reads any more.
            let len = s
                .initiator_max_recv_dsl
                .saturating_add(512)
                .min(MAX_DATA_SEGMENT_LENGTH);
            let sn = s.next_stat_sn();
            good_response(s, cmd, sn, len)
                .encode(&mut out)
                .map_err(enc)?;
            let bytes = c.frame(&out, &[]);
            c.send_raw(&bytes)
        }
        Mode::UnknownItt => {
            NopIn {
                data_segment_length: 0,
                lun: Lun::ZERO,
                itt: STRAY_ITT,
                ttt: RESERVED_TAG,
                stat_sn: s.next_stat_sn(),
                exp_cmd_sn,
                max_cmd_sn,
            }
            .encode(&mut out)
            .map_err(enc)?;
            c.send(&out, &[])
        }
        Mode::BadOffset => {
            let data = [0u8; 4];
            DataIn {
                final_flag: false,
                acknowledge: false,
                status_flag: false,
                status: 0,
                data_segment_length: data.len() as u32,
                lun: cmd.lun,
                itt: cmd.itt,
                ttt: RESERVED_TAG,
                stat_sn: 0,
                exp_cmd_sn,
                max_cmd_sn,
                data_sn: 0,
                // Starts where the buffer ends, so it cannot fit.
                buffer_offset: cmd.expected_length,
                residual: Residual::None,
            }
            .encode(&mut out)
            .map_err(enc)?;
            c.send(&out, &data)
        }
        Mode::StatSnJump => {
            let sn = s.stat_sn.wrapping_add(STAT_SN_JUMP);
            good_response(s, cmd, sn, 0).encode(&mut out).map_err(enc)?;
            c.send(&out, &[])
        }
        Mode::HeaderDigest => {
            if !c.digests.header {
                return Err("header-digest needs HeaderDigest=CRC32C from the login".into());
            }
            let sn = s.next_stat_sn();
            good_response(s, cmd, sn, 0).encode(&mut out).map_err(enc)?;
            let mut bytes = c.frame(&out, &[]);
            if let Some(b) = bytes.get_mut(BHS_LEN) {
                *b ^= 0x5a;
            }
            c.send_raw(&bytes)
        }
        Mode::Truncated => {
            let sn = s.next_stat_sn();
            good_response(s, cmd, sn, 0).encode(&mut out).map_err(enc)?;
            c.send_raw(&out[..BHS_LEN / 2])?;
            c.stream
                .shutdown(Shutdown::Write)
                .map_err(|e| format!("closing our side: {e}"))
        }
    }
}

/// Serves one connection from `listener` as `opts` says; `Ok` once the
/// initiator has closed the connection after the malformed PDU.
pub fn serve(listener: &TcpListener, opts: &Options, log: &mut dyn Write) -> Result<(), String> {
    if opts.mode == Mode::AsyncLogout {
        return crate::mcs::serve(listener, opts, log);
    }
    let (stream, peer) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    stream
        .set_read_timeout(Some(PEER_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(PEER_TIMEOUT)))
        .and_then(|()| stream.set_nodelay(true))
        .map_err(|e| format!("socket options: {e}"))?;
    let _ = writeln!(log, "rsiscsi-faketarget: connection from {peer}");
    let mut c = Conn {
        stream,
        digests: Digests::NONE,
    };
    let (mut s, _) = login(&mut c, opts, &Admit::LEADING, log)?;
    c.digests = s.digests;
    let cmd = first_command(&mut c, &mut s, log)?;
    misbehave(&mut c, &mut s, opts.mode, &cmd)?;
    let _ = writeln!(
        log,
        "rsiscsi-faketarget: sent {} in reply to SCSI command {:#04x} (ITT {:#010x})",
        opts.mode, cmd.opcode, cmd.itt
    );
    c.drain()?;
    let _ = writeln!(
        log,
        "rsiscsi-faketarget: the initiator closed the connection"
    );
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    //! Each mode against the core's own initiator login, as the kernel
    //! module runs it: the login must succeed, and what follows the first
    //! SCSI Command must break exactly the rule the mode names.

    use super::*;
    use rsiscsi_core::keys::params::{DigestPref, InitiatorParams};
    use rsiscsi_core::login::{Auth, Isid, Login, LoginConfig, LoginKind, Progress};
    use rsiscsi_core::pdu::{Cdb, ScsiCommand, TargetPdu, TaskAttr};
    use std::net::SocketAddr;
    use std::thread;

    pub(crate) const IQN: &str = "iqn.2026-11.org.rsiscsi:faketarget";
    const MRDSL: u32 = 16_384;
    const INQUIRY_LEN: u32 = 36;

    pub(crate) fn start(mode: Mode) -> (SocketAddr, thread::JoinHandle<Result<(), String>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let opts = Options {
            mode,
            target: IQN.into(),
        };
        let h = thread::spawn(move || serve(&l, &opts, &mut std::io::sink()));
        (addr, h)
    }

    /// A connection in Full Feature Phase.
    pub(crate) struct LoggedIn {
        pub(crate) st: TcpStream,
        pub(crate) digests: Digests,
        pub(crate) exp_stat_sn: u32,
        pub(crate) negotiated: rsiscsi_core::keys::params::NegotiatedParams,
    }

    /// Logs in with the core's `Login`; returns the stream, the digests and
    /// the ExpStatSN for Full Feature Phase.
    fn log_in(
        addr: SocketAddr,
        digest: bool,
        target: &str,
    ) -> Result<(TcpStream, Digests, u32), String> {
        let l = log_in_as(addr, digest, target, 0, LoginKind::Leading)?;
        let n = l.negotiated;
        assert_eq!(n.session.error_recovery_level, 0);
        assert_eq!(n.session.max_connections, 1);
        assert_eq!(l.digests.header, digest);
        assert_eq!(n.connection.max_xmit_data_segment_length, OUR_MAX_RECV_DSL);
        Ok((l.st, l.digests, l.exp_stat_sn))
    }

    /// Logs connection `cid` in as `kind` says, with one fixed ISID.
    pub(crate) fn log_in_as(
        addr: SocketAddr,
        digest: bool,
        target: &str,
        cid: u16,
        kind: LoginKind,
    ) -> Result<LoggedIn, String> {
        let mut st = TcpStream::connect(addr).unwrap();
        st.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let pref = if digest {
            DigestPref::Crc32cOnly
        } else {
            DigestPref::NoneOnly
        };
        let params = InitiatorParams {
            header_digest: pref,
            data_digest: pref,
            max_recv_data_segment_length: MRDSL,
            error_recovery_level: 2,
            max_connections: 8,
            ..InitiatorParams::default()
        };
        let cfg = LoginConfig {
            initiator_name: b"iqn.2026-11.org.rsiscsi:test",
            initiator_alias: None,
            target_name: Some(target.as_bytes()),
            isid: Isid::random(0x12_3456, 7),
            cid,
            itt: 0,
            cmd_sn: 1,
            params,
            auth: Auth::None,
        };
        let mut login = Login::new(cfg, kind).unwrap();
        let mut data = vec![0u8; 8192];
        loop {
            let mut bhs: Bhs = [0; BHS_LEN];
            if let Some(n) = login.poll_transmit(&mut bhs, &mut data).unwrap() {
                let mut pdu = bhs.to_vec();
                pdu.extend_from_slice(&data[..n]);
                pdu.resize(pdu.len() + pad_len(n as u32) as usize, 0);
                st.write_all(&pdu).unwrap();
            }
            let mut rbhs: Bhs = [0; BHS_LEN];
            st.read_exact(&mut rbhs).map_err(|e| e.to_string())?;
            let layout = PduLayout::from_bhs(&rbhs, Digests::NONE);
            let mut rest = vec![0u8; layout.data_rest_len()];
            st.read_exact(&mut rest).unwrap();
            rest.truncate(layout.data_len as usize);
            match login.handle_response(&rbhs, &rest) {
                Ok(Progress::Transmit) => {}
                Ok(Progress::Done(done)) => {
                    let n = done.negotiated;
                    let digests = Digests {
                        header: n.connection.header_digest
                            == rsiscsi_core::keys::params::DigestType::Crc32c,
                        data: n.connection.data_digest
                            == rsiscsi_core::keys::params::DigestType::Crc32c,
                    };
                    return Ok(LoggedIn {
                        st,
                        digests,
                        exp_stat_sn: done.exp_stat_sn,
                        negotiated: n,
                    });
                }
                Err(e) => return Err(format!("{e:?}")),
            }
        }
    }

    /// Sends an INQUIRY, closes our sending side and reads everything the
    /// target sends until it closes: the target reads the command before
    /// it sees our end of stream, so the reply is complete.
    fn inquiry(st: &mut TcpStream, digests: Digests, exp_stat_sn: u32) -> Vec<u8> {
        let cdb = [0x12, 0, 0, 0, INQUIRY_LEN as u8, 0];
        let mut bhs: Bhs = [0; BHS_LEN];
        ScsiCommand {
            immediate: false,
            final_flag: true,
            read: true,
            write: false,
            attr: TaskAttr::Simple,
            data_segment_length: 0,
            lun: Lun::ZERO,
            itt: 0x10,
            expected_data_transfer_length: INQUIRY_LEN,
            cmd_sn: 1,
            exp_stat_sn,
            cdb: Cdb::new(&cdb).unwrap(),
            bidi_read_length: None,
        }
        .encode(&mut bhs, &mut [])
        .unwrap();
        let mut pdu = bhs.to_vec();
        if digests.header {
            pdu.extend_from_slice(&header_digest_bytes(&bhs, &[]));
        }
        st.write_all(&pdu).unwrap();
        st.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        st.read_to_end(&mut got).unwrap();
        got
    }

    /// Runs `mode` to its malformed reply; returns the reply bytes, the
    /// digests and the ExpStatSN, and checks that the target reports
    /// success once the initiator has closed.
    fn run(mode: Mode, digest: bool) -> (Vec<u8>, Digests, u32) {
        let (addr, h) = start(mode);
        let (mut st, digests, exp) = log_in(addr, digest, IQN).unwrap();
        let got = inquiry(&mut st, digests, exp);
        h.join().unwrap().unwrap();
        (got, digests, exp)
    }

    fn header(got: &[u8]) -> Bhs {
        got.get(..BHS_LEN).unwrap().try_into().unwrap()
    }

    #[test]
    fn bad_opcode_does_not_decode() {
        let (got, _, _) = run(Mode::BadOpcode, false);
        assert_eq!(got.len(), BHS_LEN);
        assert!(TargetPdu::decode(&header(&got)).is_err());
    }

    #[test]
    fn oversize_exceeds_our_max_recv_dsl() {
        let (got, _, exp) = run(Mode::Oversize, false);
        assert_eq!(got.len(), BHS_LEN, "header only");
        let b = header(&got);
        let TargetPdu::ScsiResponse(r) = TargetPdu::decode(&b).unwrap() else {
            panic!("not a SCSI Response");
        };
        assert_eq!((r.itt, r.stat_sn), (0x10, exp));
        assert!(PduLayout::from_bhs(&b, Digests::NONE)
            .check_max_data(MRDSL)
            .is_err());
        assert!(PduLayout::from_bhs(&b, Digests::NONE)
            .check_max_data(MRDSL + 512)
            .is_ok());
    }

    #[test]
    fn unknown_itt_answers_no_ping() {
        let (got, _, exp) = run(Mode::UnknownItt, false);
        let TargetPdu::NopIn(n) = TargetPdu::decode(&header(&got)).unwrap() else {
            panic!("not a NOP-In");
        };
        assert_eq!((n.itt, n.ttt, n.stat_sn), (STRAY_ITT, RESERVED_TAG, exp));
        assert_ne!(n.itt, 0x10);
    }

    #[test]
    fn bad_offset_lies_past_the_buffer() {
        let (got, _, _) = run(Mode::BadOffset, false);
        assert_eq!(got.len(), BHS_LEN + 4);
        let TargetPdu::DataIn(d) = TargetPdu::decode(&header(&got)).unwrap() else {
            panic!("not a Data-In");
        };
        assert_eq!((d.itt, d.data_sn), (0x10, 0));
        assert!(d.buffer_offset + d.data_segment_length > INQUIRY_LEN);
    }

    #[test]
    fn statsn_jump_skips_ahead() {
        let (got, _, exp) = run(Mode::StatSnJump, false);
        let TargetPdu::ScsiResponse(r) = TargetPdu::decode(&header(&got)).unwrap() else {
            panic!("not a SCSI Response");
        };
        assert_eq!(r.stat_sn.wrapping_sub(exp), STAT_SN_JUMP);
    }

    #[test]
    fn header_digest_is_wrong() {
        let (got, digests, _) = run(Mode::HeaderDigest, true);
        assert!(digests.header && digests.data);
        assert_eq!(got.len(), BHS_LEN + DIGEST_LEN);
        let b = header(&got);
        assert!(TargetPdu::decode(&b).is_ok());
        let wire: [u8; DIGEST_LEN] = got[BHS_LEN..].try_into().unwrap();
        assert!(verify_header_digest(&b, &[], wire).is_err());
    }

    #[test]
    fn header_digest_mode_needs_digests() {
        let (addr, h) = start(Mode::HeaderDigest);
        let (mut st, digests, exp) = log_in(addr, false, IQN).unwrap();
        let got = inquiry(&mut st, digests, exp);
        assert!(got.is_empty(), "nothing sent: {got:?}");
        assert!(h.join().unwrap().unwrap_err().contains("HeaderDigest"));
    }

    #[test]
    fn truncated_stops_mid_header() {
        let (got, _, _) = run(Mode::Truncated, false);
        assert_eq!(got.len(), BHS_LEN / 2);
    }

    #[test]
    fn wrong_target_name_is_refused() {
        let (addr, h) = start(Mode::BadOpcode);
        let e = log_in(addr, false, "iqn.2026-11.org.rsiscsi:other").unwrap_err();
        assert!(e.contains("NotFound"), "{e}");
        assert!(h
            .join()
            .unwrap()
            .unwrap_err()
            .contains("unknown TargetName"));
    }

    #[test]
    fn pings_are_answered_before_the_command() {
        let (addr, h) = start(Mode::StatSnJump);
        let (mut st, _, exp) = log_in(addr, false, IQN).unwrap();
        let mut bhs: Bhs = [0; BHS_LEN];
        rsiscsi_core::pdu::NopOut {
            immediate: true,
            data_segment_length: 0,
            lun: Lun::ZERO,
            itt: 0x22,
            ttt: RESERVED_TAG,
            cmd_sn: 1,
            exp_stat_sn: exp,
        }
        .encode(&mut bhs)
        .unwrap();
        st.write_all(&bhs).unwrap();
        let mut rbhs: Bhs = [0; BHS_LEN];
        st.read_exact(&mut rbhs).unwrap();
        let TargetPdu::NopIn(n) = TargetPdu::decode(&rbhs).unwrap() else {
            panic!("not a NOP-In");
        };
        assert_eq!((n.itt, n.stat_sn), (0x22, exp));
        // The misbehaviour then continues from the next StatSN.
        let got = inquiry(&mut st, Digests::NONE, exp + 1);
        let TargetPdu::ScsiResponse(r) = TargetPdu::decode(&header(&got)).unwrap() else {
            panic!("not a SCSI Response");
        };
        assert_eq!(r.stat_sn.wrapping_sub(exp + 1), STAT_SN_JUMP);
        h.join().unwrap().unwrap();
    }
}
