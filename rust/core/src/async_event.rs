// SPDX-License-Identifier: GPL-2.0
//! Asynchronous Message events (RFC 7143 §11.9.1) turned into actions the
//! session carries out. Parameter times (seconds) become absolute deadlines
//! in the caller's monotonic milliseconds.
//!
//! The Async Message itself consumes a StatSN on its connection; that
//! bookkeeping belongs to the connection, not here.

use super::datain::{parse_sense, SenseRange};
use super::logout::RetryWindow;
use super::nop::NopOutFields;
use super::pdu::async_msg::{
    ASYNC_EVENT_CONNECTION_DROP, ASYNC_EVENT_LOGOUT_REQUEST, ASYNC_EVENT_RENEGOTIATE,
    ASYNC_EVENT_SCSI, ASYNC_EVENT_SESSION_DROP, ASYNC_EVENT_TASK_TERMINATION, ASYNC_EVENT_VENDOR,
};
use super::pdu::{self, Lun, RESERVED_TAG};

/// What the session must do about an Async Message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncAction {
    /// Event 0: a SCSI asynchronous event for `lun`; hand the sense data
    /// (e.g. REPORTED LUNS DATA HAS CHANGED) to the SCSI layer.
    ScsiEvent {
        /// The logical unit reporting it.
        lun: Lun,
        /// Sense data within the message's data segment.
        sense: SenseRange,
    },
    /// Event 1: stop issuing commands on connection `cid` and log it out
    /// (reason 1, or reason 0 for the whole session) before `deadline`.
    LogoutRequested {
        /// The connection the message arrived on, which is the one to go.
        cid: u16,
        /// now + Parameter3 seconds.
        deadline: u64,
    },
    /// Event 2: the target drops connection `cid`. Its tasks can be
    /// reassigned (ERL 2) or the connection reinstated within `reassign`;
    /// `None` when Parameter3 (Time2Retain) is 0: the tasks are already
    /// terminated and no response will come for them.
    ConnectionDropped {
        /// Parameter1: the connection being dropped.
        cid: u16,
        /// Parameter2 (Time2Wait) / Parameter3 (Time2Retain) window.
        reassign: Option<RetryWindow>,
    },
    /// Event 3: the target drops every connection. Reconnect within
    /// `reconnect` to keep the session (session continuation); `None` when
    /// Parameter3 is 0 and the session is already gone.
    SessionDropped {
        /// Parameter2 / Parameter3 window.
        reconnect: Option<RetryWindow>,
    },
    /// Event 4: send a Text Request (possibly empty) on connection `cid`, or
    /// log it out, before `deadline`.
    RenegotiationRequested {
        /// The connection the message arrived on.
        cid: u16,
        /// now + Parameter3 seconds.
        deadline: u64,
    },
    /// Event 5 (RFC 7143): every task of `lun` is being terminated. Stop
    /// Data-Out for that LUN on this connection, then acknowledge the
    /// message's StatSN with `ack`, a non-ping NOP-Out carrying the LUN.
    TasksTerminated {
        /// The logical unit whose tasks end.
        lun: Lun,
        /// The NOP-Out to send once Data-Out for the LUN has stopped.
        ack: NopOutFields,
    },
    /// Event 255: vendor-specific; nothing is required.
    Vendor {
        /// AsyncVCode.
        vcode: u8,
    },
    /// A reserved event code; ignored.
    Unknown(u8),
}

/// Why an Async Message could not be interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncError {
    /// Event 0 without sense data, or a malformed SenseLength.
    MissingSense,
}

/// Interpret `msg` (with data segment `segment`) received at `now` on
/// connection `receiving_cid`.
pub fn interpret(
    msg: &pdu::AsyncMessage,
    segment: &[u8],
    receiving_cid: u16,
    now: u64,
) -> Result<AsyncAction, AsyncError> {
    let deadline = now.saturating_add(u64::from(msg.parameter3) * 1000);
    let window = || RetryWindow::from_times(now, msg.parameter2, msg.parameter3);
    Ok(match msg.async_event {
        ASYNC_EVENT_SCSI => AsyncAction::ScsiEvent {
            lun: msg.lun,
            sense: parse_sense(segment)
                .ok()
                .flatten()
                .ok_or(AsyncError::MissingSense)?,
        },
        ASYNC_EVENT_LOGOUT_REQUEST => AsyncAction::LogoutRequested {
            cid: receiving_cid,
            deadline,
        },
        ASYNC_EVENT_CONNECTION_DROP => AsyncAction::ConnectionDropped {
            cid: msg.parameter1,
            reassign: window(),
        },
        ASYNC_EVENT_SESSION_DROP => AsyncAction::SessionDropped {
            reconnect: window(),
        },
        ASYNC_EVENT_RENEGOTIATE => AsyncAction::RenegotiationRequested {
            cid: receiving_cid,
            deadline,
        },
        ASYNC_EVENT_TASK_TERMINATION => AsyncAction::TasksTerminated {
            lun: msg.lun,
            ack: NopOutFields {
                immediate: true,
                itt: RESERVED_TAG,
                ttt: RESERVED_TAG,
                lun: msg.lun,
            },
        },
        ASYNC_EVENT_VENDOR => AsyncAction::Vendor {
            vcode: msg.async_vcode,
        },
        other => AsyncAction::Unknown(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(event: u8, p1: u16, p2: u16, p3: u16) -> pdu::AsyncMessage {
        pdu::AsyncMessage {
            data_segment_length: 0,
            lun: Lun::single_level(4).unwrap(),
            stat_sn: 0,
            exp_cmd_sn: 0,
            max_cmd_sn: 0,
            async_event: event,
            async_vcode: 0x11,
            parameter1: p1,
            parameter2: p2,
            parameter3: p3,
        }
    }

    #[test]
    fn connection_drop_from_wire_bytes() {
        // Event 2 for CID 1, Time2Wait 2 s, Time2Retain 20 s.
        let mut b = [0u8; 48];
        b[0] = 0x32;
        b[1] = 0x80;
        b[16..20].copy_from_slice(&[0xff; 4]);
        b[36] = 2;
        b[38..44].copy_from_slice(&[0, 1, 0, 2, 0, 20]);
        let m = pdu::AsyncMessage::decode(&b).unwrap();
        assert_eq!(
            interpret(&m, &[], 0, 10_000),
            Ok(AsyncAction::ConnectionDropped {
                cid: 1,
                reassign: Some(RetryWindow {
                    not_before: 12_000,
                    deadline: 32_000
                })
            })
        );
    }

    #[test]
    fn drop_with_zero_retain_means_tasks_are_gone() {
        assert_eq!(
            interpret(&msg(2, 5, 2, 0), &[], 0, 0),
            Ok(AsyncAction::ConnectionDropped {
                cid: 5,
                reassign: None
            })
        );
        assert_eq!(
            interpret(&msg(3, 0, 0, 0), &[], 0, 0),
            Ok(AsyncAction::SessionDropped { reconnect: None })
        );
        assert_eq!(
            interpret(&msg(3, 0, 1, 3), &[], 0, 0),
            Ok(AsyncAction::SessionDropped {
                reconnect: Some(RetryWindow {
                    not_before: 1_000,
                    deadline: 4_000
                })
            })
        );
    }

    #[test]
    fn logout_and_renegotiation_deadlines_use_parameter3() {
        assert_eq!(
            interpret(&msg(1, 0, 0, 30), &[], 7, 500),
            Ok(AsyncAction::LogoutRequested {
                cid: 7,
                deadline: 30_500
            })
        );
        assert_eq!(
            interpret(&msg(4, 0, 0, 5), &[], 2, 0),
            Ok(AsyncAction::RenegotiationRequested {
                cid: 2,
                deadline: 5_000
            })
        );
    }

    #[test]
    fn scsi_event_needs_sense() {
        // SenseLength 18: fixed format, UNIT ATTENTION, ASC/ASCQ 3F/0E
        // (REPORTED LUNS DATA HAS CHANGED).
        let mut seg = [0u8; 20];
        seg[1] = 18;
        seg[2] = 0x70;
        seg[4] = 0x06;
        seg[14] = 0x3f;
        seg[15] = 0x0e;
        let Ok(AsyncAction::ScsiEvent { lun, sense }) = interpret(&msg(0, 0, 0, 0), &seg, 0, 0)
        else {
            panic!("expected a SCSI event");
        };
        assert_eq!(lun, Lun::single_level(4).unwrap());
        let bytes = sense.slice(&seg).unwrap();
        assert_eq!((bytes[2], bytes[12], bytes[13]), (0x06, 0x3f, 0x0e));
        assert_eq!(
            interpret(&msg(0, 0, 0, 0), &[], 0, 0),
            Err(AsyncError::MissingSense)
        );
        assert_eq!(
            interpret(&msg(0, 0, 0, 0), &[0, 9, 1], 0, 0),
            Err(AsyncError::MissingSense)
        );
    }

    #[test]
    fn task_termination_is_acknowledged_with_non_ping_nop_out() {
        let m = msg(5, 0, 0, 0);
        let Ok(AsyncAction::TasksTerminated { lun, ack }) = interpret(&m, &[], 0, 0) else {
            panic!("expected task termination");
        };
        assert_eq!(lun, m.lun);
        let nop = ack.to_pdu(10, 11);
        assert_eq!(
            (nop.itt, nop.ttt, nop.lun),
            (RESERVED_TAG, RESERVED_TAG, m.lun)
        );
        assert!(nop.immediate);
    }

    #[test]
    fn vendor_and_reserved_events() {
        assert_eq!(
            interpret(&msg(255, 0, 0, 0), &[], 0, 0),
            Ok(AsyncAction::Vendor { vcode: 0x11 })
        );
        assert_eq!(
            interpret(&msg(6, 0, 0, 0), &[], 0, 0),
            Ok(AsyncAction::Unknown(6))
        );
    }
}
