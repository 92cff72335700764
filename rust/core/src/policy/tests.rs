// SPDX-License-Identifier: GPL-2.0
//! Exact choices of each policy on small hand-worked cases.

use super::*;

fn paths(up: &[bool]) -> [PathState; 4] {
    let mut p = [PathState {
        cid: 0,
        usable: false,
    }; 4];
    for (i, (slot, &u)) in p.iter_mut().zip(up).enumerate() {
        *slot = PathState {
            cid: i as u16 + 1,
            usable: u,
        };
    }
    p
}

fn picks<const N: usize>(
    p: &mut Policy<N>,
    conns: &[PathState],
    times: usize,
) -> [Option<usize>; 8] {
    let mut out = [None; 8];
    for o in out.iter_mut().take(times) {
        *o = p.select(conns, 4096);
    }
    out
}

#[test]
fn no_usable_path_gives_none_for_every_policy() {
    let down = paths(&[false, false, false, false]);
    let kinds: [PolicyKind<4>; 7] = [
        PolicyKind::FailOverOnly {
            rank: [0; 4],
            failback: true,
        },
        PolicyKind::RoundRobin,
        PolicyKind::RoundRobinWithSubset {
            active: [true, false, true, false],
        },
        PolicyKind::LeastQueueDepth,
        PolicyKind::WeightedPaths {
            weights: [1, 2, 3, 4],
        },
        PolicyKind::LeastBlocks,
        PolicyKind::SERVICE_TIME,
    ];
    for k in kinds {
        let mut p = Policy::new(k);
        assert_eq!(p.select(&down, 512), None, "{k:?}");
        assert_eq!(p.select(&[], 512), None, "{k:?}");
    }
}

#[test]
fn round_robin_cycles_and_skips_down_paths() {
    let mut p = Policy::<4>::new(PolicyKind::RoundRobin);
    let c = paths(&[true, true, false, true]);
    let got = picks(&mut p, &c, 6);
    assert_eq!(
        got[..6],
        [Some(0), Some(1), Some(3), Some(0), Some(1), Some(3)]
    );
}

#[test]
fn slots_beyond_capacity_are_ignored() {
    let mut p = Policy::<2>::new(PolicyKind::RoundRobin);
    let c = paths(&[false, true, true, true]);
    assert_eq!(picks(&mut p, &c, 3)[..3], [Some(1), Some(1), Some(1)]);
}

#[test]
fn fail_over_only_without_failback_stays_put() {
    let mut p = Policy::<4>::new(PolicyKind::FailOverOnly {
        rank: [2, 0, 1, 3],
        failback: false,
    });
    let all = paths(&[true, true, true, true]);
    assert_eq!(p.select(&all, 0), Some(1));
    assert_eq!(p.select(&all, 0), Some(1));
    // Preferred slot 1 fails: next rank is slot 2.
    let no1 = paths(&[true, false, true, true]);
    assert_eq!(p.select(&no1, 0), Some(2));
    // Slot 1 returns; no failback, so slot 2 keeps the traffic.
    assert_eq!(p.select(&all, 0), Some(2));
    assert_eq!(p.active(), Some(2));
}

#[test]
fn fail_over_only_with_failback_returns_to_preferred() {
    let mut p = Policy::<4>::new(PolicyKind::FailOverOnly {
        rank: [2, 0, 1, 3],
        failback: true,
    });
    let all = paths(&[true, true, true, true]);
    let no1 = paths(&[true, false, true, true]);
    let only3 = paths(&[false, false, false, true]);
    assert_eq!(p.select(&all, 0), Some(1));
    assert_eq!(p.select(&no1, 0), Some(2));
    assert_eq!(p.select(&only3, 0), Some(3));
    // Slot 0 (rank 2) comes back: better than 3 (rank 3).
    assert_eq!(p.select(&paths(&[true, false, false, true]), 0), Some(0));
    assert_eq!(p.select(&all, 0), Some(1));
}

#[test]
fn fail_over_equal_ranks_do_not_flap() {
    let mut p = Policy::<4>::new(PolicyKind::FailOverOnly {
        rank: [0; 4],
        failback: true,
    });
    assert_eq!(p.select(&paths(&[false, true, true, true]), 0), Some(1));
    // Slot 0 returns with the same rank: failback only moves to a strictly
    // better rank.
    assert_eq!(p.select(&paths(&[true, true, true, true]), 0), Some(1));
}

#[test]
fn subset_uses_standby_only_when_all_active_are_down() {
    let mut p = Policy::<4>::new(PolicyKind::RoundRobinWithSubset {
        active: [true, true, true, false],
    });
    let all = paths(&[true, true, true, true]);
    assert_eq!(
        picks(&mut p, &all, 4)[..4],
        [Some(0), Some(1), Some(2), Some(0)]
    );
    let one_active = paths(&[false, true, false, true]);
    assert_eq!(
        picks(&mut p, &one_active, 3)[..3],
        [Some(1), Some(1), Some(1)]
    );
    let standby_only = paths(&[false, false, false, true]);
    assert_eq!(p.select(&standby_only, 0), Some(3));
}

#[test]
fn subset_rotates_among_standbys() {
    let mut p = Policy::<4>::new(PolicyKind::RoundRobinWithSubset {
        active: [true, false, false, false],
    });
    let c = paths(&[false, true, true, true]);
    assert_eq!(
        picks(&mut p, &c, 4)[..4],
        [Some(1), Some(2), Some(3), Some(1)]
    );
}

#[test]
fn least_queue_depth_follows_counts() {
    let mut p = Policy::<4>::new(PolicyKind::LeastQueueDepth);
    let c = paths(&[true, true, true, false]);
    // Microsoft's example: two commands on path 0, none elsewhere.
    p.on_issue(0, 512).unwrap();
    p.on_issue(0, 512).unwrap();
    p.on_issue(1, 512).unwrap();
    assert_eq!(p.select(&c, 512), Some(2));
    p.on_issue(2, 512).unwrap();
    // 2,1,1: tie between 1 and 2, rotation continues after 2.
    assert_eq!(p.select(&c, 512), Some(1));
    p.on_complete(0, 512, 10).unwrap();
    p.on_complete(0, 512, 10).unwrap();
    assert_eq!(p.select(&c, 512), Some(0));
    assert_eq!(p.outstanding(0), Some((0, 0)));
    assert_eq!(p.outstanding(1), Some((1, 512)));
}

#[test]
fn least_queue_depth_breaks_ties_by_bytes_then_speed() {
    let mut p = Policy::<4>::new(PolicyKind::LeastQueueDepth);
    let c = paths(&[true, true, false, false]);
    // Path 1 has been measured four times slower than path 0.
    for (slot, ns) in [(0, 1_000_000), (1, 4_000_000)] {
        p.on_issue(slot, 65536).unwrap();
        p.on_complete(slot, 65536, ns).unwrap();
    }
    // One command each, but fewer bytes on path 1: bytes decide.
    p.on_issue(0, 131_072).unwrap();
    p.on_issue(1, 4096).unwrap();
    for _ in 0..3 {
        assert_eq!(p.select(&c, 4096), Some(1));
    }
    // Same depth, same bytes: the faster path, every time, not in turn.
    p.on_complete(0, 131_072, 1_000_000).unwrap();
    p.on_issue(0, 4096).unwrap();
    for _ in 0..3 {
        assert_eq!(p.select(&c, 4096), Some(0));
    }
    // A deeper queue still loses whatever its speed.
    p.on_issue(0, 4096).unwrap();
    assert_eq!(p.select(&c, 4096), Some(1));
}

#[test]
fn weighted_paths_prefers_lowest_weight_with_rotating_ties() {
    let mut p = Policy::<4>::new(PolicyKind::WeightedPaths {
        weights: [5, 1, 1, 0],
    });
    assert_eq!(
        picks(&mut p, &paths(&[true, true, true, true]), 2)[..2],
        [Some(3), Some(3)]
    );
    let c = paths(&[true, true, true, false]);
    assert_eq!(
        picks(&mut p, &c, 4)[..4],
        [Some(1), Some(2), Some(1), Some(2)]
    );
    assert_eq!(p.select(&paths(&[true, false, false, false]), 0), Some(0));
}

#[test]
fn least_blocks_counts_bytes_not_commands() {
    let mut p = Policy::<4>::new(PolicyKind::LeastBlocks);
    let c = paths(&[true, true, false, false]);
    // Microsoft's example: 10 and 20 bytes outstanding on path 0.
    p.on_issue(0, 10).unwrap();
    p.on_issue(0, 20).unwrap();
    assert_eq!(p.select(&c, 4096), Some(1));
    p.on_issue(1, 65536).unwrap();
    // Path 0 has two commands but only 30 bytes.
    assert_eq!(p.select(&c, 4096), Some(0));
}

#[test]
fn service_time_prefers_the_faster_path_until_it_is_loaded() {
    let mut p = Policy::<4>::new(PolicyKind::SERVICE_TIME);
    let c = paths(&[true, true, false, false]);
    // Path 0: 64 KiB in 1 ms (15625 ns/KiB); path 1: 64 KiB in 4 ms.
    for slot in [0, 1] {
        p.on_issue(slot, 65536).unwrap();
    }
    p.on_complete(0, 65536, 1_000_000).unwrap();
    p.on_complete(1, 65536, 4_000_000).unwrap();
    assert_eq!(p.cost_ns_per_kib(0), Some(15_625));
    assert_eq!(p.cost_ns_per_kib(1), Some(62_500));
    assert_eq!(p.select(&c, 65536), Some(0));
    // Load path 0 with 256 KiB: (256+64) * 15625 = 5.0 ms > 64 * 62500 = 4.0 ms.
    p.on_issue(0, 262_144).unwrap();
    assert_eq!(p.select(&c, 65536), Some(1));
    // With 128 KiB queued instead: 192 * 15625 = 3.0 ms < 4.0 ms.
    p.on_complete(0, 131_072, 1_000_000).unwrap();
    assert_eq!(p.select(&c, 65536), Some(0));
}

#[test]
fn service_time_treats_unmeasured_paths_as_fastest_known() {
    let mut p = Policy::<4>::new(PolicyKind::SERVICE_TIME);
    let c = paths(&[true, true, false, false]);
    p.on_issue(0, 4096).unwrap();
    p.on_complete(0, 4096, 400_000).unwrap();
    // Path 1 is unmeasured and so assumed as fast as path 0; the command
    // queued on 0 makes 1 the cheaper choice.
    p.on_issue(0, 4096).unwrap();
    assert_eq!(p.select(&c, 4096), Some(1));
    assert_eq!(p.cost_ns_per_kib(1), Some(0));
}

#[test]
fn service_time_ewma_moves_by_an_eighth() {
    let mut p = Policy::<4>::new(PolicyKind::SERVICE_TIME);
    p.on_issue(0, 1024).unwrap();
    p.on_complete(0, 1024, 8000).unwrap();
    p.on_issue(0, 1024).unwrap();
    p.on_complete(0, 1024, 16000).unwrap();
    assert_eq!(p.cost_ns_per_kib(0), Some(9000));
}

#[test]
fn bookkeeping_rejects_bad_slots_and_saturates() {
    let mut p = Policy::<2>::new(PolicyKind::LeastQueueDepth);
    assert_eq!(p.on_issue(2, 1), Err(PolicyError::NoSuchPath));
    assert_eq!(p.on_complete(9, 1, 1), Err(PolicyError::NoSuchPath));
    assert_eq!(p.reset_path(2), Err(PolicyError::NoSuchPath));
    assert_eq!(p.outstanding(2), None);
    // Completion without issue does not underflow.
    p.on_complete(1, 4096, 5).unwrap();
    assert_eq!(p.outstanding(1), Some((0, 0)));
}

#[test]
fn reset_path_clears_counters_and_fail_over_choice() {
    let mut p = Policy::<4>::new(PolicyKind::FailOverOnly {
        rank: [0, 1, 2, 3],
        failback: false,
    });
    let c = paths(&[false, true, true, true]);
    assert_eq!(p.select(&c, 0), Some(1));
    p.on_issue(1, 100).unwrap();
    p.reset_path(1).unwrap();
    assert_eq!(p.outstanding(1), Some((0, 0)));
    assert_eq!(p.active(), None);
    // With the choice forgotten, the best-ranked usable slot wins again.
    assert_eq!(p.select(&paths(&[true, true, true, true]), 0), Some(0));
}

#[test]
fn set_kind_keeps_counters() {
    let mut p = Policy::<4>::new(PolicyKind::RoundRobin);
    p.on_issue(0, 100).unwrap();
    p.set_kind(PolicyKind::LeastQueueDepth);
    assert_eq!(p.kind(), &PolicyKind::LeastQueueDepth);
    assert_eq!(p.select(&paths(&[true, true, false, false]), 0), Some(1));
}

#[test]
fn fail_over_order_builds_ranks_from_a_priority_list() {
    let k = PolicyKind::<4>::fail_over_order(&[2, 0, 2, 9], true);
    assert_eq!(
        k,
        PolicyKind::FailOverOnly {
            rank: [1, 255, 0, 255],
            failback: true
        }
    );
    let mut p = Policy::new(k);
    assert_eq!(p.select(&paths(&[true, true, true, true]), 0), Some(2));
    assert_eq!(p.select(&paths(&[true, true, false, true]), 0), Some(0));
    // Unlisted slots are the last resort, lowest index first.
    assert_eq!(p.select(&paths(&[false, true, false, true]), 0), Some(1));
}

#[test]
fn state_stays_small() {
    // The session keeps one of these per session under its lock; an 8-slot
    // policy must stay well under a cache-friendly few hundred bytes.
    assert!(
        core::mem::size_of::<Policy<8>>() <= 256,
        "{}",
        core::mem::size_of::<Policy<8>>()
    );
}

#[test]
fn fail_over_only_update_keeps_the_active_connection() {
    let mut p = Policy::<4>::new(PolicyKind::FailOverOnly {
        rank: [1, 0, 2, 3],
        failback: false,
    });
    let all = paths(&[true, true, true, true]);
    let no1 = paths(&[true, false, true, true]);
    assert_eq!(p.select(&all, 0), Some(1));
    assert_eq!(p.select(&no1, 0), Some(0));
    // A new, better-ranked connection (slot 3) arrives: no failback, so the
    // traffic stays where it failed over to.
    p.update_kind(PolicyKind::FailOverOnly {
        rank: [1, 0, 2, 0],
        failback: false,
    });
    assert_eq!(p.select(&all, 0), Some(0));
    // A policy change starts afresh from the preference.
    p.set_kind(PolicyKind::FailOverOnly {
        rank: [1, 0, 2, 0],
        failback: false,
    });
    assert_eq!(p.select(&all, 0), Some(1));
    // Switching to another policy through update_kind forgets it too.
    p.update_kind(PolicyKind::RoundRobin);
    assert_eq!(p.active(), None);
}
