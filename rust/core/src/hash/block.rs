// SPDX-License-Identifier: GPL-2.0
//! Block buffering shared by the hashers: callers feed arbitrary slices,
//! compression functions want whole blocks.
//!
//! The hashers (and the binary encoders in `text`) walk words with
//! `chunks_exact(..).enumerate()` and `get`, never by zipping a chunk
//! iterator: the kernel build keeps the `Zip` constructor and the chunk
//! iterators' `TrustedRandomAccess::size` out of line, and objtool reports
//! each of them as falling through to the next function.

/// Collects input into `B`-byte blocks and counts the total length.
#[derive(Debug, Clone)]
pub(crate) struct BlockBuffer<const B: usize> {
    buf: [u8; B],
    len: usize,
    total: u64,
}

impl<const B: usize> BlockBuffer<B> {
    pub(crate) const fn new() -> Self {
        BlockBuffer {
            buf: [0; B],
            len: 0,
            total: 0,
        }
    }

    /// Total bytes fed so far (wrapping, as MD and SHA lengths are mod 2^64).
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Feeds `data`, calling `compress` for every completed block.
    pub(crate) fn update(&mut self, mut data: &[u8], mut compress: impl FnMut(&[u8; B])) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.len > 0 {
            let take = (B - self.len).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(dst) = self.buf.get_mut(self.len..self.len + take) {
                dst.copy_from_slice(head);
            }
            self.len += take;
            data = rest;
            if self.len < B {
                return;
            }
            compress(&self.buf);
            self.len = 0;
        }
        let mut blocks = data.chunks_exact(B);
        for block in &mut blocks {
            if let Ok(block) = <&[u8; B]>::try_from(block) {
                compress(block);
            }
        }
        let rest = blocks.remainder();
        if let Some(dst) = self.buf.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        self.len = rest.len();
    }

    /// Merkle–Damgård finish (MD5, SHA-1, SHA-256): a 0x80 byte, zeros, and
    /// the 8-byte message bit length `len_field` in the last block.
    pub(crate) fn finish_md(&mut self, len_field: [u8; 8], mut compress: impl FnMut(&[u8; B])) {
        let mut pos = self.len;
        if let Some(b) = self.buf.get_mut(pos) {
            *b = 0x80;
        }
        pos += 1;
        if pos > B - 8 {
            if let Some(rest) = self.buf.get_mut(pos..) {
                rest.fill(0);
            }
            compress(&self.buf);
            pos = 0;
        }
        if let Some(rest) = self.buf.get_mut(pos..B - 8) {
            rest.fill(0);
        }
        if let Some(tail) = self.buf.get_mut(B - 8..) {
            tail.copy_from_slice(&len_field);
        }
        compress(&self.buf);
        self.len = 0;
    }

    /// Sponge finish (SHA3): the domain/pad byte `first` after the data,
    /// zeros, and 0x80 OR-ed into the last byte of the block.
    pub(crate) fn finish_sponge(&mut self, first: u8, mut absorb: impl FnMut(&[u8; B])) {
        if let Some(rest) = self.buf.get_mut(self.len..) {
            rest.fill(0);
        }
        if let Some(b) = self.buf.get_mut(self.len) {
            *b = first;
        }
        if let Some(b) = self.buf.last_mut() {
            *b |= 0x80;
        }
        absorb(&self.buf);
        self.len = 0;
    }
}
