//! Sweeps on batch engines: `--shard auto` under each engine's own environment variables,
//! each shard in its own folder, merged into exactly the unsharded sweep; and what `merge`
//! refuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{repo, text, tmp};

/// Every variable `--shard auto` reads, removed from each child so that a test run inside a
/// batch engine (a CI job on Slurm, say) sees only the variables the test sets.
const ENGINE_VARS: [&str; 12] = [
    "JOB_COMPLETION_INDEX",
    "CLOUD_RUN_TASK_INDEX",
    "CLOUD_RUN_TASK_COUNT",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
    "AWS_BATCH_JOB_ARRAY_INDEX",
    "AWS_BATCH_JOB_ARRAY_SIZE",
    "SLURM_ARRAY_JOB_ID",
    "CLOUD_RUN_EXECUTION",
];

fn ipsim_env(args: &[&str], vars: &[(&str, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ipsim"));
    c.args(args).current_dir(repo());
    for v in ENGINE_VARS {
        c.env_remove(v);
    }
    c.envs(vars.iter().map(|(k, v)| (k, v)));
    c.output().unwrap()
}

const SWEEP: [&str; 8] = [
    "--vary",
    "surge.peak=120..200:40",
    "--vary",
    "subnet.edge-subnet.prefix=22..23",
    "--seeds",
    "2",
    "--threads",
    "1",
];

fn sweep(scenario: &str, extra: &[&str], vars: &[(&str, String)]) -> Output {
    let mut a = vec!["sweep", scenario];
    a.extend(SWEEP);
    a.extend(extra);
    ipsim_env(&a, vars)
}

fn files(d: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn merge(dirs: &[PathBuf], out: &Path) -> Output {
    let mut a: Vec<String> = vec!["merge".into()];
    a.extend(dirs.iter().map(|d| d.display().to_string()));
    a.extend(["--out".into(), out.display().to_string()]);
    ipsim_env(&a.iter().map(String::as_str).collect::<Vec<_>>(), &[])
}

fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// The variables engine `engine` gives task `i` of `n` (for Slurm, an array from ID 1, so
/// the index is the ID less the lowest), and the arguments it needs beside `--shard auto`.
fn task(engine: &str, i: usize, n: usize) -> (Vec<(&'static str, String)>, Vec<String>) {
    match engine {
        "kubernetes" => (
            vec![("JOB_COMPLETION_INDEX", i.to_string())],
            vec!["--shard-count".into(), n.to_string()],
        ),
        "cloud-run" => (
            vec![
                ("CLOUD_RUN_TASK_INDEX", i.to_string()),
                ("CLOUD_RUN_TASK_COUNT", n.to_string()),
                ("CLOUD_RUN_EXECUTION", "ipsim-sweep-abc12".into()),
            ],
            vec![],
        ),
        "slurm" => (
            vec![
                ("SLURM_ARRAY_JOB_ID", "41".into()),
                ("SLURM_ARRAY_TASK_ID", (i + 1).to_string()),
                ("SLURM_ARRAY_TASK_COUNT", n.to_string()),
                ("SLURM_ARRAY_TASK_MIN", "1".into()),
                ("SLURM_ARRAY_TASK_MAX", n.to_string()),
                ("SLURM_ARRAY_TASK_STEP", "1".into()),
            ],
            vec![],
        ),
        "aws-batch" => (
            vec![("AWS_BATCH_JOB_ARRAY_INDEX", i.to_string())],
            vec!["--shard-count".into(), n.to_string()],
        ),
        _ => unreachable!(),
    }
}

/// Under each of the four engines, 4 tasks with `--shard auto` and one shared `--out` each
/// write `shard-I`, and merging them gives the unsharded sweep's files byte for byte
/// (heatmap included). This is the check CI runs on a real one-node Slurm cluster
/// (`deploy/slurm/ci-test.sh`), with each engine's variables set by hand.
#[test]
fn shard_auto_under_each_engine_merges_to_the_unsharded_sweep() {
    let whole = tmp("batch-whole");
    ok(&sweep(
        "scenarios/surge.json",
        &["--out", whole.to_str().unwrap()],
        &[],
    ));
    assert!(whole.join("heatmap.png").exists());
    for engine in ["kubernetes", "cloud-run", "slurm", "aws-batch"] {
        let shared = tmp(&format!("batch-{engine}"));
        for i in 0..4 {
            let (vars, extra) = task(engine, i, 4);
            let mut a = vec!["--shard", "auto", "--out", shared.to_str().unwrap()];
            a.extend(extra.iter().map(String::as_str));
            let o = sweep("scenarios/surge.json", &a, &vars);
            ok(&o);
            assert!(
                text(&o.stdout).starts_with(&format!("surge: shard {i}/4 (")),
                "{engine}: {}",
                text(&o.stdout)
            );
        }
        let dirs: Vec<PathBuf> = (0..4).map(|i| shared.join(format!("shard-{i}"))).collect();
        for d in &dirs {
            assert!(d.join("sweep.json").exists(), "{engine}: {}", d.display());
        }
        let merged = tmp(&format!("batch-{engine}-merged"));
        ok(&merge(&dirs, &merged));
        assert_eq!(files(&whole), files(&merged), "{engine}");
        // The shared folder alone: merge finds its shard-I folders (no shell glob needed),
        // and leaves out the merged sweep written beside them.
        let beside = shared.join("sweep");
        ok(&merge(std::slice::from_ref(&shared), &beside));
        assert_eq!(files(&whole), files(&beside), "{engine}");
        ok(&merge(std::slice::from_ref(&shared), &beside));
    }
}

#[test]
fn shard_auto_outside_an_engine_is_an_argument_error() {
    let o = sweep("scenarios/surge.json", &["--shard", "auto"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(
            "--shard auto: no batch engine's task index is set: none of JOB_COMPLETION_INDEX (Kubernetes Indexed Job), CLOUD_RUN_TASK_INDEX (Cloud Run job), SLURM_ARRAY_TASK_ID (Slurm job array), AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job)"
        ),
        "{}",
        text(&o.stderr)
    );
    let o = sweep("scenarios/surge.json", &["--shard-count", "4"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--shard-count goes with --shard auto"));
}

/// `--plan` prints the runs and an estimate from one timed run, and writes nothing.
#[test]
fn plan_estimates_and_runs_nothing() {
    let d = tmp("batch-plan");
    let out = d.join("never");
    let o = sweep(
        "scenarios/surge.json",
        &["--plan", "--shard", "auto", "--out", out.to_str().unwrap()],
        &[
            ("CLOUD_RUN_TASK_INDEX", "1".into()),
            ("CLOUD_RUN_TASK_COUNT", "4".into()),
        ],
    );
    ok(&o);
    let s = text(&o.stdout);
    assert!(
        s.starts_with(
            "sweep surge: 6 point(s) x 2 seed(s) = 12 run(s)\n\
             shard 1/4 (Cloud Run job: CLOUD_RUN_TASK_INDEX=1, CLOUD_RUN_TASK_COUNT=4): 2 point(s) x 2 seed(s) = 4 run(s)\n\
             one run (point 3, seed 0) took "
        ),
        "{s}"
    );
    // The times are measured, so only the arithmetic's shape is checked, never a time.
    for want in [
        "the whole sweep on this machine: 12 run(s) x ",
        " / 1 worker(s) = ",
        "this shard with 1 thread(s): 4 run(s) x ",
        "all 4 shards at once, 1 thread(s) each: 12 run(s) x ",
        " / 4 worker(s) = ",
        "nothing else ran and nothing was written\n",
    ] {
        assert!(s.contains(want), "{want:?} in {s}");
    }
    assert!(!out.exists());
}

fn edit(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join("sweep.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

fn refused(o: &Output, want: &str) {
    assert_eq!(o.status.code(), Some(1), "{want}: {}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(want),
        "{want}: {}",
        text(&o.stderr)
    );
}

/// `merge` takes shards of one sweep, each once: another scenario of the same name, another
/// ipsim version, a doubled, a missing or a foreign-split shard, and a sweep.json that
/// disagrees with itself are each refused with a message naming the shard, never a panic.
#[test]
fn merge_refuses_shards_of_another_sweep_doubled_missing_or_inconsistent() {
    let d = tmp("batch-refuse");
    let shard = |name: &str, scenario: &str, i: usize, n: usize| {
        let out = d.join(name);
        let s = format!("{i}/{n}");
        ok(&sweep(
            scenario,
            &["--shard", &s, "--out", out.to_str().unwrap()],
            &[],
        ));
        out
    };
    let s: Vec<PathBuf> = (0..3)
        .map(|i| shard(&format!("s{i}"), "scenarios/surge.json", i, 3))
        .collect();
    // The same name, another content: only the fingerprint tells them apart.
    let other = d.join("surge-399.json");
    let text_of = std::fs::read_to_string(repo().join("scenarios/surge.json")).unwrap();
    std::fs::write(
        &other,
        text_of.replace("\"max_instances\": 400", "\"max_instances\": 399"),
    )
    .unwrap();
    let foreign = shard("foreign", other.to_str().unwrap(), 1, 3);
    refused(
        &merge(&[s[0].clone(), foreign, s[2].clone()], &d.join("m1")),
        "shard 1/3 (folder #2) is of another sweep: its fingerprint fnv1a64:",
    );
    refused(
        &merge(&[s[0].clone(), s[1].clone(), s[1].clone()], &d.join("m2")),
        "shard 1/3 is given twice (folders #2 and #3): merge every shard once",
    );
    refused(
        &merge(&[s[0].clone(), s[2].clone()], &d.join("m3")),
        "shard 1/3 is missing: merge every shard once",
    );
    let partial = d.join("partial");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::rename(&s[2], partial.join("shard-2")).unwrap();
    refused(
        &merge(std::slice::from_ref(&partial), &d.join("m3b")),
        "shards 0/3, 1/3 are missing: merge every shard once",
    );
    std::fs::rename(partial.join("shard-2"), &s[2]).unwrap();
    let half = shard("half", "scenarios/surge.json", 1, 2);
    refused(
        &merge(&[s[0].clone(), half, s[2].clone()], &d.join("m4")),
        "shard 1/2 (folder #2) is of a split into 2, the first folder's of a split into 3",
    );
    // Another version of ipsim.
    let old = shard("old", "scenarios/surge.json", 2, 3);
    edit(&old, |v| v["ipsim_version"] = "0.0.1".into());
    refused(
        &merge(&[s[0].clone(), s[1].clone(), old], &d.join("m5")),
        "shard 2/3 (folder #3) is of another sweep: it was made by ipsim 0.0.1, shard 0/3 (folder #1) by ipsim",
    );
    // Files that disagree with themselves.
    for (k, (f, want)) in [
        (
            Box::new(|v: &mut serde_json::Value| v["total_points"] = 99.into())
                as Box<dyn Fn(&mut serde_json::Value)>,
            "shard 1/3 (folder #2): its sweep.json disagrees with itself: total_points is 99, but its --vary values make 6",
        ),
        (
            Box::new(|v: &mut serde_json::Value| v["points"][0]["point"] = 40.into()),
            "point 40 is outside its 6 points",
        ),
        (
            Box::new(|v: &mut serde_json::Value| v["points"][0]["point"] = 2.into()),
            "point 2 is not in shard 1/3",
        ),
        (
            Box::new(|v: &mut serde_json::Value| v["points"][0]["values"][0] = 7.into()),
            "point 1 has values [7.0, 23.0], but its --vary values give it [120.0, 23.0]",
        ),
        (
            Box::new(|v: &mut serde_json::Value| {
                v["vary"][1]["values"] = serde_json::json!([]);
                v["total_points"] = 0.into();
                v["points"] = serde_json::json!([]);
            }),
            "--vary subnet.edge-subnet.prefix has no values",
        ),
        (
            Box::new(|v: &mut serde_json::Value| v["shard"] = "5/3".into()),
            "shard \"5/3\" is not I/N",
        ),
        (
            Box::new(|v: &mut serde_json::Value| {
                v.as_object_mut().unwrap().remove("fingerprint");
            }),
            "its sweep.json has no fingerprint or ipsim_version",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let bad = shard(&format!("bad{k}"), "scenarios/surge.json", 1, 3);
        edit(&bad, f);
        refused(
            &merge(&[s[0].clone(), bad, s[2].clone()], &d.join(format!("mb{k}"))),
            want,
        );
    }
}

/// The recipes in deploy/ give arguments this ipsim takes: the Kubernetes Job's and the
/// Cloud Run job's sweep, under their engine's variables, each planned (`--plan`: one run,
/// nothing written), and their merge steps read the folder the sweep writes.
#[test]
fn deploy_recipes_give_arguments_ipsim_takes() {
    let local = |a: &str| {
        a.replace("/scenarios/", "scenarios/")
            .replace("$(SHARDS)", "8")
    };
    // deploy/kubernetes/sweep.yaml: the block list after `args:`.
    let k8s = std::fs::read_to_string(repo().join("deploy/kubernetes/sweep.yaml")).unwrap();
    let args: Vec<String> = k8s
        .lines()
        .skip_while(|l| l.trim() != "args:")
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- "))
        .map(|a| local(a.trim_matches('"')))
        .collect();
    assert_eq!(args[0], "sweep", "{args:?}");
    let out = args[args.iter().position(|a| a == "--out").unwrap() + 1].clone();
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.push("--plan");
    let o = ipsim_env(&a, &[("JOB_COMPLETION_INDEX", "7".into())]);
    ok(&o);
    assert!(
        text(&o.stdout).contains(
            "shard 7/8 (Kubernetes Indexed Job: JOB_COMPLETION_INDEX=7, --shard-count 8)"
        ),
        "{}",
        text(&o.stdout)
    );
    let merge = std::fs::read_to_string(repo().join("deploy/kubernetes/merge.yaml")).unwrap();
    assert!(
        merge.contains(&format!("args: [merge, {out}, --out, {out}/sweep]")),
        "{merge}"
    );
    // deploy/cloud-run/sweep.sh: the comma-separated --args of each job.
    let cr = std::fs::read_to_string(repo().join("deploy/cloud-run/sweep.sh")).unwrap();
    let jobs: Vec<Vec<String>> = cr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("--args="))
        .map(|l| l.split(',').map(local).collect())
        .collect();
    assert_eq!(jobs.len(), 2, "{cr}");
    let mut a: Vec<&str> = jobs[0].iter().map(String::as_str).collect();
    a.push("--plan");
    let o = ipsim_env(
        &a,
        &[
            ("CLOUD_RUN_TASK_INDEX", "0".into()),
            ("CLOUD_RUN_TASK_COUNT", "8".into()),
        ],
    );
    ok(&o);
    assert!(
        text(&o.stdout).contains("shard 0/8 (Cloud Run job: "),
        "{}",
        text(&o.stdout)
    );
    let out = &jobs[0][jobs[0].iter().position(|a| a == "--out").unwrap() + 1];
    assert_eq!(
        jobs[1],
        ["merge", out.as_str(), "--out", &format!("{out}/sweep")]
    );
}
