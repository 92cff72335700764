// SPDX-License-Identifier: GPL-2.0
//! Throughput of the software CRC32C over 64 MiB, in MB/s (10^6 bytes/s).
//! Run with `cargo run --release -p rsiscsi-core --example crc32c_speed`.
//! Integer arithmetic only, so the figure is printed as MB/s with one decimal.

use rsiscsi_core::crc32c::{crc32c, Crc32c};
use std::time::Instant;

const TOTAL: usize = 64 << 20;
const CHUNK: usize = 64 << 10;

fn main() {
    let mut buf = vec![0u8; CHUNK];
    let mut x = 0x9e37_79b9u32;
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    // Warm up caches and the branch predictor.
    let mut sink = crc32c(&buf);

    let start = Instant::now();
    let mut c = Crc32c::new();
    for _ in 0..TOTAL / CHUNK {
        c.update(&buf);
    }
    sink ^= c.finish();
    let ns = start.elapsed().as_nanos().max(1);
    // bytes * 1000 / ns = MB/s; keep one decimal with integer math.
    let tenths = (TOTAL as u128) * 10_000 / ns;
    println!(
        "crc32c slicing-by-8: {} MiB in {} ms = {}.{} MB/s (check {:08x})",
        TOTAL >> 20,
        ns / 1_000_000,
        tenths / 10,
        tenths % 10,
        sink
    );
}
