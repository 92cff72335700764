// SPDX-License-Identifier: GPL-2.0
//! NOP-Out (opcode 0x00, RFC 7143 §11.18) and NOP-In (opcode 0x20, §11.19).
//!
//! ```text
//! NOP-Out                             NOP-In
//! byte 0   .|I| 0x00                  .|.| 0x20
//! byte 1   1|reserved                 1|reserved
//! 8-15     LUN or reserved            LUN or reserved
//! 16-19    ITT (ffffffff: reply)      ITT (ffffffff: unsolicited)
//! 20-23    TTT (echoed, or ffffffff)  TTT (ffffffff: no reply wanted)
//! 24-27    CmdSN                      StatSN
//! 28-31    ExpStatSN                  ExpCmdSN
//! 32-35    reserved                   MaxCmdSN
//! ```
//! A NOP-Out with a valid ITT is a ping that asks for a NOP-In echo; a NOP-In
//! with a TTT other than 0xffffffff must be answered by a NOP-Out with
//! ITT = 0xffffffff echoing the TTT and the LUN (§11.18.3, §11.19.3).

use super::bhs::{self, get32, get_array, put32, put_bytes, Bhs, F_BIT};
use super::{Lun, Opcode, PduError};

/// NOP-Out (RFC 7143 §11.18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NopOut {
    /// I bit. A NOP-Out with ITT = 0xffffffff must be immediate (§11.18).
    pub immediate: bool,
    /// Ping data length (echoed back by the target).
    pub data_segment_length: u32,
    /// LUN (echoed from the NOP-In when answering one).
    pub lun: Lun,
    /// ITT, or 0xffffffff when answering a target's NOP-In.
    pub itt: u32,
    /// TTT echoed from the NOP-In, or 0xffffffff for an initiator ping.
    pub ttt: u32,
    /// CmdSN (not advanced: NOP-Outs here are immediate).
    pub cmd_sn: u32,
    /// ExpStatSN.
    pub exp_stat_sn: u32,
}

impl NopOut {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        bhs::begin(
            bhs,
            Opcode::NopOut,
            self.immediate,
            F_BIT,
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
        let immediate = bhs::check_initiator(bhs, Opcode::NopOut, false)?;
        bhs::require_final(bhs)?;
        Ok(Self {
            immediate,
            data_segment_length: bhs::data_segment_length(bhs),
            lun: Lun(get_array(bhs, 8)),
            itt: get32(bhs, 16),
            ttt: get32(bhs, 20),
            cmd_sn: get32(bhs, 24),
            exp_stat_sn: get32(bhs, 28),
        })
    }
}

/// NOP-In (RFC 7143 §11.19).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NopIn {
    /// Ping data length.
    pub data_segment_length: u32,
    /// LUN, to echo when answering.
    pub lun: Lun,
    /// ITT of the NOP-Out answered, or 0xffffffff for an unsolicited NOP-In.
    pub itt: u32,
    /// TTT: not 0xffffffff when the target wants a NOP-Out reply.
    pub ttt: u32,
    /// StatSN: consumed when answering a NOP-Out, the current value otherwise.
    pub stat_sn: u32,
    /// ExpCmdSN.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN.
    pub max_cmd_sn: u32,
}

impl NopIn {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        bhs::begin(bhs, Opcode::NopIn, false, F_BIT, self.data_segment_length)?;
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
        bhs::check_target(bhs, Opcode::NopIn)?;
        bhs::require_final(bhs)?;
        // ITT and TTT both 0xffffffff is legal: an unsolicited NOP-In that
        // wants no reply, used by targets to push a new MaxCmdSN (§11.19.2).
        Ok(Self {
            data_segment_length: bhs::data_segment_length(bhs),
            lun: Lun(get_array(bhs, 8)),
            itt: get32(bhs, 16),
            ttt: get32(bhs, 20),
            stat_sn: get32(bhs, 24),
            exp_cmd_sn: get32(bhs, 28),
            max_cmd_sn: get32(bhs, 32),
        })
    }

    /// The target expects a NOP-Out in reply (§11.19.3).
    pub const fn wants_reply(&self) -> bool {
        self.ttt != bhs::RESERVED_TAG
    }

    /// This NOP-In answers an initiator ping, so its StatSN is consumed.
    pub const fn is_response(&self) -> bool {
        self.itt != bhs::RESERVED_TAG
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_layout() {
        let n = NopOut {
            immediate: true,
            data_segment_length: 0,
            lun: Lun::ZERO,
            itt: 0x42,
            ttt: 0xffff_ffff,
            cmd_sn: 12,
            exp_stat_sn: 34,
        };
        let mut b = [0u8; 48];
        n.encode(&mut b).unwrap();
        let mut want = [0u8; 48];
        want[0] = 0x40;
        want[1] = 0x80;
        want[19] = 0x42;
        want[20..24].copy_from_slice(&[0xff; 4]);
        want[27] = 12;
        want[31] = 34;
        assert_eq!(b, want);
        assert_eq!(NopOut::decode(&b), Ok(n));
    }

    #[test]
    fn nop_in_layout_and_predicates() {
        let mut b = [0u8; 48];
        b[0] = 0x20;
        b[1] = 0x80;
        b[16..20].copy_from_slice(&[0xff; 4]);
        b[20..24].copy_from_slice(&[0, 0, 0, 7]);
        b[27] = 5;
        b[31] = 6;
        b[35] = 70;
        let n = NopIn::decode(&b).unwrap();
        assert_eq!(n.ttt, 7);
        assert_eq!((n.stat_sn, n.exp_cmd_sn, n.max_cmd_sn), (5, 6, 70));
        assert!(n.wants_reply());
        assert!(!n.is_response());
        let mut again = [0u8; 48];
        n.encode(&mut again).unwrap();
        assert_eq!(again, b);
    }
}
