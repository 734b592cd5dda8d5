//! The discrete-event engine: it pops events in `(time, class, seq)` order and hands each to
//! the part that owns its rule: the workload's kind ([`crate::kinds`]) decides what to start,
//! cancel or stop; the [`Allocator`] gives and takes addresses; the [`Recorder`] keeps the
//! books. The engine applies the kinds' actions and schedules their timers.
//!
//! How one event flows: a `Demand`-class event (demand points, swaps, rollout steps,
//! execution starts) only updates state and marks its workload dirty; the single `Evaluate`
//! event of that millisecond then walks dirty workloads in declaration order and applies what
//! each kind asks for; each request is an `Attempt` event (class `Start`) that asks the
//! allocator for addresses, and on failure records an exhaustion and schedules its own retry
//! (where that gives the same run, a workload's attempts run right after its evaluation:
//! [`fused`]).
//! Before time moves on, the recorder closes the millisecond; in debug builds the allocator
//! audits every touched subnet after every event.

mod ahead;
mod apply;
mod fused;
mod retry;
mod wl;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::alloc::{Allocator, Holding, NONE};
use crate::demand::{DemandFeed, FeedPoint, Merged, SpecFeed};
use crate::error::InputError;
use crate::input::{Kind, SimInput};
use crate::kinds::{Action, ConnectorState, JobState, KindState, ServiceState, Timer};
use crate::output::{Output, Unit};
use crate::params::{BlockScope, Params};
use crate::queue::{Ev, EventQueue};
use crate::recorder::{Recorder, RowSink, SubnetInfo};
use crate::subnet::{SubnetLayout, layout};
use wl::Wl;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InstState {
    Running,
    Retained,
    Dead,
}

/// A running or retained instance or task (one cache line).
#[derive(Debug, Clone)]
#[repr(align(64))]
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

/// A start waiting for its attempt or retry.
#[derive(Debug, Clone)]
struct Request {
    workload: u32,
    unit_idx: u32,
    task: u32,
    requested_ms: u64,
    failed: u32,
    epoch: u32,
    alive: bool,
    /// The retry segment it waits in, if any.
    seg: u32,
}

/// The subnets of a checked input, laid out: what [`Simulation::prepared`] runs on, so that
/// a caller that checks an input once does not lay its subnets out again to run it.
#[derive(Debug, Clone)]
pub struct Checked {
    layouts: Vec<SubnetLayout>,
}

impl SimInput {
    /// Checks everything (every problem at once) and lays each subnet out once.
    pub fn check(&self) -> Result<Checked, Vec<InputError>> {
        let mut errs = self.validate().err().unwrap_or_default();
        let bs = self.params.block_size;
        let block_size_ok = (4..=64).contains(&bs) && bs.is_power_of_two();
        let mut layouts = Vec::with_capacity(self.subnets.len());
        if block_size_ok {
            for (i, s) in self.subnets.iter().enumerate() {
                // The /26 minimum and the range check are for subnets Cloud Run workloads
                // use; a connector's /28 is an ordinary VM subnet.
                let used = self
                    .workloads
                    .iter()
                    .any(|w| w.subnet == i && !matches!(w.kind, Kind::Connector(_)));
                let connector = self.workloads.iter().find_map(|w| match w.kind {
                    Kind::Connector(_) if w.subnet == i => Some(w.name.as_str()),
                    _ => None,
                });
                match layout(s, i, bs, used, connector) {
                    Ok(l) => layouts.push(l),
                    Err(e) => errs.extend(e),
                }
            }
        }
        if errs.is_empty() {
            Ok(Checked { layouts })
        } else {
            Err(errs)
        }
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
    alloc: Allocator,
    rec: Recorder<'a>,
    wls: Vec<Wl>,
    instances: Vec<Instance>,
    free_instances: Vec<u32>,
    requests: Vec<Request>,
    free_requests: Vec<u32>,
    dirty: Vec<u32>,
    raw: Vec<wl::Raw>,
    eval_at: Option<u64>,
    actions: Vec<Action>,
    timers: Vec<Timer>,
    scratch: Vec<u32>,
    n_events: u64,
    feed: Merged<'a>,
    peak_pending: usize,
    retries: retry::Retries,
    /// Bumped whenever addresses or blocks are freed: a failure memo is good until then.
    freed: u64,
    counts: crate::bench_api::Counts,
    /// A start failed on the subnet of `RunOptions::stop_at_first_failed_start`.
    stopped: bool,
    fusion: fused::Fusion,
}

impl<'a> Simulation<'a> {
    /// Checks `input` (every problem at once) and prepares the run.
    pub fn new(input: &'a SimInput) -> Result<Self, Vec<InputError>> {
        Ok(Simulation::prepared(input, input.check()?))
    }

    /// Prepares the run of an input that [`SimInput::check`] accepted (`checked` must come
    /// from this very input).
    pub fn prepared(input: &'a SimInput, checked: Checked) -> Self {
        Simulation::build(input, checked, None)
    }

    /// Like [`Simulation::prepared`], with demand also read from `feed` as the run advances.
    pub fn prepared_with_feed(
        input: &'a SimInput,
        checked: Checked,
        feed: &'a mut dyn DemandFeed,
    ) -> Self {
        Simulation::build(input, checked, Some(feed))
    }

    fn build(
        input: &'a SimInput,
        checked: Checked,
        stream: Option<&'a mut dyn DemandFeed>,
    ) -> Self {
        let p = &input.params;
        let mut alloc = Allocator::new(&checked.layouts, p.block_size, p.strategy, input.seed);
        let mut wls = Vec::with_capacity(input.workloads.len());
        for (i, w) in input.workloads.iter().enumerate() {
            let subnet = w.subnet as u32;
            let owner = alloc.add_owner(subnet, i as u32);
            let (ips, retention_ms) = match &w.kind {
                Kind::Job(_) => (p.ips_per_task, p.task_retention_ms),
                Kind::Service(_) | Kind::WorkerPool(_) | Kind::Connector(_) => {
                    (p.ips_per_instance, p.service_retention_ms)
                }
            };
            let state = match &w.kind {
                Kind::Service(_) | Kind::WorkerPool(_) => {
                    let rev_owner = if p.block_scope == BlockScope::Revision {
                        alloc.add_owner(subnet, i as u32)
                    } else {
                        NONE
                    };
                    KindState::Scaled(ServiceState::new(rev_owner))
                }
                Kind::Job(_) => KindState::Job(JobState::default()),
                Kind::Connector(_) => KindState::Connector(ConnectorState::default()),
            };
            wls.push(Wl::new(w, subnet, (ips, retention_ms), owner, state));
        }
        let mut sim = Simulation {
            input,
            params: p,
            now: 0,
            queue: EventQueue::default(),
            rng: ChaCha8Rng::seed_from_u64(input.seed),
            alloc,
            rec: Recorder::new(&input.options, &input.subnets, input.workloads.len()),
            wls,
            instances: Vec::new(),
            free_instances: Vec::new(),
            requests: Vec::new(),
            free_requests: Vec::new(),
            dirty: Vec::new(),
            raw: input.workloads.iter().map(wl::Raw::new).collect(),
            eval_at: None,
            actions: Vec::new(),
            timers: Vec::new(),
            scratch: Vec::new(),
            n_events: 0,
            retries: retry::Retries::default(),
            freed: 0,
            counts: Default::default(),
            stopped: false,
            fusion: fused::Fusion::new(input),
            feed: {
                let merged = Merged::new(SpecFeed::new(&input.workloads));
                match stream {
                    Some(f) => merged.with_stream(f),
                    None => merged,
                }
            },
            peak_pending: 0,
        };
        sim.prereserve(&checked.layouts);
        for (i, w) in input.workloads.iter().enumerate() {
            let wl = i as u32;
            match &w.kind {
                Kind::Job(j) => {
                    if let Some(e) = j.executions.first() {
                        sim.queue.push(e.start_ms, Ev::ExecStart { wl });
                    }
                }
                Kind::Service(s) | Kind::WorkerPool(s) => {
                    if let Some(s) = s.swaps.first() {
                        sim.queue.push(s.time_ms, Ev::Swap { wl });
                    }
                }
                Kind::Connector(_) => {}
            }
        }
        sim.schedule_feed();
        sim
    }

    /// Like [`Simulation::new`], with demand also read from `feed` as the run advances.
    pub fn with_feed(
        input: &'a SimInput,
        feed: &'a mut dyn DemandFeed,
    ) -> Result<Self, Vec<InputError>> {
        Ok(Simulation::build(input, input.check()?, Some(feed)))
    }

    /// Hands every row to `sink` as it becomes final (rows are still kept in the output as
    /// `RunOptions` asks).
    pub fn set_sink(&mut self, sink: &'a mut dyn RowSink) {
        self.rec.set_sink(sink);
    }

    /// Every subnet's layout.
    pub fn subnet_infos(&self) -> Vec<SubnetInfo> {
        self.input
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let [usable, n_static, reservable, _, n_reservable_blocks] =
                    self.alloc.layout_figures(i as u32);
                SubnetInfo {
                    name: s.name.clone(),
                    base: s.base,
                    prefix_len: s.prefix_len,
                    usable,
                    n_static,
                    reservable,
                    n_reservable_blocks,
                }
            })
            .collect()
    }

    /// Runs to the end and returns everything recorded.
    pub fn run(self) -> Output {
        self.run_counted().0
    }

    /// [`Simulation::run`], also returning what the engine counted.
    pub(crate) fn run_counted(mut self) -> (Output, crate::bench_api::Counts) {
        let infos = self.subnet_infos();
        self.rec.start(&infos);
        while let Some(e) = self.queue.pop() {
            self.counts.pops += 1;
            if e.time_ms >= self.input.duration_ms {
                break;
            }
            if e.time_ms > self.now {
                self.rec.close_ms(self.now, &self.alloc);
            }
            self.now = e.time_ms;
            // A feed or retry entry counts the points or attempts it carries instead.
            self.n_events += u64::from(!matches!(e.ev, Ev::Feed | Ev::Retries));
            self.handle(e.ev);
            if self.stopped {
                break;
            }
            self.count_pending();
            if cfg!(debug_assertions) {
                for &s in self.rec.touched_subnets() {
                    self.alloc.audit(s);
                }
            }
        }
        self.rec.close_ms(self.now, &self.alloc);
        let counts = self.counts;
        (self.finish(), counts)
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Expire { inst, epoch } => self.expire(inst, epoch),
            Ev::LingerEnd {
                subnet,
                block,
                epoch,
            } => {
                if self.alloc.linger_over(subnet, block, epoch) {
                    self.release(subnet, block);
                }
            }
            Ev::TaskDone { inst, epoch } => self.task_done(inst, epoch),
            Ev::Swap { wl } => self.swap(wl),
            Ev::Rollout { wl, epoch } => self.rollout(wl, epoch),
            Ev::ExecStart { wl } => self.exec_start(wl),
            Ev::Feed => self.feed(),
            Ev::Evaluate => self.evaluate(),
            Ev::Attempt { req, epoch } => self.attempt(req, epoch),
            Ev::Retries => self.retry_run(),
        }
    }

    // ----- class Demand: state updates only -----

    fn schedule_feed(&mut self) {
        if let Some(t) = self.feed.peek_time() {
            self.queue.push(t.max(self.now), Ev::Feed);
        }
    }

    /// Applies every demand point due by now, then waits for the next one.
    fn feed(&mut self) {
        while self.feed.peek_time().is_some_and(|t| t <= self.now) {
            let Some((p, rev)) = self.feed.next_due() else {
                break;
            };
            // Each point is an event of its own (a demand change), though one queue entry
            // carries all the points of a millisecond.
            self.n_events += 1;
            match rev {
                Some(r) => self.observe(p.workload as u32, r, p.instances),
                None => self.set_demand(p),
            }
        }
        self.schedule_feed();
    }

    fn set_demand(&mut self, p: FeedPoint) {
        if let Some(r) = self.raw.get_mut(p.workload).filter(|r| r.has_demand) {
            r.demand = p.instances;
            self.mark_dirty(p.workload as u32);
        }
    }

    /// Observed revision `r` of `wl` wants `n` instances: the revisions up to it exist from
    /// their first point (each watched as a deploy that takes effect at once).
    fn observe(&mut self, wl: u32, r: u32, n: u32) {
        while matches!(&self.wls[wl as usize].state, KindState::Scaled(s) if s.n_revisions() <= r) {
            let owner = self.new_owner(wl);
            if let KindState::Scaled(svc) = &mut self.wls[wl as usize].state {
                let number = svc.add_observed(owner);
                self.rec.watch_deploy(self.now, wl, number, true);
            }
        }
        if let KindState::Scaled(svc) = &mut self.wls[wl as usize].state {
            svc.set_observed(r, n);
            self.mark_dirty(wl);
        }
    }

    fn swap(&mut self, wl: u32) {
        let (Kind::Service(spec) | Kind::WorkerPool(spec)) =
            &self.input.workloads[wl as usize].kind
        else {
            return;
        };
        let owner = self.new_owner(wl);
        let now = self.now;
        let mut timers = std::mem::take(&mut self.timers);
        let KindState::Scaled(svc) = &mut self.wls[wl as usize].state else {
            return;
        };
        let s = svc.swap(now, &spec.swaps, owner, &mut timers);
        let number = svc.revision(s.new_rev).number;
        if s.previous_completed {
            self.rec.rollout_done(wl);
        }
        self.rec.watch_deploy(now, wl, number, s.rollout_done);
        self.schedule(wl, &mut timers);
        self.timers = timers;
        self.mark_dirty(wl);
    }

    fn rollout(&mut self, wl: u32, epoch: u32) {
        let now = self.now;
        let mut timers = std::mem::take(&mut self.timers);
        let KindState::Scaled(svc) = &mut self.wls[wl as usize].state else {
            return;
        };
        if let Some(done) = svc.rollout_event(now, epoch, &mut timers) {
            if done {
                self.rec.rollout_done(wl);
            }
            self.schedule(wl, &mut timers);
            self.mark_dirty(wl);
        }
        self.timers = timers;
    }

    fn exec_start(&mut self, wl: u32) {
        let Kind::Job(spec) = &self.input.workloads[wl as usize].kind else {
            return;
        };
        let now = self.now;
        let mut timers = std::mem::take(&mut self.timers);
        let (scope, subnet) = (self.params.block_scope, self.wls[wl as usize].subnet);
        let KindState::Job(job) = &mut self.wls[wl as usize].state else {
            return;
        };
        let alloc = &mut self.alloc;
        job.start_due(
            now,
            spec,
            || {
                if scope == BlockScope::Revision {
                    alloc.add_owner(subnet, wl)
                } else {
                    NONE
                }
            },
            &mut timers,
        );
        self.schedule(wl, &mut timers);
        self.timers = timers;
        self.mark_dirty(wl);
    }

    /// Schedules the timers a kind asked for, in order.
    fn schedule(&mut self, wl: u32, timers: &mut Vec<Timer>) {
        for t in timers.drain(..) {
            match t {
                Timer::Rollout { at, epoch } => self.queue.push(at, Ev::Rollout { wl, epoch }),
                Timer::Swap { at } => self.queue.push(at, Ev::Swap { wl }),
                Timer::ExecStart { at } => self.queue.push(at, Ev::ExecStart { wl }),
            }
        }
    }

    fn mark_dirty(&mut self, wl: u32) {
        let r = &mut self.raw[wl as usize];
        if !r.dirty {
            r.dirty = true;
            self.dirty.push(wl);
        }
        if self.eval_at != Some(self.now) {
            self.eval_at = Some(self.now);
            self.queue.push(self.now, Ev::Evaluate);
        }
    }

    // ----- class Evaluate -----

    /// Evaluates every dirty workload once, in declaration order, and applies what its kind
    /// asks for.
    fn evaluate(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        self.begin_fusion();
        for (j, &wl) in dirty.iter().enumerate() {
            if self.fusion.on {
                self.evaluations_ahead(&dirty, j);
            }
            self.raw[wl as usize].dirty = false;
            self.evaluate_one(wl);
            if self.fusion.on {
                self.fused_attempts();
            }
        }
        self.end_fusion();
        dirty.clear();
        self.dirty = dirty;
    }

    fn evaluate_one(&mut self, wl: u32) {
        let kind = &self.input.workloads[wl as usize].kind;
        let mut actions = std::mem::take(&mut self.actions);
        let w = &mut self.wls[wl as usize];
        let demand = self.raw[wl as usize].demand;
        // The clamp, with the bounds kept in the workload's own record.
        let bounds = w.clamp;
        let clamp = |n: u32| crate::input::clamp_within(bounds, n);
        match (&mut w.state, kind) {
            (KindState::Scaled(svc), _) if w.observed => {
                svc.evaluate(0, Some(&clamp), &mut actions)
            }
            (KindState::Scaled(svc), _) => svc.evaluate(clamp(demand), None, &mut actions),
            (KindState::Job(job), Kind::Job(_)) => job.evaluate(&mut actions),
            (KindState::Connector(c), Kind::Connector(cs)) => {
                let add = c.evaluate(cs, demand).add;
                if add > 0 {
                    let got = self.alloc.connect(w.subnet, add);
                    self.counts.starts += u64::from(got);
                    c.added(got);
                    self.rec.connected(wl, w.subnet, got);
                }
                let saturated = c.saturated(cs, demand);
                let carried = c.capacity_mbps(cs);
                self.rec
                    .connector_demand(self.now, wl, [demand, carried], saturated);
            }
            // A workload's state is built from its kind, so the kinds always match.
            (KindState::Job(_) | KindState::Connector(_), _) => {}
        }
        self.apply(wl, &mut actions);
        self.actions = actions;
        self.check_deploy(wl);
    }

    // ----- owners and units -----

    /// The blocks reserved at time 0: each to its workload's owner (the one its first start
    /// would use under the block scope), or to one "existing Cloud Run" owner per subnet that
    /// no workload is, so that nothing ever frees them.
    fn prereserve(&mut self, layouts: &[SubnetLayout]) {
        for (subnet, l) in layouts.iter().enumerate() {
            let subnet = subnet as u32;
            let mut existing = NONE;
            for &(b, wl) in &l.reserved {
                let owner = match wl {
                    Some(wl) => self.owner_of(wl as u32, 0),
                    None => {
                        if existing == NONE {
                            existing = self.alloc.add_owner(subnet, NONE);
                        }
                        existing
                    }
                };
                self.alloc.prereserve(subnet, owner, b);
                self.reserved(subnet, owner, b);
            }
        }
    }

    fn new_owner(&mut self, wl: u32) -> u32 {
        if self.params.block_scope != BlockScope::Revision {
            return NONE;
        }
        self.alloc.add_owner(self.wls[wl as usize].subnet, wl)
    }

    fn owner_of(&self, wl: u32, unit_idx: u32) -> u32 {
        let w = &self.wls[wl as usize];
        match self.params.block_scope {
            BlockScope::Service => w.owner,
            BlockScope::Subnet => self.alloc.subnet_owner(w.subnet),
            BlockScope::Revision => match &w.state {
                KindState::Scaled(s) => s.revision(unit_idx).owner,
                KindState::Job(j) => j.exec(unit_idx).owner,
                KindState::Connector(_) => w.owner,
            },
        }
    }

    fn unit(&self, wl: u32, unit_idx: u32) -> Unit {
        match &self.wls[wl as usize].state {
            KindState::Scaled(s) => Unit::Revision(s.revision(unit_idx).number),
            KindState::Job(_) | KindState::Connector(_) => Unit::Execution(unit_idx + 1),
        }
    }
}

/// Validates and runs `input` in one call.
pub fn simulate(input: &SimInput) -> Result<Output, Vec<InputError>> {
    Ok(Simulation::new(input)?.run())
}
