// SPDX-License-Identifier: GPL-2.0
//! Unit tests for the parent module.

use super::*;
use crate::keys::params::{ConnectionParams, SessionParams, SessionType};
use crate::pdu::{DataIn, ScsiResponse};

fn read(len: u32) -> DataInTracker {
    DataInTracker::new(DataInParams::RFC_DEFAULTS, Direction::Read, len)
}

fn erl1(len: u32) -> DataInTracker {
    let p = DataInParams {
        error_recovery_level: 1,
        ..DataInParams::RFC_DEFAULTS
    };
    DataInTracker::new(p, Direction::Read, len)
}

fn pdu(sn: u32, off: u32, len: u32) -> DataIn {
    DataIn {
        final_flag: false,
        acknowledge: false,
        status_flag: false,
        status: 0,
        data_segment_length: len,
        lun: Lun::ZERO,
        itt: 1,
        ttt: RESERVED_TAG,
        stat_sn: 0,
        exp_cmd_sn: 0,
        max_cmd_sn: 0,
        data_sn: sn,
        buffer_offset: off,
        residual: Residual::None,
    }
}

/// `p` as the final PDU with status GOOD and `residual`.
fn with_status(p: DataIn, residual: Residual) -> DataIn {
    DataIn {
        final_flag: true,
        status_flag: true,
        status: STATUS_GOOD,
        residual,
        ..p
    }
}

fn rsp() -> ScsiResponse {
    ScsiResponse {
        response: RESPONSE_COMPLETED,
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
    }
}

#[test]
fn read_with_status_in_last_data_in() {
    let mut t = read(12_288);
    let v = t.on_data_in(&pdu(0, 0, 8192)).unwrap();
    assert_eq!(
        v.deliver,
        Some(Placement {
            buffer_offset: 0,
            length: 8192
        })
    );
    assert_eq!(v.complete, None);
    let last = with_status(pdu(1, 8192, 4096), Residual::None);
    let v = t.on_data_in(&last).unwrap();
    let out = v.complete.unwrap();
    assert_eq!(out.status, STATUS_GOOD);
    assert_eq!(out.residual, Residual::None);
    assert_eq!(out.bytes_received, 12_288);
    assert!(t.is_complete());
    assert_eq!(t.next_data_sn(), 2);
}

#[test]
fn underflow_in_data_in_status() {
    let mut t = read(4096);
    let last = with_status(pdu(0, 0, 512), Residual::Underflow(3584));
    let out = t.on_data_in(&last).unwrap().complete.unwrap();
    assert_eq!(out.residual, Residual::Underflow(3584));
    assert_eq!(out.bytes_received, 512);
}

#[test]
fn gap_is_fatal_at_erl0() {
    let mut t = read(100_000);
    t.on_data_in(&pdu(0, 0, 1000)).unwrap();
    assert_eq!(
        t.on_data_in(&pdu(2, 2000, 1000)),
        Err(DataInError::SnMismatch {
            expected: 1,
            received: 2
        })
    );
}

#[test]
fn gap_at_erl1_snacks_once_and_recovers() {
    let mut t = erl1(100_000);
    t.on_data_in(&pdu(0, 0, 1000)).unwrap();
    let v = t.on_data_in(&pdu(2, 2000, 1000)).unwrap();
    assert_eq!(
        v.snack,
        Some(SnackRequest {
            kind: SnackType::DataR2t,
            lun: Lun::ZERO,
            ttt: RESERVED_TAG,
            beg_run: 1,
            run_length: 0
        })
    );
    assert_eq!(v.deliver, None);
    // Further PDUs beyond the gap are dropped without another SNACK.
    assert_eq!(
        t.on_data_in(&pdu(3, 3000, 1000)).unwrap(),
        DataInVerdict::default()
    );
    assert!(t.snack_pending());
    // The retransmission fills the gap.
    let v = t.on_data_in(&pdu(1, 1000, 1000)).unwrap();
    assert!(v.deliver.is_some());
    assert!(!t.snack_pending());
    // A late duplicate is dropped silently.
    assert_eq!(
        t.on_data_in(&pdu(0, 0, 1000)).unwrap(),
        DataInVerdict::default()
    );
    assert_eq!(t.next_data_sn(), 2);
}

#[test]
fn ack_bit_yields_data_ack() {
    let mut t = erl1(8192);
    let p = DataIn {
        acknowledge: true,
        final_flag: true,
        ttt: 0x55,
        lun: Lun::single_level(3).unwrap(),
        ..pdu(0, 0, 8192)
    };
    let v = t.on_data_in(&p).unwrap();
    assert_eq!(
        v.snack,
        Some(SnackRequest {
            kind: SnackType::DataAck,
            lun: Lun::single_level(3).unwrap(),
            ttt: 0x55,
            beg_run: 1,
            run_length: 0
        })
    );
    // At ERL 0 the A bit is meaningless and ignored.
    let mut t0 = read(8192);
    assert_eq!(t0.on_data_in(&p).unwrap().snack, None);
}

#[test]
fn offset_checks() {
    let mut t = read(8192);
    assert_eq!(
        t.on_data_in(&pdu(0, 4096, 8192)),
        Err(DataInError::OffsetOutOfRange)
    );
    assert_eq!(
        t.on_data_in(&pdu(0, u32::MAX, 2)),
        Err(DataInError::OffsetOutOfRange)
    );
    assert_eq!(
        t.on_data_in(&pdu(0, 512, 512)),
        Err(DataInError::OffsetOutOfOrder {
            expected: 0,
            received: 512
        })
    );
    // Out-of-order sequences are fine with DataSequenceInOrder=No.
    let p = DataInParams {
        data_sequence_in_order: false,
        ..DataInParams::RFC_DEFAULTS
    };
    let mut t = DataInTracker::new(p, Direction::Read, 8192);
    let seq2 = DataIn {
        final_flag: true,
        ..pdu(0, 4096, 4096)
    };
    t.on_data_in(&seq2).unwrap();
    t.on_data_in(&pdu(1, 0, 2048)).unwrap();
    assert_eq!(
        t.on_data_in(&pdu(2, 3000, 1096)),
        Err(DataInError::OffsetOutOfOrder {
            expected: 2048,
            received: 3000
        })
    );
}

#[test]
fn segment_longer_than_max_recv_dsl_is_refused() {
    let mut t = read(100_000);
    assert_eq!(
        t.on_data_in(&pdu(0, 0, 8193)),
        Err(DataInError::SegmentTooLong)
    );
    let mut n = NegotiatedParams {
        session: crate::keys::params::SessionParams::rfc_defaults(
            crate::keys::params::SessionType::Normal,
        ),
        connection: crate::keys::params::ConnectionParams::default(),
    };
    n.connection.max_recv_data_segment_length = 65_536;
    n.session.error_recovery_level = 2;
    let p = DataInParams::from_negotiated(&n);
    assert_eq!(p.max_recv_data_segment_length, 65_536);
    assert_eq!(p.error_recovery_level, 2);
    let mut t = DataInTracker::new(p, Direction::Read, 100_000);
    assert!(t.on_data_in(&pdu(0, 0, 8193)).is_ok());
}

#[test]
fn sequence_longer_than_max_burst_is_refused_when_enforced() {
    let p = DataInParams {
        max_burst_length: 8192,
        max_recv_data_segment_length: 65_536,
        burst_limit: BurstLimit::Enforce,
        ..DataInParams::RFC_DEFAULTS
    };
    let mut t = DataInTracker::new(p, Direction::Read, 100_000);
    t.on_data_in(&pdu(0, 0, 8192)).unwrap();
    assert_eq!(
        t.on_data_in(&pdu(1, 8192, 1)),
        Err(DataInError::SequenceExceedsMaxBurst)
    );
}

/// tgt answers a read with one Data-In sequence however long it is; by
/// default that read completes, with the usual offset and buffer checks.
#[test]
fn tgt_single_sequence_read_is_tolerated_by_default() {
    let p = DataInParams {
        max_burst_length: 8192,
        max_recv_data_segment_length: 8192,
        ..DataInParams::RFC_DEFAULTS
    };
    assert_eq!(p.burst_limit, BurstLimit::Tolerate);
    assert_eq!(
        DataInParams::from_negotiated(&NegotiatedParams {
            session: SessionParams::rfc_defaults(SessionType::Normal),
            connection: ConnectionParams::default(),
        })
        .burst_limit,
        BurstLimit::Tolerate
    );
    let mut t = DataInTracker::new(p, Direction::Read, 32_768);
    for sn in 0..3 {
        let v = t.on_data_in(&pdu(sn, sn * 8192, 8192)).unwrap();
        assert_eq!(v.deliver.map(|d| d.buffer_offset), Some(sn * 8192));
    }
    // Still bounded by the buffer and by the per-PDU limit.
    assert_eq!(
        t.clone().on_data_in(&pdu(3, 24_576, 8193)),
        Err(DataInError::SegmentTooLong)
    );
    assert_eq!(
        t.clone().on_data_in(&pdu(3, 28_672, 8192)),
        Err(DataInError::OffsetOutOfRange)
    );
    let last = with_status(pdu(3, 24_576, 8192), Residual::None);
    let out = t.on_data_in(&last).unwrap().complete.unwrap();
    assert_eq!(out.bytes_received, 32_768);
    assert_eq!(out.status, STATUS_GOOD);
}

#[test]
fn status_needs_final_and_direction_matters() {
    let mut t = read(100);
    let bad = DataIn {
        final_flag: false,
        ..with_status(pdu(0, 0, 100), Residual::None)
    };
    assert_eq!(t.on_data_in(&bad), Err(DataInError::StatusWithoutFinal));
    let mut w = DataInTracker::new(DataInParams::RFC_DEFAULTS, Direction::Write, 100);
    assert_eq!(
        w.on_data_in(&pdu(0, 0, 1)),
        Err(DataInError::UnexpectedDataIn)
    );
    assert_eq!(t.on_r2t(0), Err(DataInError::UnexpectedR2t));
}

#[test]
fn check_condition_with_sense() {
    let mut t = read(512);
    // SenseLength 18, fixed-format sense: ILLEGAL REQUEST, ASC 0x24.
    let mut seg = [0u8; 20];
    seg[1] = 18;
    seg[2] = 0x70;
    seg[4] = 0x05;
    seg[14] = 0x24;
    let r = ScsiResponse {
        status: STATUS_CHECK_CONDITION,
        data_segment_length: 20,
        residual: Residual::Underflow(512),
        ..rsp()
    };
    let out = t.on_scsi_response(&r, &seg).unwrap().complete.unwrap();
    assert_eq!(out.status, STATUS_CHECK_CONDITION);
    assert_eq!(out.residual, Residual::Underflow(512));
    let sense = out.sense.unwrap();
    assert_eq!(sense.length, 18);
    let bytes = sense.slice(&seg).unwrap();
    assert_eq!((bytes[0], bytes[2], bytes[12]), (0x70, 0x05, 0x24));
    assert_eq!(
        t.on_scsi_response(&r, &seg),
        Err(DataInError::AlreadyComplete)
    );
}

#[test]
fn sense_parsing_edge_cases() {
    assert_eq!(parse_sense(&[]), Ok(None));
    assert_eq!(parse_sense(&[0]), Err(DataInError::MalformedSense));
    assert_eq!(parse_sense(&[0, 0, 1, 2]), Ok(None));
    assert_eq!(parse_sense(&[0, 3, 1, 2]), Err(DataInError::MalformedSense));
    // Response data may follow the sense bytes.
    assert_eq!(
        parse_sense(&[0, 1, 0xaa, 0xbb]),
        Ok(Some(SenseRange {
            offset: 2,
            length: 1
        }))
    );
}

#[test]
fn residual_flags() {
    let mut t = read(512);
    let r = ScsiResponse {
        bidi_read_residual: Residual::Underflow(1),
        ..rsp()
    };
    assert_eq!(
        t.on_scsi_response(&r, &[]),
        Err(DataInError::UnexpectedBidiResidual)
    );
    let mut b = DataInTracker::new(DataInParams::RFC_DEFAULTS, Direction::Bidirectional, 0);
    let r = ScsiResponse {
        bidi_read_residual: Residual::Overflow(7),
        residual: Residual::Underflow(100),
        ..rsp()
    };
    let out = b.on_scsi_response(&r, &[]).unwrap().complete.unwrap();
    assert_eq!(out.bidi_read_residual, Residual::Overflow(7));
    assert_eq!(out.residual, Residual::Underflow(100));
}

#[test]
fn exp_data_sn_ahead_waits_for_retransmission_at_erl1() {
    let mut t = erl1(3000);
    t.on_data_in(&pdu(0, 0, 1000)).unwrap();
    // Data-In 1 and 2 lost; the response says 3 were sent.
    let r = ScsiResponse {
        exp_data_sn: 3,
        ..rsp()
    };
    let v = t.on_scsi_response(&r, &[]).unwrap();
    assert_eq!(v.complete, None);
    assert_eq!(v.snack.map(|s| s.beg_run), Some(1));
    t.on_data_in(&pdu(1, 1000, 1000)).unwrap();
    assert!(!t.is_complete());
    let last = DataIn {
        final_flag: true,
        ..pdu(2, 2000, 1000)
    };
    let out = t.on_data_in(&last).unwrap().complete.unwrap();
    assert_eq!(out.bytes_received, 3000);
    assert!(t.is_complete());
}

#[test]
fn lio_style_response_cannot_hide_a_lost_tail() {
    // ExpDataSN 0 as LIO sends it; the last Data-In never arrived.
    let mut t = read(3000);
    t.on_data_in(&pdu(0, 0, 1000)).unwrap();
    t.on_data_in(&pdu(1, 1000, 1000)).unwrap();
    assert_eq!(
        t.clone().on_scsi_response(&rsp(), &[]),
        Err(DataInError::DataMissing {
            received: 2000,
            expected: 3000
        })
    );
    // An underflow residual that accounts for the short read is fine.
    let short = ScsiResponse {
        residual: Residual::Underflow(1000),
        ..rsp()
    };
    assert!(t.on_scsi_response(&short, &[]).unwrap().complete.is_some());

    // At ERL 1 the response waits for the SNACKed tail.
    let mut t = erl1(3000);
    t.on_data_in(&pdu(0, 0, 1000)).unwrap();
    t.on_data_in(&pdu(1, 1000, 1000)).unwrap();
    let v = t.on_scsi_response(&rsp(), &[]).unwrap();
    assert_eq!(v.complete, None);
    assert_eq!(v.snack.map(|s| (s.beg_run, s.run_length)), Some((2, 0)));
    let out = t.on_data_in(&pdu(2, 2000, 1000)).unwrap().complete.unwrap();
    assert_eq!((out.status, out.bytes_received), (STATUS_GOOD, 3000));
}

#[test]
fn response_during_open_gap_waits_for_the_go_back_resend() {
    let mut t = erl1(4000);
    t.on_data_in(&pdu(0, 0, 1000)).unwrap();
    // 1 lost, 2 and 3 dropped behind the gap, then the response.
    assert!(t.on_data_in(&pdu(2, 2000, 1000)).unwrap().snack.is_some());
    t.on_data_in(&pdu(3, 3000, 1000)).unwrap();
    let v = t.on_scsi_response(&rsp(), &[]).unwrap();
    assert_eq!((v.complete, v.snack), (None, None));
    for sn in 1..3 {
        let v = t.on_data_in(&pdu(sn, sn * 1000, 1000)).unwrap();
        assert_eq!(v.complete, None);
    }
    let out = t.on_data_in(&pdu(3, 3000, 1000)).unwrap().complete.unwrap();
    assert_eq!(out.bytes_received, 4000);
}

#[test]
fn short_read_with_status_in_data_in_needs_a_residual() {
    let mut t = read(4096);
    assert_eq!(
        t.clone()
            .on_data_in(&with_status(pdu(0, 0, 1024), Residual::None)),
        Err(DataInError::DataMissing {
            received: 1024,
            expected: 4096
        })
    );
    let v = t.on_data_in(&with_status(pdu(0, 0, 1024), Residual::Underflow(3072)));
    assert!(v.unwrap().complete.is_some());
}

#[test]
fn check_condition_without_data_completes() {
    let mut t = read(4096);
    let seg = [0u8, 1, 0x70];
    let r = ScsiResponse {
        status: STATUS_CHECK_CONDITION,
        ..rsp()
    };
    let out = t.on_scsi_response(&r, &seg).unwrap().complete.unwrap();
    assert_eq!(
        (out.bytes_received, out.sense.map(|s| s.length)),
        (0, Some(1))
    );
}

#[test]
fn exp_data_sn_mismatch_at_erl0() {
    let mut t = read(3000);
    t.on_data_in(&pdu(0, 0, 1000)).unwrap();
    let ahead = ScsiResponse {
        exp_data_sn: 2,
        ..rsp()
    };
    assert_eq!(
        t.clone().on_scsi_response(&ahead, &[]),
        Err(DataInError::SnMismatch {
            expected: 1,
            received: 2
        })
    );
    t.on_data_in(&pdu(1, 1000, 1000)).unwrap();
    t.on_data_in(&pdu(2, 2000, 1000)).unwrap();
    assert_eq!(
        t.on_scsi_response(&ahead, &[]),
        Err(DataInError::ExpDataSnBehind {
            received: 3,
            exp_data_sn: 2
        })
    );
}

#[test]
fn bidirectional_shares_sn_between_r2t_and_data_in() {
    let mut t = DataInTracker::new(DataInParams::RFC_DEFAULTS, Direction::Bidirectional, 2048);
    assert!(t.on_r2t(0).unwrap().0);
    t.on_data_in(&pdu(1, 0, 2048)).unwrap();
    assert!(t.on_r2t(2).unwrap().0);
    assert_eq!(
        t.on_r2t(2),
        Err(DataInError::SnMismatch {
            expected: 3,
            received: 2
        })
    );
    let r = ScsiResponse {
        exp_data_sn: 3,
        ..rsp()
    };
    assert!(t.on_scsi_response(&r, &[]).unwrap().complete.is_some());
}

#[test]
fn reassign_reports_next_data_sn_and_clears_snack() {
    let mut t = erl1(10_000);
    t.on_data_in(&pdu(0, 0, 1000)).unwrap();
    t.on_data_in(&pdu(1, 1000, 1000)).unwrap();
    assert!(t.on_data_in(&pdu(5, 5000, 1000)).unwrap().snack.is_some());
    assert_eq!(t.prepare_reassign(), 2);
    assert_eq!(t.pending_snack(), None);
    assert!(t.on_data_in(&pdu(2, 2000, 1000)).unwrap().deliver.is_some());
}
