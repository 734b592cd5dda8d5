//! The recorder: everything a run reports. It owns the step-function rows and their extremes,
//! each workload's counters, failure and saturation windows, deploy watches, the event log
//! and the summaries; the engine tells it what happened and it keeps the books.
//!
//! Several events may change the state within one millisecond; only the state after the last
//! of them is recorded (docs/model.md: "the state recorded for a millisecond is the state after
//! every event of that millisecond"). [`Recorder::close_ms`] runs before time moves on: every
//! subnet and workload touched in the millisecond writes one row if it changed, and the
//! extremes see it.

mod outcome;

use outcome::{close_window, extremes_summary, gather, open_window};

use crate::alloc::Allocator;
use crate::input::{RunOptions, WorkloadSpec};
use crate::output::{
    DeployFailure, ExhaustionEvent, LogEvent, Output, SubnetOutput, SubnetRow, Unit,
    WorkloadOutput, WorkloadRow, WorkloadSummary, exhaustion_message,
};
use crate::series::{Extremes, Figures, Row, figures};
use crate::subnet::SubnetSpec;

/// Receives every row of the step functions as it becomes final (at the end of its
/// millisecond), in time order, so that a caller can write them out instead of keeping them.
pub trait RowSink {
    /// Called once before the first row with every subnet's layout.
    fn start(&mut self, _subnets: &[SubnetInfo]) {}
    /// Subnet `subnet` is in state `row` from `row.time_ms` until its next row.
    fn subnet_row(&mut self, subnet: usize, row: &SubnetRow);
    /// Workload `workload` is in state `row` from `row.time_ms` until its next row.
    fn workload_row(&mut self, workload: usize, row: &WorkloadRow);
}

/// A subnet's layout, as a sink sees it before the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetInfo {
    /// Name.
    pub name: String,
    /// Base address.
    pub base: u32,
    /// Prefix length.
    pub prefix_len: u8,
    /// All addresses but the 4 Google reserves.
    pub usable: u32,
    /// Static addresses.
    pub n_static: u32,
    /// Addresses in reservable blocks.
    pub reservable: u32,
    /// Reservable blocks.
    pub n_reservable_blocks: u32,
}

/// A failed start, as the engine saw it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failure {
    pub(crate) subnet: u32,
    pub(crate) workload: u32,
    pub(crate) unit: Unit,
    pub(crate) desired: u32,
    pub(crate) running: u32,
    pub(crate) owner_free: u32,
    pub(crate) free_blocks: u32,
    pub(crate) owner_blocks: u32,
    pub(crate) owners: u32,
    pub(crate) idle: u32,
}

/// A deploy being watched for a failed start of its new revision.
#[derive(Debug, Clone, Copy)]
struct DeployWatch {
    swap_ms: u64,
    revision: u32,
    rollout_done: bool,
    failed: bool,
}

#[derive(Debug, Default)]
struct SubnetRecord {
    name: String,
    touched: bool,
    rows: Vec<SubnetRow>,
    last_row: Option<SubnetRow>,
    figures: Figures,
    extremes: Extremes,
    failed_attempts: u64,
    first_exhaustion: Option<ExhaustionEvent>,
}

/// A workload's counters, as its rows show them: what every request, start, stop and expiry
/// touches and what closing a millisecond reads, one cache line per workload in an array of
/// their own, so that a sweep over many workloads reads them in order.
#[derive(Debug, Default)]
#[repr(C, align(64))]
struct WorkloadRecord {
    in_use: u32,
    retained: u32,
    n_blocks: u32,
    running: u32,
    pending: u32,
    demand_mbps: u32,
    capacity_mbps: u32,
    peak_held: u32,
    peak_blocks: u32,
    peak_running: u32,
    touched: bool,
    window_open: bool,
    saturated: bool,
    /// A deploy is watched (`Books::deploy`).
    watching: bool,
    /// `last_rows[wl]` holds the workload's last row.
    has_row: bool,
    /// `sum.n_started` and `sum.unmet_instance_ms`, kept here until the end.
    n_started: u64,
    unmet_ms: u64,
}

/// What a workload's books keep beside its counters, read only when something rarer
/// happens: a failure, a deploy, a kept row, the end.
#[derive(Debug, Default)]
struct Books {
    deploy: Option<DeployWatch>,
    rows: Vec<WorkloadRow>,
    sum: WorkloadSummary,
}

/// The books of one run.
pub(crate) struct Recorder<'a> {
    options: &'a RunOptions,
    sink: Option<&'a mut dyn RowSink>,
    subnets: Vec<SubnetRecord>,
    wls: Vec<WorkloadRecord>,
    /// Each workload's last row (if `has_row`), packed apart from the counters.
    last_rows: Vec<WorkloadRow>,
    books: Vec<Books>,
    touched_subnets: Vec<u32>,
    touched_wls: Vec<u32>,
    log: Vec<LogEvent>,
    log_dropped: u64,
    first_exhaustion: Option<ExhaustionEvent>,
    run_figures: Figures,
    run_extremes: Extremes,
}

impl std::fmt::Debug for Recorder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("log", &self.log.len())
            .field("sink", &self.sink.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> Recorder<'a> {
    /// Books for these subnets and `n_workloads` workloads; everything starts touched, so
    /// that time 0 writes a row of each.
    pub(crate) fn new(options: &'a RunOptions, subnets: &[SubnetSpec], n_workloads: usize) -> Self {
        Recorder {
            options,
            sink: None,
            subnets: subnets
                .iter()
                .map(|s| SubnetRecord {
                    name: s.name.clone(),
                    touched: true,
                    extremes: Extremes::default(),
                    ..SubnetRecord::default()
                })
                .collect(),
            wls: (0..n_workloads)
                .map(|_| WorkloadRecord {
                    touched: true,
                    ..WorkloadRecord::default()
                })
                .collect(),
            last_rows: vec![WorkloadRow::default(); n_workloads],
            books: (0..n_workloads).map(|_| Books::default()).collect(),
            touched_subnets: (0..subnets.len() as u32).collect(),
            touched_wls: (0..n_workloads as u32).collect(),
            log: Vec::new(),
            log_dropped: 0,
            first_exhaustion: None,
            run_figures: [0; 5],
            run_extremes: Extremes::default(),
        }
    }

    /// Hands every final row to `sink`.
    pub(crate) fn set_sink(&mut self, sink: &'a mut dyn RowSink) {
        self.sink = Some(sink);
    }

    /// Tells the sink the subnets' layouts.
    pub(crate) fn start(&mut self, infos: &[SubnetInfo]) {
        if let Some(sink) = self.sink.as_mut() {
            sink.start(infos);
        }
    }

    /// Subnets touched in the current millisecond.
    pub(crate) fn touched_subnets(&self) -> &[u32] {
        &self.touched_subnets
    }

    /// Whether subnet `s` changed in the current millisecond.
    pub(crate) fn subnet_touched(&self, s: u32) -> bool {
        self.subnets[s as usize].touched
    }

    pub(crate) fn touch_subnet(&mut self, s: u32) {
        let sn = &mut self.subnets[s as usize];
        if !sn.touched {
            sn.touched = true;
            self.touched_subnets.push(s);
        }
    }

    fn touch_wl(&mut self, wl: u32) {
        let w = &mut self.wls[wl as usize];
        if !w.touched {
            w.touched = true;
            self.touched_wls.push(wl);
        }
    }

    /// Whether the log keeps lifecycle events (reserve, release, start, stop, expire).
    pub(crate) fn lifecycle(&self) -> bool {
        self.options.log_lifecycle
    }

    /// Logs an event if the log has room (else counts it as dropped).
    pub(crate) fn log(&mut self, make: impl FnOnce() -> LogEvent) {
        if self.log.len() < self.options.log_limit {
            self.log.push(make());
        } else {
            self.log_dropped += 1;
        }
    }

    // ----- a workload's counters -----

    /// `wl` took a block.
    pub(crate) fn block_reserved(&mut self, wl: u32) {
        self.wls[wl as usize].n_blocks += 1;
        self.touch_wl(wl);
    }

    /// `wl` gave a block back.
    pub(crate) fn block_released(&mut self, wl: u32) {
        self.wls[wl as usize].n_blocks -= 1;
        self.touch_wl(wl);
    }

    /// `wl` asked for one more start.
    pub(crate) fn requested(&mut self, wl: u32) {
        self.wls[wl as usize].pending += 1;
        self.touch_wl(wl);
    }

    /// A request of `wl` ended (started, cancelled or given up) after `waited_ms`.
    pub(crate) fn request_ended(&mut self, wl: u32, waited_ms: u64) {
        let w = &mut self.wls[wl as usize];
        w.pending -= 1;
        w.unmet_ms = w.unmet_ms.saturating_add(waited_ms);
        self.touch_wl(wl);
    }

    /// A request of `wl` was still waiting at the end, for `waited_ms`.
    pub(crate) fn still_waiting(&mut self, wl: u32, waited_ms: u64) {
        let w = &mut self.wls[wl as usize];
        w.unmet_ms = w.unmet_ms.saturating_add(waited_ms);
    }

    /// An instance or task of `wl` started holding `k` addresses.
    pub(crate) fn started(&mut self, wl: u32, k: u32) {
        let w = &mut self.wls[wl as usize];
        w.in_use += k;
        w.running += 1;
        w.n_started += 1;
    }

    /// An instance or task of `wl` holding `k` addresses stopped; they are retained.
    pub(crate) fn stopped(&mut self, wl: u32, k: u32) {
        let w = &mut self.wls[wl as usize];
        w.in_use -= k;
        w.retained += k;
        w.running -= 1;
        self.touch_wl(wl);
    }

    /// `k` retained addresses of `wl` became free.
    pub(crate) fn expired(&mut self, wl: u32, k: u32) {
        self.wls[wl as usize].retained -= k;
        self.touch_wl(wl);
    }

    /// A task of `wl` completed.
    pub(crate) fn task_completed(&mut self, wl: u32, unit: Unit) {
        let sum = &mut self.books[wl as usize].sum;
        sum.tasks_completed += 1;
        outcome::task_finished(sum, unit, false);
    }

    /// A start request of `wl` failed its first attempt (`started` false), or started after
    /// failing (`started` true).
    pub(crate) fn request_failed(&mut self, wl: u32, started: bool) {
        let sum = &mut self.books[wl as usize].sum;
        *[&mut sum.requests_failed, &mut sum.started_after_failing][usize::from(started)] += 1;
    }

    /// A task of `wl` gave up after its retries.
    pub(crate) fn task_failed(&mut self, now: u64, wl: u32, unit: Unit) {
        let sum = &mut self.books[wl as usize].sum;
        sum.tasks_failed += 1;
        outcome::task_finished(sum, unit, true);
        self.log(|| LogEvent::TaskFailed {
            time_ms: now,
            workload: wl as usize,
            unit,
        });
    }

    /// Connector `wl` added `n` VMs (one address each) on `subnet`.
    pub(crate) fn connected(&mut self, wl: u32, subnet: u32, n: u32) {
        let w = &mut self.wls[wl as usize];
        w.in_use += n;
        w.running += n;
        w.n_started += u64::from(n);
        self.touch_subnet(subnet);
        self.touch_wl(wl);
    }

    /// Connector `wl` has `mbps` of demand and its VMs carry `capacity`; `saturated` if they
    /// cannot carry it. The saturation window follows the failure window's rules.
    pub(crate) fn connector_demand(&mut self, now: u64, wl: u32, mbps: [u32; 2], saturated: bool) {
        self.touch_wl(wl);
        let (w, sum) = (&mut self.wls[wl as usize], &mut self.books[wl as usize].sum);
        let [mbps, capacity] = mbps;
        (w.demand_mbps, w.capacity_mbps) = (mbps, capacity);
        sum.peak_demand_mbps = sum.peak_demand_mbps.max(mbps);
        if saturated && !w.saturated {
            w.saturated = true;
            open_window(&mut sum.saturation_windows, wl, now);
        } else if !saturated && w.saturated {
            w.saturated = false;
            close_window(&mut sum.saturation_windows, now, false);
        }
    }

    // ----- failures, windows and deploys -----

    /// A start failed: counts it, keeps the first exhaustion of the run, the subnet and the
    /// workload, opens the workload's failure window and fails a watched deploy of this
    /// revision.
    pub(crate) fn failed_start(&mut self, now: u64, f: Failure) {
        self.failed_starts(now, f, 1);
    }

    /// `n` starts failed one after another in this millisecond with the same figures (a retry
    /// group: nothing changed between them), as `n` calls of [`Recorder::failed_start`].
    pub(crate) fn failed_starts(&mut self, now: u64, f: Failure, n: u64) {
        if n == 0 {
            return;
        }
        let log_room = self.log.len() < self.options.log_limit;
        let sn = &mut self.subnets[f.subnet as usize];
        sn.failed_attempts += n;
        let w = &mut self.wls[f.workload as usize];
        let b = &mut self.books[f.workload as usize];
        // Most failed attempts are retries that nothing keeps (the firsts are set, the log is
        // full or off): build the record, message and all, only when something keeps it.
        let keep = log_room
            || sn.first_exhaustion.is_none()
            || self.first_exhaustion.is_none()
            || b.sum.first_exhaustion.is_none();
        let ev = keep.then(|| ExhaustionEvent {
            time_ms: now,
            subnet: f.subnet as usize,
            workload: f.workload as usize,
            unit: f.unit,
            desired: f.desired,
            running: f.running,
            owner_free: f.owner_free,
            free_blocks: f.free_blocks,
            owner_blocks: f.owner_blocks,
            owners: f.owners,
            idle: f.idle,
            message: exhaustion_message(&sn.name),
        });
        if let Some(ev) = &ev {
            for first in [
                &mut sn.first_exhaustion,
                &mut self.first_exhaustion,
                &mut b.sum.first_exhaustion,
            ] {
                if first.is_none() {
                    *first = Some(ev.clone());
                }
            }
        }
        b.sum.failed_attempts += n;
        if !w.window_open {
            w.window_open = true;
            open_window(&mut b.sum.failure_windows, f.workload, now);
            outcome::see_short(&mut b.sum, w.running, w.pending);
        }
        if let (Some(d), Unit::Revision(n)) = (b.deploy.as_mut(), f.unit) {
            if d.revision == n && !d.failed {
                d.failed = true;
                b.sum.deploy_failures.push(DeployFailure {
                    time_ms: now,
                    workload: f.workload as usize,
                    revision: n,
                    swap_ms: d.swap_ms,
                });
            }
        }
        match ev {
            Some(ev) => {
                let room = (self.options.log_limit.saturating_sub(self.log.len()) as u64).min(n);
                for _ in 1..room {
                    self.log.push(LogEvent::Exhaustion(ev.clone()));
                }
                if room > 0 {
                    self.log.push(LogEvent::Exhaustion(ev));
                }
                self.log_dropped += n - room;
            }
            None => self.log_dropped += n,
        }
    }

    /// Closes `wl`'s failure window once nothing of it is pending.
    pub(crate) fn check_window(&mut self, now: u64, wl: u32) {
        let w = &mut self.wls[wl as usize];
        if w.window_open && w.pending == 0 {
            w.window_open = false;
            close_window(&mut self.books[wl as usize].sum.failure_windows, now, false);
        }
    }

    /// A swap at `now` created `revision`: watch its deploy until its rollout is done and it
    /// has nothing pending.
    pub(crate) fn watch_deploy(&mut self, now: u64, wl: u32, revision: u32, rollout_done: bool) {
        self.wls[wl as usize].watching = true;
        self.books[wl as usize].deploy = Some(DeployWatch {
            swap_ms: now,
            revision,
            rollout_done,
            failed: false,
        });
    }

    /// `wl`'s rollout completed.
    pub(crate) fn rollout_done(&mut self, wl: u32) {
        if let Some(d) = self.books[wl as usize].deploy.as_mut() {
            d.rollout_done = true;
        }
    }

    /// Ends the watch of `wl`'s deploy if its rollout is done and `nothing_pending` says its
    /// revision has nothing pending.
    pub(crate) fn check_deploy(&mut self, wl: u32, nothing_pending: impl FnOnce(u32) -> bool) {
        let w = &mut self.wls[wl as usize];
        if !w.watching {
            return;
        }
        let b = &mut self.books[wl as usize];
        if let Some(d) = b.deploy {
            if d.rollout_done && nothing_pending(d.revision) {
                (b.deploy, w.watching) = (None, false);
            }
        }
    }

    // ----- rows -----

    /// Closes the current millisecond: every subnet and workload touched in it writes its
    /// final row (if it changed), and the extremes see the new state.
    pub(crate) fn close_ms(&mut self, now: u64, alloc: &Allocator) {
        let keep_subnets = self.options.record_subnet_series;
        let keep_wls = self.options.record_workload_series;
        let mut changed = false;
        for &s in &self.touched_subnets {
            let sn = &mut self.subnets[s as usize];
            sn.touched = false;
            let row = alloc.row(s, now);
            if sn.last_row.is_some_and(|l| l.same_values(&row)) {
                continue;
            }
            changed = true;
            sn.last_row = Some(row);
            let f = figures(&row);
            for ((run, new), old) in self.run_figures.iter_mut().zip(f).zip(sn.figures) {
                *run = *run + new - old;
            }
            sn.figures = f;
            sn.extremes.see(&f);
            if keep_subnets {
                sn.rows.push(row);
            }
            if let Some(sink) = self.sink.as_mut() {
                sink.subnet_row(s as usize, &row);
            }
        }
        self.touched_subnets.clear();
        if changed {
            self.run_extremes.see(&self.run_figures);
        }
        for &wl in &self.touched_wls {
            let w = &mut self.wls[wl as usize];
            w.touched = false;
            let row = WorkloadRow {
                time_ms: now,
                in_use: w.in_use,
                retained: w.retained,
                reserved_blocks: w.n_blocks,
                running: w.running,
                pending: w.pending,
                demand_mbps: w.demand_mbps,
                capacity_mbps: w.capacity_mbps,
            };
            let last = &mut self.last_rows[wl as usize];
            if w.has_row && last.same_values(&row) {
                continue;
            }
            (*last, w.has_row) = (row, true);
            w.peak_held = w.peak_held.max(row.held());
            w.peak_blocks = w.peak_blocks.max(row.reserved_blocks);
            w.peak_running = w.peak_running.max(row.running);
            if w.window_open {
                outcome::see_short(&mut self.books[wl as usize].sum, row.running, row.pending);
            }
            if keep_wls {
                self.books[wl as usize].rows.push(row);
            }
            if let Some(sink) = self.sink.as_mut() {
                sink.workload_row(wl as usize, &row);
            }
        }
        self.touched_wls.clear();
    }

    // ----- the end -----

    /// Closes open windows at `end` and computes the summaries.
    pub(crate) fn finish(self, end: u64, run: RunFacts<'_>) -> Output {
        let mut workloads = Vec::with_capacity(self.wls.len());
        let books = self.books.into_iter();
        for ((w, b), spec) in self.wls.into_iter().zip(books).zip(run.workloads) {
            let mut sum = b.sum;
            (sum.n_started, sum.unmet_instance_ms) = (w.n_started, w.unmet_ms);
            if w.window_open {
                close_window(&mut sum.failure_windows, end, true);
            }
            if w.saturated {
                close_window(&mut sum.saturation_windows, end, true);
            }
            sum.peak_held = w.peak_held;
            sum.peak_running = w.peak_running;
            sum.peak_reserved_blocks = run.blocks_per_workload.then_some(w.peak_blocks);
            workloads.push(WorkloadOutput {
                name: spec.name.clone(),
                kind: spec.tag(),
                subnet: spec.subnet,
                rows: b.rows,
                summary: sum,
            });
        }
        let mut subnets = Vec::with_capacity(self.subnets.len());
        for (i, (sn, spec)) in self.subnets.into_iter().zip(run.subnets).enumerate() {
            let mut summary = extremes_summary(&sn.extremes);
            summary.failed_attempts = sn.failed_attempts;
            summary.first_exhaustion = sn.first_exhaustion;
            gather(&mut summary, workloads.iter().filter(|w| w.subnet == i));
            let [usable, n_static, reservable, n_blocks, n_reservable_blocks] =
                run.alloc.layout_figures(i as u32);
            subnets.push(SubnetOutput {
                name: sn.name,
                base: spec.base,
                prefix_len: spec.prefix_len,
                usable,
                n_static,
                n_blocks,
                n_reservable_blocks,
                reservable,
                rows: sn.rows,
                summary,
            });
        }
        let mut summary = extremes_summary(&self.run_extremes);
        summary.failed_attempts = subnets.iter().map(|s| s.summary.failed_attempts).sum();
        summary.first_exhaustion = self.first_exhaustion;
        gather(&mut summary, workloads.iter());
        Output {
            duration_ms: end,
            seed: run.seed,
            subnets,
            workloads,
            summary,
            log: self.log,
            log_dropped: self.log_dropped,
            n_events: run.n_events,
            peak_pending_events: run.peak_pending,
            stopped_early: false,
        }
    }
}

/// What the engine knows at the end that the summaries need.
pub(crate) struct RunFacts<'r> {
    pub(crate) workloads: &'r [WorkloadSpec],
    pub(crate) subnets: &'r [SubnetSpec],
    pub(crate) alloc: &'r Allocator,
    /// Whether workloads own blocks (every scope but subnet).
    pub(crate) blocks_per_workload: bool,
    pub(crate) seed: u64,
    pub(crate) n_events: u64,
    pub(crate) peak_pending: usize,
}
