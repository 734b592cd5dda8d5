//! What a workload's people felt: how many starts were short while a failure window was
//! open, how many requests failed and whether they started in the end, and each job
//! execution's finished tasks; and the windows of failure and saturation. The recorder
//! calls these; they only count.

use crate::output::{
    ExecutionTasks, FailureWindow, Summary, Unit, WorkloadOutput, WorkloadSummary,
};
use crate::series::Extremes;

/// A window opened or the state changed while one is open: keep the largest shortfall
/// (`pending`) with the desired count (`running + pending`) at that moment.
pub(super) fn see_short(sum: &mut WorkloadSummary, running: u32, pending: u32) {
    if pending > sum.peak_short {
        sum.peak_short = pending;
        sum.peak_short_desired = running + pending;
    }
}

/// A task of execution `unit` finished: completed, or gave up (`failed`).
pub(super) fn task_finished(sum: &mut WorkloadSummary, unit: Unit, failed: bool) {
    let Unit::Execution(n) = unit else { return };
    let ex = &mut sum.executions;
    let i = match ex.binary_search_by_key(&n, |e| e.execution) {
        Ok(i) => i,
        Err(i) => {
            ex.insert(
                i,
                ExecutionTasks {
                    execution: n,
                    ..ExecutionTasks::default()
                },
            );
            i
        }
    };
    if failed {
        ex[i].failed += 1;
    } else {
        ex[i].completed += 1;
    }
}

/// Opens a window at `now`; one that closed in this same millisecond is reopened instead, so
/// that a window closing and reopening in one millisecond stays one window.
pub(super) fn open_window(windows: &mut Vec<FailureWindow>, wl: u32, now: u64) {
    match windows.last_mut() {
        Some(last) if last.end_ms == now => {}
        _ => windows.push(FailureWindow {
            workload: wl as usize,
            start_ms: now,
            end_ms: now,
            open: false,
        }),
    }
}

/// Closes the last window at `at`; `open` marks one still open when the run ended.
pub(super) fn close_window(windows: &mut [FailureWindow], at: u64, open: bool) {
    if let Some(last) = windows.last_mut() {
        last.end_ms = at;
        last.open = open;
    }
}

/// A summary holding these extremes (minima of a run with no row are 0).
pub(super) fn extremes_summary(e: &Extremes) -> Summary {
    let min = |v: u64| if v == u64::MAX { 0 } else { v };
    Summary {
        peak_held: e.max[0],
        peak_reserved: e.max[1],
        peak_reserved_blocks: e.max[2],
        min_free: min(e.min[3]),
        min_free_blocks: min(e.min[4]),
        ..Summary::default()
    }
}

/// Adds the workloads' windows, deploy failures and unmet time to a summary.
pub(super) fn gather<'w>(s: &mut Summary, wls: impl Iterator<Item = &'w WorkloadOutput>) {
    for w in wls {
        s.failure_windows
            .extend(w.summary.failure_windows.iter().copied());
        s.deploy_failures
            .extend(w.summary.deploy_failures.iter().copied());
        s.unmet_instance_ms = s
            .unmet_instance_ms
            .saturating_add(w.summary.unmet_instance_ms);
        s.saturation_windows
            .extend(w.summary.saturation_windows.iter().copied());
    }
    s.failure_windows.sort_by_key(|w| (w.start_ms, w.workload));
    s.deploy_failures.sort_by_key(|d| (d.time_ms, d.workload));
    s.saturation_windows
        .sort_by_key(|w| (w.start_ms, w.workload));
}
