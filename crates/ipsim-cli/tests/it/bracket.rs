//! What a run assumes, stated in every output, and the bracket over the undocumented
//! readings.

use crate::{ipsim, text, tmp};

fn report(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn report_json_lists_every_undocumented_parameter() {
    let d = tmp("assumptions");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--out",
        d.to_str().unwrap(),
        "--no-chart",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains(
            "Assumes (undocumented): block_scope=service, retention=fixed, edge_blocks=excluded, \
             strategy=first-fit, block_linger=0s, retry_interval=10s, sample_interval=1m"
        ),
        "{stdout}"
    );
    let r = report(&d);
    assert_eq!(r["format"], 5);
    assert!(r["ipsim_version"].is_string());
    assert_eq!(r["params"]["block_scope"], "service");
    assert_eq!(r["params"]["service_retention_ms"], 1_200_000);
    assert_eq!(r["subnets"][0]["edge_blocks"], "excluded");
    let a = r["assumptions"].as_array().unwrap();
    let status = |p: &str| {
        a.iter()
            .find(|x| x["parameter"] == p)
            .unwrap_or_else(|| panic!("{p} missing"))["status"]
            .clone()
    };
    for p in [
        "params.block_scope",
        "params.retention",
        "subnets[].edge_blocks",
        "params.strategy",
        "params.block_linger",
        "params.retry_interval",
        "params.sample_interval",
    ] {
        assert_eq!(status(p), "model_choice", "{p}");
    }
    for p in [
        "params.ips_per_instance",
        "params.ips_per_task",
        "params.block_size",
        "params.service_retention",
        "params.task_retention",
    ] {
        assert_eq!(status(p), "documented", "{p}");
        let x = a.iter().find(|x| x["parameter"] == p).unwrap();
        assert!(
            x["source"]
                .as_str()
                .unwrap()
                .starts_with("https://cloud.google.com/")
        );
    }
}

#[test]
fn run_bracket_gives_one_verdict_and_the_same_bytes_on_any_thread_count() {
    let dirs: Vec<_> = ["1", "2"]
        .iter()
        .map(|n| {
            let d = tmp(&format!("bracket-threads-{n}"));
            let o = ipsim(&[
                "run",
                "scenarios/shared-subnet.json",
                "--bracket",
                "--threads",
                n,
                "--out",
                d.to_str().unwrap(),
                "--fail-on-exhaustion",
            ]);
            // Some reading fails, so the gate fails.
            assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
            let stdout = text(&o.stdout);
            assert!(
                stdout.contains(
                    "verdict: fails under 4 of 12 readings (worst: \
                     scope=service+retention=fixed+edges=excluded, best: \
                     scope=subnet+retention=fixed+edges=partial)"
                ),
                "{stdout}"
            );
            assert!(stdout.contains("bracket.png"), "{stdout}");
            d
        })
        .collect();
    for f in [
        "report.json",
        "bracket.png",
        "occupancy.png",
        "occupancy.csv",
    ] {
        assert_eq!(
            std::fs::read(dirs[0].join(f)).unwrap(),
            std::fs::read(dirs[1].join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
    }
    let r = report(&dirs[0]);
    let b = &r["bracket"];
    assert_eq!(
        (b["n"].clone(), b["failing"].clone()),
        (12.into(), 4.into())
    );
    let row = |i: usize| {
        let x = &b["readings"][i];
        (
            x["reading"].as_str().unwrap().to_string(),
            x["as_written"].as_bool().unwrap(),
            x["first_exhaustion_ms"].as_u64(),
            x["failed_attempts"].as_u64().unwrap(),
            x["instances_short"].as_u64().unwrap(),
            x["deploy_failures"].as_u64().unwrap(),
            x["min_free_blocks"].as_u64().unwrap(),
        )
    };
    assert_eq!(
        row(0),
        (
            "scope=service+retention=fixed+edges=excluded".into(),
            true,
            Some(7_200_000),
            720,
            1,
            0,
            0
        )
    );
    assert_eq!(
        row(9),
        (
            "scope=subnet+retention=fixed+edges=partial".into(),
            false,
            None,
            0,
            0,
            0,
            9
        )
    );
    // The as-written reading is the run itself: its figures are the report's.
    assert_eq!(
        b["readings"][0]["failed_attempts"],
        r["summary"]["failed_attempts"]
    );
}

#[test]
fn named_readings_bracket_only_those() {
    let d = tmp("bracket-named");
    let o = ipsim(&[
        "run",
        "scenarios/shared-subnet.json",
        "--readings",
        "scope=service,subnet",
        "--out",
        d.to_str().unwrap(),
        "--no-chart",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains(
            "verdict: fails under 1 of 2 readings (worst: scope=service, best: scope=subnet)"
        ),
        "{stdout}"
    );
    let o = ipsim(&[
        "run",
        "scenarios/shared-subnet.json",
        "--readings",
        "scope=team",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("\"team\" is not a reading of scope"));
}
