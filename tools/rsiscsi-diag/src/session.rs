// SPDX-License-Identifier: GPL-2.0
//! Session and connection state of a logged-in session, and the receive
//! loop every full-feature exchange shares (window updates, StatSN, target
//! NOP-In pings, asynchronous messages, Rejects).

use crate::error::{core_err, protocol, DiagError};
use crate::wire::{Inbound, Wire};
use rsiscsi_core::async_event::{self, AsyncAction};
use rsiscsi_core::keys::params::{ConnectionParams, DigestType, SessionParams};
use rsiscsi_core::nop::{NopConfig, NopInAction, NopKeeper};
use rsiscsi_core::pdu::{self, Bhs, Digests, Lun, TargetPdu, BHS_LEN};
use rsiscsi_core::seq::{CmdWindow, StatSnEvent, StatSnTracker};
use rsiscsi_core::task::{Direction, NewTask, TaskTable};
use std::time::Instant;

/// Tasks one session tracks at once (the tool runs one at a time, plus a
/// ping or logout at most).
const TASKS: usize = 16;

/// Session-wide state: identity, negotiated values, the CmdSN window
/// (RFC 7143 §4.2.2.1) and the task table, shared by all connections.
#[derive(Debug)]
pub struct Session {
    /// Initiator part of the session ID.
    pub isid: [u8; 6],
    /// Target part, from the leading login's final response.
    pub tsih: u16,
    /// Session-wide negotiated values.
    pub params: SessionParams,
    window: CmdWindow,
    tasks: TaskTable<TASKS>,
    started: Instant,
}

impl Session {
    /// A session whose leading login just completed.
    pub fn new(
        isid: [u8; 6],
        tsih: u16,
        params: SessionParams,
        exp_cmd_sn: u32,
        max_cmd_sn: u32,
    ) -> Self {
        Session {
            isid,
            tsih,
            params,
            window: CmdWindow::from_login(exp_cmd_sn, max_cmd_sn),
            tasks: TaskTable::new(),
            started: Instant::now(),
        }
    }

    /// The CmdSN the next command will carry; what immediate PDUs and
    /// Login requests carry without consuming it.
    pub fn cmd_sn(&self) -> u32 {
        self.window.next_cmd_sn()
    }

    /// Numbers a non-immediate command, or `None` while the window is shut.
    pub fn assign_cmd_sn(&mut self) -> Option<u32> {
        self.window.assign()
    }

    /// Whether the target's window admits another non-immediate command.
    pub fn window_open(&self) -> bool {
        self.window.can_send()
    }

    /// Applies an ExpCmdSN / MaxCmdSN pair (e.g. from a Login Response).
    pub fn update_window(&mut self, exp_cmd_sn: u32, max_cmd_sn: u32) {
        if self
            .window
            .update(exp_cmd_sn, max_cmd_sn)
            .exp_cmd_sn_advanced
        {
            self.tasks.acknowledge_through(exp_cmd_sn);
        }
    }

    /// Starts a task on connection `cid`; returns its ITT.
    pub fn begin_task(
        &mut self,
        cid: u16,
        lun: Lun,
        cmd_sn: u32,
        immediate: bool,
        direction: Direction,
        length: u32,
    ) -> Result<u32, DiagError> {
        self.tasks
            .insert(NewTask {
                lun,
                cmd_sn,
                immediate,
                cid,
                direction,
                expected_transfer_length: length,
            })
            .map_err(|e| core_err("task table", e))
    }

    /// Starts a task with no data (ping, text, logout), sent immediate
    /// with the current CmdSN.
    pub fn begin_immediate(&mut self, cid: u16) -> Result<u32, DiagError> {
        let sn = self.cmd_sn();
        self.begin_task(cid, Lun::ZERO, sn, true, Direction::None, 0)
    }

    /// Ends task `itt`.
    pub fn end_task(&mut self, itt: u32) {
        self.tasks.remove(itt);
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
    stat: StatSnTracker,
    /// Connection-only negotiated values.
    pub params: ConnectionParams,
    /// Liveness (NOP-Out / NOP-In) state.
    pub nop: NopKeeper,
}

impl Connection {
    /// Wraps a connection whose login just completed.
    pub fn new(cid: u16, mut wire: Wire, exp_stat_sn: u32, params: ConnectionParams) -> Self {
        wire.set_digests(Digests {
            header: params.header_digest == DigestType::Crc32c,
            data: params.data_digest == DigestType::Crc32c,
        });
        wire.set_max_recv(params.max_recv_data_segment_length);
        let mut stat = StatSnTracker::new();
        stat.start(exp_stat_sn);
        Connection {
            cid,
            wire,
            stat,
            params,
            nop: NopKeeper::new(NopConfig::DEFAULT, 0),
        }
    }

    /// ExpStatSN to carry in the next PDU sent on this connection.
    pub fn exp_stat_sn(&self) -> u32 {
        self.stat.exp_stat_sn()
    }

    fn account(&mut self, sess: &mut Session, pdu: &TargetPdu) -> Result<(), DiagError> {
        let (exp, max) = pdu.cmd_window();
        sess.update_window(exp, max);
        match self.stat.on_pdu(pdu.stat_sn()) {
            StatSnEvent::Gap { from, to } => Err(protocol(format!(
                "cid {}: StatSN gap [{from}, {to}) at ErrorRecoveryLevel 0",
                self.cid
            ))),
            StatSnEvent::Lost => Err(protocol(format!(
                "cid {}: StatSN out of sequence",
                self.cid
            ))),
            _ => Ok(()),
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
                out.to_pdu(sess.cmd_sn(), self.exp_stat_sn())
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
    pub fn recv_event(&mut self, sess: &mut Session) -> Result<Option<Inbound>, DiagError> {
        let inb = self.wire.recv()?;
        self.account(sess, &inb.pdu)?;
        match &inb.pdu {
            TargetPdu::NopIn(n) if n.itt == pdu::RESERVED_TAG => {
                self.answer_nop(sess, n)?;
                Ok(None)
            }
            TargetPdu::AsyncMessage(a) => {
                let action = async_event::interpret(a, &inb.data, self.cid, sess.now_ms())
                    .map_err(|e| core_err("Async Message", e))?;
                say!("  cid {}: async message: {action:?}", self.cid);
                match action {
                    AsyncAction::ScsiEvent { .. }
                    | AsyncAction::Vendor { .. }
                    | AsyncAction::Unknown(_) => Ok(None),
                    // A diagnostic run is short: anything the target wants
                    // done to the session or connection ends it.
                    other => Err(protocol(format!("target ended the run: {other:?}"))),
                }
            }
            TargetPdu::Reject(r) => {
                let what = pdu::reject::rejected_header(&inb.data)
                    .map(|h| format!("opcode 0x{:02x}", pdu::bhs::raw_opcode(h)))
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
    pub fn recv_for(&mut self, sess: &mut Session, itt: u32) -> Result<Inbound, DiagError> {
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
