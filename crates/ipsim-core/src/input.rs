//! The resolved input to a run: subnets, workloads and their demand, parameters and seed.
//!
//! The scenario crate turns files and generators into this; the core only checks that it is
//! consistent (see [`SimInput::validate`]).

use crate::error::{ExecutionField, InputError, InputPath, ParamField, WorkloadField};
use crate::params::Params;
use crate::subnet::SubnetSpec;

/// What kind of Cloud Run resource a workload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// A service: revisions, swaps, `ips_per_instance` addresses per instance.
    Service,
    /// A worker pool: like a service (revisions, 2 addresses per instance).
    WorkerPool,
    /// A job: executions of tasks, `ips_per_task` addresses per task.
    Job,
    /// A Serverless VPC Access connector: VMs with one address each in a dedicated /28,
    /// scaling out on throughput (its demand, in Mbps) and never in.
    Connector,
}

impl WorkloadKind {
    /// `"service"`, `"worker_pool"` or `"job"`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Service => "service",
            WorkloadKind::WorkerPool => "worker_pool",
            WorkloadKind::Job => "job",
            WorkloadKind::Connector => "connector",
        }
    }
}

/// From `time_ms` on, the workload wants `instances` instances (until the next point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemandPoint {
    /// When the value takes effect.
    pub time_ms: u64,
    /// Desired instances before clamping.
    pub instances: u32,
}

/// A deploy: a new revision that takes the traffic, at once or over a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swap {
    /// When the new revision is created.
    pub time_ms: u64,
    /// 0: 100% at once; else the new revision takes k% at `time + floor(k * rollout / 100)`.
    pub rollout_ms: u64,
}

/// How long job tasks run once started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskDurations {
    /// Every task runs this long.
    Fixed(u64),
    /// Task i runs `durations[i]`; one entry per task. Shared, so that the repeats of an
    /// execution hold one copy of a long list.
    PerTask(std::sync::Arc<[u64]>),
    /// Uniform in `[min_ms, max_ms]`, drawn from the run's RNG when the task starts.
    Uniform {
        /// Shortest run.
        min_ms: u64,
        /// Longest run.
        max_ms: u64,
    },
}

/// One execution of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobExecution {
    /// When the execution starts.
    pub start_ms: u64,
    /// Number of tasks.
    pub n_tasks: u32,
    /// Tasks running at once; 0 means all of them (capped by the quota).
    pub parallelism: u32,
    /// Task run times.
    pub durations: TaskDurations,
}

/// A workload on one subnet: its name, its subnet and what kind of Cloud Run resource it is,
/// with the fields of that kind only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadSpec {
    /// Name used in reports.
    pub name: String,
    /// Index into [`SimInput::subnets`].
    pub subnet: usize,
    /// The kind and its own fields.
    pub kind: Kind,
}

/// A workload's kind with the fields that belong to it: "a job has no demand" cannot be
/// written. Every `match` on it names each kind, so a new kind is a compile error wherever it
/// is not handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A service: revisions, swaps, `ips_per_instance` addresses per instance.
    Service(Scaled),
    /// A worker pool: like a service (revisions, swaps, 2 addresses per instance).
    WorkerPool(Scaled),
    /// A job: executions of tasks, `ips_per_task` addresses per task.
    Job(JobSpec),
    /// A Serverless VPC Access connector: VMs with one address each in a dedicated /28,
    /// scaling out on throughput and never in.
    Connector(ConnectorSpec),
}

/// What services and worker pools have: an instance demand with its clamp, and revision swaps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scaled {
    /// Lower clamp of the demand.
    pub min_instances: u32,
    /// Upper clamp of the demand; `None`: no limit.
    pub max_instances: Option<u32>,
    /// Direct VPC egress instance quota per revision; `None`: no limit.
    pub quota: Option<u32>,
    /// Instance-count step function: strictly increasing times; 0 before the first point.
    pub demand: Vec<DemandPoint>,
    /// Revision swaps, strictly increasing times.
    pub swaps: Vec<Swap>,
    /// Revisions replayed as observed: when not empty, revision `k + 1` wants `observed[k]`
    /// instances over time (a step function, clamped by `max_instances` and `quota`) instead
    /// of a traffic share of `demand`. Revision 1 exists from time 0; each later one is
    /// created at its first point, in order. `demand` and `swaps` are then empty and
    /// `min_instances` is 0.
    pub observed: Vec<Vec<DemandPoint>>,
}

impl Scaled {
    /// The clamp's bounds `[min_instances, min(max_instances, quota)]`: the quota wins.
    pub fn bounds(&self) -> (u32, u32) {
        let hi = self
            .max_instances
            .unwrap_or(u32::MAX)
            .min(self.quota.unwrap_or(u32::MAX));
        (self.min_instances.min(hi), hi)
    }
}

/// The demand clamp: `instances` within the bounds of [`Scaled::bounds`].
pub fn clamp_within((lo, hi): (u32, u32), instances: u32) -> u32 {
    instances.min(hi).max(lo)
}

/// What a job has: executions, and the quota that caps each execution's parallelism.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobSpec {
    /// Direct VPC egress instance quota per execution; `None`: no limit.
    pub quota: Option<u32>,
    /// Executions, non-decreasing start times.
    pub executions: Vec<JobExecution>,
}

/// What a connector has: its throughput demand and the instance range it scales in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorSpec {
    /// Instances it never goes below.
    pub min_instances: u32,
    /// Instances it never goes above (Cloud Run's default is 10).
    pub max_instances: u32,
    /// Throughput one instance carries, in Mbps.
    pub throughput_per_instance_mbps: u32,
    /// Throughput demand in Mbps as a step function: strictly increasing times.
    pub demand: Vec<DemandPoint>,
}

impl Kind {
    /// The kind's tag, as reports name it.
    pub fn tag(&self) -> WorkloadKind {
        match self {
            Kind::Service(_) => WorkloadKind::Service,
            Kind::WorkerPool(_) => WorkloadKind::WorkerPool,
            Kind::Job(_) => WorkloadKind::Job,
            Kind::Connector(_) => WorkloadKind::Connector,
        }
    }

    /// The demand step function of the kinds that have one.
    pub fn demand(&self) -> Option<&[DemandPoint]> {
        match self {
            Kind::Service(s) | Kind::WorkerPool(s) => Some(&s.demand),
            Kind::Connector(c) => Some(&c.demand),
            Kind::Job(_) => None,
        }
    }

    /// The demand step function of the kinds that have one, to set.
    pub fn demand_mut(&mut self) -> Option<&mut Vec<DemandPoint>> {
        match self {
            Kind::Service(s) | Kind::WorkerPool(s) => Some(&mut s.demand),
            Kind::Connector(c) => Some(&mut c.demand),
            Kind::Job(_) => None,
        }
    }
}

impl WorkloadSpec {
    /// A workload of this kind.
    pub fn new(name: impl Into<String>, subnet: usize, kind: Kind) -> Self {
        WorkloadSpec {
            name: name.into(),
            subnet,
            kind,
        }
    }

    /// A service on `subnet` with no demand yet.
    pub fn service(name: impl Into<String>, subnet: usize) -> Self {
        WorkloadSpec::new(name, subnet, Kind::Service(Scaled::default()))
    }

    /// A worker pool on `subnet` with no demand yet.
    pub fn worker_pool(name: impl Into<String>, subnet: usize) -> Self {
        WorkloadSpec::new(name, subnet, Kind::WorkerPool(Scaled::default()))
    }

    /// A job on `subnet` with no executions yet.
    pub fn job(name: impl Into<String>, subnet: usize) -> Self {
        WorkloadSpec::new(name, subnet, Kind::Job(JobSpec::default()))
    }

    /// A connector on `subnet` (its dedicated /28) whose instances carry `mbps` each, between
    /// `min` and `max` instances; its demand points are throughput in Mbps.
    pub fn connector(
        name: impl Into<String>,
        subnet: usize,
        mbps: u32,
        min: u32,
        max: u32,
    ) -> Self {
        WorkloadSpec::new(
            name,
            subnet,
            Kind::Connector(ConnectorSpec {
                min_instances: min,
                max_instances: max,
                throughput_per_instance_mbps: mbps,
                demand: Vec::new(),
            }),
        )
    }

    /// The kind's tag.
    pub fn tag(&self) -> WorkloadKind {
        self.kind.tag()
    }

    /// Appends a demand point (builder style). A job has no demand: on a job this does
    /// nothing.
    pub fn at(mut self, time_ms: u64, instances: u32) -> Self {
        if let Some(d) = self.kind.demand_mut() {
            d.push(DemandPoint { time_ms, instances });
        }
        self
    }

    /// Appends a swap (builder style); only services and worker pools have revisions, so on
    /// another kind this does nothing.
    pub fn swap(mut self, time_ms: u64, rollout_ms: u64) -> Self {
        if let Kind::Service(s) | Kind::WorkerPool(s) = &mut self.kind {
            s.swaps.push(Swap {
                time_ms,
                rollout_ms,
            });
        }
        self
    }

    /// Appends a job execution (builder style); on another kind this does nothing.
    pub fn execution(mut self, exec: JobExecution) -> Self {
        if let Kind::Job(j) = &mut self.kind {
            j.executions.push(exec);
        }
        self
    }

    /// Sets the clamp of a service or worker pool, or the quota of a job (builder style).
    pub fn limits(mut self, min: u32, max: Option<u32>, quota: Option<u32>) -> Self {
        match &mut self.kind {
            Kind::Service(s) | Kind::WorkerPool(s) => {
                s.min_instances = min;
                s.max_instances = max;
                s.quota = quota;
            }
            Kind::Job(j) => j.quota = quota,
            Kind::Connector(c) => {
                c.min_instances = min;
                if let Some(max) = max {
                    c.max_instances = max;
                }
            }
        }
        self
    }
}

/// What to record besides the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// Keep every subnet's step function in the output (a [`crate::RowSink`] gets the rows
    /// either way).
    pub record_subnet_series: bool,
    /// Keep every workload's step function (held addresses, blocks, running, pending).
    pub record_workload_series: bool,
    /// Log reservations, releases, starts, stops and expiries, not only failures.
    pub log_lifecycle: bool,
    /// Most log entries kept; the rest are counted in `Output::log_dropped`.
    pub log_limit: usize,
    /// Retry pending starts in groups (the default): the same outcome as retrying each on its
    /// own, at a cost that follows state changes. Off only to check exactly that.
    #[doc(hidden)]
    pub group_retries: bool,
    /// End the run at the first failed start on this subnet (an index into
    /// [`SimInput::subnets`]; one with no subnet never ends it): a study that only asks
    /// whether a subnet survives learns it from the first failure on. The output then says
    /// [`crate::Output::stopped_early`] and covers the run up to that millisecond.
    pub stop_at_first_failed_start: Option<usize>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            record_subnet_series: true,
            record_workload_series: true,
            log_lifecycle: false,
            log_limit: 100_000,
            group_retries: true,
            stop_at_first_failed_start: None,
        }
    }
}

/// Everything a run needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimInput {
    /// Model parameters.
    pub params: Params,
    /// Subnets.
    pub subnets: Vec<SubnetSpec>,
    /// Workloads, in declaration order (which breaks ties between them).
    pub workloads: Vec<WorkloadSpec>,
    /// The run covers `[0, duration_ms)`.
    pub duration_ms: u64,
    /// Seed of the run's RNG.
    pub seed: u64,
    /// Recording options.
    pub options: RunOptions,
}

impl SimInput {
    /// An input with default parameters and options.
    pub fn new(subnets: Vec<SubnetSpec>, workloads: Vec<WorkloadSpec>, duration_ms: u64) -> Self {
        SimInput {
            params: Params::default(),
            subnets,
            workloads,
            duration_ms,
            seed: 0,
            options: RunOptions::default(),
        }
    }

    /// Every problem with the input, at once. Subnet layouts are checked by
    /// [`crate::Simulation::new`], which calls this first.
    pub fn validate(&self) -> Result<(), Vec<InputError>> {
        let mut errs = Vec::new();
        let p = &self.params;
        if self.duration_ms == 0 {
            errs.push(InputError::new(
                InputPath::Duration,
                "the duration must be positive",
            ));
        }
        if !(4..=64).contains(&p.block_size) || !p.block_size.is_power_of_two() {
            errs.push(InputError::new(
                InputPath::Param(ParamField::BlockSize),
                format!(
                    "{} is not a power of two from 4 to 64 (16 is a /28)",
                    p.block_size
                ),
            ));
        }
        if p.ips_per_instance == 0 {
            errs.push(InputError::new(
                InputPath::Param(ParamField::IpsPerInstance),
                "must be at least 1 (default 2)",
            ));
        }
        if p.ips_per_task == 0 {
            errs.push(InputError::new(
                InputPath::Param(ParamField::IpsPerTask),
                "must be at least 1 (default 1)",
            ));
        }
        if p.retry_interval_ms == 0 {
            errs.push(InputError::new(
                InputPath::Param(ParamField::RetryIntervalMs),
                "must be positive (default 10 s), or retries would never let time advance",
            ));
        }
        if self.subnets.is_empty() {
            errs.push(InputError::new(
                InputPath::Subnets,
                "at least one subnet is needed",
            ));
        }
        for (i, w) in self.workloads.iter().enumerate() {
            let at = |field| InputPath::Workload { workload: i, field };
            if w.subnet >= self.subnets.len() {
                errs.push(InputError::new(
                    at(WorkloadField::Subnet),
                    format!(
                        "subnet index {} does not exist ({} declared)",
                        w.subnet,
                        self.subnets.len()
                    ),
                ));
            }
            match &w.kind {
                Kind::Service(s) | Kind::WorkerPool(s) => {
                    if let Some(max) = s.max_instances {
                        if s.min_instances > max {
                            errs.push(InputError::new(
                                at(WorkloadField::MinInstances),
                                format!(
                                    "min_instances {} is above max_instances {max}",
                                    s.min_instances
                                ),
                            ));
                        }
                    }
                    check_increasing(&s.demand, i, &mut errs);
                    check_observed(s, i, &mut errs);
                    for (j, pair) in s.swaps.windows(2).enumerate() {
                        if pair[1].time_ms <= pair[0].time_ms {
                            errs.push(InputError::new(
                                InputPath::Swap {
                                    workload: i,
                                    index: j + 1,
                                },
                                format!(
                                    "swap at {} ms is not after the previous one at {} ms",
                                    pair[1].time_ms, pair[0].time_ms
                                ),
                            ));
                        }
                    }
                }
                Kind::Job(job) => check_executions(job, i, &mut errs),
                Kind::Connector(c) => {
                    if c.throughput_per_instance_mbps == 0 {
                        errs.push(InputError::new(
                            at(WorkloadField::ThroughputPerInstanceMbps),
                            "a connector instance must carry some throughput",
                        ));
                    }
                    if c.min_instances > c.max_instances || c.max_instances == 0 {
                        errs.push(InputError::new(
                            at(WorkloadField::MaxInstances),
                            format!(
                                "max_instances {} must be at least 1 and at least min_instances {}",
                                c.max_instances, c.min_instances
                            ),
                        ));
                    }
                    check_increasing(&c.demand, i, &mut errs);
                }
            }
        }
        self.check_holders(&mut errs);
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// A block reserved at time 0 for a workload goes to a service or worker pool on its
    /// subnet (a job's blocks are its executions', which do not exist yet).
    fn check_holders(&self, errs: &mut Vec<InputError>) {
        for (subnet, s) in self.subnets.iter().enumerate() {
            for (index, r) in s.reserved.iter().enumerate() {
                let Some(wl) = r.workload else { continue };
                let at = InputPath::Reserved { subnet, index };
                let message = match self.workloads.get(wl) {
                    None => format!(
                        "workload index {wl} does not exist ({} declared)",
                        self.workloads.len()
                    ),
                    Some(w) if w.subnet != subnet => format!(
                        "workload {:?} is not on subnet {:?}, so it cannot hold its block",
                        w.name, s.name
                    ),
                    Some(w) if !matches!(w.kind, Kind::Service(_) | Kind::WorkerPool(_)) => {
                        format!(
                            "workload {:?} is not a service or worker pool: only they can hold \
                             a block from time 0",
                            w.name
                        )
                    }
                    Some(_) => continue,
                };
                errs.push(InputError::new(at, message));
            }
        }
    }
}

/// Demand points must come in strictly increasing time.
fn check_increasing(demand: &[DemandPoint], workload: usize, errs: &mut Vec<InputError>) {
    for (j, pair) in demand.windows(2).enumerate() {
        if pair[1].time_ms <= pair[0].time_ms {
            let what = if pair[1].time_ms == pair[0].time_ms {
                "repeats"
            } else {
                "goes back from"
            };
            errs.push(InputError::new(
                InputPath::DemandPoint {
                    workload,
                    index: j + 1,
                },
                format!(
                    "time {} ms {what} the previous point's {} ms; times must increase",
                    pair[1].time_ms, pair[0].time_ms
                ),
            ));
        }
    }
}

/// Observed revisions replace demand, swaps and `min_instances`; each has its points in
/// increasing time, each later one at least one point, created in order.
fn check_observed(s: &Scaled, workload: usize, errs: &mut Vec<InputError>) {
    if s.observed.is_empty() {
        return;
    }
    let at = |revision: usize, index: usize| InputPath::Observed {
        workload,
        revision,
        index,
    };
    if !s.demand.is_empty() || !s.swaps.is_empty() || s.min_instances > 0 {
        errs.push(InputError::new(
            at(0, 0),
            "observed revisions replace demand, swaps and min_instances: leave those empty",
        ));
    }
    let mut created = 0;
    for (r, d) in s.observed.iter().enumerate() {
        for (j, pair) in d.windows(2).enumerate() {
            if pair[1].time_ms <= pair[0].time_ms {
                errs.push(InputError::new(
                    at(r, j + 1),
                    format!(
                        "time {} ms is not after the previous point's {} ms; times must increase",
                        pair[1].time_ms, pair[0].time_ms
                    ),
                ));
            }
        }
        if r == 0 {
            continue;
        }
        match d.first() {
            None => errs.push(InputError::new(
                at(r, 0),
                "a later observed revision needs a point: it is created at its first one",
            )),
            Some(p) if p.time_ms < created => errs.push(InputError::new(
                at(r, 0),
                format!(
                    "revision {} is created at {} ms, before revision {} at {created} ms: revisions come in order of creation",
                    r + 1,
                    p.time_ms,
                    r
                ),
            )),
            Some(p) => created = p.time_ms,
        }
    }
}

/// Executions in start order, with one duration per task or a sound range.
fn check_executions(job: &JobSpec, workload: usize, errs: &mut Vec<InputError>) {
    let at = |index, field| InputPath::Execution {
        workload,
        index,
        field,
    };
    for (j, pair) in job.executions.windows(2).enumerate() {
        if pair[1].start_ms < pair[0].start_ms {
            errs.push(InputError::new(
                at(j + 1, ExecutionField::StartMs),
                "executions must be in order of start time",
            ));
        }
    }
    for (j, e) in job.executions.iter().enumerate() {
        match &e.durations {
            TaskDurations::PerTask(d) if d.len() != e.n_tasks as usize => {
                errs.push(InputError::new(
                    at(j, ExecutionField::Durations),
                    format!(
                        "{} durations given for {} tasks; give one per task",
                        d.len(),
                        e.n_tasks
                    ),
                ));
            }
            TaskDurations::Uniform { min_ms, max_ms } if min_ms > max_ms => {
                errs.push(InputError::new(
                    at(j, ExecutionField::Durations),
                    format!("min {min_ms} ms is above max {max_ms} ms"),
                ));
            }
            _ => {}
        }
    }
}
