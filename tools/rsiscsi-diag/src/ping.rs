// SPDX-License-Identifier: GPL-2.0
//! NOP-Out pings (RFC 7143 §11.18) and their NOP-In echoes, through
//! `rsiscsi_core::nop`.

use crate::error::{core_err, protocol, DiagError};
use crate::session::{Connection, Session};
use rsiscsi_core::nop::{NopInAction, NopKeeper};
use rsiscsi_core::pdu::{Bhs, TargetPdu, BHS_LEN};

/// Pings the target over `conn` with `payload` as ping data and checks the
/// echo; returns the round-trip time in milliseconds.
pub fn ping(sess: &mut Session, conn: &mut Connection, payload: &[u8]) -> Result<u64, DiagError> {
    let itt = sess.begin_immediate(conn.cid)?;
    let mut bhs: Bhs = [0; BHS_LEN];
    NopKeeper::ping(itt)
        .to_pdu_with_data(sess.cmd_sn(), conn.exp_stat_sn(), payload)
        .encode(&mut bhs)
        .map_err(|e| core_err("NOP-Out", e))?;
    conn.send(&bhs, &[], payload)?;
    conn.nop.ping_sent(itt, sess.now_ms());
    let inb = conn.recv_for(sess, itt)?;
    sess.end_task(itt);
    let TargetPdu::NopIn(nop) = &inb.pdu else {
        return Err(protocol(format!(
            "expected a NOP-In, got {:?}",
            inb.pdu.opcode()
        )));
    };
    if inb.data != payload {
        return Err(protocol("NOP-In did not echo the ping data"));
    }
    match conn.nop.on_nop_in(nop, sess.now_ms()) {
        Ok(NopInAction::PingAnswered { rtt_ms }) => Ok(rtt_ms),
        Ok(other) => Err(protocol(format!("NOP-In is not our echo: {other:?}"))),
        Err(e) => Err(core_err("NOP-In", e)),
    }
}
