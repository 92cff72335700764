// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm list`: SESSION_GET.

use crate::attrs::AttrBuf;
use crate::client::Client;
use crate::error::AdmError;
use crate::session::SessionInfo;
use rsiscsi_abi::{Attr, Cmd};

/// Every session of this namespace (or only `sid`).
pub fn sessions(c: &mut Client, sid: Option<u32>) -> Result<Vec<SessionInfo>, AdmError> {
    let mut b = AttrBuf::new();
    if let Some(s) = sid {
        b.put_u32(Attr::Sid as u16, s);
    }
    let msgs = c.dump(Cmd::SessionGet, &b).map_err(|e| e.into_adm())?;
    Ok(msgs
        .iter()
        .map(|m| SessionInfo::from_attrs(&m.attrs()))
        .collect())
}

/// Prints the sessions; none is iscsiadm's exit 21.
pub fn run(c: &mut Client, level: u8, sid: Option<u32>) -> Result<(), AdmError> {
    let all = sessions(c, sid)?;
    if all.is_empty() {
        return Err(AdmError::NoObjects("No active sessions.".into()));
    }
    for s in &all {
        if level == 0 {
            println!("{}", s.line());
        } else {
            print!("{}", s.detail());
        }
    }
    Ok(())
}
