//! Sweeps: vary numeric scenario fields over ranges, repeat each point over seeds, in
//! parallel, and summarise each point (failure probability, failed attempts, peak held).
//!
//! A `--vary` expression is `PATH=RANGE`. PATH selects fields of the scenario's JSON:
//!
//! - `subnet.NAME.prefix`: the prefix length of subnet NAME (the base is masked to it);
//!   `subnet.NAME.FIELD` any other field of it;
//! - `workload.NAME.FIELD...`: a field of workload NAME (`workload.api.max_instances`,
//!   `workload.api.demand.peak`);
//! - `constant.F`, `step.F`, `surge.F`, `diurnal.F`: field F of every demand of that type
//!   (`surge.peak`);
//! - `params.F`: a model parameter;
//! - anything else: a JSON path (`workloads[0].demand.peak`, `duration`).
//!
//! RANGE is `A..B:STEP` (B included) or a list `A,B,C`; values are numbers or durations
//! (`10m..30m:5m`). A field holding a duration string is written as milliseconds.
//!
//! Each (point, seed) run is independent; results are collected by index, so the output is
//! the same whatever the thread count, and a shard (`index % N == I`) is an exact slice.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use ipsim_scenario::Duration;
use ipsim_scenario::ScenarioErrors;
use ipsim_scenario::{Overrides, parse, parse_def};

/// The most runs a sweep may ask for.
pub const MAX_RUNS: usize = 1_000_000;

/// One varied field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vary {
    /// The path as given.
    pub path: String,
    /// Its values, in order.
    pub values: Vec<f64>,
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
        let n = ((b - a) / step + 1e-9).floor() as u64 + 1;
        if n > 100_000 {
            return Err(bad(format!("{n} values is too many (at most 100,000)")));
        }
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
            map.insert(leaf.to_string(), Value::from(v.round().max(0.0) as u64));
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

/// Follows a JSON path (`a.b[2].c`) and sets its last field.
fn set_path(root: &mut Value, path: &str, v: f64) -> Result<(), String> {
    let mut cur = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let (key, idx) = match part.find('[') {
            Some(b) => (&part[..b], Some(&part[b..])),
            None => (*part, None),
        };
        let last = i + 1 == parts.len();
        if last && idx.is_none() {
            return set_leaf(cur, key, v);
        }
        if !key.is_empty() {
            cur = cur.get_mut(key).ok_or_else(|| {
                format!(
                    "the scenario has no field {key:?} at {:?}",
                    parts[..=i].join(".")
                )
            })?;
        }
        if let Some(mut rest) = idx {
            while let Some(s) = rest.strip_prefix('[') {
                let end = s
                    .find(']')
                    .ok_or_else(|| format!("unclosed '[' in {part:?}"))?;
                let n: usize = s[..end]
                    .parse()
                    .map_err(|_| format!("{:?} is not an index", &s[..end]))?;
                let len = cur.as_array().map_or(0, Vec::len);
                cur = cur.get_mut(n).ok_or_else(|| {
                    format!("index {n} is out of range in {part:?} ({len} items)")
                })?;
                rest = &s[end + 1..];
            }
            if last {
                return Err(format!("{path:?} ends at a list item, not a field"));
            }
        }
    }
    Err(format!("{path:?} names no field"))
}

fn named<'a>(list: &'a mut Value, field: &str, name: &str) -> Result<&'a mut Value, String> {
    let items = list
        .as_array_mut()
        .ok_or_else(|| format!("the scenario has no {field} list"))?;
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
                field.trim_end_matches('s'),
                names.join(", ")
            )
        })
}

/// Sets the field `path` names to `v` in the scenario's JSON.
pub fn apply(doc: &mut Value, path: &str, v: f64) -> Result<(), String> {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    match head {
        "subnet" | "subnets" if !rest.is_empty() && !rest.starts_with('[') => {
            let (name, field) = rest.rsplit_once('.').ok_or_else(|| {
                format!("{path:?}: expected subnet.NAME.FIELD, like subnet.main.prefix")
            })?;
            let list = doc
                .get_mut("subnets")
                .ok_or("the scenario has no subnets")?;
            let sn = named(list, "subnets", name)?;
            if field == "prefix" {
                if v.fract() != 0.0 || !(0.0..=32.0).contains(&v) {
                    return Err(format!("prefix {v} is not a whole number from 0 to 32"));
                }
                let cidr = sn
                    .get("cidr")
                    .and_then(Value::as_str)
                    .ok_or("the subnet has no cidr")?;
                let net: ipnet::Ipv4Net = cidr
                    .parse()
                    .map_err(|_| format!("cidr {cidr:?} is not a range"))?;
                let new = ipnet::Ipv4Net::new(net.addr(), v as u8)
                    .map_err(|e| e.to_string())?
                    .trunc();
                sn["cidr"] = Value::from(new.to_string());
                Ok(())
            } else {
                set_path(sn, field, v)
            }
        }
        "workload" | "workloads" if !rest.is_empty() && !rest.starts_with('[') => {
            let (name, field) = rest.split_once('.').ok_or_else(|| {
                format!("{path:?}: expected workload.NAME.FIELD, like workload.api.max_instances")
            })?;
            let list = doc
                .get_mut("workloads")
                .ok_or("the scenario has no workloads")?;
            set_path(named(list, "workloads", name)?, field, v)
        }
        "constant" | "step" | "surge" | "diurnal" if !rest.is_empty() => {
            let mut n = 0;
            if let Some(ws) = doc.get_mut("workloads").and_then(Value::as_array_mut) {
                for w in ws {
                    if let Some(d) = w.get_mut("demand") {
                        if d.get("type").and_then(Value::as_str) == Some(head) {
                            set_path(d, rest, v)?;
                            n += 1;
                        }
                    }
                }
            }
            if n == 0 {
                return Err(format!("no workload has a {head:?} demand"));
            }
            Ok(())
        }
        "params" if !rest.is_empty() => {
            let obj = doc.as_object_mut().ok_or("the scenario is not an object")?;
            let p = obj
                .entry("params")
                .or_insert_with(|| Value::Object(Default::default()));
            set_path(p, rest, v)
        }
        _ => set_path(doc, path, v),
    }
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
}

/// A planned sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    path: PathBuf,
    doc: Value,
    base_seed: u64,
    /// Scenario name.
    pub scenario: String,
    /// The varied fields.
    pub vary: Vec<Vary>,
    /// Seeds per point.
    pub seeds: u64,
}

impl Sweep {
    /// Loads the scenario and checks every `--vary` against it: each path must name a numeric
    /// field, and its first and last values must give a valid scenario.
    pub fn new(path: &Path, vary: Vec<Vary>, seeds: u64) -> Result<Sweep, Vec<String>> {
        let bytes = std::fs::read(path)
            .map_err(|e| vec![format!("{}: cannot read the scenario: {e}", path.display())])?;
        let def = parse_def(&bytes, path).map_err(|e| vec![e.to_string()])?;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| vec![e.to_string()])?;
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
        let sweep = Sweep {
            path: path.to_path_buf(),
            doc,
            base_seed: def.seed,
            scenario: def.name,
            vary,
            seeds,
        };
        let mut errs = Vec::new();
        for (i, v) in sweep.vary.iter().enumerate() {
            for &x in [v.values[0], v.values[v.values.len() - 1]].iter() {
                let mut d = sweep.doc.clone();
                if let Err(e) = apply(&mut d, &v.path, x) {
                    errs.push(format!("--vary {}: {e}", v.path));
                    break;
                }
                let bytes = serde_json::to_vec(&d).unwrap_or_default();
                if let Err(e) = parse(&bytes, &sweep.path, &Overrides::default()) {
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
            if sweep.vary[..i].iter().any(|o| o.path == v.path) {
                errs.push(format!("--vary {} is given twice", v.path));
            }
        }
        if errs.is_empty() {
            Ok(sweep)
        } else {
            Err(errs)
        }
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

    /// Runs one point with one seed.
    pub fn run_one(&self, point: usize, seed_offset: u64) -> Result<RunResult, ScenarioErrors> {
        let mut d = self.doc.clone();
        for (v, x) in self.vary.iter().zip(self.values(point)) {
            // Checked in `new` for the extremes; a middle value of a valid range applies too.
            let _ = apply(&mut d, &v.path, x);
        }
        let bytes = serde_json::to_vec(&d).unwrap_or_default();
        let seed = self.base_seed.wrapping_add(seed_offset);
        let mut s = parse(&bytes, &self.path, &Overrides { seed: Some(seed) })?;
        s.input.options.record_subnet_series = false;
        s.input.options.record_workload_series = false;
        s.input.options.log_limit = 0;
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
    /// after each run with the number done.
    pub fn run(
        &self,
        points: &[usize],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<PointRow>, ScenarioErrors> {
        let seeds = self.seeds;
        let done = AtomicUsize::new(0);
        let runs: Vec<(usize, u64)> = points
            .iter()
            .flat_map(|&p| (0..seeds).map(move |s| (p, s)))
            .collect();
        let results: Vec<Result<RunResult, ScenarioErrors>> = runs
            .par_iter()
            .map(|&(p, s)| {
                let r = self.run_one(p, s);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                r
            })
            .collect();
        let mut rows = Vec::with_capacity(points.len());
        for (k, &p) in points.iter().enumerate() {
            let chunk = &results[k * seeds as usize..(k + 1) * seeds as usize];
            let mut rs = Vec::with_capacity(chunk.len());
            for r in chunk {
                rs.push(r.clone()?);
            }
            rows.push(summarise(p, self.values(p), &rs));
        }
        Ok(rows)
    }

    /// The result file of these rows.
    pub fn result(&self, rows: Vec<PointRow>, shard: Option<(usize, usize)>) -> SweepResult {
        SweepResult {
            scenario: self.scenario.clone(),
            vary: self.vary.clone(),
            seeds: self.seeds,
            total_points: self.total_points(),
            shard: shard.map(|(i, n)| format!("{i}/{n}")),
            points: rows,
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

/// Combines shard results into the result of the whole sweep.
pub fn merge(parts: Vec<SweepResult>) -> Result<SweepResult, String> {
    let first = parts.first().ok_or("nothing to merge")?.clone();
    let mut points = Vec::new();
    for p in &parts {
        if p.scenario != first.scenario
            || p.vary != first.vary
            || p.seeds != first.seeds
            || p.total_points != first.total_points
        {
            return Err(format!(
                "shard {} is of another sweep (scenario, --vary or --seeds differ)",
                p.shard.as_deref().unwrap_or("?")
            ));
        }
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
        for v in &p.values {
            out.push_str(&format!(",{v}"));
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
    fn apply_paths() {
        let mut d: Value = serde_json::json!({
            "subnets": [{"name": "main", "cidr": "10.0.1.0/24"}],
            "workloads": [{"name": "api", "demand": {"type": "surge", "peak": 5, "hold": "10m"}}]
        });
        apply(&mut d, "subnet.main.prefix", 20.0).unwrap();
        assert_eq!(d["subnets"][0]["cidr"], "10.0.0.0/20");
        apply(&mut d, "surge.peak", 50.0).unwrap();
        apply(&mut d, "surge.hold", 60_000.0).unwrap();
        assert_eq!(d["workloads"][0]["demand"]["peak"], 50);
        assert_eq!(d["workloads"][0]["demand"]["hold"], 60_000);
        apply(&mut d, "workload.api.max_instances", 9.0).unwrap();
        assert_eq!(d["workloads"][0]["max_instances"], 9);
        apply(&mut d, "workloads[0].demand.peak", 7.5).unwrap();
        assert_eq!(d["workloads"][0]["demand"]["peak"], 7.5);
        apply(&mut d, "params.block_size", 32.0).unwrap();
        assert_eq!(d["params"]["block_size"], 32);
        assert!(
            apply(&mut d, "subnet.nope.prefix", 20.0)
                .unwrap_err()
                .contains("no subnet named \"nope\"; there are: main")
        );
        assert!(
            apply(&mut d, "diurnal.mean", 1.0)
                .unwrap_err()
                .contains("no workload has a \"diurnal\" demand")
        );
        assert!(
            apply(&mut d, "workloads[3].name", 1.0)
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            apply(&mut d, "subnet.main.prefix", 20.5)
                .unwrap_err()
                .contains("whole number")
        );
    }
}
