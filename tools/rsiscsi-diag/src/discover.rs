// SPDX-License-Identifier: GPL-2.0
//! `rsiscsi-diag discover`: a Discovery session, SendTargets=All, one
//! line per portal like `iscsiadm -m discovery`, then logout.

use crate::args::DiscoverArgs;
use crate::error::DiagError;
use crate::login::{self, LoginSpec};
use crate::logout::logout;
use crate::sendtargets;
use rsiscsi_core::logout::LogoutKind;

/// Runs discovery against one portal and prints the records.
pub fn run(a: &DiscoverArgs) -> Result<(), DiagError> {
    let spec = LoginSpec::discovery(a);
    let (mut sess, mut conn, _info) = login::login_discovery(&spec)?;
    let answer = sendtargets::send_targets(&mut sess, &mut conn);
    let out = logout(&mut sess, &mut conn, LogoutKind::CloseSession);
    let records = sendtargets::parse(&answer?)?;
    for r in &records {
        say!("{r}");
    }
    out.map(|_| ())
}
