// SPDX-License-Identifier: GPL-2.0
//! Property tests for the recovery planner: random sessions, random target
//! answers, random further connection failures, driven by a small simulated
//! target and clock until the planner finishes.

use proptest::prelude::*;
use rsiscsi_core::policy::PathState;
use rsiscsi_core::recovery::{
    Action, Direction, LogoutMethod, Planner, RecoveryConfig, RecoveryError, TaskSnapshot,
};
use rsiscsi_core::serial::SerialNumber;
use std::collections::BTreeMap;

const FAILED: u16 = 1;
const CAP: usize = 16;

/// Deterministic stream of target decisions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    cfg: RecoveryConfig,
    survivors: Vec<bool>,
    tasks: Vec<TaskSnapshot>,
    /// (time offset ms, survivor index, new usable state)
    link_events: Vec<(u64, usize, bool)>,
    /// (time offset ms, task index): ExpCmdSN moves just past that task.
    exp_cmd_sn_events: Vec<(u64, usize)>,
    /// Percent chance that the target answers "happily" (logout 0, TMF 0,
    /// login success); the rest is spread over the other answers.
    happy: u64,
    /// The session still lists the failed connection as usable (a race in
    /// the caller); the planner must not believe it.
    failed_listed_usable: bool,
    seed: u64,
}

fn any_direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::None),
        Just(Direction::Read),
        Just(Direction::Write),
        Just(Direction::Bidirectional),
    ]
}

fn any_scenario() -> impl Strategy<Value = Scenario> {
    let cfg = (
        prop_oneof![1 => 0u8..2, 4 => Just(2u8)],
        any::<u32>(),
        0u16..4,
        0u16..30,
        0u64..60_000,
        1u64..5_000,
        1u64..3_000,
        any::<bool>(),
    )
        .prop_map(|(erl, ess, t2w, t2r, repl, relogin, retry, reinstate)| {
            let mut c = RecoveryConfig::new(erl, FAILED, ess);
            c.time2wait_s = t2w;
            c.time2retain_s = t2r;
            c.replacement_timeout_ms = repl;
            c.relogin_interval_ms = relogin;
            c.reassign_retry_ms = retry;
            c.logout = if reinstate {
                LogoutMethod::Reinstate
            } else {
                LogoutMethod::Explicit
            };
            c
        });
    let tasks = (
        any::<u32>(),
        prop::collection::vec(
            (
                any::<bool>(),
                any_direction(),
                0u32..50,
                0u32..8,
                any::<u64>(),
            ),
            0..CAP,
        ),
    )
        .prop_map(|(base, v)| {
            v.into_iter()
                .enumerate()
                .map(|(i, (ack, direction, data_sn, r2t_sn, lun))| TaskSnapshot {
                    itt: 0x100 + i as u32,
                    // Unique CmdSNs around a random base, wrapping freely.
                    cmd_sn: base.wrapping_add(i as u32 * 3),
                    lun,
                    direction,
                    acknowledged: ack,
                    next_data_sn: data_sn,
                    next_r2t_sn: r2t_sn,
                })
                .collect::<Vec<_>>()
        });
    (
        cfg,
        prop::collection::vec(any::<bool>(), 0..4),
        tasks,
        prop::collection::vec((0u64..40_000, 0usize..4, any::<bool>()), 0..4),
        50u64..101,
        prop::bool::weighted(0.2),
        prop::collection::vec((0u64..10_000, 0usize..CAP), 0..3),
        any::<u64>(),
    )
        .prop_map(
            |(cfg, survivors, tasks, link_events, happy, failed_listed_usable, exp, seed)| {
                Scenario {
                    cfg,
                    survivors,
                    tasks,
                    link_events,
                    exp_cmd_sn_events: exp,
                    happy,
                    failed_listed_usable,
                    seed: seed | 1,
                }
            },
        )
}

#[derive(Debug, Clone, Copy)]
enum Reply {
    Logout { code: u8, t2w: u16, t2r: u16 },
    ConnLogin(bool),
    Tmf { itt: u32, code: u8 },
    SessionLogin(bool),
}

/// What the test checks while the planner runs, and what it saw.
#[derive(Default)]
struct Seen {
    terminal: BTreeMap<u32, Action>,
    logout_done: bool,
    reassign_not_before: u64,
    /// When the target (as the test models it) discards the tasks.
    retain_until: u64,
    reinstated: bool,
    /// ExpCmdSN values reported to the planner so far.
    exp_cmd_sn: Vec<u32>,
    session_reinstated: bool,
    replacement_timed_out: bool,
}

impl Seen {
    /// Whether the target has `t` by now: acknowledged in the snapshot or
    /// by a later ExpCmdSN (RFC 1982 order).
    fn acknowledged(&self, t: &TaskSnapshot) -> bool {
        t.acknowledged
            || self
                .exp_cmd_sn
                .iter()
                .any(|&e| SerialNumber(t.cmd_sn).lt(SerialNumber(e)))
    }
}

fn run(s: &Scenario) -> Result<(), TestCaseError> {
    let mut rng = Rng(s.seed);
    let start = 10_000u64;
    let t2w_until = start + u64::from(s.cfg.time2wait_s) * 1000;
    let mut p: Planner<CAP> = Planner::new(s.cfg);
    for &t in &s.tasks {
        p.add_task(t).unwrap();
    }
    p.start(start).unwrap();

    let mut conns: Vec<PathState> = vec![PathState {
        cid: FAILED,
        usable: s.failed_listed_usable,
    }];
    conns.extend(s.survivors.iter().enumerate().map(|(i, &u)| PathState {
        cid: 2 + i as u16,
        usable: u,
    }));
    let mut links: Vec<(u64, usize, bool)> = s
        .link_events
        .iter()
        .filter(|e| e.1 < s.survivors.len())
        .map(|&(t, i, u)| (start + t, i + 1, u))
        .collect();
    links.sort();
    let mut exps: Vec<(u64, u32)> = s
        .exp_cmd_sn_events
        .iter()
        .filter_map(|&(t, i)| {
            s.tasks
                .get(i)
                .map(|k| (start + t, k.cmd_sn.wrapping_add(1)))
        })
        .collect();
    exps.sort();
    // Replies in flight: (due, carrier cid or None for logins, reply).
    let mut inflight: Vec<(u64, Option<u16>, Reply)> = Vec::new();
    let mut seen = Seen {
        retain_until: t2w_until + u64::from(s.cfg.time2retain_s) * 1000,
        ..Seen::default()
    };
    let mut now = start;

    for _ in 0..100_000 {
        while let Some(a) = p.poll(now, &conns, |c| {
            // A deliberately unreliable picker: sometimes a bad index.
            Some(rng_pick(now, c.len()))
        }) {
            check_action(&a, now, t2w_until, &conns, &mut seen, s)?;
            let delay = 1 + rng.below(3_000);
            match a {
                Action::SendLogout { via_cid, .. } => {
                    let code = if rng.chance(s.happy) {
                        0
                    } else {
                        rng.below(5) as u8
                    };
                    let t2w = rng.below(3) as u16;
                    let t2r = rng.below(25) as u16;
                    inflight.push((now + delay, Some(via_cid), Reply::Logout { code, t2w, t2r }));
                }
                Action::ReinstateConnection { .. } => {
                    inflight.push((now + delay, None, Reply::ConnLogin(rng.chance(s.happy))));
                }
                Action::SendTaskReassign { itt, cid, .. } => {
                    let code = if rng.chance(s.happy) {
                        [0u8, 0, 0, 1, 3][rng.below(5) as usize]
                    } else {
                        [1u8, 2, 3, 4, 5, 255][rng.below(6) as usize]
                    };
                    inflight.push((now + delay, Some(cid), Reply::Tmf { itt, code }));
                }
                Action::ReinstateSession => {
                    inflight.push((now + delay, None, Reply::SessionLogin(rng.chance(s.happy))));
                }
                _ => {}
            }
        }
        if p.is_finished() {
            break;
        }
        let next = [
            p.next_deadline(),
            inflight.iter().map(|r| r.0).min(),
            links.first().map(|l| l.0),
            exps.first().map(|e| e.0),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else {
            return Err(TestCaseError::fail(format!(
                "stuck at {now} in {:?}",
                p.phase()
            )));
        };
        prop_assert!(next >= now, "deadline in the past: {} < {}", next, now);
        now = next;
        while links.first().is_some_and(|l| l.0 <= now) {
            let (_, i, u) = links.remove(0);
            conns[i].usable = u;
        }
        while exps.first().is_some_and(|e| e.0 <= now) {
            let (_, v) = exps.remove(0);
            p.on_exp_cmd_sn(v);
            seen.exp_cmd_sn.push(v);
        }
        let (due, later): (Vec<_>, Vec<_>) = inflight.into_iter().partition(|r| r.0 <= now);
        inflight = later;
        for (_, carrier, reply) in due {
            // A reply on a connection that went down is lost with it.
            if let Some(cid) = carrier {
                if !conns.iter().any(|c| c.cid == cid && c.usable) {
                    continue;
                }
            }
            deliver(&mut p, now, reply, &mut seen, &mut conns)?;
        }
    }
    prop_assert!(p.is_finished(), "not finished: {:?}", p.phase());
    prop_assert_eq!(p.remaining(), 0);
    let itts: Vec<u32> = s.tasks.iter().map(|t| t.itt).collect();
    let ended: Vec<u32> = seen.terminal.keys().copied().collect();
    prop_assert_eq!(ended, itts, "every task ends exactly once");
    Ok(())
}

/// Picker choices that include out-of-range and failed-connection indices.
fn rng_pick(now: u64, n: usize) -> usize {
    (now as usize / 7) % (n + 2)
}

fn check_action(
    a: &Action,
    now: u64,
    t2w_until: u64,
    conns: &[PathState],
    seen: &mut Seen,
    s: &Scenario,
) -> Result<(), TestCaseError> {
    let check_conn = |conn: usize, cid: u16, seen: &Seen| -> Result<(), TestCaseError> {
        let c = conns.get(conn).copied();
        prop_assert_eq!(c.map(|c| c.cid), Some(cid), "conn index and CID disagree");
        prop_assert!(c.is_some_and(|c| c.usable), "used a down connection");
        prop_assert!(
            cid != FAILED || seen.reinstated,
            "used the failed connection"
        );
        Ok(())
    };
    match *a {
        Action::SendLogout {
            conn,
            via_cid,
            cid,
            exp_stat_sn,
        } => {
            prop_assert!(now >= t2w_until, "logout before Time2Wait");
            prop_assert!(s.cfg.erl >= 2);
            prop_assert_eq!(cid, FAILED);
            prop_assert_eq!(exp_stat_sn, s.cfg.failed_exp_stat_sn);
            check_conn(conn, via_cid, seen)?;
        }
        Action::ReinstateConnection { cid, .. } => {
            prop_assert!(now >= t2w_until, "reinstatement before Time2Wait");
            prop_assert!(s.cfg.erl >= 2);
            prop_assert_eq!(cid, FAILED);
        }
        Action::SendTaskReassign {
            itt,
            lun,
            exp_data_sn,
            conn,
            cid,
        } => {
            prop_assert!(seen.logout_done, "reassign before the logout completed");
            prop_assert!(
                now >= seen.reassign_not_before,
                "reassign before the logout's Time2Wait"
            );
            prop_assert!(now < seen.retain_until, "reassign after Time2Retain");
            check_conn(conn, cid, seen)?;
            let t = s.tasks.iter().find(|t| t.itt == itt).unwrap();
            prop_assert_eq!(lun, t.lun);
            prop_assert_eq!(exp_data_sn, t.exp_data_sn());
            prop_assert!(seen.acknowledged(t), "reassign of an unacknowledged task");
            prop_assert!(!seen.terminal.contains_key(&itt));
        }
        Action::ReinstateSession => {
            prop_assert!(now >= t2w_until, "session reinstatement before Time2Wait");
        }
        Action::ReplacementTimeout => {}
        _ => {}
    }
    if let Action::RetryCommand {
        itt,
        cmd_sn,
        conn,
        cid,
    } = *a
    {
        prop_assert!(seen.logout_done, "resend before the logout completed");
        prop_assert!(now < seen.retain_until, "resend after Time2Retain");
        check_conn(conn, cid, seen)?;
        let t = s.tasks.iter().find(|t| t.itt == itt).unwrap();
        prop_assert_eq!(cmd_sn, t.cmd_sn);
        prop_assert!(!seen.acknowledged(t), "resend of an acknowledged task");
    }
    if let Action::ReissueInNewSession { .. } = *a {
        prop_assert!(
            seen.session_reinstated,
            "re-issue before the session is back"
        );
    }
    if let Action::FailTask { .. } = *a {
        prop_assert!(
            seen.replacement_timed_out,
            "failed before the replacement timeout"
        );
    }
    if let Action::ReplacementTimeout = *a {
        prop_assert!(!seen.replacement_timed_out, "two replacement timeouts");
        seen.replacement_timed_out = true;
    }
    if let Action::ReissueCommand { conn, cid, .. } = *a {
        check_conn(conn, cid, seen)?;
    }
    if let Some(itt) = a.terminal_itt() {
        prop_assert!(s.tasks.iter().any(|t| t.itt == itt), "unknown ITT {}", itt);
        let dup = seen.terminal.insert(itt, *a);
        prop_assert!(
            dup.is_none(),
            "task {} ended twice: {:?} then {:?}",
            itt,
            dup,
            a
        );
    }
    Ok(())
}

fn deliver<const T: usize>(
    p: &mut Planner<T>,
    now: u64,
    reply: Reply,
    seen: &mut Seen,
    conns: &mut [PathState],
) -> Result<(), TestCaseError> {
    match reply {
        Reply::Logout { code, t2w, t2r } => {
            let r = p.on_logout_response(now, code, t2w, t2r);
            if r.is_ok() && code <= 1 {
                seen.logout_done = true;
                seen.reassign_not_before = if code == 0 {
                    now + u64::from(t2w) * 1000
                } else {
                    now
                };
                if code == 0 {
                    let promised = seen.reassign_not_before + u64::from(t2r) * 1000;
                    seen.retain_until = seen.retain_until.max(promised);
                }
            }
            prop_assert!(matches!(r, Ok(()) | Err(RecoveryError::Unexpected)));
        }
        Reply::ConnLogin(ok) => {
            let r = p.on_connection_reinstated(now, ok);
            if r.is_ok() && ok {
                seen.logout_done = true;
                seen.reinstated = true;
                seen.reassign_not_before = now;
                conns[0].usable = true;
            }
        }
        Reply::Tmf { itt, code } => {
            let r = p.on_tmf_response(now, itt, code);
            prop_assert!(
                matches!(r, Ok(()) | Err(RecoveryError::Unexpected)),
                "{:?}",
                r
            );
        }
        Reply::SessionLogin(ok) => {
            let r = p.on_session_reinstated(now, ok);
            if r.is_ok() && ok {
                seen.session_reinstated = true;
            }
            prop_assert!(
                matches!(r, Ok(()) | Err(RecoveryError::Unexpected)),
                "{:?}",
                r
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_task_ends_exactly_once_and_the_rules_hold(s in any_scenario()) {
        run(&s)?;
    }
}
