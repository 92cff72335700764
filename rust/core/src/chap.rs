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
//! code feeds it the pairs of each response and asks it for the next text.
//! Secrets are borrowed, never copied.

use crate::hash::{Algorithm, Digest, Hasher, MAX_DIGEST_LEN};
use crate::keys::KeyId;
use crate::text::{self, BinaryEncoding, Pair, TextError, TextWriter, MAX_BINARY_LEN};

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

/// The initiator's side of one CHAP exchange.
#[derive(Debug, Clone)]
pub struct ChapInitiator<'a> {
    cfg: ChapConfig<'a>,
    state: ChapState,
    alg: Option<Algorithm>,
    target_id: Option<u8>,
    target_challenge: [u8; MAX_BINARY_LEN],
    target_challenge_len: usize,
    our_id: u8,
    our_challenge: [u8; MAX_BINARY_LEN],
    our_challenge_len: usize,
    target_name_ok: Option<bool>,
    target_response: [u8; MAX_DIGEST_LEN],
    target_response_len: usize,
}

impl<'a> ChapInitiator<'a> {
    /// Checks the configuration. `our_id` and `our_challenge` must come from
    /// a good random source and are used only for mutual CHAP.
    pub fn new(cfg: ChapConfig<'a>, our_id: u8, our_challenge: &[u8]) -> Result<Self, ChapError> {
        check_creds(&cfg.initiator)?;
        if cfg.algorithms.is_empty() || cfg.algorithms.len() > 4 {
            return Err(ChapError::BadAlgorithmList);
        }
        let mut ours = [0u8; MAX_BINARY_LEN];
        let mut our_len = 0;
        if let Some(t) = &cfg.target {
            check_creds(t)?;
            if ct_eq(t.secret, cfg.initiator.secret) {
                return Err(ChapError::SameSecretBothWays);
            }
            let n = our_challenge.len();
            let dst = ours
                .get_mut(..n)
                .filter(|_| n >= MIN_OUR_CHALLENGE_LEN)
                .ok_or(ChapError::BadOurChallenge)?;
            dst.copy_from_slice(our_challenge);
            our_len = n;
        }
        Ok(ChapInitiator {
            cfg,
            state: ChapState::SendAlgorithms,
            alg: None,
            target_id: None,
            target_challenge: [0; MAX_BINARY_LEN],
            target_challenge_len: 0,
            our_id,
            our_challenge: ours,
            our_challenge_len: our_len,
            target_name_ok: None,
            target_response: [0; MAX_DIGEST_LEN],
            target_response_len: 0,
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

    /// Takes one CHAP key from a target response. Keys other than CHAP_*
    /// are the caller's business and must not be passed here.
    pub fn handle(&mut self, pair: Pair<'_>) -> Result<(), ChapError> {
        match (self.state, pair.key) {
            (ChapState::AwaitChallenge, b"CHAP_A") => {
                let alg = text::parse_number(pair.value)
                    .ok()
                    .and_then(algorithm_from_chap_a)
                    .filter(|a| self.cfg.algorithms.contains(a))
                    .ok_or(ChapError::AlgorithmNotOffered)?;
                self.alg = Some(alg);
            }
            (ChapState::AwaitChallenge, b"CHAP_I") => {
                let id = text::parse_number(pair.value)
                    .ok()
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or(ChapError::BadIdentifier)?;
                self.target_id = Some(id);
            }
            (ChapState::AwaitChallenge, b"CHAP_C") => {
                let n = text::decode_binary(pair.value, &mut self.target_challenge)
                    .map_err(|_| ChapError::BadChallenge)?;
                if n == 0 {
                    return Err(ChapError::BadChallenge);
                }
                self.target_challenge_len = n;
            }
            (ChapState::AwaitTargetResponse, b"CHAP_N") => {
                let want = self.cfg.target.map(|t| t.name).unwrap_or(&[]);
                self.target_name_ok = Some(ct_eq(pair.value, want));
            }
            (ChapState::AwaitTargetResponse, b"CHAP_R") => {
                let mut buf = [0u8; MAX_DIGEST_LEN];
                let n = text::decode_binary(pair.value, &mut buf)
                    .map_err(|_| ChapError::BadResponse)?;
                let want = self.alg.map(Algorithm::digest_len).unwrap_or(0);
                if n != want {
                    return Err(ChapError::BadResponse);
                }
                self.target_response = buf;
                self.target_response_len = n;
            }
            _ => return Err(ChapError::UnexpectedKey),
        }
        Ok(())
    }

    /// Called when a target PDU has been fully fed: checks the step it
    /// completed. In [`ChapState::AwaitChallenge`] moves on once CHAP_A,
    /// CHAP_I and CHAP_C are all in; in [`ChapState::AwaitTargetResponse`]
    /// verifies the target's proof.
    pub fn end_of_response(&mut self) -> Result<(), ChapError> {
        match self.state {
            ChapState::AwaitChallenge => {
                if self.alg.is_none() || self.target_id.is_none() || self.target_challenge_len == 0
                {
                    return Err(ChapError::Incomplete);
                }
                self.state = ChapState::SendResponse;
                Ok(())
            }
            ChapState::AwaitTargetResponse => self.verify_target(),
            _ => Ok(()),
        }
    }

    /// Writes `CHAP_N`, `CHAP_R` and, for mutual CHAP, our `CHAP_I` and
    /// `CHAP_C` (step 3).
    pub fn write_response(&mut self, w: &mut TextWriter<'_>) -> Result<(), ChapError> {
        let (Some(alg), Some(id), ChapState::SendResponse) = (self.alg, self.target_id, self.state)
        else {
            return Err(ChapError::Incomplete);
        };
        let their_c = self
            .target_challenge
            .get(..self.target_challenge_len)
            .unwrap_or(&[]);
        let ours = self
            .our_challenge
            .get(..self.our_challenge_len)
            .unwrap_or(&[]);
        if self.is_mutual() && ct_eq(their_c, ours) {
            return Err(ChapError::Reflection);
        }
        let r = response(alg, id, self.cfg.initiator.secret, their_c);
        w.push(KeyId::CHAP_N.name(), self.cfg.initiator.name)?;
        w.push_binary(KeyId::CHAP_R.name(), r.as_bytes(), self.cfg.encoding)?;
        if self.is_mutual() {
            w.push_number(KeyId::CHAP_I.name(), u64::from(self.our_id))?;
            w.push_binary(KeyId::CHAP_C.name(), ours, self.cfg.encoding)?;
            self.state = ChapState::AwaitTargetResponse;
        } else {
            self.state = ChapState::Done;
        }
        Ok(())
    }

    fn verify_target(&mut self) -> Result<(), ChapError> {
        let (Some(t), Some(alg)) = (self.cfg.target, self.alg) else {
            return Err(ChapError::UnexpectedKey);
        };
        let name_ok = self.target_name_ok.ok_or(ChapError::Incomplete)?;
        if self.target_response_len == 0 {
            return Err(ChapError::Incomplete);
        }
        let ours = self
            .our_challenge
            .get(..self.our_challenge_len)
            .unwrap_or(&[]);
        let want = response(alg, self.our_id, t.secret, ours);
        let got = self
            .target_response
            .get(..self.target_response_len)
            .unwrap_or(&[]);
        let proof_ok = ct_eq(got, want.as_bytes());
        if !name_ok {
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
    use crate::text::Pairs;

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
        for p in Pairs::new(text) {
            c.handle(p.unwrap())?;
        }
        c.end_of_response()
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
        feed(
            &mut c,
            b"CHAP_A=5\0CHAP_I=1\0CHAP_C=0x55555555555555555555555555555555\0",
        )
        .unwrap();
        assert_eq!(
            c.write_response(&mut TextWriter::new(&mut buf)),
            Err(ChapError::Reflection)
        );
    }

    #[test]
    fn malformed_target_steps() {
        let mut buf = [0u8; 64];
        let cases: [(&[u8], ChapError); 6] = [
            (b"CHAP_A=4\0", ChapError::AlgorithmNotOffered),
            (b"CHAP_I=256\0", ChapError::BadIdentifier),
            (b"CHAP_C=0x\0", ChapError::BadChallenge),
            (b"CHAP_C=123\0", ChapError::BadChallenge),
            (b"CHAP_R=0x00\0", ChapError::UnexpectedKey),
            (b"CHAP_A=5\0CHAP_I=1\0", ChapError::Incomplete),
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
