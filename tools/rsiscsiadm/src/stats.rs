// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm stats`: the counters of SESSION_GET as `key=value` lines,
//! for scripts and tests. The fields are fixed and always present (`-` when
//! the kernel did not report one), so a script can rely on them.

use crate::client::Client;
use crate::counters::or_dash;
use crate::error::AdmError;
use crate::list::sessions;
use crate::session::{policy_name, SessionInfo};

/// `session sid=.. state=.. policy=.. cmds=.. tx_bytes=.. rx_bytes=..
/// errors=.. outstanding=..`, then one `conn sid=.. cid=.. ...` line per
/// connection.
pub fn lines(s: &SessionInfo) -> Vec<String> {
    let mut v = vec![format!(
        "session sid={} state={} policy={} {}",
        s.sid,
        s.state.unwrap_or("-"),
        or_dash(s.policy.map(policy_name)),
        s.counters.machine()
    )];
    for c in &s.conns {
        v.push(format!(
            "conn sid={} cid={} state={} portal={} local={} weight={} standby={} {} \
             outstanding_bytes={} latency_us={}",
            s.sid,
            c.cid,
            c.state.unwrap_or("-"),
            or_dash(c.peer),
            or_dash(c.local),
            or_dash(c.weight),
            or_dash(c.standby.map(u8::from)),
            c.counters.machine(),
            or_dash(c.counters.outstanding_bytes),
            or_dash(c.counters.latency_us)
        ));
    }
    v
}

/// Prints every session's lines; none is exit 21, as for `list`.
pub fn run(c: &mut Client, sid: Option<u32>) -> Result<(), AdmError> {
    let all = sessions(c, sid)?;
    if all.is_empty() {
        return Err(AdmError::NoObjects("No active sessions.".into()));
    }
    for s in &all {
        for l in lines(s) {
            println!("{l}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::{AttrBuf, Attrs};
    use rsiscsi_abi::{Attr, ConnState, PolicyKind, SessionState};

    fn u64a(b: &mut AttrBuf, at: Attr, v: u64) {
        b.put(at as u16, &v.to_ne_bytes());
    }

    #[test]
    fn session_and_connection_lines() {
        let mut c0 = AttrBuf::new();
        c0.put_u16(Attr::Cid as u16, 0)
            .put_u8(Attr::ConnState as u16, ConnState::FullFeature as u8)
            .put(Attr::PortalAddr as u16, &[10, 1, 0, 2])
            .put_u16(Attr::PortalPort as u16, 3260)
            .put(Attr::LocalAddr as u16, &[10, 1, 0, 1])
            .put_u16(Attr::LocalPort as u16, 40000)
            .put_u32(Attr::Weight as u16, 1)
            .put_u8(Attr::Standby as u16, 0)
            .put_u32(Attr::StatOutstanding as u16, 3)
            .put_u32(Attr::StatLatencyUs as u16, 90);
        for (at, v) in [
            (Attr::StatCmds, 10),
            (Attr::StatTxBytes, 4096),
            (Attr::StatRxBytes, 8192),
            (Attr::StatErrors, 0),
            (Attr::StatOutstandingBytes, 12288),
        ] {
            u64a(&mut c0, at, v);
        }
        // A connection that reports nothing but its CID.
        let mut c1 = AttrBuf::new();
        c1.put_u16(Attr::Cid as u16, 1);
        let mut b = AttrBuf::new();
        b.put_u32(Attr::Sid as u16, 2)
            .put_u8(Attr::SessionState as u16, SessionState::LoggedIn as u8)
            .put_u8(Attr::Policy as u16, PolicyKind::RoundRobin as u8)
            .put_u32(Attr::StatOutstanding as u16, 3)
            .put_nested(Attr::Conn as u16, &c0)
            .put_nested(Attr::Conn as u16, &c1);
        u64a(&mut b, Attr::StatCmds, 10);
        let s = SessionInfo::from_attrs(&Attrs::parse(b.bytes()));
        assert_eq!(
            lines(&s),
            vec![
                "session sid=2 state=LOGGED_IN policy=round-robin cmds=10 tx_bytes=- \
                 rx_bytes=- errors=- outstanding=3",
                "conn sid=2 cid=0 state=FULL_FEATURE portal=10.1.0.2:3260 local=10.1.0.1:40000 \
                 weight=1 standby=0 cmds=10 tx_bytes=4096 rx_bytes=8192 errors=0 outstanding=3 \
                 outstanding_bytes=12288 latency_us=90",
                "conn sid=2 cid=1 state=- portal=- local=- weight=- standby=- cmds=- \
                 tx_bytes=- rx_bytes=- errors=- outstanding=- outstanding_bytes=- latency_us=-",
            ]
        );
    }

    #[test]
    fn ipv6_portal_is_bracketed() {
        let mut c = AttrBuf::new();
        let mut v6 = [0u8; 16];
        v6[0] = 0xfd;
        v6[15] = 2;
        c.put_u16(Attr::Cid as u16, 0)
            .put(Attr::PortalAddr as u16, &v6)
            .put_u16(Attr::PortalPort as u16, 3260);
        let mut b = AttrBuf::new();
        b.put_u32(Attr::Sid as u16, 1)
            .put_nested(Attr::Conn as u16, &c);
        let s = SessionInfo::from_attrs(&Attrs::parse(b.bytes()));
        assert!(
            lines(&s)[1].contains(" portal=[fd00::2]:3260 "),
            "{:?}",
            lines(&s)
        );
        assert!(lines(&s)[0].contains(" policy=- "));
    }
}
