// SPDX-License-Identifier: GPL-2.0
//! The SendTargets Text exchange of a discovery session (RFC 7143 §4.3,
//! §11.10): request text and response parsing from
//! `rsiscsi_core::discovery`, continuation with the C bit and TTT.

use crate::error::{core_err, protocol, DiagError};
use crate::session::{Connection, Session};
use rsiscsi_core::discovery::{self, Query, Targets};
use rsiscsi_core::pdu::{Bhs, Lun, TargetPdu, TextRequest, BHS_LEN, RESERVED_TAG};
use rsiscsi_core::task::Direction;
use rsiscsi_core::text::{TextAssembler, TextWriter};

/// Largest SendTargets answer accepted.
const MAX_ANSWER: usize = 64 * 1024;

/// One portal of one target, as iscsiadm prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Host part of the portal.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Target portal group tag (1 if the target gave none).
    pub tpgt: u16,
    /// Target name.
    pub target: String,
}

impl std::fmt::Display for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // IPv6 literals go in brackets, as iscsiadm prints them.
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            write!(f, "{}", self.host)?;
        }
        write!(f, ":{},{} {}", self.port, self.tpgt, self.target)
    }
}

/// Parses a complete SendTargets answer into records.
pub fn parse(text: &[u8]) -> Result<Vec<Record>, DiagError> {
    let mut out = Vec::new();
    for t in Targets::new(text) {
        let t = t.map_err(|e| core_err("SendTargets answer", e))?;
        let name = String::from_utf8_lossy(t.name).into_owned();
        for p in t.portals() {
            let p = p.map_err(|e| core_err("SendTargets answer", e))?;
            out.push(Record {
                host: String::from_utf8_lossy(p.host).into_owned(),
                port: p.port,
                tpgt: p.tpgt.unwrap_or(1),
                target: name.clone(),
            });
        }
    }
    Ok(out)
}

/// Runs `SendTargets=All` on a logged-in discovery connection and returns
/// the complete answer text.
pub fn send_targets(sess: &mut Session, conn: &mut Connection) -> Result<Vec<u8>, DiagError> {
    let mut req_text = [0u8; 64];
    let mut w = TextWriter::new(&mut req_text);
    discovery::write_request(&mut w, Query::All).map_err(|e| core_err("SendTargets", e))?;
    let req_len = w.len();
    let mut answer = Box::new(TextAssembler::<MAX_ANSWER>::new());
    let mut itt = None;
    let mut ttt = RESERVED_TAG;
    let mut first = true;
    loop {
        conn.wait_window(sess)?;
        let cmd_sn = sess
            .assign_cmd_sn()
            .ok_or_else(|| protocol("CmdSN window closed"))?;
        let itt = match itt {
            Some(i) => i,
            None => *itt.insert(sess.begin_task(
                conn.cid,
                Lun::ZERO,
                cmd_sn,
                false,
                Direction::None,
                0,
            )?),
        };
        let data = if first {
            req_text.get(..req_len).unwrap_or(&[])
        } else {
            &[][..]
        };
        let req = TextRequest {
            immediate: false,
            final_flag: true,
            continue_flag: false,
            data_segment_length: u32::try_from(data.len()).map_err(protocol)?,
            lun: Lun::ZERO,
            itt,
            ttt,
            cmd_sn,
            exp_stat_sn: conn.exp_stat_sn(),
        };
        let mut bhs: Bhs = [0; BHS_LEN];
        req.encode(&mut bhs).map_err(|e| core_err("Text", e))?;
        conn.send(&bhs, &[], data)?;
        first = false;
        let inb = conn.recv_for(sess, itt)?;
        let TargetPdu::TextResponse(rsp) = inb.pdu else {
            return Err(protocol(format!(
                "expected a Text Response, got {:?}",
                inb.pdu.opcode()
            )));
        };
        answer
            .push(&inb.data, rsp.continue_flag)
            .map_err(|e| core_err("SendTargets answer", e))?;
        if rsp.final_flag && !rsp.continue_flag {
            sess.end_task(itt);
            return Ok(answer.text().to_vec());
        }
        // More to come: ask for it with the target's TTT (§11.10.4).
        ttt = rsp.ttt;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_print_like_iscsiadm() {
        let text = b"TargetName=iqn.2024-01.org.x:a\0TargetAddress=127.0.0.1:3261,1\0\
TargetAddress=[::1]:3261,2\0TargetName=iqn.2024-01.org.x:b\0TargetAddress=10.0.0.1\0";
        let recs = parse(text).unwrap();
        let lines: Vec<String> = recs.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "127.0.0.1:3261,1 iqn.2024-01.org.x:a",
                "[::1]:3261,2 iqn.2024-01.org.x:a",
                "10.0.0.1:3260,1 iqn.2024-01.org.x:b",
            ]
        );
        assert!(parse(b"TargetAddress=1.2.3.4:1,1\0").is_err());
    }
}
