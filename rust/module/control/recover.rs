// SPDX-License-Identifier: GPL-2.0
//! Session recovery (RFC 7143 §6.3 at ErrorRecoveryLevel 0, the fallback at
//! any level, until connection recovery lands): when a connection failed
//! and the session with it, log in again with the same ISID on the first
//! path that works (the target reinstates the session), add the other
//! connections back on their paths and let the held I/O flow. Commands outstanding at the
//! failure were handed back to the midlayer for retry; new ones are held
//! (HOST_BUSY) until the new connection is up or ReplacementTimeout passes,
//! after which they fail with `DID_TRANSPORT_FAILFAST` while the login keeps
//! being retried, so the devices work again when the target comes back.
#![forbid(unsafe_code)]

use crate::abi::EventKind;
use crate::control::login;
use crate::control::mcs;
use crate::proto::seq::CmdWindow;
use crate::session::datapath::{IoState, Join, SessionIo, MAX_CONNS};
use crate::session::Session;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::time::Delta;

/// Pause between login attempts.
const RETRY_MS: i64 = 1000;

// The data path queues its recovery work when it loses its connections;
// what the work does is the control plane's.
impl kernel::workqueue::WorkItem<0> for SessionIo {
    type Pointer = Arc<SessionIo>;
    fn run(this: Arc<SessionIo>) {
        run(&this);
    }
}

/// Runs the recovery work: retries the login until it succeeds, the
/// replacement timeout passes or the session is torn down.
pub(crate) fn run(io: &Arc<SessionIo>) {
    let sess = io.sess.clone();
    // Every connection was failed: their work items see that and stop; wait
    // for the liveness timers and cut the socket callbacks before new
    // connections take the slots.
    for cid in 0..MAX_CONNS as u16 {
        if let Some(old) = io.detach(cid) {
            old.wait_stopped();
        }
    }
    let mut attempt = 0u32;
    loop {
        match io.state() {
            IoState::Recovering { deadline_ms } if io.now_ms() >= deadline_ms => give_up(io),
            IoState::Recovering { .. } | IoState::Failed => {}
            IoState::Running | IoState::Stopping => return,
        }
        attempt += 1;
        match reinstate(io, &sess) {
            Ok(Some(up)) => {
                pr_info!(
                    "session {}: recovered after {} login attempt(s), {} connection(s)\n",
                    io.sid,
                    attempt,
                    up
                );
                sess.emit(EventKind::RecoveryEnd, None, b"recovered");
                return;
            }
            // Torn down meanwhile: the control plane logs the connections
            // out.
            Ok(None) => return,
            Err(f) => {
                if attempt == 1 || attempt % 30 == 0 {
                    pr_info!(
                        "session {}: recovery login attempt {} failed: {}\n",
                        io.sid,
                        attempt,
                        core::str::from_utf8(f.msg.as_bytes()).unwrap_or("?")
                    );
                }
                // After giving up, keep trying (slower) so the devices come
                // back when the target does.
                let failed = io.state() == IoState::Failed;
                let pause = if failed { RETRY_MS * 3 } else { RETRY_MS };
                kernel::time::delay::fsleep(Delta::from_millis(pause));
            }
        }
    }
}

/// One attempt: a leading login (same ISID, so the target reinstates the
/// session) on the first connection's path that works, then every other
/// connection added back on its own path. Returns how many connections
/// are up, `None` if the session was torn down meanwhile.
fn reinstate(io: &Arc<SessionIo>, sess: &Arc<Session>) -> Result<Option<usize>, login::Failure> {
    let conns = sess.connections();
    let mut last = None;
    let mut lead = None;
    for c in conns.iter() {
        match login::login_leading(sess, &c.path, c.cid) {
            Ok(r) => {
                lead = Some((c.clone(), r));
                break;
            }
            Err(f) => last = Some(f),
        }
    }
    let Some((conn, (ff, done))) = lead else {
        return Err(last.unwrap_or(login::Failure {
            err: ENOTCONN,
            msg: login::Msg::from_str("no connection to log in"),
        }));
    };
    {
        let mut g = sess.inner.lock();
        g.tsih = done.tsih;
        g.negotiated = Some(done.negotiated);
        g.window = CmdWindow::from_login(done.exp_cmd_sn, done.max_cmd_sn);
    }
    let window = CmdWindow::from_login(done.exp_cmd_sn, done.max_cmd_sn);
    let attached = io.attach(
        &conn,
        ff,
        Join::Recovery {
            window: Some(window),
        },
    );
    match attached {
        Ok(_) => {}
        Err(e) if e == ESHUTDOWN => return Ok(None),
        Err(e) => {
            pr_err!(
                "session {}: recovery: the new connection failed to start\n",
                io.sid
            );
            return Err(login::Failure {
                err: e,
                msg: login::Msg::from_str("the new connection failed to start"),
            });
        }
    }
    sess.emit(EventKind::ConnUp, Some(conn.cid), b"");
    let mut up = 1;
    let mut stayed_down = 0u32;
    for c in conns.iter().filter(|c| c.cid != conn.cid) {
        let r = mcs::login_into(io, sess, c).and_then(|(ff, _)| {
            io.attach(c, ff, Join::Recovery { window: None })
                .map_err(|e| login::Failure {
                    err: e,
                    msg: login::Msg::from_str("the connection failed to start"),
                })
        });
        match r {
            Ok(_) => {
                up += 1;
                sess.emit(EventKind::ConnUp, Some(c.cid), b"");
            }
            Err(f) => {
                if let Some(ff) = c.take_full_feature() {
                    ff.sock.shutdown();
                }
                c.set_down("recovery: login failed");
                stayed_down |= 1 << (c.cid % 32);
                pr_info!(
                    "session {}: recovery: connection {} stays down: {}\n",
                    io.sid,
                    c.cid,
                    core::str::from_utf8(f.msg.as_bytes()).unwrap_or("?")
                );
                sess.emit(EventKind::ConnDown, Some(c.cid), f.msg.as_bytes());
            }
        }
    }
    if !io.resume() {
        return Ok(None);
    }
    // The connections whose paths did not answer are logged in again by
    // the failover work, with backoff, once their paths return.
    if stayed_down != 0 {
        for cid in 0..MAX_CONNS as u16 {
            if stayed_down & (1 << cid) != 0 {
                io.mark_down(cid);
            }
        }
        io.kick_failover();
    }
    Ok(Some(up))
}

fn give_up(io: &Arc<SessionIo>) {
    if !io.give_up() {
        return;
    }
    pr_err!(
        "session {}: recovery gave up after the replacement timeout; I/O fails\n",
        io.sid
    );
    io.sess.emit(EventKind::RecoveryEnd, None, b"failed");
}
