// SPDX-License-Identifier: GPL-2.0

//! Counters of a session and of each of its connections, as SESSION_GET
//! reports them. A leaf: the connection layer counts bytes, the session
//! layer counts commands, and the control plane reads both.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Counters, reported by SESSION_GET. Atomics outside any lock, so the
/// data path counts without taking one.
///
/// The same type counts for a whole session and for each connection.
#[derive(Default)]
pub(crate) struct Stats {
    cmds: AtomicU64,
    tx_bytes: AtomicU64,
    rx_bytes: AtomicU64,
    errors: AtomicU64,
    outstanding: AtomicU32,
    outstanding_bytes: AtomicU64,
    latency_us: AtomicU32,
}

/// The counters at one moment.
#[derive(Clone, Copy)]
pub(crate) struct StatsSnapshot {
    /// SCSI commands issued.
    pub(crate) cmds: u64,
    /// Bytes sent (PDUs: headers, data, digests).
    pub(crate) tx_bytes: u64,
    /// Bytes received.
    pub(crate) rx_bytes: u64,
    /// Commands completed with an error.
    pub(crate) errors: u64,
    /// Commands issued and not completed.
    pub(crate) outstanding: u32,
    /// Bytes of those commands.
    pub(crate) outstanding_bytes: u64,
    /// Moving average of command latency (µs).
    pub(crate) latency_us: u32,
}

impl Stats {
    /// Commands issued and not completed.
    pub(crate) fn outstanding(&self) -> u32 {
        self.outstanding.load(Ordering::Relaxed)
    }

    /// A SCSI command of `bytes` bytes was issued.
    pub(crate) fn issued(&self, bytes: u32) {
        self.cmds.fetch_add(1, Ordering::Relaxed);
        self.outstanding.fetch_add(1, Ordering::Relaxed);
        self.outstanding_bytes
            .fetch_add(u64::from(bytes), Ordering::Relaxed);
    }

    /// A command of `bytes` bytes left the task table after `latency_us`.
    pub(crate) fn retired(&self, bytes: u32, latency_us: u32) {
        self.moved_out(bytes);
        // 1/8 per sample, as TCP's SRTT; the first sample seeds it.
        let _ = self
            .latency_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(if old == 0 {
                    latency_us.max(1)
                } else {
                    let (o, n) = (i64::from(old), i64::from(latency_us));
                    (o + (n - o) / 8).clamp(1, i64::from(u32::MAX)) as u32
                })
            });
    }

    /// A command of `bytes` bytes moved here from another connection
    /// (connection recovery): outstanding again, not issued again.
    pub(crate) fn moved_in(&self, bytes: u32) {
        self.outstanding.fetch_add(1, Ordering::Relaxed);
        self.outstanding_bytes
            .fetch_add(u64::from(bytes), Ordering::Relaxed);
    }

    /// A command of `bytes` bytes is no longer outstanding here: it moved
    /// away to another connection, or (through [`Stats::retired`]) ended.
    pub(crate) fn moved_out(&self, bytes: u32) {
        // Never below zero, whatever order completions race in.
        let _ = self
            .outstanding
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        let _ = self
            .outstanding_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(u64::from(bytes)))
            });
    }

    /// A command completed with an error.
    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// `n` bytes went out.
    pub(crate) fn sent(&self, n: u64) {
        self.tx_bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` bytes came in.
    pub(crate) fn received(&self, n: u64) {
        self.rx_bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// The current values.
    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            cmds: self.cmds.load(Ordering::Relaxed),
            tx_bytes: self.tx_bytes.load(Ordering::Relaxed),
            rx_bytes: self.rx_bytes.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            outstanding: self.outstanding.load(Ordering::Relaxed),
            outstanding_bytes: self.outstanding_bytes.load(Ordering::Relaxed),
            latency_us: self.latency_us.load(Ordering::Relaxed),
        }
    }
}
