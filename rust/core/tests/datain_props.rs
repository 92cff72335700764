// SPDX-License-Identifier: GPL-2.0
//! Property tests for Data-In sequencing: a simulated target splits a read
//! into sequences and PDUs within the negotiated limits, possibly losing
//! some; the tracker must place every byte exactly once and complete with
//! the status of the final PDU.

use proptest::prelude::*;
use rsiscsi_core::datain::{
    BurstLimit, DataInError, DataInParams, DataInTracker, Direction, STATUS_GOOD,
};
use rsiscsi_core::dataout::{R2t, WriteParams, WriteTransfer};
use rsiscsi_core::pdu::{DataIn, Lun, Residual, ScsiResponse, SnackType, RESERVED_TAG};

fn data_in(data_sn: u32, buffer_offset: u32, length: u32, final_flag: bool) -> DataIn {
    DataIn {
        final_flag,
        acknowledge: false,
        status_flag: false,
        status: 0,
        data_segment_length: length,
        lun: Lun::ZERO,
        itt: 1,
        ttt: RESERVED_TAG,
        stat_sn: 0,
        exp_cmd_sn: 0,
        max_cmd_sn: 0,
        data_sn,
        buffer_offset,
        residual: Residual::None,
    }
}

#[derive(Debug, Clone)]
struct Read {
    params: DataInParams,
    len: u32,
    pdus: Vec<DataIn>,
}

/// A target's Data-In stream for a read of `len` bytes: sequences of at most
/// MaxBurstLength (shuffled when DataSequenceInOrder=No), PDUs of at most
/// `mrdsl`, status with an underflow residual in the last PDU.
fn read_stream() -> impl Strategy<Value = Read> {
    (
        1u32..(2 << 20),
        512u32..=(1 << 18),
        512u32..=(1 << 17),
        any::<bool>(),
        0u32..4096,
        any::<u64>(),
        0u8..=2,
    )
        .prop_map(|(len, mbl, mrdsl, seq_in_order, residual, seed, erl)| {
            let params = DataInParams {
                error_recovery_level: erl,
                data_pdu_in_order: true,
                data_sequence_in_order: seq_in_order,
                max_burst_length: mbl,
                max_recv_data_segment_length: mrdsl,
                // The stream keeps every sequence within MaxBurstLength,
                // so the strict check must never fire on it.
                burst_limit: BurstLimit::Enforce,
            };
            let mut sequences = Vec::new();
            let mut off = 0;
            while off < len {
                let n = mbl.min(len - off);
                sequences.push((off, n));
                off += n;
            }
            let mut rng = seed;
            if !seq_in_order {
                for i in (1..sequences.len()).rev() {
                    rng = rng
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    sequences.swap(i, (rng >> 33) as usize % (i + 1));
                }
            }
            let mut pdus = Vec::new();
            for (start, n) in sequences {
                let mut o = start;
                while o < start + n {
                    let l = mrdsl.min(start + n - o);
                    pdus.push(data_in(pdus.len() as u32, o, l, o + l == start + n));
                    o += l;
                }
            }
            if let Some(last) = pdus.last_mut() {
                last.status_flag = true;
                last.status = STATUS_GOOD;
                last.residual = if residual > 0 {
                    Residual::Underflow(residual)
                } else {
                    Residual::None
                };
            }
            Read { params, len, pdus }
        })
}

fn check_coverage(mut placed: Vec<(u32, u32)>, len: u32) -> Result<(), TestCaseError> {
    placed.sort_unstable();
    let mut covered = 0;
    for (o, l) in placed {
        prop_assert_eq!(o, covered, "gap or overlap at {}", o);
        covered += l;
    }
    prop_assert_eq!(covered, len);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lossless_read_is_placed_exactly_once(r in read_stream(), ack_seed in any::<u64>()) {
        let mut t = DataInTracker::new(r.params, Direction::Read, r.len);
        let mut placed = Vec::new();
        let mut outcome = None;
        for (i, pdu) in r.pdus.iter().enumerate() {
            prop_assert!(outcome.is_none(), "completed before the last PDU");
            // The target asks for a DataACK on some PDUs.
            let ack = (ack_seed >> (i % 64)) & 1 == 1;
            let pdu = DataIn { acknowledge: ack, ttt: if ack { 0x100 + i as u32 } else { RESERVED_TAG }, ..*pdu };
            let v = t.on_data_in(&pdu).unwrap();
            if ack && r.params.error_recovery_level >= 1 {
                let s = v.snack.unwrap();
                prop_assert_eq!(s.kind, SnackType::DataAck);
                prop_assert_eq!(s.beg_run, pdu.data_sn + 1);
                prop_assert_eq!(s.ttt, pdu.ttt);
            } else {
                prop_assert_eq!(v.snack, None);
            }
            let p = v.deliver.unwrap();
            placed.push((p.buffer_offset, p.length));
            outcome = v.complete;
        }
        let out = outcome.unwrap();
        let last = r.pdus.last().unwrap();
        prop_assert_eq!(out.residual, last.residual);
        prop_assert_eq!(out.status, STATUS_GOOD);
        prop_assert_eq!(out.bytes_received, r.len);
        prop_assert_eq!(t.next_data_sn(), r.pdus.len() as u32);
        check_coverage(placed, r.len)?;
    }

    #[test]
    fn lost_pdus_are_recovered_by_snack_at_erl1(
        r in read_stream(),
        loss_seed in any::<u64>(),
        loss_per_256 in 1u64..128,
        lio_style in any::<bool>(),
    ) {
        // With `lio_style` the status comes in a separate SCSI Response with
        // ExpDataSN 0 after the first round, as LIO sends it, so only the
        // byte count tells the tracker whether the tail arrived.
        let mut pdus = r.pdus.clone();
        if lio_style {
            if let Some(last) = pdus.last_mut() {
                last.status_flag = false;
                last.residual = Residual::None;
            }
        }
        let mut response_sent = !lio_style;
        let params = DataInParams { error_recovery_level: 1, ..r.params };
        let mut t = DataInTracker::new(params, Direction::Read, r.len);
        let mut placed = Vec::new();
        let mut outcome = None;
        let mut rng = loss_seed;
        let mut lost = |_: &DataIn| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 56) < loss_per_256
        };
        // Each round the target sends from BegRun; the caller's timer asks
        // again from the next expected DataSN when the tail was lost.
        let mut from = 0usize;
        let mut rounds = 0;
        while outcome.is_none() {
            rounds += 1;
            prop_assert!(rounds < 10_000, "no progress");
            let mut snack_from = None;
            for pdu in pdus.iter().skip(from) {
                if lost(pdu) {
                    continue;
                }
                let v = t.on_data_in(pdu).unwrap();
                if let Some(p) = v.deliver {
                    placed.push((p.buffer_offset, p.length));
                }
                if let Some(s) = v.snack {
                    prop_assert_eq!(s.kind, SnackType::DataR2t);
                    prop_assert_eq!(s.run_length, 0);
                    prop_assert!(snack_from.is_none(), "one SNACK per gap");
                    snack_from = Some(s.beg_run);
                }
                if v.complete.is_some() {
                    outcome = v.complete;
                }
            }
            if !response_sent {
                response_sent = true;
                let rsp = ScsiResponse {
                    response: 0,
                    status: STATUS_GOOD,
                    data_segment_length: 0,
                    itt: 1,
                    snack_tag: 0,
                    stat_sn: 0,
                    exp_cmd_sn: 0,
                    max_cmd_sn: 0,
                    exp_data_sn: 0,
                    bidi_read_residual: Residual::None,
                    residual: Residual::None,
                };
                let v = t.on_scsi_response(&rsp, &[]).unwrap();
                if let Some(s) = v.snack {
                    prop_assert!(snack_from.is_none(), "one SNACK per gap");
                    snack_from = Some(s.beg_run);
                }
                if v.complete.is_some() {
                    prop_assert_eq!(t.bytes_received(), r.len, "completed with a hole");
                    outcome = v.complete;
                }
            }
            let beg = snack_from.unwrap_or(t.next_data_sn());
            prop_assert_eq!(beg, t.next_data_sn());
            from = beg as usize;
        }
        prop_assert_eq!(outcome.unwrap().bytes_received, r.len);
        check_coverage(placed, r.len)?;
    }

    #[test]
    fn bidirectional_r2t_and_data_in_share_one_sequence(
        r in read_stream(),
        write_len in 1u32..(1 << 20),
        interleave in any::<u64>(),
    ) {
        // The target interleaves R2Ts for the write half with the Data-In
        // PDUs, numbering both in one DataSN/R2TSN sequence (§11.7.5).
        let params = DataInParams { error_recovery_level: 0, ..r.params };
        let mut t = DataInTracker::new(params, Direction::Bidirectional, r.len);
        let wp = WriteParams {
            max_outstanding_r2t: 1,
            error_recovery_level: 0,
            ..WriteParams::RFC_DEFAULTS
        };
        let mut w = WriteTransfer::<1>::new(wp, write_len).unwrap().bidirectional();
        let mut write_off = w.unsolicited_length();
        let mut sn = 0u32;
        let mut reads = r.pdus.iter();
        let mut bits = interleave;
        let mut written = 0u32;
        loop {
            bits = bits.rotate_left(1);
            let want_r2t = write_off < write_len && (bits & 1 == 1 || reads.len() == 0);
            if want_r2t {
                let n = (write_len - write_off).min(wp.max_burst_length);
                let (answer, v) = t.on_r2t(sn).unwrap();
                prop_assert!(answer);
                prop_assert_eq!(v.complete, None);
                let seq = w
                    .on_r2t(R2t { r2tsn: sn, ttt: sn, buffer_offset: write_off, desired_length: n })
                    .unwrap();
                written += seq.map(|p| p.length).sum::<u32>();
                w.sequence_sent(sn).unwrap();
                write_off += n;
            } else if let Some(pdu) = reads.next() {
                // Status goes in the SCSI Response for bidirectional commands.
                let pdu = DataIn { data_sn: sn, status_flag: false, ..*pdu };
                prop_assert!(t.on_data_in(&pdu).unwrap().deliver.is_some());
            } else {
                break;
            }
            sn += 1;
        }
        prop_assert_eq!(written, write_len - w.unsolicited_length());
        prop_assert_eq!(t.next_data_sn(), sn);
        let rsp = ScsiResponse {
            response: 0,
            status: STATUS_GOOD,
            data_segment_length: 0,
            itt: 1,
            snack_tag: 0,
            stat_sn: 0,
            exp_cmd_sn: 0,
            max_cmd_sn: 0,
            exp_data_sn: sn,
            bidi_read_residual: Residual::None,
            residual: Residual::None,
        };
        let out = t.on_scsi_response(&rsp, &[]).unwrap().complete.unwrap();
        prop_assert_eq!(out.bytes_received, r.len);
    }

    #[test]
    fn reordering_is_fatal_at_erl0(r in read_stream(), pick in any::<prop::sample::Index>()) {
        prop_assume!(r.pdus.len() >= 2);
        let params = DataInParams { error_recovery_level: 0, ..r.params };
        let mut t = DataInTracker::new(params, Direction::Read, r.len);
        let i = pick.index(r.pdus.len() - 1);
        for pdu in r.pdus.iter().take(i) {
            t.on_data_in(pdu).unwrap();
        }
        let skipped = r.pdus.get(i + 1).unwrap();
        let is_sn_mismatch = matches!(t.on_data_in(skipped), Err(DataInError::SnMismatch { .. }));
        prop_assert!(is_sn_mismatch);
    }

    /// tgt's way: the whole read in one Data-In sequence, however it
    /// compares with MaxBurstLength. Tolerated (the default) it is placed
    /// exactly once and completes; enforced it fails exactly when the
    /// sequence outgrows MaxBurstLength.
    #[test]
    fn single_sequence_read_beyond_max_burst(
        len in 1u32..(1 << 20),
        mbl in 512u32..=(1 << 18),
        mrdsl in 512u32..=(1 << 17),
        erl in 0u8..=2,
        enforce: bool,
    ) {
        let params = DataInParams {
            error_recovery_level: erl,
            max_burst_length: mbl,
            max_recv_data_segment_length: mrdsl,
            burst_limit: if enforce { BurstLimit::Enforce } else { BurstLimit::default() },
            ..DataInParams::RFC_DEFAULTS
        };
        let mut t = DataInTracker::new(params, Direction::Read, len);
        let mut placed = Vec::new();
        let mut outcome = None;
        let (mut off, mut sn) = (0, 0);
        while off < len {
            let n = mrdsl.min(len - off);
            let last = off + n == len;
            let mut pdu = data_in(sn, off, n, last);
            pdu.status_flag = last;
            match t.on_data_in(&pdu) {
                Ok(v) => {
                    let p = v.deliver.unwrap();
                    placed.push((p.buffer_offset, p.length));
                    outcome = v.complete;
                }
                Err(e) => {
                    prop_assert!(enforce && off + n > mbl, "{:?} at offset {}", e, off);
                    prop_assert_eq!(e, DataInError::SequenceExceedsMaxBurst);
                    return Ok(());
                }
            }
            off += n;
            sn += 1;
        }
        prop_assert!(!enforce || len <= mbl);
        prop_assert_eq!(outcome.unwrap().bytes_received, len);
        check_coverage(placed, len)?;
    }

    #[test]
    fn arbitrary_data_in_never_escapes_the_buffer(
        len in 0u32..(1 << 20),
        erl in 0u8..=2,
        enforce: bool,
        pdus in proptest::collection::vec(
            (0u32..16, any::<u32>(), any::<u32>(), any::<bool>(), any::<bool>(), any::<bool>()),
            0..64,
        ),
    ) {
        let burst_limit = if enforce { BurstLimit::Enforce } else { BurstLimit::Tolerate };
        let params = DataInParams {
            error_recovery_level: erl,
            burst_limit,
            ..DataInParams::RFC_DEFAULTS
        };
        let mut t = DataInTracker::new(params, Direction::Read, len);
        let mut total = 0u64;
        for (sn, off, n, f, a, s) in pdus {
            let pdu = DataIn {
                acknowledge: a,
                status_flag: s,
                ttt: 1,
                ..data_in(
                    sn,
                    if off % 2 == 0 { off % (len + 1) } else { off },
                    if n % 2 == 0 { n % 70_000 } else { n },
                    f,
                )
            };
            if let Ok(v) = t.on_data_in(&pdu) {
                if let Some(p) = v.deliver {
                    prop_assert!(u64::from(p.buffer_offset) + u64::from(p.length) <= u64::from(len));
                    total += u64::from(p.length);
                }
            }
        }
        // In-order placement never delivers more than the buffer holds.
        prop_assert!(total <= u64::from(len));
    }
}
