//! Step-function rows and their running extremes.
//!
//! Several events may change the state within one millisecond; only the state after the last
//! of them is recorded (docs/model.md: "the state recorded for a millisecond is the state after
//! every event of that millisecond"). The engine closes each millisecond before it moves to
//! the next: every subnet and workload it touched writes one row, if the row differs from the
//! previous one, and the extremes below see it. So peaks never count a transient state, rows
//! come out in time order, and nothing needs the rows kept unless the caller asks for them.

use crate::output::{SubnetRow, WorkloadRow};

/// A row of a step function.
pub(crate) trait Row: Copy + PartialEq {
    fn with_time(self, t: u64) -> Self;
    fn same_values(&self, other: &Self) -> bool {
        self.with_time(0) == other.with_time(0)
    }
}

impl Row for SubnetRow {
    fn with_time(mut self, t: u64) -> Self {
        self.time_ms = t;
        self
    }
}

impl Row for WorkloadRow {
    fn with_time(mut self, t: u64) -> Self {
        self.time_ms = t;
        self
    }
}

/// The figures peaks and minima are taken of: held, reserved addresses, reserved blocks,
/// free addresses, free blocks.
pub(crate) type Figures = [u64; 5];

pub(crate) fn figures(r: &SubnetRow) -> Figures {
    [
        u64::from(r.held()),
        u64::from(r.reserved()),
        u64::from(r.reserved_blocks),
        u64::from(r.free),
        u64::from(r.free_blocks),
    ]
}

/// Running maxima (of the first three figures) and minima (of the last two).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extremes {
    pub(crate) max: Figures,
    pub(crate) min: Figures,
}

impl Default for Extremes {
    fn default() -> Self {
        Extremes {
            max: [0; 5],
            min: [u64::MAX; 5],
        }
    }
}

impl Extremes {
    pub(crate) fn see(&mut self, f: &Figures) {
        for ((max, min), &v) in self.max.iter_mut().zip(self.min.iter_mut()).zip(f) {
            *max = (*max).max(v);
            *min = (*min).min(v);
        }
    }
}
