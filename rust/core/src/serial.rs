// SPDX-License-Identifier: GPL-2.0
//! 32-bit serial number arithmetic (RFC 1982, SERIAL_BITS = 32), which RFC 7143
//! §4.2.2.1 mandates for CmdSN, ExpCmdSN, MaxCmdSN, StatSN, DataSN, R2TSN and
//! ExpDataSN comparisons.
//!
//! RFC 1982 leaves the comparison of two numbers exactly 2^31 apart undefined.
//! This module makes that case deterministic and *incomparable*: neither
//! [`SerialNumber::lt`] nor [`SerialNumber::gt`] holds, [`SerialNumber::compare`]
//! returns `None` and [`SerialNumber::distance_to`] returns `None`. Callers that
//! only act on "serially greater" (window updates) therefore ignore such a
//! value, which is the conservative choice for numbers a peer sent.
//!
//! The type deliberately does not implement `PartialOrd`: serial order is not
//! transitive (a < b < c < a is possible around the circle), which `PartialOrd`
//! requires.

use core::cmp::Ordering;

/// Half the sequence space: the largest distance that still orders two numbers.
const HALF: u32 = 1 << 31;

/// A 32-bit serial number (RFC 1982).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SerialNumber(pub u32);

impl SerialNumber {
    /// The raw value, as carried in a PDU field.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Adds `n` modulo 2^32. RFC 1982 §3.1 only defines addition for
    /// `n <= 2^31 - 1`; this always wraps, which is what advancing a counter by
    /// one (or by a small count of PDUs) needs.
    pub const fn wrapping_add(self, n: u32) -> Self {
        Self(self.0.wrapping_add(n))
    }

    /// RFC 1982 §3.1 addition: `None` when `n > 2^31 - 1`, where the result
    /// would no longer be serially greater than `self`.
    pub const fn checked_add(self, n: u32) -> Option<Self> {
        if n < HALF {
            Some(self.wrapping_add(n))
        } else {
            None
        }
    }

    /// Subtracts `n` modulo 2^32 (e.g. `ExpCmdSN - 1` in the window test).
    pub const fn wrapping_sub(self, n: u32) -> Self {
        Self(self.0.wrapping_sub(n))
    }

    /// RFC 1982 §3.2 comparison; `None` when the two numbers are exactly 2^31
    /// apart (undefined by the RFC).
    pub const fn compare(self, other: Self) -> Option<Ordering> {
        let d = other.0.wrapping_sub(self.0);
        if d == 0 {
            Some(Ordering::Equal)
        } else if d < HALF {
            Some(Ordering::Less)
        } else if d > HALF {
            Some(Ordering::Greater)
        } else {
            None
        }
    }

    /// `self` is serially less than `other`.
    pub const fn lt(self, other: Self) -> bool {
        matches!(self.compare(other), Some(Ordering::Less))
    }

    /// `self` is serially less than or equal to `other`.
    pub const fn le(self, other: Self) -> bool {
        matches!(self.compare(other), Some(Ordering::Less | Ordering::Equal))
    }

    /// `self` is serially greater than `other`.
    pub const fn gt(self, other: Self) -> bool {
        matches!(self.compare(other), Some(Ordering::Greater))
    }

    /// `self` is serially greater than or equal to `other`.
    pub const fn ge(self, other: Self) -> bool {
        matches!(
            self.compare(other),
            Some(Ordering::Greater | Ordering::Equal)
        )
    }

    /// Signed number of steps from `self` to `other` (positive when `other` is
    /// serially greater); `None` in the undefined 2^31 case.
    pub const fn distance_to(self, other: Self) -> Option<i32> {
        let d = other.0.wrapping_sub(self.0);
        if d == HALF {
            None
        } else {
            // Reinterpreting the wrapped difference as two's complement gives
            // the shortest signed path around the circle.
            Some(d as i32)
        }
    }

    /// Steps forward from `self` to `other` modulo 2^32, ignoring order: the
    /// number of PDUs in a half-open range `[self, other)`.
    pub const fn forward_distance(self, other: Self) -> u32 {
        other.0.wrapping_sub(self.0)
    }

    /// `self` lies in the closed serial interval `[low, high]`, walking forward
    /// from `low`. An interval whose `high` is serially below `low` is empty.
    pub const fn in_window(self, low: Self, high: Self) -> bool {
        low.le(high) && low.le(self) && self.le(high)
    }
}

impl From<u32> for SerialNumber {
    fn from(v: u32) -> Self {
        Self(v)
    }
}

impl From<SerialNumber> for u32 {
    fn from(s: SerialNumber) -> Self {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn s(v: u32) -> SerialNumber {
        SerialNumber(v)
    }

    #[test]
    fn rfc1982_examples_scaled() {
        // RFC 1982 §5.2 uses SERIAL_BITS = 8; the same relations at 32 bits.
        assert!(s(0).lt(s(1)));
        assert!(s(0).lt(s(0x7fff_ffff)));
        assert!(s(0xffff_ffff).lt(s(0)));
        assert!(s(0xffff_fff0).lt(s(5)));
        assert!(s(5).gt(s(0xffff_fff0)));
        assert!(s(0x8000_0000).lt(s(0xffff_ffff)));
        assert!(!s(7).lt(s(7)));
        assert!(s(7).le(s(7)) && s(7).ge(s(7)));
    }

    #[test]
    fn undefined_half_distance_is_incomparable() {
        for base in [0u32, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff] {
            let a = s(base);
            let b = a.wrapping_add(HALF);
            assert_eq!(a.compare(b), None);
            assert_eq!(b.compare(a), None);
            assert!(!a.lt(b) && !a.gt(b) && !a.le(b) && !a.ge(b));
            assert_eq!(a.distance_to(b), None);
        }
    }

    #[test]
    fn distances() {
        assert_eq!(s(10).distance_to(s(13)), Some(3));
        assert_eq!(s(13).distance_to(s(10)), Some(-3));
        assert_eq!(s(0xffff_fffe).distance_to(s(1)), Some(3));
        assert_eq!(s(0).distance_to(s(0x7fff_ffff)), Some(i32::MAX));
        assert_eq!(s(0).distance_to(s(0x8000_0001)), Some(-0x7fff_ffff));
        assert_eq!(s(0xffff_fffe).forward_distance(s(1)), 3);
    }

    #[test]
    fn checked_add_limits() {
        assert_eq!(s(5).checked_add(0x7fff_ffff), Some(s(0x8000_0004)));
        assert_eq!(s(5).checked_add(0x8000_0000), None);
        assert_eq!(s(0xffff_ffff).wrapping_add(1), s(0));
    }

    #[test]
    fn windows_across_wrap() {
        let low = s(0xffff_fffe);
        let high = s(2);
        assert!(s(0xffff_ffff).in_window(low, high));
        assert!(s(0).in_window(low, high));
        assert!(s(2).in_window(low, high));
        assert!(!s(3).in_window(low, high));
        assert!(!s(0xffff_fffd).in_window(low, high));
        // high one below low: empty window (RFC 7143 §4.2.2.1 "MaxCmdSN =
        // ExpCmdSN - 1" means nothing may be sent).
        assert!(!s(5).in_window(s(5), s(4)));
    }
}
