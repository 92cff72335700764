// SPDX-License-Identifier: GPL-2.0
//! Session recovery (RFC 7143 §6.3 at ErrorRecoveryLevel 0, the fallback at
//! any level): when the last connection failed, log in again with the same
//! ISID (the target reinstates the session), put the new connection in the
//! old one's slot and let the held I/O flow. Commands outstanding at the
//! failure were handed back to the midlayer for retry; new ones are held
//! (HOST_BUSY) until the new connection is up or ReplacementTimeout passes,
//! after which they fail with `DID_TRANSPORT_FAILFAST` while the login keeps
//! being retried, so the devices work again when the target comes back.
#![forbid(unsafe_code)]

use crate::abi::EventKind;
use crate::abs::scsi::HostByte;
use crate::conn::ConnState;
use crate::ffp::{IoState, SessionIo};
use crate::link::ConnIo;
use crate::login;
use crate::proto::seq::CmdWindow;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::time::Delta;

/// Pause between login attempts.
const RETRY_MS: i64 = 1000;

/// Runs the recovery work: retries the login until it succeeds, the
/// replacement timeout passes or the session is torn down.
pub(crate) fn run(io: &Arc<SessionIo>) {
    let sess = io.sess.clone();
    // The failed connection's slot: CID 0 today (one connection).
    let cid = 0u16;
    // Its work items see it dead and stop; wait for the liveness timer and
    // cut the socket callbacks before a new connection takes the slot.
    let old = io
        .inner
        .lock()
        .conns
        .get_mut(usize::from(cid))
        .and_then(|c| c.take());
    if let Some(old) = old {
        old.wait_stopped();
    }
    let mut attempt = 0u32;
    loop {
        let state = io.inner.lock().state;
        match state {
            IoState::Recovering { deadline_ms } if io.now_ms() >= deadline_ms => give_up(io),
            IoState::Recovering { .. } | IoState::Failed => {}
            IoState::Running | IoState::Stopping => return,
        }
        attempt += 1;
        match login::login_leading(&sess) {
            Ok((ff, done)) => {
                {
                    let mut g = sess.inner.lock();
                    g.tsih = done.tsih;
                    g.negotiated = Some(done.negotiated);
                    g.window = CmdWindow::from_login(done.exp_cmd_sn, done.max_cmd_sn);
                }
                let Some(conn) = sess.connections().into_iter().find(|c| c.cid == cid) else {
                    return;
                };
                let (ff, link) = ConnIo::start(io, cid, ff, &sess);
                if let Some(ff) = ff {
                    conn.inner.lock().state = ConnState::FullFeature(ff);
                }
                let Ok(link) = link else {
                    pr_err!(
                        "session {}: recovery: the new connection failed to start\n",
                        io.sid
                    );
                    continue;
                };
                {
                    let mut g = io.inner.lock();
                    if !matches!(g.state, IoState::Recovering { .. } | IoState::Failed) {
                        // Torn down meanwhile: the control plane logs the
                        // new connection out.
                        drop(g);
                        link.stop("session teardown");
                        link.wait_stopped();
                        return;
                    }
                    g.window = CmdWindow::from_login(done.exp_cmd_sn, done.max_cmd_sn);
                    if let Some(slot) = g.conns.get_mut(usize::from(cid)) {
                        *slot = Some(link.clone());
                    }
                    g.state = IoState::Running;
                }
                link.kick_rx();
                link.arm_nop();
                pr_info!(
                    "session {}: recovered after {} login attempt(s)\n",
                    io.sid,
                    attempt
                );
                sess.emit(EventKind::ConnUp, Some(cid), b"");
                sess.emit(EventKind::RecoveryEnd, None, b"recovered");
                return;
            }
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
                let failed = io.inner.lock().state == IoState::Failed;
                let pause = if failed { RETRY_MS * 3 } else { RETRY_MS };
                kernel::time::delay::fsleep(Delta::from_millis(pause));
            }
        }
    }
}

fn give_up(io: &Arc<SessionIo>) {
    {
        let mut g = io.inner.lock();
        if !matches!(g.state, IoState::Recovering { .. }) {
            return;
        }
        g.state = IoState::Failed;
    }
    pr_err!(
        "session {}: recovery gave up after the replacement timeout; I/O fails\n",
        io.sid
    );
    io.fail_all(HostByte::TransportFailfast);
    io.sess.emit(EventKind::RecoveryEnd, None, b"failed");
}
