// SPDX-License-Identifier: GPL-2.0
//! The login and text keys of RFC 7143 §13 (operational) and §12 (security),
//! with their negotiation type, use, scope, range and default, plus the
//! initiator-side negotiation engine ([`negotiate::Negotiator`]).
//!
//! One table ([`KEYS`]) holds every key name, so the wire spelling of a key
//! appears exactly once in the crate.

pub mod negotiate;
pub mod params;
pub mod rules;

/// How the two sides' values combine (RFC 7143 §6.2.1 - §6.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// The offerer lists values in preference order; the responder picks one.
    List,
    /// Result is the AND of both booleans.
    BooleanAnd,
    /// Result is the OR of both booleans.
    BooleanOr,
    /// Result is the smaller number.
    NumericalMin,
    /// Result is the larger number.
    NumericalMax,
    /// Each side states its own value; nothing is negotiated.
    Declarative,
}

/// When a key may be sent (the "Use" line of each RFC 7143 §13 entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// LO: only on the leading connection's login.
    LeadingOnly,
    /// IO: only during login.
    InitializeOnly,
    /// ALL: in login and in Full Feature Phase Text requests.
    All,
    /// FFPO: only in Full Feature Phase (Text requests).
    FullFeatureOnly,
    /// IO when the initiator sends it, FFPO when the target does
    /// (TargetName, §13.4).
    InitializeOrFullFeature,
}

/// Whether a negotiated value holds for the session or one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// SW: session-wide.
    Session,
    /// CO: connection-only.
    Connection,
}

/// Which login stage a key belongs to (RFC 7143 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Security negotiation keys (§12): AuthMethod and the CHAP keys.
    Security,
    /// Operational keys (§13).
    Operational,
    /// Keys that identify the nexus and may appear in either stage.
    Any,
}

/// A key's RFC 7143 default, when it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDefault {
    /// No default: the key must be sent or is informational.
    None,
    /// A numeric default.
    Number(u64),
    /// A boolean default.
    Bool(bool),
    /// A string default (list keys and SessionType).
    Text(&'static [u8]),
}

/// Every key this crate knows, in [`KEYS`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    non_camel_case_types,
    reason = "CHAP key names as spelled in RFC 7143 §12.1.3"
)]
pub enum KeyId {
    /// HeaderDigest (§13.1).
    HeaderDigest,
    /// DataDigest (§13.1).
    DataDigest,
    /// MaxConnections (§13.2).
    MaxConnections,
    /// SendTargets (§13.3).
    SendTargets,
    /// TargetName (§13.4).
    TargetName,
    /// InitiatorName (§13.5).
    InitiatorName,
    /// TargetAlias (§13.6).
    TargetAlias,
    /// InitiatorAlias (§13.7).
    InitiatorAlias,
    /// TargetAddress (§13.8).
    TargetAddress,
    /// TargetPortalGroupTag (§13.9).
    TargetPortalGroupTag,
    /// InitialR2T (§13.10).
    InitialR2T,
    /// ImmediateData (§13.11).
    ImmediateData,
    /// MaxRecvDataSegmentLength (§13.12).
    MaxRecvDataSegmentLength,
    /// MaxBurstLength (§13.13).
    MaxBurstLength,
    /// FirstBurstLength (§13.14).
    FirstBurstLength,
    /// DefaultTime2Wait (§13.15).
    DefaultTime2Wait,
    /// DefaultTime2Retain (§13.16).
    DefaultTime2Retain,
    /// MaxOutstandingR2T (§13.17).
    MaxOutstandingR2T,
    /// DataPDUInOrder (§13.18).
    DataPDUInOrder,
    /// DataSequenceInOrder (§13.19).
    DataSequenceInOrder,
    /// ErrorRecoveryLevel (§13.20).
    ErrorRecoveryLevel,
    /// SessionType (§13.21).
    SessionType,
    /// TaskReporter (§13.23).
    TaskReporter,
    /// iSCSIProtocolLevel (§13.24).
    IscsiProtocolLevel,
    /// OFMarker, obsolete (§13.25).
    OFMarker,
    /// IFMarker, obsolete (§13.25).
    IFMarker,
    /// OFMarkInt, obsolete (§13.25).
    OFMarkInt,
    /// IFMarkInt, obsolete (§13.25).
    IFMarkInt,
    /// AuthMethod (§12.1).
    AuthMethod,
    /// CHAP_A: digest algorithms (§12.1.3).
    CHAP_A,
    /// CHAP_I: identifier (§12.1.3).
    CHAP_I,
    /// CHAP_C: challenge (§12.1.3).
    CHAP_C,
    /// CHAP_N: name (§12.1.3).
    CHAP_N,
    /// CHAP_R: response (§12.1.3).
    CHAP_R,
}

/// Everything RFC 7143 says about one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDef {
    /// Which key.
    pub id: KeyId,
    /// Wire spelling.
    pub name: &'static [u8],
    /// Negotiation type.
    pub kind: KeyType,
    /// When it may be sent.
    pub usage: KeyUse,
    /// Session-wide or per connection.
    pub scope: Scope,
    /// Login stage it belongs to.
    pub stage: Stage,
    /// Smallest legal numeric value (numeric keys only).
    pub min: u64,
    /// Largest legal numeric value (numeric keys only).
    pub max: u64,
    /// RFC default.
    pub default: KeyDefault,
    /// Whether the key means anything in a Discovery session (RFC 7143
    /// §13: "Irrelevant when SessionType=Discovery").
    pub discovery: bool,
}

#[expect(
    clippy::too_many_arguments,
    reason = "one argument per column of the RFC 7143 §13 key table"
)]
const fn key(
    id: KeyId,
    name: &'static [u8],
    kind: KeyType,
    usage: KeyUse,
    scope: Scope,
    stage: Stage,
    range: (u64, u64),
    default: KeyDefault,
    discovery: bool,
) -> KeyDef {
    KeyDef {
        id,
        name,
        kind,
        usage,
        scope,
        stage,
        min: range.0,
        max: range.1,
        default,
        discovery,
    }
}

/// 2^24 - 1, the upper bound of the data length keys (RFC 7143 §13.12-14).
pub const MAX_DATA_LEN: u64 = 16_777_215;

use KeyDefault as D;
use KeyType as T;
use KeyUse as U;
use Scope as S;
use Stage as G;

const NO_RANGE: (u64, u64) = (0, 0);

/// The key table: RFC 7143 §12.1 (AuthMethod, CHAP) and §13.1 - §13.24,
/// plus the marker keys RFC 3720 defined and RFC 7143 §13.25 obsoleted
/// (still listed so an offer of them gets a sensible answer).
#[rustfmt::skip]
pub static KEYS: [KeyDef; 34] = [
    key(KeyId::HeaderDigest, b"HeaderDigest", T::List, U::InitializeOnly, S::Connection, G::Operational, NO_RANGE, D::Text(b"None"), true),
    key(KeyId::DataDigest, b"DataDigest", T::List, U::InitializeOnly, S::Connection, G::Operational, NO_RANGE, D::Text(b"None"), true),
    key(KeyId::MaxConnections, b"MaxConnections", T::NumericalMin, U::LeadingOnly, S::Session, G::Operational, (1, 65_535), D::Number(1), false),
    key(KeyId::SendTargets, b"SendTargets", T::Declarative, U::FullFeatureOnly, S::Session, G::Operational, NO_RANGE, D::None, true),
    key(KeyId::TargetName, b"TargetName", T::Declarative, U::InitializeOrFullFeature, S::Session, G::Any, NO_RANGE, D::None, true),
    key(KeyId::InitiatorName, b"InitiatorName", T::Declarative, U::InitializeOnly, S::Session, G::Any, NO_RANGE, D::None, true),
    key(KeyId::TargetAlias, b"TargetAlias", T::Declarative, U::All, S::Session, G::Any, NO_RANGE, D::None, true),
    key(KeyId::InitiatorAlias, b"InitiatorAlias", T::Declarative, U::All, S::Session, G::Any, NO_RANGE, D::None, true),
    key(KeyId::TargetAddress, b"TargetAddress", T::Declarative, U::All, S::Session, G::Any, NO_RANGE, D::None, true),
    key(KeyId::TargetPortalGroupTag, b"TargetPortalGroupTag", T::Declarative, U::InitializeOnly, S::Session, G::Any, (0, 65_535), D::None, true),
    key(KeyId::InitialR2T, b"InitialR2T", T::BooleanOr, U::LeadingOnly, S::Session, G::Operational, NO_RANGE, D::Bool(true), false),
    key(KeyId::ImmediateData, b"ImmediateData", T::BooleanAnd, U::LeadingOnly, S::Session, G::Operational, NO_RANGE, D::Bool(true), false),
    key(KeyId::MaxRecvDataSegmentLength, b"MaxRecvDataSegmentLength", T::Declarative, U::All, S::Connection, G::Operational, (512, MAX_DATA_LEN), D::Number(8192), true),
    key(KeyId::MaxBurstLength, b"MaxBurstLength", T::NumericalMin, U::LeadingOnly, S::Session, G::Operational, (512, MAX_DATA_LEN), D::Number(262_144), false),
    key(KeyId::FirstBurstLength, b"FirstBurstLength", T::NumericalMin, U::LeadingOnly, S::Session, G::Operational, (512, MAX_DATA_LEN), D::Number(65_536), false),
    key(KeyId::DefaultTime2Wait, b"DefaultTime2Wait", T::NumericalMax, U::LeadingOnly, S::Session, G::Operational, (0, 3600), D::Number(2), false),
    key(KeyId::DefaultTime2Retain, b"DefaultTime2Retain", T::NumericalMin, U::LeadingOnly, S::Session, G::Operational, (0, 3600), D::Number(20), false),
    key(KeyId::MaxOutstandingR2T, b"MaxOutstandingR2T", T::NumericalMin, U::LeadingOnly, S::Session, G::Operational, (1, 65_535), D::Number(1), false),
    key(KeyId::DataPDUInOrder, b"DataPDUInOrder", T::BooleanOr, U::LeadingOnly, S::Session, G::Operational, NO_RANGE, D::Bool(true), false),
    key(KeyId::DataSequenceInOrder, b"DataSequenceInOrder", T::BooleanOr, U::LeadingOnly, S::Session, G::Operational, NO_RANGE, D::Bool(true), false),
    key(KeyId::ErrorRecoveryLevel, b"ErrorRecoveryLevel", T::NumericalMin, U::LeadingOnly, S::Session, G::Operational, (0, 2), D::Number(0), true),
    key(KeyId::SessionType, b"SessionType", T::Declarative, U::LeadingOnly, S::Session, G::Any, NO_RANGE, D::Text(b"Normal"), true),
    key(KeyId::TaskReporter, b"TaskReporter", T::List, U::LeadingOnly, S::Session, G::Operational, NO_RANGE, D::Text(b"RFC3720"), false),
    key(KeyId::IscsiProtocolLevel, b"iSCSIProtocolLevel", T::NumericalMin, U::LeadingOnly, S::Session, G::Operational, (0, 31), D::Number(1), true),
    key(KeyId::OFMarker, b"OFMarker", T::BooleanAnd, U::InitializeOnly, S::Connection, G::Operational, NO_RANGE, D::Bool(false), true),
    key(KeyId::IFMarker, b"IFMarker", T::BooleanAnd, U::InitializeOnly, S::Connection, G::Operational, NO_RANGE, D::Bool(false), true),
    key(KeyId::OFMarkInt, b"OFMarkInt", T::NumericalMin, U::InitializeOnly, S::Connection, G::Operational, (1, 65_535), D::Number(2048), true),
    key(KeyId::IFMarkInt, b"IFMarkInt", T::NumericalMin, U::InitializeOnly, S::Connection, G::Operational, (1, 65_535), D::Number(2048), true),
    key(KeyId::AuthMethod, b"AuthMethod", T::List, U::InitializeOnly, S::Connection, G::Security, NO_RANGE, D::Text(b"None"), true),
    key(KeyId::CHAP_A, b"CHAP_A", T::List, U::InitializeOnly, S::Connection, G::Security, NO_RANGE, D::None, true),
    key(KeyId::CHAP_I, b"CHAP_I", T::Declarative, U::InitializeOnly, S::Connection, G::Security, (0, 255), D::None, true),
    key(KeyId::CHAP_C, b"CHAP_C", T::Declarative, U::InitializeOnly, S::Connection, G::Security, NO_RANGE, D::None, true),
    key(KeyId::CHAP_N, b"CHAP_N", T::Declarative, U::InitializeOnly, S::Connection, G::Security, NO_RANGE, D::None, true),
    key(KeyId::CHAP_R, b"CHAP_R", T::Declarative, U::InitializeOnly, S::Connection, G::Security, NO_RANGE, D::None, true),
];

impl KeyId {
    /// Position of this key in [`KEYS`] (also its bit in key sets).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The table entry for this key.
    pub fn def(self) -> &'static KeyDef {
        // KEYS is indexed by KeyId; `tests::table_is_indexed_by_id` checks it.
        KEYS.get(self.index()).unwrap_or(&KEYS[0])
    }

    /// Wire spelling.
    pub fn name(self) -> &'static [u8] {
        self.def().name
    }
}

/// Finds a key by its wire name (case-sensitive, RFC 7143 §6.1).
pub fn lookup(name: &[u8]) -> Option<&'static KeyDef> {
    KEYS.iter().find(|k| k.name == name)
}

/// The three answers that are not values (RFC 7143 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// The offered value is out of range or not allowed.
    Reject,
    /// The key has no effect in this context.
    Irrelevant,
    /// The key is unknown to the responder.
    NotUnderstood,
}

impl Special {
    /// Recognises a special answer value.
    pub fn parse(v: &[u8]) -> Option<Special> {
        match v {
            b"Reject" => Some(Special::Reject),
            b"Irrelevant" => Some(Special::Irrelevant),
            b"NotUnderstood" => Some(Special::NotUnderstood),
            _ => None,
        }
    }

    /// Wire spelling.
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            Special::Reject => b"Reject",
            Special::Irrelevant => b"Irrelevant",
            Special::NotUnderstood => b"NotUnderstood",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_id() {
        for (i, k) in KEYS.iter().enumerate() {
            assert_eq!(k.id.index(), i, "{:?}", k.id);
            assert_eq!(k.id.def().name, k.name);
            assert_eq!(lookup(k.name).map(|d| d.id), Some(k.id));
            assert!(crate::text::check_key(k.name).is_ok());
        }
    }

    #[test]
    fn rfc7143_facts() {
        let mc = KeyId::MaxConnections.def();
        assert_eq!(
            (mc.kind, mc.usage, mc.min, mc.max),
            (KeyType::NumericalMin, KeyUse::LeadingOnly, 1, 65_535)
        );
        assert_eq!(mc.default, KeyDefault::Number(1));
        assert_eq!(KeyId::DefaultTime2Wait.def().kind, KeyType::NumericalMax);
        assert_eq!(KeyId::InitialR2T.def().kind, KeyType::BooleanOr);
        assert_eq!(KeyId::ImmediateData.def().kind, KeyType::BooleanAnd);
        assert_eq!(
            KeyId::MaxRecvDataSegmentLength.def().scope,
            Scope::Connection
        );
        assert_eq!(
            KeyId::MaxBurstLength.def().default,
            KeyDefault::Number(262_144)
        );
        assert_eq!(
            KeyId::FirstBurstLength.def().default,
            KeyDefault::Number(65_536)
        );
        assert_eq!(KeyId::ErrorRecoveryLevel.def().max, 2);
        assert_eq!(KeyId::IscsiProtocolLevel.name(), b"iSCSIProtocolLevel");
        assert!(lookup(b"maxconnections").is_none());
        assert_eq!(
            Special::parse(b"NotUnderstood"),
            Some(Special::NotUnderstood)
        );
        assert_eq!(Special::parse(b"Reject,"), None);
    }
}
