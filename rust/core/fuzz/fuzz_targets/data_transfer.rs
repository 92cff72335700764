// SPDX-License-Identifier: GPL-2.0
//! Drives one command's data phases with what a target may send: Data-In,
//! R2T and SCSI Response headers in any order and with any field values,
//! into `DataInTracker` and `WriteTransfer`. Any panic is a bug; every
//! placement of Data-In lies inside the read buffer, every Data-Out PDU an
//! R2T asks for lies inside the write buffer and within
//! MaxXmitDataSegmentLength, and nothing is delivered after completion.
//!
//! Input layout: a 6-byte header (direction and ERL, the in-order keys,
//! read length, write length), then 48-byte headers whose first byte picks
//! the PDU kind (its opcode is forced, so every header reaches a decoder).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsiscsi_core::datain::{BurstLimit, DataInParams, DataInTracker, Direction};
use rsiscsi_core::dataout::{R2t as R2tFields, WriteParams, WriteTransfer};
use rsiscsi_core::pdu::{self, Bhs, BHS_LEN};

fuzz_target!(|input: &[u8]| {
    let Some((head, rest)) = input.split_first_chunk::<6>() else {
        return;
    };
    let direction = match head[0] & 3 {
        0 => Direction::None,
        1 => Direction::Read,
        2 => Direction::Write,
        _ => Direction::Bidirectional,
    };
    let erl = (head[0] >> 2) % 3;
    let read_len = u32::from(u16::from_le_bytes([head[2], head[3]])) * 16;
    let write_len = u32::from(u16::from_le_bytes([head[4], head[5]])) * 16;
    let params = DataInParams {
        error_recovery_level: erl,
        data_pdu_in_order: head[1] & 1 != 0,
        data_sequence_in_order: head[1] & 2 != 0,
        max_burst_length: 65_536,
        max_recv_data_segment_length: 8192,
        burst_limit: if head[1] & 4 != 0 {
            BurstLimit::Enforce
        } else {
            BurstLimit::Tolerate
        },
    };
    let reads = matches!(direction, Direction::Read | Direction::Bidirectional);
    let writes = matches!(direction, Direction::Write | Direction::Bidirectional);
    let mut tracker = DataInTracker::new(params, direction, if reads { read_len } else { 0 });
    let wparams = WriteParams {
        error_recovery_level: erl,
        data_sequence_in_order: head[1] & 2 != 0,
        initial_r2t: head[1] & 8 != 0,
        max_xmit_data_segment_length: 4096,
        ..WriteParams::RFC_DEFAULTS
    };
    let mut write = if writes {
        WriteTransfer::<4>::new(wparams, write_len).ok()
    } else {
        None
    };
    let mut complete = false;
    for chunk in rest.chunks_exact(BHS_LEN) {
        let mut bhs: Bhs = chunk.try_into().expect("chunks are BHS long");
        match bhs[0] % 3 {
            0 => {
                bhs[0] = 0x25;
                let Ok(d) = pdu::DataIn::decode(&bhs) else {
                    continue;
                };
                let Ok(v) = tracker.on_data_in(&d) else {
                    continue;
                };
                if let Some(p) = v.deliver {
                    assert!(!complete, "Data-In delivered after completion");
                    let end = u64::from(p.buffer_offset) + u64::from(p.length);
                    assert!(end <= u64::from(read_len), "placement past the read buffer");
                    assert!(p.length <= d.data_segment_length);
                }
                complete |= v.complete.is_some();
            }
            1 => {
                bhs[0] = 0x31;
                let Ok(r) = pdu::R2t::decode(&bhs) else {
                    continue;
                };
                let _ = tracker.on_r2t(r.r2t_sn);
                let Some(w) = write.as_mut() else {
                    continue;
                };
                let Ok(seq) = w.on_r2t(R2tFields::from(&r)) else {
                    continue;
                };
                for p in seq.take(8192) {
                    let end = u64::from(p.buffer_offset) + u64::from(p.length);
                    assert!(end <= u64::from(write_len), "Data-Out past the write buffer");
                    assert!(p.length <= 4096);
                }
                let _ = w.sequence_sent(r.r2t_sn);
            }
            _ => {
                bhs[0] = 0x21;
                let Ok(rsp) = pdu::ScsiResponse::decode(&bhs) else {
                    continue;
                };
                if let Ok(v) = tracker.on_scsi_response(&rsp, &[]) {
                    complete |= v.complete.is_some();
                }
            }
        }
    }
});
