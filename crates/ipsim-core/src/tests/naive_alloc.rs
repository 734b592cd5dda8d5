//! A naive allocator written from docs/model.md section 2 ("Blocks", "Owners", "Starting",
//! "Stopping and retention") with plain vectors: one state per address, one optional owner
//! per block, and brute force wherever the engine is clever.

use crate::output::SubnetRow;
use crate::params::{EdgeBlocks, Strategy};

/// What one address of the subnet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AddrState {
    /// One of the 4 Google reserves: no one can hold it.
    Google,
    /// Held by another resource for the whole run.
    Static,
    Free,
    InUse,
    Retained,
}

/// One subnet, laid out from its size, edge policy and static offsets.
#[derive(Debug, Clone)]
pub(super) struct NaiveSubnet {
    pub(super) bs: u32,
    pub(super) addr: Vec<AddrState>,
    /// Whether Cloud Run may reserve the block at all.
    pub(super) reservable: Vec<bool>,
    pub(super) owner: Vec<Option<u32>>,
    /// Connector VMs: addresses outside reservable blocks.
    pub(super) direct: u32,
    /// NextFit: the block after the last one reserved.
    pub(super) cursor: u32,
    /// The linger running on each block (an id), cancelled whenever the block is used.
    pub(super) linger: Vec<Option<u64>>,
}

impl NaiveSubnet {
    /// `statics` are the static offsets, already placed (prefixes, addresses, then counts).
    pub(super) fn new(size: u32, bs: u32, edge: EdgeBlocks, statics: &[u32]) -> Self {
        let mut addr: Vec<AddrState> = (0..size)
            .map(|o| {
                if o <= 1 || o >= size - 2 {
                    AddrState::Google
                } else {
                    AddrState::Free
                }
            })
            .collect();
        for &o in statics {
            assert_eq!(addr[o as usize], AddrState::Free, "static {o} placed twice");
            addr[o as usize] = AddrState::Static;
        }
        // "A subnet smaller than one block has no block at all."
        let n_blocks = size / bs;
        let reservable = (0..n_blocks)
            .map(|b| {
                let a = &addr[(b * bs) as usize..((b + 1) * bs) as usize];
                let has_static = a.contains(&AddrState::Static);
                let has_google = a.contains(&AddrState::Google);
                !has_static && (!has_google || edge == EdgeBlocks::Partial)
            })
            .collect();
        NaiveSubnet {
            bs,
            addr,
            reservable,
            owner: vec![None; n_blocks as usize],
            direct: 0,
            cursor: 0,
            linger: vec![None; n_blocks as usize],
        }
    }

    pub(super) fn n_blocks(&self) -> u32 {
        self.owner.len() as u32
    }

    fn block_addrs(&self, b: u32) -> std::ops::Range<usize> {
        (b * self.bs) as usize..((b + 1) * self.bs) as usize
    }

    fn count(&self, b: u32, s: AddrState) -> u32 {
        self.addr[self.block_addrs(b)]
            .iter()
            .filter(|&&a| a == s)
            .count() as u32
    }

    /// The addresses the block offers: neither Google-reserved nor static.
    pub(super) fn cap(&self, b: u32) -> u32 {
        self.bs - self.count(b, AddrState::Google) - self.count(b, AddrState::Static)
    }

    pub(super) fn wholly_free(&self, b: u32) -> bool {
        self.count(b, AddrState::Free) == self.cap(b)
    }

    pub(super) fn is_free_block(&self, b: u32) -> bool {
        self.reservable[b as usize] && self.owner[b as usize].is_none()
    }

    fn owned_by(&self, o: u32) -> Vec<u32> {
        (0..self.n_blocks())
            .filter(|&b| self.owner[b as usize] == Some(o))
            .collect()
    }

    pub(super) fn owner_free(&self, o: u32) -> u32 {
        self.owned_by(o)
            .iter()
            .map(|&b| self.count(b, AddrState::Free))
            .sum()
    }

    /// The free blocks in the order the strategy offers them (Random: address order; its
    /// choice is checked, not predicted).
    pub(super) fn order(&self, strategy: Strategy) -> Vec<u32> {
        let free: Vec<u32> = (0..self.n_blocks())
            .filter(|&b| self.is_free_block(b))
            .collect();
        match strategy {
            Strategy::FirstFit | Strategy::Random => free,
            Strategy::NextFit => {
                let (before, after): (Vec<u32>, Vec<u32>) =
                    free.iter().partition(|&&b| b < self.cursor);
                after.into_iter().chain(before).collect()
            }
            Strategy::BestFit => {
                // Regions of 16 blocks, fewest free blocks first, then lowest address.
                let mut regions: Vec<(usize, u32)> = Vec::new();
                for r in 0..self.n_blocks().div_ceil(16) {
                    let n = free.iter().filter(|&&b| b / 16 == r).count();
                    if n > 0 {
                        regions.push((n, r));
                    }
                }
                regions.sort();
                regions
                    .iter()
                    .flat_map(|&(_, r)| free.iter().copied().filter(move |&b| b / 16 == r))
                    .collect()
            }
        }
    }

    /// The fewest blocks whose capacities can cover `need`, if any.
    pub(super) fn fewest(&self, need: u32) -> Option<usize> {
        let mut caps: Vec<u32> = (0..self.n_blocks())
            .filter(|&b| self.is_free_block(b))
            .map(|b| self.cap(b))
            .collect();
        caps.sort_unstable_by(|a, b| b.cmp(a));
        let mut sum = 0;
        for (i, c) in caps.iter().enumerate() {
            sum += c;
            if sum >= need {
                return Some(i + 1);
            }
        }
        None
    }

    /// The lexicographically first `m`-set of `order` (by position) covering `need`.
    pub(super) fn first_cover(&self, order: &[u32], m: usize, need: u32) -> Option<Vec<u32>> {
        let caps: Vec<u32> = order.iter().map(|&b| self.cap(b)).collect();
        let mut suffix_max = vec![0; caps.len() + 1];
        for i in (0..caps.len()).rev() {
            suffix_max[i] = suffix_max[i + 1].max(caps[i]);
        }
        fn go(
            caps: &[u32],
            sm: &[u32],
            i: usize,
            j: usize,
            need: u32,
            acc: &mut Vec<usize>,
        ) -> bool {
            if need == 0 {
                return true;
            }
            if j == 0 || i == caps.len() || (j as u32) * sm[i] < need {
                return false;
            }
            acc.push(i);
            if go(caps, sm, i + 1, j - 1, need.saturating_sub(caps[i]), acc) {
                return true;
            }
            acc.pop();
            go(caps, sm, i + 1, j, need, acc)
        }
        let mut acc = Vec::new();
        go(&caps, &suffix_max, 0, m, need, &mut acc)
            .then(|| acc.iter().map(|&i| order[i]).collect())
    }

    pub(super) fn reserve(&mut self, b: u32, o: u32) {
        assert!(self.is_free_block(b) && self.wholly_free(b));
        self.owner[b as usize] = Some(o);
        self.linger[b as usize] = None;
    }

    pub(super) fn release(&mut self, b: u32) {
        assert!(self.owner[b as usize].is_some() && self.wholly_free(b));
        self.owner[b as usize] = None;
        self.linger[b as usize] = None;
    }

    /// The `k` lowest free addresses across the owner's blocks, now in use.
    pub(super) fn take(&mut self, o: u32, k: u32) -> Vec<u32> {
        let mut got = Vec::new();
        for b in self.owned_by(o) {
            for a in self.block_addrs(b) {
                if got.len() < k as usize && self.addr[a] == AddrState::Free {
                    self.addr[a] = AddrState::InUse;
                    self.linger[b as usize] = None;
                    got.push(a as u32);
                }
            }
        }
        assert_eq!(got.len(), k as usize);
        got
    }

    pub(super) fn set(&mut self, addrs: &[u32], from: AddrState, to: AddrState) {
        for &a in addrs {
            assert_eq!(self.addr[a as usize], from);
            self.addr[a as usize] = to;
        }
    }

    /// Addresses a connector VM can hold: usable, not static, outside reservable blocks.
    pub(super) fn direct_capacity(&self) -> u32 {
        let bs = self.bs as usize;
        self.addr
            .iter()
            .enumerate()
            .filter(|&(a, &s)| {
                s != AddrState::Google
                    && s != AddrState::Static
                    && self.reservable.get(a / bs).is_none_or(|r| !r)
            })
            .count() as u32
    }

    pub(super) fn row(&self) -> SubnetRow {
        let n = |s| self.addr.iter().filter(|&&a| a == s).count() as u32;
        let usable = self.addr.len() as u32 - 4;
        let owned: Vec<u32> = (0..self.n_blocks())
            .filter(|&b| self.owner[b as usize].is_some())
            .collect();
        let reserved_cap: u32 = owned.iter().map(|&b| self.cap(b)).sum();
        let free_blocks: Vec<u32> = (0..self.n_blocks())
            .filter(|&b| self.is_free_block(b))
            .collect();
        SubnetRow {
            time_ms: 0,
            in_use: n(AddrState::InUse) + self.direct,
            retained: n(AddrState::Retained),
            reserved_idle: owned.iter().map(|&b| self.count(b, AddrState::Free)).sum(),
            unreserved: usable - n(AddrState::Static) - reserved_cap - self.direct,
            reserved_blocks: owned.len() as u32,
            free_blocks: free_blocks.len() as u32,
            free: free_blocks.iter().map(|&b| self.cap(b)).sum(),
            connector: self.direct,
        }
    }
}
