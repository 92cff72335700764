// SPDX-License-Identifier: GPL-2.0
//! Runs one SCSI command on one connection, synchronously: the SCSI Command
//! PDU with its immediate data, the unsolicited Data-Out sequence, one
//! Data-Out sequence per R2T, Data-In placement and the final status. What
//! to send when is decided by `rsiscsi_core::dataout` and
//! `rsiscsi_core::datain`; this moves the bytes.

use crate::cdb::{parse_sense, Sense};
use crate::error::{core_err, protocol, DiagError};
use crate::session::{Connection, Session};
use rsiscsi_core::datain::{DataInParams, DataInTracker, DataInVerdict, Direction};
use rsiscsi_core::dataout::{self, DataOutSequence, WriteParams, WriteTransfer};
use rsiscsi_core::pdu::{self, Bhs, Cdb, Lun, Residual, ScsiCommand, TargetPdu, TaskAttr, BHS_LEN};

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

fn write_params(sess: &Session, conn: &Connection) -> WriteParams {
    let s = &sess.params;
    WriteParams {
        immediate_data: s.immediate_data,
        initial_r2t: s.initial_r2t,
        first_burst_length: s.first_burst_length,
        max_burst_length: s.max_burst_length,
        max_xmit_data_segment_length: conn.params.max_xmit_data_segment_length,
        max_outstanding_r2t: s.max_outstanding_r2t,
        data_pdu_in_order: s.data_pdu_in_order,
        data_sequence_in_order: s.data_sequence_in_order,
        error_recovery_level: s.error_recovery_level,
    }
}

fn datain_params(sess: &Session) -> DataInParams {
    let s = &sess.params;
    DataInParams {
        error_recovery_level: s.error_recovery_level,
        data_pdu_in_order: s.data_pdu_in_order,
        data_sequence_in_order: s.data_sequence_in_order,
        max_burst_length: s.max_burst_length,
    }
}

/// Sends every PDU of a Data-Out sequence out of `data`.
fn send_sequence(
    conn: &mut Connection,
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
        p.to_pdu(Lun::ZERO, itt, conn.exp_stat_sn)
            .encode(&mut bhs)
            .map_err(|e| core_err("Data-Out", e))?;
        conn.send(&bhs, &[], chunk)?;
        pdus += 1;
        bytes += p.length;
    }
    Ok((pdus, bytes))
}

/// Runs `cdb` on LUN 0 over `conn` and waits for its status.
pub fn execute(
    sess: &mut Session,
    conn: &mut Connection,
    cdb: &[u8],
    dir: DataDir<'_>,
) -> Result<ScsiResult, DiagError> {
    let (direction, length, out) = match dir {
        DataDir::None => (Direction::None, 0, &[][..]),
        DataDir::Read(n) => (Direction::Read, n, &[][..]),
        DataDir::Write(d) => (
            Direction::Write,
            u32::try_from(d.len()).map_err(protocol)?,
            d,
        ),
    };
    let mut write = match direction {
        Direction::Write => Some(
            WriteTransfer::<{ MAX_OUTSTANDING_R2T as usize }>::new(
                write_params(sess, conn),
                length,
            )
            .map_err(|e| core_err("write plan", e))?,
        ),
        _ => None,
    };
    let mut tracker = DataInTracker::new(datain_params(sess), direction, length);
    let mut paths = WritePaths::default();
    let immediate = write.as_ref().map_or(0, WriteTransfer::immediate_length);
    let final_flag = write.as_ref().is_none_or(WriteTransfer::command_final_flag);

    conn.wait_window(sess)?;
    let itt = sess.alloc_itt();
    let cmd = ScsiCommand {
        immediate: false,
        final_flag,
        read: direction == Direction::Read,
        write: direction == Direction::Write,
        attr: TaskAttr::Simple,
        data_segment_length: immediate,
        lun: Lun::ZERO,
        itt,
        expected_data_transfer_length: length,
        cmd_sn: sess.take_cmd_sn(),
        exp_stat_sn: conn.exp_stat_sn,
        cdb: Cdb::new(cdb).map_err(|e| core_err("CDB", e))?,
        bidi_read_length: None,
    };
    let mut bhs: Bhs = [0; BHS_LEN];
    let mut ahs = [0u8; 64];
    let ahs_len = cmd
        .encode(&mut bhs, &mut ahs)
        .map_err(|e| core_err("SCSI Command", e))?;
    let imm_data = out.get(..immediate as usize).unwrap_or(&[]);
    conn.send(&bhs, ahs.get(..ahs_len).unwrap_or(&[]), imm_data)?;
    paths.immediate = immediate;
    if let Some(w) = &write {
        let (n, b) = send_sequence(conn, w.unsolicited_sequence(), out, itt)?;
        paths.unsolicited_pdus = n;
        paths.unsolicited_bytes = b;
    }

    let mut data = vec![
        0u8;
        if direction == Direction::Read {
            length as usize
        } else {
            0
        }
    ];
    loop {
        let inb = conn.recv_for(sess, itt)?;
        let verdict: DataInVerdict = match &inb.pdu {
            TargetPdu::R2t(r) => {
                let Some(w) = write.as_mut() else {
                    return Err(protocol("R2T for a command that writes nothing"));
                };
                let (answer, v) = tracker.on_r2t(r.r2t_sn).map_err(|e| core_err("R2T", e))?;
                if answer {
                    let seq = w
                        .on_r2t(dataout::R2t::from(r))
                        .map_err(|e| core_err("R2T", e))?;
                    let (n, b) = send_sequence(conn, seq, out, itt)?;
                    w.sequence_sent(r.r2t_sn).map_err(|e| core_err("R2T", e))?;
                    paths.r2ts += 1;
                    paths.solicited_pdus += n;
                    paths.solicited_bytes += b;
                }
                v
            }
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
            other => {
                return Err(protocol(format!(
                    "unexpected {:?} for a SCSI command",
                    other.opcode()
                )))
            }
        };
        if verdict.snack.is_some() {
            return Err(protocol("target data needs a SNACK at ERL 0"));
        }
        if let Some(done) = verdict.complete {
            if done.response != pdu::scsi_response::RESPONSE_COMPLETED {
                return Err(protocol(format!(
                    "iSCSI response 0x{:02x} (target failure)",
                    done.response
                )));
            }
            let sense = done
                .sense
                .and_then(|r| r.slice(&inb.data))
                .and_then(parse_sense);
            data.truncate(done.bytes_received as usize);
            return Ok(ScsiResult {
                status: done.status,
                sense,
                data,
                residual: done.residual,
                paths,
            });
        }
    }
}
