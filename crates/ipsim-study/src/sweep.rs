//! Sweeps: vary numeric scenario fields over ranges, repeat each point over seeds, in
//! parallel, and summarise each point (failure probability, failed attempts, peak held).
//!
//! A `--vary` expression is `PATH=RANGE`. PATH selects a field of the scenario (see
//! [`Field::parse`]):
//!
//! - `subnet.NAME.prefix`: the prefix length of subnet NAME (the base is masked to it);
//! - `workload.NAME.F`: a field of workload NAME (`workload.api.max_instances`,
//!   `workload.api.demand.peak`);
//! - `constant.F`, `surge.F`, `diurnal.F`: field F of every demand of that type
//!   (`surge.peak`);
//! - `params.F`: a model parameter; `duration`: the run's length;
//! - anything else (`subnet.NAME.FIELD`, `workload.NAME.FIELD` for other fields too): a JSON
//!   path (`workloads[0].demand.peak`).
//!
//! RANGE is `A..B:STEP` (B included) or a list `A,B,C`; values are numbers or durations
//! (`10m..30m:5m`). A duration field takes the value as milliseconds.
//!
//! The paths are parsed once, when the sweep is planned. Each point's edits are applied once
//! to a clone of the typed definition (JSON paths through its JSON form, once per point); the
//! point's seeds then only resolve and run it.
//!
//! Each (point, seed) run is independent; results are collected by index, so the output is
//! the same whatever the thread count, and a shard (`index % N == I`) is an exact slice.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use ipsim_scenario::def::ScenarioDef;
use ipsim_scenario::{Duration, ScenarioErrors};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::variation::{Base, Edit, Field, quiet};

/// The most runs a sweep may ask for.
pub const MAX_RUNS: usize = 1_000_000;

/// One varied field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vary {
    /// The path as given.
    pub path: String,
    /// Its values, in order (for a named parameter, the index of each name in `names`).
    pub values: Vec<f64>,
    /// For a named parameter (`params.block_scope=service,subnet`): the names, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

impl Vary {
    /// How value `v` of it reads: its name for a named parameter, else the number.
    pub fn label(&self, v: f64) -> String {
        if !self.names.is_empty() {
            if let Some(n) = self.values.iter().position(|x| *x == v) {
                if let Some(name) = self.names.get(n) {
                    return name.clone();
                }
            }
        }
        format!("{v}")
    }

    /// How value `v` reads on a chart's axis: a prefix as `/22 (1,020 usable)`, a duration
    /// field (a duration by its kind, `surge.hold`, or, in a JSON path, by its last segment's
    /// name: `retention`, `at`, `start`, ...) as `8h` rather than milliseconds, else as
    /// [`Vary::label`].
    pub fn axis_label(&self, v: f64) -> String {
        let last = self.path.rsplit('.').next().unwrap_or("");
        let last = last.split('[').next().unwrap_or(last);
        if !self.names.is_empty() || v < 0.0 || v.fract() != 0.0 {
            return self.label(v);
        }
        if last == "prefix" && (1.0..=32.0).contains(&v) {
            let usable = (1u64 << (32 - v as u32)).saturating_sub(4);
            return format!("/{v} ({} usable)", ipsim_report::outcome::thousands(usable));
        }
        let duration = [
            "duration",
            "retention",
            "service_retention",
            "task_retention",
            "block_linger",
            "retry_interval",
            "sample_interval",
            "at",
            "start",
            "rollout",
            "task_duration",
            "repeat_every",
            "period",
            "phase",
        ];
        // The field's own kind first (`surge.hold`, `workload.W.idle_delay`, ...); for a path
        // into the scenario's JSON, the name of its last segment.
        let is_duration = Field::parse(&self.path).is_ok_and(|f| f.is_duration());
        if is_duration || duration.contains(&last) {
            return ipsim_report::span(v as u64);
        }
        self.label(v)
    }
}

fn parse_value(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if let Ok(v) = t.parse::<f64>() {
        if v.is_finite() {
            return Ok(v);
        }
    }
    Duration::parse(t)
        .map(|d| d.ms() as f64)
        .map_err(|_| format!("{t:?} is not a number or a duration like \"10m\""))
}

/// Parses `PATH=A..B:STEP` or `PATH=A,B,C`.
pub fn parse_vary(expr: &str) -> Result<Vary, String> {
    let bad = |m: String| format!("--vary {expr:?}: {m}");
    let (path, range) = expr.split_once('=').ok_or_else(|| {
        bad(
            "expected PATH=RANGE, like surge.peak=100..1000:100 or subnet.main.prefix=20..26"
                .into(),
        )
    })?;
    let path = path.trim();
    if path.is_empty() {
        return Err(bad("the path before '=' is empty".into()));
    }
    if let Some(n) = crate::variation::Named::of_path(path) {
        let all = n.names();
        let mut names: Vec<String> = Vec::new();
        let mut values = Vec::new();
        for v in range.split(',').map(str::trim) {
            match all.iter().position(|x| *x == v) {
                Some(i) => {
                    names.push(v.to_string());
                    values.push(i as f64);
                }
                None => {
                    return Err(bad(format!("{v:?} is not one of {}", all.join(", "))));
                }
            }
        }
        return Ok(Vary {
            path: path.to_string(),
            values,
            names,
        });
    }
    let values = if let Some((a, rest)) = range.split_once("..") {
        let (b, step) = match rest.split_once(':') {
            Some((b, s)) => (b, Some(s)),
            None => (rest, None),
        };
        let (a, b) = (parse_value(a).map_err(bad)?, parse_value(b).map_err(bad)?);
        let step = match step {
            Some(s) => parse_value(s).map_err(bad)?,
            None => 1.0,
        };
        if step <= 0.0 {
            return Err(bad(format!("the step {step} must be positive")));
        }
        if b < a {
            return Err(bad(format!("the range {a}..{b} goes backwards")));
        }
        // In f64 first: a range of 1e300 steps would overflow a count.
        let steps = ((b - a) / step + 1e-9).floor();
        if steps.is_nan() || steps >= 100_000.0 {
            let n = if steps < 1e15 {
                format!("{} values", steps + 1.0)
            } else {
                "more than 10^15 values".to_string()
            };
            return Err(bad(format!("{n} is too many (at most 100,000)")));
        }
        let n = steps as u64 + 1;
        (0..n).map(|k| a + step * k as f64).collect()
    } else {
        range
            .split(',')
            .map(parse_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?
    };
    if values.is_empty() {
        return Err(bad("no values".into()));
    }
    Ok(Vary {
        path: path.to_string(),
        values,
        names: Vec::new(),
    })
}

/// What one run gave.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunResult {
    /// Whether any start failed.
    pub exhausted: bool,
    /// The first failed start.
    pub first_exhaustion_ms: Option<u64>,
    /// Failed attempts.
    pub failed_attempts: u64,
    /// Run-wide peak held.
    pub peak_held: u64,
    /// Deploy failures.
    pub deploy_failures: u64,
    /// Unmet instance-seconds.
    pub unmet_instance_seconds: f64,
}

/// One point of a sweep, summarised over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRow {
    /// Index in the full sweep (row-major over the varied fields, the last varying fastest).
    pub point: usize,
    /// The varied fields' values, in `--vary` order.
    pub values: Vec<f64>,
    /// Runs (seeds).
    pub runs: usize,
    /// Share of runs with a failed start.
    pub failure_probability: f64,
    /// Mean failed attempts.
    pub mean_failed_attempts: f64,
    /// Most failed attempts in a run.
    pub worst_failed_attempts: u64,
    /// Highest peak held.
    pub peak_held: u64,
    /// Mean peak held.
    pub mean_peak_held: f64,
    /// Earliest first failed start, if any.
    pub first_exhaustion_ms: Option<u64>,
    /// Mean deploy failures.
    pub mean_deploy_failures: f64,
    /// Mean unmet instance-seconds.
    pub mean_unmet_instance_seconds: f64,
}

/// A sweep's results: `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    /// Scenario name.
    pub scenario: String,
    /// The version of ipsim that ran it.
    #[serde(default)]
    pub ipsim_version: String,
    /// The sweep's fingerprint ([`crate::shards::fingerprint`]): the same in every shard of
    /// one sweep.
    #[serde(default)]
    pub fingerprint: String,
    /// The varied fields.
    pub vary: Vec<Vary>,
    /// Seeds per point: the scenario's seed + 0, 1, ...
    pub seeds: u64,
    /// Points in the full sweep.
    pub total_points: usize,
    /// `I/N` when this is a shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Rows, by point.
    pub points: Vec<PointRow>,
    /// What the scenario as written assumes (a varied parameter changes its own).
    #[serde(default)]
    pub assumptions: Vec<ipsim_report::Assumption>,
}

/// A planned sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    base: Base,
    fields: Vec<Field>,
    /// Scenario name.
    pub scenario: String,
    /// The varied fields.
    pub vary: Vec<Vary>,
    /// Seeds per point.
    pub seeds: u64,
    /// What the scenario as written assumes.
    pub assumptions: Vec<ipsim_report::Assumption>,
    /// The sweep's fingerprint ([`crate::shards::fingerprint`]).
    pub fingerprint: String,
}

impl Sweep {
    /// Loads the scenario and checks every `--vary` against it: each path must name a numeric
    /// field, and its first and last values must give a valid scenario.
    pub fn new(path: &Path, vary: Vec<Vary>, seeds: u64) -> Result<Sweep, Vec<String>> {
        let base =
            Base::load(path).map_err(|e| e.0.iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
        if seeds == 0 {
            return Err(vec!["--seeds must be at least 1".into()]);
        }
        let total: usize = vary
            .iter()
            .map(|v| v.values.len())
            .try_fold(1usize, |a, n| a.checked_mul(n))
            .unwrap_or(usize::MAX);
        if total.saturating_mul(seeds as usize) > MAX_RUNS {
            return Err(vec![format!(
                "the sweep asks for {total} points x {seeds} seeds, more than {MAX_RUNS} runs"
            )]);
        }
        let mut errs = Vec::new();
        let mut fields = Vec::new();
        for (i, v) in vary.iter().enumerate() {
            let field = match Field::parse(&v.path) {
                Ok(f) => f,
                Err(e) => {
                    errs.push(format!("--vary {}: {e}", v.path));
                    continue;
                }
            };
            if let Some(e) = v.values.iter().find_map(|&x| field.check(x).err()) {
                errs.push(format!("--vary {}: {e}", v.path));
            } else {
                for &x in [v.values[0], v.values[v.values.len() - 1]].iter() {
                    let def = match base.edited(&[Edit::Set(field.clone(), x)]) {
                        Ok(d) => d,
                        Err(e) => {
                            errs.push(format!("--vary {}: {e}", v.path));
                            break;
                        }
                    };
                    if let Err(e) = base.resolve(def, None) {
                        let first =
                            e.0.first()
                                .map(|e| format!("{}: {}", e.path, e.message))
                                .unwrap_or_default();
                        errs.push(format!(
                            "--vary {} = {x} makes the scenario invalid: {first}",
                            v.path
                        ));
                        break;
                    }
                }
            }
            if vary[..i].iter().any(|o| o.path == v.path) {
                errs.push(format!("--vary {} is given twice", v.path));
            }
            fields.push(field);
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let declared = base
            .resolve(base.def.clone(), None)
            .map_err(|e| e.0.iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
        Ok(Sweep {
            scenario: base.def.name.clone(),
            fingerprint: crate::shards::fingerprint(&base.def, &vary, seeds),
            assumptions: crate::variation::resolved_params(&declared).assumptions(),
            base,
            fields,
            vary,
            seeds,
        })
    }

    /// Points in the full sweep.
    pub fn total_points(&self) -> usize {
        self.vary.iter().map(|v| v.values.len()).product()
    }

    /// The values of point `p` (the last field varies fastest).
    pub fn values(&self, mut p: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.vary.len()];
        for (i, v) in self.vary.iter().enumerate().rev() {
            out[i] = v.values[p % v.values.len()];
            p /= v.values.len();
        }
        out
    }

    /// The points of shard `i` of `n` (`index % n == i`).
    pub fn shard_points(&self, shard: Option<(usize, usize)>) -> Vec<usize> {
        (0..self.total_points())
            .filter(|p| shard.is_none_or(|(i, n)| p % n == i))
            .collect()
    }

    /// The definition of point `p`: the base with the point's values set.
    pub fn point_def(&self, point: usize) -> Result<ScenarioDef, ScenarioErrors> {
        let edits: Vec<Edit> = self
            .fields
            .iter()
            .zip(self.values(point))
            .map(|(f, x)| Edit::Set(f.clone(), x))
            .collect();
        self.base
            .edited(&edits)
            .map_err(|m| self.base.error(format!("sweep point {point}: {m}")))
    }

    /// Runs one point's definition with one seed.
    pub fn run_one(&self, def: ScenarioDef, seed_offset: u64) -> Result<RunResult, ScenarioErrors> {
        let seed = self.base.def.seed.wrapping_add(seed_offset);
        self.run_resolved(self.base.resolve(def, Some(seed))?)
    }

    /// Runs one point's resolved scenario.
    fn run_resolved(&self, mut s: ipsim_scenario::Scenario) -> Result<RunResult, ScenarioErrors> {
        quiet(&mut s);
        let out = s.run()?;
        let m = &out.summary;
        Ok(RunResult {
            exhausted: m.first_exhaustion.is_some(),
            first_exhaustion_ms: m.first_exhaustion.as_ref().map(|e| e.time_ms),
            failed_attempts: m.failed_attempts,
            peak_held: m.peak_held,
            deploy_failures: m.deploy_failures.len() as u64,
            unmet_instance_seconds: m.unmet_instance_seconds(),
        })
    }

    /// Runs the points (every seed of each) on the current rayon pool; `progress` is called
    /// after each run with the number done. Each point's edits apply once, for all its seeds.
    pub fn run(
        &self,
        points: &[usize],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<PointRow>, ScenarioErrors> {
        let done = AtomicUsize::new(0);
        let results: Vec<Result<Vec<RunResult>, ScenarioErrors>> = points
            .par_iter()
            .map(|&p| {
                let def = self.point_def(p)?;
                // Resolved once for all its seeds (subnets laid out once) when the seed changes
                // nothing before the run; else each seed resolves it, as its errors may differ.
                let first = self
                    .base
                    .resolve(def.clone(), Some(self.base.def.seed))
                    .ok();
                let runs: Vec<Result<RunResult, ScenarioErrors>> = (0..self.seeds)
                    .into_par_iter()
                    .map(|s| {
                        let seed = self.base.def.seed.wrapping_add(s);
                        let r = match first.as_ref().and_then(|f| f.reseeded(seed)) {
                            Some(f) => self.run_resolved(f),
                            None => self.run_one(def.clone(), s),
                        };
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                        r
                    })
                    .collect();
                runs.into_iter().collect()
            })
            .collect();
        let mut rows = Vec::with_capacity(points.len());
        for (&p, rs) in points.iter().zip(results) {
            rows.push(summarise(p, self.values(p), &rs?));
        }
        Ok(rows)
    }

    /// The result file of these rows.
    pub fn result(&self, rows: Vec<PointRow>, shard: Option<(usize, usize)>) -> SweepResult {
        SweepResult {
            scenario: self.scenario.clone(),
            ipsim_version: ipsim_report::VERSION.to_string(),
            fingerprint: self.fingerprint.clone(),
            vary: self.vary.clone(),
            seeds: self.seeds,
            total_points: self.total_points(),
            shard: shard.map(|(i, n)| format!("{i}/{n}")),
            points: rows,
            assumptions: self.assumptions.clone(),
        }
    }
}

fn summarise(point: usize, values: Vec<f64>, rs: &[RunResult]) -> PointRow {
    let n = rs.len().max(1) as f64;
    PointRow {
        point,
        values,
        runs: rs.len(),
        failure_probability: rs.iter().filter(|r| r.exhausted).count() as f64 / n,
        mean_failed_attempts: rs.iter().map(|r| r.failed_attempts as f64).sum::<f64>() / n,
        worst_failed_attempts: rs.iter().map(|r| r.failed_attempts).max().unwrap_or(0),
        peak_held: rs.iter().map(|r| r.peak_held).max().unwrap_or(0),
        mean_peak_held: rs.iter().map(|r| r.peak_held as f64).sum::<f64>() / n,
        first_exhaustion_ms: rs.iter().filter_map(|r| r.first_exhaustion_ms).min(),
        mean_deploy_failures: rs.iter().map(|r| r.deploy_failures as f64).sum::<f64>() / n,
        mean_unmet_instance_seconds: rs.iter().map(|r| r.unmet_instance_seconds).sum::<f64>() / n,
    }
}

/// Parses `I/N`.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard {s:?}: expected I/N with 0 <= I < N, like 0/3");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Combines shard results into the result of the whole sweep: refused unless they are the
/// shards of one sweep, each once ([`crate::shards::check`]).
pub fn merge(parts: Vec<SweepResult>) -> Result<SweepResult, String> {
    crate::shards::check(&parts)?;
    let first = parts.first().ok_or("nothing to merge")?.clone();
    let mut points = Vec::new();
    for p in &parts {
        points.extend(p.points.iter().cloned());
    }
    points.sort_by_key(|r| r.point);
    for (k, r) in points.iter().enumerate() {
        if r.point != k {
            let what = if r.point < k { "twice" } else { "missing" };
            return Err(format!(
                "point {} is {what}: merge every shard once",
                r.point.min(k)
            ));
        }
    }
    if points.len() != first.total_points {
        return Err(format!(
            "{} of {} points: a shard is missing",
            points.len(),
            first.total_points
        ));
    }
    Ok(SweepResult {
        shard: None,
        points,
        ..first
    })
}

/// `sweep.csv`: one row per point.
pub fn to_csv(r: &SweepResult) -> String {
    let mut out = String::from("point");
    for v in &r.vary {
        out.push(',');
        out.push_str(&v.path);
    }
    out.push_str(",runs,failure_probability,mean_failed_attempts,worst_failed_attempts,peak_held,mean_peak_held,first_exhaustion_ms,mean_deploy_failures,mean_unmet_instance_seconds\n");
    for p in &r.points {
        out.push_str(&p.point.to_string());
        for (k, v) in p.values.iter().enumerate() {
            let label = r.vary.get(k).map_or(format!("{v}"), |x| x.label(*v));
            out.push_str(&format!(",{label}"));
        }
        out.push_str(&format!(
            ",{},{:.6},{:.3},{},{},{:.3},{},{:.3},{:.3}\n",
            p.runs,
            p.failure_probability,
            p.mean_failed_attempts,
            p.worst_failed_attempts,
            p.peak_held,
            p.mean_peak_held,
            p.first_exhaustion_ms
                .map_or(String::new(), |t| t.to_string()),
            p.mean_deploy_failures,
            p.mean_unmet_instance_seconds
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_expressions() {
        assert_eq!(
            parse_vary("surge.peak=100..300:100").unwrap().values,
            [100.0, 200.0, 300.0]
        );
        assert_eq!(
            parse_vary("subnet.main.prefix=20..22").unwrap().values,
            [20.0, 21.0, 22.0]
        );
        assert_eq!(
            parse_vary("surge.hold=10m..20m:5m").unwrap().values,
            [600_000.0, 900_000.0, 1_200_000.0]
        );
        assert_eq!(
            parse_vary("params.ips_per_instance=2,4").unwrap().values,
            [2.0, 4.0]
        );
        for (bad, msg) in [
            ("surge.peak", "expected PATH=RANGE"),
            ("=1..2", "the path before '=' is empty"),
            ("x=5..1", "goes backwards"),
            ("x=1..5:0", "must be positive"),
            ("x=1..abc", "\"abc\" is not a number or a duration"),
            ("x=0..1000000:1", "too many"),
        ] {
            let e = parse_vary(bad).unwrap_err();
            assert!(e.contains(msg), "{bad}: {e}");
        }
    }

    #[test]
    fn chart_axes_read_prefixes_and_durations_as_people_write_them() {
        let p = parse_vary("subnet.main.prefix=22..23").unwrap();
        assert_eq!(p.axis_label(22.0), "/22 (1,020 usable)");
        assert_eq!(p.axis_label(23.0), "/23 (508 usable)");
        let r = parse_vary("params.service_retention=10m,8h").unwrap();
        assert_eq!(r.axis_label(r.values[1]), "8h");
        assert_eq!(r.label(r.values[1]), "28800000");
        let n = parse_vary("surge.peak=100..200:100").unwrap();
        assert_eq!(n.axis_label(100.0), "100");
        // Durations by the field's kind, not only by a list of names: a surge's hold.
        let h = parse_vary("surge.hold=10m..30m:10m").unwrap();
        let labels: Vec<String> = h.values.iter().map(|v| h.axis_label(*v)).collect();
        assert_eq!(labels, ["10m", "20m", "30m"]);
        let i = parse_vary("workload.api.idle_delay=90s").unwrap();
        assert_eq!(i.axis_label(i.values[0]), "1m30s");
    }
}
