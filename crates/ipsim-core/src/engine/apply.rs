//! Applying what happened: requests and their attempts, starts, failures, stops, expiries and
//! releases. Each step asks the allocator for the addresses, tells the workload's kind, and
//! tells the recorder.

use rand::Rng;

use super::retry::NO_SEGMENT;
use super::{InstState, Instance, KindState, Request, Simulation};
use crate::alloc::{Holding, NONE};
use crate::input::{Kind, TaskDurations};
use crate::kinds::Action;
use crate::output::{LogEvent, Output, Unit};
use crate::params::{BlockScope, Retention};
use crate::queue::{Ev, Lane, Retained};
use crate::recorder::RunFacts;

impl Simulation<'_> {
    /// Applies a kind's actions in order.
    pub(super) fn apply(&mut self, wl: u32, actions: &mut Vec<Action>) {
        for a in actions.drain(..) {
            match a {
                Action::Request { unit, task, n } => {
                    for _ in 0..n {
                        let req = self.new_request(wl, unit, task);
                        match &mut self.wls[wl as usize].state {
                            KindState::Scaled(svc) => svc.requested(unit, req),
                            // A job counts its pending tasks as it requests them.
                            KindState::Job(_) => {}
                            KindState::Connector(_) => {}
                        }
                    }
                }
                Action::Cancel { req } => {
                    self.end_request(req);
                    self.rec.check_window(self.now, wl);
                }
                Action::Stop { inst } => self.stop_instance(wl, inst),
            }
        }
    }

    /// Ends the watch of a deploy that is done.
    pub(super) fn check_deploy(&mut self, wl: u32) {
        match &self.wls[wl as usize].state {
            KindState::Scaled(svc) => self
                .rec
                .check_deploy(wl, |number| svc.nothing_pending(number - 1)),
            // Only services and worker pools deploy revisions.
            KindState::Job(_) | KindState::Connector(_) => {}
        }
    }

    // ----- requests -----

    fn new_request(&mut self, wl: u32, unit_idx: u32, task: u32) -> u32 {
        let r = Request {
            workload: wl,
            unit_idx,
            task,
            requested_ms: self.now,
            failed: 0,
            epoch: 0,
            alive: true,
            seg: NO_SEGMENT,
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
        self.rec.requested(wl);
        let epoch = self.requests[id as usize].epoch;
        if self.fusion.on {
            self.fusion.requests.push((id, epoch));
        } else {
            self.queue
                .push_lane(Lane::Now, self.now, Ev::Attempt { req: id, epoch });
        }
        id
    }

    /// Ends a request (started, cancelled or given up) and counts its unmet time.
    fn end_request(&mut self, req: u32) {
        let r = &mut self.requests[req as usize];
        r.alive = false;
        r.epoch = r.epoch.wrapping_add(1);
        let (wl, since, seg) = (r.workload, r.requested_ms, r.seg);
        r.seg = NO_SEGMENT;
        if seg != NO_SEGMENT {
            self.left_segment(seg);
        }
        self.free_requests.push(req);
        self.rec.request_ended(wl, self.now - since);
    }

    // ----- class Start: attempts -----

    pub(super) fn attempt(&mut self, req: u32, epoch: u32) {
        let r = &self.requests[req as usize];
        if !r.alive || r.epoch != epoch {
            return;
        }
        if !self.start_request(req) {
            self.failed_one(req);
        }
    }

    /// Tries to start pending request `req`: true if it started; false, with nothing
    /// changed but the memo of failures, if its owner cannot get the addresses.
    pub(super) fn start_request(&mut self, req: u32) -> bool {
        let r = &self.requests[req as usize];
        let (wl, unit_idx, task) = (r.workload, r.unit_idx, r.task);
        let owner = self.owner_of(wl, unit_idx);
        let (subnet, k) = {
            let w = &self.wls[wl as usize];
            (w.subnet, w.ips)
        };
        if self.input.options.group_retries && self.known_to_fail(owner, k) {
            return false;
        }
        let inst = self.free_instances.pop().unwrap_or_else(|| {
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
        });
        let mut reserved = std::mem::take(&mut self.scratch);
        reserved.clear();
        let ok = self.alloc.start(
            subnet,
            owner,
            k,
            &mut self.instances[inst as usize].holding,
            &mut reserved,
        );
        for &b in &reserved {
            self.reserved(subnet, owner, b);
        }
        self.scratch = reserved;
        if ok {
            self.started(req, inst, owner, subnet, k, task);
        } else {
            self.free_instances.push(inst);
            self.note_failure(owner, k);
        }
        ok
    }

    pub(super) fn reserved(&mut self, subnet: u32, owner: u32, b: u32) {
        self.counts.reservations += 1;
        let wl = self.alloc.owner_workload(owner);
        if wl != NONE {
            self.rec.block_reserved(wl);
        }
        if self.rec.lifecycle() {
            let time_ms = self.now;
            let block_addr =
                self.input.subnets[subnet as usize].base + self.alloc.block_offset(subnet, b);
            let workload = (wl != NONE).then_some(wl as usize);
            self.rec.log(|| LogEvent::Reserve {
                time_ms,
                subnet: subnet as usize,
                block_addr,
                workload,
            });
        }
        self.touch_subnet(subnet);
    }

    fn started(&mut self, req: u32, inst: u32, owner: u32, subnet: u32, k: u32, task: u32) {
        self.counts.starts += 1;
        let r = &self.requests[req as usize];
        let (wl, unit_idx) = (r.workload, r.unit_idx);
        if r.failed > 0 {
            self.rec.request_failed(wl, true);
        }
        {
            let i = &mut self.instances[inst as usize];
            i.workload = wl;
            i.owner = owner;
            i.unit_idx = unit_idx;
            i.n_addrs = k;
            i.state = InstState::Running;
        }
        self.end_request(req);
        self.rec.started(wl, k);
        let spec = &self.input.workloads[wl as usize].kind;
        match (&mut self.wls[wl as usize].state, spec) {
            // A service's start reads its own state only, not the input's record.
            (KindState::Scaled(svc), _) => svc.started(unit_idx, req, inst),
            (KindState::Job(job), Kind::Job(j)) => {
                job.started(unit_idx);
                let dur = match &j.executions[unit_idx as usize].durations {
                    TaskDurations::Fixed(d) => *d,
                    TaskDurations::PerTask(v) => v.get(task as usize).copied().unwrap_or(0),
                    TaskDurations::Uniform { min_ms, max_ms } => {
                        self.rng.random_range(*min_ms..=*max_ms)
                    }
                };
                let epoch = self.instances[inst as usize].epoch;
                self.queue
                    .push(self.now.saturating_add(dur), Ev::TaskDone { inst, epoch });
            }
            (KindState::Job(_) | KindState::Connector(_), _) => {}
        }
        self.touch_subnet(subnet);
        if self.rec.lifecycle() {
            let addrs = self.addrs(subnet, &self.instances[inst as usize].holding);
            let (time_ms, unit) = (self.now, self.unit(wl, unit_idx));
            self.rec.log(|| LogEvent::Start {
                time_ms,
                workload: wl as usize,
                unit,
                addrs,
            });
        }
        self.rec.check_window(self.now, wl);
        self.check_deploy(wl);
    }

    /// A first attempt failed.
    fn failed_one(&mut self, req: u32) {
        let r = &mut self.requests[req as usize];
        r.failed += 1;
        let (fails, wl) = (r.failed, r.workload);
        if fails == 1 {
            self.rec.request_failed(wl, false);
        }
        self.failed_alone(req, fails);
    }

    /// Attempt `fails` of request `req` failed on its own: recorded, then the request gives
    /// up (a job task out of retries) or retries with its group.
    pub(super) fn failed_alone(&mut self, req: u32, fails: u32) {
        let now = self.now;
        let r = &self.requests[req as usize];
        let (wl, unit_idx) = (r.workload, r.unit_idx);
        let owner = self.owner_of(wl, unit_idx);
        let failure = self.failure(wl, unit_idx, owner);
        self.rec.failed_start(now, failure);
        // A subnet's first failure is always a first attempt: retries come after one.
        self.stopped |=
            self.input.options.stop_at_first_failed_start == Some(failure.subnet as usize);
        let k = self.wls[wl as usize].ips;
        match &self.wls[wl as usize].state {
            KindState::Job(_) if fails > self.params.max_task_retries => {
                self.give_up(req, wl, unit_idx, failure.unit);
            }
            KindState::Job(_) => self.retry_later(req, owner, k, fails),
            // Services and worker pools retry for as long as their demand lasts.
            KindState::Scaled(_) | KindState::Connector(_) => self.retry_later(req, owner, k, 0),
        }
    }

    /// A job task has failed its last attempt: its slot passes to the next queued task at
    /// once.
    pub(super) fn give_up(&mut self, req: u32, wl: u32, unit_idx: u32, unit: Unit) {
        let now = self.now;
        if let KindState::Job(job) = &mut self.wls[wl as usize].state {
            job.gave_up(unit_idx);
        }
        self.end_request(req);
        self.rec.task_failed(now, wl, unit);
        self.rec.check_window(now, wl);
        let mut actions = std::mem::take(&mut self.actions);
        if let KindState::Job(job) = &mut self.wls[wl as usize].state {
            job.dispatch(unit_idx, &mut actions);
        }
        self.apply(wl, &mut actions);
        self.actions = actions;
    }

    // ----- stops, expiries and releases -----

    /// Instance `inst` of `wl` stops. Nothing that follows waits for the instance's record
    /// (cold by now in a large run): its workload is given, it holds the workload's
    /// addresses per start, and only the addresses it holds are read from it.
    pub(super) fn stop_instance(&mut self, wl: u32, inst: u32) {
        self.counts.stops += 1;
        let w = &self.wls[wl as usize];
        let (subnet, max, n) = (w.subnet, w.retention_ms, w.ips);
        let i = &mut self.instances[inst as usize];
        debug_assert_eq!(
            (i.state, i.workload, i.n_addrs),
            (InstState::Running, wl, n)
        );
        i.state = InstState::Retained;
        let (unit_idx, epoch) = (i.unit_idx, i.epoch);
        let is_job = matches!(w.state, KindState::Job(_));
        self.rec.stopped(wl, n);
        self.alloc.retain(subnet, n);
        let at = |d: u64| self.now.saturating_add(d);
        let retention_ms = match self.params.retention {
            Retention::Fixed => max,
            Retention::Uniform => self.rng.random_range(0..=max),
        };
        self.rec.touch_subnet(subnet);
        if self.rec.lifecycle() {
            let addrs = self.addrs(subnet, &self.instances[inst as usize].holding);
            let (time_ms, unit) = (self.now, self.unit(wl, unit_idx));
            self.rec.log(|| LogEvent::Stop {
                time_ms,
                workload: wl as usize,
                unit,
                addrs,
                retention_ms,
            });
        }
        match self.params.retention {
            // A fixed delay keeps each kind's expiries in time order: a FIFO lane, whose
            // entry carries what the expiry frees, so the instance's record is free at once.
            Retention::Fixed => {
                let lane = if is_job {
                    Lane::TaskExpire
                } else {
                    Lane::ServiceExpire
                };
                let due = at(max);
                let r = self.retire(inst, wl, subnet, n);
                self.queue
                    .push_retained(lane, due, Ev::Expire { inst, epoch }, r);
            }
            Retention::Uniform => {
                let at = at(retention_ms);
                self.queue.push(at, Ev::Expire { inst, epoch });
            }
        }
    }

    /// A retention ends: a fixed one carries what it frees; one drawn at random names its
    /// instance.
    pub(super) fn expire(&mut self, inst: u32, epoch: u32) {
        if let Some(r) = self.queue.take_retained() {
            self.free_retained(&r);
            self.expiries_ahead();
            return;
        }
        let i = &self.instances[inst as usize];
        if i.epoch != epoch || i.state != InstState::Retained {
            return;
        }
        let (wl, n) = (i.workload, i.n_addrs);
        let r = self.retire(inst, wl, self.wls[wl as usize].subnet, n);
        self.free_retained(&r);
    }

    /// Instance `inst` (of `wl` on `subnet`, holding `n` addresses) gives its record back:
    /// what its retention frees, for [`Self::free_retained`].
    fn retire(&mut self, inst: u32, wl: u32, subnet: u32, n: u32) -> Retained {
        let i = &mut self.instances[inst as usize];
        let r = Retained {
            workload: wl,
            owner: i.owner,
            subnet,
            n_addrs: n,
            holding: std::mem::take(&mut i.holding),
        };
        i.state = InstState::Dead;
        i.epoch = i.epoch.wrapping_add(1);
        self.free_instances.push(inst);
        r
    }

    /// A retention ends: its addresses become free, and blocks left wholly free are released
    /// (or start their linger).
    pub(super) fn free_retained(&mut self, r: &Retained) {
        self.counts.expiries += 1;
        let (wl, owner, n, subnet) = (r.workload, r.owner, r.n_addrs, r.subnet);
        if self.rec.lifecycle() {
            let addrs = self.addrs(subnet, &r.holding);
            let time_ms = self.now;
            self.rec.log(|| LogEvent::Expire {
                time_ms,
                workload: wl as usize,
                addrs,
            });
        }
        let mut wholly_free = std::mem::take(&mut self.scratch);
        wholly_free.clear();
        self.alloc
            .expire(subnet, owner, n, &r.holding, &mut wholly_free);
        for &b in &wholly_free {
            let linger = self.params.block_linger_ms;
            if linger == 0 {
                self.release(subnet, b);
            } else {
                let epoch = self.alloc.linger(subnet, b);
                self.queue.push_lane(
                    Lane::Linger,
                    self.now.saturating_add(linger),
                    Ev::LingerEnd {
                        subnet,
                        block: b,
                        epoch,
                    },
                );
            }
        }
        self.scratch = wholly_free;
        self.freed += 1;
        self.rec.expired(wl, n);
        self.rec.touch_subnet(subnet);
    }

    pub(super) fn release(&mut self, subnet: u32, b: u32) {
        self.counts.releases += 1;
        self.freed += 1;
        let wl = self.alloc.release(subnet, b);
        if wl != NONE {
            self.rec.block_released(wl);
        }
        self.rec.touch_subnet(subnet);
        if self.rec.lifecycle() {
            let time_ms = self.now;
            let block_addr =
                self.input.subnets[subnet as usize].base + self.alloc.block_offset(subnet, b);
            self.rec.log(|| LogEvent::Release {
                time_ms,
                subnet: subnet as usize,
                block_addr,
            });
        }
    }

    // ----- class Complete: task completions -----

    pub(super) fn task_done(&mut self, inst: u32, epoch: u32) {
        let i = &self.instances[inst as usize];
        if i.epoch != epoch || i.state != InstState::Running {
            return;
        }
        let (wl, ex) = (i.workload, i.unit_idx);
        self.stop_instance(wl, inst);
        let unit = self.unit(wl, ex);
        self.rec.task_completed(wl, unit);
        let mut actions = std::mem::take(&mut self.actions);
        if let KindState::Job(job) = &mut self.wls[wl as usize].state {
            job.completed(ex);
            job.dispatch(ex, &mut actions);
        }
        self.apply(wl, &mut actions);
        self.actions = actions;
    }

    fn addrs(&self, subnet: u32, holding: &Holding) -> Vec<u32> {
        let base = self.input.subnets[subnet as usize].base;
        self.alloc
            .offsets(subnet, holding)
            .into_iter()
            .map(|o| base + o)
            .collect()
    }

    // ----- the end -----

    pub(super) fn finish(mut self) -> Output {
        let end = if self.stopped {
            self.now
        } else {
            self.input.duration_ms
        };
        self.now = end;
        for r in &self.requests {
            if r.alive {
                self.rec
                    .still_waiting(r.workload, end - r.requested_ms.min(end));
            }
        }
        let facts = RunFacts {
            workloads: &self.input.workloads,
            subnets: &self.input.subnets,
            alloc: &self.alloc,
            blocks_per_workload: self.params.block_scope != BlockScope::Subnet,
            seed: self.input.seed,
            n_events: self.n_events,
            peak_pending: self.peak_pending,
        };
        let mut out = self.rec.finish(end, facts);
        out.stopped_early = self.stopped;
        out
    }
}
