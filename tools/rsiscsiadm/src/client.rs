// SPDX-License-Identifier: GPL-2.0
//! The connection to rsiscsi.ko: a netlink socket with the family resolved.

use crate::attrs::AttrBuf;
use crate::error::{AdmError, NlError};
use crate::nl::{Message, Nl};
use rsiscsi_abi::{Cmd, FAMILY_NAME, MCGRP_EVENTS, VERSION};

/// A socket talking to the rsiscsi family.
pub struct Client {
    nl: Nl,
    family: u16,
    events: Option<u32>,
}

impl Client {
    /// Opens the socket and looks the family up.
    pub fn connect() -> Result<Client, AdmError> {
        let mut nl = Nl::open().map_err(|e| AdmError::Other(format!("netlink socket: {e}")))?;
        let fam = nl.resolve(FAMILY_NAME).map_err(|e| match e.errno {
            libc::ENOENT => AdmError::NoModule,
            _ => e.into_adm(),
        })?;
        let events = fam
            .groups
            .iter()
            .find(|(n, _)| n == MCGRP_EVENTS)
            .map(|g| g.1);
        Ok(Client {
            nl,
            family: fam.id,
            events,
        })
    }

    /// A request; its replies, or the kernel's error.
    pub fn request(&mut self, cmd: Cmd, attrs: &AttrBuf) -> Result<Vec<Message>, NlError> {
        self.nl.request(self.family, cmd as u8, VERSION, attrs)
    }

    /// A dump.
    pub fn dump(&mut self, cmd: Cmd, attrs: &AttrBuf) -> Result<Vec<Message>, NlError> {
        self.nl.dump(self.family, cmd as u8, VERSION, attrs)
    }

    /// A raw command number (debug-raw).
    pub fn raw(&mut self, cmd: u8, dump: bool, attrs: &AttrBuf) -> Result<Vec<Message>, NlError> {
        if dump {
            self.nl.dump(self.family, cmd, VERSION, attrs)
        } else {
            self.nl.request(self.family, cmd, VERSION, attrs)
        }
    }

    /// Joins the events group; then `next_events` returns what arrives.
    pub fn subscribe(&mut self) -> Result<(), AdmError> {
        let g = self
            .events
            .ok_or_else(|| AdmError::Other("the family has no events group".into()))?;
        self.nl
            .join(g)
            .map_err(|e| AdmError::Other(format!("joining the events group: {e}")))
    }

    /// Blocks for the next batch of event messages.
    pub fn next_events(&mut self) -> Result<Vec<Message>, AdmError> {
        let fam = self.family;
        Ok(self
            .nl
            .recv()
            .map_err(|e| AdmError::Other(format!("netlink receive: {e}")))?
            .into_iter()
            .filter(|m| m.ty == fam && m.genl_cmd() == Cmd::Event as u8)
            .collect())
    }
}
