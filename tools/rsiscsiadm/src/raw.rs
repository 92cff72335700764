// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm debug-raw`: sends a hand-made request, attributes exactly as
//! given, and prints the kernel's verdict (`errno=N message`), so tests can
//! check the kernel's own validation.

use crate::args::RawArgs;
use crate::attrs::AttrBuf;
use crate::client::Client;
use crate::error::AdmError;

/// Sends and prints `errno=0 replies=N` or `errno=E message`.
pub fn run(c: &mut Client, a: &RawArgs) -> Result<(), AdmError> {
    let mut b = AttrBuf::new();
    for (t, d) in &a.attrs {
        b.put(*t, d);
    }
    match c.raw(a.cmd, a.dump, &b) {
        Ok(r) => println!("errno=0 replies={}", r.len()),
        Err(e) => println!("errno={} {}", e.errno, e.text()),
    }
    Ok(())
}
