// SPDX-License-Identifier: GPL-2.0
//! Feeds arbitrary bytes to the PDU framing and decoders. Any panic is a bug:
//! the core must turn every malformed header into a typed error. Whatever
//! decodes must encode and decode back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsiscsi_core::pdu::{
    ahs, reject, scsi_response, verify_header_digest, Bhs, DataDigest, Digests, InitiatorPdu,
    PduLayout, TargetPdu, BHS_LEN,
};

fuzz_target!(|data: &[u8]| {
    let _ = ahs::parse(data);
    let _ = scsi_response::split_sense(data);
    let _ = reject::rejected_header(data);
    let _ = TargetPdu::decode_bytes(data);
    let _ = InitiatorPdu::decode_bytes(data);

    let Some((head, rest)) = data.split_at_checked(BHS_LEN) else {
        return;
    };
    let Ok(bhs) = <&Bhs>::try_from(head) else {
        return;
    };

    for (header, data_d) in [(false, false), (true, false), (false, true), (true, true)] {
        let l = PduLayout::from_bhs(
            bhs,
            Digests {
                header,
                data: data_d,
            },
        );
        assert!(l.total_len() >= BHS_LEN);
        assert_eq!(l.data_offset(), BHS_LEN + l.header_rest_len());
    }

    let ahs_len = rsiscsi_core::pdu::bhs::total_ahs_len(bhs).min(rest.len());
    let (ahs_bytes, tail) = rest.split_at(ahs_len);
    if let Some(wire) = tail.get(..4) {
        let _ = verify_header_digest(bhs, ahs_bytes, [wire[0], wire[1], wire[2], wire[3]]);
    }
    let mut dd = DataDigest::new();
    dd.update(tail);
    let _ = dd.verify(&tail[..tail.len().min(3)], [0; 4]);

    if let Ok(p) = TargetPdu::decode(bhs) {
        let mut out = [0u8; BHS_LEN];
        p.encode(&mut out).expect("decoded target PDU must encode");
        assert_eq!(TargetPdu::decode(&out), Ok(p));
    }

    if let Ok(p) = InitiatorPdu::decode(bhs, ahs_bytes) {
        let mut out = [0u8; BHS_LEN];
        let mut ahs_out = [0u8; ahs::MAX_AHS_LEN];
        let n = p
            .encode(&mut out, &mut ahs_out)
            .expect("decoded initiator PDU must encode");
        assert_eq!(InitiatorPdu::decode(&out, &ahs_out[..n]), Ok(p));
    }
});
