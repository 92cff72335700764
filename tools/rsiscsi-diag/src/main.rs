// SPDX-License-Identifier: GPL-2.0
//! `rsiscsi-diag`: a synchronous userspace iSCSI initiator that drives the
//! rsiscsi protocol core over `std::net::TcpStream`, to check the core
//! against real targets (discovery, login with CHAP, SCSI I/O, MC/S).

mod args;
mod cdb;
mod error;
mod scsi;
mod session;
mod wire;

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match args::parse(&argv) {
        Ok(args::Command::Help) => {
            println!("{}", args::USAGE);
            ExitCode::SUCCESS
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rsiscsi-diag: {e}");
            eprintln!("{}", args::USAGE);
            ExitCode::from(e.exit_code())
        }
    }
}
