// SPDX-License-Identifier: GPL-2.0
//! The ISID, the initiator half of the session identifier (RFC 7143
//! §11.12.5, naming rules in §10.1.1).
//!
//! ```text
//! byte 0: T (2 bits) | A (6 bits)
//! bytes 1-2: B      byte 3: C      bytes 4-5: D
//! ```
//! T picks the format: 00 OUI (A+B hold a 22-bit OUI, C+D a 24-bit
//! qualifier), 01 IANA enterprise number (B+C hold it, D is the qualifier),
//! 10 random (B+C random, D qualifier), 11 reserved.

/// An ISID in one of the three RFC 7143 formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isid([u8; 6]);

/// The format an ISID uses (its T field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsidFormat {
    /// T = 00: IEEE OUI.
    Oui,
    /// T = 01: IANA enterprise number.
    EnterpriseNumber,
    /// T = 10: random.
    Random,
    /// T = 11: reserved (rejected by [`Isid::from_bytes`]).
    Reserved,
}

impl Isid {
    /// OUI format: a 22-bit OUI and a 24-bit qualifier (both masked).
    pub const fn oui(oui: u32, qualifier: u32) -> Self {
        let a = (oui >> 16) as u8 & 0x3f;
        Isid([
            a,
            (oui >> 8) as u8,
            oui as u8,
            (qualifier >> 16) as u8,
            (qualifier >> 8) as u8,
            qualifier as u8,
        ])
    }

    /// Enterprise number format: a 24-bit IANA number and a 16-bit qualifier.
    pub const fn enterprise(en: u32, qualifier: u16) -> Self {
        Isid([
            0x40,
            (en >> 16) as u8,
            (en >> 8) as u8,
            en as u8,
            (qualifier >> 8) as u8,
            qualifier as u8,
        ])
    }

    /// Random format: 24 random bits (the caller's) and a 16-bit qualifier.
    pub const fn random(random: u32, qualifier: u16) -> Self {
        Isid([
            0x80,
            (random >> 16) as u8,
            (random >> 8) as u8,
            random as u8,
            (qualifier >> 8) as u8,
            qualifier as u8,
        ])
    }

    /// Wraps wire bytes, refusing the reserved format.
    pub const fn from_bytes(b: [u8; 6]) -> Option<Self> {
        if b[0] >> 6 == 3 {
            None
        } else {
            Some(Isid(b))
        }
    }

    /// Wire bytes.
    pub const fn to_bytes(self) -> [u8; 6] {
        self.0
    }

    /// The T field.
    pub const fn format(self) -> IsidFormat {
        match self.0[0] >> 6 {
            0 => IsidFormat::Oui,
            1 => IsidFormat::EnterpriseNumber,
            2 => IsidFormat::Random,
            _ => IsidFormat::Reserved,
        }
    }

    /// The qualifier: 24 bits (C+D) in OUI format, 16 bits (D) otherwise.
    pub const fn qualifier(self) -> u32 {
        let d = ((self.0[4] as u32) << 8) | self.0[5] as u32;
        match self.format() {
            IsidFormat::Oui => ((self.0[3] as u32) << 16) | d,
            _ => d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_fields() {
        // open-iscsi's default: OUI 0x00023d, qualifier from its host number.
        let i = Isid::oui(0x00_023d, 0x00_0001);
        assert_eq!(i.to_bytes(), [0x00, 0x02, 0x3d, 0x00, 0x00, 0x01]);
        assert_eq!((i.format(), i.qualifier()), (IsidFormat::Oui, 1));
        let e = Isid::enterprise(0x00_1234, 7);
        assert_eq!(e.to_bytes(), [0x40, 0x00, 0x12, 0x34, 0x00, 0x07]);
        assert_eq!(
            (e.format(), e.qualifier()),
            (IsidFormat::EnterpriseNumber, 7)
        );
        let r = Isid::random(0xab_cdef, 0x0102);
        assert_eq!(r.to_bytes(), [0x80, 0xab, 0xcd, 0xef, 0x01, 0x02]);
        assert_eq!(r.format(), IsidFormat::Random);
        assert_eq!(Isid::from_bytes([0xc0, 0, 0, 0, 0, 0]), None);
        assert_eq!(Isid::from_bytes(r.to_bytes()), Some(r));
        // The OUI is 22 bits: the top two bits never leak into T.
        assert_eq!(Isid::oui(0xff_ffff, 0).format(), IsidFormat::Oui);
    }
}
