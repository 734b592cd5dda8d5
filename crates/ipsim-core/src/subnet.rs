//! Subnets: address arithmetic, validation, static allocations and the block layout.
//!
//! Addresses are `u32` inside the core; a subnet is its base address and prefix length.
//! Offsets (address minus base) index blocks: block `i` covers offsets
//! `[i * block_size, (i + 1) * block_size)`.

use crate::error::{InputError, InputPath, SubnetField};
use crate::params::EdgeBlocks;

/// Another resource's addresses on the subnet (VMs, load balancers, databases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaticAlloc {
    /// One address.
    Address(u32),
    /// A whole prefix; Google-reserved addresses inside it are skipped, not counted.
    Prefix {
        /// Base address, host bits zero.
        base: u32,
        /// Prefix length.
        prefix_len: u8,
    },
    /// This many addresses, taken from the lowest usable ones left after the others.
    Count(u32),
}

/// A block Cloud Run already holds when the run starts (a `serverless-ipv4-*` reservation
/// of the live subnet): reserved at time 0, before any event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedBlock {
    /// First address of the block, aligned to the block size.
    pub base: u32,
    /// Prefix length of the block (28 for /28 blocks); must match the block size.
    pub prefix_len: u8,
    /// The workload (index into `workloads`, a service or worker pool on this subnet) whose
    /// owner holds it; `None`: an "existing Cloud Run" owner outside the scenario, which
    /// holds it for the whole run.
    pub workload: Option<usize>,
}

/// A subnet as the scenario declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetSpec {
    /// Name used in messages (Cloud Run's SUBNET_ID).
    pub name: String,
    /// Base address as a `u32` (`u32::from(Ipv4Addr)`), host bits zero.
    pub base: u32,
    /// Prefix length.
    pub prefix_len: u8,
    /// Static allocations.
    pub statics: Vec<StaticAlloc>,
    /// Edge-block policy.
    pub edge_blocks: EdgeBlocks,
    /// Waive the /26 minimum, down to /29.
    pub allow_small_subnet: bool,
    /// Waive the supported-range check.
    pub allow_unsupported_range: bool,
    /// Blocks already reserved at time 0.
    pub reserved: Vec<ReservedBlock>,
}

impl SubnetSpec {
    /// A subnet with default policy and no statics.
    pub fn new(name: impl Into<String>, base: u32, prefix_len: u8) -> Self {
        SubnetSpec {
            name: name.into(),
            base,
            prefix_len,
            statics: Vec::new(),
            edge_blocks: EdgeBlocks::Excluded,
            allow_small_subnet: false,
            allow_unsupported_range: false,
            reserved: Vec::new(),
        }
    }
}

/// Formats a `u32` address as dotted quad.
pub fn fmt_addr(addr: u32) -> String {
    std::net::Ipv4Addr::from(addr).to_string()
}

/// `a.b.c.d/len`.
pub fn fmt_cidr(base: u32, prefix_len: u8) -> String {
    format!("{}/{}", fmt_addr(base), prefix_len)
}

/// The ranges Cloud Run accepts for a subnet: RFC 1918, RFC 6598 and Class E.
pub const SUPPORTED_RANGES: [(u32, u8); 5] = [
    (0x0A00_0000, 8),  // 10.0.0.0/8
    (0xAC10_0000, 12), // 172.16.0.0/12
    (0xC0A8_0000, 16), // 192.168.0.0/16
    (0x6440_0000, 10), // 100.64.0.0/10
    (0xF000_0000, 4),  // 240.0.0.0/4
];

fn mask(prefix_len: u8) -> u32 {
    if prefix_len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix_len))
    }
}

fn inside(base: u32, len: u8, outer: u32, outer_len: u8) -> bool {
    len >= outer_len && (base & mask(outer_len)) == outer
}

/// One block of the layout.
#[derive(Debug, Clone)]
pub(crate) struct BlockLayout {
    /// Bit i set: offset `first + i` is usable (not Google-reserved, not static).
    pub(crate) usable: u64,
    /// Whether Cloud Run may reserve it.
    pub(crate) reservable: bool,
}

/// A validated subnet: size, static addresses and blocks.
#[derive(Debug, Clone)]
pub(crate) struct SubnetLayout {
    pub(crate) n_usable: u32,
    pub(crate) n_static: u32,
    pub(crate) blocks: Vec<BlockLayout>,
    /// The blocks reserved at time 0: (block index, holding workload), in the spec's order.
    pub(crate) reserved: Vec<(u32, Option<usize>)>,
}

/// Validates `spec` and lays it out. `used` says whether a Cloud Run workload uses it (the
/// /26 minimum and the range check apply only then); `connector` names a connector on it,
/// which the /26 minimum's error mentions.
pub(crate) fn layout(
    spec: &SubnetSpec,
    subnet: usize,
    block_size: u32,
    used: bool,
    connector: Option<&str>,
) -> Result<SubnetLayout, Vec<InputError>> {
    let mut errs = Vec::new();
    let cidr = fmt_cidr(spec.base, spec.prefix_len);
    let at = |field| InputPath::Subnet { subnet, field };
    if spec.prefix_len > 32 {
        return Err(vec![InputError::new(
            at(SubnetField::PrefixLen),
            format!("prefix length {} is not between 0 and 32", spec.prefix_len),
        )]);
    }
    if spec.base & !mask(spec.prefix_len) != 0 {
        let net = fmt_cidr(spec.base & mask(spec.prefix_len), spec.prefix_len);
        errs.push(InputError::new(
            at(SubnetField::Cidr),
            format!("{cidr} has host bits set; the network is {net}"),
        ));
    }
    if spec.prefix_len < 8 {
        errs.push(InputError::new(
            at(SubnetField::Cidr),
            format!("{cidr} is larger than /8, the largest subnet Google Cloud allows"),
        ));
    } else if spec.prefix_len > 29 {
        errs.push(InputError::new(
            at(SubnetField::Cidr),
            format!("{cidr} is smaller than /29, the smallest subnet Google Cloud allows"),
        ));
    } else if used && spec.prefix_len > 26 && !spec.allow_small_subnet {
        let message = match connector {
            None => format!(
                "{cidr} is smaller than /26: Cloud Run needs a /26 or larger subnet \
                 (set allow_small_subnet to replay this mistake)"
            ),
            Some(c) => format!(
                "{cidr} is the /{} of connector {c:?}: Direct VPC egress needs a /26 or larger \
                 subnet, because Cloud Run reserves whole /28 blocks and a subnet this small has \
                 no block to give, so every start would fail at once (set allow_small_subnet to \
                 replay this mistake)",
                spec.prefix_len
            ),
        };
        errs.push(InputError::new(at(SubnetField::Cidr), message));
    }
    if used && !spec.allow_unsupported_range {
        let ok = SUPPORTED_RANGES
            .iter()
            .any(|&(b, l)| inside(spec.base, spec.prefix_len, b, l));
        if !ok {
            errs.push(InputError::new(
                at(SubnetField::Cidr),
                format!(
                    "{cidr} is outside the ranges Cloud Run supports: 10.0.0.0/8, \
                     172.16.0.0/12, 192.168.0.0/16 (RFC 1918), 100.64.0.0/10 (RFC 6598) \
                     and 240.0.0.0/4 (Class E); set allow_unsupported_range to waive this"
                ),
            ));
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }

    let size: u64 = 1u64 << (32 - u32::from(spec.prefix_len));
    let last = size - 1;
    let is_reserved = |off: u64| off <= 1 || off >= size - 2;
    // Static placement: addresses and prefixes first, counts after.
    let mut is_static = vec![0u64; size.div_ceil(64) as usize];
    let mut owner_of: Vec<(u64, u64, usize)> = Vec::new(); // (first, last, static idx)
    for (i, s) in spec.statics.iter().enumerate() {
        let sp = InputPath::Static { subnet, index: i };
        let (first, len) = match *s {
            StaticAlloc::Address(a) => (a, 32u8),
            StaticAlloc::Prefix { base, prefix_len } => {
                if prefix_len > 32 {
                    errs.push(InputError::new(
                        sp,
                        format!("prefix length {prefix_len} is not between 0 and 32"),
                    ));
                    continue;
                }
                if base & !mask(prefix_len) != 0 {
                    errs.push(InputError::new(
                        sp,
                        format!("{} has host bits set", fmt_cidr(base, prefix_len)),
                    ));
                    continue;
                }
                (base, prefix_len)
            }
            StaticAlloc::Count(_) => continue,
        };
        let what = if len == 32 {
            fmt_addr(first)
        } else {
            fmt_cidr(first, len)
        };
        if !inside(first, len, spec.base, spec.prefix_len) {
            errs.push(InputError::new(
                sp,
                format!("{what} is outside the subnet {cidr}"),
            ));
            continue;
        }
        let lo = u64::from(first - spec.base);
        let hi = lo + (1u64 << (32 - u32::from(len))) - 1;
        if len == 32 && is_reserved(lo) {
            let role = match lo {
                0 => "the network address",
                1 => "the default gateway",
                o if o == last => "the broadcast address",
                _ => "the second-to-last address",
            };
            errs.push(InputError::new(
                sp,
                format!("{what} is {role} of {cidr}, reserved by Google; use another address"),
            ));
            continue;
        }
        if let Some(&(_, _, j)) = owner_of.iter().find(|&&(a, b, _)| a <= hi && lo <= b) {
            errs.push(InputError::new(sp, format!("{what} overlaps statics[{j}]")));
            continue;
        }
        owner_of.push((lo, hi, i));
        for off in lo..=hi {
            if !is_reserved(off) {
                is_static[(off / 64) as usize] |= 1 << (off % 64);
            }
        }
    }
    let mut cursor = 2u64; // the lowest offset that can be usable
    for (i, s) in spec.statics.iter().enumerate() {
        if let StaticAlloc::Count(n) = *s {
            let mut left = n;
            while left > 0 && cursor < size - 2 {
                let w = (cursor / 64) as usize;
                let bit = 1u64 << (cursor % 64);
                if is_static[w] & bit == 0 {
                    is_static[w] |= bit;
                    left -= 1;
                }
                cursor += 1;
            }
            if left > 0 {
                errs.push(InputError::new(
                    InputPath::Static { subnet, index: i },
                    format!("{cidr} has no room for {n} more static addresses ({left} short)"),
                ));
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let n_static: u32 = is_static.iter().map(|w| w.count_ones()).sum();

    let bs = u64::from(block_size);
    // A subnet smaller than one block (a /29 under /28 blocks) has no block at all, so every
    // Cloud Run start on it fails (docs/model.md "Blocks"). Sizes and blocks are powers of two.
    let n_blocks = size / bs;
    let mut blocks = Vec::with_capacity(n_blocks as usize);
    for b in 0..n_blocks {
        let first = b * bs;
        let end = (first + bs).min(size);
        let mut usable = 0u64;
        let mut has_static = false;
        let mut has_reserved = false;
        for off in first..end {
            let st = is_static[(off / 64) as usize] & (1 << (off % 64)) != 0;
            if is_reserved(off) {
                has_reserved = true;
            } else if st {
                has_static = true;
            } else {
                usable |= 1 << (off - first);
            }
        }
        let reservable = !has_static
            && usable != 0
            && (!has_reserved || spec.edge_blocks == EdgeBlocks::Partial);
        blocks.push(BlockLayout { usable, reservable });
    }
    let reserved = reserved_blocks(spec, subnet, block_size, &blocks, &cidr)?;
    Ok(SubnetLayout {
        n_usable: (size - 4) as u32,
        n_static,
        blocks,
        reserved,
    })
}

/// The blocks reserved at time 0: each one a whole reservable block of the layout, given once.
fn reserved_blocks(
    spec: &SubnetSpec,
    subnet: usize,
    block_size: u32,
    blocks: &[BlockLayout],
    cidr: &str,
) -> Result<Vec<(u32, Option<usize>)>, Vec<InputError>> {
    let mut errs = Vec::new();
    let mut out: Vec<(u32, Option<usize>)> = Vec::new();
    let mut seen: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
    let block_len = 32 - block_size.trailing_zeros() as u8;
    for (index, r) in spec.reserved.iter().enumerate() {
        let at = InputPath::Reserved { subnet, index };
        let what = fmt_cidr(r.base, r.prefix_len);
        if r.prefix_len != block_len {
            errs.push(InputError::new(
                at,
                format!(
                    "{what} is not one block: blocks are /{block_len} ({block_size} addresses)"
                ),
            ));
            continue;
        }
        if !inside(r.base, r.prefix_len, spec.base, spec.prefix_len) {
            errs.push(InputError::new(
                at,
                format!("{what} is outside the subnet {cidr}"),
            ));
            continue;
        }
        if r.base & !mask(r.prefix_len) != 0 {
            errs.push(InputError::new(
                at,
                format!("{what} has host bits set: a block starts at a multiple of {block_size}"),
            ));
            continue;
        }
        let b = (r.base - spec.base) / block_size;
        if !blocks[b as usize].reservable {
            errs.push(InputError::new(
                at,
                format!(
                    "{what} cannot be reserved: it holds a static address or is an edge block \
                     with Google's reserved addresses (edge_blocks \"excluded\")"
                ),
            ));
            continue;
        }
        if let Some(&j) = seen.get(&b) {
            errs.push(InputError::new(
                at,
                format!("{what} is already reserved[{j}]"),
            ));
            continue;
        }
        seen.insert(b, index);
        out.push((b, r.workload));
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// The part of an output file name that stands for a subnet (`occupancy-<stem>.png`): its
/// letters, digits, `-` and `_`, anything else as `_`. Two subnets of one scenario must not
/// share a stem (the loader refuses them), or one's chart would overwrite the other's.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
