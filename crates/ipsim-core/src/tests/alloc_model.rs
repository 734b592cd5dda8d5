//! The allocator against the naive model of `naive_alloc`, on random operation sequences
//! (`alloc_gen`): one or two subnets (/22 to /28, edge blocks excluded or partial, random
//! statics), block sizes 8, 16 and 32, every strategy, four owners per subnet (its
//! subnet-scope owner and three workloads). Operations: starts of 1 to 6 addresses (and
//! sometimes up to 40 or whole blocks' worth, so that covers of several blocks and the
//! fewest-blocks rule come up), retention of a running holding, expiry of a retained one with
//! its wholly free blocks released at once (`block_linger` = 0) or lingering, linger ends,
//! and connector VMs.
//!
//! After every operation: the same success, the same blocks reserved in the same order, the
//! same addresses taken, the same blocks wholly freed, every block's owner, every owner's free
//! addresses, the same `row()`, and `audit()` passes. First-fit, next-fit (its cursor) and
//! best-fit (its region order) are predicted; for random, the model checks that the blocks
//! drawn are free and are a cover of the fewest blocks, then follows them.

use proptest::prelude::*;
use proptest::sample::Index;

use super::alloc_gen::{Case, Op, build, case};
use super::naive_alloc::{AddrState, NaiveSubnet};
use crate::alloc::{Allocator, Holding, NONE};
use crate::params::Strategy as Fit;
use crate::subnet::layout;

/// A holding that the engine and the model both know.
#[derive(Debug)]
struct Live {
    sub: u32,
    owner: u32,
    holding: Holding,
    addrs: Vec<u32>,
    retained: bool,
}

struct World {
    strategy: Fit,
    alloc: Allocator,
    model: Vec<NaiveSubnet>,
    /// Per subnet, its four owners' ids; `workload[id]` is what `release` must return.
    owners: Vec<[u32; 4]>,
    workload: Vec<u32>,
    live: Vec<Live>,
    /// Lingers running: subnet, block, the engine's epoch, the model's id.
    lingers: Vec<(u32, u32, u32, u64)>,
    next_linger: u64,
}

impl World {
    fn new(c: &Case) -> Self {
        let (mut layouts, mut model) = (Vec::new(), Vec::new());
        for (i, g) in c.subnets.iter().enumerate() {
            let (spec, statics) = build(g, 0x0A00_0000 + ((i as u32) << 16));
            layouts.push(
                layout(&spec, 0, c.block_size, true, None).expect("a valid generated subnet"),
            );
            let size = 1u32 << (32 - g.prefix_len);
            model.push(NaiveSubnet::new(size, c.block_size, g.edge, &statics));
        }
        let mut alloc = Allocator::new(&layouts, c.block_size, c.strategy, c.seed);
        let n = c.subnets.len() as u32;
        let mut workload: Vec<u32> = vec![NONE; n as usize];
        let owners = (0..n)
            .map(|s| {
                let mut ids = [alloc.subnet_owner(s); 4];
                for id in &mut ids[1..] {
                    *id = alloc.add_owner(s, workload.len() as u32);
                    workload.push(workload.len() as u32);
                }
                ids
            })
            .collect();
        World {
            strategy: c.strategy,
            alloc,
            model,
            owners,
            workload,
            live: Vec::new(),
            lingers: Vec::new(),
            next_linger: 0,
        }
    }

    fn check(&self) -> Result<(), TestCaseError> {
        for (s, m) in self.model.iter().enumerate() {
            let s32 = s as u32;
            self.alloc.audit(s32);
            prop_assert_eq!(self.alloc.row(s32, 0), m.row(), "row of subnet {}", s);
            prop_assert_eq!(self.alloc.free_blocks(s32), m.row().free_blocks);
            for b in 0..m.n_blocks() {
                let want = m.owner[b as usize].unwrap_or(NONE);
                prop_assert_eq!(self.alloc.block_owner(s32, b), want, "owner of block {}", b);
            }
            for &o in &self.owners[s] {
                prop_assert_eq!(
                    self.alloc.owner_free(o),
                    m.owner_free(o),
                    "owner {} free",
                    o
                );
            }
        }
        Ok(())
    }

    fn start(&mut self, sub: u32, owner: u32, k: u32) -> Result<(), TestCaseError> {
        let m = &mut self.model[sub as usize];
        let (mut holding, mut reserved) = (Holding::default(), Vec::new());
        let ok = self.alloc.start(sub, owner, k, &mut holding, &mut reserved);
        let free = m.owner_free(owner);
        let fewest = if free >= k {
            Some(0)
        } else {
            m.fewest(k - free)
        };
        prop_assert_eq!(ok, fewest.is_some(), "start({}, {})", owner, k);
        let Some(n) = fewest else {
            prop_assert!(
                reserved.is_empty(),
                "a failed start reserved {:?}",
                reserved
            );
            return Ok(());
        };
        if n > 0 {
            let need = k - free;
            let chosen = if self.strategy == Fit::Random {
                let mut sorted = reserved.clone();
                sorted.sort_unstable();
                sorted.dedup();
                prop_assert_eq!(
                    sorted.len(),
                    n,
                    "random drew {:?}, not {} blocks",
                    reserved,
                    n
                );
                prop_assert!(reserved.iter().all(|&b| m.is_free_block(b)));
                let cap: u32 = reserved.iter().map(|&b| m.cap(b)).sum();
                prop_assert!(
                    cap >= need,
                    "random drew {:?}: {} < {}",
                    reserved,
                    cap,
                    need
                );
                reserved.clone()
            } else {
                let order = m.order(self.strategy);
                m.first_cover(&order, n, need)
                    .expect("a cover of the fewest blocks")
            };
            prop_assert_eq!(&reserved, &chosen, "blocks reserved for {} more", need);
            for &b in &chosen {
                m.reserve(b, owner);
            }
            m.cursor = chosen.last().map_or(m.cursor, |&b| b + 1);
        } else {
            prop_assert!(
                reserved.is_empty(),
                "reserved {:?} with enough free",
                reserved
            );
        }
        let addrs = m.take(owner, k);
        prop_assert_eq!(self.alloc.offsets(sub, &holding), addrs.clone());
        self.live.push(Live {
            sub,
            owner,
            holding,
            addrs,
            retained: false,
        });
        Ok(())
    }

    fn release(&mut self, sub: u32, b: u32) -> Result<(), TestCaseError> {
        let m = &mut self.model[sub as usize];
        let want = self.workload[m.owner[b as usize].expect("an owned block") as usize];
        prop_assert_eq!(self.alloc.release(sub, b), want);
        m.release(b);
        Ok(())
    }

    fn expire(&mut self, i: Index, linger: bool) -> Result<(), TestCaseError> {
        let retained: Vec<usize> = (0..self.live.len())
            .filter(|&j| self.live[j].retained)
            .collect();
        if retained.is_empty() {
            return Ok(());
        }
        let l = self.live.remove(retained[i.index(retained.len())]);
        let m = &mut self.model[l.sub as usize];
        let mut freed = Vec::new();
        let k = l.addrs.len() as u32;
        self.alloc.expire(l.sub, l.owner, k, &l.holding, &mut freed);
        m.set(&l.addrs, AddrState::Retained, AddrState::Free);
        let mut blocks: Vec<u32> = l.addrs.iter().map(|a| a / m.bs).collect();
        blocks.dedup();
        blocks.retain(|&b| m.wholly_free(b));
        prop_assert_eq!(&freed, &blocks, "blocks wholly freed");
        for b in blocks {
            if linger {
                let epoch = self.alloc.linger(l.sub, b);
                self.model[l.sub as usize].linger[b as usize] = Some(self.next_linger);
                self.lingers.push((l.sub, b, epoch, self.next_linger));
                self.next_linger += 1;
            } else {
                self.release(l.sub, b)?;
            }
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let n = self.model.len();
        match *op {
            Op::Start { sub, owner, k } => {
                let s = usize::from(sub) % n;
                self.start(s as u32, self.owners[s][usize::from(owner)], k)?;
            }
            Op::Retain(i) => {
                let running: Vec<usize> = (0..self.live.len())
                    .filter(|&j| !self.live[j].retained)
                    .collect();
                if !running.is_empty() {
                    let l = &mut self.live[running[i.index(running.len())]];
                    self.alloc.retain(l.sub, l.addrs.len() as u32);
                    let m = &mut self.model[l.sub as usize];
                    m.set(&l.addrs, AddrState::InUse, AddrState::Retained);
                    l.retained = true;
                }
            }
            Op::Expire(i, linger) => self.expire(i, linger)?,
            Op::LingerEnd(i) => {
                if !self.lingers.is_empty() {
                    let (sub, b, epoch, id) = self.lingers.remove(i.index(self.lingers.len()));
                    let m = &self.model[sub as usize];
                    let want = m.linger[b as usize] == Some(id)
                        && m.owner[b as usize].is_some()
                        && m.wholly_free(b);
                    prop_assert_eq!(self.alloc.linger_over(sub, b, epoch), want, "linger {}", b);
                    if want {
                        self.release(sub, b)?;
                    }
                }
            }
            Op::Connect { sub, want } => {
                let s = usize::from(sub) % n;
                let m = &mut self.model[s];
                let add = want.min(m.direct_capacity() - m.direct);
                prop_assert_eq!(self.alloc.connect(s as u32, want), add);
                m.direct += add;
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn allocator_matches_naive_model(c in case()) {
        let mut w = World::new(&c);
        for (i, m) in w.model.iter().enumerate() {
            let row = m.row();
            let usable = row.in_use + row.retained + row.reserved_idle + row.unreserved
                + m.addr.iter().filter(|&&a| a == AddrState::Static).count() as u32;
            let n_static = usable - row.unreserved;
            let reservable = (0..m.n_blocks()).filter(|&b| m.is_free_block(b));
            let figures = [
                usable,
                n_static,
                reservable.clone().map(|b| m.cap(b)).sum(),
                m.n_blocks(),
                reservable.count() as u32,
            ];
            prop_assert_eq!(w.alloc.layout_figures(i as u32), figures);
        }
        w.check()?;
        for op in &c.ops {
            w.apply(op)?;
            w.check()?;
        }
    }
}
