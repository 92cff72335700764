// SPDX-License-Identifier: GPL-2.0
//! Property tests for the digests and CHAP: incremental hashing equals
//! one-shot hashing however the input is split, the CHAP response is
//! H(I || secret || C) over the concatenated bytes, and mutual CHAP accepts
//! the target exactly when it knows the right secret.

use proptest::prelude::*;
use rsiscsi_core::chap::{response, ChapConfig, ChapError, ChapInitiator, ChapState, Credentials};
use rsiscsi_core::hash::{digest, Algorithm, Hasher};
use rsiscsi_core::text::{decode_binary, BinaryEncoding, Pairs, TextWriter};

const ALGS: [Algorithm; 4] = [
    Algorithm::Md5,
    Algorithm::Sha1,
    Algorithm::Sha256,
    Algorithm::Sha3_256,
];

fn chap_a(alg: Algorithm) -> u8 {
    match alg {
        Algorithm::Md5 => 5,
        Algorithm::Sha1 => 6,
        Algorithm::Sha256 => 7,
        Algorithm::Sha3_256 => 8,
    }
}

fn feed(c: &mut ChapInitiator<'_>, text: &[u8]) -> Result<(), ChapError> {
    c.handle_text(text)
}

proptest! {
    #[test]
    fn split_updates_equal_one_shot(
        alg_idx in 0..4usize,
        data in prop::collection::vec(any::<u8>(), 0..700),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let alg = ALGS[alg_idx];
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        points.sort_unstable();
        let mut h = Hasher::new(alg);
        let mut start = 0;
        for p in points {
            h.update(&data[start..p]);
            start = p;
        }
        h.update(&data[start..]);
        prop_assert_eq!(h.finalize(), digest(alg, &data));
    }

    #[test]
    fn one_way_response_is_hash_of_concatenation(
        alg_idx in 0..4usize,
        id: u8,
        secret in prop::collection::vec(any::<u8>(), 1..=255),
        challenge in prop::collection::vec(any::<u8>(), 1..=1024),
        base64: bool,
    ) {
        let alg = ALGS[alg_idx];
        let enc = if base64 { BinaryEncoding::Base64 } else { BinaryEncoding::Hex };
        let algs = [alg];
        let cfg = ChapConfig {
            initiator: Credentials { name: b"user", secret: &secret },
            target: None,
            algorithms: &algs,
            encoding: enc,
        };
        let mut c = ChapInitiator::new(cfg, 0, &[]).unwrap();
        let mut buf = vec![0u8; 4096];
        c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
        let mut w = TextWriter::new(&mut buf);
        w.push_number(b"CHAP_A", chap_a(alg).into()).unwrap();
        w.push_number(b"CHAP_I", id.into()).unwrap();
        w.push_binary(b"CHAP_C", &challenge, enc).unwrap();
        let len = w.len();
        let text = buf[..len].to_vec();
        feed(&mut c, &text).unwrap();
        let mut w = TextWriter::new(&mut buf);
        c.write_response(&mut w).unwrap();
        let r = Pairs::new(w.written()).nth(1).unwrap().unwrap();
        prop_assert_eq!(r.key, b"CHAP_R");
        let mut got = [0u8; 32];
        let n = decode_binary(r.value, &mut got).unwrap();
        let mut msg = vec![id];
        msg.extend_from_slice(&secret);
        msg.extend_from_slice(&challenge);
        let want = digest(alg, &msg);
        prop_assert_eq!(&got[..n], want.as_bytes());
        prop_assert_eq!(c.state(), ChapState::Done);
    }

    #[test]
    fn mutual_accepts_exactly_the_right_secret(
        alg_idx in 0..4usize,
        our_id: u8,
        ours in prop::collection::vec(any::<u8>(), 16..64),
        target_secret in prop::collection::vec(any::<u8>(), 1..40),
        used_secret in prop::collection::vec(any::<u8>(), 1..40),
        same: bool,
    ) {
        let alg = ALGS[alg_idx];
        let algs = ALGS;
        let cfg = ChapConfig {
            initiator: Credentials { name: b"user", secret: b"initiator-secret-x" },
            target: Some(Credentials { name: b"tgt", secret: &target_secret }),
            algorithms: &algs,
            encoding: BinaryEncoding::Hex,
        };
        prop_assume!(target_secret != b"initiator-secret-x");
        let mut c = ChapInitiator::new(cfg, our_id, &ours).unwrap();
        let mut buf = vec![0u8; 4096];
        c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
        let challenge = format!("CHAP_A={}\0CHAP_I=1\0CHAP_C=0x0011223344556677889900aabbccddeeff\0", chap_a(alg));
        prop_assume!(ours != [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
        feed(&mut c, challenge.as_bytes()).unwrap();
        c.write_response(&mut TextWriter::new(&mut buf)).unwrap();
        let secret = if same { &target_secret } else { &used_secret };
        let r = response(alg, our_id, secret, &ours);
        let mut w = TextWriter::new(&mut buf);
        w.push(b"CHAP_N", b"tgt").unwrap();
        w.push_binary(b"CHAP_R", r.as_bytes(), BinaryEncoding::Base64).unwrap();
        let len = w.len();
        let text = buf[..len].to_vec();
        let res = feed(&mut c, &text);
        if secret == &target_secret {
            prop_assert_eq!(res, Ok(()));
        } else {
            prop_assert_eq!(res, Err(ChapError::TargetAuthFailed));
        }
    }
}
