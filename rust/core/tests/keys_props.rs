// SPDX-License-Identifier: GPL-2.0
//! Property tests for the text format and operational negotiation: whatever
//! each side proposes, the negotiated result follows RFC 7143 §6.2
//! (numerical-min gives the minimum, boolean-and the AND, out-of-range
//! offers are rejected), and text survives writing, splitting and parsing.

use proptest::prelude::*;
use rsiscsi_core::keys::negotiate::{NegotiationError, Negotiator};
use rsiscsi_core::keys::params::{InitiatorParams, NegotiatedParams, SessionParams, SessionType};
use rsiscsi_core::keys::rules::RuleError;
use rsiscsi_core::keys::{lookup, KeyId, KeyType, KeyUse, KEYS};
use rsiscsi_core::text::{
    decode_binary, encode_binary, parse_number, BinaryEncoding, Pairs, TextAssembler, TextWriter,
};

const NUMERIC: [KeyId; 7] = [
    KeyId::MaxConnections,
    KeyId::MaxBurstLength,
    KeyId::FirstBurstLength,
    KeyId::DefaultTime2Wait,
    KeyId::DefaultTime2Retain,
    KeyId::MaxOutstandingR2T,
    KeyId::ErrorRecoveryLevel,
];

const BOOLEAN: [KeyId; 4] = [
    KeyId::InitialR2T,
    KeyId::ImmediateData,
    KeyId::DataPDUInOrder,
    KeyId::DataSequenceInOrder,
];

fn session_number(r: &NegotiatedParams, id: KeyId) -> u64 {
    let s = &r.session;
    match id {
        KeyId::MaxConnections => s.max_connections.into(),
        KeyId::MaxBurstLength => s.max_burst_length.into(),
        KeyId::FirstBurstLength => s.first_burst_length.into(),
        KeyId::DefaultTime2Wait => s.default_time2wait.into(),
        KeyId::DefaultTime2Retain => s.default_time2retain.into(),
        KeyId::MaxOutstandingR2T => s.max_outstanding_r2t.into(),
        KeyId::ErrorRecoveryLevel => s.error_recovery_level.into(),
        _ => unreachable!(),
    }
}

fn session_bool(r: &NegotiatedParams, id: KeyId) -> bool {
    let s = &r.session;
    match id {
        KeyId::InitialR2T => s.initial_r2t,
        KeyId::ImmediateData => s.immediate_data,
        KeyId::DataPDUInOrder => s.data_pdu_in_order,
        KeyId::DataSequenceInOrder => s.data_sequence_in_order,
        _ => unreachable!(),
    }
}

fn with_number(mut p: InitiatorParams, id: KeyId, v: u64) -> InitiatorParams {
    match id {
        KeyId::MaxConnections => p.max_connections = v as u16,
        KeyId::MaxBurstLength => p.max_burst_length = v as u32,
        KeyId::FirstBurstLength => p.first_burst_length = v as u32,
        KeyId::DefaultTime2Wait => p.default_time2wait = v as u16,
        KeyId::DefaultTime2Retain => p.default_time2retain = v as u16,
        KeyId::MaxOutstandingR2T => p.max_outstanding_r2t = v as u16,
        KeyId::ErrorRecoveryLevel => p.error_recovery_level = v as u8,
        _ => unreachable!(),
    }
    // Keep FirstBurstLength <= MaxBurstLength so the params stay valid.
    if p.first_burst_length > p.max_burst_length {
        if id == KeyId::FirstBurstLength {
            p.max_burst_length = p.first_burst_length;
        } else {
            p.first_burst_length = p.max_burst_length;
        }
    }
    p
}

fn with_bool(mut p: InitiatorParams, id: KeyId, v: bool) -> InitiatorParams {
    match id {
        KeyId::InitialR2T => p.initial_r2t = v,
        KeyId::ImmediateData => p.immediate_data = v,
        KeyId::DataPDUInOrder => p.data_pdu_in_order = v,
        KeyId::DataSequenceInOrder => p.data_sequence_in_order = v,
        _ => unreachable!(),
    }
    p
}

fn feed(n: &mut Negotiator, key: &[u8], value: &[u8]) -> Result<(), NegotiationError> {
    let mut buf = [0u8; 128];
    let mut w = TextWriter::new(&mut buf);
    w.push(key, value).unwrap();
    let len = w.len();
    for p in Pairs::new(&buf[..len]) {
        n.handle(p.unwrap())?;
    }
    Ok(())
}

fn replies(n: &mut Negotiator) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut buf = [0u8; 1024];
    let mut w = TextWriter::new(&mut buf);
    n.write_replies(&mut w).unwrap();
    let len = w.len();
    Pairs::new(&buf[..len])
        .map(|p| {
            let p = p.unwrap();
            (p.key.to_vec(), p.value.to_vec())
        })
        .collect()
}

proptest! {
    /// Our offer answered per the RFC rule by a target holding `theirs`:
    /// the result is min/max of the two.
    #[test]
    fn numeric_answers_follow_rule(
        idx in 0..NUMERIC.len(),
        seed_ours in any::<u64>(),
        seed_theirs in any::<u64>(),
    ) {
        let id = NUMERIC[idx];
        let d = id.def();
        let span = d.max - d.min + 1;
        let ours = d.min + seed_ours % span;
        let theirs = d.min + seed_theirs % span;
        let p = with_number(InitiatorParams::default(), id, ours);
        let ours = p.number(id).unwrap();
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        let mut buf = [0u8; 1024];
        n.write_offers(&mut TextWriter::new(&mut buf)).unwrap();
        let answer = match d.kind {
            KeyType::NumericalMin => ours.min(theirs),
            KeyType::NumericalMax => ours.max(theirs),
            _ => unreachable!(),
        };
        feed(&mut n, d.name, answer.to_string().as_bytes()).unwrap();
        let r = n.result();
        let got = session_number(&r, id);
        if id == KeyId::FirstBurstLength {
            prop_assert_eq!(got, answer.min(r.session.max_burst_length.into()));
        } else {
            prop_assert_eq!(got, answer);
        }
        prop_assert!(r.session.first_burst_length <= r.session.max_burst_length);
    }

    /// An answer the rule cannot produce (above our numerical-min offer,
    /// below our numerical-max offer, or out of range) fails negotiation.
    #[test]
    fn impossible_numeric_answers_fail(idx in 0..NUMERIC.len(), ours_seed in any::<u64>(), answer in any::<u64>()) {
        let id = NUMERIC[idx];
        let d = id.def();
        let ours = d.min + ours_seed % (d.max - d.min + 1);
        let p = with_number(InitiatorParams::default(), id, ours);
        let ours = p.number(id).unwrap();
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        let mut buf = [0u8; 1024];
        n.write_offers(&mut TextWriter::new(&mut buf)).unwrap();
        let legal = answer >= d.min && answer <= d.max && match d.kind {
            KeyType::NumericalMin => answer <= ours,
            _ => answer >= ours,
        };
        let r = feed(&mut n, d.name, answer.to_string().as_bytes());
        if legal {
            prop_assert_eq!(r, Ok(()));
        } else {
            let out = answer < d.min || answer > d.max;
            let why = if out { RuleError::OutOfRange } else { RuleError::NotAllowed };
            prop_assert_eq!(r, Err(NegotiationError::BadAnswer(id, why)));
        }
    }

    /// A target-initiated numerical offer: we reply min/max of both values,
    /// or Reject when the offer is out of range, and adopt what we reply.
    #[test]
    fn numeric_target_offers(idx in 0..NUMERIC.len(), ours_seed in any::<u64>(), theirs in 0u64..20_000_000) {
        let id = NUMERIC[idx];
        let d = id.def();
        let p = with_number(InitiatorParams::default(), id, d.min + ours_seed % (d.max - d.min + 1));
        let ours = p.number(id).unwrap();
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        feed(&mut n, d.name, theirs.to_string().as_bytes()).unwrap();
        let rs = replies(&mut n);
        prop_assert_eq!(rs.len(), 1);
        prop_assert_eq!(&rs[0].0[..], d.name);
        if theirs < d.min || theirs > d.max {
            prop_assert_eq!(&rs[0].1[..], b"Reject");
        } else {
            let want = if d.kind == KeyType::NumericalMin { ours.min(theirs) } else { ours.max(theirs) };
            prop_assert_eq!(parse_number(&rs[0].1), Ok(want));
            let got = session_number(&n.result(), id);
            if id != KeyId::FirstBurstLength {
                prop_assert_eq!(got, want);
            }
        }
    }

    /// Booleans: AND / OR whichever side holds which value; the only
    /// answer the rule forbids fails.
    #[test]
    fn boolean_rules(idx in 0..BOOLEAN.len(), ours: bool, theirs: bool, answer_from_target: bool) {
        let id = BOOLEAN[idx];
        let d = id.def();
        let p = with_bool(InitiatorParams::default(), id, ours);
        let rule = |a: bool, b: bool| if d.kind == KeyType::BooleanAnd { a && b } else { a || b };
        // Target-initiated offer.
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        feed(&mut n, d.name, if theirs { b"Yes" } else { b"No" }).unwrap();
        let rs = replies(&mut n);
        let want = rule(ours, theirs);
        prop_assert_eq!(&rs[0].1[..], if want { &b"Yes"[..] } else { &b"No"[..] });
        prop_assert_eq!(session_bool(&n.result(), id), want);
        // Answer to our offer.
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        let mut buf = [0u8; 1024];
        n.write_offers(&mut TextWriter::new(&mut buf)).unwrap();
        let answer = if answer_from_target { rule(ours, theirs) } else { theirs };
        let r = feed(&mut n, d.name, if answer { b"Yes" } else { b"No" });
        let allowed = rule(ours, answer) == answer;
        if allowed {
            prop_assert_eq!(r, Ok(()));
            prop_assert_eq!(session_bool(&n.result(), id), answer);
        } else {
            prop_assert_eq!(r, Err(NegotiationError::BadAnswer(id, RuleError::NotAllowed)));
        }
    }

    /// A target may leave out its answer when our offer alone decides a
    /// boolean (RFC 7143 §6.2.1: No to an AND key, Yes to an OR key; LIO
    /// does). The result is then our offer, whatever the RFC default is;
    /// an answer, if one comes, can only repeat it.
    #[test]
    fn omitted_deciding_boolean_answers(idx in 0..BOOLEAN.len(), ours: bool, answer_too: bool) {
        let id = BOOLEAN[idx];
        let d = id.def();
        let decides = if d.kind == KeyType::BooleanAnd { !ours } else { ours };
        prop_assume!(decides);
        let p = with_bool(InitiatorParams::default(), id, ours);
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        let mut buf = [0u8; 1024];
        n.write_offers(&mut TextWriter::new(&mut buf)).unwrap();
        if answer_too {
            feed(&mut n, d.name, if ours { b"Yes" } else { b"No" }).unwrap();
        }
        prop_assert_eq!(session_bool(&n.result(), id), ours);
        // The opposite answer is still one the rule cannot produce.
        let r = feed(&mut n, d.name, if ours { b"No" } else { b"Yes" });
        if answer_too {
            // Already answered: a second value is taken as the target's
            // own offer and answered with the decided value.
            prop_assert_eq!(r, Ok(()));
            prop_assert_eq!(session_bool(&n.result(), id), ours);
        } else {
            prop_assert_eq!(r, Err(NegotiationError::BadAnswer(id, RuleError::NotAllowed)));
        }
    }

    /// Any LO key a target offers on a connection added to a session, with
    /// any value, is answered with what the session already agreed (or
    /// Irrelevant for keys the session does not record), never Reject, and
    /// leaves the session values exactly as the leading login fixed them.
    #[test]
    fn lo_offers_on_added_connection_never_change_the_session(
        key_idx in any::<prop::sample::Index>(),
        value in prop_oneof![
            (0u64..20_000_000).prop_map(|n| n.to_string()),
            Just("Yes".to_string()),
            Just("No".to_string()),
            "[a-zA-Z0-9 ,]{1,12}",
        ],
        mbl in 512u32..=16_777_215,
        fbl_seed: u32,
        initial_r2t: bool,
        erl in 0u8..=2,
        conns in 1u16..=65_535,
    ) {
        let lo: Vec<_> = KEYS
            .iter()
            .filter(|d| d.usage == KeyUse::LeadingOnly && d.kind != KeyType::Declarative)
            .collect();
        let d = lo[key_idx.index(lo.len())];
        let existing = SessionParams {
            max_connections: conns,
            initial_r2t,
            max_burst_length: mbl,
            first_burst_length: 512 + fbl_seed % (mbl - 511),
            error_recovery_level: erl,
            ..SessionParams::rfc_defaults(SessionType::Normal)
        };
        let mut n = Negotiator::new(&InitiatorParams::default(), SessionType::Normal, Some(&existing)).unwrap();
        feed(&mut n, d.name, value.as_bytes()).unwrap();
        let rs = replies(&mut n);
        if matches!(value.as_str(), "Reject" | "Irrelevant" | "NotUnderstood") {
            prop_assert!(rs.is_empty());
        } else {
            prop_assert_eq!(rs.len(), 1);
            prop_assert_eq!(&rs[0].0[..], d.name);
            let want = match (existing.number(d.id), existing.boolean(d.id)) {
                (Some(v), _) => v.to_string(),
                (None, Some(b)) => if b { "Yes" } else { "No" }.to_string(),
                (None, None) => "Irrelevant".to_string(),
            };
            prop_assert_eq!(String::from_utf8_lossy(&rs[0].1), want);
        }
        prop_assert_eq!(n.result().session, existing);
    }

    /// Non-numeric junk offered for a numeric key is answered Reject and
    /// changes nothing.
    #[test]
    fn malformed_target_offers_rejected(idx in 0..NUMERIC.len(), junk in "[a-zA-Z ,]{1,12}") {
        let id = NUMERIC[idx];
        let p = InitiatorParams::default();
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        let before = n.result();
        feed(&mut n, id.name(), junk.as_bytes()).unwrap();
        let rs = replies(&mut n);
        if junk == "Reject" || junk == "Irrelevant" || junk == "NotUnderstood" {
            prop_assert!(rs.is_empty());
        } else {
            prop_assert_eq!(&rs[0].1[..], b"Reject");
        }
        prop_assert_eq!(n.result(), before);
    }

    /// Text written by TextWriter parses back to the same pairs, however the
    /// bytes are split into C-bit pieces.
    #[test]
    fn text_round_trip(
        pairs in prop::collection::vec(("[A-Za-z0-9.+@_-]{1,63}", "[ -~]{0,255}"), 1..12),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        let mut buf = vec![0u8; 8192];
        let mut w = TextWriter::new(&mut buf);
        for (k, v) in &pairs {
            w.push(k.as_bytes(), v.as_bytes()).unwrap();
        }
        let len = w.len();
        let text = &buf[..len];
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(len + 1)).collect();
        points.sort_unstable();
        let mut asm = TextAssembler::<8192>::new();
        let mut start = 0;
        for &p in &points {
            prop_assert_eq!(asm.push(&text[start..p], true), Ok(false));
            start = p;
        }
        prop_assert_eq!(asm.push(&text[start..], false), Ok(true));
        let parsed: Vec<_> = asm.pairs().map(|p| p.unwrap()).collect();
        prop_assert_eq!(parsed.len(), pairs.len());
        for (p, (k, v)) in parsed.iter().zip(&pairs) {
            prop_assert_eq!(p.key, k.as_bytes());
            prop_assert_eq!(p.value, v.as_bytes());
            prop_assert!(lookup(p.key).is_none_or(|d| d.name == p.key));
        }
    }

    /// Binary values survive both encodings, and numbers survive decimal
    /// and hex.
    #[test]
    fn binary_and_number_round_trip(bytes in prop::collection::vec(any::<u8>(), 1..300), n: u64) {
        for enc in [BinaryEncoding::Hex, BinaryEncoding::Base64] {
            let mut out = vec![0u8; 1024];
            let len = encode_binary(&bytes, enc, &mut out).unwrap();
            let mut back = vec![0u8; 300];
            let m = decode_binary(&out[..len], &mut back).unwrap();
            prop_assert_eq!(&back[..m], &bytes[..]);
        }
        prop_assert_eq!(parse_number(n.to_string().as_bytes()), Ok(n));
        prop_assert_eq!(parse_number(format!("0x{n:x}").as_bytes()), Ok(n));
        let mut out = [0u8; 16];
        let len = encode_binary(&n.to_be_bytes(), BinaryEncoding::Base64, &mut out).unwrap();
        prop_assert_eq!(parse_number(&out[..len]), Ok(n));
    }

    /// Arbitrary bytes never panic the parser, and every pair it accepts
    /// respects the RFC 7143 §6.1 length limits.
    #[test]
    fn parser_total_on_garbage(data in prop::collection::vec(any::<u8>(), 0..600)) {
        for p in Pairs::new(&data).flatten() {
            prop_assert!(!p.key.is_empty() && p.key.len() <= 63);
            prop_assert!(p.value.len() <= 8192);
            prop_assert!(!p.value.contains(&0));
        }
    }
}
