// SPDX-License-Identifier: GPL-2.0
//! rsiscsi protocol core: everything iSCSI (RFC 7143) an initiator needs, with no
//! I/O, no allocation and no `unsafe`.
//!
//! The caller owns sockets, clocks and memory; this crate turns bytes and time
//! into decisions and bytes to send. The kernel module compiles the same source
//! (see `rust/module/`), the userspace tools link it as a normal crate.

// The kernel build makes the module's crate root no_std; this file is then a
// module of it, where the attribute would be misplaced.
#![cfg_attr(not(MODULE), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod async_event;
pub mod chap;
pub mod crc32c;
pub mod datain;
pub mod dataout;
pub mod discovery;
pub mod hash;
pub mod keys;
pub mod login;
pub mod logout;
pub mod nop;
pub mod pdu;
pub mod policy;
pub mod recovery;
pub mod seq;
pub mod serial;
pub mod task;
pub mod text;
pub mod tmf;
