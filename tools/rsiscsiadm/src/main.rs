// SPDX-License-Identifier: GPL-2.0
//! rsiscsiadm: log in, log out, list and watch rsiscsi sessions, add and
//! remove their connections and change their load balancing, over the
//! module's generic netlink interface (Documentation/abi.rst).

mod args;
mod attrs;
mod client;
mod conn_add;
mod conn_remove;
mod conn_set;
mod counters;
mod error;
mod list;
mod login;
mod logout;
mod mcs_args;
mod nl;
mod path;
mod policy;
mod raw;
mod session;
mod stats;
mod watch;

use args::Command;
use client::Client;
use error::AdmError;

fn run(cmd: Command) -> Result<(), AdmError> {
    if cmd == Command::Help {
        print!("{}", args::USAGE);
        return Ok(());
    }
    let mut c = Client::connect()?;
    match cmd {
        Command::Login(a) => login::run(&mut c, &a),
        Command::Logout(a) => logout::run(&mut c, &a),
        Command::List { level, sid } => list::run(&mut c, level, sid),
        Command::Watch => watch::run(&mut c),
        Command::ConnAdd(a) => conn_add::run(&mut c, &a),
        Command::ConnRemove(a) => conn_remove::run(&mut c, &a),
        Command::Policy(a) => policy::run(&mut c, &a),
        Command::ConnSet(a) => conn_set::run(&mut c, &a),
        Command::Stats { sid } => stats::run(&mut c, sid),
        Command::DebugRaw(a) => raw::run(&mut c, &a),
        Command::Help => Ok(()),
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let r = args::parse(&argv).and_then(run);
    if let Err(e) = r {
        eprintln!("rsiscsiadm: {e}");
        if matches!(e, AdmError::Invalid(_)) && argv.first().is_none_or(|s| s != "login") {
            eprint!("{}", args::USAGE);
        }
        std::process::exit(e.exit_code());
    }
}
