//! Focused allocator cases: the fewest-blocks rule, and subnets smaller than one block.

use crate::alloc::{Allocator, Holding};
use crate::params::{EdgeBlocks, Strategy};
use crate::subnet::{SubnetSpec, layout};

const BASE: u32 = 0x0A00_0000; // 10.0.0.0

fn allocator(prefix_len: u8, edge: EdgeBlocks, block_size: u32) -> Allocator {
    let mut spec = SubnetSpec::new("s", BASE, prefix_len);
    spec.edge_blocks = edge;
    spec.allow_small_subnet = prefix_len > 26;
    let l = layout(&spec, 0, block_size, true, None).expect("a valid subnet");
    Allocator::new(&[l], block_size, Strategy::FirstFit, 0)
}

/// A /26 with partial edge blocks: block 0 offers 14 addresses (.2 to .15), blocks 1 and 2
/// offer 16, block 3 offers 14. A shortfall of 16 is covered by ONE full block, so first-fit
/// reserves block 1 rather than the first free block (partial) plus another.
#[test]
fn fewest_blocks_beat_address_order() {
    let mut a = allocator(26, EdgeBlocks::Partial, 16);
    assert_eq!(a.layout_figures(0), [60, 0, 60, 4, 4]);
    let owner = a.add_owner(0, 0);
    let (mut h, mut reserved) = (Holding::default(), Vec::new());
    assert!(a.start(0, owner, 16, &mut h, &mut reserved));
    assert_eq!(
        reserved,
        [1],
        "one full block, not the partial block 0 and block 1"
    );
    assert_eq!(a.offsets(0, &h), (16..32).collect::<Vec<_>>());
    let row = a.row(0, 0);
    assert_eq!((row.reserved_blocks, row.free_blocks, row.free), (1, 3, 44));
    a.audit(0);

    // A shortfall of 14 fits in the partial block 0, the first in address order.
    let other = a.add_owner(0, 1);
    reserved.clear();
    assert!(a.start(0, other, 14, &mut h, &mut reserved));
    assert_eq!(reserved, [0]);
    assert_eq!(a.offsets(0, &h), (2..16).collect::<Vec<_>>());

    // 17 more for the first owner: two blocks are the fewest (block 2 alone has 16); the
    // first pair in address order that covers 17 is blocks 2 and 3.
    reserved.clear();
    assert!(a.start(0, owner, 17, &mut h, &mut reserved));
    assert_eq!(reserved, [2, 3]);
    assert_eq!(a.offsets(0, &h), (32..49).collect::<Vec<_>>());
    a.audit(0);
}

/// All or nothing: a start that the free blocks cannot cover reserves nothing, even when some
/// blocks are free.
#[test]
fn failed_start_reserves_nothing() {
    let mut a = allocator(26, EdgeBlocks::Excluded, 16);
    let owner = a.add_owner(0, 0);
    let (mut h, mut reserved) = (Holding::default(), Vec::new());
    assert!(!a.start(0, owner, 33, &mut h, &mut reserved));
    assert!(reserved.is_empty());
    let row = a.row(0, 0);
    assert_eq!(
        (row.reserved_blocks, row.free_blocks, row.in_use),
        (0, 2, 0)
    );
    assert!(a.start(0, owner, 32, &mut h, &mut reserved));
    assert_eq!(reserved, [1, 2]);
}

/// docs/model.md "Blocks": a subnet smaller than one block (a /29 under /28 blocks, a /28 under
/// /27 blocks) has no block at all, whatever the edge policy, so every start on it fails.
#[test]
fn tiny_subnet_has_no_block() {
    for (prefix_len, block_size) in [(29, 16), (29, 32), (28, 32)] {
        for edge in [EdgeBlocks::Excluded, EdgeBlocks::Partial] {
            let what = format!("/{prefix_len} under {block_size}-address blocks, {edge:?}");
            let mut a = allocator(prefix_len, edge, block_size);
            let [usable, _, reservable_cap, blocks, reservable] = a.layout_figures(0);
            assert_eq!(usable, (1 << (32 - prefix_len)) - 4, "{what}");
            assert_eq!(
                (blocks, reservable, reservable_cap),
                (0, 0, 0),
                "{what}: blocks"
            );
            let owner = a.add_owner(0, 0);
            let (mut h, mut reserved) = (Holding::default(), Vec::new());
            assert!(
                !a.start(0, owner, 1, &mut h, &mut reserved),
                "{what}: a start"
            );
            a.audit(0);
        }
    }
}
