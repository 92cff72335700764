// SPDX-License-Identifier: GPL-2.0
//! SHA3-256 (FIPS 202), needed for CHAP_A=8 (RFC 7143 §12.1.3 defers to the
//! IANA registry; LIO offers it).

use super::block::BlockBuffer;

/// Rate in bytes: 1600 - 2 * 256 bits of capacity.
const RATE: usize = 136;
const ROUNDS: usize = 24;

/// Round constants of ι, generated from the rc(t) LFSR of FIPS 202 §3.2.5 at
/// compile time so no 64-bit literal can be mistyped.
const RC: [u64; ROUNDS] = round_constants();

/// Rotation offsets of ρ indexed by lane `x + 5 * y` (FIPS 202 §3.2.2).
const RHO: [u32; 25] = rho_offsets();

const fn round_constants() -> [u64; ROUNDS] {
    let mut out = [0u64; ROUNDS];
    // The LFSR x^8 + x^6 + x^5 + x^4 + 1, stepped once per output bit.
    let mut r: u8 = 1;
    let mut ir = 0;
    while ir < ROUNDS {
        let mut rc = 0u64;
        let mut j = 0;
        while j <= 6 {
            if r & 1 != 0 {
                rc |= 1u64 << ((1u32 << j) - 1);
            }
            r = if r & 0x80 != 0 {
                (r << 1) ^ 0x71
            } else {
                r << 1
            };
            j += 1;
        }
        out[ir] = rc;
        ir += 1;
    }
    out
}

const fn rho_offsets() -> [u32; 25] {
    let mut out = [0u32; 25];
    let (mut x, mut y) = (1usize, 0usize);
    let mut t = 0u32;
    while t < 24 {
        out[x + 5 * y] = ((t + 1) * (t + 2) / 2) % 64;
        let nx = y;
        let ny = (2 * x + 3 * y) % 5;
        x = nx;
        y = ny;
        t += 1;
    }
    out
}

/// Incremental SHA3-256 state.
#[derive(Debug, Clone)]
pub struct Sha3_256 {
    lanes: [u64; 25],
    buf: BlockBuffer<RATE>,
}

impl Default for Sha3_256 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha3_256 {
    /// Digest length in bytes.
    pub const OUTPUT_LEN: usize = 32;

    /// A hasher with the all-zero sponge state.
    pub const fn new() -> Self {
        Sha3_256 {
            lanes: [0; 25],
            buf: BlockBuffer::new(),
        }
    }

    /// Feeds more message bytes.
    pub fn update(&mut self, data: &[u8]) {
        let lanes = &mut self.lanes;
        self.buf.update(data, |b| absorb(lanes, b));
    }

    /// Pads the message (SHA3 domain bits 01, then pad10*1) and squeezes the
    /// digest; 32 bytes fit in one rate block, so one squeeze suffices.
    pub fn finalize(mut self) -> [u8; 32] {
        let lanes = &mut self.lanes;
        self.buf.finish_sponge(0x06, |b| absorb(lanes, b));
        let mut out = [0u8; 32];
        // Index, not zip: see block.rs.
        for (i, dst) in out.chunks_exact_mut(8).enumerate() {
            if let Some(lane) = self.lanes.get(i) {
                dst.copy_from_slice(&lane.to_le_bytes());
            }
        }
        out
    }
}

fn absorb(lanes: &mut [u64; 25], block: &[u8; RATE]) {
    for (i, c) in block.chunks_exact(8).enumerate() {
        if let (Some(lane), Ok(b)) = (lanes.get_mut(i), <[u8; 8]>::try_from(c)) {
            *lane ^= u64::from_le_bytes(b);
        }
    }
    keccak_f(lanes);
}

/// Keccak-f[1600] (FIPS 202 §3.3): θ, ρ, π, χ, ι for 24 rounds.
fn keccak_f(a: &mut [u64; 25]) {
    for rc in RC {
        let mut c = [0u64; 5];
        for (x, cx) in c.iter_mut().enumerate() {
            *cx = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        }
        for x in 0..5 {
            let d = c[(x + 4) % 5] ^ c[(x + 1) % 5].rotate_left(1);
            for y in 0..5 {
                a[x + 5 * y] ^= d;
            }
        }
        // ρ and π together: lane (x, y) moves to (y, 2x + 3y) rotated.
        let mut b = [0u64; 25];
        for x in 0..5 {
            for y in 0..5 {
                let i = x + 5 * y;
                b[y + 5 * ((2 * x + 3 * y) % 5)] = a[i].rotate_left(RHO[i]);
            }
        }
        for y in 0..5 {
            for x in 0..5 {
                a[x + 5 * y] = b[x + 5 * y] ^ (!b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
            }
        }
        a[0] ^= rc;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::tests::unhex;

    fn sha3(data: &[u8]) -> [u8; 32] {
        let mut h = Sha3_256::new();
        h.update(data);
        h.finalize()
    }

    #[test]
    fn generated_constants_match_fips202() {
        assert_eq!(RC[0], 0x0000_0000_0000_0001);
        assert_eq!(RC[1], 0x0000_0000_0000_8082);
        assert_eq!(RC[23], 0x8000_0000_8000_8008);
        assert_eq!(RHO[1], 1);
        assert_eq!(RHO[2], 62);
        assert_eq!(RHO[24], 14);
    }

    /// FIPS 202 example values: empty, "abc", 1600 bits of 0xa3, and the
    /// two-block and million-'a' messages of the SHA-2 suite.
    #[test]
    fn fips202_vectors() {
        assert_eq!(
            sha3(b""),
            unhex(b"a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")
        );
        assert_eq!(
            sha3(b"abc"),
            unhex(b"3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
        );
        assert_eq!(
            sha3(&[0xa3; 200]),
            unhex(b"79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787")
        );
        assert_eq!(
            sha3(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            unhex(b"41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376")
        );
        let mut h = Sha3_256::new();
        for _ in 0..1000 {
            h.update(&[b'a'; 1000]);
        }
        assert_eq!(
            h.finalize(),
            unhex(b"5c8875ae474a3634ba4fd55ec85bffd661f32aca75c6d699d0cdcb6c115891c1")
        );
    }

    #[test]
    fn rate_boundaries() {
        // 135 bytes: pad byte and final bit share one byte; 136: a whole
        // extra padding block.
        assert_eq!(
            sha3(&[b'a'; 135]),
            unhex(b"8094bb53c44cfb1e67b7c30447f9a1c33696d2463ecc1d9c92538913392843c9")
        );
        assert_eq!(
            sha3(&[b'a'; 136]),
            unhex(b"3fc5559f14db8e453a0a3091edbd2bc25e11528d81c66fa570a4efdcc2695ee1")
        );
    }
}
