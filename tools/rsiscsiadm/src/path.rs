// SPDX-License-Identifier: GPL-2.0
//! One path (connection) of a session: the `login --path` spec, and its
//! attributes, flat for CONN_ADD or as entries of the `Paths` array for
//! SESSION_CREATE.

use crate::args::{inval, num, parse_portal, seconds_ms};
use crate::attrs::AttrBuf;
use crate::error::AdmError;
use rsiscsi_abi::{Attr, IFNAME_MAX, MAX_CONNS};
use std::net::{IpAddr, SocketAddr};

/// Where one connection goes and how it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathArgs {
    /// Target portal.
    pub portal: SocketAddr,
    /// Local address to bind.
    pub source: Option<IpAddr>,
    /// Interface to bind.
    pub iface: Option<String>,
    /// Weight (the kernel's default when absent).
    pub weight: Option<u32>,
    /// In the standby set.
    pub standby: bool,
    /// NOP-Out interval, ms (the session's when absent).
    pub nop_interval: Option<u32>,
    /// NOP-In timeout, ms (the session's when absent).
    pub nop_timeout: Option<u32>,
    /// Stall time, ms (the session's when absent).
    pub stall: Option<u32>,
}

/// Most `--path` options of one login: the leading connection takes one
/// of the session's MAX_CONNS.
pub const MAX_PATHS: usize = MAX_CONNS as usize - 1;

impl PathArgs {
    /// A path to `portal` with everything else defaulted.
    pub fn new(portal: SocketAddr) -> PathArgs {
        PathArgs {
            portal,
            source: None,
            iface: None,
            weight: None,
            standby: false,
            nop_interval: None,
            nop_timeout: None,
            stall: None,
        }
    }

    /// Parses `PORTAL[,source=IP][,iface=DEV][,weight=N][,standby][,nop=INTERVAL:TIMEOUT]
    /// [,stall=S]`, times in seconds.
    pub fn parse_spec(spec: &str) -> Result<PathArgs, AdmError> {
        let what = format!("--path {spec}");
        let mut parts = spec.split(',');
        let portal = parts.next().unwrap_or_default();
        let mut p = PathArgs::new(parse_portal(portal).map_err(|e| e.within(&what))?);
        let mut seen: Vec<&str> = Vec::new();
        for part in parts {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            // A repeated key is more likely a typo than a wish for the last one.
            if seen.contains(&k) {
                return Err(inval(format!("{what}: '{k}' given twice")));
            }
            seen.push(k);
            p.set(k, v).map_err(|e| e.within(&what))?;
        }
        Ok(p)
    }

    /// One `key=value` (or bare `standby`) of a spec.
    fn set(&mut self, k: &str, v: &str) -> Result<(), AdmError> {
        match (k, v) {
            ("source", v) => self.source = Some(parse_source(v)?),
            ("iface", v) => self.iface = Some(parse_iface(v)?),
            ("weight", v) => self.weight = Some(num(v, "weight")?),
            ("standby", "") => self.standby = true,
            ("nop", v) => {
                let (i, t) = v
                    .split_once(':')
                    .ok_or_else(|| inval("nop=INTERVAL:TIMEOUT"))?;
                self.nop_interval = Some(seconds_ms(i, "nop interval")?);
                self.nop_timeout = Some(seconds_ms(t, "nop timeout")?);
            }
            ("stall", v) => self.stall = Some(seconds_ms(v, "stall")?),
            _ => {
                let part = if v.is_empty() {
                    k.into()
                } else {
                    format!("{k}={v}")
                };
                return Err(inval(format!(
                    "unknown '{part}' (source=IP, iface=DEV, weight=N, standby, \
                     nop=INTERVAL:TIMEOUT, stall=S)"
                )));
            }
        }
        Ok(())
    }

    /// The path's attributes (PATH_POLICY), flat.
    pub fn attrs(&self) -> AttrBuf {
        let mut b = AttrBuf::new();
        b.put_ip(Attr::PortalAddr as u16, self.portal.ip())
            .put_u16(Attr::PortalPort as u16, self.portal.port());
        if let Some(s) = self.source {
            b.put_ip(Attr::SourceAddr as u16, s);
        }
        if let Some(i) = &self.iface {
            b.put_str(Attr::Iface as u16, i);
        }
        if let Some(w) = self.weight {
            b.put_u32(Attr::Weight as u16, w);
        }
        if self.standby {
            b.put_u8(Attr::Standby as u16, 1);
        }
        if let Some(n) = self.nop_interval {
            b.put_u32(Attr::NopIntervalMs as u16, n);
        }
        if let Some(n) = self.nop_timeout {
            b.put_u32(Attr::NopTimeoutMs as u16, n);
        }
        if let Some(n) = self.stall {
            b.put_u32(Attr::StallTimeoutMs as u16, n);
        }
        b
    }
}

/// Appends the `Paths` nested array (entry types 1, 2, ... in order);
/// nothing when there are no paths.
pub fn put_paths(b: &mut AttrBuf, paths: &[PathArgs]) {
    if paths.is_empty() {
        return;
    }
    let mut arr = AttrBuf::new();
    for (i, p) in paths.iter().enumerate() {
        // At most MAX_PATHS entries, so the position fits.
        arr.put_nested(i as u16 + 1, &p.attrs());
    }
    b.put_nested(Attr::Paths as u16, &arr);
}

/// A local address to bind.
pub fn parse_source(v: &str) -> Result<IpAddr, AdmError> {
    v.parse()
        .map_err(|_| inval(format!("bad source address '{v}'")))
}

/// An interface name the kernel can take (IFNAMSIZ).
pub fn parse_iface(v: &str) -> Result<String, AdmError> {
    if v.is_empty() || v.len() > usize::from(IFNAME_MAX) {
        return Err(inval(format!(
            "bad interface name '{v}' (1 to {IFNAME_MAX} bytes)"
        )));
    }
    Ok(v.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::{align, Attrs, NLA_F_NESTED, NLA_HDRLEN};

    #[test]
    fn full_spec() {
        let p = PathArgs::parse_spec(
            "[fd00::2]:3262,source=fd00::1,iface=veth1,weight=5,standby,nop=10:3,stall=0.2",
        )
        .unwrap();
        assert_eq!(p.portal, "[fd00::2]:3262".parse().unwrap());
        assert_eq!(p.source, Some("fd00::1".parse().unwrap()));
        assert_eq!(p.iface.as_deref(), Some("veth1"));
        assert_eq!(p.weight, Some(5));
        assert!(p.standby);
        assert_eq!((p.nop_interval, p.nop_timeout), (Some(10_000), Some(3_000)));
        assert_eq!(p.stall, Some(200));
        let bare = PathArgs::parse_spec("10.2.0.2").unwrap();
        assert_eq!(bare, PathArgs::new("10.2.0.2:3260".parse().unwrap()));
    }

    #[test]
    fn bad_specs() {
        for bad in [
            "",
            "host",
            "10.2.0.2,source=nope",
            "10.2.0.2,iface=",
            "10.2.0.2,iface=a-name-far-too-long",
            "10.2.0.2,weight=-1",
            "10.2.0.2,weight=",
            "10.2.0.2,standby=1",
            "10.2.0.2,nop=5",
            "10.2.0.2,nop=5:x",
            "10.2.0.2,bogus=1",
            "10.2.0.2,weight=1,weight=2",
            "10.2.0.2,",
        ] {
            let e = PathArgs::parse_spec(bad).unwrap_err();
            assert_eq!(e.exit_code(), 7, "{bad}");
        }
    }

    #[test]
    fn flat_attributes() {
        let p = PathArgs::parse_spec("10.2.0.2:3261,source=10.2.0.1,weight=7").unwrap();
        let b = p.attrs();
        let a = Attrs::parse(b.bytes());
        assert_eq!(a.get(Attr::PortalAddr as u16), Some(&[10u8, 2, 0, 2][..]));
        assert_eq!(a.u16(Attr::PortalPort as u16), Some(3261));
        assert_eq!(a.get(Attr::SourceAddr as u16), Some(&[10u8, 2, 0, 1][..]));
        assert_eq!(a.u32(Attr::Weight as u16), Some(7));
        assert_eq!(a.get(Attr::Standby as u16), None);
        assert_eq!(a.get(Attr::Iface as u16), None);
    }

    /// Every attribute header in `buf`: (raw type, payload), checking that
    /// lengths are sane and each attribute starts 4-byte aligned.
    fn walk(mut buf: &[u8]) -> Vec<(u16, &[u8])> {
        let mut v = Vec::new();
        while !buf.is_empty() {
            assert!(buf.len() >= NLA_HDRLEN);
            let len = usize::from(u16::from_ne_bytes([buf[0], buf[1]]));
            let ty = u16::from_ne_bytes([buf[2], buf[3]]);
            assert!(len >= NLA_HDRLEN && len <= buf.len());
            v.push((ty, &buf[NLA_HDRLEN..len]));
            let next = align(len);
            assert!(next <= buf.len(), "padding missing after type {ty:#x}");
            buf = &buf[next..];
        }
        v
    }

    #[test]
    fn paths_nested_array() {
        let paths = [
            PathArgs::parse_spec("10.2.0.2,iface=veth1,nop=10:3").unwrap(),
            PathArgs::parse_spec("[fd00::2]:3262,standby").unwrap(),
        ];
        let mut b = AttrBuf::new();
        b.put_u32(Attr::Sid as u16, 1);
        put_paths(&mut b, &paths);
        assert_eq!(b.bytes().len() % 4, 0);
        let top = walk(b.bytes());
        assert_eq!(top.len(), 2);
        assert_eq!(top[1].0, Attr::Paths as u16 | NLA_F_NESTED);
        let entries = walk(top[1].1);
        assert_eq!(entries.len(), 2);
        for (i, (ty, payload)) in entries.iter().enumerate() {
            assert_eq!(*ty, (i as u16 + 1) | NLA_F_NESTED);
            // Entry members are flat: no flag on any of them.
            for (t, _) in walk(payload) {
                assert_eq!(t & NLA_F_NESTED, 0);
            }
        }
        let e1 = Attrs::parse(entries[0].1);
        assert_eq!(e1.get(Attr::PortalAddr as u16), Some(&[10u8, 2, 0, 2][..]));
        assert_eq!(e1.u16(Attr::PortalPort as u16), Some(3260));
        assert_eq!(e1.str(Attr::Iface as u16).as_deref(), Some("veth1"));
        assert_eq!(e1.u32(Attr::NopIntervalMs as u16), Some(10_000));
        assert_eq!(e1.u32(Attr::NopTimeoutMs as u16), Some(3_000));
        let e2 = Attrs::parse(entries[1].1);
        assert_eq!(e2.get(Attr::PortalAddr as u16).map(<[u8]>::len), Some(16));
        assert_eq!(e2.u16(Attr::PortalPort as u16), Some(3262));
        assert_eq!(e2.u8(Attr::Standby as u16), Some(1));
    }

    #[test]
    fn no_paths_no_attribute() {
        let mut b = AttrBuf::new();
        put_paths(&mut b, &[]);
        assert!(b.bytes().is_empty());
    }

    #[test]
    fn entries_hold_only_path_attributes() {
        let p = PathArgs::parse_spec("10.2.0.2,source=10.2.0.1,iface=i,weight=1,standby,nop=1:2")
            .unwrap();
        for (t, _) in walk(p.attrs().bytes()) {
            let a = Attr::from_u16(t).unwrap();
            assert!(rsiscsi_abi::PATH_POLICY.contains(&a), "{a:?}");
        }
    }
}
