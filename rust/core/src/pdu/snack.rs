// SPDX-License-Identifier: GPL-2.0
//! SNACK Request PDU (RFC 7143 §11.16), opcode 0x10.
//!
//! ```text
//! byte 0   .|.| 0x10           byte 1  1|.|.|.|Type
//! 8-15     LUN or reserved     16-19   ITT or ffffffff
//! 20-23    TTT or SNACK Tag or ffffffff
//! 28-31    ExpStatSN           40-43   BegRun
//! 44-47    RunLength
//! ```

use super::bhs::{self, get32, get8, get_array, put32, put_bytes, Bhs, F_BIT};
use super::{Lun, Opcode, PduError};

/// SNACK types (RFC 7143 §11.16.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnackType {
    /// 0: Data/R2T SNACK: resend Data-In or R2T PDUs BegRun..+RunLength.
    DataR2t = 0,
    /// 1: Status SNACK: resend responses by StatSN.
    Status = 1,
    /// 2: DataACK: positive acknowledgement of Data-In up to BegRun.
    DataAck = 2,
    /// 3: R-Data SNACK: resend all read data with a fresh SCSI Response.
    RData = 3,
}

impl SnackType {
    /// Decodes the 4-bit Type field.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::DataR2t),
            1 => Some(Self::Status),
            2 => Some(Self::DataAck),
            3 => Some(Self::RData),
            _ => None,
        }
    }
}

/// SNACK Request (RFC 7143 §11.16). Used at ErrorRecoveryLevel >= 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnackRequest {
    /// Type.
    pub snack_type: SnackType,
    /// LUN (DataACK: echoed from the Data-In with the A bit).
    pub lun: Lun,
    /// ITT of the task, or 0xffffffff for a Status SNACK.
    pub itt: u32,
    /// TTT (DataACK), SNACK Tag (R-Data), else 0xffffffff.
    pub ttt_or_snack_tag: u32,
    /// ExpStatSN.
    pub exp_stat_sn: u32,
    /// BegRun: first DataSN, R2TSN or StatSN requested (0 with RunLength 0
    /// means "everything not yet received").
    pub beg_run: u32,
    /// RunLength: how many, 0 for "all from BegRun on".
    pub run_length: u32,
}

impl SnackRequest {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        bhs::begin(
            bhs,
            Opcode::SnackRequest,
            false,
            F_BIT | self.snack_type as u8,
            0,
        )?;
        put_bytes(bhs, 8, &self.lun.0);
        put32(bhs, 16, self.itt);
        put32(bhs, 20, self.ttt_or_snack_tag);
        put32(bhs, 28, self.exp_stat_sn);
        put32(bhs, 40, self.beg_run);
        put32(bhs, 44, self.run_length);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        if bhs::check_initiator(bhs, Opcode::SnackRequest, false)? {
            return Err(PduError::ReservedBits);
        }
        bhs::require_final(bhs)?;
        let b1 = get8(bhs, 1);
        if b1 & 0x70 != 0 {
            return Err(PduError::ReservedBits);
        }
        Ok(Self {
            snack_type: SnackType::from_u8(b1 & 0x0f).ok_or(PduError::InvalidField)?,
            lun: Lun(get_array(bhs, 8)),
            itt: get32(bhs, 16),
            ttt_or_snack_tag: get32(bhs, 20),
            exp_stat_sn: get32(bhs, 28),
            beg_run: get32(bhs, 40),
            run_length: get32(bhs, 44),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_snack_layout() {
        let s = SnackRequest {
            snack_type: SnackType::DataR2t,
            lun: Lun::ZERO,
            itt: 0x10,
            ttt_or_snack_tag: 0xffff_ffff,
            exp_stat_sn: 8,
            beg_run: 3,
            run_length: 2,
        };
        let mut b = [0u8; 48];
        s.encode(&mut b).unwrap();
        let mut want = [0u8; 48];
        want[0] = 0x10;
        want[1] = 0x80;
        want[19] = 0x10;
        want[20..24].copy_from_slice(&[0xff; 4]);
        want[31] = 8;
        want[43] = 3;
        want[47] = 2;
        assert_eq!(b, want);
        assert_eq!(SnackRequest::decode(&b), Ok(s));
        b[1] = 0x84;
        assert_eq!(SnackRequest::decode(&b), Err(PduError::InvalidField));
    }
}
