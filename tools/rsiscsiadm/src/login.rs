// SPDX-License-Identifier: GPL-2.0
//! `rsiscsiadm login`: SESSION_CREATE.

use crate::args::{LoginArgs, ParamValue};
use crate::attrs::AttrBuf;
use crate::client::Client;
use crate::error::AdmError;
use crate::path::put_paths;
use crate::session::bracket;
use rsiscsi_abi::{Attr, Cmd};

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

/// The SESSION_CREATE attributes for `a`: the leading connection's path
/// flat, the others in `Paths`.
pub fn encode(a: &LoginArgs, initiator: &str) -> AttrBuf {
    let mut b = AttrBuf::new();
    b.put_str(Attr::TargetName as u16, &a.target)
        .put_str(Attr::InitiatorName as u16, initiator)
        .put_ip(Attr::PortalAddr as u16, a.portal.ip())
        .put_u16(Attr::PortalPort as u16, a.portal.port());
    if let Some(al) = &a.alias {
        b.put_str(Attr::InitiatorAlias as u16, al);
    }
    if let Some(s) = a.source {
        b.put_ip(Attr::SourceAddr as u16, s);
    }
    if let Some(i) = &a.iface {
        b.put_str(Attr::Iface as u16, i);
    }
    if let Some(w) = a.weight {
        b.put_u32(Attr::Weight as u16, w);
    }
    if a.standby {
        b.put_u8(Attr::Standby as u16, 1);
    }
    if let Some(p) = a.policy {
        b.put_u8(Attr::Policy as u16, p as u8);
    }
    if a.failback {
        b.put_u8(Attr::Failback as u16, 1);
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
    put_paths(&mut b, &a.paths);
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
    use rsiscsi_abi::PolicyKind;

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
        for absent in [
            Attr::Paths,
            Attr::Policy,
            Attr::Failback,
            Attr::Weight,
            Attr::Standby,
        ] {
            assert_eq!(a.get(absent as u16), None, "{absent:?}");
        }
    }

    #[test]
    fn create_with_paths_and_policy() {
        let Command::Login(l) = parse(
            &"login --target iqn.t --portal 10.1.0.2 --weight 4 --standby --policy service-time \
              --failback --path 10.2.0.2,weight=1 --path 10.3.0.2:3261"
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        )
        .unwrap() else {
            panic!()
        };
        let b = encode(&l, "iqn.i");
        let a = Attrs::parse(b.bytes());
        assert_eq!(a.u32(Attr::Weight as u16), Some(4));
        assert_eq!(a.u8(Attr::Standby as u16), Some(1));
        assert_eq!(
            a.u8(Attr::Policy as u16),
            Some(PolicyKind::ServiceTime as u8)
        );
        assert_eq!(a.u8(Attr::Failback as u16), Some(1));
        // The first path stays flat; the others are the Paths entries.
        assert_eq!(a.get(Attr::PortalAddr as u16), Some(&[10u8, 1, 0, 2][..]));
        let paths = Attrs::parse(a.get(Attr::Paths as u16).unwrap());
        let entries: Vec<_> = paths.all_any().map(Attrs::parse).collect();
        assert_eq!(paths.types().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(entries[0].u32(Attr::Weight as u16), Some(1));
        assert_eq!(
            entries[1].get(Attr::PortalAddr as u16),
            Some(&[10u8, 3, 0, 2][..])
        );
        assert_eq!(entries[1].u16(Attr::PortalPort as u16), Some(3261));
        // Strict validation refuses anything CREATE_POLICY does not list.
        for t in a.types() {
            let at = Attr::from_u16(t).unwrap();
            assert!(rsiscsi_abi::CREATE_POLICY.contains(&at), "{at:?}");
        }
    }
}
