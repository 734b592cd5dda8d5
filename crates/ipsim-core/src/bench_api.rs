//! Thin handles on the engine's internals for the criterion benches in `benches/`; not part of
//! the API.

use crate::alloc::{BlockChooser, FirstFit, Holding, Owner, Pool};
use crate::params::EdgeBlocks;
use crate::queue::{Class, Ev, EventQueue};
use crate::subnet::{SubnetSpec, layout};

/// The event queue.
#[derive(Debug, Default)]
pub struct Queue(EventQueue);

impl Queue {
    /// Schedules an event at `time_ms`.
    pub fn push(&mut self, time_ms: u64) {
        self.0.push(time_ms, Class::Demand, Ev::Evaluate);
    }
    /// The earliest event's time.
    pub fn pop(&mut self) -> Option<u64> {
        self.0.pop().map(|e| e.time_ms)
    }
}

/// One subnet's allocator with `n_owners` owners.
#[derive(Debug)]
pub struct Allocator {
    pool: Pool,
    owners: Vec<Owner>,
}

impl Allocator {
    /// 10.0.0.0/`prefix_len` with /28 blocks.
    pub fn new(prefix_len: u8, n_owners: usize) -> Self {
        let mut spec = SubnetSpec::new("bench", 0x0A00_0000, prefix_len);
        spec.edge_blocks = EdgeBlocks::Excluded;
        let l = layout(&spec, "bench", 16, true).expect("valid bench subnet");
        Allocator {
            pool: Pool::new(&l, 16, crate::params::Strategy::FirstFit),
            owners: (0..n_owners).map(|_| Owner::new(0, 0)).collect(),
        }
    }

    /// Gives `owner` `k` addresses, reserving first-fit blocks if needed; `None` if full.
    pub fn take(&mut self, owner: usize, k: u32) -> Option<Vec<(u32, u64)>> {
        let o = &mut self.owners[owner];
        if o.free < k {
            let mut picked = Vec::new();
            if !FirstFit.pick(&self.pool, k - o.free, &mut picked) {
                return None;
            }
            for b in picked {
                self.pool.reserve(b, owner as u32, o);
            }
        }
        let mut h = Holding::default();
        self.pool.take(o, k, &mut h);
        Some(h.iter().collect())
    }

    /// Gives the addresses back, releasing blocks that become wholly free.
    pub fn give_back(&mut self, owner: usize, holding: &[(u32, u64)]) {
        for &(b, mask) in holding {
            let o = &mut self.owners[owner];
            if self.pool.give_back(b, mask, o) {
                self.pool.release(b, o);
            }
        }
    }
}
