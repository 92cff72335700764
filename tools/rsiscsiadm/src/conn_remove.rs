// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm conn-remove`: CONN_REMOVE, one connection logged out of its
//! session and removed.

use crate::attrs::AttrBuf;
use crate::client::Client;
use crate::error::AdmError;
use crate::mcs_args::ConnRemoveArgs;
use rsiscsi_abi::{Attr, Cmd};

/// The CONN_REMOVE attributes.
pub fn encode(a: &ConnRemoveArgs) -> AttrBuf {
    let mut b = AttrBuf::new();
    b.put_u32(Attr::Sid as u16, a.sid)
        .put_u16(Attr::Cid as u16, a.cid);
    b
}

/// Removes the connection; the kernel answers once it is closed.
pub fn run(c: &mut Client, a: &ConnRemoveArgs) -> Result<(), AdmError> {
    let what = format!("session {} connection {}", a.sid, a.cid);
    c.request(Cmd::ConnRemove, &encode(a))
        .map_err(|e| match e.errno {
            libc::ENOENT | libc::EBUSY | libc::EPERM | libc::EINVAL => e.into_adm_on(&what),
            // ETIMEDOUT and the like: the connection's logout did not
            // happen, as a session logout that fails is reported.
            _ => AdmError::Logout(format!("removing {what} failed: {}", e.text())),
        })?;
    println!("Removed connection {} from session {}.", a.cid, a.sid);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::Attrs;

    #[test]
    fn conn_remove_attributes() {
        let b = encode(&ConnRemoveArgs { sid: 2, cid: 3 });
        let a = Attrs::parse(b.bytes());
        assert_eq!(a.u32(Attr::Sid as u16), Some(2));
        assert_eq!(a.u16(Attr::Cid as u16), Some(3));
        assert_eq!(a.types().count(), 2);
    }
}
