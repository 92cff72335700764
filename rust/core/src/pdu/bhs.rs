// SPDX-License-Identifier: GPL-2.0
//! Basic Header Segment field access (RFC 7143 §11.2.1).
//!
//! Every multi-byte BHS field is big-endian. The accessors take `&[u8; 48]`
//! and constant offsets; they go through `get` so that a wrong offset in this
//! crate shows up as a wrong value in a test rather than a panic in the kernel.

use super::{Opcode, PduError};

/// Length of the Basic Header Segment (RFC 7143 §11.2.1).
pub const BHS_LEN: usize = 48;

/// The Basic Header Segment as it sits on the wire.
pub type Bhs = [u8; BHS_LEN];

/// Largest value of the 24-bit DataSegmentLength field (RFC 7143 §11.2.1.4).
pub const MAX_DATA_SEGMENT_LENGTH: u32 = 0x00ff_ffff;

/// The reserved tag value (RFC 7143 §11.2.1.8 for ITT, and TTT "not used").
pub const RESERVED_TAG: u32 = 0xffff_ffff;

/// Bit 6 of byte 0: the I (immediate delivery) bit of initiator PDUs.
pub(crate) const I_BIT: u8 = 0x40;
/// Bit 7 of byte 1: the F (final) bit.
pub(crate) const F_BIT: u8 = 0x80;

pub(crate) fn get8(b: &Bhs, off: usize) -> u8 {
    b.get(off).copied().unwrap_or(0)
}

pub(crate) fn get16(b: &Bhs, off: usize) -> u16 {
    match b.get(off..off.wrapping_add(2)) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

pub(crate) fn get24(b: &Bhs, off: usize) -> u32 {
    match b.get(off..off.wrapping_add(3)) {
        Some(&[x, y, z]) => u32::from_be_bytes([0, x, y, z]),
        _ => 0,
    }
}

pub(crate) fn get32(b: &Bhs, off: usize) -> u32 {
    match b.get(off..off.wrapping_add(4)) {
        Some(&[w, x, y, z]) => u32::from_be_bytes([w, x, y, z]),
        _ => 0,
    }
}

pub(crate) fn get_array<const N: usize>(b: &Bhs, off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = b.get(off..off.wrapping_add(N)) {
        out.copy_from_slice(src);
    }
    out
}

pub(crate) fn put8(b: &mut Bhs, off: usize, v: u8) {
    if let Some(x) = b.get_mut(off) {
        *x = v;
    }
}

pub(crate) fn put_bytes(b: &mut Bhs, off: usize, v: &[u8]) {
    if let Some(dst) = b.get_mut(off..off.wrapping_add(v.len())) {
        dst.copy_from_slice(v);
    }
}

pub(crate) fn put16(b: &mut Bhs, off: usize, v: u16) {
    put_bytes(b, off, &v.to_be_bytes());
}

pub(crate) fn put32(b: &mut Bhs, off: usize, v: u32) {
    put_bytes(b, off, &v.to_be_bytes());
}

/// The BHS at the start of `bytes` (which may continue with AHS and data).
pub fn from_slice(bytes: &[u8]) -> Result<&Bhs, PduError> {
    bytes
        .get(..BHS_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or(PduError::Truncated)
}

/// Opcode bits of byte 0 (RFC 7143 §11.2.1.2), without the I bit.
pub fn raw_opcode(b: &Bhs) -> u8 {
    get8(b, 0) & 0x3f
}

/// TotalAHSLength in bytes (the field counts 4-byte words, RFC 7143 §11.2.1.3).
pub fn total_ahs_len(b: &Bhs) -> usize {
    usize::from(get8(b, 4)) * 4
}

/// DataSegmentLength (RFC 7143 §11.2.1.4): payload bytes, excluding padding.
pub fn data_segment_length(b: &Bhs) -> u32 {
    get24(b, 5)
}

/// Initiator Task Tag (RFC 7143 §11.2.1.8), at the same offset in every PDU.
pub fn itt(b: &Bhs) -> u32 {
    get32(b, 16)
}

/// Starts an encoding: clears `b` and writes byte 0, byte 1 and
/// DataSegmentLength, which every PDU has in the same place.
pub(crate) fn begin(
    b: &mut Bhs,
    op: Opcode,
    immediate: bool,
    byte1: u8,
    data_segment_length: u32,
) -> Result<(), PduError> {
    if data_segment_length > MAX_DATA_SEGMENT_LENGTH {
        return Err(PduError::DataSegmentTooLong);
    }
    *b = [0; BHS_LEN];
    put8(b, 0, op as u8 | if immediate { I_BIT } else { 0 });
    put8(b, 1, byte1);
    let l = data_segment_length.to_be_bytes();
    put_bytes(b, 5, &l[1..]);
    Ok(())
}

/// Checks byte 0 of a PDU the target sent: the opcode must be `op` and both
/// high bits clear (bit 7 is reserved, and targets never set the I bit).
pub(crate) fn check_target(b: &Bhs, op: Opcode) -> Result<(), PduError> {
    let b0 = get8(b, 0);
    if b0 & 0x3f != op as u8 {
        return Err(PduError::WrongOpcode(b0 & 0x3f));
    }
    if b0 & 0xc0 != 0 {
        return Err(PduError::ReservedBits);
    }
    if get8(b, 4) != 0 {
        // RFC 7143 defines AHS types only for the SCSI Command PDU.
        return Err(PduError::UnexpectedAhs);
    }
    Ok(())
}

/// Checks byte 0 of an initiator PDU and returns its I bit. Bit 7 is reserved.
pub(crate) fn check_initiator(b: &Bhs, op: Opcode, ahs_allowed: bool) -> Result<bool, PduError> {
    let b0 = get8(b, 0);
    if b0 & 0x3f != op as u8 {
        return Err(PduError::WrongOpcode(b0 & 0x3f));
    }
    if b0 & 0x80 != 0 {
        return Err(PduError::ReservedBits);
    }
    if !ahs_allowed && get8(b, 4) != 0 {
        return Err(PduError::UnexpectedAhs);
    }
    Ok(b0 & I_BIT != 0)
}

/// The PDU must have the F bit set (PDUs that are always final).
pub(crate) fn require_final(b: &Bhs) -> Result<(), PduError> {
    if get8(b, 1) & F_BIT == 0 {
        return Err(PduError::InvalidFlags);
    }
    Ok(())
}

/// The PDU must carry no data segment.
pub(crate) fn require_no_data(b: &Bhs) -> Result<(), PduError> {
    if data_segment_length(b) != 0 {
        return Err(PduError::UnexpectedData);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_accessors_are_big_endian() {
        let mut b = [0u8; BHS_LEN];
        b[4] = 3;
        b[5..8].copy_from_slice(&[0x01, 0x02, 0x03]);
        b[16..20].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(total_ahs_len(&b), 12);
        assert_eq!(data_segment_length(&b), 0x0001_0203);
        assert_eq!(itt(&b), 0xdead_beef);
    }

    #[test]
    fn begin_writes_common_fields() {
        let mut b = [0xaau8; BHS_LEN];
        begin(&mut b, Opcode::ScsiCommand, true, 0x81, 0x00ab_cdef).unwrap();
        assert_eq!(b[0], 0x41);
        assert_eq!(b[1], 0x81);
        assert_eq!(&b[5..8], &[0xab, 0xcd, 0xef]);
        assert!(b[8..].iter().all(|&x| x == 0));
        assert_eq!(
            begin(&mut b, Opcode::NopOut, false, 0x80, 0x0100_0000),
            Err(PduError::DataSegmentTooLong)
        );
    }

    #[test]
    fn from_slice_needs_48_bytes() {
        let buf = [7u8; 50];
        assert_eq!(from_slice(&buf).unwrap()[47], 7);
        assert_eq!(from_slice(&buf[..47]), Err(PduError::Truncated));
    }

    #[test]
    fn out_of_range_offsets_do_not_panic() {
        let mut b = [0u8; BHS_LEN];
        assert_eq!(get32(&b, 46), 0);
        assert_eq!(get32(&b, usize::MAX), 0);
        put32(&mut b, 47, 1);
        assert_eq!(b, [0u8; BHS_LEN]);
    }
}
