// SPDX-License-Identifier: GPL-2.0
//! Login request (opcode 0x03, RFC 7143 §11.12) and Login response (opcode
//! 0x23, §11.13).
//!
//! ```text
//! Request                              Response
//! byte 0   .|1| 0x03                   .|.| 0x23
//! byte 1   T|C|.|.|CSG|NSG             T|C|.|.|CSG|NSG
//! byte 2   Version-max                 Version-max
//! byte 3   Version-min                 Version-active
//! 8-13     ISID                        ISID
//! 14-15    TSIH                        TSIH
//! 16-19    ITT                         ITT
//! 20-21    CID                         reserved
//! 24-27    CmdSN                       StatSN
//! 28-31    ExpStatSN                   ExpCmdSN
//! 32-35    reserved                    MaxCmdSN
//! 36-37    reserved                    Status-Class, Status-Detail
//! ```
//! The data segment carries text key=value pairs (parsed elsewhere).

use super::bhs::{self, get16, get32, get8, get_array, put16, put32, put8, put_bytes, Bhs};
use super::{Opcode, PduError};

/// Login stage (RFC 7143 §11.12.3, CSG / NSG fields). Value 2 is reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// 0: SecurityNegotiation.
    SecurityNegotiation = 0,
    /// 1: LoginOperationalNegotiation.
    LoginOperationalNegotiation = 1,
    /// 3: FullFeaturePhase.
    FullFeaturePhase = 3,
}

impl Stage {
    /// Decodes a 2-bit stage field.
    pub const fn from_bits(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::SecurityNegotiation),
            1 => Some(Self::LoginOperationalNegotiation),
            3 => Some(Self::FullFeaturePhase),
            _ => None,
        }
    }
}

/// Version number of RFC 7143 / RFC 3720 iSCSI (Version-max/min/active).
pub const ISCSI_VERSION: u8 = 0x00;

/// Status-Class "Success" (§11.13.5).
pub const STATUS_CLASS_SUCCESS: u8 = 0;
/// Status-Class "Redirection": the target moved; see TargetAddress.
pub const STATUS_CLASS_REDIRECTION: u8 = 1;
/// Status-Class "Initiator Error": do not retry unchanged.
pub const STATUS_CLASS_INITIATOR_ERROR: u8 = 2;
/// Status-Class "Target Error": may be retried.
pub const STATUS_CLASS_TARGET_ERROR: u8 = 3;

const T_BIT: u8 = 0x80;
const C_BIT: u8 = 0x40;

fn stage_byte(transit: Option<Stage>, cont: bool, csg: Stage) -> u8 {
    let (t, nsg) = match transit {
        Some(n) => (T_BIT, n as u8),
        None => (0, 0),
    };
    t | if cont { C_BIT } else { 0 } | ((csg as u8) << 2) | nsg
}

/// Decodes byte 1 into (transit target, C bit, CSG).
fn parse_stage_byte(b1: u8) -> Result<(Option<Stage>, bool, Stage), PduError> {
    let t = b1 & T_BIT != 0;
    let c = b1 & C_BIT != 0;
    if b1 & 0x30 != 0 {
        return Err(PduError::ReservedBits);
    }
    // §11.12.2: a PDU that continues its text cannot also ask to transit.
    if t && c {
        return Err(PduError::InvalidFlags);
    }
    let csg = Stage::from_bits((b1 >> 2) & 3).ok_or(PduError::InvalidField)?;
    // NSG is only meaningful with T set (§11.12.3); otherwise ignore it.
    let transit = if t {
        Some(Stage::from_bits(b1 & 3).ok_or(PduError::InvalidField)?)
    } else {
        None
    };
    Ok((transit, c, csg))
}

/// Login request (RFC 7143 §11.12). Always immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginRequest {
    /// T bit + NSG: the stage the initiator wants to move to, if any.
    pub transit: Option<Stage>,
    /// C bit: the text continues in the next Login request.
    pub continue_flag: bool,
    /// CSG: current stage.
    pub csg: Stage,
    /// Version-max.
    pub version_max: u8,
    /// Version-min.
    pub version_min: u8,
    /// Length of the key=value text.
    pub data_segment_length: u32,
    /// ISID (§11.12.5), the initiator part of the session identifier.
    pub isid: [u8; 6],
    /// TSIH: 0 for a new session, the target's value to add a connection.
    pub tsih: u16,
    /// ITT.
    pub itt: u32,
    /// CID: connection ID within the session.
    pub cid: u16,
    /// CmdSN (the session's next CmdSN; not advanced by Login).
    pub cmd_sn: u32,
    /// ExpStatSN (for connection reinstatement and after the first response).
    pub exp_stat_sn: u32,
}

impl LoginRequest {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        let b1 = stage_byte(self.transit, self.continue_flag, self.csg);
        bhs::begin(
            bhs,
            Opcode::LoginRequest,
            true,
            b1,
            self.data_segment_length,
        )?;
        put8(bhs, 2, self.version_max);
        put8(bhs, 3, self.version_min);
        put_bytes(bhs, 8, &self.isid);
        put16(bhs, 14, self.tsih);
        put32(bhs, 16, self.itt);
        put16(bhs, 20, self.cid);
        put32(bhs, 24, self.cmd_sn);
        put32(bhs, 28, self.exp_stat_sn);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        let immediate = bhs::check_initiator(bhs, Opcode::LoginRequest, false)?;
        if !immediate {
            // §11.12: the I bit is always 1 in a Login request.
            return Err(PduError::InvalidFlags);
        }
        let (transit, continue_flag, csg) = parse_stage_byte(get8(bhs, 1))?;
        Ok(Self {
            transit,
            continue_flag,
            csg,
            version_max: get8(bhs, 2),
            version_min: get8(bhs, 3),
            data_segment_length: bhs::data_segment_length(bhs),
            isid: get_array(bhs, 8),
            tsih: get16(bhs, 14),
            itt: get32(bhs, 16),
            cid: get16(bhs, 20),
            cmd_sn: get32(bhs, 24),
            exp_stat_sn: get32(bhs, 28),
        })
    }
}

/// Login response (RFC 7143 §11.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginResponse {
    /// T bit + NSG: the stage the target agrees to move to, if any.
    pub transit: Option<Stage>,
    /// C bit: more text follows in the next Login response.
    pub continue_flag: bool,
    /// CSG: current stage.
    pub csg: Stage,
    /// Version-max.
    pub version_max: u8,
    /// Version-active.
    pub version_active: u8,
    /// Length of the key=value text.
    pub data_segment_length: u32,
    /// ISID echoed.
    pub isid: [u8; 6],
    /// TSIH: set by the target on the final response of a leading login.
    pub tsih: u16,
    /// ITT echoed.
    pub itt: u32,
    /// StatSN: the first one starts the connection's StatSN sequence.
    pub stat_sn: u32,
    /// ExpCmdSN.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN.
    pub max_cmd_sn: u32,
    /// Status-Class (`STATUS_CLASS_*`).
    pub status_class: u8,
    /// Status-Detail (§11.13.5).
    pub status_detail: u8,
}

impl LoginResponse {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        let b1 = stage_byte(self.transit, self.continue_flag, self.csg);
        bhs::begin(
            bhs,
            Opcode::LoginResponse,
            false,
            b1,
            self.data_segment_length,
        )?;
        put8(bhs, 2, self.version_max);
        put8(bhs, 3, self.version_active);
        put_bytes(bhs, 8, &self.isid);
        put16(bhs, 14, self.tsih);
        put32(bhs, 16, self.itt);
        put32(bhs, 24, self.stat_sn);
        put32(bhs, 28, self.exp_cmd_sn);
        put32(bhs, 32, self.max_cmd_sn);
        put8(bhs, 36, self.status_class);
        put8(bhs, 37, self.status_detail);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        bhs::check_target(bhs, Opcode::LoginResponse)?;
        let (transit, continue_flag, csg) = parse_stage_byte(get8(bhs, 1))?;
        Ok(Self {
            transit,
            continue_flag,
            csg,
            version_max: get8(bhs, 2),
            version_active: get8(bhs, 3),
            data_segment_length: bhs::data_segment_length(bhs),
            isid: get_array(bhs, 8),
            tsih: get16(bhs, 14),
            itt: get32(bhs, 16),
            stat_sn: get32(bhs, 24),
            exp_cmd_sn: get32(bhs, 28),
            max_cmd_sn: get32(bhs, 32),
            status_class: get8(bhs, 36),
            status_detail: get8(bhs, 37),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_login_layout() {
        let l = LoginRequest {
            transit: Some(Stage::LoginOperationalNegotiation),
            continue_flag: false,
            csg: Stage::SecurityNegotiation,
            version_max: 0,
            version_min: 0,
            data_segment_length: 0x51,
            isid: [0x80, 0x12, 0x34, 0x56, 0x00, 0x01],
            tsih: 0,
            itt: 0,
            cid: 0x0102,
            cmd_sn: 1,
            exp_stat_sn: 0,
        };
        let mut b = [0u8; 48];
        l.encode(&mut b).unwrap();
        let mut want = [0u8; 48];
        want[0] = 0x43;
        want[1] = 0x81; // T, CSG=0, NSG=1
        want[7] = 0x51;
        want[8..14].copy_from_slice(&[0x80, 0x12, 0x34, 0x56, 0x00, 0x01]);
        want[20..22].copy_from_slice(&[1, 2]);
        want[27] = 1;
        assert_eq!(b, want);
        assert_eq!(LoginRequest::decode(&b), Ok(l));
        b[0] = 0x03;
        assert_eq!(LoginRequest::decode(&b), Err(PduError::InvalidFlags));
    }

    #[test]
    fn response_to_full_feature() {
        let mut b = [0u8; 48];
        b[0] = 0x23;
        b[1] = 0x87; // T, CSG=1, NSG=3
        b[14..16].copy_from_slice(&[0x00, 0x2a]);
        b[27] = 0x10;
        b[31] = 1;
        b[35] = 64;
        let r = LoginResponse::decode(&b).unwrap();
        assert_eq!(r.transit, Some(Stage::FullFeaturePhase));
        assert_eq!(r.csg, Stage::LoginOperationalNegotiation);
        assert_eq!(
            (r.tsih, r.stat_sn, r.exp_cmd_sn, r.max_cmd_sn),
            (42, 16, 1, 64)
        );
        assert_eq!(r.status_class, STATUS_CLASS_SUCCESS);
        let mut again = [0u8; 48];
        r.encode(&mut again).unwrap();
        assert_eq!(again, b);
    }

    #[test]
    fn stage_field_errors() {
        let mut b = [0u8; 48];
        b[0] = 0x23;
        b[1] = 0xc1; // T and C
        assert_eq!(LoginResponse::decode(&b), Err(PduError::InvalidFlags));
        b[1] = 0x82; // NSG = 2 (reserved)
        assert_eq!(LoginResponse::decode(&b), Err(PduError::InvalidField));
        b[1] = 0x08; // CSG = 2
        assert_eq!(LoginResponse::decode(&b), Err(PduError::InvalidField));
        // Without T, NSG is ignored.
        b[1] = 0x06;
        assert_eq!(LoginResponse::decode(&b).unwrap().transit, None);
    }
}
