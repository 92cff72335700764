// SPDX-License-Identifier: GPL-2.0
//! SCSI Command PDU (RFC 7143 §11.3), opcode 0x01.
//!
//! ```text
//! byte 0     .|I| 0x01
//! byte 1     F|R|W|.|.|ATTR
//! 4          TotalAHSLength     5-7  DataSegmentLength
//! 8-15       LUN                16-19 ITT
//! 20-23      Expected Data Transfer Length
//! 24-27      CmdSN              28-31 ExpStatSN
//! 32-47      CDB (first 16 bytes; the rest in an Extended CDB AHS)
//! ```

use super::ahs::{self, CommandAhs};
use super::bhs::{self, get32, get8, get_array, put32, put_bytes, Bhs, F_BIT};
use super::{Lun, Opcode, PduError};

/// Task attribute, the ATTR field (RFC 7143 §11.3.1, SAM task attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAttr {
    /// 0: Untagged (treated as Simple by SAM-5 targets).
    Untagged = 0,
    /// 1: Simple.
    Simple = 1,
    /// 2: Ordered.
    Ordered = 2,
    /// 3: Head of queue.
    HeadOfQueue = 3,
    /// 4: ACA.
    Aca = 4,
}

impl TaskAttr {
    /// Decodes the 3-bit ATTR field; 5-7 are reserved.
    pub const fn from_bits(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Untagged),
            1 => Some(Self::Simple),
            2 => Some(Self::Ordered),
            3 => Some(Self::HeadOfQueue),
            4 => Some(Self::Aca),
            _ => None,
        }
    }
}

/// A CDB split the way iSCSI carries it: the first 16 bytes in the BHS
/// (zero-padded when shorter) and the rest in an Extended CDB AHS. The tail is
/// borrowed, so decoding a long CDB copies nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cdb<'a> {
    head: [u8; 16],
    tail: &'a [u8],
}

impl<'a> Cdb<'a> {
    /// Wraps a CDB of any length from 1 byte up; the SCSI opcode defines the
    /// real length, so a short CDB simply occupies the first bytes of the field.
    pub fn new(cdb: &'a [u8]) -> Result<Self, PduError> {
        if cdb.is_empty() {
            return Err(PduError::BadLength);
        }
        let (first, tail) = cdb.split_at_checked(16).unwrap_or((cdb, &[]));
        let mut head = [0u8; 16];
        if let Some(dst) = head.get_mut(..first.len()) {
            dst.copy_from_slice(first);
        }
        // An AHS is at most 1020 bytes, 4 of them header and reserved byte.
        if ahs::extended_cdb_ahs_len(tail.len()) > ahs::MAX_AHS_LEN {
            return Err(PduError::CdbTooLong);
        }
        Ok(Self { head, tail })
    }

    /// The 16 bytes carried in the BHS.
    pub const fn head(&self) -> &[u8; 16] {
        &self.head
    }

    /// The bytes beyond the first 16 (empty for CDBs up to 16 bytes).
    pub const fn extended(&self) -> &'a [u8] {
        self.tail
    }

    /// Length as carried: 16, plus the extended part if any.
    pub const fn len(&self) -> usize {
        16 + self.tail.len()
    }

    /// Never empty: the BHS always holds 16 CDB bytes.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Copies the whole CDB into `out`; returns the number of bytes copied, or
    /// `None` if `out` is too small.
    pub fn copy_to(&self, out: &mut [u8]) -> Option<usize> {
        let (a, rest) = out.split_at_mut_checked(16)?;
        a.copy_from_slice(&self.head);
        rest.get_mut(..self.tail.len())?.copy_from_slice(self.tail);
        Some(self.len())
    }
}

/// SCSI Command request (RFC 7143 §11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScsiCommand<'a> {
    /// I bit: immediate delivery (CmdSN not advanced, §3.2.2.1).
    pub immediate: bool,
    /// F bit: no unsolicited Data-Out PDUs follow (§11.3.1).
    pub final_flag: bool,
    /// R bit: the command reads data from the target.
    pub read: bool,
    /// W bit: the command writes data to the target.
    pub write: bool,
    /// ATTR: task attribute.
    pub attr: TaskAttr,
    /// Immediate data carried in this PDU's data segment.
    pub data_segment_length: u32,
    /// Logical unit addressed.
    pub lun: Lun,
    /// Initiator Task Tag.
    pub itt: u32,
    /// Expected Data Transfer Length (§11.3.4): the write length for
    /// bidirectional commands, the read or write length otherwise.
    pub expected_data_transfer_length: u32,
    /// CmdSN (§11.3.5).
    pub cmd_sn: u32,
    /// ExpStatSN (§11.3.6).
    pub exp_stat_sn: u32,
    /// The CDB (§11.3.7), possibly extended through an AHS (§11.2.2.3).
    pub cdb: Cdb<'a>,
    /// Bidirectional Read Expected Data Transfer Length AHS (§11.2.2.4).
    pub bidi_read_length: Option<u32>,
}

impl<'a> ScsiCommand<'a> {
    /// Writes the BHS into `bhs` and any AHS into `ahs_out`; returns the AHS
    /// length in bytes (already reflected in TotalAHSLength). `ahs_out` needs
    /// [`ahs::extended_cdb_ahs_len`] + [`ahs::BIDI_AHS_LEN`] bytes at most.
    pub fn encode(&self, bhs: &mut Bhs, ahs_out: &mut [u8]) -> Result<usize, PduError> {
        let b1 = if self.final_flag { F_BIT } else { 0 }
            | if self.read { 0x40 } else { 0 }
            | if self.write { 0x20 } else { 0 }
            | self.attr as u8;
        bhs::begin(
            bhs,
            Opcode::ScsiCommand,
            self.immediate,
            b1,
            self.data_segment_length,
        )?;
        let ahs_len = ahs::write(
            &CommandAhs {
                extended_cdb: self.cdb.tail,
                bidi_read_length: self.bidi_read_length,
            },
            ahs_out,
        )?;
        bhs::put8(bhs, 4, (ahs_len / 4) as u8);
        put_bytes(bhs, 8, &self.lun.0);
        put32(bhs, 16, self.itt);
        put32(bhs, 20, self.expected_data_transfer_length);
        put32(bhs, 24, self.cmd_sn);
        put32(bhs, 28, self.exp_stat_sn);
        put_bytes(bhs, 32, &self.cdb.head);
        Ok(ahs_len)
    }

    /// Decodes a SCSI Command from its BHS and the TotalAHSLength bytes of AHS
    /// that followed it.
    pub fn decode(bhs: &Bhs, ahs: &'a [u8]) -> Result<Self, PduError> {
        let immediate = bhs::check_initiator(bhs, Opcode::ScsiCommand, true)?;
        if ahs.len() != bhs::total_ahs_len(bhs) {
            return Err(PduError::AhsLengthMismatch);
        }
        let b1 = get8(bhs, 1);
        if b1 & 0x18 != 0 {
            return Err(PduError::ReservedBits);
        }
        let attr = TaskAttr::from_bits(b1 & 0x07).ok_or(PduError::InvalidField)?;
        let parsed = ahs::parse(ahs)?;
        Ok(Self {
            immediate,
            final_flag: b1 & F_BIT != 0,
            read: b1 & 0x40 != 0,
            write: b1 & 0x20 != 0,
            attr,
            data_segment_length: bhs::data_segment_length(bhs),
            lun: Lun(get_array(bhs, 8)),
            itt: get32(bhs, 16),
            expected_data_transfer_length: get32(bhs, 20),
            cmd_sn: get32(bhs, 24),
            exp_stat_sn: get32(bhs, 28),
            cdb: Cdb {
                head: get_array(bhs, 32),
                tail: parsed.extended_cdb,
            },
            bidi_read_length: parsed.bidi_read_length,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read10() -> [u8; 10] {
        [0x28, 0, 0, 0, 0x10, 0, 0, 0, 8, 0]
    }

    #[test]
    fn read10_layout_matches_rfc_offsets() {
        let cdb = read10();
        let cmd = ScsiCommand {
            immediate: false,
            final_flag: true,
            read: true,
            write: false,
            attr: TaskAttr::Simple,
            data_segment_length: 0,
            lun: Lun::single_level(2).unwrap(),
            itt: 0x0000_0010,
            expected_data_transfer_length: 4096,
            cmd_sn: 0x0102_0304,
            exp_stat_sn: 0x0a0b_0c0d,
            cdb: Cdb::new(&cdb).unwrap(),
            bidi_read_length: None,
        };
        let mut b = [0u8; 48];
        let n = cmd.encode(&mut b, &mut []).unwrap();
        assert_eq!(n, 0);
        let mut want = [0u8; 48];
        want[0] = 0x01;
        want[1] = 0xc1; // F | R | ATTR=Simple
        want[9] = 2;
        want[16..20].copy_from_slice(&[0, 0, 0, 0x10]);
        want[20..24].copy_from_slice(&[0, 0, 0x10, 0]);
        want[24..28].copy_from_slice(&[1, 2, 3, 4]);
        want[28..32].copy_from_slice(&[0x0a, 0x0b, 0x0c, 0x0d]);
        want[32..42].copy_from_slice(&cdb);
        assert_eq!(b, want);
        assert_eq!(ScsiCommand::decode(&b, &[]).unwrap(), cmd);
    }

    #[test]
    fn long_cdb_goes_to_ahs() {
        let mut cdb = [0u8; 32];
        cdb[0] = 0x7f; // variable-length CDB
        cdb[31] = 0x99;
        let cmd = ScsiCommand {
            immediate: true,
            final_flag: false,
            read: true,
            write: true,
            attr: TaskAttr::Ordered,
            data_segment_length: 512,
            lun: Lun::ZERO,
            itt: 7,
            expected_data_transfer_length: 8192,
            cmd_sn: 9,
            exp_stat_sn: 1,
            cdb: Cdb::new(&cdb).unwrap(),
            bidi_read_length: Some(4096),
        };
        let mut b = [0u8; 48];
        let mut ahs = [0u8; 64];
        let n = cmd.encode(&mut b, &mut ahs).unwrap();
        assert_eq!(n, 20 + 8);
        assert_eq!(b[0], 0x41);
        assert_eq!(b[1], 0x62);
        assert_eq!(b[4], 7);
        assert_eq!(&b[5..8], &[0, 2, 0]);
        let d = ScsiCommand::decode(&b, &ahs[..n]).unwrap();
        assert_eq!(d, cmd);
        let mut whole = [0u8; 40];
        assert_eq!(d.cdb.copy_to(&mut whole), Some(32));
        assert_eq!(whole[..32], cdb);
        assert_eq!(
            ScsiCommand::decode(&b, &ahs[..n - 4]),
            Err(PduError::AhsLengthMismatch)
        );
    }

    #[test]
    fn reserved_attr_rejected() {
        let mut b = [0u8; 48];
        b[0] = 0x01;
        b[1] = 0x85;
        assert_eq!(ScsiCommand::decode(&b, &[]), Err(PduError::InvalidField));
        b[1] = 0x88;
        assert_eq!(ScsiCommand::decode(&b, &[]), Err(PduError::ReservedBits));
    }

    #[test]
    fn cdb_limits() {
        assert_eq!(Cdb::new(&[]), Err(PduError::BadLength));
        let big = [0u8; 16 + 1016];
        assert!(Cdb::new(&big).is_ok());
        let too_big = [0u8; 16 + 1017];
        assert_eq!(Cdb::new(&too_big), Err(PduError::CdbTooLong));
    }
}
