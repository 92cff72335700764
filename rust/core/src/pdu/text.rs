// SPDX-License-Identifier: GPL-2.0
//! Text request (opcode 0x04, RFC 7143 §11.10) and Text response (opcode
//! 0x24, §11.11).
//!
//! ```text
//! Request                              Response
//! byte 0   .|I| 0x04                   .|.| 0x24
//! byte 1   F|C|reserved                F|C|reserved
//! 8-15     LUN or reserved             LUN or reserved
//! 16-19    ITT                         ITT
//! 20-23    TTT (ffffffff to start)     TTT (ffffffff when done)
//! 24-27    CmdSN                       StatSN
//! 28-31    ExpStatSN                   ExpCmdSN
//! 32-35    reserved                    MaxCmdSN
//! ```

use super::bhs::{self, get32, get8, get_array, put32, put_bytes, Bhs, F_BIT};
use super::{Lun, Opcode, PduError};

const C_BIT: u8 = 0x40;

fn parse_fc(b1: u8) -> Result<(bool, bool), PduError> {
    let f = b1 & F_BIT != 0;
    let c = b1 & C_BIT != 0;
    // §11.10.2: a final PDU cannot announce continued text.
    if f && c {
        return Err(PduError::InvalidFlags);
    }
    Ok((f, c))
}

/// Text request (RFC 7143 §11.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRequest {
    /// I bit.
    pub immediate: bool,
    /// F bit: last request of this text exchange from the initiator.
    pub final_flag: bool,
    /// C bit: the text continues in the next request.
    pub continue_flag: bool,
    /// Length of the key=value text.
    pub data_segment_length: u32,
    /// LUN (unused by standard keys).
    pub lun: Lun,
    /// ITT.
    pub itt: u32,
    /// TTT from the previous Text response, or 0xffffffff for a new exchange.
    pub ttt: u32,
    /// CmdSN.
    pub cmd_sn: u32,
    /// ExpStatSN.
    pub exp_stat_sn: u32,
}

impl TextRequest {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        let b1 =
            if self.final_flag { F_BIT } else { 0 } | if self.continue_flag { C_BIT } else { 0 };
        bhs::begin(
            bhs,
            Opcode::TextRequest,
            self.immediate,
            b1,
            self.data_segment_length,
        )?;
        put_bytes(bhs, 8, &self.lun.0);
        put32(bhs, 16, self.itt);
        put32(bhs, 20, self.ttt);
        put32(bhs, 24, self.cmd_sn);
        put32(bhs, 28, self.exp_stat_sn);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        let immediate = bhs::check_initiator(bhs, Opcode::TextRequest, false)?;
        let (final_flag, continue_flag) = parse_fc(get8(bhs, 1))?;
        Ok(Self {
            immediate,
            final_flag,
            continue_flag,
            data_segment_length: bhs::data_segment_length(bhs),
            lun: Lun(get_array(bhs, 8)),
            itt: get32(bhs, 16),
            ttt: get32(bhs, 20),
            cmd_sn: get32(bhs, 24),
            exp_stat_sn: get32(bhs, 28),
        })
    }
}

/// Text response (RFC 7143 §11.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextResponse {
    /// F bit: the target has no more text for this exchange.
    pub final_flag: bool,
    /// C bit: the text continues in the next response.
    pub continue_flag: bool,
    /// Length of the key=value text.
    pub data_segment_length: u32,
    /// LUN.
    pub lun: Lun,
    /// ITT echoed.
    pub itt: u32,
    /// TTT: echo it in the next Text request; 0xffffffff on the final one.
    pub ttt: u32,
    /// StatSN.
    pub stat_sn: u32,
    /// ExpCmdSN.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN.
    pub max_cmd_sn: u32,
}

impl TextResponse {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        let b1 =
            if self.final_flag { F_BIT } else { 0 } | if self.continue_flag { C_BIT } else { 0 };
        bhs::begin(
            bhs,
            Opcode::TextResponse,
            false,
            b1,
            self.data_segment_length,
        )?;
        put_bytes(bhs, 8, &self.lun.0);
        put32(bhs, 16, self.itt);
        put32(bhs, 20, self.ttt);
        put32(bhs, 24, self.stat_sn);
        put32(bhs, 28, self.exp_cmd_sn);
        put32(bhs, 32, self.max_cmd_sn);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        bhs::check_target(bhs, Opcode::TextResponse)?;
        let (final_flag, continue_flag) = parse_fc(get8(bhs, 1))?;
        Ok(Self {
            final_flag,
            continue_flag,
            data_segment_length: bhs::data_segment_length(bhs),
            lun: Lun(get_array(bhs, 8)),
            itt: get32(bhs, 16),
            ttt: get32(bhs, 20),
            stat_sn: get32(bhs, 24),
            exp_cmd_sn: get32(bhs, 28),
            max_cmd_sn: get32(bhs, 32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_targets_request_layout() {
        let t = TextRequest {
            immediate: false,
            final_flag: true,
            continue_flag: false,
            data_segment_length: 16, // "SendTargets=All\0"
            lun: Lun::ZERO,
            itt: 3,
            ttt: 0xffff_ffff,
            cmd_sn: 2,
            exp_stat_sn: 7,
        };
        let mut b = [0u8; 48];
        t.encode(&mut b).unwrap();
        assert_eq!(&b[..8], &[0x04, 0x80, 0, 0, 0, 0, 0, 16]);
        assert_eq!(
            &b[16..32],
            &[0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0, 0, 0, 7]
        );
        assert_eq!(TextRequest::decode(&b), Ok(t));
    }

    #[test]
    fn f_and_c_together_rejected() {
        let mut b = [0u8; 48];
        b[0] = 0x24;
        b[1] = 0xc0;
        assert_eq!(TextResponse::decode(&b), Err(PduError::InvalidFlags));
        b[1] = 0x40;
        let r = TextResponse::decode(&b).unwrap();
        assert!(r.continue_flag && !r.final_flag);
    }
}
