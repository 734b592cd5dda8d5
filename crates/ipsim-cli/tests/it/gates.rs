//! `--fail-on`, `--fail-if-probability-above` and size's declared-prefix gate.

use serde_json::Value;

use crate::{ipsim, text, tmp};

fn report(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

fn gate<'a>(r: &'a Value, condition: &str) -> &'a Value {
    r["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["condition"] == condition)
        .unwrap_or_else(|| panic!("no gate {condition} in {}", r["gates"]))
}

#[test]
fn each_failing_condition_is_printed_and_named_in_report_json() {
    let d = tmp("gates-tight");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--no-chart",
        "--out",
        d.to_str().unwrap(),
        "--fail-on",
        "exhaustion,deploy-failure,task-failure",
        "--fail-on",
        "min-free-blocks<2,peak-utilization>80%,short>5%",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    for line in [
        "gate failed: exhaustion: observed 10560 failed attempts (first at 2025-06-02T09:10:00Z: subnet run-subnet, workload api)",
        "gate failed: deploy-failure: observed 1 deploy failures",
        "gate failed: min-free-blocks<2: observed 0 free blocks (subnet run-subnet",
        "gate failed: peak-utilization>80%: observed 88.89 percent (subnet run-subnet: 224 of 252 usable addresses",
        "gate failed: short>5%: observed 88.0 percent (workload api at 2025-06-02T09:10:00Z: 88 of 100 desired not running)",
    ] {
        assert!(err.contains(line), "{line:?} not in {err}");
    }
    assert!(!err.contains("task-failure"), "{err}");
    assert!(
        text(&o.stdout).contains("gates: 6 checked, 5 failed"),
        "{}",
        text(&o.stdout)
    );
    let r = report(&d);
    assert_eq!(r["gates"].as_array().unwrap().len(), 6);
    let g = gate(&r, "min-free-blocks<2");
    assert_eq!(
        (&g["failed"], &g["observed"], &g["threshold"], &g["unit"]),
        (
            &Value::Bool(true),
            &Value::from(0),
            &Value::from(2),
            &Value::from("free blocks")
        )
    );
    let g = gate(&r, "short>5%");
    assert_eq!(
        (g["observed"].as_f64(), g["threshold"].as_f64()),
        (Some(88.0), Some(5.0))
    );
    let g = gate(&r, "exhaustion");
    assert_eq!(
        (&g["observed"], &g["threshold"]),
        (&Value::from(10_560), &Value::Null)
    );
    let g = gate(&r, "task-failure");
    assert_eq!(
        (&g["failed"], &g["observed"]),
        (&Value::Bool(false), &Value::from(0))
    );
}

#[test]
fn passing_conditions_exit_0_and_thresholds_are_strict() {
    let d = tmp("gates-roomy");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap.json",
        "--no-chart",
        "--out",
        d.to_str().unwrap(),
        "--fail-on",
        "exhaustion,short>0%,min-free-blocks<5,peak-utilization>80%",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "");
    let r = report(&d);
    // 400 of 508 usable held at the peak; 5 free blocks at the fewest.
    assert_eq!(
        gate(&r, "peak-utilization>80%")["observed"].as_f64(),
        Some(78.74)
    );
    assert_eq!(gate(&r, "min-free-blocks<5")["observed"], 5);
    assert_eq!(gate(&r, "short>0%")["observed"].as_f64(), Some(0.0));
    assert!(
        r["gates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["failed"] == false)
    );
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap.json",
        "--no-chart",
        "--out",
        d.to_str().unwrap(),
        "--fail-on",
        "peak-utilization>75%,min-free-blocks<6",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).contains("gate failed: peak-utilization>75%"));
    assert!(text(&o.stderr).contains("gate failed: min-free-blocks<6: observed 5 free blocks"));
}

#[test]
fn fail_on_exhaustion_is_fail_on_exhaustion_and_no_gates_no_section() {
    let d = tmp("gates-alias");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--no-chart",
        "--out",
        d.to_str().unwrap(),
        "--fail-on-exhaustion",
        "--fail-on",
        "exhaustion",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let r = report(&d);
    assert_eq!(r["gates"].as_array().unwrap().len(), 1);
    assert_eq!(r["gates"][0]["condition"], "exhaustion");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--no-chart",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(report(&d).get("gates").is_none());
}

#[test]
fn task_failure_gate_counts_tasks_that_gave_up() {
    let d = tmp("gates-job");
    let o = ipsim(&[
        "run",
        "scenarios/job-burst.json",
        "--seed",
        "42",
        "--no-chart",
        "--out",
        d.to_str().unwrap(),
        "--fail-on",
        "task-failure",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("gate failed: task-failure: observed 192 failed tasks"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_sweep_without_vary_is_a_multi_seed_gate() {
    let d = tmp("gates-sweep");
    let o = ipsim(&[
        "sweep",
        "scenarios/revision-swap-tight.json",
        "--seeds",
        "3",
        "--fail-if-probability-above",
        "0.5",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(
            "gate failed: point 0 (the scenario as written): failure probability 1 over 3 seed(s) is above 0.5"
        ),
        "{}",
        text(&o.stderr)
    );
    let r: Value = serde_json::from_slice(&std::fs::read(d.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(r["points"].as_array().unwrap().len(), 1);
    assert_eq!(r["points"][0]["runs"], 3);
    let o = ipsim(&[
        "sweep",
        "scenarios/revision-swap.json",
        "--seeds",
        "2",
        "--fail-if-probability-above",
        "0",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // With --vary, each point is gated: /24 fails always, /23 never.
    let o = ipsim(&[
        "sweep",
        "scenarios/revision-swap-tight.json",
        "--vary",
        "subnet.run-subnet.prefix=23..24",
        "--fail-if-probability-above",
        "0",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    let err = text(&o.stderr);
    assert!(
        err.contains("point 1 (subnet.run-subnet.prefix=24)"),
        "{err}"
    );
    assert!(!err.contains("point 0"), "{err}");
}

#[test]
fn size_exits_3_when_the_declared_prefix_is_too_small() {
    // By default judged under the reading that decides (here a uniform-retention one, so
    // over its 459 seeds); `--as-written` judges the scenario's own reading.
    let o = ipsim(&["size", "scenarios/shared-subnet.json"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(
            "gate failed: subnet shared: the declared /24 is too small: failure probability 1 over 459 seed(s) is above 0; /23 survives"
        ),
        "{}",
        text(&o.stderr)
    );
    let o = ipsim(&["size", "scenarios/shared-subnet.json", "--as-written"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(
            "gate failed: subnet shared: the declared /24 is too small: failure probability 1 over 1 seed(s) is above 0; /23 survives"
        ),
        "{}",
        text(&o.stderr)
    );
    let o = ipsim(&[
        "size",
        "scenarios/shared-subnet.json",
        "--as-written",
        "--json",
        "--fail-if-probability-above",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["subnets"][0]["declared_failure_probability"], 1.0);
    let o = ipsim(&[
        "size",
        "scenarios/revision-swap.json",
        "--fail-if-probability-above",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}
