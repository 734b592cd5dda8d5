//! Retries in groups. Every pending start that fails retries `retry_interval` later, so the
//! retries due at one millisecond are exactly the failures of one earlier millisecond, in
//! their order. They are kept as one run per millisecond of *segments*: consecutive failures
//! of one workload's unit with one owner, address count and (for job tasks) failure count.
//!
//! Within one millisecond nothing a start attempt does frees an address: starts only take.
//! So once an owner has failed to find `k` addresses, every later attempt of that owner for
//! `k` in the same millisecond fails too, until something is freed (an expiry or a release
//! bumps a generation that the memo of failures checks). A segment whose owner failed is
//! therefore failed whole, in O(1) for services, with every attempt counted as docs/model.md
//! defines it: the cost of a retry storm follows its state changes, not the number of
//! pending instances times their retries. Each retry still counts as one processed event.

use std::collections::{BTreeMap, VecDeque};

use super::{KindState, Simulation};
use crate::alloc::NONE;
use crate::queue::{Ev, Lane};
use crate::recorder::Failure;

/// Consecutive failed starts that retry together.
#[derive(Debug, Default)]
struct Segment {
    wl: u32,
    unit: u32,
    owner: u32,
    k: u32,
    /// Failed attempts so far of each task (jobs; 0 for services, which retry for ever).
    fails: u32,
    /// (request, epoch), in failure order; those before `head` are done.
    entries: Vec<(u32, u32)>,
    head: usize,
    /// Entries from `head` whose request is still pending.
    live: u32,
}

/// The retry runs of a run, earliest first, and the memo of failed owners.
#[derive(Debug, Default)]
pub(super) struct Retries {
    segs: Vec<Segment>,
    free: Vec<u32>,
    runs: VecDeque<(u64, Vec<u32>)>,
    /// (owner, k) → (time, generation) of its last failure.
    memo: BTreeMap<(u32, u32), (u64, u64)>,
}

impl Simulation<'_> {
    /// Whether `owner` failed to find `k` addresses earlier in this millisecond with nothing
    /// freed since.
    pub(super) fn known_to_fail(&self, owner: u32, k: u32) -> bool {
        self.retries.memo.get(&(owner, k)) == Some(&(self.now, self.freed))
    }

    /// Notes that `owner` could not find `k` addresses now.
    pub(super) fn note_failure(&mut self, owner: u32, k: u32) {
        self.retries.memo.insert((owner, k), (self.now, self.freed));
    }

    /// Request `req`, which has just failed its `fails`-th attempt (0 for services), retries
    /// `retry_interval` from now.
    pub(super) fn retry_later(&mut self, req: u32, owner: u32, k: u32, fails: u32) {
        let r = &self.requests[req as usize];
        let (wl, unit, epoch) = (r.workload, r.unit_idx, r.epoch);
        let run = self.run_at_next_retry();
        let last = run.last().copied();
        let id = match last {
            Some(id)
                if {
                    let s = &self.retries.segs[id as usize];
                    (s.wl, s.unit, s.owner, s.k, s.fails) == (wl, unit, owner, k, fails)
                } =>
            {
                id
            }
            _ => {
                let id = self.new_segment(Segment {
                    wl,
                    unit,
                    owner,
                    k,
                    fails,
                    ..Segment::default()
                });
                self.run_at_next_retry().push(id);
                id
            }
        };
        let s = &mut self.retries.segs[id as usize];
        s.entries.push((req, epoch));
        s.live += 1;
        self.requests[req as usize].seg = id;
    }

    /// The run of retries due `retry_interval` from now, made (and scheduled) if new.
    fn run_at_next_retry(&mut self) -> &mut Vec<u32> {
        let at = self.now.saturating_add(self.params.retry_interval_ms);
        if self.retries.runs.back().is_none_or(|r| r.0 != at) {
            self.retries.runs.push_back((at, Vec::new()));
            self.queue.push_lane(Lane::Retry, at, Ev::Retries);
        }
        match self.retries.runs.back_mut() {
            Some(run) => &mut run.1,
            None => unreachable!("a run was just pushed"),
        }
    }

    fn new_segment(&mut self, s: Segment) -> u32 {
        match self.retries.free.pop() {
            Some(id) => {
                let mut s = s;
                // Keep the freed segment's allocation.
                std::mem::swap(&mut s.entries, &mut self.retries.segs[id as usize].entries);
                s.entries.clear();
                self.retries.segs[id as usize] = s;
                id
            }
            None => {
                self.retries.segs.push(s);
                (self.retries.segs.len() - 1) as u32
            }
        }
    }

    /// A pending request inside a segment ended (started, cancelled or given up).
    pub(super) fn left_segment(&mut self, seg: u32) {
        let s = &mut self.retries.segs[seg as usize];
        s.live -= 1;
    }

    /// The retries due now, segment by segment in failure order.
    pub(super) fn retry_run(&mut self) {
        let Some((at, segs)) = self.retries.runs.pop_front() else {
            return;
        };
        debug_assert_eq!(at, self.now);
        for id in segs {
            self.retry_segment(id);
        }
    }

    fn retry_segment(&mut self, id: u32) {
        if !self.input.options.group_retries {
            return self.retry_one_by_one(id);
        }
        loop {
            // Requests cancelled while they waited pop as stale events.
            let s = &mut self.retries.segs[id as usize];
            while let Some(&(req, epoch)) = s.entries.get(s.head) {
                let r = &self.requests[req as usize];
                if r.alive && r.epoch == epoch {
                    break;
                }
                s.head += 1;
                self.n_events += 1;
            }
            if s.head == s.entries.len() {
                self.retries.free.push(id);
                return;
            }
            let (owner, k) = (s.owner, s.k);
            let (req, _) = s.entries[s.head];
            if self.known_to_fail(owner, k) {
                return self.fail_segment(id, false);
            }
            self.n_events += 1;
            if self.start_request(req) {
                self.retries.segs[id as usize].head += 1;
            } else {
                return self.fail_segment(id, true);
            }
        }
    }

    /// Every pending request of segment `id` from its head fails now (the head's attempt
    /// already counted as an event if `head_counted`).
    fn fail_segment(&mut self, id: u32, head_counted: bool) {
        let now = self.now;
        let s = &self.retries.segs[id as usize];
        let (wl, unit, owner, fails) = (s.wl, s.unit, s.owner, s.fails);
        let rest = (s.entries.len() - s.head) as u64;
        self.n_events += rest - u64::from(head_counted);
        let is_job = matches!(self.wls[wl as usize].state, KindState::Job(_));
        if is_job && fails + 1 > self.params.max_task_retries {
            // Each task gives up in turn; its slot passes on at once.
            let entries: Vec<(u32, u32)> = {
                let s = &mut self.retries.segs[id as usize];
                let head = s.head;
                s.entries.drain(head..).collect()
            };
            for (req, epoch) in entries {
                let r = &self.requests[req as usize];
                if r.alive && r.epoch == epoch {
                    let f = self.failure(wl, unit, owner);
                    self.rec.failed_start(now, f);
                    self.give_up(req, wl, unit, f.unit);
                }
            }
            self.retries.free.push(id);
            return;
        }
        let f = self.failure(wl, unit, owner);
        let live = u64::from(self.retries.segs[id as usize].live);
        self.rec.failed_starts(now, f, live);
        // Drop the stale entries (each pops once) and move the segment to the next run.
        let requests = &self.requests;
        let s = &mut self.retries.segs[id as usize];
        let head = s.head;
        s.entries.drain(..head);
        if s.live as usize != s.entries.len() {
            s.entries.retain(|&(req, epoch)| {
                let r = &requests[req as usize];
                r.alive && r.epoch == epoch
            });
        }
        s.head = 0;
        if is_job {
            s.fails += 1;
        }
        self.run_at_next_retry().push(id);
    }

    /// Retries the segment's requests one by one, each failure on its own: what the groups
    /// must equal (`RunOptions::group_retries` off).
    fn retry_one_by_one(&mut self, id: u32) {
        let entries = std::mem::take(&mut self.retries.segs[id as usize].entries);
        let (head, fails) = {
            let s = &self.retries.segs[id as usize];
            (s.head, s.fails)
        };
        self.retries.free.push(id);
        for &(req, epoch) in &entries[head..] {
            self.n_events += 1;
            let r = &self.requests[req as usize];
            if !(r.alive && r.epoch == epoch) {
                continue;
            }
            // The segment is gone: the request waits in none until it fails again.
            self.requests[req as usize].seg = NO_SEGMENT;
            if !self.start_request(req) {
                self.failed_alone(req, fails + 1);
            }
        }
    }

    /// The figures of a failed start of `wl`'s unit with `owner`, as they stand now.
    pub(super) fn failure(&self, wl: u32, unit: u32, owner: u32) -> Failure {
        let (desired, running) = match &self.wls[wl as usize].state {
            KindState::Job(job) => job.desired_running(unit),
            KindState::Scaled(svc) => svc.desired_running(unit),
            KindState::Connector(_) => (0, 0),
        };
        let subnet = self.wls[wl as usize].subnet;
        let (owners, idle) = self.alloc.holders_idle(subnet);
        Failure {
            subnet,
            workload: wl,
            unit: self.unit(wl, unit),
            desired,
            running,
            owner_free: self.alloc.owner_free(owner),
            free_blocks: self.alloc.free_blocks(subnet),
            owner_blocks: self.alloc.owner_blocks(owner),
            owners,
            idle,
        }
    }
}

/// No segment.
pub(super) const NO_SEGMENT: u32 = NONE;
