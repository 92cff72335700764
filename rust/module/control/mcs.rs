// SPDX-License-Identifier: GPL-2.0
//! Connections joining and leaving a running session (MC/S, RFC 7143 §6.3
//! and §11.14): the login of an added connection into the session's TSIH,
//! CONN_ADD and CONN_REMOVE (Logout reason 1 "close the connection").
//!
//! Everything here blocks (TCP connect, login, logout, waiting for
//! commands to drain): it runs on the control queue or the recovery work,
//! never in the data path.
#![forbid(unsafe_code)]

use crate::abi::EventKind;
use crate::conn::link::{ConnIo, Ctrl};
use crate::conn::{Connection, FullFeature, PathConfig};
use crate::control::login::{self, Failure, Msg};
use crate::proto::login::LoginDone;
use crate::proto::pdu::Lun;
use crate::session::datapath::{IoState, Join, SessionIo};
use crate::session::Session;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::time::Delta;

/// How long CONN_REMOVE waits for the connection's commands to complete.
const DRAIN_TIMEOUT_MS: u64 = 30_000;
/// How often it looks.
const DRAIN_POLL_MS: i64 = 20;

fn failure(err: Error, msg: &str) -> Failure {
    Failure {
        err,
        msg: Msg::from_str(msg),
    }
}

/// Logs `conn` into the session `io` serves as an added connection: with
/// the session's TSIH and the values its leading login fixed, an ITT
/// reserved in the session's task table for the login's PDUs, and the
/// session's next CmdSN. The data path's window takes the new ExpCmdSN /
/// MaxCmdSN.
pub(crate) fn login_into(
    io: &SessionIo,
    sess: &Session,
    conn: &Connection,
) -> Result<(FullFeature, LoginDone), Failure> {
    let (tsih, session) = {
        let g = sess.inner.lock();
        let n = g
            .negotiated
            .ok_or_else(|| failure(EBUSY, "session not logged in"))?;
        (g.tsih, n.session)
    };
    let (itt, cmd_sn) = io
        .reserve_immediate(conn.cid)
        .ok_or_else(|| failure(EBUSY, "task table full; try again"))?;
    let r = login::login_added(sess, &conn.path, conn.cid, itt, tsih, session, cmd_sn);
    let window = r.as_ref().ok().map(|(_, d)| (d.exp_cmd_sn, d.max_cmd_sn));
    io.release_immediate(itt, window);
    r
}

/// CONN_ADD: a new connection over `path` in the lowest free CID, logged
/// in and carrying commands when this returns its CID.
pub(crate) fn add(sess: &Arc<Session>, path: PathConfig) -> Result<u16, Failure> {
    let (io, limit) = {
        let g = sess.inner.lock();
        let io = g
            .data_path
            .clone()
            .ok_or_else(|| failure(EBUSY, "session not logged in"))?;
        let limit = g.negotiated.map_or(1, |n| n.session.max_connections);
        (io, usize::from(limit))
    };
    if io.state() != IoState::Running {
        return Err(failure(EBUSY, "session is recovering"));
    }
    let conn = sess.add_slot(path, limit).map_err(|e| {
        if e == EUSERS {
            failure(e, "no free connection: MaxConnections reached")
        } else {
            failure(e, "out of memory")
        }
    })?;
    let cid = conn.cid;
    let r = login_into(&io, sess, &conn).and_then(|(ff, _)| {
        io.attach(&conn, ff, Join::Running)
            .map_err(|e| failure(e, "session stopped or recovering during the login"))
    });
    match r {
        Ok(_) => {
            pr_info!("rsiscsi: session {}: connection {} added\n", sess.sid, cid);
            sess.emit(EventKind::ConnUp, Some(cid), b"");
            Ok(cid)
        }
        Err(f) => {
            if let Some(ff) = conn.take_full_feature() {
                ff.sock.shutdown();
            }
            conn.set_down("login failed");
            sess.remove_slot(cid);
            Err(f)
        }
    }
}

/// CONN_REMOVE: stops giving connection `cid` new commands, waits for its
/// outstanding ones, logs it out with reason 1 on itself and frees its CID.
pub(crate) fn remove(sess: &Arc<Session>, cid: u16) -> Result<(), Failure> {
    let conn = sess
        .connection(cid)
        .ok_or_else(|| failure(ENOENT, "no such connection"))?;
    let io = sess.inner.lock().data_path.clone();
    let link = io
        .as_ref()
        .and_then(|io| io.link(cid))
        .filter(|l| l.is_alive());
    let (Some(io), Some(link)) = (io, link) else {
        // Down already (a failed login or recovery): only the slot is left.
        forget(sess, &conn);
        return Ok(());
    };
    io.start_closing(&link).map_err(|why| failure(EBUSY, why))?;
    let deadline = io.now_ms() + DRAIN_TIMEOUT_MS;
    loop {
        let left = io.outstanding(cid);
        if left == 0 {
            break;
        }
        if !link.is_alive() {
            return Err(failure(
                ECONNRESET,
                "the connection failed while its commands drained",
            ));
        }
        if io.now_ms() >= deadline {
            link.set_closing(false);
            return Err(failure(
                ETIMEDOUT,
                "commands still outstanding after 30 s; the connection stays",
            ));
        }
        kernel::time::delay::fsleep(Delta::from_millis(DRAIN_POLL_MS));
    }
    log_out_connection(&io, link, "removed");
    forget(sess, &conn);
    pr_info!(
        "rsiscsi: session {}: connection {} removed\n",
        sess.sid,
        cid
    );
    Ok(())
}

/// Logs connection `link`, drained by the caller, out with Logout reason 1
/// on itself, then stops it (for `why`) and takes it out of its slot. The control plane's side of the connection
/// is the caller's.
pub(crate) fn log_out_connection(io: &Arc<SessionIo>, link: Arc<ConnIo>, why: &str) {
    let cid = link.cid;
    // RFC 7143 §11.14.1: reason 1 closes the connection it is sent on;
    // commands may already flow on the others.
    match io.ctrl_exchange(&link, Lun::ZERO, |itt| Ctrl::Logout { cid, itt }) {
        Some(0) => {}
        Some(r) => pr_info!(
            "rsiscsi: session {}: connection {}: Logout Response {}; closing it anyway\n",
            io.sid,
            cid,
            r
        ),
        None => pr_info!(
            "rsiscsi: session {}: connection {}: no Logout Response; closing it anyway\n",
            io.sid,
            cid
        ),
    }
    link.stop(why);
    link.wait_stopped();
    drop(link);
    io.detach(cid);
}

/// Closes what is left of `conn` and frees its CID.
fn forget(sess: &Session, conn: &Connection) {
    if let Some(ff) = conn.take_full_feature() {
        ff.sock.shutdown();
    }
    conn.set_down("removed");
    sess.remove_slot(conn.cid);
    sess.emit(EventKind::ConnDown, Some(conn.cid), b"removed");
}
