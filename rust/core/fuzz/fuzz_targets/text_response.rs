// SPDX-License-Identifier: GPL-2.0
//! Feeds arbitrary Text response data to the key=value parser, the C-bit
//! reassembly and the SendTargets parser, and the pairs to the operational
//! negotiator. Any panic is a bug.
//!
//! Input layout: byte 0 is the size of the first piece; the rest is the
//! text, split in two C-bit pieces at that point. The same bytes are then
//! replayed as a SendTargets exchange in records of `flags, len, data`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsiscsi_core::discovery::{Query, SendTargets, Targets, TextProgress};
use rsiscsi_core::keys::negotiate::Negotiator;
use rsiscsi_core::keys::params::{InitiatorParams, SessionType};
use rsiscsi_core::pdu::{Lun, TextResponse, RESERVED_TAG};
use rsiscsi_core::text::{decode_binary, parse_number, Pairs, TextAssembler, TextWriter};

fn exchange(mut input: &[u8]) {
    let mut rx = TextAssembler::<2048>::new();
    let mut st = SendTargets::new(Query::All, 1, &mut rx);
    let mut bhs = [0u8; 48];
    let mut out = [0u8; 64];
    while let Some((&[flags, len], rest)) = input.split_first_chunk::<2>() {
        if st.poll_transmit(1, 1, &mut bhs, &mut out).is_err() {
            return;
        }
        let n = usize::from(len).min(rest.len());
        let (data, rest) = rest.split_at(n);
        input = rest;
        let final_flag = flags & 1 != 0;
        let resp = TextResponse {
            final_flag,
            continue_flag: !final_flag && flags & 2 != 0,
            data_segment_length: n as u32,
            lun: Lun::ZERO,
            itt: if flags & 4 != 0 { 2 } else { 1 },
            ttt: if final_flag == (flags & 8 == 0) {
                RESERVED_TAG
            } else {
                u32::from(flags)
            },
            stat_sn: 0,
            exp_cmd_sn: 0,
            max_cmd_sn: 0,
        };
        match st.handle_response(&resp, data) {
            Ok(TextProgress::Transmit) => {}
            Ok(TextProgress::Done) => {
                for t in st.targets() {
                    let Ok(t) = t else { break };
                    for p in t.portals() {
                        assert!(p.is_ok());
                    }
                }
                return;
            }
            Err(_) => return,
        }
    }
}

fuzz_target!(|input: &[u8]| {
    exchange(input);
    let Some((&cut, text)) = input.split_first() else {
        return;
    };
    let (a, b) = text.split_at(usize::from(cut).min(text.len()));
    let mut asm = TextAssembler::<4096>::new();
    if asm.push(a, true).is_err() || asm.push(b, false) != Ok(true) {
        return;
    }
    assert_eq!(asm.text(), text);

    for t in Targets::new(asm.text()) {
        let Ok(t) = t else { break };
        assert!(!t.name.is_empty());
        for p in t.portals() {
            let p = p.expect("portals of a yielded target were checked");
            assert!(!p.host.is_empty());
            let _ = p.ip();
        }
    }

    let mut neg = Negotiator::new(&InitiatorParams::default(), SessionType::Normal, None)
        .expect("defaults are valid");
    let mut buf = [0u8; 1024];
    neg.write_offers(&mut TextWriter::new(&mut buf))
        .expect("offers fit");
    for pair in Pairs::new(asm.text()) {
        let Ok(pair) = pair else { break };
        assert!(pair.key.len() <= 63);
        let _ = parse_number(pair.value);
        let mut bin = [0u8; 1024];
        if let Ok(n) = decode_binary(pair.value, &mut bin) {
            assert!(n <= bin.len());
        }
        if neg.handle(pair).is_err() {
            break;
        }
    }
    let r = neg.result();
    assert!(r.session.first_burst_length <= r.session.max_burst_length);
    let _ = neg.write_replies(&mut TextWriter::new(&mut buf));
});
