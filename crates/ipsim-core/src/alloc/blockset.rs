//! An owner's blocks that still have a free address: an ordered set of block indexes, kept
//! inline while small (almost every owner holds a handful of blocks), so that a start or an
//! expiry reads the owner's record and not also a tree node elsewhere in memory.

use std::collections::BTreeSet;

/// Blocks kept inline before the set moves to a tree.
const INLINE: usize = 6;

/// An ordered set of block indexes.
#[derive(Debug, Clone)]
pub(crate) enum BlockSet {
    /// Sorted ascending, `len` of them.
    Inline { len: u8, ids: [u32; INLINE] },
    /// More than fit inline, at some point.
    Tree(BTreeSet<u32>),
}

impl Default for BlockSet {
    fn default() -> Self {
        BlockSet::Inline {
            len: 0,
            ids: [0; INLINE],
        }
    }
}

impl BlockSet {
    /// The lowest block.
    pub(crate) fn first(&self) -> Option<u32> {
        match self {
            BlockSet::Inline { len, ids } => ids[..usize::from(*len)].first().copied(),
            BlockSet::Tree(t) => t.first().copied(),
        }
    }

    /// Whether `b` is in the set.
    pub(crate) fn contains(&self, b: u32) -> bool {
        match self {
            BlockSet::Inline { len, ids } => ids[..usize::from(*len)].contains(&b),
            BlockSet::Tree(t) => t.contains(&b),
        }
    }

    /// Adds `b` (no-op if present).
    pub(crate) fn insert(&mut self, b: u32) {
        match self {
            BlockSet::Inline { len, ids } => {
                let n = usize::from(*len);
                let Err(pos) = ids[..n].binary_search(&b) else {
                    return;
                };
                if n < INLINE {
                    ids.copy_within(pos..n, pos + 1);
                    ids[pos] = b;
                    *len += 1;
                } else {
                    let mut t: BTreeSet<u32> = ids.iter().copied().collect();
                    t.insert(b);
                    *self = BlockSet::Tree(t);
                }
            }
            BlockSet::Tree(t) => {
                t.insert(b);
            }
        }
    }

    /// Removes `b` (no-op if absent).
    pub(crate) fn remove(&mut self, b: u32) {
        match self {
            BlockSet::Inline { len, ids } => {
                let n = usize::from(*len);
                if let Ok(pos) = ids[..n].binary_search(&b) {
                    ids.copy_within(pos + 1..n, pos);
                    *len -= 1;
                }
            }
            BlockSet::Tree(t) => {
                t.remove(&b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set agrees with a `BTreeSet` through inserts and removes across the inline limit.
    #[test]
    fn a_block_set_orders_like_a_tree() {
        let mut s = BlockSet::default();
        let mut t = BTreeSet::new();
        let mut x = 7u32;
        for i in 0..2000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let b = (x >> 16) % if i < 1000 { 9 } else { 40 };
            if x % 3 == 0 {
                s.remove(b);
                t.remove(&b);
            } else {
                s.insert(b);
                t.insert(b);
            }
            assert_eq!(s.first(), t.first().copied(), "step {i}");
            for c in 0..40 {
                assert_eq!(s.contains(c), t.contains(&c), "step {i}, block {c}");
            }
        }
    }
}
