// SPDX-License-Identifier: GPL-2.0

//! The rsiscsi generic netlink ABI, defined once.
//!
//! The kernel module compiles this file in as its submodule `abi` (see
//! `rust/module/rsiscsi_main.rs`) and builds its attribute policies from
//! [`CREATE_POLICY`] and friends; `rsiscsiadm` uses it as an ordinary crate.
//! Nothing here may refer to `crate::`: the file must resolve both ways.
//!
//! Versioning rules (Documentation/abi.rst): numbers are never reused or
//! renumbered; new commands and attributes are appended; a change that an
//! old tool would misread bumps [`VERSION`].

// The kernel build makes the module's crate root no_std; this file is then a
// submodule, where the attribute would be misplaced.
#![cfg_attr(not(MODULE), no_std)]

/// Generic netlink family name.
pub const FAMILY_NAME: &str = "rsiscsi";
/// Family version, carried in every message's genetlink header.
pub const VERSION: u8 = 2;
/// Name of the multicast group that carries [`Cmd::Event`] messages.
pub const MCGRP_EVENTS: &str = "events";

/// Default iSCSI TCP port (RFC 7143 §13.8.2 well-known port).
pub const DEFAULT_PORT: u16 = 3260;

/// Commands (the genetlink header's `cmd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Cmd {
    /// Create a session and log in its leading connection; replies with
    /// [`Attr::Sid`].
    SessionCreate = 1,
    /// Log out and remove the session [`Attr::Sid`].
    SessionDestroy = 2,
    /// Dump every session of the caller's network namespace (or only
    /// [`Attr::Sid`] when given).
    SessionGet = 3,
    /// Multicast notification (never a request).
    Event = 4,
    /// Log in one more connection of session [`Attr::Sid`] on the path
    /// given by the flat path attributes ([`PATH_POLICY`]); replies with
    /// [`Attr::Cid`].
    ConnAdd = 5,
    /// Log connection [`Attr::Cid`] of session [`Attr::Sid`] out (Logout
    /// reason 1) after its outstanding commands complete, and remove it.
    ConnRemove = 6,
    /// Change session [`Attr::Sid`]'s load-balancing [`Attr::Policy`]
    /// (and [`Attr::Failback`]) while I/O runs.
    SessionSet = 7,
    /// Change connection [`Attr::Cid`]'s [`Attr::Weight`] or
    /// [`Attr::Standby`] while I/O runs.
    ConnSet = 8,
}

impl Cmd {
    /// The command with number `v`.
    pub fn from_u8(v: u8) -> Option<Cmd> {
        Some(match v {
            1 => Cmd::SessionCreate,
            2 => Cmd::SessionDestroy,
            3 => Cmd::SessionGet,
            4 => Cmd::Event,
            5 => Cmd::ConnAdd,
            6 => Cmd::ConnRemove,
            7 => Cmd::SessionSet,
            8 => Cmd::ConnSet,
            _ => return None,
        })
    }
}

/// Wire type of an attribute's payload (all integers host-endian, as
/// netlink always is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// No payload.
    Flag,
    /// One byte.
    U8,
    /// Two bytes.
    U16,
    /// Four bytes.
    U32,
    /// Eight bytes (padded with [`Attr::Pad`] to 8-byte alignment).
    U64,
    /// NUL-terminated string of at most `max` bytes before the NUL.
    String {
        /// Longest accepted string, without the NUL.
        max: u16,
    },
    /// Opaque bytes, at most `max` of them.
    Binary {
        /// Longest accepted payload.
        max: u16,
    },
    /// Attributes nested inside (used in replies only).
    Nested,
    /// A list of nested entries (netlink's `NLA_NESTED_ARRAY`: entry types
    /// are their 1-based positions), each holding attributes of `policy`.
    NestedArray {
        /// The attributes an entry may hold.
        policy: &'static [Attr],
    },
}

/// Attributes. One flat numbering for every command; each command accepts
/// the subset listed in its policy and rejects the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Attr {
    /// Padding for 64-bit attributes.
    Pad = 1,
    /// u32: session id (local, per network namespace).
    Sid = 2,
    /// string: TargetName.
    TargetName = 3,
    /// string: InitiatorName.
    InitiatorName = 4,
    /// string: InitiatorAlias.
    InitiatorAlias = 5,
    /// binary, 4 or 16 bytes: the portal's IPv4 or IPv6 address (network order).
    PortalAddr = 6,
    /// u16: the portal's TCP port.
    PortalPort = 7,
    /// binary, 4 or 16 bytes: local source address to bind.
    SourceAddr = 8,
    /// string: network interface to bind to (SO_BINDTODEVICE).
    Iface = 9,
    /// string: CHAP user name (one-way CHAP).
    ChapUser = 10,
    /// binary: CHAP secret.
    ChapSecret = 11,
    /// string: the name the target must use in mutual CHAP.
    MutualUser = 12,
    /// binary: the target's secret for mutual CHAP.
    MutualSecret = 13,
    /// u8 [`Digest`]: HeaderDigest proposal; in replies the negotiated value.
    HeaderDigest = 14,
    /// u8 [`Digest`]: DataDigest proposal / negotiated value.
    DataDigest = 15,
    /// u8 (0/1): ImmediateData.
    ImmediateData = 16,
    /// u8 (0/1): InitialR2T.
    InitialR2t = 17,
    /// u32: MaxBurstLength.
    MaxBurstLength = 18,
    /// u32: FirstBurstLength.
    FirstBurstLength = 19,
    /// u32: MaxRecvDataSegmentLength (ours).
    MaxRecvDsl = 20,
    /// u8: ErrorRecoveryLevel.
    ErrorRecoveryLevel = 21,
    /// u16: MaxConnections.
    MaxConnections = 22,
    /// u32: seconds between NOP-Out pings on an idle connection (0: off).
    /// Superseded by [`Attr::NopIntervalMs`]; reported rounded up.
    NopInterval = 23,
    /// u32: seconds to wait for the NOP-In answer. Superseded by
    /// [`Attr::NopTimeoutMs`]; reported rounded up.
    NopTimeout = 24,
    /// u32: seconds I/O is held while the session recovers.
    ReplacementTimeout = 25,
    /// u16: TSIH.
    Tsih = 26,
    /// binary, 6 bytes: ISID.
    Isid = 27,
    /// u8 [`SessionState`].
    SessionState = 28,
    /// nested: one connection ([`Attr::Cid`], [`Attr::ConnState`],
    /// [`Attr::LocalAddr`], [`Attr::LocalPort`], [`Attr::PortalAddr`],
    /// [`Attr::PortalPort`], [`Attr::MaxXmitDsl`], [`Attr::MaxRecvDsl`],
    /// [`Attr::HeaderDigest`], [`Attr::DataDigest`]).
    Conn = 29,
    /// u16: CID.
    Cid = 30,
    /// u8 [`ConnState`].
    ConnState = 31,
    /// binary, 4 or 16 bytes: local address of a connection.
    LocalAddr = 32,
    /// u16: local port of a connection.
    LocalPort = 33,
    /// u16: target portal group tag.
    Tpgt = 34,
    /// u32: MaxXmitDataSegmentLength (the target's MaxRecvDataSegmentLength).
    MaxXmitDsl = 35,
    /// u16: MaxOutstandingR2T.
    MaxOutstandingR2t = 36,
    /// u64: SCSI commands issued.
    StatCmds = 37,
    /// u64: bytes sent.
    StatTxBytes = 38,
    /// u64: bytes received.
    StatRxBytes = 39,
    /// u32: commands outstanding now.
    StatOutstanding = 40,
    /// u64: commands completed with an error.
    StatErrors = 41,
    /// u8 [`EventKind`].
    Event = 42,
    /// string: why (events).
    Reason = 43,
    /// u16: DefaultTime2Wait.
    DefaultTime2Wait = 44,
    /// u16: DefaultTime2Retain.
    DefaultTime2Retain = 45,
    /// nested array: the connections to log in after the leading one, one
    /// entry per path, each with attributes of [`PATH_POLICY`].
    Paths = 46,
    /// u8 [`PolicyKind`]: the session's load-balancing policy.
    Policy = 47,
    /// u8 (0/1): fail-over-only returns to the preferred connection when it
    /// comes back.
    Failback = 48,
    /// u32: connection weight. Weighted paths: the lowest weight carries the
    /// I/O; fail-over-only: the preference order (lowest first).
    Weight = 49,
    /// u8 (0/1): the connection is in the standby set (round robin with
    /// subset uses it only while no active connection is usable).
    Standby = 50,
    /// u64: bytes of commands outstanding now.
    StatOutstandingBytes = 51,
    /// u32: moving average of command latency, microseconds.
    StatLatencyUs = 52,
    /// u32: milliseconds between NOP-Out pings on an idle connection (0:
    /// off); not together with [`Attr::NopInterval`].
    NopIntervalMs = 53,
    /// u32: milliseconds to wait for the NOP-In answer; not together with
    /// [`Attr::NopTimeout`].
    NopTimeoutMs = 54,
    /// u32: stall time, milliseconds: a connection with commands
    /// outstanding that receives nothing this long is pinged, and fails if
    /// the answer takes as long again (0: off).
    StallTimeoutMs = 55,
}

/// Highest attribute number.
pub const ATTR_MAX: u16 = Attr::StallTimeoutMs as u16;

/// Longest iSCSI name (RFC 7143 §4.2.7.1: 223 bytes).
pub const NAME_MAX: u16 = 223;
/// Longest CHAP name or secret accepted.
pub const CHAP_MAX: u16 = 255;
/// Longest interface name (IFNAMSIZ - 1).
pub const IFNAME_MAX: u16 = 15;

impl Attr {
    /// Every attribute, in numbering order.
    pub const ALL: [Attr; ATTR_MAX as usize] = [
        Attr::Pad,
        Attr::Sid,
        Attr::TargetName,
        Attr::InitiatorName,
        Attr::InitiatorAlias,
        Attr::PortalAddr,
        Attr::PortalPort,
        Attr::SourceAddr,
        Attr::Iface,
        Attr::ChapUser,
        Attr::ChapSecret,
        Attr::MutualUser,
        Attr::MutualSecret,
        Attr::HeaderDigest,
        Attr::DataDigest,
        Attr::ImmediateData,
        Attr::InitialR2t,
        Attr::MaxBurstLength,
        Attr::FirstBurstLength,
        Attr::MaxRecvDsl,
        Attr::ErrorRecoveryLevel,
        Attr::MaxConnections,
        Attr::NopInterval,
        Attr::NopTimeout,
        Attr::ReplacementTimeout,
        Attr::Tsih,
        Attr::Isid,
        Attr::SessionState,
        Attr::Conn,
        Attr::Cid,
        Attr::ConnState,
        Attr::LocalAddr,
        Attr::LocalPort,
        Attr::Tpgt,
        Attr::MaxXmitDsl,
        Attr::MaxOutstandingR2t,
        Attr::StatCmds,
        Attr::StatTxBytes,
        Attr::StatRxBytes,
        Attr::StatOutstanding,
        Attr::StatErrors,
        Attr::Event,
        Attr::Reason,
        Attr::DefaultTime2Wait,
        Attr::DefaultTime2Retain,
        Attr::Paths,
        Attr::Policy,
        Attr::Failback,
        Attr::Weight,
        Attr::Standby,
        Attr::StatOutstandingBytes,
        Attr::StatLatencyUs,
        Attr::NopIntervalMs,
        Attr::NopTimeoutMs,
        Attr::StallTimeoutMs,
    ];

    /// The attribute with number `v`.
    pub fn from_u16(v: u16) -> Option<Attr> {
        let i = usize::from(v).checked_sub(1)?;
        Attr::ALL.get(i).copied()
    }

    /// Its payload type.
    pub const fn kind(self) -> AttrType {
        use AttrType::*;
        match self {
            Attr::Pad => Binary { max: 8 },
            Attr::Sid => U32,
            Attr::TargetName | Attr::InitiatorName | Attr::InitiatorAlias => {
                String { max: NAME_MAX }
            }
            Attr::PortalAddr | Attr::SourceAddr | Attr::LocalAddr => Binary { max: 16 },
            Attr::PortalPort | Attr::LocalPort => U16,
            Attr::Iface => String { max: IFNAME_MAX },
            Attr::ChapUser | Attr::MutualUser => String { max: CHAP_MAX },
            Attr::ChapSecret | Attr::MutualSecret => Binary { max: CHAP_MAX },
            Attr::HeaderDigest
            | Attr::DataDigest
            | Attr::ImmediateData
            | Attr::InitialR2t
            | Attr::ErrorRecoveryLevel
            | Attr::SessionState
            | Attr::ConnState
            | Attr::Event
            | Attr::Policy
            | Attr::Failback
            | Attr::Standby => U8,
            Attr::MaxBurstLength
            | Attr::FirstBurstLength
            | Attr::MaxRecvDsl
            | Attr::NopInterval
            | Attr::NopTimeout
            | Attr::ReplacementTimeout
            | Attr::MaxXmitDsl
            | Attr::StatOutstanding
            | Attr::Weight
            | Attr::StatLatencyUs
            | Attr::NopIntervalMs
            | Attr::NopTimeoutMs
            | Attr::StallTimeoutMs => U32,
            Attr::MaxConnections
            | Attr::Tsih
            | Attr::Cid
            | Attr::Tpgt
            | Attr::MaxOutstandingR2t
            | Attr::DefaultTime2Wait
            | Attr::DefaultTime2Retain => U16,
            Attr::Isid => Binary { max: 6 },
            Attr::Conn => Nested,
            Attr::StatCmds
            | Attr::StatTxBytes
            | Attr::StatRxBytes
            | Attr::StatErrors
            | Attr::StatOutstandingBytes => U64,
            Attr::Paths => NestedArray {
                policy: PATH_POLICY,
            },
            Attr::Reason => String { max: 127 },
        }
    }
}

/// Attributes [`Cmd::SessionCreate`] accepts. Required: TargetName,
/// InitiatorName, PortalAddr.
pub const CREATE_POLICY: &[Attr] = &[
    Attr::TargetName,
    Attr::InitiatorName,
    Attr::InitiatorAlias,
    Attr::PortalAddr,
    Attr::PortalPort,
    Attr::SourceAddr,
    Attr::Iface,
    Attr::ChapUser,
    Attr::ChapSecret,
    Attr::MutualUser,
    Attr::MutualSecret,
    Attr::HeaderDigest,
    Attr::DataDigest,
    Attr::ImmediateData,
    Attr::InitialR2t,
    Attr::MaxBurstLength,
    Attr::FirstBurstLength,
    Attr::MaxRecvDsl,
    Attr::ErrorRecoveryLevel,
    Attr::MaxConnections,
    Attr::NopInterval,
    Attr::NopTimeout,
    Attr::NopIntervalMs,
    Attr::NopTimeoutMs,
    Attr::StallTimeoutMs,
    Attr::ReplacementTimeout,
    Attr::DefaultTime2Wait,
    Attr::DefaultTime2Retain,
    Attr::Paths,
    Attr::Policy,
    Attr::Failback,
    Attr::Weight,
    Attr::Standby,
];

/// Attributes of one path: an entry of [`Attr::Paths`], or the path of
/// [`Cmd::ConnAdd`]. PortalAddr is required; the NOP and stall times
/// default to the session's.
pub const PATH_POLICY: &[Attr] = &[
    Attr::PortalAddr,
    Attr::PortalPort,
    Attr::SourceAddr,
    Attr::Iface,
    Attr::NopInterval,
    Attr::NopTimeout,
    Attr::NopIntervalMs,
    Attr::NopTimeoutMs,
    Attr::StallTimeoutMs,
    Attr::Weight,
    Attr::Standby,
];

/// Attributes [`Cmd::ConnAdd`] accepts: Sid and a path.
pub const CONN_ADD_POLICY: &[Attr] = &[
    Attr::Sid,
    Attr::PortalAddr,
    Attr::PortalPort,
    Attr::SourceAddr,
    Attr::Iface,
    Attr::NopInterval,
    Attr::NopTimeout,
    Attr::NopIntervalMs,
    Attr::NopTimeoutMs,
    Attr::StallTimeoutMs,
    Attr::Weight,
    Attr::Standby,
];

/// Attributes [`Cmd::SessionDestroy`] accepts (Sid is required).
pub const DESTROY_POLICY: &[Attr] = &[Attr::Sid];

/// Attributes [`Cmd::SessionGet`] accepts (Sid is an optional filter).
pub const GET_POLICY: &[Attr] = &[Attr::Sid];

/// Attributes [`Cmd::ConnRemove`] accepts (both required).
pub const CONN_REMOVE_POLICY: &[Attr] = &[Attr::Sid, Attr::Cid];

/// Attributes [`Cmd::SessionSet`] accepts (Sid and Policy required).
pub const SESSION_SET_POLICY: &[Attr] = &[Attr::Sid, Attr::Policy, Attr::Failback];

/// Attributes [`Cmd::ConnSet`] accepts (Sid and Cid required).
pub const CONN_SET_POLICY: &[Attr] = &[Attr::Sid, Attr::Cid, Attr::Weight, Attr::Standby];

/// The policy of a request command.
pub fn policy(cmd: Cmd) -> &'static [Attr] {
    match cmd {
        Cmd::SessionCreate => CREATE_POLICY,
        Cmd::SessionDestroy => DESTROY_POLICY,
        Cmd::SessionGet => GET_POLICY,
        Cmd::Event => &[],
        Cmd::ConnAdd => CONN_ADD_POLICY,
        Cmd::ConnRemove => CONN_REMOVE_POLICY,
        Cmd::SessionSet => SESSION_SET_POLICY,
        Cmd::ConnSet => CONN_SET_POLICY,
    }
}

/// Most connections one session may have (MC/S); a CID is below this.
pub const MAX_CONNS: u16 = 8;

/// Load-balancing policies ([`Attr::Policy`]). 1-5 are numbered as
/// Microsoft's `ISCSI_Supported_LB_Policies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PolicyKind {
    /// One active connection (lowest [`Attr::Weight`], then lowest CID), the
    /// others standby.
    FailOverOnly = 1,
    /// Every usable connection in turn.
    RoundRobin = 2,
    /// Round robin over the active set; the standby set
    /// ([`Attr::Standby`]) only while no active connection is usable.
    RoundRobinWithSubset = 3,
    /// Fewest outstanding commands.
    LeastQueueDepth = 4,
    /// Lowest [`Attr::Weight`].
    WeightedPaths = 5,
    /// Fewest outstanding bytes.
    LeastBlocks = 6,
    /// Shortest expected service time: outstanding bytes times the measured
    /// cost per byte.
    ServiceTime = 7,
}

impl PolicyKind {
    /// Every policy, by number.
    pub const ALL: [PolicyKind; 7] = [
        PolicyKind::FailOverOnly,
        PolicyKind::RoundRobin,
        PolicyKind::RoundRobinWithSubset,
        PolicyKind::LeastQueueDepth,
        PolicyKind::WeightedPaths,
        PolicyKind::LeastBlocks,
        PolicyKind::ServiceTime,
    ];

    /// The policy with number `v`.
    pub fn from_u8(v: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| *p as u8 == v)
    }

    /// Name as tools print and accept it.
    pub fn name(self) -> &'static str {
        match self {
            Self::FailOverOnly => "fail-over-only",
            Self::RoundRobin => "round-robin",
            Self::RoundRobinWithSubset => "round-robin-with-subset",
            Self::LeastQueueDepth => "least-queue-depth",
            Self::WeightedPaths => "weighted-paths",
            Self::LeastBlocks => "least-blocks",
            Self::ServiceTime => "service-time",
        }
    }

    /// The policy called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }
}

/// Digest proposal or result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Digest {
    /// None only.
    None = 0,
    /// CRC32C only (the login fails if the target refuses).
    Crc32c = 1,
    /// CRC32C preferred, None accepted.
    PreferCrc32c = 2,
}

impl Digest {
    /// The value with number `v`.
    pub fn from_u8(v: u8) -> Option<Digest> {
        Some(match v {
            0 => Digest::None,
            1 => Digest::Crc32c,
            2 => Digest::PreferCrc32c,
            _ => return None,
        })
    }
}

/// Session states reported by [`Cmd::SessionGet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SessionState {
    /// The leading login is in progress.
    LoggingIn = 1,
    /// Logged in (at least one connection in full feature phase).
    LoggedIn = 2,
    /// Every connection lost; recovering within replacement_timeout.
    Recovering = 3,
    /// Logging out.
    LoggingOut = 4,
    /// Failed (recovery gave up).
    Failed = 5,
}

impl SessionState {
    /// The state with number `v`.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::LoggingIn,
            2 => Self::LoggedIn,
            3 => Self::Recovering,
            4 => Self::LoggingOut,
            5 => Self::Failed,
            _ => return None,
        })
    }

    /// Name as printed by tools.
    pub fn name(self) -> &'static str {
        match self {
            Self::LoggingIn => "LOGGING_IN",
            Self::LoggedIn => "LOGGED_IN",
            Self::Recovering => "RECOVERING",
            Self::LoggingOut => "LOGGING_OUT",
            Self::Failed => "FAILED",
        }
    }
}

/// Connection states reported by [`Cmd::SessionGet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ConnState {
    /// TCP connect or login exchange in progress.
    LoggingIn = 1,
    /// Full feature phase.
    FullFeature = 2,
    /// Logout in progress.
    LoggingOut = 3,
    /// Closed or failed.
    Down = 4,
}

impl ConnState {
    /// The state with number `v`.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::LoggingIn,
            2 => Self::FullFeature,
            3 => Self::LoggingOut,
            4 => Self::Down,
            _ => return None,
        })
    }

    /// Name as printed by tools.
    pub fn name(self) -> &'static str {
        match self {
            Self::LoggingIn => "LOGGING_IN",
            Self::FullFeature => "FULL_FEATURE",
            Self::LoggingOut => "LOGGING_OUT",
            Self::Down => "DOWN",
        }
    }
}

/// What an [`Cmd::Event`] message reports (attribute [`Attr::Event`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum EventKind {
    /// A session logged in.
    SessionUp = 1,
    /// A session was removed (logout, failure).
    SessionDown = 2,
    /// A connection reached full feature phase.
    ConnUp = 3,
    /// A connection went down ([`Attr::Reason`] says why).
    ConnDown = 4,
    /// Session recovery started.
    RecoveryStart = 5,
    /// Session recovery ended ([`Attr::Reason`]: recovered or failed).
    RecoveryEnd = 6,
    /// The session's policy changed ([`Attr::Policy`]).
    PolicyChanged = 7,
    /// A connection's weight or standby flag changed.
    ConnChanged = 8,
}

impl EventKind {
    /// The kind with number `v`.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::SessionUp,
            2 => Self::SessionDown,
            3 => Self::ConnUp,
            4 => Self::ConnDown,
            5 => Self::RecoveryStart,
            6 => Self::RecoveryEnd,
            7 => Self::PolicyChanged,
            8 => Self::ConnChanged,
            _ => return None,
        })
    }

    /// Name as printed by tools.
    pub fn name(self) -> &'static str {
        match self {
            Self::SessionUp => "session-up",
            Self::SessionDown => "session-down",
            Self::ConnUp => "conn-up",
            Self::ConnDown => "conn-down",
            Self::RecoveryStart => "recovery-start",
            Self::RecoveryEnd => "recovery-end",
            Self::PolicyChanged => "policy-changed",
            Self::ConnChanged => "conn-changed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_entries_hold_only_flat_attributes() {
        for a in PATH_POLICY {
            assert!(matches!(
                a.kind(),
                AttrType::U8
                    | AttrType::U16
                    | AttrType::U32
                    | AttrType::String { .. }
                    | AttrType::Binary { .. }
            ));
            assert!(CONN_ADD_POLICY.contains(a));
        }
    }

    #[test]
    fn attribute_numbers_are_dense_and_round_trip() {
        for (i, a) in Attr::ALL.iter().enumerate() {
            assert_eq!(*a as u16 as usize, i + 1);
            assert_eq!(Attr::from_u16(*a as u16), Some(*a));
        }
        assert_eq!(Attr::from_u16(0), None);
        assert_eq!(Attr::from_u16(ATTR_MAX + 1), None);
    }

    #[test]
    fn request_policies_hold_no_output_only_attributes() {
        for cmd in [
            Cmd::SessionCreate,
            Cmd::SessionDestroy,
            Cmd::SessionGet,
            Cmd::ConnAdd,
            Cmd::ConnRemove,
            Cmd::SessionSet,
            Cmd::ConnSet,
        ] {
            for a in policy(cmd) {
                assert_ne!(a.kind(), AttrType::Nested);
                assert_ne!(*a, Attr::Pad);
            }
        }
    }

    #[test]
    fn enums_round_trip() {
        for v in 0..=255u8 {
            if let Some(c) = Cmd::from_u8(v) {
                assert_eq!(c as u8, v);
            }
            if let Some(e) = EventKind::from_u8(v) {
                assert_eq!(e as u8, v);
            }
            if let Some(s) = SessionState::from_u8(v) {
                assert_eq!(s as u8, v);
            }
            if let Some(s) = ConnState::from_u8(v) {
                assert_eq!(s as u8, v);
            }
            if let Some(d) = Digest::from_u8(v) {
                assert_eq!(d as u8, v);
            }
            if let Some(p) = PolicyKind::from_u8(v) {
                assert_eq!(p as u8, v);
                assert_eq!(PolicyKind::from_name(p.name()), Some(p));
            }
        }
    }
}
