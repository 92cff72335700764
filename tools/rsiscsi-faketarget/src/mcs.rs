// SPDX-License-Identifier: GPL-2.0
//! `async-logout`: a session of several connections, and a target that asks
//! the initiator to log one of them out (RFC 7143 §11.9.1, AsyncEvent 1),
//! which LIO never does on its own.
//!
//! The leading login makes the session; further logins with its TSIH and
//! ISID add connections. A few seconds after the first connection that is
//! not the leading one logs in, it gets the Async Message with Parameter3
//! [`LOGOUT_WITHIN_S`]. The initiator must then send a Logout with reason 1
//! (close the connection) for that CID within the time; when it logs the CID
//! in again afterwards (a reinstatement), the sequence is complete. The run
//! ends when the initiator closes the session (Logout reason 0) and every
//! connection is gone: success only if all of that happened, in order.
//!
//! The session has no logical unit: INQUIRY answers "no device" (peripheral
//! qualifier 3), REPORT LUNS an empty list, anything else CHECK CONDITION
//! (ILLEGAL REQUEST). One thread per connection; the CmdSN window is the
//! session's, StatSN each connection's own.

use crate::target::{login, Admit, Conn, Options, Pdu, Session, PEER_TIMEOUT};
use rsiscsi_core::pdu::async_msg::ASYNC_EVENT_LOGOUT_REQUEST;
use rsiscsi_core::pdu::logout::LogoutReason;
use rsiscsi_core::pdu::{
    AsyncMessage, Bhs, DataIn, Digests, InitiatorPdu, Lun, Residual, ScsiResponse, BHS_LEN,
    RESERVED_TAG,
};
use rsiscsi_core::serial::SerialNumber;
use std::collections::HashMap;
use std::io::{ErrorKind, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// Our MaxConnections.
const MAX_CONNECTIONS: u16 = 4;
/// From the login of the connection to be logged out to the event: time for
/// the initiator to scan the (empty) session.
const EVENT_DELAY: Duration = Duration::from_secs(3);
/// Parameter3 of the event: seconds the initiator has to log out.
const LOGOUT_WITHIN_S: u16 = 10;
/// How often a connection without traffic looks at its timer.
const TICK: Duration = Duration::from_millis(100);
/// The longest the whole sequence may take.
const SESSION_TIMEOUT: Duration = Duration::from_secs(180);

/// SCSI operation codes answered without a CHECK CONDITION.
const INQUIRY: u8 = 0x12;
const REPORT_LUNS: u8 = 0xa0;

/// What the connection threads share.
#[derive(Default)]
struct Shared {
    /// ISID of the session, once the leading login made it.
    isid: Option<[u8; 6]>,
    /// The session's next expected CmdSN.
    exp_cmd_sn: u32,
    /// A clone of each logged-in connection's socket, to close it when a
    /// Logout on another connection names its CID; with the number of the
    /// login that put it there, so an old thread does not remove a new one.
    streams: HashMap<u16, (u64, TcpStream)>,
    /// Logins so far.
    logins: u64,
    /// The CID the event went to, once sent.
    event_cid: Option<u16>,
    /// The CID chosen for the event (before it is sent).
    event_chosen: Option<u16>,
    /// That CID was logged out with reason 1 after the event.
    logged_out: bool,
    /// That CID logged in again after its logout.
    reinstated: bool,
    /// The initiator closed the session (reason 0).
    session_closed: bool,
    /// Connection threads running.
    live: usize,
}

fn lock(s: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panicking thread fails the run through its join; the state it left
    // is still good enough to report from.
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serves one session of several connections from `listener`; `Ok` once
/// the initiator logged the requested connection out, reinstated it and
/// closed the session.
pub fn serve(listener: &TcpListener, opts: &Options, log: &mut dyn Write) -> Result<(), String> {
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("listener: {e}"))?;
    let shared = Arc::new(Mutex::new(Shared::default()));
    let (tx, rx) = mpsc::channel::<String>();
    let mut threads = Vec::new();
    let give_up = Instant::now() + SESSION_TIMEOUT;
    loop {
        while let Ok(line) = rx.try_recv() {
            let _ = writeln!(log, "rsiscsi-faketarget: {line}");
        }
        {
            let g = lock(&shared);
            if g.session_closed && g.live == 0 {
                break;
            }
        }
        if Instant::now() > give_up {
            return Err(format!(
                "the session did not end within {} s: {}",
                SESSION_TIMEOUT.as_secs(),
                progress(&lock(&shared))
            ));
        }
        match listener.accept() {
            Ok((stream, peer)) => {
                let _ = writeln!(log, "rsiscsi-faketarget: connection from {peer}");
                let (opts, shared, tx) = (opts.clone(), shared.clone(), tx.clone());
                lock(&shared).live += 1;
                threads.push(thread::spawn(move || {
                    let r = connection(stream, &opts, &shared, &tx);
                    if let Err(e) = &r {
                        let _ = tx.send(format!("connection ended: {e}"));
                    }
                    lock(&shared).live -= 1;
                    r
                }));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("accept: {e}")),
        }
    }
    let mut first_err = None;
    for t in threads {
        match t.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(_) => {
                first_err.get_or_insert("a connection thread panicked".into());
            }
        }
    }
    while let Ok(line) = rx.try_recv() {
        let _ = writeln!(log, "rsiscsi-faketarget: {line}");
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let g = lock(&shared);
    if g.event_cid.is_some() && g.logged_out && g.reinstated {
        let _ = writeln!(
            log,
            "rsiscsi-faketarget: session closed after the requested logout and reinstatement"
        );
        Ok(())
    } else {
        Err(format!("the session closed early: {}", progress(&g)))
    }
}

fn progress(g: &Shared) -> String {
    match (g.event_cid, g.logged_out, g.reinstated) {
        (None, ..) => "no connection to ask to log out joined the session".into(),
        (Some(c), false, _) => format!("connection {c} was asked to log out and was not"),
        (Some(c), true, false) => format!("connection {c} logged out and was not reinstated"),
        (Some(c), true, true) => format!("connection {c} logged out and was reinstated"),
    }
}

/// One connection, from its login to its close.
fn connection(
    stream: TcpStream,
    opts: &Options,
    shared: &Mutex<Shared>,
    tx: &mpsc::Sender<String>,
) -> Result<(), String> {
    stream
        .set_read_timeout(Some(PEER_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(PEER_TIMEOUT)))
        .and_then(|()| stream.set_nodelay(true))
        .map_err(|e| format!("socket options: {e}"))?;
    let mut c = Conn {
        stream,
        digests: Digests::NONE,
    };
    let admit = Admit {
        max_connections: MAX_CONNECTIONS,
        join: lock(shared).isid,
    };
    let mut out = Vec::new();
    let r = login(&mut c, opts, &admit, &mut out);
    for line in String::from_utf8_lossy(&out).lines() {
        let _ = tx.send(line.trim_start_matches("rsiscsi-faketarget: ").to_string());
    }
    let (mut s, joined) = r?;
    c.digests = s.digests;
    let cid = joined.cid;
    let clone = c
        .stream
        .try_clone()
        .map_err(|e| format!("socket clone: {e}"))?;
    let (generation, event_at) = {
        let mut g = lock(shared);
        if joined.leading {
            if g.isid.is_some() {
                return Err("a second leading login: one session is served".into());
            }
            g.isid = Some(joined.isid);
            g.exp_cmd_sn = s.exp_cmd_sn;
        }
        g.logins += 1;
        let generation = g.logins;
        g.streams.insert(cid, (generation, clone));
        let mut event_at = None;
        if g.logged_out && g.event_cid == Some(cid) && !g.reinstated {
            g.reinstated = true;
            let _ = tx.send(format!("connection {cid} reinstated after its logout"));
        } else if !joined.leading && g.event_chosen.is_none() {
            g.event_chosen = Some(cid);
            event_at = Some(Instant::now() + EVENT_DELAY);
        }
        (generation, event_at)
    };
    let r = full_feature(&mut c, &mut s, cid, event_at, shared, tx);
    let mut g = lock(shared);
    if g.streams.get(&cid).is_some_and(|(n, _)| *n == generation) {
        g.streams.remove(&cid);
    }
    r
}

/// Serves connection `cid` in Full Feature Phase until the initiator closes
/// it; sends the event at `event_at`.
fn full_feature(
    c: &mut Conn,
    s: &mut Session,
    cid: u16,
    mut event_at: Option<Instant>,
    shared: &Mutex<Shared>,
    tx: &mpsc::Sender<String>,
) -> Result<(), String> {
    loop {
        if event_at.is_some_and(|t| Instant::now() >= t) {
            event_at = None;
            sync_window(s, shared);
            send_logout_request(c, s)?;
            lock(shared).event_cid = Some(cid);
            let _ = tx.send(format!(
                "sent Async Message event 1 (logout requested within {LOGOUT_WITHIN_S} s) on connection {cid}"
            ));
        }
        // Wait for a PDU a tick at a time; read it whole with the long
        // timeout.
        c.stream
            .set_read_timeout(Some(TICK))
            .map_err(|e| format!("socket: {e}"))?;
        let mut b = [0u8; 1];
        match c.stream.peek(&mut b) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(()),
            Err(e) => return Err(format!("connection {cid}: {e}")),
        }
        c.stream
            .set_read_timeout(Some(PEER_TIMEOUT))
            .map_err(|e| format!("socket: {e}"))?;
        let Some(pdu) = c.recv("in full feature phase")? else {
            return Ok(());
        };
        answer(c, s, cid, &pdu, shared, tx)?;
    }
}

/// Takes the session's ExpCmdSN into `s` for the next PDU.
fn sync_window(s: &mut Session, shared: &Mutex<Shared>) {
    s.exp_cmd_sn = lock(shared).exp_cmd_sn;
}

/// Counts a non-immediate PDU with `cmd_sn` into the session's window.
fn received(cmd_sn: u32, shared: &Mutex<Shared>) {
    let mut g = lock(shared);
    let next = cmd_sn.wrapping_add(1);
    if SerialNumber(next).gt(SerialNumber(g.exp_cmd_sn)) {
        g.exp_cmd_sn = next;
    }
}

fn send_logout_request(c: &mut Conn, s: &mut Session) -> Result<(), String> {
    let (exp_cmd_sn, max_cmd_sn) = s.window();
    let mut out: Bhs = [0; BHS_LEN];
    AsyncMessage {
        data_segment_length: 0,
        lun: Lun::ZERO,
        stat_sn: s.next_stat_sn(),
        exp_cmd_sn,
        max_cmd_sn,
        async_event: ASYNC_EVENT_LOGOUT_REQUEST,
        async_vcode: 0,
        parameter1: 0,
        parameter2: 0,
        parameter3: LOGOUT_WITHIN_S,
    }
    .encode(&mut out)
    .map_err(|e| format!("encoding an Async Message: {e:?}"))?;
    c.send(&out, &[])
}

fn answer(
    c: &mut Conn,
    s: &mut Session,
    cid: u16,
    pdu: &Pdu,
    shared: &Mutex<Shared>,
    tx: &mpsc::Sender<String>,
) -> Result<(), String> {
    let req = InitiatorPdu::decode(&pdu.bhs, &pdu.ahs)
        .map_err(|e| format!("the initiator sent a bad PDU: {e:?}"))?;
    let enc = |e| format!("encoding: {e:?}");
    let mut out: Bhs = [0; BHS_LEN];
    match req {
        InitiatorPdu::ScsiCommand(cmd) => {
            if !cmd.immediate {
                received(cmd.cmd_sn, shared);
            }
            sync_window(s, shared);
            let op = cmd.cdb.head()[0];
            let want = cmd.expected_data_transfer_length;
            match op {
                INQUIRY | REPORT_LUNS if cmd.read => {
                    let mut data = [0u8; 36];
                    let len = if op == INQUIRY {
                        // Peripheral qualifier 3, type 0x1f: no unit here;
                        // SPC-3, response data format 2.
                        data[0] = 0x7f;
                        data[2] = 0x05;
                        data[3] = 0x02;
                        data[4] = 31;
                        36
                    } else {
                        // LUN list length 0.
                        8
                    };
                    let n = len.min(want as usize);
                    let residual = match (want as usize).cmp(&len) {
                        core::cmp::Ordering::Less => Residual::Overflow((len - n) as u32),
                        core::cmp::Ordering::Greater => Residual::Underflow(want - n as u32),
                        core::cmp::Ordering::Equal => Residual::None,
                    };
                    let (exp_cmd_sn, max_cmd_sn) = s.window();
                    DataIn {
                        final_flag: true,
                        acknowledge: false,
                        status_flag: true,
                        status: 0,
                        data_segment_length: n as u32,
                        lun: cmd.lun,
                        itt: cmd.itt,
                        ttt: RESERVED_TAG,
                        stat_sn: s.next_stat_sn(),
                        exp_cmd_sn,
                        max_cmd_sn,
                        data_sn: 0,
                        buffer_offset: 0,
                        residual,
                    }
                    .encode(&mut out)
                    .map_err(enc)?;
                    c.send(&out, &data[..n])
                }
                _ => {
                    // Fixed sense: ILLEGAL REQUEST, INVALID COMMAND
                    // OPERATION CODE, after the 2-byte SenseLength.
                    let mut sense = [0u8; 20];
                    sense[1] = 18;
                    sense[2] = 0x70;
                    sense[4] = 0x05;
                    sense[9] = 10;
                    sense[14] = 0x20;
                    let (exp_cmd_sn, max_cmd_sn) = s.window();
                    ScsiResponse {
                        response: 0,
                        status: 0x02,
                        data_segment_length: sense.len() as u32,
                        itt: cmd.itt,
                        snack_tag: 0,
                        stat_sn: s.next_stat_sn(),
                        exp_cmd_sn,
                        max_cmd_sn,
                        exp_data_sn: 0,
                        bidi_read_residual: Residual::None,
                        residual: if want > 0 {
                            Residual::Underflow(want)
                        } else {
                            Residual::None
                        },
                    }
                    .encode(&mut out)
                    .map_err(enc)?;
                    c.send(&out, &sense)
                }
            }
        }
        InitiatorPdu::NopOut(n) => {
            if !n.immediate {
                received(n.cmd_sn, shared);
            }
            sync_window(s, shared);
            c.answer_nop_out(s, &n, &pdu.data)
        }
        InitiatorPdu::LogoutRequest(l) => {
            if !l.immediate {
                received(l.cmd_sn, shared);
            }
            sync_window(s, shared);
            let what = match l.reason {
                LogoutReason::CloseSession => "close the session".to_string(),
                LogoutReason::CloseConnection => format!("close connection {}", l.cid),
                LogoutReason::RemoveConnectionForRecovery => {
                    format!("remove connection {} for recovery", l.cid)
                }
            };
            c.answer_logout(s, l.itt)?;
            let _ = tx.send(format!("Logout on connection {cid}: {what}"));
            let mut g = lock(shared);
            match l.reason {
                LogoutReason::CloseSession => {
                    g.session_closed = true;
                    for (_, st) in g.streams.values() {
                        let _ = st.shutdown(Shutdown::Both);
                    }
                }
                LogoutReason::CloseConnection | LogoutReason::RemoveConnectionForRecovery => {
                    if l.reason == LogoutReason::CloseConnection && g.event_cid == Some(l.cid) {
                        g.logged_out = true;
                    }
                    if l.cid != cid {
                        if let Some((_, st)) = g.streams.get(&l.cid) {
                            let _ = st.shutdown(Shutdown::Both);
                        }
                    }
                }
            }
            Ok(())
        }
        // Nothing here asks for data, so Data-Out is unsolicited and
        // dropped; a TMF or Text Request finds no task and no key.
        other => {
            let _ = tx.send(format!("connection {cid}: ignoring {:?}", other.opcode()));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::tests::{log_in_as, start, IQN};
    use crate::target::{Mode, TSIH};
    use rsiscsi_core::login::LoginKind;
    use rsiscsi_core::pdu::{LogoutRequest, PduLayout, TargetPdu};
    use std::io::Read;

    fn read_pdu(st: &mut TcpStream) -> (Bhs, Vec<u8>) {
        let mut bhs: Bhs = [0; BHS_LEN];
        st.read_exact(&mut bhs).unwrap();
        let layout = PduLayout::from_bhs(&bhs, Digests::NONE);
        let mut rest = vec![0u8; layout.data_rest_len()];
        st.read_exact(&mut rest).unwrap();
        rest.truncate(layout.data_len as usize);
        (bhs, rest)
    }

    /// Sends a Logout Request and returns the Logout Response's code.
    fn log_out(st: &mut TcpStream, reason: LogoutReason, cid: u16, exp_stat_sn: u32) -> u8 {
        let mut bhs: Bhs = [0; BHS_LEN];
        LogoutRequest {
            immediate: true,
            reason,
            itt: 0x20 + u32::from(cid),
            cid,
            cmd_sn: 1,
            exp_stat_sn,
        }
        .encode(&mut bhs)
        .unwrap();
        st.write_all(&bhs).unwrap();
        let (b, _) = read_pdu(st);
        let TargetPdu::LogoutResponse(r) = TargetPdu::decode(&b).unwrap() else {
            panic!("not a Logout Response");
        };
        r.response
    }

    /// The whole sequence the guest test expects of the kernel, played by
    /// the core's login: two connections, the event on the second, its
    /// logout, its reinstatement, the session's close.
    #[test]
    fn requested_logout_then_reinstatement_completes_the_run() {
        let (addr, h) = start(Mode::AsyncLogout);
        let mut lead = log_in_as(addr, false, IQN, 0, LoginKind::Leading).unwrap();
        let session = lead.negotiated.session;
        assert_eq!(session.max_connections, MAX_CONNECTIONS);
        let add = LoginKind::AddConnection {
            tsih: TSIH,
            session,
        };
        let mut c1 = log_in_as(addr, false, IQN, 1, add).unwrap();
        c1.st
            .set_read_timeout(Some(EVENT_DELAY + Duration::from_secs(10)))
            .unwrap();
        let (b, _) = read_pdu(&mut c1.st);
        let TargetPdu::AsyncMessage(m) = TargetPdu::decode(&b).unwrap() else {
            panic!("not an Async Message");
        };
        assert_eq!((m.async_event, m.parameter3), (1, LOGOUT_WITHIN_S));
        let exp = m.stat_sn.wrapping_add(1);
        assert_eq!(
            log_out(&mut c1.st, LogoutReason::CloseConnection, 1, exp),
            0
        );
        drop(c1);
        let again = LoginKind::Reinstate {
            tsih: TSIH,
            session,
            exp_stat_sn: exp.wrapping_add(1),
        };
        let c1 = log_in_as(addr, false, IQN, 1, again).unwrap();
        let e = lead.exp_stat_sn;
        assert_eq!(log_out(&mut lead.st, LogoutReason::CloseSession, 0, e), 0);
        drop((lead, c1));
        h.join().unwrap().unwrap();
    }

    #[test]
    fn a_session_closed_without_the_logout_fails_the_run() {
        let (addr, h) = start(Mode::AsyncLogout);
        let mut lead = log_in_as(addr, false, IQN, 0, LoginKind::Leading).unwrap();
        let e = lead.exp_stat_sn;
        assert_eq!(log_out(&mut lead.st, LogoutReason::CloseSession, 0, e), 0);
        drop(lead);
        let err = h.join().unwrap().unwrap_err();
        assert!(err.contains("no connection to ask"), "{err}");
    }

    #[test]
    fn progress_names_the_missing_step() {
        let mut g = Shared::default();
        assert!(progress(&g).contains("no connection"));
        g.event_cid = Some(1);
        assert!(progress(&g).contains("was not"));
        g.logged_out = true;
        assert!(progress(&g).contains("not reinstated"));
        g.reinstated = true;
        assert!(progress(&g).contains("was reinstated"));
    }

    #[test]
    fn window_only_moves_forward() {
        let s = Mutex::new(Shared {
            exp_cmd_sn: 10,
            ..Shared::default()
        });
        received(12, &s);
        assert_eq!(lock(&s).exp_cmd_sn, 13);
        received(5, &s);
        assert_eq!(lock(&s).exp_cmd_sn, 13);
        // Serial arithmetic across the wrap.
        received(u32::MAX, &s);
        assert_eq!(lock(&s).exp_cmd_sn, 13);
        lock(&s).exp_cmd_sn = u32::MAX - 1;
        received(u32::MAX, &s);
        assert_eq!(lock(&s).exp_cmd_sn, 0);
    }
}
