// SPDX-License-Identifier: GPL-2.0
//! Feeds arbitrary Login responses to the login state machine. Any panic is
//! a bug: every malformed or hostile response must end in a typed error or
//! a legitimate next step.
//!
//! Input layout: byte 0 picks the login (auth and kind); then records of
//! `flags, len, BHS (48 bytes), data (len bytes)`. Flag bit 0 patches our
//! ITT and ISID into the BHS so the fuzzer gets past the header checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsiscsi_core::chap::{ChapConfig, Credentials};
use rsiscsi_core::hash::Algorithm;
use rsiscsi_core::keys::params::{InitiatorParams, SessionParams, SessionType};
use rsiscsi_core::login::{Auth, Isid, Login, LoginConfig, LoginKind, Progress};
use rsiscsi_core::pdu::Bhs;
use rsiscsi_core::text::{BinaryEncoding, TextAssembler};

const ALGS: [Algorithm; 4] = [
    Algorithm::Md5,
    Algorithm::Sha1,
    Algorithm::Sha256,
    Algorithm::Sha3_256,
];

fuzz_target!(|input: &[u8]| {
    let Some((&sel, mut rest)) = input.split_first() else {
        return;
    };
    let isid = Isid::random(0x12_3456, 1);
    let challenge = [0x5a; 16];
    let auth = match sel & 3 {
        0 => Auth::None,
        m => Auth::Chap {
            config: ChapConfig {
                initiator: Credentials {
                    name: b"user",
                    secret: b"initiator-secret",
                },
                target: (m == 2).then_some(Credentials {
                    name: b"target",
                    secret: b"target-secret-99",
                }),
                algorithms: &ALGS,
                encoding: if m == 3 {
                    BinaryEncoding::Base64
                } else {
                    BinaryEncoding::Hex
                },
            },
            identifier: 3,
            challenge: &challenge,
        },
    };
    let session = SessionParams::rfc_defaults(SessionType::Normal);
    let kind = match (sel >> 2) & 3 {
        0 => LoginKind::Leading,
        1 => LoginKind::Discovery,
        2 => LoginKind::AddConnection { tsih: 7, session },
        _ => LoginKind::Reinstate {
            tsih: 7,
            session,
            exp_stat_sn: 9,
        },
    };
    let cfg = LoginConfig {
        initiator_name: b"iqn.2024-01.org.example:fuzz",
        initiator_alias: None,
        target_name: Some(b"iqn.2003-01.org.example:t"),
        isid,
        cid: 1,
        itt: 0x42,
        cmd_sn: 1,
        params: InitiatorParams {
            error_recovery_level: 2,
            max_connections: 4,
            ..InitiatorParams::default()
        },
        auth,
    };
    let mut rx = TextAssembler::<1024>::new();
    let Ok(mut login) = Login::with_buffer(cfg, kind, &mut rx) else {
        return;
    };
    let mut out_bhs: Bhs = [0; 48];
    let mut out_data = [0u8; 4096];
    loop {
        match login.poll_transmit(&mut out_bhs, &mut out_data) {
            Ok(_) => {}
            Err(_) => return,
        }
        let Some((&[flags, len], tail)) = rest.split_first_chunk::<2>() else {
            return;
        };
        let Some((head, tail)) = tail.split_first_chunk::<48>() else {
            return;
        };
        let mut bhs = *head;
        let n = usize::from(len).min(tail.len());
        let (data, tail) = tail.split_at(n);
        rest = tail;
        if flags & 1 != 0 {
            bhs[8..14].copy_from_slice(&isid.to_bytes());
            bhs[16..20].copy_from_slice(&0x42u32.to_be_bytes());
            bhs[5..8].copy_from_slice(&(n as u32).to_be_bytes()[1..]);
        }
        match login.handle_response(&bhs, data) {
            Ok(Progress::Transmit) => {}
            Ok(Progress::Done(d)) => {
                assert!(
                    d.negotiated.session.first_burst_length
                        <= d.negotiated.session.max_burst_length
                );
                return;
            }
            Err(_) => {
                assert!(login.is_finished());
                return;
            }
        }
    }
});
