// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm conn-add`: CONN_ADD, one more connection in a session.

use crate::attrs::AttrBuf;
use crate::client::Client;
use crate::error::AdmError;
use crate::mcs_args::ConnAddArgs;
use crate::session::bracket;
use rsiscsi_abi::{Attr, Cmd};

/// The CONN_ADD attributes: Sid, then the path flat.
pub fn encode(a: &ConnAddArgs) -> AttrBuf {
    let mut b = AttrBuf::new();
    b.put_u32(Attr::Sid as u16, a.sid).append(&a.path.attrs());
    b
}

/// Logs the connection in; prints its CID.
pub fn run(c: &mut Client, a: &ConnAddArgs) -> Result<(), AdmError> {
    let replies = c
        .request(Cmd::ConnAdd, &encode(a))
        .map_err(|e| match e.errno {
            // The connection's own login failed: the same codes as login's.
            libc::EACCES => AdmError::LoginAuth(e.text()),
            libc::ENOENT | libc::EBUSY | libc::EPERM | libc::EINVAL => {
                e.into_adm_on(&format!("session {}", a.sid))
            }
            _ => AdmError::Login(e.text()),
        })?;
    let cid = replies
        .first()
        .and_then(|m| m.attrs().u16(Attr::Cid as u16))
        .ok_or_else(|| AdmError::Other("CONN_ADD reply without a CID".into()))?;
    println!(
        "Added connection {cid} to session {} (portal {}:{}).",
        a.sid,
        bracket(a.path.portal.ip()),
        a.path.portal.port()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{parse, Command};
    use crate::attrs::Attrs;

    #[test]
    fn conn_add_attributes() {
        let Command::ConnAdd(a) = parse(
            &"conn-add --sid 5 --portal 10.2.0.2:3261 --iface veth1 --weight 2 --standby \
              --nop-interval 7"
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        )
        .unwrap() else {
            panic!()
        };
        let b = encode(&a);
        let at = Attrs::parse(b.bytes());
        assert_eq!(at.u32(Attr::Sid as u16), Some(5));
        assert_eq!(at.get(Attr::PortalAddr as u16), Some(&[10u8, 2, 0, 2][..]));
        assert_eq!(at.u16(Attr::PortalPort as u16), Some(3261));
        assert_eq!(at.str(Attr::Iface as u16).as_deref(), Some("veth1"));
        assert_eq!(at.u32(Attr::Weight as u16), Some(2));
        assert_eq!(at.u8(Attr::Standby as u16), Some(1));
        assert_eq!(at.u32(Attr::NopIntervalMs as u16), Some(7_000));
        for t in at.types() {
            let t = Attr::from_u16(t).unwrap();
            assert!(rsiscsi_abi::CONN_ADD_POLICY.contains(&t), "{t:?}");
        }
    }
}
