// SPDX-License-Identifier: GPL-2.0
//! The login phase of one connection (RFC 7143 §6.3, §11.12, §11.13) as a
//! sans-IO state machine.
//!
//! ```text
//! SecurityNegotiation ──T──▶ LoginOperationalNegotiation ──T──▶ FullFeaturePhase
//!   AuthMethod, CHAP_*          operational keys (keys::negotiate)
//! ```
//! The caller loops: [`Login::poll_transmit`] fills a BHS and data segment
//! to send; the target's answer goes to [`Login::handle_response`], which
//! says whether to transmit again or hands back [`LoginDone`] with the TSIH
//! and the negotiated parameters. Digests are never in use during login
//! (they start with Full Feature Phase, §13.1), so the caller sends exactly
//! BHS + data + padding.
//!
//! Four kinds of login ([`LoginKind`]): the leading connection of a new
//! Normal session (TSIH 0), a Discovery session, a connection added to a
//! running session (its TSIH, a new CID, no LO keys), and the reinstatement
//! of a failed connection (same CID: the implicit logout of ERL 2, §6.3.4).

pub mod isid;
pub mod status;

#[cfg(test)]
mod fake_target;

pub use isid::Isid;
pub use status::{InitiatorError, Redirect, TargetError};

use super::chap::{ChapConfig, ChapError, ChapInitiator, ChapState};
use super::discovery::Portal;
use super::keys::negotiate::{NegotiationError, Negotiator};
use super::keys::params::{InitiatorParams, NegotiatedParams, SessionParams, SessionType};
use super::keys::KeyId;
use super::pdu::login::{
    ISCSI_VERSION, STATUS_CLASS_INITIATOR_ERROR, STATUS_CLASS_REDIRECTION, STATUS_CLASS_SUCCESS,
    STATUS_CLASS_TARGET_ERROR,
};
use super::pdu::{Bhs, LoginRequest, LoginResponse, PduError, Stage};
use super::text::{Pairs, TextAssembler, TextBuffer, TextError, TextWriter};

/// Default capacity for reassembling a login response split with the C bit:
/// the 8192 bytes RFC 7143 §6.1 requires a negotiation to support.
pub const DEFAULT_TEXT_CAPACITY: usize = 8192;

/// Most Login responses one login accepts, not counting non-empty C-bit
/// pieces (those are bounded by the reassembly buffer). A correct exchange
/// needs about six (two CHAP round trips, operational replies); this stops a
/// target that never lets the login finish.
pub const MAX_ROUNDS: u32 = 64;

/// How the initiator authenticates (RFC 7143 §12).
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// `AuthMethod=None`.
    None,
    /// `AuthMethod=CHAP`, one-way or mutual per `config.target`.
    Chap {
        /// Names, secrets, algorithms.
        config: ChapConfig<'a>,
        /// Our CHAP_I for mutual CHAP (random).
        identifier: u8,
        /// Our CHAP_C for mutual CHAP (random, 16 to 1024 bytes).
        challenge: &'a [u8],
    },
}

/// Which login this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    /// Leading connection of a new Normal session: TSIH 0, all LO keys.
    Leading,
    /// A Discovery session (SendTargets only).
    Discovery,
    /// A new connection joining a running session (ISID + its TSIH + a CID
    /// not in use, §6.3.4).
    AddConnection {
        /// The session's TSIH.
        tsih: u16,
        /// The session-wide values the leading login fixed.
        session: SessionParams,
    },
    /// Reinstating a failed connection: same CID as the old one, which the
    /// target logs out implicitly (§6.3.4, ERL 2 connection recovery).
    Reinstate {
        /// The session's TSIH.
        tsih: u16,
        /// The session-wide values the leading login fixed.
        session: SessionParams,
        /// The old connection's ExpStatSN, acknowledging its status.
        exp_stat_sn: u32,
    },
}

/// Everything one login needs from the caller.
#[derive(Debug, Clone, Copy)]
pub struct LoginConfig<'a> {
    /// InitiatorName, sent on every connection (LIO refuses a login
    /// without it, RFC 7143 §13.5).
    pub initiator_name: &'a [u8],
    /// InitiatorAlias, if any (§13.7).
    pub initiator_alias: Option<&'a [u8]>,
    /// TargetName; required for Normal sessions, ignored for Discovery.
    pub target_name: Option<&'a [u8]>,
    /// The session's ISID.
    pub isid: Isid,
    /// This connection's CID.
    pub cid: u16,
    /// ITT of the login task.
    pub itt: u32,
    /// The session's next CmdSN (Login does not advance it).
    pub cmd_sn: u32,
    /// Operational values to offer.
    pub params: InitiatorParams,
    /// Authentication.
    pub auth: Auth<'a>,
}

/// Why a login ended without reaching Full Feature Phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    /// A Normal session was requested without a TargetName.
    MissingTargetName,
    /// The InitiatorName is empty.
    MissingInitiatorName,
    /// A BHS did not decode, or did not match its data length.
    Pdu(PduError),
    /// The target's text is malformed, or ours did not fit the buffer.
    Text(TextError),
    /// Operational negotiation failed.
    Negotiation(NegotiationError),
    /// CHAP failed on our side (bad challenge, target proof wrong, ...).
    Chap(ChapError),
    /// The target did not accept the AuthMethod we offered.
    AuthMethodRefused,
    /// The response's ITT is not our login's.
    UnexpectedItt,
    /// The response's ISID is not ours.
    IsidMismatch,
    /// The final response of an added/reinstated connection carried a
    /// different TSIH.
    TsihMismatch,
    /// The final response of a leading login carried TSIH 0.
    MissingTsih,
    /// Version-active is not the RFC 7143 version 0.
    UnsupportedVersion(u8),
    /// CSG, NSG or T in the response break the stage rules (§6.3).
    StageViolation,
    /// A response arrived while no request was outstanding.
    UnexpectedResponse,
    /// The target kept the login going for more than [`MAX_ROUNDS`].
    TooManyRounds,
    /// Status-Class 1: reconnect to the portal [`Login::redirect`] gives
    /// and log in again; `permanent` for 0x0102 (moved permanently).
    Redirect {
        /// Moved permanently (0x0102) rather than temporarily (0x0101).
        permanent: bool,
        /// The raw Status-Detail, kept for [`LoginError::status`]: details
        /// RFC 7143 does not define are treated as temporary.
        detail: u8,
    },
    /// A redirection without a usable TargetAddress.
    BadRedirect,
    /// Status-Class 2.
    Initiator(InitiatorError),
    /// Status-Class 3.
    Target(TargetError),
    /// A Status-Class RFC 7143 does not define (class, detail).
    UnknownStatus(u8, u8),
    /// The login already failed; it cannot continue.
    Failed,
}

impl LoginError {
    /// Whether the same login may succeed if simply tried again later
    /// (target errors, redirections); configuration and authentication
    /// problems are not retryable.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LoginError::Target(_) | LoginError::Redirect { .. })
    }

    /// Status-Class and Status-Detail of the Login Response that ended the
    /// login, as `0xCCDD` (RFC 7143 §11.13.5), so logs can show the code
    /// the target sent; `None` when this side stopped the login.
    pub const fn status(&self) -> Option<u16> {
        let (class, detail) = match *self {
            LoginError::Redirect { detail, .. } => (STATUS_CLASS_REDIRECTION, detail),
            LoginError::Initiator(e) => (STATUS_CLASS_INITIATOR_ERROR, e.detail()),
            LoginError::Target(e) => (STATUS_CLASS_TARGET_ERROR, e.detail()),
            LoginError::UnknownStatus(class, detail) => (class, detail),
            _ => return None,
        };
        Some(u16::from_be_bytes([class, detail]))
    }
}

impl From<PduError> for LoginError {
    fn from(e: PduError) -> Self {
        LoginError::Pdu(e)
    }
}
impl From<TextError> for LoginError {
    fn from(e: TextError) -> Self {
        LoginError::Text(e)
    }
}
impl From<NegotiationError> for LoginError {
    fn from(e: NegotiationError) -> Self {
        match e {
            NegotiationError::Text(t) => LoginError::Text(t),
            e => LoginError::Negotiation(e),
        }
    }
}
impl From<ChapError> for LoginError {
    fn from(e: ChapError) -> Self {
        match e {
            ChapError::Text(t) => LoginError::Text(t),
            e => LoginError::Chap(e),
        }
    }
}

/// A successful login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginDone {
    /// The session's TSIH (new for a leading login).
    pub tsih: u16,
    /// What was agreed.
    pub negotiated: NegotiatedParams,
    /// ExpStatSN for the first Full Feature Phase PDU on this connection.
    pub exp_stat_sn: u32,
    /// ExpCmdSN from the final response.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN from the final response.
    pub max_cmd_sn: u32,
}

/// What the caller does after [`Login::handle_response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "returned once per login; boxing would need alloc"
)]
pub enum Progress {
    /// Call [`Login::poll_transmit`] and send what it produces.
    Transmit,
    /// Full Feature Phase reached.
    Done(LoginDone),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tx {
    /// First PDU: names, SessionType, AuthMethod.
    Initial,
    /// No keys: answers a C-bit response or repeats a transit request.
    Empty {
        csg: Stage,
        transit: Option<Stage>,
    },
    ChapAlgorithms,
    ChapResponse,
    Operational {
        first: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Send(Tx),
    Await { csg: Stage, asked: Option<Stage> },
    Done,
    Failed,
}

/// One connection's login.
///
/// It borrows the caller's configuration. Responses split with the C bit
/// are glued in `B`: [`Login::new`] embeds an 8 KiB [`TextAssembler`]
/// (simple, for userspace); [`Login::with_buffer`] borrows one, keeping the
/// state itself under 2 KiB (mostly the negotiator and its reply queue) for
/// a kernel caller that keeps the assembler in its connection struct
/// rather than on the stack.
pub struct Login<'a, B: TextBuffer = TextAssembler<DEFAULT_TEXT_CAPACITY>> {
    cfg: LoginConfig<'a>,
    session_type: SessionType,
    /// TSIH sent in requests: 0 for a new session.
    tsih: u16,
    negotiator: Negotiator,
    chap: Option<ChapInitiator<'a>>,
    auth_agreed: bool,
    rx: B,
    state: State,
    exp_stat_sn: u32,
    rounds: u32,
    redirect: Option<Redirect>,
}

impl<B: TextBuffer> core::fmt::Debug for Login<'_, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Login")
            .field("state", &self.state)
            .field("session_type", &self.session_type)
            .field("tsih", &self.tsih)
            .field("rounds", &self.rounds)
            .finish_non_exhaustive()
    }
}

impl<'a> Login<'a> {
    /// Prepares a login with its own reassembly buffer; nothing is sent
    /// until [`Login::poll_transmit`].
    pub fn new(cfg: LoginConfig<'a>, kind: LoginKind) -> Result<Self, LoginError> {
        Login::with_buffer(cfg, kind, TextAssembler::new())
    }
}

impl<'a, B: TextBuffer> Login<'a, B> {
    /// Prepares a login that gathers response text in `rx` (reset here),
    /// e.g. `&mut TextAssembler<N>` kept by the caller.
    pub fn with_buffer(
        cfg: LoginConfig<'a>,
        kind: LoginKind,
        mut rx: B,
    ) -> Result<Self, LoginError> {
        if cfg.initiator_name.is_empty() {
            return Err(LoginError::MissingInitiatorName);
        }
        let (session_type, tsih, existing, exp_stat_sn) = match kind {
            LoginKind::Leading => (SessionType::Normal, 0, None, 0),
            LoginKind::Discovery => (SessionType::Discovery, 0, None, 0),
            LoginKind::AddConnection { tsih, session } => {
                (session.session_type, tsih, Some(session), 0)
            }
            LoginKind::Reinstate {
                tsih,
                session,
                exp_stat_sn,
            } => (session.session_type, tsih, Some(session), exp_stat_sn),
        };
        if session_type == SessionType::Normal && cfg.target_name.is_none_or(<[u8]>::is_empty) {
            return Err(LoginError::MissingTargetName);
        }
        let negotiator = Negotiator::new(&cfg.params, session_type, existing.as_ref())?;
        rx.assembler().reset();
        let chap = match cfg.auth {
            Auth::None => None,
            Auth::Chap {
                config,
                identifier,
                challenge,
            } => Some(ChapInitiator::new(config, identifier, challenge)?),
        };
        Ok(Login {
            cfg,
            session_type,
            tsih,
            negotiator,
            chap,
            auth_agreed: false,
            rx,
            state: State::Send(Tx::Initial),
            exp_stat_sn,
            rounds: 0,
            redirect: None,
        })
    }

    /// Where a [`LoginError::Redirect`] points.
    pub fn redirect(&self) -> Option<&Redirect> {
        self.redirect.as_ref()
    }

    /// Whether the login has finished, successfully or not.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done | State::Failed)
    }

    /// Fills `bhs` and `data` with the next Login request, returning the
    /// data segment length, or `None` when nothing is to be sent (waiting
    /// for a response, or finished). `data` should hold at least a few
    /// hundred bytes, more with a long CHAP challenge; the text of one
    /// request always fits one PDU, so we never set the C bit.
    pub fn poll_transmit(
        &mut self,
        bhs: &mut Bhs,
        data: &mut [u8],
    ) -> Result<Option<usize>, LoginError> {
        let State::Send(tx) = self.state else {
            return Ok(None);
        };
        let r = self.build(tx, bhs, data);
        if r.is_err() {
            self.state = State::Failed;
        }
        r.map(Some)
    }

    fn build(&mut self, tx: Tx, bhs: &mut Bhs, data: &mut [u8]) -> Result<usize, LoginError> {
        let mut w = TextWriter::new(data);
        let (csg, transit) = match tx {
            Tx::Initial => self.write_initial(&mut w)?,
            Tx::Empty { csg, transit } => (csg, transit),
            Tx::ChapAlgorithms => {
                if let Some(c) = self.chap.as_mut() {
                    c.write_algorithms(&mut w)?;
                }
                (Stage::SecurityNegotiation, None)
            }
            Tx::ChapResponse => {
                if let Some(c) = self.chap.as_mut() {
                    c.write_response(&mut w)?;
                }
                (
                    Stage::SecurityNegotiation,
                    Some(Stage::LoginOperationalNegotiation),
                )
            }
            Tx::Operational { first } => {
                if first {
                    self.negotiator.write_offers(&mut w)?;
                }
                self.negotiator.write_replies(&mut w)?;
                (
                    Stage::LoginOperationalNegotiation,
                    Some(Stage::FullFeaturePhase),
                )
            }
        };
        let len = w.len();
        let req = LoginRequest {
            transit,
            continue_flag: false,
            csg,
            version_max: ISCSI_VERSION,
            version_min: ISCSI_VERSION,
            data_segment_length: u32::try_from(len).map_err(|_| PduError::DataSegmentTooLong)?,
            isid: self.cfg.isid.to_bytes(),
            tsih: self.tsih,
            itt: self.cfg.itt,
            cid: self.cfg.cid,
            cmd_sn: self.cfg.cmd_sn,
            exp_stat_sn: self.exp_stat_sn,
        };
        req.encode(bhs)?;
        self.state = State::Await {
            csg,
            asked: transit,
        };
        Ok(len)
    }

    fn write_initial(
        &mut self,
        w: &mut TextWriter<'_>,
    ) -> Result<(Stage, Option<Stage>), LoginError> {
        w.push(KeyId::InitiatorName.name(), self.cfg.initiator_name)?;
        if let Some(alias) = self.cfg.initiator_alias {
            w.push(KeyId::InitiatorAlias.name(), alias)?;
        }
        if self.negotiator.is_leading() {
            // SessionType is LO: a joining connection inherits it.
            w.push(KeyId::SessionType.name(), self.session_type.as_bytes())?;
        }
        if self.session_type == SessionType::Normal {
            if let Some(t) = self.cfg.target_name {
                w.push(KeyId::TargetName.name(), t)?;
            }
        }
        // Offering only what we want: "CHAP,None" would let a target
        // downgrade us to no authentication (and skip mutual CHAP).
        let (method, transit): (&[u8], _) = if self.chap.is_some() {
            (b"CHAP", None)
        } else {
            (b"None", Some(Stage::LoginOperationalNegotiation))
        };
        w.push(KeyId::AuthMethod.name(), method)?;
        Ok((Stage::SecurityNegotiation, transit))
    }

    /// Processes one Login response (its BHS and data segment, padding and
    /// digests already stripped).
    pub fn handle_response(&mut self, bhs: &Bhs, data: &[u8]) -> Result<Progress, LoginError> {
        let State::Await { csg, asked } = self.state else {
            return Err(if self.state == State::Failed {
                LoginError::Failed
            } else {
                LoginError::UnexpectedResponse
            });
        };
        let r = self.step(bhs, data, csg, asked);
        match r {
            Ok(Progress::Done(_)) => self.state = State::Done,
            Ok(Progress::Transmit) => {}
            Err(_) => self.state = State::Failed,
        }
        r
    }

    fn step(
        &mut self,
        bhs: &Bhs,
        data: &[u8],
        csg: Stage,
        asked: Option<Stage>,
    ) -> Result<Progress, LoginError> {
        let resp = LoginResponse::decode(bhs)?;
        if usize::try_from(resp.data_segment_length).ok() != Some(data.len()) {
            return Err(PduError::BadLength.into());
        }
        // Non-empty C-bit pieces are bounded by the reassembly buffer; every
        // other response counts against the round limit.
        if !resp.continue_flag || data.is_empty() {
            self.rounds += 1;
        }
        if self.rounds > MAX_ROUNDS {
            return Err(LoginError::TooManyRounds);
        }
        if resp.itt != self.cfg.itt {
            return Err(LoginError::UnexpectedItt);
        }
        match resp.status_class {
            STATUS_CLASS_SUCCESS => {}
            STATUS_CLASS_REDIRECTION => {
                let detail = resp.status_detail;
                let permanent = detail == 0x02;
                self.redirect = Some(redirect(permanent, data)?);
                return Err(LoginError::Redirect { permanent, detail });
            }
            STATUS_CLASS_INITIATOR_ERROR => {
                return Err(LoginError::Initiator(InitiatorError::from_detail(
                    resp.status_detail,
                )))
            }
            STATUS_CLASS_TARGET_ERROR => {
                return Err(LoginError::Target(TargetError::from_detail(
                    resp.status_detail,
                )))
            }
            c => return Err(LoginError::UnknownStatus(c, resp.status_detail)),
        }
        if resp.version_active != ISCSI_VERSION {
            return Err(LoginError::UnsupportedVersion(resp.version_active));
        }
        if resp.isid != self.cfg.isid.to_bytes() {
            return Err(LoginError::IsidMismatch);
        }
        if resp.csg != csg {
            return Err(LoginError::StageViolation);
        }
        if let Some(nsg) = resp.transit {
            // The target may move on only if we asked to, never past the
            // stage we asked for, and only forward (§6.3, §11.13).
            match asked {
                Some(a) if nsg <= a && nsg > csg => {}
                _ => return Err(LoginError::StageViolation),
            }
        }
        self.exp_stat_sn = resp.stat_sn.wrapping_add(1);
        if !self.rx.assembler().push(data, resp.continue_flag)? {
            // Acknowledge each partial text with an empty request that
            // repeats our stage and T bit, so the target's last piece may
            // still carry the transition we asked for (§6.3, §11.13).
            self.state = State::Send(Tx::Empty {
                csg,
                transit: asked,
            });
            return Ok(Progress::Transmit);
        }
        match csg {
            Stage::SecurityNegotiation => self.security_text()?,
            Stage::LoginOperationalNegotiation => self.operational_text()?,
            Stage::FullFeaturePhase => return Err(LoginError::StageViolation),
        }
        self.next(csg, &resp)
    }

    fn security_text(&mut self) -> Result<(), LoginError> {
        let want: &[u8] = if self.chap.is_some() {
            b"CHAP"
        } else {
            b"None"
        };
        for pair in Pairs::new(self.rx.assembler_ref().text()) {
            let pair = pair?;
            if pair.key == KeyId::AuthMethod.name() {
                if pair.value != want {
                    return Err(LoginError::AuthMethodRefused);
                }
                self.auth_agreed = true;
            } else if pair.key.starts_with(b"CHAP_") {
                if self.chap.is_none() {
                    return Err(ChapError::UnexpectedKey.into());
                }
            } else {
                self.negotiator.handle(pair)?;
            }
        }
        if let Some(chap) = self.chap.as_mut() {
            chap.handle_text(self.rx.assembler_ref().text())?;
        }
        Ok(())
    }

    fn operational_text(&mut self) -> Result<(), LoginError> {
        for pair in Pairs::new(self.rx.assembler_ref().text()) {
            self.negotiator.handle(pair?)?;
        }
        Ok(())
    }

    fn next(&mut self, csg: Stage, resp: &LoginResponse) -> Result<Progress, LoginError> {
        let tx = match (csg, resp.transit) {
            (Stage::SecurityNegotiation, Some(_)) => {
                // Moving on requires that authentication finished: with
                // CHAP, our proof was sent and (mutual) theirs checked.
                // Without CHAP, a target that skips the AuthMethod answer
                // agrees to None implicitly (the default, §12.1).
                if let Some(c) = &self.chap {
                    if c.state() != ChapState::Done {
                        return Err(ChapError::Incomplete.into());
                    }
                }
                Tx::Operational { first: true }
            }
            (Stage::SecurityNegotiation, None) => match self.chap.as_ref().map(|c| c.state()) {
                Some(ChapState::SendAlgorithms) if self.auth_agreed => Tx::ChapAlgorithms,
                Some(ChapState::SendAlgorithms) => return Err(LoginError::AuthMethodRefused),
                Some(ChapState::SendResponse) => Tx::ChapResponse,
                // Our part is done but the target did not move on: ask again.
                Some(ChapState::Done) | None => Tx::Empty {
                    csg,
                    transit: Some(Stage::LoginOperationalNegotiation),
                },
                Some(_) => return Err(ChapError::Incomplete.into()),
            },
            (Stage::LoginOperationalNegotiation, Some(_)) => {
                return self.finish(resp);
            }
            (Stage::LoginOperationalNegotiation, None) => Tx::Operational { first: false },
            (Stage::FullFeaturePhase, _) => return Err(LoginError::StageViolation),
        };
        self.state = State::Send(tx);
        Ok(Progress::Transmit)
    }

    fn finish(&mut self, resp: &LoginResponse) -> Result<Progress, LoginError> {
        if self.tsih == 0 {
            if resp.tsih == 0 {
                return Err(LoginError::MissingTsih);
            }
        } else if resp.tsih != self.tsih {
            return Err(LoginError::TsihMismatch);
        }
        self.negotiator.check_answered()?;
        Ok(Progress::Done(LoginDone {
            tsih: resp.tsih,
            negotiated: self.negotiator.result(),
            exp_stat_sn: self.exp_stat_sn,
            exp_cmd_sn: resp.exp_cmd_sn,
            max_cmd_sn: resp.max_cmd_sn,
        }))
    }
}

fn redirect(permanent: bool, data: &[u8]) -> Result<Redirect, LoginError> {
    let addr = Pairs::new(data)
        .filter_map(Result::ok)
        .find(|p| p.key == KeyId::TargetAddress.name())
        .ok_or(LoginError::BadRedirect)?;
    Portal::parse(addr.value)
        .and_then(|p| Redirect::new(permanent, &p))
        .map_err(|_| LoginError::BadRedirect)
}

#[cfg(test)]
mod tests {
    use super::fake_target::{FakeChap, FakeTarget};
    use super::*;
    use crate::chap::Credentials;
    use crate::hash::Algorithm;
    use crate::keys::params::{DigestPref, DigestType};
    use crate::text::{BinaryEncoding, TextAssembler};

    const INIT: &[u8] = b"iqn.2024-01.org.example:init";
    const TGT: &[u8] = b"iqn.2003-01.org.example:mcs";
    const ALL: [Algorithm; 4] = [
        Algorithm::Sha3_256,
        Algorithm::Sha256,
        Algorithm::Sha1,
        Algorithm::Md5,
    ];
    const OUR_CHALLENGE: [u8; 16] = [0x5a; 16];

    fn config(auth: Auth<'static>) -> LoginConfig<'static> {
        LoginConfig {
            initiator_name: INIT,
            initiator_alias: None,
            target_name: Some(TGT),
            isid: Isid::random(0x12_3456, 1),
            cid: 1,
            itt: 0x10,
            cmd_sn: 1,
            params: InitiatorParams {
                error_recovery_level: 2,
                max_connections: 8,
                header_digest: DigestPref::PreferCrc32c,
                ..InitiatorParams::default()
            },
            auth,
        }
    }

    fn chap(mutual: bool, target_secret: &'static [u8]) -> Auth<'static> {
        Auth::Chap {
            config: ChapConfig {
                initiator: Credentials {
                    name: b"user",
                    secret: b"initiator-secret",
                },
                target: mutual.then_some(Credentials {
                    name: b"target-user",
                    secret: target_secret,
                }),
                algorithms: &ALL,
                encoding: BinaryEncoding::Hex,
            },
            identifier: 77,
            challenge: &OUR_CHALLENGE,
        }
    }

    fn fake_chap(algorithms: &'static [u8], mutual: bool) -> Option<FakeChap> {
        Some(FakeChap {
            user: b"user",
            secret: b"initiator-secret",
            mutual: mutual.then_some((&b"target-user"[..], &b"target-secret-12"[..])),
            algorithms,
            encoding: BinaryEncoding::Base64,
        })
    }

    /// Drives a login against the fake target, checking each request's BHS
    /// with `check` (request number, decoded header, data).
    fn run_with<B: TextBuffer>(
        login: &mut Login<'_, B>,
        target: &mut FakeTarget,
        mut check: impl FnMut(u32, &LoginRequest, &[u8]),
    ) -> Result<LoginDone, LoginError> {
        let mut bhs = [0u8; 48];
        let mut data = [0u8; 4096];
        let mut rbhs = [0u8; 48];
        let mut rdata = [0u8; 8192];
        for i in 0..10_000 {
            let n = login
                .poll_transmit(&mut bhs, &mut data)?
                .expect("login has nothing to send");
            assert_eq!(
                login.poll_transmit(&mut bhs.clone(), &mut [0u8; 16]),
                Ok(None)
            );
            let req = LoginRequest::decode(&bhs).unwrap();
            check(i, &req, &data[..n]);
            let rn = target.respond(&bhs, &data[..n], &mut rbhs, &mut rdata);
            if let Progress::Done(d) = login.handle_response(&rbhs, &rdata[..rn])? {
                assert!(login.is_finished());
                return Ok(d);
            }
        }
        panic!("login did not finish");
    }

    fn run<B: TextBuffer>(
        login: &mut Login<'_, B>,
        target: &mut FakeTarget,
    ) -> Result<LoginDone, LoginError> {
        run_with(login, target, |_, _, _| {})
    }

    #[test]
    fn leading_login_without_auth() {
        // The owned-buffer form, as userspace uses it.
        let mut l = Login::new(config(Auth::None), LoginKind::Leading).unwrap();
        let mut t = FakeTarget::lio(TGT);
        let done = run_with(&mut l, &mut t, |i, req, data| {
            assert_eq!(req.tsih, 0);
            assert_eq!(req.isid, [0x80, 0x12, 0x34, 0x56, 0, 1]);
            assert_eq!((req.cid, req.itt, req.cmd_sn), (1, 0x10, 1));
            if i == 0 {
                assert_eq!(req.csg, Stage::SecurityNegotiation);
                assert_eq!(req.transit, Some(Stage::LoginOperationalNegotiation));
                assert_eq!(req.exp_stat_sn, 0);
                assert_eq!(
                    data,
                    b"InitiatorName=iqn.2024-01.org.example:init\0SessionType=Normal\0\
TargetName=iqn.2003-01.org.example:mcs\0AuthMethod=None\0"
                );
            } else {
                assert_eq!(req.csg, Stage::LoginOperationalNegotiation);
                assert_eq!(req.transit, Some(Stage::FullFeaturePhase));
                assert_eq!(req.exp_stat_sn, 0x1001);
            }
        })
        .unwrap();
        assert_eq!(t.requests, 2);
        assert_eq!(done.tsih, 0x0102);
        assert_eq!(done.exp_stat_sn, 0x1001);
        assert_eq!((done.exp_cmd_sn, done.max_cmd_sn), (1, 32));
        let s = done.negotiated.session;
        assert_eq!(s.max_connections, 4);
        assert_eq!(s.error_recovery_level, 2);
        assert_eq!(s.target_portal_group_tag, Some(1));
        assert_eq!(s.max_outstanding_r2t, 1);
        assert!(s.initial_r2t && s.immediate_data);
        let c = done.negotiated.connection;
        assert_eq!(c.header_digest, DigestType::Crc32c);
        assert_eq!(c.data_digest, DigestType::None);
        assert_eq!(c.max_xmit_data_segment_length, 65_536);
        assert_eq!(c.max_recv_data_segment_length, 8192);
    }

    /// ImmediateData=No and InitialR2T=Yes decide their results on their
    /// own, so LIO does not answer them: the login must still report No
    /// and Yes (the RFC default of ImmediateData is Yes). The open-ended
    /// offers (ImmediateData=Yes, InitialR2T=No) get LIO's answer.
    #[test]
    fn deciding_boolean_offers_hold_without_an_answer() {
        for (imm, r2t, target_imm, want_imm, want_r2t) in [
            (false, true, true, false, true),
            (false, false, true, false, true),
            (true, false, false, false, true),
            (true, true, true, true, true),
        ] {
            let mut cfg = config(Auth::None);
            cfg.params.immediate_data = imm;
            cfg.params.initial_r2t = r2t;
            let mut l = Login::new(cfg, LoginKind::Leading).unwrap();
            let mut t = FakeTarget::lio(TGT);
            t.booleans = [(b"ImmediateData", target_imm), (b"InitialR2T", true)];
            let done = run(&mut l, &mut t).unwrap();
            let s = done.negotiated.session;
            assert_eq!(
                (s.immediate_data, s.initial_r2t),
                (want_imm, want_r2t),
                "offered ImmediateData={imm} InitialR2T={r2t}, target ImmediateData={target_imm}"
            );
        }
    }

    /// A target that moves to Full Feature Phase without answering one of
    /// our offers fails the login instead of leaving the RFC default in
    /// the result.
    #[test]
    fn unanswered_offer_fails_the_login() {
        let mut l = Login::new(config(Auth::None), LoginKind::Leading).unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.silent = Some(b"MaxBurstLength");
        assert_eq!(
            run(&mut l, &mut t).map(|_| ()),
            Err(LoginError::Negotiation(NegotiationError::Unanswered(
                KeyId::MaxBurstLength
            )))
        );
    }

    #[test]
    fn one_way_chap_with_every_algorithm() {
        for (a, alg) in [
            (5u8, Algorithm::Md5),
            (6, Algorithm::Sha1),
            (7, Algorithm::Sha256),
            (8, Algorithm::Sha3_256),
        ] {
            let algs: &'static [u8] = match a {
                5 => &[5],
                6 => &[6],
                7 => &[7],
                _ => &[8],
            };
            let mut rx1 = TextAssembler::<8192>::new();
            let mut l =
                Login::with_buffer(config(chap(false, b"")), LoginKind::Leading, &mut rx1).unwrap();
            let mut t = FakeTarget::lio(TGT);
            t.chap = fake_chap(algs, false);
            let done = run_with(&mut l, &mut t, |i, req, data| {
                if i == 1 {
                    assert_eq!(data, b"CHAP_A=8,7,6,5\0");
                    assert_eq!(req.transit, None);
                }
                if i == 2 {
                    assert_eq!(req.transit, Some(Stage::LoginOperationalNegotiation));
                }
            })
            .unwrap();
            assert_eq!(done.tsih, 0x0102, "{alg:?}");
            assert_eq!(t.requests, 4);
        }
    }

    #[test]
    fn mutual_chap() {
        let mut rx2 = TextAssembler::<8192>::new();
        let mut l = Login::with_buffer(
            config(chap(true, b"target-secret-12")),
            LoginKind::Leading,
            &mut rx2,
        )
        .unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.chap = fake_chap(&[5, 7], true);
        assert!(run(&mut l, &mut t).is_ok());
        let mut rx3 = TextAssembler::<8192>::new();

        // The target knows a different secret: we refuse it.
        let mut l = Login::with_buffer(
            config(chap(true, b"other-secret-123")),
            LoginKind::Leading,
            &mut rx3,
        )
        .unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.chap = fake_chap(&[5], true);
        assert_eq!(
            run(&mut l, &mut t).err(),
            Some(LoginError::Chap(ChapError::TargetAuthFailed))
        );
        assert!(l.is_finished());
        assert_eq!(l.handle_response(&[0; 48], &[]), Err(LoginError::Failed));
    }

    #[test]
    fn mutual_chap_requested_but_target_does_not_prove_itself() {
        let mut rx4 = TextAssembler::<8192>::new();
        let mut l = Login::with_buffer(
            config(chap(true, b"target-secret-12")),
            LoginKind::Leading,
            &mut rx4,
        )
        .unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.chap = fake_chap(&[5], false);
        assert_eq!(
            run(&mut l, &mut t).err(),
            Some(LoginError::Chap(ChapError::Incomplete))
        );
    }

    #[test]
    fn wrong_secret_is_authentication_failure() {
        let mut rx5 = TextAssembler::<8192>::new();
        let mut l =
            Login::with_buffer(config(chap(false, b"")), LoginKind::Leading, &mut rx5).unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.chap = fake_chap(&[5], false);
        if let Some(c) = t.chap.as_mut() {
            c.secret = b"not-the-secret";
        }
        let err = run(&mut l, &mut t).unwrap_err();
        assert_eq!(
            err,
            LoginError::Initiator(InitiatorError::AuthenticationFailure)
        );
        assert!(!err.is_retryable());
    }

    #[test]
    fn target_requiring_chap_refuses_none() {
        let mut rx6 = TextAssembler::<8192>::new();
        let mut l = Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx6).unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.chap = fake_chap(&[5], false);
        assert_eq!(
            run(&mut l, &mut t).err(),
            Some(LoginError::Initiator(InitiatorError::AuthenticationFailure))
        );
    }

    #[test]
    fn redirect_carries_the_new_portal() {
        let mut rx7 = TextAssembler::<8192>::new();
        let mut l = Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx7).unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.fail_first = Some((1, 1, b"TargetAddress=[fd00::7]:3261,2\0"));
        let err = run(&mut l, &mut t).unwrap_err();
        assert_eq!(
            err,
            LoginError::Redirect {
                permanent: false,
                detail: 1
            }
        );
        assert_eq!(err.status(), Some(0x0101));
        assert!(err.is_retryable());
        let r = l.redirect().unwrap();
        assert_eq!((r.host(), r.port, r.tpgt), (&b"fd00::7"[..], 3261, Some(2)));
        let mut rx8 = TextAssembler::<8192>::new();
        let mut l = Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx8).unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.fail_first = Some((1, 2, b"TargetAlias=x\0"));
        assert_eq!(run(&mut l, &mut t).err(), Some(LoginError::BadRedirect));
    }

    #[test]
    fn status_classes_map_to_errors() {
        for ((class, detail), want) in [
            ((2, 0x03), LoginError::Initiator(InitiatorError::NotFound)),
            (
                (2, 0x06),
                LoginError::Initiator(InitiatorError::TooManyConnections),
            ),
            (
                (2, 0x0a),
                LoginError::Initiator(InitiatorError::SessionDoesNotExist),
            ),
            (
                (3, 0x01),
                LoginError::Target(TargetError::ServiceUnavailable),
            ),
            (
                (2, 0x42),
                LoginError::Initiator(InitiatorError::Unknown(0x42)),
            ),
            ((3, 0x7f), LoginError::Target(TargetError::Unknown(0x7f))),
            ((4, 0x00), LoginError::UnknownStatus(4, 0)),
        ] {
            let mut rx9 = TextAssembler::<8192>::new();
            let mut l =
                Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx9).unwrap();
            let mut t = FakeTarget::lio(TGT);
            t.fail_first = Some((class, detail, b""));
            let err = run(&mut l, &mut t).err();
            assert_eq!(err, Some(want));
            // The raw code survives for logs ("status 0x0203").
            assert_eq!(
                err.and_then(|e| e.status()),
                Some(u16::from(class) << 8 | u16::from(detail))
            );
        }
        // Failures found on this side carry no target status.
        assert_eq!(LoginError::AuthMethodRefused.status(), None);
        assert_eq!(LoginError::Failed.status(), None);
        let mut rx10 = TextAssembler::<8192>::new();
        // The fake target checks the name like LIO does.
        let mut l = Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx10).unwrap();
        let mut t = FakeTarget::lio(b"iqn.2003-01.org.example:other");
        assert_eq!(
            run(&mut l, &mut t).err(),
            Some(LoginError::Initiator(InitiatorError::NotFound))
        );
    }

    #[test]
    fn multi_pdu_responses_are_reassembled() {
        let mut rx11 = TextAssembler::<8192>::new();
        let mut whole = Login::with_buffer(
            config(chap(true, b"target-secret-12")),
            LoginKind::Leading,
            &mut rx11,
        )
        .unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.chap = fake_chap(&[7], true);
        let want = run(&mut whole, &mut t).unwrap();
        for chunk in [1, 7, 16, 50] {
            let mut rx12 = TextAssembler::<8192>::new();
            let mut l = Login::with_buffer(
                config(chap(true, b"target-secret-12")),
                LoginKind::Leading,
                &mut rx12,
            )
            .unwrap();
            let mut t = FakeTarget::lio(TGT);
            t.chap = fake_chap(&[7], true);
            t.chunk = chunk;
            let mut empties = 0;
            let got = run_with(&mut l, &mut t, |_, _, data| {
                if data.is_empty() {
                    empties += 1;
                }
            })
            .unwrap();
            assert_eq!(got.negotiated, want.negotiated, "chunk {chunk}");
            assert!(empties > 0);
        }
        let mut rx13 = TextAssembler::<64>::new();
        // A text longer than our reassembly buffer is an error, not a panic.
        let mut l = Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx13).unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.chunk = 40;
        assert_eq!(
            run(&mut l, &mut t).err(),
            Some(LoginError::Text(TextError::BufferFull))
        );
    }

    #[test]
    fn target_offer_needs_another_round() {
        let mut rx14 = TextAssembler::<8192>::new();
        let mut l = Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx14).unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.offer = Some(b"DefaultTime2Retain=10");
        let done = run_with(&mut l, &mut t, |i, req, data| {
            if i == 2 {
                assert_eq!(req.csg, Stage::LoginOperationalNegotiation);
                assert_eq!(data, b"DefaultTime2Retain=10\0");
            }
        })
        .unwrap();
        assert_eq!(t.requests, 3);
        assert_eq!(done.negotiated.session.default_time2retain, 10);
    }

    #[test]
    fn added_connection_sends_tsih_and_no_lo_keys() {
        let mut rx15 = TextAssembler::<8192>::new();
        let mut first =
            Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx15).unwrap();
        let mut t = FakeTarget::lio(TGT);
        let lead = run(&mut first, &mut t).unwrap();
        let mut cfg = config(Auth::None);
        cfg.cid = 2;
        let kind = LoginKind::AddConnection {
            tsih: lead.tsih,
            session: lead.negotiated.session,
        };
        let mut rx16 = TextAssembler::<8192>::new();
        let mut l = Login::with_buffer(cfg, kind, &mut rx16).unwrap();
        let mut t2 = FakeTarget::lio(TGT);
        t2.leading = false;
        let done = run_with(&mut l, &mut t2, |i, req, data| {
            assert_eq!((req.tsih, req.cid), (0x0102, 2));
            if i == 0 {
                assert_eq!(
                    data,
                    b"InitiatorName=iqn.2024-01.org.example:init\0\
TargetName=iqn.2003-01.org.example:mcs\0AuthMethod=None\0"
                );
            } else {
                assert_eq!(
                    data,
                    b"HeaderDigest=CRC32C,None\0DataDigest=None\0MaxRecvDataSegmentLength=8192\0"
                );
            }
        })
        .unwrap();
        assert_eq!(done.tsih, lead.tsih);
        assert_eq!(done.negotiated.session, lead.negotiated.session);
        let mut rx17 = TextAssembler::<8192>::new();
        // A target answering with another TSIH is refused.
        let mut l = Login::with_buffer(
            cfg,
            LoginKind::AddConnection {
                tsih: 9,
                session: lead.negotiated.session,
            },
            &mut rx17,
        )
        .unwrap();
        let mut t3 = FakeTarget::lio(TGT);
        t3.leading = false;
        let mut bhs = [0u8; 48];
        let mut data = [0u8; 1024];
        let mut rb = [0u8; 48];
        let mut rd = [0u8; 1024];
        let n = l.poll_transmit(&mut bhs, &mut data).unwrap().unwrap();
        let rn = t3.respond(&bhs, &data[..n], &mut rb, &mut rd);
        assert_eq!(l.handle_response(&rb, &rd[..rn]), Ok(Progress::Transmit));
        let n = l.poll_transmit(&mut bhs, &mut data).unwrap().unwrap();
        let rn = t3.respond(&bhs, &data[..n], &mut rb, &mut rd);
        let mut resp = LoginResponse::decode(&rb).unwrap();
        resp.tsih = 10;
        resp.encode(&mut rb).unwrap();
        assert_eq!(
            l.handle_response(&rb, &rd[..rn]),
            Err(LoginError::TsihMismatch)
        );
    }

    #[test]
    fn reinstatement_acknowledges_old_status() {
        let session = SessionParams::rfc_defaults(SessionType::Normal);
        let kind = LoginKind::Reinstate {
            tsih: 0x0102,
            session,
            exp_stat_sn: 0xdead,
        };
        let mut rx18 = TextAssembler::<8192>::new();
        let mut l = Login::with_buffer(config(Auth::None), kind, &mut rx18).unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.leading = false;
        run_with(&mut l, &mut t, |i, req, _| {
            assert_eq!((req.tsih, req.cid), (0x0102, 1));
            if i == 0 {
                assert_eq!(req.exp_stat_sn, 0xdead);
            }
        })
        .unwrap();
    }

    #[test]
    fn discovery_login() {
        let mut cfg = config(Auth::None);
        cfg.target_name = None;
        let mut rx19 = TextAssembler::<8192>::new();
        let mut l = Login::with_buffer(cfg, LoginKind::Discovery, &mut rx19).unwrap();
        let mut t = FakeTarget::lio(TGT);
        let done = run_with(&mut l, &mut t, |i, _, data| {
            if i == 0 {
                assert_eq!(
                    data,
                    b"InitiatorName=iqn.2024-01.org.example:init\0SessionType=Discovery\0AuthMethod=None\0"
                );
            }
        })
        .unwrap();
        assert_eq!(done.negotiated.session.session_type, SessionType::Discovery);
        assert_eq!(done.negotiated.session.max_connections, 1);
    }

    #[test]
    fn configuration_errors() {
        let mut cfg = config(Auth::None);
        cfg.target_name = None;
        let mut rx20 = TextAssembler::<8192>::new();
        assert_eq!(
            Login::with_buffer(cfg, LoginKind::Leading, &mut rx20).err(),
            Some(LoginError::MissingTargetName)
        );
        let mut cfg = config(Auth::None);
        cfg.initiator_name = b"";
        let mut rx21 = TextAssembler::<8192>::new();
        assert_eq!(
            Login::with_buffer(cfg, LoginKind::Leading, &mut rx21).err(),
            Some(LoginError::MissingInitiatorName)
        );
        let mut cfg = config(Auth::None);
        cfg.params.max_burst_length = 100;
        let mut rx22 = TextAssembler::<8192>::new();
        assert!(matches!(
            Login::with_buffer(cfg, LoginKind::Leading, &mut rx22).err(),
            Some(LoginError::Negotiation(_))
        ));
    }

    fn first_response<B: TextBuffer>(l: &mut Login<'_, B>) -> LoginResponse {
        let mut bhs = [0u8; 48];
        let mut data = [0u8; 512];
        l.poll_transmit(&mut bhs, &mut data).unwrap().unwrap();
        LoginResponse {
            transit: Some(Stage::LoginOperationalNegotiation),
            continue_flag: false,
            csg: Stage::SecurityNegotiation,
            version_max: 0,
            version_active: 0,
            data_segment_length: 0,
            isid: [0x80, 0x12, 0x34, 0x56, 0, 1],
            tsih: 0,
            itt: 0x10,
            stat_sn: 5,
            exp_cmd_sn: 1,
            max_cmd_sn: 1,
            status_class: 0,
            status_detail: 0,
        }
    }

    #[test]
    fn header_checks() {
        type Mutation = fn(&mut LoginResponse);
        let cases: [(Mutation, LoginError); 6] = [
            (|r| r.itt = 0x11, LoginError::UnexpectedItt),
            (|r| r.isid[5] = 2, LoginError::IsidMismatch),
            (|r| r.version_active = 1, LoginError::UnsupportedVersion(1)),
            (
                |r| r.csg = Stage::LoginOperationalNegotiation,
                LoginError::StageViolation,
            ),
            (
                |r| r.transit = Some(Stage::FullFeaturePhase),
                LoginError::StageViolation,
            ),
            (
                |r| r.data_segment_length = 3,
                LoginError::Pdu(PduError::BadLength),
            ),
        ];
        for (mutate, want) in cases {
            let mut rx23 = TextAssembler::<8192>::new();
            let mut l =
                Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx23).unwrap();
            let mut r = first_response(&mut l);
            mutate(&mut r);
            let mut bhs = [0u8; 48];
            r.encode(&mut bhs).unwrap();
            assert_eq!(l.handle_response(&bhs, &[]), Err(want));
        }
        let mut rx24 = TextAssembler::<8192>::new();
        // A response before any request.
        let mut l = Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx24).unwrap();
        assert_eq!(
            l.handle_response(&[0; 48], &[]),
            Err(LoginError::UnexpectedResponse)
        );
    }

    #[test]
    fn state_stays_small() {
        // The kernel runs logins on small stacks: the text buffer is
        // borrowed, so the machine itself must stay in the low kilobytes.
        let size = core::mem::size_of::<Login<'static, &'static mut TextAssembler<8192>>>();
        assert!(size < 2048, "Login is {size} bytes");
        // The owned form embeds the whole buffer.
        assert!(core::mem::size_of::<Login<'static>>() > 8192);
        assert!(core::mem::size_of::<LoginError>() <= 16);
    }

    #[test]
    fn missing_tsih_on_leading_login() {
        let mut rx25 = TextAssembler::<8192>::new();
        let mut l = Login::with_buffer(config(Auth::None), LoginKind::Leading, &mut rx25).unwrap();
        let mut t = FakeTarget::lio(TGT);
        t.tsih = 0;
        assert_eq!(run(&mut l, &mut t).err(), Some(LoginError::MissingTsih));
    }
}
