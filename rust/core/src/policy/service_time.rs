// SPDX-License-Identifier: GPL-2.0
//! Integer service-rate estimate for the service-time policy.
//!
//! The estimate is an exponentially weighted moving average of the measured
//! cost of one KiB on a connection, in nanoseconds, kept in integers because
//! the kernel forbids floating point. Like dm-multipath's
//! historical-service-time it learns from completions only; unlike it, the
//! sample is normalised by the I/O size so that outstanding *bytes* (not just
//! outstanding commands) can be turned into an expected completion time.

/// Smallest transfer a sample is normalised by: a zero-length command (TEST
/// UNIT READY) still costs a round trip, and dividing by a tiny size would
/// blow a single tiny command up into a huge per-KiB cost.
pub(crate) const MIN_SAMPLE_BYTES: u64 = 512;

/// Default smoothing: each new sample moves the average by 1/8.
pub(crate) const DEFAULT_SHIFT: u8 = 3;

/// Largest accepted shift; beyond this the average would practically never move.
pub(crate) const MAX_SHIFT: u8 = 10;

/// Cost of one KiB derived from one completion, at least 1 so that a measured
/// connection is never mistaken for an unmeasured one (0).
pub(crate) fn sample_ns_per_kib(bytes: u32, latency_ns: u64) -> u64 {
    let size = core::cmp::max(u64::from(bytes), MIN_SAMPLE_BYTES);
    // size >= 512, so the division is defined; saturation only matters for
    // latencies above ~200 days.
    core::cmp::max(latency_ns.saturating_mul(1024) / size, 1)
}

/// Folds `sample` into `avg` with weight 2^-shift; an unmeasured average (0)
/// takes the first sample as is instead of creeping up from zero.
pub(crate) fn ewma_update(avg: u64, sample: u64, shift: u8) -> u64 {
    if avg == 0 {
        return sample;
    }
    let shift = u32::from(core::cmp::min(shift, MAX_SHIFT));
    let next = (avg - (avg >> shift)).saturating_add(sample >> shift);
    core::cmp::max(next, 1)
}

/// Whole KiB (rounded up) of `outstanding + incoming` bytes; a zero-byte
/// command still counts as one unit of work.
pub(crate) fn pending_kib(outstanding: u64, incoming: u32) -> u64 {
    let incoming = core::cmp::max(u64::from(incoming), MIN_SAMPLE_BYTES);
    outstanding.saturating_add(incoming).saturating_add(1023) >> 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_normalised_per_kib() {
        // 128 KiB in 1 ms -> 7812 ns per KiB.
        assert_eq!(sample_ns_per_kib(131_072, 1_000_000), 7_812);
        // Zero-length command is charged as 512 bytes.
        assert_eq!(sample_ns_per_kib(0, 50_000), 100_000);
        // Never zero, never overflows.
        assert_eq!(sample_ns_per_kib(4096, 0), 1);
        assert_eq!(sample_ns_per_kib(0, u64::MAX), u64::MAX / 512);
    }

    #[test]
    fn ewma_converges_by_eighths() {
        assert_eq!(ewma_update(0, 800, 3), 800);
        // 800 - 100 + 200 = 900
        assert_eq!(ewma_update(800, 1600, 3), 900);
        let mut avg = 1000;
        for _ in 0..200 {
            avg = ewma_update(avg, 5000, 3);
        }
        // Integer truncation may leave it a few ns short, never above.
        assert!((4990..=5000).contains(&avg), "{avg}");
    }

    #[test]
    fn ewma_shift_zero_tracks_last_sample_and_is_clamped() {
        assert_eq!(ewma_update(1234, 77, 0), 77);
        assert_eq!(ewma_update(1 << 20, 0, 200), (1 << 20) - 1024);
        assert_eq!(ewma_update(u64::MAX, u64::MAX, 3), u64::MAX);
        assert_eq!(ewma_update(5, 0, 0), 1);
    }

    #[test]
    fn pending_rounds_up() {
        assert_eq!(pending_kib(0, 0), 1);
        assert_eq!(pending_kib(0, 4096), 4);
        assert_eq!(pending_kib(1, 4096), 5);
        assert_eq!(pending_kib(u64::MAX, u32::MAX), u64::MAX >> 10);
    }
}
