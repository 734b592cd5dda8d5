//! Step functions that record changes only, one row per millisecond at most.
//!
//! Several events may change the state within one millisecond; only the state after the last
//! of them is kept (MODEL.md: "the state recorded for a millisecond is the state after every
//! event of that millisecond"). A row equal to the one before it is not kept.

/// A row of a step function.
pub(crate) trait Row: Copy + PartialEq {
    fn time_ms(&self) -> u64;
    fn with_time(self, t: u64) -> Self;
    fn same_values(&self, other: &Self) -> bool {
        self.with_time(0) == other.with_time(0)
    }
}

/// A step function under construction. Rows become final when a later millisecond begins;
/// `on_final` sees each final row once, so peaks can be kept without keeping the rows.
#[derive(Debug)]
pub(crate) struct Series<R> {
    rows: Vec<R>,
    keep: bool,
}

impl<R: Row> Series<R> {
    pub(crate) fn new(keep: bool) -> Self {
        Series {
            rows: Vec::new(),
            keep,
        }
    }

    pub(crate) fn put(&mut self, row: R, mut on_final: impl FnMut(&R)) {
        let n = self.rows.len();
        if let Some(&last) = self.rows.last() {
            if last.time_ms() == row.time_ms() {
                self.rows[n - 1] = row;
                if n >= 2 && self.rows[n - 2].same_values(&row) {
                    self.rows.pop();
                }
                return;
            }
            if last.same_values(&row) {
                return;
            }
            on_final(&last);
            if !self.keep {
                self.rows.clear();
            }
        }
        self.rows.push(row);
    }

    pub(crate) fn finish(&mut self, mut on_final: impl FnMut(&R)) -> Vec<R> {
        if let Some(last) = self.rows.last() {
            on_final(last);
        }
        if self.keep {
            std::mem::take(&mut self.rows)
        } else {
            Vec::new()
        }
    }
}
