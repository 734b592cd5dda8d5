//! One subnet's blocks, owners and addresses, and the counters the model's outputs are made of.
//!
//! A block is a `u64` bitmask of its usable addresses and another of the free ones, so taking
//! the lowest free addresses is a few bit operations. Each owner keeps the set of its blocks
//! that still have a free address, ordered by address, so "the lowest free addresses across
//! the owner's blocks" is a walk from the first entry. Free blocks sit in an ordered set, so
//! first-fit is its first entry. Every operation is O(log n) in the number of blocks.

use std::collections::BTreeSet;

use super::blockset::BlockSet;
use crate::params::Strategy;
use crate::subnet::SubnetLayout;

/// No owner.
pub(crate) const NONE: u32 = u32::MAX;

/// Subnets with more blocks get only the O(1) checks of [`Pool::audit`].
const FULL_AUDIT_MAX_BLOCKS: usize = 4096;

#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// Bit i: offset `first + i` is usable (not Google-reserved, not static).
    pub(crate) usable: u64,
    /// Bit i: usable and neither in use nor retained.
    pub(crate) free: u64,
    /// Popcount of `usable`.
    pub(crate) cap: u32,
    pub(crate) reservable: bool,
    pub(crate) owner: u32,
    /// Bumped whenever the block is used, so that a pending linger release can tell it is stale.
    pub(crate) linger_gen: u32,
}

impl Block {
    pub(crate) fn wholly_free(&self) -> bool {
        self.free == self.usable
    }
}

/// A holder of blocks: a workload, a revision or execution, or a subnet's pool.
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    pub(crate) subnet: u32,
    /// The workload it belongs to, or `NONE` for a subnet pool.
    pub(crate) workload: u32,
    /// Its blocks that have at least one free address.
    pub(crate) with_free: BlockSet,
    /// Free addresses in its blocks.
    pub(crate) free: u32,
    pub(crate) n_blocks: u32,
}

impl Owner {
    pub(crate) fn new(subnet: u32, workload: u32) -> Self {
        Owner {
            subnet,
            workload,
            with_free: BlockSet::default(),
            free: 0,
            n_blocks: 0,
        }
    }
}

/// The addresses one instance holds, as (block, mask) pairs; two pairs inline, since an
/// instance rarely spans more than two blocks, and the rest boxed, so that a holding takes 40
/// bytes and an instance's whole record one cache line.
#[derive(Debug, Clone, Default)]
pub(crate) struct Holding {
    blocks: [u32; 2],
    masks: [u64; 2],
    len: u8,
    /// 8 bytes where a `Vec` takes 24: the point is the size of the common case.
    #[allow(clippy::box_collection)]
    spill: Option<Box<Vec<(u32, u64)>>>,
}

impl Holding {
    pub(crate) fn clear(&mut self) {
        self.len = 0;
        if let Some(v) = self.spill.as_mut() {
            v.clear();
        }
    }
    fn push(&mut self, (b, mask): (u32, u64)) {
        let i = usize::from(self.len);
        if i < self.blocks.len() {
            (self.blocks[i], self.masks[i]) = (b, mask);
            self.len += 1;
        } else {
            self.spill.get_or_insert_default().push((b, mask));
        }
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        let n = usize::from(self.len);
        let spill = self.spill.as_deref().map_or(&[][..], |v| &v[..]);
        self.blocks[..n]
            .iter()
            .copied()
            .zip(self.masks[..n].iter().copied())
            .chain(spill.iter().copied())
    }
}

/// Allocation state of one subnet.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    pub(super) blocks: Vec<Block>,
    pub(super) block_size: u32,
    pub(super) free_set: BTreeSet<u32>,
    pub(super) free_cap: u32,
    pub(super) reserved_cap: u32,
    pub(super) n_reserved: u32,
    /// Owners holding at least one block.
    pub(super) n_owners: u32,
    pub(super) in_use: u32,
    pub(super) retained: u32,
    /// Addresses held outside blocks: connector VMs, one each.
    pub(super) direct: u32,
    pub(super) usable: u32,
    pub(super) n_static: u32,
    pub(super) n_reservable: u32,
    pub(super) reservable_cap: u32,
    /// Extra indexes of the free blocks that some strategies need.
    pub(super) index: FreeIndex,
    /// Reservable blocks that offer fewer than `block_size` addresses (partial edge blocks).
    pub(super) partial_blocks: Vec<u32>,
}

/// Blocks per region for best-fit: 16 blocks of 16 addresses, a /24.
pub(crate) const REGION_BLOCKS: u32 = 16;

/// Indexes of the free blocks beyond the ordered set: for random, a vector with positions
/// (O(1) insert, remove and uniform pick); for best-fit, free blocks per region and the
/// regions ordered by how few free blocks they have left.
#[derive(Debug, Clone, Default)]
pub(crate) struct FreeIndex {
    kind: Option<Strategy>,
    /// Random: the free blocks, in no order.
    pub(crate) vec: Vec<u32>,
    pos: Vec<u32>,
    region_free: Vec<u32>,
    pub(crate) by_fill: BTreeSet<(u32, u32)>,
}

impl FreeIndex {
    fn new(kind: Strategy, n_blocks: usize) -> Self {
        let mut ix = FreeIndex {
            kind: Some(kind),
            ..FreeIndex::default()
        };
        match kind {
            Strategy::Random => ix.pos = vec![NONE; n_blocks],
            Strategy::BestFit => {
                ix.region_free = vec![0; n_blocks.div_ceil(REGION_BLOCKS as usize)]
            }
            _ => ix.kind = None,
        }
        ix
    }

    fn insert(&mut self, b: u32) {
        match self.kind {
            Some(Strategy::Random) => {
                self.pos[b as usize] = self.vec.len() as u32;
                self.vec.push(b);
            }
            Some(Strategy::BestFit) => {
                let r = b / REGION_BLOCKS;
                let n = &mut self.region_free[r as usize];
                if *n > 0 {
                    self.by_fill.remove(&(*n, r));
                }
                *n += 1;
                self.by_fill.insert((*n, r));
            }
            _ => {}
        }
    }

    fn remove(&mut self, b: u32) {
        match self.kind {
            Some(Strategy::Random) => {
                let p = self.pos[b as usize] as usize;
                let last = self.vec.len() - 1;
                self.vec.swap(p, last);
                self.pos[self.vec[p] as usize] = p as u32;
                self.vec.pop();
                self.pos[b as usize] = NONE;
            }
            Some(Strategy::BestFit) => {
                let r = b / REGION_BLOCKS;
                let n = &mut self.region_free[r as usize];
                self.by_fill.remove(&(*n, r));
                *n -= 1;
                if *n > 0 {
                    self.by_fill.insert((*n, r));
                }
            }
            _ => {}
        }
    }
}

impl Pool {
    pub(crate) fn new(layout: &SubnetLayout, block_size: u32, strategy: Strategy) -> Self {
        let mut blocks = Vec::with_capacity(layout.blocks.len());
        let mut free_set = BTreeSet::new();
        let mut free_cap = 0;
        let mut partial_blocks = Vec::new();
        for (i, b) in layout.blocks.iter().enumerate() {
            let cap = b.usable.count_ones();
            if b.reservable {
                free_set.insert(i as u32);
                free_cap += cap;
                if cap < block_size {
                    partial_blocks.push(i as u32);
                }
            }
            blocks.push(Block {
                usable: b.usable,
                free: b.usable,
                cap,
                reservable: b.reservable,
                owner: NONE,
                linger_gen: 0,
            });
        }
        Pool {
            blocks,
            block_size,
            n_reservable: free_set.len() as u32,
            reservable_cap: free_cap,
            free_set,
            free_cap,
            reserved_cap: 0,
            n_reserved: 0,
            n_owners: 0,
            in_use: 0,
            retained: 0,
            direct: 0,
            usable: layout.n_usable,
            n_static: layout.n_static,
            index: FreeIndex::default(),
            partial_blocks,
        }
        .with_index(strategy)
    }

    fn with_index(mut self, strategy: Strategy) -> Self {
        self.index = FreeIndex::new(strategy, self.blocks.len());
        let free: Vec<u32> = self.free_set.iter().copied().collect();
        for b in free {
            self.index.insert(b);
        }
        self
    }

    pub(crate) fn reserved_idle(&self) -> u32 {
        self.reserved_cap - self.in_use - self.retained
    }

    pub(crate) fn unreserved(&self) -> u32 {
        self.usable - self.n_static - self.reserved_cap - self.direct
    }

    /// Addresses outside reservable blocks and not static: what connector VMs can hold.
    pub(crate) fn direct_capacity(&self) -> u32 {
        self.usable - self.n_static - self.reservable_cap
    }

    pub(super) fn reserve(&mut self, b: u32, owner_id: u32, owner: &mut Owner) {
        let blk = &mut self.blocks[b as usize];
        debug_assert!(blk.owner == NONE && blk.reservable && blk.wholly_free());
        blk.owner = owner_id;
        blk.linger_gen = blk.linger_gen.wrapping_add(1);
        self.free_set.remove(&b);
        self.index.remove(b);
        self.free_cap -= blk.cap;
        self.reserved_cap += blk.cap;
        self.n_reserved += 1;
        self.n_owners += u32::from(owner.n_blocks == 0);
        owner.n_blocks += 1;
        owner.free += blk.cap;
        owner.with_free.insert(b);
    }

    pub(super) fn release(&mut self, b: u32, owner: &mut Owner) {
        let blk = &mut self.blocks[b as usize];
        debug_assert!(blk.owner != NONE && blk.wholly_free());
        blk.owner = NONE;
        blk.linger_gen = blk.linger_gen.wrapping_add(1);
        self.free_set.insert(b);
        self.index.insert(b);
        self.free_cap += blk.cap;
        self.reserved_cap -= blk.cap;
        self.n_reserved -= 1;
        owner.n_blocks -= 1;
        self.n_owners -= u32::from(owner.n_blocks == 0);
        owner.free -= blk.cap;
        owner.with_free.remove(b);
    }

    /// Takes the `k` lowest free addresses across the owner's blocks; the caller made sure
    /// `owner.free >= k`.
    pub(super) fn take(&mut self, owner: &mut Owner, k: u32, holding: &mut Holding) {
        debug_assert!(owner.free >= k);
        let mut need = k;
        while need > 0 {
            let Some(b) = owner.with_free.first() else {
                break;
            };
            let blk = &mut self.blocks[b as usize];
            let mut free = blk.free;
            let mut mask = 0u64;
            let mut n = 0;
            while n < need && free != 0 {
                let bit = free & free.wrapping_neg();
                mask |= bit;
                free ^= bit;
                n += 1;
            }
            blk.free = free;
            blk.linger_gen = blk.linger_gen.wrapping_add(1);
            if free == 0 {
                owner.with_free.remove(b);
            }
            owner.free -= n;
            need -= n;
            holding.push((b, mask));
        }
    }

    /// Gives back `mask` in block `b`. Returns whether the block is now wholly free.
    pub(super) fn give_back(&mut self, b: u32, mask: u64, owner: &mut Owner) -> bool {
        let blk = &mut self.blocks[b as usize];
        debug_assert!(blk.free & mask == 0, "address freed twice");
        if blk.free == 0 {
            owner.with_free.insert(b);
        }
        blk.free |= mask;
        owner.free += mask.count_ones();
        blk.wholly_free()
    }

    /// The address of offset bit `bit` of block `b`, relative to the subnet base.
    pub(crate) fn offset(&self, b: u32, bit: u32) -> u32 {
        b * self.block_size + bit
    }

    /// Recounts everything from the blocks and panics on any disagreement. Debug builds and
    /// tests run it after every event.
    pub(crate) fn audit(&self, owners: &[Owner], subnet: u32) {
        assert_eq!(
            self.n_static
                + self.in_use
                + self.direct
                + self.retained
                + self.reserved_idle()
                + self.unreserved(),
            self.usable,
            "static + in_use + retained + reserved_idle + unreserved = usable"
        );
        assert!(
            self.in_use + self.retained <= self.reserved_cap,
            "held beyond reserved blocks"
        );
        assert!(
            self.direct <= self.direct_capacity(),
            "connector addresses beyond what lies outside blocks"
        );
        // The full recount costs O(blocks); above a /16's 4,096 blocks the debug build would
        // spend minutes per run on it, so larger subnets keep the checks above only.
        if self.blocks.len() > FULL_AUDIT_MAX_BLOCKS {
            return;
        }
        let (mut reserved_cap, mut n_reserved, mut free_cap, mut held) = (0, 0, 0, 0);
        let mut owner_free = vec![0u32; owners.len()];
        let mut owner_blocks = vec![0u32; owners.len()];
        for (i, b) in self.blocks.iter().enumerate() {
            assert_eq!(
                b.free & !b.usable,
                0,
                "block {i}: free address outside usable"
            );
            if b.owner != NONE {
                assert!(b.reservable, "block {i}: unreservable block reserved");
                let o = &owners[b.owner as usize];
                assert_eq!(o.subnet, subnet, "block {i}: owner from another subnet");
                reserved_cap += b.cap;
                n_reserved += 1;
                held += b.cap - b.free.count_ones();
                owner_free[b.owner as usize] += b.free.count_ones();
                owner_blocks[b.owner as usize] += 1;
                assert_eq!(
                    o.with_free.contains(i as u32),
                    b.free != 0,
                    "block {i}: with_free"
                );
            } else if b.reservable {
                assert!(b.wholly_free(), "block {i}: unowned but not free");
                assert!(
                    self.free_set.contains(&(i as u32)),
                    "block {i}: missing from free set"
                );
                free_cap += b.cap;
            }
        }
        assert_eq!(held, self.in_use + self.retained, "held addresses");
        assert_eq!(reserved_cap, self.reserved_cap, "reserved capacity");
        assert_eq!(n_reserved, self.n_reserved, "reserved blocks");
        assert_eq!(free_cap, self.free_cap, "free capacity");
        assert_eq!(
            self.free_set.len() as u32 + n_reserved,
            self.n_reservable,
            "block count"
        );
        let holders = owner_blocks.iter().filter(|&&n| n > 0).count() as u32;
        assert_eq!(holders, self.n_owners, "owners holding blocks");
        match self.index.kind {
            Some(Strategy::Random) => {
                let mut v = self.index.vec.clone();
                v.sort_unstable();
                assert!(
                    v.iter().copied().eq(self.free_set.iter().copied()),
                    "random index"
                );
            }
            Some(Strategy::BestFit) => {
                let mut counts = vec![0u32; self.index.region_free.len()];
                for &b in &self.free_set {
                    counts[(b / REGION_BLOCKS) as usize] += 1;
                }
                assert_eq!(counts, self.index.region_free, "best-fit region counts");
                let fill: BTreeSet<(u32, u32)> = counts
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(|(r, &n)| (n, r as u32))
                    .collect();
                assert_eq!(fill, self.index.by_fill, "best-fit region order");
            }
            _ => {}
        }
        for (id, o) in owners.iter().enumerate() {
            if o.subnet == subnet {
                assert_eq!(o.free, owner_free[id], "owner {id}: free addresses");
                assert_eq!(o.n_blocks, owner_blocks[id], "owner {id}: blocks");
            }
        }
    }
}
