// SPDX-License-Identifier: GPL-2.0
//! Where each part of a PDU sits on the wire, and the digests that protect
//! them (RFC 7143 §11.2: BHS, AHS, HeaderDigest, DataSegment + padding,
//! DataDigest).
//!
//! A receiver reads the 48-byte BHS first, asks [`PduLayout::from_bhs`] how much
//! follows, then reads the AHS and header digest into a small buffer and the
//! data segment wherever it belongs (for Data-In: straight into the SCSI
//! command's scatterlist). Nothing here needs the data segment to be
//! contiguous: [`DataDigest`] is fed piece by piece.

use super::super::crc32c::{digest_from_wire, digest_to_wire, Crc32c};
use super::bhs::{self, Bhs, BHS_LEN};
use super::PduError;

/// Length of a header or data digest on the wire.
pub const DIGEST_LEN: usize = 4;

/// Which digests the connection negotiated (RFC 7143 §13.1). Both are off
/// during the login phase until the final Login Response has been received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Digests {
    /// HeaderDigest=CRC32C.
    pub header: bool,
    /// DataDigest=CRC32C.
    pub data: bool,
}

impl Digests {
    /// No digests (login phase, or `None` negotiated).
    pub const NONE: Digests = Digests {
        header: false,
        data: false,
    };
}

/// Padding that follows a data segment of `len` bytes to reach a 4-byte
/// boundary (RFC 7143 §11.2.4).
pub const fn pad_len(len: u32) -> u32 {
    (4 - (len & 3)) & 3
}

/// The wire layout of one PDU, derived from its BHS.
///
/// Offsets count from the first byte of the BHS:
/// `[BHS 48][AHS ahs_len][HeaderDigest 4?][Data data_len][pad][DataDigest 4?]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PduLayout {
    /// TotalAHSLength in bytes (already a multiple of 4).
    pub ahs_len: usize,
    /// A header digest follows the AHS.
    pub header_digest: bool,
    /// DataSegmentLength: payload bytes without padding.
    pub data_len: u32,
    /// Zero to three padding bytes after the payload.
    pub pad: u8,
    /// A data digest follows the padding. Only present when there is a data
    /// segment at all (RFC 7143 §11.2.3).
    pub data_digest: bool,
}

impl PduLayout {
    /// The layout announced by `bhs` on a connection using `digests`. Never
    /// fails: every 48-byte pattern has a well-defined length, and the opcode
    /// is checked when the header is decoded.
    pub fn from_bhs(bhs: &Bhs, digests: Digests) -> PduLayout {
        let data_len = bhs::data_segment_length(bhs);
        PduLayout {
            ahs_len: bhs::total_ahs_len(bhs),
            header_digest: digests.header,
            data_len,
            pad: pad_len(data_len) as u8,
            data_digest: digests.data && data_len != 0,
        }
    }

    /// Bytes between the end of the BHS and the start of the data segment
    /// (AHS plus header digest): read these before decoding.
    pub const fn header_rest_len(&self) -> usize {
        self.ahs_len + if self.header_digest { DIGEST_LEN } else { 0 }
    }

    /// Offset of the first AHS byte (always right after the BHS).
    pub const fn ahs_offset(&self) -> usize {
        BHS_LEN
    }

    /// Offset of the header digest, if present.
    pub const fn header_digest_offset(&self) -> Option<usize> {
        if self.header_digest {
            Some(BHS_LEN + self.ahs_len)
        } else {
            None
        }
    }

    /// Offset of the first data segment byte.
    pub const fn data_offset(&self) -> usize {
        BHS_LEN + self.header_rest_len()
    }

    /// Bytes from the start of the data segment to the end of the PDU
    /// (payload, padding and data digest).
    pub const fn data_rest_len(&self) -> usize {
        self.data_len as usize + self.pad as usize + if self.data_digest { DIGEST_LEN } else { 0 }
    }

    /// Offset of the data digest, if present.
    pub const fn data_digest_offset(&self) -> Option<usize> {
        if self.data_digest {
            Some(self.data_offset() + self.data_len as usize + self.pad as usize)
        } else {
            None
        }
    }

    /// Length of the whole PDU on the wire.
    pub const fn total_len(&self) -> usize {
        self.data_offset() + self.data_rest_len()
    }

    /// Rejects a data segment larger than the MaxRecvDataSegmentLength this
    /// side declared (RFC 7143 §13.12), before any buffer is committed to it.
    pub const fn check_max_data(&self, max_recv_data_segment_length: u32) -> Result<(), PduError> {
        if self.data_len > max_recv_data_segment_length {
            Err(PduError::DataSegmentTooLong)
        } else {
            Ok(())
        }
    }
}

/// CRC32C over the BHS and the AHS, as carried in the header digest.
pub fn header_digest(bhs: &Bhs, ahs: &[u8]) -> u32 {
    let mut c = Crc32c::new();
    c.update(bhs);
    c.update(ahs);
    c.finish()
}

/// Writes the header digest wire bytes for `bhs` + `ahs`.
pub fn header_digest_bytes(bhs: &Bhs, ahs: &[u8]) -> [u8; DIGEST_LEN] {
    digest_to_wire(header_digest(bhs, ahs))
}

/// Checks a received header digest. On mismatch RFC 7143 §7.8 has the
/// receiver discard the PDU (the header cannot be trusted, so not even its
/// lengths): the connection must be recovered.
pub fn verify_header_digest(bhs: &Bhs, ahs: &[u8], wire: [u8; DIGEST_LEN]) -> Result<(), PduError> {
    let computed = header_digest(bhs, ahs);
    let received = digest_from_wire(wire);
    if computed == received {
        Ok(())
    } else {
        Err(PduError::HeaderDigestMismatch { computed, received })
    }
}

/// Running data digest over a data segment delivered in any number of pieces.
/// The digest covers the payload and its padding (RFC 7143 §11.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataDigest {
    crc: Crc32c,
    len: u32,
}

impl DataDigest {
    /// Starts a digest for a new data segment.
    pub const fn new() -> Self {
        DataDigest {
            crc: Crc32c::new(),
            len: 0,
        }
    }

    /// Feeds the next payload bytes, in wire order.
    pub fn update(&mut self, data: &[u8]) {
        self.crc.update(data);
        // Lengths beyond 2^32 cannot occur (DataSegmentLength is 24 bits);
        // wrapping keeps the padding arithmetic total anyway.
        self.len = self.len.wrapping_add(data.len() as u32);
    }

    /// Payload bytes fed so far.
    pub const fn len(&self) -> u32 {
        self.len
    }

    /// Nothing fed yet.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest with zero padding appended, as a sender computes it.
    pub fn finish(&self) -> u32 {
        let mut c = self.crc;
        let pad = pad_len(self.len) as usize;
        c.update([0u8; 3].get(..pad).unwrap_or(&[]));
        c.finish()
    }

    /// The digest over the padding bytes actually received (RFC 7143 says the
    /// pad "SHOULD" be zero, and the digest covers whatever was sent).
    /// `pad` must be exactly as long as the padding this payload needs.
    pub fn finish_with_pad(&self, pad: &[u8]) -> Result<u32, PduError> {
        if pad.len() != pad_len(self.len) as usize {
            return Err(PduError::BadLength);
        }
        let mut c = self.crc;
        c.update(pad);
        Ok(c.finish())
    }

    /// The wire bytes of [`DataDigest::finish`].
    pub fn finish_bytes(&self) -> [u8; DIGEST_LEN] {
        digest_to_wire(self.finish())
    }

    /// Checks a received data digest against the payload fed so far and the
    /// received padding. On mismatch RFC 7143 §7.8 keeps the header (it was
    /// protected separately) and discards the data: for Data-In that means a
    /// SNACK (ERL >= 1), for commands a Reject with reason "data digest error".
    pub fn verify(&self, pad: &[u8], wire: [u8; DIGEST_LEN]) -> Result<(), PduError> {
        let computed = self.finish_with_pad(pad)?;
        let received = digest_from_wire(wire);
        if computed == received {
            Ok(())
        } else {
            Err(PduError::DataDigestMismatch { computed, received })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::crc32c::crc32c;
    use super::*;

    fn bhs_with(ahs_words: u8, dsl: u32) -> Bhs {
        let mut b = [0u8; BHS_LEN];
        b[4] = ahs_words;
        b[5..8].copy_from_slice(&dsl.to_be_bytes()[1..]);
        b
    }

    #[test]
    fn padding() {
        assert_eq!(pad_len(0), 0);
        assert_eq!(pad_len(1), 3);
        assert_eq!(pad_len(2), 2);
        assert_eq!(pad_len(3), 1);
        assert_eq!(pad_len(4), 0);
        assert_eq!(pad_len(0x00ff_ffff), 1);
    }

    #[test]
    fn layout_without_digests() {
        let l = PduLayout::from_bhs(&bhs_with(0, 5), Digests::NONE);
        assert_eq!(l.header_rest_len(), 0);
        assert_eq!(l.data_offset(), 48);
        assert_eq!(l.pad, 3);
        assert_eq!(l.data_rest_len(), 8);
        assert_eq!(l.total_len(), 56);
        assert_eq!(l.header_digest_offset(), None);
        assert_eq!(l.data_digest_offset(), None);
    }

    #[test]
    fn layout_with_ahs_and_digests() {
        let d = Digests {
            header: true,
            data: true,
        };
        let l = PduLayout::from_bhs(&bhs_with(3, 6), d);
        assert_eq!(l.ahs_len, 12);
        assert_eq!(l.header_digest_offset(), Some(60));
        assert_eq!(l.data_offset(), 64);
        assert_eq!(l.data_digest_offset(), Some(64 + 6 + 2));
        assert_eq!(l.total_len(), 76);
    }

    #[test]
    fn no_data_digest_without_data() {
        let d = Digests {
            header: true,
            data: true,
        };
        let l = PduLayout::from_bhs(&bhs_with(0, 0), d);
        assert!(!l.data_digest);
        assert_eq!(l.total_len(), 52);
    }

    #[test]
    fn max_data_check() {
        let l = PduLayout::from_bhs(&bhs_with(0, 8193), Digests::NONE);
        assert_eq!(l.check_max_data(8192), Err(PduError::DataSegmentTooLong));
        assert_eq!(l.check_max_data(8193), Ok(()));
    }

    #[test]
    fn header_digest_covers_bhs_and_ahs() {
        let b = bhs_with(1, 0);
        let ahs = [1u8, 2, 3, 4];
        let mut whole = [0u8; 52];
        whole[..48].copy_from_slice(&b);
        whole[48..].copy_from_slice(&ahs);
        assert_eq!(header_digest(&b, &ahs), crc32c(&whole));
        let wire = header_digest_bytes(&b, &ahs);
        assert_eq!(verify_header_digest(&b, &ahs, wire), Ok(()));
        let mut bad = wire;
        bad[0] ^= 1;
        assert!(matches!(
            verify_header_digest(&b, &ahs, bad),
            Err(PduError::HeaderDigestMismatch { .. })
        ));
    }

    #[test]
    fn data_digest_includes_padding_and_is_split_invariant() {
        let data = *b"hello";
        let mut padded = [0u8; 8];
        padded[..5].copy_from_slice(&data);
        let mut d = DataDigest::new();
        d.update(&data[..2]);
        d.update(&data[2..]);
        assert_eq!(d.len(), 5);
        assert_eq!(d.finish(), crc32c(&padded));
        assert_eq!(
            d.verify(&[0, 0, 0], digest_to_wire(crc32c(&padded))),
            Ok(())
        );
        assert_eq!(
            d.verify(&[0, 0], d.finish_bytes()),
            Err(PduError::BadLength)
        );
        assert!(matches!(
            d.verify(&[0, 0, 1], d.finish_bytes()),
            Err(PduError::DataDigestMismatch { .. })
        ));
    }
}
