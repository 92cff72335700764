// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over what Rust-for-Linux 7.3 lacks. All of the module's
//! `unsafe` code lives below this module; the objects above it (sessions,
//! connections, netlink handlers) are written in safe Rust only.

mod ffi;
pub(crate) mod genl;
pub(crate) mod net;
pub(crate) mod netns;
pub(crate) mod random;
pub(crate) mod workqueue;
// Data plane (SCSI host and commands, scatterlist pages).
pub(crate) mod net_pages;
pub(crate) mod scsi;
pub(crate) mod sg;
