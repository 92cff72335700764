// SPDX-License-Identifier: GPL-2.0
//! iSCSI PDUs (RFC 7143 §11): typed headers, their encoding into a 48-byte
//! BHS (+ AHS) and their decoding, framing and digests.
//!
//! Receive path, for a transport:
//! 1. read 48 bytes, [`PduLayout::from_bhs`] says what follows;
//! 2. read `header_rest_len()` bytes (AHS + header digest), check the digest
//!    with [`verify_header_digest`];
//! 3. [`TargetPdu::decode`] the BHS: the typed header says where the data goes
//!    (e.g. a Data-In's ITT + Buffer Offset into a command's scatterlist);
//! 4. move `data_len` bytes there, feeding [`DataDigest`], then check the pad
//!    and data digest with [`DataDigest::verify`].
//!
//! Send path: fill a typed struct, `encode` it into a `[u8; 48]` (SCSI
//! Command also into an AHS buffer), append [`header_digest_bytes`], the data,
//! [`pad_len`] zero bytes and [`DataDigest::finish_bytes`].
//!
//! Only the header is decoded here; data segment contents (text keys, sense
//! data) have helpers in the PDU modules that carry them
//! ([`scsi_response::split_sense`], [`reject::rejected_header`]).

pub mod ahs;
pub mod async_msg;
pub mod bhs;
pub mod data;
pub mod framing;
pub mod login;
pub mod logout;
pub mod lun;
pub mod nop;
pub mod r2t;
pub mod reject;
pub mod scsi_command;
pub mod scsi_response;
pub mod snack;
pub mod text;
pub mod tmf;

pub use async_msg::AsyncMessage;
pub use bhs::{Bhs, BHS_LEN, MAX_DATA_SEGMENT_LENGTH, RESERVED_TAG};
pub use data::{DataIn, DataOut};
pub use framing::{
    header_digest, header_digest_bytes, pad_len, verify_header_digest, DataDigest, Digests,
    PduLayout, DIGEST_LEN,
};
pub use login::{LoginRequest, LoginResponse, Stage};
pub use logout::{LogoutReason, LogoutRequest, LogoutResponse};
pub use lun::Lun;
pub use nop::{NopIn, NopOut};
pub use r2t::R2t;
pub use reject::Reject;
pub use scsi_command::{Cdb, ScsiCommand, TaskAttr};
pub use scsi_response::{Residual, ScsiResponse};
pub use snack::{SnackRequest, SnackType};
pub use text::{TextRequest, TextResponse};
pub use tmf::{TaskMgmtRequest, TaskMgmtResponse, TmfFunction};

/// Why a PDU could not be encoded or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduError {
    /// The opcode is not one RFC 7143 defines (or a vendor-specific one,
    /// which this initiator does not support).
    UnknownOpcode(u8),
    /// An initiator-only opcode arrived on the receive path (a target never
    /// sends it).
    InitiatorOpcode(u8),
    /// A target-only opcode was given to the initiator PDU decoder.
    TargetOpcode(u8),
    /// A typed decoder was handed a BHS of another opcode.
    WrongOpcode(u8),
    /// A bit the RFC reserves (or the I bit where it has no meaning) is set.
    ReservedBits,
    /// A flag combination the RFC forbids (F/C, T/C, O/U, S without F, missing
    /// mandatory F or I bit).
    InvalidFlags,
    /// A coded field holds a value with no meaning (stage 2, TMF function 14,
    /// task attribute 5, unknown SNACK type, tag that must be 0xffffffff).
    InvalidField,
    /// DataSegmentLength is not 0 for a PDU that carries no data.
    UnexpectedData,
    /// TotalAHSLength is not 0 for a PDU that has no AHS.
    UnexpectedAhs,
    /// The AHS buffer given does not match TotalAHSLength.
    AhsLengthMismatch,
    /// An AHS is truncated or its AHSLength is wrong for its type.
    BadAhs,
    /// An AHS type RFC 7143 does not define.
    UnknownAhsType(u8),
    /// The same AHS type twice.
    DuplicateAhs,
    /// DataSegmentLength does not fit 24 bits, or exceeds the negotiated
    /// maximum.
    DataSegmentTooLong,
    /// The CDB does not fit the 1020-byte AHS area.
    CdbTooLong,
    /// An output buffer is too small.
    BufferTooSmall,
    /// Fewer than 48 bytes (or fewer than BHS + TotalAHSLength) were given.
    Truncated,
    /// A length inside a data segment (or an empty CDB, or a pad of the wrong
    /// size) does not add up.
    BadLength,
    /// Header digest check failed: drop the connection (RFC 7143 §7.8).
    HeaderDigestMismatch {
        /// Digest computed over the received bytes.
        computed: u32,
        /// Digest received.
        received: u32,
    },
    /// Data digest check failed: discard the data, recover per §7.8.
    DataDigestMismatch {
        /// Digest computed over the received bytes.
        computed: u32,
        /// Digest received.
        received: u32,
    },
}

/// PDU opcodes (RFC 7143 §11.2.1.2). Values 0x00-0x1f are sent by the
/// initiator, 0x20-0x3f by the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// NOP-Out (§11.18).
    NopOut = 0x00,
    /// SCSI Command (§11.3).
    ScsiCommand = 0x01,
    /// SCSI Task Management Function Request (§11.5).
    TaskMgmtRequest = 0x02,
    /// Login Request (§11.12).
    LoginRequest = 0x03,
    /// Text Request (§11.10).
    TextRequest = 0x04,
    /// SCSI Data-Out (§11.7).
    DataOut = 0x05,
    /// Logout Request (§11.14).
    LogoutRequest = 0x06,
    /// SNACK Request (§11.16).
    SnackRequest = 0x10,
    /// NOP-In (§11.19).
    NopIn = 0x20,
    /// SCSI Response (§11.4).
    ScsiResponse = 0x21,
    /// SCSI Task Management Function Response (§11.6).
    TaskMgmtResponse = 0x22,
    /// Login Response (§11.13).
    LoginResponse = 0x23,
    /// Text Response (§11.11).
    TextResponse = 0x24,
    /// SCSI Data-In (§11.7).
    DataIn = 0x25,
    /// Logout Response (§11.15).
    LogoutResponse = 0x26,
    /// Ready To Transfer (§11.8).
    R2t = 0x31,
    /// Asynchronous Message (§11.9).
    AsyncMessage = 0x32,
    /// Reject (§11.17).
    Reject = 0x3f,
}

impl Opcode {
    /// Decodes the 6 opcode bits.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0x00 => Self::NopOut,
            0x01 => Self::ScsiCommand,
            0x02 => Self::TaskMgmtRequest,
            0x03 => Self::LoginRequest,
            0x04 => Self::TextRequest,
            0x05 => Self::DataOut,
            0x06 => Self::LogoutRequest,
            0x10 => Self::SnackRequest,
            0x20 => Self::NopIn,
            0x21 => Self::ScsiResponse,
            0x22 => Self::TaskMgmtResponse,
            0x23 => Self::LoginResponse,
            0x24 => Self::TextResponse,
            0x25 => Self::DataIn,
            0x26 => Self::LogoutResponse,
            0x31 => Self::R2t,
            0x32 => Self::AsyncMessage,
            0x3f => Self::Reject,
            _ => return None,
        })
    }

    /// Sent by the initiator (opcodes below 0x20).
    pub const fn is_initiator(self) -> bool {
        (self as u8) < 0x20
    }
}

/// How a received PDU's StatSN relates to the connection's StatSN sequence
/// (RFC 7143 §4.2.2.2): whether the initiator must advance ExpStatSN past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatSnUse {
    /// A status-carrying PDU: its StatSN is consumed (ExpStatSN = StatSN + 1).
    Consumed(u32),
    /// Informational: the StatSN the target will use next, not consumed (R2T,
    /// unsolicited NOP-In).
    Current(u32),
    /// The PDU carries no valid StatSN (Data-In without the S bit).
    None,
}

/// Every PDU a target sends to an initiator: the receive path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetPdu {
    /// NOP-In.
    NopIn(NopIn),
    /// SCSI Response.
    ScsiResponse(ScsiResponse),
    /// Task Management Function Response.
    TaskMgmtResponse(TaskMgmtResponse),
    /// Login Response.
    LoginResponse(LoginResponse),
    /// Text Response.
    TextResponse(TextResponse),
    /// SCSI Data-In.
    DataIn(DataIn),
    /// Logout Response.
    LogoutResponse(LogoutResponse),
    /// R2T.
    R2t(R2t),
    /// Asynchronous Message.
    AsyncMessage(AsyncMessage),
    /// Reject.
    Reject(Reject),
}

impl TargetPdu {
    /// Decodes a target PDU from its BHS alone (target PDUs carry no AHS).
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        let raw = bhs::raw_opcode(bhs);
        let op = Opcode::from_u8(raw).ok_or(PduError::UnknownOpcode(raw))?;
        Ok(match op {
            Opcode::NopIn => Self::NopIn(NopIn::decode(bhs)?),
            Opcode::ScsiResponse => Self::ScsiResponse(ScsiResponse::decode(bhs)?),
            Opcode::TaskMgmtResponse => Self::TaskMgmtResponse(TaskMgmtResponse::decode(bhs)?),
            Opcode::LoginResponse => Self::LoginResponse(LoginResponse::decode(bhs)?),
            Opcode::TextResponse => Self::TextResponse(TextResponse::decode(bhs)?),
            Opcode::DataIn => Self::DataIn(DataIn::decode(bhs)?),
            Opcode::LogoutResponse => Self::LogoutResponse(LogoutResponse::decode(bhs)?),
            Opcode::R2t => Self::R2t(R2t::decode(bhs)?),
            Opcode::AsyncMessage => Self::AsyncMessage(AsyncMessage::decode(bhs)?),
            Opcode::Reject => Self::Reject(Reject::decode(bhs)?),
            Opcode::NopOut
            | Opcode::ScsiCommand
            | Opcode::TaskMgmtRequest
            | Opcode::LoginRequest
            | Opcode::TextRequest
            | Opcode::DataOut
            | Opcode::LogoutRequest
            | Opcode::SnackRequest => return Err(PduError::InitiatorOpcode(raw)),
        })
    }

    /// Decodes the target PDU whose BHS starts `bytes`.
    pub fn decode_bytes(bytes: &[u8]) -> Result<Self, PduError> {
        Self::decode(bhs::from_slice(bytes)?)
    }

    /// Encodes the BHS (for tests and target simulators).
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        match self {
            Self::NopIn(p) => p.encode(bhs),
            Self::ScsiResponse(p) => p.encode(bhs),
            Self::TaskMgmtResponse(p) => p.encode(bhs),
            Self::LoginResponse(p) => p.encode(bhs),
            Self::TextResponse(p) => p.encode(bhs),
            Self::DataIn(p) => p.encode(bhs),
            Self::LogoutResponse(p) => p.encode(bhs),
            Self::R2t(p) => p.encode(bhs),
            Self::AsyncMessage(p) => p.encode(bhs),
            Self::Reject(p) => p.encode(bhs),
        }
    }

    /// The opcode.
    pub const fn opcode(&self) -> Opcode {
        match self {
            Self::NopIn(_) => Opcode::NopIn,
            Self::ScsiResponse(_) => Opcode::ScsiResponse,
            Self::TaskMgmtResponse(_) => Opcode::TaskMgmtResponse,
            Self::LoginResponse(_) => Opcode::LoginResponse,
            Self::TextResponse(_) => Opcode::TextResponse,
            Self::DataIn(_) => Opcode::DataIn,
            Self::LogoutResponse(_) => Opcode::LogoutResponse,
            Self::R2t(_) => Opcode::R2t,
            Self::AsyncMessage(_) => Opcode::AsyncMessage,
            Self::Reject(_) => Opcode::Reject,
        }
    }

    /// The ITT (0xffffffff for Async Message, Reject and unsolicited NOP-In).
    pub const fn itt(&self) -> u32 {
        match self {
            Self::NopIn(p) => p.itt,
            Self::ScsiResponse(p) => p.itt,
            Self::TaskMgmtResponse(p) => p.itt,
            Self::LoginResponse(p) => p.itt,
            Self::TextResponse(p) => p.itt,
            Self::DataIn(p) => p.itt,
            Self::LogoutResponse(p) => p.itt,
            Self::R2t(p) => p.itt,
            Self::AsyncMessage(_) | Self::Reject(_) => RESERVED_TAG,
        }
    }

    /// (ExpCmdSN, MaxCmdSN): every target PDU carries the session's command
    /// window at bytes 28-35 (RFC 7143 §4.2.2.1).
    pub const fn cmd_window(&self) -> (u32, u32) {
        match self {
            Self::NopIn(p) => (p.exp_cmd_sn, p.max_cmd_sn),
            Self::ScsiResponse(p) => (p.exp_cmd_sn, p.max_cmd_sn),
            Self::TaskMgmtResponse(p) => (p.exp_cmd_sn, p.max_cmd_sn),
            Self::LoginResponse(p) => (p.exp_cmd_sn, p.max_cmd_sn),
            Self::TextResponse(p) => (p.exp_cmd_sn, p.max_cmd_sn),
            Self::DataIn(p) => (p.exp_cmd_sn, p.max_cmd_sn),
            Self::LogoutResponse(p) => (p.exp_cmd_sn, p.max_cmd_sn),
            Self::R2t(p) => (p.exp_cmd_sn, p.max_cmd_sn),
            Self::AsyncMessage(p) => (p.exp_cmd_sn, p.max_cmd_sn),
            Self::Reject(p) => (p.exp_cmd_sn, p.max_cmd_sn),
        }
    }

    /// Whether and how this PDU's StatSN advances the connection's ExpStatSN.
    pub const fn stat_sn(&self) -> StatSnUse {
        match self {
            Self::NopIn(p) => {
                if p.is_response() {
                    StatSnUse::Consumed(p.stat_sn)
                } else {
                    StatSnUse::Current(p.stat_sn)
                }
            }
            Self::ScsiResponse(p) => StatSnUse::Consumed(p.stat_sn),
            Self::TaskMgmtResponse(p) => StatSnUse::Consumed(p.stat_sn),
            Self::LoginResponse(p) => StatSnUse::Consumed(p.stat_sn),
            Self::TextResponse(p) => StatSnUse::Consumed(p.stat_sn),
            Self::DataIn(p) => {
                if p.status_flag {
                    StatSnUse::Consumed(p.stat_sn)
                } else {
                    StatSnUse::None
                }
            }
            Self::LogoutResponse(p) => StatSnUse::Consumed(p.stat_sn),
            Self::R2t(p) => StatSnUse::Current(p.stat_sn),
            Self::AsyncMessage(p) => StatSnUse::Consumed(p.stat_sn),
            Self::Reject(p) => StatSnUse::Consumed(p.stat_sn),
        }
    }

    /// DataSegmentLength announced by the header.
    pub const fn data_segment_length(&self) -> u32 {
        match self {
            Self::NopIn(p) => p.data_segment_length,
            Self::ScsiResponse(p) => p.data_segment_length,
            Self::TaskMgmtResponse(_) | Self::LogoutResponse(_) | Self::R2t(_) => 0,
            Self::LoginResponse(p) => p.data_segment_length,
            Self::TextResponse(p) => p.data_segment_length,
            Self::DataIn(p) => p.data_segment_length,
            Self::AsyncMessage(p) => p.data_segment_length,
            Self::Reject(p) => p.data_segment_length,
        }
    }
}

/// Every PDU an initiator sends: the send path, and the decoder a test target
/// uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitiatorPdu<'a> {
    /// NOP-Out.
    NopOut(NopOut),
    /// SCSI Command (borrows the extended CDB from the AHS).
    ScsiCommand(ScsiCommand<'a>),
    /// Task Management Function Request.
    TaskMgmtRequest(TaskMgmtRequest),
    /// Login Request.
    LoginRequest(LoginRequest),
    /// Text Request.
    TextRequest(TextRequest),
    /// SCSI Data-Out.
    DataOut(DataOut),
    /// Logout Request.
    LogoutRequest(LogoutRequest),
    /// SNACK Request.
    SnackRequest(SnackRequest),
}

impl<'a> InitiatorPdu<'a> {
    /// Decodes an initiator PDU from its BHS and the TotalAHSLength bytes of
    /// AHS that followed it (empty for everything but SCSI Command).
    pub fn decode(bhs: &Bhs, ahs: &'a [u8]) -> Result<Self, PduError> {
        let raw = bhs::raw_opcode(bhs);
        let op = Opcode::from_u8(raw).ok_or(PduError::UnknownOpcode(raw))?;
        if op != Opcode::ScsiCommand && !ahs.is_empty() {
            return Err(PduError::AhsLengthMismatch);
        }
        Ok(match op {
            Opcode::NopOut => Self::NopOut(NopOut::decode(bhs)?),
            Opcode::ScsiCommand => Self::ScsiCommand(ScsiCommand::decode(bhs, ahs)?),
            Opcode::TaskMgmtRequest => Self::TaskMgmtRequest(TaskMgmtRequest::decode(bhs)?),
            Opcode::LoginRequest => Self::LoginRequest(LoginRequest::decode(bhs)?),
            Opcode::TextRequest => Self::TextRequest(TextRequest::decode(bhs)?),
            Opcode::DataOut => Self::DataOut(DataOut::decode(bhs)?),
            Opcode::LogoutRequest => Self::LogoutRequest(LogoutRequest::decode(bhs)?),
            Opcode::SnackRequest => Self::SnackRequest(SnackRequest::decode(bhs)?),
            Opcode::NopIn
            | Opcode::ScsiResponse
            | Opcode::TaskMgmtResponse
            | Opcode::LoginResponse
            | Opcode::TextResponse
            | Opcode::DataIn
            | Opcode::LogoutResponse
            | Opcode::R2t
            | Opcode::AsyncMessage
            | Opcode::Reject => return Err(PduError::TargetOpcode(raw)),
        })
    }

    /// Decodes an initiator PDU from contiguous bytes: the BHS followed by
    /// TotalAHSLength bytes of AHS (anything after that is ignored).
    pub fn decode_bytes(bytes: &'a [u8]) -> Result<Self, PduError> {
        let b = bhs::from_slice(bytes)?;
        let ahs = bytes
            .get(BHS_LEN..BHS_LEN + bhs::total_ahs_len(b))
            .ok_or(PduError::Truncated)?;
        Self::decode(b, ahs)
    }

    /// Encodes the BHS, and for a SCSI Command its AHS into `ahs_out`;
    /// returns the number of AHS bytes written.
    pub fn encode(&self, bhs: &mut Bhs, ahs_out: &mut [u8]) -> Result<usize, PduError> {
        match self {
            Self::ScsiCommand(p) => return p.encode(bhs, ahs_out),
            Self::NopOut(p) => p.encode(bhs)?,
            Self::TaskMgmtRequest(p) => p.encode(bhs)?,
            Self::LoginRequest(p) => p.encode(bhs)?,
            Self::TextRequest(p) => p.encode(bhs)?,
            Self::DataOut(p) => p.encode(bhs)?,
            Self::LogoutRequest(p) => p.encode(bhs)?,
            Self::SnackRequest(p) => p.encode(bhs)?,
        }
        Ok(0)
    }

    /// The opcode.
    pub const fn opcode(&self) -> Opcode {
        match self {
            Self::NopOut(_) => Opcode::NopOut,
            Self::ScsiCommand(_) => Opcode::ScsiCommand,
            Self::TaskMgmtRequest(_) => Opcode::TaskMgmtRequest,
            Self::LoginRequest(_) => Opcode::LoginRequest,
            Self::TextRequest(_) => Opcode::TextRequest,
            Self::DataOut(_) => Opcode::DataOut,
            Self::LogoutRequest(_) => Opcode::LogoutRequest,
            Self::SnackRequest(_) => Opcode::SnackRequest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_table() {
        for v in 0u8..=0x3f {
            if let Some(op) = Opcode::from_u8(v) {
                assert_eq!(op as u8, v);
                assert_eq!(op.is_initiator(), v < 0x20);
            }
        }
        assert_eq!(Opcode::from_u8(0x1c), None);
        assert_eq!(Opcode::from_u8(0x07), None);
    }

    #[test]
    fn receive_path_rejects_initiator_opcodes() {
        let mut b = [0u8; 48];
        b[0] = 0x01;
        assert_eq!(TargetPdu::decode(&b), Err(PduError::InitiatorOpcode(1)));
        b[0] = 0x3c;
        assert_eq!(TargetPdu::decode(&b), Err(PduError::UnknownOpcode(0x3c)));
        b[0] = 0x21;
        assert_eq!(
            InitiatorPdu::decode(&b, &[]),
            Err(PduError::TargetOpcode(0x21))
        );
    }

    #[test]
    fn target_pdu_accessors() {
        let r2t = R2t {
            lun: Lun::ZERO,
            itt: 4,
            ttt: 9,
            stat_sn: 11,
            exp_cmd_sn: 12,
            max_cmd_sn: 40,
            r2t_sn: 0,
            buffer_offset: 0,
            desired_data_transfer_length: 512,
        };
        let mut b = [0u8; 48];
        TargetPdu::R2t(r2t).encode(&mut b).unwrap();
        let p = TargetPdu::decode(&b).unwrap();
        assert_eq!(p.opcode(), Opcode::R2t);
        assert_eq!(p.itt(), 4);
        assert_eq!(p.cmd_window(), (12, 40));
        assert_eq!(p.stat_sn(), StatSnUse::Current(11));
        assert_eq!(p.data_segment_length(), 0);
    }

    #[test]
    fn decode_from_contiguous_bytes() {
        let mut buf = [0u8; 60];
        buf[0] = 0x01;
        buf[1] = 0x81;
        buf[4] = 3;
        buf[48..56].copy_from_slice(&[0, 5, 2, 0, 0, 0, 0x10, 0]);
        buf[56..60].copy_from_slice(&[0, 0, 0, 0]);
        // Second AHS slot holds a zero-length AHS of type 0: unknown type.
        assert_eq!(
            InitiatorPdu::decode_bytes(&buf),
            Err(PduError::UnknownAhsType(0))
        );
        buf[4] = 1;
        assert_eq!(InitiatorPdu::decode_bytes(&buf), Err(PduError::BadAhs));
        buf[4] = 2;
        let InitiatorPdu::ScsiCommand(c) = InitiatorPdu::decode_bytes(&buf).unwrap() else {
            panic!("not a SCSI Command");
        };
        assert_eq!(c.bidi_read_length, Some(0x1000));
        buf[4] = 4;
        assert_eq!(InitiatorPdu::decode_bytes(&buf), Err(PduError::Truncated));
        assert_eq!(
            TargetPdu::decode_bytes(&buf[..40]),
            Err(PduError::Truncated)
        );
    }

    #[test]
    fn target_pdus_may_not_carry_ahs() {
        let mut b = [0u8; 48];
        b[0] = 0x20;
        b[1] = 0x80;
        b[4] = 1;
        assert_eq!(TargetPdu::decode(&b), Err(PduError::UnexpectedAhs));
    }
}
