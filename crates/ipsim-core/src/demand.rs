//! Demand as one stream of points: the workloads' in-memory step functions and a streamed
//! trace ([`DemandFeed`]) are merged into one feed that the engine reads as the run advances,
//! so a trace of any length replays in memory that grows with the number of workloads.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::input::WorkloadSpec;

/// A point of a demand stream: from `time_ms` on, workload `workload` wants `instances`
/// instances (before clamping; a connector's throughput in Mbps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedPoint {
    /// When the value takes effect.
    pub time_ms: u64,
    /// Index into [`crate::SimInput::workloads`].
    pub workload: usize,
    /// Desired instances before clamping.
    pub instances: u32,
}

/// A source of demand points read as the run advances.
///
/// Points must come in non-decreasing time order; a point for a job or an unknown workload is
/// ignored, and a point earlier than the run's current time takes effect at the current time.
pub trait DemandFeed {
    /// The next point, or `None` at the end of the trace.
    fn next_point(&mut self) -> Option<FeedPoint>;
}

/// The workloads' own step functions as one stream, in time order and, at one time, in
/// declaration order. Every workload that has demand starts with a point at time 0 (its value
/// there, else 0), so that `min_instances` hold from the start of the run.
#[derive(Debug)]
pub(crate) struct SpecFeed<'a> {
    workloads: &'a [WorkloadSpec],
    /// The next point of each workload that has one: (time, workload).
    heads: BinaryHeap<Reverse<(u64, usize)>>,
    /// Index of each workload's next point; `None` while its time-0 point is still due.
    cursors: Vec<Option<usize>>,
}

impl<'a> SpecFeed<'a> {
    pub(crate) fn new(workloads: &'a [WorkloadSpec]) -> Self {
        let mut heads = BinaryHeap::new();
        let mut cursors = Vec::with_capacity(workloads.len());
        for (i, w) in workloads.iter().enumerate() {
            match w.kind.demand() {
                Some(d) if d.first().is_some_and(|p| p.time_ms == 0) => {
                    cursors.push(Some(0));
                    heads.push(Reverse((0, i)));
                }
                Some(_) => {
                    cursors.push(None);
                    heads.push(Reverse((0, i)));
                }
                None => cursors.push(Some(0)),
            }
        }
        SpecFeed {
            workloads,
            heads,
            cursors,
        }
    }
}

impl DemandFeed for SpecFeed<'_> {
    fn next_point(&mut self) -> Option<FeedPoint> {
        let Reverse((time_ms, wl)) = self.heads.pop()?;
        let demand = self.workloads[wl].kind.demand().unwrap_or(&[]);
        let next = match self.cursors[wl] {
            None => 0,
            Some(c) => c + 1,
        };
        let instances = match self.cursors[wl] {
            None => 0,
            Some(c) => demand.get(c).map_or(0, |p| p.instances),
        };
        self.cursors[wl] = Some(next);
        if let Some(p) = demand.get(next) {
            self.heads.push(Reverse((p.time_ms, wl)));
        }
        Some(FeedPoint {
            time_ms,
            workload: wl,
            instances,
        })
    }
}

/// Two feeds merged in time order (ties: the first).
pub(crate) struct Merged<'a> {
    a: SpecFeed<'a>,
    a_next: Option<FeedPoint>,
    b: Option<&'a mut dyn DemandFeed>,
    b_next: Option<FeedPoint>,
}

impl std::fmt::Debug for Merged<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merged")
            .field("a_next", &self.a_next)
            .field("b_next", &self.b_next)
            .finish_non_exhaustive()
    }
}

impl<'a> Merged<'a> {
    pub(crate) fn new(mut a: SpecFeed<'a>) -> Self {
        let a_next = a.next_point();
        Merged {
            a,
            a_next,
            b: None,
            b_next: None,
        }
    }

    /// Adds the streamed feed.
    pub(crate) fn with_stream(mut self, b: &'a mut dyn DemandFeed) -> Self {
        self.b_next = b.next_point();
        self.b = Some(b);
        self
    }

    /// The time of the next point.
    pub(crate) fn peek_time(&self) -> Option<u64> {
        match (self.a_next, self.b_next) {
            (Some(a), Some(b)) => Some(a.time_ms.min(b.time_ms)),
            (a, b) => a.or(b).map(|p| p.time_ms),
        }
    }
}

impl DemandFeed for Merged<'_> {
    fn next_point(&mut self) -> Option<FeedPoint> {
        let take_a = match (self.a_next, self.b_next) {
            (Some(a), Some(b)) => a.time_ms <= b.time_ms,
            (a, _) => a.is_some(),
        };
        if take_a {
            let p = self.a_next;
            self.a_next = self.a.next_point();
            p
        } else {
            let p = self.b_next;
            self.b_next = self.b.as_mut().and_then(|f| f.next_point());
            p
        }
    }
}
