//! A service's start attempts right after its own evaluation, while its records are still in
//! the cache.
//!
//! The model runs, within one millisecond, every evaluation (in declaration order) and then
//! every start attempt in request order (docs/model.md "Event order"). In a run of many
//! services the attempts are then a second sweep over every service's records, each read
//! from memory again. When nothing else happens at that millisecond after the evaluation, the
//! two orders give the same run, so the attempts of each workload run just after its
//! evaluation:
//!
//! - the attempts still run in request order, which is the evaluation's order, and no other
//!   start-class event is due at this millisecond (nothing retries or was requested before);
//! - an evaluation changes nothing an attempt reads: it requests, cancels and stops, and a
//!   stop only moves addresses from in use to retained, with its expiry strictly later (a
//!   fixed retention above zero); it frees nothing and reserves nothing;
//! - an attempt changes nothing a later workload's evaluation reads (its own revisions, its
//!   own books);
//! - what is ordered across workloads stays in order: the log holds only the attempts'
//!   failures (lifecycle events off), the subnets an attempt touches join the millisecond's
//!   list after those the evaluation touched, as they would ([`Fusion::late`]), no random
//!   draw is made at a service's start, and the run does not stop at a failure.
//!
//! Inputs with jobs or connectors, a uniform retention, the lifecycle log or a stop at the
//! first failure keep the two sweeps. The queue's size is counted as if the attempts had
//! been queued, so the peak of pending events is the same either way.

use super::Simulation;
use crate::input::{Kind, SimInput};
use crate::params::Retention;

/// The state of the fused sweep.
#[derive(Debug, Default)]
pub(super) struct Fusion {
    /// The input allows it at all.
    allowed: bool,
    /// The current evaluation runs its workloads' attempts as it goes.
    pub(super) on: bool,
    /// Requests (id, epoch) of the workload just evaluated, in request order.
    pub(super) requests: Vec<(u32, u32)>,
    /// For each attempt run this millisecond, the events it queued.
    pushed: Vec<u32>,
    /// Subnets first touched by an attempt, in order: they join the recorder's list at the
    /// end of the evaluation.
    late: Vec<u32>,
}

impl Fusion {
    /// Whether runs of `input` may fuse at all.
    pub(super) fn new(input: &SimInput) -> Self {
        let (o, p) = (&input.options, &input.params);
        let allowed = !o.log_lifecycle
            && o.stop_at_first_failed_start.is_none()
            && p.retention == Retention::Fixed
            && p.service_retention_ms > 0
            && input
                .workloads
                .iter()
                .all(|w| matches!(w.kind, Kind::Service(_) | Kind::WorkerPool(_)));
        Fusion {
            allowed,
            ..Fusion::default()
        }
    }
}

impl Simulation<'_> {
    /// At the start of an evaluation: fuse if the input allows it and no start-class event
    /// is due at this millisecond (none of another class can be).
    pub(super) fn begin_fusion(&mut self) {
        let now = self.now;
        self.fusion.on = self.fusion.allowed && self.queue.next_time().is_none_or(|t| t > now);
    }

    /// Runs the attempts of the workload just evaluated, as their events would.
    pub(super) fn fused_attempts(&mut self) {
        let mut reqs = std::mem::take(&mut self.fusion.requests);
        for &(req, epoch) in &reqs {
            let before = self.queue.len();
            self.n_events += 1;
            self.attempt(req, epoch);
            let pushed = (self.queue.len() - before) as u32;
            self.fusion.pushed.push(pushed);
        }
        reqs.clear();
        self.fusion.requests = reqs;
    }

    /// At the end of an evaluation: the subnets the attempts touched first join the list.
    pub(super) fn end_fusion(&mut self) {
        self.fusion.on = false;
        for s in self.fusion.late.drain(..) {
            self.rec.touch_subnet(s);
        }
    }

    /// Marks `subnet` as changed in this millisecond (after the evaluation's, while fusing).
    pub(super) fn touch_subnet(&mut self, subnet: u32) {
        if !self.fusion.on {
            self.rec.touch_subnet(subnet);
        } else if !self.rec.subnet_touched(subnet) && !self.fusion.late.contains(&subnet) {
            self.fusion.late.push(subnet);
        }
    }

    /// Counts the queue's size after a pop, and after each fused attempt as if it had been
    /// a queued event popped in turn.
    pub(super) fn count_pending(&mut self) {
        let mut pending = self.queue.len();
        let fused = &self.fusion.pushed;
        if !fused.is_empty() {
            // The attempts' own pushes come later; the attempts themselves were queued.
            let pushed: usize = fused.iter().map(|&d| d as usize).sum();
            pending = pending - pushed + fused.len();
        }
        self.peak_pending = self.peak_pending.max(pending);
        self.counts.pending_sum += pending as u64;
        for d in self.fusion.pushed.drain(..) {
            pending = pending - 1 + d as usize;
            self.counts.pops += 1;
            self.peak_pending = self.peak_pending.max(pending);
            self.counts.pending_sum += pending as u64;
        }
    }
}
