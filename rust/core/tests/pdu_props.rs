// SPDX-License-Identifier: GPL-2.0
//! Property tests for CRC32C and the PDU codec: round trips for every PDU
//! type (with and without AHS and digests), digest error detection, and
//! decoding of arbitrary bytes without panics.

use proptest::prelude::*;
use rsiscsi_core::crc32c::{crc32c, Crc32c};
use rsiscsi_core::pdu::{
    ahs, bhs, header_digest_bytes, pad_len, verify_header_digest, AsyncMessage, Bhs, Cdb,
    DataDigest, DataIn, DataOut, Digests, InitiatorPdu, LoginRequest, LoginResponse, LogoutReason,
    LogoutRequest, LogoutResponse, Lun, NopIn, NopOut, PduError, PduLayout, R2t, Reject, Residual,
    ScsiCommand, ScsiResponse, SnackRequest, SnackType, Stage, TargetPdu, TaskAttr,
    TaskMgmtRequest, TaskMgmtResponse, TextRequest, TextResponse, TmfFunction, BHS_LEN,
    MAX_DATA_SEGMENT_LENGTH,
};

fn lun() -> impl Strategy<Value = Lun> {
    any::<[u8; 8]>().prop_map(Lun)
}

fn dsl() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0u32), 1u32..=8192, 0u32..=MAX_DATA_SEGMENT_LENGTH]
}

fn residual() -> impl Strategy<Value = Residual> {
    prop_oneof![
        Just(Residual::None),
        any::<u32>().prop_map(Residual::Overflow),
        any::<u32>().prop_map(Residual::Underflow),
    ]
}

fn stage() -> impl Strategy<Value = Stage> {
    prop_oneof![
        Just(Stage::SecurityNegotiation),
        Just(Stage::LoginOperationalNegotiation),
        Just(Stage::FullFeaturePhase),
    ]
}

/// (transit, continue): T and C never both set.
fn transit_continue() -> impl Strategy<Value = (Option<Stage>, bool)> {
    prop_oneof![
        stage().prop_map(|s| (Some(s), false)),
        any::<bool>().prop_map(|c| (None, c)),
    ]
}

/// (final, continue) for Text PDUs: F and C never both set.
fn final_continue() -> impl Strategy<Value = (bool, bool)> {
    prop_oneof![
        Just((true, false)),
        Just((false, true)),
        Just((false, false))
    ]
}

fn target_pdu() -> impl Strategy<Value = TargetPdu> {
    let sns = || any::<(u32, u32, u32)>();
    prop_oneof![
        (dsl(), lun(), any::<(u32, u32)>(), sns()).prop_map(|(d, lun, (itt, ttt), (s, e, m))| {
            TargetPdu::NopIn(NopIn {
                data_segment_length: d,
                lun,
                itt,
                ttt,
                stat_sn: s,
                exp_cmd_sn: e,
                max_cmd_sn: m,
            })
        }),
        (
            any::<(u8, u8)>(),
            dsl(),
            any::<(u32, u32)>(),
            sns(),
            any::<u32>(),
            residual(),
            residual()
        )
            .prop_map(|((r, st), d, (itt, tag), (s, e, m), x, b, res)| {
                TargetPdu::ScsiResponse(ScsiResponse {
                    response: r,
                    status: st,
                    data_segment_length: d,
                    itt,
                    snack_tag: tag,
                    stat_sn: s,
                    exp_cmd_sn: e,
                    max_cmd_sn: m,
                    exp_data_sn: x,
                    bidi_read_residual: b,
                    residual: res,
                })
            }),
        (any::<(u8, u32)>(), sns()).prop_map(|((r, itt), (s, e, m))| {
            TargetPdu::TaskMgmtResponse(TaskMgmtResponse {
                response: r,
                itt,
                stat_sn: s,
                exp_cmd_sn: e,
                max_cmd_sn: m,
            })
        }),
        (
            transit_continue(),
            stage(),
            any::<(u8, u8)>(),
            dsl(),
            any::<([u8; 6], u16, u32)>(),
            sns(),
            any::<(u8, u8)>()
        )
            .prop_map(
                |((t, c), csg, (vm, va), d, (isid, tsih, itt), (s, e, m), (sc, sd))| {
                    TargetPdu::LoginResponse(LoginResponse {
                        transit: t,
                        continue_flag: c,
                        csg,
                        version_max: vm,
                        version_active: va,
                        data_segment_length: d,
                        isid,
                        tsih,
                        itt,
                        stat_sn: s,
                        exp_cmd_sn: e,
                        max_cmd_sn: m,
                        status_class: sc,
                        status_detail: sd,
                    })
                }
            ),
        (final_continue(), dsl(), lun(), any::<(u32, u32)>(), sns()).prop_map(
            |((f, c), d, lun, (itt, ttt), (s, e, m))| {
                TargetPdu::TextResponse(TextResponse {
                    final_flag: f,
                    continue_flag: c,
                    data_segment_length: d,
                    lun,
                    itt,
                    ttt,
                    stat_sn: s,
                    exp_cmd_sn: e,
                    max_cmd_sn: m,
                })
            }
        ),
        (
            any::<(bool, bool, bool, u8)>(),
            dsl(),
            lun(),
            any::<(u32, u32)>(),
            sns(),
            any::<(u32, u32)>(),
            residual()
        )
            .prop_map(
                |((f, a, s_flag, st), d, lun, (itt, ttt), (s, e, m), (dsn, off), r)| {
                    TargetPdu::DataIn(DataIn {
                        // S requires F.
                        final_flag: f || s_flag,
                        acknowledge: a,
                        status_flag: s_flag,
                        status: st,
                        data_segment_length: d,
                        lun,
                        itt,
                        ttt,
                        stat_sn: s,
                        exp_cmd_sn: e,
                        max_cmd_sn: m,
                        data_sn: dsn,
                        buffer_offset: off,
                        residual: r,
                    })
                }
            ),
        (any::<(u8, u32)>(), sns(), any::<(u16, u16)>()).prop_map(
            |((r, itt), (s, e, m), (w, rt))| {
                TargetPdu::LogoutResponse(LogoutResponse {
                    response: r,
                    itt,
                    stat_sn: s,
                    exp_cmd_sn: e,
                    max_cmd_sn: m,
                    time2wait: w,
                    time2retain: rt,
                })
            }
        ),
        (lun(), any::<(u32, u32)>(), sns(), any::<(u32, u32, u32)>()).prop_map(
            |(lun, (itt, ttt), (s, e, m), (sn, off, len))| {
                TargetPdu::R2t(R2t {
                    lun,
                    itt,
                    ttt,
                    stat_sn: s,
                    exp_cmd_sn: e,
                    max_cmd_sn: m,
                    r2t_sn: sn,
                    buffer_offset: off,
                    desired_data_transfer_length: len,
                })
            }
        ),
        (dsl(), lun(), sns(), any::<(u8, u8, u16, u16, u16)>()).prop_map(
            |(d, lun, (s, e, m), (ev, vc, p1, p2, p3))| {
                TargetPdu::AsyncMessage(AsyncMessage {
                    data_segment_length: d,
                    lun,
                    stat_sn: s,
                    exp_cmd_sn: e,
                    max_cmd_sn: m,
                    async_event: ev,
                    async_vcode: vc,
                    parameter1: p1,
                    parameter2: p2,
                    parameter3: p3,
                })
            }
        ),
        (any::<u8>(), dsl(), sns(), any::<u32>()).prop_map(|(r, d, (s, e, m), dsn)| {
            TargetPdu::Reject(Reject {
                reason: r,
                data_segment_length: d,
                stat_sn: s,
                exp_cmd_sn: e,
                max_cmd_sn: m,
                data_sn: dsn,
            })
        }),
    ]
}

fn attr() -> impl Strategy<Value = TaskAttr> {
    (0u8..=4).prop_map(|v| TaskAttr::from_bits(v).unwrap())
}

/// An initiator PDU; SCSI Commands borrow their CDB from `cdb`.
fn initiator_pdu(cdb: &[u8], bidi: Option<u32>) -> impl Strategy<Value = InitiatorPdu<'_>> {
    let two = || any::<(u32, u32)>();
    prop_oneof![
        (any::<bool>(), dsl(), lun(), two(), two()).prop_map(|(i, d, lun, (itt, ttt), (c, e))| {
            InitiatorPdu::NopOut(NopOut {
                immediate: i,
                data_segment_length: d,
                lun,
                itt,
                ttt,
                cmd_sn: c,
                exp_stat_sn: e,
            })
        }),
        (
            any::<(bool, bool, bool, bool)>(),
            attr(),
            dsl(),
            lun(),
            two(),
            two()
        )
            .prop_map(move |((i, f, r, w), a, d, lun, (itt, edtl), (c, e))| {
                InitiatorPdu::ScsiCommand(ScsiCommand {
                    immediate: i,
                    final_flag: f,
                    read: r,
                    write: w,
                    attr: a,
                    data_segment_length: d,
                    lun,
                    itt,
                    expected_data_transfer_length: edtl,
                    cmd_sn: c,
                    exp_stat_sn: e,
                    cdb: Cdb::new(cdb).unwrap(),
                    bidi_read_length: bidi,
                })
            }),
        (any::<bool>(), 1u8..=8, lun(), two(), two(), two()).prop_map(
            |(i, f, lun, (itt, rtt), (c, e), (rc, ed))| {
                InitiatorPdu::TaskMgmtRequest(TaskMgmtRequest {
                    immediate: i,
                    function: TmfFunction::from_u8(f).unwrap(),
                    lun,
                    itt,
                    referenced_task_tag: rtt,
                    cmd_sn: c,
                    exp_stat_sn: e,
                    ref_cmd_sn: rc,
                    exp_data_sn: ed,
                })
            }
        ),
        (
            transit_continue(),
            stage(),
            any::<(u8, u8)>(),
            dsl(),
            any::<([u8; 6], u16, u32, u16)>(),
            two()
        )
            .prop_map(
                |((t, c), csg, (vx, vn), d, (isid, tsih, itt, cid), (cs, e))| {
                    InitiatorPdu::LoginRequest(LoginRequest {
                        transit: t,
                        continue_flag: c,
                        csg,
                        version_max: vx,
                        version_min: vn,
                        data_segment_length: d,
                        isid,
                        tsih,
                        itt,
                        cid,
                        cmd_sn: cs,
                        exp_stat_sn: e,
                    })
                }
            ),
        (any::<bool>(), final_continue(), dsl(), lun(), two(), two()).prop_map(
            |(i, (f, c), d, lun, (itt, ttt), (cs, e))| {
                InitiatorPdu::TextRequest(TextRequest {
                    immediate: i,
                    final_flag: f,
                    continue_flag: c,
                    data_segment_length: d,
                    lun,
                    itt,
                    ttt,
                    cmd_sn: cs,
                    exp_stat_sn: e,
                })
            }
        ),
        (any::<bool>(), dsl(), lun(), two(), two(), any::<u32>()).prop_map(
            |(f, d, lun, (itt, ttt), (e, dsn), off)| {
                InitiatorPdu::DataOut(DataOut {
                    final_flag: f,
                    data_segment_length: d,
                    lun,
                    itt,
                    ttt,
                    exp_stat_sn: e,
                    data_sn: dsn,
                    buffer_offset: off,
                })
            }
        ),
        (any::<bool>(), 0u8..=2, any::<(u32, u16)>(), two()).prop_map(
            |(i, r, (itt, cid), (c, e))| {
                InitiatorPdu::LogoutRequest(LogoutRequest {
                    immediate: i,
                    reason: LogoutReason::from_u8(r).unwrap(),
                    itt,
                    cid,
                    cmd_sn: c,
                    exp_stat_sn: e,
                })
            }
        ),
        (0u8..=3, lun(), two(), two(), any::<u32>()).prop_map(
            |(t, lun, (itt, tag), (e, beg), run)| {
                InitiatorPdu::SnackRequest(SnackRequest {
                    snack_type: SnackType::from_u8(t).unwrap(),
                    lun,
                    itt,
                    ttt_or_snack_tag: tag,
                    exp_stat_sn: e,
                    beg_run: beg,
                    run_length: run,
                })
            }
        ),
    ]
}

/// Any initiator PDU. The CDB of a SCSI Command is leaked so the borrowed
/// `Cdb` can live as long as the generated value (test-only).
fn any_initiator_pdu() -> impl Strategy<Value = InitiatorPdu<'static>> {
    (
        proptest::collection::vec(any::<u8>(), 1..=260),
        proptest::option::of(any::<u32>()),
    )
        .prop_flat_map(|(cdb, bidi)| {
            let cdb: &'static [u8] = Box::leak(cdb.into_boxed_slice());
            initiator_pdu(cdb, bidi)
        })
}

/// Builds the complete wire image of a PDU.
fn wire(bhs: &Bhs, ahs: &[u8], data: &[u8], digests: Digests) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(bhs);
    v.extend_from_slice(ahs);
    if digests.header {
        v.extend_from_slice(&header_digest_bytes(bhs, ahs));
    }
    if !data.is_empty() {
        v.extend_from_slice(data);
        v.extend(std::iter::repeat_n(
            0u8,
            pad_len(data.len() as u32) as usize,
        ));
        if digests.data {
            let mut d = DataDigest::new();
            d.update(data);
            v.extend_from_slice(&d.finish_bytes());
        }
    }
    v
}

/// What a receiver finds when it parses `w`: the header digest result, the
/// data digest result, and the BHS + AHS bytes.
fn receive(w: &[u8], digests: Digests) -> (Result<(), PduError>, Result<(), PduError>) {
    let bhs: &Bhs = w[..BHS_LEN].try_into().unwrap();
    let l = PduLayout::from_bhs(bhs, digests);
    let ahs = &w[l.ahs_offset()..l.ahs_offset() + l.ahs_len];
    let hd = match l.header_digest_offset() {
        Some(o) => verify_header_digest(bhs, ahs, w[o..o + 4].try_into().unwrap()),
        None => Ok(()),
    };
    let dd = match l.data_digest_offset() {
        Some(o) => {
            let start = l.data_offset();
            let end = start + l.data_len as usize;
            let mut d = DataDigest::new();
            // Feed in two pieces to mimic a scatterlist.
            let mid = start + (end - start) / 2;
            d.update(&w[start..mid]);
            d.update(&w[mid..end]);
            d.verify(&w[end..o], w[o..o + 4].try_into().unwrap())
        }
        None => Ok(()),
    };
    assert_eq!(l.total_len(), w.len());
    (hd, dd)
}

proptest! {
    #[test]
    fn crc_incremental_equals_one_shot_at_every_split(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let whole = crc32c(&data);
        for split in 0..=data.len() {
            let mut c = Crc32c::new();
            c.update(&data[..split]);
            c.update(&data[split..]);
            prop_assert_eq!(c.finish(), whole);
        }
    }

    #[test]
    fn crc_detects_any_single_bit_flip(data in proptest::collection::vec(any::<u8>(), 1..200), bit in any::<usize>()) {
        let mut flipped = data.clone();
        let i = bit % (data.len() * 8);
        flipped[i / 8] ^= 1 << (i % 8);
        prop_assert_ne!(crc32c(&flipped), crc32c(&data));
    }

    #[test]
    fn target_pdu_round_trip(p in target_pdu()) {
        let mut b = [0u8; BHS_LEN];
        p.encode(&mut b).unwrap();
        prop_assert_eq!(TargetPdu::decode(&b), Ok(p));
        prop_assert_eq!(bhs::data_segment_length(&b), p.data_segment_length());
        prop_assert_eq!(bhs::itt(&b), p.itt());
        // Re-encoding the decoded value gives the same bytes.
        let mut again = [0u8; BHS_LEN];
        TargetPdu::decode(&b).unwrap().encode(&mut again).unwrap();
        prop_assert_eq!(again, b);
    }

    #[test]
    fn initiator_pdu_round_trip(p in any_initiator_pdu()) {
        let mut b = [0u8; BHS_LEN];
        let mut ahs_buf = [0u8; ahs::MAX_AHS_LEN];
        let n = p.encode(&mut b, &mut ahs_buf).unwrap();
        prop_assert_eq!(n % 4, 0);
        prop_assert_eq!(bhs::total_ahs_len(&b), n);
        let d = InitiatorPdu::decode(&b, &ahs_buf[..n]).unwrap();
        prop_assert_eq!(d, p);
        if let InitiatorPdu::ScsiCommand(c) = d {
            prop_assert_eq!(n > 0, !c.cdb.extended().is_empty() || c.bidi_read_length.is_some());
        }
        let mut again = [0u8; BHS_LEN];
        let mut ahs_again = [0u8; ahs::MAX_AHS_LEN];
        let m = d.encode(&mut again, &mut ahs_again).unwrap();
        prop_assert_eq!(again, b);
        prop_assert_eq!(&ahs_again[..m], &ahs_buf[..n]);
    }

    #[test]
    fn long_cdb_survives_the_ahs(cdb in proptest::collection::vec(any::<u8>(), 1..=260)) {
        let c = Cdb::new(&cdb).unwrap();
        let mut b = [0u8; BHS_LEN];
        let mut a = [0u8; ahs::MAX_AHS_LEN];
        let cmd = ScsiCommand {
            immediate: false, final_flag: true, read: true, write: false, attr: TaskAttr::Simple,
            data_segment_length: 0, lun: Lun::ZERO, itt: 1, expected_data_transfer_length: 512,
            cmd_sn: 1, exp_stat_sn: 1, cdb: c, bidi_read_length: None,
        };
        let n = cmd.encode(&mut b, &mut a).unwrap();
        prop_assert_eq!(n, if cdb.len() > 16 { ahs::extended_cdb_ahs_len(cdb.len() - 16) } else { 0 });
        let d = ScsiCommand::decode(&b, &a[..n]).unwrap();
        let mut full = [0u8; 300];
        let len = d.cdb.copy_to(&mut full).unwrap();
        prop_assert_eq!(&full[..cdb.len()], &cdb[..]);
        prop_assert!(full[cdb.len()..len].iter().all(|&x| x == 0));
    }

    #[test]
    fn digests_round_trip_and_catch_corruption(
        p in target_pdu(),
        data in proptest::collection::vec(any::<u8>(), 0..64),
        header in any::<bool>(),
        data_d in any::<bool>(),
        flip in any::<usize>(),
    ) {
        // Give the PDU a data segment that matches `data`.
        let mut b = [0u8; BHS_LEN];
        p.encode(&mut b).unwrap();
        let carries_data = !matches!(p, TargetPdu::R2t(_) | TargetPdu::TaskMgmtResponse(_) | TargetPdu::LogoutResponse(_));
        let data: &[u8] = if carries_data { &data } else { &[] };
        b[5..8].copy_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
        let digests = Digests { header, data: data_d };
        let w = wire(&b, &[], data, digests);
        prop_assert_eq!(receive(&w, digests), (Ok(()), Ok(())));
        let decoded = TargetPdu::decode(w[..BHS_LEN].try_into().unwrap()).unwrap();
        prop_assert_eq!(decoded.data_segment_length() as usize, data.len());

        // Flip one bit outside the length fields (which would change the
        // framing itself): a covered region must report a mismatch.
        let mut bad = w.clone();
        let i = flip % (bad.len() * 8);
        let byte = i / 8;
        prop_assume!(!(4..8).contains(&byte));
        bad[byte] ^= 1 << (i % 8);
        let l = PduLayout::from_bhs(&b, digests);
        let (hd, dd) = receive(&bad, digests);
        let in_header = byte < l.data_offset();
        if in_header && header {
            let caught = matches!(hd, Err(PduError::HeaderDigestMismatch { .. }));
            prop_assert!(caught, "header flip at {} not caught: {:?}", byte, hd);
        } else if !in_header && data_d {
            // Payload, padding and the digest itself are all covered.
            let caught = matches!(dd, Err(PduError::DataDigestMismatch { .. }));
            prop_assert!(caught, "data flip at {} not caught: {:?}", byte, dd);
        }
    }

    #[test]
    fn scsi_command_with_ahs_and_digests(
        cdb in proptest::collection::vec(any::<u8>(), 17..=260),
        bidi in proptest::option::of(any::<u32>()),
        data in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let cmd = ScsiCommand {
            immediate: false,
            final_flag: true,
            read: bidi.is_some(),
            write: true,
            attr: TaskAttr::Simple,
            data_segment_length: data.len() as u32,
            lun: Lun::single_level(1).unwrap(),
            itt: 1,
            expected_data_transfer_length: 4096,
            cmd_sn: 5,
            exp_stat_sn: 6,
            cdb: Cdb::new(&cdb).unwrap(),
            bidi_read_length: bidi,
        };
        let mut b = [0u8; BHS_LEN];
        let mut a = [0u8; ahs::MAX_AHS_LEN];
        let n = cmd.encode(&mut b, &mut a).unwrap();
        let digests = Digests { header: true, data: true };
        let w = wire(&b, &a[..n], &data, digests);
        prop_assert_eq!(receive(&w, digests), (Ok(()), Ok(())));
        let l = PduLayout::from_bhs(w[..BHS_LEN].try_into().unwrap(), digests);
        prop_assert_eq!(l.ahs_len, n);
        let got = ScsiCommand::decode(w[..BHS_LEN].try_into().unwrap(), &w[BHS_LEN..BHS_LEN + n]).unwrap();
        prop_assert_eq!(got, cmd);
        prop_assert_eq!(&w[l.data_offset()..l.data_offset() + data.len()], &data[..]);
    }

    #[test]
    fn oversized_data_segment_is_refused(len in (MAX_DATA_SEGMENT_LENGTH + 1)..=u32::MAX) {
        let r = Reject { reason: 9, data_segment_length: len, stat_sn: 0, exp_cmd_sn: 0, max_cmd_sn: 0, data_sn: 0 };
        let mut b = [0u8; BHS_LEN];
        prop_assert_eq!(r.encode(&mut b), Err(PduError::DataSegmentTooLong));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), BHS_LEN..BHS_LEN + 64)) {
        let b: &Bhs = bytes[..BHS_LEN].try_into().unwrap();
        let rest = &bytes[BHS_LEN..];
        for header in [false, true] {
            for data in [false, true] {
                let l = PduLayout::from_bhs(b, Digests { header, data });
                prop_assert!(l.total_len() >= BHS_LEN);
            }
        }
        if let Ok(p) = TargetPdu::decode(b) {
            let mut again = [0u8; BHS_LEN];
            p.encode(&mut again).unwrap();
            prop_assert_eq!(TargetPdu::decode(&again), Ok(p));
        }
        let ahs_len = bhs::total_ahs_len(b).min(rest.len());
        if let Ok(p) = InitiatorPdu::decode(b, &rest[..ahs_len]) {
            let mut again = [0u8; BHS_LEN];
            let mut a = [0u8; ahs::MAX_AHS_LEN];
            let n = p.encode(&mut again, &mut a).unwrap();
            prop_assert_eq!(InitiatorPdu::decode(&again, &a[..n]), Ok(p));
        }
        let _ = ahs::parse(rest);
    }

    #[test]
    fn header_with_valid_opcode_byte_mostly_decodes(op in prop_oneof![Just(0x20u8), Just(0x21), Just(0x22), Just(0x23), Just(0x24), Just(0x25), Just(0x26), Just(0x31), Just(0x32), Just(0x3f)], tail in any::<[u8; 47]>()) {
        // Random fields behind a valid target opcode: decode either succeeds
        // with that opcode or names a structural reason, never a wrong opcode.
        let mut b = [0u8; BHS_LEN];
        b[0] = op;
        b[1..].copy_from_slice(&tail);
        match TargetPdu::decode(&b) {
            Ok(p) => prop_assert_eq!(p.opcode() as u8, op),
            Err(e) => prop_assert!(matches!(e, PduError::ReservedBits | PduError::InvalidFlags | PduError::InvalidField | PduError::UnexpectedData | PduError::UnexpectedAhs)),
        }
    }
}
