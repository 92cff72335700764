// SPDX-License-Identifier: GPL-2.0
//! Property tests for the login state machine: against a target holding
//! random values and splitting its answers into random C-bit pieces, the
//! login completes with the RFC 7143 §6.2 results; arbitrary response
//! bytes never panic it and always leave it finished or waiting to send.

use proptest::prelude::*;
use rsiscsi_core::keys::params::{DigestPref, DigestType, InitiatorParams};
use rsiscsi_core::keys::{lookup, KeyType};
use rsiscsi_core::login::{Auth, Isid, Login, LoginConfig, LoginError, LoginKind, Progress};
use rsiscsi_core::pdu::{LoginRequest, LoginResponse, Stage};
use rsiscsi_core::text::{parse_bool, parse_number, Pairs, TextAssembler, TextWriter};

fn config(params: InitiatorParams) -> LoginConfig<'static> {
    LoginConfig {
        initiator_name: b"iqn.2024-01.org.example:prop",
        initiator_alias: Some(b"prop"),
        target_name: Some(b"iqn.2003-01.org.example:t"),
        isid: Isid::enterprise(0x00_1234, 9),
        cid: 3,
        itt: 7,
        cmd_sn: 100,
        params,
        auth: Auth::None,
    }
}

#[derive(Debug, Clone)]
struct TargetValues {
    numbers: Vec<u64>,
    booleans: Vec<bool>,
    crc_ok: bool,
    mrdsl: u64,
    tpgt: u16,
    tsih: u16,
    chunk: usize,
}

const NUM_KEYS: [&str; 7] = [
    "MaxConnections",
    "MaxBurstLength",
    "FirstBurstLength",
    "DefaultTime2Wait",
    "DefaultTime2Retain",
    "MaxOutstandingR2T",
    "ErrorRecoveryLevel",
];
const BOOL_KEYS: [&str; 4] = [
    "InitialR2T",
    "ImmediateData",
    "DataPDUInOrder",
    "DataSequenceInOrder",
];

fn target_values() -> impl Strategy<Value = TargetValues> {
    (
        (
            1u64..=65_535,
            512u64..=16_777_215,
            512u64..=16_777_215,
            0u64..=3600,
            0u64..=3600,
            1u64..=65_535,
            0u64..=2,
        ),
        prop::collection::vec(any::<bool>(), 4),
        any::<bool>(),
        512u64..=16_777_215,
        any::<u16>(),
        1u16..,
        1usize..200,
    )
        .prop_map(
            |(n, booleans, crc_ok, mrdsl, tpgt, tsih, chunk)| TargetValues {
                numbers: vec![n.0, n.1, n.2, n.3, n.4, n.5, n.6],
                booleans,
                crc_ok,
                mrdsl,
                tpgt,
                tsih,
                chunk,
            },
        )
}

fn initiator_params() -> impl Strategy<Value = InitiatorParams> {
    (
        (
            1u16..=65_535,
            512u32..=16_777_215,
            0u16..=3600,
            0u16..=3600,
            1u16..=65_535,
            0u8..=2,
        ),
        prop::collection::vec(any::<bool>(), 4),
        0u32..=16_777_215,
        512u32..=16_777_215,
        0..4usize,
    )
        .prop_map(|(n, b, first_seed, mrdsl, hd)| {
            let max_burst = n.1;
            InitiatorParams {
                header_digest: [
                    DigestPref::NoneOnly,
                    DigestPref::PreferCrc32c,
                    DigestPref::PreferNone,
                    DigestPref::Crc32cOnly,
                ][hd],
                data_digest: DigestPref::PreferCrc32c,
                max_connections: n.0,
                initial_r2t: b[0],
                immediate_data: b[1],
                max_recv_data_segment_length: mrdsl,
                max_burst_length: max_burst,
                first_burst_length: 512 + first_seed % (max_burst - 511),
                default_time2wait: n.2,
                default_time2retain: n.3,
                max_outstanding_r2t: n.4,
                data_pdu_in_order: b[2],
                data_sequence_in_order: b[3],
                error_recovery_level: n.5,
            }
        })
}

/// Builds the whole answer text of the simulated target to one request.
fn answer(t: &TargetValues, req: &LoginRequest, data: &[u8], out: &mut Vec<u8>) -> Option<Stage> {
    let mut buf = vec![0u8; 4096];
    let mut w = TextWriter::new(&mut buf);
    for p in Pairs::new(data) {
        let p = p.unwrap();
        let key = std::str::from_utf8(p.key).unwrap();
        match key {
            "AuthMethod" => {
                w.push(b"AuthMethod", b"None").unwrap();
                w.push_number(b"TargetPortalGroupTag", t.tpgt.into())
                    .unwrap();
            }
            "HeaderDigest" | "DataDigest" => {
                let pick = p
                    .values()
                    .find(|v| *v == b"None" || (t.crc_ok && *v == b"CRC32C"))
                    .unwrap_or(b"Reject");
                w.push(p.key, pick).unwrap();
            }
            "MaxRecvDataSegmentLength" => w.push_number(p.key, t.mrdsl).unwrap(),
            _ => {
                if let Some(i) = NUM_KEYS.iter().position(|k| *k == key) {
                    let ours = parse_number(p.value).unwrap();
                    let kind = lookup(p.key).unwrap().kind;
                    let v = if kind == KeyType::NumericalMin {
                        ours.min(t.numbers[i])
                    } else {
                        ours.max(t.numbers[i])
                    };
                    w.push_number(p.key, v).unwrap();
                } else if let Some(i) = BOOL_KEYS.iter().position(|k| *k == key) {
                    let ours = parse_bool(p.value).unwrap();
                    let kind = lookup(p.key).unwrap().kind;
                    let v = if kind == KeyType::BooleanAnd {
                        ours && t.booleans[i]
                    } else {
                        ours || t.booleans[i]
                    };
                    w.push_bool(p.key, v).unwrap();
                }
            }
        }
    }
    out.clear();
    out.extend_from_slice(w.written());
    req.transit
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn login_reaches_rfc_results(p in initiator_params(), t in target_values()) {
        let mut rx = TextAssembler::<8192>::new();
        let mut login = Login::with_buffer(config(p), LoginKind::Leading, &mut rx).unwrap();
        let mut bhs = [0u8; 48];
        let mut data = vec![0u8; 4096];
        let mut text = Vec::new();
        let mut off = 0;
        let mut pending: Option<LoginResponse> = None;
        let mut stat_sn = 1000u32;
        let crc_required = p.header_digest == DigestPref::Crc32cOnly;
        let done = loop {
            let n = login.poll_transmit(&mut bhs, &mut data).unwrap().unwrap();
            let req = LoginRequest::decode(&bhs).unwrap();
            prop_assert_eq!(req.exp_stat_sn, if stat_sn == 1000 { 0 } else { stat_sn });
            if pending.is_none() {
                let transit = answer(&t, &req, &data[..n], &mut text);
                off = 0;
                pending = Some(LoginResponse {
                    transit: transit.map(|_| match req.csg {
                        Stage::SecurityNegotiation => Stage::LoginOperationalNegotiation,
                        _ => Stage::FullFeaturePhase,
                    }),
                    continue_flag: false,
                    csg: req.csg,
                    version_max: 0,
                    version_active: 0,
                    data_segment_length: 0,
                    isid: req.isid,
                    tsih: 0,
                    itt: req.itt,
                    stat_sn,
                    exp_cmd_sn: 100,
                    max_cmd_sn: 120,
                    status_class: 0,
                    status_detail: 0,
                });
            } else {
                prop_assert_eq!(n, 0);
            }
            let mut r = pending.unwrap();
            r.stat_sn = stat_sn;
            let end = (off + t.chunk).min(text.len());
            let piece = text[off..end].to_vec();
            off = end;
            if off < text.len() {
                r.continue_flag = true;
                r.transit = None;
            } else {
                pending = None;
                if r.transit == Some(Stage::FullFeaturePhase) {
                    r.tsih = t.tsih;
                }
            }
            r.data_segment_length = piece.len() as u32;
            let mut rb = [0u8; 48];
            r.encode(&mut rb).unwrap();
            stat_sn += 1;
            match login.handle_response(&rb, &piece) {
                Ok(Progress::Transmit) => {}
                Ok(Progress::Done(d)) => break d,
                Err(e) => {
                    // Only a CRC32C-only offer refused by the target may fail,
                    // and it must.
                    prop_assert!(crc_required && !t.crc_ok, "{:?}", e);
                    return Ok(());
                }
            }
        };
        prop_assert!(!crc_required || t.crc_ok, "a refused CRC32C-only offer must fail");
        prop_assert_eq!(done.tsih, t.tsih);
        prop_assert_eq!(done.exp_stat_sn, stat_sn);
        let s = done.negotiated.session;
        prop_assert_eq!(u64::from(s.max_connections), u64::from(p.max_connections).min(t.numbers[0]));
        prop_assert_eq!(u64::from(s.max_burst_length), u64::from(p.max_burst_length).min(t.numbers[1]));
        let first = u64::from(p.first_burst_length).min(t.numbers[2]).min(u64::from(s.max_burst_length));
        prop_assert_eq!(u64::from(s.first_burst_length), first);
        prop_assert_eq!(u64::from(s.default_time2wait), u64::from(p.default_time2wait).max(t.numbers[3]));
        prop_assert_eq!(u64::from(s.default_time2retain), u64::from(p.default_time2retain).min(t.numbers[4]));
        prop_assert_eq!(u64::from(s.max_outstanding_r2t), u64::from(p.max_outstanding_r2t).min(t.numbers[5]));
        prop_assert_eq!(u64::from(s.error_recovery_level), u64::from(p.error_recovery_level).min(t.numbers[6]));
        prop_assert_eq!(s.initial_r2t, p.initial_r2t || t.booleans[0]);
        prop_assert_eq!(s.immediate_data, p.immediate_data && t.booleans[1]);
        prop_assert_eq!(s.data_pdu_in_order, p.data_pdu_in_order || t.booleans[2]);
        prop_assert_eq!(s.data_sequence_in_order, p.data_sequence_in_order || t.booleans[3]);
        prop_assert_eq!(s.target_portal_group_tag, Some(t.tpgt));
        let c = done.negotiated.connection;
        prop_assert_eq!(u64::from(c.max_xmit_data_segment_length), t.mrdsl);
        prop_assert_eq!(c.max_recv_data_segment_length, p.max_recv_data_segment_length);
        let want_hd = match p.header_digest {
            DigestPref::NoneOnly | DigestPref::PreferNone => DigestType::None,
            _ if t.crc_ok => DigestType::Crc32c,
            _ => DigestType::None,
        };
        prop_assert_eq!(c.header_digest, want_hd);
        prop_assert_eq!(c.data_digest, if t.crc_ok { DigestType::Crc32c } else { DigestType::None });
    }

    #[test]
    fn garbage_responses_never_panic(
        responses in prop::collection::vec((prop::array::uniform32(any::<u8>()), prop::collection::vec(any::<u8>(), 0..300), any::<bool>()), 1..6),
    ) {
        let mut rx = TextAssembler::<512>::new();
        let mut login = Login::with_buffer(config(InitiatorParams::default()), LoginKind::Leading, &mut rx).unwrap();
        let mut out = [0u8; 48];
        let mut data = [0u8; 1024];
        for (head, body, patch) in responses {
            match login.poll_transmit(&mut out, &mut data) {
                Ok(Some(_)) => {}
                Ok(None) => prop_assert!(login.is_finished()),
                Err(_) => prop_assert!(login.is_finished()),
            }
            let mut bhs = [0u8; 48];
            bhs[..32].copy_from_slice(&head);
            bhs[32..].copy_from_slice(&head[..16]);
            if patch {
                // Make the header plausible so the text gets parsed.
                bhs[0] = 0x23;
                bhs[1] &= 0x87;
                bhs[4] = 0;
                bhs[5..8].copy_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
                bhs[8..14].copy_from_slice(&Isid::enterprise(0x00_1234, 9).to_bytes());
                bhs[16..20].copy_from_slice(&7u32.to_be_bytes());
                bhs[2] = 0;
                bhs[3] = 0;
                bhs[36] &= 0x03;
            }
            match login.handle_response(&bhs, &body) {
                Ok(Progress::Transmit) => prop_assert!(!login.is_finished()),
                Ok(Progress::Done(d)) => {
                    prop_assert!(login.is_finished());
                    prop_assert!(d.tsih != 0);
                }
                Err(LoginError::Failed) | Err(LoginError::UnexpectedResponse) => {}
                Err(_) => prop_assert!(login.is_finished()),
            }
        }
    }
}
