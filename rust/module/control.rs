// SPDX-License-Identifier: GPL-2.0

//! The control plane: the generic netlink family userspace drives
//! ([`netlink`]), the events it multicasts ([`events`]), the login and
//! logout exchanges ([`login`]), connections added and removed at runtime
//! ([`mcs`]) and session recovery ([`recover`]). It sits above the session
//! layer and calls down into it; it may sleep, and no I/O path waits on it.
#![forbid(unsafe_code)]

pub(crate) mod events;
pub(crate) mod failover;
pub(crate) mod login;
pub(crate) mod mcs;
pub(crate) mod netlink;
pub(crate) mod recover;
