//! Variations of a scenario: typed edits of its definition, applied to a clone of it and
//! resolved, with no JSON round trip. Sweeps, sizing and comparisons all run variations this
//! way.
//!
//! A [`Field`] names a number in a scenario (`subnet.main.prefix`, `surge.peak`,
//! `params.block_size`); [`Field::parse`] reads the `--vary` form once. An [`Edit`] sets a
//! field, or a non-numeric parameter (strategy, block scope, retention). [`Base`] holds the
//! scenario as loaded and turns edits into a checked [`Scenario`].
//!
//! Paths outside the typed set (`workloads[0].demand.peak`, `subnet.main.statics[0].count`)
//! are kept as [`JsonPath`]s, parsed once; the edits that use one go through the definition's
//! JSON form once per application (once per sweep point, never once per run).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ipsim_core::Strategy;
use ipsim_scenario::def::{
    DemandDef, EdgeDef, KindDef, RetentionDef, ScenarioDef, ScopeDef, StrategyDef, SubnetDef,
    WorkloadDef, WorkloadKindDef,
};
use ipsim_scenario::trace::csv::CsvTrace;
use ipsim_scenario::{Duration, Overrides, Scenario, ScenarioError, ScenarioErrors};
use serde_json::Value;

/// A scenario as loaded: its definition and the text it came from (which places errors).
///
/// Its CSV traces are read once for all the variations it resolves: the first resolve checks
/// the scenario as written once, keeping each trace's values in memory
/// ([`ipsim_scenario::resolve_holding`]), and every variation that reads a trace the same way
/// takes it from there ([`ipsim_scenario::resolve_known`]), checks and all, so that no run
/// reads a file again. Clones share them.
#[derive(Debug, Clone)]
pub struct Base {
    /// The file.
    pub path: PathBuf,
    /// The definition as written.
    pub def: ScenarioDef,
    text: String,
    /// The CSV traces of the scenario as written, checked and held once (empty if it has
    /// none, or if they could not be held: then each variation reads them).
    known: Arc<OnceLock<Vec<CsvTrace>>>,
}

impl Base {
    /// Reads and parses the scenario file (not yet checked: see [`Base::resolve`]).
    pub fn load(path: &Path) -> Result<Base, ScenarioErrors> {
        use ipsim_scenario::bounded;
        let bytes = bounded::read_file(path, bounded::MAX_SCENARIO_BYTES, "scenario").map_err(
            |message| {
                ScenarioErrors(vec![ScenarioError {
                    file: path.to_path_buf(),
                    path: String::new(),
                    line: None,
                    column: None,
                    message,
                }])
            },
        )?;
        Base::parse(&bytes, path)
    }

    /// Parses scenario text; `path` names it in errors and anchors relative trace paths.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Base, ScenarioErrors> {
        let def = ipsim_scenario::read_def(bytes, path)?;
        pipes_refused(&def, path)?;
        Ok(Base {
            path: path.to_path_buf(),
            def,
            text: String::from_utf8_lossy(bytes).into_owned(),
            known: Arc::default(),
        })
    }

    /// The definition with `edits` applied to a clone of it.
    pub fn edited(&self, edits: &[Edit]) -> Result<ScenarioDef, String> {
        let mut def = self.def.clone();
        apply(&mut def, edits)?;
        Ok(def)
    }

    /// Checks `def` (this scenario or a variation of it), with `seed` replacing its seed; its
    /// CSV traces come from those held for every variation when it reads them the same way.
    pub fn resolve(&self, def: ScenarioDef, seed: Option<u64>) -> Result<Scenario, ScenarioErrors> {
        let known = self.known();
        ipsim_scenario::resolve_known(def, &self.path, &self.text, &Overrides { seed }, known)
    }

    /// The CSV traces held for every variation: read once, on first use.
    fn known(&self) -> &[CsvTrace] {
        self.known.get_or_init(|| {
            use ipsim_scenario::def::TraceFormat;
            if !self.def.traces.iter().any(|t| t.format == TraceFormat::Csv) {
                return Vec::new();
            }
            let ov = Overrides::default();
            // A scenario that does not resolve as written (or a trace too long to hold)
            // holds nothing: each variation then reads and reports as it always did.
            ipsim_scenario::resolve_holding(self.def.clone(), &self.path, &self.text, &ov)
                .map(|s| s.csv_traces)
                .unwrap_or_default()
        })
    }

    /// The scenario with `edits` applied, checked; an edit that cannot apply is an error with
    /// an empty JSON path.
    pub fn scenario(&self, edits: &[Edit], seed: Option<u64>) -> Result<Scenario, ScenarioErrors> {
        let def = self.edited(edits).map_err(|m| self.error(m))?;
        self.resolve(def, seed)
    }

    /// Like [`Base::scenario`], taking `once` (this scenario resolved with `seed`) with its
    /// choices when the edits change only the strategy, block scope or retention
    /// ([`Scenario::with_choices`]: its input, traces and laid-out subnets kept).
    pub fn scenario_from(
        &self,
        once: Option<&Scenario>,
        edits: &[Edit],
        seed: Option<u64>,
    ) -> Result<Scenario, ScenarioErrors> {
        let def = self.edited(edits).map_err(|m| self.error(m))?;
        match once.and_then(|o| o.with_choices(def.clone())) {
            Some(s) => Ok(s),
            None => self.resolve(def, seed),
        }
    }

    /// An error about the whole scenario file.
    pub fn error(&self, message: String) -> ScenarioErrors {
        ScenarioErrors(vec![ScenarioError {
            file: self.path.clone(),
            path: String::new(),
            line: None,
            column: None,
            message,
        }])
    }
}

/// A study resolves the scenario once per variation, reading its traces each time: a trace
/// that is not a regular file (a named pipe, `<(...)`) could be read only once, and opening it
/// again would wait for a writer for ever. `ipsim run` and `ipsim validate` read one.
fn pipes_refused(def: &ScenarioDef, path: &Path) -> Result<(), ScenarioErrors> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut errs = Vec::new();
    for (i, t) in def.traces.iter().enumerate() {
        let mut files: Vec<(String, &str)> = t
            .file
            .paths()
            .into_iter()
            .map(|f| (format!("traces[{i}].file"), f))
            .collect();
        if let Some(d) = t
            .functions
            .as_ref()
            .and_then(|f| f.durations_file.as_deref())
        {
            files.push((format!("traces[{i}].functions.durations_file"), d));
        }
        for (at, f) in files {
            let full = dir.join(f);
            if std::fs::metadata(&full).is_ok_and(|m| !m.is_file()) {
                errs.push(ScenarioError {
                    file: path.to_path_buf(),
                    path: at,
                    line: None,
                    column: None,
                    message: format!(
                        "{} is not a regular file (a pipe?); a sweep, size, compare or bracket reads the traces once per variation, so write it to a file (ipsim run and ipsim validate read a pipe)",
                        full.display()
                    ),
                });
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ScenarioErrors(errs))
    }
}

/// The parameters `s` runs with, fully resolved, the demand parameters included.
pub fn resolved_params(s: &Scenario) -> ipsim_report::ResolvedParams {
    let pd = &s.def.params;
    let d = ipsim_report::DemandParams::default();
    let demand = ipsim_report::DemandParams {
        concurrency: pd.concurrency.unwrap_or(d.concurrency),
        target_utilization: pd.target_utilization.unwrap_or(d.target_utilization),
        sample_interval_ms: pd
            .sample_interval
            .map_or(d.sample_interval_ms, Duration::ms),
    };
    ipsim_report::ResolvedParams::of(&s.input, Some(demand))
}

/// Turns off what studies never read: subnet and workload series, and the event log.
pub fn quiet(s: &mut Scenario) {
    s.input.options.record_subnet_series = false;
    s.input.options.record_workload_series = false;
    s.input.options.log_limit = 0;
}

/// One change to a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Set a numeric field.
    Set(Field, f64),
    /// Set `params.strategy`.
    Strategy(StrategyDef),
    /// Set `params.block_scope`.
    BlockScope(ScopeDef),
    /// Set `params.retention`.
    Retention(RetentionDef),
    /// Set `edge_blocks` of every subnet no connector uses (a connector's /28 holds no Cloud
    /// Run block).
    EdgeBlocks(EdgeDef),
    /// A lever: what the user controls.
    Lever(Lever),
}

/// What a user controls, for `ipsim compare` to weigh beside the undocumented choices. A
/// `None` workload means every workload it applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Lever {
    /// Every swap's gradual rollout takes this long.
    Rollout(Option<String>, Duration),
    /// The first swap moves to this time; later swaps keep their distance to it.
    DeployAt(Option<String>, Duration),
    /// `max_instances` of services and worker pools.
    MaxInstances(Option<String>, u32),
    /// The workload moves to another subnet: one of the scenario's, or a new one of this CIDR
    /// (named `WORKLOAD-subnet`).
    Move(String, String),
}

fn picks(w: &WorkloadDef, name: &Option<String>) -> bool {
    name.as_ref().is_none_or(|n| *n == w.name)
}

fn lever(def: &mut ScenarioDef, l: &Lever) -> Result<(), String> {
    let check = |def: &ScenarioDef, name: &Option<String>| -> Result<(), String> {
        match name {
            Some(n) if !def.workloads.iter().any(|w| w.name == *n) => {
                let names: Vec<&str> = def.workloads.iter().map(|w| w.name.as_str()).collect();
                Err(format!(
                    "there is no workload named {n:?}; there are: {}",
                    names.join(", ")
                ))
            }
            _ => Ok(()),
        }
    };
    match l {
        Lever::Rollout(name, d) => {
            check(def, name)?;
            let mut n = 0;
            for w in def.workloads.iter_mut().filter(|w| picks(w, name)) {
                for s in swaps_mut(w) {
                    s.rollout = *d;
                    n += 1;
                }
            }
            if n == 0 {
                return Err("no workload has a swap to roll out".into());
            }
        }
        Lever::DeployAt(name, t) => {
            check(def, name)?;
            let mut n = 0;
            for w in def.workloads.iter_mut().filter(|w| picks(w, name)) {
                let swaps = swaps_mut(w);
                let Some(first) = swaps.first().map(|s| s.at.ms()) else {
                    continue;
                };
                for s in swaps {
                    s.at = Duration(s.at.ms().saturating_sub(first).saturating_add(t.ms()));
                    n += 1;
                }
            }
            if n == 0 {
                return Err("no workload has a swap to move".into());
            }
        }
        Lever::MaxInstances(name, m) => {
            check(def, name)?;
            for w in def.workloads.iter_mut().filter(|w| picks(w, name)) {
                if let WorkloadKindDef::Service(sc) | WorkloadKindDef::WorkerPool(sc) = &mut w.kind
                {
                    sc.max_instances = Some(*m);
                }
            }
        }
        Lever::Move(name, target) => {
            let wl = Some(name.clone());
            check(def, &wl)?;
            let subnet = if def.subnets.iter().any(|s| s.name == *target) {
                target.clone()
            } else if target.contains('/') {
                let new = format!("{name}-subnet");
                if !def.subnets.iter().any(|s| s.name == new) {
                    def.subnets.push(SubnetDef {
                        name: new.clone(),
                        cidr: target.clone(),
                        statics: Vec::new(),
                        edge_blocks: None,
                        allow_small_subnet: false,
                        allow_unsupported_range: false,
                        reserved: Vec::new(),
                    });
                }
                new
            } else {
                let names: Vec<&str> = def.subnets.iter().map(|s| s.name.as_str()).collect();
                return Err(format!(
                    "{target:?} is neither a subnet of the scenario ({}) nor a CIDR like 10.0.8.0/24",
                    names.join(", ")
                ));
            };
            for w in def.workloads.iter_mut().filter(|w| w.name == *name) {
                w.subnet = subnet.clone();
            }
        }
    }
    Ok(())
}

/// The swaps of a service or worker pool (none for other kinds).
fn swaps_mut(w: &mut WorkloadDef) -> &mut [ipsim_scenario::def::SwapDef] {
    match &mut w.kind {
        WorkloadKindDef::Service(s) | WorkloadKindDef::WorkerPool(s) => &mut s.swaps,
        WorkloadKindDef::Job(_) | WorkloadKindDef::Connector(_) => &mut [],
    }
}

/// A numeric field of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `subnet.NAME.prefix`: the prefix length of a subnet; its base is masked to it.
    SubnetPrefix(String),
    /// `workload.NAME.F`: a field of one workload.
    Workload(String, WorkloadField),
    /// `surge.F` (`constant.F`, `diurnal.F`): field F of every demand of that type.
    Demand(DemandField),
    /// `params.F`: a model parameter.
    Param(ParamField),
    /// `duration`: the run's length.
    Duration,
    /// `params.block_scope`, `params.retention`, `params.edge_blocks`, `params.strategy`: a
    /// parameter that takes a name; the value is the index of the name in
    /// [`Named::names`].
    Named(Named),
    /// Any other path, into the scenario's JSON.
    Json(JsonPath),
}

/// A parameter that takes one of a few names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// An undocumented choice: block scope, retention, edge blocks (every subnet no
    /// connector uses).
    Choice(ipsim_report::assumptions::Choice),
    /// The placement strategy.
    Strategy,
}

impl Named {
    /// `params.block_scope` and the like.
    pub fn of_path(path: &str) -> Option<Named> {
        use ipsim_report::assumptions::Choice;
        match path {
            "params.block_scope" => Some(Named::Choice(Choice::BlockScope)),
            "params.retention" => Some(Named::Choice(Choice::Retention)),
            "params.edge_blocks" => Some(Named::Choice(Choice::EdgeBlocks)),
            "params.strategy" => Some(Named::Strategy),
            _ => None,
        }
    }

    /// Its names, in order.
    pub fn names(self) -> Vec<&'static str> {
        match self {
            Named::Choice(c) => c.readings().to_vec(),
            Named::Strategy => Strategy::ALL.iter().map(|s| s.name()).collect(),
        }
    }

    /// The edit that sets it to its `i`th name.
    pub fn edit(self, i: usize) -> Result<Edit, String> {
        let names = self.names();
        let name = names
            .get(i)
            .ok_or_else(|| format!("{i} is not the index of one of {}", names.join(", ")))?;
        let key = match self {
            Named::Choice(c) => format!("{}={name}", c.key()),
            Named::Strategy => name.to_string(),
        };
        let mut v = crate::compare::parse_variant(&key)?;
        v.edits
            .pop()
            .ok_or_else(|| format!("{key} changes nothing"))
    }
}

/// A numeric field of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadField {
    /// `min_instances`.
    MinInstances,
    /// `max_instances`.
    MaxInstances,
    /// `quota`.
    Quota,
    /// `idle_delay`.
    IdleDelay,
    /// `throughput_per_instance`.
    ThroughputPerInstance,
    /// `demand.F`: a field of its demand, whatever its type.
    Demand(DemandField),
}

/// A numeric field of a generated demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandField {
    /// `constant.value`.
    ConstantValue,
    /// `surge.base`.
    SurgeBase,
    /// `surge.peak`.
    SurgePeak,
    /// `surge.start`.
    SurgeStart,
    /// `surge.rise`.
    SurgeRise,
    /// `surge.hold`.
    SurgeHold,
    /// `surge.fall`.
    SurgeFall,
    /// `diurnal.mean`.
    DiurnalMean,
    /// `diurnal.amplitude`.
    DiurnalAmplitude,
    /// `diurnal.phase`.
    DiurnalPhase,
    /// `diurnal.period`.
    DiurnalPeriod,
}

/// A numeric model parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamField {
    /// `ips_per_instance`.
    IpsPerInstance,
    /// `ips_per_task`.
    IpsPerTask,
    /// `service_retention`.
    ServiceRetention,
    /// `task_retention`.
    TaskRetention,
    /// `block_size`.
    BlockSize,
    /// `block_linger`.
    BlockLinger,
    /// `retry_interval`.
    RetryInterval,
    /// `max_task_retries`.
    MaxTaskRetries,
    /// `concurrency`.
    Concurrency,
    /// `target_utilization`.
    TargetUtilization,
    /// `sample_interval`.
    SampleInterval,
}

const PARAMS: [(&str, ParamField); 11] = [
    ("ips_per_instance", ParamField::IpsPerInstance),
    ("ips_per_task", ParamField::IpsPerTask),
    ("service_retention", ParamField::ServiceRetention),
    ("task_retention", ParamField::TaskRetention),
    ("block_size", ParamField::BlockSize),
    ("block_linger", ParamField::BlockLinger),
    ("retry_interval", ParamField::RetryInterval),
    ("max_task_retries", ParamField::MaxTaskRetries),
    ("concurrency", ParamField::Concurrency),
    ("target_utilization", ParamField::TargetUtilization),
    ("sample_interval", ParamField::SampleInterval),
];

const DEMANDS: [(&str, &str, DemandField); 11] = [
    ("constant", "value", DemandField::ConstantValue),
    ("surge", "base", DemandField::SurgeBase),
    ("surge", "peak", DemandField::SurgePeak),
    ("surge", "start", DemandField::SurgeStart),
    ("surge", "rise", DemandField::SurgeRise),
    ("surge", "hold", DemandField::SurgeHold),
    ("surge", "fall", DemandField::SurgeFall),
    ("diurnal", "mean", DemandField::DiurnalMean),
    ("diurnal", "amplitude", DemandField::DiurnalAmplitude),
    ("diurnal", "phase", DemandField::DiurnalPhase),
    ("diurnal", "period", DemandField::DiurnalPeriod),
];

const WORKLOAD: [(&str, WorkloadField); 5] = [
    ("min_instances", WorkloadField::MinInstances),
    ("max_instances", WorkloadField::MaxInstances),
    ("quota", WorkloadField::Quota),
    ("idle_delay", WorkloadField::IdleDelay),
    (
        "throughput_per_instance",
        WorkloadField::ThroughputPerInstance,
    ),
];

impl DemandField {
    /// The demand type it belongs to and its name there: (`surge`, `peak`).
    pub fn name(self) -> (&'static str, &'static str) {
        DEMANDS
            .iter()
            .find(|d| d.2 == self)
            .map_or(("?", "?"), |d| (d.0, d.1))
    }

    fn of(kind: &str, field: &str) -> Result<DemandField, String> {
        if let Some(d) = DEMANDS.iter().find(|d| d.0 == kind && d.1 == field) {
            return Ok(d.2);
        }
        let fields: Vec<&str> = DEMANDS
            .iter()
            .filter(|d| d.0 == kind)
            .map(|d| d.1)
            .collect();
        Err(if fields.is_empty() {
            format!("a {kind} demand has no single-number field (vary its points with a JSON path)")
        } else {
            format!(
                "a {kind} demand has no number field {field:?}; its fields: {}",
                fields.join(", ")
            )
        })
    }
}

impl Field {
    /// Reads a `--vary` path: `subnet.NAME.prefix`, `workload.NAME.F`, `surge.F` (and
    /// `constant.F`, `diurnal.F`, `step.F`), `params.F`, `duration`, or a JSON path.
    pub fn parse(path: &str) -> Result<Field, String> {
        let (head, rest) = path.split_once('.').unwrap_or((path, ""));
        let nested = !rest.is_empty() && !rest.starts_with('[');
        match head {
            "subnet" | "subnets" if nested => {
                let (name, field) = rest.rsplit_once('.').ok_or_else(|| {
                    format!("{path:?}: expected subnet.NAME.FIELD, like subnet.main.prefix")
                })?;
                if field == "prefix" {
                    Ok(Field::SubnetPrefix(name.to_string()))
                } else {
                    JsonPath::parse(Anchor::Subnet(name.to_string()), field).map(Field::Json)
                }
            }
            "workload" | "workloads" if nested => {
                let (name, field) = rest.split_once('.').ok_or_else(|| {
                    format!(
                        "{path:?}: expected workload.NAME.FIELD, like workload.api.max_instances"
                    )
                })?;
                if let Some(&(_, f)) = WORKLOAD.iter().find(|w| w.0 == field) {
                    return Ok(Field::Workload(name.to_string(), f));
                }
                if let Some(d) = field.strip_prefix("demand.") {
                    if let Some(x) = DEMANDS.iter().find(|x| x.1 == d) {
                        return Ok(Field::Workload(
                            name.to_string(),
                            WorkloadField::Demand(x.2),
                        ));
                    }
                }
                JsonPath::parse(Anchor::Workload(name.to_string()), field).map(Field::Json)
            }
            "constant" | "step" | "surge" | "diurnal" if !rest.is_empty() => {
                DemandField::of(head, rest).map(Field::Demand)
            }
            "params" if !rest.is_empty() => match PARAMS.iter().find(|p| p.0 == rest) {
                Some(&(_, f)) => Ok(Field::Param(f)),
                None if Named::of_path(path).is_some() => Ok(Field::Named(
                    Named::of_path(path).unwrap_or(Named::Strategy),
                )),
                None => Err(format!(
                    "params has no number field {rest:?}; its fields: {}",
                    PARAMS.map(|p| p.0).join(", ")
                )),
            },
            "duration" if rest.is_empty() => Ok(Field::Duration),
            _ => JsonPath::parse(Anchor::Root, path).map(Field::Json),
        }
    }

    /// Checks what `v` must be whatever the scenario: a whole number for counts and prefixes,
    /// 0 or more for durations.
    pub fn check(&self, v: f64) -> Result<(), String> {
        match self.kind() {
            Kind::Prefix => whole(v, 32).map(drop),
            Kind::Count => whole(v, u64::from(u32::MAX)).map(drop),
            Kind::Duration => duration(v).map(drop),
            Kind::Real | Kind::Json => Ok(()),
            Kind::Named(n) => {
                let names = n.names();
                if v.fract() == 0.0 && v >= 0.0 && (v as usize) < names.len() {
                    Ok(())
                } else {
                    Err(format!("{v} is not one of {}", names.join(", ")))
                }
            }
        }
    }

    /// Whether its values are durations (in milliseconds).
    pub fn is_duration(&self) -> bool {
        self.kind() == Kind::Duration
    }

    fn kind(&self) -> Kind {
        use DemandField::*;
        use ParamField::*;
        let demand = |d: DemandField| match d {
            SurgeStart | SurgeRise | SurgeHold | SurgeFall | DiurnalPhase | DiurnalPeriod => {
                Kind::Duration
            }
            ConstantValue | SurgeBase | SurgePeak | DiurnalMean | DiurnalAmplitude => Kind::Real,
        };
        match self {
            Field::SubnetPrefix(_) => Kind::Prefix,
            Field::Workload(_, w) => match w {
                WorkloadField::IdleDelay => Kind::Duration,
                WorkloadField::Demand(d) => demand(*d),
                _ => Kind::Count,
            },
            Field::Demand(d) => demand(*d),
            Field::Param(p) => match p {
                ServiceRetention | TaskRetention | BlockLinger | RetryInterval | SampleInterval => {
                    Kind::Duration
                }
                TargetUtilization => Kind::Real,
                IpsPerInstance | IpsPerTask | BlockSize | MaxTaskRetries | Concurrency => {
                    Kind::Count
                }
            },
            Field::Duration => Kind::Duration,
            Field::Named(n) => Kind::Named(*n),
            Field::Json(_) => Kind::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Prefix,
    Count,
    Duration,
    Real,
    Named(Named),
    Json,
}

fn whole(v: f64, max: u64) -> Result<u64, String> {
    if v.fract() == 0.0 && v >= 0.0 && v <= max as f64 {
        Ok(v as u64)
    } else if max == 32 {
        Err(format!("prefix {v} is not a whole number from 0 to 32"))
    } else {
        Err(format!("{v} is not a whole number from 0 to {max}"))
    }
}

fn count(v: f64) -> Result<u32, String> {
    whole(v, u64::from(u32::MAX)).map(|n| n as u32)
}

/// Milliseconds, rounded (values read as durations are whole already).
fn duration(v: f64) -> Result<Duration, String> {
    if v.is_finite() && v >= 0.0 {
        Ok(Duration(v.round() as u64))
    } else {
        Err(format!("{v} is not a duration of 0 ms or more"))
    }
}

fn named<'a, T>(
    items: &'a mut [T],
    name: &str,
    what: &str,
    name_of: impl Fn(&T) -> &str,
) -> Result<&'a mut T, String> {
    let names: Vec<String> = items.iter().map(|x| name_of(x).to_string()).collect();
    items
        .iter_mut()
        .find(|x| name_of(x) == name)
        .ok_or_else(|| {
            format!(
                "there is no {what} named {name:?}; there are: {}",
                names.join(", ")
            )
        })
}

fn subnet<'a>(def: &'a mut ScenarioDef, name: &str) -> Result<&'a mut SubnetDef, String> {
    named(&mut def.subnets, name, "subnet", |s| &s.name)
}

fn workload<'a>(def: &'a mut ScenarioDef, name: &str) -> Result<&'a mut WorkloadDef, String> {
    named(&mut def.workloads, name, "workload", |w| &w.name)
}

/// Sets field `f` of demand `d`; false if `d` has no such field.
fn set_demand(d: &mut DemandDef, f: DemandField, v: f64) -> Result<bool, String> {
    use DemandField::*;
    match (d, f) {
        (DemandDef::Constant { value }, ConstantValue) => *value = v,
        (DemandDef::Surge { base, .. }, SurgeBase) => *base = v,
        (DemandDef::Surge { peak, .. }, SurgePeak) => *peak = v,
        (DemandDef::Surge { start, .. }, SurgeStart) => *start = duration(v)?,
        (DemandDef::Surge { rise, .. }, SurgeRise) => *rise = duration(v)?,
        (DemandDef::Surge { hold, .. }, SurgeHold) => *hold = duration(v)?,
        (DemandDef::Surge { fall, .. }, SurgeFall) => *fall = duration(v)?,
        (DemandDef::Diurnal { mean, .. }, DiurnalMean) => *mean = v,
        (DemandDef::Diurnal { amplitude, .. }, DiurnalAmplitude) => *amplitude = v,
        (DemandDef::Diurnal { phase, .. }, DiurnalPhase) => *phase = duration(v)?,
        (DemandDef::Diurnal { period, .. }, DiurnalPeriod) => *period = Some(duration(v)?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn demand_type(d: &DemandDef) -> &'static str {
    match d {
        DemandDef::Constant { .. } => "constant",
        DemandDef::Step { .. } => "step",
        DemandDef::Surge { .. } => "surge",
        DemandDef::Diurnal { .. } => "diurnal",
        DemandDef::Trace { .. } => "trace",
    }
}

fn set_param(def: &mut ScenarioDef, f: ParamField, v: f64) -> Result<(), String> {
    use ParamField::*;
    let p = &mut def.params;
    match f {
        IpsPerInstance => p.ips_per_instance = Some(count(v)?),
        IpsPerTask => p.ips_per_task = Some(count(v)?),
        ServiceRetention => p.service_retention = Some(duration(v)?),
        TaskRetention => p.task_retention = Some(duration(v)?),
        BlockSize => p.block_size = Some(count(v)?),
        BlockLinger => p.block_linger = Some(duration(v)?),
        RetryInterval => p.retry_interval = Some(duration(v)?),
        MaxTaskRetries => p.max_task_retries = Some(count(v)?),
        Concurrency => p.concurrency = Some(count(v)?),
        TargetUtilization => p.target_utilization = Some(v),
        SampleInterval => p.sample_interval = Some(duration(v)?),
    }
    Ok(())
}

fn set(def: &mut ScenarioDef, field: &Field, v: f64) -> Result<(), String> {
    match field {
        Field::SubnetPrefix(name) => {
            let p = whole(v, 32)? as u8;
            let sn = subnet(def, name)?;
            let net: ipnet::Ipv4Net = sn
                .cidr
                .trim()
                .parse()
                .map_err(|_| format!("cidr {:?} is not a range", sn.cidr))?;
            let new = ipnet::Ipv4Net::new(net.addr(), p)
                .map_err(|e| e.to_string())?
                .trunc();
            sn.cidr = new.to_string();
        }
        Field::Workload(name, f) => {
            let w = workload(def, name)?;
            let kind = w.kind.tag();
            let none = |field: &str| {
                Err(format!(
                    "workload {name:?} is a {} and has no {field}",
                    kind_name(kind)
                ))
            };
            match (f, &mut w.kind) {
                (
                    WorkloadField::MinInstances,
                    WorkloadKindDef::Service(s) | WorkloadKindDef::WorkerPool(s),
                ) => s.min_instances = Some(count(v)?),
                (WorkloadField::MinInstances, WorkloadKindDef::Connector(c)) => {
                    c.min_instances = Some(count(v)?)
                }
                (
                    WorkloadField::MaxInstances,
                    WorkloadKindDef::Service(s) | WorkloadKindDef::WorkerPool(s),
                ) => s.max_instances = Some(count(v)?),
                (WorkloadField::MaxInstances, WorkloadKindDef::Connector(c)) => {
                    c.max_instances = Some(count(v)?)
                }
                (
                    WorkloadField::Quota,
                    WorkloadKindDef::Service(s) | WorkloadKindDef::WorkerPool(s),
                ) => s.quota = Some(count(v)?),
                (WorkloadField::Quota, WorkloadKindDef::Job(j)) => j.quota = Some(count(v)?),
                (
                    WorkloadField::IdleDelay,
                    WorkloadKindDef::Service(s) | WorkloadKindDef::WorkerPool(s),
                ) => s.idle_delay = Some(duration(v)?),
                (WorkloadField::ThroughputPerInstance, WorkloadKindDef::Connector(c)) => {
                    c.throughput_per_instance = Some(count(v)?);
                }
                (WorkloadField::Demand(d), k) => {
                    let (kind, field) = d.name();
                    let Some(demand) = k.demand_mut() else {
                        return none("demand");
                    };
                    let has = match demand {
                        Some(dd) => set_demand(dd, *d, v)?,
                        None => false,
                    };
                    if !has {
                        let what = demand.as_ref().map_or("no", demand_type);
                        return Err(format!(
                            "workload {name:?} has {what} demand, not a {kind} demand with a {field:?}"
                        ));
                    }
                }
                (WorkloadField::MinInstances, WorkloadKindDef::Job(_)) => {
                    return none("min_instances");
                }
                (WorkloadField::MaxInstances, WorkloadKindDef::Job(_)) => {
                    return none("max_instances");
                }
                (WorkloadField::Quota, WorkloadKindDef::Connector(_)) => return none("quota"),
                (
                    WorkloadField::IdleDelay,
                    WorkloadKindDef::Job(_) | WorkloadKindDef::Connector(_),
                ) => return none("idle_delay"),
                (
                    WorkloadField::ThroughputPerInstance,
                    WorkloadKindDef::Service(_)
                    | WorkloadKindDef::WorkerPool(_)
                    | WorkloadKindDef::Job(_),
                ) => return none("throughput_per_instance"),
            }
        }
        Field::Demand(d) => {
            let mut n = 0;
            for w in &mut def.workloads {
                if let Some(Some(dd)) = w.kind.demand_mut() {
                    if set_demand(dd, *d, v)? {
                        n += 1;
                    }
                }
            }
            if n == 0 {
                return Err(format!("no workload has a {:?} demand", d.name().0));
            }
        }
        Field::Param(p) => set_param(def, *p, v)?,
        Field::Duration => def.duration = duration(v)?,
        Field::Named(n) => apply(def, &[n.edit(whole(v, 64)? as usize)?])?,
        // `apply` sets JSON paths itself, all in one pass.
        Field::Json(p) => return Err(format!("{:?} is a JSON path", p.text)),
    }
    Ok(())
}

/// Applies `edits` in order to `def`; edits through a [`JsonPath`] apply after the typed
/// ones, all in one pass through the definition's JSON form.
pub fn apply(def: &mut ScenarioDef, edits: &[Edit]) -> Result<(), String> {
    let mut json: Vec<(&JsonPath, f64)> = Vec::new();
    for e in edits {
        match e {
            Edit::Set(Field::Json(p), v) => json.push((p, *v)),
            Edit::Set(f, v) => set(def, f, *v)?,
            Edit::Strategy(s) => def.params.strategy = Some(*s),
            Edit::BlockScope(s) => def.params.block_scope = Some(*s),
            Edit::Retention(r) => def.params.retention = Some(*r),
            Edit::Lever(l) => lever(def, l)?,
            Edit::EdgeBlocks(e) => {
                let connectors: Vec<String> = def
                    .workloads
                    .iter()
                    .filter(|w| w.kind.tag() == KindDef::Connector)
                    .map(|w| w.subnet.clone())
                    .collect();
                for s in &mut def.subnets {
                    if !connectors.contains(&s.name) {
                        s.edge_blocks = Some(*e);
                    }
                }
            }
        }
    }
    if json.is_empty() {
        return Ok(());
    }
    let mut doc = serde_json::to_value(&*def).map_err(|e| e.to_string())?;
    for (p, v) in json {
        p.set(&mut doc, v)?;
    }
    *def = serde_json::from_value(doc).map_err(|e| format!("the edited scenario: {e}"))?;
    Ok(())
}

/// The strategy of scenario files that a core strategy is.
pub fn strategy_def(s: Strategy) -> Result<StrategyDef, String> {
    serde_json::from_value(Value::from(s.name()))
        .map_err(|_| format!("strategy {:?} cannot be set in a scenario file", s.name()))
}

/// Where a [`JsonPath`] starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// The scenario object.
    Root,
    /// The subnet of that name.
    Subnet(String),
    /// The workload of that name.
    Workload(String),
}

/// One step of a [`JsonPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A path into the scenario's JSON (`workloads[0].demand.peak`), parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    anchor: Anchor,
    text: String,
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses `a.b[2].c` below `anchor`; the path must end at a field.
    pub fn parse(anchor: Anchor, path: &str) -> Result<JsonPath, String> {
        let mut steps = Vec::new();
        for part in path.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(b) => (&part[..b], &part[b..]),
                None => (part, ""),
            };
            if !key.is_empty() {
                steps.push(Step::Key(key.to_string()));
            }
            while let Some(s) = rest.strip_prefix('[') {
                let end = s
                    .find(']')
                    .ok_or_else(|| format!("unclosed '[' in {part:?}"))?;
                let n: usize = s[..end]
                    .parse()
                    .map_err(|_| format!("{:?} is not an index", &s[..end]))?;
                steps.push(Step::Index(n));
                rest = &s[end + 1..];
            }
            if !rest.is_empty() {
                return Err(format!("{part:?} has text after its ']'"));
            }
        }
        match steps.last() {
            Some(Step::Key(_)) => Ok(JsonPath {
                anchor,
                text: path.to_string(),
                steps,
            }),
            Some(Step::Index(_)) => Err(format!("{path:?} ends at a list item, not a field")),
            None => Err(format!("{path:?} names no field")),
        }
    }

    /// Sets the field to `v`: a duration string stays a duration (written as milliseconds).
    fn set(&self, doc: &mut Value, v: f64) -> Result<(), String> {
        let mut cur = match &self.anchor {
            Anchor::Root => doc,
            Anchor::Subnet(n) => json_named(doc, "subnets", n)?,
            Anchor::Workload(n) => json_named(doc, "workloads", n)?,
        };
        let Some((Step::Key(leaf), inner)) = self.steps.split_last() else {
            return Err(format!("{:?} names no field", self.text));
        };
        let mut walked = String::new();
        for s in inner {
            match s {
                Step::Key(k) => {
                    if !walked.is_empty() {
                        walked.push('.');
                    }
                    walked.push_str(k);
                    cur = cur
                        .get_mut(k.as_str())
                        .ok_or_else(|| format!("the scenario has no field {k:?} at {walked:?}"))?;
                }
                Step::Index(n) => {
                    walked.push_str(&format!("[{n}]"));
                    let len = cur.as_array().map_or(0, Vec::len);
                    cur = cur.get_mut(*n).ok_or_else(|| {
                        format!("index {n} is out of range at {walked:?} ({len} items)")
                    })?;
                }
            }
        }
        set_leaf(cur, leaf, v)
    }
}

fn json_named<'a>(doc: &'a mut Value, list: &str, name: &str) -> Result<&'a mut Value, String> {
    let items = doc
        .get_mut(list)
        .and_then(Value::as_array_mut)
        .ok_or_else(|| format!("the scenario has no {list}"))?;
    let names: Vec<String> = items
        .iter()
        .filter_map(|x| x.get("name").and_then(Value::as_str).map(String::from))
        .collect();
    items
        .iter_mut()
        .find(|x| x.get("name").and_then(Value::as_str) == Some(name))
        .ok_or_else(|| {
            format!(
                "there is no {} named {name:?}; there are: {}",
                list.trim_end_matches('s'),
                names.join(", ")
            )
        })
}

fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

/// Sets `leaf` in `obj` to `v`: a duration string stays a duration (written as milliseconds).
fn set_leaf(obj: &mut Value, leaf: &str, v: f64) -> Result<(), String> {
    let map = obj
        .as_object_mut()
        .ok_or_else(|| format!("{leaf:?} is not inside an object"))?;
    match map.get(leaf) {
        Some(Value::String(s)) if Duration::parse(s).is_ok() => {
            map.insert(leaf.to_string(), Value::from(duration(v)?.ms()));
        }
        Some(Value::String(s)) => return Err(format!("{leaf:?} holds {s:?}, not a number")),
        Some(Value::Object(_)) | Some(Value::Array(_)) => {
            return Err(format!("{leaf:?} is not a single number"));
        }
        _ => {
            map.insert(leaf.to_string(), number(v));
        }
    }
    Ok(())
}

/// A kind's name as a sentence says it.
fn kind_name(k: KindDef) -> &'static str {
    match k {
        KindDef::Service => "service",
        KindDef::WorkerPool => "worker pool",
        KindDef::Job => "job",
        KindDef::Connector => "connector",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ScenarioDef {
        let text = br#"{"name": "t", "description": "", "duration": "1h",
            "subnets": [{"name": "main", "cidr": "10.0.1.0/24"}],
            "workloads": [{"name": "api", "subnet": "main",
                "demand": {"type": "surge", "base": 0, "peak": 5, "start": "0s", "rise": "1m",
                           "hold": "10m", "fall": "1m"}}]}"#;
        ipsim_scenario::parse_def(text, Path::new("t.json")).unwrap()
    }

    fn set1(d: &mut ScenarioDef, path: &str, v: f64) -> Result<(), String> {
        apply(d, &[Edit::Set(Field::parse(path)?, v)])
    }

    #[test]
    fn typed_paths() {
        let mut d = def();
        set1(&mut d, "subnet.main.prefix", 20.0).unwrap();
        assert_eq!(d.subnets[0].cidr, "10.0.0.0/20");
        set1(&mut d, "surge.peak", 50.0).unwrap();
        set1(&mut d, "surge.hold", 60_000.0).unwrap();
        let DemandDef::Surge { peak, hold, .. } = d.workloads[0].kind.demand().cloned().unwrap()
        else {
            panic!()
        };
        assert_eq!((peak, hold), (50.0, Duration(60_000)));
        set1(&mut d, "workload.api.max_instances", 9.0).unwrap();
        let WorkloadKindDef::Service(sc) = &d.workloads[0].kind else {
            panic!("a service")
        };
        assert_eq!(sc.max_instances, Some(9));
        set1(&mut d, "workload.api.demand.peak", 7.0).unwrap();
        set1(&mut d, "params.block_size", 32.0).unwrap();
        assert_eq!(d.params.block_size, Some(32));
        set1(&mut d, "duration", 7_200_000.0).unwrap();
        assert_eq!(d.duration, Duration(7_200_000));
        for (path, v, msg) in [
            (
                "subnet.nope.prefix",
                20.0,
                "no subnet named \"nope\"; there are: main",
            ),
            ("diurnal.mean", 1.0, "no workload has a \"diurnal\" demand"),
            ("subnet.main.prefix", 20.5, "whole number"),
            ("workload.api.max_instances", -1.0, "not a whole number"),
            (
                "workload.api.demand.mean",
                1.0,
                "has surge demand, not a diurnal demand",
            ),
            ("params.hold", 1.0, "params has no number field \"hold\""),
            ("params.nope", 1.0, "params has no number field"),
            (
                "surge.value",
                1.0,
                "its fields: base, peak, start, rise, hold, fall",
            ),
            ("step.points", 1.0, "no single-number field"),
        ] {
            let e = set1(&mut d, path, v).unwrap_err();
            assert!(e.contains(msg), "{path}: {e}");
        }
    }

    #[test]
    fn json_paths_apply_through_json_once() {
        let mut d = def();
        set1(&mut d, "workloads[0].demand.peak", 7.5).unwrap();
        let Some(DemandDef::Surge { peak, .. }) = d.workloads[0].kind.demand() else {
            panic!()
        };
        assert_eq!(*peak, 7.5);
        set1(&mut d, "workloads[0].demand.hold", 120_000.0).unwrap();
        let Some(DemandDef::Surge { hold, .. }) = d.workloads[0].kind.demand() else {
            panic!()
        };
        assert_eq!(*hold, Duration(120_000));
        for (path, msg) in [
            ("workloads[3].name", "out of range"),
            ("workload.api.name", "\"name\" holds \"api\", not a number"),
            ("subnets[0]", "ends at a list item"),
            ("workloads[x].name", "is not an index"),
        ] {
            let e = set1(&mut d, path, 1.0).unwrap_err();
            assert!(e.contains(msg), "{path}: {e}");
        }
    }

    #[test]
    fn strategies_map_to_scenario_names() {
        for s in Strategy::ALL {
            let d = strategy_def(s).unwrap();
            assert_eq!(serde_json::to_value(d).unwrap(), Value::from(s.name()));
        }
    }
}
