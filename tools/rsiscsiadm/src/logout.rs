// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm logout`: SESSION_DESTROY.

use crate::args::LogoutArgs;
use crate::attrs::AttrBuf;
use crate::client::Client;
use crate::error::AdmError;
use crate::list::sessions;
use rsiscsi_abi::{Attr, Cmd};

/// Logs out one session or all; prints iscsiadm's lines.
pub fn run(c: &mut Client, a: &LogoutArgs) -> Result<(), AdmError> {
    let all = sessions(c, None)?;
    let chosen: Vec<_> = match a {
        LogoutArgs::All => all,
        LogoutArgs::Sid(s) => all.into_iter().filter(|x| x.sid == *s).collect(),
    };
    if chosen.is_empty() {
        return Err(match a {
            LogoutArgs::All => AdmError::NoObjects("No matching sessions found".into()),
            LogoutArgs::Sid(s) => AdmError::NoSession(format!("session {s} not found")),
        });
    }
    let mut first_err = None;
    for s in &chosen {
        let what = format!(
            "[sid: {}, target: {}, portal: {}]",
            s.sid,
            s.target,
            s.line_portal()
        );
        println!("Logging out of session {what}");
        let mut b = AttrBuf::new();
        b.put_u32(Attr::Sid as u16, s.sid);
        match c.request(Cmd::SessionDestroy, &b) {
            Ok(_) => println!("Logout of {what} successful."),
            Err(e) => {
                let err = match e.errno {
                    libc::ENOENT => AdmError::NoSession(format!("session {} not found", s.sid)),
                    libc::EBUSY => AdmError::Busy(format!("session {}: {}", s.sid, e.text())),
                    libc::EPERM => e.into_adm(),
                    _ => AdmError::Logout(format!("logout of {what} failed: {}", e.text())),
                };
                // Each failure is told here; the summary line, like
                // iscsiadm's, comes back to main with the first one's code.
                eprintln!("rsiscsiadm: {err}");
                first_err.get_or_insert(err);
            }
        }
    }
    first_err.map_or(Ok(()), |e| {
        Err(e.reworded("Could not logout of all requested sessions".into()))
    })
}
