// SPDX-License-Identifier: GPL-2.0
//! Sequence numbers: the session-wide command window (CmdSN, ExpCmdSN,
//! MaxCmdSN; RFC 7143 §4.2.2.1) and the per-connection status numbering
//! (StatSN, ExpStatSN; §4.2.2.2).
//!
//! With MC/S the command window is shared by every connection of the session,
//! and responses carrying window updates arrive on any connection in any
//! order; hence the "only move forward" rules below. StatSN is per connection:
//! each connection owns a [`StatSnTracker`].

use super::pdu::StatSnUse;
use super::serial::SerialNumber;

/// How a window update from the target was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowUpdate {
    /// The update was used at all. `false` when MaxCmdSN < ExpCmdSN - 1
    /// (§4.2.2.1: ignore both) or when ExpCmdSN acknowledges commands this
    /// initiator never numbered.
    pub accepted: bool,
    /// ExpCmdSN moved forward: more commands are acknowledged (see
    /// [`super::task::TaskTable::acknowledge_through`]).
    pub exp_cmd_sn_advanced: bool,
    /// MaxCmdSN moved forward: the window may have opened for queued commands.
    pub max_cmd_sn_advanced: bool,
}

/// The session's command window (RFC 7143 §4.2.2.1).
///
/// # Invariants
/// `exp_cmd_sn <= cmd_sn` serially (the target never acknowledges a number
/// not yet assigned), and `cmd_sn - exp_cmd_sn < 2^31` so every comparison is
/// defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CmdWindow {
    /// CmdSN the next non-immediate command will carry.
    cmd_sn: SerialNumber,
    /// Oldest CmdSN the target has not yet received in order.
    exp_cmd_sn: SerialNumber,
    /// Highest CmdSN the target will accept.
    max_cmd_sn: SerialNumber,
}

impl CmdWindow {
    /// A window opened by the final Login Response of the leading connection:
    /// numbering continues at its ExpCmdSN (the Login's CmdSN, which Login
    /// does not consume). If `max_cmd_sn` is invalid the window starts closed.
    pub const fn from_login(exp_cmd_sn: u32, max_cmd_sn: u32) -> Self {
        let exp = SerialNumber(exp_cmd_sn);
        let max = SerialNumber(max_cmd_sn);
        let max = if max.lt(exp.wrapping_sub(1)) {
            exp.wrapping_sub(1)
        } else {
            max
        };
        Self {
            cmd_sn: exp,
            exp_cmd_sn: exp,
            max_cmd_sn: max,
        }
    }

    /// CmdSN the next non-immediate command would carry; also the CmdSN an
    /// immediate command carries (§3.2.2.1), without consuming it.
    pub const fn next_cmd_sn(&self) -> u32 {
        self.cmd_sn.0
    }

    /// Current ExpCmdSN.
    pub const fn exp_cmd_sn(&self) -> u32 {
        self.exp_cmd_sn.0
    }

    /// Current MaxCmdSN.
    pub const fn max_cmd_sn(&self) -> u32 {
        self.max_cmd_sn.0
    }

    /// How many more non-immediate commands may be numbered right now.
    pub const fn available(&self) -> u32 {
        // Both ends inclusive: cmd_sn..=max_cmd_sn.
        match self.cmd_sn.distance_to(self.max_cmd_sn) {
            Some(d) if d >= 0 => d as u32 + 1,
            _ => 0,
        }
    }

    /// "May I send a non-immediate command now?" (CmdSN within
    /// `[ExpCmdSN, MaxCmdSN]`).
    pub const fn can_send(&self) -> bool {
        self.available() > 0
    }

    /// Commands numbered but not yet acknowledged by ExpCmdSN.
    pub const fn outstanding(&self) -> u32 {
        self.exp_cmd_sn.forward_distance(self.cmd_sn)
    }

    /// Numbers a non-immediate command: returns its CmdSN and advances, or
    /// `None` when the window is closed (queue the command and retry after an
    /// update with `max_cmd_sn_advanced`).
    pub fn assign(&mut self) -> Option<u32> {
        if !self.can_send() {
            return None;
        }
        let sn = self.cmd_sn;
        self.cmd_sn = sn.wrapping_add(1);
        Some(sn.0)
    }

    /// The CmdSN for an immediate command: the current value, not advanced
    /// (§3.2.2.1). Immediate commands are not limited by the window, though a
    /// target may reject them when it runs out of resources.
    pub const fn immediate_cmd_sn(&self) -> u32 {
        self.cmd_sn.0
    }

    /// `cmd_sn` has been acknowledged: the target received every command
    /// numbered below ExpCmdSN.
    pub const fn is_acknowledged(&self, cmd_sn: u32) -> bool {
        SerialNumber(cmd_sn).lt(self.exp_cmd_sn)
    }

    /// Applies ExpCmdSN / MaxCmdSN from any target PDU (all carry them).
    ///
    /// §4.2.2.1: ignore both when MaxCmdSN < ExpCmdSN - 1; otherwise take each
    /// only if it is serially greater than the current value, because PDUs
    /// from different connections arrive out of order.
    pub fn update(&mut self, exp_cmd_sn: u32, max_cmd_sn: u32) -> WindowUpdate {
        let exp = SerialNumber(exp_cmd_sn);
        let max = SerialNumber(max_cmd_sn);
        let rejected = WindowUpdate {
            accepted: false,
            exp_cmd_sn_advanced: false,
            max_cmd_sn_advanced: false,
        };
        if max.lt(exp.wrapping_sub(1)) {
            return rejected;
        }
        // An ExpCmdSN beyond the next number to assign acknowledges commands
        // that do not exist: a broken or confused target, or a stale PDU from
        // before a wrap. Ignoring it keeps the invariant.
        if exp.gt(self.cmd_sn) || exp.compare(self.cmd_sn).is_none() {
            return rejected;
        }
        let exp_adv = exp.gt(self.exp_cmd_sn);
        if exp_adv {
            self.exp_cmd_sn = exp;
        }
        let max_adv = max.gt(self.max_cmd_sn);
        if max_adv {
            self.max_cmd_sn = max;
        }
        WindowUpdate {
            accepted: true,
            exp_cmd_sn_advanced: exp_adv,
            max_cmd_sn_advanced: max_adv,
        }
    }
}

/// What a received StatSN means for the connection (§4.2.2.2, §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatSnEvent {
    /// The expected StatSN arrived; ExpStatSN advanced (possibly past
    /// statuses that had arrived early).
    InOrder,
    /// A StatSN already acknowledged: a retransmission, nothing to do.
    Duplicate,
    /// StatSNs `[from, to)` are missing. At ErrorRecoveryLevel >= 1 send a
    /// Status SNACK (BegRun = `from`, RunLength = `to - from`); at ERL 0 the
    /// connection has to be recovered. ExpStatSN stays at `from` so the target
    /// keeps the missing status for retransmission.
    Gap {
        /// First missing StatSN (the current ExpStatSN).
        from: u32,
        /// One past the last missing StatSN.
        to: u32,
    },
    /// The gap is wider than the tracker can remember (or the numbers are
    /// unrelated): recover the connection.
    Lost,
    /// The PDU carried no StatSN to account for, or an informational one
    /// that shows nothing missing.
    Nothing,
    /// No ExpStatSN yet: the first Login Response has not been seen.
    NotStarted,
}

/// How far beyond ExpStatSN early statuses are remembered.
pub const STAT_SN_REORDER_WINDOW: u32 = 64;

/// Per-connection StatSN accounting (RFC 7143 §4.2.2.2).
///
/// Status arrives in StatSN order on one TCP connection, so a hole means a
/// PDU was dropped (typically a data digest error at ERL >= 1). Statuses that
/// arrive after a hole are remembered in a bitmap until the hole is filled by
/// a retransmission, so ExpStatSN never acknowledges a status not received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatSnTracker {
    exp_stat_sn: Option<SerialNumber>,
    /// Bit i: StatSN `exp_stat_sn + 1 + i` has been received.
    ahead: u64,
}

impl StatSnTracker {
    /// A connection that has not received its first Login Response yet.
    pub const fn new() -> Self {
        Self {
            exp_stat_sn: None,
            ahead: 0,
        }
    }

    /// ExpStatSN to put into outgoing PDUs (0 before the first response, as
    /// the first Login Request carries).
    pub const fn exp_stat_sn(&self) -> u32 {
        match self.exp_stat_sn {
            Some(s) => s.0,
            None => 0,
        }
    }

    /// Whether the first Login Response has set the numbering.
    pub const fn started(&self) -> bool {
        self.exp_stat_sn.is_some()
    }

    /// Sets ExpStatSN explicitly: the first Login Response starts the
    /// sequence (ExpStatSN = StatSN + 1), and connection reinstatement resumes
    /// it at the value the initiator chooses.
    pub fn start(&mut self, exp_stat_sn: u32) {
        self.exp_stat_sn = Some(SerialNumber(exp_stat_sn));
        self.ahead = 0;
    }

    /// Accounts for the StatSN of a received PDU (see
    /// [`super::pdu::TargetPdu::stat_sn`]).
    pub fn on_pdu(&mut self, use_: StatSnUse) -> StatSnEvent {
        match use_ {
            StatSnUse::None => StatSnEvent::Nothing,
            StatSnUse::Consumed(sn) => self.consumed(SerialNumber(sn)),
            StatSnUse::Current(sn) => self.current(SerialNumber(sn)),
        }
    }

    fn consumed(&mut self, sn: SerialNumber) -> StatSnEvent {
        let Some(exp) = self.exp_stat_sn else {
            return StatSnEvent::NotStarted;
        };
        match exp.distance_to(sn) {
            Some(0) => {
                let mut next = exp.wrapping_add(1);
                // Fold in statuses that had already arrived past the hole.
                while self.ahead & 1 != 0 {
                    self.ahead >>= 1;
                    next = next.wrapping_add(1);
                }
                self.ahead >>= 1;
                self.exp_stat_sn = Some(next);
                StatSnEvent::InOrder
            }
            Some(d) if d < 0 => StatSnEvent::Duplicate,
            Some(d) if (d as u32) <= STAT_SN_REORDER_WINDOW => {
                self.ahead |= 1u64 << (d as u32 - 1);
                StatSnEvent::Gap {
                    from: exp.0,
                    to: sn.0,
                }
            }
            _ => StatSnEvent::Lost,
        }
    }

    fn current(&mut self, sn: SerialNumber) -> StatSnEvent {
        let Some(exp) = self.exp_stat_sn else {
            return StatSnEvent::NotStarted;
        };
        // An informational StatSN is the number the target will use next: if
        // it is beyond ExpStatSN, statuses in between were sent and lost.
        match exp.distance_to(sn) {
            Some(d) if d <= 0 => StatSnEvent::Nothing,
            Some(d) if (d as u32) <= STAT_SN_REORDER_WINDOW + 1 => StatSnEvent::Gap {
                from: exp.0,
                to: sn.0,
            },
            _ => StatSnEvent::Lost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_from_login_and_assignment() {
        let mut w = CmdWindow::from_login(10, 12);
        assert_eq!(w.available(), 3);
        assert_eq!(w.immediate_cmd_sn(), 10);
        assert_eq!(w.assign(), Some(10));
        assert_eq!(w.immediate_cmd_sn(), 11);
        assert_eq!(w.assign(), Some(11));
        assert_eq!(w.assign(), Some(12));
        assert_eq!(w.assign(), None);
        assert!(!w.can_send());
        assert_eq!(w.outstanding(), 3);
        assert!(!w.is_acknowledged(10));
    }

    #[test]
    fn closed_window_is_max_equal_exp_minus_one() {
        let mut w = CmdWindow::from_login(5, 4);
        assert_eq!(w.available(), 0);
        assert_eq!(w.assign(), None);
        let u = w.update(5, 5);
        assert!(u.accepted && u.max_cmd_sn_advanced && !u.exp_cmd_sn_advanced);
        assert_eq!(w.assign(), Some(5));
    }

    #[test]
    fn invalid_update_is_ignored() {
        let mut w = CmdWindow::from_login(100, 150);
        for _ in 0..20 {
            w.assign();
        }
        // MaxCmdSN < ExpCmdSN - 1: ignore both (RFC 7143 §4.2.2.1).
        let u = w.update(110, 108);
        assert!(!u.accepted);
        assert_eq!((w.exp_cmd_sn(), w.max_cmd_sn()), (100, 150));
        // ExpCmdSN beyond what was numbered (next is 120).
        assert!(!w.update(121, 200).accepted);
        assert!(w.update(120, 200).accepted);
        assert_eq!(w.outstanding(), 0);
    }

    #[test]
    fn stale_updates_do_not_move_backwards() {
        let mut w = CmdWindow::from_login(0, 9);
        for _ in 0..6 {
            w.assign();
        }
        assert!(w.update(5, 20).exp_cmd_sn_advanced);
        // An older PDU from another connection arrives later.
        let u = w.update(3, 12);
        assert!(u.accepted && !u.exp_cmd_sn_advanced && !u.max_cmd_sn_advanced);
        assert_eq!((w.exp_cmd_sn(), w.max_cmd_sn()), (5, 20));
        assert!(w.is_acknowledged(4));
        assert!(!w.is_acknowledged(5));
    }

    #[test]
    fn window_across_wrap() {
        let mut w = CmdWindow::from_login(0xffff_fffe, 1);
        assert_eq!(w.available(), 4);
        let got: [Option<u32>; 5] = core::array::from_fn(|_| w.assign());
        assert_eq!(
            got,
            [Some(0xffff_fffe), Some(0xffff_ffff), Some(0), Some(1), None]
        );
        assert!(w.update(0, 3).exp_cmd_sn_advanced);
        assert!(w.is_acknowledged(0xffff_ffff));
        assert_eq!(w.available(), 2);
    }

    #[test]
    fn stat_sn_in_order_and_duplicates() {
        let mut t = StatSnTracker::new();
        assert_eq!(t.on_pdu(StatSnUse::Consumed(5)), StatSnEvent::NotStarted);
        t.start(6);
        assert_eq!(t.on_pdu(StatSnUse::Consumed(6)), StatSnEvent::InOrder);
        assert_eq!(t.exp_stat_sn(), 7);
        assert_eq!(t.on_pdu(StatSnUse::Consumed(6)), StatSnEvent::Duplicate);
        assert_eq!(t.on_pdu(StatSnUse::None), StatSnEvent::Nothing);
        assert_eq!(t.on_pdu(StatSnUse::Current(7)), StatSnEvent::Nothing);
    }

    #[test]
    fn stat_sn_gap_then_fill() {
        let mut t = StatSnTracker::new();
        t.start(10);
        assert_eq!(
            t.on_pdu(StatSnUse::Consumed(12)),
            StatSnEvent::Gap { from: 10, to: 12 }
        );
        assert_eq!(
            t.on_pdu(StatSnUse::Consumed(13)),
            StatSnEvent::Gap { from: 10, to: 13 }
        );
        assert_eq!(t.exp_stat_sn(), 10);
        assert_eq!(t.on_pdu(StatSnUse::Consumed(10)), StatSnEvent::InOrder);
        assert_eq!(t.exp_stat_sn(), 11);
        // The retransmitted 11 closes the hole and folds 12 and 13 in.
        assert_eq!(t.on_pdu(StatSnUse::Consumed(11)), StatSnEvent::InOrder);
        assert_eq!(t.exp_stat_sn(), 14);
    }

    #[test]
    fn stat_sn_informational_gap_and_loss() {
        let mut t = StatSnTracker::new();
        t.start(0xffff_ffff);
        assert_eq!(
            t.on_pdu(StatSnUse::Current(1)),
            StatSnEvent::Gap {
                from: 0xffff_ffff,
                to: 1
            }
        );
        assert_eq!(t.on_pdu(StatSnUse::Consumed(1000)), StatSnEvent::Lost);
        assert_eq!(
            t.on_pdu(StatSnUse::Consumed(0xffff_ffff)),
            StatSnEvent::InOrder
        );
        assert_eq!(t.exp_stat_sn(), 0);
    }
}
