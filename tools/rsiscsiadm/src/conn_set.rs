// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm conn-set`: CONN_SET, a connection's weight and standby flag.

use crate::attrs::AttrBuf;
use crate::client::Client;
use crate::error::AdmError;
use crate::list::sessions;
use crate::mcs_args::ConnSetArgs;
use rsiscsi_abi::{Attr, Cmd};

/// The CONN_SET attributes: only the changes asked for.
pub fn encode(a: &ConnSetArgs) -> AttrBuf {
    let mut b = AttrBuf::new();
    b.put_u32(Attr::Sid as u16, a.sid)
        .put_u16(Attr::Cid as u16, a.cid);
    if let Some(w) = a.weight {
        b.put_u32(Attr::Weight as u16, w);
    }
    if let Some(s) = a.standby {
        b.put_u8(Attr::Standby as u16, u8::from(s));
    }
    b
}

/// `Session S connection C: weight W, active|standby.`; `-` for what is
/// known neither from the request nor from the kernel.
pub fn summary(sid: u32, cid: u16, weight: Option<u32>, standby: Option<bool>) -> String {
    let w = weight.map_or("-".into(), |w| w.to_string());
    let s = standby.map_or("-", |s| if s { "standby" } else { "active" });
    format!("Session {sid} connection {cid}: weight {w}, {s}.")
}

/// Applies the change, then prints the connection's settings as the kernel
/// now reports them (a change of only one leaves the other as it was).
pub fn run(c: &mut Client, a: &ConnSetArgs) -> Result<(), AdmError> {
    let what = format!("session {} connection {}", a.sid, a.cid);
    c.request(Cmd::ConnSet, &encode(a))
        .map_err(|e| e.into_adm_on(&what))?;
    // The change is made; a failed re-read only costs the other value.
    let now = sessions(c, Some(a.sid))
        .ok()
        .and_then(|all| all.into_iter().find(|s| s.sid == a.sid))
        .and_then(|s| s.conns.into_iter().find(|x| x.cid == a.cid));
    let weight = now.as_ref().and_then(|x| x.weight).or(a.weight);
    let standby = now.as_ref().and_then(|x| x.standby).or(a.standby);
    println!("{}", summary(a.sid, a.cid, weight, standby));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::Attrs;

    #[test]
    fn conn_set_attributes() {
        let b = encode(&ConnSetArgs {
            sid: 1,
            cid: 2,
            weight: None,
            standby: Some(false),
        });
        let a = Attrs::parse(b.bytes());
        assert_eq!(a.u16(Attr::Cid as u16), Some(2));
        assert_eq!(a.get(Attr::Weight as u16), None);
        assert_eq!(a.u8(Attr::Standby as u16), Some(0));
    }

    #[test]
    fn summary_line() {
        assert_eq!(
            summary(1, 2, Some(10), Some(true)),
            "Session 1 connection 2: weight 10, standby."
        );
        assert_eq!(
            summary(1, 0, None, Some(false)),
            "Session 1 connection 0: weight -, active."
        );
    }
}
