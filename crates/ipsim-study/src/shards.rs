//! What makes shards parts of one sweep: the sweep's fingerprint, and the checks `merge`
//! makes before it combines them.
//!
//! A sweep's fingerprint is a digest of what decides its figures: the scenario as parsed
//! (every field, in its canonical JSON form), the `--vary` expressions as parsed, the seeds,
//! and the ipsim version. Every shard of a sweep writes it in its `sweep.json`; `merge`
//! refuses shards whose fingerprints differ, and names what differs when it can. Trace files
//! are named by their paths in the scenario, not by their contents: a trace changed between
//! shards is not seen (keep the traces in the image the shards run).
//!
//! The digest is FNV-1a over 64 bits: stable across platforms, toolchains and runs (unlike
//! the standard library's hasher, which may change), and enough to tell sweeps apart by
//! accident; it is no defence against a forged file.

use ipsim_report::stamp::Fnv;
use ipsim_scenario::def::ScenarioDef;

use crate::sweep::{SweepResult, Vary};

/// The fingerprint of a sweep of `def` with these `--vary` fields and `seeds` seeds, made
/// by this version of ipsim.
pub fn fingerprint(def: &ScenarioDef, vary: &[Vary], seeds: u64) -> String {
    let mut h = Fnv::default();
    // Each part is length-prefixed, so that no two different inputs give the same stream.
    h.part(b"ipsim sweep fingerprint 1");
    h.part(ipsim_report::VERSION.as_bytes());
    h.part(
        serde_json::to_string(def)
            .unwrap_or_else(|e| format!("unserialisable scenario: {e}"))
            .as_bytes(),
    );
    h.part(
        serde_json::to_string(vary)
            .unwrap_or_else(|e| format!("unserialisable vary: {e}"))
            .as_bytes(),
    );
    h.part(&seeds.to_le_bytes());
    format!("fnv1a64:{}", h.hex())
}

/// How a part names itself in errors: `shard I/N` or `the unsharded sweep`, with its place
/// among the folders given (`#k`, from 1).
fn name(k: usize, p: &SweepResult) -> String {
    match &p.shard {
        Some(s) => format!("shard {s} (folder #{})", k + 1),
        None => format!("the unsharded sweep (folder #{})", k + 1),
    }
}

/// `I/N` as written in a `sweep.json`.
fn shard_of(s: &str) -> Option<(usize, usize)> {
    let (i, n) = s.split_once('/')?;
    let (i, n): (usize, usize) = (i.parse().ok()?, n.parse().ok()?);
    (i < n).then_some((i, n))
}

/// Checks that one `sweep.json` agrees with itself: its point count is that of its `--vary`
/// values, each row's point is inside the sweep, in its shard, and carries that point's
/// values. A file edited by hand or cut short fails here rather than in what reads it next.
fn check_one(k: usize, p: &SweepResult) -> Result<Option<(usize, usize)>, String> {
    let who = name(k, p);
    if p.fingerprint.is_empty() || p.ipsim_version.is_empty() {
        return Err(format!(
            "{who}: its sweep.json has no fingerprint or ipsim_version, so nothing shows it is of the same sweep: run it again with this ipsim ({})",
            ipsim_report::VERSION
        ));
    }
    let bad = |m: String| format!("{who}: its sweep.json disagrees with itself: {m}");
    if let Some(v) = p.vary.iter().find(|v| v.values.is_empty()) {
        return Err(bad(format!("--vary {} has no values", v.path)));
    }
    let total = p
        .vary
        .iter()
        .try_fold(1usize, |a, v| a.checked_mul(v.values.len()));
    if total != Some(p.total_points) {
        return Err(bad(format!(
            "total_points is {}, but its --vary values make {}",
            p.total_points,
            total.map_or("too many to count".to_string(), |t| t.to_string())
        )));
    }
    let shard = match &p.shard {
        None => None,
        Some(s) => Some(shard_of(s).ok_or_else(|| {
            bad(format!(
                "shard {s:?} is not I/N with 0 <= I < N, like \"0/3\""
            ))
        })?),
    };
    for row in &p.points {
        if row.point >= p.total_points {
            return Err(bad(format!(
                "point {} is outside its {} points",
                row.point, p.total_points
            )));
        }
        if let Some((i, n)) = shard {
            if row.point % n != i {
                return Err(bad(format!(
                    "point {} is not in shard {i}/{n} (points whose index % {n} == {i})",
                    row.point
                )));
            }
        }
        let want = point_values(&p.vary, row.point);
        if row.values != want {
            return Err(bad(format!(
                "point {} has values {:?}, but its --vary values give it {want:?}",
                row.point, row.values
            )));
        }
    }
    Ok(shard)
}

/// The values of point `p` of a sweep over `vary` (the last field varies fastest), as
/// [`crate::sweep::Sweep::values`] gives them.
fn point_values(vary: &[Vary], mut p: usize) -> Vec<f64> {
    let mut out = vec![0.0; vary.len()];
    for (i, v) in vary.iter().enumerate().rev() {
        let n = v.values.len().max(1);
        out[i] = v.values.get(p % n).copied().unwrap_or(f64::NAN);
        p /= n;
    }
    out
}

/// Checks that `parts` are shards of one sweep, each once and none missing, and each
/// consistent in itself: the first error, naming the shard and what is wrong.
pub fn check(parts: &[SweepResult]) -> Result<(), String> {
    let Some(first) = parts.first() else {
        return Err("nothing to merge".into());
    };
    let mut shards = Vec::with_capacity(parts.len());
    for (k, p) in parts.iter().enumerate() {
        shards.push(check_one(k, p)?);
    }
    for (k, p) in parts.iter().enumerate().skip(1) {
        let who = name(k, p);
        let of = name(0, first);
        let differs = if p.ipsim_version != first.ipsim_version {
            Some(format!(
                "it was made by ipsim {}, {of} by ipsim {}",
                p.ipsim_version, first.ipsim_version
            ))
        } else if p.scenario != first.scenario {
            Some(format!(
                "its scenario is {:?}, that of {of} {:?}",
                p.scenario, first.scenario
            ))
        } else if p.vary != first.vary {
            Some(format!("its --vary differs from that of {of}"))
        } else if p.seeds != first.seeds {
            Some(format!(
                "it ran {} seed(s) per point, {of} {}",
                p.seeds, first.seeds
            ))
        } else if p.fingerprint != first.fingerprint {
            Some(format!(
                "its fingerprint {} is not {}, that of {of}: the scenario {:?} itself differs",
                p.fingerprint, first.fingerprint, p.scenario
            ))
        } else if p.total_points != first.total_points || p.assumptions != first.assumptions {
            Some(format!(
                "its points or assumptions differ from those of {of}"
            ))
        } else {
            None
        };
        if let Some(d) = differs {
            return Err(format!("{who} is of another sweep: {d}"));
        }
    }
    // Every shard of one split, each once.
    let counts: Vec<usize> = shards.iter().flatten().map(|&(_, n)| n).collect();
    if let Some(&n) = counts.first() {
        if shards.iter().any(Option::is_none) {
            return Err(
                "an unsharded sweep and shards were given together: merge the shards alone".into(),
            );
        }
        if let Some((k, &(i, m))) = shards.iter().flatten().enumerate().find(|(_, s)| s.1 != n) {
            return Err(format!(
                "shard {i}/{m} (folder #{}) is of a split into {m}, the first folder's of a split into {n}: merge the shards of one split",
                k + 1
            ));
        }
        let mut seen = vec![None; n];
        for (k, &(i, _)) in shards.iter().flatten().enumerate() {
            if let Some(j) = seen[i] {
                return Err(format!(
                    "shard {i}/{n} is given twice (folders #{} and #{}): merge every shard once",
                    j + 1,
                    k + 1
                ));
            }
            seen[i] = Some(k);
        }
        let missing: Vec<String> = (0..n)
            .filter(|&i| seen[i].is_none())
            .map(|i| format!("{i}/{n}"))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "shard{} {} {} missing: merge every shard once",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" }
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_values_follow_the_sweep_order() {
        let vary = vec![
            Vary {
                path: "a".into(),
                values: vec![1.0, 2.0],
                names: vec![],
            },
            Vary {
                path: "b".into(),
                values: vec![10.0, 20.0, 30.0],
                names: vec![],
            },
        ];
        assert_eq!(point_values(&vary, 0), [1.0, 10.0]);
        assert_eq!(point_values(&vary, 2), [1.0, 30.0]);
        assert_eq!(point_values(&vary, 4), [2.0, 20.0]);
        assert_eq!(point_values(&[], 0), Vec::<f64>::new());
    }
}
