// SPDX-License-Identifier: GPL-2.0
//! `rsiscsi-faketarget`: a one-connection iSCSI target that logs an
//! initiator in properly and then breaks the protocol on purpose, so the
//! guest tests can check that rsiscsi drops such a connection with a logged
//! reason instead of crashing or hanging.
//!
//! It listens on one address, accepts one connection, answers a leading
//! Normal login without authentication (security stage, then operational,
//! or straight to operational), answers NOP-Out pings, and replies to the
//! first SCSI Command with the malformed PDU its `--mode` names
//! ([`target::Mode`]). It then waits for the initiator to close the
//! connection: exit 0 means the initiator dropped it, 1 that something else
//! happened (message on stderr), 2 a usage error. PDUs, digests and key
//! rules all come from `rsiscsi-core`; this only moves bytes.
//!
//! One mode breaks nothing: `async-logout` serves a session of several
//! connections and asks the initiator to log one out (`mcs`).

mod mcs;
mod target;

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use target::{Mode, Options};

const USAGE: &str = "\
usage: rsiscsi-faketarget --listen IP:PORT --mode MODE [--target IQN]
modes (each in reply to the first SCSI Command, after a normal login):
  bad-opcode     a BHS with an opcode RFC 7143 does not define (0x2a)
  oversize       a SCSI Response announcing more data than the initiator's
                 MaxRecvDataSegmentLength (the header only)
  unknown-itt    a NOP-In answering a ping (ITT) the initiator never sent
  bad-offset     a Data-In whose data lies past the command's buffer
  statsn-jump    a SCSI Response whose StatSN skips far ahead
  header-digest  a SCSI Response with a wrong header digest (log in with
                 HeaderDigest=CRC32C)
  truncated      half a BHS, then the target closes its side
and one that is no fault, serving a session of up to 4 connections (no LUN):
  async-logout   a few seconds after the second connection logs in, an Async
                 Message event 1 on it (log this connection out within 10 s)
exit: 0 the initiator closed the connection afterwards (async-logout: it
  logged that connection out, logged it in again, then closed the session),
  1 anything else, 2 usage";

/// Default TargetName.
const DEFAULT_TARGET: &str = "iqn.2026-11.org.rsiscsi:faketarget";

fn parse(args: &[String]) -> Result<(SocketAddr, Options), String> {
    let mut listen = None;
    let mut mode = None;
    let mut target = DEFAULT_TARGET.to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--listen" => {
                let v = value()?;
                listen = Some(
                    v.parse::<SocketAddr>()
                        .map_err(|_| format!("bad address '{v}' (IP:PORT)"))?,
                );
            }
            "--mode" => {
                let v = value()?;
                mode = Some(Mode::parse(v).ok_or_else(|| format!("unknown mode '{v}'"))?);
            }
            "--target" => target = value()?.clone(),
            _ => return Err(format!("unknown argument '{a}'")),
        }
    }
    Ok((
        listen.ok_or("--listen is required")?,
        Options {
            mode: mode.ok_or("--mode is required")?,
            target,
        },
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (addr, opts) = match parse(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rsiscsi-faketarget: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("rsiscsi-faketarget: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "rsiscsi-faketarget: listening on {addr}, mode {}",
        opts.mode
    );
    match target::serve(&listener, &opts, &mut std::io::stderr()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rsiscsi-faketarget: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn arguments() {
        let (a, o) = parse(&v("--listen 10.3.0.2:3261 --mode oversize")).unwrap();
        assert_eq!(a, "10.3.0.2:3261".parse().unwrap());
        assert_eq!(o.mode, Mode::Oversize);
        assert_eq!(o.target, DEFAULT_TARGET);
        let (_, o) = parse(&v("--mode truncated --target iqn.x --listen [::1]:3260")).unwrap();
        assert_eq!((o.mode, o.target.as_str()), (Mode::Truncated, "iqn.x"));
        for bad in [
            "--mode oversize",
            "--listen 10.3.0.2:3261",
            "--listen 10.3.0.2 --mode oversize",
            "--listen 10.3.0.2:3261 --mode polite",
            "--listen 10.3.0.2:3261 --mode",
            "--listen 10.3.0.2:3261 --mode oversize --extra",
        ] {
            assert!(parse(&v(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn usage_lists_every_mode() {
        for m in Mode::ALL {
            assert!(USAGE.contains(&format!("  {m} ")), "{m}");
        }
    }
}
