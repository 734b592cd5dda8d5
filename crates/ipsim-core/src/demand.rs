//! Demand as one stream of points: the workloads' in-memory step functions and a streamed
//! trace ([`DemandFeed`]) are merged into one feed that the engine reads as the run advances,
//! so a trace of any length replays in memory that grows with the number of workloads.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::input::{DemandPoint, Kind, WorkloadSpec};

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
/// declaration order (a workload's observed revisions in their order). Every workload that
/// has demand starts with a point at time 0 (its value there, else 0), so that
/// `min_instances` hold from the start of the run; so does a workload's first observed
/// revision, and each later one starts at its first point (which creates it).
#[derive(Debug)]
pub(crate) struct SpecFeed<'a> {
    /// Each step function: (workload, observed revision), in declaration order.
    streams: Vec<(usize, Option<u32>)>,
    workloads: &'a [WorkloadSpec],
    /// The next point of each stream that has one: (time, stream).
    heads: BinaryHeap<Reverse<(u64, usize)>>,
    /// Index of each stream's next point; `None` while its time-0 point is still due.
    cursors: Vec<Option<usize>>,
}

impl<'a> SpecFeed<'a> {
    pub(crate) fn new(workloads: &'a [WorkloadSpec]) -> Self {
        let mut f = SpecFeed {
            streams: Vec::new(),
            workloads,
            heads: BinaryHeap::new(),
            cursors: Vec::new(),
        };
        for (i, w) in workloads.iter().enumerate() {
            match (&w.kind, w.kind.demand()) {
                (Kind::Service(s) | Kind::WorkerPool(s), _) if !s.observed.is_empty() => {
                    for (r, d) in s.observed.iter().enumerate() {
                        f.add((i, Some(r as u32)), d, r == 0);
                    }
                }
                (_, Some(d)) => f.add((i, None), d, true),
                (_, None) => {}
            }
        }
        f
    }

    fn add(&mut self, stream: (usize, Option<u32>), d: &[DemandPoint], from_zero: bool) {
        let k = self.streams.len();
        self.streams.push(stream);
        match d.first() {
            Some(p) if p.time_ms == 0 || !from_zero => {
                self.cursors.push(Some(0));
                self.heads.push(Reverse((p.time_ms, k)));
            }
            None if !from_zero => self.cursors.push(Some(0)),
            _ => {
                self.cursors.push(None);
                self.heads.push(Reverse((0, k)));
            }
        }
    }

    fn points(&self, k: usize) -> &'a [DemandPoint] {
        let (wl, rev) = self.streams[k];
        let kind = &self.workloads[wl].kind;
        match (kind, rev) {
            (Kind::Service(s) | Kind::WorkerPool(s), Some(r)) => &s.observed[r as usize],
            _ => kind.demand().unwrap_or(&[]),
        }
    }

    /// The next point, with the observed revision (index) it is for, if any.
    pub(crate) fn next_due(&mut self) -> Option<(FeedPoint, Option<u32>)> {
        let Reverse((time_ms, k)) = self.heads.pop()?;
        let demand = self.points(k);
        let next = match self.cursors[k] {
            None => 0,
            Some(c) => c + 1,
        };
        let instances = match self.cursors[k] {
            None => 0,
            Some(c) => demand.get(c).map_or(0, |p| p.instances),
        };
        self.cursors[k] = Some(next);
        if let Some(p) = demand.get(next) {
            self.heads.push(Reverse((p.time_ms, k)));
        }
        let (workload, rev) = self.streams[k];
        Some((
            FeedPoint {
                time_ms,
                workload,
                instances,
            },
            rev,
        ))
    }
}

/// Two feeds merged in time order (ties: the first).
pub(crate) struct Merged<'a> {
    a: SpecFeed<'a>,
    a_next: Option<(FeedPoint, Option<u32>)>,
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
        let a_next = a.next_due();
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
            (Some((a, _)), Some(b)) => Some(a.time_ms.min(b.time_ms)),
            (a, b) => a.map(|(p, _)| p).or(b).map(|p| p.time_ms),
        }
    }

    /// The next point, with the observed revision it is for (the workloads' own points only).
    pub(crate) fn next_due(&mut self) -> Option<(FeedPoint, Option<u32>)> {
        let take_a = match (self.a_next, self.b_next) {
            (Some((a, _)), Some(b)) => a.time_ms <= b.time_ms,
            (a, _) => a.is_some(),
        };
        if take_a {
            let p = self.a_next;
            self.a_next = self.a.next_due();
            p
        } else {
            let p = self.b_next;
            self.b_next = self.b.as_mut().and_then(|f| f.next_point());
            p.map(|p| (p, None))
        }
    }
}
