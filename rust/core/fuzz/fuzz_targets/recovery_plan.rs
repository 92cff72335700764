// SPDX-License-Identifier: GPL-2.0
//! Drives the ERL 2 recovery planner with random tasks and a random
//! sequence of events: time passing, ExpCmdSN updates, connections coming
//! and going, and responses (expected or not, with any code) to what it
//! asked for. Any panic is a bug; every task is handed back at most once,
//! only tasks that were added are handed back, every action names a real
//! connection by index and CID, and a finished planner holds no task.
//!
//! Input layout: a header (ERL, task count, Time2Wait, Time2Retain, logout
//! method, initially usable connections), six bytes per task, then one
//! event per two bytes (kind, argument).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsiscsi_core::policy::PathState;
use rsiscsi_core::recovery::{
    Action, Direction, LogoutMethod, Planner, RecoveryConfig, TaskSnapshot,
};

const TASKS: usize = 16;
const CONNS: usize = 4;
const FAILED_CID: u16 = 1;

fuzz_target!(|input: &[u8]| {
    let Some((head, mut rest)) = input.split_first_chunk::<6>() else {
        return;
    };
    let mut cfg = RecoveryConfig::new(head[0] % 3, FAILED_CID, 100);
    cfg.time2wait_s = u16::from(head[2] % 4);
    cfg.time2retain_s = u16::from(head[3] % 30);
    cfg.logout = if head[4] & 1 != 0 {
        LogoutMethod::Reinstate
    } else {
        LogoutMethod::Explicit
    };
    let mut conns = [PathState {
        cid: 0,
        usable: false,
    }; CONNS];
    for (i, c) in conns.iter_mut().enumerate() {
        c.cid = i as u16;
        c.usable = i as u16 != FAILED_CID && head[5] & (1 << i) != 0;
    }
    let mut planner = Planner::<TASKS>::new(cfg);
    let n = usize::from(head[1]) % (TASKS + 2);
    let mut added = [false; TASKS + 2];
    for (i, slot) in added.iter_mut().enumerate().take(n) {
        let Some((t, r)) = rest.split_first_chunk::<6>() else {
            break;
        };
        rest = r;
        let task = TaskSnapshot {
            itt: i as u32,
            cmd_sn: u32::from(u16::from_le_bytes([t[0], t[1]])),
            lun: u64::from(t[2] & 3),
            direction: match t[3] & 3 {
                0 => Direction::None,
                1 => Direction::Read,
                2 => Direction::Write,
                _ => Direction::Bidirectional,
            },
            acknowledged: t[3] & 4 != 0,
            next_data_sn: u32::from(t[4]),
            next_r2t_sn: u32::from(t[5]),
        };
        // More than TASKS must be refused, not overflow.
        *slot = planner.add_task(task).is_ok();
        assert!(*slot || i >= TASKS);
    }
    if planner.start(0).is_err() {
        return;
    }
    let mut now = 0u64;
    let mut handed_back = [false; TASKS + 2];
    let mut reassigning: Option<u32> = None;
    let mut pick = |c: &[PathState]| c.iter().position(|p| p.usable && p.cid != FAILED_CID);
    for ev in rest.chunks_exact(2) {
        let (kind, arg) = (ev[0] % 8, ev[1]);
        match kind {
            0 => now += u64::from(arg) * 50,
            1 => planner.on_exp_cmd_sn(u32::from(arg) * 257),
            2 => {
                let i = usize::from(arg) % CONNS;
                if conns[i].cid != FAILED_CID {
                    conns[i].usable = !conns[i].usable;
                }
            }
            3 => {
                let _ = planner.on_logout_response(now, arg % 4, u16::from(arg >> 6), 20);
            }
            4 => {
                let _ = planner.on_connection_reinstated(now, arg & 1 != 0);
            }
            5 => {
                let itt = match reassigning {
                    Some(itt) if arg & 0x80 == 0 => itt,
                    _ => u32::from(arg % 20),
                };
                let response = [0, 1, 3, 4, 5, 255][usize::from(arg) % 6];
                let _ = planner.on_tmf_response(now, itt, response);
            }
            6 => {
                let _ = planner.on_session_reinstated(now, arg & 1 != 0);
            }
            _ => {
                let Some(action) = planner.poll(now, &conns, &mut pick) else {
                    continue;
                };
                match action {
                    Action::SendLogout { conn, via_cid, cid, .. } => {
                        assert_eq!(conns[conn].cid, via_cid);
                        assert_eq!(cid, FAILED_CID);
                    }
                    Action::RetryCommand { conn, cid, .. }
                    | Action::ReissueCommand { conn, cid, .. } => {
                        assert_eq!(conns[conn].cid, cid);
                    }
                    Action::SendTaskReassign { itt, conn, cid, .. } => {
                        assert_eq!(conns[conn].cid, cid);
                        assert!(added[itt as usize] && !handed_back[itt as usize]);
                        reassigning = Some(itt);
                    }
                    _ => {}
                }
                if let Some(itt) = action.terminal_itt() {
                    let i = itt as usize;
                    assert!(i < added.len() && added[i], "unknown task {itt} handed back");
                    assert!(!handed_back[i], "task {itt} handed back twice");
                    handed_back[i] = true;
                }
            }
        }
        if planner.is_finished() {
            assert_eq!(planner.remaining(), 0);
        }
    }
});
