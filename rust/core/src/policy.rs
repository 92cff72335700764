// SPDX-License-Identifier: GPL-2.0
//! Load balancing across the connections of one MC/S session.
//!
//! RFC 7143 §4.2.2.1 lets an initiator send any new SCSI command on any
//! connection of a session, since the target orders commands by the
//! session-wide CmdSN; which connection carries a command is purely a local
//! choice. The policies are Microsoft's MCS load-balance policies (Fail Over
//! Only, Round Robin, Round Robin With Subset, Least Queue Depth, Weighted
//! Paths, Least Blocks) plus a service-time selector in the spirit of
//! dm-multipath's historical-service-time.
//!
//! [`Policy::select`] runs on every I/O, under the session lock: it is one
//! O(connections) scan, allocates nothing and never sleeps. Per-connection
//! state lives in fixed arrays sized by `N`, the most connections a session
//! may have; slots past `N` are never chosen.
//!
//! Slots are indices into the caller's connection array, not CIDs: the caller
//! keeps that array stable and calls [`Policy::reset_path`] when a slot gets a
//! new connection.

mod pick;
mod service_time;

use pick::rotating_min;

/// What the policy needs to know about one connection slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathState {
    /// Connection ID (RFC 7143 §11.12.7); informational for the policy, used
    /// by the recovery planner to recognise the failed connection.
    pub cid: u16,
    /// Logged in, in Full Feature Phase and not failed: only such a
    /// connection may carry a new SCSI command (RFC 7143 §6, Login and Full
    /// Feature Phase).
    pub usable: bool,
}

/// The load-balancing policy and its parameters.
///
/// Per-slot parameter arrays are indexed like the caller's connection array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind<const N: usize> {
    /// One active connection, the others standby. The active one is the
    /// usable slot with the lowest `rank` (ties: lowest index). Without
    /// `failback` the policy stays on whatever connection it failed over to;
    /// with it, a better-ranked connection takes over again as soon as it is
    /// usable.
    FailOverOnly {
        /// Preference per slot, lower is preferred.
        rank: [u8; N],
        /// Return to the preferred connection when it comes back.
        failback: bool,
    },
    /// Every usable connection in turn.
    RoundRobin,
    /// Round robin over the usable slots marked `active`; the standby slots
    /// (not marked) are used, again in turn, only while no active slot is
    /// usable.
    RoundRobinWithSubset {
        /// Active-set membership per slot.
        active: [bool; N],
    },
    /// Fewest outstanding commands. Equal depths are broken by fewer
    /// outstanding bytes, then by the lower measured cost per KiB (the
    /// faster path drains an equal queue sooner), then in turn.
    LeastQueueDepth,
    /// Lowest weight; ties in turn. As in Microsoft's policy a larger weight
    /// means a less preferred path, so this is a priority, not a share.
    WeightedPaths {
        /// Weight per slot.
        weights: [u32; N],
    },
    /// Fewest outstanding bytes; ties in turn.
    LeastBlocks,
    /// Shortest expected completion time: (outstanding bytes + this I/O)
    /// times a moving average of the connection's measured cost per KiB.
    ///
    /// A connection without a measurement yet is assumed as fast as the
    /// fastest measured one, so it gets traffic and thereby a measurement.
    /// Estimates only change on completions: an idle slow connection keeps
    /// its old estimate until load on the others makes it the cheaper
    /// choice again, which is also when a fresh measurement is worth having.
    ServiceTime {
        /// Smoothing: each completion moves the average by 2^-`ewma_shift`
        /// of the difference (0 = last sample only; clamped to 10).
        ewma_shift: u8,
    },
}

impl<const N: usize> PolicyKind<N> {
    /// Service time with the default smoothing (1/8 per sample).
    pub const SERVICE_TIME: Self = PolicyKind::ServiceTime {
        ewma_shift: service_time::DEFAULT_SHIFT,
    };

    /// Fail-over only from a priority list of slots, most preferred first
    /// (Microsoft's "active path, then standby paths in order"). Slots not
    /// listed rank after all listed ones; entries past the first 255, out of
    /// range or repeated are ignored.
    pub fn fail_over_order(order: &[usize], failback: bool) -> Self {
        let mut rank = [u8::MAX; N];
        let mut next = 0u8;
        for &slot in order {
            if next == u8::MAX {
                break;
            }
            if let Some(r) = rank.get_mut(slot) {
                if *r == u8::MAX {
                    *r = next;
                    next += 1;
                }
            }
        }
        PolicyKind::FailOverOnly { rank, failback }
    }
}

/// Misuse of the bookkeeping calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyError {
    /// The slot index is not below `N`.
    NoSuchPath,
}

/// Per-session load balancer for up to `N` connections.
#[derive(Debug, Clone)]
pub struct Policy<const N: usize> {
    kind: PolicyKind<N>,
    /// Where the next rotating scan starts (one past the last choice).
    cursor: usize,
    /// Fail-over-only's current active slot.
    active: Option<usize>,
    /// Outstanding commands per slot.
    queued: [u32; N],
    /// Outstanding bytes per slot.
    bytes: [u64; N],
    /// Moving average of ns per KiB per slot, 0 = not measured yet.
    cost: [u64; N],
}

impl<const N: usize> Policy<N> {
    /// A policy with no outstanding I/O and no measurements.
    pub const fn new(kind: PolicyKind<N>) -> Self {
        Policy {
            kind,
            cursor: 0,
            active: None,
            queued: [0; N],
            bytes: [0; N],
            cost: [0; N],
        }
    }

    /// The configured policy.
    pub fn kind(&self) -> &PolicyKind<N> {
        &self.kind
    }

    /// Switches policy at run time; outstanding counts and measurements stay,
    /// since they describe the connections, not the policy.
    pub fn set_kind(&mut self, kind: PolicyKind<N>) {
        self.kind = kind;
        self.active = None;
    }

    /// Changes the parameters of the policy in force (ranks, weights, the
    /// active set, failback) when a connection comes, goes or is
    /// reweighted. Unlike [`Policy::set_kind`] it keeps fail-over-only's
    /// current connection: adding a connection or changing a weight is not
    /// a fail-over, and without failback nothing may move the traffic back.
    pub fn update_kind(&mut self, kind: PolicyKind<N>) {
        let same = matches!(
            (&self.kind, &kind),
            (
                PolicyKind::FailOverOnly { .. },
                PolicyKind::FailOverOnly { .. }
            )
        );
        self.kind = kind;
        if !same {
            self.active = None;
        }
    }

    /// Picks the slot for the next command of `io_bytes` bytes, or `None`
    /// when no slot (among the first `N` of `conns`) is usable.
    ///
    /// Choosing is not issuing: call [`Policy::on_issue`] once the command is
    /// actually queued on the returned slot.
    pub fn select(&mut self, conns: &[PathState], io_bytes: u32) -> Option<usize> {
        let n = core::cmp::min(conns.len(), N);
        let usable = |i: usize| conns.get(i).is_some_and(|c| c.usable);
        let chosen = match &self.kind {
            PolicyKind::FailOverOnly { rank, failback } => {
                let chosen = Self::fail_over_choice(rank, *failback, self.active, n, usable);
                // Remember the last active slot across a total outage so that
                // it keeps the traffic if it is among the first to return.
                if chosen.is_some() {
                    self.active = chosen;
                }
                return chosen;
            }
            PolicyKind::RoundRobin => {
                rotating_min(n, self.cursor, |i| if usable(i) { Some(0) } else { None })
            }
            PolicyKind::RoundRobinWithSubset { active } => {
                let in_set = |i: usize, want: bool| {
                    usable(i) && active.get(i).copied().unwrap_or(false) == want
                };
                rotating_min(n, self.cursor, |i| in_set(i, true).then_some(0))
                    .or_else(|| rotating_min(n, self.cursor, |i| in_set(i, false).then_some(0)))
            }
            PolicyKind::LeastQueueDepth => rotating_min(n, self.cursor, |i| {
                if !usable(i) {
                    return None;
                }
                Some((
                    *self.queued.get(i)?,
                    *self.bytes.get(i)?,
                    *self.cost.get(i)?,
                ))
            }),
            PolicyKind::WeightedPaths { weights } => rotating_min(n, self.cursor, |i| {
                if usable(i) {
                    weights.get(i).map(|&w| u64::from(w))
                } else {
                    None
                }
            }),
            PolicyKind::LeastBlocks => rotating_min(n, self.cursor, |i| {
                if usable(i) {
                    self.bytes.get(i).copied()
                } else {
                    None
                }
            }),
            PolicyKind::ServiceTime { .. } => self.select_service_time(n, io_bytes, usable),
        };
        if let Some(i) = chosen {
            self.cursor = i.wrapping_add(1);
        }
        chosen
    }

    fn fail_over_choice(
        rank: &[u8; N],
        failback: bool,
        active: Option<usize>,
        n: usize,
        usable: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let rank_of = |i: usize| rank.get(i).copied().unwrap_or(u8::MAX);
        // Start at 0, not at the cursor: equal ranks resolve to the lowest
        // index so the choice is stable rather than rotating.
        let best = rotating_min(n, 0, |i| usable(i).then(|| u64::from(rank_of(i))));
        let current = active.filter(|&i| i < n && usable(i));
        match (current, best) {
            (Some(c), Some(b)) if failback && rank_of(b) < rank_of(c) => Some(b),
            (Some(c), _) => Some(c),
            (None, b) => b,
        }
    }

    fn select_service_time(
        &self,
        n: usize,
        io_bytes: u32,
        usable: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let mut fastest = 0u64;
        for i in 0..n {
            if let (true, Some(&c)) = (usable(i), self.cost.get(i)) {
                if c != 0 && (fastest == 0 || c < fastest) {
                    fastest = c;
                }
            }
        }
        let fallback = core::cmp::max(fastest, 1);
        rotating_min(n, self.cursor, |i| {
            if !usable(i) {
                return None;
            }
            let cost = match self.cost.get(i) {
                Some(&0) | None => fallback,
                Some(&c) => c,
            };
            let kib = service_time::pending_kib(self.bytes.get(i).copied().unwrap_or(0), io_bytes);
            Some(cost.saturating_mul(kib))
        })
    }

    /// Records that a command of `bytes` bytes was queued on `slot`.
    pub fn on_issue(&mut self, slot: usize, bytes: u32) -> Result<(), PolicyError> {
        let (q, b) = self.counters(slot)?;
        *q = q.saturating_add(1);
        *b = b.saturating_add(u64::from(bytes));
        Ok(())
    }

    /// Records the completion of a command of `bytes` bytes on `slot` that
    /// took `latency_ns` from issue to status.
    pub fn on_complete(
        &mut self,
        slot: usize,
        bytes: u32,
        latency_ns: u64,
    ) -> Result<(), PolicyError> {
        let (q, b) = self.counters(slot)?;
        *q = q.saturating_sub(1);
        *b = b.saturating_sub(u64::from(bytes));
        // Every policy measures, so that a switch to service time starts
        // from an estimate and least-queue-depth can break ties by speed.
        let shift = match self.kind {
            PolicyKind::ServiceTime { ewma_shift } => ewma_shift,
            _ => service_time::DEFAULT_SHIFT,
        };
        if let Some(c) = self.cost.get_mut(slot) {
            let sample = service_time::sample_ns_per_kib(bytes, latency_ns);
            *c = service_time::ewma_update(*c, sample, shift);
        }
        Ok(())
    }

    /// Forgets everything about `slot`: call it when the slot's connection
    /// fails (its commands move elsewhere or are retried) and when a new
    /// connection takes the slot.
    pub fn reset_path(&mut self, slot: usize) -> Result<(), PolicyError> {
        let (q, b) = self.counters(slot)?;
        *q = 0;
        *b = 0;
        if let Some(c) = self.cost.get_mut(slot) {
            *c = 0;
        }
        if self.active == Some(slot) {
            self.active = None;
        }
        Ok(())
    }

    /// Outstanding commands and bytes on `slot`.
    pub fn outstanding(&self, slot: usize) -> Option<(u32, u64)> {
        Some((*self.queued.get(slot)?, *self.bytes.get(slot)?))
    }

    /// Measured cost of one KiB on `slot` in ns (0 when not measured).
    pub fn cost_ns_per_kib(&self, slot: usize) -> Option<u64> {
        self.cost.get(slot).copied()
    }

    /// Fail-over-only's current active slot, if one was chosen.
    pub fn active(&self) -> Option<usize> {
        self.active
    }

    fn counters(&mut self, slot: usize) -> Result<(&mut u32, &mut u64), PolicyError> {
        match (self.queued.get_mut(slot), self.bytes.get_mut(slot)) {
            (Some(q), Some(b)) => Ok((q, b)),
            _ => Err(PolicyError::NoSuchPath),
        }
    }
}

#[cfg(test)]
mod tests;
