// SPDX-License-Identifier: GPL-2.0
//! Unit tests for the parent module.

use super::*;

fn params() -> WriteParams {
    WriteParams::RFC_DEFAULTS
}

fn collect(seq: DataOutSequence) -> ([DataOutPdu; 16], usize) {
    let mut out = [DataOutPdu {
        buffer_offset: 0,
        length: 0,
        data_sn: 0,
        ttt: 0,
        final_flag: false,
    }; 16];
    let mut n = 0;
    for (slot, pdu) in out.iter_mut().zip(seq) {
        *slot = pdu;
        n += 1;
    }
    (out, n)
}

#[test]
fn defaults_send_one_immediate_pdu_then_wait_for_r2t() {
    let w = WriteTransfer::<1>::new(params(), 100_000).unwrap();
    assert_eq!(w.immediate_length(), 8192);
    assert_eq!(w.unsolicited_length(), 8192);
    assert!(w.command_final_flag());
    assert_eq!(w.unsolicited_sequence().count(), 0);
    assert_eq!(w.solicited_length(), 100_000 - 8192);
}

#[test]
fn negotiated_defaults_match_rfc_defaults() {
    use crate::keys::params::{ConnectionParams, SessionParams, SessionType};
    let n = NegotiatedParams {
        session: SessionParams::rfc_defaults(SessionType::Normal),
        connection: ConnectionParams::default(),
    };
    assert_eq!(WriteParams::from_negotiated(&n), WriteParams::RFC_DEFAULTS);
}

#[test]
fn small_write_fits_in_immediate_data() {
    let w = WriteTransfer::<1>::new(params(), 4096).unwrap();
    assert_eq!(w.immediate_length(), 4096);
    assert_eq!(w.solicited_length(), 0);
}

#[test]
fn unsolicited_sequence_fills_first_burst() {
    let p = WriteParams {
        initial_r2t: false,
        first_burst_length: 20_000,
        ..params()
    };
    let w = WriteTransfer::<1>::new(p, 1 << 20).unwrap();
    assert!(!w.command_final_flag());
    let (pdus, n) = collect(w.unsolicited_sequence());
    assert_eq!(n, 2);
    assert_eq!(
        pdus[0],
        DataOutPdu {
            buffer_offset: 8192,
            length: 8192,
            data_sn: 0,
            ttt: RESERVED_TAG,
            final_flag: false
        }
    );
    assert_eq!(
        pdus[1],
        DataOutPdu {
            buffer_offset: 16384,
            length: 20_000 - 16384,
            data_sn: 1,
            ttt: RESERVED_TAG,
            final_flag: true
        }
    );
}

#[test]
fn no_immediate_no_initial_r2t_starts_data_out_at_zero() {
    let p = WriteParams {
        immediate_data: false,
        initial_r2t: false,
        ..params()
    };
    let w = WriteTransfer::<1>::new(p, 10_000).unwrap();
    assert_eq!(w.immediate_length(), 0);
    let (pdus, n) = collect(w.unsolicited_sequence());
    assert_eq!(n, 2);
    assert_eq!((pdus[0].buffer_offset, pdus[0].length), (0, 8192));
    assert_eq!((pdus[1].buffer_offset, pdus[1].length), (8192, 1808));
    assert!(pdus[1].final_flag && !pdus[0].final_flag);
}

#[test]
fn solicited_sequence_restarts_data_sn_and_echoes_ttt() {
    let mut w = WriteTransfer::<1>::new(params(), 8192 + 20_000).unwrap();
    let seq = w
        .on_r2t(R2t {
            r2tsn: 0,
            ttt: 0x1234,
            buffer_offset: 8192,
            desired_length: 20_000,
        })
        .unwrap();
    assert_eq!(seq.len(), 3);
    let (pdus, n) = collect(seq);
    assert_eq!(n, 3);
    assert_eq!(pdus[0].data_sn, 0);
    assert_eq!(pdus[2].data_sn, 2);
    assert_eq!(pdus[2].length, 20_000 - 2 * 8192);
    assert!(pdus[2].final_flag);
    assert!(pdus.iter().take(3).all(|p| p.ttt == 0x1234));
    assert_eq!(w.outstanding_r2ts(), 1);
    w.sequence_sent(0).unwrap();
    assert_eq!(w.outstanding_r2ts(), 0);
    assert_eq!(w.next_r2tsn(), 1);
}

#[test]
fn pdu_conversions() {
    let wire = pdu::R2t {
        lun: Lun::single_level(1).unwrap(),
        itt: 5,
        ttt: 0x77,
        stat_sn: 1,
        exp_cmd_sn: 2,
        max_cmd_sn: 3,
        r2t_sn: 0,
        buffer_offset: 8192,
        desired_data_transfer_length: 10_000,
    };
    let mut w = WriteTransfer::<1>::new(params(), 18_192).unwrap();
    let mut seq = w.on_r2t(R2t::from(&wire)).unwrap();
    let first = seq.next().unwrap();
    let out = first.to_pdu(wire.lun, 5, 42);
    assert_eq!(
        out,
        pdu::DataOut {
            final_flag: false,
            data_segment_length: 8192,
            lun: wire.lun,
            itt: 5,
            ttt: 0x77,
            exp_stat_sn: 42,
            data_sn: 0,
            buffer_offset: 8192,
        }
    );
    let last = seq.next().unwrap().to_pdu(wire.lun, 5, 42);
    assert!(last.final_flag);
    assert_eq!((last.data_sn, last.data_segment_length), (1, 1808));
}

#[test]
fn r2t_validation() {
    let mut w = WriteTransfer::<2>::new(params(), 100_000).unwrap();
    let ok = R2t {
        r2tsn: 0,
        ttt: 7,
        buffer_offset: 8192,
        desired_length: 4096,
    };
    assert_eq!(
        w.on_r2t(R2t {
            desired_length: 0,
            ..ok
        }),
        Err(DataOutError::ZeroLengthR2t)
    );
    assert_eq!(
        w.on_r2t(R2t {
            desired_length: 262_145,
            ..ok
        }),
        Err(DataOutError::R2tExceedsMaxBurst)
    );
    assert_eq!(
        w.on_r2t(R2t {
            buffer_offset: 100_000 - 4095,
            ..ok
        }),
        Err(DataOutError::R2tOutOfRange)
    );
    assert_eq!(
        w.on_r2t(R2t {
            buffer_offset: u32::MAX,
            ..ok
        }),
        Err(DataOutError::R2tOutOfRange)
    );
    assert_eq!(
        w.on_r2t(R2t { r2tsn: 1, ..ok }),
        Err(DataOutError::R2tSnMismatch {
            expected: 0,
            received: 1
        })
    );
    assert_eq!(
        w.on_r2t(R2t {
            buffer_offset: 0,
            ..ok
        }),
        Err(DataOutError::R2tOffsetOutOfOrder {
            expected: 8192,
            received: 0
        })
    );
    w.on_r2t(ok).unwrap();
    // MaxOutstandingR2T is 1 by default.
    assert_eq!(
        w.on_r2t(R2t {
            r2tsn: 1,
            buffer_offset: 12288,
            ..ok
        }),
        Err(DataOutError::TooManyOutstandingR2ts)
    );
    // At ERL 0 an old R2TSN is an error, not a retransmission.
    assert!(matches!(
        w.on_r2t(ok),
        Err(DataOutError::R2tSnMismatch { .. })
    ));
    assert_eq!(w.sequence_sent(5), Err(DataOutError::UnknownR2t));
}

#[test]
fn capacity_below_max_outstanding_is_reported() {
    let p = WriteParams {
        max_outstanding_r2t: 4,
        ..params()
    };
    let mut w = WriteTransfer::<1>::new(p, 100_000).unwrap();
    w.on_r2t(R2t {
        r2tsn: 0,
        ttt: 1,
        buffer_offset: 8192,
        desired_length: 1000,
    })
    .unwrap();
    assert_eq!(
        w.on_r2t(R2t {
            r2tsn: 1,
            ttt: 2,
            buffer_offset: 9192,
            desired_length: 1000,
        }),
        Err(DataOutError::CapacityExceeded)
    );
}

#[test]
fn retransmitted_r2t_at_erl1_is_answered_again() {
    let p = WriteParams {
        error_recovery_level: 1,
        ..params()
    };
    let mut w = WriteTransfer::<1>::new(p, 100_000).unwrap();
    let r2t = R2t {
        r2tsn: 0,
        ttt: 9,
        buffer_offset: 8192,
        desired_length: 9000,
    };
    w.on_r2t(r2t).unwrap();
    let again = w.on_r2t(r2t).unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(w.outstanding_r2ts(), 1);
    assert_eq!(w.next_r2tsn(), 1);
    assert_eq!(w.resend(0), Some(again));
}

#[test]
fn reassign_returns_next_r2tsn_and_accepts_rerequests() {
    let mut w = WriteTransfer::<1>::new(params(), 100_000).unwrap();
    w.on_r2t(R2t {
        r2tsn: 0,
        ttt: 1,
        buffer_offset: 8192,
        desired_length: 50_000,
    })
    .unwrap();
    let exp = w.reassign(params()).unwrap();
    assert_eq!(exp, 1);
    assert_eq!(w.outstanding_r2ts(), 0);
    // The target asks again for part of R2T 0's data, under R2TSN 1.
    let seq = w
        .on_r2t(R2t {
            r2tsn: 1,
            ttt: 2,
            buffer_offset: 20_000,
            desired_length: 38_192,
        })
        .unwrap();
    assert_eq!(seq.remaining(), 38_192);
}

#[test]
fn bidirectional_r2tsn_may_skip_data_in_numbers() {
    let mut w = WriteTransfer::<1>::new(params(), 100_000)
        .unwrap()
        .bidirectional();
    let r2t = R2t {
        r2tsn: 3,
        ttt: 1,
        buffer_offset: 8192,
        desired_length: 1000,
    };
    w.on_r2t(r2t).unwrap();
    assert_eq!(w.next_r2tsn(), 4);
    w.sequence_sent(3).unwrap();
    assert!(matches!(
        w.on_r2t(R2t {
            r2tsn: 2,
            buffer_offset: 9192,
            ..r2t
        }),
        Err(DataOutError::R2tSnMismatch { .. })
    ));
}

#[test]
fn invalid_params_are_refused() {
    let bad = [
        WriteParams {
            max_xmit_data_segment_length: 0,
            ..params()
        },
        WriteParams {
            first_burst_length: 300_000,
            ..params()
        },
        WriteParams {
            max_outstanding_r2t: 0,
            ..params()
        },
        WriteParams {
            max_burst_length: 1 << 24,
            ..params()
        },
    ];
    for p in bad {
        assert_eq!(
            WriteTransfer::<1>::new(p, 1).err(),
            Some(DataOutError::InvalidParams)
        );
    }
    assert_eq!(
        WriteTransfer::<0>::new(params(), 1).err(),
        Some(DataOutError::InvalidParams)
    );
}

#[test]
fn zero_length_write_sends_nothing() {
    let p = WriteParams {
        initial_r2t: false,
        ..params()
    };
    let w = WriteTransfer::<1>::new(p, 0).unwrap();
    assert_eq!(w.immediate_length(), 0);
    assert!(w.command_final_flag());
    assert_eq!(w.unsolicited_sequence().count(), 0);
}
