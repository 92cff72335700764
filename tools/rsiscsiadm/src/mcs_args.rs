// SPDX-License-Identifier: GPL-2.0
//! Command-line parsing of the commands that change a logged-in session's
//! connections and policy: `conn-add`, `conn-remove`, `conn-set`, `policy`.

use crate::args::{inval, num, parse_policy, parse_portal, seconds_ms, value};
use crate::error::AdmError;
use crate::path::{parse_iface, parse_source, PathArgs};
use rsiscsi_abi::PolicyKind;
use std::slice::Iter;

/// `conn-add` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnAddArgs {
    /// --sid.
    pub sid: u32,
    /// The new connection's path.
    pub path: PathArgs,
}

/// `conn-remove` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnRemoveArgs {
    /// --sid.
    pub sid: u32,
    /// --cid.
    pub cid: u16,
}

/// `policy` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyArgs {
    /// --sid.
    pub sid: u32,
    /// --policy.
    pub policy: PolicyKind,
    /// --failback (true) or --no-failback (false); the kernel keeps the
    /// current setting when neither is given.
    pub failback: Option<bool>,
}

/// `conn-set` options; at least one of the changes is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnSetArgs {
    /// --sid.
    pub sid: u32,
    /// --cid.
    pub cid: u16,
    /// --weight.
    pub weight: Option<u32>,
    /// --standby (true) or --active (false).
    pub standby: Option<bool>,
}

fn required<T>(v: Option<T>, cmd: &str, opt: &str) -> Result<T, AdmError> {
    v.ok_or_else(|| inval(format!("{cmd} needs {opt}")))
}

/// Sets a switch that has an opposite, refusing both at once: the intent
/// of `--standby --active` cannot be guessed.
fn switch(slot: &mut Option<bool>, v: bool, pair: &str) -> Result<(), AdmError> {
    if slot.is_some_and(|old| old != v) {
        return Err(inval(format!("{pair}: give one of them")));
    }
    *slot = Some(v);
    Ok(())
}

/// `conn-add --sid N --portal P [--source IP] [--iface DEV] [--weight N]
/// [--standby] [--nop-interval S] [--nop-timeout S] [--stall S]`, times in
/// seconds.
pub fn conn_add(it: &mut Iter<'_, String>) -> Result<ConnAddArgs, AdmError> {
    let (mut sid, mut portal, mut source, mut iface) = (None, None, None, None);
    let (mut weight, mut standby, mut nop_interval, mut nop_timeout) = (None, false, None, None);
    let mut stall = None;
    while let Some(o) = it.next() {
        match o.as_str() {
            "--sid" | "-r" => sid = Some(num(&value(it, o)?, o)?),
            "--portal" | "-p" => portal = Some(parse_portal(&value(it, o)?)?),
            "--source" => source = Some(parse_source(&value(it, o)?)?),
            "--iface" => iface = Some(parse_iface(&value(it, o)?)?),
            "--weight" => weight = Some(num(&value(it, o)?, o)?),
            "--standby" => standby = true,
            "--nop-interval" => nop_interval = Some(seconds_ms(&value(it, o)?, o)?),
            "--nop-timeout" => nop_timeout = Some(seconds_ms(&value(it, o)?, o)?),
            "--stall" => stall = Some(seconds_ms(&value(it, o)?, o)?),
            _ => return Err(inval(format!("unknown conn-add option '{o}'"))),
        }
    }
    let path = PathArgs {
        source,
        iface,
        weight,
        standby,
        nop_interval,
        nop_timeout,
        stall,
        ..PathArgs::new(required(portal, "conn-add", "--portal")?)
    };
    Ok(ConnAddArgs {
        sid: required(sid, "conn-add", "--sid")?,
        path,
    })
}

/// `conn-remove --sid N --cid C`.
pub fn conn_remove(it: &mut Iter<'_, String>) -> Result<ConnRemoveArgs, AdmError> {
    let (mut sid, mut cid) = (None, None);
    while let Some(o) = it.next() {
        match o.as_str() {
            "--sid" | "-r" => sid = Some(num(&value(it, o)?, o)?),
            "--cid" => cid = Some(num(&value(it, o)?, o)?),
            _ => return Err(inval(format!("unknown conn-remove option '{o}'"))),
        }
    }
    Ok(ConnRemoveArgs {
        sid: required(sid, "conn-remove", "--sid")?,
        cid: required(cid, "conn-remove", "--cid")?,
    })
}

/// `policy --sid N --policy NAME [--failback | --no-failback]`.
pub fn policy(it: &mut Iter<'_, String>) -> Result<PolicyArgs, AdmError> {
    let (mut sid, mut policy, mut failback) = (None, None, None);
    while let Some(o) = it.next() {
        match o.as_str() {
            "--sid" | "-r" => sid = Some(num(&value(it, o)?, o)?),
            "--policy" => policy = Some(parse_policy(&value(it, o)?)?),
            "--failback" => switch(&mut failback, true, "--failback and --no-failback")?,
            "--no-failback" => switch(&mut failback, false, "--failback and --no-failback")?,
            _ => return Err(inval(format!("unknown policy option '{o}'"))),
        }
    }
    Ok(PolicyArgs {
        sid: required(sid, "policy", "--sid")?,
        policy: required(policy, "policy", "--policy")?,
        failback,
    })
}

/// `conn-set --sid N --cid C [--weight N] [--standby | --active]`.
pub fn conn_set(it: &mut Iter<'_, String>) -> Result<ConnSetArgs, AdmError> {
    let (mut sid, mut cid, mut weight, mut standby) = (None, None, None, None);
    while let Some(o) = it.next() {
        match o.as_str() {
            "--sid" | "-r" => sid = Some(num(&value(it, o)?, o)?),
            "--cid" => cid = Some(num(&value(it, o)?, o)?),
            "--weight" => weight = Some(num(&value(it, o)?, o)?),
            "--standby" => switch(&mut standby, true, "--standby and --active")?,
            "--active" => switch(&mut standby, false, "--standby and --active")?,
            _ => return Err(inval(format!("unknown conn-set option '{o}'"))),
        }
    }
    let a = ConnSetArgs {
        sid: required(sid, "conn-set", "--sid")?,
        cid: required(cid, "conn-set", "--cid")?,
        weight,
        standby,
    };
    if a.weight.is_none() && a.standby.is_none() {
        return Err(inval(
            "conn-set needs a change: --weight N, --standby or --active",
        ));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use crate::args::{parse, Command};
    use rsiscsi_abi::PolicyKind;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn conn_add() {
        let Command::ConnAdd(a) = parse(&v("conn-add --sid 2 --portal [fd00::2]:3261 \
             --source fd00::1 --iface veth1 --weight 3 --standby --nop-interval 10 \
             --nop-timeout 4"))
        .unwrap() else {
            panic!()
        };
        assert_eq!(a.sid, 2);
        assert_eq!(a.path.portal, "[fd00::2]:3261".parse().unwrap());
        assert_eq!(a.path.source, Some("fd00::1".parse().unwrap()));
        assert_eq!(a.path.iface.as_deref(), Some("veth1"));
        assert_eq!(a.path.weight, Some(3));
        assert!(a.path.standby);
        assert_eq!(a.path.nop_interval, Some(10_000));
        assert_eq!(a.path.nop_timeout, Some(4_000));
        let Command::ConnAdd(b) = parse(&v("conn-add -r 1 -p 10.2.0.2")).unwrap() else {
            panic!()
        };
        assert_eq!(b.path.portal, "10.2.0.2:3260".parse().unwrap());
        assert_eq!((b.path.weight, b.path.standby), (None, false));
    }

    #[test]
    fn conn_remove_and_set() {
        let Command::ConnRemove(r) = parse(&v("conn-remove --sid 4 --cid 2")).unwrap() else {
            panic!()
        };
        assert_eq!((r.sid, r.cid), (4, 2));
        let Command::ConnSet(s) = parse(&v("conn-set --sid 4 --cid 1 --weight 9")).unwrap() else {
            panic!()
        };
        assert_eq!((s.sid, s.cid, s.weight, s.standby), (4, 1, Some(9), None));
        let Command::ConnSet(s) = parse(&v("conn-set --sid 4 --cid 1 --active")).unwrap() else {
            panic!()
        };
        assert_eq!((s.weight, s.standby), (None, Some(false)));
        let Command::ConnSet(s) = parse(&v(
            "conn-set --cid 0 --sid 1 --standby --standby --weight 0",
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!((s.weight, s.standby), (Some(0), Some(true)));
    }

    #[test]
    fn policy() {
        let Command::Policy(p) = parse(&v("policy --sid 1 --policy least-queue-depth")).unwrap()
        else {
            panic!()
        };
        assert_eq!(p.policy, PolicyKind::LeastQueueDepth);
        assert_eq!(p.failback, None);
        let Command::Policy(p) =
            parse(&v("policy --sid 1 --policy fail-over-only --no-failback")).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (p.policy, p.failback),
            (PolicyKind::FailOverOnly, Some(false))
        );
        for k in PolicyKind::ALL {
            let Command::Policy(p) =
                parse(&v(&format!("policy --sid 1 --policy {}", k.name()))).unwrap()
            else {
                panic!()
            };
            assert_eq!(p.policy, k);
        }
    }

    #[test]
    fn stats() {
        assert_eq!(parse(&v("stats")).unwrap(), Command::Stats { sid: None });
        assert_eq!(
            parse(&v("stats --sid 7")).unwrap(),
            Command::Stats { sid: Some(7) }
        );
    }

    #[test]
    fn bad_policy_name_lists_the_names() {
        let e = parse(&v("policy --sid 1 --policy fastest")).unwrap_err();
        assert_eq!(e.exit_code(), 7);
        let m = e.to_string();
        assert!(m.contains("'fastest'"), "{m}");
        for k in PolicyKind::ALL {
            assert!(m.contains(k.name()), "{m}");
        }
    }

    #[test]
    fn errors_are_invalid_argument() {
        for bad in [
            "conn-add --portal 10.2.0.2",
            "conn-add --sid 1",
            "conn-add --sid x --portal 10.2.0.2",
            "conn-add --sid 1 --portal host",
            "conn-add --sid 1 --portal 10.2.0.2 --weight",
            "conn-add --sid 1 --portal 10.2.0.2 --source nope",
            "conn-add --sid 1 --portal 10.2.0.2 --nop-timeout -1",
            "conn-add --sid 1 --portal 10.2.0.2 --iface a-name-far-too-long",
            "conn-add --sid 1 --portal 10.2.0.2 --cid 1",
            "conn-remove --sid 1",
            "conn-remove --cid 1",
            "conn-remove --sid 1 --cid 70000",
            "conn-remove --sid 1 --cid 1 --all",
            "conn-set --sid 1 --cid 1",
            "conn-set --sid 1 --weight 2",
            "conn-set --cid 1 --weight 2",
            "conn-set --sid 1 --cid 1 --standby --active",
            "conn-set --sid 1 --cid 1 --weight -2",
            "policy --sid 1",
            "policy --policy round-robin",
            "policy --sid 1 --policy",
            "policy --sid 1 --policy Round-Robin",
            "policy --sid 1 --policy round-robin --failback --no-failback",
            "stats --sid",
            "stats --all",
        ] {
            assert_eq!(parse(&v(bad)).unwrap_err().exit_code(), 7, "{bad}");
        }
    }
}
