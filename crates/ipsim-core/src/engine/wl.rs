//! A workload's record in the run.

use crate::input::{Kind, WorkloadSpec};
use crate::kinds::KindState;

/// A workload's latest raw demand and whether it waits for the millisecond's evaluation:
/// what the demand sweep writes, 8 bytes a workload in an array of its own, so that the
/// sweep over many workloads stays in the cache.
#[derive(Debug, Clone, Copy)]
pub(super) struct Raw {
    pub(super) demand: u32,
    pub(super) dirty: bool,
    /// The kind has a demand (every kind but jobs).
    pub(super) has_demand: bool,
}

impl Raw {
    pub(super) fn new(w: &WorkloadSpec) -> Self {
        Raw {
            demand: 0,
            dirty: false,
            has_demand: w.kind.demand().is_some(),
        }
    }
}

/// A workload's place in the run: its subnet, addresses per start, retention, own owner,
/// its demand clamp, and its kind's state machine. What the evaluation reads comes first
/// (`repr(C)`), so that it need not read the input.
#[derive(Debug)]
#[repr(C)]
pub(super) struct Wl {
    /// A service's or worker pool's clamp bounds (`Scaled::bounds`), and whether
    /// it replays observed revisions.
    pub(super) clamp: (u32, u32),
    pub(super) observed: bool,
    pub(super) subnet: u32,
    pub(super) ips: u32,
    pub(super) owner: u32,
    pub(super) retention_ms: u64,
    pub(super) state: KindState,
}

impl Wl {
    /// The record of workload `w` on `subnet`, with its addresses per start and retention.
    pub(super) fn new(
        w: &WorkloadSpec,
        subnet: u32,
        (ips, retention_ms): (u32, u64),
        owner: u32,
        state: KindState,
    ) -> Self {
        let (clamp, observed) = match &w.kind {
            Kind::Service(s) | Kind::WorkerPool(s) => (s.bounds(), !s.observed.is_empty()),
            Kind::Job(_) | Kind::Connector(_) => ((0, u32::MAX), false),
        };
        Wl {
            clamp,
            observed,
            subnet,
            ips,
            owner,
            retention_ms,
            state,
        }
    }
}
