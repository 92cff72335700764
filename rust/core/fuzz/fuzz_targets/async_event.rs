// SPDX-License-Identifier: GPL-2.0
//! Feeds arbitrary bytes as an Async Message (BHS, then the data segment)
//! to the decoder and to `async_event::interpret`, at an arbitrary time and
//! receiving CID. Any panic is a bug; sense data reported must lie inside
//! the segment, and deadlines never wrap.
//!
//! Input layout: two bytes of receiving CID, eight bytes of `now`, the
//! 48-byte BHS (its opcode forced to Async Message, so every input gets past
//! the dispatch), the rest is the data segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsiscsi_core::async_event::{interpret, AsyncAction};
use rsiscsi_core::pdu::{AsyncMessage, Bhs, BHS_LEN};

fuzz_target!(|input: &[u8]| {
    let Some((cid, rest)) = input.split_first_chunk::<2>() else {
        return;
    };
    let Some((now, rest)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let Some((bhs, segment)) = rest.split_first_chunk::<BHS_LEN>() else {
        return;
    };
    let mut bhs: Bhs = *bhs;
    bhs[0] = 0x32;
    let Ok(msg) = AsyncMessage::decode(&bhs) else {
        return;
    };
    // What decodes re-encodes to the same message.
    let mut again: Bhs = [0; BHS_LEN];
    msg.encode(&mut again).expect("a decoded message encodes");
    assert_eq!(AsyncMessage::decode(&again), Ok(msg));
    let now = u64::from_le_bytes(*now);
    let cid = u16::from_le_bytes(*cid);
    let Ok(action) = interpret(&msg, segment, cid, now) else {
        return;
    };
    match action {
        AsyncAction::ScsiEvent { sense, .. } => {
            let end = sense.offset + usize::from(sense.length);
            assert!(end <= segment.len(), "sense past the segment");
        }
        AsyncAction::LogoutRequested { cid: c, deadline }
        | AsyncAction::RenegotiationRequested { cid: c, deadline } => {
            assert_eq!(c, cid);
            assert!(deadline >= now);
        }
        _ => {}
    }
});
