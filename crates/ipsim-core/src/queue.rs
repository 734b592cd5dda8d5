//! The event queue: a binary heap ordered by `(time, class, seq)`.
//!
//! Events at the same millisecond run in class order (docs/model.md "Event order"), and within a
//! class in the order they were scheduled, so the queue breaks ties FIFO with a sequence
//! number. Cancelled events are not removed: each carries a generation that its handler checks
//! (lazy deletion keeps push and pop O(log n)).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use crate::alloc::Holding;

/// The event classes, in the order they run within one millisecond. docs/model.md names four;
/// its third ("demand changes and rollout steps, after which every affected revision's
/// desired count is evaluated once") is two here, the state updates and the one evaluation.
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

/// What an event does; the ids point into the engine's tables. Each event's class follows
/// from what it is ([`Ev::class`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ev {
    /// An instance's or task's retention ends (on an expiry lane, what it frees travels with
    /// it: [`EventQueue::take_retained`]).
    Expire { inst: u32, epoch: u32 },
    /// A wholly free block's linger ends.
    LingerEnd { subnet: u32, block: u32, epoch: u32 },
    /// A job task completes.
    TaskDone { inst: u32, epoch: u32 },
    /// A revision swap (deploy).
    Swap { wl: u32 },
    /// A rollout step.
    Rollout { wl: u32, epoch: u32 },
    /// Job executions start.
    ExecStart { wl: u32 },
    /// Demand points are due (in-memory or streamed: one feed).
    Feed,
    /// The millisecond's evaluation of every workload touched by `Demand`-class events.
    Evaluate,
    /// A start attempt.
    Attempt { req: u32, epoch: u32 },
    /// The retries due now, in groups (`engine/retry.rs`).
    Retries,
}

impl Ev {
    /// The class the event runs in.
    pub(crate) fn class(self) -> Class {
        match self {
            Ev::Expire { .. } | Ev::LingerEnd { .. } => Class::Expire,
            Ev::TaskDone { .. } => Class::Complete,
            Ev::Swap { .. } | Ev::Rollout { .. } | Ev::ExecStart { .. } | Ev::Feed => Class::Demand,
            Ev::Evaluate => Class::Evaluate,
            Ev::Attempt { .. } | Ev::Retries => Class::Start,
        }
    }
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

/// Timers whose delay never changes within a run arrive in time order, so each kind keeps
/// its own FIFO lane instead of the heap: O(1) instead of O(log n) for most of the events of
/// a replay (every stop schedules a retention expiry, every failed start a retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Lane {
    /// Start attempts at the current millisecond.
    Now = 0,
    /// Fixed retention expiries of service and worker-pool instances.
    ServiceExpire = 1,
    /// Fixed retention expiries of job tasks.
    TaskExpire = 2,
    /// Retries, `retry_interval` after a failure.
    Retry = 3,
    /// Block linger ends.
    Linger = 4,
}

const N_LANES: usize = 5;

/// What a retention's end frees, carried with its expiry on a lane: the expiry then reads
/// neither the instance (whose record is given back at the stop) nor its workload, which
/// in a large run have long left the cache 20 minutes after the stop.
#[derive(Debug, Clone, Default)]
pub(crate) struct Retained {
    pub(crate) workload: u32,
    pub(crate) owner: u32,
    pub(crate) subnet: u32,
    pub(crate) n_addrs: u32,
    pub(crate) holding: Holding,
}

/// A min-queue of events with FIFO ties: a binary heap for events at arbitrary times, and
/// FIFO lanes for fixed-delay timers. `pop` takes the least `(time, class, seq)` of the heap's
/// top and the lanes' fronts, so the order is exactly that of one heap.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    lanes: [VecDeque<Entry>; N_LANES],
    /// The payloads of the entries of the two expiry lanes, in lane order.
    held: [VecDeque<Retained>; 2],
    /// The payload of the expiry just popped from a lane, until taken.
    popped: Option<Retained>,
    seq: u64,
}

const SEQ_BITS: u32 = 56;

impl EventQueue {
    fn entry(&mut self, time_ms: u64, ev: Ev) -> Entry {
        let key = (u64::from(ev.class() as u8) << SEQ_BITS) | (self.seq & ((1 << SEQ_BITS) - 1));
        self.seq += 1;
        Entry { time_ms, key, ev }
    }

    /// Schedules an event at any time.
    pub(crate) fn push(&mut self, time_ms: u64, ev: Ev) {
        let e = self.entry(time_ms, ev);
        self.heap.push(e);
    }

    /// Schedules a timer on a lane; its time must not be before the lane's last one (the
    /// caller guarantees a fixed delay from a non-decreasing now).
    pub(crate) fn push_lane(&mut self, lane: Lane, time_ms: u64, ev: Ev) {
        let e = self.entry(time_ms, ev);
        let q = &mut self.lanes[lane as usize];
        debug_assert!(
            q.back()
                .is_none_or(|b| (b.time_ms, b.key) < (e.time_ms, e.key)),
            "lane out of order"
        );
        q.push_back(e);
    }

    /// Schedules the end of a fixed retention on `lane` ([`Lane::ServiceExpire`] or
    /// [`Lane::TaskExpire`]) as `ev`, carrying what it frees.
    pub(crate) fn push_retained(&mut self, lane: Lane, time_ms: u64, ev: Ev, r: Retained) {
        self.push_lane(lane, time_ms, ev);
        self.held[usize::from(lane == Lane::TaskExpire)].push_back(r);
    }

    /// What the expiries `skip` to `skip + n` places behind the next of each expiry lane free.
    pub(crate) fn retained_ahead(&self, skip: usize, n: usize) -> impl Iterator<Item = &Retained> {
        self.held.iter().flat_map(move |q| {
            let from = skip.min(q.len());
            q.range(from..(from + n).min(q.len()))
        })
    }

    /// What the expiry just popped from an expiry lane frees; `None` for any other event.
    pub(crate) fn take_retained(&mut self) -> Option<Retained> {
        self.popped.take()
    }

    pub(crate) fn pop(&mut self) -> Option<Entry> {
        let mut best: Option<(u64, u64, usize)> =
            self.heap.peek().map(|e| (e.time_ms, e.key, N_LANES));
        for (i, q) in self.lanes.iter().enumerate() {
            if let Some(e) = q.front() {
                if best.is_none_or(|(t, k, _)| (e.time_ms, e.key) < (t, k)) {
                    best = Some((e.time_ms, e.key, i));
                }
            }
        }
        match best?.2 {
            N_LANES => self.heap.pop(),
            i => {
                if i == Lane::ServiceExpire as usize || i == Lane::TaskExpire as usize {
                    self.popped =
                        self.held[usize::from(i == Lane::TaskExpire as usize)].pop_front();
                }
                self.lanes[i].pop_front()
            }
        }
    }

    /// The time of the earliest event.
    pub(crate) fn next_time(&self) -> Option<u64> {
        let lanes = self.lanes.iter().filter_map(|q| q.front());
        self.heap
            .peek()
            .into_iter()
            .chain(lanes)
            .map(|e| e.time_ms)
            .min()
    }

    /// Events waiting.
    pub(crate) fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|q| q.len()).sum::<usize>()
    }
}
