//! The resolved input to a run: subnets, workloads and their demand, parameters and seed.
//!
//! The scenario crate turns files and generators into this; the core only checks that it is
//! consistent (see [`SimInput::validate`]).

use crate::error::InputError;
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
    /// Task i runs `durations[i]`; one entry per task.
    PerTask(Vec<u64>),
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

/// A service, worker pool or job on one subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadSpec {
    /// Name used in reports.
    pub name: String,
    /// Service, worker pool or job.
    pub kind: WorkloadKind,
    /// Index into [`SimInput::subnets`].
    pub subnet: usize,
    /// Lower clamp of the demand (services and worker pools).
    pub min_instances: u32,
    /// Upper clamp of the demand (services and worker pools); `None`: no limit.
    pub max_instances: Option<u32>,
    /// Direct VPC egress instance quota per revision or job execution; `None`: no limit.
    pub quota: Option<u32>,
    /// Instance-count step function (services and worker pools): strictly increasing times;
    /// 0 before the first point.
    pub demand: Vec<DemandPoint>,
    /// Revision swaps (services and worker pools), strictly increasing times.
    pub swaps: Vec<Swap>,
    /// Executions (jobs), non-decreasing start times.
    pub executions: Vec<JobExecution>,
    /// Throughput one connector instance carries, in Mbps (connectors only; their demand is
    /// throughput in Mbps, their instances between `min_instances` and `max_instances`).
    pub throughput_per_instance_mbps: u32,
}

impl WorkloadSpec {
    /// A service on `subnet` with no demand yet.
    pub fn service(name: impl Into<String>, subnet: usize) -> Self {
        WorkloadSpec {
            name: name.into(),
            kind: WorkloadKind::Service,
            subnet,
            min_instances: 0,
            max_instances: None,
            quota: None,
            demand: Vec::new(),
            swaps: Vec::new(),
            executions: Vec::new(),
            throughput_per_instance_mbps: 0,
        }
    }

    /// A worker pool on `subnet` with no demand yet.
    pub fn worker_pool(name: impl Into<String>, subnet: usize) -> Self {
        WorkloadSpec {
            kind: WorkloadKind::WorkerPool,
            ..WorkloadSpec::service(name, subnet)
        }
    }

    /// A job on `subnet` with no executions yet.
    pub fn job(name: impl Into<String>, subnet: usize) -> Self {
        WorkloadSpec {
            kind: WorkloadKind::Job,
            ..WorkloadSpec::service(name, subnet)
        }
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
        WorkloadSpec {
            kind: WorkloadKind::Connector,
            min_instances: min,
            max_instances: Some(max),
            throughput_per_instance_mbps: mbps,
            ..WorkloadSpec::service(name, subnet)
        }
    }

    /// Appends a demand point (builder style).
    pub fn at(mut self, time_ms: u64, instances: u32) -> Self {
        self.demand.push(DemandPoint { time_ms, instances });
        self
    }

    /// Appends a swap (builder style).
    pub fn swap(mut self, time_ms: u64, rollout_ms: u64) -> Self {
        self.swaps.push(Swap {
            time_ms,
            rollout_ms,
        });
        self
    }

    /// Appends a job execution (builder style).
    pub fn execution(mut self, exec: JobExecution) -> Self {
        self.executions.push(exec);
        self
    }

    /// The demand clamp: `[min_instances, min(max_instances, quota)]`.
    pub fn clamp(&self, instances: u32) -> u32 {
        let hi = self
            .max_instances
            .unwrap_or(u32::MAX)
            .min(self.quota.unwrap_or(u32::MAX));
        instances.min(hi).max(self.min_instances.min(hi))
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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            record_subnet_series: true,
            record_workload_series: true,
            log_lifecycle: false,
            log_limit: 100_000,
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
                "duration_ms",
                "the duration must be positive",
            ));
        }
        if !(4..=64).contains(&p.block_size) || !p.block_size.is_power_of_two() {
            errs.push(InputError::new(
                "params.block_size",
                format!(
                    "{} is not a power of two from 4 to 64 (16 is a /28)",
                    p.block_size
                ),
            ));
        }
        if p.ips_per_instance == 0 {
            errs.push(InputError::new(
                "params.ips_per_instance",
                "must be at least 1 (default 2)",
            ));
        }
        if p.ips_per_task == 0 {
            errs.push(InputError::new(
                "params.ips_per_task",
                "must be at least 1 (default 1)",
            ));
        }
        if p.retry_interval_ms == 0 {
            errs.push(InputError::new(
                "params.retry_interval_ms",
                "must be positive (default 10 s), or retries would never let time advance",
            ));
        }
        if self.subnets.is_empty() {
            errs.push(InputError::new("subnets", "at least one subnet is needed"));
        }
        for (i, w) in self.workloads.iter().enumerate() {
            let path = format!("workloads[{i}]");
            if w.subnet >= self.subnets.len() {
                errs.push(InputError::new(
                    format!("{path}.subnet"),
                    format!(
                        "subnet index {} does not exist ({} declared)",
                        w.subnet,
                        self.subnets.len()
                    ),
                ));
            }
            if let Some(max) = w.max_instances {
                if w.min_instances > max {
                    errs.push(InputError::new(
                        format!("{path}.min_instances"),
                        format!(
                            "min_instances {} is above max_instances {max}",
                            w.min_instances
                        ),
                    ));
                }
            }
            for (j, pair) in w.demand.windows(2).enumerate() {
                if pair[1].time_ms <= pair[0].time_ms {
                    let what = if pair[1].time_ms == pair[0].time_ms {
                        "repeats"
                    } else {
                        "goes back from"
                    };
                    errs.push(InputError::new(
                        format!("{path}.demand[{}]", j + 1),
                        format!(
                            "time {} ms {what} the previous point's {} ms; times must increase",
                            pair[1].time_ms, pair[0].time_ms
                        ),
                    ));
                }
            }
            for (j, pair) in w.swaps.windows(2).enumerate() {
                if pair[1].time_ms <= pair[0].time_ms {
                    errs.push(InputError::new(
                        format!("{path}.swaps[{}]", j + 1),
                        format!(
                            "swap at {} ms is not after the previous one at {} ms",
                            pair[1].time_ms, pair[0].time_ms
                        ),
                    ));
                }
            }
            match w.kind {
                WorkloadKind::Job => {
                    if !w.demand.is_empty() {
                        errs.push(InputError::new(
                            format!("{path}.demand"),
                            "a job's demand is its executions, not an instance count",
                        ));
                    }
                    if !w.swaps.is_empty() {
                        errs.push(InputError::new(
                            format!("{path}.swaps"),
                            "jobs have executions, not revision swaps",
                        ));
                    }
                    for (j, pair) in w.executions.windows(2).enumerate() {
                        if pair[1].start_ms < pair[0].start_ms {
                            errs.push(InputError::new(
                                format!("{path}.executions[{}].start_ms", j + 1),
                                "executions must be in order of start time",
                            ));
                        }
                    }
                    for (j, e) in w.executions.iter().enumerate() {
                        let ep = format!("{path}.executions[{j}]");
                        match &e.durations {
                            TaskDurations::PerTask(d) if d.len() != e.n_tasks as usize => {
                                errs.push(InputError::new(
                                    format!("{ep}.durations"),
                                    format!(
                                        "{} durations given for {} tasks; give one per task",
                                        d.len(),
                                        e.n_tasks
                                    ),
                                ));
                            }
                            TaskDurations::Uniform { min_ms, max_ms } if min_ms > max_ms => {
                                errs.push(InputError::new(
                                    format!("{ep}.durations"),
                                    format!("min {min_ms} ms is above max {max_ms} ms"),
                                ));
                            }
                            _ => {}
                        }
                    }
                }
                WorkloadKind::Connector => {
                    if w.throughput_per_instance_mbps == 0 {
                        errs.push(InputError::new(
                            format!("{path}.throughput_per_instance_mbps"),
                            "a connector instance must carry some throughput",
                        ));
                    }
                    let max = w.max_instances.unwrap_or(10);
                    if w.min_instances > max || max == 0 {
                        errs.push(InputError::new(format!("{path}.max_instances"), format!("max_instances {max} must be at least 1 and at least min_instances {}", w.min_instances)));
                    }
                    if !w.swaps.is_empty() || !w.executions.is_empty() {
                        errs.push(InputError::new(
                            format!("{path}.swaps"),
                            "a connector has no revisions or executions",
                        ));
                    }
                }
                WorkloadKind::Service | WorkloadKind::WorkerPool => {
                    if !w.executions.is_empty() {
                        errs.push(InputError::new(
                            format!("{path}.executions"),
                            "only jobs have executions",
                        ));
                    }
                }
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}
