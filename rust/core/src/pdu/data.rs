// SPDX-License-Identifier: GPL-2.0
//! SCSI Data-Out (opcode 0x05) and SCSI Data-In (opcode 0x25) PDUs
//! (RFC 7143 §11.7).
//!
//! ```text
//! Data-Out                              Data-In
//! byte 0   .|.| 0x05                    .|.| 0x25
//! byte 1   F|reserved                   F|A|.|.|.|O|U|S
//! byte 3   reserved                     Status (valid with S)
//! 8-15     LUN (with TTT != ffffffff)   LUN (with A)
//! 16-19    ITT                          ITT
//! 20-23    TTT                          TTT
//! 24-27    reserved                     StatSN (valid with S)
//! 28-31    ExpStatSN                    ExpCmdSN
//! 32-35    reserved                     MaxCmdSN
//! 36-39    DataSN                       DataSN
//! 40-43    Buffer Offset                Buffer Offset
//! 44-47    reserved                     Residual Count (valid with S)
//! ```

use super::bhs::{self, get32, get8, get_array, put32, put8, put_bytes, Bhs, F_BIT};
use super::scsi_response::Residual;
use super::{Lun, Opcode, PduError};

/// SCSI Data-Out (RFC 7143 §11.7): write data, solicited by an R2T (TTT from
/// the R2T) or unsolicited (TTT = 0xffffffff).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataOut {
    /// F bit: last PDU of this R2T's (or the unsolicited) sequence.
    pub final_flag: bool,
    /// Payload length.
    pub data_segment_length: u32,
    /// LUN, echoed from the R2T for solicited data.
    pub lun: Lun,
    /// Initiator Task Tag.
    pub itt: u32,
    /// Target Transfer Tag from the R2T, or 0xffffffff for unsolicited data.
    pub ttt: u32,
    /// ExpStatSN.
    pub exp_stat_sn: u32,
    /// DataSN (§11.7.5): counts within one sequence, restarting at 0 per R2T.
    pub data_sn: u32,
    /// Buffer Offset (§11.7.6) of the payload within the command's data.
    pub buffer_offset: u32,
}

impl DataOut {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        let b1 = if self.final_flag { F_BIT } else { 0 };
        bhs::begin(bhs, Opcode::DataOut, false, b1, self.data_segment_length)?;
        put_bytes(bhs, 8, &self.lun.0);
        put32(bhs, 16, self.itt);
        put32(bhs, 20, self.ttt);
        put32(bhs, 28, self.exp_stat_sn);
        put32(bhs, 36, self.data_sn);
        put32(bhs, 40, self.buffer_offset);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        if bhs::check_initiator(bhs, Opcode::DataOut, false)? {
            // Data-Out has no I bit: bit 6 is reserved.
            return Err(PduError::ReservedBits);
        }
        Ok(Self {
            final_flag: get8(bhs, 1) & F_BIT != 0,
            data_segment_length: bhs::data_segment_length(bhs),
            lun: Lun(get_array(bhs, 8)),
            itt: get32(bhs, 16),
            ttt: get32(bhs, 20),
            exp_stat_sn: get32(bhs, 28),
            data_sn: get32(bhs, 36),
            buffer_offset: get32(bhs, 40),
        })
    }
}

/// SCSI Data-In (RFC 7143 §11.7): read data, possibly carrying the command's
/// status (S bit, "phase collapse").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataIn {
    /// F bit: last PDU of the sequence.
    pub final_flag: bool,
    /// A bit (§11.7.2): the target asks for a DataACK SNACK (ERL >= 1).
    pub acknowledge: bool,
    /// S bit (§11.7.3): `status`, `stat_sn` and `residual` are valid.
    pub status_flag: bool,
    /// SCSI status byte, meaningful with the S bit.
    pub status: u8,
    /// Payload length.
    pub data_segment_length: u32,
    /// LUN, meaningful with the A bit.
    pub lun: Lun,
    /// Initiator Task Tag.
    pub itt: u32,
    /// Target Transfer Tag: 0xffffffff unless the A bit is set.
    pub ttt: u32,
    /// StatSN, meaningful with the S bit.
    pub stat_sn: u32,
    /// ExpCmdSN.
    pub exp_cmd_sn: u32,
    /// MaxCmdSN.
    pub max_cmd_sn: u32,
    /// DataSN: per command, counting Data-In and R2T PDUs together.
    pub data_sn: u32,
    /// Buffer Offset of the payload within the command's read buffer.
    pub buffer_offset: u32,
    /// Residual (O/U bits and count), meaningful with the S bit.
    pub residual: Residual,
}

impl DataIn {
    /// Writes the BHS.
    pub fn encode(&self, bhs: &mut Bhs) -> Result<(), PduError> {
        let (o, u, count) = self.residual.to_bits();
        let b1 = if self.final_flag { F_BIT } else { 0 }
            | if self.acknowledge { 0x40 } else { 0 }
            | if o { 0x04 } else { 0 }
            | if u { 0x02 } else { 0 }
            | if self.status_flag { 0x01 } else { 0 };
        bhs::begin(bhs, Opcode::DataIn, false, b1, self.data_segment_length)?;
        put8(bhs, 3, self.status);
        put_bytes(bhs, 8, &self.lun.0);
        put32(bhs, 16, self.itt);
        put32(bhs, 20, self.ttt);
        put32(bhs, 24, self.stat_sn);
        put32(bhs, 28, self.exp_cmd_sn);
        put32(bhs, 32, self.max_cmd_sn);
        put32(bhs, 36, self.data_sn);
        put32(bhs, 40, self.buffer_offset);
        put32(bhs, 44, count);
        Ok(())
    }

    /// Decodes the BHS.
    pub fn decode(bhs: &Bhs) -> Result<Self, PduError> {
        bhs::check_target(bhs, Opcode::DataIn)?;
        let b1 = get8(bhs, 1);
        let final_flag = b1 & F_BIT != 0;
        let status_flag = b1 & 0x01 != 0;
        // §11.7.3: status may only ride on the final PDU of the command.
        if status_flag && !final_flag {
            return Err(PduError::InvalidFlags);
        }
        Ok(Self {
            final_flag,
            acknowledge: b1 & 0x40 != 0,
            status_flag,
            status: get8(bhs, 3),
            data_segment_length: bhs::data_segment_length(bhs),
            lun: Lun(get_array(bhs, 8)),
            itt: get32(bhs, 16),
            ttt: get32(bhs, 20),
            stat_sn: get32(bhs, 24),
            exp_cmd_sn: get32(bhs, 28),
            max_cmd_sn: get32(bhs, 32),
            data_sn: get32(bhs, 36),
            buffer_offset: get32(bhs, 40),
            residual: Residual::from_bits(b1 & 0x04 != 0, b1 & 0x02 != 0, get32(bhs, 44))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_out_layout() {
        let d = DataOut {
            final_flag: true,
            data_segment_length: 8192,
            lun: Lun::single_level(1).unwrap(),
            itt: 0x11,
            ttt: 0x2222_2222,
            exp_stat_sn: 0x33,
            data_sn: 4,
            buffer_offset: 0x0001_0000,
        };
        let mut b = [0u8; 48];
        d.encode(&mut b).unwrap();
        let mut want = [0u8; 48];
        want[0] = 0x05;
        want[1] = 0x80;
        want[5..8].copy_from_slice(&[0, 0x20, 0]);
        want[9] = 1;
        want[19] = 0x11;
        want[20..24].copy_from_slice(&[0x22; 4]);
        want[31] = 0x33;
        want[39] = 4;
        want[40..44].copy_from_slice(&[0, 1, 0, 0]);
        assert_eq!(b, want);
        assert_eq!(DataOut::decode(&b), Ok(d));
        b[0] |= 0x40;
        assert_eq!(DataOut::decode(&b), Err(PduError::ReservedBits));
    }

    #[test]
    fn data_in_with_status() {
        let d = DataIn {
            final_flag: true,
            acknowledge: false,
            status_flag: true,
            status: 0,
            data_segment_length: 4096,
            lun: Lun::ZERO,
            itt: 5,
            ttt: 0xffff_ffff,
            stat_sn: 77,
            exp_cmd_sn: 10,
            max_cmd_sn: 73,
            data_sn: 0,
            buffer_offset: 0,
            residual: Residual::Overflow(16),
        };
        let mut b = [0u8; 48];
        d.encode(&mut b).unwrap();
        assert_eq!(b[0], 0x25);
        assert_eq!(b[1], 0x85);
        assert_eq!(&b[20..24], &[0xff; 4]);
        assert_eq!(b[27], 77);
        assert_eq!(b[47], 16);
        assert_eq!(DataIn::decode(&b), Ok(d));
        // S without F is a protocol error.
        b[1] = 0x01;
        assert_eq!(DataIn::decode(&b), Err(PduError::InvalidFlags));
        // Targets never set the I bit.
        b[1] = 0x80;
        b[0] = 0x65;
        assert_eq!(DataIn::decode(&b), Err(PduError::ReservedBits));
    }
}
