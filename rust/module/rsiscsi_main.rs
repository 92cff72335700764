// SPDX-License-Identifier: GPL-2.0

//! rsiscsi: an iSCSI initiator with multiple connections per session (MC/S).
//!
//! This crate root is the kernel module. The protocol itself lives in the
//! sans-IO core under `rust/core`, compiled in here from the very same source
//! files the host tests exercise.

use kernel::prelude::*;

#[path = "../core/src/lib.rs"]
pub mod proto;

#[path = "../abi/src/lib.rs"]
pub mod abi;

// Layers, top-down: control plane, session, connection, kernel
// abstractions. Each calls only the layers below it; a connection reports
// upward through `session::port` alone.
mod abs;
mod conn;
mod control;
mod session;
mod stats;

module! {
    type: Rsiscsi,
    name: "rsiscsi",
    authors: ["rsiscsi developers"],
    description: "iSCSI initiator with multiple connections per session",
    license: "GPL",
    params: {
        userns_sessions: bool {
            default: false,
            description: "Let CAP_NET_ADMIN over a user namespace run sessions in the network namespaces it owns (containers); off: only the initial user namespace's admin",
        },
    },
}

struct Rsiscsi {
    // Dropped after `drop` logged every session out: unregistering runs the
    // exit hook for every namespace, which then finds nothing left.
    _pernet: abs::netns::PernetHook<control::netlink::Control>,
    ctl: kernel::sync::Arc<control::netlink::Control>,
}

impl kernel::Module for Rsiscsi {
    fn init(module: &'static ThisModule) -> Result<Self> {
        // Digests guard every PDU once data flows: refuse to load if the core's
        // CRC32C, compiled by the kernel's rustc with the kernel's flags,
        // disagrees with RFC 3720's check value.
        let check = proto::crc32c::crc32c(b"123456789");
        if check != 0xe306_9283 {
            pr_err!("rsiscsi: CRC32C self-test failed: {check:#010x}\n");
            return Err(EINVAL);
        }
        let userns = module_parameters::userns_sessions.value();
        let ctl = control::netlink::register(module, userns)?;
        let pernet = match abs::netns::PernetHook::register(ctl.clone()) {
            Ok(h) => h,
            Err(e) => {
                control::netlink::shutdown(&ctl);
                return Err(e);
            }
        };
        pr_info!("rsiscsi: loaded\n");
        Ok(Rsiscsi {
            _pernet: pernet,
            ctl,
        })
    }
}

impl Drop for Rsiscsi {
    fn drop(&mut self) {
        // No new requests, then every session logs out before the queue and
        // the family go away with `ctl`.
        control::netlink::shutdown(&self.ctl);
        pr_info!("rsiscsi: unloaded\n");
    }
}
