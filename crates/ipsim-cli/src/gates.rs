//! Gates: the conditions of `ipsim run --fail-on` and the probability gates of `sweep`,
//! `merge` and `size`.
//!
//! A run's conditions are judged on its `Output` and on its workload rows as they stream
//! ([`Shortfall`]); each gives a [`Gate`] (condition, threshold, observed value, failed), and
//! report.json lists them as `gates`. Any failed gate makes the command exit 3.

use std::fmt;

use ipsim_core::{Output, RowSink, SubnetRow, WorkloadKind, WorkloadRow};
use ipsim_report::Clock;
use serde::Serialize;
use serde_json::{Value, json};

/// One condition of `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Condition {
    /// Any start failed for want of addresses.
    Exhaustion,
    /// A deploy (a swap's new revision) failed to start an instance during its rollout.
    DeployFailure,
    /// A job task gave up after failing every attempt.
    TaskFailure,
    /// Some subnet with reservable blocks had fewer than N free blocks at some instant.
    MinFreeBlocks(u64),
    /// Some subnet had more than P% of its usable addresses taken (static + held) at once.
    PeakUtilization(f64),
    /// Some workload ran more than N% short of its desired count at some instant.
    Short(f64),
}

/// The syntax, for messages and `--help`.
pub const SYNTAX: &str = "exhaustion, deploy-failure, task-failure, min-free-blocks<N, \
                          peak-utilization>P%, short>N%";

fn percent(text: &str, what: &str) -> Result<f64, String> {
    let t = text.trim();
    let t = t.strip_suffix('%').unwrap_or(t).trim();
    match t.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "{what}: {text:?} is not a percentage from 0 to 100"
        )),
    }
}

/// Parses one condition, as `--fail-on` takes it.
pub fn parse_condition(text: &str) -> Result<Condition, String> {
    let t = text.trim();
    let c = match t {
        "exhaustion" => Condition::Exhaustion,
        "deploy-failure" => Condition::DeployFailure,
        "task-failure" => Condition::TaskFailure,
        _ => {
            if let Some(n) = t.strip_prefix("min-free-blocks<") {
                let n = n.trim().parse::<u64>().map_err(|_| {
                    format!("{t:?}: min-free-blocks<N takes a whole number of blocks")
                })?;
                Condition::MinFreeBlocks(n)
            } else if let Some(p) = t.strip_prefix("peak-utilization>") {
                Condition::PeakUtilization(percent(p, t)?)
            } else if let Some(p) = t.strip_prefix("short>") {
                Condition::Short(percent(p, t)?)
            } else {
                return Err(format!("{t:?} is not a condition; give one of {SYNTAX}"));
            }
        }
    };
    Ok(c)
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Exhaustion => write!(f, "exhaustion"),
            Condition::DeployFailure => write!(f, "deploy-failure"),
            Condition::TaskFailure => write!(f, "task-failure"),
            Condition::MinFreeBlocks(n) => write!(f, "min-free-blocks<{n}"),
            Condition::PeakUtilization(p) => write!(f, "peak-utilization>{p}%"),
            Condition::Short(p) => write!(f, "short>{p}%"),
        }
    }
}

/// A judged condition: report.json's `gates` entries (keys in sorted order, as the rest of
/// report.json).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gate {
    /// The condition as `--fail-on` takes it, e.g. `min-free-blocks<2`.
    pub condition: String,
    /// Where the observed value was seen (subnet, workload, time), or why there is none.
    pub detail: String,
    /// Whether the condition holds, so that the command exits 3.
    pub failed: bool,
    /// What the run gave (`null` if nothing in the run is concerned).
    pub observed: Value,
    /// The condition's limit (`null` for the conditions that fail on any occurrence).
    pub threshold: Value,
    /// The unit of `observed` and `threshold`.
    pub unit: &'static str,
}

impl Gate {
    /// The line printed for a failed gate.
    pub fn line(&self) -> String {
        let observed = match &self.observed {
            Value::Null => "nothing observed".to_string(),
            v => format!("observed {v} {}", self.unit),
        };
        format!(
            "gate failed: {}: {observed} ({})",
            self.condition, self.detail
        )
    }
}

/// Each workload's worst instant of running short of its desired count, from its rows as
/// they stream: desired = running + pending (starts requested and not yet made).
#[derive(Debug, Clone, Default)]
pub struct Shortfall {
    counted: Vec<bool>,
    /// Per workload: (pending, desired, time) at the largest share pending/desired.
    worst: Vec<Option<(u32, u32, u64)>>,
}

impl Shortfall {
    /// A shortfall tracker for these workloads; connectors are left out (their shortfall is
    /// saturation, reported as such).
    pub fn new(kinds: impl IntoIterator<Item = WorkloadKind>) -> Shortfall {
        let counted: Vec<bool> = kinds
            .into_iter()
            .map(|k| k != WorkloadKind::Connector)
            .collect();
        Shortfall {
            worst: vec![None; counted.len()],
            counted,
        }
    }
}

impl RowSink for Shortfall {
    fn subnet_row(&mut self, _subnet: usize, _row: &SubnetRow) {}

    fn workload_row(&mut self, workload: usize, row: &WorkloadRow) {
        if !self.counted.get(workload).copied().unwrap_or(false) || row.pending == 0 {
            return;
        }
        let desired = row.running + row.pending;
        let worse = match self.worst[workload] {
            None => true,
            // pending / desired > p / d, exactly.
            Some((p, d, _)) => {
                u64::from(row.pending) * u64::from(d) > u64::from(p) * u64::from(desired)
            }
        };
        if worse {
            self.worst[workload] = Some((row.pending, desired, row.time_ms));
        }
    }
}

/// Rounds to 2 decimals, for percentages in report.json.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Judges each condition on the run's output and shortfall, in the order given.
pub fn judge(conds: &[Condition], out: &Output, short: &Shortfall, clock: Clock) -> Vec<Gate> {
    conds
        .iter()
        .map(|c| judge_one(*c, out, short, clock))
        .collect()
}

fn judge_one(c: Condition, out: &Output, short: &Shortfall, clock: Clock) -> Gate {
    let s = &out.summary;
    let gate = |detail: String, failed: bool, observed: Value, threshold: Value, unit| Gate {
        condition: c.to_string(),
        detail,
        failed,
        observed,
        threshold,
        unit,
    };
    match c {
        Condition::Exhaustion => {
            let detail = match &s.first_exhaustion {
                Some(e) => format!(
                    "first at {}: subnet {}, workload {}",
                    clock.fmt(e.time_ms),
                    out.subnets[e.subnet].name,
                    out.workloads[e.workload].name
                ),
                None => "every start succeeded".into(),
            };
            gate(
                detail,
                s.first_exhaustion.is_some(),
                json!(s.failed_attempts),
                Value::Null,
                "failed attempts",
            )
        }
        Condition::DeployFailure => {
            let detail = match s.deploy_failures.first() {
                Some(d) => format!(
                    "first at {}: workload {}, revision {}",
                    clock.fmt(d.time_ms),
                    out.workloads[d.workload].name,
                    d.revision
                ),
                None => "every deploy started its instances".into(),
            };
            gate(
                detail,
                !s.deploy_failures.is_empty(),
                json!(s.deploy_failures.len()),
                Value::Null,
                "deploy failures",
            )
        }
        Condition::TaskFailure => {
            let failed: u64 = out.workloads.iter().map(|w| w.summary.tasks_failed).sum();
            let by: Vec<String> = out
                .workloads
                .iter()
                .filter(|w| w.summary.tasks_failed > 0)
                .map(|w| format!("{} {}", w.name, w.summary.tasks_failed))
                .collect();
            let detail = if by.is_empty() {
                "no task gave up".into()
            } else {
                format!("tasks that gave up: {}", by.join(", "))
            };
            gate(
                detail,
                failed > 0,
                json!(failed),
                Value::Null,
                "failed tasks",
            )
        }
        Condition::MinFreeBlocks(n) => {
            let tightest = out
                .subnets
                .iter()
                .filter(|sn| sn.n_reservable_blocks > 0)
                .min_by_key(|sn| sn.summary.min_free_blocks);
            match tightest {
                Some(sn) => gate(
                    format!(
                        "subnet {}, fewest free blocks of the {} reservable",
                        sn.name, sn.n_reservable_blocks
                    ),
                    sn.summary.min_free_blocks < n,
                    json!(sn.summary.min_free_blocks),
                    json!(n),
                    "free blocks",
                ),
                None => gate(
                    "no subnet has reservable blocks".into(),
                    false,
                    Value::Null,
                    json!(n),
                    "free blocks",
                ),
            }
        }
        Condition::PeakUtilization(p) => {
            let fullest = out
                .subnets
                .iter()
                .filter(|sn| sn.usable > 0)
                .map(|sn| {
                    let taken = u64::from(sn.n_static) + sn.summary.peak_held;
                    (taken as f64 * 100.0 / f64::from(sn.usable), taken, sn)
                })
                .max_by(|a, b| a.0.total_cmp(&b.0));
            match fullest {
                Some((u, taken, sn)) => gate(
                    format!(
                        "subnet {}: {taken} of {} usable addresses static or held at once",
                        sn.name, sn.usable
                    ),
                    u > p,
                    json!(round2(u)),
                    json!(p),
                    "percent",
                ),
                None => gate(
                    "no subnet has usable addresses".into(),
                    false,
                    Value::Null,
                    json!(p),
                    "percent",
                ),
            }
        }
        Condition::Short(p) => {
            let worst = short
                .worst
                .iter()
                .enumerate()
                .filter_map(|(w, x)| x.map(|(pe, d, t)| (w, pe, d, t)))
                // The largest share; the first workload on ties.
                .fold(None, |best: Option<(usize, u32, u32, u64)>, x| match best {
                    Some(b)
                        if u64::from(x.1) * u64::from(b.2) <= u64::from(b.1) * u64::from(x.2) =>
                    {
                        Some(b)
                    }
                    _ => Some(x),
                });
            match worst {
                Some((w, pending, desired, t)) => {
                    let share = f64::from(pending) * 100.0 / f64::from(desired);
                    gate(
                        format!(
                            "workload {} at {}: {} of {desired} desired not running",
                            out.workloads[w].name,
                            clock.fmt(t),
                            pending
                        ),
                        share > p,
                        json!(round2(share)),
                        json!(p),
                        "percent",
                    )
                }
                None => gate(
                    "no workload was ever short".into(),
                    0.0 > p,
                    json!(0.0),
                    json!(p),
                    "percent",
                ),
            }
        }
    }
}

/// A probability in [0, 1], as `--fail-if-probability-above` takes it.
pub fn parse_probability(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a probability from 0 to 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_and_print_back() {
        for t in [
            "exhaustion",
            "deploy-failure",
            "task-failure",
            "min-free-blocks<2",
            "peak-utilization>90%",
            "short>5%",
            "short>12.5%",
        ] {
            assert_eq!(parse_condition(t).unwrap().to_string(), t);
        }
        assert_eq!(
            parse_condition("peak-utilization>90"),
            Ok(Condition::PeakUtilization(90.0))
        );
        for bad in [
            "exhausted",
            "min-free-blocks<x",
            "min-free-blocks>2",
            "short>101%",
            "short>-1%",
            "peak-utilization>",
        ] {
            assert!(parse_condition(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shortfall_keeps_the_largest_share() {
        let mut s = Shortfall::new([WorkloadKind::Service, WorkloadKind::Connector]);
        let row = |t, running, pending| WorkloadRow {
            time_ms: t,
            running,
            pending,
            ..WorkloadRow::default()
        };
        s.workload_row(0, &row(1, 90, 10));
        s.workload_row(0, &row(2, 10, 5));
        s.workload_row(0, &row(3, 0, 0));
        s.workload_row(1, &row(4, 0, 10));
        assert_eq!(s.worst, vec![Some((5, 15, 2)), None]);
    }
}
