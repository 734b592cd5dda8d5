//! Every bundled scenario loads, runs, and has the outcome its `expect` block documents.

use ipsim_scenario::load;

use crate::repo;

fn bundled() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_bundled_scenario_runs_and_meets_its_expectation() {
    let all = bundled();
    let names: Vec<String> = all
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "revision-swap.json",
        "revision-swap-tight.json",
        "job-burst.json",
        "surge.json",
        "shared-subnet.json",
        "worker-pool.json",
        "trace-replay.json",
        "legacy-4x.json",
        "observed-revisions.json",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "scenarios/{want} is missing"
        );
    }
    for p in all {
        let s = load(&p).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !s.def.description.trim().is_empty(),
            "{} has no description",
            p.display()
        );
        assert!(
            s.def.expect.is_some(),
            "{} documents no expected outcome",
            p.display()
        );
        let out = s.run().unwrap();
        let bad = s.check_expect(&out);
        assert!(bad.is_empty(), "{}: {bad:?}", p.display());
    }
}

#[test]
fn revision_swap_holds_400_on_a_23_and_fails_for_20_minutes_on_a_24() {
    let out = load(&repo().join("scenarios/revision-swap.json"))
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(out.summary.peak_held, 400);
    assert!(out.summary.first_exhaustion.is_none());
    let out = load(&repo().join("scenarios/revision-swap-tight.json"))
        .unwrap()
        .run()
        .unwrap();
    let e = out.summary.first_exhaustion.unwrap();
    assert_eq!(e.time_ms, 10 * 60_000);
    let w = out.summary.failure_windows[0];
    assert_eq!((w.start_ms, w.end_ms), (10 * 60_000, 30 * 60_000));
}

#[test]
fn the_legacy_rule_doubles_the_need() {
    let out = load(&repo().join("scenarios/legacy-4x.json"))
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(out.summary.peak_held, 480);
    assert!(out.summary.first_exhaustion.is_some());
}

/// The repeats of a job execution share one list of per-task durations, so a long list
/// repeated every minute for a month is held once, not once per execution.
#[test]
fn repeated_executions_share_their_task_durations() {
    let durations: Vec<String> = (0..1000).map(|i| format!("\"{}s\"", 30 + i % 60)).collect();
    let text = format!(
        r#"{{"name": "r", "description": "repeats", "duration": "30d",
  "subnets": [{{"name": "main", "cidr": "10.0.0.0/20"}}],
  "workloads": [{{"name": "etl", "kind": "job", "subnet": "main",
    "executions": [{{"start": 0, "tasks": 1000, "parallelism": 10,
      "task_duration": [{}], "repeat_every": "1m"}}]}}]}}"#,
        durations.join(", ")
    );
    let s = ipsim_scenario::parse(
        text.as_bytes(),
        std::path::Path::new("r.json"),
        &ipsim_scenario::Overrides::default(),
    )
    .unwrap();
    let ipsim_core::Kind::Job(job) = &s.input.workloads[0].kind else {
        panic!("a job")
    };
    assert_eq!(job.executions.len(), 30 * 24 * 60);
    let lists: Vec<_> = job
        .executions
        .iter()
        .map(|e| match &e.durations {
            ipsim_core::TaskDurations::PerTask(d) => d.clone(),
            other => panic!("per-task durations, not {other:?}"),
        })
        .collect();
    assert_eq!(lists[0].len(), 1000);
    assert!(lists.iter().all(|d| std::sync::Arc::ptr_eq(d, &lists[0])));
}

/// A scenario saved with a UTF-8 byte order mark (as some Windows editors do) is read like
/// one without it, with the same line and column numbers in errors.
#[test]
fn a_byte_order_mark_is_accepted() {
    let text = r#"{"name": "b", "description": "d", "duration": "1h",
  "subnets": [{"name": "s", "cidr": "10.0.0.0/24"}],
  "workloads": [{"name": "a", "subnet": "s", "demand": {"type": "constant", "value": 1}}]}"#;
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(text.as_bytes());
    let path = std::path::Path::new("bom.json");
    let ov = ipsim_scenario::Overrides::default();
    let a = ipsim_scenario::parse(text.as_bytes(), path, &ov).unwrap();
    let b = ipsim_scenario::parse(&with_bom, path, &ov).unwrap();
    assert_eq!(a.input, b.input);
    let bad = text.replace("10.0.0.0/24", "10.0.0.1/24");
    let mut bad_bom = b"\xEF\xBB\xBF".to_vec();
    bad_bom.extend_from_slice(bad.as_bytes());
    let e1 = ipsim_scenario::parse(bad.as_bytes(), path, &ov)
        .unwrap_err()
        .to_string();
    let e2 = ipsim_scenario::parse(&bad_bom, path, &ov)
        .unwrap_err()
        .to_string();
    assert_eq!(e1, e2);
    assert!(e1.contains("bom.json:2:"), "{e1}");
}
