//! Random cases for the allocator model: subnets with valid statics, and operations.

use proptest::prelude::*;
use proptest::sample::Index;

use crate::params::{EdgeBlocks, Strategy as Fit};
use crate::subnet::{StaticAlloc, SubnetSpec};

/// A subnet as generated: its statics come out valid (no overlap, none on a Google reserve).
#[derive(Debug, Clone)]
pub(super) struct SubGen {
    pub(super) prefix_len: u8,
    pub(super) edge: EdgeBlocks,
    /// A static prefix: its length (29 to 31) and a slot among the aligned ones.
    pub(super) prefix: Option<(u8, u32)>,
    pub(super) addrs: Vec<u32>,
    pub(super) count: u32,
}

fn sub_gen(max_prefix: u8) -> impl Strategy<Value = SubGen> {
    (
        22..=max_prefix,
        prop_oneof![Just(EdgeBlocks::Excluded), Just(EdgeBlocks::Partial)],
        proptest::option::weighted(0.3, (29u8..=31, any::<u32>())),
        proptest::collection::vec(any::<u32>(), 0..4),
        prop_oneof![2 => Just(0u32), 1 => 0u32..20],
    )
        .prop_map(|(prefix_len, edge, prefix, addrs, count)| SubGen {
            prefix_len,
            edge,
            prefix,
            addrs,
            count,
        })
}

/// The spec, and its static offsets placed as docs/model.md says: addresses and prefixes first
/// (Google reserves inside a prefix skipped), then counts from the lowest usable left.
pub(super) fn build(g: &SubGen, base: u32) -> (SubnetSpec, Vec<u32>) {
    let size = 1u32 << (32 - g.prefix_len);
    let google = |o: u32| o <= 1 || o >= size - 2;
    let mut spec = SubnetSpec::new("s", base, g.prefix_len);
    spec.edge_blocks = g.edge;
    spec.allow_small_subnet = g.prefix_len > 26;
    let mut placed: Vec<u32> = Vec::new();
    let mut range = 0..0;
    if let Some((len, slot)) = g.prefix {
        let n = 1u32 << (32 - len);
        let lo = slot % (size / n) * n;
        range = lo..lo + n;
        spec.statics.push(StaticAlloc::Prefix {
            base: base + lo,
            prefix_len: len,
        });
        placed.extend(range.clone().filter(|&o| !google(o)));
    }
    for &raw in &g.addrs {
        let o = raw % size;
        if !google(o) && !range.contains(&o) && !placed.contains(&o) {
            spec.statics.push(StaticAlloc::Address(base + o));
            placed.push(o);
        }
    }
    let left: Vec<u32> = (0..size)
        .filter(|&o| !google(o) && !placed.contains(&o))
        .collect();
    let count = g.count.min(left.len() as u32);
    if count > 0 {
        spec.statics.push(StaticAlloc::Count(count));
        placed.extend(&left[..count as usize]);
    }
    (spec, placed)
}

#[derive(Debug, Clone)]
pub(super) enum Op {
    Start { sub: u8, owner: u8, k: u32 },
    Retain(Index),
    Expire(Index, bool),
    LingerEnd(Index),
    Connect { sub: u8, want: u32 },
}

/// `small` weighs the starts of 1 to 6 addresses against large ones (up to 40, or whole
/// blocks' worth: the shortfalls that a partial edge block cannot cover with the fewest
/// blocks); cases without small starts keep the partial edge blocks free for longer.
fn op(bs: u32, small: u32) -> impl Strategy<Value = Op> {
    let k = prop_oneof![
        small => 1u32..=6,
        1 => 1u32..=40,
        1 => (1u32..=3).prop_map(move |j| j * bs),
    ];
    prop_oneof![
        8 => (any::<u8>(), 0u8..4, k).prop_map(|(sub, owner, k)| Op::Start { sub, owner, k }),
        3 => any::<Index>().prop_map(Op::Retain),
        3 => (any::<Index>(), prop::bool::weighted(0.3)).prop_map(|(i, l)| Op::Expire(i, l)),
        1 => any::<Index>().prop_map(Op::LingerEnd),
        1 => (any::<u8>(), 0u32..4).prop_map(|(sub, want)| Op::Connect { sub, want }),
    ]
}

#[derive(Debug, Clone)]
pub(super) struct Case {
    pub(super) block_size: u32,
    pub(super) strategy: Fit,
    pub(super) seed: u64,
    pub(super) subnets: Vec<SubGen>,
    pub(super) ops: Vec<Op>,
}

pub(super) fn case() -> impl Strategy<Value = Case> {
    let strategy = prop_oneof![
        Just(Fit::FirstFit),
        Just(Fit::NextFit),
        Just(Fit::BestFit),
        Just(Fit::Random),
    ];
    let blocks = prop_oneof![Just(8u32), Just(16), Just(32)];
    let small = prop_oneof![3 => Just(6u32), 1 => Just(0)];
    (blocks, strategy, small).prop_flat_map(|(bs, strategy, small)| {
        // Down to a /29, Google Cloud's smallest subnet, so subnets smaller than one block
        // (which docs/model.md gives no block at all) come up too.
        let max_prefix = 29u8;
        (
            any::<u64>(),
            proptest::collection::vec(sub_gen(max_prefix), 1..=2),
            proptest::collection::vec(op(bs, small), 0..150),
        )
            .prop_map(move |(seed, subnets, ops)| Case {
                block_size: bs,
                strategy,
                seed,
                subnets,
                ops,
            })
    })
}
