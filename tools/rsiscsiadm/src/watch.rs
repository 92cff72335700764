// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm watch`: prints events from the multicast group until killed.

use crate::attrs::Attrs;
use crate::client::Client;
use crate::error::AdmError;
use rsiscsi_abi::{Attr, EventKind};
use std::io::Write;

/// One event as a line: `KIND sid=N [cid=N] target=T [reason=R]`.
pub fn format(a: &Attrs<'_>) -> String {
    let kind = a
        .u8(Attr::Event as u16)
        .and_then(EventKind::from_u8)
        .map_or("unknown", |k| k.name());
    let mut l = format!("{kind} sid={}", a.u32(Attr::Sid as u16).unwrap_or(0));
    if let Some(c) = a.u16(Attr::Cid as u16) {
        l.push_str(&format!(" cid={c}"));
    }
    if let Some(t) = a.str(Attr::TargetName as u16) {
        l.push_str(&format!(" target={t}"));
    }
    if let Some(r) = a.str(Attr::Reason as u16) {
        l.push_str(&format!(" reason={r}"));
    }
    l
}

/// Subscribes and prints forever.
pub fn run(c: &mut Client) -> Result<(), AdmError> {
    c.subscribe()?;
    let out = std::io::stdout();
    loop {
        for m in c.next_events()? {
            let mut o = out.lock();
            let _ = writeln!(o, "{}", format(&m.attrs()));
            let _ = o.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::AttrBuf;

    #[test]
    fn event_line() {
        let mut b = AttrBuf::new();
        b.put_u8(Attr::Event as u16, EventKind::ConnDown as u8)
            .put_u32(Attr::Sid as u16, 4)
            .put_u16(Attr::Cid as u16, 0)
            .put_str(Attr::TargetName as u16, "iqn.t")
            .put_str(Attr::Reason as u16, "logout");
        assert_eq!(
            format(&Attrs::parse(b.bytes())),
            "conn-down sid=4 cid=0 target=iqn.t reason=logout"
        );
    }
}
