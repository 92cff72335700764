// SPDX-License-Identifier: GPL-2.0
//! `rsiscsi-diag`: a synchronous userspace iSCSI initiator that drives the
//! rsiscsi protocol core over `std::net::TcpStream`, to check the core
//! against real targets (discovery, login with CHAP, SCSI I/O, MC/S).
//!
//! All iSCSI logic (PDUs, digests, login, CHAP, key negotiation, CmdSN and
//! StatSN, Data-Out planning, Data-In sequencing, NOP, logout) is the
//! core's; this binary owns the socket, the SCSI CDBs ([`cdb`]) and the
//! test scenario ([`io`]). Usage and exit codes: [`args::USAGE`] and
//! [`error::DiagError::exit_code`].

/// `println!` that ignores a closed stdout (`rsiscsi-diag ... | head`)
/// instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod args;
mod cdb;
mod discover;
mod error;
mod io;
mod login;
mod logout;
mod pattern;
mod ping;
mod scsi;
mod sendtargets;
mod session;
mod wire;

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = match args::parse(&argv) {
        Ok(args::Command::Help) => {
            say!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(args::Command::Discover(a)) => discover::run(&a),
        Ok(args::Command::Io(a)) => io::run(&a),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rsiscsi-diag: {e}");
            if matches!(e, error::DiagError::Usage(_)) {
                eprintln!("{}", args::USAGE);
            }
            ExitCode::from(e.exit_code())
        }
    }
}
