//! From a scenario file to the core's input: parse, check every field, generate demand, read
//! traces, and report every problem at once with its JSON path, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ipsim_core::{
    BlockScope, Checked, DemandFeed, DemandPoint, EdgeBlocks, FeedPoint, JobExecution, Kind,
    Output, Params, Retention, RowSink, RunOptions, SimInput, Simulation, StaticAlloc, Strategy,
    SubnetSpec, Swap, TaskDurations, WorkloadSpec,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::def::*;
use crate::demand::{self, Requests};
use crate::duration::Duration;
use crate::error::{ScenarioError, ScenarioErrors};
use crate::exact::{Exact, ParseError};
use crate::locate::{locate, token_at};
use crate::trace::azure;
use crate::trace::csv::{CsvFeed, CsvTrace, CsvUnit, Target};
use crate::trace::monitoring::{self, Metric};

/// The longest run accepted: 400 days.
pub const MAX_DURATION_MS: u64 = 400 * 86_400_000;
/// The most samples one generator may produce.
pub const MAX_SAMPLES: u64 = 10_000_000;
/// The largest instance count or task count accepted from a scenario.
pub const MAX_INSTANCES: f64 = 100_000.0;
/// The largest request rate accepted.
pub const MAX_RPS: f64 = 1e9;

/// What a demand's values count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Instances,
    Rps,
    Mbps,
}

/// A loaded, checked scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file.
    pub path: PathBuf,
    /// The definition as written.
    pub def: ScenarioDef,
    /// The core's input (demand from CSV traces is streamed at run time, not held here).
    pub input: SimInput,
    /// Clock time of t = 0, if the scenario gives one.
    pub start: Option<jiff::Timestamp>,
    /// CSV traces streamed during the run.
    pub csv_traces: Vec<CsvTrace>,
    /// What [`SimInput::check`] made of `input` at load: its subnets laid out, so that a run
    /// does not check and lay them out again. Only `input.options` may change after loading.
    checked: Checked,
}

/// What to change in a scenario while loading it.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Replace the scenario's seed.
    pub seed: Option<u64>,
}

impl Scenario {
    /// Runs it: builds the simulation, streams CSV traces into it, returns the output.
    pub fn run(&self) -> Result<Output, ScenarioErrors> {
        self.run_with(None)
    }

    /// Like [`Scenario::run`], handing every row to `sink` as it becomes final.
    pub fn run_with(&self, sink: Option<&mut dyn RowSink>) -> Result<Output, ScenarioErrors> {
        let mut feeds = Vec::new();
        for t in &self.csv_traces {
            feeds.push(t.feed().map_err(|e| ScenarioErrors(vec![e]))?);
        }
        let mut merged = MergedFeed::new(feeds);
        let checked = self.checked.clone();
        let mut sim = if self.csv_traces.is_empty() {
            Simulation::prepared(&self.input, checked)
        } else {
            Simulation::prepared_with_feed(&self.input, checked, &mut merged)
        };
        if let Some(s) = sink {
            sim.set_sink(s);
        }
        let out = sim.run();
        let errs: Vec<ScenarioError> = merged
            .feeds
            .into_iter()
            .filter_map(|(f, _)| f.error)
            .collect();
        if errs.is_empty() {
            Ok(out)
        } else {
            Err(ScenarioErrors(errs))
        }
    }
}

/// Several CSV feeds merged in time order.
struct MergedFeed {
    feeds: Vec<(CsvFeed, Option<FeedPoint>)>,
}

impl MergedFeed {
    fn new(feeds: Vec<CsvFeed>) -> Self {
        let feeds = feeds
            .into_iter()
            .map(|mut f| {
                let p = f.next_point();
                (f, p)
            })
            .collect();
        MergedFeed { feeds }
    }
}

impl DemandFeed for MergedFeed {
    fn next_point(&mut self) -> Option<FeedPoint> {
        let i = self
            .feeds
            .iter()
            .enumerate()
            .filter_map(|(i, (_, p))| p.map(|p| (p.time_ms, i)))
            .min()?
            .1;
        let (f, p) = &mut self.feeds[i];
        let out = *p;
        *p = f.next_point();
        out
    }
}

/// Loads and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioErrors> {
    load_with(path, &Overrides::default())
}

/// Loads and checks a scenario file with overrides.
pub fn load_with(path: &Path, ov: &Overrides) -> Result<Scenario, ScenarioErrors> {
    let bytes = std::fs::read(path).map_err(|e| {
        ScenarioErrors(vec![ScenarioError::new(
            path,
            "",
            format!("cannot read the scenario: {e}"),
        )])
    })?;
    parse(&bytes, path, ov)
}

/// Parses and checks scenario text; `path` names it in errors and anchors relative trace paths.
pub fn parse(bytes: &[u8], path: &Path, ov: &Overrides) -> Result<Scenario, ScenarioErrors> {
    let def = parse_def(bytes, path).map_err(|e| ScenarioErrors(vec![e]))?;
    resolve(def, path, &String::from_utf8_lossy(bytes), ov)
}

/// Checks a definition already parsed (and perhaps edited since): `path` names it in errors
/// and anchors relative trace paths, `text` (the file it came from) gives errors their line
/// and column.
pub fn resolve(
    def: ScenarioDef,
    path: &Path,
    text: &str,
    ov: &Overrides,
) -> Result<Scenario, ScenarioErrors> {
    let mut r = Resolver {
        path,
        text,
        errs: Vec::new(),
    };
    let out = r.resolve(def, ov);
    if r.errs.is_empty() {
        if let Some(s) = out {
            return Ok(s);
        }
    }
    Err(ScenarioErrors(r.errs))
}

/// Deserializes the definition; a syntax or type error names its line, column and JSON path.
pub fn parse_def(bytes: &[u8], path: &Path) -> Result<ScenarioDef, ScenarioError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let def: ScenarioDef = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        let mut msg = inner.to_string();
        if let Some(i) = msg.rfind(" at line ") {
            msg.truncate(i);
        }
        if inner.is_eof() {
            msg = format!("{msg} (the file ends early: is it truncated?)");
        }
        if msg.starts_with("invalid unicode") {
            msg.push_str(" (scenario files must be UTF-8)");
        }
        let p = e.path().to_string();
        let p = if p == "." || p == "?" {
            String::new()
        } else {
            p
        };
        ScenarioError::new(path, p, msg).at(Some(inner.line() as u64), Some(inner.column() as u64))
    })?;
    de.end().map_err(|e| {
        ScenarioError::new(path, "", "unexpected text after the scenario object")
            .at(Some(e.line() as u64), Some(e.column() as u64))
    })?;
    Ok(def)
}

struct Resolver<'a> {
    path: &'a Path,
    text: &'a str,
    errs: Vec<ScenarioError>,
}

fn parse_net(text: &str) -> Result<(u32, u8), String> {
    let net: ipnet::Ipv4Net = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an IPv4 range like \"10.0.0.0/24\""))?;
    Ok((u32::from(net.addr()), net.prefix_len()))
}

fn parse_addr(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<std::net::Ipv4Addr>()
        .map(u32::from)
        .map_err(|_| format!("{text:?} is not an IPv4 address like \"10.0.0.5\""))
}

impl Resolver<'_> {
    fn err(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        let path = path.into();
        let (l, c) = locate(self.text, &path).unzip();
        self.errs
            .push(ScenarioError::new(self.path, path, msg).at(l, c));
    }

    fn file(&self, rel: &str) -> PathBuf {
        let base = self.path.parent().unwrap_or(Path::new("."));
        base.join(rel)
    }

    /// The number at `path` as written in the file (its JSON token), `v` being what serde read
    /// there; a token that is missing or does not read back as `v` falls back to `v`'s decimal.
    fn exact(&mut self, path: &str, v: f64) -> Exact {
        if let Some(tok) = token_at(self.text, path).filter(|t| t.parse::<f64>() == Ok(v)) {
            match Exact::parse(tok) {
                Ok(x) => return x,
                Err(e @ ParseError::OutOfRange) => self.err(path, format!("{tok} is {e}")),
                Err(_) => {} // a negative value: reported by the range checks
            }
        }
        Exact::from_f64_decimal(v).unwrap_or_else(Exact::zero)
    }

    fn count(&mut self, path: &str, v: f64, max: f64, what: &str) {
        if !v.is_finite() || v < 0.0 {
            self.err(path, format!("{v} is not {what} of 0 or more"));
        } else if v > max {
            self.err(
                path,
                format!("{v} is absurdly large for {what} (at most {max})"),
            );
        }
    }

    fn resolve(&mut self, def: ScenarioDef, ov: &Overrides) -> Option<Scenario> {
        if def.name.trim().is_empty() {
            self.err(
                "name",
                "the name is empty; give a short name (it names the output folder)",
            );
        } else if def.name.contains(['/', '\\']) || def.name.starts_with('.') {
            self.err(
                "name",
                format!(
                    "{:?} cannot name a folder; use letters, digits, '-' and '_'",
                    def.name
                ),
            );
        }
        let duration = def.duration.ms();
        if duration == 0 {
            self.err("duration", "the duration must be positive");
        } else if duration > MAX_DURATION_MS {
            self.err(
                "duration",
                format!("{} is longer than the 400 days ipsim accepts", def.duration),
            );
        }
        let start = match &def.start {
            None => None,
            Some(s) => match s.parse::<jiff::Timestamp>() {
                Ok(t) => Some(t),
                Err(_) => {
                    self.err(
                        "start",
                        format!("{s:?} is not an RFC 3339 time like \"2025-01-01T00:00:00Z\""),
                    );
                    None
                }
            },
        };
        let params = self.params(&def.params, duration);
        let pd = &def.params;
        let concurrency = pd.concurrency.unwrap_or(80);
        let target = match pd.target_utilization {
            Some(u) => self.exact("params.target_utilization", u),
            None => Exact::ratio(6, 10).unwrap_or_else(Exact::zero),
        };
        let interval = pd.sample_interval.map_or(60_000, Duration::ms);

        // Subnets.
        let mut subnet_idx = BTreeMap::new();
        let mut subnets = Vec::new();
        for (i, s) in def.subnets.iter().enumerate() {
            let p = format!("subnets[{i}]");
            if subnet_idx.insert(s.name.clone(), i).is_some() {
                self.err(
                    format!("{p}.name"),
                    format!("subnet {:?} is declared twice", s.name),
                );
            }
            let (base, len) = match parse_net(&s.cidr) {
                Ok(v) => v,
                Err(m) => {
                    self.err(format!("{p}.cidr"), m);
                    (0, 32)
                }
            };
            let mut spec = SubnetSpec::new(s.name.clone(), base, len);
            spec.edge_blocks = match s.edge_blocks {
                Some(EdgeDef::Partial) => EdgeBlocks::Partial,
                _ => EdgeBlocks::Excluded,
            };
            spec.allow_small_subnet = s.allow_small_subnet;
            spec.allow_unsupported_range = s.allow_unsupported_range;
            for (j, st) in s.statics.iter().enumerate() {
                let sp = format!("{p}.statics[{j}]");
                let given = [
                    st.address.is_some(),
                    st.prefix.is_some(),
                    st.count.is_some(),
                ]
                .iter()
                .filter(|&&b| b)
                .count();
                if given != 1 {
                    self.err(
                        sp,
                        "give exactly one of \"address\", \"prefix\" or \"count\"",
                    );
                    continue;
                }
                if let Some(a) = &st.address {
                    match parse_addr(a) {
                        Ok(a) => spec.statics.push(StaticAlloc::Address(a)),
                        Err(m) => self.err(format!("{sp}.address"), m),
                    }
                } else if let Some(pr) = &st.prefix {
                    match parse_net(pr) {
                        Ok((b, l)) => spec.statics.push(StaticAlloc::Prefix {
                            base: b,
                            prefix_len: l,
                        }),
                        Err(m) => self.err(format!("{sp}.prefix"), m),
                    }
                } else if let Some(n) = st.count {
                    spec.statics.push(StaticAlloc::Count(n));
                }
            }
            subnets.push(spec);
        }
        if def.subnets.is_empty() {
            self.err("subnets", "declare at least one subnet");
        }

        // Traces: read the in-memory ones now; CSV ones are checked below.
        let mut trace_idx = BTreeMap::new();
        for (i, t) in def.traces.iter().enumerate() {
            if trace_idx.insert(t.name.clone(), i).is_some() {
                self.err(
                    format!("traces[{i}].name"),
                    format!("trace {:?} is declared twice", t.name),
                );
            }
            if t.functions.is_some() != (t.format == TraceFormat::AzureFunctions) {
                self.err(
                    format!("traces[{i}].functions"),
                    "\"functions\" goes with format \"azure-functions\", and only with it",
                );
            }
        }
        let mut csv_units = BTreeMap::new();
        let mut exports = BTreeMap::new();
        for (i, t) in def.traces.iter().enumerate() {
            let file = self.file(&t.file);
            match t.format {
                TraceFormat::Csv => match crate::trace::csv::read_unit(&file) {
                    Ok(u) => {
                        csv_units.insert(i, u);
                    }
                    Err(e) => self.errs.push(e),
                },
                TraceFormat::CloudMonitoring => match monitoring::read(&file, start) {
                    Ok(x) => {
                        exports.insert(i, x);
                    }
                    Err(e) => self.errs.extend(e),
                },
                TraceFormat::AzureFunctions => {}
            }
        }

        // Workloads.
        let mut rng = ChaCha8Rng::seed_from_u64(ov.seed.unwrap_or(def.seed));
        rng.set_stream(1); // noise has its own stream, apart from the run's RNG
        let mut names = BTreeSet::new();
        let mut workloads = Vec::new();
        let mut csv_targets: BTreeMap<usize, BTreeMap<String, Vec<Target>>> = BTreeMap::new();
        let mut used_series: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        for (i, w) in def.workloads.iter().enumerate() {
            let p = format!("workloads[{i}]");
            if !names.insert(w.name.clone()) {
                self.err(
                    format!("{p}.name"),
                    format!("workload {:?} is declared twice", w.name),
                );
            }
            let subnet = match subnet_idx.get(&w.subnet) {
                Some(&s) => s,
                None => {
                    let known: Vec<_> = def.subnets.iter().map(|s| s.name.as_str()).collect();
                    self.err(
                        format!("{p}.subnet"),
                        format!(
                            "subnet {:?} is not declared; declared subnets: {}",
                            w.subnet,
                            known.join(", ")
                        ),
                    );
                    0
                }
            };
            let mut spec = match w.kind {
                KindDef::Service => WorkloadSpec::service(w.name.clone(), subnet),
                KindDef::WorkerPool => WorkloadSpec::worker_pool(w.name.clone(), subnet),
                KindDef::Job => WorkloadSpec::job(w.name.clone(), subnet),
                KindDef::Connector => {
                    let m = w.machine_type.unwrap_or_default();
                    let per = w.throughput_per_instance.unwrap_or(m.mbps());
                    WorkloadSpec::connector(
                        w.name.clone(),
                        subnet,
                        per,
                        w.min_instances.unwrap_or(2),
                        w.max_instances.unwrap_or(10),
                    )
                }
            };
            if w.kind != KindDef::Connector {
                for (f, bad) in [
                    ("machine_type", w.machine_type.is_some()),
                    (
                        "throughput_per_instance",
                        w.throughput_per_instance.is_some(),
                    ),
                ] {
                    if bad {
                        self.err(
                            format!("{p}.{f}"),
                            format!("{f} is for connectors (kind \"connector\")"),
                        );
                    }
                }
            }
            match &mut spec.kind {
                Kind::Service(s) | Kind::WorkerPool(s) => {
                    s.min_instances = w.min_instances.unwrap_or(0);
                    s.max_instances = w.max_instances;
                    s.quota = w.quota;
                }
                Kind::Job(j) => j.quota = w.quota,
                Kind::Connector(_) => {}
            }
            for (f, v) in [
                ("min_instances", w.min_instances),
                ("max_instances", w.max_instances),
                ("quota", w.quota),
            ] {
                if let Some(v) = v {
                    self.count(
                        &format!("{p}.{f}"),
                        f64::from(v),
                        MAX_INSTANCES,
                        "an instance count",
                    );
                }
            }
            if let (Some(lo), Some(hi)) = (w.min_instances, w.max_instances) {
                if lo > hi {
                    self.err(
                        format!("{p}.min_instances"),
                        format!("min_instances {lo} is above max_instances {hi}"),
                    );
                }
            }
            let requests = w.requests.as_ref().map(|r| {
                let c = r.concurrency.unwrap_or(concurrency);
                let u = r
                    .target_utilization
                    .unwrap_or(pd.target_utilization.unwrap_or(0.6));
                if r.latency.ms() == 0 {
                    self.err(
                        format!("{p}.requests.latency"),
                        "the latency must be positive",
                    );
                }
                if !(1..=1000).contains(&c) {
                    self.err(
                        format!("{p}.requests.concurrency"),
                        format!("{c} is not a concurrency from 1 to 1000"),
                    );
                }
                if !(u > 0.0 && u <= 1.0) {
                    self.err(
                        format!("{p}.requests.target_utilization"),
                        format!("{u} is not a share in (0, 1]"),
                    );
                }
                let u = match r.target_utilization {
                    Some(u) => self.exact(&format!("{p}.requests.target_utilization"), u),
                    None => target.clone(),
                };
                Requests::new(&Exact::int(r.latency.ms()), c, &u)
            });
            let idle = w.idle_delay.map_or(0, Duration::ms);
            if idle > 86_400_000 {
                self.err(format!("{p}.idle_delay"), "an idle delay over a day is absurd (Cloud Run keeps idle instances up to 15 minutes)");
            }
            match w.kind {
                KindDef::Job => {
                    for (f, bad) in [
                        ("demand", w.demand.is_some()),
                        ("requests", w.requests.is_some()),
                        ("noise", w.noise.is_some()),
                        ("idle_delay", w.idle_delay.is_some()),
                        ("swaps", !w.swaps.is_empty()),
                        ("min_instances", w.min_instances.is_some()),
                        ("max_instances", w.max_instances.is_some()),
                    ] {
                        if bad {
                            self.err(
                                format!("{p}.{f}"),
                                format!("a job has no {f}: it runs executions of tasks"),
                            );
                        }
                    }
                    if w.executions.is_empty() {
                        self.err(
                            format!("{p}.executions"),
                            "a job needs at least one execution",
                        );
                    }
                    let execs = self.executions(&p, &w.executions, duration);
                    if let Kind::Job(j) = &mut spec.kind {
                        j.executions = execs;
                    }
                }
                KindDef::Connector => {
                    for (f, bad) in [
                        ("requests", w.requests.is_some()),
                        ("idle_delay", w.idle_delay.is_some()),
                        ("swaps", !w.swaps.is_empty()),
                        ("executions", !w.executions.is_empty()),
                        ("quota", w.quota.is_some()),
                    ] {
                        if bad {
                            self.err(
                                format!("{p}.{f}"),
                                format!("a connector has no {f}: its demand is throughput in Mbps"),
                            );
                        }
                    }
                    let (lo, hi) = (w.min_instances.unwrap_or(2), w.max_instances.unwrap_or(10));
                    if lo < 2 {
                        self.err(
                            format!("{p}.min_instances"),
                            format!("min_instances {lo}: a connector runs at least 2 instances"),
                        );
                    }
                    if hi > 10 {
                        self.err(
                            format!("{p}.max_instances"),
                            format!("max_instances {hi}: a connector runs at most 10 instances"),
                        );
                    }
                    if lo > hi {
                        self.err(
                            format!("{p}.min_instances"),
                            format!("min_instances {lo} is above max_instances {hi}"),
                        );
                    }
                    if w.throughput_per_instance == Some(0) {
                        self.err(
                            format!("{p}.throughput_per_instance"),
                            "an instance must carry some throughput (Mbps)",
                        );
                    }
                    match &w.demand {
                        None => self.err(
                            format!("{p}.demand"),
                            "a connector needs a throughput demand in Mbps",
                        ),
                        Some(DemandDef::Trace { .. }) => {
                            self.err(format!("{p}.demand"), "a connector's throughput comes from a generator (constant, step, surge, diurnal)");
                        }
                        Some(g) => {
                            self.generator(&format!("{p}.demand"), g, Unit::Mbps);
                            if self.errs.is_empty() {
                                let noise = w.noise.map(|_| &mut rng);
                                let dp = format!("{p}.demand");
                                let exact = demand::Generator::new(g, |f, v| {
                                    self.exact(&format!("{dp}.{f}"), v)
                                });
                                match demand::try_sample(&exact, g, duration, interval, noise, None)
                                {
                                    Ok(pts) => set_demand(&mut spec, pts),
                                    Err(t) => self.err(dp, too_many(t)),
                                }
                            }
                        }
                    }
                }
                KindDef::Service | KindDef::WorkerPool => {
                    if !w.executions.is_empty() {
                        self.err(format!("{p}.executions"), "only jobs have executions");
                    }
                    for (j, s) in w.swaps.iter().enumerate() {
                        if s.at.ms() >= duration && duration > 0 {
                            self.err(
                                format!("{p}.swaps[{j}].at"),
                                format!(
                                    "the swap at {} is not before the end of the run ({})",
                                    s.at, def.duration
                                ),
                            );
                        }
                        if j > 0 && s.at <= w.swaps[j - 1].at {
                            self.err(
                                format!("{p}.swaps[{j}].at"),
                                format!(
                                    "swaps must be in time order: {} is not after {}",
                                    s.at,
                                    w.swaps[j - 1].at
                                ),
                            );
                        }
                        if let Some(sc) = scaled_mut(&mut spec) {
                            sc.swaps.push(Swap {
                                time_ms: s.at.ms(),
                                rollout_ms: s.rollout.ms(),
                            });
                        }
                    }
                    match &w.demand {
                        None => {
                            if w.min_instances.unwrap_or(0) == 0 {
                                self.err(
                                    format!("{p}.demand"),
                                    "a service or worker pool needs demand (or min_instances)",
                                );
                            }
                        }
                        Some(DemandDef::Trace { trace, series }) => {
                            let series = series.clone().unwrap_or_else(|| w.name.clone());
                            if w.noise.is_some() {
                                self.err(
                                    format!("{p}.noise"),
                                    "noise applies to generators, not to traces",
                                );
                            }
                            match trace_idx.get(trace) {
                                None => self.err(
                                    format!("{p}.demand.trace"),
                                    format!("trace {trace:?} is not declared in traces"),
                                ),
                                Some(&t) => {
                                    used_series.entry(t).or_default().insert(series.clone());
                                    if let Some(&unit) = csv_units.get(&t) {
                                        let rps = unit == CsvUnit::Rps;
                                        self.check_unit(
                                            &p,
                                            rps,
                                            requests.is_some(),
                                            &def.traces[t].name,
                                        );
                                        csv_targets
                                            .entry(t)
                                            .or_default()
                                            .entry(series)
                                            .or_default()
                                            .push(Target {
                                                workload: i,
                                                requests: if rps { requests.clone() } else { None },
                                                idle_delay_ms: idle,
                                            });
                                    } else if let Some(x) = exports.get(&t) {
                                        let rps = x.metric == Metric::RequestCount;
                                        self.check_unit(
                                            &p,
                                            rps,
                                            requests.is_some(),
                                            &def.traces[t].name,
                                        );
                                        match x.services.get(&series) {
                                            None => self.err(format!("{p}.demand.series"), format!("the export has no service {series:?}; it has: {}", x.services.keys().cloned().collect::<Vec<_>>().join(", "))),
                                            Some(s) => {
                                                match points_from(&s.points, if rps { requests.as_ref() } else { None }) {
                                                    Ok(pts) => set_demand(&mut spec, if idle > 0 { demand::idle_delay(&pts, idle) } else { pts }),
                                                    Err(t) => self.err(format!("{p}.demand"), too_many(t)),
                                                }
                                                if w.swaps.is_empty() {
                                                    if let Some(sc) = scaled_mut(&mut spec) { sc.swaps = s.swaps.iter().filter(|&&t| t < duration).map(|&t| Swap { time_ms: t, rollout_ms: 0 }).collect(); }
                                                }
                                            }
                                        }
                                    } else if def.traces[t].format == TraceFormat::AzureFunctions {
                                        self.err(format!("{p}.demand.trace"), "an Azure Functions trace makes its own workloads (see traces[].functions); it cannot feed a declared one");
                                    }
                                }
                            }
                        }
                        Some(g) => {
                            self.generator(
                                &format!("{p}.demand"),
                                g,
                                if requests.is_some() {
                                    Unit::Rps
                                } else {
                                    Unit::Instances
                                },
                            );
                            let samples = duration / interval.max(1);
                            if samples > MAX_SAMPLES {
                                self.err("params.sample_interval", format!("{samples} samples per workload is too many (at most {MAX_SAMPLES}); use a longer sample_interval"));
                            } else if self.errs.is_empty() {
                                let noise = w.noise.map(|_| &mut rng);
                                let dp = format!("{p}.demand");
                                let exact = demand::Generator::new(g, |f, v| {
                                    self.exact(&format!("{dp}.{f}"), v)
                                });
                                let r = requests.as_ref();
                                match demand::try_sample(&exact, g, duration, interval, noise, r) {
                                    Ok(pts) if idle > 0 => {
                                        set_demand(&mut spec, demand::idle_delay(&pts, idle))
                                    }
                                    Ok(pts) => set_demand(&mut spec, pts),
                                    Err(t) => self.err(dp, too_many(t)),
                                }
                            }
                        }
                    }
                    if w.requests.is_some() && w.demand.is_none() {
                        self.err(format!("{p}.requests"), "requests go with demand in requests per second; this workload has no demand");
                    }
                }
            }
            workloads.push(spec);
        }

        self.connector_rules(&def, &subnets);

        // Azure traces make workloads.
        for (i, t) in def.traces.iter().enumerate() {
            if let Some(f) = &t.functions {
                self.azure(
                    i,
                    t,
                    f,
                    &subnet_idx,
                    &mut names,
                    &mut workloads,
                    concurrency,
                    &target,
                    duration,
                );
            }
        }

        // Every series of a non-CSV trace should be used unless ignore_unknown.
        for (i, x) in &exports {
            if def.traces[*i].ignore_unknown {
                continue;
            }
            let used = used_series.get(i).cloned().unwrap_or_default();
            let unused: Vec<_> = x
                .services
                .keys()
                .filter(|s| !used.contains(*s))
                .cloned()
                .collect();
            if !unused.is_empty() {
                self.err(format!("traces[{i}]"), format!("no workload takes service(s) {} from this export; add workloads for them or set ignore_unknown", unused.join(", ")));
            }
        }

        let mut csv_traces = Vec::new();
        for (&i, &_unit) in &csv_units {
            let t = &def.traces[i];
            let trace = CsvTrace {
                path: self.file(&t.file),
                unit: csv_units[&i],
                targets: csv_targets.remove(&i).unwrap_or_default(),
                ignore_unknown: t.ignore_unknown,
                start,
            };
            if trace.targets.is_empty() {
                self.err(
                    format!("traces[{i}]"),
                    format!("no workload takes demand from trace {:?}", t.name),
                );
                continue;
            }
            if let Err(e) = trace.check() {
                self.errs.extend(e);
            }
            csv_traces.push(trace);
        }

        let mut input = SimInput::new(subnets, workloads, duration);
        input.params = params;
        input.seed = ov.seed.unwrap_or(def.seed);
        input.options = RunOptions::default();
        // The core's own checks, once, with each subnet laid out once; mapped to scenario
        // paths. A core error about an element the scenario already found wrong is left out:
        // that element holds a placeholder.
        let n_own = self.errs.len();
        let checked = match input.check() {
            Ok(c) => Some(c),
            Err(es) => {
                for e in es {
                    let path = core_path(&e.path);
                    if !self.errs[..n_own].iter().any(|s| covers(&s.path, &path)) {
                        self.err(path, e.message);
                    }
                }
                None
            }
        };
        if !self.errs.is_empty() {
            return None;
        }
        let checked = checked?;
        Some(Scenario {
            path: self.path.to_path_buf(),
            def,
            input,
            start,
            csv_traces,
            checked,
        })
    }

    /// A connector has a dedicated /28; Direct VPC on a /28 (a connector's, typically) is the
    /// classic mistake, refused unless the subnet sets allow_small_subnet to replay it.
    fn connector_rules(&mut self, def: &ScenarioDef, subnets: &[SubnetSpec]) {
        let index = |name: &str| def.subnets.iter().position(|s| s.name == name);
        for (i, w) in def.workloads.iter().enumerate() {
            let Some(si) = index(&w.subnet) else { continue };
            let (sd, spec) = (&def.subnets[si], &subnets[si]);
            let connector_here = def
                .workloads
                .iter()
                .find(|o| o.kind == KindDef::Connector && o.subnet == w.subnet);
            if w.kind == KindDef::Connector {
                if spec.prefix_len != 28 {
                    self.err(
                        format!("workloads[{i}].subnet"),
                        format!("a Serverless VPC Access connector needs a dedicated /28 subnet; {:?} is a /{}", sd.name, spec.prefix_len),
                    );
                }
                if sd.edge_blocks == Some(EdgeDef::Partial) {
                    self.err(format!("workloads[{i}].subnet"), "a connector's /28 holds VMs, not Cloud Run blocks: leave edge_blocks unset");
                }
                let others: Vec<&str> = def
                    .workloads
                    .iter()
                    .filter(|o| o.subnet == w.subnet && o.name != w.name)
                    .map(|o| o.name.as_str())
                    .collect();
                if !others.is_empty() && !sd.allow_small_subnet {
                    self.err(
                        format!("workloads[{i}].subnet"),
                        format!(
                            "connector {:?}'s /28 is dedicated to it, but {} use it too",
                            w.name,
                            others.join(", ")
                        ),
                    );
                }
            } else if spec.prefix_len > 26 && !sd.allow_small_subnet {
                let whose = match connector_here {
                    Some(c) => format!("{:?} is the /28 of connector {:?}", sd.name, c.name),
                    None => format!("{:?} is a /{}", sd.name, spec.prefix_len),
                };
                self.err(
                    format!("workloads[{i}].subnet"),
                    format!(
                        "{whose}: Direct VPC egress needs a /26 or larger subnet, because Cloud Run reserves \
                         whole /28 blocks and a subnet this small has no block to give (the first and last \
                         hold Google's reserved addresses); the {} would fail to start at once. Give it a /26 \
                         or larger subnet, or set allow_small_subnet on {:?} to replay the mistake",
                        match w.kind { KindDef::Job => "job's tasks", _ => "instances" },
                        sd.name
                    ),
                );
            }
        }
    }

    fn check_unit(&mut self, p: &str, rps: bool, has_requests: bool, trace: &str) {
        if rps && !has_requests {
            self.err(format!("{p}.requests"), format!("trace {trace:?} gives requests per second: add \"requests\": {{\"latency\": \"...\"}} to turn them into instances"));
        } else if !rps && has_requests {
            self.err(
                format!("{p}.requests"),
                format!("trace {trace:?} gives instance counts; remove \"requests\""),
            );
        }
    }

    fn params(&mut self, d: &ParamsDef, duration: u64) -> Params {
        let mut p = Params::default();
        if let Some(v) = d.ips_per_instance {
            if !(1..=64).contains(&v) {
                self.err(
                    "params.ips_per_instance",
                    format!("{v} is not from 1 to 64 (2; 4 for the pre-2025 rule)"),
                );
            }
            p.ips_per_instance = v;
        }
        if let Some(v) = d.ips_per_task {
            if !(1..=64).contains(&v) {
                self.err(
                    "params.ips_per_task",
                    format!("{v} is not from 1 to 64 (1)"),
                );
            }
            p.ips_per_task = v;
        }
        if let Some(v) = d.block_size {
            if !(4..=64).contains(&v) || !v.is_power_of_two() {
                self.err(
                    "params.block_size",
                    format!("{v} is not 4, 8, 16 (a /28), 32 or 64"),
                );
            }
            p.block_size = v;
        }
        let day = 86_400_000;
        for (name, v, slot) in [
            (
                "service_retention",
                d.service_retention,
                &mut p.service_retention_ms,
            ),
            ("task_retention", d.task_retention, &mut p.task_retention_ms),
            ("block_linger", d.block_linger, &mut p.block_linger_ms),
        ] {
            if let Some(v) = v {
                if v.ms() > day {
                    self.err(
                        format!("params.{name}"),
                        format!("{v} is longer than a day; that is not a retention Cloud Run has"),
                    );
                }
                *slot = v.ms();
            }
        }
        if let Some(v) = d.retry_interval {
            if v.ms() == 0 || v.ms() > day {
                self.err(
                    "params.retry_interval",
                    format!("{v} is not between 1 ms and a day (10s)"),
                );
            }
            p.retry_interval_ms = v.ms();
        }
        if let Some(v) = d.max_task_retries {
            if v > 10 {
                self.err(
                    "params.max_task_retries",
                    format!("{v} is more than the 10 retries Cloud Run allows per task"),
                );
            }
            p.max_task_retries = v;
        }
        p.retention = match d.retention {
            Some(RetentionDef::Uniform) => Retention::Uniform,
            _ => Retention::Fixed,
        };
        p.block_scope = match d.block_scope {
            Some(ScopeDef::Revision) => BlockScope::Revision,
            Some(ScopeDef::Subnet) => BlockScope::Subnet,
            _ => BlockScope::Service,
        };
        p.strategy = match d.strategy {
            Some(StrategyDef::FirstFit) | None => Strategy::FirstFit,
            Some(StrategyDef::NextFit) => Strategy::NextFit,
            Some(StrategyDef::BestFit) => Strategy::BestFit,
            Some(StrategyDef::Random) => Strategy::Random,
        };
        if let Some(c) = d.concurrency {
            if !(1..=1000).contains(&c) {
                self.err(
                    "params.concurrency",
                    format!("{c} is not a concurrency from 1 to 1000 (80)"),
                );
            }
        }
        if let Some(u) = d.target_utilization {
            if !(u > 0.0 && u <= 1.0) {
                self.err(
                    "params.target_utilization",
                    format!("{u} is not a share in (0, 1] (0.6)"),
                );
            }
        }
        if let Some(s) = d.sample_interval {
            if s.ms() == 0 {
                self.err(
                    "params.sample_interval",
                    "the sample interval must be positive (1m)",
                );
            } else if duration / s.ms() > MAX_SAMPLES {
                self.err("params.sample_interval", format!("{s} gives more than {MAX_SAMPLES} samples over the run; use a longer interval"));
            }
        }
        p
    }

    fn generator(&mut self, p: &str, g: &DemandDef, unit: Unit) {
        let (max, what) = match unit {
            Unit::Instances => (MAX_INSTANCES, "an instance count"),
            Unit::Rps => (MAX_RPS, "a request rate"),
            Unit::Mbps => (MAX_RPS, "a throughput in Mbps"),
        };
        match g {
            DemandDef::Constant { value } => self.count(&format!("{p}.value"), *value, max, what),
            DemandDef::Step { points } => {
                if points.is_empty() {
                    self.err(
                        format!("{p}.points"),
                        "a step function needs at least one [time, value] point",
                    );
                }
                for (j, (t, v)) in points.iter().enumerate() {
                    self.count(&format!("{p}.points[{j}]"), *v, max, what);
                    if j > 0 && *t <= points[j - 1].0 {
                        let how = if *t == points[j - 1].0 {
                            "repeats"
                        } else {
                            "goes back from"
                        };
                        self.err(
                            format!("{p}.points[{j}]"),
                            format!(
                                "time {t} {how} the previous point's {}; times must increase",
                                points[j - 1].0
                            ),
                        );
                    }
                }
            }
            DemandDef::Surge { base, peak, .. } => {
                self.count(&format!("{p}.base"), *base, max, what);
                self.count(&format!("{p}.peak"), *peak, max, what);
            }
            DemandDef::Diurnal {
                mean,
                amplitude,
                period,
                ..
            } => {
                self.count(&format!("{p}.mean"), *mean, max, what);
                self.count(&format!("{p}.amplitude"), *amplitude, max, what);
                if period.is_some_and(|d| d.ms() == 0) {
                    self.err(format!("{p}.period"), "the period must be positive (24h)");
                }
            }
            DemandDef::Trace { .. } => {}
        }
    }

    fn executions(&mut self, p: &str, defs: &[ExecutionDef], duration: u64) -> Vec<JobExecution> {
        let mut out = Vec::new();
        for (j, e) in defs.iter().enumerate() {
            let ep = format!("{p}.executions[{j}]");
            if e.tasks > 10_000 {
                self.err(
                    format!("{ep}.tasks"),
                    format!(
                        "{} tasks is more than the 10,000 Cloud Run allows per execution",
                        e.tasks
                    ),
                );
            }
            if e.parallelism > e.tasks && e.tasks > 0 {
                self.err(
                    format!("{ep}.parallelism"),
                    format!(
                        "parallelism {} is above the {} tasks",
                        e.parallelism, e.tasks
                    ),
                );
            }
            let durations = match &e.task_duration {
                TaskDurationDef::Fixed(d) => TaskDurations::Fixed(d.ms()),
                TaskDurationDef::PerTask(v) => {
                    if v.len() != e.tasks as usize {
                        self.err(
                            format!("{ep}.task_duration"),
                            format!(
                                "{} durations for {} tasks; give one per task",
                                v.len(),
                                e.tasks
                            ),
                        );
                    }
                    TaskDurations::PerTask(v.iter().map(|d| d.ms()).collect())
                }
                TaskDurationDef::Uniform { min, max } => {
                    if min > max {
                        self.err(
                            format!("{ep}.task_duration"),
                            format!("min {min} is above max {max}"),
                        );
                    }
                    TaskDurations::Uniform {
                        min_ms: min.ms(),
                        max_ms: max.ms(),
                    }
                }
            };
            if let Some(prev) = defs.get(j.wrapping_sub(1)) {
                if e.start < prev.start {
                    self.err(
                        format!("{ep}.start"),
                        format!(
                            "executions must be in order of start: {} is before {}",
                            e.start, prev.start
                        ),
                    );
                }
            }
            let every = e.repeat_every.map(Duration::ms);
            if every == Some(0) {
                self.err(
                    format!("{ep}.repeat_every"),
                    "repeat_every must be positive",
                );
                continue;
            }
            if e.repeat_count.is_some() && every.is_none() {
                self.err(
                    format!("{ep}.repeat_count"),
                    "repeat_count goes with repeat_every",
                );
            }
            let mut t = e.start.ms();
            let mut n = 0u32;
            loop {
                if t >= duration || e.repeat_count.is_some_and(|c| n >= c) {
                    break;
                }
                out.push(JobExecution {
                    start_ms: t,
                    n_tasks: e.tasks,
                    parallelism: e.parallelism,
                    durations: durations.clone(),
                });
                n += 1;
                if out.len() > 1_000_000 {
                    self.err(
                        format!("{ep}.repeat_every"),
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
        out.sort_by_key(|e| e.start_ms);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn azure(
        &mut self,
        i: usize,
        t: &TraceDef,
        f: &FunctionsDef,
        subnet_idx: &BTreeMap<String, usize>,
        names: &mut BTreeSet<String>,
        workloads: &mut Vec<WorkloadSpec>,
        concurrency: u32,
        target: &Exact,
        duration: u64,
    ) {
        let p = format!("traces[{i}].functions");
        let select = match (f.top, f.hashes.is_empty()) {
            (Some(n), true) if n > 0 && n <= 10_000 => azure::Select::Top(n as usize),
            (None, false) => {
                for (j, h) in f.hashes.iter().enumerate() {
                    if h.len() < 8 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                        self.err(
                            format!("{p}.hashes[{j}]"),
                            format!("{h:?} is not a hash prefix of at least 8 hex digits"),
                        );
                    }
                }
                azure::Select::Hashes(f.hashes.clone())
            }
            _ => {
                self.err(
                    p,
                    "give either \"top\" (1 to 10,000 functions) or \"hashes\"",
                );
                return;
            }
        };
        let Some(&subnet) = subnet_idx.get(&f.subnet) else {
            self.err(
                format!("{p}.subnet"),
                format!("subnet {:?} is not declared", f.subnet),
            );
            return;
        };
        let durations = match &f.durations_file {
            Some(d) => match azure::read_durations(&self.file(d)) {
                Ok(m) => Some(m),
                Err(e) => {
                    self.errs.extend(e);
                    return;
                }
            },
            None => None,
        };
        if durations.is_none() && f.latency.is_none() {
            self.err(
                format!("{p}.latency"),
                "give a latency, or a durations_file with each function's average",
            );
            return;
        }
        let funcs = match azure::read(&self.file(&t.file), &select) {
            Ok(v) => v,
            Err(e) => {
                self.errs.extend(e);
                return;
            }
        };
        for func in funcs {
            let latency_ms = match durations.as_ref().and_then(|d| d.get(&func.hash)) {
                Some(avg) => avg.clone(),
                None => match f.latency {
                    Some(l) => Exact::int(l.ms()),
                    None => {
                        self.err(format!("{p}.durations_file"), format!("the durations file has no function {}; give a latency to fall back on", func.hash));
                        continue;
                    }
                },
            };
            let req = Requests::new(&latency_ms, concurrency, target);
            // The first 12 characters (a HashFunction need not be ASCII hex).
            let name = format!("fn-{}", func.hash.chars().take(12).collect::<String>());
            if !names.insert(name.clone()) {
                self.err(p.clone(), format!("workload {name:?} already exists"));
                continue;
            }
            let mut w = WorkloadSpec::service(name, subnet);
            if let Some(sc) = scaled_mut(&mut w) {
                sc.max_instances = f.max_instances;
            }
            let mut pts: Vec<DemandPoint> = Vec::new();
            for (m, &count) in func.per_minute.iter().enumerate() {
                let t = m as u64 * 60_000;
                if t >= duration {
                    break;
                }
                let rate = Exact::ratio(u64::from(count), 60).unwrap_or_else(Exact::zero);
                let Some(n) = demand::instances(&rate, Some(&req)) else {
                    self.err(
                        p.clone(),
                        format!("function {}: {}", func.hash, too_many(t)),
                    );
                    break;
                };
                if pts.last().map(|p| p.instances) != Some(n) {
                    pts.push(DemandPoint {
                        time_ms: t,
                        instances: n,
                    });
                }
            }
            set_demand(
                &mut w,
                match f.idle_delay {
                    Some(d) if d.ms() > 0 => demand::idle_delay(&pts, d.ms()),
                    _ => pts,
                },
            );
            workloads.push(w);
        }
    }
}

/// The error for a demand of more than `u32::MAX` instances at `t`.
fn too_many(t: u64) -> String {
    format!(
        "at {} the demand is more than {} instances",
        Duration(t),
        u32::MAX
    )
}

/// Instance points from (time, value) pairs, keeping changes only; `Err(t)` if the value at
/// `t` is more than `u32::MAX` instances.
fn points_from(
    points: &[(u64, Exact)],
    requests: Option<&Requests>,
) -> Result<Vec<DemandPoint>, u64> {
    let mut out: Vec<DemandPoint> = Vec::new();
    for (t, v) in points {
        let (t, n) = (*t, demand::instances(v, requests).ok_or(*t)?);
        if out.last().map(|p| p.instances) != Some(n) {
            out.push(DemandPoint {
                time_ms: t,
                instances: n,
            });
        }
    }
    Ok(out)
}

/// Whether a scenario error at `own` makes a core error at `core` moot: they are about the
/// same thing, or the core's is about a subnet the scenario already found wrong.
fn covers(own: &str, core: &str) -> bool {
    let subnet = |p: &str| {
        p.starts_with("subnets[")
            .then(|| p.split('.').next().unwrap_or(p).to_string())
    };
    own.starts_with(core)
        || core.starts_with(own)
        || (subnet(core).is_some() && subnet(own) == subnet(core))
}

/// The scenario path of a core input path (`workloads[2].demand[4]` is generated demand).
fn core_path(p: &str) -> String {
    let p = match p {
        "duration_ms" => "duration".to_string(),
        "params.retry_interval_ms" => "params.retry_interval".to_string(),
        _ => p.replace(".prefix_len", ".cidr"),
    };
    match p.find(".demand[") {
        Some(i) => format!("{}.demand", &p[..i]),
        None => p,
    }
}

impl Scenario {
    /// How the run differs from the scenario's documented outcome (`expect`); empty if it
    /// matches or documents none.
    pub fn check_expect(&self, out: &Output) -> Vec<String> {
        let Some(e) = &self.def.expect else {
            return Vec::new();
        };
        let s = &out.summary;
        let mut bad = Vec::new();
        if let Some(x) = e.exhausted {
            if x != s.first_exhaustion.is_some() {
                bad.push(format!("expected exhausted = {x}, got {}", !x));
            }
        }
        if let Some(t) = e.first_exhaustion {
            let got = s.first_exhaustion.as_ref().map(|f| Duration(f.time_ms));
            if got != Some(t) {
                bad.push(format!(
                    "expected the first exhaustion at {t}, got {}",
                    got.map_or("none".into(), |g| g.to_string())
                ));
            }
        }
        if let Some(p) = e.peak_held {
            if p != s.peak_held {
                bad.push(format!("expected peak_held {p}, got {}", s.peak_held));
            }
        }
        if let Some(n) = e.failure_windows {
            if n != s.failure_windows.len() {
                bad.push(format!(
                    "expected {n} failure windows, got {}",
                    s.failure_windows.len()
                ));
            }
        }
        if let Some(d) = e.first_window {
            let got = s
                .failure_windows
                .first()
                .map(|w| Duration(w.end_ms - w.start_ms));
            if got != Some(d) {
                bad.push(format!(
                    "expected the first failure window to last {d}, got {}",
                    got.map_or("none".into(), |g| g.to_string())
                ));
            }
        }
        if let Some(n) = e.saturation_windows {
            if n != s.saturation_windows.len() {
                bad.push(format!(
                    "expected {n} saturation windows, got {}",
                    s.saturation_windows.len()
                ));
            }
        }
        if let Some(n) = e.deploy_failures {
            if n != s.deploy_failures.len() {
                bad.push(format!(
                    "expected {n} deploy failures, got {}",
                    s.deploy_failures.len()
                ));
            }
        }
        bad
    }
}

/// Sets the demand of a workload whose kind has one.
fn set_demand(spec: &mut WorkloadSpec, points: Vec<ipsim_core::DemandPoint>) {
    match &mut spec.kind {
        Kind::Service(s) | Kind::WorkerPool(s) => s.demand = points,
        Kind::Connector(c) => c.demand = points,
        Kind::Job(_) => {}
    }
}

/// The clamp, demand and swaps of a service or worker pool.
fn scaled_mut(spec: &mut WorkloadSpec) -> Option<&mut ipsim_core::Scaled> {
    match &mut spec.kind {
        Kind::Service(s) | Kind::WorkerPool(s) => Some(s),
        Kind::Job(_) | Kind::Connector(_) => None,
    }
}
