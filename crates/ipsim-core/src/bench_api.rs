//! Thin handles on the engine's own internals for the criterion benches in `benches/`; not
//! part of the API. They call the very code a run calls, not a copy of it.

use crate::alloc::{Allocator as Alloc, Holding};
use crate::engine::Simulation;
use crate::output::Output;
use crate::params::{EdgeBlocks, Strategy};
use crate::queue::{Ev, EventQueue};
use crate::subnet::{SubnetSpec, layout};

/// What a run did, counted exactly by the engine as it went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Entries popped from the event queue (a feed entry carrying every demand point of a
    /// millisecond, or a retry entry carrying a group, is one pop). A start attempt run in
    /// its workload's evaluation (`engine/fused.rs`) counts as the pop it replaces, so that
    /// the figure is the model's queue, whichever way the engine runs it.
    pub pops: u64,
    /// Instances, tasks and connector VMs started.
    pub starts: u64,
    /// Instances and tasks stopped (their addresses retained).
    pub stops: u64,
    /// Retentions that ended (addresses freed).
    pub expiries: u64,
    /// Blocks reserved (including those reserved before the run).
    pub reservations: u64,
    /// Blocks released.
    pub releases: u64,
    /// The events waiting after each handled pop, summed: over the handled pops (every pop
    /// but the last, which ends the run), the queue's mean size.
    pub pending_sum: u64,
}

impl Counts {
    /// Every state-changing event of the run: starts, stops, expiries, reservations, releases
    /// and `failed_attempts` (from the output's summary).
    pub fn state_changes(&self, failed_attempts: u64) -> u64 {
        self.starts
            + self.stops
            + self.expiries
            + self.reservations
            + self.releases
            + failed_attempts
    }
}

/// Runs `sim` to the end: its output, and what the engine counted.
pub fn run_counted(sim: Simulation<'_>) -> (Output, Counts) {
    sim.run_counted()
}

/// The event queue.
#[derive(Debug, Default)]
pub struct Queue(EventQueue);

impl Queue {
    /// Schedules an event at `time_ms`.
    pub fn push(&mut self, time_ms: u64) {
        self.0.push(time_ms, Ev::Evaluate);
    }
    /// The earliest event's time.
    pub fn pop(&mut self) -> Option<u64> {
        self.0.pop().map(|e| e.time_ms)
    }
}

/// One subnet's allocator with `n_owners` owners, as a run has it.
#[derive(Debug)]
pub struct Allocator {
    alloc: Alloc,
    owners: Vec<u32>,
    reserved: Vec<u32>,
    wholly_free: Vec<u32>,
}

/// The addresses one start holds.
#[derive(Debug, Default)]
pub struct Held(Holding, u32);

impl Allocator {
    /// 10.0.0.0/`prefix_len` with /28 blocks, first-fit.
    pub fn new(prefix_len: u8, n_owners: usize) -> Self {
        let mut spec = SubnetSpec::new("bench", 0x0A00_0000, prefix_len);
        spec.edge_blocks = EdgeBlocks::Excluded;
        let l = layout(&spec, 0, 16, true, None).expect("valid bench subnet");
        let mut alloc = Alloc::new(&[l], 16, Strategy::FirstFit, 0);
        let owners = (0..n_owners)
            .map(|i| alloc.add_owner(0, i as u32))
            .collect();
        Allocator {
            alloc,
            owners,
            reserved: Vec::new(),
            wholly_free: Vec::new(),
        }
    }

    /// Gives `owner` `k` addresses, reserving blocks if needed (the run's start path);
    /// `None` if the subnet cannot cover it.
    pub fn take(&mut self, owner: usize, k: u32) -> Option<Held> {
        let mut h = Held(Holding::default(), k);
        self.reserved.clear();
        let ok = self
            .alloc
            .start(0, self.owners[owner], k, &mut h.0, &mut self.reserved);
        ok.then_some(h)
    }

    /// Stops, expires and gives the addresses back, releasing blocks that become wholly free
    /// (the run's stop, expiry and release path with no retention in between).
    pub fn give_back(&mut self, owner: usize, held: &Held) {
        self.alloc.retain(0, held.1);
        self.wholly_free.clear();
        self.alloc.expire(
            0,
            self.owners[owner],
            held.1,
            &held.0,
            &mut self.wholly_free,
        );
        for &b in &self.wholly_free {
            self.alloc.release(0, b);
        }
    }
}
