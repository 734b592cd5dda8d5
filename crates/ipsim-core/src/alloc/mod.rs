//! The allocator: every subnet's blocks and every owner's addresses, behind the operations of
//! docs/model.md's model. It owns its counters; the engine only calls these operations.
//!
//! - [`Allocator::start`]: an instance or task takes its addresses, its owner reserving the
//!   fewest free blocks that cover the shortfall first (all or nothing).
//! - [`Allocator::retain`]: a stopping instance's addresses become retained.
//! - [`Allocator::expire`]: retained addresses become free inside the owner's blocks.
//! - [`Allocator::release`]: a wholly free block goes back to the subnet (at once or after the
//!   linger, which [`Allocator::linger`] and [`Allocator::linger_over`] track).
//! - [`Allocator::connect`]: connector VMs take addresses outside the blocks.

mod blockset;
mod pool;
mod strategy;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub(crate) use pool::{Holding, NONE};
use pool::{Owner, Pool};
use strategy::{BlockChooser, chooser};

use crate::output::SubnetRow;
use crate::params::Strategy;
use crate::subnet::SubnetLayout;

#[derive(Debug)]
struct SubnetAlloc {
    pool: Pool,
    chooser: Box<dyn BlockChooser>,
}

/// Every subnet's allocation state and every owner of blocks.
#[derive(Debug)]
pub(crate) struct Allocator {
    subnets: Vec<SubnetAlloc>,
    owners: Vec<Owner>,
    scratch: Vec<u32>,
}

impl Allocator {
    /// One pool per laid-out subnet, each with owner `i` as its subnet-scope owner.
    pub(crate) fn new(
        layouts: &[SubnetLayout],
        block_size: u32,
        strategy: Strategy,
        seed: u64,
    ) -> Self {
        let mut subnets = Vec::with_capacity(layouts.len());
        let mut owners = Vec::with_capacity(layouts.len());
        for (i, l) in layouts.iter().enumerate() {
            // The random strategy draws from a stream of its own per subnet, so choosing it
            // does not change retention or duration draws.
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(2 + i as u64);
            subnets.push(SubnetAlloc {
                pool: Pool::new(l, block_size, strategy),
                chooser: chooser(strategy, rng),
            });
            owners.push(Owner::new(i as u32, NONE));
        }
        Allocator {
            subnets,
            owners,
            scratch: Vec::new(),
        }
    }

    /// The owner that holds every block of `subnet` under subnet scope.
    pub(crate) fn subnet_owner(&self, subnet: u32) -> u32 {
        subnet
    }

    /// A new owner of blocks on `subnet` for `workload`.
    pub(crate) fn add_owner(&mut self, subnet: u32, workload: u32) -> u32 {
        self.owners.push(Owner::new(subnet, workload));
        (self.owners.len() - 1) as u32
    }

    /// The workload an owner belongs to, `NONE` for a subnet-scope owner.
    pub(crate) fn owner_workload(&self, owner: u32) -> u32 {
        self.owners[owner as usize].workload
    }

    /// Free addresses in the owner's blocks.
    pub(crate) fn owner_free(&self, owner: u32) -> u32 {
        self.owners[owner as usize].free
    }

    /// A value made of what a start of `owner` reads first: its free count and the block it
    /// takes from, for reading ahead (engine/ahead.rs).
    pub(crate) fn start_ahead(&self, owner: u32) -> u32 {
        let Some(o) = self.owners.get(owner as usize) else {
            return 0;
        };
        let block = o
            .with_free
            .first()
            .and_then(|b| self.block(o.subnet, b))
            .map_or(0, |b| b.free as u32);
        o.free ^ block
    }

    /// A value made of what the end of a retention of `holding` by `owner` reads first: the
    /// owner's free count and the holding's first block, for reading ahead (engine/ahead.rs).
    pub(crate) fn expiry_ahead(&self, subnet: u32, owner: u32, holding: &Holding) -> u32 {
        let free = self.owners.get(owner as usize).map_or(0, |o| o.free);
        let block = holding
            .iter()
            .next()
            .and_then(|(b, _)| self.block(subnet, b))
            .map_or(0, |b| b.free as u32);
        free ^ block
    }

    fn block(&self, subnet: u32, b: u32) -> Option<&pool::Block> {
        self.subnets
            .get(subnet as usize)?
            .pool
            .blocks
            .get(b as usize)
    }

    /// Blocks the owner holds.
    pub(crate) fn owner_blocks(&self, owner: u32) -> u32 {
        self.owners[owner as usize].n_blocks
    }

    /// Owners holding at least one block of `subnet`, and the free addresses inside reserved
    /// blocks.
    pub(crate) fn holders_idle(&self, subnet: u32) -> (u32, u32) {
        let p = &self.subnets[subnet as usize].pool;
        (p.n_owners, p.reserved_idle())
    }

    /// Free blocks of the subnet.
    pub(crate) fn free_blocks(&self, subnet: u32) -> u32 {
        self.subnets[subnet as usize].pool.free_set.len() as u32
    }

    /// Gives `owner` (on `subnet`) `k` addresses: the lowest free ones across its blocks,
    /// after reserving the fewest free blocks that cover the shortfall if its own fall short
    /// (appended to `reserved`, in reservation order). All or nothing: false, with nothing
    /// changed, if the free blocks cannot cover it.
    pub(crate) fn start(
        &mut self,
        subnet: u32,
        owner: u32,
        k: u32,
        holding: &mut Holding,
        reserved: &mut Vec<u32>,
    ) -> bool {
        let sn = &mut self.subnets[subnet as usize];
        let o = &mut self.owners[owner as usize];
        if o.free < k {
            let mut picked = std::mem::take(&mut self.scratch);
            let ok = sn.chooser.pick(&sn.pool, k - o.free, &mut picked);
            if ok {
                sn.chooser.reserved(&picked);
                for &b in &picked {
                    sn.pool.reserve(b, owner, o);
                }
                reserved.extend_from_slice(&picked);
            }
            self.scratch = picked;
            if !ok {
                return false;
            }
        }
        holding.clear();
        sn.pool.take(o, k, holding);
        sn.pool.in_use += k;
        true
    }

    /// Reserves free block `b` of `subnet` for `owner` before the run starts (the layout
    /// checked that it is reservable and given once).
    pub(crate) fn prereserve(&mut self, subnet: u32, owner: u32, b: u32) {
        let pool = &mut self.subnets[subnet as usize].pool;
        pool.reserve(b, owner, &mut self.owners[owner as usize]);
    }

    /// A running instance holding `k` addresses stops: they are retained.
    pub(crate) fn retain(&mut self, subnet: u32, k: u32) {
        let pool = &mut self.subnets[subnet as usize].pool;
        pool.in_use -= k;
        pool.retained += k;
    }

    /// A retention ends: the `k` addresses of `holding` become free in the owner's blocks; the
    /// blocks that become wholly free are appended to `wholly_free`.
    pub(crate) fn expire(
        &mut self,
        subnet: u32,
        owner: u32,
        k: u32,
        holding: &Holding,
        wholly_free: &mut Vec<u32>,
    ) {
        let pool = &mut self.subnets[subnet as usize].pool;
        let o = &mut self.owners[owner as usize];
        for (b, mask) in holding.iter() {
            if pool.give_back(b, mask, o) {
                wholly_free.push(b);
            }
        }
        pool.retained -= k;
    }

    /// Starts block `b`'s linger: the epoch a later [`Allocator::linger_over`] checks.
    pub(crate) fn linger(&mut self, subnet: u32, b: u32) -> u32 {
        let blk = &mut self.subnets[subnet as usize].pool.blocks[b as usize];
        blk.linger_gen = blk.linger_gen.wrapping_add(1);
        blk.linger_gen
    }

    /// Whether block `b` is still reserved and wholly free, untouched since linger `epoch`.
    pub(crate) fn linger_over(&self, subnet: u32, b: u32, epoch: u32) -> bool {
        let blk = &self.subnets[subnet as usize].pool.blocks[b as usize];
        blk.linger_gen == epoch && blk.owner != NONE && blk.wholly_free()
    }

    /// Releases wholly free block `b` to the subnet; returns its owner's workload (`NONE` for
    /// a subnet-scope owner).
    pub(crate) fn release(&mut self, subnet: u32, b: u32) -> u32 {
        let pool = &mut self.subnets[subnet as usize].pool;
        let owner = pool.blocks[b as usize].owner;
        pool.release(b, &mut self.owners[owner as usize]);
        self.owners[owner as usize].workload
    }

    /// Connector VMs: up to `want` more addresses outside the blocks; returns how many.
    pub(crate) fn connect(&mut self, subnet: u32, want: u32) -> u32 {
        let pool = &mut self.subnets[subnet as usize].pool;
        let add = want.min(pool.direct_capacity() - pool.direct);
        pool.direct += add;
        add
    }

    /// The subnet's state as a row at `time_ms`.
    pub(crate) fn row(&self, subnet: u32, time_ms: u64) -> SubnetRow {
        let p = &self.subnets[subnet as usize].pool;
        SubnetRow {
            time_ms,
            in_use: p.in_use + p.direct,
            retained: p.retained,
            reserved_idle: p.reserved_idle(),
            unreserved: p.unreserved(),
            reserved_blocks: p.n_reserved,
            free_blocks: p.free_set.len() as u32,
            free: p.free_cap,
            connector: p.direct,
        }
    }

    /// The subnet's constants: usable, static, reservable addresses, blocks, reservable blocks.
    pub(crate) fn layout_figures(&self, subnet: u32) -> [u32; 5] {
        let p = &self.subnets[subnet as usize].pool;
        [
            p.usable,
            p.n_static,
            p.reservable_cap,
            p.blocks.len() as u32,
            p.n_reservable,
        ]
    }

    /// The first address of block `b`, relative to the subnet base.
    pub(crate) fn block_offset(&self, subnet: u32, b: u32) -> u32 {
        b * self.subnets[subnet as usize].pool.block_size
    }

    /// The addresses of `holding`, relative to the subnet base, lowest first per block.
    pub(crate) fn offsets(&self, subnet: u32, holding: &Holding) -> Vec<u32> {
        let pool = &self.subnets[subnet as usize].pool;
        let mut v = Vec::new();
        for (b, mut mask) in holding.iter() {
            while mask != 0 {
                let bit = mask.trailing_zeros();
                mask &= mask - 1;
                v.push(pool.offset(b, bit));
            }
        }
        v
    }

    /// The owner of block `b` (`NONE` if none): lets the unit tests compare every block with
    /// their model.
    #[cfg(test)]
    pub(crate) fn block_owner(&self, subnet: u32, b: u32) -> u32 {
        self.subnets[subnet as usize].pool.blocks[b as usize].owner
    }

    /// Recounts the subnet from its blocks and panics on any disagreement (debug builds and
    /// tests run it after every event).
    pub(crate) fn audit(&self, subnet: u32) {
        self.subnets[subnet as usize]
            .pool
            .audit(&self.owners, subnet);
    }
}
