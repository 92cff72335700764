// SPDX-License-Identifier: GPL-2.0
//! Feeds arbitrary Text response data to the key=value parser, the C-bit
//! reassembly and the SendTargets parser, and the pairs to the operational
//! negotiator. Any panic is a bug.
//!
//! Input layout: byte 0 is the size of the first piece; the rest is the
//! text, split in two C-bit pieces at that point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsiscsi_core::discovery::Targets;
use rsiscsi_core::keys::negotiate::Negotiator;
use rsiscsi_core::keys::params::{InitiatorParams, SessionType};
use rsiscsi_core::text::{decode_binary, parse_number, Pairs, TextAssembler, TextWriter};

fuzz_target!(|input: &[u8]| {
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
