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
