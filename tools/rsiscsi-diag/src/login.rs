// SPDX-License-Identifier: GPL-2.0
//! Logging in a connection: the leading one of a Normal or Discovery
//! session, or one added to a running session (MC/S). The exchange itself
//! is `rsiscsi_core::login::Login`; this feeds it the socket.

use crate::args::{DiscoverArgs, IoArgs, Secret};
use crate::error::DiagError;
use crate::pattern;
use crate::scsi::MAX_OUTSTANDING_R2T;
use crate::session::{Connection, Session};
use crate::wire::Wire;
use rsiscsi_core::chap::{ChapConfig, ChapError, Credentials};
use rsiscsi_core::hash::Algorithm;
use rsiscsi_core::keys::negotiate::NegotiationError;
use rsiscsi_core::keys::params::{DigestPref, InitiatorParams, NegotiatedParams};
use rsiscsi_core::login::{
    Auth, InitiatorError, Isid, Login, LoginConfig, LoginDone, LoginError, LoginKind, Progress,
    TargetError,
};
use rsiscsi_core::pdu::{Bhs, BHS_LEN};
use rsiscsi_core::text::BinaryEncoding;
use std::fmt;
use std::net::SocketAddr;

/// Data segment buffer for one Login request.
const LOGIN_BUF: usize = 8192;

/// What a login needs beyond the session it belongs to.
#[derive(Debug, Clone)]
pub struct LoginSpec {
    /// Where to connect.
    pub portal: SocketAddr,
    /// Our iSCSI name.
    pub initiator: String,
    /// The target (None for discovery).
    pub target: Option<String>,
    /// One-way CHAP credentials.
    pub chap: Option<Secret>,
    /// The target's credentials for mutual CHAP.
    pub mutual: Option<Secret>,
    /// CHAP algorithms to offer, most preferred first.
    pub chap_algs: Vec<Algorithm>,
    /// Operational values to offer.
    pub params: InitiatorParams,
}

impl LoginSpec {
    /// A Normal session for `io`: offers what makes every write path
    /// possible (ImmediateData=Yes, InitialR2T=No) and the MC/S
    /// connection count asked for.
    pub fn normal(a: &IoArgs) -> Self {
        let digest = if a.digest {
            DigestPref::Crc32cOnly
        } else {
            DigestPref::NoneOnly
        };
        LoginSpec {
            portal: a.portal,
            initiator: a.initiator.clone(),
            target: Some(a.target.clone()),
            chap: a.chap.clone(),
            mutual: a.mutual.clone(),
            chap_algs: a.chap_algs.clone(),
            params: InitiatorParams {
                header_digest: digest,
                data_digest: digest,
                max_connections: a.connections,
                initial_r2t: false,
                immediate_data: true,
                max_recv_data_segment_length: 65536,
                max_outstanding_r2t: MAX_OUTSTANDING_R2T,
                ..InitiatorParams::default()
            },
        }
    }

    /// A Discovery session.
    pub fn discovery(a: &DiscoverArgs) -> Self {
        LoginSpec {
            portal: a.portal,
            initiator: a.initiator.clone(),
            target: None,
            chap: None,
            mutual: None,
            chap_algs: Vec::new(),
            params: InitiatorParams {
                max_recv_data_segment_length: 65536,
                ..InitiatorParams::default()
            },
        }
    }
}

/// What a login agreed, for printing.
#[derive(Debug, Clone, Copy)]
pub struct LoginInfo {
    /// TSIH of the session.
    pub tsih: u16,
    /// Negotiated values.
    pub params: NegotiatedParams,
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "Yes"
    } else {
        "No"
    }
}

impl fmt::Display for LoginInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.params.session;
        let c = &self.params.connection;
        write!(
            f,
            "TSIH 0x{:04x}, HeaderDigest {}, DataDigest {}, MaxRecvDSL {}, MaxXmitDSL {}",
            self.tsih,
            String::from_utf8_lossy(c.header_digest.as_bytes()),
            String::from_utf8_lossy(c.data_digest.as_bytes()),
            c.max_recv_data_segment_length,
            c.max_xmit_data_segment_length
        )?;
        if s.session_type == rsiscsi_core::keys::params::SessionType::Normal {
            write!(
                f,
                ", MaxConnections {}, InitialR2T {}, ImmediateData {}, FirstBurst {}, MaxBurst {}, MaxOutstandingR2T {}, ERL {}",
                s.max_connections,
                yes_no(s.initial_r2t),
                yes_no(s.immediate_data),
                s.first_burst_length,
                s.max_burst_length,
                s.max_outstanding_r2t,
                s.error_recovery_level
            )?;
        }
        Ok(())
    }
}

/// A random-format ISID for a new session.
pub fn new_isid() -> Isid {
    let r = pattern::random_u64(0x1514);
    Isid::random((r & 0x00ff_ffff) as u32, (r >> 24) as u16)
}

fn initiator_error_text(e: InitiatorError) -> String {
    match e {
        InitiatorError::AuthenticationFailure => "authentication failed".into(),
        InitiatorError::AuthorizationFailure => "authorization failed".into(),
        InitiatorError::NotFound => "target not found".into(),
        InitiatorError::TargetRemoved => "target removed".into(),
        InitiatorError::UnsupportedVersion => "unsupported iSCSI version".into(),
        InitiatorError::TooManyConnections => "too many connections".into(),
        InitiatorError::MissingParameter => "missing parameter".into(),
        InitiatorError::CantIncludeInSession => "connection cannot join the session".into(),
        InitiatorError::SessionTypeNotSupported => "session type not supported".into(),
        InitiatorError::SessionDoesNotExist => "session does not exist".into(),
        InitiatorError::InvalidDuringLogin => "invalid request during login".into(),
        InitiatorError::Other | InitiatorError::Unknown(_) => "initiator error".into(),
    }
}

/// Maps a failed login to an error with the target's status code, if it
/// sent one.
fn login_error(e: LoginError) -> DiagError {
    let code = e
        .status()
        .map_or(String::new(), |s| format!(" (status 0x{s:04x})"));
    match e {
        LoginError::Initiator(InitiatorError::AuthenticationFailure) => {
            DiagError::Auth(format!("authentication failed{code}"))
        }
        LoginError::Initiator(i) => DiagError::Login(format!("{}{code}", initiator_error_text(i))),
        LoginError::Target(TargetError::ServiceUnavailable) => {
            DiagError::Login(format!("target service unavailable{code}"))
        }
        LoginError::Target(TargetError::OutOfResources) => {
            DiagError::Login(format!("target out of resources{code}"))
        }
        LoginError::Target(_) => DiagError::Login(format!("target error{code}")),
        LoginError::Redirect { .. } => DiagError::Login(format!(
            "target redirects the login elsewhere{code} (redirection is not followed)"
        )),
        LoginError::Chap(ChapError::TargetAuthFailed) => DiagError::Auth(
            "authentication failed: the target's mutual CHAP response is wrong".into(),
        ),
        LoginError::Chap(ChapError::TargetNameMismatch) => DiagError::Auth(
            "authentication failed: the target's mutual CHAP name is not the expected one".into(),
        ),
        LoginError::AuthMethodRefused => DiagError::Auth(format!(
            "authentication failed: target refused the AuthMethod{code}"
        )),
        LoginError::Negotiation(NegotiationError::BadAnswer(key, why)) => {
            DiagError::Login(format!(
                "the target's answer for {} is unacceptable ({why:?}){code}",
                String::from_utf8_lossy(key.name())
            ))
        }
        other => DiagError::Login(format!("{other:?}{code}")),
    }
}

/// One connection's login, start to Full Feature Phase.
struct Attempt<'a> {
    spec: &'a LoginSpec,
    isid: Isid,
    cid: u16,
    itt: u32,
    cmd_sn: u32,
}

impl Attempt<'_> {
    fn run(&self, kind: LoginKind) -> Result<(Wire, LoginDone), DiagError> {
        let seed = pattern::random_u64(u64::from(self.cid));
        let mut challenge = [0u8; 16];
        for (i, b) in challenge.iter_mut().enumerate() {
            *b = pattern::random_u64(seed ^ i as u64) as u8;
        }
        let auth = match &self.spec.chap {
            None => Auth::None,
            Some(c) => Auth::Chap {
                config: ChapConfig {
                    initiator: Credentials {
                        name: c.user.as_bytes(),
                        secret: c.secret.as_bytes(),
                    },
                    target: self.spec.mutual.as_ref().map(|m| Credentials {
                        name: m.user.as_bytes(),
                        secret: m.secret.as_bytes(),
                    }),
                    algorithms: &self.spec.chap_algs,
                    encoding: BinaryEncoding::Hex,
                },
                identifier: seed as u8,
                challenge: &challenge,
            },
        };
        let cfg = LoginConfig {
            initiator_name: self.spec.initiator.as_bytes(),
            initiator_alias: None,
            target_name: self.spec.target.as_deref().map(str::as_bytes),
            isid: self.isid,
            cid: self.cid,
            itt: self.itt,
            cmd_sn: self.cmd_sn,
            params: self.spec.params,
            auth,
        };
        let mut login: Login<'_> = Login::new(cfg, kind).map_err(login_error)?;
        let mut wire = Wire::connect(self.spec.portal)?;
        let mut buf = vec![0u8; LOGIN_BUF];
        loop {
            let mut bhs: Bhs = [0; BHS_LEN];
            if let Some(n) = login
                .poll_transmit(&mut bhs, &mut buf)
                .map_err(login_error)?
            {
                wire.send(&bhs, &[], buf.get(..n).unwrap_or(&[]))?;
            }
            let inb = wire.recv()?;
            match login.handle_response(&inb.bhs, &inb.data) {
                Ok(Progress::Transmit) => {}
                Ok(Progress::Done(done)) => return Ok((wire, done)),
                Err(e) => {
                    wire.shutdown();
                    return Err(login_error(e));
                }
            }
        }
    }
}

/// Logs in the leading connection (CID 0) of a new Normal session.
pub fn login_leading(spec: &LoginSpec) -> Result<(Session, Connection, LoginInfo), DiagError> {
    login_new_session(spec, LoginKind::Leading)
}

/// Logs in a Discovery session.
pub fn login_discovery(spec: &LoginSpec) -> Result<(Session, Connection, LoginInfo), DiagError> {
    login_new_session(spec, LoginKind::Discovery)
}

fn login_new_session(
    spec: &LoginSpec,
    kind: LoginKind,
) -> Result<(Session, Connection, LoginInfo), DiagError> {
    let isid = new_isid();
    let attempt = Attempt {
        spec,
        isid,
        cid: 0,
        itt: 0,
        cmd_sn: 1,
    };
    let (wire, done) = attempt.run(kind)?;
    let n = done.negotiated;
    let sess = Session::new(
        isid.to_bytes(),
        done.tsih,
        n.session,
        done.exp_cmd_sn,
        done.max_cmd_sn,
    );
    let conn = Connection::new(0, wire, done.exp_stat_sn, n.connection);
    let info = LoginInfo {
        tsih: done.tsih,
        params: n,
    };
    Ok((sess, conn, info))
}

/// Adds connection `cid` to `sess` (same ISID, the session's TSIH, no LO
/// keys).
pub fn login_additional(
    spec: &LoginSpec,
    sess: &mut Session,
    cid: u16,
) -> Result<(Connection, LoginInfo), DiagError> {
    let isid = Isid::from_bytes(sess.isid)
        .ok_or_else(|| DiagError::Protocol("session has a reserved-format ISID".into()))?;
    let itt = sess.begin_immediate(cid)?;
    let attempt = Attempt {
        spec,
        isid,
        cid,
        itt,
        cmd_sn: sess.cmd_sn(),
    };
    let r = attempt.run(LoginKind::AddConnection {
        tsih: sess.tsih,
        session: sess.params,
    });
    sess.end_task(itt);
    let (wire, done) = r?;
    sess.update_window(done.exp_cmd_sn, done.max_cmd_sn);
    let n = done.negotiated;
    let conn = Connection::new(cid, wire, done.exp_stat_sn, n.connection);
    Ok((
        conn,
        LoginInfo {
            tsih: done.tsih,
            params: n,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_failure_message() {
        let e = login_error(LoginError::Initiator(InitiatorError::AuthenticationFailure));
        assert_eq!(
            e.to_string(),
            "login failed: authentication failed (status 0x0201)"
        );
        assert_eq!(e.exit_code(), 24);
        let e = login_error(LoginError::Initiator(InitiatorError::TooManyConnections));
        assert_eq!(
            e.to_string(),
            "login failed: too many connections (status 0x0206)"
        );
        let e = login_error(LoginError::Redirect {
            permanent: true,
            detail: 2,
        });
        assert_eq!(
            e.to_string(),
            "login failed: target redirects the login elsewhere (status 0x0102) (redirection is not followed)"
        );
        // A failure this side found has no target status to show.
        let e = login_error(LoginError::AuthMethodRefused);
        assert_eq!(
            e.to_string(),
            "login failed: authentication failed: target refused the AuthMethod"
        );
    }

    #[test]
    fn isids_are_random_format() {
        assert_eq!(new_isid().to_bytes()[0] >> 6, 2);
    }
}
