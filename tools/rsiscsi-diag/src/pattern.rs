// SPDX-License-Identifier: GPL-2.0
//! Test data: a pattern that differs per run, per block address and per
//! byte, so stale data from an earlier run or a misplaced block never
//! compares equal.

use std::time::{SystemTime, UNIX_EPOCH};

/// A seed that differs from run to run (time and process ID).
pub fn run_seed() -> u64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32)
}

fn mix(mut x: u64) -> u64 {
    // SplitMix64 finaliser.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// `len` bytes of pattern for data starting at block `lba`.
pub fn fill(seed: u64, lba: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let base = mix(seed ^ mix(lba));
    let mut i = 0u64;
    while out.len() < len {
        out.extend_from_slice(&mix(base.wrapping_add(i)).to_le_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

/// Offset of the first differing byte, if any (lengths count too).
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

/// A random-ish number for identifiers (ISID, CHAP challenge).
pub fn random_u64(salt: u64) -> u64 {
    mix(run_seed() ^ mix(salt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_depends_on_seed_and_lba() {
        let a = fill(1, 0, 1000);
        assert_eq!(a.len(), 1000);
        assert_eq!(a, fill(1, 0, 1000));
        assert_ne!(a, fill(2, 0, 1000));
        assert_ne!(a, fill(1, 1, 1000));
        assert_eq!(first_difference(&a, &a), None);
        let mut b = a.clone();
        b[517] ^= 1;
        assert_eq!(first_difference(&a, &b), Some(517));
        assert_eq!(first_difference(&a, &a[..10]), Some(10));
    }
}
