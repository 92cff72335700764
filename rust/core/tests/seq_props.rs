// SPDX-License-Identifier: GPL-2.0
//! Property tests for serial arithmetic, the CmdSN window, StatSN tracking
//! and ITT allocation.

use proptest::prelude::*;
use rsiscsi_core::pdu::{Lun, StatSnUse, RESERVED_TAG};
use rsiscsi_core::seq::{CmdWindow, StatSnEvent, StatSnTracker};
use rsiscsi_core::serial::SerialNumber;
use rsiscsi_core::task::{Direction, NewTask, TaskError, TaskTable};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone)]
enum WinOp {
    /// The initiator sends a non-immediate command if the window allows.
    Send,
    /// The initiator sends an immediate command.
    SendImmediate,
    /// The target executes its oldest received command and emits a window
    /// update on some connection.
    TargetProcess,
    /// One pending update (chosen by the index) reaches the initiator; MC/S
    /// reorders updates across connections.
    Deliver(usize),
    /// The target changes its queue depth (MaxCmdSN never moves back).
    Depth(u32),
    /// A malformed update (MaxCmdSN < ExpCmdSN - 1) arrives.
    Garbage(u32, u32),
}

fn win_op() -> impl Strategy<Value = WinOp> {
    prop_oneof![
        4 => Just(WinOp::Send),
        1 => Just(WinOp::SendImmediate),
        3 => Just(WinOp::TargetProcess),
        3 => any::<usize>().prop_map(WinOp::Deliver),
        1 => (0u32..=32).prop_map(WinOp::Depth),
        1 => (any::<u32>(), 2u32..0x7fff_0000).prop_map(|(e, gap)| WinOp::Garbage(e, gap)),
    ]
}

proptest! {
    #[test]
    fn serial_order_matches_signed_distance(a in any::<u32>(), d in 1u32..0x8000_0000) {
        let x = SerialNumber(a);
        let y = x.wrapping_add(d);
        prop_assert!(x.lt(y) && y.gt(x) && !x.gt(y) && !y.lt(x));
        prop_assert!(x.le(y) && y.ge(x));
        prop_assert_eq!(x.distance_to(y), Some(d as i32));
        prop_assert_eq!(y.distance_to(x), Some(-(d as i32)));
        prop_assert_eq!(x.forward_distance(y), d);
        prop_assert_eq!(x.checked_add(d), Some(y));
    }

    #[test]
    fn nothing_is_sent_outside_the_cmd_sn_window(
        base in any::<u32>(),
        depth0 in 0u32..=16,
        ops in proptest::collection::vec(win_op(), 1..300),
    ) {
        // Target state: next expected CmdSN, queue depth, MaxCmdSN.
        let mut t_exp = SerialNumber(base);
        let mut depth = depth0;
        let mut t_max = t_exp.wrapping_add(depth).wrapping_sub(1);
        let mut received: std::collections::VecDeque<u32> = Default::default();
        let mut pending: Vec<(u32, u32)> = Vec::new();
        let mut w = CmdWindow::from_login(t_exp.0, t_max.0);
        let mut last_sent: Option<u32> = None;

        for op in ops {
            match op {
                WinOp::Send => {
                    let avail = w.available();
                    match w.assign() {
                        Some(sn) => {
                            prop_assert!(avail > 0);
                            prop_assert_eq!(w.available(), avail - 1);
                            let s = SerialNumber(sn);
                            // The target will accept it: within its window now.
                            prop_assert!(s.in_window(t_exp, t_max), "sent {sn} outside [{}, {}]", t_exp.0, t_max.0);
                            if let Some(prev) = last_sent {
                                prop_assert_eq!(sn, prev.wrapping_add(1));
                            } else {
                                prop_assert_eq!(sn, base);
                            }
                            last_sent = Some(sn);
                            received.push_back(sn);
                        }
                        None => prop_assert_eq!(avail, 0),
                    }
                }
                WinOp::SendImmediate => {
                    let before = w.next_cmd_sn();
                    prop_assert_eq!(w.immediate_cmd_sn(), before);
                    prop_assert_eq!(w.next_cmd_sn(), before);
                }
                WinOp::TargetProcess => {
                    if let Some(sn) = received.pop_front() {
                        prop_assert_eq!(sn, t_exp.0);
                        t_exp = t_exp.wrapping_add(1);
                    }
                    let want = t_exp.wrapping_add(depth).wrapping_sub(1);
                    if want.gt(t_max) {
                        t_max = want;
                    }
                    pending.push((t_exp.0, t_max.0));
                }
                WinOp::Deliver(i) => {
                    if !pending.is_empty() {
                        let (e, m) = pending.swap_remove(i % pending.len());
                        let before = w;
                        let u = w.update(e, m);
                        prop_assert!(u.accepted);
                        // Never backwards.
                        prop_assert!(SerialNumber(w.exp_cmd_sn()).ge(SerialNumber(before.exp_cmd_sn())));
                        prop_assert!(SerialNumber(w.max_cmd_sn()).ge(SerialNumber(before.max_cmd_sn())));
                        prop_assert_eq!(u.exp_cmd_sn_advanced, w.exp_cmd_sn() != before.exp_cmd_sn());
                        prop_assert_eq!(u.max_cmd_sn_advanced, w.max_cmd_sn() != before.max_cmd_sn());
                    }
                }
                WinOp::Depth(d) => depth = d,
                WinOp::Garbage(e, gap) => {
                    let before = w;
                    let u = w.update(e, e.wrapping_sub(gap));
                    prop_assert!(!u.accepted);
                    prop_assert_eq!(w, before);
                }
            }
            // Everything the initiator numbered but the target has not yet
            // acknowledged is counted as outstanding.
            prop_assert!(w.outstanding() as usize >= received.len());
        }
    }

    #[test]
    fn stat_sn_never_acknowledges_a_missing_status(
        start in any::<u32>(),
        order in Just((0u32..40).collect::<Vec<_>>()).prop_shuffle(),
        dups in proptest::collection::vec(0usize..40, 0..10),
    ) {
        let mut t = StatSnTracker::new();
        t.start(start);
        let mut got = HashSet::new();
        let mut deliveries: Vec<u32> = order.clone();
        for (k, d) in dups.iter().enumerate() {
            let pos = (k * 7 + d) % (deliveries.len() + 1);
            let v = order[*d];
            deliveries.insert(pos, v);
        }
        for off in deliveries {
            let sn = start.wrapping_add(off);
            let ev = t.on_pdu(StatSnUse::Consumed(sn));
            let fresh = got.insert(off);
            // ExpStatSN is exactly one past the contiguous prefix received.
            let prefix = (0u32..).take_while(|o| got.contains(o)).count() as u32;
            prop_assert_eq!(t.exp_stat_sn(), start.wrapping_add(prefix));
            match ev {
                StatSnEvent::InOrder => prop_assert!(fresh),
                StatSnEvent::Gap { from, to } => {
                    prop_assert_eq!(from, start.wrapping_add(prefix));
                    prop_assert_eq!(to, sn);
                }
                StatSnEvent::Duplicate => prop_assert!(!fresh || off < prefix),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert_eq!(t.exp_stat_sn(), start.wrapping_add(40));
    }

    #[test]
    fn itt_allocation_never_duplicates_a_live_tag(
        ops in proptest::collection::vec((0u8..4, any::<usize>(), any::<u32>()), 1..600),
    ) {
        let mut table = TaskTable::<8>::new();
        let mut live: HashMap<u32, u32> = HashMap::new();
        let mut ever: HashSet<u32> = HashSet::new();
        let mut retired: Vec<u32> = Vec::new();
        for (kind, pick, x) in ops {
            match kind {
                0 | 1 => {
                    let r = table.insert(NewTask {
                        lun: Lun::ZERO,
                        cmd_sn: x,
                        immediate: x & 1 == 1,
                        cid: (x % 3) as u16,
                        direction: Direction::Write,
                        expected_transfer_length: x >> 8,
                    });
                    match r {
                        Ok(itt) => {
                            prop_assert!(live.len() < 8);
                            prop_assert_ne!(itt, RESERVED_TAG);
                            prop_assert!(!live.contains_key(&itt), "duplicate live ITT {itt:#x}");
                            // Generations make every tag of this run unique.
                            prop_assert!(ever.insert(itt), "ITT {itt:#x} reissued");
                            live.insert(itt, x);
                        }
                        Err(TaskError::Full) => prop_assert_eq!(live.len(), 8),
                    }
                }
                2 => {
                    if !live.is_empty() {
                        let mut keys: Vec<u32> = live.keys().copied().collect();
                        keys.sort_unstable();
                        let itt = keys[pick % keys.len()];
                        let t = table.remove(itt).unwrap();
                        prop_assert_eq!(t.cmd_sn, live.remove(&itt).unwrap());
                        retired.push(itt);
                    }
                }
                _ => {
                    // Stale and random tags never match anything.
                    if !retired.is_empty() {
                        let itt = retired[pick % retired.len()];
                        prop_assert!(table.get(itt).is_none());
                        prop_assert!(table.remove(itt).is_none());
                    }
                    if !live.contains_key(&x) {
                        prop_assert!(table.get(x).is_none());
                    }
                }
            }
            prop_assert_eq!(table.len(), live.len());
            for (&itt, &sn) in &live {
                prop_assert_eq!(table.get(itt).map(|t| t.cmd_sn), Some(sn));
            }
            let per_conn: usize = (0..3).map(|c| table.iter_connection(c).count()).sum();
            prop_assert_eq!(per_conn, live.len());
        }
    }
}
