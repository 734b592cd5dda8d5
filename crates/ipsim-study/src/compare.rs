//! Comparing allocation strategies and policies on one scenario.
//!
//! A variant is a `+`-joined list of changes to the scenario's parameters: a strategy name
//! (`first-fit`, `next-fit`, `best-fit`, `random`) or `KEY=VALUE` with KEY one of `scope`
//! (service, revision, subnet), `edges` (excluded, partial), `block` (addresses per block, or a prefix like `/27`), `ips`
//! (addresses per instance), `retention` (fixed, uniform) and `linger` (a duration); and the
//! levers a user controls: `rollout` (every swap's rollout duration), `deploy` (the first
//! swap's time), `max` (max instances), each optionally `WORKLOAD:VALUE`, and `move`
//! (`WORKLOAD:SUBNET` or `WORKLOAD:CIDR`, a second subnet). For example
//! `best-fit+scope=revision`, `block=/27` or `move=nightly:10.0.8.0/24`.
//!
//! By default ([`default_variants`]) a comparison runs each reading of the undocumented
//! choices that can change an outcome. The placement strategies cannot while blocks are
//! interchangeable (equal size, edge blocks excluded): which free block an owner gets changes
//! which addresses it uses, never how many blocks are free.

use ipsim_core::{Output, Strategy};
use ipsim_scenario::def::{EdgeDef, RetentionDef, ScopeDef};
use ipsim_scenario::{Duration, ScenarioErrors};

use crate::variation::{Base, Edit, Field, Lever, ParamField, strategy_def};

/// One variant, as named on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Its name, as given.
    pub name: String,
    /// Its changes to the scenario's parameters, in order.
    pub edits: Vec<Edit>,
}

/// Parses one variant.
pub fn parse_variant(text: &str) -> Result<Variant, String> {
    let bad = |m: String| format!("variant {text:?}: {m}");
    let mut changes = Vec::new();
    for part in text.split('+').map(str::trim) {
        if let Some(s) = Strategy::from_name(part) {
            changes.push(Edit::Strategy(strategy_def(s).map_err(bad)?));
            continue;
        }
        let Some((k, v)) = part.split_once('=') else {
            let names: Vec<_> = Strategy::ALL.iter().map(|s| s.name()).collect();
            return Err(bad(format!(
                "{part:?} is neither a strategy ({}) nor KEY=VALUE with KEY scope, edges, retention, block, ips, linger, rollout, deploy, max or move",
                names.join(", ")
            )));
        };
        let change = match k.trim() {
            "scope" => match v {
                "service" => Edit::BlockScope(ScopeDef::Service),
                "revision" => Edit::BlockScope(ScopeDef::Revision),
                "subnet" => Edit::BlockScope(ScopeDef::Subnet),
                _ => {
                    return Err(bad(format!(
                        "scope {v:?} is not service, revision or subnet"
                    )));
                }
            },
            "block" => {
                let size = match v.strip_prefix('/') {
                    Some(p) => p
                        .parse::<u32>()
                        .ok()
                        .filter(|p| (26..=30).contains(p))
                        .map(|p| 1u32 << (32 - p)),
                    None => v.parse::<u32>().ok(),
                };
                match size.filter(|s| (4..=64).contains(s) && s.is_power_of_two()) {
                    Some(s) => Edit::Set(Field::Param(ParamField::BlockSize), f64::from(s)),
                    None => {
                        return Err(bad(format!(
                            "block {v:?} is not 4, 8, 16, 32 or 64 addresses (or /30 to /26)"
                        )));
                    }
                }
            }
            "ips" => match v.parse::<u32>() {
                Ok(n) if (1..=64).contains(&n) => {
                    Edit::Set(Field::Param(ParamField::IpsPerInstance), f64::from(n))
                }
                _ => return Err(bad(format!("ips {v:?} is not from 1 to 64"))),
            },
            "edges" => match v {
                "excluded" => Edit::EdgeBlocks(EdgeDef::Excluded),
                "partial" => Edit::EdgeBlocks(EdgeDef::Partial),
                _ => return Err(bad(format!("edges {v:?} is not excluded or partial"))),
            },
            "retention" => match v {
                "fixed" => Edit::Retention(RetentionDef::Fixed),
                "uniform" => Edit::Retention(RetentionDef::Uniform),
                _ => return Err(bad(format!("retention {v:?} is not fixed or uniform"))),
            },
            "rollout" | "deploy" => {
                let (name, d) = named_value(v);
                let d = Duration::parse(d).map_err(|e| bad(format!("{k}: {e}")))?;
                Edit::Lever(if k.trim() == "rollout" {
                    Lever::Rollout(name, d)
                } else {
                    Lever::DeployAt(name, d)
                })
            }
            "max" => {
                let (name, n) = named_value(v);
                match n.parse::<u32>() {
                    Ok(n) => Edit::Lever(Lever::MaxInstances(name, n)),
                    Err(_) => return Err(bad(format!("max {n:?} is not a whole number"))),
                }
            }
            "move" => match v.split_once(':') {
                Some((w, t)) if !w.is_empty() && !t.is_empty() => {
                    Edit::Lever(Lever::Move(w.to_string(), t.to_string()))
                }
                _ => {
                    return Err(bad(format!(
                        "move {v:?}: expected WORKLOAD:SUBNET or WORKLOAD:CIDR"
                    )));
                }
            },
            "linger" => match Duration::parse(v) {
                Ok(d) => Edit::Set(Field::Param(ParamField::BlockLinger), d.ms() as f64),
                Err(e) => return Err(bad(e)),
            },
            other => {
                return Err(bad(format!(
                    "unknown key {other:?}; keys: scope, edges, retention, block, ips, linger, rollout, deploy, max, move"
                )));
            }
        };
        changes.push(change);
    }
    Ok(Variant {
        name: text.trim().to_string(),
        edits: changes,
    })
}

/// `NAME:VALUE` or `VALUE`: the workload a lever applies to (every one if none) and its value.
fn named_value(v: &str) -> (Option<String>, &str) {
    match v.split_once(':') {
        Some((n, x)) => (Some(n.to_string()), x),
        None => (None, v),
    }
}

/// The variants `ipsim compare` runs by default: each reading of each undocumented choice
/// that can change an outcome (block scope, retention, edge blocks), the others as written.
pub fn default_variants() -> String {
    ipsim_report::assumptions::Choice::ALL
        .iter()
        .flat_map(|c| c.readings().iter().map(move |r| format!("{}={r}", c.key())))
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses a comma-separated list of variants; every bad one is an error.
pub fn parse_variants(text: &str) -> Result<Vec<Variant>, Vec<String>> {
    let (ok, errs): (Vec<_>, Vec<_>) = text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(parse_variant)
        .partition(Result::is_ok);
    let errs: Vec<String> = errs.into_iter().filter_map(Result::err).collect();
    if !errs.is_empty() {
        return Err(errs);
    }
    if ok.is_empty() {
        return Err(vec!["--strategies names no variant".into()]);
    }
    Ok(ok.into_iter().filter_map(Result::ok).collect())
}

/// One variant's run.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantRun {
    /// The variant's name.
    pub name: String,
    /// Its figures.
    pub figures: Figures,
    /// Addresses in free blocks over time ([`free_series`]).
    pub free: Vec<(u64, u64)>,
    /// How long the run took, in milliseconds of wall-clock time.
    pub runtime_ms: f64,
}

/// A comparison: every variant run on the same scenario and seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Scenario name.
    pub scenario: String,
    /// Clock time of t = 0, if the scenario gives one.
    pub start: Option<jiff::Timestamp>,
    /// Run length.
    pub duration_ms: u64,
    /// The runs, in variant order.
    pub runs: Vec<VariantRun>,
    /// What the scenario as written assumes (each variant changes some of it).
    pub assumptions: Vec<ipsim_report::Assumption>,
}

/// Runs every variant of `base`, with `seed` replacing the scenario's seed.
pub fn compare(
    base: &Base,
    variants: &[Variant],
    seed: Option<u64>,
) -> Result<Comparison, ScenarioErrors> {
    let declared = base.scenario(&[], seed)?;
    let mut c = Comparison {
        scenario: base.def.name.clone(),
        start: declared.start,
        duration_ms: declared.input.duration_ms,
        runs: Vec::new(),
        assumptions: crate::variation::resolved_params(&declared).assumptions(),
    };
    for v in variants {
        // A variant that changes only the strategy, block scope or retention takes the
        // scenario resolved once; the others (edge blocks, block size, addresses, levers)
        // resolve on their own.
        let mut s = base.scenario_from(Some(&declared), &v.edits, seed)?;
        s.input.options.record_workload_series = false;
        s.input.options.log_limit = 0;
        c.start = s.start;
        // Runtime is measured here, around the run; the core never reads a clock.
        let t0 = std::time::Instant::now();
        let o = s.run()?;
        let runtime_ms = t0.elapsed().as_secs_f64() * 1000.0;
        if c.runs.is_empty() {
            c.duration_ms = o.duration_ms;
        }
        c.runs.push(VariantRun {
            name: v.name.clone(),
            figures: figures(&o),
            free: free_series(&o),
            runtime_ms,
        });
    }
    Ok(c)
}

/// The table `ipsim compare` prints; `clock` formats a time.
pub fn table_text(c: &Comparison, clock: &dyn Fn(u64) -> String) -> String {
    let mut o = format!("ipsim compare: {}\n", c.scenario);
    o.push_str(&format!(
        "Assumes (undocumented) as written, each variant changing its own: {}\n",
        ipsim_report::assumptions::choices_text(&c.assumptions)
    ));
    o.push_str(&format!(
        "{:<28} {:>15} {:>22} {:>17} {:>10} {:>13} {:>9} {:>10} {:>10}\n",
        "variant",
        "failed attempts",
        "first exhaustion",
        "peak reserved",
        "idle share",
        "stranded free",
        "min free",
        "events",
        "runtime"
    ));
    for r in &c.runs {
        let f = &r.figures;
        let first = f.first_exhaustion_ms.map_or("-".to_string(), clock);
        o.push_str(&format!(
            "{:<28} {:>15} {:>22} {:>17} {:>9.1}% {:>13.1} {:>9} {:>10} {:>8.1}ms\n",
            r.name,
            f.failed_attempts,
            first,
            format!("{} ({} blocks)", f.peak_reserved, f.peak_reserved_blocks),
            f.reserved_idle_share * 100.0,
            f.stranded_free,
            f.min_free,
            f.events,
            r.runtime_ms
        ));
    }
    o
}

/// `compare.csv`: one row per variant.
pub fn to_csv(c: &Comparison) -> String {
    let mut csv = String::from(
        "variant,failed_attempts,first_exhaustion_ms,peak_reserved,peak_reserved_blocks,reserved_idle_share,stranded_free_mean,min_free,events,runtime_ms\n",
    );
    for r in &c.runs {
        let f = &r.figures;
        csv.push_str(&format!(
            "{},{},{},{},{},{:.6},{:.3},{},{},{:.3}\n",
            r.name,
            f.failed_attempts,
            f.first_exhaustion_ms
                .map_or(String::new(), |t| t.to_string()),
            f.peak_reserved,
            f.peak_reserved_blocks,
            f.reserved_idle_share,
            f.stranded_free,
            f.min_free,
            f.events,
            r.runtime_ms
        ));
    }
    csv
}

/// What a comparison reports for one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Failed start attempts.
    pub failed_attempts: u64,
    /// First failed start.
    pub first_exhaustion_ms: Option<u64>,
    /// Most addresses in reserved blocks at once.
    pub peak_reserved: u64,
    /// Most reserved blocks at once.
    pub peak_reserved_blocks: u64,
    /// Time-weighted mean share of reserved addresses that are idle (free inside blocks).
    pub reserved_idle_share: f64,
    /// Time-weighted mean of free addresses that are not in whole free blocks.
    pub stranded_free: f64,
    /// Fewest addresses in free blocks at once.
    pub min_free: u64,
    /// Events processed.
    pub events: u64,
}

/// Figures of a run whose subnet rows were recorded.
pub fn figures(out: &Output) -> Figures {
    let end = out.duration_ms;
    let (mut idle_w, mut reserved_w, mut stranded_w) = (0.0, 0.0, 0.0);
    for sn in &out.subnets {
        for (k, r) in sn.rows.iter().enumerate() {
            let until = sn.rows.get(k + 1).map_or(end, |n| n.time_ms);
            let dt = until.saturating_sub(r.time_ms) as f64;
            idle_w += f64::from(r.reserved_idle) * dt;
            reserved_w += f64::from(r.reserved()) * dt;
            stranded_w += f64::from((r.reserved_idle + r.unreserved).saturating_sub(r.free)) * dt;
        }
    }
    let s = &out.summary;
    Figures {
        failed_attempts: s.failed_attempts,
        first_exhaustion_ms: s.first_exhaustion.as_ref().map(|e| e.time_ms),
        peak_reserved: s.peak_reserved,
        peak_reserved_blocks: s.peak_reserved_blocks,
        reserved_idle_share: if reserved_w > 0.0 {
            idle_w / reserved_w
        } else {
            0.0
        },
        stranded_free: stranded_w / end.max(1) as f64,
        min_free: s.min_free,
        events: out.n_events,
    }
}

/// Addresses in free blocks over time, summed across subnets: (time, free) changes only.
pub fn free_series(out: &Output) -> Vec<(u64, u64)> {
    let mut times: Vec<u64> = out
        .subnets
        .iter()
        .flat_map(|s| s.rows.iter().map(|r| r.time_ms))
        .collect();
    times.sort_unstable();
    times.dedup();
    let mut cur = vec![0usize; out.subnets.len()];
    let mut res: Vec<(u64, u64)> = Vec::with_capacity(times.len());
    for t in times {
        let mut sum = 0u64;
        for (sn, c) in out.subnets.iter().zip(cur.iter_mut()) {
            while *c + 1 < sn.rows.len() && sn.rows[*c + 1].time_ms <= t {
                *c += 1;
            }
            if let Some(r) = sn.rows.get(*c).filter(|r| r.time_ms <= t) {
                sum += u64::from(r.free);
            }
        }
        if res.last().map(|l| l.1) != Some(sum) {
            res.push((t, sum));
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_every_reading_of_the_choices_that_can_change_an_outcome() {
        assert_eq!(
            default_variants(),
            "scope=service,scope=revision,scope=subnet,retention=fixed,retention=uniform,\
             edges=excluded,edges=partial"
        );
    }

    #[test]
    fn levers_edit_the_scenario() {
        let base = Base::parse(
            br#"{"name": "v", "description": "", "duration": "1h",
                 "subnets": [{"name": "main", "cidr": "10.0.0.0/24"}],
                 "workloads": [{"name": "api", "subnet": "main",
                     "demand": {"type": "constant", "value": 10},
                     "swaps": [{"at": "10m"}, {"at": "30m"}]}]}"#,
            std::path::Path::new("v.json"),
        )
        .unwrap();
        let v = parse_variant("rollout=api:5m+deploy=20m+max=7+move=api:10.0.8.0/24").unwrap();
        let d = base.edited(&v.edits).unwrap();
        let w = &d.workloads[0];
        let ipsim_scenario::def::WorkloadKindDef::Service(sc) = &w.kind else {
            panic!("a service")
        };
        let swaps: Vec<(u64, u64)> = sc
            .swaps
            .iter()
            .map(|s| (s.at.ms(), s.rollout.ms()))
            .collect();
        assert_eq!(swaps, [(1_200_000, 300_000), (2_400_000, 300_000)]);
        assert_eq!(sc.max_instances, Some(7));
        assert_eq!(w.subnet, "api-subnet");
        assert_eq!(d.subnets[1].cidr, "10.0.8.0/24");
        let e = base
            .edited(&parse_variant("max=web:3").unwrap().edits)
            .unwrap_err();
        assert!(e.contains("no workload named \"web\""), "{e}");
        let e = base
            .edited(&parse_variant("move=api:elsewhere").unwrap().edits)
            .unwrap_err();
        assert!(
            e.contains("neither a subnet of the scenario (main) nor a CIDR"),
            "{e}"
        );
    }

    #[test]
    fn variants() {
        let v = parse_variant("best-fit+scope=revision+block=/27+linger=5m").unwrap();
        let base = Base::parse(
            br#"{"name": "v", "description": "", "duration": "1h",
                 "subnets": [{"name": "main", "cidr": "10.0.0.0/24"}]}"#,
            std::path::Path::new("v.json"),
        )
        .unwrap();
        let p = base.edited(&v.edits).unwrap().params;
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"ips_per_instance": null, "ips_per_task": null,
                "service_retention": null, "task_retention": null, "retention": null,
                "block_size": 32, "block_scope": "revision", "block_linger": "5m",
                "retry_interval": null, "max_task_retries": null, "strategy": "best-fit",
                "concurrency": null, "target_utilization": null, "sample_interval": null})
        );
        for (bad, msg) in [
            ("worst-fit", "neither a strategy"),
            ("scope=team", "is not service, revision or subnet"),
            ("block=/25", "is not 4, 8, 16, 32 or 64"),
            ("ips=0", "is not from 1 to 64"),
            ("color=red", "unknown key \"color\""),
            ("move=api", "expected WORKLOAD:SUBNET"),
            ("max=api:lots", "is not a whole number"),
            ("rollout=soon", "rollout"),
        ] {
            assert!(parse_variant(bad).unwrap_err().contains(msg), "{bad}");
        }
    }
}
