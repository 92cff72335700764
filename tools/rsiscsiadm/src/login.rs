// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm login`: SESSION_CREATE.

use crate::args::{LoginArgs, ParamValue};
use crate::attrs::AttrBuf;
use crate::client::Client;
use crate::error::AdmError;
use crate::session::bracket;
use rsiscsi_abi::{Attr, Cmd};
use std::net::IpAddr;

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The default initiator name: open-iscsi's file.
fn default_initiator() -> Result<String, AdmError> {
    let f = std::fs::read_to_string("/etc/iscsi/initiatorname.iscsi").map_err(|_| {
        AdmError::Invalid("no --initiator and no /etc/iscsi/initiatorname.iscsi".into())
    })?;
    f.lines()
        .filter_map(|l| l.trim().strip_prefix("InitiatorName="))
        .map(str::to_owned)
        .next()
        .ok_or_else(|| {
            AdmError::Invalid("no InitiatorName= in /etc/iscsi/initiatorname.iscsi".into())
        })
}

/// The SESSION_CREATE attributes for `a`.
pub fn encode(a: &LoginArgs, initiator: &str) -> AttrBuf {
    let mut b = AttrBuf::new();
    b.put_str(Attr::TargetName as u16, &a.target)
        .put_str(Attr::InitiatorName as u16, initiator)
        .put(Attr::PortalAddr as u16, &ip_bytes(a.portal.ip()))
        .put_u16(Attr::PortalPort as u16, a.portal.port());
    if let Some(al) = &a.alias {
        b.put_str(Attr::InitiatorAlias as u16, al);
    }
    if let Some(s) = a.source {
        b.put(Attr::SourceAddr as u16, &ip_bytes(s));
    }
    if let Some(i) = &a.iface {
        b.put_str(Attr::Iface as u16, i);
    }
    if let Some((u, s)) = &a.chap {
        b.put_str(Attr::ChapUser as u16, u)
            .put(Attr::ChapSecret as u16, s.as_bytes());
    }
    if let Some((u, s)) = &a.mutual {
        b.put_str(Attr::MutualUser as u16, u)
            .put(Attr::MutualSecret as u16, s.as_bytes());
    }
    for (at, v) in &a.params {
        match *v {
            ParamValue::U8(x) => b.put_u8(*at as u16, x),
            ParamValue::U16(x) => b.put_u16(*at as u16, x),
            ParamValue::U32(x) => b.put_u32(*at as u16, x),
        };
    }
    b
}

/// Logs in; prints iscsiadm's two lines.
pub fn run(c: &mut Client, a: &LoginArgs) -> Result<(), AdmError> {
    let initiator = match &a.initiator {
        Some(i) => i.clone(),
        None => default_initiator()?,
    };
    let what = format!(
        "[iface: default, target: {}, portal: {},{}]",
        a.target,
        bracket(a.portal.ip()),
        a.portal.port()
    );
    println!("Logging in to {what}");
    let replies = c
        .request(Cmd::SessionCreate, &encode(a, &initiator))
        .map_err(|e| match e.errno {
            libc::EACCES => AdmError::LoginAuth(e.text()),
            libc::EPERM | libc::EINVAL | libc::EEXIST => e.into_adm(),
            _ => AdmError::Login(e.text()),
        })?;
    let sid = replies
        .first()
        .and_then(|m| m.attrs().u32(Attr::Sid as u16));
    match sid {
        Some(s) => println!("Login to {what} successful (sid {s})."),
        None => println!("Login to {what} successful."),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{parse, Command};
    use crate::attrs::Attrs;

    #[test]
    fn create_attributes() {
        let Command::Login(l) = parse(
            &"login --target iqn.t --portal 10.1.0.2:3261 --chap u:s --mutual m:t --digest"
                .split(' ')
                .map(String::from)
                .collect::<Vec<_>>(),
        )
        .unwrap() else {
            panic!()
        };
        let b = encode(&l, "iqn.i");
        let a = Attrs::parse(b.bytes());
        assert_eq!(a.str(Attr::TargetName as u16).as_deref(), Some("iqn.t"));
        assert_eq!(a.str(Attr::InitiatorName as u16).as_deref(), Some("iqn.i"));
        assert_eq!(a.get(Attr::PortalAddr as u16), Some(&[10u8, 1, 0, 2][..]));
        assert_eq!(a.u16(Attr::PortalPort as u16), Some(3261));
        assert_eq!(a.get(Attr::ChapSecret as u16), Some(&b"s"[..]));
        assert_eq!(a.str(Attr::MutualUser as u16).as_deref(), Some("m"));
        assert_eq!(a.u8(Attr::HeaderDigest as u16), Some(1));
        assert_eq!(a.u8(Attr::DataDigest as u16), Some(1));
    }
}
