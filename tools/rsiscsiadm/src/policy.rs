// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm policy`: SESSION_SET, a session's load-balancing policy.

use crate::attrs::AttrBuf;
use crate::client::Client;
use crate::error::AdmError;
use crate::mcs_args::PolicyArgs;
use rsiscsi_abi::{Attr, Cmd};

/// The SESSION_SET attributes; Failback only when asked for, so the
/// kernel keeps the current one otherwise.
pub fn encode(a: &PolicyArgs) -> AttrBuf {
    let mut b = AttrBuf::new();
    b.put_u32(Attr::Sid as u16, a.sid)
        .put_u8(Attr::Policy as u16, a.policy as u8);
    if let Some(f) = a.failback {
        b.put_u8(Attr::Failback as u16, u8::from(f));
    }
    b
}

/// Sets the policy.
pub fn run(c: &mut Client, a: &PolicyArgs) -> Result<(), AdmError> {
    let what = format!("session {}", a.sid);
    c.request(Cmd::SessionSet, &encode(a))
        .map_err(|e| e.into_adm_on(&what))?;
    println!("Session {}: policy {}.", a.sid, a.policy.name());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::Attrs;
    use rsiscsi_abi::PolicyKind;

    #[test]
    fn session_set_attributes() {
        let mut p = PolicyArgs {
            sid: 6,
            policy: PolicyKind::RoundRobinWithSubset,
            failback: None,
        };
        let b = encode(&p);
        let a = Attrs::parse(b.bytes());
        assert_eq!(a.u32(Attr::Sid as u16), Some(6));
        assert_eq!(a.u8(Attr::Policy as u16), Some(3));
        assert_eq!(a.get(Attr::Failback as u16), None);
        p.failback = Some(false);
        let b = encode(&p);
        assert_eq!(Attrs::parse(b.bytes()).u8(Attr::Failback as u16), Some(0));
    }
}
