// SPDX-License-Identifier: GPL-2.0
//! Logout Request and Response (RFC 7143 §11.14, §11.15): closing the
//! session, closing one connection, or removing a failed connection so its
//! tasks can be reassigned (ERL 2 connection recovery, §7.2.2).
//!
//! Times come back as absolute deadlines in the caller's monotonic
//! milliseconds, like every other timer of the core.
//!
//! LIO never fills Time2Wait/Time2Retain in its Logout Response
//! (`iscsit_build_logout_rsp` leaves them 0), which by the letter of
//! §11.15.5 would mean "task state already discarded", yet it keeps the
//! tasks for reassignment. So a response's Time2Retain never shortens the
//! session's negotiated DefaultTime2Retain here: trying a TASK REASSIGN
//! that fails costs one round trip, abandoning live tasks costs the I/O.

use super::pdu::{self, LogoutReason};

/// What a Logout asks for (RFC 7143 §11.14.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutKind {
    /// Reason 0: close the session, every connection of it.
    CloseSession,
    /// Reason 1: close connection `cid` (this one or another).
    CloseConnection {
        /// CID of the connection to close.
        cid: u16,
    },
    /// Reason 2: remove failed connection `cid` for recovery; its tasks
    /// survive for TASK REASSIGN. Sent on another connection.
    RemoveConnectionForRecovery {
        /// CID of the failed connection.
        cid: u16,
    },
}

/// Why a Logout Request could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutError {
    /// Reason 2 outside ErrorRecoveryLevel 2: the target could only answer
    /// "recovery not supported" (§11.15.1).
    RecoveryNeedsErl2,
    /// Reason 2 sent on the connection it removes: that connection is the
    /// failed one, and LIO answers "cleanup failed" to it.
    RemoveOwnConnection,
}

impl LogoutKind {
    /// The Reason Code.
    pub const fn reason(&self) -> LogoutReason {
        match self {
            LogoutKind::CloseSession => LogoutReason::CloseSession,
            LogoutKind::CloseConnection { .. } => LogoutReason::CloseConnection,
            LogoutKind::RemoveConnectionForRecovery { .. } => {
                LogoutReason::RemoveConnectionForRecovery
            }
        }
    }

    /// The connection concerned, `None` for the whole session.
    pub const fn cid(&self) -> Option<u16> {
        match self {
            LogoutKind::CloseSession => None,
            LogoutKind::CloseConnection { cid }
            | LogoutKind::RemoveConnectionForRecovery { cid } => Some(*cid),
        }
    }

    /// The Logout Request to send on connection `sending_cid`.
    ///
    /// `exp_stat_sn` is that of the connection being closed (§11.14: "the
    /// last ExpStatSN value for the connection to be closed"): for reason 2
    /// the last one sent on the failed connection. The request is immediate,
    /// as open-iscsi sends it, so it is not held up by a closed CmdSN window.
    pub fn to_pdu(
        &self,
        sending_cid: u16,
        error_recovery_level: u8,
        itt: u32,
        cmd_sn: u32,
        exp_stat_sn: u32,
    ) -> Result<pdu::LogoutRequest, LogoutError> {
        if let LogoutKind::RemoveConnectionForRecovery { cid } = *self {
            if error_recovery_level < 2 {
                return Err(LogoutError::RecoveryNeedsErl2);
            }
            if cid == sending_cid {
                return Err(LogoutError::RemoveOwnConnection);
            }
        }
        Ok(pdu::LogoutRequest {
            immediate: true,
            reason: self.reason(),
            itt,
            cid: self.cid().unwrap_or(0),
            cmd_sn,
            exp_stat_sn,
        })
    }
}

/// A time window from the target's Time2Wait/Time2Retain (§11.15.4-5),
/// as absolute monotonic milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryWindow {
    /// Not before this time (now + Time2Wait).
    pub not_before: u64,
    /// Not after this time (not_before + Time2Retain); the target discards
    /// the state then.
    pub deadline: u64,
}

impl RetryWindow {
    /// The window that starts `time2wait` seconds after `now` and lasts
    /// `time2retain` seconds; `None` when Time2Retain is 0, meaning the
    /// target already discarded the state (§11.15.5).
    pub fn from_times(now: u64, time2wait: u16, time2retain: u16) -> Option<Self> {
        if time2retain == 0 {
            return None;
        }
        let not_before = now.saturating_add(u64::from(time2wait) * 1000);
        Some(Self {
            not_before,
            deadline: not_before.saturating_add(u64::from(time2retain) * 1000),
        })
    }
}

/// What a Logout Response means (§11.15.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// Reason 0 succeeded: every connection closes, the session is gone.
    SessionClosed,
    /// Reason 1 succeeded: the connection closes; at ERL < 2 its tasks are
    /// gone.
    ConnectionClosed {
        /// The CID that was closed.
        cid: u16,
    },
    /// Reason 2 succeeded: the connection is logged out. Its tasks may be
    /// reassigned within `reassign` (Time2Wait/Time2Retain, §11.15.4-5).
    ConnectionRemoved {
        /// The CID that was removed.
        cid: u16,
        /// When TASK REASSIGN may and must be sent.
        reassign: RetryWindow,
    },
    /// Response 1: the target does not know the CID, so there is nothing
    /// left to log out for it.
    CidNotFound,
    /// Response 2: connection recovery not supported; fall back to session
    /// recovery.
    RecoveryNotSupported,
    /// Response 3: cleanup failed. Try another Logout (implicit or
    /// explicit) within `retry`.
    CleanupFailed {
        /// When the next Logout may and must be sent.
        retry: RetryWindow,
    },
    /// A Response value RFC 7143 does not define: treat as failed.
    Unknown(u8),
}

/// Interpret the Logout Response to a request of `kind` received at `now`.
/// `default_time2retain` is the session's negotiated DefaultTime2Retain
/// (§13.16), the floor for the response's Time2Retain (see the module
/// docs for why).
pub fn interpret(
    kind: &LogoutKind,
    rsp: &pdu::LogoutResponse,
    now: u64,
    default_time2retain: u16,
) -> LogoutOutcome {
    let time2retain = rsp.time2retain.max(default_time2retain);
    let not_before = now.saturating_add(u64::from(rsp.time2wait) * 1000);
    let window = || RetryWindow {
        not_before,
        deadline: not_before.saturating_add(u64::from(time2retain) * 1000),
    };
    match rsp.response {
        pdu::logout::LOGOUT_RSP_SUCCESS => match *kind {
            LogoutKind::CloseSession => LogoutOutcome::SessionClosed,
            LogoutKind::CloseConnection { cid } => LogoutOutcome::ConnectionClosed { cid },
            LogoutKind::RemoveConnectionForRecovery { cid } => LogoutOutcome::ConnectionRemoved {
                cid,
                reassign: window(),
            },
        },
        pdu::logout::LOGOUT_RSP_CID_NOT_FOUND => LogoutOutcome::CidNotFound,
        pdu::logout::LOGOUT_RSP_RECOVERY_NOT_SUPPORTED => LogoutOutcome::RecoveryNotSupported,
        pdu::logout::LOGOUT_RSP_CLEANUP_FAILED => LogoutOutcome::CleanupFailed { retry: window() },
        other => LogoutOutcome::Unknown(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsp(response: u8, time2wait: u16, time2retain: u16) -> pdu::LogoutResponse {
        pdu::LogoutResponse {
            response,
            itt: 9,
            stat_sn: 0,
            exp_cmd_sn: 0,
            max_cmd_sn: 0,
            time2wait,
            time2retain,
        }
    }

    #[test]
    fn remove_for_recovery_request_layout() {
        let req = LogoutKind::RemoveConnectionForRecovery { cid: 3 }
            .to_pdu(1, 2, 0x44, 100, 57)
            .unwrap();
        let mut bhs = [0u8; pdu::BHS_LEN];
        req.encode(&mut bhs).unwrap();
        // RFC 7143 §11.14: I bit + opcode 0x06, F bit + reason 2, ITT, CID
        // at bytes 20-21, CmdSN, ExpStatSN.
        assert_eq!(&bhs[..2], &[0x46, 0x82]);
        assert_eq!(
            &bhs[16..32],
            &[0, 0, 0, 0x44, 0, 3, 0, 0, 0, 0, 0, 100, 0, 0, 0, 57]
        );
    }

    #[test]
    fn request_validation() {
        let k = LogoutKind::RemoveConnectionForRecovery { cid: 3 };
        assert_eq!(k.to_pdu(1, 1, 0, 0, 0), Err(LogoutError::RecoveryNeedsErl2));
        assert_eq!(
            k.to_pdu(3, 2, 0, 0, 0),
            Err(LogoutError::RemoveOwnConnection)
        );
        let close = LogoutKind::CloseConnection { cid: 3 }
            .to_pdu(3, 0, 1, 2, 3)
            .unwrap();
        assert_eq!(
            (close.reason, close.cid),
            (LogoutReason::CloseConnection, 3)
        );
        let s = LogoutKind::CloseSession.to_pdu(7, 0, 1, 2, 3).unwrap();
        assert_eq!((s.reason, s.cid), (LogoutReason::CloseSession, 0));
    }

    #[test]
    fn successful_removal_gives_reassign_window() {
        let k = LogoutKind::RemoveConnectionForRecovery { cid: 2 };
        assert_eq!(
            interpret(&k, &rsp(0, 2, 30), 1_000, 20),
            LogoutOutcome::ConnectionRemoved {
                cid: 2,
                reassign: RetryWindow {
                    not_before: 3_000,
                    deadline: 33_000
                }
            }
        );
        // LIO's 0/0: reassign at once, within the negotiated Time2Retain.
        assert_eq!(
            interpret(&k, &rsp(0, 0, 0), 1_000, 20),
            LogoutOutcome::ConnectionRemoved {
                cid: 2,
                reassign: RetryWindow {
                    not_before: 1_000,
                    deadline: 21_000
                }
            }
        );
    }

    #[test]
    fn other_responses() {
        let k = LogoutKind::RemoveConnectionForRecovery { cid: 2 };
        assert_eq!(
            interpret(&LogoutKind::CloseSession, &rsp(0, 2, 20), 0, 0),
            LogoutOutcome::SessionClosed
        );
        assert_eq!(
            interpret(&LogoutKind::CloseConnection { cid: 4 }, &rsp(0, 0, 0), 0, 0),
            LogoutOutcome::ConnectionClosed { cid: 4 }
        );
        assert_eq!(
            interpret(&k, &rsp(1, 0, 0), 0, 0),
            LogoutOutcome::CidNotFound
        );
        assert_eq!(
            interpret(&k, &rsp(2, 0, 0), 0, 0),
            LogoutOutcome::RecoveryNotSupported
        );
        assert_eq!(
            interpret(&k, &rsp(3, 1, 5), 500, 0),
            LogoutOutcome::CleanupFailed {
                retry: RetryWindow {
                    not_before: 1_500,
                    deadline: 6_500
                }
            }
        );
        assert_eq!(
            interpret(&k, &rsp(9, 0, 0), 0, 0),
            LogoutOutcome::Unknown(9)
        );
    }

    #[test]
    fn window_saturates_instead_of_wrapping() {
        let w = RetryWindow::from_times(u64::MAX - 10, u16::MAX, u16::MAX).unwrap();
        assert_eq!((w.not_before, w.deadline), (u64::MAX, u64::MAX));
    }
}
