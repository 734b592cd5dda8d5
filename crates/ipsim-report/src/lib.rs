//! ipsim-report turns a run's [`ipsim_core::Output`] into what people read: `report.json`
//! (documented in `docs/report-format.md`), `occupancy.csv`, `workloads.csv`, and a text
//! summary with clock times.
//!
//! # Brief overview
//!
//! - [`Report`] is the serialisable report; [`Report::new`] builds it from an output and the
//!   run's [`Context`] (scenario name, seed, clock time of t = 0, swap and job markers).
//! - [`CsvSink`] writes `occupancy.csv` and `workloads.csv` as the run goes; their columns
//!   are defined once, in [`schema`].
//! - [`Clock`] formats times: RFC 3339 when the scenario has a start, `+HH:MM:SS` otherwise.
//! - [`summary_text`] is the human summary `ipsim run` prints.
//! - [`chart`] draws occupancy charts (PNG or SVG) from a run's saved files, or from the
//!   pixel columns a [`chart::ChartSink`] gathered during the run.
//!
//! # Example
//!
//! ```
//! use ipsim_core::{SimInput, SubnetSpec, WorkloadSpec, simulate};
//! use ipsim_report::{Context, Report};
//!
//! let api = WorkloadSpec::service("api", 0).at(0, 100).swap(600_000, 0);
//! let sn = SubnetSpec::new("main", u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0)), 24);
//! let input = SimInput::new(vec![sn], vec![api], 3_600_000);
//! let out = simulate(&input).unwrap();
//! let report = Report::new(&out, &Context::new("swap", &input));
//! assert_eq!(report.summary.first_exhaustion.unwrap().time, "+00:10:00");
//! ```

pub mod assumptions;
pub mod chart;
pub mod outcome;
pub mod page;
pub mod schema;
pub mod stamp;
pub mod threaded;

use std::io::Write;

use ipsim_core::{
    DeployFailure, ExhaustionEvent, FailureWindow, Output, RowSink, SimInput, SubnetInfo,
    SubnetRow, Summary, WorkloadKind, WorkloadRow, fmt_cidr,
};
use serde::{Deserialize, Serialize};

pub use assumptions::{Assumption, DemandParams, ResolvedParams, Status};
pub use schema::{OccupancyCol, WorkloadCol};

/// The version of ipsim that wrote a report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The number of the report format (`format` in report.json).
pub const FORMAT: u32 = 5;

/// The formats [`Report::read`] reads: this one, and 4, which differs only in naming each
/// CSV's FNV-1a digest (`fnv1a64`) where 5 names its CRC-32 (`crc32`), and is checked as such.
pub const READS: [u32; 2] = [4, FORMAT];

/// Formats simulation times for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clock {
    /// Clock time of t = 0.
    pub start: Option<jiff::Timestamp>,
}

impl Clock {
    /// RFC 3339 if the start is known (`2025-01-01T00:10:00Z`), else an offset: `+00:10:00`,
    /// `+1d 02:00:00`; milliseconds are shown only when not zero.
    pub fn fmt(&self, ms: u64) -> String {
        if let Some(s) = self.start {
            if let Ok(t) = s.checked_add(jiff::SignedDuration::from_millis(ms as i64)) {
                return t.to_string();
            }
        }
        offset(ms)
    }
}

/// `+HH:MM:SS`, with days and milliseconds when needed.
pub fn offset(ms: u64) -> String {
    let (d, rem) = (ms / 86_400_000, ms % 86_400_000);
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let mut out = if d > 0 {
        format!("+{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("+{h:02}:{m:02}:{s:02}")
    };
    if milli > 0 {
        out.push_str(&format!(".{milli:03}"));
    }
    out
}

/// A human duration: `20m`, `1h5m`, `90ms`.
pub fn span(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut left = ms;
    for (unit, n) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if left >= n {
            out.push_str(&format!("{}{unit}", left / n));
            left %= n;
        }
    }
    out
}

/// A moment to mark on charts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// When.
    pub time_ms: u64,
    /// Workload name.
    pub workload: String,
    /// Subnet name.
    pub subnet: String,
    /// "swap", "revision" (an observed revision's first point) or "job".
    pub kind: String,
}

/// A sampling period found in an export, and how many series have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplingPeriod {
    /// The period.
    pub period_ms: u64,
    /// Series with it.
    pub series: usize,
}

/// What a trace reader did with one Cloud Monitoring export: series read, sampling periods
/// found, gaps closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRead {
    /// The trace's name in the scenario.
    pub name: String,
    /// Files (pages) read.
    pub files: usize,
    /// Series read (one continued over pages counts once).
    pub series: usize,
    /// Points read.
    pub points: u64,
    /// How the values were read ("GAUGE instance count", "DELTA count per interval", "GAUGE
    /// rate per second"), with the number of series each.
    pub readings: std::collections::BTreeMap<String, usize>,
    /// Sampling periods found, with the number of series each.
    pub sampling_periods: Vec<SamplingPeriod>,
    /// The trace's `max_gap`, if set: the longest silence before a series reads as zero.
    pub max_gap_ms: Option<u64>,
    /// Silences longer than the allowed gap, closed with a drop to zero.
    pub gaps_closed: u64,
    /// The same in one line, as the summary prints it.
    pub text: String,
}

/// What a report needs besides the output.
#[derive(Debug, Clone)]
pub struct Context {
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: String,
    /// Seed.
    pub seed: u64,
    /// Clock.
    pub clock: Clock,
    /// Swaps and job execution starts.
    pub markers: Vec<Marker>,
    /// The run's parameters, fully resolved (set `params.demand` when the run came from a
    /// scenario file).
    pub params: ResolvedParams,
    /// Each subnet's edge-block policy, in input order.
    pub edge_blocks: Vec<String>,
    /// What the trace readers did (Cloud Monitoring exports).
    pub traces: Vec<TraceRead>,
}

impl Context {
    /// A context for `input`, named `scenario`, with markers for every swap and execution.
    pub fn new(scenario: &str, input: &SimInput) -> Self {
        let mut markers = Vec::new();
        for w in &input.workloads {
            let subnet = input
                .subnets
                .get(w.subnet)
                .map(|s| s.name.clone())
                .unwrap_or_default();
            let (swaps, executions) = match &w.kind {
                ipsim_core::Kind::Service(s) | ipsim_core::Kind::WorkerPool(s) => {
                    (&s.swaps[..], &[][..])
                }
                ipsim_core::Kind::Job(j) => (&[][..], &j.executions[..]),
                ipsim_core::Kind::Connector(_) => (&[][..], &[][..]),
            };
            if let ipsim_core::Kind::Service(s) | ipsim_core::Kind::WorkerPool(s) = &w.kind {
                for r in s.observed.iter().skip(1).filter_map(|r| r.first()) {
                    markers.push(Marker {
                        time_ms: r.time_ms,
                        workload: w.name.clone(),
                        subnet: subnet.clone(),
                        kind: "revision".into(),
                    });
                }
            }
            for s in swaps {
                markers.push(Marker {
                    time_ms: s.time_ms,
                    workload: w.name.clone(),
                    subnet: subnet.clone(),
                    kind: "swap".into(),
                });
            }
            for e in executions {
                markers.push(Marker {
                    time_ms: e.start_ms,
                    workload: w.name.clone(),
                    subnet: subnet.clone(),
                    kind: "job".into(),
                });
            }
        }
        markers.sort_by(|a, b| (a.time_ms, &a.workload).cmp(&(b.time_ms, &b.workload)));
        Context {
            scenario: scenario.into(),
            description: String::new(),
            seed: input.seed,
            clock: Clock::default(),
            markers,
            params: ResolvedParams::of(input, None),
            edge_blocks: input
                .subnets
                .iter()
                .map(|s| assumptions::edge_name(s.edge_blocks).to_string())
                .collect(),
            traces: Vec::new(),
        }
    }
}

/// The first failed start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExhaustionRow {
    /// Milliseconds since the start.
    pub time_ms: u64,
    /// Clock time.
    pub time: String,
    /// Subnet name.
    pub subnet: String,
    /// Workload name.
    pub workload: String,
    /// "revision N" or "execution N".
    pub unit: String,
    /// Cloud Run's message.
    pub message: String,
    /// Desired count of the revision or execution.
    pub desired: u32,
    /// Its running count.
    pub running: u32,
    /// Free addresses in the owner's blocks.
    pub owner_free: u32,
    /// Free blocks of the subnet.
    pub free_blocks: u32,
    /// Blocks the owner held.
    #[serde(default)]
    pub owner_blocks: u32,
    /// Owners holding at least one block of the subnet.
    #[serde(default)]
    pub owners: u32,
    /// Free addresses inside the subnet's reserved blocks (the owner's included).
    #[serde(default)]
    pub idle: u32,
    /// The cause in words: `no free address`, `no free /28 block (...)` or `owner's blocks
    /// full and no free /28 block (...)` ([`outcome::cause`]).
    #[serde(default)]
    pub cause: String,
}

/// A failure window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowRow {
    /// First failed attempt.
    pub start_ms: u64,
    /// When nothing was pending any more (the duration if open).
    pub end_ms: u64,
    /// Clock time of the start.
    pub start: String,
    /// Clock time of the end.
    pub end: String,
    /// `end_ms - start_ms`.
    pub duration_ms: u64,
    /// Workload name.
    pub workload: String,
    /// Subnet name.
    pub subnet: String,
    /// Still open at the end of the run.
    pub open: bool,
}

/// A deploy failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRow {
    /// The first failed start of the new revision.
    pub time_ms: u64,
    /// Clock time.
    pub time: String,
    /// Workload name.
    pub workload: String,
    /// The new revision.
    pub revision: u32,
    /// When the swap happened.
    pub swap_ms: u64,
}

/// Figures shared by the run, subnet and workload sections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Whether any start failed.
    pub exhausted: bool,
    /// The first failed start, or null.
    pub first_exhaustion: Option<ExhaustionRow>,
    /// Failed start attempts.
    pub failed_attempts: u64,
    /// Deploy failures.
    pub deploy_failures: Vec<DeployRow>,
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
    /// Instance-seconds between start requests and their outcome.
    pub unmet_instance_seconds: f64,
}

/// One subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetReport {
    /// Name.
    pub name: String,
    /// CIDR.
    pub cidr: String,
    /// Usable addresses (size - 4).
    pub usable: u32,
    /// Static addresses.
    pub r#static: u32,
    /// Blocks of the layout.
    pub blocks: u32,
    /// Reservable blocks.
    pub reservable_blocks: u32,
    /// Addresses in reservable blocks.
    pub reservable: u32,
    /// Whether its edge blocks can be reserved: `excluded` or `partial`.
    #[serde(default)]
    pub edge_blocks: String,
    /// Figures.
    #[serde(flatten)]
    pub figures: Figures,
    /// Its failure windows: indexes into [`Report::failure_windows`], in order.
    pub failure_windows: Vec<usize>,
    /// Its connectors' saturation windows: indexes into [`Report::saturation_windows`].
    pub saturation_windows: Vec<usize>,
}

/// One workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadReport {
    /// Name.
    pub name: String,
    /// "service", "worker_pool" or "job".
    pub kind: String,
    /// Subnet name.
    pub subnet: String,
    /// Most addresses held at once.
    pub peak_held: u32,
    /// Most blocks held at once (null under subnet scope).
    pub peak_reserved_blocks: Option<u32>,
    /// Most instances or tasks running at once.
    pub peak_running: u32,
    /// Whether any start failed.
    pub exhausted: bool,
    /// The first failed start.
    pub first_exhaustion: Option<ExhaustionRow>,
    /// Failed start attempts.
    pub failed_attempts: u64,
    /// Its failure windows: indexes into [`Report::failure_windows`], in order.
    pub failure_windows: Vec<usize>,
    /// Deploy failures.
    pub deploy_failures: Vec<DeployRow>,
    /// Instance-seconds between start requests and their outcome.
    pub unmet_instance_seconds: f64,
    /// Instances or tasks started.
    pub started: u64,
    /// Job tasks completed.
    pub tasks_completed: u64,
    /// Job tasks that gave up.
    pub tasks_failed: u64,
    /// Connectors: times the throughput was above what the maximum instances carry, as
    /// indexes into [`Report::saturation_windows`].
    pub saturation_windows: Vec<usize>,
    /// Connectors: the most throughput asked for, in Mbps.
    #[serde(default)]
    pub peak_demand_mbps: u32,
    /// The most it was short at once while its starts failed, and for how long; null if no
    /// start failed.
    #[serde(default)]
    pub short: Option<outcome::Short>,
    /// Instances or tasks whose start failed at least once.
    #[serde(default)]
    pub requests_failed: u64,
    /// Of those, the ones that started in the end.
    #[serde(default)]
    pub started_after_failing: u64,
    /// Of those, the ones that never started (cancelled, gave up, or still waiting at the end).
    #[serde(default)]
    pub never_started: u64,
    /// Jobs: each execution's succeeded and failed tasks.
    #[serde(default)]
    pub executions: Vec<outcome::ExecutionRow>,
    /// The outcome in words (empty when nothing failed).
    #[serde(default)]
    pub outcome: Vec<String>,
}

/// `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Format version.
    pub format: u32,
    /// The version of ipsim that wrote it.
    #[serde(default)]
    pub ipsim_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: String,
    /// Seed.
    pub seed: u64,
    /// The run id and the files written beside the report ([`stamp`]); absent in reports
    /// of ipsim 0.0 before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<stamp::RunStamp>,
    /// Run length.
    pub duration_ms: u64,
    /// Clock time of t = 0, if known.
    pub start: Option<String>,
    /// Every parameter, as resolved.
    #[serde(default)]
    pub params: ResolvedParams,
    /// What the run assumes: each parameter, its value, documented or a model choice.
    #[serde(default)]
    pub assumptions: Vec<Assumption>,
    /// Run-wide figures.
    pub summary: Figures,
    /// Per subnet.
    pub subnets: Vec<SubnetReport>,
    /// Per workload.
    pub workloads: Vec<WorkloadReport>,
    /// Every failure window of the run, once, sorted by start (then workload); subnets and
    /// workloads name theirs by index into this list.
    pub failure_windows: Vec<WindowRow>,
    /// Every connector saturation window of the run, once, sorted the same way.
    pub saturation_windows: Vec<WindowRow>,
    /// What the trace readers did (Cloud Monitoring exports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traces: Vec<TraceRead>,
    /// Swaps and job starts.
    pub markers: Vec<Marker>,
    /// Events the engine processed.
    pub events_processed: u64,
}

struct Names<'a> {
    out: &'a Output,
    clock: Clock,
    block_size: u32,
    subnet_scope: bool,
}

impl Names<'_> {
    fn exhaustion(&self, e: &ExhaustionEvent) -> ExhaustionRow {
        ExhaustionRow {
            time_ms: e.time_ms,
            time: self.clock.fmt(e.time_ms),
            subnet: self.out.subnets[e.subnet].name.clone(),
            workload: self.out.workloads[e.workload].name.clone(),
            unit: e.unit.to_string(),
            message: e.message.clone(),
            desired: e.desired,
            running: e.running,
            owner_free: e.owner_free,
            free_blocks: e.free_blocks,
            owner_blocks: e.owner_blocks,
            owners: e.owners,
            idle: e.idle,
            cause: outcome::cause(
                e,
                &self.out.subnets[e.subnet],
                self.block_size,
                self.subnet_scope,
            ),
        }
    }
    fn window(&self, w: &FailureWindow) -> WindowRow {
        let wl = &self.out.workloads[w.workload];
        WindowRow {
            start_ms: w.start_ms,
            end_ms: w.end_ms,
            start: self.clock.fmt(w.start_ms),
            end: self.clock.fmt(w.end_ms),
            duration_ms: w.end_ms - w.start_ms,
            workload: wl.name.clone(),
            subnet: self.out.subnets[wl.subnet].name.clone(),
            open: w.open,
        }
    }
    fn deploy(&self, d: &DeployFailure) -> DeployRow {
        DeployRow {
            time_ms: d.time_ms,
            time: self.clock.fmt(d.time_ms),
            workload: self.out.workloads[d.workload].name.clone(),
            revision: d.revision,
            swap_ms: d.swap_ms,
        }
    }
    fn figures(&self, s: &Summary) -> Figures {
        Figures {
            exhausted: s.first_exhaustion.is_some(),
            first_exhaustion: s.first_exhaustion.as_ref().map(|e| self.exhaustion(e)),
            failed_attempts: s.failed_attempts,
            deploy_failures: s.deploy_failures.iter().map(|d| self.deploy(d)).collect(),
            peak_held: s.peak_held,
            peak_reserved: s.peak_reserved,
            peak_reserved_blocks: s.peak_reserved_blocks,
            min_free: s.min_free,
            min_free_blocks: s.min_free_blocks,
            unmet_instance_seconds: s.unmet_instance_seconds(),
        }
    }
}

/// The indexes of `some` in `all`, the run's windows sorted by (start, workload): each window
/// is written once, and a subnet or a workload names its own by index.
fn indexes(all: &[FailureWindow], some: &[FailureWindow]) -> Vec<usize> {
    some.iter()
        .filter_map(|w| {
            all.binary_search_by_key(&(w.start_ms, w.workload), |x| (x.start_ms, x.workload))
                .ok()
        })
        .collect()
}

fn kind(k: WorkloadKind) -> String {
    k.as_str().to_string()
}

impl Report {
    /// Builds the report of `out`.
    pub fn new(out: &Output, ctx: &Context) -> Report {
        let n = Names {
            out,
            clock: ctx.clock,
            block_size: ctx.params.block_size,
            subnet_scope: ctx.params.block_scope == "subnet",
        };
        let (fails, sats) = (
            &out.summary.failure_windows[..],
            &out.summary.saturation_windows[..],
        );
        let subnets = out
            .subnets
            .iter()
            .enumerate()
            .map(|(k, s)| SubnetReport {
                name: s.name.clone(),
                cidr: fmt_cidr(s.base, s.prefix_len),
                usable: s.usable,
                r#static: s.n_static,
                blocks: s.n_blocks,
                reservable_blocks: s.n_reservable_blocks,
                reservable: s.reservable,
                edge_blocks: ctx.edge_blocks.get(k).cloned().unwrap_or_default(),
                figures: n.figures(&s.summary),
                failure_windows: indexes(fails, &s.summary.failure_windows),
                saturation_windows: indexes(sats, &s.summary.saturation_windows),
            })
            .collect();
        let workloads = out
            .workloads
            .iter()
            .map(|w| {
                let s = &w.summary;
                let short = outcome::short(w);
                let deploys = ctx
                    .markers
                    .iter()
                    .filter(|m| m.kind == "swap" && m.workload == w.name)
                    .count();
                let words = outcome::words(w, short.as_ref(), deploys, &|t| ctx.clock.fmt(t));
                WorkloadReport {
                    name: w.name.clone(),
                    kind: kind(w.kind),
                    subnet: out.subnets[w.subnet].name.clone(),
                    peak_held: s.peak_held,
                    peak_reserved_blocks: s.peak_reserved_blocks,
                    peak_running: s.peak_running,
                    exhausted: s.first_exhaustion.is_some(),
                    first_exhaustion: s.first_exhaustion.as_ref().map(|e| n.exhaustion(e)),
                    failed_attempts: s.failed_attempts,
                    failure_windows: indexes(fails, &s.failure_windows),
                    deploy_failures: s.deploy_failures.iter().map(|x| n.deploy(x)).collect(),
                    unmet_instance_seconds: s.unmet_instance_seconds(),
                    started: s.n_started,
                    tasks_completed: s.tasks_completed,
                    tasks_failed: s.tasks_failed,
                    saturation_windows: indexes(sats, &s.saturation_windows),
                    peak_demand_mbps: s.peak_demand_mbps,
                    short,
                    requests_failed: s.requests_failed,
                    started_after_failing: s.started_after_failing,
                    never_started: s.requests_failed - s.started_after_failing,
                    executions: s
                        .executions
                        .iter()
                        .map(|e| outcome::ExecutionRow {
                            execution: e.execution,
                            succeeded: e.completed,
                            failed: e.failed,
                        })
                        .collect(),
                    outcome: words,
                }
            })
            .collect();
        Report {
            format: FORMAT,
            ipsim_version: VERSION.to_string(),
            scenario: ctx.scenario.clone(),
            description: ctx.description.clone(),
            seed: ctx.seed,
            run: None,
            duration_ms: out.duration_ms,
            start: ctx.clock.start.map(|s| s.to_string()),
            params: ctx.params.clone(),
            assumptions: ctx.params.assumptions(),
            summary: n.figures(&out.summary),
            subnets,
            workloads,
            failure_windows: fails.iter().map(|w| n.window(w)).collect(),
            saturation_windows: sats.iter().map(|w| n.window(w)).collect(),
            traces: ctx.traces.clone(),
            markers: ctx.markers.clone(),
            events_processed: out.n_events,
        }
    }
}

impl Report {
    /// The failure windows at `indexes` (a subnet's or a workload's `failure_windows`).
    pub fn failure_windows_at<'a>(
        &'a self,
        indexes: &'a [usize],
    ) -> impl Iterator<Item = &'a WindowRow> + 'a {
        indexes.iter().filter_map(|&i| self.failure_windows.get(i))
    }

    /// The saturation windows at `indexes` (a subnet's or a workload's `saturation_windows`).
    pub fn saturation_windows_at<'a>(
        &'a self,
        indexes: &'a [usize],
    ) -> impl Iterator<Item = &'a WindowRow> + 'a {
        indexes
            .iter()
            .filter_map(|&i| self.saturation_windows.get(i))
    }

    /// Reads the `report.json` at `path`, streamed from the file. A report of a format not in
    /// [`READS`] is refused with both numbers (its fields mean other things), and so is
    /// a window index that points past the run's windows.
    pub fn read(path: &std::path::Path) -> Result<Report, String> {
        #[derive(Deserialize)]
        struct Format {
            format: Option<serde_json::Value>,
        }
        let open = || {
            std::fs::File::open(path)
                .map(std::io::BufReader::new)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let not = |e: serde_json::Error| format!("{} is not an ipsim report: {e}", path.display());
        let found: Format = serde_json::from_reader(open()?).map_err(not)?;
        match found.format {
            Some(serde_json::Value::Number(n))
                if n.as_u64()
                    .is_some_and(|n| READS.iter().any(|&r| u64::from(r) == n)) => {}
            Some(f) => {
                return Err(format!(
                    "{}: report format {f}, but this ipsim ({VERSION}) reads formats {} and \
                     {FORMAT} only (docs/report-format.md says what changed); run the \
                     scenario again to write it in format {FORMAT}",
                    path.display(),
                    READS[0]
                ));
            }
            None => {
                return Err(format!(
                    "{}: no `format`: not an ipsim report",
                    path.display()
                ));
            }
        }
        let r: Report = serde_json::from_reader(open()?).map_err(not)?;
        let bad = |what: &str, k: usize, list: &[usize], len: usize, top: &str| {
            list.iter().position(|&i| i >= len).map(|j| {
                format!(
                    "{}: {what}[{k}].{top}[{j}] is {}, but the run has {len} {top} (indexes \
                     0 to {}): the report was edited or cut",
                    path.display(),
                    list[j],
                    len.saturating_sub(1) as i64
                )
            })
        };
        let (nf, ns) = (r.failure_windows.len(), r.saturation_windows.len());
        for (k, sn) in r.subnets.iter().enumerate() {
            if let Some(e) =
                bad("subnets", k, &sn.failure_windows, nf, "failure_windows").or_else(|| {
                    bad(
                        "subnets",
                        k,
                        &sn.saturation_windows,
                        ns,
                        "saturation_windows",
                    )
                })
            {
                return Err(e);
            }
        }
        for (k, w) in r.workloads.iter().enumerate() {
            if let Some(e) =
                bad("workloads", k, &w.failure_windows, nf, "failure_windows").or_else(|| {
                    bad(
                        "workloads",
                        k,
                        &w.saturation_windows,
                        ns,
                        "saturation_windows",
                    )
                })
            {
                return Err(e);
            }
        }
        // Each format names its files by one digest: CRC-32 since format 5, FNV-1a before.
        if let Some(run) = &r.run {
            let (want, key) = if r.format >= 5 {
                (true, "crc32")
            } else {
                (false, "fnv1a64")
            };
            for (name, f) in &run.files {
                if matches!(f.digest, stamp::Digest::Crc32(_)) != want {
                    return Err(format!(
                        "{}: run.files.{name} has no `{key}`, the digest of report format {}: \
                         the report was edited",
                        path.display(),
                        r.format
                    ));
                }
            }
        }
        Ok(r)
    }
}

/// Header of `occupancy.csv` ([`OccupancyCol::HEADER`]).
pub const OCCUPANCY_HEADER: &str = OccupancyCol::HEADER;

/// Header of `workloads.csv` ([`WorkloadCol::HEADER`]).
pub const WORKLOADS_HEADER: &str = WorkloadCol::HEADER;

/// Writes `occupancy.csv` and `workloads.csv` while the run goes: each row as it becomes
/// final, in time order, so a run of any length needs no memory for its step functions.
/// Columns are written in the order of [`schema`]. Rows are gathered into chunks of
/// [`CsvSink::CHUNK`] bytes and each chunk is handed to its writer in one `write_all`, so a
/// [`stamp::Stamped`] file needs no `BufWriter` and digests long slices. The first write error
/// is kept in `error` and later rows are dropped.
#[derive(Debug)]
pub struct CsvSink<W: Write> {
    occupancy: W,
    workloads: W,
    /// The rows not yet handed to `occupancy`, and to `workloads`.
    occupancy_rows: Vec<u8>,
    workload_rows: Vec<u8>,
    clock: Clock,
    subnets: Vec<SubnetInfo>,
    /// Each subnet's name as a CSV field.
    subnet_fields: Vec<String>,
    workload_names: Vec<(String, String)>,
    /// What each count of a workload row is, in file order.
    counts: Vec<Count>,
    /// Each workload's rows: its fixed text around the counts.
    templates: Vec<RowTemplate>,
    /// The run id written in every row's `run` column ([`CsvSink::with_run`]).
    run: String,
    /// The last time written in occupancy.csv's `time` column, and its text: every subnet
    /// that changes at one moment writes the same time.
    time: Option<(u64, String)>,
    /// The first write error.
    pub error: Option<std::io::Error>,
}

/// Reads one count of a workload row.
type Count = fn(&WorkloadRow) -> u64;

/// What a cell of `workloads.csv` holds: text fixed for its workload (written into its
/// [`RowTemplate`] once), or a count of the row.
#[derive(Debug, Clone, Copy)]
enum WorkloadCell {
    Name,
    Subnet,
    Run,
    Count(Count),
}

impl WorkloadCell {
    /// The one place that says what each column of workloads.csv holds.
    fn of(c: WorkloadCol) -> WorkloadCell {
        use WorkloadCell::Count;
        match c {
            WorkloadCol::TimeMs => Count(|r| r.time_ms),
            WorkloadCol::Workload => WorkloadCell::Name,
            WorkloadCol::Subnet => WorkloadCell::Subnet,
            WorkloadCol::InUse => Count(|r| u64::from(r.in_use)),
            WorkloadCol::Retained => Count(|r| u64::from(r.retained)),
            WorkloadCol::Held => Count(|r| u64::from(r.held())),
            WorkloadCol::ReservedBlocks => Count(|r| u64::from(r.reserved_blocks)),
            WorkloadCol::Running => Count(|r| u64::from(r.running)),
            WorkloadCol::Pending => Count(|r| u64::from(r.pending)),
            WorkloadCol::DemandMbps => Count(|r| u64::from(r.demand_mbps)),
            WorkloadCol::CapacityMbps => Count(|r| u64::from(r.capacity_mbps)),
            WorkloadCol::Run => WorkloadCell::Run,
        }
    }
}

/// A workload's rows as fixed text around the counts: `text[..ends[0]]`, the first count,
/// `text[ends[0]..ends[1]]`, the second, ..., then `text[ends[n - 1]..]`. The commas, the name,
/// the subnet, the run id and the newline are formatted once, and each row copies them.
#[derive(Debug)]
struct RowTemplate {
    text: Box<[u8]>,
    ends: Box<[usize]>,
}

/// The counts of a workload row, in file order, and each workload's [`RowTemplate`].
fn workload_templates(names: &[(String, String)], run: &str) -> (Vec<Count>, Vec<RowTemplate>) {
    let counts = WorkloadCol::ALL
        .iter()
        .filter_map(|&c| match WorkloadCell::of(c) {
            WorkloadCell::Count(f) => Some(f),
            WorkloadCell::Name | WorkloadCell::Subnet | WorkloadCell::Run => None,
        })
        .collect();
    let templates = names
        .iter()
        .map(|(name, subnet)| {
            let (mut text, mut ends) = (Vec::new(), Vec::new());
            for (k, &c) in WorkloadCol::ALL.iter().enumerate() {
                if k > 0 {
                    text.push(b',');
                }
                match WorkloadCell::of(c) {
                    WorkloadCell::Name => text.extend_from_slice(name.as_bytes()),
                    WorkloadCell::Subnet => text.extend_from_slice(subnet.as_bytes()),
                    WorkloadCell::Run => text.extend_from_slice(run.as_bytes()),
                    WorkloadCell::Count(_) => ends.push(text.len()),
                }
            }
            text.push(b'\n');
            RowTemplate {
                text: text.into(),
                ends: ends.into(),
            }
        })
        .collect();
    (counts, templates)
}

impl<W: Write> CsvSink<W> {
    /// Rows are handed to the writers in chunks of about this many bytes.
    pub const CHUNK: usize = 1 << 18;

    /// A sink writing to `occupancy` and `workloads`; `input` names the workloads.
    pub fn new(occupancy: W, workloads: W, clock: Clock, input: &SimInput) -> Self {
        let workload_names: Vec<_> = input
            .workloads
            .iter()
            .map(|w| {
                (
                    csv_field(&w.name),
                    input
                        .subnets
                        .get(w.subnet)
                        .map(|s| csv_field(&s.name))
                        .unwrap_or_default(),
                )
            })
            .collect();
        let (counts, templates) = workload_templates(&workload_names, "");
        CsvSink {
            occupancy,
            workloads,
            occupancy_rows: Vec::new(),
            workload_rows: Vec::new(),
            clock,
            subnets: Vec::new(),
            subnet_fields: Vec::new(),
            workload_names,
            counts,
            templates,
            run: String::new(),
            time: None,
            error: None,
        }
    }

    /// Writes `id` in every row's `run` column (empty without it): the run id report.json
    /// names in `run.id`, so that `ipsim chart` can tell files of two runs apart.
    pub fn with_run(mut self, id: &str) -> Self {
        self.run = csv_field(id);
        (self.counts, self.templates) = workload_templates(&self.workload_names, &self.run);
        self
    }

    /// Hands `rows` to `out` once they fill a chunk (or, with `all`, whatever they hold),
    /// keeping the first error.
    fn spill(error: &mut Option<std::io::Error>, out: &mut W, rows: &mut Vec<u8>, all: bool) {
        if (all || rows.len() >= Self::CHUNK) && !rows.is_empty() {
            if error.is_none() {
                if let Err(e) = out.write_all(rows) {
                    *error = Some(e);
                }
            }
            rows.clear();
        }
    }

    /// Flushes both files and returns the first error.
    pub fn finish(self) -> std::io::Result<()> {
        self.into_inner().map(|_| ())
    }

    /// Flushes both files and returns their writers (`occupancy`, `workloads`), or the first
    /// error.
    pub fn into_inner(mut self) -> std::io::Result<(W, W)> {
        Self::spill(
            &mut self.error,
            &mut self.occupancy,
            &mut self.occupancy_rows,
            true,
        );
        Self::spill(
            &mut self.error,
            &mut self.workloads,
            &mut self.workload_rows,
            true,
        );
        let a = self.occupancy.flush();
        let b = self.workloads.flush();
        match self.error.take() {
            Some(e) => Err(e),
            None => a.and(b).map(|()| (self.occupancy, self.workloads)),
        }
    }
}

impl<W: Write> RowSink for CsvSink<W> {
    fn start(&mut self, subnets: &[SubnetInfo]) {
        self.subnets = subnets.to_vec();
        self.subnet_fields = subnets.iter().map(|s| csv_field(&s.name)).collect();
        self.occupancy_rows.reserve(Self::CHUNK + 1024);
        self.workload_rows.reserve(Self::CHUNK + 1024);
        self.occupancy_rows
            .extend_from_slice(OccupancyCol::HEADER.as_bytes());
        self.occupancy_rows.push(b'\n');
        self.workload_rows
            .extend_from_slice(WorkloadCol::HEADER.as_bytes());
        self.workload_rows.push(b'\n');
    }

    fn subnet_row(&mut self, subnet: usize, r: &SubnetRow) {
        if self.error.is_some() {
            return;
        }
        let s = &self.subnets[subnet];
        if self.time.as_ref().is_none_or(|(t, _)| *t != r.time_ms) {
            self.time = Some((r.time_ms, self.clock.fmt(r.time_ms)));
        }
        let time = self.time.as_ref().map_or("", |(_, t)| t.as_str());
        let line = &mut self.occupancy_rows;
        for (k, c) in OccupancyCol::ALL.iter().enumerate() {
            if k > 0 {
                line.push(b',');
            }
            match c {
                OccupancyCol::TimeMs => push_int(line, r.time_ms),
                OccupancyCol::Time => line.extend_from_slice(time.as_bytes()),
                OccupancyCol::Subnet => {
                    line.extend_from_slice(self.subnet_fields[subnet].as_bytes());
                }
                OccupancyCol::Usable => push_int(line, u64::from(s.usable)),
                OccupancyCol::Static => push_int(line, u64::from(s.n_static)),
                OccupancyCol::InUse => push_int(line, u64::from(r.in_use)),
                OccupancyCol::Retained => push_int(line, u64::from(r.retained)),
                OccupancyCol::ReservedIdle => push_int(line, u64::from(r.reserved_idle)),
                OccupancyCol::Unreserved => push_int(line, u64::from(r.unreserved)),
                OccupancyCol::ReservedBlocks => push_int(line, u64::from(r.reserved_blocks)),
                OccupancyCol::FreeBlocks => push_int(line, u64::from(r.free_blocks)),
                OccupancyCol::Free => push_int(line, u64::from(r.free)),
                OccupancyCol::Connector => push_int(line, u64::from(r.connector)),
                OccupancyCol::Run => line.extend_from_slice(self.run.as_bytes()),
            }
        }
        line.push(b'\n');
        Self::spill(
            &mut self.error,
            &mut self.occupancy,
            &mut self.occupancy_rows,
            false,
        );
    }

    fn workload_row(&mut self, workload: usize, r: &WorkloadRow) {
        if self.error.is_some() {
            return;
        }
        let t = &self.templates[workload];
        let line = &mut self.workload_rows;
        let mut at = 0;
        for (count, &end) in self.counts.iter().zip(t.ends.iter()) {
            push_text(line, &t.text[at..end]);
            push_int(line, count(r));
            at = end;
        }
        push_text(line, &t.text[at..]);
        Self::spill(
            &mut self.error,
            &mut self.workloads,
            &mut self.workload_rows,
            false,
        );
    }
}

/// Appends `v` in decimal: most of the bytes of occupancy.csv and workloads.csv are numbers,
/// and `write!` costs several times `itoa`. Most counts have one or two digits: those are
/// stored directly, without a call to copy them.
#[inline]
fn push_int(line: &mut Vec<u8>, v: u64) {
    if v < 10 {
        line.push(b'0' + v as u8);
    } else if v < 100 {
        line.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
    } else {
        line.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }
}

/// Appends `text`; a lone comma, the most common text between two counts, without a call.
#[inline]
fn push_text(line: &mut Vec<u8>, text: &[u8]) {
    if let [b] = text {
        line.push(*b);
    } else {
        line.extend_from_slice(text);
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The summary `ipsim run` prints.
pub fn summary_text(r: &Report) -> String {
    let mut o = String::new();
    let line = |o: &mut String, s: String| {
        o.push_str(&s);
        o.push('\n');
    };
    line(
        &mut o,
        format!(
            "ipsim: {} (seed {}, {})",
            r.scenario,
            r.seed,
            span(r.duration_ms)
        ),
    );
    if !r.description.is_empty() {
        line(&mut o, format!("  {}", r.description));
    }
    line(&mut o, assumptions::summary_line(&r.assumptions));
    for t in &r.traces {
        line(&mut o, format!("trace {}: {}", t.name, t.text));
    }
    line(&mut o, String::new());
    let s = &r.summary;
    match &s.first_exhaustion {
        None => line(
            &mut o,
            "OK: every start succeeded; no subnet ran out of addresses.".into(),
        ),
        Some(e) => {
            line(
                &mut o,
                format!(
                    "EXHAUSTED at {}: subnet {}, workload {} ({})",
                    e.time, e.subnet, e.workload, e.unit
                ),
            );
            line(&mut o, format!("  {}", e.message));
            if !e.cause.is_empty() {
                line(&mut o, format!("  cause: {}", e.cause));
            }
            line(
                &mut o,
                format!(
                    "  failed attempts {}, deploy failures {}, unmet {} instance-seconds",
                    outcome::thousands(s.failed_attempts),
                    s.deploy_failures.len(),
                    outcome::thousands(s.unmet_instance_seconds.round() as u64)
                ),
            );
            outcome_lines(&mut o, r);
            window_lines(&mut o, &r.failure_windows);
        }
    }
    for w in &r.saturation_windows {
        let end = if w.open {
            format!("{} (still at the end)", w.end)
        } else {
            w.end.clone()
        };
        line(
            &mut o,
            format!(
                "  connector {} saturated {} .. {}  {}",
                w.workload,
                w.start,
                end,
                span(w.duration_ms)
            ),
        );
    }
    line(
        &mut o,
        format!(
            "  peak held {}  peak reserved {} ({} blocks)  min free {} ({} blocks)",
            s.peak_held, s.peak_reserved, s.peak_reserved_blocks, s.min_free, s.min_free_blocks
        ),
    );
    line(&mut o, String::new());
    line(
        &mut o,
        format!(
            "{:<16} {:<18} {:>7} {:>7} {:>11} {:>9} {:>9} {:>9} {:>8}",
            "subnet",
            "cidr",
            "usable",
            "static",
            "reservable",
            "peak held",
            "min free",
            "failed",
            "windows"
        ),
    );
    for sn in &r.subnets {
        let f = &sn.figures;
        line(
            &mut o,
            format!(
                "{:<16} {:<18} {:>7} {:>7} {:>11} {:>9} {:>9} {:>9} {:>8}",
                sn.name,
                sn.cidr,
                sn.usable,
                sn.r#static,
                sn.reservable,
                f.peak_held,
                f.min_free,
                f.failed_attempts,
                sn.failure_windows.len()
            ),
        );
    }
    line(&mut o, String::new());
    line(
        &mut o,
        format!(
            "{:<20} {:<11} {:<16} {:>9} {:>7} {:>8} {:>9} {:>12} {:>8}",
            "workload",
            "kind",
            "subnet",
            "peak held",
            "blocks",
            "running",
            "failed",
            "unmet inst-s",
            "windows"
        ),
    );
    for w in &r.workloads {
        let blocks = w.peak_reserved_blocks.map_or("-".into(), |b| b.to_string());
        line(
            &mut o,
            format!(
                "{:<20} {:<11} {:<16} {:>9} {:>7} {:>8} {:>9} {:>12.0} {:>8}",
                w.name,
                w.kind,
                w.subnet,
                w.peak_held,
                blocks,
                w.peak_running,
                w.failed_attempts,
                w.unmet_instance_seconds,
                w.failure_windows.len()
            ),
        );
    }
    o
}

/// The workloads whose starts failed, most unmet time first: at most [`outcome::LIST_MAX`],
/// each with its sentences.
fn outcome_lines(o: &mut String, r: &Report) {
    let mut hit: Vec<&WorkloadReport> = r
        .workloads
        .iter()
        .filter(|w| !w.outcome.is_empty())
        .collect();
    if hit.is_empty() {
        return;
    }
    hit.sort_by(|a, b| {
        b.unmet_instance_seconds
            .total_cmp(&a.unmet_instance_seconds)
            .then_with(|| a.name.cmp(&b.name))
    });
    o.push_str("  outcomes:\n");
    let width = hit
        .iter()
        .take(outcome::LIST_MAX)
        .map(|w| w.name.chars().count())
        .max()
        .unwrap_or(0);
    for w in hit.iter().take(outcome::LIST_MAX) {
        for (k, sentence) in w.outcome.iter().enumerate() {
            let name = if k == 0 {
                format!("{}:", w.name)
            } else {
                String::new()
            };
            o.push_str(&format!("    {name:<0$} {sentence}\n", width + 1));
        }
    }
    if hit.len() > outcome::LIST_MAX {
        o.push_str(&format!(
            "    and {} more workloads (report.json: workloads[].outcome)\n",
            hit.len() - outcome::LIST_MAX
        ));
    }
}

/// The longest windows, at most [`outcome::LIST_MAX`], then "and k more".
fn window_lines(o: &mut String, windows: &[WindowRow]) {
    if windows.is_empty() {
        return;
    }
    let mut by_len: Vec<&WindowRow> = windows.iter().collect();
    by_len.sort_by(|a, b| {
        b.duration_ms
            .cmp(&a.duration_ms)
            .then(a.start_ms.cmp(&b.start_ms))
    });
    o.push_str(if windows.len() > outcome::LIST_MAX {
        "  failure windows, longest first:\n"
    } else {
        "  failure windows:\n"
    });
    for w in by_len.iter().take(outcome::LIST_MAX) {
        let end = if w.open {
            format!("{} (still open at the end)", w.end)
        } else {
            w.end.clone()
        };
        o.push_str(&format!(
            "    {:<20} {} .. {}  {}\n",
            w.workload,
            w.start,
            end,
            span(w.duration_ms)
        ));
    }
    if windows.len() > outcome::LIST_MAX {
        o.push_str(&format!(
            "    and {} more (report.json: failure_windows)\n",
            windows.len() - outcome::LIST_MAX
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipsim_core::{SubnetSpec, WorkloadSpec};

    /// A writer that keeps what it is given and the length of each write, and fails once it
    /// holds `cap` bytes.
    #[derive(Debug, Default)]
    struct Recorder {
        bytes: Vec<u8>,
        writes: Vec<usize>,
        cap: Option<usize>,
    }

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.cap.is_some_and(|c| self.bytes.len() + buf.len() > c) {
                return Err(std::io::Error::other("disk full"));
            }
            self.bytes.extend_from_slice(buf);
            self.writes.push(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn input() -> SimInput {
        let ip = u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0));
        SimInput::new(
            vec![SubnetSpec::new("run, east", ip, 24)],
            vec![
                WorkloadSpec::service("api", 0),
                WorkloadSpec::service("say \"hi\"", 0),
            ],
            3_600_000,
        )
    }

    fn info() -> SubnetInfo {
        SubnetInfo {
            name: "run, east".into(),
            base: 0,
            prefix_len: 24,
            usable: 252,
            n_static: 3,
            reservable: 240,
            n_reservable_blocks: 15,
        }
    }

    fn row(time_ms: u64, k: u32) -> WorkloadRow {
        WorkloadRow {
            time_ms,
            in_use: k,
            retained: 12 * k,
            reserved_blocks: 1,
            running: k,
            pending: 123 * k,
            demand_mbps: 0,
            capacity_mbps: 4_000_000_000,
        }
    }

    #[test]
    fn rows_are_written_column_by_column_in_large_chunks() {
        let start = "2025-03-10T00:00:00Z".parse().ok();
        let mut sink = CsvSink::new(
            Recorder::default(),
            Recorder::default(),
            Clock { start },
            &input(),
        )
        .with_run("00ab");
        sink.start(&[info()]);
        let n = 20_000u64;
        for t in 0..n {
            sink.workload_row((t % 2) as usize, &row(t * 1000, t as u32 % 11));
            if t % 1000 == 0 {
                let r = SubnetRow {
                    time_ms: t * 1000,
                    in_use: 7,
                    ..SubnetRow::default()
                };
                sink.subnet_row(0, &r);
            }
        }
        let (occ, wls) = sink.into_inner().unwrap();
        let text = String::from_utf8(wls.bytes).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(WorkloadCol::HEADER));
        assert_eq!(
            lines.next(),
            Some("0,api,\"run, east\",0,0,0,1,0,0,0,4000000000,00ab")
        );
        assert_eq!(
            lines.nth(9),
            Some("10000,api,\"run, east\",10,120,130,1,10,1230,0,4000000000,00ab")
        );
        assert_eq!(
            lines.next(),
            Some("11000,\"say \"\"hi\"\"\",\"run, east\",0,0,0,1,0,0,0,4000000000,00ab")
        );
        assert_eq!(lines.count() as u64, n - 12);
        // Every write but the last is a whole chunk or more: the digest sees long slices.
        let (last, full) = wls.writes.split_last().unwrap();
        assert!(!full.is_empty() && full.iter().all(|&w| w >= CsvSink::<Recorder>::CHUNK));
        assert!(*last > 0);
        let occ = String::from_utf8(occ.bytes).unwrap();
        assert_eq!(
            occ.lines().nth(2),
            Some("1000000,2025-03-10T00:16:40Z,\"run, east\",252,3,7,0,0,0,0,0,0,0,00ab")
        );
        assert_eq!(occ.lines().count(), 21);
    }

    #[test]
    fn the_first_write_error_is_kept_and_later_rows_dropped() {
        let full = Recorder {
            cap: Some(100),
            ..Recorder::default()
        };
        let mut sink = CsvSink::new(full, Recorder::default(), Clock::default(), &input());
        sink.start(&[info()]);
        for t in 0..50_000 {
            sink.workload_row(0, &row(t, 1));
        }
        assert!(
            sink.error.is_none(),
            "nothing is written before a chunk is full"
        );
        sink.subnet_row(0, &SubnetRow::default());
        let e = sink.into_inner().unwrap_err();
        assert_eq!(e.to_string(), "disk full");
    }
}
