//! Services and worker pools: revisions with traffic shares, swaps and whole-percent rollouts,
//! and scaling each revision to `ceil(demand * share)` (docs/model.md "Revisions and swaps",
//! "Scaling down").

use super::ids::Ids;
use super::{Action, Timer};
use crate::input::Swap;
use crate::share::Share;

/// One revision: its owner of blocks (revision scope), traffic share, instances and requests.
/// What an evaluation reads comes first (`repr(C)`): the share, the observed count and the
/// lists' lengths share the record's first two cache lines.
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct Revision {
    share: Share,
    /// Its own observed count (observed revisions only).
    observed: u32,
    /// 1 for the first revision.
    pub(crate) number: u32,
    /// Its own owner under revision scope, else `NONE`.
    pub(crate) owner: u32,
    /// Request ids in request order (inline up to 4: a start reads them with the revision).
    pending: Ids<4>,
    /// Instance ids in start order (inline up to 16: read with the revision itself).
    running: Ids<16>,
}

impl Default for Revision {
    fn default() -> Self {
        Revision {
            share: Share::ZERO,
            observed: 0,
            number: 0,
            owner: 0,
            running: Ids::default(),
            pending: Ids::default(),
        }
    }
}

/// A service's revisions by index, the newest kept inline: the evaluation reads it with the
/// workload's own record instead of following a pointer to a heap buffer (in a run of many
/// services, a cache miss per service and sweep). Older revisions, active during a rollout
/// or retired, are in a vector.
#[derive(Debug, Default)]
#[repr(C)]
struct Revisions {
    len: usize,
    newest: Revision,
    older: Vec<Revision>,
}

impl Revisions {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, r: Revision) {
        let old = std::mem::replace(&mut self.newest, r);
        if self.len > 0 {
            self.older.push(old);
        }
        self.len += 1;
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Revision> {
        if i + 1 == self.len {
            Some(&mut self.newest)
        } else {
            self.older.get_mut(i)
        }
    }
}

impl std::ops::Index<usize> for Revisions {
    type Output = Revision;
    fn index(&self, i: usize) -> &Revision {
        if i + 1 == self.len {
            &self.newest
        } else {
            &self.older[i]
        }
    }
}

impl std::ops::IndexMut<usize> for Revisions {
    fn index_mut(&mut self, i: usize) -> &mut Revision {
        if i + 1 == self.len {
            &mut self.newest
        } else {
            &mut self.older[i]
        }
    }
}

#[derive(Debug, Clone)]
struct Rollout {
    start_ms: u64,
    rollout_ms: u64,
    k: u32,
    new_rev: u32,
    bases: Vec<(u32, Share)>,
}

/// What a swap did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Swapped {
    /// The new revision's index.
    pub(crate) new_rev: u32,
    /// Whether it took 100% at once.
    pub(crate) rollout_done: bool,
    /// Whether a rollout still under way at the swap completed at the swap's millisecond.
    pub(crate) previous_completed: bool,
}

/// A service's or worker pool's revisions and rollout, what an evaluation reads first
/// (`repr(C)`): it reads them in the order laid out.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct ServiceState {
    /// Revisions that may still have traffic or instances, oldest first.
    active: Ids<4>,
    revisions: Revisions,
    rollout: Option<Rollout>,
    rollout_gen: u32,
    swap_cursor: usize,
}

impl ServiceState {
    /// Revision 1 with all the traffic, owned by `owner`.
    pub(crate) fn new(owner: u32) -> Self {
        let mut s = ServiceState::default();
        s.add_revision(owner, Share::ONE);
        s
    }

    fn add_revision(&mut self, owner: u32, share: Share) -> u32 {
        let idx = self.revisions.len() as u32;
        self.revisions.push(Revision {
            number: idx + 1,
            owner,
            share,
            observed: 0,
            running: Ids::default(),
            pending: Ids::default(),
        });
        self.active.push(idx);
        idx
    }

    /// How many revisions exist.
    pub(crate) fn n_revisions(&self) -> u32 {
        self.revisions.len() as u32
    }

    /// A new observed revision owned by `owner`; its number.
    pub(crate) fn add_observed(&mut self, owner: u32) -> u32 {
        let idx = self.add_revision(owner, Share::ZERO);
        self.revisions[idx as usize].number
    }

    /// Observed revision `r` wants `n` instances (before the clamp).
    pub(crate) fn set_observed(&mut self, r: u32, n: u32) {
        if let Some(rv) = self.revisions.get_mut(r as usize) {
            rv.observed = n;
        }
    }

    /// The newest revision's running instances, in start order (a scale-down stops the
    /// last first), for reading ahead (engine/ahead.rs).
    pub(crate) fn newest_running(&self) -> &[u32] {
        self.revisions.newest.running.as_slice()
    }

    /// A value made of what an evaluation reads first, across the record's lines, for
    /// reading ahead (engine/ahead.rs).
    pub(crate) fn ahead(&self) -> u32 {
        let newest = &self.revisions.newest;
        (self.active.len() ^ newest.running.len() ^ newest.pending.len()) as u32
            ^ u32::from(self.rollout.is_some())
    }

    /// Revision `r`.
    pub(crate) fn revision(&self, r: u32) -> &Revision {
        &self.revisions[r as usize]
    }

    /// Revision `r`'s desired count (running plus pending) and running count.
    pub(crate) fn desired_running(&self, r: u32) -> (u32, u32) {
        let rv = &self.revisions[r as usize];
        let running = rv.running.len() as u32;
        (running + rv.pending.len() as u32, running)
    }

    /// Whether revision `r` has nothing pending.
    pub(crate) fn nothing_pending(&self, r: u32) -> bool {
        self.revisions[r as usize].pending.is_empty()
    }

    /// Request `req` for revision `r` is waiting to start.
    pub(crate) fn requested(&mut self, r: u32, req: u32) {
        self.revisions[r as usize].pending.push(req);
    }

    /// Request `req` of revision `r` started as instance `inst`.
    pub(crate) fn started(&mut self, r: u32, req: u32, inst: u32) {
        let rv = &mut self.revisions[r as usize];
        rv.pending.remove_last(req);
        rv.running.push(inst);
    }

    /// The swap due now (`swaps[cursor]`) creates a new revision owned by `owner`; timers to
    /// schedule are appended to `timers`. A rollout step due now is applied first, so a swap at
    /// the very end of a rollout starts from the completed rollout; a swap during a rollout
    /// freezes the current shares and starts again.
    pub(crate) fn swap(
        &mut self,
        now: u64,
        swaps: &[Swap],
        owner: u32,
        timers: &mut Vec<Timer>,
    ) -> Swapped {
        let s = swaps[self.swap_cursor];
        let previous_completed = self.rollout.is_some() && self.rollout_step(now, timers);
        let new_rev = self.add_revision(owner, Share::ZERO);
        self.swap_cursor += 1;
        if let Some(next) = swaps.get(self.swap_cursor) {
            timers.push(Timer::Swap { at: next.time_ms });
        }
        self.rollout_gen = self.rollout_gen.wrapping_add(1);
        let rollout_done = s.rollout_ms == 0;
        if rollout_done {
            for &r in self.active.as_slice() {
                self.revisions[r as usize].share = Share::ZERO;
            }
            self.revisions[new_rev as usize].share = Share::ONE;
            self.rollout = None;
        } else {
            let bases = self
                .active
                .as_slice()
                .iter()
                .filter(|&&r| r != new_rev)
                .map(|&r| (r, self.revisions[r as usize].share))
                .collect();
            self.rollout = Some(Rollout {
                start_ms: now,
                rollout_ms: s.rollout_ms,
                k: 0,
                new_rev,
                bases,
            });
            self.rollout_step(now, timers);
        }
        Swapped {
            new_rev,
            rollout_done,
            previous_completed,
        }
    }

    /// The rollout step event of generation `epoch`: `None` if a later swap made it stale,
    /// else whether the rollout completed.
    pub(crate) fn rollout_event(
        &mut self,
        now: u64,
        epoch: u32,
        timers: &mut Vec<Timer>,
    ) -> Option<bool> {
        (self.rollout_gen == epoch).then(|| self.rollout_step(now, timers))
    }

    /// Applies the rollout's share for `now` and schedules its next step; true if it has
    /// completed.
    fn rollout_step(&mut self, now: u64, timers: &mut Vec<Timer>) -> bool {
        let Some(ro) = self.rollout.as_mut() else {
            return false;
        };
        let elapsed = u128::from(now - ro.start_ms);
        let r = u128::from(ro.rollout_ms);
        // The largest k with floor(k * R / 100) <= elapsed.
        let k = ((100 * (elapsed + 1) - 1) / r).min(100) as u32;
        if k > ro.k {
            ro.k = k;
            self.revisions[ro.new_rev as usize].share = Share::percent(k);
            for &(rev, base) in &ro.bases {
                self.revisions[rev as usize].share = base.scaled_by_remaining(k);
            }
        }
        if ro.k >= 100 {
            self.rollout = None;
            true
        } else {
            let step = u64::try_from(u128::from(ro.k + 1) * r / 100).unwrap_or(u64::MAX);
            timers.push(Timer::Rollout {
                at: ro.start_ms.saturating_add(step),
                epoch: self.rollout_gen,
            });
            false
        }
    }

    /// Brings every active revision, oldest first, to `ceil(demand * share)` (or, with
    /// `observed`, to its own observed count through that clamp): new requests, or
    /// cancellations of its newest pending requests and then stops of its newest running
    /// instances. A revision whose share has fallen to zero and that has nothing left leaves
    /// the evaluation list (the newest always stays).
    pub(crate) fn evaluate(
        &mut self,
        demand: u32,
        observed: Option<&dyn Fn(u32) -> u32>,
        out: &mut Vec<Action>,
    ) {
        for &r in self.active.as_slice() {
            let rv = &mut self.revisions[r as usize];
            let desired = match observed {
                Some(clamp) => clamp(rv.observed),
                None => rv.share.of(demand),
            };
            let (running, pending) = (rv.running.len() as u32, rv.pending.len() as u32);
            if desired > running + pending {
                out.push(Action::Request {
                    unit: r,
                    task: 0,
                    n: desired - running - pending,
                });
            } else if desired < running + pending {
                let excess = running + pending - desired;
                let cancel = excess.min(pending);
                for _ in 0..cancel {
                    if let Some(req) = rv.pending.pop() {
                        out.push(Action::Cancel { req });
                    }
                }
                for _ in 0..excess - cancel {
                    if let Some(inst) = rv.running.pop() {
                        out.push(Action::Stop { inst });
                    }
                }
            }
        }
        let newest = self.revisions.len() as u32 - 1;
        let revs = &mut self.revisions;
        self.active.retain(|r| {
            let rv = &mut revs[r as usize];
            // A revision that gets new requests has a share, so it stays.
            let keep = r == newest
                || !rv.share.is_zero()
                || rv.observed > 0
                || !rv.running.is_empty()
                || !rv.pending.is_empty();
            if !keep {
                // Give a retired revision's memory back, so that memory follows live
                // revisions, not the number of deploys so far.
                rv.running = Ids::default();
                rv.pending = Ids::default();
            }
            keep
        });
    }
}
