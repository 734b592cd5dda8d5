//! Reading ahead in the sweeps of a large run.
//!
//! With tens of thousands of services, what an evaluation, a stop, a start or an expiry reads
//! has left every cache since it was last read, a minute or twenty earlier: each is a wait
//! on memory, and the sweep waits for them one after another. Reading what the next few
//! will need in one go lets the processor wait for all of them at once (their loads
//! overlap), and the sweep then finds them in the cache. Reading ahead changes nothing the
//! run computes: it only reads, and what it reads is combined into a value that is thrown
//! away ([`std::hint::black_box`], so that the reads are not optimised out).
//!
//! - The evaluation sweep, every [`AHEAD`] workloads, reads the records of the workloads
//!   `AHEAD` to `2 * AHEAD` places ahead, and for the next `AHEAD` what their stops and starts
//!   read: the records of the newest revision's two newest running instances (those a
//!   scale-down stops first) and the owner's count and block that a start takes from.
//! - The expiries of a lane, every `AHEAD`, read the owners and blocks of the `AHEAD` that
//!   follow the next `AHEAD`.
//!
//! A workload that scales up does not stop its instances, and one whose demand falls by
//! more than two stops more than the two read: what is read is a guess, so it costs a few
//! loads that overlap, and never changes the result.

use super::{KindState, Simulation};

/// How many workloads, or expiries, are read ahead at a time: enough loads to overlap, few
/// enough that what is read stays in the cache until used.
pub(super) const AHEAD: usize = 16;

/// Fewer workloads than this keep their records in the cache from one minute to the next
/// (about 1.5 MB of service records at 4,096), so that reading ahead would only add loads:
/// below it, the sweeps do not read ahead (docs/performance.md "On a quiet machine").
pub(super) const MIN_WORKLOADS: usize = 4_096;

impl Simulation<'_> {
    /// Whether this run reads ahead: from [`MIN_WORKLOADS`] workloads.
    fn reads_ahead(&self) -> bool {
        self.wls.len() >= MIN_WORKLOADS
    }

    /// Before the evaluation of `dirty[j]`: every `AHEAD`-th, reads ahead for the next ones.
    pub(super) fn evaluations_ahead(&self, dirty: &[u32], j: usize) {
        if j % AHEAD != 0 || !self.reads_ahead() {
            return;
        }
        let chunk = |from: usize| dirty.get(from..).unwrap_or(&[]).iter().take(AHEAD);
        let mut acc = 0u32;
        if j == 0 {
            acc ^= chunk(0).fold(0, |a, &wl| a ^ self.record_ahead(wl));
        }
        acc ^= chunk(j + AHEAD).fold(0, |a, &wl| a ^ self.record_ahead(wl));
        acc ^= chunk(j).fold(0, |a, &wl| a ^ self.changes_ahead(wl));
        std::hint::black_box(acc);
    }

    /// What an evaluation of `wl` reads of its own record.
    fn record_ahead(&self, wl: u32) -> u32 {
        match self.wls.get(wl as usize) {
            Some(w) => match &w.state {
                KindState::Scaled(s) => w.clamp.0 ^ s.ahead(),
                KindState::Job(_) | KindState::Connector(_) => w.clamp.0,
            },
            None => 0,
        }
    }

    /// What the stops and starts that follow the evaluation of `wl` read.
    fn changes_ahead(&self, wl: u32) -> u32 {
        let Some(KindState::Scaled(s)) = self.wls.get(wl as usize).map(|w| &w.state) else {
            return 0;
        };
        let stops = s.newest_running().iter().rev().take(2);
        let stops = stops.fold(0, |a, &i| {
            a ^ self.instances.get(i as usize).map_or(0, |x| x.epoch)
        });
        stops
            ^ self
                .alloc
                .start_ahead(self.owner_of(wl, s.n_revisions() - 1))
    }

    /// After the expiry just taken from a lane: every `AHEAD`-th, reads ahead for the ones
    /// that follow.
    pub(super) fn expiries_ahead(&self) {
        if self.counts.expiries % AHEAD as u64 != 0 || !self.reads_ahead() {
            return;
        }
        let acc = self.queue.retained_ahead(AHEAD, AHEAD).fold(0, |a, r| {
            a ^ self.alloc.expiry_ahead(r.subnet, r.owner, &r.holding)
        });
        std::hint::black_box(acc);
    }
}
