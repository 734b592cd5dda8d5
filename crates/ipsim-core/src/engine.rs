//! The discrete-event engine: it pops events in `(time, class, seq)` order and applies
//! MODEL.md's rules to workloads, owners and subnets.
//!
//! How one event flows: a class-3 handler (demand point, swap, rollout step, execution start)
//! only updates state and marks its workload dirty; the single `Evaluate` event of that
//! millisecond then walks dirty workloads in declaration order, revisions oldest first, and
//! stops, cancels or requests instances; each request is an `Attempt` event (class 5) that asks
//! the subnet's `Pool` for addresses, and on failure records an exhaustion and schedules its
//! own retry. After every event the touched subnets and workloads write a row of their step
//! function (coalesced per millisecond) and, in debug builds, the pool audits itself.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::alloc::{BlockChooser, Holding, NONE, Owner, Pool, chooser};
use crate::error::InputError;
use crate::input::{SimInput, TaskDurations, WorkloadKind, WorkloadSpec};
use crate::output::{
    DeployFailure, ExhaustionEvent, FailureWindow, LogEvent, Output, SubnetOutput, SubnetRow,
    Summary, Unit, WorkloadOutput, WorkloadRow, WorkloadSummary, exhaustion_message,
};
use crate::params::{BlockScope, Params, Retention};
use crate::queue::{Class, Ev, EventQueue, Lane};
use crate::series::{Extremes, Figures, Row, figures};
use crate::share::Share;
use crate::subnet::layout;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InstState {
    Running,
    Retained,
    Dead,
}

#[derive(Debug, Clone)]
struct Instance {
    workload: u32,
    owner: u32,
    /// Revision index (services) or execution index (jobs).
    unit_idx: u32,
    holding: Holding,
    n_addrs: u32,
    epoch: u32,
    state: InstState,
}

#[derive(Debug, Clone)]
struct Request {
    workload: u32,
    unit_idx: u32,
    task: u32,
    requested_ms: u64,
    failed: u32,
    epoch: u32,
    alive: bool,
}

#[derive(Debug, Clone)]
struct Revision {
    number: u32,
    owner: u32,
    share: Share,
    /// Instance ids in start order.
    running: Vec<u32>,
    /// Request ids in request order.
    pending: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Rollout {
    start_ms: u64,
    rollout_ms: u64,
    k: u32,
    new_rev: u32,
    bases: Vec<(u32, Share)>,
}

#[derive(Debug, Clone, Copy)]
struct DeployWatch {
    swap_ms: u64,
    new_rev: u32,
    rollout_done: bool,
    failed: bool,
}

#[derive(Debug, Clone)]
struct Exec {
    owner: u32,
    n_tasks: u32,
    slots: u32,
    next_task: u32,
    running: u32,
    pending: u32,
}

#[derive(Debug)]
struct Wl {
    kind: WorkloadKind,
    subnet: u32,
    ips: u32,
    retention_ms: u64,
    demand_cursor: usize,
    swap_cursor: usize,
    exec_cursor: usize,
    raw_demand: u32,
    revisions: Vec<Revision>,
    active: Vec<u32>,
    rollout: Option<Rollout>,
    rollout_gen: u32,
    deploy: Option<DeployWatch>,
    execs: Vec<Exec>,
    active_execs: Vec<u32>,
    owner: u32,
    in_use: u32,
    retained: u32,
    n_blocks: u32,
    running: u32,
    pending: u32,
    dirty: bool,
    touched: bool,
    window_open: bool,
    saturated: bool,
    rows: Vec<WorkloadRow>,
    last_row: Option<WorkloadRow>,
    peak_held: u32,
    peak_blocks: u32,
    peak_running: u32,
    sum: WorkloadSummary,
}

#[derive(Debug)]
struct Sn {
    name: String,
    base: u32,
    prefix_len: u8,
    pool: Pool,
    chooser: Box<dyn BlockChooser>,
    pool_owner: u32,
    touched: bool,
    rows: Vec<SubnetRow>,
    last_row: Option<SubnetRow>,
    figures: Figures,
    extremes: Extremes,
    failed_attempts: u64,
    first_exhaustion: Option<ExhaustionEvent>,
}

/// A point of a streamed demand trace: from `time_ms` on, workload `workload` wants
/// `instances` instances (before clamping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedPoint {
    /// When the value takes effect.
    pub time_ms: u64,
    /// Index into [`SimInput::workloads`].
    pub workload: usize,
    /// Desired instances before clamping.
    pub instances: u32,
}

/// A source of demand points read as the run advances, so that a trace of any length replays
/// in memory that grows with the number of workloads, not the trace's size.
///
/// Points must come in non-decreasing time order; a point for a job or an unknown workload is
/// ignored, and a point earlier than the run's current time takes effect at the current time.
pub trait DemandFeed {
    /// The next point, or `None` at the end of the trace.
    fn next_point(&mut self) -> Option<FeedPoint>;
}

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

/// The row sink of a run, if any.
struct SinkSlot<'a>(Option<&'a mut dyn RowSink>);

impl std::fmt::Debug for SinkSlot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(<sink>)"
        } else {
            "None"
        })
    }
}

/// The feed of a run, if any (a newtype so that `Simulation` can derive `Debug`).
struct FeedSlot<'a>(Option<&'a mut dyn DemandFeed>);

impl std::fmt::Debug for FeedSlot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(<feed>)"
        } else {
            "None"
        })
    }
}

/// A run being prepared or under way. Build it with [`Simulation::new`], then [`Simulation::run`].
#[derive(Debug)]
pub struct Simulation<'a> {
    input: &'a SimInput,
    params: &'a Params,
    now: u64,
    queue: EventQueue,
    rng: ChaCha8Rng,
    subnets: Vec<Sn>,
    owners: Vec<Owner>,
    wls: Vec<Wl>,
    instances: Vec<Instance>,
    free_instances: Vec<u32>,
    requests: Vec<Request>,
    free_requests: Vec<u32>,
    dirty: Vec<u32>,
    eval_at: Option<u64>,
    touched_subnets: Vec<u32>,
    touched_wls: Vec<u32>,
    log: Vec<LogEvent>,
    log_dropped: u64,
    first_exhaustion: Option<ExhaustionEvent>,
    scratch: Vec<u32>,
    n_events: u64,
    feed: FeedSlot<'a>,
    feed_next: Option<FeedPoint>,
    sink: SinkSlot<'a>,
    run_figures: Figures,
    run_extremes: Extremes,
    peak_pending: usize,
}

impl<'a> Simulation<'a> {
    /// Checks `input` (every problem at once) and prepares the run.
    pub fn new(input: &'a SimInput) -> Result<Self, Vec<InputError>> {
        let mut errs = match input.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e,
        };
        let bs = input.params.block_size;
        let block_size_ok = (4..=64).contains(&bs) && bs.is_power_of_two();
        let mut subnets = Vec::new();
        let mut owners = Vec::new();
        for (i, s) in input.subnets.iter().enumerate() {
            // The /26 minimum and the range check are for subnets Cloud Run workloads use;
            // a connector's /28 is an ordinary VM subnet.
            let used = input
                .workloads
                .iter()
                .any(|w| w.subnet == i && w.kind != WorkloadKind::Connector);
            if !block_size_ok {
                continue;
            }
            match layout(s, &format!("subnets[{i}]"), bs, used) {
                Ok(l) => {
                    let pool_owner = owners.len() as u32;
                    owners.push(Owner::new(i as u32, NONE));
                    subnets.push(Sn {
                        name: s.name.clone(),
                        base: s.base,
                        prefix_len: s.prefix_len,
                        pool: Pool::new(&l, bs, input.params.strategy),
                        chooser: chooser(input.params.strategy, {
                            // The random strategy draws from a stream of its own per subnet,
                            // so choosing it does not change retention or duration draws.
                            let mut r = ChaCha8Rng::seed_from_u64(input.seed);
                            r.set_stream(2 + i as u64);
                            r
                        }),
                        pool_owner,
                        touched: true,
                        rows: Vec::new(),
                        last_row: None,
                        figures: [0; 5],
                        extremes: Extremes::default(),
                        failed_attempts: 0,
                        first_exhaustion: None,
                    });
                }
                Err(e) => errs.extend(e),
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let p = &input.params;
        let mut wls = Vec::with_capacity(input.workloads.len());
        for (i, w) in input.workloads.iter().enumerate() {
            let owner = owners.len() as u32;
            owners.push(Owner::new(w.subnet as u32, i as u32));
            let (ips, retention_ms) = match w.kind {
                WorkloadKind::Job => (p.ips_per_task, p.task_retention_ms),
                _ => (p.ips_per_instance, p.service_retention_ms),
            };
            wls.push(Wl {
                kind: w.kind,
                subnet: w.subnet as u32,
                ips,
                retention_ms,
                demand_cursor: 0,
                swap_cursor: 0,
                exec_cursor: 0,
                raw_demand: 0,
                revisions: Vec::new(),
                active: Vec::new(),
                rollout: None,
                rollout_gen: 0,
                deploy: None,
                execs: Vec::new(),
                active_execs: Vec::new(),
                owner,
                in_use: 0,
                retained: 0,
                n_blocks: 0,
                running: 0,
                pending: 0,
                dirty: false,
                touched: true,
                window_open: false,
                saturated: false,
                rows: Vec::new(),
                last_row: None,
                peak_held: 0,
                peak_blocks: 0,
                peak_running: 0,
                sum: WorkloadSummary::default(),
            });
        }
        let mut sim = Simulation {
            input,
            params: p,
            now: 0,
            queue: EventQueue::default(),
            rng: ChaCha8Rng::seed_from_u64(input.seed),
            touched_subnets: (0..subnets.len() as u32).collect(),
            touched_wls: (0..wls.len() as u32).collect(),
            subnets,
            owners,
            wls,
            instances: Vec::new(),
            free_instances: Vec::new(),
            requests: Vec::new(),
            free_requests: Vec::new(),
            dirty: Vec::new(),
            eval_at: None,
            log: Vec::new(),
            log_dropped: 0,
            first_exhaustion: None,
            scratch: Vec::new(),
            n_events: 0,
            feed: FeedSlot(None),
            feed_next: None,
            sink: SinkSlot(None),
            run_figures: [0; 5],
            run_extremes: Extremes::default(),
            peak_pending: 0,
        };
        for i in 0..sim.wls.len() {
            let wl = i as u32;
            if sim.wls[i].kind == WorkloadKind::Job {
                if let Some(e) = input.workloads[i].executions.first() {
                    sim.queue
                        .push(e.start_ms, Class::Demand, Ev::ExecStart { wl });
                }
            } else {
                sim.new_revision(wl, Share::ONE);
                // Always evaluate at 0 so that min_instances holds before the first point.
                sim.queue.push(0, Class::Demand, Ev::Demand { wl });
                if let Some(s) = input.workloads[i].swaps.first() {
                    sim.queue.push(s.time_ms, Class::Demand, Ev::Swap { wl });
                }
            }
        }
        Ok(sim)
    }

    /// Like [`Simulation::new`], with demand also read from `feed` as the run advances.
    pub fn with_feed(
        input: &'a SimInput,
        feed: &'a mut dyn DemandFeed,
    ) -> Result<Self, Vec<InputError>> {
        let mut sim = Simulation::new(input)?;
        sim.feed_next = feed.next_point();
        sim.feed = FeedSlot(Some(feed));
        if let Some(p) = sim.feed_next {
            sim.queue.push(p.time_ms, Class::Demand, Ev::Feed);
        }
        Ok(sim)
    }

    /// Hands every row to `sink` as it becomes final (rows are still kept in the output as
    /// `RunOptions` asks).
    pub fn set_sink(&mut self, sink: &'a mut dyn RowSink) {
        self.sink = SinkSlot(Some(sink));
    }

    /// Every subnet's layout.
    pub fn subnet_infos(&self) -> Vec<SubnetInfo> {
        self.subnets
            .iter()
            .map(|sn| SubnetInfo {
                name: sn.name.clone(),
                base: sn.base,
                prefix_len: sn.prefix_len,
                usable: sn.pool.usable,
                n_static: sn.pool.n_static,
                reservable: sn.pool.reservable_cap,
                n_reservable_blocks: sn.pool.n_reservable,
            })
            .collect()
    }

    /// Runs to the end and returns everything recorded.
    pub fn run(mut self) -> Output {
        let infos = self.subnet_infos();
        if let Some(sink) = self.sink.0.as_mut() {
            sink.start(&infos);
        }
        while let Some(e) = self.queue.pop() {
            if e.time_ms >= self.input.duration_ms {
                break;
            }
            if e.time_ms > self.now {
                self.close_ms();
            }
            self.now = e.time_ms;
            self.n_events += u64::from(!matches!(e.ev, Ev::Feed));
            self.handle(e.ev);
            self.peak_pending = self.peak_pending.max(self.queue.len());
            if cfg!(debug_assertions) {
                for &s in &self.touched_subnets {
                    self.subnets[s as usize].pool.audit(&self.owners, s);
                }
            }
        }
        self.close_ms();
        self.finish()
    }

    fn spec(&self, wl: u32) -> &'a WorkloadSpec {
        &self.input.workloads[wl as usize]
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Expire { inst, epoch } => self.expire(inst, epoch),
            Ev::LingerEnd {
                subnet,
                block,
                epoch,
            } => self.linger_end(subnet, block, epoch),
            Ev::TaskDone { inst, epoch } => self.task_done(inst, epoch),
            Ev::Demand { wl } => self.demand(wl),
            Ev::Swap { wl } => self.swap(wl),
            Ev::Rollout { wl, epoch } => {
                if self.wls[wl as usize].rollout_gen == epoch {
                    self.rollout_step(wl);
                    self.mark_dirty(wl);
                }
            }
            Ev::ExecStart { wl } => self.exec_start(wl),
            Ev::Feed => self.feed(),
            Ev::Evaluate => self.evaluate(),
            Ev::Attempt { req, epoch } => self.attempt(req, epoch),
        }
    }

    // ----- bookkeeping -----

    fn touch_subnet(&mut self, s: u32) {
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

    /// Closes the current millisecond: every subnet and workload touched in it writes its
    /// final row (if it changed), and the extremes see the new state.
    fn close_ms(&mut self) {
        let now = self.now;
        let keep_subnets = self.input.options.record_subnet_series;
        let keep_wls = self.input.options.record_workload_series;
        let mut changed = false;
        for &s in &self.touched_subnets {
            let sn = &mut self.subnets[s as usize];
            sn.touched = false;
            let p = &sn.pool;
            let row = SubnetRow {
                time_ms: now,
                in_use: p.in_use + p.direct,
                retained: p.retained,
                reserved_idle: p.reserved_idle(),
                unreserved: p.unreserved(),
                reserved_blocks: p.n_reserved,
                free_blocks: p.free_set.len() as u32,
                free: p.free_cap,
                connector: p.direct,
            };
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
            if let Some(sink) = self.sink.0.as_mut() {
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
            };
            if w.last_row.is_some_and(|l| l.same_values(&row)) {
                continue;
            }
            w.last_row = Some(row);
            w.peak_held = w.peak_held.max(row.held());
            w.peak_blocks = w.peak_blocks.max(row.reserved_blocks);
            w.peak_running = w.peak_running.max(row.running);
            if keep_wls {
                w.rows.push(row);
            }
            if let Some(sink) = self.sink.0.as_mut() {
                sink.workload_row(wl as usize, &row);
            }
        }
        self.touched_wls.clear();
    }

    fn log(&mut self, make: impl FnOnce() -> LogEvent) {
        if self.log.len() < self.input.options.log_limit {
            self.log.push(make());
        } else {
            self.log_dropped += 1;
        }
    }

    fn lifecycle(&self) -> bool {
        self.input.options.log_lifecycle
    }

    fn addrs(&self, subnet: u32, holding: &Holding) -> Vec<u32> {
        let sn = &self.subnets[subnet as usize];
        let mut v = Vec::new();
        for (b, mut mask) in holding.iter() {
            while mask != 0 {
                let bit = mask.trailing_zeros();
                mask &= mask - 1;
                v.push(sn.base + sn.pool.offset(b, bit));
            }
        }
        v
    }

    fn mark_dirty(&mut self, wl: u32) {
        let w = &mut self.wls[wl as usize];
        if !w.dirty {
            w.dirty = true;
            self.dirty.push(wl);
        }
        if self.eval_at != Some(self.now) {
            self.eval_at = Some(self.now);
            self.queue.push(self.now, Class::Evaluate, Ev::Evaluate);
        }
    }

    fn owner_of(&self, wl: u32, unit_idx: u32) -> u32 {
        let w = &self.wls[wl as usize];
        match self.params.block_scope {
            BlockScope::Service => w.owner,
            BlockScope::Subnet => self.subnets[w.subnet as usize].pool_owner,
            BlockScope::Revision => match w.kind {
                WorkloadKind::Job => w.execs[unit_idx as usize].owner,
                _ => w.revisions[unit_idx as usize].owner,
            },
        }
    }

    fn unit(&self, wl: u32, unit_idx: u32) -> Unit {
        let w = &self.wls[wl as usize];
        match w.kind {
            WorkloadKind::Job => Unit::Execution(unit_idx + 1),
            _ => Unit::Revision(w.revisions[unit_idx as usize].number),
        }
    }

    fn new_owner(&mut self, wl: u32) -> u32 {
        if self.params.block_scope != BlockScope::Revision {
            return NONE;
        }
        let id = self.owners.len() as u32;
        self.owners
            .push(Owner::new(self.wls[wl as usize].subnet, wl));
        id
    }

    fn new_revision(&mut self, wl: u32, share: Share) -> u32 {
        let owner = self.new_owner(wl);
        let w = &mut self.wls[wl as usize];
        let idx = w.revisions.len() as u32;
        w.revisions.push(Revision {
            number: idx + 1,
            owner,
            share,
            running: Vec::new(),
            pending: Vec::new(),
        });
        w.active.push(idx);
        idx
    }

    // ----- class 1: expiries and releases -----

    fn expire(&mut self, inst: u32, epoch: u32) {
        let i = &self.instances[inst as usize];
        if i.epoch != epoch || i.state != InstState::Retained {
            return;
        }
        let (wl, owner, n) = (i.workload, i.owner, i.n_addrs);
        let subnet = self.wls[wl as usize].subnet;
        if self.lifecycle() {
            let addrs = self.addrs(subnet, &self.instances[inst as usize].holding);
            let time_ms = self.now;
            self.log(|| LogEvent::Expire {
                time_ms,
                workload: wl as usize,
                addrs,
            });
        }
        let holding = std::mem::take(&mut self.instances[inst as usize].holding);
        for (b, mask) in holding.iter() {
            let pool = &mut self.subnets[subnet as usize].pool;
            if pool.give_back(b, mask, &mut self.owners[owner as usize]) {
                self.wholly_free(subnet, b);
            }
        }
        self.subnets[subnet as usize].pool.retained -= n;
        self.wls[wl as usize].retained -= n;
        let i = &mut self.instances[inst as usize];
        i.holding = holding;
        i.holding.clear();
        i.state = InstState::Dead;
        i.epoch = i.epoch.wrapping_add(1);
        self.free_instances.push(inst);
        self.touch_subnet(subnet);
        self.touch_wl(wl);
    }

    /// Block `b` of `subnet` has just become wholly free: release it now or after the linger.
    fn wholly_free(&mut self, subnet: u32, b: u32) {
        let linger = self.params.block_linger_ms;
        if linger == 0 {
            self.release(subnet, b);
        } else {
            let blk = &mut self.subnets[subnet as usize].pool.blocks[b as usize];
            blk.linger_gen = blk.linger_gen.wrapping_add(1);
            let epoch = blk.linger_gen;
            self.queue.push_lane(
                Lane::Linger,
                self.now.saturating_add(linger),
                Class::Expire,
                Ev::LingerEnd {
                    subnet,
                    block: b,
                    epoch,
                },
            );
        }
    }

    fn linger_end(&mut self, subnet: u32, b: u32, epoch: u32) {
        let blk = &self.subnets[subnet as usize].pool.blocks[b as usize];
        if blk.linger_gen == epoch && blk.owner != NONE && blk.wholly_free() {
            self.release(subnet, b);
        }
    }

    fn release(&mut self, subnet: u32, b: u32) {
        let sn = &mut self.subnets[subnet as usize];
        let owner = sn.pool.blocks[b as usize].owner;
        sn.pool.release(b, &mut self.owners[owner as usize]);
        let wl = self.owners[owner as usize].workload;
        if wl != NONE {
            self.wls[wl as usize].n_blocks -= 1;
            self.touch_wl(wl);
        }
        self.touch_subnet(subnet);
        if self.lifecycle() {
            let time_ms = self.now;
            let sn = &self.subnets[subnet as usize];
            let block_addr = sn.base + b * sn.pool.block_size;
            self.log(|| LogEvent::Release {
                time_ms,
                subnet: subnet as usize,
                block_addr,
            });
        }
    }

    // ----- class 2: task completions -----

    fn task_done(&mut self, inst: u32, epoch: u32) {
        let i = &self.instances[inst as usize];
        if i.epoch != epoch || i.state != InstState::Running {
            return;
        }
        let (wl, ex) = (i.workload, i.unit_idx);
        self.stop_instance(inst);
        let w = &mut self.wls[wl as usize];
        w.execs[ex as usize].running -= 1;
        w.sum.tasks_completed += 1;
        self.dispatch(wl, ex);
    }

    // ----- class 3: demand, swaps, rollouts, executions -----

    fn demand(&mut self, wl: u32) {
        let points = &self.spec(wl).demand;
        let w = &mut self.wls[wl as usize];
        while let Some(p) = points.get(w.demand_cursor) {
            if p.time_ms > self.now {
                break;
            }
            w.raw_demand = p.instances;
            w.demand_cursor += 1;
        }
        if let Some(p) = points.get(w.demand_cursor) {
            self.queue.push(p.time_ms, Class::Demand, Ev::Demand { wl });
        }
        self.mark_dirty(wl);
    }

    /// Applies every fed point due by now, then waits for the next one.
    fn feed(&mut self) {
        while let Some(p) = self.feed_next {
            if p.time_ms > self.now {
                self.queue.push(p.time_ms, Class::Demand, Ev::Feed);
                break;
            }
            // Each fed point is an event of its own (a demand change), though one queue entry
            // carries all the points of a millisecond.
            self.n_events += 1;
            if let Some(w) = self.wls.get_mut(p.workload) {
                if w.kind != WorkloadKind::Job {
                    w.raw_demand = p.instances;
                    self.mark_dirty(p.workload as u32);
                }
            }
            self.feed_next = self.feed.0.as_mut().and_then(|f| f.next_point());
        }
    }

    fn swap(&mut self, wl: u32) {
        let swaps = &self.spec(wl).swaps;
        let w = &self.wls[wl as usize];
        let s = swaps[w.swap_cursor];
        // A rollout step due now is applied before the swap freezes the shares, so a swap at
        // the very end of a rollout starts from the completed rollout.
        if w.rollout.is_some() {
            self.rollout_step(wl);
        }
        let new_rev = self.new_revision(wl, Share::ZERO);
        let w = &mut self.wls[wl as usize];
        w.swap_cursor += 1;
        if let Some(next) = swaps.get(w.swap_cursor) {
            self.queue
                .push(next.time_ms, Class::Demand, Ev::Swap { wl });
        }
        w.rollout_gen = w.rollout_gen.wrapping_add(1);
        let done = s.rollout_ms == 0;
        w.deploy = Some(DeployWatch {
            swap_ms: self.now,
            new_rev,
            rollout_done: done,
            failed: false,
        });
        if done {
            for &r in &w.active {
                w.revisions[r as usize].share = Share::ZERO;
            }
            w.revisions[new_rev as usize].share = Share::ONE;
            w.rollout = None;
        } else {
            let bases = w
                .active
                .iter()
                .filter(|&&r| r != new_rev)
                .map(|&r| (r, w.revisions[r as usize].share))
                .collect();
            w.rollout = Some(Rollout {
                start_ms: self.now,
                rollout_ms: s.rollout_ms,
                k: 0,
                new_rev,
                bases,
            });
            self.rollout_step(wl);
        }
        self.mark_dirty(wl);
    }

    /// Applies the rollout's share for `now`, and schedules its next step.
    fn rollout_step(&mut self, wl: u32) {
        let now = self.now;
        let w = &mut self.wls[wl as usize];
        let Some(ro) = w.rollout.as_mut() else { return };
        let elapsed = u128::from(now - ro.start_ms);
        let r = u128::from(ro.rollout_ms);
        // The largest k with floor(k * R / 100) <= elapsed.
        let k = ((100 * (elapsed + 1) - 1) / r).min(100) as u32;
        if k > ro.k {
            ro.k = k;
            w.revisions[ro.new_rev as usize].share = Share::percent(k);
            for &(rev, base) in &ro.bases {
                w.revisions[rev as usize].share = base.scaled_by_remaining(k);
            }
        }
        if ro.k >= 100 {
            w.rollout = None;
            if let Some(d) = w.deploy.as_mut() {
                d.rollout_done = true;
            }
        } else {
            let step = u64::try_from(u128::from(ro.k + 1) * r / 100).unwrap_or(u64::MAX);
            let next = ro.start_ms.saturating_add(step);
            let epoch = w.rollout_gen;
            self.queue
                .push(next, Class::Demand, Ev::Rollout { wl, epoch });
        }
    }

    fn exec_start(&mut self, wl: u32) {
        let execs = &self.spec(wl).executions;
        let quota = self.spec(wl).quota.unwrap_or(u32::MAX);
        loop {
            let c = self.wls[wl as usize].exec_cursor;
            let Some(e) = execs.get(c) else { break };
            if e.start_ms > self.now {
                self.queue
                    .push(e.start_ms, Class::Demand, Ev::ExecStart { wl });
                break;
            }
            let owner = self.new_owner(wl);
            let par = if e.parallelism == 0 {
                e.n_tasks
            } else {
                e.parallelism.min(e.n_tasks)
            };
            let w = &mut self.wls[wl as usize];
            w.execs.push(Exec {
                owner,
                n_tasks: e.n_tasks,
                slots: par.min(quota),
                next_task: 0,
                running: 0,
                pending: 0,
            });
            w.active_execs.push(c as u32);
            w.exec_cursor += 1;
        }
        self.mark_dirty(wl);
    }

    // ----- class 4: evaluation -----

    fn evaluate(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        for &wl in &dirty {
            self.wls[wl as usize].dirty = false;
            match self.wls[wl as usize].kind {
                WorkloadKind::Job => {
                    let execs = self.wls[wl as usize].active_execs.clone();
                    for ex in execs {
                        self.dispatch(wl, ex);
                    }
                }
                WorkloadKind::Connector => self.evaluate_connector(wl),
                _ => self.evaluate_service(wl),
            }
        }
        dirty.clear();
        self.dirty = dirty;
    }

    fn evaluate_service(&mut self, wl: u32) {
        let spec = self.spec(wl);
        let w = &self.wls[wl as usize];
        let demand = spec.clamp(w.raw_demand);
        // `adjust` never changes the list of active revisions, so index it instead of cloning.
        for k in 0..w.active.len() {
            let w = &self.wls[wl as usize];
            let r = w.active[k];
            let desired = w.revisions[r as usize].share.of(demand);
            self.adjust(wl, r, desired);
        }
        // A revision whose share has fallen to zero never gets traffic again; once it has
        // nothing left it leaves the evaluation list (the newest revision always stays).
        let w = &mut self.wls[wl as usize];
        let newest = w.revisions.len() as u32 - 1;
        let revs = &mut w.revisions;
        w.active.retain(|&r| {
            let rv = &mut revs[r as usize];
            let keep = r == newest
                || !rv.share.is_zero()
                || !rv.running.is_empty()
                || !rv.pending.is_empty();
            if !keep {
                // A retired revision's lists are empty; give their memory back, so that memory
                // follows live revisions, not the number of deploys so far.
                rv.running = Vec::new();
                rv.pending = Vec::new();
            }
            keep
        });
        self.check_deploy_done(wl);
    }

    /// A connector scales out to carry its throughput demand, within its limits, and never
    /// scales in; demand above what its instances carry is a saturation window.
    fn evaluate_connector(&mut self, wl: u32) {
        let spec = self.spec(wl);
        let per = spec.throughput_per_instance_mbps.max(1);
        let max = spec.max_instances.unwrap_or(10);
        let min = spec.min_instances.min(max);
        let now = self.now;
        let w = &mut self.wls[wl as usize];
        let mbps = w.raw_demand;
        w.sum.peak_demand_mbps = w.sum.peak_demand_mbps.max(mbps);
        let target = mbps.div_ceil(per).clamp(min, max);
        let subnet = w.subnet;
        if target > w.running {
            let pool = &mut self.subnets[subnet as usize].pool;
            let add = (target - w.running).min(pool.direct_capacity() - pool.direct);
            pool.direct += add;
            w.in_use += add;
            w.running += add;
            w.sum.n_started += u64::from(add);
            self.touch_subnet(subnet);
            self.touch_wl(wl);
        }
        let w = &mut self.wls[wl as usize];
        let saturated = u64::from(mbps) > u64::from(w.running) * u64::from(per);
        if saturated && !w.saturated {
            w.saturated = true;
            open_window(&mut w.sum.saturation_windows, wl, now);
        } else if !saturated && w.saturated {
            w.saturated = false;
            close_window(&mut w.sum.saturation_windows, now, false);
        }
    }

    /// Brings revision `r` to `desired`: new requests, or cancellations newest first and then
    /// stops of the newest running instances.
    fn adjust(&mut self, wl: u32, r: u32, desired: u32) {
        let rv = &self.wls[wl as usize].revisions[r as usize];
        let (running, pending) = (rv.running.len() as u32, rv.pending.len() as u32);
        if desired > running + pending {
            for _ in 0..desired - running - pending {
                let req = self.new_request(wl, r, 0);
                self.wls[wl as usize].revisions[r as usize]
                    .pending
                    .push(req);
            }
        } else if desired < running + pending {
            let excess = running + pending - desired;
            let cancel = excess.min(pending);
            for _ in 0..cancel {
                let req = self.wls[wl as usize].revisions[r as usize].pending.pop();
                if let Some(req) = req {
                    self.end_request(req);
                }
            }
            for _ in 0..excess - cancel {
                let inst = self.wls[wl as usize].revisions[r as usize].running.pop();
                if let Some(inst) = inst {
                    self.stop_instance(inst);
                }
            }
            self.check_window(wl);
        }
    }

    /// Requests start attempts for queued tasks of execution `ex` while it has free slots.
    fn dispatch(&mut self, wl: u32, ex: u32) {
        loop {
            let e = &self.wls[wl as usize].execs[ex as usize];
            if e.running + e.pending >= e.slots || e.next_task >= e.n_tasks {
                break;
            }
            let task = e.next_task;
            let e = &mut self.wls[wl as usize].execs[ex as usize];
            e.next_task += 1;
            e.pending += 1;
            self.new_request(wl, ex, task);
        }
        let w = &mut self.wls[wl as usize];
        let e = &w.execs[ex as usize];
        if e.next_task >= e.n_tasks && e.running == 0 && e.pending == 0 {
            w.active_execs.retain(|&x| x != ex);
        }
    }

    fn new_request(&mut self, wl: u32, unit_idx: u32, task: u32) -> u32 {
        let r = Request {
            workload: wl,
            unit_idx,
            task,
            requested_ms: self.now,
            failed: 0,
            epoch: 0,
            alive: true,
        };
        let id = match self.free_requests.pop() {
            Some(id) => {
                let epoch = self.requests[id as usize].epoch;
                self.requests[id as usize] = Request { epoch, ..r };
                id
            }
            None => {
                self.requests.push(r);
                (self.requests.len() - 1) as u32
            }
        };
        self.wls[wl as usize].pending += 1;
        self.touch_wl(wl);
        let epoch = self.requests[id as usize].epoch;
        self.queue.push_lane(
            Lane::Now,
            self.now,
            Class::Start,
            Ev::Attempt { req: id, epoch },
        );
        id
    }

    /// Ends a request (started, cancelled or given up) and counts its unmet time.
    fn end_request(&mut self, req: u32) {
        let r = &mut self.requests[req as usize];
        r.alive = false;
        r.epoch = r.epoch.wrapping_add(1);
        let (wl, since) = (r.workload, r.requested_ms);
        self.free_requests.push(req);
        let w = &mut self.wls[wl as usize];
        w.pending -= 1;
        w.sum.unmet_instance_ms = w.sum.unmet_instance_ms.saturating_add(self.now - since);
        self.touch_wl(wl);
    }

    /// Closes the workload's failure window once nothing of it is pending.
    fn check_window(&mut self, wl: u32) {
        let w = &mut self.wls[wl as usize];
        if w.window_open && w.pending == 0 {
            w.window_open = false;
            close_window(&mut w.sum.failure_windows, self.now, false);
        }
    }

    fn check_deploy_done(&mut self, wl: u32) {
        let w = &mut self.wls[wl as usize];
        if let Some(d) = w.deploy {
            if d.rollout_done && w.revisions[d.new_rev as usize].pending.is_empty() {
                w.deploy = None;
            }
        }
    }

    fn stop_instance(&mut self, inst: u32) {
        let i = &mut self.instances[inst as usize];
        debug_assert_eq!(i.state, InstState::Running);
        i.state = InstState::Retained;
        let (wl, n, unit_idx, epoch) = (i.workload, i.n_addrs, i.unit_idx, i.epoch);
        let w = &mut self.wls[wl as usize];
        w.in_use -= n;
        w.retained += n;
        w.running -= 1;
        let (subnet, max, is_job) = (w.subnet, w.retention_ms, w.kind == WorkloadKind::Job);
        let pool = &mut self.subnets[subnet as usize].pool;
        pool.in_use -= n;
        pool.retained += n;
        let at = |d: u64| self.now.saturating_add(d);
        let retention_ms = match self.params.retention {
            // A fixed delay keeps each kind's expiries in time order: a FIFO lane.
            Retention::Fixed => {
                let lane = if is_job {
                    Lane::TaskExpire
                } else {
                    Lane::ServiceExpire
                };
                self.queue
                    .push_lane(lane, at(max), Class::Expire, Ev::Expire { inst, epoch });
                max
            }
            Retention::Uniform => {
                let d = self.rng.random_range(0..=max);
                self.queue
                    .push(at(d), Class::Expire, Ev::Expire { inst, epoch });
                d
            }
        };
        self.touch_subnet(subnet);
        self.touch_wl(wl);
        if self.lifecycle() {
            let addrs = self.addrs(subnet, &self.instances[inst as usize].holding);
            let (time_ms, unit) = (self.now, self.unit(wl, unit_idx));
            self.log(|| LogEvent::Stop {
                time_ms,
                workload: wl as usize,
                unit,
                addrs,
                retention_ms,
            });
        }
    }

    // ----- class 5: start attempts -----

    fn attempt(&mut self, req: u32, epoch: u32) {
        let r = &self.requests[req as usize];
        if !r.alive || r.epoch != epoch {
            return;
        }
        let (wl, unit_idx, task) = (r.workload, r.unit_idx, r.task);
        let owner = self.owner_of(wl, unit_idx);
        let (subnet, k) = {
            let w = &self.wls[wl as usize];
            (w.subnet, w.ips)
        };
        if self.allocate(subnet, owner, k) {
            self.started(req, wl, unit_idx, task, owner, subnet, k);
        } else {
            self.failed(req, wl, unit_idx, owner, subnet);
        }
    }

    /// Makes `k` free addresses available to `owner`, reserving blocks if its own fall short.
    /// All or nothing: returns false, having changed nothing, if the free blocks cannot cover it.
    fn allocate(&mut self, subnet: u32, owner: u32, k: u32) -> bool {
        let have = self.owners[owner as usize].free;
        if have >= k {
            return true;
        }
        let sn = &mut self.subnets[subnet as usize];
        let mut picked = std::mem::take(&mut self.scratch);
        let ok = sn.chooser.pick(&sn.pool, k - have, &mut picked);
        if ok {
            sn.chooser.reserved(&picked);
        }
        if ok {
            for &b in &picked {
                let pool = &mut self.subnets[subnet as usize].pool;
                pool.reserve(b, owner, &mut self.owners[owner as usize]);
                let wl = self.owners[owner as usize].workload;
                if wl != NONE {
                    self.wls[wl as usize].n_blocks += 1;
                    self.touch_wl(wl);
                }
                if self.lifecycle() {
                    let time_ms = self.now;
                    let sn = &self.subnets[subnet as usize];
                    let block_addr = sn.base + b * sn.pool.block_size;
                    let workload = (wl != NONE).then_some(wl as usize);
                    self.log(|| LogEvent::Reserve {
                        time_ms,
                        subnet: subnet as usize,
                        block_addr,
                        workload,
                    });
                }
            }
            self.touch_subnet(subnet);
        }
        self.scratch = picked;
        ok
    }

    #[allow(clippy::too_many_arguments)]
    fn started(
        &mut self,
        req: u32,
        wl: u32,
        unit_idx: u32,
        task: u32,
        owner: u32,
        subnet: u32,
        k: u32,
    ) {
        let inst = match self.free_instances.pop() {
            Some(id) => id,
            None => {
                self.instances.push(Instance {
                    workload: 0,
                    owner: 0,
                    unit_idx: 0,
                    holding: Holding::default(),
                    n_addrs: 0,
                    epoch: 0,
                    state: InstState::Dead,
                });
                (self.instances.len() - 1) as u32
            }
        };
        {
            let i = &mut self.instances[inst as usize];
            i.workload = wl;
            i.owner = owner;
            i.unit_idx = unit_idx;
            i.n_addrs = k;
            i.state = InstState::Running;
            i.holding.clear();
            let pool = &mut self.subnets[subnet as usize].pool;
            pool.take(&mut self.owners[owner as usize], k, &mut i.holding);
            pool.in_use += k;
        }
        self.end_request(req);
        let w = &mut self.wls[wl as usize];
        w.in_use += k;
        w.running += 1;
        w.sum.n_started += 1;
        if w.kind == WorkloadKind::Job {
            let e = &mut w.execs[unit_idx as usize];
            e.pending -= 1;
            e.running += 1;
            let dur = match &self.spec(wl).executions[unit_idx as usize].durations {
                TaskDurations::Fixed(d) => *d,
                TaskDurations::PerTask(v) => v[task as usize],
                TaskDurations::Uniform { min_ms, max_ms } => {
                    self.rng.random_range(*min_ms..=*max_ms)
                }
            };
            let epoch = self.instances[inst as usize].epoch;
            self.queue.push(
                self.now.saturating_add(dur),
                Class::Complete,
                Ev::TaskDone { inst, epoch },
            );
        } else {
            let rv = &mut w.revisions[unit_idx as usize];
            if let Some(pos) = rv.pending.iter().rposition(|&x| x == req) {
                rv.pending.remove(pos);
            }
            rv.running.push(inst);
        }
        self.touch_subnet(subnet);
        if self.lifecycle() {
            let addrs = self.addrs(subnet, &self.instances[inst as usize].holding);
            let (time_ms, unit) = (self.now, self.unit(wl, unit_idx));
            self.log(|| LogEvent::Start {
                time_ms,
                workload: wl as usize,
                unit,
                addrs,
            });
        }
        self.check_window(wl);
        self.check_deploy_done(wl);
    }

    fn failed(&mut self, req: u32, wl: u32, unit_idx: u32, owner: u32, subnet: u32) {
        let now = self.now;
        let (desired, running) = {
            let w = &self.wls[wl as usize];
            match w.kind {
                WorkloadKind::Job => {
                    let e = &w.execs[unit_idx as usize];
                    (e.running + e.pending, e.running)
                }
                _ => {
                    let rv = &w.revisions[unit_idx as usize];
                    let r = rv.running.len() as u32;
                    (r + rv.pending.len() as u32, r)
                }
            }
        };
        let unit = self.unit(wl, unit_idx);
        let log_room = self.log.len() < self.input.options.log_limit;
        let sn = &mut self.subnets[subnet as usize];
        sn.failed_attempts += 1;
        // Most failed attempts are retries that nothing keeps (the firsts are set, the log is
        // full or off): build the record, message and all, only when something keeps it.
        let keep = log_room
            || sn.first_exhaustion.is_none()
            || self.first_exhaustion.is_none()
            || self.wls[wl as usize].sum.first_exhaustion.is_none();
        let ev = keep.then(|| ExhaustionEvent {
            time_ms: now,
            subnet: subnet as usize,
            workload: wl as usize,
            unit,
            desired,
            running,
            owner_free: self.owners[owner as usize].free,
            free_blocks: sn.pool.free_set.len() as u32,
            message: exhaustion_message(&sn.name),
        });
        if let Some(ev) = &ev {
            if sn.first_exhaustion.is_none() {
                sn.first_exhaustion = Some(ev.clone());
            }
            if self.first_exhaustion.is_none() {
                self.first_exhaustion = Some(ev.clone());
            }
        }
        let w = &mut self.wls[wl as usize];
        w.sum.failed_attempts += 1;
        if let Some(ev) = &ev {
            if w.sum.first_exhaustion.is_none() {
                w.sum.first_exhaustion = Some(ev.clone());
            }
        }
        if !w.window_open {
            w.window_open = true;
            open_window(&mut w.sum.failure_windows, wl, now);
        }
        if let Some(d) = w.deploy.as_mut() {
            if d.new_rev == unit_idx && !d.failed && w.kind != WorkloadKind::Job {
                d.failed = true;
                w.sum.deploy_failures.push(DeployFailure {
                    time_ms: now,
                    workload: wl as usize,
                    revision: w.revisions[unit_idx as usize].number,
                    swap_ms: d.swap_ms,
                });
            }
        }
        let is_job = w.kind == WorkloadKind::Job;
        match ev {
            Some(ev) => self.log(|| LogEvent::Exhaustion(ev)),
            None => self.log_dropped += 1,
        }
        let r = &mut self.requests[req as usize];
        r.failed += 1;
        let epoch = r.epoch;
        if is_job && r.failed > self.params.max_task_retries {
            // The task has failed; its slot passes to the next queued task at once.
            self.end_request(req);
            let w = &mut self.wls[wl as usize];
            w.execs[unit_idx as usize].pending -= 1;
            w.sum.tasks_failed += 1;
            let unit = self.unit(wl, unit_idx);
            self.log(|| LogEvent::TaskFailed {
                time_ms: now,
                workload: wl as usize,
                unit,
            });
            self.check_window(wl);
            self.dispatch(wl, unit_idx);
        } else {
            self.queue.push_lane(
                Lane::Retry,
                now.saturating_add(self.params.retry_interval_ms),
                Class::Start,
                Ev::Attempt { req, epoch },
            );
        }
    }

    // ----- the end -----

    fn finish(mut self) -> Output {
        let end = self.input.duration_ms;
        self.now = end;
        for r in &self.requests {
            if r.alive {
                let w = &mut self.wls[r.workload as usize];
                w.sum.unmet_instance_ms = w
                    .sum
                    .unmet_instance_ms
                    .saturating_add(end - r.requested_ms.min(end));
            }
        }
        let mut workloads = Vec::with_capacity(self.wls.len());
        for (i, w) in self.wls.iter_mut().enumerate() {
            if w.window_open {
                close_window(&mut w.sum.failure_windows, end, true);
            }
            if w.saturated {
                close_window(&mut w.sum.saturation_windows, end, true);
            }
            let rows = std::mem::take(&mut w.rows);
            let mut sum = std::mem::take(&mut w.sum);
            sum.peak_held = w.peak_held;
            sum.peak_running = w.peak_running;
            sum.peak_reserved_blocks =
                (self.params.block_scope != BlockScope::Subnet).then_some(w.peak_blocks);
            let spec = &self.input.workloads[i];
            workloads.push(WorkloadOutput {
                name: spec.name.clone(),
                kind: spec.kind,
                subnet: spec.subnet,
                rows,
                summary: sum,
            });
        }
        let mut subnets = Vec::with_capacity(self.subnets.len());
        for (i, sn) in self.subnets.iter_mut().enumerate() {
            let rows = std::mem::take(&mut sn.rows);
            let mut summary = extremes_summary(&sn.extremes);
            summary.failed_attempts = sn.failed_attempts;
            summary.first_exhaustion = sn.first_exhaustion.clone();
            gather(&mut summary, workloads.iter().filter(|w| w.subnet == i));
            let p = &sn.pool;
            subnets.push(SubnetOutput {
                name: sn.name.clone(),
                base: sn.base,
                prefix_len: sn.prefix_len,
                usable: p.usable,
                n_static: p.n_static,
                n_blocks: p.blocks.len() as u32,
                n_reservable_blocks: p.n_reservable,
                reservable: p.reservable_cap,
                rows,
                summary,
            });
        }
        let mut summary = extremes_summary(&self.run_extremes);
        summary.failed_attempts = subnets.iter().map(|s| s.summary.failed_attempts).sum();
        summary.first_exhaustion = self.first_exhaustion.clone();
        gather(&mut summary, workloads.iter());
        Output {
            duration_ms: end,
            seed: self.input.seed,
            subnets,
            workloads,
            summary,
            log: self.log,
            log_dropped: self.log_dropped,
            n_events: self.n_events,
            peak_pending_events: self.peak_pending,
        }
    }
}

/// Opens a window at `now`; one that closed in this same millisecond is reopened instead, so
/// that a window closing and reopening in one millisecond stays one window.
fn open_window(windows: &mut Vec<FailureWindow>, wl: u32, now: u64) {
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
fn close_window(windows: &mut [FailureWindow], at: u64, open: bool) {
    if let Some(last) = windows.last_mut() {
        last.end_ms = at;
        last.open = open;
    }
}

/// A summary holding these extremes (minima of a run with no row are 0).
fn extremes_summary(e: &Extremes) -> Summary {
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
fn gather<'w>(s: &mut Summary, wls: impl Iterator<Item = &'w WorkloadOutput>) {
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

/// Validates and runs `input` in one call.
pub fn simulate(input: &SimInput) -> Result<Output, Vec<InputError>> {
    Ok(Simulation::new(input)?.run())
}
