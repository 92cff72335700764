// SPDX-License-Identifier: GPL-2.0
//! A session as SESSION_GET reports it, and its iscsiadm-style listing.

use crate::attrs::Attrs;
use crate::counters::Counters;
use rsiscsi_abi::{Attr, ConnState, Digest, PolicyKind, SessionState};
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

/// One connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnInfo {
    /// CID.
    pub cid: u16,
    /// State name (`None`: not reported, or a state this tool does not know).
    pub state: Option<&'static str>,
    /// Portal end.
    pub peer: Option<SocketAddr>,
    /// Our end.
    pub local: Option<SocketAddr>,
    /// Header digest ("None" / "CRC32C").
    pub header_digest: Option<String>,
    /// Data digest.
    pub data_digest: Option<String>,
    /// MaxRecvDataSegmentLength.
    pub max_recv: Option<u32>,
    /// MaxXmitDataSegmentLength.
    pub max_xmit: Option<u32>,
    /// Why it is down.
    pub reason: Option<String>,
    /// Configured source address.
    pub source: Option<IpAddr>,
    /// Configured interface.
    pub iface: Option<String>,
    /// Weight.
    pub weight: Option<u32>,
    /// In the standby set.
    pub standby: Option<bool>,
    /// The connection's own counters.
    pub counters: Counters,
}

/// One session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    /// SID.
    pub sid: u32,
    /// TargetName.
    pub target: String,
    /// InitiatorName.
    pub initiator: String,
    /// Leading portal.
    pub portal: Option<SocketAddr>,
    /// TPGT.
    pub tpgt: u16,
    /// TSIH.
    pub tsih: u16,
    /// ISID bytes.
    pub isid: Vec<u8>,
    /// State name (`None`: not reported, or a state this tool does not know).
    pub state: Option<&'static str>,
    /// Load-balancing policy number (kept raw: a newer module may have more).
    pub policy: Option<u8>,
    /// Failback of fail-over-only.
    pub failback: Option<bool>,
    /// Negotiated session keys, in print order.
    pub keys: Vec<(&'static str, String)>,
    /// The session's counters (all its connections together).
    pub counters: Counters,
    /// Connections.
    pub conns: Vec<ConnInfo>,
}

fn ip(a: &Attrs<'_>, at: Attr) -> Option<IpAddr> {
    let b = a.get(at as u16)?;
    Some(match b.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(b).ok()?),
        16 => IpAddr::from(<[u8; 16]>::try_from(b).ok()?),
        _ => return None,
    })
}

fn addr(a: &Attrs<'_>, at: Attr, port: Attr) -> Option<SocketAddr> {
    Some(SocketAddr::new(ip(a, at)?, a.u16(port as u16).unwrap_or(0)))
}

/// A policy number's name; `unknown(N)` for one this tool does not know.
pub fn policy_name(v: u8) -> String {
    PolicyKind::from_u8(v).map_or_else(|| format!("unknown({v})"), |p| p.name().into())
}

fn digest_name(v: Option<u8>) -> Option<String> {
    v.map(|d| match Digest::from_u8(d) {
        Some(Digest::Crc32c) => "CRC32C".into(),
        Some(Digest::None) => "None".into(),
        _ => format!("unknown({d})"),
    })
}

fn yes_no(v: u8) -> String {
    if v != 0 { "Yes" } else { "No" }.into()
}

impl SessionInfo {
    /// From a SESSION_GET message's attributes.
    pub fn from_attrs(a: &Attrs<'_>) -> SessionInfo {
        let mut s = SessionInfo {
            sid: a.u32(Attr::Sid as u16).unwrap_or(0),
            target: a.str(Attr::TargetName as u16).unwrap_or_default(),
            initiator: a.str(Attr::InitiatorName as u16).unwrap_or_default(),
            portal: addr(a, Attr::PortalAddr, Attr::PortalPort),
            tpgt: a.u16(Attr::Tpgt as u16).unwrap_or(1),
            tsih: a.u16(Attr::Tsih as u16).unwrap_or(0),
            isid: a.get(Attr::Isid as u16).unwrap_or(&[]).to_vec(),
            state: a
                .u8(Attr::SessionState as u16)
                .and_then(SessionState::from_u8)
                .map(|s| s.name()),
            policy: a.u8(Attr::Policy as u16),
            failback: a.u8(Attr::Failback as u16).map(|v| v != 0),
            counters: Counters::from_attrs(a),
            ..SessionInfo::default()
        };
        let b = |k: &'static str, at: Attr| a.u8(at as u16).map(|v| (k, yes_no(v)));
        let n8 = |k: &'static str, at: Attr| a.u8(at as u16).map(|v| (k, v.to_string()));
        let n16 = |k: &'static str, at: Attr| a.u16(at as u16).map(|v| (k, v.to_string()));
        let n32 = |k: &'static str, at: Attr| a.u32(at as u16).map(|v| (k, v.to_string()));
        // Seconds, from the milliseconds when the kernel reports them.
        let secs = |k: &'static str, ms: Attr, s: Attr| {
            a.u32(ms as u16)
                .map(|v| (k, crate::args::ms_seconds(v)))
                .or_else(|| n32(k, s))
        };
        s.keys = [
            b("InitialR2T", Attr::InitialR2t),
            b("ImmediateData", Attr::ImmediateData),
            n32("FirstBurstLength", Attr::FirstBurstLength),
            n32("MaxBurstLength", Attr::MaxBurstLength),
            n16("MaxOutstandingR2T", Attr::MaxOutstandingR2t),
            n8("ErrorRecoveryLevel", Attr::ErrorRecoveryLevel),
            n16("MaxConnections", Attr::MaxConnections),
            n16("DefaultTime2Wait", Attr::DefaultTime2Wait),
            n16("DefaultTime2Retain", Attr::DefaultTime2Retain),
            secs("NopInterval", Attr::NopIntervalMs, Attr::NopInterval),
            secs("NopTimeout", Attr::NopTimeoutMs, Attr::NopTimeout),
            a.u32(Attr::StallTimeoutMs as u16)
                .map(|v| ("StallTimeout", crate::args::ms_seconds(v))),
            n32("ReplacementTimeout", Attr::ReplacementTimeout),
        ]
        .into_iter()
        .flatten()
        .collect();
        for c in a.all(Attr::Conn as u16) {
            let c = Attrs::parse(c);
            s.conns.push(ConnInfo {
                cid: c.u16(Attr::Cid as u16).unwrap_or(0),
                state: c
                    .u8(Attr::ConnState as u16)
                    .and_then(ConnState::from_u8)
                    .map(|s| s.name()),
                peer: addr(&c, Attr::PortalAddr, Attr::PortalPort),
                local: addr(&c, Attr::LocalAddr, Attr::LocalPort),
                header_digest: digest_name(c.u8(Attr::HeaderDigest as u16)),
                data_digest: digest_name(c.u8(Attr::DataDigest as u16)),
                max_recv: c.u32(Attr::MaxRecvDsl as u16),
                max_xmit: c.u32(Attr::MaxXmitDsl as u16),
                reason: c.str(Attr::Reason as u16),
                source: ip(&c, Attr::SourceAddr),
                iface: c.str(Attr::Iface as u16),
                weight: c.u32(Attr::Weight as u16),
                standby: c.u8(Attr::Standby as u16).map(|v| v != 0),
                counters: Counters::from_attrs(&c),
            });
        }
        s
    }

    fn portal_text(&self) -> String {
        match self.portal {
            Some(p) => format!("{}:{},{}", bracket(p.ip()), p.port(), self.tpgt),
            None => format!("?:?,{}", self.tpgt),
        }
    }

    /// The portal as logout messages print it (`IP,PORT`).
    pub fn line_portal(&self) -> String {
        match self.portal {
            Some(p) => format!("{},{}", bracket(p.ip()), p.port()),
            None => "?".into(),
        }
    }

    /// iscsiadm's session line: `tcp: [SID] IP:PORT,TPGT TARGET (non-flash)`.
    pub fn line(&self) -> String {
        format!(
            "tcp: [{}] {} {} (non-flash)",
            self.sid,
            self.portal_text(),
            self.target
        )
    }

    /// The `-P 1` view.
    pub fn detail(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "Target: {} (non-flash)", self.target);
        let _ = writeln!(o, "\tCurrent Portal: {}", self.portal_text());
        let _ = writeln!(o, "\t\tIface Transport: tcp");
        let _ = writeln!(o, "\t\tIface Initiatorname: {}", self.initiator);
        let _ = writeln!(o, "\t\tSID: {}", self.sid);
        let state = self.state.unwrap_or("UNKNOWN");
        let _ = writeln!(o, "\t\tiSCSI Session State: {state}");
        let isid: String = self.isid.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(o, "\t\tISID: {isid}");
        let _ = writeln!(o, "\t\tTSIH: 0x{:04x}", self.tsih);
        if let Some(p) = self.policy {
            let _ = writeln!(o, "\t\tLoad Balance Policy: {}", policy_name(p));
        }
        if let Some(f) = self.failback {
            let _ = writeln!(o, "\t\tFailback: {}", yes_no(u8::from(f)));
        }
        let _ = writeln!(o, "\t\tNegotiated iSCSI params:");
        for (k, v) in &self.keys {
            let _ = writeln!(o, "\t\t\t{k}: {v}");
        }
        let _ = writeln!(o, "\t\tStatistics:");
        for (k, v) in self.counters.human() {
            let _ = writeln!(o, "\t\t\t{k}: {v}");
        }
        for c in &self.conns {
            let state = c.state.unwrap_or("UNKNOWN");
            let _ = writeln!(o, "\t\tConnection {}: {state}", c.cid);
            if let Some(l) = c.local {
                let _ = writeln!(o, "\t\t\tIface IPaddress: {}:{}", l.ip(), l.port());
            }
            if let Some(p) = c.peer {
                let _ = writeln!(o, "\t\t\tPortal: {}:{}", bracket(p.ip()), p.port());
            }
            if let Some(d) = &c.header_digest {
                let _ = writeln!(o, "\t\t\tHeaderDigest: {d}");
            }
            if let Some(d) = &c.data_digest {
                let _ = writeln!(o, "\t\t\tDataDigest: {d}");
            }
            if let Some(v) = c.max_recv {
                let _ = writeln!(o, "\t\t\tMaxRecvDataSegmentLength: {v}");
            }
            if let Some(v) = c.max_xmit {
                let _ = writeln!(o, "\t\t\tMaxXmitDataSegmentLength: {v}");
            }
            if let Some(r) = &c.reason {
                let _ = writeln!(o, "\t\t\tReason: {r}");
            }
            if let Some(s) = c.source {
                let _ = writeln!(o, "\t\t\tSource: {s}");
            }
            if let Some(i) = &c.iface {
                let _ = writeln!(o, "\t\t\tIface: {i}");
            }
            if let Some(w) = c.weight {
                let _ = writeln!(o, "\t\t\tWeight: {w}");
            }
            if let Some(s) = c.standby {
                let _ = writeln!(o, "\t\t\tStandby: {}", yes_no(u8::from(s)));
            }
            let stats = c.counters.human();
            if !stats.is_empty() {
                let _ = writeln!(o, "\t\t\tStatistics:");
                for (k, v) in stats {
                    let _ = writeln!(o, "\t\t\t\t{k}: {v}");
                }
            }
        }
        o
    }
}

/// An address as iscsiadm prints it (IPv6 in brackets).
pub fn bracket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::AttrBuf;

    #[test]
    fn listing_line_and_detail() {
        let mut conn = AttrBuf::new();
        conn.put_u16(Attr::Cid as u16, 0)
            .put_u8(Attr::ConnState as u16, ConnState::FullFeature as u8)
            .put_u8(Attr::HeaderDigest as u16, Digest::Crc32c as u8);
        let mut b = AttrBuf::new();
        b.put_u32(Attr::Sid as u16, 3)
            .put_str(Attr::TargetName as u16, "iqn.t")
            .put(Attr::PortalAddr as u16, &[10, 1, 0, 2])
            .put_u16(Attr::PortalPort as u16, 3260)
            .put_u16(Attr::Tpgt as u16, 1)
            .put_u8(Attr::SessionState as u16, SessionState::LoggedIn as u8)
            .put_u8(Attr::ErrorRecoveryLevel as u16, 2)
            .put(Attr::Conn as u16, conn.bytes());
        let s = SessionInfo::from_attrs(&Attrs::parse(b.bytes()));
        assert_eq!(s.line(), "tcp: [3] 10.1.0.2:3260,1 iqn.t (non-flash)");
        let d = s.detail();
        assert!(d.contains("iSCSI Session State: LOGGED_IN"), "{d}");
        assert!(d.contains("ErrorRecoveryLevel: 2"), "{d}");
        assert!(d.contains("Connection 0: FULL_FEATURE"), "{d}");
        assert!(d.contains("HeaderDigest: CRC32C"), "{d}");
        assert!(!d.contains("Load Balance Policy"), "{d}");
    }

    #[test]
    fn policy_and_connection_counters() {
        let mut conn = AttrBuf::new();
        conn.put_u16(Attr::Cid as u16, 1)
            .put_u8(Attr::ConnState as u16, ConnState::FullFeature as u8)
            .put(Attr::SourceAddr as u16, &[10, 2, 0, 1])
            .put_str(Attr::Iface as u16, "veth1")
            .put_u32(Attr::Weight as u16, 5)
            .put_u8(Attr::Standby as u16, 1)
            .put(Attr::StatCmds as u16, &7u64.to_ne_bytes())
            .put(Attr::StatTxBytes as u16, &2048u64.to_ne_bytes())
            .put_u32(Attr::StatLatencyUs as u16, 120);
        let mut b = AttrBuf::new();
        b.put_u32(Attr::Sid as u16, 3)
            .put_u8(Attr::SessionState as u16, SessionState::LoggedIn as u8)
            .put_u8(Attr::Policy as u16, PolicyKind::LeastBlocks as u8)
            .put_u8(Attr::Failback as u16, 0)
            .put(Attr::StatCmds as u16, &9u64.to_ne_bytes())
            .put_nested(Attr::Conn as u16, &conn);
        let s = SessionInfo::from_attrs(&Attrs::parse(b.bytes()));
        assert_eq!(s.policy, Some(6));
        assert_eq!(s.counters.cmds, Some(9));
        let c = &s.conns[0];
        assert_eq!((c.weight, c.standby), (Some(5), Some(true)));
        assert_eq!(c.source, Some("10.2.0.1".parse().unwrap()));
        assert_eq!(c.counters.tx_bytes, Some(2048));
        let d = s.detail();
        for want in [
            "\t\tLoad Balance Policy: least-blocks\n",
            "\t\tFailback: No\n",
            "\t\t\tcommands: 9\n\t\tConnection 1: FULL_FEATURE\n",
            "\t\t\tSource: 10.2.0.1\n",
            "\t\t\tIface: veth1\n",
            "\t\t\tWeight: 5\n",
            "\t\t\tStandby: Yes\n",
            "\t\t\tStatistics:\n\t\t\t\tcommands: 7\n\t\t\t\ttx_bytes: 2048 (2.0 KiB)\n",
            "\t\t\t\tlatency: 120 us\n",
        ] {
            assert!(d.contains(want), "{want:?} not in {d}");
        }
        assert_eq!(policy_name(99), "unknown(99)");
    }
}
