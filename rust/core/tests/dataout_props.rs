// SPDX-License-Identifier: GPL-2.0
//! Property tests for Data-Out planning: a simulated target solicits the rest
//! of a write with R2Ts, and the PDUs the initiator would send must cover
//! the buffer exactly once within every negotiated limit.

use proptest::prelude::*;
use rsiscsi_core::dataout::{
    DataOutError, DataOutPdu, DataOutSequence, R2t, WriteParams, WriteTransfer, RESERVED_TAG,
};
use rsiscsi_core::pdu::{DataOut, Lun, BHS_LEN};

const CAP: usize = 4;

fn params() -> impl Strategy<Value = WriteParams> {
    (
        any::<bool>(),
        any::<bool>(),
        512u32..=(1 << 20),
        512u32..=(1 << 17),
        1u16..=CAP as u16,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(imm, ir2t, mbl, mxdsl, mor2t, pdu_order, seq_order)| {
            (512u32..=mbl).prop_map(move |fbl| WriteParams {
                immediate_data: imm,
                initial_r2t: ir2t,
                first_burst_length: fbl,
                max_burst_length: mbl,
                max_xmit_data_segment_length: mxdsl,
                max_outstanding_r2t: mor2t,
                data_pdu_in_order: pdu_order,
                data_sequence_in_order: seq_order,
                error_recovery_level: 0,
            })
        })
}

/// Checks one sequence's PDUs and returns (offset, length) of each.
fn check_sequence(
    seq: DataOutSequence,
    ttt: u32,
    p: &WriteParams,
    out: &mut Vec<(u32, u32)>,
) -> Result<u32, TestCaseError> {
    let pdus: Vec<DataOutPdu> = seq.collect();
    let mut total = 0u32;
    for (i, pdu) in pdus.iter().enumerate() {
        prop_assert_eq!(pdu.data_sn, i as u32, "DataSN restarts at 0 per sequence");
        prop_assert_eq!(pdu.ttt, ttt);
        prop_assert!(pdu.length > 0);
        prop_assert!(pdu.length <= p.max_xmit_data_segment_length);
        prop_assert_eq!(pdu.final_flag, i + 1 == pdus.len(), "F only on the last");
        if let Some(prev) = i.checked_sub(1).and_then(|j| pdus.get(j)) {
            prop_assert_eq!(prev.buffer_offset + prev.length, pdu.buffer_offset);
        }
        total += pdu.length;
        out.push((pdu.buffer_offset, pdu.length));
        // The header the kernel would send survives its own encoding.
        let lun = Lun::single_level(7).unwrap();
        let hdr = pdu.to_pdu(lun, 0x1234, 99);
        let mut bhs = [0u8; BHS_LEN];
        hdr.encode(&mut bhs).unwrap();
        let back = DataOut::decode(&bhs).unwrap();
        prop_assert_eq!(back, hdr);
        prop_assert_eq!(
            (
                back.buffer_offset,
                back.data_segment_length,
                back.data_sn,
                back.ttt,
                back.final_flag
            ),
            (
                pdu.buffer_offset,
                pdu.length,
                pdu.data_sn,
                pdu.ttt,
                pdu.final_flag
            )
        );
    }
    Ok(total)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn write_covers_buffer_exactly_once(
        p in params(),
        len in 0u32..(4 << 20),
        chunk_frac in 1u32..=16,
        order_seed in any::<u64>(),
    ) {
        let mut w = WriteTransfer::<CAP>::new(p, len).unwrap();
        let mut ranges: Vec<(u32, u32)> = Vec::new();

        let imm = w.immediate_length();
        prop_assert!(imm <= p.first_burst_length.min(p.max_xmit_data_segment_length));
        if !p.immediate_data {
            prop_assert_eq!(imm, 0);
        }
        if imm > 0 {
            ranges.push((0, imm));
        }
        let unsolicited = check_sequence(w.unsolicited_sequence(), RESERVED_TAG, &p, &mut ranges)?;
        prop_assert!(imm + unsolicited <= p.first_burst_length);
        prop_assert_eq!(w.command_final_flag(), unsolicited == 0);
        if p.initial_r2t {
            prop_assert_eq!(unsolicited, 0);
        } else {
            // The whole first burst goes unsolicited.
            prop_assert_eq!(imm + unsolicited, len.min(p.first_burst_length));
        }

        // The target solicits the rest in bursts of at most MaxBurstLength.
        let burst = (p.max_burst_length / chunk_frac).max(1);
        let mut bursts: Vec<(u32, u32)> = Vec::new();
        let mut off = w.unsolicited_length();
        while off < len {
            let n = burst.min(len - off);
            bursts.push((off, n));
            off += n;
        }
        let mut rng = order_seed;
        let mut next_rand = move || {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 33) as usize
        };
        if !p.data_sequence_in_order {
            for i in (1..bursts.len()).rev() {
                bursts.swap(i, next_rand() % (i + 1));
            }
        }
        let mut open: Vec<(u32, DataOutSequence)> = Vec::new();
        let mut r2tsn = 0u32;
        let mut pending = bursts.into_iter();
        loop {
            // Issue R2Ts up to MaxOutstandingR2T, then complete a random one.
            while open.len() < usize::from(p.max_outstanding_r2t) {
                let Some((offset, n)) = pending.next() else { break };
                let ttt = 0x1000 + r2tsn;
                let seq = w.on_r2t(R2t { r2tsn, ttt, buffer_offset: offset, desired_length: n }).unwrap();
                open.push((r2tsn, seq));
                r2tsn += 1;
            }
            prop_assert_eq!(w.outstanding_r2ts(), open.len());
            if open.is_empty() {
                break;
            }
            let (sn, seq) = open.swap_remove(next_rand() % open.len());
            let sent = check_sequence(seq, seq.ttt(), &p, &mut ranges)?;
            prop_assert!(sent <= p.max_burst_length);
            w.sequence_sent(sn).unwrap();
        }

        ranges.sort_unstable();
        let mut covered = 0u32;
        for (offset, n) in ranges {
            prop_assert_eq!(offset, covered, "gap or overlap at {}", offset);
            covered += n;
        }
        prop_assert_eq!(covered, len);
    }

    #[test]
    fn task_reassign_resumes_the_write_on_a_new_connection(
        p in params(),
        len in 1u32..(1 << 19),
        cut_seed in any::<u64>(),
        new_mxdsl in 512u32..=(1 << 17),
    ) {
        // ERL 2: the connection fails part-way through the solicited
        // sequences; after TASK REASSIGN the target asks again, with fresh
        // R2TSNs from ExpDataSN, for every byte it did not get (what LIO's
        // iscsit_task_reassign_prepare_write + iscsit_build_r2ts_for_cmd do).
        let p = WriteParams { error_recovery_level: 2, ..p };
        let mut w = WriteTransfer::<CAP>::new(p, len).unwrap();
        let mut got = vec![false; len as usize];
        let mark = |got: &mut Vec<bool>, off: u32, n: u32| {
            for b in got.iter_mut().skip(off as usize).take(n as usize) {
                *b = true;
            }
        };
        mark(&mut got, 0, w.unsolicited_length());
        let mut rng = cut_seed;
        let mut roll = move |m: u32| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((rng >> 33) as u32) % m.max(1)
        };
        let mut off = w.unsolicited_length();
        let mut r2tsn = 0;
        while off < len && roll(4) != 0 {
            let n = p.max_burst_length.min(len - off);
            let seq = w.on_r2t(R2t { r2tsn, ttt: r2tsn, buffer_offset: off, desired_length: n }).unwrap();
            // Only some of the sequence makes it before the failure.
            let keep = roll(seq.len() as u32 + 1) as usize;
            for pdu in seq.take(keep) {
                mark(&mut got, pdu.buffer_offset, pdu.length);
            }
            r2tsn += 1;
            off += n;
            if keep < seq.len() {
                break; // the connection failed mid-sequence
            }
            w.sequence_sent(r2tsn - 1).unwrap();
        }
        let new_conn = WriteParams { max_xmit_data_segment_length: new_mxdsl, ..p };
        let exp = w.reassign(new_conn).unwrap();
        prop_assert_eq!(exp, r2tsn);
        prop_assert_eq!(w.outstanding_r2ts(), 0);
        let mut next = exp;
        let mut i = 0usize;
        while i < got.len() {
            if got[i] {
                i += 1;
                continue;
            }
            let start = i;
            while i < got.len() && !got[i] && (i - start) < p.max_burst_length as usize {
                i += 1;
            }
            let seq = w
                .on_r2t(R2t { r2tsn: next, ttt: 0x8000 + next, buffer_offset: start as u32, desired_length: (i - start) as u32 })
                .unwrap();
            let mut sent = Vec::new();
            check_sequence(seq, 0x8000 + next, &new_conn, &mut sent)?;
            for (o, n) in sent {
                mark(&mut got, o, n);
            }
            w.sequence_sent(next).unwrap();
            next += 1;
        }
        prop_assert!(got.iter().all(|&b| b));
    }

    #[test]
    fn arbitrary_r2ts_never_escape_the_buffer(
        p in params(),
        len in 0u32..(1 << 22),
        r2ts in proptest::collection::vec((0u32..8, any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>()), 0..32),
    ) {
        let mut w = WriteTransfer::<CAP>::new(p, len).unwrap();
        for (r2tsn, ttt, off, n, finish) in r2ts {
            let offset = if off % 2 == 0 { off % (len + 1) } else { off };
            let length = if n % 2 == 0 { n % (p.max_burst_length + 2) } else { n };
            match w.on_r2t(R2t { r2tsn, ttt, buffer_offset: offset, desired_length: length }) {
                Ok(seq) => {
                    prop_assert!(w.outstanding_r2ts() <= usize::from(p.max_outstanding_r2t));
                    let mut sum = 0u64;
                    for pdu in seq {
                        prop_assert!(u64::from(pdu.buffer_offset) + u64::from(pdu.length) <= u64::from(len));
                        prop_assert!(pdu.length <= p.max_xmit_data_segment_length);
                        sum += u64::from(pdu.length);
                    }
                    prop_assert_eq!(sum, u64::from(length));
                    prop_assert!(length <= p.max_burst_length);
                    if finish {
                        w.sequence_sent(r2tsn).unwrap();
                    }
                }
                Err(DataOutError::InvalidParams) | Err(DataOutError::UnknownR2t) => {
                    prop_assert!(false, "on_r2t returned a non-R2T error");
                }
                Err(_) => {}
            }
        }
    }
}
