//! Sweeps on a batch engine: `--shard auto`, which takes the shard from the environment the
//! engine gives each task, the folder each shard writes, and `sweep --plan`, the estimate of
//! how long a sweep takes before anything runs.
//!
//! The environment and the wall clock are read here, in the binary, and nowhere in the
//! libraries: [`from_env`] takes the environment as a lookup function, so that tests give it
//! each engine's variables without touching the process's own.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use ipsim_study::sweep::Sweep;

/// `--shard` as given: `I/N`, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardArg {
    /// `I/N`.
    Of(usize, usize),
    /// `auto`: from the batch engine's environment.
    Auto,
}

/// Parses `--shard`.
pub fn parse_shard(s: &str) -> Result<ShardArg, String> {
    if s.trim() == "auto" {
        return Ok(ShardArg::Auto);
    }
    ipsim_study::sweep::parse_shard(s)
        .map(|(i, n)| ShardArg::Of(i, n))
        .map_err(|e| format!("{e}, or auto (from a batch engine's environment)"))
}

/// The shard a sweep runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// Its index, from 0.
    pub index: usize,
    /// The number of shards.
    pub count: usize,
    /// With `--shard auto`: the engine and the variables it was read from.
    pub from: Option<String>,
}

/// The engines `--shard auto` knows, by the variable that holds a task's index.
const ENGINES: [(&str, &str); 4] = [
    ("JOB_COMPLETION_INDEX", "Kubernetes Indexed Job"),
    ("CLOUD_RUN_TASK_INDEX", "Cloud Run job"),
    ("SLURM_ARRAY_TASK_ID", "Slurm job array"),
    ("AWS_BATCH_JOB_ARRAY_INDEX", "AWS Batch array job"),
];

/// `--shard` and `--shard-count` made into the shard to run (`None`: the whole sweep).
pub fn resolve(shard: Option<ShardArg>, count: Option<usize>) -> Result<Option<Shard>, String> {
    match shard {
        None if count.is_some() => Err("--shard-count goes with --shard auto".into()),
        None => Ok(None),
        Some(ShardArg::Of(..)) if count.is_some() => {
            Err("--shard-count goes with --shard auto; --shard I/N gives the count itself".into())
        }
        Some(ShardArg::Of(index, count)) => Ok(Some(Shard {
            index,
            count,
            from: None,
        })),
        Some(ShardArg::Auto) => from_env(&|k| std::env::var(k).ok(), count).map(Some),
    }
}

/// `--shard auto`: the shard from the environment `get` reads, with `count_flag` the
/// `--shard-count` given (needed where the engine gives no count: a Kubernetes Indexed Job;
/// an AWS Batch array job without `AWS_BATCH_JOB_ARRAY_SIZE`). Exactly one engine's index
/// must be set; a count given both ways must agree.
pub fn from_env(
    get: &dyn Fn(&str) -> Option<String>,
    count_flag: Option<usize>,
) -> Result<Shard, String> {
    let set: Vec<(&str, &str)> = ENGINES
        .iter()
        .copied()
        .filter(|(var, _)| get(var).is_some())
        .collect();
    let (var, engine) = match set.as_slice() {
        [] => {
            let names: Vec<String> = ENGINES
                .iter()
                .map(|(var, engine)| format!("{var} ({engine})"))
                .collect();
            return Err(format!(
                "--shard auto: no batch engine's task index is set: none of {}; run it as a task of one of them, or give --shard I/N",
                names.join(", ")
            ));
        }
        [one] => *one,
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|(var, engine)| format!("{var} ({engine})"))
                .collect();
            return Err(format!(
                "--shard auto: more than one batch engine's task index is set: {}; give --shard I/N",
                names.join(", ")
            ));
        }
    };
    let mut seen: Vec<String> = Vec::new();
    let mut read = |name: &str| -> Result<Option<usize>, String> {
        let Some(v) = get(name) else {
            return Ok(None);
        };
        seen.push(format!("{name}={v}"));
        v.trim()
            .parse::<usize>()
            .map(Some)
            .map_err(|_| format!("--shard auto: {name} is {v:?}, not a whole number of 0 or more"))
    };
    let index = read(var)?.unwrap_or(0);
    let (index, from_engine) = match var {
        "CLOUD_RUN_TASK_INDEX" => (index, read("CLOUD_RUN_TASK_COUNT")?),
        "AWS_BATCH_JOB_ARRAY_INDEX" => (index, read("AWS_BATCH_JOB_ARRAY_SIZE")?),
        "SLURM_ARRAY_TASK_ID" => slurm(index, &mut read)?,
        _ => (index, None),
    };
    let count = match (from_engine, count_flag) {
        (Some(e), Some(f)) if e != f => {
            return Err(format!(
                "--shard auto: the {engine} has {e} tasks ({}), but --shard-count is {f}",
                seen.join(", ")
            ));
        }
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => {
            let hint = match var {
                "JOB_COMPLETION_INDEX" => "the Job's `completions`",
                _ => "the array's size",
            };
            return Err(format!(
                "--shard auto: the {engine} gives the task index ({}) but not the number of tasks: give it as --shard-count N, N being {hint}",
                seen.join(", ")
            ));
        }
    };
    if count == 0 || index >= count {
        return Err(format!(
            "--shard auto: task index {index} is not below the {count} task(s) of the {engine} ({}{})",
            seen.join(", "),
            count_flag.map_or(String::new(), |n| format!(", --shard-count {n}"))
        ));
    }
    if from_engine.is_none() {
        seen.push(format!("--shard-count {count}"));
    }
    Ok(Shard {
        index,
        count,
        from: Some(format!("{engine}: {}", seen.join(", "))),
    })
}

type Read<'a> = dyn FnMut(&str) -> Result<Option<usize>, String> + 'a;

/// A Slurm array task: its index among the array's tasks and their count. Slurm gives the
/// task's ID, the count, and the lowest and highest ID and the step of an `A-B:S` range; a
/// shard's index is `(ID - MIN) / STEP`. A list like `--array=1,3,7` has no such index, and is
/// refused.
fn slurm(id: usize, read: &mut Read<'_>) -> Result<(usize, Option<usize>), String> {
    let count = read("SLURM_ARRAY_TASK_COUNT")?;
    let min = read("SLURM_ARRAY_TASK_MIN")?;
    let max = read("SLURM_ARRAY_TASK_MAX")?;
    let step = read("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
    let Some(min) = min else {
        // The count alone: IDs 0 to COUNT-1.
        return Ok((id, count));
    };
    let not_range = |why: &str| {
        Err(format!(
            "--shard auto: the Slurm job array is not a range from its lowest task ID by a fixed step ({why}): submit it as --array=0-N-1, or give --shard I/N"
        ))
    };
    if id < min || (id - min) % step != 0 {
        return not_range(&format!(
            "task ID {id} is not the lowest ID {min} plus a multiple of the step {step}"
        ));
    }
    let index = (id - min) / step;
    let span = match max {
        Some(max) if max >= min && (max - min) % step == 0 => Some((max - min) / step + 1),
        Some(max) => {
            return not_range(&format!(
                "the highest ID {max} is not the lowest {min} plus a multiple of the step {step}"
            ));
        }
        None => None,
    };
    match (span, count) {
        (Some(s), Some(c)) if s != c => not_range(&format!(
            "IDs {min} to {} by {step} would be {s} tasks, but it has {c}",
            max.unwrap_or(min)
        )),
        (Some(n), _) | (None, Some(n)) => Ok((index, Some(n))),
        (None, None) => Ok((index, None)),
    }
}

/// The folder a sweep writes: `--out DIR` as given, or `out/NAME/sweep` (a shard
/// `out/NAME/sweep-shard-I-of-N`); with `--shard auto`, the folder `shard-I` inside it, named
/// by the shard's index, so that the tasks of one sweep can share `--out`.
pub fn out_dir(out: Option<PathBuf>, scenario: &str, shard: Option<&Shard>) -> PathBuf {
    let base = Path::new("out").join(scenario);
    match (out, shard) {
        (out, Some(s)) if s.from.is_some() => out
            .unwrap_or_else(|| base.join("sweep"))
            .join(format!("shard-{}", s.index)),
        (Some(out), _) => out,
        (None, Some(s)) => base.join(format!("sweep-shard-{}-of-{}", s.index, s.count)),
        (None, None) => base.join("sweep"),
    }
}

/// The shard folders `merge` reads: each folder given that holds a `sweep.json`, and, for a
/// folder that holds none, the `shard-I` folders in it (the shared `--out` of `--shard
/// auto` tasks), in index order, so that an image with no shell to expand `shard-*` can
/// merge. Whether they are all the sweep's shards, each once, `merge` checks afterwards.
pub fn shard_folders(given: &[PathBuf]) -> Result<Vec<PathBuf>> {
    use anyhow::Context as _;
    let mut out = Vec::new();
    for d in given {
        if d.join("sweep.json").exists() || !d.is_dir() {
            out.push(d.clone());
            continue;
        }
        let mut found: Vec<(usize, PathBuf)> = Vec::new();
        for e in std::fs::read_dir(d).with_context(|| format!("cannot read {}", d.display()))? {
            let e = e.with_context(|| format!("cannot read {}", d.display()))?;
            let name = e.file_name();
            let index = name
                .to_str()
                .and_then(|n| n.strip_prefix("shard-"))
                .and_then(|i| i.parse::<usize>().ok());
            if let Some(i) = index {
                if e.path().is_dir() {
                    found.push((i, e.path()));
                }
            }
        }
        if found.is_empty() {
            out.push(d.clone());
        }
        found.sort();
        out.extend(found.into_iter().map(|(_, p)| p));
    }
    Ok(out)
}

/// `ipsim sweep --plan`: what the sweep (and this shard of it) runs, one run timed on this
/// machine, and how long the sweep takes: runs x the time of one run / workers.
pub fn plan(sw: &Sweep, points: &[usize], shard: Option<&Shard>) -> Result<String> {
    let total = sw.total_points();
    let all_runs = total as u64 * sw.seeds;
    let mut out = format!(
        "sweep {}: {total} point(s) x {} seed(s) = {all_runs} run(s)\n",
        sw.scenario, sw.seeds
    );
    let shard_runs = points.len() as u64 * sw.seeds;
    if let Some(s) = shard {
        out.push_str(&format!(
            "shard {}/{}{}: {} point(s) x {} seed(s) = {shard_runs} run(s)\n",
            s.index,
            s.count,
            s.from.as_ref().map_or(String::new(), |f| format!(" ({f})")),
            points.len(),
            sw.seeds
        ));
    }
    // The middle point, first seed: one run, timed on this machine, as the sweep runs it.
    let probe = total / 2;
    let t0 = Instant::now();
    let def = sw.point_def(probe).map_err(|e| crate::print_errors(&e))?;
    sw.run_one(def, 0).map_err(|e| crate::print_errors(&e))?;
    let per_run = t0.elapsed().as_secs_f64();
    let workers = rayon::current_num_threads().max(1);
    out.push_str(&format!(
        "one run (point {probe}, seed 0) took {} here; runs at other points may take longer or shorter\n",
        human(per_run)
    ));
    let line = |what: &str, runs: u64, workers: usize| {
        let w = (workers as u64).clamp(1, runs.max(1));
        format!(
            "{what}: {runs} run(s) x {} / {w} worker(s) = {}\n",
            human(per_run),
            human(runs as f64 * per_run / w as f64)
        )
    };
    out.push_str(&line("the whole sweep on this machine", all_runs, workers));
    if let Some(s) = shard {
        out.push_str(&line(
            &format!("this shard with {workers} thread(s)"),
            shard_runs,
            workers,
        ));
        out.push_str(&line(
            &format!("all {} shards at once, {workers} thread(s) each", s.count),
            all_runs,
            s.count.saturating_mul(workers),
        ));
    }
    let one_worker = all_runs as f64 * per_run;
    if one_worker / workers as f64 > 3600.0 {
        out.push_str(&format!(
            "to take about an hour: {} worker(s) in all (shards x threads each)\n",
            (one_worker / 3600.0).ceil()
        ));
    }
    out.push_str("nothing else ran and nothing was written\n");
    Ok(out)
}

/// A time in seconds, as people read it.
pub fn human(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "an unknown time".into();
    }
    if secs < 0.01 {
        return format!("{:.2} ms", secs * 1000.0);
    }
    if secs < 1.0 {
        return format!("{:.0} ms", secs * 1000.0);
    }
    if secs < 60.0 {
        return format!("{secs:.1} s");
    }
    let s = secs.round() as u64;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min {sec} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    fn at(vars: &[(&str, &str)], flag: Option<usize>) -> Result<(usize, usize), String> {
        from_env(&env(vars), flag).map(|s| (s.index, s.count))
    }

    #[test]
    fn each_engine_gives_index_and_count() {
        assert_eq!(at(&[("JOB_COMPLETION_INDEX", "3")], Some(8)), Ok((3, 8)));
        assert_eq!(
            at(
                &[("CLOUD_RUN_TASK_INDEX", "2"), ("CLOUD_RUN_TASK_COUNT", "5")],
                None
            ),
            Ok((2, 5))
        );
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
            ("SLURM_ARRAY_TASK_STEP", "1"),
        ];
        assert_eq!(at(&slurm, None), Ok((1, 4)));
        assert_eq!(
            at(
                &[
                    ("SLURM_ARRAY_TASK_ID", "2"),
                    ("SLURM_ARRAY_TASK_COUNT", "3")
                ],
                None
            ),
            Ok((2, 3))
        );
        // --array=5-8: MIN and MAX alone; --array=2-8:3 (IDs 2, 5, 8), as Slurm 22.05 sets it.
        assert_eq!(
            at(
                &[
                    ("SLURM_ARRAY_TASK_ID", "7"),
                    ("SLURM_ARRAY_TASK_MIN", "5"),
                    ("SLURM_ARRAY_TASK_MAX", "8")
                ],
                None
            ),
            Ok((2, 4))
        );
        assert_eq!(
            at(
                &[
                    ("SLURM_ARRAY_TASK_ID", "5"),
                    ("SLURM_ARRAY_TASK_COUNT", "3"),
                    ("SLURM_ARRAY_TASK_MIN", "2"),
                    ("SLURM_ARRAY_TASK_MAX", "8"),
                    ("SLURM_ARRAY_TASK_STEP", "3")
                ],
                None
            ),
            Ok((1, 3))
        );
        assert_eq!(
            at(&[("AWS_BATCH_JOB_ARRAY_INDEX", "9")], Some(10)),
            Ok((9, 10))
        );
        assert_eq!(
            at(
                &[
                    ("AWS_BATCH_JOB_ARRAY_INDEX", "0"),
                    ("AWS_BATCH_JOB_ARRAY_SIZE", "2")
                ],
                None
            ),
            Ok((0, 2))
        );
        let s = from_env(
            &env(&[("CLOUD_RUN_TASK_INDEX", "0"), ("CLOUD_RUN_TASK_COUNT", "2")]),
            None,
        )
        .unwrap();
        assert_eq!(
            s.from.as_deref(),
            Some("Cloud Run job: CLOUD_RUN_TASK_INDEX=0, CLOUD_RUN_TASK_COUNT=2")
        );
    }

    #[test]
    fn a_missing_or_doubtful_environment_is_an_error() {
        for (vars, flag, want) in [
            (
                vec![("HOME", "/root")],
                None,
                "no batch engine's task index is set: none of JOB_COMPLETION_INDEX (Kubernetes Indexed Job), CLOUD_RUN_TASK_INDEX (Cloud Run job), SLURM_ARRAY_TASK_ID (Slurm job array), AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job)",
            ),
            (
                vec![("JOB_COMPLETION_INDEX", "1")],
                None,
                "the Kubernetes Indexed Job gives the task index (JOB_COMPLETION_INDEX=1) but not the number of tasks: give it as --shard-count N, N being the Job's `completions`",
            ),
            (
                vec![("JOB_COMPLETION_INDEX", "8")],
                Some(8),
                "task index 8 is not below the 8 task(s) of the Kubernetes Indexed Job (JOB_COMPLETION_INDEX=8, --shard-count 8)",
            ),
            (
                vec![("JOB_COMPLETION_INDEX", "x")],
                Some(8),
                "JOB_COMPLETION_INDEX is \"x\", not a whole number",
            ),
            (
                vec![("CLOUD_RUN_TASK_INDEX", "1"), ("CLOUD_RUN_TASK_COUNT", "4")],
                Some(5),
                "the Cloud Run job has 4 tasks (CLOUD_RUN_TASK_INDEX=1, CLOUD_RUN_TASK_COUNT=4), but --shard-count is 5",
            ),
            (
                vec![("JOB_COMPLETION_INDEX", "1"), ("SLURM_ARRAY_TASK_ID", "1")],
                Some(4),
                "more than one batch engine's task index is set: JOB_COMPLETION_INDEX (Kubernetes Indexed Job), SLURM_ARRAY_TASK_ID (Slurm job array); give --shard I/N",
            ),
            (
                // --array=1,3,7
                vec![
                    ("SLURM_ARRAY_TASK_ID", "3"),
                    ("SLURM_ARRAY_TASK_COUNT", "3"),
                    ("SLURM_ARRAY_TASK_MIN", "1"),
                    ("SLURM_ARRAY_TASK_MAX", "7"),
                    ("SLURM_ARRAY_TASK_STEP", "1"),
                ],
                None,
                "the Slurm job array is not a range from its lowest task ID by a fixed step (IDs 1 to 7 by 1 would be 7 tasks, but it has 3): submit it as --array=0-N-1",
            ),
            (
                vec![("SLURM_ARRAY_TASK_ID", "4")],
                None,
                "the Slurm job array gives the task index (SLURM_ARRAY_TASK_ID=4) but not the number of tasks",
            ),
            (
                vec![("AWS_BATCH_JOB_ARRAY_INDEX", "0")],
                None,
                "--shard-count N, N being the array's size",
            ),
        ] {
            let e = at(&vars, flag).unwrap_err();
            assert!(e.contains(want), "{vars:?}: {e}");
        }
    }

    #[test]
    fn only_auto_shards_write_a_folder_named_by_their_index() {
        let auto = Shard {
            index: 2,
            count: 4,
            from: Some("Slurm job array: ...".into()),
        };
        let fixed = Shard {
            from: None,
            ..auto.clone()
        };
        assert_eq!(
            out_dir(Some("r".into()), "s", Some(&auto)),
            Path::new("r/shard-2")
        );
        assert_eq!(
            out_dir(None, "s", Some(&auto)),
            Path::new("out/s/sweep/shard-2")
        );
        assert_eq!(out_dir(Some("r".into()), "s", Some(&fixed)), Path::new("r"));
        assert_eq!(
            out_dir(None, "s", Some(&fixed)),
            Path::new("out/s/sweep-shard-2-of-4")
        );
        assert_eq!(out_dir(None, "s", None), Path::new("out/s/sweep"));
    }

    #[test]
    fn times_read_as_people_say_them() {
        assert_eq!(human(0.0421), "42 ms");
        assert_eq!(human(0.000_283), "0.28 ms");
        assert_eq!(human(2.04), "2.0 s");
        assert_eq!(human(200_000.0 * 2.0), "4 d 15 h");
        assert_eq!(human(3725.0), "1 h 2 min");
        assert_eq!(human(125.0), "2 min 5 s");
        assert_eq!(human(f64::NAN), "an unknown time");
    }
}
