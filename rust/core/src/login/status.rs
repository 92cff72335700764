// SPDX-License-Identifier: GPL-2.0
//! Login response Status-Class and Status-Detail (RFC 7143 §11.13.5)
//! mapped to outcomes the caller can act on.

use super::super::discovery::{DiscoveryError, Portal};

/// Status-Class 2: the initiator did something wrong; retrying unchanged is
/// pointless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitiatorError {
    /// 0x0200: unspecified.
    Other,
    /// 0x0201: authentication failed (wrong CHAP secret or name).
    AuthenticationFailure,
    /// 0x0202: authenticated but not allowed to reach this target.
    AuthorizationFailure,
    /// 0x0203: no such target.
    NotFound,
    /// 0x0204: the target was removed.
    TargetRemoved,
    /// 0x0205: no common iSCSI version.
    UnsupportedVersion,
    /// 0x0206: the session already has MaxConnections connections.
    TooManyConnections,
    /// 0x0207: a required key (e.g. InitiatorName) was missing.
    MissingParameter,
    /// 0x0208: the connection cannot join this session.
    CantIncludeInSession,
    /// 0x0209: session type not supported.
    SessionTypeNotSupported,
    /// 0x020a: the TSIH names no existing session.
    SessionDoesNotExist,
    /// 0x020b: a request not allowed during login.
    InvalidDuringLogin,
    /// A detail RFC 7143 does not define.
    Unknown(u8),
}

impl InitiatorError {
    /// Maps a class-2 Status-Detail.
    pub const fn from_detail(d: u8) -> Self {
        match d {
            0x00 => Self::Other,
            0x01 => Self::AuthenticationFailure,
            0x02 => Self::AuthorizationFailure,
            0x03 => Self::NotFound,
            0x04 => Self::TargetRemoved,
            0x05 => Self::UnsupportedVersion,
            0x06 => Self::TooManyConnections,
            0x07 => Self::MissingParameter,
            0x08 => Self::CantIncludeInSession,
            0x09 => Self::SessionTypeNotSupported,
            0x0a => Self::SessionDoesNotExist,
            0x0b => Self::InvalidDuringLogin,
            d => Self::Unknown(d),
        }
    }

    /// The Status-Detail this error came from (the inverse of
    /// [`Self::from_detail`]).
    pub const fn detail(self) -> u8 {
        match self {
            Self::Other => 0x00,
            Self::AuthenticationFailure => 0x01,
            Self::AuthorizationFailure => 0x02,
            Self::NotFound => 0x03,
            Self::TargetRemoved => 0x04,
            Self::UnsupportedVersion => 0x05,
            Self::TooManyConnections => 0x06,
            Self::MissingParameter => 0x07,
            Self::CantIncludeInSession => 0x08,
            Self::SessionTypeNotSupported => 0x09,
            Self::SessionDoesNotExist => 0x0a,
            Self::InvalidDuringLogin => 0x0b,
            Self::Unknown(d) => d,
        }
    }
}

/// Status-Class 3: the target could not serve the login now; a later retry
/// may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetError {
    /// 0x0300: unspecified target error.
    Other,
    /// 0x0301: service temporarily unavailable.
    ServiceUnavailable,
    /// 0x0302: out of resources.
    OutOfResources,
    /// A detail RFC 7143 does not define.
    Unknown(u8),
}

impl TargetError {
    /// Maps a class-3 Status-Detail.
    pub const fn from_detail(d: u8) -> Self {
        match d {
            0x00 => Self::Other,
            0x01 => Self::ServiceUnavailable,
            0x02 => Self::OutOfResources,
            d => Self::Unknown(d),
        }
    }

    /// The Status-Detail this error came from (the inverse of
    /// [`Self::from_detail`]).
    pub const fn detail(self) -> u8 {
        match self {
            Self::Other => 0x00,
            Self::ServiceUnavailable => 0x01,
            Self::OutOfResources => 0x02,
            Self::Unknown(d) => d,
        }
    }
}

/// Longest host kept from a redirection's TargetAddress.
pub const MAX_HOST_LEN: usize = 255;

/// Where a Status-Class 1 response sends us (RFC 7143 §11.13.5: the
/// TargetAddress key of the response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redirect {
    /// 0x0102 (moved permanently) rather than 0x0101 (temporarily).
    pub permanent: bool,
    host: [u8; MAX_HOST_LEN],
    host_len: u8,
    /// TCP port.
    pub port: u16,
    /// Portal group tag, if the target gave one.
    pub tpgt: Option<u16>,
}

impl Redirect {
    /// Copies a parsed portal.
    pub fn new(permanent: bool, p: &Portal<'_>) -> Result<Self, DiscoveryError> {
        let mut host = [0u8; MAX_HOST_LEN];
        let dst = host
            .get_mut(..p.host.len())
            .ok_or(DiscoveryError::BadAddress)?;
        dst.copy_from_slice(p.host);
        Ok(Redirect {
            permanent,
            host,
            host_len: p.host.len() as u8,
            port: p.port,
            tpgt: p.tpgt,
        })
    }

    /// The host to connect to (IPv6 literals without brackets).
    pub fn host(&self) -> &[u8] {
        self.host.get(..usize::from(self.host_len)).unwrap_or(&[])
    }

    /// The redirect target as a borrowed [`Portal`].
    pub fn portal(&self) -> Portal<'_> {
        Portal {
            host: self.host(),
            port: self.port,
            tpgt: self.tpgt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_map() {
        assert_eq!(
            InitiatorError::from_detail(0x01),
            InitiatorError::AuthenticationFailure
        );
        assert_eq!(
            InitiatorError::from_detail(0x02),
            InitiatorError::AuthorizationFailure
        );
        assert_eq!(
            InitiatorError::from_detail(0x06),
            InitiatorError::TooManyConnections
        );
        assert_eq!(
            InitiatorError::from_detail(0x0a),
            InitiatorError::SessionDoesNotExist
        );
        assert_eq!(
            InitiatorError::from_detail(0x42),
            InitiatorError::Unknown(0x42)
        );
        assert_eq!(
            TargetError::from_detail(0x01),
            TargetError::ServiceUnavailable
        );
    }

    #[test]
    fn details_round_trip() {
        for d in 0..=u8::MAX {
            assert_eq!(InitiatorError::from_detail(d).detail(), d);
            assert_eq!(TargetError::from_detail(d).detail(), d);
        }
    }

    #[test]
    fn redirect_copies_portal() {
        let p = Portal::parse(b"[fd00::2]:3261,3").unwrap();
        let r = Redirect::new(true, &p).unwrap();
        assert_eq!(r.portal(), p);
        assert!(r.permanent);
    }
}
