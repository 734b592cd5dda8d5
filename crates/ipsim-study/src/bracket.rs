//! Brackets over what Google does not document: the scenario run under every combination of
//! the undocumented choices ([`Choice`]: block scope, retention, edge blocks), one verdict
//! over all of them.
//!
//! A [`Reading`] is one combination, named like a compare variant
//! (`scope=revision+retention=fixed+edges=excluded`) and applied as that variant's typed
//! [`Edit`]s. [`plan`] enumerates the readings (every choice, or the values a user names),
//! the first choice varying slowest; [`run`] runs them in parallel on rayon, one run each,
//! collected in reading order, so the output is the same whatever the thread count. The
//! reading the scenario is written with can reuse the run `ipsim run` makes anyway
//! ([`Probe`]), so a bracket of N readings costs N runs.

use ipsim_core::{Output, RowSink, SubnetRow, WorkloadRow};
use ipsim_report::assumptions::Choice;
use ipsim_scenario::ScenarioErrors;
use rayon::prelude::*;
use serde::Serialize;

use crate::compare::parse_variant;
use crate::variation::{Base, Edit, quiet, resolved_params};

/// One combination of readings of the undocumented choices.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// `scope=service+retention=fixed+edges=excluded`.
    pub name: String,
    /// The value of each bracketed choice.
    pub values: Vec<(Choice, String)>,
    /// Its edits to the scenario.
    pub edits: Vec<Edit>,
}

/// The readings to try, and which one is the scenario as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// In order: the first choice varies slowest.
    pub readings: Vec<Reading>,
    /// The reading the scenario is written with, if it is one of them (not when its subnets
    /// mix edge-block policies, or a named set leaves its own value out).
    pub as_written: Option<usize>,
}

/// Parses `--readings KEY=A,B` (KEY `scope`, `retention` or `edges`); none: every choice
/// with every reading.
pub fn parse_sets(args: &[String]) -> Result<Vec<(Choice, Vec<String>)>, Vec<String>> {
    if args.is_empty() {
        return Ok(Choice::ALL
            .iter()
            .map(|c| (*c, c.readings().iter().map(|s| s.to_string()).collect()))
            .collect());
    }
    let keys: Vec<&str> = Choice::ALL.iter().map(|c| c.key()).collect();
    let mut sets: Vec<(Choice, Vec<String>)> = Vec::new();
    let mut errs = Vec::new();
    for a in args {
        let Some((k, vs)) = a.split_once('=') else {
            errs.push(format!(
                "--readings {a:?}: expected KEY=A,B with KEY {}",
                keys.join(", ")
            ));
            continue;
        };
        let Some(c) = Choice::from_key(k.trim()) else {
            errs.push(format!(
                "--readings {a:?}: {k:?} is not an undocumented choice; they are {}",
                keys.join(", ")
            ));
            continue;
        };
        if sets.iter().any(|(x, _)| *x == c) {
            errs.push(format!("--readings {k} is given twice"));
            continue;
        }
        let mut values: Vec<String> = Vec::new();
        for v in vs.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            if !c.readings().contains(&v) {
                errs.push(format!(
                    "--readings {a:?}: {v:?} is not a reading of {k}; its readings: {}",
                    c.readings().join(", ")
                ));
            } else if !values.iter().any(|x| x == v) {
                values.push(v.to_string());
            }
        }
        if values.is_empty() {
            errs.push(format!("--readings {a:?} names no reading"));
        }
        sets.push((c, values));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    // Bracket order, whatever the order given.
    sets.sort_by_key(|(c, _)| *c);
    Ok(sets)
}

/// Every combination of `sets` for the scenario `base` (whose own values fix the choices
/// `sets` leaves out).
pub fn plan(base: &Base, sets: &[(Choice, Vec<String>)]) -> Result<Plan, ScenarioErrors> {
    let declared = base.scenario(&[], None)?;
    let own = resolved_params(&declared);
    let mut combos: Vec<Vec<(Choice, String)>> = vec![Vec::new()];
    for (c, values) in sets {
        combos = combos
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push((*c, v.clone()));
                    p
                })
            })
            .collect();
    }
    let mut readings = Vec::with_capacity(combos.len());
    for values in combos {
        let name = values
            .iter()
            .map(|(c, v)| format!("{}={v}", c.key()))
            .collect::<Vec<_>>()
            .join("+");
        let edits = parse_variant(&name).map_err(|e| base.error(e))?.edits;
        readings.push(Reading {
            name,
            values,
            edits,
        });
    }
    let written = |r: &Reading| r.values.iter().all(|(c, v)| c.value(&own) == v);
    let as_written = readings.iter().position(written);
    Ok(Plan {
        readings,
        as_written,
    })
}

/// A [`RowSink`] gathering what a bracket reports beyond the summary: the peak of instances
/// short (requested, not running) and the addresses in free blocks over time.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pending: Vec<u64>,
    free: Vec<u64>,
    pending_sum: u64,
    free_sum: u64,
    time: Option<u64>,
    peak_short: u64,
    series: Vec<(u64, u64)>,
}

impl Probe {
    /// A probe for a run of `workloads` workloads and `subnets` subnets.
    pub fn new(workloads: usize, subnets: usize) -> Self {
        Probe {
            pending: vec![0; workloads],
            free: vec![0; subnets],
            ..Probe::default()
        }
    }

    /// Rows of one millisecond arrive together: the state of a millisecond is complete when
    /// the next one's first row arrives (or the run ends).
    fn at(&mut self, t: u64) {
        if self.time != Some(t) {
            self.settle();
            self.time = Some(t);
        }
    }

    fn settle(&mut self) {
        if let Some(t) = self.time {
            self.peak_short = self.peak_short.max(self.pending_sum);
            if self.series.last().map(|l| l.1) != Some(self.free_sum) {
                self.series.push((t, self.free_sum));
            }
        }
    }

    /// The outcome of `out`, the run this probe watched, as reading `name`.
    pub fn outcome(mut self, name: &str, out: &Output) -> Outcome {
        self.settle();
        let s = &out.summary;
        Outcome {
            reading: name.to_string(),
            as_written: false,
            exhausted: s.first_exhaustion.is_some(),
            first_exhaustion_ms: s.first_exhaustion.as_ref().map(|e| e.time_ms),
            failed_attempts: s.failed_attempts,
            instances_short: self.peak_short,
            deploy_failures: s.deploy_failures.len() as u64,
            min_free: s.min_free,
            min_free_blocks: s.min_free_blocks,
            free: self.series,
        }
    }
}

impl RowSink for Probe {
    fn subnet_row(&mut self, subnet: usize, row: &SubnetRow) {
        self.at(row.time_ms);
        if let Some(f) = self.free.get_mut(subnet) {
            self.free_sum = self.free_sum - *f + u64::from(row.free);
            *f = u64::from(row.free);
        }
    }

    fn workload_row(&mut self, workload: usize, row: &WorkloadRow) {
        self.at(row.time_ms);
        if let Some(p) = self.pending.get_mut(workload) {
            self.pending_sum = self.pending_sum - *p + u64::from(row.pending);
            *p = u64::from(row.pending);
        }
    }
}

/// What one reading gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The reading.
    pub reading: String,
    /// Whether it is the scenario as written.
    pub as_written: bool,
    /// Whether any start failed.
    pub exhausted: bool,
    /// The first failed start.
    pub first_exhaustion_ms: Option<u64>,
    /// Failed start attempts.
    pub failed_attempts: u64,
    /// The most instances or tasks requested and not running at once, summed over workloads.
    pub instances_short: u64,
    /// Deploys whose new revision failed a start during its rollout.
    pub deploy_failures: u64,
    /// Fewest addresses in free blocks at once.
    pub min_free: u64,
    /// Fewest free blocks at once.
    pub min_free_blocks: u64,
    /// Addresses in free blocks over time, summed over subnets: (time, free) changes only.
    #[serde(skip)]
    pub free: Vec<(u64, u64)>,
}

impl Outcome {
    /// How bad it is, to order readings: failing first, then more failed attempts, more
    /// instances short, more deploy failures, an earlier first failure, fewer free addresses.
    fn severity(&self) -> impl Ord {
        (
            self.exhausted,
            self.failed_attempts,
            self.instances_short,
            self.deploy_failures,
            std::cmp::Reverse(self.first_exhaustion_ms.unwrap_or(u64::MAX)),
            std::cmp::Reverse(self.min_free),
        )
    }
}

/// A bracket's result: report.json's `bracket`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bracket {
    /// The one verdict over every reading.
    pub verdict: String,
    /// Readings run.
    pub n: usize,
    /// Readings with a failed start.
    pub failing: usize,
    /// The worst reading (index into `readings`).
    pub worst: usize,
    /// The best reading.
    pub best: usize,
    /// The scenario as written, if it is one of the readings.
    pub as_written: Option<usize>,
    /// The choices bracketed, by key.
    pub choices: Vec<String>,
    /// Each reading's outcome, in plan order.
    pub readings: Vec<Outcome>,
}

/// Runs every reading of `plan` on the current rayon pool with `seed` replacing the
/// scenario's; `reuse` is the outcome of the as-written reading if it has run already.
pub fn run(
    base: &Base,
    plan: &Plan,
    seed: Option<u64>,
    reuse: Option<Outcome>,
) -> Result<Bracket, ScenarioErrors> {
    let mut reuse = reuse;
    // Resolved once: a reading that only changes block scope, retention or strategy takes it
    // with its choices (its subnets laid out once); the others (edge blocks) resolve on
    // their own.
    let once = base.scenario(&[], seed).ok();
    let results: Vec<Result<Option<Outcome>, ScenarioErrors>> = plan
        .readings
        .par_iter()
        .enumerate()
        .map(|(i, r)| {
            if Some(i) == plan.as_written && reuse.is_some() {
                return Ok(None);
            }
            let mut s = base.scenario_from(once.as_ref(), &r.edits, seed)?;
            quiet(&mut s);
            let mut probe = Probe::new(s.input.workloads.len(), s.input.subnets.len());
            let out = s.run_with(Some(&mut probe))?;
            Ok(Some(probe.outcome(&r.name, &out)))
        })
        .collect();
    let mut readings = Vec::with_capacity(results.len());
    for (i, r) in results.into_iter().enumerate() {
        let mut o = match r? {
            Some(o) => o,
            None => match reuse.take() {
                Some(mut o) => {
                    o.reading = plan.readings[i].name.clone();
                    o
                }
                None => return Err(base.error("bracket: a reading did not run".into())),
            },
        };
        o.as_written = Some(i) == plan.as_written;
        readings.push(o);
    }
    Ok(judge(plan, readings))
}

fn judge(plan: &Plan, readings: Vec<Outcome>) -> Bracket {
    let n = readings.len();
    let failing = readings.iter().filter(|o| o.exhausted).count();
    // The first of equals in plan order, both ways.
    let mut worst = 0;
    let mut best = 0;
    for (i, o) in readings.iter().enumerate() {
        if o.severity() > readings[worst].severity() {
            worst = i;
        }
        if o.severity() < readings[best].severity() {
            best = i;
        }
    }
    let name = |i: usize| readings.get(i).map_or("-", |o| o.reading.as_str());
    let verdict = if failing == 0 {
        format!("safe under all {n} readings")
    } else if failing == n {
        format!(
            "fails under all {n} readings (worst: {}, best: {})",
            name(worst),
            name(best)
        )
    } else {
        format!(
            "fails under {failing} of {n} readings (worst: {}, best: {})",
            name(worst),
            name(best)
        )
    };
    let mut choices: Vec<String> = Vec::new();
    for r in &plan.readings {
        for (c, _) in &r.values {
            if !choices.iter().any(|x| x == c.key()) {
                choices.push(c.key().to_string());
            }
        }
    }
    Bracket {
        verdict,
        n,
        failing,
        worst,
        best,
        as_written: plan.as_written,
        choices,
        readings,
    }
}

/// The table and verdict `ipsim run --bracket` prints; `clock` formats a time.
pub fn text(b: &Bracket, clock: &dyn Fn(u64) -> String) -> String {
    let mut o = format!(
        "bracket: {} readings of the undocumented choices ({})\n",
        b.n,
        b.choices.join(", ")
    );
    let w = b
        .readings
        .iter()
        .map(|r| r.reading.len())
        .max()
        .unwrap_or(7)
        .max(7)
        + 2;
    o.push_str(&format!(
        "  {:<w$} {:>22} {:>16} {:>16} {:>16} {:>16}\n",
        "reading",
        "first exhaustion",
        "failed attempts",
        "instances short",
        "deploy failures",
        "min free blocks"
    ));
    for (i, r) in b.readings.iter().enumerate() {
        let mut tags = Vec::new();
        if r.as_written {
            tags.push("as written");
        }
        if i == b.worst && b.n > 1 {
            tags.push("worst");
        }
        if i == b.best && b.n > 1 {
            tags.push("best");
        }
        let tag = if tags.is_empty() {
            String::new()
        } else {
            format!("  ({})", tags.join(", "))
        };
        o.push_str(&format!(
            "  {:<w$} {:>22} {:>16} {:>16} {:>16} {:>16}{tag}\n",
            r.reading,
            r.first_exhaustion_ms.map_or("-".to_string(), clock),
            r.failed_attempts,
            r.instances_short,
            r.deploy_failures,
            r.min_free_blocks,
        ));
    }
    o.push_str(&format!("verdict: {}\n", b.verdict));
    o
}
