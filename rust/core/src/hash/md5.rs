// SPDX-License-Identifier: GPL-2.0
//! MD5 (RFC 1321), needed for CHAP_A=5, the one algorithm every iSCSI target
//! supports (RFC 7143 §12.1.3).

use super::block::BlockBuffer;

/// `floor(abs(sin(i + 1)) * 2^32)` (RFC 1321 §3.4), written out because the
/// core uses no floating point and `sin` is not a const fn anyway.
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// Per-round left rotations, four per round (RFC 1321 §3.4).
const SHIFTS: [[u32; 4]; 4] = [
    [7, 12, 17, 22],
    [5, 9, 14, 20],
    [4, 11, 16, 23],
    [6, 10, 15, 21],
];

/// Incremental MD5 state.
#[derive(Debug, Clone)]
pub struct Md5 {
    state: [u32; 4],
    buf: BlockBuffer<64>,
}

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5 {
    /// Digest length in bytes.
    pub const OUTPUT_LEN: usize = 16;

    /// A hasher with the RFC 1321 §3.3 initial state.
    pub const fn new() -> Self {
        Md5 {
            state: [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476],
            buf: BlockBuffer::new(),
        }
    }

    /// Feeds more message bytes.
    pub fn update(&mut self, data: &[u8]) {
        let state = &mut self.state;
        self.buf.update(data, |b| compress(state, b));
    }

    /// Pads the message and returns its digest.
    pub fn finalize(mut self) -> [u8; 16] {
        let bits = self.buf.total().wrapping_mul(8);
        let state = &mut self.state;
        self.buf
            .finish_md(bits.to_le_bytes(), |b| compress(state, b));
        let mut out = [0u8; 16];
        // Index, not zip: see block.rs.
        for (i, dst) in out.chunks_exact_mut(4).enumerate() {
            if let Some(word) = self.state.get(i) {
                dst.copy_from_slice(&word.to_le_bytes());
            }
        }
        out
    }
}

fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let mut m = [0u32; 16];
    for (i, c) in block.chunks_exact(4).enumerate() {
        if let (Some(w), &[b0, b1, b2, b3]) = (m.get_mut(i), c) {
            *w = u32::from_le_bytes([b0, b1, b2, b3]);
        }
    }
    let [mut a, mut b, mut c, mut d] = *state;
    for (i, k) in K.iter().enumerate() {
        let round = i / 16;
        let (f, g) = match round {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let s = SHIFTS[round][i % 4];
        let sum = a.wrapping_add(f).wrapping_add(*k).wrapping_add(m[g]);
        a = d;
        d = c;
        c = b;
        b = b.wrapping_add(sum.rotate_left(s));
    }
    state[0] = state[0].wrapping_add(a);
    state[1] = state[1].wrapping_add(b);
    state[2] = state[2].wrapping_add(c);
    state[3] = state[3].wrapping_add(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: [u8; 16]) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (o, b) in out.chunks_exact_mut(2).zip(d) {
            o[0] = b"0123456789abcdef"[(b >> 4) as usize];
            o[1] = b"0123456789abcdef"[(b & 15) as usize];
        }
        out
    }

    fn md5(data: &[u8]) -> [u8; 32] {
        let mut h = Md5::new();
        h.update(data);
        hex(h.finalize())
    }

    /// The test suite of RFC 1321 §A.5.
    #[test]
    fn rfc1321_suite() {
        let cases: [(&[u8], &[u8; 32]); 7] = [
            (b"", b"d41d8cd98f00b204e9800998ecf8427e"),
            (b"a", b"0cc175b9c0f1b6a831c399e269772661"),
            (b"abc", b"900150983cd24fb0d6963f7d28e17f72"),
            (b"message digest", b"f96b697d7cb7938d525a2f31aaf161d0"),
            (
                b"abcdefghijklmnopqrstuvwxyz",
                b"c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                b"d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                b"57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (msg, want) in cases {
            assert_eq!(&md5(msg), want);
        }
    }

    #[test]
    fn split_updates_match_one_shot() {
        let msg =
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890";
        for cut in 0..msg.len() {
            let mut h = Md5::new();
            h.update(&msg[..cut]);
            h.update(&msg[cut..]);
            assert_eq!(&hex(h.finalize()), b"57edf4a22be3c955ac49da2e2107b67a");
        }
    }
}
