//! What a run produces: step functions, an event log and summary figures.
//!
//! Step functions record changes only: a row at time t holds the state after every event of
//! millisecond t, and it holds until the next row. Peaks and minima are taken over rows.

use crate::input::WorkloadKind;

/// The Cloud Run error text for an exhausted subnet.
pub fn exhaustion_message(subnet: &str) -> String {
    format!(
        "Instance failed to start because of insufficient free IP addresses in the subnetwork {subnet}"
    )
}

/// The state of one subnet from `time_ms` until the next row.
///
/// `static + in_use + retained + reserved_idle + unreserved = usable` in every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubnetRow {
    /// Start of this state.
    pub time_ms: u64,
    /// Addresses held by running instances and tasks.
    pub in_use: u32,
    /// Addresses of stopped instances and tasks, not yet free.
    pub retained: u32,
    /// Free addresses inside reserved blocks.
    pub reserved_idle: u32,
    /// Usable addresses outside reserved blocks and not static.
    pub unreserved: u32,
    /// Reserved blocks.
    pub reserved_blocks: u32,
    /// Reservable blocks no owner holds.
    pub free_blocks: u32,
    /// Addresses in free blocks: what a new owner could get.
    pub free: u32,
    /// Addresses of connector VMs (counted in `in_use`, outside any block).
    pub connector: u32,
}

impl SubnetRow {
    /// `in_use + retained`.
    pub fn held(&self) -> u32 {
        self.in_use + self.retained
    }
    /// Addresses inside reserved blocks.
    pub fn reserved(&self) -> u32 {
        self.in_use - self.connector + self.retained + self.reserved_idle
    }
}

/// The state of one workload from `time_ms` until the next row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkloadRow {
    /// Start of this state.
    pub time_ms: u64,
    /// Addresses held by its running instances or tasks.
    pub in_use: u32,
    /// Addresses of its stopped instances or tasks, not yet free.
    pub retained: u32,
    /// Blocks its owners hold (0 under subnet scope).
    pub reserved_blocks: u32,
    /// Running instances or tasks.
    pub running: u32,
    /// Start requests not yet started (including those retrying).
    pub pending: u32,
    /// A connector's throughput demand in Mbps (0 for other kinds).
    pub demand_mbps: u32,
    /// What a connector's running instances carry in Mbps: what saturates (0 for other kinds).
    pub capacity_mbps: u32,
}

impl WorkloadRow {
    /// `in_use + retained`.
    pub fn held(&self) -> u32 {
        self.in_use + self.retained
    }
}

/// Which revision or execution a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    /// Revision number, 1 for the first.
    Revision(u32),
    /// Job execution number, 1 for the first.
    Execution(u32),
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unit::Revision(n) => write!(f, "revision {n}"),
            Unit::Execution(n) => write!(f, "execution {n}"),
        }
    }
}

/// A failed start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExhaustionEvent {
    /// When.
    pub time_ms: u64,
    /// Subnet index.
    pub subnet: usize,
    /// Workload index.
    pub workload: usize,
    /// Revision or execution.
    pub unit: Unit,
    /// Its desired count (a job: running plus pending tasks).
    pub desired: u32,
    /// Its running count.
    pub running: u32,
    /// Free addresses in the owner's blocks.
    pub owner_free: u32,
    /// Free blocks of the subnet.
    pub free_blocks: u32,
    /// Blocks the owner holds.
    pub owner_blocks: u32,
    /// Owners holding at least one block of the subnet.
    pub owners: u32,
    /// Free addresses inside the subnet's reserved blocks (the owner's included).
    pub idle: u32,
    /// The Cloud Run message.
    pub message: String,
}

/// A time during which a workload had starts it could not make (or, for a saturation window,
/// a connector had more throughput to carry than its maximum instances can).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureWindow {
    /// Workload index.
    pub workload: usize,
    /// First failed attempt.
    pub start_ms: u64,
    /// When nothing of the workload was pending any more; the duration if `open`.
    pub end_ms: u64,
    /// Still open when the run ended.
    pub open: bool,
}

/// A swap whose new revision failed to start an instance during its rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeployFailure {
    /// The first failed start.
    pub time_ms: u64,
    /// Workload index.
    pub workload: usize,
    /// The new revision.
    pub revision: u32,
    /// When the swap happened.
    pub swap_ms: u64,
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    /// An owner reserved a block.
    Reserve {
        /// When.
        time_ms: u64,
        /// Subnet index.
        subnet: usize,
        /// First address of the block.
        block_addr: u32,
        /// Owning workload (`None`: the subnet pool).
        workload: Option<usize>,
    },
    /// A block went back to the subnet.
    Release {
        /// When.
        time_ms: u64,
        /// Subnet index.
        subnet: usize,
        /// First address of the block.
        block_addr: u32,
    },
    /// An instance or task started.
    Start {
        /// When.
        time_ms: u64,
        /// Workload index.
        workload: usize,
        /// Revision or execution.
        unit: Unit,
        /// Its addresses.
        addrs: Vec<u32>,
    },
    /// An instance or task stopped; its addresses are retained.
    Stop {
        /// When.
        time_ms: u64,
        /// Workload index.
        workload: usize,
        /// Revision or execution.
        unit: Unit,
        /// Its addresses.
        addrs: Vec<u32>,
        /// How long they stay retained.
        retention_ms: u64,
    },
    /// Retained addresses became free.
    Expire {
        /// When.
        time_ms: u64,
        /// Workload index.
        workload: usize,
        /// The addresses.
        addrs: Vec<u32>,
    },
    /// A start failed.
    Exhaustion(ExhaustionEvent),
    /// A job task failed all its attempts and gave up.
    TaskFailed {
        /// When.
        time_ms: u64,
        /// Workload index.
        workload: usize,
        /// Execution.
        unit: Unit,
    },
}

impl LogEvent {
    /// When it happened.
    pub fn time_ms(&self) -> u64 {
        match self {
            LogEvent::Reserve { time_ms, .. }
            | LogEvent::Release { time_ms, .. }
            | LogEvent::Start { time_ms, .. }
            | LogEvent::Stop { time_ms, .. }
            | LogEvent::Expire { time_ms, .. }
            | LogEvent::TaskFailed { time_ms, .. } => *time_ms,
            LogEvent::Exhaustion(e) => e.time_ms,
        }
    }
}

/// Figures for a run, a subnet or a group of subnets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// Most addresses held (in use + retained) at once.
    pub peak_held: u64,
    /// Most addresses inside reserved blocks at once.
    pub peak_reserved: u64,
    /// Most reserved blocks at once.
    pub peak_reserved_blocks: u64,
    /// Fewest addresses in free blocks at once.
    pub min_free: u64,
    /// Fewest free blocks at once.
    pub min_free_blocks: u64,
    /// The first failed start.
    pub first_exhaustion: Option<ExhaustionEvent>,
    /// Failed start attempts.
    pub failed_attempts: u64,
    /// Failure windows of the workloads concerned, by start time.
    pub failure_windows: Vec<FailureWindow>,
    /// Deploy failures of the workloads concerned, by time.
    pub deploy_failures: Vec<DeployFailure>,
    /// Instance-milliseconds between start requests and their outcome.
    pub unmet_instance_ms: u64,
    /// Times a connector's demand was above what its maximum instances carry, by start.
    pub saturation_windows: Vec<FailureWindow>,
}

impl Summary {
    /// `unmet_instance_ms` in seconds.
    pub fn unmet_instance_seconds(&self) -> f64 {
        self.unmet_instance_ms as f64 / 1000.0
    }
}

/// One subnet's layout, step function and figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetOutput {
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
    /// Blocks of the layout.
    pub n_blocks: u32,
    /// Blocks Cloud Run may reserve.
    pub n_reservable_blocks: u32,
    /// Addresses in reservable blocks.
    pub reservable: u32,
    /// Step function, changes only, first row at 0.
    pub rows: Vec<SubnetRow>,
    /// Figures.
    pub summary: Summary,
}

impl SubnetOutput {
    /// The state at `time_ms` (after every event of that millisecond).
    pub fn at(&self, time_ms: u64) -> SubnetRow {
        let i = self.rows.partition_point(|r| r.time_ms <= time_ms);
        self.rows[i.saturating_sub(1)]
    }
}

/// Figures for one workload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkloadSummary {
    /// Most addresses held at once.
    pub peak_held: u32,
    /// Most blocks held at once (`None` under subnet scope).
    pub peak_reserved_blocks: Option<u32>,
    /// Most instances or tasks running at once.
    pub peak_running: u32,
    /// The first failed start.
    pub first_exhaustion: Option<ExhaustionEvent>,
    /// Failed start attempts.
    pub failed_attempts: u64,
    /// Failure windows.
    pub failure_windows: Vec<FailureWindow>,
    /// Deploy failures.
    pub deploy_failures: Vec<DeployFailure>,
    /// Instance-milliseconds between start requests and their outcome.
    pub unmet_instance_ms: u64,
    /// Instances or tasks started.
    pub n_started: u64,
    /// Job tasks that completed.
    pub tasks_completed: u64,
    /// Job tasks that gave up after failing every attempt.
    pub tasks_failed: u64,
    /// Connectors: times the throughput demand was above what `max_instances` carry.
    pub saturation_windows: Vec<FailureWindow>,
    /// Connectors: the most throughput asked for, in Mbps.
    pub peak_demand_mbps: u32,
    /// While a failure window was open: the most starts pending at once (the shortfall)...
    pub peak_short: u32,
    /// ...and the desired count (running + pending) at that moment.
    pub peak_short_desired: u32,
    /// Start requests (instances or tasks) with at least one failed attempt.
    pub requests_failed: u64,
    /// Of those, the ones that started in the end.
    pub started_after_failing: u64,
    /// Jobs: tasks per execution, in execution order (executions with no finished task left
    /// out).
    pub executions: Vec<ExecutionTasks>,
}

/// A job execution's finished tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExecutionTasks {
    /// Execution number, 1 for the first.
    pub execution: u32,
    /// Tasks that completed.
    pub completed: u64,
    /// Tasks that gave up after failing every attempt.
    pub failed: u64,
}

impl WorkloadSummary {
    /// `unmet_instance_ms` in seconds.
    pub fn unmet_instance_seconds(&self) -> f64 {
        self.unmet_instance_ms as f64 / 1000.0
    }
}

/// One workload's step function and figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadOutput {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: WorkloadKind,
    /// Subnet index.
    pub subnet: usize,
    /// Step function (empty unless `RunOptions::record_workload_series`).
    pub rows: Vec<WorkloadRow>,
    /// Figures.
    pub summary: WorkloadSummary,
}

impl WorkloadOutput {
    /// The state at `time_ms`, if rows were recorded.
    pub fn at(&self, time_ms: u64) -> Option<WorkloadRow> {
        let i = self.rows.partition_point(|r| r.time_ms <= time_ms);
        i.checked_sub(1).map(|i| self.rows[i])
    }
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The run covered `[0, duration_ms)`.
    pub duration_ms: u64,
    /// Its seed.
    pub seed: u64,
    /// Per subnet, in input order.
    pub subnets: Vec<SubnetOutput>,
    /// Per workload, in input order.
    pub workloads: Vec<WorkloadOutput>,
    /// Run-wide figures (peaks of sums across subnets at each instant).
    pub summary: Summary,
    /// The event log, in processing order.
    pub log: Vec<LogEvent>,
    /// Log entries beyond `RunOptions::log_limit`, counted but not kept.
    pub log_dropped: u64,
    /// Events processed.
    pub n_events: u64,
    /// Most events waiting in the queue at once (live timers, pending starts, one demand
    /// cursor per workload).
    pub peak_pending_events: usize,
    /// The run ended at the first failed start on the subnet of
    /// `RunOptions::stop_at_first_failed_start`, at `duration_ms`, before its planned end.
    pub stopped_early: bool,
}
