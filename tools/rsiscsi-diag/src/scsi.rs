// SPDX-License-Identifier: GPL-2.0
//! Runs one SCSI command on one connection, synchronously: the SCSI Command
//! PDU with its immediate data, the unsolicited Data-Out sequence, one
//! Data-Out sequence per R2T, Data-In placement and the final status. What
//! to send when is decided by `rsiscsi_core::dataout` and
//! `rsiscsi_core::datain`; this moves the bytes.

use crate::cdb::{parse_sense, Sense};
use crate::error::{core_err, protocol, DiagError};
use crate::session::{Connection, Session};
use rsiscsi_core::datain::{self, DataInParams, DataInTracker, DataInVerdict, RESPONSE_COMPLETED};
use rsiscsi_core::dataout::{self, DataOutSequence, WriteParams, WriteTransfer};
use rsiscsi_core::keys::params::NegotiatedParams;
use rsiscsi_core::pdu::{Bhs, Cdb, Lun, Residual, ScsiCommand, TargetPdu, TaskAttr, BHS_LEN};
use rsiscsi_core::task;

/// R2Ts one write may have outstanding; also what we offer as
/// MaxOutstandingR2T.
pub const MAX_OUTSTANDING_R2T: u16 = 4;

/// The data phase of a command.
#[derive(Debug, Clone, Copy)]
pub enum DataDir<'a> {
    /// No data.
    None,
    /// Read up to this many bytes.
    Read(u32),
    /// Write these bytes.
    Write(&'a [u8]),
}

/// How a write's data travelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WritePaths {
    /// Bytes of immediate data in the SCSI Command PDU.
    pub immediate: u32,
    /// Unsolicited Data-Out PDUs (and their bytes).
    pub unsolicited_pdus: u32,
    /// Unsolicited Data-Out bytes.
    pub unsolicited_bytes: u32,
    /// R2Ts answered.
    pub r2ts: u32,
    /// Solicited Data-Out PDUs.
    pub solicited_pdus: u32,
    /// Solicited bytes.
    pub solicited_bytes: u32,
}

/// How a command ended.
#[derive(Debug, Clone)]
pub struct ScsiResult {
    /// SCSI status byte.
    pub status: u8,
    /// Parsed sense data, when the status carried some.
    pub sense: Option<Sense>,
    /// Data read (reads only), truncated to what arrived.
    pub data: Vec<u8>,
    /// Residual the target reported.
    pub residual: Residual,
    /// How write data travelled (writes only).
    pub paths: WritePaths,
}

fn negotiated(sess: &Session, conn: &Connection) -> NegotiatedParams {
    NegotiatedParams {
        session: sess.params,
        connection: conn.params,
    }
}

/// Sends every PDU of a Data-Out sequence out of `data`.
fn send_sequence(
    conn: &mut Connection,
    lun: Lun,
    seq: DataOutSequence,
    data: &[u8],
    itt: u32,
) -> Result<(u32, u32), DiagError> {
    let (mut pdus, mut bytes) = (0, 0);
    for p in seq {
        let start = p.buffer_offset as usize;
        let chunk = data
            .get(start..start + p.length as usize)
            .ok_or_else(|| protocol("Data-Out beyond the write buffer"))?;
        let mut bhs: Bhs = [0; BHS_LEN];
        p.to_pdu(lun, itt, conn.exp_stat_sn())
            .encode(&mut bhs)
            .map_err(|e| core_err("Data-Out", e))?;
        conn.send(&bhs, &[], chunk)?;
        pdus += 1;
        bytes += p.length;
    }
    Ok((pdus, bytes))
}

/// Runs `cdb` on `lun` over `conn` and waits for its status.
pub fn execute(
    sess: &mut Session,
    conn: &mut Connection,
    lun: Lun,
    cdb: &[u8],
    dir: DataDir<'_>,
) -> Result<ScsiResult, DiagError> {
    let (length, task_dir) = match dir {
        DataDir::None => (0, task::Direction::None),
        DataDir::Read(n) => (n, task::Direction::Read),
        DataDir::Write(d) => (
            u32::try_from(d.len()).map_err(protocol)?,
            task::Direction::Write,
        ),
    };
    conn.wait_window(sess)?;
    let cmd_sn = sess
        .assign_cmd_sn()
        .ok_or_else(|| protocol("CmdSN window closed"))?;
    let itt = sess.begin_task(conn.cid, lun, cmd_sn, false, task_dir, length)?;
    let cmd = ScsiCommand {
        immediate: false,
        final_flag: true,
        read: task_dir == task::Direction::Read,
        write: task_dir == task::Direction::Write,
        attr: TaskAttr::Simple,
        data_segment_length: 0,
        lun,
        itt,
        expected_data_transfer_length: length,
        cmd_sn,
        exp_stat_sn: conn.exp_stat_sn(),
        cdb: Cdb::new(cdb).map_err(|e| core_err("CDB", e))?,
        bidi_read_length: None,
    };
    let r = match dir {
        DataDir::Write(data) => run_write(sess, conn, cmd, data),
        DataDir::Read(_) => run_read(sess, conn, cmd, datain::Direction::Read),
        DataDir::None => run_read(sess, conn, cmd, datain::Direction::None),
    };
    sess.end_task(itt);
    r
}

fn send_command(
    conn: &mut Connection,
    cmd: &ScsiCommand<'_>,
    data: &[u8],
) -> Result<(), DiagError> {
    let mut bhs: Bhs = [0; BHS_LEN];
    let mut ahs = [0u8; 64];
    let ahs_len = cmd
        .encode(&mut bhs, &mut ahs)
        .map_err(|e| core_err("SCSI Command", e))?;
    conn.send(&bhs, ahs.get(..ahs_len).unwrap_or(&[]), data)
}

/// A command without data, or a read: Data-In placement and status.
fn run_read(
    sess: &mut Session,
    conn: &mut Connection,
    cmd: ScsiCommand<'_>,
    direction: datain::Direction,
) -> Result<ScsiResult, DiagError> {
    let length = cmd.expected_data_transfer_length;
    let mut tracker = DataInTracker::new(
        DataInParams::from_negotiated(&negotiated(sess, conn)),
        direction,
        length,
    );
    send_command(conn, &cmd, &[])?;
    let mut data = vec![0u8; length as usize];
    loop {
        let inb = conn.recv_for(sess, cmd.itt)?;
        let verdict = match &inb.pdu {
            TargetPdu::DataIn(d) => {
                let v = tracker.on_data_in(d).map_err(|e| core_err("Data-In", e))?;
                if let Some(p) = v.deliver {
                    let start = p.buffer_offset as usize;
                    let dst = data
                        .get_mut(start..start + p.length as usize)
                        .ok_or_else(|| protocol("Data-In beyond the read buffer"))?;
                    let src = inb
                        .data
                        .get(..p.length as usize)
                        .ok_or_else(|| protocol("Data-In shorter than announced"))?;
                    dst.copy_from_slice(src);
                }
                v
            }
            TargetPdu::ScsiResponse(r) => tracker
                .on_scsi_response(r, &inb.data)
                .map_err(|e| core_err("SCSI Response", e))?,
            other => return Err(unexpected(other)),
        };
        if let Some(mut r) = finish(verdict, &inb.data)? {
            data.truncate(r.bytes as usize);
            r.result.data = data;
            return Ok(r.result);
        }
    }
}

/// A write: immediate data, the unsolicited sequence, then one sequence per
/// R2T until the status arrives.
fn run_write(
    sess: &mut Session,
    conn: &mut Connection,
    mut cmd: ScsiCommand<'_>,
    out: &[u8],
) -> Result<ScsiResult, DiagError> {
    let n = negotiated(sess, conn);
    let mut plan = WriteTransfer::<{ MAX_OUTSTANDING_R2T as usize }>::new(
        WriteParams::from_negotiated(&n),
        cmd.expected_data_transfer_length,
    )
    .map_err(|e| core_err("write plan", e))?;
    let mut tracker = DataInTracker::new(
        DataInParams::from_negotiated(&n),
        datain::Direction::Write,
        0,
    );
    let mut paths = WritePaths {
        immediate: plan.immediate_length(),
        ..WritePaths::default()
    };
    cmd.final_flag = plan.command_final_flag();
    cmd.data_segment_length = plan.immediate_length();
    let imm = out.get(..plan.immediate_length() as usize).unwrap_or(&[]);
    send_command(conn, &cmd, imm)?;
    let (pdus, bytes) = send_sequence(conn, cmd.lun, plan.unsolicited_sequence(), out, cmd.itt)?;
    paths.unsolicited_pdus = pdus;
    paths.unsolicited_bytes = bytes;
    loop {
        let inb = conn.recv_for(sess, cmd.itt)?;
        let verdict = match &inb.pdu {
            TargetPdu::R2t(r) => {
                let (answer, v) = tracker.on_r2t(r.r2t_sn).map_err(|e| core_err("R2T", e))?;
                if answer {
                    let seq = plan
                        .on_r2t(dataout::R2t::from(r))
                        .map_err(|e| core_err("R2T", e))?;
                    let (pdus, bytes) = send_sequence(conn, r.lun, seq, out, cmd.itt)?;
                    plan.sequence_sent(r.r2t_sn)
                        .map_err(|e| core_err("R2T", e))?;
                    paths.r2ts += 1;
                    paths.solicited_pdus += pdus;
                    paths.solicited_bytes += bytes;
                }
                v
            }
            TargetPdu::ScsiResponse(r) => tracker
                .on_scsi_response(r, &inb.data)
                .map_err(|e| core_err("SCSI Response", e))?,
            other => return Err(unexpected(other)),
        };
        if let Some(mut r) = finish(verdict, &inb.data)? {
            r.result.paths = paths;
            return Ok(r.result);
        }
    }
}

fn unexpected(p: &TargetPdu) -> DiagError {
    protocol(format!("unexpected {:?} for a SCSI command", p.opcode()))
}

/// A finished command and how many Data-In bytes it moved.
struct Finished {
    result: ScsiResult,
    bytes: u32,
}

/// Turns a verdict into the final result once the command is complete.
fn finish(verdict: DataInVerdict, segment: &[u8]) -> Result<Option<Finished>, DiagError> {
    if verdict.snack.is_some() {
        return Err(protocol("target data needs a SNACK at ERL 0"));
    }
    let Some(done) = verdict.complete else {
        return Ok(None);
    };
    if done.response != RESPONSE_COMPLETED {
        return Err(protocol(format!(
            "iSCSI response 0x{:02x} (target failure)",
            done.response
        )));
    }
    let sense = done
        .sense
        .and_then(|r| r.slice(segment))
        .and_then(parse_sense);
    Ok(Some(Finished {
        result: ScsiResult {
            status: done.status,
            sense,
            data: Vec::new(),
            residual: done.residual,
            paths: WritePaths::default(),
        },
        bytes: done.bytes_received,
    }))
}
