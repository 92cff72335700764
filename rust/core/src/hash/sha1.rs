// SPDX-License-Identifier: GPL-2.0
//! SHA-1 (FIPS 180-4 §6.1), needed for CHAP_A=6 (RFC 7143 §12.1.3).

use super::block::BlockBuffer;

/// Incremental SHA-1 state.
#[derive(Debug, Clone)]
pub struct Sha1 {
    state: [u32; 5],
    buf: BlockBuffer<64>,
}

impl Default for Sha1 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha1 {
    /// Digest length in bytes.
    pub const OUTPUT_LEN: usize = 20;

    /// A hasher with the FIPS 180-4 §5.3.1 initial hash value.
    pub const fn new() -> Self {
        Sha1 {
            state: [
                0x6745_2301,
                0xefcd_ab89,
                0x98ba_dcfe,
                0x1032_5476,
                0xc3d2_e1f0,
            ],
            buf: BlockBuffer::new(),
        }
    }

    /// Feeds more message bytes.
    pub fn update(&mut self, data: &[u8]) {
        let state = &mut self.state;
        self.buf.update(data, |b| compress(state, b));
    }

    /// Pads the message and returns its digest.
    pub fn finalize(mut self) -> [u8; 20] {
        let bits = self.buf.total().wrapping_mul(8);
        let state = &mut self.state;
        self.buf
            .finish_md(bits.to_be_bytes(), |b| compress(state, b));
        let mut out = [0u8; 20];
        // Index, not zip: see block.rs.
        for (i, dst) in out.chunks_exact_mut(4).enumerate() {
            if let Some(word) = self.state.get(i) {
                dst.copy_from_slice(&word.to_be_bytes());
            }
        }
        out
    }
}

fn compress(state: &mut [u32; 5], block: &[u8; 64]) {
    // A 16-word ring instead of the 80-word schedule keeps the frame small.
    let mut w = [0u32; 16];
    for (i, c) in block.chunks_exact(4).enumerate() {
        if let (Some(w), &[b0, b1, b2, b3]) = (w.get_mut(i), c) {
            *w = u32::from_be_bytes([b0, b1, b2, b3]);
        }
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for t in 0..80 {
        let wt = if t < 16 {
            w[t]
        } else {
            let x =
                (w[(t + 13) % 16] ^ w[(t + 8) % 16] ^ w[(t + 2) % 16] ^ w[t % 16]).rotate_left(1);
            w[t % 16] = x;
            x
        };
        let (f, k) = match t / 20 {
            0 => ((b & c) | (!b & d), 0x5a82_7999),
            1 => (b ^ c ^ d, 0x6ed9_eba1),
            2 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
            _ => (b ^ c ^ d, 0xca62_c1d6),
        };
        let tmp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(wt);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = tmp;
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha1(data: &[u8]) -> [u8; 20] {
        let mut h = Sha1::new();
        h.update(data);
        h.finalize()
    }

    /// FIPS 180 examples: "abc", the two-block message and a million 'a'.
    #[test]
    fn fips180_vectors() {
        assert_eq!(
            sha1(b"abc"),
            [
                0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50,
                0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d
            ]
        );
        assert_eq!(
            sha1(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            [
                0x84, 0x98, 0x3e, 0x44, 0x1c, 0x3b, 0xd2, 0x6e, 0xba, 0xae, 0x4a, 0xa1, 0xf9, 0x51,
                0x29, 0xe5, 0xe5, 0x46, 0x70, 0xf1
            ]
        );
        let mut h = Sha1::new();
        let chunk = [b'a'; 1000];
        for _ in 0..1000 {
            h.update(&chunk);
        }
        assert_eq!(
            h.finalize(),
            [
                0x34, 0xaa, 0x97, 0x3c, 0xd4, 0xc4, 0xda, 0xa4, 0xf6, 0x1e, 0xeb, 0x2b, 0xdb, 0xad,
                0x27, 0x31, 0x65, 0x34, 0x01, 0x6f
            ]
        );
    }

    #[test]
    fn empty_message() {
        assert_eq!(
            sha1(b""),
            [
                0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55, 0xbf, 0xef, 0x95, 0x60,
                0x18, 0x90, 0xaf, 0xd8, 0x07, 0x09
            ]
        );
    }
}
