// SPDX-License-Identifier: GPL-2.0
//! Message digests for CHAP (RFC 7143 §12.1.3, RFC 1994): MD5 (CHAP_A=5),
//! SHA-1 (6), SHA-256 (7) and SHA3-256 (8).
//!
//! The kernel has these in its crypto API, but the core must also run in
//! userspace and in tests with no dependency, and CHAP hashes a few hundred
//! bytes once per login: a small portable implementation costs nothing that
//! matters. None of these is used for anything but CHAP; MD5 and SHA-1 are
//! here only because targets still negotiate them.
//!
//! Every hasher is incremental (`update` any number of times, then
//! `finalize`), allocation-free and panic-free for any input length.

mod block;
pub mod md5;
pub mod sha1;
pub mod sha256;
pub mod sha3_256;

pub use md5::Md5;
pub use sha1::Sha1;
pub use sha256::Sha256;
pub use sha3_256::Sha3_256;

/// The longest digest any [`Algorithm`] produces (SHA-256, SHA3-256).
pub const MAX_DIGEST_LEN: usize = 32;

/// A digest algorithm CHAP may negotiate (RFC 7143 §12.1.3, CHAP_A values
/// from the IANA "PPP Authentication Algorithms" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5 (RFC 1321), CHAP_A=5.
    Md5,
    /// SHA-1 (FIPS 180-4), CHAP_A=6.
    Sha1,
    /// SHA-256 (FIPS 180-4), CHAP_A=7.
    Sha256,
    /// SHA3-256 (FIPS 202), CHAP_A=8.
    Sha3_256,
}

impl Algorithm {
    /// Length in bytes of this algorithm's digest.
    pub const fn digest_len(self) -> usize {
        match self {
            Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 | Algorithm::Sha3_256 => 32,
        }
    }
}

/// A finished digest of any [`Algorithm`], stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    bytes: [u8; MAX_DIGEST_LEN],
    len: usize,
}

impl Digest {
    fn from_slice(src: &[u8]) -> Self {
        let mut bytes = [0u8; MAX_DIGEST_LEN];
        let len = src.len().min(MAX_DIGEST_LEN);
        if let (Some(dst), Some(src)) = (bytes.get_mut(..len), src.get(..len)) {
            dst.copy_from_slice(src);
        }
        Digest { bytes, len }
    }

    /// The digest bytes (16, 20 or 32 of them).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

/// An incremental hasher for an algorithm chosen at run time, as CHAP_A
/// negotiation requires.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "lives on the stack for one login step; boxing needs alloc"
)]
pub enum Hasher {
    /// MD5 state.
    Md5(Md5),
    /// SHA-1 state.
    Sha1(Sha1),
    /// SHA-256 state.
    Sha256(Sha256),
    /// SHA3-256 state.
    Sha3_256(Sha3_256),
}

impl Hasher {
    /// A fresh hasher for `alg`.
    pub fn new(alg: Algorithm) -> Self {
        match alg {
            Algorithm::Md5 => Hasher::Md5(Md5::new()),
            Algorithm::Sha1 => Hasher::Sha1(Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha3_256 => Hasher::Sha3_256(Sha3_256::new()),
        }
    }

    /// The algorithm this hasher computes.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Hasher::Md5(_) => Algorithm::Md5,
            Hasher::Sha1(_) => Algorithm::Sha1,
            Hasher::Sha256(_) => Algorithm::Sha256,
            Hasher::Sha3_256(_) => Algorithm::Sha3_256,
        }
    }

    /// Feeds more message bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha3_256(h) => h.update(data),
        }
    }

    /// Finishes the message and returns its digest.
    pub fn finalize(self) -> Digest {
        match self {
            Hasher::Md5(h) => Digest::from_slice(&h.finalize()),
            Hasher::Sha1(h) => Digest::from_slice(&h.finalize()),
            Hasher::Sha256(h) => Digest::from_slice(&h.finalize()),
            Hasher::Sha3_256(h) => Digest::from_slice(&h.finalize()),
        }
    }
}

/// One-shot digest of `data` with `alg`.
pub fn digest(alg: Algorithm, data: &[u8]) -> Digest {
    let mut h = Hasher::new(alg);
    h.update(data);
    h.finalize()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Decodes a lowercase hex test vector.
    pub(crate) fn unhex<const N: usize>(s: &[u8]) -> [u8; N] {
        assert_eq!(s.len(), 2 * N);
        let mut out = [0u8; N];
        for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
            let v = |c: u8| match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => panic!("bad hex"),
            };
            *o = (v(pair[0]) << 4) | v(pair[1]);
        }
        out
    }

    #[test]
    fn digest_lengths_match_algorithms() {
        for alg in [
            Algorithm::Md5,
            Algorithm::Sha1,
            Algorithm::Sha256,
            Algorithm::Sha3_256,
        ] {
            assert_eq!(digest(alg, b"abc").as_bytes().len(), alg.digest_len());
        }
    }

    #[test]
    fn dispatch_matches_direct_hashers() {
        let mut direct = Sha1::new();
        direct.update(b"abc");
        assert_eq!(
            digest(Algorithm::Sha1, b"abc").as_bytes(),
            &direct.finalize()[..]
        );
        assert_eq!(
            digest(Algorithm::Md5, b"").as_bytes(),
            &[
                0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8,
                0x42, 0x7e
            ]
        );
    }
}
