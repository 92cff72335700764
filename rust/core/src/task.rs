// SPDX-License-Identifier: GPL-2.0
//! The session's task table: Initiator Task Tag allocation and per-task
//! protocol state (RFC 7143 §3.2.2: an ITT identifies a task within the
//! session, across all its connections).
//!
//! Fixed capacity, no allocation: `TaskTable<N>` is a plain array owned by the
//! session. An ITT is `generation << INDEX_BITS | slot`, so lookup is one
//! array access plus a tag comparison, and a freed slot comes back with a new
//! generation: a late PDU for a finished task (say a Data-In that crossed an
//! ABORT TASK, or a response replayed after connection recovery) does not match
//! the slot's next task. Freed slots are reused in FIFO order to stretch the
//! time before a slot, and therefore a generation, comes round again.
//!
//! The recovery planner (ERL 2) walks [`TaskTable::iter_connection`] for the
//! failed CID and uses each task's CmdSN, acknowledgement state and
//! ExpDataSN to decide between TASK REASSIGN and retrying.

use super::pdu::{Lun, RESERVED_TAG};
use super::serial::SerialNumber;

/// Data direction of a SCSI task (R / W bits of the SCSI Command, §11.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// No data phase (TEST UNIT READY, TMF, NOP, Text, Logout).
    None,
    /// Data-In only.
    Read,
    /// Data-Out only.
    Write,
    /// Both: the expected read length travels in a bidirectional AHS.
    Bidirectional,
}

impl Direction {
    /// From the R and W bits of a SCSI Command.
    pub const fn from_rw(read: bool, write: bool) -> Self {
        match (read, write) {
            (false, false) => Self::None,
            (true, false) => Self::Read,
            (false, true) => Self::Write,
            (true, true) => Self::Bidirectional,
        }
    }
}

/// What the caller knows when it starts a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewTask {
    /// Logical unit.
    pub lun: Lun,
    /// CmdSN the command carries (from [`super::seq::CmdWindow`]).
    pub cmd_sn: u32,
    /// Whether it was sent immediate (CmdSN not consumed).
    pub immediate: bool,
    /// Connection the command is (or will be) sent on: its allegiance.
    pub cid: u16,
    /// Data direction.
    pub direction: Direction,
    /// Expected Data Transfer Length (the write length for bidirectional).
    pub expected_transfer_length: u32,
}

/// Outcome of checking a Data-In DataSN or R2T R2TSN against a task
/// (§11.7.5, §11.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSnCheck {
    /// The expected number; ExpDataSN advanced.
    InOrder,
    /// Already seen (a retransmission after a SNACK or TASK REASSIGN).
    Duplicate,
    /// Numbers `[from, to)` are missing: request them with a Data/R2T SNACK
    /// (ERL >= 1) or recover. ExpDataSN has moved past the new PDU so the
    /// caller does not report the same hole twice; the missing range is the
    /// caller's to track.
    Gap {
        /// First missing number.
        from: u32,
        /// One past the last missing number (the number just received).
        to: u32,
    },
}

/// One outstanding task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    /// Its Initiator Task Tag.
    pub itt: u32,
    /// Logical unit.
    pub lun: Lun,
    /// CmdSN the command carried.
    pub cmd_sn: u32,
    /// Sent as an immediate command (its CmdSN was not consumed, so ExpCmdSN
    /// never acknowledges it).
    pub immediate: bool,
    /// Connection allegiance (changed by TASK REASSIGN, §7.2.2).
    pub cid: u16,
    /// Data direction.
    pub direction: Direction,
    /// Expected Data Transfer Length.
    pub expected_transfer_length: u32,
    /// Data bytes moved so far (Data-In received or Data-Out sent).
    pub data_transferred: u32,
    /// ExpDataSN: the next Data-In DataSN or R2TSN expected. Data-In and R2T
    /// share one numbering per task (§11.8.2), so one counter serves both; it
    /// is also the ExpDataSN a TASK REASSIGN carries.
    pub exp_data_sn: u32,
    /// ExpCmdSN has passed this task's CmdSN: the target holds the command
    /// (set by [`TaskTable::acknowledge_through`]).
    pub acknowledged: bool,
}

impl Task {
    /// Checks a received DataSN (Data-In) or R2TSN (R2T) and advances
    /// ExpDataSN past it.
    pub fn check_data_sn(&mut self, sn: u32) -> DataSnCheck {
        let exp = SerialNumber(self.exp_data_sn);
        let got = SerialNumber(sn);
        if got == exp {
            self.exp_data_sn = sn.wrapping_add(1);
            DataSnCheck::InOrder
        } else if got.gt(exp) {
            let from = self.exp_data_sn;
            self.exp_data_sn = sn.wrapping_add(1);
            DataSnCheck::Gap { from, to: sn }
        } else {
            // Serially older, or exactly 2^31 away (undefined, so not news).
            DataSnCheck::Duplicate
        }
    }

    /// Bytes still expected for the (write, or read for reads) direction.
    pub const fn remaining(&self) -> u32 {
        self.expected_transfer_length
            .saturating_sub(self.data_transferred)
    }
}

/// Why a task could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskError {
    /// All `N` slots hold live tasks.
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    /// Generation of the ITT last (or currently) issued from this slot.
    generation: u32,
    task: Option<Task>,
    /// Next slot in the free list (`NONE` at the tail).
    next_free: u32,
}

const NONE: u32 = u32::MAX;

/// Fixed-capacity table of live tasks, indexed by ITT.
///
/// # Invariants
/// A slot holds a task iff it is not on the free list; a live task's `itt`
/// always decodes to its own slot index; no live ITT equals 0xffffffff.
#[derive(Debug, Clone)]
pub struct TaskTable<const N: usize> {
    slots: [Slot; N],
    free_head: u32,
    free_tail: u32,
    live: usize,
}

impl<const N: usize> TaskTable<N> {
    /// Bits of an ITT that select the slot: enough for `N - 1`.
    pub const INDEX_BITS: u32 = {
        assert!(
            N > 0 && N <= (1 << 24),
            "TaskTable capacity must be 1..=2^24"
        );
        let mut b = 0;
        while (1usize << b) < N {
            b += 1;
        }
        b
    };

    const INDEX_MASK: u32 = ((1u64 << Self::INDEX_BITS) - 1) as u32;
    const GENERATION_MASK: u32 = (u32::MAX as u64 >> Self::INDEX_BITS) as u32;

    /// An empty table. `const` so it can initialise a static or an in-place
    /// (pinned) allocation; moving a large table around on a kernel stack is
    /// what to avoid.
    pub const fn new() -> Self {
        let mut slots = [Slot {
            generation: 0,
            task: None,
            next_free: NONE,
        }; N];
        let mut i = 0;
        while i < N {
            slots[i].next_free = if i + 1 < N { (i + 1) as u32 } else { NONE };
            i += 1;
        }
        // Touch INDEX_BITS so an invalid N fails at compile time.
        let _ = Self::INDEX_BITS;
        Self {
            slots,
            free_head: 0,
            free_tail: (N - 1) as u32,
            live: 0,
        }
    }

    /// Capacity.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Number of live tasks.
    pub const fn len(&self) -> usize {
        self.live
    }

    /// No live tasks.
    pub const fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Every slot is in use.
    pub const fn is_full(&self) -> bool {
        self.live == N
    }

    const fn make_itt(slot: u32, generation: u32) -> u32 {
        ((generation & Self::GENERATION_MASK) << Self::INDEX_BITS) | slot
    }

    /// Starts a task: picks the least recently freed slot, gives it a new ITT
    /// (never 0xffffffff, never one that is live) and stores the task.
    pub fn insert(&mut self, new: NewTask) -> Result<u32, TaskError> {
        let idx = self.free_head;
        let slot = self.slots.get_mut(idx as usize).ok_or(TaskError::Full)?;
        let mut generation = slot.generation.wrapping_add(1) & Self::GENERATION_MASK;
        let mut itt = Self::make_itt(idx, generation);
        if itt == RESERVED_TAG {
            // Only the all-ones slot with the all-ones generation collides.
            generation = generation.wrapping_add(1) & Self::GENERATION_MASK;
            itt = Self::make_itt(idx, generation);
        }
        slot.generation = generation;
        self.free_head = slot.next_free;
        if self.free_head == NONE {
            self.free_tail = NONE;
        }
        slot.next_free = NONE;
        slot.task = Some(Task {
            itt,
            lun: new.lun,
            cmd_sn: new.cmd_sn,
            immediate: new.immediate,
            cid: new.cid,
            direction: new.direction,
            expected_transfer_length: new.expected_transfer_length,
            data_transferred: 0,
            exp_data_sn: 0,
            acknowledged: false,
        });
        self.live += 1;
        Ok(itt)
    }

    fn slot_of(itt: u32) -> usize {
        (itt & Self::INDEX_MASK) as usize
    }

    /// The live task with this ITT, if any. O(1).
    pub fn get(&self, itt: u32) -> Option<&Task> {
        let t = self.slots.get(Self::slot_of(itt))?.task.as_ref()?;
        (t.itt == itt).then_some(t)
    }

    /// Mutable access to the live task with this ITT. O(1).
    pub fn get_mut(&mut self, itt: u32) -> Option<&mut Task> {
        let t = self.slots.get_mut(Self::slot_of(itt))?.task.as_mut()?;
        (t.itt == itt).then_some(t)
    }

    /// Ends a task and frees its slot; returns its final state. An unknown or
    /// stale ITT returns `None` and changes nothing.
    pub fn remove(&mut self, itt: u32) -> Option<Task> {
        let idx = Self::slot_of(itt);
        let slot = self.slots.get_mut(idx)?;
        if slot.task.map(|t| t.itt) != Some(itt) {
            return None;
        }
        let task = slot.task.take();
        slot.next_free = NONE;
        let idx = idx as u32;
        match self.slots.get_mut(self.free_tail as usize) {
            Some(tail) => tail.next_free = idx,
            None => self.free_head = idx,
        }
        self.free_tail = idx;
        self.live -= 1;
        task
    }

    /// Marks every non-immediate task with CmdSN < `exp_cmd_sn` as
    /// acknowledged (call when [`super::seq::WindowUpdate::exp_cmd_sn_advanced`]).
    /// Immediate tasks are never acknowledged this way: their CmdSN was not
    /// consumed, so ExpCmdSN passing it proves nothing.
    pub fn acknowledge_through(&mut self, exp_cmd_sn: u32) {
        let exp = SerialNumber(exp_cmd_sn);
        for t in self.slots.iter_mut().filter_map(|s| s.task.as_mut()) {
            if !t.immediate && SerialNumber(t.cmd_sn).lt(exp) {
                t.acknowledged = true;
            }
        }
    }

    /// All live tasks, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &Task> {
        self.slots.iter().filter_map(|s| s.task.as_ref())
    }

    /// All live tasks, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Task> {
        self.slots.iter_mut().filter_map(|s| s.task.as_mut())
    }

    /// Live tasks with allegiance to connection `cid` (what connection
    /// recovery must reassign or fail).
    pub fn iter_connection(&self, cid: u16) -> impl Iterator<Item = &Task> {
        self.iter().filter(move |t| t.cid == cid)
    }

    /// Moves every task of connection `from` to connection `to` (after the
    /// TASK REASSIGN responses for them succeeded) and returns how many moved.
    pub fn reassign_connection(&mut self, from: u16, to: u16) -> usize {
        let mut n = 0;
        for t in self.iter_mut().filter(|t| t.cid == from) {
            t.cid = to;
            n += 1;
        }
        n
    }
}

impl<const N: usize> Default for TaskTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_task(cmd_sn: u32, cid: u16) -> NewTask {
        NewTask {
            lun: Lun::ZERO,
            cmd_sn,
            immediate: false,
            cid,
            direction: Direction::Read,
            expected_transfer_length: 4096,
        }
    }

    #[test]
    fn direction_from_bits() {
        assert_eq!(Direction::from_rw(true, false), Direction::Read);
        assert_eq!(Direction::from_rw(false, true), Direction::Write);
        assert_eq!(Direction::from_rw(true, true), Direction::Bidirectional);
        assert_eq!(Direction::from_rw(false, false), Direction::None);
    }

    #[test]
    fn index_bits() {
        assert_eq!(TaskTable::<1>::INDEX_BITS, 0);
        assert_eq!(TaskTable::<2>::INDEX_BITS, 1);
        assert_eq!(TaskTable::<128>::INDEX_BITS, 7);
        assert_eq!(TaskTable::<129>::INDEX_BITS, 8);
    }

    #[test]
    fn itt_encodes_slot_and_generation() {
        let mut t = TaskTable::<4>::new();
        let a = t.insert(new_task(1, 0)).unwrap();
        let b = t.insert(new_task(2, 0)).unwrap();
        assert_eq!(a, 4);
        assert_eq!(b, 5);
        assert_eq!(t.get(a).unwrap().cmd_sn, 1);
        assert_eq!(t.len(), 2);
        assert_eq!(t.remove(a).unwrap().cmd_sn, 1);
        assert_eq!(t.get(a), None);
        assert_eq!(t.remove(a), None);
        // FIFO reuse: slots 2 and 3 come before slot 0 again.
        let c = t.insert(new_task(3, 0)).unwrap();
        let d = t.insert(new_task(4, 0)).unwrap();
        let e = t.insert(new_task(5, 0)).unwrap();
        assert_eq!((c & 3, d & 3, e & 3), (2, 3, 0));
        assert_eq!(e, 8);
        assert_ne!(e, a);
        assert_eq!(t.insert(new_task(6, 0)), Err(TaskError::Full));
        assert!(t.is_full());
    }

    #[test]
    fn never_hands_out_the_reserved_tag() {
        // With one slot the generation is the whole ITT: walk it to the top.
        let mut t = TaskTable::<1>::new();
        t.slots[0].generation = 0xffff_fffd;
        let a = t.insert(new_task(0, 0)).unwrap();
        assert_eq!(a, 0xffff_fffe);
        t.remove(a);
        let b = t.insert(new_task(0, 0)).unwrap();
        assert_eq!(b, 0);
        assert_ne!(b, RESERVED_TAG);
    }

    #[test]
    fn reserved_tag_in_multi_slot_table() {
        let mut t = TaskTable::<4>::new();
        // Make slot 3 the next free one with a generation about to wrap to all ones.
        for _ in 0..3 {
            t.insert(new_task(0, 0)).unwrap();
        }
        t.slots[3].generation = TaskTable::<4>::GENERATION_MASK - 1;
        let itt = t.insert(new_task(0, 0)).unwrap();
        assert_eq!(itt & 3, 3);
        assert_ne!(itt, RESERVED_TAG);
        assert_eq!(t.get(RESERVED_TAG), None);
        assert_eq!(t.get(itt).unwrap().itt, itt);
    }

    #[test]
    fn acknowledgement_and_connections() {
        let mut t = TaskTable::<8>::new();
        let a = t.insert(new_task(10, 1)).unwrap();
        let b = t.insert(new_task(11, 2)).unwrap();
        let mut imm = new_task(12, 1);
        imm.immediate = true;
        let c = t.insert(imm).unwrap();
        t.acknowledge_through(12);
        assert!(t.get(a).unwrap().acknowledged);
        assert!(t.get(b).unwrap().acknowledged);
        t.acknowledge_through(13);
        assert!(!t.get(c).unwrap().acknowledged);
        let on1: [u32; 2] = {
            let mut it = t.iter_connection(1).map(|x| x.itt);
            [it.next().unwrap(), it.next().unwrap()]
        };
        assert_eq!(on1, [a, c]);
        assert_eq!(t.iter_connection(2).count(), 1);
        assert_eq!(t.reassign_connection(1, 3), 2);
        assert_eq!(t.iter_connection(1).count(), 0);
        assert_eq!(t.get(c).unwrap().cid, 3);
    }

    #[test]
    fn data_sn_tracking() {
        let mut t = TaskTable::<2>::new();
        let a = t.insert(new_task(0, 0)).unwrap();
        let task = t.get_mut(a).unwrap();
        assert_eq!(task.check_data_sn(0), DataSnCheck::InOrder);
        assert_eq!(task.check_data_sn(1), DataSnCheck::InOrder);
        assert_eq!(task.check_data_sn(4), DataSnCheck::Gap { from: 2, to: 4 });
        assert_eq!(task.exp_data_sn, 5);
        assert_eq!(task.check_data_sn(2), DataSnCheck::Duplicate);
        task.data_transferred = 1000;
        assert_eq!(task.remaining(), 3096);
    }
}
