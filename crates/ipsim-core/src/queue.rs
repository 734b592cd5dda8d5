//! The event queue: a binary heap ordered by `(time, class, seq)`.
//!
//! Events at the same millisecond run in class order (MODEL.md "Event order"), and within a
//! class in the order they were scheduled, so the queue breaks ties FIFO with a sequence
//! number. Cancelled events are not removed: each carries a generation that its handler checks
//! (lazy deletion keeps push and pop O(log n)).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// The five event classes, in the order they run within one millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Class {
    /// Retention expiries and block releases.
    Expire = 0,
    /// Job task completions.
    Complete = 1,
    /// Demand changes, swaps, rollout steps and job execution starts (state updates only).
    Demand = 2,
    /// The once-per-millisecond evaluation of every revision touched by class `Demand`.
    Evaluate = 3,
    /// Start attempts and retries.
    Start = 4,
}

/// What an event does; the ids point into the engine's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ev {
    Expire { inst: u32, epoch: u32 },
    LingerEnd { subnet: u32, block: u32, epoch: u32 },
    TaskDone { inst: u32, epoch: u32 },
    Demand { wl: u32 },
    Swap { wl: u32 },
    Rollout { wl: u32, epoch: u32 },
    ExecStart { wl: u32 },
    Feed,
    Evaluate,
    Attempt { req: u32, epoch: u32 },
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) time_ms: u64,
    /// Class in the top byte, sequence number below: one comparison orders both.
    key: u64,
    pub(crate) ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.time_ms == other.time_ms && self.key == other.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest event first.
        (other.time_ms, other.key).cmp(&(self.time_ms, self.key))
    }
}

/// A min-queue of events with FIFO ties.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

const SEQ_BITS: u32 = 56;

impl EventQueue {
    pub(crate) fn push(&mut self, time_ms: u64, class: Class, ev: Ev) {
        let key = (u64::from(class as u8) << SEQ_BITS) | (self.seq & ((1 << SEQ_BITS) - 1));
        self.seq += 1;
        self.heap.push(Entry { time_ms, key, ev });
    }

    pub(crate) fn pop(&mut self) -> Option<Entry> {
        self.heap.pop()
    }
}
