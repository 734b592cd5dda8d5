//! From a scenario file to the core's input: parse, check every field, generate demand, read
//! traces, and report every problem at once with its JSON path, line and column.
//!
//! This file holds the entry points ([`load`], [`parse`], [`resolve`], [`parse_def`]), the
//! [`Scenario`] and its runs, and the [`Resolver`] that walks the file section by section:
//! [`params`] (name, duration, start, params), [`subnets`], [`traces`] (CSV and Cloud
//! Monitoring), [`workloads`] (each kind's fields), [`demand`] (a workload's generator),
//! [`azure`] (workloads made from an Azure Functions trace); [`expect`] compares a run with
//! the documented outcome. The core's own checks run once at the end, with each subnet laid
//! out once, and their errors are mapped back to the file.

mod azure;
mod demand;
mod expect;
mod params;
mod read;
mod subnets;
mod traces;
mod workloads;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ipsim_core::{
    Checked, DemandFeed, ExecutionField, InputPath, Output, ParamField, RowSink, RunOptions,
    SimInput, Simulation, SubnetField, WorkloadField,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::def::ScenarioDef;
use crate::error::{ScenarioError, ScenarioErrors};
use crate::exact::{Exact, ParseError};
use crate::locate::{JsonPath, Locator};
use crate::trace::ahead::with_read_ahead;
use crate::trace::csv::CsvTrace;
use crate::trace::merge::MergedFeed;

/// The longest run accepted: 400 days.
pub const MAX_DURATION_MS: u64 = 400 * 86_400_000;
/// The most generator samples one run may draw, over all its workloads (a constant demand
/// without noise is one sample).
pub const MAX_SAMPLES: u64 = 10_000_000;
/// The largest instance count or task count accepted from a scenario.
pub const MAX_INSTANCES: f64 = crate::demand::INSTANCE_CAP as f64;
/// The longest name of a subnet, workload, trace or scenario.
pub const MAX_NAME_CHARS: usize = 63;
/// The largest request rate accepted.
pub const MAX_RPS: f64 = 1e9;

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
    /// What the Cloud Monitoring reader did with each export, by trace name: series read,
    /// sampling periods found, gaps closed.
    pub trace_notes: Vec<(String, crate::trace::monitoring::ReadNote)>,
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
    /// Reads each CSV trace that is not yet held once more, with every check, into compact
    /// in-memory values ([`CsvTrace::hold`]): every later run of this scenario, of its
    /// clones, and of the scenarios resolved with these traces as known
    /// ([`resolve_known`]) replays them from memory instead of reading the file. A trace
    /// that cannot be held (more than [`crate::trace::csv::MAX_HELD`] values) stays streamed
    /// and its errors are returned; the others are held.
    pub fn hold_traces(&mut self) -> Result<(), ScenarioErrors> {
        let mut errs = Vec::new();
        for t in &mut self.csv_traces {
            if let Err(e) = t.hold() {
                errs.extend(e);
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ScenarioErrors(errs))
        }
    }

    /// The scenario with `seed` replacing its seed, without resolving it again, when that is
    /// what resolving it with `seed` gives: the seed's only use before the run is the
    /// generators' Poisson noise, so `None` if a workload draws noise and `seed` is not the
    /// one it was resolved with. Its subnets stay laid out (the layout does not depend on the
    /// seed).
    pub fn reseeded(&self, seed: u64) -> Option<Scenario> {
        if seed != self.input.seed && self.def.workloads.iter().any(|w| w.kind.noise()) {
            return None;
        }
        let mut s = self.clone();
        s.input.seed = seed;
        Some(s)
    }

    /// `def`, this scenario's definition with other `params.block_scope`,
    /// `params.retention` and `params.strategy` (nothing else changed), without resolving it
    /// again: those three are read as [`resolve`] reads them, cannot be wrong, and nothing
    /// else of the input depends on them, so the input, its traces and its laid-out subnets
    /// are kept. `None` when `def` differs in anything else.
    pub fn with_choices(&self, def: ScenarioDef) -> Option<Scenario> {
        let mut same = self.def.clone();
        same.params.block_scope = def.params.block_scope;
        same.params.retention = def.params.retention;
        same.params.strategy = def.params.strategy;
        if same != def {
            return None;
        }
        let mut s = self.clone();
        params::choices(&def.params, &mut s.input.params);
        s.def = def;
        Some(s)
    }

    /// Runs it: builds the simulation, streams CSV traces into it, returns the output.
    pub fn run(&self) -> Result<Output, ScenarioErrors> {
        self.run_with(None)
    }

    /// Reads every CSV trace whole and reports its bad rows (up to 20 a file, then a count),
    /// as `ipsim validate` does: loading reads only their headers, and a run stops at the
    /// first bad row. A trace held in memory was checked when it was read.
    pub fn check_traces(&self) -> Result<(), ScenarioErrors> {
        let errs: Vec<ScenarioError> = self
            .csv_traces
            .iter()
            .filter_map(|t| t.check_rows().err())
            .flatten()
            .collect();
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ScenarioErrors(errs))
        }
    }

    /// Like [`Scenario::run`], handing every row to `sink` as it becomes final.
    pub fn run_with(&self, sink: Option<&mut dyn RowSink>) -> Result<Output, ScenarioErrors> {
        self.run_feeding(sink, false)
    }

    /// Like [`Scenario::run_with`], with the CSV traces that are streamed from their file
    /// (not held in memory) read and checked on a second thread ahead of the run
    /// ([`crate::trace::ahead`]): the same output and the same errors, in less time when
    /// a second core is free. For a single run; a study that runs many at once on every
    /// core holds its traces ([`Scenario::hold_traces`]) and has no use for it.
    pub fn run_reading_ahead(
        &self,
        sink: Option<&mut dyn RowSink>,
    ) -> Result<Output, ScenarioErrors> {
        let streamed = self.csv_traces.iter().any(|t| t.held.is_none());
        self.run_feeding(sink, streamed)
    }

    fn run_feeding(
        &self,
        sink: Option<&mut dyn RowSink>,
        ahead: bool,
    ) -> Result<Output, ScenarioErrors> {
        let mut feeds = Vec::new();
        for t in &self.csv_traces {
            feeds.push(t.feed().map_err(|e| ScenarioErrors(vec![e]))?);
        }
        let checked = self.checked.clone();
        let run = |feed: Option<&mut dyn DemandFeed>| {
            let mut sim = match feed {
                None => Simulation::prepared(&self.input, checked),
                Some(f) => Simulation::prepared_with_feed(&self.input, checked, f),
            };
            if let Some(s) = sink {
                sim.set_sink(s);
            }
            sim.run()
        };
        let (out, errs) = if self.csv_traces.is_empty() {
            (run(None), Vec::new())
        } else if ahead {
            with_read_ahead(feeds, |f| run(Some(f)))
        } else {
            let mut merged = MergedFeed::new(feeds);
            let out = run(Some(&mut merged));
            (out, merged.errors())
        };
        if errs.is_empty() {
            Ok(out)
        } else {
            Err(ScenarioErrors(errs))
        }
    }
}

/// Loads and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioErrors> {
    load_with(path, &Overrides::default())
}

/// Loads and checks a scenario file with overrides.
pub fn load_with(path: &Path, ov: &Overrides) -> Result<Scenario, ScenarioErrors> {
    let bytes = crate::bounded::read_file(path, crate::bounded::MAX_SCENARIO_BYTES, "scenario")
        .map_err(|e| ScenarioErrors(vec![ScenarioError::new(path, "", e)]))?;
    parse(&bytes, path, ov)
}

/// Parses and checks scenario text; `path` names it in errors and anchors relative trace paths.
///
/// Every problem is reported at once: a syntax error alone (nothing else can be read then);
/// otherwise every structural error (unknown fields, types, enum values, a field of another
/// kind, missing fields), then the value checks of everything that could be read.
pub fn parse(bytes: &[u8], path: &Path, ov: &Overrides) -> Result<Scenario, ScenarioErrors> {
    let bytes = without_bom(bytes);
    let text = String::from_utf8_lossy(bytes);
    let read = read::read(bytes, &text, path).map_err(|e| ScenarioErrors(vec![e]))?;
    let mut errs = read.errs;
    let Some(def) = read.def else {
        return Err(ScenarioErrors(errs));
    };
    match check(def, path, &text, ov, read.gaps, (&[], false)) {
        Ok(s) if errs.is_empty() => Ok(s),
        Ok(_) => Err(ScenarioErrors(errs)),
        Err(e) => {
            errs.extend(e.0);
            Err(ScenarioErrors(errs))
        }
    }
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
    check(def, path, text, ov, read::Gaps::default(), (&[], false))
}

/// Like [`resolve`], each CSV trace's one checking pass keeping its values in memory
/// ([`crate::trace::csv::CsvTrace::held`], at most [`crate::trace::csv::MAX_HELD`], more is
/// an error): every run of the scenario, of its clones and of the scenarios resolved with
/// its traces as known ([`resolve_known`]) replays them instead of reading the file. What a
/// study of many runs resolves first, so that it parses its traces once.
pub fn resolve_holding(
    def: ScenarioDef,
    path: &Path,
    text: &str,
    ov: &Overrides,
) -> Result<Scenario, ScenarioErrors> {
    check(def, path, text, ov, read::Gaps::default(), (&[], true))
}

/// Like [`resolve`], with CSV traces already checked (perhaps held) by an earlier resolve of
/// the same file: a trace of `def` that is read exactly as one of `known` (same file, unit,
/// series taken by the same workloads with the same request rule and idle delay, same
/// `ignore_unknown` and start) would pass the same checks with the same values, so it is
/// taken from `known` instead of being read again. Every other check runs as in
/// [`resolve`], with the same messages.
pub fn resolve_known(
    def: ScenarioDef,
    path: &Path,
    text: &str,
    ov: &Overrides,
    known: &[CsvTrace],
) -> Result<Scenario, ScenarioErrors> {
    check(def, path, text, ov, read::Gaps::default(), (known, false))
}

/// The value checks of `def`, which leave alone the `gaps` that reading it left.
fn check(
    def: ScenarioDef,
    path: &Path,
    text: &str,
    ov: &Overrides,
    gaps: read::Gaps,
    (known, hold): (&[CsvTrace], bool),
) -> Result<Scenario, ScenarioErrors> {
    let mut r = Resolver {
        path,
        known,
        hold,
        loc: Locator::new(text),
        errs: Vec::new(),
        paths: gaps.paths.clone(),
        gaps,
        samples: 0,
    };
    let out = r.resolve(def, ov);
    if r.errs.is_empty() {
        if let Some(s) = out {
            return Ok(s);
        }
    }
    Err(ScenarioErrors(r.errs))
}

/// A UTF-8 byte order mark is accepted (as CSV traces accept it), not read as text.
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Reads the definition, every structural problem at once (see [`parse`]), without the value
/// checks.
pub fn read_def(bytes: &[u8], path: &Path) -> Result<ScenarioDef, ScenarioErrors> {
    let bytes = without_bom(bytes);
    let text = String::from_utf8_lossy(bytes);
    let read = read::read(bytes, &text, path).map_err(|e| ScenarioErrors(vec![e]))?;
    match read.def {
        Some(def) if read.errs.is_empty() => Ok(def),
        _ => Err(ScenarioErrors(read.errs)),
    }
}

/// Reads the definition like [`read_def`], reporting only the first problem in the file.
pub fn parse_def(bytes: &[u8], path: &Path) -> Result<ScenarioDef, ScenarioError> {
    read_def(bytes, path).map_err(|e| {
        e.0.into_iter()
            .next()
            .unwrap_or_else(|| ScenarioError::new(path, "", "the scenario cannot be read"))
    })
}

/// Walks one definition, collecting every problem with its place in the file.
struct Resolver<'a> {
    path: &'a Path,
    /// CSV traces checked by an earlier resolve of the same file (see [`resolve_known`]).
    known: &'a [CsvTrace],
    /// Keep the values of every CSV trace checked (see [`resolve_holding`]).
    hold: bool,
    /// The file's text, to place errors and read numbers as written.
    loc: Locator<'a>,
    errs: Vec<ScenarioError>,
    /// The JSON path of each error found in the file itself (and of each gap).
    paths: Vec<JsonPath>,
    /// What reading the file left out or filled in: not checked here.
    gaps: read::Gaps,
    /// Generator samples drawn so far, over every workload (at most [`MAX_SAMPLES`]).
    samples: u64,
}

impl Resolver<'_> {
    /// A name of a subnet, workload, trace or the scenario (`what`) at `p`: not empty, no
    /// control character (NUL included), no path separator, at most [`MAX_NAME_CHARS`]
    /// characters (Google's limit for subnet and Cloud Run names), since names become file
    /// names and labels.
    fn name(&mut self, p: &JsonPath, what: &str, name: &str) {
        let n = name.chars().count();
        let why = if name.trim().is_empty() {
            "is empty".to_string()
        } else if name.chars().any(char::is_control) {
            "holds a control character (NUL, tab, line break...)".to_string()
        } else if name.contains(['/', '\\']) {
            "holds a path separator ('/' or '\\')".to_string()
        } else if n > MAX_NAME_CHARS {
            format!("has {n} characters, more than the {MAX_NAME_CHARS} Google allows")
        } else {
            return;
        };
        self.err(
            p.clone(),
            format!(
                "the {what} name {} {why}; use letters, digits, '-' and '_'",
                crate::bounded::excerpt(name)
            ),
        );
    }

    fn err(&mut self, path: impl Into<JsonPath>, msg: impl Into<String>) {
        let path = path.into();
        if self.gaps.covers(&path) {
            return; // a placeholder's, or about a part left out
        }
        let (l, c) = self.loc.locate(&path).unzip();
        self.errs
            .push(ScenarioError::new(self.path, path.to_string(), msg).at(l, c));
        self.paths.push(path);
    }

    fn file(&self, rel: &str) -> PathBuf {
        let base = self.path.parent().unwrap_or(Path::new("."));
        base.join(rel)
    }

    /// The number at `path` as written in the file (its JSON token), `v` being what serde read
    /// there; a token that is missing or does not read back as `v` falls back to `v`'s decimal.
    fn exact(&mut self, path: &JsonPath, v: f64) -> Exact {
        if let Some(tok) = self
            .loc
            .token_at(path)
            .filter(|t| t.parse::<f64>() == Ok(v))
        {
            match Exact::parse(tok) {
                Ok(x) => return x,
                Err(e @ ParseError::OutOfRange) => self.err(path.clone(), format!("{tok} is {e}")),
                Err(_) => {} // a negative value: reported by the range checks
            }
        }
        Exact::from_f64_decimal(v).unwrap_or_else(Exact::zero)
    }

    /// A count or rate of 0 or more, at most `max` (an absurd-value cap).
    fn count(&mut self, path: &JsonPath, v: f64, max: f64, what: &str) {
        if !v.is_finite() || v < 0.0 {
            self.err(path.clone(), format!("{v} is not {what} of 0 or more"));
        } else if v > max {
            self.err(
                path.clone(),
                format!("{v} is absurdly large for {what} (at most {max})"),
            );
        }
    }

    /// Every section in file order, then the core's checks.
    fn resolve(&mut self, def: ScenarioDef, ov: &Overrides) -> Option<Scenario> {
        let (settings, params) = self.settings(&def);
        let (mut subnets, subnet_idx) = self.subnets(&def);
        let mut traces = self.traces(&def, settings.start);

        let mut rng = ChaCha8Rng::seed_from_u64(ov.seed.unwrap_or(def.seed));
        rng.set_stream(1); // noise has its own stream, apart from the run's RNG
        let n_declared = def.workloads.len();
        let mut w = self.workloads(&def, &settings, &subnet_idx, &mut traces, &mut rng);
        self.connector_rules(&def, &subnets);
        self.holders(&def, &mut subnets);
        for (i, t) in def.traces.iter().enumerate() {
            if let Some(f) = &t.functions {
                self.azure(i, t, f, &subnet_idx, &settings, &mut w);
            }
        }
        self.unused_series(&def, &traces);
        let csv_traces = self.csv_traces(&def, &mut traces, settings.start);

        let origins = Origins {
            n_declared,
            exec_origin: std::mem::take(&mut w.exec_origin),
            azure_from: std::mem::take(&mut w.azure_from),
            traced_swaps: std::mem::take(&mut traces.traced_swaps),
        };
        let mut input = SimInput::new(subnets, w.specs, settings.duration);
        input.params = params;
        input.seed = ov.seed.unwrap_or(def.seed);
        input.options = RunOptions::default();
        let checked = self.core_checks(&input, &origins);
        if !self.errs.is_empty() {
            return None;
        }
        Some(Scenario {
            path: self.path.to_path_buf(),
            def,
            input,
            start: settings.start,
            csv_traces,
            trace_notes: std::mem::take(&mut traces.notes),
            checked: checked?,
        })
    }

    /// The core's own checks, once, with each subnet laid out once; mapped to scenario paths.
    /// A core error about an element the scenario already found wrong is left out: that
    /// element holds a placeholder.
    /// Core errors that repeat (an execution definition repeated into many executions) are
    /// reported once.
    fn core_checks(&mut self, input: &SimInput, origins: &Origins) -> Option<Checked> {
        match input.check() {
            Ok(c) => Some(c),
            Err(es) => {
                let own = self.paths.clone();
                let mut seen = Vec::new();
                for e in es {
                    let path = core_path(&e.path, origins);
                    let moot = own.iter().any(|s| covers(s, &path));
                    let again = seen.contains(&(path.clone(), e.message.clone()));
                    if !moot && !again {
                        seen.push((path.clone(), e.message.clone()));
                        self.err(path, e.message);
                    }
                }
                None
            }
        }
    }
}

/// Whether a scenario error at `own` makes a core error at `core` moot: they are about the
/// same thing, or the core's is about a subnet the scenario already found wrong.
fn covers(own: &JsonPath, core: &JsonPath) -> bool {
    let subnets = JsonPath::from("subnets");
    own.starts_with(core)
        || core.starts_with(own)
        || (core.prefix(1) == subnets && core.prefix(2) == own.prefix(2))
}

/// Where the core's workloads, executions and swaps come from in the file.
struct Origins {
    /// Workloads declared in the file; the core's later ones come from Azure traces.
    n_declared: usize,
    /// Per job, the execution definition of each execution.
    exec_origin: BTreeMap<usize, Vec<usize>>,
    /// Per workload made from an Azure trace, the trace's index.
    azure_from: Vec<usize>,
    /// Workloads whose swaps are a Cloud Monitoring export's deploys.
    traced_swaps: BTreeSet<usize>,
}

/// The place in the file of a core input path: a generated demand point is its workload's
/// `demand`, an execution its definition, a workload made from an Azure trace that trace's
/// `functions`.
fn core_path(p: &InputPath, o: &Origins) -> JsonPath {
    let workload = |i: usize| -> Result<JsonPath, JsonPath> {
        if i < o.n_declared {
            Ok(JsonPath::from("workloads").index(i))
        } else {
            let t = o.azure_from.get(i - o.n_declared).copied().unwrap_or(0);
            Err(JsonPath::from("traces").index(t).key("functions"))
        }
    };
    match *p {
        InputPath::Duration => "duration".into(),
        InputPath::Param(f) => param(match f {
            ParamField::BlockSize => "block_size",
            ParamField::IpsPerInstance => "ips_per_instance",
            ParamField::IpsPerTask => "ips_per_task",
            ParamField::RetryIntervalMs => "retry_interval",
        }),
        InputPath::Subnets => "subnets".into(),
        // The file gives base and prefix length together.
        InputPath::Subnet {
            subnet,
            field: SubnetField::Cidr | SubnetField::PrefixLen,
        } => JsonPath::from("subnets").index(subnet).key("cidr"),
        InputPath::Static { subnet, index } => JsonPath::from("subnets")
            .index(subnet)
            .key("statics")
            .index(index),
        InputPath::Reserved { subnet, index } => JsonPath::from("subnets")
            .index(subnet)
            .key("reserved")
            .index(index),
        InputPath::Workload { workload: i, field } => match workload(i) {
            Ok(w) => w.key(match field {
                WorkloadField::Subnet => "subnet",
                WorkloadField::MinInstances => "min_instances",
                WorkloadField::MaxInstances => "max_instances",
                WorkloadField::ThroughputPerInstanceMbps => "throughput_per_instance",
            }),
            Err(t) => t,
        },
        InputPath::DemandPoint { workload: i, .. } | InputPath::Observed { workload: i, .. } => {
            match workload(i) {
                Ok(w) => w.key("demand"),
                Err(t) => t,
            }
        }
        InputPath::Swap { workload: i, index } => match workload(i) {
            Ok(w) if o.traced_swaps.contains(&i) => w.key("demand"),
            Ok(w) => w.key("swaps").index(index).key("at"),
            Err(t) => t,
        },
        InputPath::Execution {
            workload: i,
            index,
            field,
        } => match workload(i) {
            Ok(w) => match o.exec_origin.get(&i).and_then(|v| v.get(index)) {
                Some(&j) => w.key("executions").index(j).key(match field {
                    ExecutionField::StartMs => "start",
                    ExecutionField::Durations => "task_duration",
                }),
                None => w.key("executions"),
            },
            Err(t) => t,
        },
    }
}

/// `params.<name>`.
fn param(name: &str) -> JsonPath {
    JsonPath::from("params").key(name)
}
