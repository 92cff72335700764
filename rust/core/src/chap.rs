// SPDX-License-Identifier: GPL-2.0
//! CHAP authentication for iSCSI login (RFC 7143 §12.1.3 over RFC 1994).
//!
//! Exchange, all in the SecurityNegotiation stage after `AuthMethod=CHAP`
//! was agreed:
//!
//! 1. initiator: `CHAP_A=<algorithms in preference order>`
//! 2. target: `CHAP_A=<a> CHAP_I=<identifier> CHAP_C=<challenge>`
//! 3. initiator: `CHAP_N=<name> CHAP_R=<H(I || secret || C)>`, plus, for
//!    mutual CHAP, its own `CHAP_I` and `CHAP_C`
//! 4. target (mutual only): `CHAP_N` and `CHAP_R` for our challenge.
//!
//! [`ChapInitiator`] is that exchange as a small state machine; the login
//! code feeds it the text of each response and asks it for the next text.
//! Secrets are borrowed, never copied.

use super::hash::{Algorithm, Digest, Hasher, MAX_DIGEST_LEN};
use super::keys::KeyId;
use super::text::{self, BinaryEncoding, Pairs, TextError, TextWriter, MAX_BINARY_LEN};

/// Longest CHAP secret accepted (LIO and open-iscsi store up to 255 bytes).
pub const MAX_SECRET_LEN: usize = 255;

/// Longest CHAP name (a text value, RFC 7143 §6.1).
pub const MAX_NAME_LEN: usize = 255;

/// Secret length below which RFC 7143 §9.2.1 calls a CHAP secret weak
/// (96 bits). Not enforced: targets in the field use shorter ones.
pub const RECOMMENDED_MIN_SECRET_LEN: usize = 12;

/// Shortest challenge we send for mutual CHAP (the 16 bytes LIO uses).
pub const MIN_OUR_CHALLENGE_LEN: usize = 16;

/// The CHAP_A value of each digest (RFC 7143 §12.1.3 points to the IANA
/// "PPP Authentication Algorithms" registry; LIO implements all four).
pub const fn chap_a(alg: Algorithm) -> u8 {
    match alg {
        Algorithm::Md5 => 5,
        Algorithm::Sha1 => 6,
        Algorithm::Sha256 => 7,
        Algorithm::Sha3_256 => 8,
    }
}

/// The digest a CHAP_A value names, if we implement it.
pub fn algorithm_from_chap_a(v: u64) -> Option<Algorithm> {
    match v {
        5 => Some(Algorithm::Md5),
        6 => Some(Algorithm::Sha1),
        7 => Some(Algorithm::Sha256),
        8 => Some(Algorithm::Sha3_256),
        _ => None,
    }
}

/// The CHAP response `H(identifier || secret || challenge)` (RFC 1994 §4.1).
pub fn response(alg: Algorithm, identifier: u8, secret: &[u8], challenge: &[u8]) -> Digest {
    let mut h = Hasher::new(alg);
    h.update(&[identifier]);
    h.update(secret);
    h.update(challenge);
    h.finalize()
}

/// Compares two byte strings in time that depends only on their lengths,
/// so a forged response cannot be refined byte by byte.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Route the result through black_box so the fold is not turned back
    // into an early-exit comparison.
    core::hint::black_box(diff) == 0
}

/// A CHAP name and secret.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// CHAP_N: the name this side authenticates as.
    pub name: &'a [u8],
    /// The shared secret.
    pub secret: &'a [u8],
}

/// CHAP settings for one login.
#[derive(Debug, Clone, Copy)]
pub struct ChapConfig<'a> {
    /// Our name and secret, proving us to the target.
    pub initiator: Credentials<'a>,
    /// The target's expected name and secret: `Some` asks for mutual CHAP.
    pub target: Option<Credentials<'a>>,
    /// Algorithms to offer in CHAP_A, most preferred first (1 to 4).
    pub algorithms: &'a [Algorithm],
    /// How to encode CHAP_R and CHAP_C.
    pub encoding: BinaryEncoding,
}

/// Why CHAP failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChapError {
    /// A secret is empty or longer than [`MAX_SECRET_LEN`].
    BadSecretLength,
    /// A name is empty or longer than [`MAX_NAME_LEN`].
    BadNameLength,
    /// Mutual CHAP with the same secret both ways, which lets a reflection
    /// attack succeed (RFC 7143 §9.2.1 forbids it).
    SameSecretBothWays,
    /// No algorithms configured, or more than four.
    BadAlgorithmList,
    /// Our challenge is shorter than [`MIN_OUR_CHALLENGE_LEN`] or longer
    /// than 1024 bytes.
    BadOurChallenge,
    /// The target picked a CHAP_A we did not offer.
    AlgorithmNotOffered,
    /// CHAP_I is not a number in 0..=255.
    BadIdentifier,
    /// CHAP_C is malformed, empty or longer than 1024 bytes.
    BadChallenge,
    /// The target's CHAP_R is malformed or has the wrong length.
    BadResponse,
    /// The target's challenge equals ours: a reflection attempt.
    Reflection,
    /// A CHAP key arrived that does not belong in this step.
    UnexpectedKey,
    /// The target's step lacked one of the keys it must carry.
    Incomplete,
    /// The target's CHAP_N is not the name we expect.
    TargetNameMismatch,
    /// The target's CHAP_R does not prove knowledge of its secret.
    TargetAuthFailed,
    /// Writing our text failed.
    Text(TextError),
}

impl From<TextError> for ChapError {
    fn from(e: TextError) -> Self {
        ChapError::Text(e)
    }
}

fn check_creds(c: &Credentials<'_>) -> Result<(), ChapError> {
    if c.secret.is_empty() || c.secret.len() > MAX_SECRET_LEN {
        return Err(ChapError::BadSecretLength);
    }
    if c.name.is_empty() || c.name.len() > MAX_NAME_LEN || c.name.contains(&0) {
        return Err(ChapError::BadNameLength);
    }
    Ok(())
}

/// Where the exchange stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChapState {
    /// Next: send CHAP_A.
    SendAlgorithms,
    /// Waiting for CHAP_A, CHAP_I, CHAP_C.
    AwaitChallenge,
    /// Next: send CHAP_N and CHAP_R (and our challenge if mutual).
    SendResponse,
    /// Mutual: waiting for the target's CHAP_N and CHAP_R.
    AwaitTargetResponse,
    /// Authentication finished on our side.
    Done,
}

/// Stores the value of a key that may appear once per response.
fn once<'t>(slot: &mut Option<&'t [u8]>, v: &'t [u8]) -> Result<(), ChapError> {
    if slot.replace(v).is_some() {
        return Err(ChapError::UnexpectedKey);
    }
    Ok(())
}

/// The initiator's side of one CHAP exchange.
///
/// Nothing large is stored: the target's challenge is hashed straight out of
/// the response text (streamed in small pieces), and our own challenge stays
/// in the caller's buffer.
#[derive(Debug, Clone)]
pub struct ChapInitiator<'a> {
    cfg: ChapConfig<'a>,
    state: ChapState,
    alg: Option<Algorithm>,
    our_id: u8,
    our_challenge: &'a [u8],
    response: Option<Digest>,
}

impl<'a> ChapInitiator<'a> {
    /// Checks the configuration. `our_id` and `our_challenge` must come from
    /// a good random source and are used only for mutual CHAP.
    pub fn new(
        cfg: ChapConfig<'a>,
        our_id: u8,
        our_challenge: &'a [u8],
    ) -> Result<Self, ChapError> {
        check_creds(&cfg.initiator)?;
        if cfg.algorithms.is_empty() || cfg.algorithms.len() > 4 {
            return Err(ChapError::BadAlgorithmList);
        }
        if let Some(t) = &cfg.target {
            check_creds(t)?;
            if ct_eq(t.secret, cfg.initiator.secret) {
                return Err(ChapError::SameSecretBothWays);
            }
            if our_challenge.len() < MIN_OUR_CHALLENGE_LEN || our_challenge.len() > MAX_BINARY_LEN {
                return Err(ChapError::BadOurChallenge);
            }
        }
        Ok(ChapInitiator {
            cfg,
            state: ChapState::SendAlgorithms,
            alg: None,
            our_id,
            our_challenge,
            response: None,
        })
    }

    /// Current step.
    pub fn state(&self) -> ChapState {
        self.state
    }

    /// The algorithm the target chose, once known.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }

    /// Whether we asked the target to authenticate itself too.
    pub fn is_mutual(&self) -> bool {
        self.cfg.target.is_some()
    }

    /// Writes `CHAP_A=<list>` (step 1).
    pub fn write_algorithms(&mut self, w: &mut TextWriter<'_>) -> Result<(), ChapError> {
        if self.state != ChapState::SendAlgorithms {
            return Err(ChapError::UnexpectedKey);
        }
        // "7,6,5,8" is at most 7 bytes.
        let mut list = [0u8; 8];
        let mut n = 0;
        for (i, alg) in self.cfg.algorithms.iter().enumerate() {
            if i > 0 {
                if let Some(b) = list.get_mut(n) {
                    *b = b',';
                }
                n += 1;
            }
            if let Some(b) = list.get_mut(n) {
                *b = b'0' + chap_a(*alg);
            }
            n += 1;
        }
        w.push(KeyId::CHAP_A.name(), list.get(..n).unwrap_or(&[]))?;
        self.state = ChapState::AwaitChallenge;
        Ok(())
    }

    /// Processes the complete text of one target response. Keys that are
    /// not CHAP_* are left for the caller and ignored here. After our
    /// CHAP_A this expects the challenge (step 2) and computes our answer;
    /// after our mutual challenge it verifies the target's proof (step 4).
    pub fn handle_text(&mut self, text: &[u8]) -> Result<(), ChapError> {
        let mut a = None;
        let mut i = None;
        let mut c = None;
        let mut n = None;
        let mut r = None;
        for pair in Pairs::new(text) {
            let pair = pair?;
            match pair.key {
                b"CHAP_A" => once(&mut a, pair.value)?,
                b"CHAP_I" => once(&mut i, pair.value)?,
                b"CHAP_C" => once(&mut c, pair.value)?,
                b"CHAP_N" => once(&mut n, pair.value)?,
                b"CHAP_R" => once(&mut r, pair.value)?,
                k if k.starts_with(b"CHAP_") => return Err(ChapError::UnexpectedKey),
                _ => {}
            }
        }
        match self.state {
            ChapState::AwaitChallenge => {
                if n.is_some() || r.is_some() {
                    return Err(ChapError::UnexpectedKey);
                }
                self.challenge(a, i, c)
            }
            ChapState::AwaitTargetResponse => {
                if a.is_some() || i.is_some() || c.is_some() {
                    return Err(ChapError::UnexpectedKey);
                }
                self.verify_target(n, r)
            }
            _ if [a, i, c, n, r].iter().any(Option::is_some) => Err(ChapError::UnexpectedKey),
            _ => Ok(()),
        }
    }

    fn challenge(
        &mut self,
        a: Option<&[u8]>,
        i: Option<&[u8]>,
        c: Option<&[u8]>,
    ) -> Result<(), ChapError> {
        let alg = match a {
            Some(v) => Some(
                text::parse_number(v)
                    .ok()
                    .and_then(algorithm_from_chap_a)
                    .filter(|a| self.cfg.algorithms.contains(a))
                    .ok_or(ChapError::AlgorithmNotOffered)?,
            ),
            None => None,
        };
        let id = match i {
            Some(v) => Some(
                text::parse_number(v)
                    .ok()
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or(ChapError::BadIdentifier)?,
            ),
            None => None,
        };
        let (Some(alg), Some(id), Some(c)) = (alg, id, c) else {
            return Err(ChapError::Incomplete);
        };
        // H(I || secret || C), hashing C as it is decoded; compare it with
        // our own challenge on the way to catch a reflection.
        let mut h = Hasher::new(alg);
        h.update(&[id]);
        h.update(self.cfg.initiator.secret);
        let ours = self.our_challenge;
        let mut same = self.is_mutual();
        let mut pos = 0usize;
        let len = text::decode_binary_with(c, |piece| {
            h.update(piece);
            let end = pos.saturating_add(piece.len());
            same = same && ours.get(pos..end) == Some(piece);
            pos = end;
        })
        .map_err(|_| ChapError::BadChallenge)?;
        if len == 0 || len > MAX_BINARY_LEN {
            return Err(ChapError::BadChallenge);
        }
        if same && len == ours.len() {
            return Err(ChapError::Reflection);
        }
        self.alg = Some(alg);
        self.response = Some(h.finalize());
        self.state = ChapState::SendResponse;
        Ok(())
    }

    /// Writes `CHAP_N`, `CHAP_R` and, for mutual CHAP, our `CHAP_I` and
    /// `CHAP_C` (step 3).
    pub fn write_response(&mut self, w: &mut TextWriter<'_>) -> Result<(), ChapError> {
        let (Some(r), ChapState::SendResponse) = (self.response, self.state) else {
            return Err(ChapError::Incomplete);
        };
        w.push(KeyId::CHAP_N.name(), self.cfg.initiator.name)?;
        w.push_binary(KeyId::CHAP_R.name(), r.as_bytes(), self.cfg.encoding)?;
        if self.is_mutual() {
            w.push_number(KeyId::CHAP_I.name(), u64::from(self.our_id))?;
            w.push_binary(KeyId::CHAP_C.name(), self.our_challenge, self.cfg.encoding)?;
            self.state = ChapState::AwaitTargetResponse;
        } else {
            self.state = ChapState::Done;
        }
        Ok(())
    }

    fn verify_target(&mut self, n: Option<&[u8]>, r: Option<&[u8]>) -> Result<(), ChapError> {
        let (Some(t), Some(alg)) = (self.cfg.target, self.alg) else {
            return Err(ChapError::UnexpectedKey);
        };
        let (Some(name), Some(r)) = (n, r) else {
            return Err(ChapError::Incomplete);
        };
        let mut got = [0u8; MAX_DIGEST_LEN];
        let len = text::decode_binary(r, &mut got).map_err(|_| ChapError::BadResponse)?;
        let got = got.get(..len).unwrap_or(&[]);
        if len != alg.digest_len() {
            return Err(ChapError::BadResponse);
        }
        let want = response(alg, self.our_id, t.secret, self.our_challenge);
        let proof_ok = ct_eq(got, want.as_bytes());
        if !ct_eq(name, t.name) {
            return Err(ChapError::TargetNameMismatch);
        }
        if !proof_ok {
            return Err(ChapError::TargetAuthFailed);
        }
        self.state = ChapState::Done;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::tests::unhex;

    const ALL: [Algorithm; 4] = [
        Algorithm::Sha3_256,
        Algorithm::Sha256,
        Algorithm::Sha1,
        Algorithm::Md5,
    ];

    fn cfg<'a>(mutual: bool) -> ChapConfig<'a> {
        ChapConfig {
            initiator: Credentials {
                name: b"iqn.2024-01.org.example:init",
                secret: b"initiatorsecret1",
            },
            target: mutual.then_some(Credentials {
                name: b"iqn.2003-01.org.example:mcs",
                secret: b"targetsecret0002",
            }),
            algorithms: &ALL,
            encoding: BinaryEncoding::Hex,
        }
    }

    fn feed(c: &mut ChapInitiator<'_>, text: &[u8]) -> Result<(), ChapError> {
        c.handle_text(text)
    }

    #[test]
    fn md5_response_matches_independent_computation() {
        // MD5(0x01 || "secret" || 0x00..0x0f), computed with Python hashlib.
        let challenge: [u8; 16] = core::array::from_fn(|i| i as u8);
        let r = response(Algorithm::Md5, 1, b"secret", &challenge);
        assert_eq!(
            r.as_bytes(),
            unhex::<16>(b"740e86463bda3a4d7017d6e0fba0699d")
        );
    }

    #[test]
    fn chap_a_numbers() {
        for (alg, n) in [
            (Algorithm::Md5, 5),
            (Algorithm::Sha1, 6),
            (Algorithm::Sha256, 7),
            (Algorithm::Sha3_256, 8),
        ] {
            assert_eq!(chap_a(alg), n);
            assert_eq!(algorithm_from_chap_a(u64::from(n)), Some(alg));
        }
        assert_eq!(algorithm_from_chap_a(4), None);
    }

    #[test]
    fn one_way_exchange() {
        let mut c = ChapInitiator::new(cfg(false), 0, &[]).unwrap();
        let mut buf = [0u8; 512];
        let mut w = TextWriter::new(&mut buf);
        c.write_algorithms(&mut w).unwrap();
        assert_eq!(w.written(), b"CHAP_A=8,7,6,5\0");
        feed(
            &mut c,
            b"CHAP_A=5\0CHAP_I=7\0CHAP_C=0x000102030405060708090a0b0c0d0e0f\0",
        )
        .unwrap();
        assert_eq!(c.state(), ChapState::SendResponse);
        let mut buf = [0u8; 512];
        let mut w = TextWriter::new(&mut buf);
        c.write_response(&mut w).unwrap();
        let challenge: [u8; 16] = core::array::from_fn(|i| i as u8);
        let want = response(Algorithm::Md5, 7, b"initiatorsecret1", &challenge);
        let mut it = Pairs::new(w.written());
        let n = it.next().unwrap().unwrap();
        assert_eq!(
            (n.key, n.value),
            (&b"CHAP_N"[..], &b"iqn.2024-01.org.example:init"[..])
        );
        let r = it.next().unwrap().unwrap();
        let mut got = [0u8; 32];
        assert_eq!(text::decode_binary(r.value, &mut got), Ok(16));
        assert_eq!(&got[..16], want.as_bytes());
        assert!(it.next().is_none());
        assert_eq!(c.state(), ChapState::Done);
    }

    #[test]
    fn mutual_exchange_verifies_target() {
        let ours = [0x55u8; 16];
        for (target_secret, result) in [
            (&b"targetsecret0002"[..], Ok(())),
            (&b"wrong-secret-000"[..], Err(ChapError::TargetAuthFailed)),
        ] {
            let mut c = ChapInitiator::new(cfg(true), 9, &ours).unwrap();
            let mut buf = [0u8; 512];
            c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
            feed(
                &mut c,
                b"CHAP_A=7\0CHAP_I=200\0CHAP_C=0bAAECAwQFBgcICQoLDA0ODw==\0",
            )
            .unwrap();
            let mut w = TextWriter::new(&mut buf);
            c.write_response(&mut w).unwrap();
            let mut it = Pairs::new(w.written()).skip(2);
            let i = it.next().unwrap().unwrap();
            assert_eq!((i.key, i.value), (&b"CHAP_I"[..], &b"9"[..]));
            let cc = it.next().unwrap().unwrap();
            assert_eq!(cc.value, b"0x55555555555555555555555555555555");
            // The target answers with its own secret.
            let tr = response(Algorithm::Sha256, 9, target_secret, &ours);
            let mut tb = [0u8; 256];
            let mut tw = TextWriter::new(&mut tb);
            tw.push(b"CHAP_N", b"iqn.2003-01.org.example:mcs").unwrap();
            tw.push_binary(b"CHAP_R", tr.as_bytes(), BinaryEncoding::Base64)
                .unwrap();
            let len = tw.len();
            assert_eq!(feed(&mut c, &tb[..len]), result);
        }
    }

    #[test]
    fn mutual_rejects_wrong_target_name_and_reflection() {
        let ours = [0x55u8; 16];
        let mut c = ChapInitiator::new(cfg(true), 9, &ours).unwrap();
        let mut buf = [0u8; 512];
        c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
        feed(
            &mut c,
            b"CHAP_A=5\0CHAP_I=1\0CHAP_C=0x11111111111111111111111111111111\0",
        )
        .unwrap();
        c.write_response(&mut TextWriter::new(&mut buf)).unwrap();
        let tr = response(Algorithm::Md5, 9, b"targetsecret0002", &ours);
        let mut tb = [0u8; 256];
        let mut tw = TextWriter::new(&mut tb);
        tw.push(b"CHAP_N", b"iqn.evil:impostor").unwrap();
        tw.push_binary(b"CHAP_R", tr.as_bytes(), BinaryEncoding::Hex)
            .unwrap();
        let len = tw.len();
        assert_eq!(feed(&mut c, &tb[..len]), Err(ChapError::TargetNameMismatch));

        // A target challenge equal to ours is refused before we answer it.
        let mut c = ChapInitiator::new(cfg(true), 9, &ours).unwrap();
        c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
        assert_eq!(
            feed(
                &mut c,
                b"CHAP_A=5\0CHAP_I=1\0CHAP_C=0b VVVVVVVVVVVVVVVVVVVVVQ==\0"
            ),
            Err(ChapError::BadChallenge)
        );
        let mut c = ChapInitiator::new(cfg(true), 9, &ours).unwrap();
        c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
        // Same bytes in base64 are still a reflection.
        assert_eq!(
            feed(
                &mut c,
                b"CHAP_A=5\0CHAP_I=1\0CHAP_C=0bVVVVVVVVVVVVVVVVVVVVVQ==\0"
            ),
            Err(ChapError::Reflection)
        );
        assert_eq!(
            c.write_response(&mut TextWriter::new(&mut buf)),
            Err(ChapError::Incomplete)
        );
        // A challenge that merely starts like ours is fine.
        let mut c = ChapInitiator::new(cfg(true), 9, &ours).unwrap();
        c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
        assert_eq!(
            feed(
                &mut c,
                b"CHAP_A=5\0CHAP_I=1\0CHAP_C=0x5555555555555555555555555555555555\0"
            ),
            Ok(())
        );
    }

    #[test]
    fn malformed_target_steps() {
        let mut buf = [0u8; 64];
        let cases: [(&[u8], ChapError); 9] = [
            (b"CHAP_A=4\0", ChapError::AlgorithmNotOffered),
            (b"CHAP_I=256\0", ChapError::BadIdentifier),
            (b"CHAP_A=5\0CHAP_I=1\0CHAP_C=0x\0", ChapError::BadChallenge),
            (b"CHAP_A=5\0CHAP_I=1\0CHAP_C=123\0", ChapError::BadChallenge),
            (b"CHAP_R=0x00\0", ChapError::UnexpectedKey),
            (b"CHAP_A=5\0CHAP_I=1\0", ChapError::Incomplete),
            (b"CHAP_A=5\0CHAP_A=5\0", ChapError::UnexpectedKey),
            (b"CHAP_X=1\0", ChapError::UnexpectedKey),
            (b"TargetAlias=t\0", ChapError::Incomplete),
        ];
        for (text, err) in cases {
            let mut c = ChapInitiator::new(cfg(false), 0, &[]).unwrap();
            c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
            assert_eq!(
                feed(&mut c, text),
                Err(err),
                "{:?}",
                core::str::from_utf8(text)
            );
        }
        // 1025 bytes of challenge is one too many (RFC 7143 §12.1.3).
        let prefix = b"CHAP_A=5\0CHAP_I=1\0CHAP_C=0x";
        let mut long = [b'0'; 27 + 2 * 1025 + 1];
        long[..prefix.len()].copy_from_slice(prefix);
        *long.last_mut().unwrap() = 0;
        let mut c = ChapInitiator::new(cfg(false), 0, &[]).unwrap();
        c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
        assert_eq!(feed(&mut c, &long), Err(ChapError::BadChallenge));
        // Exactly 1024 bytes is fine.
        let mut c = ChapInitiator::new(cfg(false), 0, &[]).unwrap();
        c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
        let mut ok = [b'0'; 27 + 2 * 1024 + 1];
        ok[..prefix.len()].copy_from_slice(prefix);
        *ok.last_mut().unwrap() = 0;
        assert_eq!(feed(&mut c, &ok), Ok(()));
        // Only MD5 offered: SHA-1 is refused.
        let md5 = [Algorithm::Md5];
        let mut c = ChapInitiator::new(
            ChapConfig {
                algorithms: &md5,
                ..cfg(false)
            },
            0,
            &[],
        )
        .unwrap();
        c.write_algorithms(&mut TextWriter::new(&mut buf)).unwrap();
        assert_eq!(
            feed(&mut c, b"CHAP_A=6\0"),
            Err(ChapError::AlgorithmNotOffered)
        );
    }

    #[test]
    fn configuration_checks() {
        let bad_secret = ChapConfig {
            initiator: Credentials {
                name: b"n",
                secret: b"",
            },
            ..cfg(false)
        };
        assert_eq!(
            ChapInitiator::new(bad_secret, 0, &[]).err(),
            Some(ChapError::BadSecretLength)
        );
        let long = [b's'; 256];
        let long_secret = ChapConfig {
            initiator: Credentials {
                name: b"n",
                secret: &long,
            },
            ..cfg(false)
        };
        assert_eq!(
            ChapInitiator::new(long_secret, 0, &[]).err(),
            Some(ChapError::BadSecretLength)
        );
        let same = ChapConfig {
            target: Some(Credentials {
                name: b"t",
                secret: b"initiatorsecret1",
            }),
            ..cfg(false)
        };
        assert_eq!(
            ChapInitiator::new(same, 0, &[1; 16]).err(),
            Some(ChapError::SameSecretBothWays)
        );
        assert_eq!(
            ChapInitiator::new(cfg(true), 0, &[1; 8]).err(),
            Some(ChapError::BadOurChallenge)
        );
        assert_eq!(
            ChapInitiator::new(
                ChapConfig {
                    algorithms: &[],
                    ..cfg(false)
                },
                0,
                &[]
            )
            .err(),
            Some(ChapError::BadAlgorithmList)
        );
    }

    #[test]
    fn ct_eq_basics() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(ct_eq(b"", b""));
    }
}
