// SPDX-License-Identifier: GPL-2.0
//! Command-line parsing.

use crate::error::AdmError;
use crate::mcs_args::{self, ConnAddArgs, ConnRemoveArgs, ConnSetArgs, PolicyArgs};
use crate::path::{self, PathArgs, MAX_PATHS};
use rsiscsi_abi::{Attr, Digest, PolicyKind, DEFAULT_PORT};
use std::net::{IpAddr, SocketAddr};

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Log in a new session.
    Login(Box<LoginArgs>),
    /// Log out sessions.
    Logout(LogoutArgs),
    /// List sessions (`-P 1`: details).
    List {
        /// Print level (0 or 1).
        level: u8,
        /// Only this session.
        sid: Option<u32>,
    },
    /// Print events until killed.
    Watch,
    /// Log one more connection in.
    ConnAdd(ConnAddArgs),
    /// Log one connection out and remove it.
    ConnRemove(ConnRemoveArgs),
    /// Change a session's load-balancing policy.
    Policy(PolicyArgs),
    /// Change a connection's weight or standby flag.
    ConnSet(ConnSetArgs),
    /// Print counters in a machine-readable form.
    Stats {
        /// Only this session.
        sid: Option<u32>,
    },
    /// Send a hand-made request (tests of the kernel's validation).
    DebugRaw(RawArgs),
    /// Print usage.
    Help,
}

/// `login` options. Portal, source, interface, weight and standby describe
/// the leading connection; `paths` are the ones logged in after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginArgs {
    /// --target.
    pub target: String,
    /// --portal.
    pub portal: SocketAddr,
    /// --initiator (default: /etc/iscsi/initiatorname.iscsi).
    pub initiator: Option<String>,
    /// --alias.
    pub alias: Option<String>,
    /// --chap USER:SECRET.
    pub chap: Option<(String, String)>,
    /// --mutual USER:SECRET.
    pub mutual: Option<(String, String)>,
    /// --source IP.
    pub source: Option<IpAddr>,
    /// --iface DEV.
    pub iface: Option<String>,
    /// --weight N.
    pub weight: Option<u32>,
    /// --standby.
    pub standby: bool,
    /// --path SPEC, in order.
    pub paths: Vec<PathArgs>,
    /// --policy NAME.
    pub policy: Option<PolicyKind>,
    /// --failback.
    pub failback: bool,
    /// --digest and --param values, as attributes.
    pub params: Vec<(Attr, ParamValue)>,
}

/// A negotiation or timeout value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamValue {
    /// u8 attribute.
    U8(u8),
    /// u16 attribute.
    U16(u16),
    /// u32 attribute.
    U32(u32),
}

/// `logout` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutArgs {
    /// One session.
    Sid(u32),
    /// Every session.
    All,
}

/// `debug-raw` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawArgs {
    /// Command number.
    pub cmd: u8,
    /// Send as a dump request.
    pub dump: bool,
    /// Attributes: type, payload.
    pub attrs: Vec<(u16, Vec<u8>)>,
}

/// A usage error.
pub fn inval(m: impl Into<String>) -> AdmError {
    AdmError::Invalid(m.into())
}

/// Parses `IP`, `IP:PORT`, `[IPv6]:PORT`, with an optional `,TPGT` suffix.
pub fn parse_portal(s: &str) -> Result<SocketAddr, AdmError> {
    let s = s.split(',').next().unwrap_or(s);
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let host = s.trim_start_matches('[').trim_end_matches(']');
    host.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, DEFAULT_PORT))
        .map_err(|_| inval(format!("bad portal '{s}' (IP[:PORT])")))
}

fn user_secret(s: &str, what: &str) -> Result<(String, String), AdmError> {
    match s.split_once(':') {
        Some((u, p)) if !u.is_empty() && !p.is_empty() => Ok((u.into(), p.into())),
        _ => Err(inval(format!("{what} must be USER:SECRET"))),
    }
}

fn yes_no(v: &str) -> Result<u8, AdmError> {
    match v {
        "Yes" | "yes" => Ok(1),
        "No" | "no" => Ok(0),
        _ => Err(inval(format!("'{v}' is not Yes or No"))),
    }
}

fn digest(v: &str) -> Result<u8, AdmError> {
    match v {
        "None" => Ok(Digest::None as u8),
        "CRC32C" => Ok(Digest::Crc32c as u8),
        "CRC32C,None" => Ok(Digest::PreferCrc32c as u8),
        _ => Err(inval(format!("digest '{v}' (None, CRC32C or CRC32C,None)"))),
    }
}

/// A number of type `T`; `key` names it in the error.
pub fn num<T: std::str::FromStr>(v: &str, key: &str) -> Result<T, AdmError> {
    v.parse()
        .map_err(|_| inval(format!("{key}: '{v}' is not a number in range")))
}

/// Parses a time in seconds, whole or with up to three decimals ("5",
/// "0.25"), into milliseconds, at most an hour (the kernel's limit).
pub fn seconds_ms(v: &str, key: &str) -> Result<u32, AdmError> {
    let bad = || {
        inval(format!(
            "{key}: '{v}' is not a time in seconds (e.g. 5 or 0.25), at most 3600"
        ))
    };
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 3 {
        return Err(bad());
    }
    let w: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let f: u32 = format!("{frac:0<3}").parse().map_err(|_| bad())?;
    match w.checked_mul(1000).and_then(|ms| ms.checked_add(f)) {
        Some(ms) if ms <= 3_600_000 => Ok(ms),
        _ => Err(bad()),
    }
}

/// Milliseconds as seconds, as [`seconds_ms`] reads them: "5", "0.25".
pub fn ms_seconds(ms: u32) -> String {
    let (s, f) = (ms / 1000, ms % 1000);
    if f == 0 {
        return s.to_string();
    }
    let frac = format!("{f:03}");
    format!("{s}.{}", frac.trim_end_matches('0'))
}

/// Parses one `--param Key=Value`.
pub fn parse_param(s: &str) -> Result<(Attr, ParamValue), AdmError> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| inval(format!("--param {s}: Key=Value")))?;
    use ParamValue::*;
    Ok(match k {
        "HeaderDigest" => (Attr::HeaderDigest, U8(digest(v)?)),
        "DataDigest" => (Attr::DataDigest, U8(digest(v)?)),
        "ImmediateData" => (Attr::ImmediateData, U8(yes_no(v)?)),
        "InitialR2T" => (Attr::InitialR2t, U8(yes_no(v)?)),
        "MaxBurstLength" => (Attr::MaxBurstLength, U32(num(v, k)?)),
        "FirstBurstLength" => (Attr::FirstBurstLength, U32(num(v, k)?)),
        "MaxRecvDataSegmentLength" => (Attr::MaxRecvDsl, U32(num(v, k)?)),
        "ErrorRecoveryLevel" => (Attr::ErrorRecoveryLevel, U8(num(v, k)?)),
        "MaxConnections" => (Attr::MaxConnections, U16(num(v, k)?)),
        // Times in seconds, sent in milliseconds so fractions pass.
        "NopInterval" | "noop_out_interval" => (Attr::NopIntervalMs, U32(seconds_ms(v, k)?)),
        "NopTimeout" | "noop_out_timeout" => (Attr::NopTimeoutMs, U32(seconds_ms(v, k)?)),
        "StallTimeout" => (Attr::StallTimeoutMs, U32(seconds_ms(v, k)?)),
        "DefaultTime2Wait" => (Attr::DefaultTime2Wait, U16(num(v, k)?)),
        "DefaultTime2Retain" => (Attr::DefaultTime2Retain, U16(num(v, k)?)),
        "ReplacementTimeout" | "replacement_timeout" => (Attr::ReplacementTimeout, U32(num(v, k)?)),
        _ => return Err(inval(format!("unknown parameter '{k}'"))),
    })
}

fn hex(s: &str) -> Result<Vec<u8>, AdmError> {
    if s.len() % 2 != 0 {
        return Err(inval("hex payload needs an even number of digits"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| inval(format!("bad hex '{s}'"))))
        .collect()
}

fn parse_raw_attr(s: &str, kind: &str) -> Result<(u16, Vec<u8>), AdmError> {
    let (t, v) = s
        .split_once('=')
        .ok_or_else(|| inval("attribute: TYPE=VALUE"))?;
    let t: u16 = num(t, "attribute type")?;
    let data = match kind {
        "--attr" => hex(v)?,
        "--u32" => num::<u32>(v, "u32")?.to_ne_bytes().to_vec(),
        _ => {
            let mut b = v.as_bytes().to_vec();
            b.push(0);
            b
        }
    };
    Ok((t, data))
}

/// The value after option `opt`.
pub fn value(it: &mut std::slice::Iter<'_, String>, opt: &str) -> Result<String, AdmError> {
    it.next()
        .cloned()
        .ok_or_else(|| inval(format!("{opt} needs a value")))
}

/// A `--policy` name.
pub fn parse_policy(v: &str) -> Result<PolicyKind, AdmError> {
    PolicyKind::from_name(v).ok_or_else(|| {
        let names: Vec<_> = PolicyKind::ALL.iter().map(|p| p.name()).collect();
        inval(format!("unknown policy '{v}' ({})", names.join(", ")))
    })
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, AdmError> {
    let Some((sub, rest)) = args.split_first() else {
        return Ok(Command::Help);
    };
    let mut it = rest.iter();
    match sub.as_str() {
        "login" => {
            let (mut target, mut portal, mut initiator, mut alias) = (None, None, None, None);
            let (mut chap, mut mutual, mut source, mut iface) = (None, None, None, None);
            let (mut weight, mut standby, mut paths) = (None, false, Vec::new());
            let (mut policy, mut failback) = (None, false);
            let mut params = Vec::new();
            while let Some(o) = it.next() {
                match o.as_str() {
                    "--target" | "-T" => target = Some(value(&mut it, o)?),
                    "--portal" | "-p" => portal = Some(parse_portal(&value(&mut it, o)?)?),
                    "--initiator" | "-I" => initiator = Some(value(&mut it, o)?),
                    "--alias" => alias = Some(value(&mut it, o)?),
                    "--chap" => chap = Some(user_secret(&value(&mut it, o)?, "--chap")?),
                    "--mutual" => mutual = Some(user_secret(&value(&mut it, o)?, "--mutual")?),
                    "--digest" => {
                        params.push((Attr::HeaderDigest, ParamValue::U8(Digest::Crc32c as u8)));
                        params.push((Attr::DataDigest, ParamValue::U8(Digest::Crc32c as u8)));
                    }
                    "--source" => source = Some(path::parse_source(&value(&mut it, o)?)?),
                    "--iface" => iface = Some(path::parse_iface(&value(&mut it, o)?)?),
                    "--weight" => weight = Some(num(&value(&mut it, o)?, "--weight")?),
                    "--standby" => standby = true,
                    "--path" => paths.push(PathArgs::parse_spec(&value(&mut it, o)?)?),
                    "--policy" => policy = Some(parse_policy(&value(&mut it, o)?)?),
                    "--failback" => failback = true,
                    "--param" => params.push(parse_param(&value(&mut it, o)?)?),
                    _ => return Err(inval(format!("unknown login option '{o}'"))),
                }
            }
            if mutual.is_some() && chap.is_none() {
                return Err(inval("--mutual needs --chap"));
            }
            if paths.len() > MAX_PATHS {
                return Err(inval(format!(
                    "{} --path options: a session has at most {} connections, so at most \
                     {MAX_PATHS} besides the first",
                    paths.len(),
                    MAX_PATHS + 1
                )));
            }
            Ok(Command::Login(Box::new(LoginArgs {
                target: target.ok_or_else(|| inval("login needs --target"))?,
                portal: portal.ok_or_else(|| inval("login needs --portal"))?,
                initiator,
                alias,
                chap,
                mutual,
                source,
                iface,
                weight,
                standby,
                paths,
                policy,
                failback,
                params,
            })))
        }
        "logout" => {
            let mut r = None;
            while let Some(o) = it.next() {
                match o.as_str() {
                    "--sid" | "-r" => r = Some(LogoutArgs::Sid(num(&value(&mut it, o)?, "--sid")?)),
                    "--all" | "-u" => r = Some(LogoutArgs::All),
                    _ => return Err(inval(format!("unknown logout option '{o}'"))),
                }
            }
            Ok(Command::Logout(
                r.ok_or_else(|| inval("logout needs --sid N or --all"))?,
            ))
        }
        "list" | "session" => {
            let (mut level, mut sid) = (0, None);
            while let Some(o) = it.next() {
                match o.as_str() {
                    "-P" | "--print" => level = num(&value(&mut it, o)?, "-P")?,
                    "--sid" | "-r" => sid = Some(num(&value(&mut it, o)?, "--sid")?),
                    _ => return Err(inval(format!("unknown list option '{o}'"))),
                }
            }
            Ok(Command::List { level, sid })
        }
        "conn-add" => Ok(Command::ConnAdd(mcs_args::conn_add(&mut it)?)),
        "conn-remove" => Ok(Command::ConnRemove(mcs_args::conn_remove(&mut it)?)),
        "policy" => Ok(Command::Policy(mcs_args::policy(&mut it)?)),
        "conn-set" => Ok(Command::ConnSet(mcs_args::conn_set(&mut it)?)),
        "stats" => {
            let mut sid = None;
            while let Some(o) = it.next() {
                match o.as_str() {
                    "--sid" | "-r" => sid = Some(num(&value(&mut it, o)?, "--sid")?),
                    _ => return Err(inval(format!("unknown stats option '{o}'"))),
                }
            }
            Ok(Command::Stats { sid })
        }
        "watch" => match it.next() {
            None => Ok(Command::Watch),
            Some(o) => Err(inval(format!("unknown watch option '{o}'"))),
        },
        "debug-raw" => {
            let (mut cmd, mut dump, mut attrs) = (None, false, Vec::new());
            while let Some(o) = it.next() {
                match o.as_str() {
                    "--cmd" => cmd = Some(num(&value(&mut it, o)?, "--cmd")?),
                    "--dump" => dump = true,
                    "--attr" | "--u32" | "--str" => {
                        attrs.push(parse_raw_attr(&value(&mut it, o)?, o)?)
                    }
                    _ => return Err(inval(format!("unknown debug-raw option '{o}'"))),
                }
            }
            Ok(Command::DebugRaw(RawArgs {
                cmd: cmd.ok_or_else(|| inval("debug-raw needs --cmd N"))?,
                dump,
                attrs,
            }))
        }
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => Err(inval(format!("unknown command '{other}'"))),
    }
}

/// Usage text.
pub const USAGE: &str = "\
usage: rsiscsiadm login --target IQN --portal IP[:PORT] [--initiator IQN] [--alias NAME]
                        [--chap USER:SECRET [--mutual USER:SECRET]] [--digest]
                        [--source IP] [--iface DEV] [--weight N] [--standby]
                        [--path SPEC]... [--policy NAME] [--failback] [--param Key=Value]...
       rsiscsiadm logout --sid N | --all
       rsiscsiadm list [-P 1] [--sid N]
       rsiscsiadm stats [--sid N]
       rsiscsiadm conn-add --sid N --portal IP[:PORT] [--source IP] [--iface DEV] [--weight N]
                           [--standby] [--nop-interval S] [--nop-timeout S]
                           [--stall S]
       rsiscsiadm conn-remove --sid N --cid C
       rsiscsiadm conn-set --sid N --cid C [--weight N] [--standby | --active]
       rsiscsiadm policy --sid N --policy NAME [--failback | --no-failback]
       rsiscsiadm watch
login's --portal, --source, --iface, --weight and --standby describe the first connection;
  each --path SPEC logs in one more (at most 7):
  SPEC = IP[:PORT][,source=IP][,iface=DEV][,weight=N][,standby][,nop=INTERVAL:TIMEOUT]
         [,stall=S]   (times in seconds, fractions allowed)
policies: fail-over-only, round-robin (the default), round-robin-with-subset,
  least-queue-depth, weighted-paths, least-blocks, service-time
--param keys: HeaderDigest, DataDigest (None|CRC32C|CRC32C,None), ImmediateData, InitialR2T
  (Yes|No), MaxBurstLength, FirstBurstLength, MaxRecvDataSegmentLength, ErrorRecoveryLevel,
  MaxConnections, DefaultTime2Wait, DefaultTime2Retain, ReplacementTimeout (seconds),
  NopInterval, NopTimeout, StallTimeout (seconds, fractions allowed: 0.25)
exit codes (iscsiadm's): 0 ok, 2 session not found, 5 login failed, 7 invalid argument,
  10 logout failed, 12 rsiscsi.ko not loaded, 13 access denied, 15 session exists,
  21 no objects found, 24 login authentication failed,
  28 busy (a login or another change in progress)
";

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn times_in_seconds_with_fractions() {
        for (t, ms) in [
            ("5", 5000),
            ("0.25", 250),
            (".1", 100),
            ("1.5", 1500),
            ("0", 0),
        ] {
            assert_eq!(seconds_ms(t, "t").unwrap(), ms, "{t}");
            assert_eq!(seconds_ms(&ms_seconds(ms), "t").unwrap(), ms);
        }
        for bad in [
            "",
            ".",
            "1.2345",
            "-1",
            "1e3",
            "3601",
            "0x10",
            "1,5",
            "4294967.296",
        ] {
            assert!(seconds_ms(bad, "t").is_err(), "{bad}");
        }
        assert_eq!(ms_seconds(250), "0.25");
        assert_eq!(ms_seconds(5000), "5");
        assert_eq!(
            parse_param("StallTimeout=0.1").unwrap(),
            (Attr::StallTimeoutMs, ParamValue::U32(100))
        );
        assert_eq!(
            parse_param("DefaultTime2Wait=0").unwrap(),
            (Attr::DefaultTime2Wait, ParamValue::U16(0))
        );
    }

    #[test]
    fn login_full() {
        let c = parse(&v("login --target iqn.t --portal 10.1.0.2 --initiator iqn.i --chap u:s:x \
                          --mutual m:t --digest --source 10.1.0.1 --iface i0 --param InitialR2T=Yes \
                          --param MaxBurstLength=65536"))
        .unwrap();
        let Command::Login(l) = c else { panic!() };
        assert_eq!(l.portal, "10.1.0.2:3260".parse().unwrap());
        assert_eq!(l.chap, Some(("u".into(), "s:x".into())));
        assert_eq!(l.mutual, Some(("m".into(), "t".into())));
        assert_eq!(l.iface.as_deref(), Some("i0"));
        assert_eq!(
            l.params,
            vec![
                (Attr::HeaderDigest, ParamValue::U8(1)),
                (Attr::DataDigest, ParamValue::U8(1)),
                (Attr::InitialR2t, ParamValue::U8(1)),
                (Attr::MaxBurstLength, ParamValue::U32(65536)),
            ]
        );
    }

    #[test]
    fn login_paths_and_policy() {
        let c = parse(&v(
            "login --target iqn.t --portal 10.1.0.2 --weight 1 --standby \
             --path 10.2.0.2,source=10.2.0.1,weight=2 \
             --path [fd00::2]:3262,standby --policy weighted-paths --failback",
        ))
        .unwrap();
        let Command::Login(l) = c else { panic!() };
        assert_eq!((l.weight, l.standby), (Some(1), true));
        assert_eq!(l.policy, Some(PolicyKind::WeightedPaths));
        assert!(l.failback);
        assert_eq!(l.paths.len(), 2);
        assert_eq!(l.paths[0].portal, "10.2.0.2:3260".parse().unwrap());
        assert_eq!(l.paths[0].source, Some("10.2.0.1".parse().unwrap()));
        assert_eq!(l.paths[0].weight, Some(2));
        assert_eq!(l.paths[1].portal, "[fd00::2]:3262".parse().unwrap());
        assert!(l.paths[1].standby);
        let Command::Login(l) = parse(&v("login --target t --portal 10.1.0.2")).unwrap() else {
            panic!()
        };
        assert_eq!(
            (l.weight, l.standby, l.policy, l.failback),
            (None, false, None, false)
        );
        assert!(l.paths.is_empty());
    }

    #[test]
    fn login_path_limit() {
        let base = "login --target t --portal 10.1.0.2";
        let with = |n: usize| format!("{base}{}", " --path 10.2.0.2".repeat(n));
        let Command::Login(l) = parse(&v(&with(MAX_PATHS))).unwrap() else {
            panic!()
        };
        assert_eq!(l.paths.len(), 7);
        let e = parse(&v(&with(MAX_PATHS + 1))).unwrap_err();
        assert_eq!(e.exit_code(), 7);
        assert!(e.to_string().contains("at most 7"), "{e}");
    }

    #[test]
    fn usage_names_every_policy_and_the_path_limit() {
        for k in PolicyKind::ALL {
            assert!(USAGE.contains(k.name()), "{}", k.name());
        }
        assert!(USAGE.contains(&format!("(at most {MAX_PATHS})")));
    }

    #[test]
    fn portals() {
        assert_eq!(
            parse_portal("10.1.0.2:3261").unwrap(),
            "10.1.0.2:3261".parse().unwrap()
        );
        assert_eq!(
            parse_portal("10.1.0.2:3260,1").unwrap(),
            "10.1.0.2:3260".parse().unwrap()
        );
        assert_eq!(
            parse_portal("[fd00::2]:3262").unwrap(),
            "[fd00::2]:3262".parse().unwrap()
        );
        assert_eq!(
            parse_portal("fd00::2").unwrap(),
            "[fd00::2]:3260".parse().unwrap()
        );
        assert!(parse_portal("host").is_err());
    }

    #[test]
    fn errors_are_invalid_argument() {
        for bad in [
            "login --portal 10.1.0.2",
            "login --target t --portal 10.1.0.2 --mutual a:b",
            "login --target t --portal 10.1.0.2 --chap nosecret",
            "login --target t --portal 10.1.0.2 --param Bogus=1",
            "login --target t --portal 10.1.0.2 --param ImmediateData=maybe",
            "login --target t --portal 10.1.0.2 --policy fastest",
            "login --target t --portal 10.1.0.2 --policy",
            "login --target t --portal 10.1.0.2 --path",
            "login --target t --portal 10.1.0.2 --path host",
            "login --target t --portal 10.1.0.2 --path 10.2.0.2,weight=x",
            "login --target t --portal 10.1.0.2 --path 10.2.0.2,standby=yes",
            "login --target t --portal 10.1.0.2 --weight many",
            "login --target t --portal 10.1.0.2 --iface a-name-far-too-long",
            "logout",
            "frobnicate",
        ] {
            assert_eq!(parse(&v(bad)).unwrap_err().exit_code(), 7, "{bad}");
        }
    }

    #[test]
    fn logout_list_raw() {
        assert_eq!(
            parse(&v("logout --sid 3")).unwrap(),
            Command::Logout(LogoutArgs::Sid(3))
        );
        assert_eq!(
            parse(&v("logout --all")).unwrap(),
            Command::Logout(LogoutArgs::All)
        );
        assert_eq!(
            parse(&v("list -P 1")).unwrap(),
            Command::List {
                level: 1,
                sid: None
            }
        );
        let Command::DebugRaw(r) =
            parse(&v("debug-raw --cmd 2 --u32 2=5 --attr 99=0a0b --str 3=x")).unwrap()
        else {
            panic!()
        };
        assert_eq!(r.cmd, 2);
        assert_eq!(r.attrs[0], (2, 5u32.to_ne_bytes().to_vec()));
        assert_eq!(r.attrs[1], (99, vec![10, 11]));
        assert_eq!(r.attrs[2], (3, vec![b'x', 0]));
    }
}
