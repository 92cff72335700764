// SPDX-License-Identifier: GPL-2.0
//! Property tests for the MC/S load-balancing policies.

use proptest::prelude::*;
use rsiscsi_core::policy::{PathState, Policy, PolicyKind};

const N: usize = 6;

fn conns(up: &[bool]) -> Vec<PathState> {
    up.iter()
        .enumerate()
        .map(|(i, &usable)| PathState {
            cid: i as u16,
            usable,
        })
        .collect()
}

fn any_kind() -> impl Strategy<Value = PolicyKind<N>> {
    prop_oneof![
        (any::<[u8; N]>(), any::<bool>())
            .prop_map(|(rank, failback)| PolicyKind::FailOverOnly { rank, failback }),
        Just(PolicyKind::RoundRobin),
        any::<[bool; N]>().prop_map(|active| PolicyKind::RoundRobinWithSubset { active }),
        Just(PolicyKind::LeastQueueDepth),
        prop::array::uniform6(0u32..4).prop_map(|weights| PolicyKind::WeightedPaths { weights }),
        Just(PolicyKind::LeastBlocks),
        (0u8..12).prop_map(|ewma_shift| PolicyKind::ServiceTime { ewma_shift }),
    ]
}

/// One step of a random workload: flip a path, select and issue, or complete.
#[derive(Debug, Clone)]
enum Op {
    Toggle(usize),
    Select(u32),
    Complete(usize, u64),
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..N + 2).prop_map(Op::Toggle),
        4 => (0u32..1 << 20).prop_map(Op::Select),
        3 => (0..N, 0u64..10_000_000).prop_map(|(i, l)| Op::Complete(i, l)),
    ]
}

proptest! {
    /// Whatever happened before, a chosen slot is usable and within capacity,
    /// and `None` means nothing was usable.
    #[test]
    fn never_chooses_a_down_path(
        kind in any_kind(),
        init in prop::collection::vec(any::<bool>(), 0..N + 3),
        ops in prop::collection::vec(any_op(), 1..200),
    ) {
        let mut up = init;
        let mut p = Policy::<N>::new(kind);
        // Issued sizes per slot, so completions report real sizes.
        let mut inflight: Vec<Vec<u32>> = vec![Vec::new(); N];
        for op in ops {
            match op {
                Op::Toggle(i) => {
                    if let Some(u) = up.get_mut(i) {
                        *u = !*u;
                    }
                }
                Op::Select(bytes) => {
                    let c = conns(&up);
                    let any_usable = c.iter().take(N).any(|c| c.usable);
                    match p.select(&c, bytes) {
                        Some(i) => {
                            prop_assert!(i < N);
                            prop_assert!(c[i].usable, "chose down slot {}", i);
                            p.on_issue(i, bytes).unwrap();
                            inflight[i].push(bytes);
                        }
                        None => prop_assert!(!any_usable),
                    }
                }
                Op::Complete(i, lat) => {
                    if let Some(b) = inflight[i].pop() {
                        p.on_complete(i, b, lat).unwrap();
                    }
                }
            }
        }
        for (i, f) in inflight.iter().enumerate() {
            let bytes: u64 = f.iter().map(|&b| u64::from(b)).sum();
            prop_assert_eq!(p.outstanding(i), Some((f.len() as u32, bytes)));
        }
    }

    /// Over any number of selections on a fixed set, round robin's counts
    /// differ by at most one, and down slots get nothing.
    #[test]
    fn round_robin_is_fair(up in any::<[bool; N]>(), rounds in 1usize..500) {
        let c = conns(&up);
        let mut p = Policy::<N>::new(PolicyKind::RoundRobin);
        let mut count = [0usize; N];
        for _ in 0..rounds {
            if let Some(i) = p.select(&c, 4096) {
                count[i] += 1;
            }
        }
        let used: Vec<usize> = (0..N).filter(|&i| up[i]).map(|i| count[i]).collect();
        for i in 0..N {
            if !up[i] {
                prop_assert_eq!(count[i], 0);
            }
        }
        if let (Some(max), Some(min)) = (used.iter().max(), used.iter().min()) {
            prop_assert!(max - min <= 1, "{:?}", count);
            prop_assert_eq!(used.iter().sum::<usize>(), rounds);
        }
    }

    /// Round robin with subset: fair within the active usable set, standby
    /// untouched while any active slot is usable.
    #[test]
    fn subset_keeps_to_the_active_set(
        up in any::<[bool; N]>(),
        active in any::<[bool; N]>(),
        rounds in 1usize..300,
    ) {
        let c = conns(&up);
        let mut p = Policy::<N>::new(PolicyKind::RoundRobinWithSubset { active });
        let any_active = (0..N).any(|i| up[i] && active[i]);
        let mut count = [0usize; N];
        for _ in 0..rounds {
            if let Some(i) = p.select(&c, 0) {
                prop_assert_eq!(active[i], any_active);
                count[i] += 1;
            }
        }
        let set: Vec<usize> = (0..N)
            .filter(|&i| up[i] && active[i] == any_active)
            .map(|i| count[i])
            .collect();
        if let (Some(max), Some(min)) = (set.iter().max(), set.iter().min()) {
            prop_assert!(max - min <= 1, "{:?}", count);
        }
    }

    /// Least queue depth, least blocks and weighted paths choose a usable slot
    /// whose key is the minimum over all usable slots.
    #[test]
    fn minimum_policies_pick_a_minimum(
        up in any::<[bool; N]>(),
        queued in prop::array::uniform6(prop::collection::vec(0u32..100_000, 0..6)),
        weights in prop::array::uniform6(0u32..5),
        which in 0u8..3,
    ) {
        let kind = match which {
            0 => PolicyKind::LeastQueueDepth,
            1 => PolicyKind::LeastBlocks,
            _ => PolicyKind::WeightedPaths { weights },
        };
        let mut p = Policy::<N>::new(kind);
        for (i, q) in queued.iter().enumerate() {
            for &b in q {
                p.on_issue(i, b).unwrap();
            }
        }
        let key = |i: usize| -> u64 {
            match which {
                0 => queued[i].len() as u64,
                1 => queued[i].iter().map(|&b| u64::from(b)).sum(),
                _ => u64::from(weights[i]),
            }
        };
        let c = conns(&up);
        let min = (0..N).filter(|&i| up[i]).map(key).min();
        let got = p.select(&c, 512);
        prop_assert_eq!(got.map(key), min);
        if let Some(i) = got {
            prop_assert!(up[i]);
        }
    }

    /// Fail-over only: a fresh policy, and any policy with failback, sends
    /// everything to the best-ranked usable slot.
    #[test]
    fn fail_over_uses_best_rank(
        rank in any::<[u8; N]>(),
        ups in prop::collection::vec(any::<[bool; N]>(), 1..20),
    ) {
        let mut p = Policy::<N>::new(PolicyKind::FailOverOnly { rank, failback: true });
        for up in ups {
            let best = (0..N).filter(|&i| up[i]).map(|i| rank[i]).min();
            let got = p.select(&conns(&up), 0);
            prop_assert_eq!(got.map(|i| rank[i]), best);
            // Repeating the call without a change keeps the same slot.
            prop_assert_eq!(p.select(&conns(&up), 0), got);
        }
    }

    /// Without failback the active slot changes only when it stops being usable.
    #[test]
    fn fail_over_without_failback_is_sticky(
        rank in any::<[u8; N]>(),
        ups in prop::collection::vec(any::<[bool; N]>(), 1..20),
    ) {
        let mut p = Policy::<N>::new(PolicyKind::FailOverOnly { rank, failback: false });
        let mut prev: Option<usize> = None;
        for up in ups {
            let got = p.select(&conns(&up), 0);
            if let Some(pv) = prev {
                if up[pv] {
                    prop_assert_eq!(got, Some(pv));
                }
            }
            if got.is_some() {
                prev = got;
            }
        }
    }

    /// With every slot measured at the same cost, service time degenerates to
    /// least outstanding KiB.
    #[test]
    fn service_time_equal_costs_is_least_kib(
        up in any::<[bool; N]>(),
        queued in prop::array::uniform6(prop::collection::vec(1u32..1 << 20, 0..5)),
        io in 0u32..1 << 20,
    ) {
        let mut p = Policy::<N>::new(PolicyKind::ServiceTime { ewma_shift: 3 });
        for (i, q) in queued.iter().enumerate() {
            // Same sample on every slot: 4 KiB in 40 us.
            p.on_issue(i, 4096).unwrap();
            p.on_complete(i, 4096, 40_000).unwrap();
            for &b in q {
                p.on_issue(i, b).unwrap();
            }
        }
        let kib = |i: usize| {
            let out: u64 = queued[i].iter().map(|&b| u64::from(b)).sum();
            (out + u64::from(io.max(512))).div_ceil(1024)
        };
        let min = (0..N).filter(|&i| up[i]).map(kib).min();
        let got = p.select(&conns(&up), io);
        prop_assert_eq!(got.map(kib), min);
    }
}
