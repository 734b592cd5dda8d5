//! Comparing allocation strategies and policies on one scenario.
//!
//! A variant is a `+`-joined list of changes to the scenario's parameters: a strategy name
//! (`first-fit`, `next-fit`, `best-fit`, `random`) or `KEY=VALUE` with KEY one of `scope`
//! (service, revision, subnet), `block` (addresses per block, or a prefix like `/27`), `ips`
//! (addresses per instance), `retention` (fixed, uniform) and `linger` (a duration). For
//! example `best-fit+scope=revision` or `block=/27`.

use ipsim_core::{Output, Strategy};
use serde_json::Value;

use ipsim_scenario::Duration;

/// One variant, as named on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Its name, as given.
    pub name: String,
    changes: Vec<(&'static str, Value)>,
}

/// Parses one variant.
pub fn parse_variant(text: &str) -> Result<Variant, String> {
    let bad = |m: String| format!("variant {text:?}: {m}");
    let mut changes = Vec::new();
    for part in text.split('+').map(str::trim) {
        if let Some(s) = Strategy::from_name(part) {
            changes.push(("strategy", Value::from(s.name())));
            continue;
        }
        let Some((k, v)) = part.split_once('=') else {
            let names: Vec<_> = Strategy::ALL.iter().map(|s| s.name()).collect();
            return Err(bad(format!(
                "{part:?} is neither a strategy ({}) nor KEY=VALUE with KEY scope, block, ips, retention or linger",
                names.join(", ")
            )));
        };
        let change = match k.trim() {
            "scope" => match v {
                "service" | "revision" | "subnet" => ("block_scope", Value::from(v)),
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
                    Some(s) => ("block_size", Value::from(s)),
                    None => {
                        return Err(bad(format!(
                            "block {v:?} is not 4, 8, 16, 32 or 64 addresses (or /30 to /26)"
                        )));
                    }
                }
            }
            "ips" => match v.parse::<u32>() {
                Ok(n) if (1..=64).contains(&n) => ("ips_per_instance", Value::from(n)),
                _ => return Err(bad(format!("ips {v:?} is not from 1 to 64"))),
            },
            "retention" => match v {
                "fixed" | "uniform" => ("retention", Value::from(v)),
                _ => return Err(bad(format!("retention {v:?} is not fixed or uniform"))),
            },
            "linger" => match Duration::parse(v) {
                Ok(d) => ("block_linger", Value::from(d.ms())),
                Err(e) => return Err(bad(e)),
            },
            other => {
                return Err(bad(format!(
                    "unknown key {other:?}; keys: scope, block, ips, retention, linger"
                )));
            }
        };
        changes.push(change);
    }
    Ok(Variant {
        name: text.trim().to_string(),
        changes,
    })
}

impl Variant {
    /// Applies the changes to the scenario's JSON.
    pub fn apply(&self, doc: &mut Value) {
        if let Some(obj) = doc.as_object_mut() {
            let p = obj
                .entry("params")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(p) = p.as_object_mut() {
                for (k, v) in &self.changes {
                    p.insert((*k).to_string(), v.clone());
                }
            }
        }
    }
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
    fn variants() {
        let v = parse_variant("best-fit+scope=revision+block=/27+linger=5m").unwrap();
        let mut d = serde_json::json!({});
        v.apply(&mut d);
        assert_eq!(
            d["params"],
            serde_json::json!({"strategy": "best-fit", "block_scope": "revision", "block_size": 32, "block_linger": 300000})
        );
        for (bad, msg) in [
            ("worst-fit", "neither a strategy"),
            ("scope=team", "is not service, revision or subnet"),
            ("block=/25", "is not 4, 8, 16, 32 or 64"),
            ("ips=0", "is not from 1 to 64"),
            ("color=red", "unknown key \"color\""),
        ] {
            assert!(parse_variant(bad).unwrap_err().contains(msg), "{bad}");
        }
    }
}
