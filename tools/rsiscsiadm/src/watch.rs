// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm watch`: prints events from the multicast group until killed.

use crate::attrs::Attrs;
use crate::client::Client;
use crate::error::AdmError;
use crate::session::policy_name;
use rsiscsi_abi::{Attr, EventKind};
use std::io::Write;

/// One event as a line: `KIND sid=N [cid=N] target=T [reason=R]
/// [policy=NAME] [failback=0|1] [weight=N] [standby=0|1]`; the last four are
/// what policy-changed and conn-changed carry.
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
    if let Some(p) = a.u8(Attr::Policy as u16) {
        l.push_str(&format!(" policy={}", policy_name(p)));
    }
    if let Some(f) = a.u8(Attr::Failback as u16) {
        l.push_str(&format!(" failback={f}"));
    }
    if let Some(w) = a.u32(Attr::Weight as u16) {
        l.push_str(&format!(" weight={w}"));
    }
    if let Some(s) = a.u8(Attr::Standby as u16) {
        l.push_str(&format!(" standby={s}"));
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
    use rsiscsi_abi::PolicyKind;

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

    #[test]
    fn policy_and_conn_changes() {
        let mut b = AttrBuf::new();
        b.put_u8(Attr::Event as u16, EventKind::PolicyChanged as u8)
            .put_u32(Attr::Sid as u16, 2)
            .put_str(Attr::TargetName as u16, "iqn.t")
            .put_u8(Attr::Policy as u16, PolicyKind::WeightedPaths as u8);
        assert_eq!(
            format(&Attrs::parse(b.bytes())),
            "policy-changed sid=2 target=iqn.t policy=weighted-paths"
        );
        let mut b = AttrBuf::new();
        b.put_u8(Attr::Event as u16, EventKind::ConnChanged as u8)
            .put_u32(Attr::Sid as u16, 2)
            .put_u16(Attr::Cid as u16, 1)
            .put_str(Attr::TargetName as u16, "iqn.t")
            .put_u32(Attr::Weight as u16, 3)
            .put_u8(Attr::Standby as u16, 1);
        assert_eq!(
            format(&Attrs::parse(b.bytes())),
            "conn-changed sid=2 cid=1 target=iqn.t weight=3 standby=1"
        );
        let mut b = AttrBuf::new();
        b.put_u8(Attr::Event as u16, 200)
            .put_u32(Attr::Sid as u16, 2);
        assert_eq!(format(&Attrs::parse(b.bytes())), "unknown sid=2");
    }
}
