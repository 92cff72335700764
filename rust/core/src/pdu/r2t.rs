// SPDX-License-Identifier: GPL-2.0
//! Ready To Transfer (R2T) PDU (RFC 7143 §11.8), opcode 0x31.
//!
//! ```text
//! byte 0   .|.| 0x31            byte 1  1|reserved
//! 4        TotalAHSLength (0)   5-7     DataSegmentLength (0)
//! 8-15     LUN                  16-19   ITT
//! 20-23    TTT                  24-27   StatSN
//! 28-31    ExpCmdSN             32-35   MaxCmdSN
//! 36-39    R2TSN                40-43   Buffer Offset
//! 44-47    Desired Data Transfer Length
//! ```

use super::bhs::{self, get32, get_array, put32, put_bytes, Bhs, F_BIT};
use super::{Lun, Opcode, PduError};

/// R2T (RFC 7143 §11.8): the target asks for `desired_data_transfer_length`
/// bytes of write data from `buffer_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct R2t {
    /// LUN, to be echoed in the Data-Out PDUs.
    pub lun: Lun,
    /// Initiator Task Tag.
    pub itt: u32,
    /// Target Transfer Tag, echoed in the Data-Out PDUs (never 0xffffffff).
    pub ttt: u32,
    /// StatSN: the next StatSN, not consumed by the R2T.
    pub stat_sn: u32,
    /// ExpCmdSN.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN.
    pub max_cmd_sn: u32,
    /// R2TSN (§11.8.2), shares the per-command counter with Data-In DataSN.
    pub r2t_sn: u32,
    /// Buffer Offset (§11.8.3) of the requested data.
    pub buffer_offset: u32,
    /// Desired Data Transfer Length (§11.8.4), never 0.
    pub desired_data_transfer_length: u32,
}

impl R2t {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        bhs::begin(bhs, Opcode::R2t, false, F_BIT, 0)?;
        put_bytes(bhs, 8, &self.lun.0);
        put32(bhs, 16, self.itt);
        put32(bhs, 20, self.ttt);
        put32(bhs, 24, self.stat_sn);
        put32(bhs, 28, self.exp_cmd_sn);
        put32(bhs, 32, self.max_cmd_sn);
        put32(bhs, 36, self.r2t_sn);
        put32(bhs, 40, self.buffer_offset);
        put32(bhs, 44, self.desired_data_transfer_length);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        bhs::check_target(bhs, Opcode::R2t)?;
        bhs::require_final(bhs)?;
        bhs::require_no_data(bhs)?;
        Ok(Self {
            lun: Lun(get_array(bhs, 8)),
            itt: get32(bhs, 16),
            ttt: get32(bhs, 20),
            stat_sn: get32(bhs, 24),
            exp_cmd_sn: get32(bhs, 28),
            max_cmd_sn: get32(bhs, 32),
            r2t_sn: get32(bhs, 36),
            buffer_offset: get32(bhs, 40),
            desired_data_transfer_length: get32(bhs, 44),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_rfc_offsets() {
        let mut b = [0u8; 48];
        b[0] = 0x31;
        b[1] = 0x80;
        b[9] = 3;
        b[16..20].copy_from_slice(&[0, 0, 0, 9]);
        b[20..24].copy_from_slice(&[0xab, 0xcd, 0, 1]);
        b[24..28].copy_from_slice(&[0, 0, 0, 50]);
        b[28..32].copy_from_slice(&[0, 0, 0, 20]);
        b[32..36].copy_from_slice(&[0, 0, 0, 83]);
        b[36..40].copy_from_slice(&[0, 0, 0, 2]);
        b[40..44].copy_from_slice(&[0, 0, 0x20, 0]);
        b[44..48].copy_from_slice(&[0, 1, 0, 0]);
        let r = R2t::decode(&b).unwrap();
        assert_eq!(
            r,
            R2t {
                lun: Lun::single_level(3).unwrap(),
                itt: 9,
                ttt: 0xabcd_0001,
                stat_sn: 50,
                exp_cmd_sn: 20,
                max_cmd_sn: 83,
                r2t_sn: 2,
                buffer_offset: 8192,
                desired_data_transfer_length: 65536,
            }
        );
        let mut again = [0u8; 48];
        r.encode(&mut again).unwrap();
        assert_eq!(again, b);
    }

    #[test]
    fn r2t_with_data_or_without_f_is_rejected() {
        let mut b = [0u8; 48];
        b[0] = 0x31;
        b[1] = 0x80;
        b[7] = 4;
        assert_eq!(R2t::decode(&b), Err(PduError::UnexpectedData));
        b[7] = 0;
        b[1] = 0;
        assert_eq!(R2t::decode(&b), Err(PduError::InvalidFlags));
    }
}
