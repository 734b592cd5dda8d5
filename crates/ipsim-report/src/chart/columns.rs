//! Step functions downsampled to pixel columns that keep their maximum.
//!
//! [`Sweep`] decides which columns see which state; [`Columns`] keeps, per column, the maximum
//! of every stacked level (when the stacking order is known); [`Frontier`] keeps, per column,
//! the states no other state of the column covers, so the levels of any stacking order chosen
//! later come out the same as [`Columns`] would have given. [`HeldSteps`] turns one subnet's
//! workload rows into whole-millisecond states for either.

use std::ops::Range;

/// Which pixel columns a step function's states fall into: column `c` spans
/// `start_of(c)..start_of(c + 1)` of `from..to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Sweep {
    pub(super) from: u64,
    pub(super) to: u64,
    pub(super) n: usize,
    /// The next column not yet given the current state.
    next: usize,
    started: bool,
}

impl Sweep {
    pub(super) fn new(from: u64, to: u64, n: usize) -> Self {
        Sweep {
            from,
            to,
            n,
            next: 0,
            started: false,
        }
    }

    fn start_of(&self, c: usize) -> u64 {
        self.from + ((self.to - self.from) as u128 * c as u128 / self.n as u128) as u64
    }

    /// The columns whose span begins before `t` that have not had the current state yet: they
    /// get it (the state before `t`).
    fn before(&mut self, t: u64) -> Range<usize> {
        let first = self.next;
        if self.started {
            while self.next < self.n && self.start_of(self.next) < t.min(self.to) {
                self.next += 1;
            }
        }
        first..self.next
    }

    /// A new state begins at `t`: the column holding `t`, which also sees it, if in range.
    fn at(&mut self, t: u64) -> Option<usize> {
        self.started = true;
        if t >= self.from && t < self.to {
            let c = (((t - self.from) as u128 * self.n as u128) / (self.to - self.from) as u128)
                as usize;
            if c < self.n {
                self.next = self.next.max(c);
                return Some(c);
            }
        }
        None
    }
}

/// Column maxima of stacked levels: `levels[k][c]` is the largest value of the sum of the first
/// k + 1 series during column c.
#[derive(Debug, Clone)]
pub(super) struct Columns {
    sweep: Sweep,
    pub(super) levels: Vec<Vec<f64>>,
    current: Vec<f64>,
}

impl Columns {
    pub(super) fn new(from: u64, to: u64, n: usize, n_levels: usize) -> Self {
        Self::starting_at(from, to, n, n_levels, 0.0)
    }

    /// Columns whose maxima start at `floor` (−∞ to take maxima of negated values).
    pub(super) fn starting_at(from: u64, to: u64, n: usize, n_levels: usize, floor: f64) -> Self {
        Columns {
            sweep: Sweep::new(from, to, n),
            levels: vec![vec![floor; n]; n_levels],
            current: vec![0.0; n_levels],
        }
    }

    fn mark(levels: &mut [Vec<f64>], current: &[f64], c: usize) {
        for (lvl, &v) in levels.iter_mut().zip(current) {
            lvl[c] = lvl[c].max(v);
        }
    }

    /// The state becomes `cum` (cumulative levels) at `t`.
    pub(super) fn set(&mut self, t: u64, cum: &[f64]) {
        for c in self.sweep.before(t) {
            Self::mark(&mut self.levels, &self.current, c);
        }
        self.current.copy_from_slice(cum);
        if let Some(c) = self.sweep.at(t) {
            Self::mark(&mut self.levels, &self.current, c);
        }
    }

    pub(super) fn finish(&mut self) {
        for c in self.sweep.before(self.sweep.to) {
            Self::mark(&mut self.levels, &self.current, c);
        }
    }
}

/// Per column, the states of a vector step function (one component per workload) that no
/// other state of the column covers, every component at least as large. The stacked levels
/// of any grouping of the components are sums of components, which grow with each of them, so
/// their column maxima are reached at a kept state: [`Frontier::levels`] equals what
/// [`Columns`] gives when fed the same states already grouped and stacked. Memory: one state
/// per column when the components rise and fall together, more only while some rise as others
/// fall within one column.
#[derive(Debug, Clone)]
pub(super) struct Frontier {
    sweep: Sweep,
    width: usize,
    /// `kept[c]`: the column's states, `width` values each.
    kept: Vec<Vec<u32>>,
    /// Values in `kept`.
    values: usize,
    current: Vec<u32>,
}

impl Frontier {
    pub(super) fn new(from: u64, to: u64, n: usize, width: usize) -> Self {
        Frontier {
            sweep: Sweep::new(from, to, n),
            width,
            kept: vec![Vec::new(); n],
            values: 0,
            current: vec![0; width],
        }
    }

    /// States kept over all columns.
    #[cfg(test)]
    pub(super) fn n_kept(&self) -> usize {
        self.n_values() / self.width.max(1)
    }

    /// Values kept over all columns.
    pub(super) fn n_values(&self) -> usize {
        self.values
    }

    fn mark(kept: &mut Vec<u32>, s: &[u32]) {
        let w = s.len();
        if w == 0 {
            return;
        }
        let covers = |a: &[u32], b: &[u32]| a.iter().zip(b).all(|(x, y)| x >= y);
        if kept.chunks_exact(w).any(|k| covers(k, s)) {
            return;
        }
        if kept.chunks_exact(w).any(|k| covers(s, k)) {
            let old = std::mem::take(kept);
            for k in old.chunks_exact(w).filter(|k| !covers(s, k)) {
                kept.extend_from_slice(k);
            }
        }
        kept.extend_from_slice(s);
    }

    fn mark_counted(&mut self, c: usize) {
        let before = self.kept[c].len();
        Self::mark(&mut self.kept[c], &self.current);
        self.values = self.values + self.kept[c].len() - before;
    }

    /// The state becomes `s` at `t`.
    pub(super) fn set(&mut self, t: u64, s: &[u32]) {
        for c in self.sweep.before(t) {
            self.mark_counted(c);
        }
        self.current.copy_from_slice(s);
        if let Some(c) = self.sweep.at(t) {
            self.mark_counted(c);
        }
    }

    pub(super) fn finish(&mut self) {
        for c in self.sweep.before(self.sweep.to) {
            self.mark_counted(c);
        }
    }

    /// Column maxima of stacked levels, component `j` going to slot `slot_of[j]`:
    /// `levels[k][c]` is the largest sum of slots 0..=k during column c.
    pub(super) fn levels(&self, slot_of: &[usize], n_levels: usize) -> Vec<Vec<f64>> {
        let mut levels = vec![vec![0.0f64; self.sweep.n]; n_levels];
        let mut by_slot = vec![0.0f64; n_levels];
        for (c, kept) in self.kept.iter().enumerate() {
            for s in kept.chunks_exact(self.width.max(1)) {
                by_slot.iter_mut().for_each(|v| *v = 0.0);
                for (j, &v) in s.iter().enumerate() {
                    by_slot[slot_of[j]] += f64::from(v);
                }
                let mut acc = 0.0f64;
                for (lvl, v) in levels.iter_mut().zip(&by_slot) {
                    acc += v;
                    lvl[c] = lvl[c].max(acc);
                }
            }
        }
        levels
    }
}

/// One subnet's held addresses per workload, changed by rows in time order: all rows of one
/// millisecond are applied before the state is seen.
#[derive(Debug, Clone, Default)]
pub(super) struct HeldSteps<V> {
    held: Vec<V>,
    pending: Option<u64>,
}

impl<V: Copy + Default> HeldSteps<V> {
    pub(super) fn new(width: usize) -> Self {
        HeldSteps {
            held: vec![V::default(); width],
            pending: None,
        }
    }

    /// Workload `j` holds `v` from `t`; `seen` gets each finished millisecond's state.
    pub(super) fn row(&mut self, t: u64, j: usize, v: V, seen: &mut impl FnMut(u64, &[V])) {
        if let Some(p) = self.pending {
            if p != t {
                seen(p, &self.held);
            }
        }
        self.pending = Some(t);
        if j >= self.held.len() {
            self.held.resize(j + 1, V::default());
        }
        self.held[j] = v;
    }

    /// The last millisecond's state.
    pub(super) fn finish(&mut self, seen: &mut impl FnMut(u64, &[V])) {
        if let Some(p) = self.pending.take() {
            seen(p, &self.held);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_keep_the_maximum_of_a_short_spike() {
        // 100 columns over 100 s; a spike to 9 lasting 1 ms inside column 40.
        let mut c = Columns::new(0, 100_000, 100, 1);
        c.set(0, &[1.0]);
        c.set(40_500, &[9.0]);
        c.set(40_501, &[1.0]);
        c.finish();
        assert_eq!(c.levels[0][39], 1.0);
        assert_eq!(c.levels[0][40], 9.0);
        assert_eq!(c.levels[0][41], 1.0);
        assert_eq!(c.levels[0][99], 1.0);
    }

    #[test]
    fn columns_carry_state_from_before_the_range() {
        let mut c = Columns::new(50_000, 60_000, 10, 1);
        c.set(0, &[3.0]);
        c.set(55_000, &[5.0]);
        c.finish();
        assert_eq!(c.levels[0][..6], [3.0, 3.0, 3.0, 3.0, 3.0, 5.0]);
        assert_eq!(c.levels[0][9], 5.0);
    }

    /// A small deterministic generator, so the test needs no dependency.
    fn lcg(x: &mut u64) -> u64 {
        *x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *x >> 33
    }

    /// Feeds the same rows to a `Frontier` and, grouped by `slot_of`, to `Columns`.
    fn both(
        rows: &[(u64, usize, u32)],
        width: usize,
        slot_of: &[usize],
        n_levels: usize,
        range: (u64, u64, usize),
    ) -> (Vec<Vec<f64>>, Vec<Vec<f64>>, usize) {
        let (from, to, n) = range;
        let mut f = Frontier::new(from, to, n, width);
        let mut c = Columns::new(from, to, n, n_levels);
        let mut steps = HeldSteps::new(width);
        let mut cum = vec![0.0; n_levels];
        let mut seen = |t: u64, held: &[u32]| {
            f.set(t, held);
            cum.iter_mut().for_each(|v| *v = 0.0);
            for (j, &v) in held.iter().enumerate() {
                cum[slot_of[j]] += f64::from(v);
            }
            for k in 1..n_levels {
                cum[k] += cum[k - 1];
            }
            c.set(t, &cum);
        };
        for &(t, j, v) in rows {
            steps.row(t, j, v, &mut seen);
        }
        steps.finish(&mut seen);
        f.finish();
        c.finish();
        (f.levels(slot_of, n_levels), c.levels, f.n_kept())
    }

    #[test]
    fn a_frontier_gives_the_levels_of_any_order_chosen_afterwards() {
        let mut x = 7;
        for round in 0..40 {
            let width = 1 + round % 6;
            let mut t = 0;
            let rows: Vec<(u64, usize, u32)> = (0..400)
                .map(|_| {
                    // Several rows often share a millisecond.
                    t += lcg(&mut x) % 3 * (lcg(&mut x) % 500);
                    let j = lcg(&mut x) as usize % width;
                    (t, j, (lcg(&mut x) % 40) as u32)
                })
                .collect();
            let end = t + 1 + lcg(&mut x) % 1000;
            let from = if round % 3 == 0 { t / 3 } else { 0 };
            let n = 1 + lcg(&mut x) as usize % 120;
            // Orders: identity, reversed, and a few slots with the rest as "other".
            let top = round % width.max(1);
            let mut slot_of: Vec<usize> = (0..width).collect();
            if round % 2 == 1 {
                slot_of.reverse();
            }
            let n_levels = top + 1;
            for s in &mut slot_of {
                *s = (*s).min(top);
            }
            let (a, b, kept) = both(&rows, width, &slot_of, n_levels, (from, end, n));
            assert_eq!(a, b, "round {round}");
            assert!(kept <= rows.len() + n, "round {round}: {kept} kept");
        }
    }

    #[test]
    fn a_frontier_keeps_one_state_a_column_when_all_rise_together() {
        // Two workloads that only ever grow: each column keeps its last state only.
        let rows: Vec<_> = (0..1000u64)
            .flat_map(|i| [(i * 100, 0, i as u32), (i * 100, 1, (2 * i) as u32)])
            .collect();
        let (a, b, kept) = both(&rows, 2, &[0, 1], 2, (0, 100_000, 50));
        assert_eq!(a, b);
        assert_eq!(kept, 50);
    }
}
