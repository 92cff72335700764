// SPDX-License-Identifier: GPL-2.0
//! SCSI commands the diagnostic issues (SPC-4 / SBC-3): CDB builders and
//! parsers for the data and sense they return. Nothing iSCSI here.

/// TEST UNIT READY (SPC-4 §6.47).
pub fn test_unit_ready() -> [u8; 6] {
    [0x00, 0, 0, 0, 0, 0]
}

/// INQUIRY, standard data (SPC-4 §6.6), `alloc` bytes at most.
pub fn inquiry(alloc: u16) -> [u8; 6] {
    let a = alloc.to_be_bytes();
    [0x12, 0, 0, a[0], a[1], 0]
}

/// READ CAPACITY (10) (SBC-3 §5.15); returns 8 bytes.
pub fn read_capacity10() -> [u8; 10] {
    [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]
}

/// Bytes READ CAPACITY (16) is asked to return.
pub const READ_CAPACITY16_LEN: u32 = 32;

/// READ CAPACITY (16): SERVICE ACTION IN (16) with service action 0x10
/// (SBC-3 §5.16).
pub fn read_capacity16() -> [u8; 16] {
    let mut c = [0u8; 16];
    c[0] = 0x9e;
    c[1] = 0x10;
    c[10..14].copy_from_slice(&READ_CAPACITY16_LEN.to_be_bytes());
    c
}

/// REPORT LUNS (SPC-4 §6.33), all LUNs, `alloc` bytes at most.
pub fn report_luns(alloc: u32) -> [u8; 12] {
    let mut c = [0u8; 12];
    c[0] = 0xa0;
    c[6..10].copy_from_slice(&alloc.to_be_bytes());
    c
}

/// The 8-byte LUNs of REPORT LUNS data (as many as were returned).
pub fn parse_report_luns(d: &[u8]) -> Option<Vec<[u8; 8]>> {
    let list_len = be32(d, 0)? as usize;
    let list = d.get(8..)?;
    let n = list_len.min(list.len()) / 8;
    Some(
        list.chunks_exact(8)
            .take(n)
            .filter_map(|c| c.try_into().ok())
            .collect(),
    )
}

fn rw10(op: u8, lba: u32, blocks: u16) -> [u8; 10] {
    let mut c = [0u8; 10];
    c[0] = op;
    c[2..6].copy_from_slice(&lba.to_be_bytes());
    c[7..9].copy_from_slice(&blocks.to_be_bytes());
    c
}

/// READ (10) of `blocks` blocks from `lba` (SBC-3 §5.11).
pub fn read10(lba: u32, blocks: u16) -> [u8; 10] {
    rw10(0x28, lba, blocks)
}

/// WRITE (10) of `blocks` blocks at `lba` (SBC-3 §5.32).
pub fn write10(lba: u32, blocks: u16) -> [u8; 10] {
    rw10(0x2a, lba, blocks)
}

/// The identification part of standard INQUIRY data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    /// PERIPHERAL DEVICE TYPE (0 = disk).
    pub device_type: u8,
    /// T10 VENDOR IDENTIFICATION, trimmed.
    pub vendor: String,
    /// PRODUCT IDENTIFICATION, trimmed.
    pub product: String,
    /// PRODUCT REVISION LEVEL, trimmed.
    pub revision: String,
}

fn ascii_field(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                char::from(c)
            } else {
                '.'
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Parses standard INQUIRY data; needs the first 36 bytes.
pub fn parse_inquiry(d: &[u8]) -> Option<Inquiry> {
    Some(Inquiry {
        device_type: d.first()? & 0x1f,
        vendor: ascii_field(d.get(8..16)?),
        product: ascii_field(d.get(16..32)?),
        revision: ascii_field(d.get(32..36)?),
    })
}

/// Size of a logical unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Number of logical blocks (last LBA + 1).
    pub blocks: u64,
    /// Logical block length in bytes.
    pub block_len: u32,
}

impl Capacity {
    /// Total bytes.
    pub fn bytes(&self) -> u64 {
        self.blocks.saturating_mul(u64::from(self.block_len))
    }
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// Parses READ CAPACITY (10) data. A last LBA of 0xffffffff means "too big,
/// use READ CAPACITY (16)" and is returned as is (2^32 blocks).
pub fn parse_read_capacity10(d: &[u8]) -> Option<Capacity> {
    Some(Capacity {
        blocks: u64::from(be32(d, 0)?) + 1,
        block_len: be32(d, 4)?,
    })
}

/// Parses READ CAPACITY (16) data.
pub fn parse_read_capacity16(d: &[u8]) -> Option<Capacity> {
    let last = u64::from_be_bytes(d.get(0..8)?.try_into().ok()?);
    Some(Capacity {
        blocks: last.checked_add(1)?,
        block_len: be32(d, 8)?,
    })
}

/// The interesting part of sense data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sense {
    /// SENSE KEY.
    pub key: u8,
    /// ADDITIONAL SENSE CODE.
    pub asc: u8,
    /// ADDITIONAL SENSE CODE QUALIFIER.
    pub ascq: u8,
}

impl Sense {
    /// UNIT ATTENTION: reported once after login or a reset; retry.
    pub fn is_unit_attention(&self) -> bool {
        self.key == 0x6
    }
}

/// Parses fixed (0x70/0x71) or descriptor (0x72/0x73) format sense data.
pub fn parse_sense(d: &[u8]) -> Option<Sense> {
    match d.first()? & 0x7f {
        0x70 | 0x71 => Some(Sense {
            key: d.get(2)? & 0x0f,
            asc: d.get(12).copied().unwrap_or(0),
            ascq: d.get(13).copied().unwrap_or(0),
        }),
        0x72 | 0x73 => Some(Sense {
            key: d.get(1)? & 0x0f,
            asc: d.get(2).copied().unwrap_or(0),
            ascq: d.get(3).copied().unwrap_or(0),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdbs() {
        assert_eq!(test_unit_ready(), [0; 6]);
        assert_eq!(inquiry(96), [0x12, 0, 0, 0, 96, 0]);
        assert_eq!(read_capacity10()[0], 0x25);
        let rc16 = read_capacity16();
        assert_eq!((rc16[0], rc16[1], rc16[13]), (0x9e, 0x10, 32));
        assert_eq!(
            write10(0x01020304, 0x0506),
            [0x2a, 0, 1, 2, 3, 4, 0, 5, 6, 0]
        );
        assert_eq!(read10(7, 1), [0x28, 0, 0, 0, 0, 7, 0, 0, 1, 0]);
    }

    #[test]
    fn report_luns_data() {
        assert_eq!(
            report_luns(4096)[..10],
            [0xa0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0]
        );
        let mut d = vec![0, 0, 0, 16, 0, 0, 0, 0];
        d.extend_from_slice(&[0; 8]);
        d.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        let luns = parse_report_luns(&d).unwrap();
        assert_eq!(luns, vec![[0; 8], [0, 1, 0, 0, 0, 0, 0, 0]]);
        // Truncated by the allocation length: only what arrived.
        assert_eq!(parse_report_luns(&d[..20]).unwrap().len(), 1);
        assert_eq!(parse_report_luns(&d[..4]), None);
    }

    #[test]
    fn inquiry_data() {
        let mut d = [0u8; 36];
        d[8..16].copy_from_slice(b"IET     ");
        d[16..32].copy_from_slice(b"VIRTUAL-DISK    ");
        d[32..36].copy_from_slice(b"0001");
        let i = parse_inquiry(&d).unwrap();
        assert_eq!(
            (i.device_type, &*i.vendor, &*i.product, &*i.revision),
            (0, "IET", "VIRTUAL-DISK", "0001")
        );
        d[9] = 0xff;
        assert_eq!(parse_inquiry(&d).unwrap().vendor, "I.T");
        assert_eq!(parse_inquiry(&d[..35]), None);
    }

    #[test]
    fn capacity() {
        let d = [0, 0, 0x7f, 0xff, 0, 0, 2, 0];
        let c = parse_read_capacity10(&d).unwrap();
        assert_eq!((c.blocks, c.block_len, c.bytes()), (0x8000, 512, 16 << 20));
        let mut d16 = [0u8; 32];
        d16[0..8].copy_from_slice(&0x1_0000_0000u64.to_be_bytes());
        d16[8..12].copy_from_slice(&4096u32.to_be_bytes());
        let c = parse_read_capacity16(&d16).unwrap();
        assert_eq!((c.blocks, c.block_len), (0x1_0000_0001, 4096));
        assert_eq!(parse_read_capacity10(&d[..7]), None);
        let mut max = [0xffu8; 12];
        max[8..12].copy_from_slice(&512u32.to_be_bytes());
        assert_eq!(parse_read_capacity16(&max), None);
    }

    #[test]
    fn sense() {
        let mut fixed = [0u8; 18];
        fixed[0] = 0x70;
        fixed[2] = 0x06;
        fixed[12] = 0x29;
        let s = parse_sense(&fixed).unwrap();
        assert!(s.is_unit_attention());
        assert_eq!((s.asc, s.ascq), (0x29, 0));
        let desc = [0x72, 0x05, 0x24, 0x01, 0, 0, 0, 0];
        assert_eq!(
            parse_sense(&desc),
            Some(Sense {
                key: 5,
                asc: 0x24,
                ascq: 1
            })
        );
        assert_eq!(parse_sense(&[]), None);
        assert_eq!(parse_sense(&[0x00, 1, 2]), None);
        assert_eq!(parse_sense(&[0x70]), None);
    }
}
