// SPDX-License-Identifier: GPL-2.0
//! Additional Header Segments (RFC 7143 §11.2.2): the Extended CDB AHS
//! (type 1, §11.2.2.3) and the Bidirectional Read Expected Data Transfer
//! Length AHS (type 2, §11.2.2.4). Both belong to the SCSI Command PDU.
//!
//! Each AHS is `AHSLength (2) | AHSType (1) | AHS-specific`, where AHSLength
//! counts the AHS-specific bytes (including their leading reserved byte) but not
//! the padding to the next 4-byte boundary.

use super::PduError;

/// AHSType of the Extended CDB AHS.
pub const AHS_TYPE_EXTENDED_CDB: u8 = 1;
/// AHSType of the Bidirectional Read Expected Data Transfer Length AHS.
pub const AHS_TYPE_BIDI_READ_LENGTH: u8 = 2;
/// Largest AHS area: TotalAHSLength is one byte counting 4-byte words.
pub const MAX_AHS_LEN: usize = 255 * 4;
/// Wire size of the bidirectional read length AHS (5 specific bytes, padded).
pub const BIDI_AHS_LEN: usize = 8;

/// The AHS content of a SCSI Command that this crate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommandAhs<'a> {
    /// CDB bytes beyond the first 16 (empty when the CDB fits in the BHS).
    pub extended_cdb: &'a [u8],
    /// Expected read data length of a bidirectional command.
    pub bidi_read_length: Option<u32>,
}

/// Wire size of an Extended CDB AHS carrying `ext_len` bytes beyond the
/// first 16, padding included.
pub const fn extended_cdb_ahs_len(ext_len: usize) -> usize {
    // 3 header bytes + 1 reserved byte + the CDB tail, rounded up to 4;
    // saturating so an absurd length cannot trip overflow checks (the kernel
    // builds with CONFIG_RUST_OVERFLOW_CHECKS).
    ext_len.saturating_add(7) & !3
}

/// Parses the AHS area of a SCSI Command. `ahs` must be exactly the
/// TotalAHSLength bytes that followed the BHS.
pub fn parse(ahs: &[u8]) -> Result<CommandAhs<'_>, PduError> {
    let mut out = CommandAhs::default();
    let mut seen_cdb = false;
    let mut rest = ahs;
    while !rest.is_empty() {
        let (hdr, body) = split_fixed::<3>(rest).ok_or(PduError::BadAhs)?;
        let [l0, l1, ty] = *hdr;
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let specific = body.get(..len).ok_or(PduError::BadAhs)?;
        // Padding to a word boundary follows; it is not counted in AHSLength.
        let wire_len = (3 + len + 3) & !3;
        rest = rest.get(wire_len..).ok_or(PduError::BadAhs)?;
        match ty {
            AHS_TYPE_EXTENDED_CDB => {
                if seen_cdb {
                    return Err(PduError::DuplicateAhs);
                }
                seen_cdb = true;
                // One reserved byte, then at least one CDB byte: an Extended
                // CDB AHS only exists for CDBs longer than 16 bytes.
                let tail = specific.get(1..).unwrap_or(&[]);
                if tail.is_empty() {
                    return Err(PduError::BadAhs);
                }
                out.extended_cdb = tail;
            }
            AHS_TYPE_BIDI_READ_LENGTH => {
                if out.bidi_read_length.is_some() {
                    return Err(PduError::DuplicateAhs);
                }
                let &[_, a, b, c, d] = specific else {
                    return Err(PduError::BadAhs);
                };
                out.bidi_read_length = Some(u32::from_be_bytes([a, b, c, d]));
            }
            other => return Err(PduError::UnknownAhsType(other)),
        }
    }
    Ok(out)
}

/// Writes the AHS area for `ahs` into `out` and returns its length in bytes
/// (a multiple of 4; 0 when there is nothing to send).
pub fn write(ahs: &CommandAhs<'_>, out: &mut [u8]) -> Result<usize, PduError> {
    let mut pos = 0usize;
    if !ahs.extended_cdb.is_empty() {
        let ext = ahs.extended_cdb.len();
        let wire = extended_cdb_ahs_len(ext);
        let specific_len = u16::try_from(ext + 1).map_err(|_| PduError::CdbTooLong)?;
        let dst = out
            .get_mut(pos..pos + wire)
            .ok_or(PduError::BufferTooSmall)?;
        dst.fill(0);
        let [h, l] = specific_len.to_be_bytes();
        let (head, body) = dst.split_at_mut(4);
        head.copy_from_slice(&[h, l, AHS_TYPE_EXTENDED_CDB, 0]);
        body.get_mut(..ext)
            .ok_or(PduError::BufferTooSmall)?
            .copy_from_slice(ahs.extended_cdb);
        pos += wire;
    }
    if let Some(len) = ahs.bidi_read_length {
        let dst = out
            .get_mut(pos..pos + BIDI_AHS_LEN)
            .ok_or(PduError::BufferTooSmall)?;
        let [a, b, c, d] = len.to_be_bytes();
        dst.copy_from_slice(&[0, 5, AHS_TYPE_BIDI_READ_LENGTH, 0, a, b, c, d]);
        pos += BIDI_AHS_LEN;
    }
    if pos > MAX_AHS_LEN {
        return Err(PduError::CdbTooLong);
    }
    Ok(pos)
}

/// Splits off the first `N` bytes as an array.
pub(crate) fn split_fixed<const N: usize>(s: &[u8]) -> Option<(&[u8; N], &[u8])> {
    let (head, tail) = s.split_at_checked(N)?;
    let head: &[u8; N] = head.try_into().ok()?;
    Some((head, tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_cdb_layout() {
        // A 32-byte CDB: 16 bytes in the BHS, 16 in the AHS. AHSLength =
        // CDBLength - 15 = 17, padded wire length 20.
        let tail = [0x11u8; 16];
        let mut buf = [0xeeu8; 32];
        let n = write(
            &CommandAhs {
                extended_cdb: &tail,
                bidi_read_length: None,
            },
            &mut buf,
        )
        .unwrap();
        assert_eq!(n, 20);
        assert_eq!(&buf[..4], &[0x00, 17, 0x01, 0x00]);
        assert_eq!(&buf[4..20], &tail);
        let parsed = parse(&buf[..n]).unwrap();
        assert_eq!(parsed.extended_cdb, &tail);
        assert_eq!(parsed.bidi_read_length, None);
    }

    #[test]
    fn odd_tail_is_padded() {
        let tail = [1u8, 2, 3, 4, 5];
        let mut buf = [0xeeu8; 24];
        let n = write(
            &CommandAhs {
                extended_cdb: &tail,
                bidi_read_length: Some(0x0102_0304),
            },
            &mut buf,
        )
        .unwrap();
        assert_eq!(n, 12 + 8);
        assert_eq!(&buf[..12], &[0, 6, 1, 0, 1, 2, 3, 4, 5, 0, 0, 0]);
        assert_eq!(&buf[12..20], &[0, 5, 2, 0, 1, 2, 3, 4]);
        let parsed = parse(&buf[..n]).unwrap();
        assert_eq!(parsed.extended_cdb, &tail);
        assert_eq!(parsed.bidi_read_length, Some(0x0102_0304));
    }

    #[test]
    fn malformed_ahs() {
        assert_eq!(parse(&[0, 5, 2, 0]), Err(PduError::BadAhs));
        assert_eq!(parse(&[0, 4, 2, 0, 0, 0, 0, 0]), Err(PduError::BadAhs));
        assert_eq!(parse(&[0, 1, 1, 0]), Err(PduError::BadAhs));
        assert_eq!(parse(&[0, 1, 9, 0]), Err(PduError::UnknownAhsType(9)));
        let two = [0, 5, 2, 0, 0, 0, 0, 1, 0, 5, 2, 0, 0, 0, 0, 1];
        assert_eq!(parse(&two), Err(PduError::DuplicateAhs));
        assert_eq!(parse(&[0, 5]), Err(PduError::BadAhs));
    }

    #[test]
    fn small_buffer_is_an_error() {
        let mut buf = [0u8; 4];
        assert_eq!(
            write(
                &CommandAhs {
                    extended_cdb: &[],
                    bidi_read_length: Some(1),
                },
                &mut buf
            ),
            Err(PduError::BufferTooSmall)
        );
    }
}
