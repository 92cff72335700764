// SPDX-License-Identifier: GPL-2.0
//! The 8-byte LUN field (RFC 7143 §11.2.1.7), which carries a SAM logical unit
//! number in its wire format (SAM-5 §4.7, as used by SCSI REPORT LUNS).

/// A SAM LUN exactly as it appears in bytes 8-15 of the BHS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Lun(pub [u8; 8]);

/// Highest LUN reachable with single-level flat space addressing (14 bits).
pub const MAX_SINGLE_LEVEL_LUN: u16 = 0x3fff;

impl Lun {
    /// LUN 0 (all zero bytes), which also fills the field of PDUs that do not
    /// address a logical unit.
    pub const ZERO: Lun = Lun([0; 8]);

    /// A single-level LUN. Values below 256 use peripheral device addressing
    /// (`00 nn`), which is what targets report for small LUNs; larger values up
    /// to [`MAX_SINGLE_LEVEL_LUN`] use flat space addressing (`01xxxxxx nn`).
    pub const fn single_level(lun: u16) -> Option<Lun> {
        if lun > MAX_SINGLE_LEVEL_LUN {
            return None;
        }
        let hi = (lun >> 8) as u8;
        let lo = (lun & 0xff) as u8;
        let b0 = if lun < 256 { 0 } else { 0x40 | hi };
        Some(Lun([b0, lo, 0, 0, 0, 0, 0, 0]))
    }

    /// The number of a single-level LUN in peripheral (with bus 0) or flat space
    /// addressing; `None` for multi-level or other addressing methods.
    pub const fn to_single_level(self) -> Option<u16> {
        let b = self.0;
        if b[2] != 0 || b[3] != 0 || b[4] != 0 || b[5] != 0 || b[6] != 0 || b[7] != 0 {
            return None;
        }
        match b[0] >> 6 {
            0 if b[0] == 0 => Some(b[1] as u16),
            1 => Some((((b[0] & 0x3f) as u16) << 8) | b[1] as u16),
            _ => None,
        }
    }

    /// The Linux SCSI midlayer's integer form (`scsilun_to_int`): the first
    /// two-byte level in the low 16 bits, the next level above it, and so on.
    pub const fn to_linux(self) -> u64 {
        let b = self.0;
        let mut v = 0u64;
        let mut level = 0;
        while level < 4 {
            let pair = ((b[level * 2] as u64) << 8) | b[level * 2 + 1] as u64;
            v |= pair << (16 * level);
            level += 1;
        }
        v
    }

    /// Inverse of [`Lun::to_linux`] (`int_to_scsilun`).
    pub const fn from_linux(lun: u64) -> Lun {
        let mut b = [0u8; 8];
        let mut level = 0;
        while level < 4 {
            let pair = (lun >> (16 * level)) & 0xffff;
            b[level * 2] = (pair >> 8) as u8;
            b[level * 2 + 1] = (pair & 0xff) as u8;
            level += 1;
        }
        Lun(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_level_encodings() {
        assert_eq!(Lun::single_level(0), Some(Lun([0; 8])));
        assert_eq!(Lun::single_level(5).unwrap().0, [0, 5, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Lun::single_level(255).unwrap().0[..2], [0x00, 0xff]);
        assert_eq!(Lun::single_level(256).unwrap().0[..2], [0x41, 0x00]);
        assert_eq!(Lun::single_level(0x3fff).unwrap().0[..2], [0x7f, 0xff]);
        assert_eq!(Lun::single_level(0x4000), None);
    }

    #[test]
    fn single_level_round_trip() {
        for n in [0u16, 1, 200, 255, 256, 1000, 0x3fff] {
            assert_eq!(Lun::single_level(n).unwrap().to_single_level(), Some(n));
        }
        // Flat addressing of a small number is still LUN 3.
        assert_eq!(Lun([0x40, 3, 0, 0, 0, 0, 0, 0]).to_single_level(), Some(3));
        // Peripheral addressing with a non-zero bus, and a second level, are not single-level.
        assert_eq!(Lun([0x01, 3, 0, 0, 0, 0, 0, 0]).to_single_level(), None);
        assert_eq!(Lun([0, 3, 0, 1, 0, 0, 0, 0]).to_single_level(), None);
        assert_eq!(Lun([0x80, 3, 0, 0, 0, 0, 0, 0]).to_single_level(), None);
    }

    #[test]
    fn linux_integer_form() {
        // Linux numbers flat-space LUN 256 as 0x4100 and keeps the bytes in order.
        assert_eq!(Lun::single_level(256).unwrap().to_linux(), 0x4100);
        assert_eq!(Lun::single_level(7).unwrap().to_linux(), 7);
        let two_level = Lun([0x00, 0x01, 0x00, 0x02, 0, 0, 0, 0]);
        assert_eq!(two_level.to_linux(), 0x0002_0001);
        assert_eq!(Lun::from_linux(0x0002_0001), two_level);
        assert_eq!(Lun::from_linux(0x4100), Lun::single_level(256).unwrap());
    }
}
