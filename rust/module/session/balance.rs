// SPDX-License-Identifier: GPL-2.0
//! The session's load balancer: the core's [`Policy`] over the connection
//! slots (slot = CID), configured from the session's [`PolicyConfig`] and
//! each connection's weight and standby flag.
//!
//! It lives inside the data path's spinlock; [`Balancer::pick`] is one scan
//! over `MAX_CONNS` slots and allocates nothing.
#![forbid(unsafe_code)]

use crate::abi;
use crate::conn::link::ConnIo;
use crate::proto::policy::{PathState, Policy, PolicyKind};
use crate::session::{PolicyConfig, MAX_CONNS};
use kernel::sync::Arc;

/// The connection slots, by CID.
pub(crate) type Slots = [Option<Arc<ConnIo>>; MAX_CONNS];

/// Policy state and its configuration.
pub(crate) struct Balancer {
    policy: Policy<MAX_CONNS>,
    conf: PolicyConfig,
}

impl Balancer {
    /// A balancer for `conf` with no connections yet.
    pub(crate) fn new(conf: PolicyConfig) -> Self {
        Balancer {
            policy: Policy::new(PolicyKind::RoundRobin),
            conf,
        }
    }

    /// Applies `conf` (a policy change: fail-over-only starts again from
    /// its preferred connection) and the connections' current weights and
    /// standby flags; outstanding counts and measurements stay.
    pub(crate) fn configure(&mut self, conf: PolicyConfig, slots: &Slots) {
        self.conf = conf;
        self.policy.set_kind(kind_of(conf, slots));
    }

    /// Re-reads weights and standby flags (a connection came, went or was
    /// changed).
    pub(crate) fn refresh(&mut self, slots: &Slots) {
        self.policy.update_kind(kind_of(self.conf, slots));
    }

    /// The slot to carry a new command of `bytes` bytes.
    pub(crate) fn pick(&mut self, slots: &Slots, bytes: u32) -> Option<usize> {
        let mut paths = [PathState {
            cid: 0,
            usable: false,
        }; MAX_CONNS];
        for (i, (p, c)) in paths.iter_mut().zip(slots.iter()).enumerate() {
            p.cid = i as u16;
            p.usable = c.as_ref().is_some_and(|c| c.is_usable());
        }
        self.policy.select(&paths, bytes)
    }

    /// A command of `bytes` went out on `slot`.
    pub(crate) fn issued(&mut self, slot: usize, bytes: u32) {
        // Slots come from `pick` or a task's CID, both below MAX_CONNS.
        let _ = self.policy.on_issue(slot, bytes);
    }

    /// A command of `bytes` on `slot` left after `latency_ns`.
    pub(crate) fn completed(&mut self, slot: usize, bytes: u32, latency_ns: u64) {
        let _ = self.policy.on_complete(slot, bytes, latency_ns);
    }

    /// A new connection took `slot`, or its old one left.
    pub(crate) fn reset(&mut self, slot: usize) {
        let _ = self.policy.reset_path(slot);
    }
}

fn kind_of(conf: PolicyConfig, slots: &Slots) -> PolicyKind<MAX_CONNS> {
    let weight = |i: usize| {
        slots
            .get(i)
            .and_then(|c| c.as_ref())
            .map_or(u32::MAX, |c| c.conn.weight())
    };
    match conf.kind {
        abi::PolicyKind::FailOverOnly => {
            // Preference: lowest weight, then lowest CID (a stable sort of
            // the CIDs by weight).
            let mut order = [0usize; MAX_CONNS];
            for (i, o) in order.iter_mut().enumerate() {
                *o = i;
            }
            for i in 1..MAX_CONNS {
                let mut j = i;
                while j > 0 && weight(order[j - 1]) > weight(order[j]) {
                    order.swap(j - 1, j);
                    j -= 1;
                }
            }
            PolicyKind::fail_over_order(&order, conf.failback)
        }
        abi::PolicyKind::RoundRobin => PolicyKind::RoundRobin,
        abi::PolicyKind::RoundRobinWithSubset => {
            let mut active = [false; MAX_CONNS];
            for (a, c) in active.iter_mut().zip(slots.iter()) {
                *a = c.as_ref().is_some_and(|c| !c.conn.is_standby());
            }
            PolicyKind::RoundRobinWithSubset { active }
        }
        abi::PolicyKind::LeastQueueDepth => PolicyKind::LeastQueueDepth,
        abi::PolicyKind::WeightedPaths => {
            let mut weights = [u32::MAX; MAX_CONNS];
            for (i, w) in weights.iter_mut().enumerate() {
                *w = weight(i);
            }
            PolicyKind::WeightedPaths { weights }
        }
        abi::PolicyKind::LeastBlocks => PolicyKind::LeastBlocks,
        abi::PolicyKind::ServiceTime => PolicyKind::SERVICE_TIME,
    }
}
