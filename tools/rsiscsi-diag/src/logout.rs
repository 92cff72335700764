// SPDX-License-Identifier: GPL-2.0
//! Logging out a connection or the whole session; the request and the
//! meaning of the answer come from `rsiscsi_core::logout`.

use crate::error::{core_err, protocol, DiagError};
use crate::session::{Connection, Session};
use rsiscsi_core::logout::{interpret, LogoutKind, LogoutOutcome};
use rsiscsi_core::pdu::{Bhs, TargetPdu, BHS_LEN};

/// Sends a Logout Request of `kind` on `conn` and waits for its answer.
/// On success the connection (or, for the session, every connection) is
/// finished and the socket is closed.
pub fn logout(
    sess: &mut Session,
    conn: &mut Connection,
    kind: LogoutKind,
) -> Result<LogoutOutcome, DiagError> {
    let itt = sess.begin_immediate(conn.cid)?;
    let req = kind
        .to_pdu(
            conn.cid,
            sess.params.error_recovery_level,
            itt,
            sess.cmd_sn(),
            conn.exp_stat_sn(),
        )
        .map_err(|e| core_err("Logout", e))?;
    let mut bhs: Bhs = [0; BHS_LEN];
    req.encode(&mut bhs).map_err(|e| core_err("Logout", e))?;
    conn.send(&bhs, &[], &[])?;
    let inb = conn.recv_for(sess, itt)?;
    sess.end_task(itt);
    let TargetPdu::LogoutResponse(rsp) = inb.pdu else {
        return Err(protocol(format!(
            "expected a Logout Response, got {:?}",
            inb.pdu.opcode()
        )));
    };
    let outcome = interpret(&kind, &rsp, sess.now_ms(), sess.params.default_time2retain);
    match outcome {
        LogoutOutcome::SessionClosed | LogoutOutcome::ConnectionClosed { .. } => {
            conn.wire.shutdown();
            Ok(outcome)
        }
        other => Err(protocol(format!("logout refused: {other:?}"))),
    }
}
