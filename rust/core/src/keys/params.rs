// SPDX-License-Identifier: GPL-2.0
//! What the initiator wants ([`InitiatorParams`]) and what the login agreed
//! ([`NegotiatedParams`]), split into the session-wide and per-connection
//! parts RFC 7143 §13 assigns each key to.

use super::KeyId;

/// A digest a connection may use (RFC 7143 §13.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestType {
    /// No digest.
    None,
    /// CRC32C (the `crc32c` module).
    Crc32c,
}

impl DigestType {
    /// Wire spelling.
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            DigestType::None => b"None",
            DigestType::Crc32c => b"CRC32C",
        }
    }

    /// Parses one list item.
    pub fn parse(v: &[u8]) -> Option<DigestType> {
        match v {
            b"None" => Some(DigestType::None),
            b"CRC32C" => Some(DigestType::Crc32c),
            _ => None,
        }
    }
}

/// Which digests the initiator offers, in preference order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestPref {
    /// Offer `None` only (the RFC default).
    NoneOnly,
    /// Offer `CRC32C` only: the login fails if the target refuses.
    Crc32cOnly,
    /// Offer `CRC32C,None`.
    PreferCrc32c,
    /// Offer `None,CRC32C`.
    PreferNone,
}

impl DigestPref {
    /// The offered values, most preferred first.
    pub const fn choices(self) -> &'static [DigestType] {
        match self {
            DigestPref::NoneOnly => &[DigestType::None],
            DigestPref::Crc32cOnly => &[DigestType::Crc32c],
            DigestPref::PreferCrc32c => &[DigestType::Crc32c, DigestType::None],
            DigestPref::PreferNone => &[DigestType::None, DigestType::Crc32c],
        }
    }

    /// The offer as a list value.
    pub const fn offer(self) -> &'static [u8] {
        match self {
            DigestPref::NoneOnly => b"None",
            DigestPref::Crc32cOnly => b"CRC32C",
            DigestPref::PreferCrc32c => b"CRC32C,None",
            DigestPref::PreferNone => b"None,CRC32C",
        }
    }
}

/// Session type (RFC 7143 §13.21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionType {
    /// A session for SCSI I/O.
    Normal,
    /// A session for SendTargets only.
    Discovery,
}

impl SessionType {
    /// Wire spelling.
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            SessionType::Normal => b"Normal",
            SessionType::Discovery => b"Discovery",
        }
    }
}

/// Why [`InitiatorParams`] cannot be offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamsError {
    /// This key's value lies outside its RFC 7143 §13 range.
    OutOfRange(KeyId),
    /// FirstBurstLength exceeds MaxBurstLength (RFC 7143 §13.14).
    FirstBurstAboveMaxBurst,
}

/// The operational values the initiator offers. `Default` gives the RFC
/// 7143 §13 defaults, which are also what a login that never mentions a
/// key ends up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitiatorParams {
    /// HeaderDigest offer (§13.1).
    pub header_digest: DigestPref,
    /// DataDigest offer (§13.1).
    pub data_digest: DigestPref,
    /// MaxConnections (§13.2), 1..=65535.
    pub max_connections: u16,
    /// InitialR2T (§13.10).
    pub initial_r2t: bool,
    /// ImmediateData (§13.11).
    pub immediate_data: bool,
    /// Our MaxRecvDataSegmentLength declaration (§13.12), 512..=2^24-1.
    pub max_recv_data_segment_length: u32,
    /// MaxBurstLength (§13.13), 512..=2^24-1.
    pub max_burst_length: u32,
    /// FirstBurstLength (§13.14), 512..=MaxBurstLength.
    pub first_burst_length: u32,
    /// DefaultTime2Wait in seconds (§13.15), 0..=3600.
    pub default_time2wait: u16,
    /// DefaultTime2Retain in seconds (§13.16), 0..=3600.
    pub default_time2retain: u16,
    /// MaxOutstandingR2T (§13.17), 1..=65535.
    pub max_outstanding_r2t: u16,
    /// DataPDUInOrder (§13.18).
    pub data_pdu_in_order: bool,
    /// DataSequenceInOrder (§13.19).
    pub data_sequence_in_order: bool,
    /// ErrorRecoveryLevel (§13.20), 0..=2.
    pub error_recovery_level: u8,
}

impl Default for InitiatorParams {
    fn default() -> Self {
        InitiatorParams {
            header_digest: DigestPref::NoneOnly,
            data_digest: DigestPref::NoneOnly,
            max_connections: 1,
            initial_r2t: true,
            immediate_data: true,
            max_recv_data_segment_length: 8192,
            max_burst_length: 262_144,
            first_burst_length: 65_536,
            default_time2wait: 2,
            default_time2retain: 20,
            max_outstanding_r2t: 1,
            data_pdu_in_order: true,
            data_sequence_in_order: true,
            error_recovery_level: 0,
        }
    }
}

impl InitiatorParams {
    /// The numeric value we hold for a numerical or declarative key.
    pub fn number(&self, id: KeyId) -> Option<u64> {
        Some(match id {
            KeyId::MaxConnections => u64::from(self.max_connections),
            KeyId::MaxRecvDataSegmentLength => u64::from(self.max_recv_data_segment_length),
            KeyId::MaxBurstLength => u64::from(self.max_burst_length),
            KeyId::FirstBurstLength => u64::from(self.first_burst_length),
            KeyId::DefaultTime2Wait => u64::from(self.default_time2wait),
            KeyId::DefaultTime2Retain => u64::from(self.default_time2retain),
            KeyId::MaxOutstandingR2T => u64::from(self.max_outstanding_r2t),
            KeyId::ErrorRecoveryLevel => u64::from(self.error_recovery_level),
            // RFC 7143 is protocol level 1 (RFC 7144 §2); we speak nothing newer.
            KeyId::IscsiProtocolLevel => 1,
            _ => return None,
        })
    }

    /// The boolean value we hold for a boolean key.
    pub fn boolean(&self, id: KeyId) -> Option<bool> {
        Some(match id {
            KeyId::InitialR2T => self.initial_r2t,
            KeyId::ImmediateData => self.immediate_data,
            KeyId::DataPDUInOrder => self.data_pdu_in_order,
            KeyId::DataSequenceInOrder => self.data_sequence_in_order,
            // Markers were removed by RFC 7143; we never want them.
            KeyId::OFMarker | KeyId::IFMarker => false,
            _ => return None,
        })
    }

    /// Checks every value against its RFC 7143 §13 range.
    pub fn validate(&self) -> Result<(), ParamsError> {
        for id in [
            KeyId::MaxConnections,
            KeyId::MaxRecvDataSegmentLength,
            KeyId::MaxBurstLength,
            KeyId::FirstBurstLength,
            KeyId::DefaultTime2Wait,
            KeyId::DefaultTime2Retain,
            KeyId::MaxOutstandingR2T,
            KeyId::ErrorRecoveryLevel,
        ] {
            let v = self.number(id).unwrap_or(0);
            if !super::rules::in_range(id.def(), v) {
                return Err(ParamsError::OutOfRange(id));
            }
        }
        if self.first_burst_length > self.max_burst_length {
            return Err(ParamsError::FirstBurstAboveMaxBurst);
        }
        Ok(())
    }
}

/// Longest TargetAlias kept (a UTF-8 string of up to 255 bytes, §13.6 and
/// the §6.1 value limit).
pub const MAX_ALIAS_LEN: usize = 255;

/// A TargetAlias, stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alias {
    bytes: [u8; MAX_ALIAS_LEN],
    len: u8,
}

impl Default for Alias {
    fn default() -> Self {
        Alias {
            bytes: [0; MAX_ALIAS_LEN],
            len: 0,
        }
    }
}

impl Alias {
    /// Copies `v`, truncated to [`MAX_ALIAS_LEN`] bytes.
    pub fn new(v: &[u8]) -> Self {
        let mut a = Alias::default();
        let n = v.len().min(MAX_ALIAS_LEN);
        if let (Some(dst), Some(src)) = (a.bytes.get_mut(..n), v.get(..n)) {
            dst.copy_from_slice(src);
        }
        a.len = n as u8;
        a
    }

    /// The alias bytes (empty if the target sent none).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// Session-wide results (the SW keys of RFC 7143 §13), fixed by the
/// leading connection and shared by every connection of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionParams {
    /// Normal or Discovery.
    pub session_type: SessionType,
    /// MaxConnections (§13.2).
    pub max_connections: u16,
    /// InitialR2T (§13.10).
    pub initial_r2t: bool,
    /// ImmediateData (§13.11).
    pub immediate_data: bool,
    /// MaxBurstLength (§13.13).
    pub max_burst_length: u32,
    /// FirstBurstLength (§13.14), never above `max_burst_length`.
    pub first_burst_length: u32,
    /// DefaultTime2Wait in seconds (§13.15).
    pub default_time2wait: u16,
    /// DefaultTime2Retain in seconds (§13.16).
    pub default_time2retain: u16,
    /// MaxOutstandingR2T (§13.17).
    pub max_outstanding_r2t: u16,
    /// DataPDUInOrder (§13.18).
    pub data_pdu_in_order: bool,
    /// DataSequenceInOrder (§13.19).
    pub data_sequence_in_order: bool,
    /// ErrorRecoveryLevel (§13.20).
    pub error_recovery_level: u8,
    /// TargetPortalGroupTag the target reported (§13.9).
    pub target_portal_group_tag: Option<u16>,
    /// TargetAlias the target reported (§13.6).
    pub target_alias: Alias,
}

impl SessionParams {
    /// The RFC 7143 §13 defaults for a session of `session_type`.
    pub fn rfc_defaults(session_type: SessionType) -> Self {
        SessionParams {
            session_type,
            max_connections: 1,
            initial_r2t: true,
            immediate_data: true,
            max_burst_length: 262_144,
            first_burst_length: 65_536,
            default_time2wait: 2,
            default_time2retain: 20,
            max_outstanding_r2t: 1,
            data_pdu_in_order: true,
            data_sequence_in_order: true,
            error_recovery_level: 0,
            target_portal_group_tag: None,
            target_alias: Alias::default(),
        }
    }

    /// The agreed value of a numerical session-wide key, `None` for keys
    /// this struct does not hold.
    pub fn number(&self, id: KeyId) -> Option<u64> {
        Some(match id {
            KeyId::MaxConnections => u64::from(self.max_connections),
            KeyId::MaxBurstLength => u64::from(self.max_burst_length),
            KeyId::FirstBurstLength => u64::from(self.first_burst_length),
            KeyId::DefaultTime2Wait => u64::from(self.default_time2wait),
            KeyId::DefaultTime2Retain => u64::from(self.default_time2retain),
            KeyId::MaxOutstandingR2T => u64::from(self.max_outstanding_r2t),
            KeyId::ErrorRecoveryLevel => u64::from(self.error_recovery_level),
            _ => return None,
        })
    }

    /// The agreed value of a boolean session-wide key, `None` for keys this
    /// struct does not hold.
    pub fn boolean(&self, id: KeyId) -> Option<bool> {
        Some(match id {
            KeyId::InitialR2T => self.initial_r2t,
            KeyId::ImmediateData => self.immediate_data,
            KeyId::DataPDUInOrder => self.data_pdu_in_order,
            KeyId::DataSequenceInOrder => self.data_sequence_in_order,
            _ => return None,
        })
    }
}

/// Per-connection results (the CO keys of RFC 7143 §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionParams {
    /// HeaderDigest in force on this connection (§13.1).
    pub header_digest: DigestType,
    /// DataDigest in force on this connection (§13.1).
    pub data_digest: DigestType,
    /// The largest data segment the target may send us: what we declared
    /// (§13.12).
    pub max_recv_data_segment_length: u32,
    /// The largest data segment we may send: the target's declaration
    /// (its MaxRecvDataSegmentLength; 8192 if it declared none).
    pub max_xmit_data_segment_length: u32,
}

impl Default for ConnectionParams {
    fn default() -> Self {
        ConnectionParams {
            header_digest: DigestType::None,
            data_digest: DigestType::None,
            max_recv_data_segment_length: 8192,
            max_xmit_data_segment_length: 8192,
        }
    }
}

/// Everything a login agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiatedParams {
    /// Session-wide part (copied from the leading connection on added
    /// connections).
    pub session: SessionParams,
    /// This connection's part.
    pub connection: ConnectionParams,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_table() {
        let p = InitiatorParams::default();
        assert_eq!(p.validate(), Ok(()));
        for id in [
            KeyId::MaxBurstLength,
            KeyId::DefaultTime2Retain,
            KeyId::MaxConnections,
        ] {
            assert_eq!(
                id.def().default,
                crate::keys::KeyDefault::Number(p.number(id).unwrap())
            );
        }
        assert_eq!(
            KeyId::InitialR2T.def().default,
            crate::keys::KeyDefault::Bool(p.initial_r2t)
        );
    }

    #[test]
    fn validate_catches_bad_values() {
        let p = InitiatorParams {
            error_recovery_level: 3,
            ..InitiatorParams::default()
        };
        assert_eq!(
            p.validate(),
            Err(ParamsError::OutOfRange(KeyId::ErrorRecoveryLevel))
        );
        let p = InitiatorParams {
            first_burst_length: 300_000,
            ..InitiatorParams::default()
        };
        assert_eq!(p.validate(), Err(ParamsError::FirstBurstAboveMaxBurst));
        let p = InitiatorParams {
            max_recv_data_segment_length: 511,
            ..InitiatorParams::default()
        };
        assert!(p.validate().is_err());
    }

    #[test]
    fn alias_truncates() {
        assert_eq!(Alias::new(b"lio").as_bytes(), b"lio");
        assert_eq!(Alias::new(&[b'x'; 300]).as_bytes().len(), MAX_ALIAS_LEN);
    }
}
