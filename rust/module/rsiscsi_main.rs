// SPDX-License-Identifier: GPL-2.0

//! rsiscsi: an iSCSI initiator with multiple connections per session (MC/S).
//!
//! This crate root is the kernel module. The protocol itself lives in the
//! sans-IO core under `rust/core`, compiled in here from the very same source
//! files the host tests exercise.

use kernel::prelude::*;

#[path = "../core/src/lib.rs"]
pub mod proto;

module! {
    type: Rsiscsi,
    name: "rsiscsi",
    authors: ["rsiscsi developers"],
    description: "iSCSI initiator with multiple connections per session",
    license: "GPL",
}

struct Rsiscsi;

impl kernel::Module for Rsiscsi {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // Digests guard every PDU once data flows: refuse to load if the core's
        // CRC32C, compiled by the kernel's rustc with the kernel's flags,
        // disagrees with RFC 3720's check value.
        let check = proto::crc32c::crc32c(b"123456789");
        if check != 0xe306_9283 {
            pr_err!("rsiscsi: CRC32C self-test failed: {check:#010x}\n");
            return Err(EINVAL);
        }
        pr_info!("rsiscsi: loaded\n");
        Ok(Rsiscsi)
    }
}

impl Drop for Rsiscsi {
    fn drop(&mut self) {
        pr_info!("rsiscsi: unloaded\n");
    }
}
