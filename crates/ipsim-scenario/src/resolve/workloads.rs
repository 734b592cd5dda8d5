//! `workloads`: names declared once, the subnet declared, each kind's own fields (a job's
//! executions, a connector's instance range and throughput, a service's swaps before the end
//! of the run and its demand; a field of another kind cannot reach here: reading the file
//! refuses it, see `def::WorkloadDef`), the absurd-value caps on counts and the request rule's ranges.
//! The clamp and the order of swaps and executions are the core's rules.

use std::collections::{BTreeMap, BTreeSet};

use ipsim_core::{JobExecution, Kind, Swap, TaskDurations, WorkloadSpec};
use rand_chacha::ChaCha8Rng;

use super::demand::{Unit, scaled_mut, set_demand};
use super::params::Settings;
use super::traces::{Taker, Traces};
use super::{MAX_INSTANCES, Resolver};
use crate::def::{
    ConnectorDef, DemandDef, ExecutionDef, JobDef, Revisions, ScaledDef, ScenarioDef,
    TaskDurationDef, WorkloadKindDef,
};
use crate::demand::Requests;
use crate::duration::Duration;
use crate::exact::Exact;
use crate::locate::JsonPath;

/// The workloads made so far (declared ones, then those of Azure traces) and their names.
#[derive(Default)]
pub(super) struct Workloads {
    /// The core's workloads, in order.
    pub(super) specs: Vec<WorkloadSpec>,
    /// Every name taken.
    pub(super) names: BTreeSet<String>,
    /// Per job (by index), the execution definition each of its executions comes from.
    pub(super) exec_origin: BTreeMap<usize, Vec<usize>>,
    /// Per workload made from an Azure trace (after the declared ones), the trace's index.
    pub(super) azure_from: Vec<usize>,
}

impl Resolver<'_> {
    /// The declared workloads.
    pub(super) fn workloads(
        &mut self,
        def: &ScenarioDef,
        s: &Settings,
        subnet_idx: &BTreeMap<String, usize>,
        traces: &mut Traces,
        rng: &mut ChaCha8Rng,
    ) -> Workloads {
        let mut out = Workloads::default();
        for (i, w) in def.workloads.iter().enumerate() {
            let p = JsonPath::from("workloads").index(i);
            self.name(&p.key("name"), "workload", &w.name);
            if !out.names.insert(w.name.clone()) {
                self.err(
                    p.key("name"),
                    format!("workload {:?} is declared twice", w.name),
                );
            }
            let subnet = match subnet_idx.get(&w.subnet) {
                Some(&s) => s,
                None if self.gaps.unnamed.contains("subnets") => 0, // perhaps the unread one
                None => {
                    let known: Vec<_> = def.subnets.iter().map(|s| s.name.as_str()).collect();
                    self.err(
                        p.key("subnet"),
                        format!(
                            "subnet {:?} is not declared; declared subnets: {}",
                            w.subnet,
                            known.join(", ")
                        ),
                    );
                    0
                }
            };
            let mut spec = match &w.kind {
                WorkloadKindDef::Service(_) => WorkloadSpec::service(w.name.clone(), subnet),
                WorkloadKindDef::WorkerPool(_) => WorkloadSpec::worker_pool(w.name.clone(), subnet),
                WorkloadKindDef::Job(_) => WorkloadSpec::job(w.name.clone(), subnet),
                WorkloadKindDef::Connector(c) => {
                    let m = c.machine_type.unwrap_or_default();
                    let per = c.throughput_per_instance.unwrap_or(m.mbps());
                    WorkloadSpec::connector(
                        w.name.clone(),
                        subnet,
                        per,
                        c.min_instances.unwrap_or(2),
                        c.max_instances.unwrap_or(10),
                    )
                }
            };
            let (min, max, quota) = match &w.kind {
                WorkloadKindDef::Service(sc) | WorkloadKindDef::WorkerPool(sc) => {
                    (sc.min_instances, sc.max_instances, sc.quota)
                }
                WorkloadKindDef::Job(j) => (None, None, j.quota),
                WorkloadKindDef::Connector(c) => (c.min_instances, c.max_instances, None),
            };
            match &mut spec.kind {
                Kind::Service(sc) | Kind::WorkerPool(sc) => {
                    sc.min_instances = min.unwrap_or(0);
                    sc.max_instances = max;
                    sc.quota = quota;
                }
                Kind::Job(j) => j.quota = quota,
                Kind::Connector(_) => {}
            }
            for (f, v) in [
                ("min_instances", min),
                ("max_instances", max),
                ("quota", quota),
            ] {
                if let Some(v) = v {
                    self.count(&p.key(f), f64::from(v), MAX_INSTANCES, "an instance count");
                }
            }
            match &w.kind {
                WorkloadKindDef::Job(j) => {
                    let origin = self.job(&p, j, &mut spec, s.duration);
                    out.exec_origin.insert(i, origin);
                }
                WorkloadKindDef::Connector(c) => self.connector(&p, c, &mut spec, s, rng),
                WorkloadKindDef::Service(sc) | WorkloadKindDef::WorkerPool(sc) => {
                    let requests = self.requests(&p, sc, s, &def.params.target_utilization);
                    let idle = sc.idle_delay.map_or(0, Duration::ms);
                    if idle > 86_400_000 {
                        self.err(p.key("idle_delay"), "an idle delay over a day is absurd (Cloud Run keeps idle instances up to 15 minutes)");
                    }
                    let cx = ScaledCx {
                        p: &p,
                        index: i,
                        requests: requests.as_ref(),
                        idle,
                    };
                    self.scaled(def, cx, &w.name, sc, &mut spec, s, traces, rng);
                }
            }
            out.specs.push(spec);
        }
        out
    }

    /// The request rule of a workload whose demand is in requests per second.
    fn requests(
        &mut self,
        p: &JsonPath,
        w: &ScaledDef,
        s: &Settings,
        default_target: &Option<f64>,
    ) -> Option<Requests> {
        let r = w.requests.as_ref()?;
        let c = r.concurrency.unwrap_or(s.concurrency);
        let u = r
            .target_utilization
            .unwrap_or(default_target.unwrap_or(0.6));
        if r.latency.ms() == 0 {
            self.err(
                p.key("requests").key("latency"),
                "the latency must be positive",
            );
        }
        if !(1..=1000).contains(&c) {
            self.err(
                p.key("requests").key("concurrency"),
                format!("{c} is not a concurrency from 1 to 1000"),
            );
        }
        if !(u > 0.0 && u <= 1.0) {
            self.err(
                p.key("requests").key("target_utilization"),
                format!("{u} is not a share in (0, 1]"),
            );
        }
        let u = match r.target_utilization {
            Some(u) => self.exact(&p.key("requests").key("target_utilization"), u),
            None => s.target.clone(),
        };
        Some(Requests::new(&Exact::int(r.latency.ms()), c, &u))
    }

    /// A job: its executions. Returns the definition each execution comes from.
    fn job(
        &mut self,
        p: &JsonPath,
        w: &JobDef,
        spec: &mut WorkloadSpec,
        duration: u64,
    ) -> Vec<usize> {
        if w.executions.is_empty() {
            self.err(p.key("executions"), "a job needs at least one execution");
        }
        let (execs, origin) = self.executions(p, &w.executions, duration);
        if let Kind::Job(j) = &mut spec.kind {
            j.executions = execs;
        }
        origin
    }

    /// A connector: 2 to 10 instances carrying some throughput, its demand in Mbps.
    fn connector(
        &mut self,
        p: &JsonPath,
        w: &ConnectorDef,
        spec: &mut WorkloadSpec,
        s: &Settings,
        rng: &mut ChaCha8Rng,
    ) {
        let (lo, hi) = (w.min_instances.unwrap_or(2), w.max_instances.unwrap_or(10));
        if lo < 2 {
            self.err(
                p.key("min_instances"),
                format!("min_instances {lo}: a connector runs at least 2 instances"),
            );
        }
        if hi > 10 {
            self.err(
                p.key("max_instances"),
                format!("max_instances {hi}: a connector runs at most 10 instances"),
            );
        }
        match &w.demand {
            None => self.err(
                p.key("demand"),
                "a connector needs a throughput demand in Mbps",
            ),
            Some(DemandDef::Trace { .. }) => {
                self.err(p.key("demand"), "a connector's throughput comes from a generator (constant, step, surge, diurnal)");
            }
            Some(g) => {
                let noise = w.noise.map(|_| rng);
                let dp = p.key("demand");
                if let Some(pts) = self.generated(&dp, g, Unit::Mbps, s, noise, None, 0) {
                    set_demand(spec, pts);
                }
            }
        }
    }

    /// A service or worker pool: swaps before the end, demand from a generator or a trace.
    #[allow(clippy::too_many_arguments)]
    fn scaled(
        &mut self,
        def: &ScenarioDef,
        cx: ScaledCx<'_>,
        name: &str,
        w: &ScaledDef,
        spec: &mut WorkloadSpec,
        s: &Settings,
        traces: &mut Traces,
        rng: &mut ChaCha8Rng,
    ) {
        let p = cx.p;
        for (j, sw) in w.swaps.iter().enumerate() {
            if sw.at.ms() >= s.duration && s.duration > 0 && !self.gaps.duration {
                self.err(
                    p.key("swaps").index(j).key("at"),
                    format!(
                        "the swap at {} is not before the end of the run ({})",
                        sw.at, def.duration
                    ),
                );
            }
            if let Some(sc) = scaled_mut(spec) {
                sc.swaps.push(Swap {
                    time_ms: sw.at.ms(),
                    rollout_ms: sw.rollout.ms(),
                });
            }
        }
        match &w.demand {
            None => {
                if w.min_instances.unwrap_or(0) == 0 && !self.gaps.covers(&p.key("min_instances")) {
                    self.err(
                        p.key("demand"),
                        "a service or worker pool needs demand (or min_instances)",
                    );
                }
            }
            Some(DemandDef::Trace {
                trace,
                series,
                revisions,
            }) => {
                if w.noise.is_some() {
                    self.err(p.key("noise"), "noise applies to generators, not to traces");
                }
                let taker = Taker {
                    p,
                    index: cx.index,
                    series: series.clone().unwrap_or_else(|| name.to_string()),
                    requests: cx.requests,
                    idle: cx.idle,
                    own_swaps: !w.swaps.is_empty(),
                    observed: *revisions == Some(Revisions::Observed),
                    revisions: revisions.is_some(),
                    min_instances: w.min_instances.unwrap_or(0) > 0,
                };
                self.trace_demand(def, traces, trace, taker, spec, s.duration);
            }
            Some(g) => {
                let unit = if cx.requests.is_some() {
                    Unit::Rps
                } else {
                    Unit::Instances
                };
                let noise = w.noise.map(|_| rng);
                let dp = p.key("demand");
                if let Some(pts) = self.generated(&dp, g, unit, s, noise, cx.requests, cx.idle) {
                    set_demand(spec, pts);
                }
            }
        }
        if w.requests.is_some() && w.demand.is_none() && !self.gaps.covers(&p.key("demand")) {
            self.err(
                p.key("requests"),
                "requests go with demand in requests per second; this workload has no demand",
            );
        }
    }

    /// A job's executions, repeats expanded, in start order, each with the index of the
    /// definition it comes from.
    fn executions(
        &mut self,
        p: &JsonPath,
        defs: &[ExecutionDef],
        duration: u64,
    ) -> (Vec<JobExecution>, Vec<usize>) {
        let mut out = Vec::new();
        for (j, e) in defs.iter().enumerate() {
            let ep = p.key("executions").index(j);
            if e.tasks > 10_000 {
                self.err(
                    ep.key("tasks"),
                    format!(
                        "{} tasks is more than the 10,000 Cloud Run allows per execution",
                        e.tasks
                    ),
                );
            }
            if e.parallelism > e.tasks && e.tasks > 0 {
                self.err(
                    ep.key("parallelism"),
                    format!(
                        "parallelism {} is above the {} tasks",
                        e.parallelism, e.tasks
                    ),
                );
            }
            let durations = match &e.task_duration {
                TaskDurationDef::Fixed(d) => TaskDurations::Fixed(d.ms()),
                TaskDurationDef::PerTask(v) => {
                    TaskDurations::PerTask(v.iter().map(|d| d.ms()).collect())
                }
                TaskDurationDef::Uniform { min, max } => TaskDurations::Uniform {
                    min_ms: min.ms(),
                    max_ms: max.ms(),
                },
            };
            if let Some(prev) = defs.get(j.wrapping_sub(1)) {
                if e.start < prev.start {
                    self.err(
                        ep.key("start"),
                        format!(
                            "executions must be in order of start: {} is before {}",
                            e.start, prev.start
                        ),
                    );
                }
            }
            let every = e.repeat_every.map(Duration::ms);
            if every == Some(0) {
                self.err(ep.key("repeat_every"), "repeat_every must be positive");
                continue;
            }
            if e.repeat_count.is_some() && every.is_none() {
                self.err(
                    ep.key("repeat_count"),
                    "repeat_count goes with repeat_every",
                );
            }
            let mut t = e.start.ms();
            let mut n = 0u32;
            loop {
                if t >= duration || e.repeat_count.is_some_and(|c| n >= c) {
                    break;
                }
                out.push((
                    JobExecution {
                        start_ms: t,
                        n_tasks: e.tasks,
                        parallelism: e.parallelism,
                        durations: durations.clone(),
                    },
                    j,
                ));
                n += 1;
                if out.len() > 1_000_000 {
                    self.err(
                        ep.key("repeat_every"),
                        "more than a million executions; use a longer repeat_every",
                    );
                    break;
                }
                match every {
                    Some(d) => t = t.saturating_add(d),
                    None => break,
                }
            }
        }
        out.sort_by_key(|(e, _)| e.start_ms); // stable: a tie keeps definition order
        out.into_iter().unzip()
    }
}

/// Where a service or worker pool stands and what its demand goes through.
struct ScaledCx<'r> {
    p: &'r JsonPath,
    index: usize,
    requests: Option<&'r Requests>,
    idle: u64,
}
