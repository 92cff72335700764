// SPDX-License-Identifier: GPL-2.0
//! Session and connection state of a logged-in session, and the receive
//! loop every full-feature exchange shares (window updates, StatSN, target
//! NOP-In pings, asynchronous messages, Rejects).

use crate::error::{core_err, protocol, DiagError};
use crate::wire::{Inbound, Wire};
use rsiscsi_core::keys::params::{ConnectionParams, DigestType, SessionParams};
use rsiscsi_core::nop::{NopConfig, NopInAction, NopKeeper};
use rsiscsi_core::pdu::{self, Bhs, Digests, StatSnUse, TargetPdu, BHS_LEN};
use rsiscsi_core::serial::SerialNumber;
use std::time::Instant;

/// Session-wide state: identity, negotiated values and the CmdSN window
/// (RFC 7143 §4.2.2.1), shared by all connections.
#[derive(Debug)]
pub struct Session {
    /// Initiator part of the session ID.
    pub isid: [u8; 6],
    /// Target part, from the leading login's final response.
    pub tsih: u16,
    /// Session-wide negotiated values.
    pub params: SessionParams,
    cmd_sn: u32,
    exp_cmd_sn: u32,
    max_cmd_sn: u32,
    next_itt: u32,
    started: Instant,
}

impl Session {
    /// A session about to log in its leading connection.
    pub fn new(isid: [u8; 6], params: SessionParams) -> Self {
        Session {
            isid,
            tsih: 0,
            params,
            cmd_sn: 1,
            exp_cmd_sn: 1,
            max_cmd_sn: 1,
            next_itt: 1,
            started: Instant::now(),
        }
    }

    /// The CmdSN the next command will carry (Login carries it unchanged).
    pub fn cmd_sn(&self) -> u32 {
        self.cmd_sn
    }

    /// Sets the first CmdSN (from the leading login's ExpCmdSN).
    pub fn start_cmd_sn(&mut self, exp_cmd_sn: u32, max_cmd_sn: u32) {
        self.cmd_sn = exp_cmd_sn;
        self.exp_cmd_sn = exp_cmd_sn;
        self.max_cmd_sn = max_cmd_sn;
    }

    /// Takes the CmdSN for a non-immediate command, which advances it.
    pub fn take_cmd_sn(&mut self) -> u32 {
        let sn = self.cmd_sn;
        self.cmd_sn = sn.wrapping_add(1);
        sn
    }

    /// Whether the target's window admits another non-immediate command.
    pub fn window_open(&self) -> bool {
        SerialNumber(self.cmd_sn)
            .in_window(SerialNumber(self.exp_cmd_sn), SerialNumber(self.max_cmd_sn))
    }

    /// Applies an ExpCmdSN / MaxCmdSN pair from any target PDU; pairs where
    /// MaxCmdSN < ExpCmdSN - 1 are ignored, as are stale ones (§4.2.2.1).
    pub fn update_window(&mut self, exp: u32, max: u32) {
        if SerialNumber(max).lt(SerialNumber(exp.wrapping_sub(1))) {
            return;
        }
        if SerialNumber(exp).gt(SerialNumber(self.exp_cmd_sn)) {
            self.exp_cmd_sn = exp;
        }
        if SerialNumber(max).gt(SerialNumber(self.max_cmd_sn)) {
            self.max_cmd_sn = max;
        }
    }

    /// A fresh Initiator Task Tag (never the reserved 0xffffffff).
    pub fn alloc_itt(&mut self) -> u32 {
        let itt = self.next_itt;
        self.next_itt = match itt.wrapping_add(1) {
            pdu::RESERVED_TAG => 1,
            n => n,
        };
        itt
    }

    /// Milliseconds since the session was set up (the NOP clock).
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// One connection of a session, in Full Feature Phase.
#[derive(Debug)]
pub struct Connection {
    /// Connection ID.
    pub cid: u16,
    /// The socket.
    pub wire: Wire,
    /// Next StatSN expected from the target on this connection.
    pub exp_stat_sn: u32,
    /// Connection-only negotiated values.
    pub params: ConnectionParams,
    /// Liveness (NOP-Out / NOP-In) state.
    pub nop: NopKeeper,
}

/// What [`Connection::recv_for`] hands back.
pub type Reply = Inbound;

impl Connection {
    /// Wraps a connection whose login just completed.
    pub fn new(cid: u16, mut wire: Wire, exp_stat_sn: u32, params: ConnectionParams) -> Self {
        wire.set_digests(Digests {
            header: params.header_digest == DigestType::Crc32c,
            data: params.data_digest == DigestType::Crc32c,
        });
        wire.set_max_recv(params.max_recv_data_segment_length);
        Connection {
            cid,
            wire,
            exp_stat_sn,
            params,
            nop: NopKeeper::new(NopConfig::DEFAULT, 0),
        }
    }

    fn account(&mut self, sess: &mut Session, pdu: &TargetPdu) {
        let (exp, max) = pdu.cmd_window();
        sess.update_window(exp, max);
        if let StatSnUse::Consumed(sn) = pdu.stat_sn() {
            if SerialNumber(sn).ge(SerialNumber(self.exp_stat_sn)) {
                self.exp_stat_sn = sn.wrapping_add(1);
            }
        }
    }

    /// Sends a BHS with optional AHS and data.
    pub fn send(&mut self, bhs: &Bhs, ahs: &[u8], data: &[u8]) -> Result<(), DiagError> {
        self.wire.send(bhs, ahs, data)
    }

    fn answer_nop(&mut self, sess: &mut Session, nop: &pdu::NopIn) -> Result<(), DiagError> {
        match self.nop.on_nop_in(nop, sess.now_ms()) {
            Ok(NopInAction::Reply(out)) => {
                let mut bhs = [0u8; BHS_LEN];
                out.to_pdu(sess.cmd_sn(), self.exp_stat_sn)
                    .encode(&mut bhs)
                    .map_err(|e| core_err("NOP-Out", e))?;
                self.send(&bhs, &[], &[])
            }
            Ok(_) => Ok(()),
            Err(e) => Err(core_err("unexpected NOP-In", e)),
        }
    }

    /// Receives one PDU and handles it if it is background traffic
    /// (target pings, window updates, asynchronous SCSI events); anything
    /// else is returned. A Reject or a logout demand is a protocol error.
    pub fn recv_event(&mut self, sess: &mut Session) -> Result<Option<Reply>, DiagError> {
        let inb = self.wire.recv()?;
        self.account(sess, &inb.pdu);
        match &inb.pdu {
            TargetPdu::NopIn(n) if n.itt == pdu::RESERVED_TAG => {
                self.answer_nop(sess, n)?;
                Ok(None)
            }
            TargetPdu::AsyncMessage(a) => {
                println!(
                    "  cid {}: async message event {} (params {} {} {})",
                    self.cid, a.async_event, a.parameter1, a.parameter2, a.parameter3
                );
                if a.async_event == pdu::async_msg::ASYNC_EVENT_SCSI {
                    Ok(None)
                } else {
                    Err(protocol(format!(
                        "target asked to end the connection (async event {})",
                        a.async_event
                    )))
                }
            }
            TargetPdu::Reject(r) => {
                let what = pdu::reject::rejected_header(&inb.data)
                    .map(|h| format!("opcode 0x{:02x}", h[0] & 0x3f))
                    .unwrap_or_else(|_| "a PDU".to_string());
                Err(protocol(format!(
                    "target rejected {what} (reason 0x{:02x})",
                    r.reason
                )))
            }
            _ => Ok(Some(inb)),
        }
    }

    /// Receives PDUs until one for task `itt` arrives (see
    /// [`Connection::recv_event`] for what is handled on the way).
    pub fn recv_for(&mut self, sess: &mut Session, itt: u32) -> Result<Reply, DiagError> {
        loop {
            let Some(inb) = self.recv_event(sess)? else {
                continue;
            };
            if inb.pdu.itt() == itt {
                return Ok(inb);
            }
            return Err(protocol(format!(
                "unexpected {:?} with ITT 0x{:08x} (waiting for 0x{itt:08x})",
                inb.pdu.opcode(),
                inb.pdu.itt()
            )));
        }
    }

    /// Waits until the CmdSN window admits a command (the target opens it
    /// with a NOP-In or any response).
    pub fn wait_window(&mut self, sess: &mut Session) -> Result<(), DiagError> {
        while !sess.window_open() {
            if let Some(inb) = self.recv_event(sess)? {
                return Err(protocol(format!(
                    "unexpected {:?} while waiting for the CmdSN window",
                    inb.pdu.opcode()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsiscsi_core::keys::params::SessionType;

    #[test]
    fn window_and_itts() {
        let mut s = Session::new([0; 6], SessionParams::rfc_defaults(SessionType::Normal));
        s.start_cmd_sn(10, 10);
        assert!(s.window_open());
        assert_eq!(s.take_cmd_sn(), 10);
        assert!(!s.window_open());
        s.update_window(11, 9); // MaxCmdSN < ExpCmdSN - 1: ignored
        assert!(!s.window_open());
        s.update_window(11, 12);
        assert!(s.window_open());
        s.next_itt = 0xffff_fffe;
        assert_eq!(s.alloc_itt(), 0xffff_fffe);
        assert_eq!(s.alloc_itt(), 1);
    }
}
