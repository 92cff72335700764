// SPDX-License-Identifier: GPL-2.0
//! Scripted recoveries with exact expected action sequences.

extern crate std;
use std::vec::Vec;

use super::*;
use crate::recovery::Direction;

const FAILED: u16 = 1;

fn conns(list: &[(u16, bool)]) -> Vec<PathState> {
    list.iter()
        .map(|&(cid, usable)| PathState { cid, usable })
        .collect()
}

fn first(_: &[PathState]) -> Option<usize> {
    None
}

fn drain<const T: usize>(p: &mut Planner<T>, now: u64, c: &[PathState]) -> Vec<Action> {
    let mut out = Vec::new();
    while let Some(a) = p.poll(now, c, first) {
        out.push(a);
        assert!(out.len() < 100, "poll does not settle");
    }
    out
}

fn task(itt: u32, cmd_sn: u32, direction: Direction, acknowledged: bool) -> TaskSnapshot {
    TaskSnapshot {
        itt,
        cmd_sn,
        lun: 0x0001_0000_0000_0000,
        direction,
        acknowledged,
        next_data_sn: 5,
        next_r2t_sn: 2,
    }
}

fn cfg(erl: u8) -> RecoveryConfig {
    RecoveryConfig::new(erl, FAILED, 77)
}

fn planner(cfg: RecoveryConfig, tasks: &[TaskSnapshot]) -> Planner<8> {
    let mut p = Planner::new(cfg);
    for &t in tasks {
        p.add_task(t).unwrap();
    }
    p
}

#[test]
fn erl2_explicit_logout_resend_and_reassign() {
    let c = conns(&[(FAILED, false), (2, true), (3, true)]);
    let mut p = planner(
        cfg(2),
        &[
            task(0xa, 12, Direction::Read, false),
            task(0xb, 11, Direction::Write, false),
            task(0xc, 9, Direction::Read, true),
            task(0xd, 8, Direction::Write, true),
            task(0xe, 10, Direction::None, true),
        ],
    );
    p.start(1000).unwrap();
    assert_eq!(p.phase(), Phase::Time2Wait);
    assert_eq!(drain(&mut p, 1000, &c), []);
    assert_eq!(p.next_deadline(), Some(3000));
    assert_eq!(drain(&mut p, 2999, &c), []);
    assert_eq!(
        drain(&mut p, 3000, &c),
        [Action::SendLogout {
            conn: 1,
            via_cid: 2,
            cid: FAILED,
            exp_stat_sn: 77
        }]
    );
    assert_eq!(
        p.on_tmf_response(3050, 0xc, 0),
        Err(RecoveryError::Unexpected)
    );
    // Response 0 with Time2Wait 1 s, Time2Retain 10 s.
    p.on_logout_response(3100, 0, 1, 10).unwrap();
    assert_eq!(
        drain(&mut p, 3100, &c),
        [
            Action::RetryCommand {
                itt: 0xb,
                cmd_sn: 11,
                conn: 1,
                cid: 2
            },
            Action::RetryCommand {
                itt: 0xa,
                cmd_sn: 12,
                conn: 1,
                cid: 2
            },
        ]
    );
    assert_eq!(p.next_deadline(), Some(4100));
    let lun = 0x0001_0000_0000_0000;
    assert_eq!(
        drain(&mut p, 4100, &c),
        [
            Action::SendTaskReassign {
                itt: 0xc,
                lun,
                exp_data_sn: 5,
                conn: 1,
                cid: 2
            },
            Action::SendTaskReassign {
                itt: 0xd,
                lun,
                exp_data_sn: 2,
                conn: 1,
                cid: 2
            },
            Action::SendTaskReassign {
                itt: 0xe,
                lun,
                exp_data_sn: 0,
                conn: 1,
                cid: 2
            },
        ]
    );
    // The response promised less than the negotiated window (23 s); the
    // longer one holds.
    assert_eq!(p.next_deadline(), Some(23_000));
    p.on_tmf_response(4200, 0xc, 0).unwrap();
    p.on_tmf_response(4200, 0xd, 3).unwrap();
    assert_eq!(
        p.on_tmf_response(4200, 0xd, 0),
        Err(RecoveryError::UnknownTask)
    );
    assert_eq!(
        p.on_tmf_response(4200, 0x99, 0),
        Err(RecoveryError::UnknownTask)
    );
    assert_eq!(
        drain(&mut p, 4200, &c),
        [Action::TaskReassigned { itt: 0xc, cid: 2 }]
    );
    assert_eq!(p.next_deadline(), Some(4700));
    assert_eq!(
        drain(&mut p, 4700, &c),
        [Action::SendTaskReassign {
            itt: 0xd,
            lun,
            exp_data_sn: 2,
            conn: 1,
            cid: 2
        }]
    );
    p.on_tmf_response(4800, 0xd, 1).unwrap();
    p.on_tmf_response(4800, 0xe, 0).unwrap();
    assert_eq!(
        drain(&mut p, 4800, &c),
        [
            Action::TaskReassigned { itt: 0xe, cid: 2 },
            Action::ReissueCommand {
                itt: 0xd,
                conn: 1,
                cid: 2
            },
        ]
    );
    assert!(p.is_finished());
    assert_eq!(p.remaining(), 0);
}

#[test]
fn picker_is_used_but_never_for_the_failed_or_a_down_connection() {
    let c = conns(&[(FAILED, true), (2, false), (3, true), (4, true)]);
    let mut p = planner(cfg(2), &[task(1, 5, Direction::Read, false)]);
    p.start(0).unwrap();
    // The picker wants slot 3 (CID 4).
    assert_eq!(
        p.poll(2000, &c, |_| Some(3)),
        Some(Action::SendLogout {
            conn: 3,
            via_cid: 4,
            cid: FAILED,
            exp_stat_sn: 77
        })
    );
    p.on_logout_response(2100, 0, 0, 20).unwrap();
    // The failed CID (still reported usable by mistake) and a down slot are
    // refused; the first eligible connection, CID 3, is used instead.
    assert_eq!(
        p.poll(2100, &c, |_| Some(0)),
        Some(Action::RetryCommand {
            itt: 1,
            cmd_sn: 5,
            conn: 2,
            cid: 3
        })
    );
    assert!(p.poll(2100, &c, |_| Some(1)).is_none());
    assert!(p.is_finished());
}

#[test]
fn erl0_goes_to_session_recovery_after_time2wait() {
    let c = conns(&[(FAILED, false), (2, true)]);
    let mut p = planner(
        cfg(0),
        &[
            task(1, 5, Direction::Read, true),
            task(2, 6, Direction::Write, false),
        ],
    );
    p.start(0).unwrap();
    assert_eq!(p.phase(), Phase::SessionRecovery);
    assert_eq!(drain(&mut p, 1999, &c), []);
    assert_eq!(drain(&mut p, 2000, &c), [Action::ReinstateSession]);
    // Only one login at a time.
    assert_eq!(drain(&mut p, 2500, &c), []);
    p.on_session_reinstated(3000, false).unwrap();
    assert_eq!(p.next_deadline(), Some(4000));
    assert_eq!(drain(&mut p, 3999, &c), []);
    assert_eq!(drain(&mut p, 4000, &c), [Action::ReinstateSession]);
    p.on_session_reinstated(4100, true).unwrap();
    assert_eq!(
        drain(&mut p, 4100, &c),
        [
            Action::ReissueInNewSession { itt: 1 },
            Action::ReissueInNewSession { itt: 2 }
        ]
    );
    assert!(p.is_finished());
    assert_eq!(
        p.on_session_reinstated(4200, true),
        Err(RecoveryError::Unexpected)
    );
}

#[test]
fn replacement_timeout_fails_tasks_back() {
    let mut c = cfg(1);
    c.replacement_timeout_ms = 10_000;
    let mut p = planner(
        c,
        &[
            task(1, 5, Direction::Read, true),
            task(2, 6, Direction::Read, true),
        ],
    );
    p.start(500).unwrap();
    assert_eq!(drain(&mut p, 2500, &[]), [Action::ReinstateSession]);
    assert_eq!(p.next_deadline(), Some(10_500));
    assert_eq!(drain(&mut p, 10_499, &[]), []);
    assert_eq!(
        drain(&mut p, 10_500, &[]),
        [
            Action::ReplacementTimeout,
            Action::FailTask { itt: 1 },
            Action::FailTask { itt: 2 }
        ]
    );
    assert!(p.is_finished());
    // The late login result is not for this planner any more.
    assert_eq!(
        p.on_session_reinstated(11_000, true),
        Err(RecoveryError::Unexpected)
    );
}

#[test]
fn logout_refused_means_session_recovery() {
    let c = conns(&[(FAILED, false), (2, true)]);
    let mut p = planner(cfg(2), &[task(1, 5, Direction::Read, true)]);
    p.start(0).unwrap();
    assert_eq!(drain(&mut p, 2000, &c).len(), 1);
    // 2: connection recovery not supported.
    p.on_logout_response(2100, 2, 0, 0).unwrap();
    assert_eq!(drain(&mut p, 2100, &c), [Action::ReinstateSession]);
    assert_eq!(
        p.on_logout_response(2200, 0, 0, 0),
        Err(RecoveryError::Unexpected)
    );
}

#[test]
fn cid_not_found_proceeds_without_extra_wait() {
    let c = conns(&[(FAILED, false), (2, true)]);
    let mut p = planner(cfg(2), &[task(1, 5, Direction::Read, true)]);
    p.start(0).unwrap();
    drain(&mut p, 2000, &c);
    p.on_logout_response(2100, 1, 9, 9).unwrap();
    assert_eq!(
        drain(&mut p, 2100, &c),
        [Action::SendTaskReassign {
            itt: 1,
            lun: task(1, 5, Direction::Read, true).lun,
            exp_data_sn: 5,
            conn: 1,
            cid: 2
        }]
    );
}

#[test]
fn tmf_not_supported_sends_everything_left_to_session_recovery() {
    let c = conns(&[(FAILED, false), (2, true)]);
    let mut p = planner(
        cfg(2),
        &[
            task(1, 5, Direction::Read, true),
            task(2, 6, Direction::Read, true),
            task(3, 7, Direction::Read, false),
        ],
    );
    p.start(0).unwrap();
    drain(&mut p, 2000, &c);
    p.on_logout_response(2000, 0, 0, 20).unwrap();
    let sent = drain(&mut p, 2000, &c);
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[0],
        Action::RetryCommand {
            itt: 3,
            cmd_sn: 7,
            conn: 1,
            cid: 2
        }
    );
    p.on_tmf_response(2100, 1, 0).unwrap();
    // 5: function not supported (what LIO answers when ERL != 2).
    p.on_tmf_response(2100, 2, 5).unwrap();
    assert_eq!(p.phase(), Phase::SessionRecovery);
    assert_eq!(p.remaining(), 2);
    assert_eq!(drain(&mut p, 2100, &c), [Action::ReinstateSession]);
    p.on_session_reinstated(2200, true).unwrap();
    assert_eq!(
        drain(&mut p, 2200, &c),
        [
            Action::ReissueInNewSession { itt: 1 },
            Action::ReissueInNewSession { itt: 2 }
        ]
    );
}

#[test]
fn time2retain_expiry_before_logout_response_is_session_recovery() {
    let c = conns(&[(FAILED, false), (2, true)]);
    let mut p = planner(cfg(2), &[task(1, 5, Direction::Read, true)]);
    p.start(0).unwrap();
    drain(&mut p, 2000, &c);
    assert_eq!(p.next_deadline(), Some(22_000));
    assert_eq!(drain(&mut p, 21_999, &c), []);
    assert_eq!(drain(&mut p, 22_000, &c), [Action::ReinstateSession]);
}

#[test]
fn time2retain_expiry_while_reassigning_is_session_recovery() {
    let c = conns(&[(FAILED, false), (2, true)]);
    let mut p = planner(cfg(2), &[task(1, 5, Direction::Read, true)]);
    p.start(0).unwrap();
    drain(&mut p, 2000, &c);
    // The response extends the window to 2000 + 30 s.
    p.on_logout_response(2000, 0, 0, 30).unwrap();
    assert_eq!(drain(&mut p, 2000, &c).len(), 1);
    p.on_tmf_response(2100, 1, 3).unwrap();
    assert_eq!(drain(&mut p, 2600, &c).len(), 1);
    p.on_tmf_response(2700, 1, 3).unwrap();
    assert_eq!(drain(&mut p, 31_999, &c).len(), 1);
    p.on_tmf_response(31_999, 1, 3).unwrap();
    assert_eq!(p.next_deadline(), Some(32_000));
    assert_eq!(drain(&mut p, 32_000, &c), [Action::ReinstateSession]);
}

#[test]
fn zero_times_in_the_logout_response_do_not_shorten_the_window() {
    // LIO answers a reason-2 logout with Time2Wait = Time2Retain = 0.
    let c = conns(&[(FAILED, false), (2, true)]);
    let mut p = planner(cfg(2), &[task(1, 5, Direction::Read, true)]);
    p.start(0).unwrap();
    drain(&mut p, 2000, &c);
    p.on_logout_response(2100, 0, 0, 0).unwrap();
    assert!(matches!(
        drain(&mut p, 2100, &c)[..],
        [Action::SendTaskReassign { itt: 1, .. }]
    ));
    p.on_tmf_response(2200, 1, 3).unwrap();
    // Retried within the negotiated 2 s + 20 s window.
    assert!(matches!(
        drain(&mut p, 2700, &c)[..],
        [Action::SendTaskReassign { itt: 1, .. }]
    ));
    assert_eq!(p.next_deadline(), Some(22_000));
}

#[test]
fn no_survivor_with_explicit_logout_is_session_recovery() {
    let c = conns(&[(FAILED, false)]);
    let mut p = planner(cfg(2), &[task(1, 5, Direction::Read, true)]);
    p.start(0).unwrap();
    assert_eq!(drain(&mut p, 2000, &c), [Action::ReinstateSession]);
}

#[test]
fn reinstating_the_cid_works_without_a_survivor() {
    let mut k = cfg(2);
    k.logout = LogoutMethod::Reinstate;
    let mut p = planner(
        k,
        &[
            task(1, 5, Direction::Read, false),
            task(2, 4, Direction::Write, true),
        ],
    );
    p.start(0).unwrap();
    let down = conns(&[(FAILED, false)]);
    assert_eq!(
        drain(&mut p, 2000, &down),
        [Action::ReinstateConnection {
            cid: FAILED,
            exp_stat_sn: 77
        }]
    );
    p.on_connection_reinstated(2500, true).unwrap();
    let up = conns(&[(FAILED, true)]);
    assert_eq!(
        drain(&mut p, 2500, &up),
        [
            Action::RetryCommand {
                itt: 1,
                cmd_sn: 5,
                conn: 0,
                cid: FAILED
            },
            Action::SendTaskReassign {
                itt: 2,
                lun: task(1, 5, Direction::Read, false).lun,
                exp_data_sn: 2,
                conn: 0,
                cid: FAILED
            },
        ]
    );
}

#[test]
fn failed_reinstatement_falls_back_to_explicit_logout() {
    let mut k = cfg(2);
    k.logout = LogoutMethod::Reinstate;
    let c = conns(&[(FAILED, false), (2, true)]);
    let mut p = planner(k, &[task(1, 5, Direction::Read, true)]);
    p.start(0).unwrap();
    assert_eq!(drain(&mut p, 2000, &c).len(), 1);
    p.on_connection_reinstated(2100, false).unwrap();
    assert_eq!(
        drain(&mut p, 2100, &c),
        [Action::SendLogout {
            conn: 1,
            via_cid: 2,
            cid: FAILED,
            exp_stat_sn: 77
        }]
    );
}

#[test]
fn logout_carrier_loss_resends_elsewhere_and_tmf_carrier_loss_is_session_recovery() {
    let mut p = planner(cfg(2), &[task(1, 5, Direction::Read, true)]);
    p.start(0).unwrap();
    let both = conns(&[(FAILED, false), (2, true), (3, true)]);
    assert_eq!(
        drain(&mut p, 2000, &both)[0],
        Action::SendLogout {
            conn: 1,
            via_cid: 2,
            cid: FAILED,
            exp_stat_sn: 77
        }
    );
    let only3 = conns(&[(FAILED, false), (2, false), (3, true)]);
    assert_eq!(
        drain(&mut p, 2100, &only3),
        [Action::SendLogout {
            conn: 2,
            via_cid: 3,
            cid: FAILED,
            exp_stat_sn: 77
        }]
    );
    p.on_logout_response(2200, 0, 0, 20).unwrap();
    assert_eq!(drain(&mut p, 2200, &both).len(), 1);
    // CID 2 carried the reassign (first eligible) and now fails.
    assert_eq!(drain(&mut p, 2300, &only3), [Action::ReinstateSession]);
}

#[test]
fn exp_cmd_sn_update_turns_a_resend_into_a_reassign() {
    let c = conns(&[(FAILED, false), (2, true)]);
    let mut p = planner(
        cfg(2),
        &[
            task(1, u32::MAX, Direction::Read, false),
            task(2, 1, Direction::Read, false),
        ],
    );
    p.start(0).unwrap();
    // ExpCmdSN 0 acknowledges CmdSN 0xffffffff (serially below) but not 1.
    p.on_exp_cmd_sn(0);
    drain(&mut p, 2000, &c);
    p.on_logout_response(2000, 0, 0, 20).unwrap();
    let got = drain(&mut p, 2000, &c);
    assert_eq!(
        got[0],
        Action::RetryCommand {
            itt: 2,
            cmd_sn: 1,
            conn: 1,
            cid: 2
        }
    );
    assert!(matches!(got[1], Action::SendTaskReassign { itt: 1, .. }));
    assert_eq!(got.len(), 2);
}

#[test]
fn no_tasks_still_logs_the_connection_out() {
    let c = conns(&[(FAILED, false), (2, true)]);
    let mut p = Planner::<4>::new(cfg(2));
    p.start(0).unwrap();
    assert_eq!(drain(&mut p, 2000, &c).len(), 1);
    p.on_logout_response(2100, 0, 2, 20).unwrap();
    assert_eq!(drain(&mut p, 2100, &c), []);
    assert!(p.is_finished());
}

#[test]
fn add_and_start_misuse() {
    let mut p = Planner::<1>::new(cfg(2));
    p.add_task(task(1, 1, Direction::Read, true)).unwrap();
    assert_eq!(
        p.add_task(task(2, 2, Direction::Read, true)),
        Err(RecoveryError::TableFull)
    );
    p.start(0).unwrap();
    assert_eq!(p.start(0), Err(RecoveryError::AlreadyStarted));
    assert_eq!(
        p.add_task(task(3, 3, Direction::Read, true)),
        Err(RecoveryError::AlreadyStarted)
    );
    p.reset(cfg(0));
    assert_eq!(p.phase(), Phase::Idle);
    assert_eq!(p.remaining(), 0);
    p.add_task(task(3, 3, Direction::Read, true)).unwrap();
}

#[test]
fn terminal_itt_covers_exactly_the_hand_backs() {
    assert_eq!(Action::FailTask { itt: 4 }.terminal_itt(), Some(4));
    assert_eq!(
        Action::TaskReassigned { itt: 5, cid: 2 }.terminal_itt(),
        Some(5)
    );
    assert!(!Action::ReinstateSession.is_terminal());
    assert!(!Action::SendTaskReassign {
        itt: 1,
        lun: 0,
        exp_data_sn: 0,
        conn: 0,
        cid: 0
    }
    .is_terminal());
}

#[test]
fn policy_can_be_the_picker() {
    use crate::policy::{Policy, PolicyKind};
    let c = conns(&[(FAILED, false), (2, true), (3, true)]);
    let mut policy = Policy::<4>::new(PolicyKind::RoundRobin);
    let mut p = planner(
        cfg(2),
        &[
            task(1, 5, Direction::Read, false),
            task(2, 6, Direction::Read, false),
            task(3, 7, Direction::Read, false),
        ],
    );
    p.start(0).unwrap();
    let mut pick = |c: &[PathState]| policy.select(c, 0);
    assert_eq!(
        p.poll(2000, &c, &mut pick),
        Some(Action::SendLogout {
            conn: 1,
            via_cid: 2,
            cid: FAILED,
            exp_stat_sn: 77
        })
    );
    p.on_logout_response(2000, 0, 0, 20).unwrap();
    let mut got = Vec::new();
    while let Some(a) = p.poll(2000, &c, &mut pick) {
        got.push(a);
    }
    assert_eq!(
        got,
        [
            Action::RetryCommand {
                itt: 1,
                cmd_sn: 5,
                conn: 2,
                cid: 3
            },
            Action::RetryCommand {
                itt: 2,
                cmd_sn: 6,
                conn: 1,
                cid: 2
            },
            Action::RetryCommand {
                itt: 3,
                cmd_sn: 7,
                conn: 2,
                cid: 3
            },
        ]
    );
}

#[test]
fn planner_size_per_task() {
    let one = core::mem::size_of::<Planner<1>>();
    let many = core::mem::size_of::<Planner<129>>();
    // 48 bytes or less per tracked task.
    assert!((many - one) / 128 <= 48, "{}", (many - one) / 128);
}
