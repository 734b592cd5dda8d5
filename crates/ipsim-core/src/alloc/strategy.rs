//! Allocation strategies: which free blocks an owner that falls short reserves.
//!
//! docs/model.md: the owner reserves the **fewest** free blocks that cover the shortfall, chosen by
//! the strategy; among sets of that size, the one that comes first in the strategy's order
//! (for first-fit, the lowest addresses). [`Cover`] owns that rule; each strategy only says in
//! which order it offers free blocks.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::pool::{Pool, REGION_BLOCKS};
use crate::params::Strategy;

/// Chooses which free blocks an owner that falls short reserves. Each subnet has its own.
pub(crate) trait BlockChooser: std::fmt::Debug {
    /// Free blocks covering `shortfall` addresses, in the order to reserve them; false (and
    /// any content in `out`) if the free blocks cannot cover it. Changes nothing in `pool`.
    fn pick(&mut self, pool: &Pool, shortfall: u32, out: &mut Vec<u32>) -> bool;
    /// Called when the picked blocks have been reserved.
    fn reserved(&mut self, _picked: &[u32]) {}
}

/// The fewest-blocks rule. It knows how many free blocks the shortfall needs at the least
/// (`picks`), and takes an offered block only if the blocks not yet offered can still complete
/// the cover within that count; so offering the free blocks in a strategy's order takes the
/// first set of the fewest blocks in that order.
///
/// Only edge blocks under `edge_blocks = "partial"` offer fewer than `block_size` addresses
/// (statics make a block unreservable), so "the largest caps not yet offered" is a count of
/// full blocks plus at most a few partial ones.
#[derive(Debug)]
pub(crate) struct Cover {
    need: u32,
    picks: u32,
    full_cap: u32,
    /// Full free blocks not yet offered.
    full_left: u32,
    /// Caps of partial free blocks not yet offered, largest first, with their blocks.
    partial_left: Vec<(u32, u32)>,
}

impl Cover {
    /// The rule for `shortfall` addresses, or `None` if the free blocks cannot cover it.
    pub(crate) fn new(pool: &Pool, shortfall: u32) -> Option<Cover> {
        let full_cap = pool.block_size;
        let mut partial_left: Vec<(u32, u32)> = pool
            .partial_blocks
            .iter()
            .filter(|&&b| pool.free_set.contains(&b))
            .map(|&b| (pool.blocks[b as usize].cap, b))
            .collect();
        partial_left.sort_by(|a, b| b.cmp(a));
        let full_left = pool.free_set.len() as u32 - partial_left.len() as u32;
        let mut c = Cover {
            need: shortfall,
            picks: u32::MAX,
            full_cap,
            full_left,
            partial_left,
        };
        let n_free = pool.free_set.len() as u32;
        c.picks = (1..=n_free).find(|&j| c.best(j) >= u64::from(shortfall))?;
        Some(c)
    }

    /// The most addresses `j` blocks not yet offered can give.
    fn best(&self, j: u32) -> u64 {
        let full = j.min(self.full_left);
        let partial: u64 = self
            .partial_left
            .iter()
            .take((j - full) as usize)
            .map(|&(cap, _)| u64::from(cap))
            .sum();
        u64::from(full) * u64::from(self.full_cap) + partial
    }

    /// Offers free block `b` (each at most once); true if the cover takes it.
    pub(crate) fn offer(&mut self, pool: &Pool, b: u32) -> bool {
        let cap = pool.blocks[b as usize].cap;
        if let Some(i) = self.partial_left.iter().position(|&(_, p)| p == b) {
            self.partial_left.remove(i);
        } else {
            self.full_left -= 1;
        }
        let take =
            cap >= self.need || u64::from(cap) + self.best(self.picks - 1) >= u64::from(self.need);
        if take {
            self.need = self.need.saturating_sub(cap);
            self.picks -= 1;
        }
        take
    }

    /// Whether the taken blocks cover the shortfall.
    pub(crate) fn done(&self) -> bool {
        self.need == 0
    }
}

/// Offers candidates in order to the fewest-blocks rule until it is covered.
fn cover(
    pool: &Pool,
    shortfall: u32,
    out: &mut Vec<u32>,
    candidates: impl Iterator<Item = u32>,
) -> bool {
    out.clear();
    let Some(mut c) = Cover::new(pool, shortfall) else {
        return false;
    };
    for b in candidates {
        if c.done() {
            break;
        }
        if c.offer(pool, b) {
            out.push(b);
        }
    }
    c.done()
}

/// Lowest address first.
#[derive(Debug, Default)]
pub(crate) struct FirstFit;

impl BlockChooser for FirstFit {
    fn pick(&mut self, pool: &Pool, shortfall: u32, out: &mut Vec<u32>) -> bool {
        cover(pool, shortfall, out, pool.free_set.iter().copied())
    }
}

/// The first free block at or after the last one reserved, wrapping around.
#[derive(Debug, Default)]
pub(crate) struct NextFit {
    cursor: u32,
}

impl BlockChooser for NextFit {
    fn pick(&mut self, pool: &Pool, shortfall: u32, out: &mut Vec<u32>) -> bool {
        let c = self.cursor;
        cover(
            pool,
            shortfall,
            out,
            pool.free_set
                .range(c..)
                .chain(pool.free_set.range(..c))
                .copied(),
        )
    }
    fn reserved(&mut self, picked: &[u32]) {
        if let Some(&last) = picked.last() {
            self.cursor = last + 1;
        }
    }
}

/// The most-used region first (fewest free blocks left, then lowest address), lowest free
/// block within it: new reservations fill partly used regions and keep whole free regions
/// (large runs of whole blocks) free.
#[derive(Debug, Default)]
pub(crate) struct BestFit;

impl BlockChooser for BestFit {
    fn pick(&mut self, pool: &Pool, shortfall: u32, out: &mut Vec<u32>) -> bool {
        let regions = pool.index.by_fill.iter().map(|&(_, r)| r);
        let blocks = regions.flat_map(|r| {
            pool.free_set
                .range(r * REGION_BLOCKS..(r + 1) * REGION_BLOCKS)
                .copied()
        });
        cover(pool, shortfall, out, blocks)
    }
}

/// A free block drawn uniformly, from a seeded RNG of its own.
#[derive(Debug)]
pub(crate) struct RandomFit {
    rng: ChaCha8Rng,
}

impl RandomFit {
    pub(crate) fn new(rng: ChaCha8Rng) -> Self {
        RandomFit { rng }
    }
}

impl BlockChooser for RandomFit {
    fn pick(&mut self, pool: &Pool, shortfall: u32, out: &mut Vec<u32>) -> bool {
        out.clear();
        let v = &pool.index.vec;
        let mut seen = Vec::new();
        // A pick that cannot succeed draws nothing, so that a failed start leaves the stream
        // as it was, however many times it is retried.
        let Some(mut c) = Cover::new(pool, shortfall) else {
            return false;
        };
        while !c.done() && seen.len() < v.len() {
            let b = v[self.rng.random_range(0..v.len())];
            if !seen.contains(&b) {
                seen.push(b);
                if c.offer(pool, b) {
                    out.push(b);
                }
            }
        }
        c.done()
    }
}

/// The chooser for `strategy`; `rng` seeds the random one.
pub(crate) fn chooser(strategy: Strategy, rng: ChaCha8Rng) -> Box<dyn BlockChooser> {
    match strategy {
        Strategy::FirstFit => Box::new(FirstFit),
        Strategy::NextFit => Box::new(NextFit::default()),
        Strategy::BestFit => Box::new(BestFit),
        Strategy::Random => Box::new(RandomFit::new(rng)),
    }
}
