// SPDX-License-Identifier: GPL-2.0
//! Fixed-capacity list of the tasks under recovery and where each one stands.

use super::super::serial::SerialNumber;
use super::{Direction, RecoveryError, TaskSnapshot};

/// Where one task stands in the recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskState {
    /// Waiting for its resend (unacknowledged) or its TASK REASSIGN.
    Pending,
    /// TASK REASSIGN sent on `via_cid`, no response yet.
    TmfSent { via_cid: u16 },
    /// TASK REASSIGN answered "still allegiant"; send again at this time.
    TmfRetryAt(u64),
    /// Reassigned to `cid`; the verdict is not yet handed out.
    Confirmed { cid: u16 },
    /// The target lost it; the re-issue is not yet handed out.
    Lost,
    /// Waiting for session reinstatement (or its timeout).
    Session,
    /// Handed back to the session.
    Done,
}

/// One task under recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tracked {
    pub(crate) snap: TaskSnapshot,
    pub(crate) state: TaskState,
}

const EMPTY: Tracked = Tracked {
    snap: TaskSnapshot {
        itt: 0,
        cmd_sn: 0,
        lun: 0,
        direction: Direction::None,
        acknowledged: false,
        next_data_sn: 0,
        next_r2t_sn: 0,
    },
    state: TaskState::Done,
};

/// Up to `T` tasks; only the first `len` slots are meaningful.
#[derive(Debug, Clone)]
pub(crate) struct TaskTable<const T: usize> {
    slots: [Tracked; T],
    len: usize,
}

impl<const T: usize> TaskTable<T> {
    pub(crate) const fn new() -> Self {
        TaskTable {
            slots: [EMPTY; T],
            len: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    pub(crate) fn push(&mut self, snap: TaskSnapshot) -> Result<(), RecoveryError> {
        if self.find(snap.itt).is_some() {
            return Err(RecoveryError::DuplicateItt);
        }
        let slot = self
            .slots
            .get_mut(self.len)
            .ok_or(RecoveryError::TableFull)?;
        *slot = Tracked {
            snap,
            state: TaskState::Pending,
        };
        self.len += 1;
        Ok(())
    }

    fn live(&self) -> &[Tracked] {
        self.slots.get(..self.len).unwrap_or(&[])
    }

    fn live_mut(&mut self) -> &mut [Tracked] {
        self.slots.get_mut(..self.len).unwrap_or(&mut [])
    }

    pub(crate) fn find(&self, itt: u32) -> Option<usize> {
        self.live().iter().position(|t| t.snap.itt == itt)
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut Tracked> {
        self.live_mut().get_mut(i)
    }

    /// First task matching `pred`.
    pub(crate) fn position(&self, pred: impl Fn(&Tracked) -> bool) -> Option<usize> {
        self.live().iter().position(pred)
    }

    pub(crate) fn any(&self, pred: impl Fn(&Tracked) -> bool) -> bool {
        self.live().iter().any(pred)
    }

    pub(crate) fn count(&self, pred: impl Fn(&Tracked) -> bool) -> usize {
        self.live().iter().filter(|t| pred(t)).count()
    }

    pub(crate) fn for_each_mut(&mut self, f: impl FnMut(&mut Tracked)) {
        self.live_mut().iter_mut().for_each(f);
    }

    /// Among tasks matching `pred`, the one with the serially smallest CmdSN
    /// (RFC 1982 via [`SerialNumber`]); resends must go out in CmdSN order
    /// because the target executes in that order (RFC 7143 §4.2.2.1).
    pub(crate) fn lowest_cmd_sn(&self, pred: impl Fn(&Tracked) -> bool) -> Option<usize> {
        let mut best: Option<(usize, SerialNumber)> = None;
        for (i, t) in self.live().iter().enumerate() {
            if !pred(t) {
                continue;
            }
            let sn = SerialNumber(t.snap.cmd_sn);
            let better = match best {
                Some((_, b)) => sn.lt(b),
                None => true,
            };
            if better {
                best = Some((i, sn));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Earliest time among tasks matching `time_of`.
    pub(crate) fn earliest(&self, time_of: impl Fn(&Tracked) -> Option<u64>) -> Option<u64> {
        self.live().iter().filter_map(time_of).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(itt: u32, cmd_sn: u32) -> TaskSnapshot {
        TaskSnapshot {
            itt,
            cmd_sn,
            ..EMPTY.snap
        }
    }

    #[test]
    fn push_rejects_duplicates_and_overflow() {
        let mut t = TaskTable::<2>::new();
        t.push(snap(1, 10)).unwrap();
        assert_eq!(t.push(snap(1, 11)), Err(RecoveryError::DuplicateItt));
        t.push(snap(2, 11)).unwrap();
        assert_eq!(t.push(snap(3, 12)), Err(RecoveryError::TableFull));
        assert_eq!(t.find(2), Some(1));
        assert_eq!(t.find(3), None);
        t.clear();
        assert_eq!(t.find(1), None);
        t.push(snap(3, 12)).unwrap();
        assert_eq!(t.count(|x| x.state == TaskState::Pending), 1);
    }

    #[test]
    fn lowest_cmd_sn_is_serial_across_wrap() {
        let mut t = TaskTable::<4>::new();
        t.push(snap(1, 5)).unwrap();
        t.push(snap(2, u32::MAX - 1)).unwrap();
        t.push(snap(3, 0)).unwrap();
        // 0xfffffffe precedes 0 and 5 in serial order.
        assert_eq!(t.lowest_cmd_sn(|_| true), Some(1));
        assert_eq!(t.lowest_cmd_sn(|x| x.snap.itt != 2), Some(2));
        assert_eq!(t.lowest_cmd_sn(|_| false), None);
    }

    #[test]
    fn zero_capacity_table_is_always_full() {
        let mut t = TaskTable::<0>::new();
        assert_eq!(t.push(snap(1, 1)), Err(RecoveryError::TableFull));
        assert!(!t.any(|_| true));
    }
}
