// SPDX-License-Identifier: GPL-2.0
//! Command line parsing: `discover` and `io`, `--flag value` options.

use crate::error::DiagError;
use rsiscsi_core::hash::Algorithm;
use std::net::{SocketAddr, ToSocketAddrs};

/// Initiator name used when `--initiator` is not given.
pub const DEFAULT_INITIATOR: &str = "iqn.2024-01.org.rsiscsi:diag";

/// Most connections `--connections` accepts (RFC 7143 MaxConnections is
/// 16 bits, a diagnostic needs far fewer).
pub const MAX_CONNECTIONS: u16 = 16;

/// The usage text.
pub const USAGE: &str = "\
usage: rsiscsi-diag discover --portal IP:PORT [--initiator IQN]
       rsiscsi-diag io --portal IP:PORT --target IQN [--initiator IQN]
                       [--chap USER:SECRET] [--mutual USER:SECRET]
                       [--chap-algs LIST] [--connections N] [--digest]
  LIST: CHAP digests in preference order, from MD5, SHA1, SHA256, SHA3-256
        (default MD5, as open-iscsi)
exit: 0 ok, 2 usage, 4 connection failed, 5 login failed, 24 authentication
      failed, 9 protocol error, 40 SCSI error, 41 data mismatch,
      42 target refused an added connection (the rest succeeded)";

/// A CHAP user name and secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// CHAP_N.
    pub user: String,
    /// The shared secret.
    pub secret: String,
}

/// `discover` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverArgs {
    /// Portal to connect to.
    pub portal: SocketAddr,
    /// Our iSCSI name.
    pub initiator: String,
}

/// `io` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoArgs {
    /// Portal to connect to.
    pub portal: SocketAddr,
    /// Target name.
    pub target: String,
    /// Our iSCSI name.
    pub initiator: String,
    /// One-way CHAP credentials (ours).
    pub chap: Option<Secret>,
    /// Mutual CHAP: the name and secret the target must prove.
    pub mutual: Option<Secret>,
    /// CHAP algorithms to offer, most preferred first.
    pub chap_algs: Vec<Algorithm>,
    /// Connections in the session (1 = no MC/S).
    pub connections: u16,
    /// Ask for CRC32C header and data digests.
    pub digest: bool,
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `--help`.
    Help,
    /// `discover`.
    Discover(DiscoverArgs),
    /// `io`.
    Io(IoArgs),
}

fn usage(msg: impl Into<String>) -> DiagError {
    DiagError::Usage(msg.into())
}

fn parse_portal(s: &str) -> Result<SocketAddr, DiagError> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    // Allow a host name, and a bare address meaning the iSCSI port 3260.
    let with_port = if s.contains(':') {
        s.to_string()
    } else {
        format!("{s}:3260")
    };
    with_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| usage(format!("bad portal '{s}' (want IP:PORT)")))
}

fn parse_secret(opt: &str, s: &str) -> Result<Secret, DiagError> {
    match s.split_once(':') {
        Some((u, p)) if !u.is_empty() && !p.is_empty() => Ok(Secret {
            user: u.to_string(),
            secret: p.to_string(),
        }),
        _ => Err(usage(format!("{opt} wants USER:SECRET"))),
    }
}

fn parse_algs(s: &str) -> Result<Vec<Algorithm>, DiagError> {
    let mut out = Vec::new();
    for name in s.split(',') {
        let alg = match name.to_ascii_uppercase().as_str() {
            "MD5" => Algorithm::Md5,
            "SHA1" => Algorithm::Sha1,
            "SHA256" => Algorithm::Sha256,
            "SHA3-256" => Algorithm::Sha3_256,
            _ => return Err(usage(format!("--chap-algs: unknown algorithm '{name}'"))),
        };
        if out.contains(&alg) {
            return Err(usage(format!("--chap-algs: '{name}' given twice")));
        }
        out.push(alg);
    }
    Ok(out)
}

fn check_name(opt: &str, s: &str) -> Result<String, DiagError> {
    if s.is_empty() || s.len() > 223 || s.bytes().any(|b| b == 0 || b.is_ascii_whitespace()) {
        return Err(usage(format!("{opt}: not a valid iSCSI name: '{s}'")));
    }
    Ok(s.to_string())
}

/// Collected `--name value` pairs, each at most once.
#[derive(Default)]
struct Opts {
    pairs: Vec<(String, String)>,
    digest: bool,
}

impl Opts {
    fn parse(args: &[String], allowed: &[&str], flags: &[&str]) -> Result<Self, DiagError> {
        let mut o = Opts::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let (name, inline) = match a.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
                _ => (a.as_str(), None),
            };
            if flags.contains(&name) && inline.is_none() {
                o.digest = true;
                continue;
            }
            if !allowed.contains(&name) {
                return Err(usage(format!("unknown option '{a}'")));
            }
            let value = match inline {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| usage(format!("{name} needs a value")))?,
            };
            if o.pairs.iter().any(|(n, _)| n == name) {
                return Err(usage(format!("{name} given twice")));
            }
            o.pairs.push((name.to_string(), value));
        }
        Ok(o)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, DiagError> {
        self.get(name)
            .ok_or_else(|| usage(format!("{name} is required")))
    }

    fn initiator(&self) -> Result<String, DiagError> {
        check_name(
            "--initiator",
            self.get("--initiator").unwrap_or(DEFAULT_INITIATOR),
        )
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, DiagError> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err(usage("no command given"));
    };
    if rest.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    match cmd.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "discover" => {
            let o = Opts::parse(rest, &["--portal", "--initiator"], &[])?;
            Ok(Command::Discover(DiscoverArgs {
                portal: parse_portal(o.required("--portal")?)?,
                initiator: o.initiator()?,
            }))
        }
        "io" => {
            let o = Opts::parse(
                rest,
                &[
                    "--portal",
                    "--target",
                    "--initiator",
                    "--chap",
                    "--mutual",
                    "--connections",
                    "--chap-algs",
                ],
                &["--digest"],
            )?;
            let connections = match o.get("--connections") {
                None => 1,
                Some(v) => v
                    .parse::<u16>()
                    .ok()
                    .filter(|n| (1..=MAX_CONNECTIONS).contains(n))
                    .ok_or_else(|| {
                        usage(format!("--connections must be 1 to {MAX_CONNECTIONS}"))
                    })?,
            };
            let chap = o
                .get("--chap")
                .map(|s| parse_secret("--chap", s))
                .transpose()?;
            let mutual = o
                .get("--mutual")
                .map(|s| parse_secret("--mutual", s))
                .transpose()?;
            let chap_algs = parse_algs(o.get("--chap-algs").unwrap_or("MD5"))?;
            if mutual.is_some() && chap.is_none() {
                return Err(usage("--mutual needs --chap"));
            }
            Ok(Command::Io(IoArgs {
                portal: parse_portal(o.required("--portal")?)?,
                target: check_name("--target", o.required("--target")?)?,
                initiator: o.initiator()?,
                chap,
                mutual,
                chap_algs,
                connections,
                digest: o.digest,
            }))
        }
        other => Err(usage(format!("unknown command '{other}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn discover() {
        let c = parse(&args("discover --portal 127.0.0.1:3261")).unwrap();
        let Command::Discover(d) = c else { panic!() };
        assert_eq!(d.portal.port(), 3261);
        assert_eq!(d.initiator, DEFAULT_INITIATOR);
    }

    #[test]
    fn io_full() {
        let c = parse(&args(
            "io --portal 127.0.0.1:3261 --target iqn.x:t --chap u:s --mutual=tu:ts --connections 2 --digest",
        ))
        .unwrap();
        let Command::Io(io) = c else { panic!() };
        assert_eq!(io.connections, 2);
        assert!(io.digest);
        assert_eq!(io.chap.unwrap().secret, "s");
        assert_eq!(io.mutual.unwrap().user, "tu");
        assert_eq!(io.chap_algs, [Algorithm::Md5]);
        let c = parse(&args(
            "io --portal 127.0.0.1:3261 --target t --chap-algs sha256,SHA1,sha3-256,md5",
        ))
        .unwrap();
        let Command::Io(io) = c else { panic!() };
        assert_eq!(
            io.chap_algs,
            [
                Algorithm::Sha256,
                Algorithm::Sha1,
                Algorithm::Sha3_256,
                Algorithm::Md5
            ]
        );
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        for bad in [
            "",
            "frob",
            "discover",
            "discover --portal",
            "discover --portal nowhere:xx",
            "io --portal 127.0.0.1:1",
            "io --portal 127.0.0.1:1 --target t --connections 0",
            "io --portal 127.0.0.1:1 --target t --connections 99999",
            "io --portal 127.0.0.1:1 --target t --chap nouser",
            "io --portal 127.0.0.1:1 --target t --mutual a:b",
            "io --portal 127.0.0.1:1 --target t --target u",
            "io --portal 127.0.0.1:1 --target t --bogus",
            "io --portal 127.0.0.1:1 --target t --chap-algs md4",
            "io --portal 127.0.0.1:1 --target t --chap-algs md5,md5",
            "io --portal 127.0.0.1:1 --target t --chap-algs",
        ] {
            let e = parse(&args(bad)).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
    }
}
