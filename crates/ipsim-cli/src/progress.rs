//! Progress of one long run on a terminal: a row sink that moves a bar along simulated time
//! as rows become final (nothing when standard error is not a terminal, or under `--quiet`).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use ipsim_core::{RowSink, SubnetRow, WorkloadRow};

/// A bar over the run's simulated time, in seconds.
pub struct RunProgress {
    bar: ProgressBar,
    /// The next simulated time (ms) at which to move the bar: about 500 moves in a run.
    next_ms: u64,
    step_ms: u64,
}

impl RunProgress {
    /// A bar for a run of `duration_ms`, if standard error is a terminal and output is not
    /// quiet.
    pub fn for_terminal(duration_ms: u64) -> Option<RunProgress> {
        if !std::io::stderr().is_terminal() || crate::output::quiet() {
            return None;
        }
        let bar = ProgressBar::new(duration_ms / 1000);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} simulated {pos}/{len} s of the run, {elapsed} elapsed, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(RunProgress {
            bar,
            next_ms: 0,
            step_ms: (duration_ms / 500).max(1),
        })
    }

    fn at(&mut self, time_ms: u64) {
        if time_ms >= self.next_ms {
            self.bar.set_position(time_ms / 1000);
            self.next_ms = time_ms.saturating_add(self.step_ms);
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

impl RowSink for RunProgress {
    fn subnet_row(&mut self, _subnet: usize, row: &SubnetRow) {
        self.at(row.time_ms);
    }

    fn workload_row(&mut self, _workload: usize, row: &WorkloadRow) {
        self.at(row.time_ms);
    }
}
