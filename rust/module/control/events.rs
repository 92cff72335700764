// SPDX-License-Identifier: GPL-2.0

//! Events on the `events` multicast group (`abi::Cmd::Event`): sessions and
//! connections going up and down, recovery starting and ending, policy and
//! connection settings changing.
#![forbid(unsafe_code)]

use crate::abi::{self, Attr, EventKind};
use crate::abs::genl::MsgWriter;
use crate::control::netlink::Control;
use crate::session::Session;
use kernel::prelude::*;

/// Multicasts `kind` for session `sess` (and connection `cid`, if any) in
/// the session's namespace. Losing an event under memory pressure is
/// logged, never fatal; in a namespace being deleted nobody can listen, so
/// nothing is sent.
pub(crate) fn emit(
    ctl: &Control,
    sess: &Session,
    kind: EventKind,
    cid: Option<u16>,
    reason: &[u8],
    extra: impl FnOnce(&mut MsgWriter<'_>) -> Result,
) {
    let Some(net) = sess.net.get() else {
        return;
    };
    let r = ctl.multicast(&net, abi::Cmd::Event, |w| {
        w.put_u8(Attr::Event, kind as u8)?;
        w.put_u32(Attr::Sid, sess.sid)?;
        w.put_str(Attr::TargetName, &sess.cfg.target)?;
        if let Some(cid) = cid {
            w.put_u16(Attr::Cid, cid)?;
        }
        if !reason.is_empty() {
            w.put_str(Attr::Reason, &reason[..reason.len().min(127)])?;
        }
        extra(w)
    });
    if let Err(e) = r {
        pr_warn!(
            "rsiscsi: session {}: event {} lost ({:?})\n",
            sess.sid,
            kind.name(),
            e
        );
    }
}
