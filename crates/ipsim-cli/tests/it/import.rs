//! `ipsim import`, `ipsim check` and `ipsim run -` end to end, on ipsim-import's fixtures
//! (hand-written in the exact shapes gcloud and Terraform print).

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::{ipsim, repo, text, tmp};

const F: &str = "crates/ipsim-import/tests/fixtures";

fn fx(name: &str) -> String {
    format!("{F}/{name}")
}

/// `ipsim run -` with `stdin` piped in.
fn run_stdin(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipsim"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn check_a_terraform_plan_exits_3_naming_scales_and_the_size_that_holds() {
    let o = ipsim(&["check", &fx("plan.json"), &fx("addresses.json")]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{out}\n{}", text(&o.stderr));
    for line in [
        "  service      api                  on run-subnet           40 instances (template scaling max_instance_count 40)",
        "  job          etl                  on run-subnet           20 tasks at once (50 tasks, 20 at once)",
        "swap at once: RUNS DRY at 20m: subnet run-subnet, etl (execution 1) wanted 10, 8 running",
        "swap rolled out over 10m: RUNS DRY at 20m: subnet run-subnet, etl (execution 1) wanted 10, 8 running",
        "subnet run-subnet: declared /24; the smallest that holds the swap at once under every reading of what Google leaves undocumented: /23",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing {line:?} in:\n{out}"
        );
    }
    let err = text(&o.stderr);
    assert!(
        err.contains("ipsim check: the plan runs a subnet dry in the worst case"),
        "{err}"
    );
    assert!(err.contains("note: crates/ipsim-import/tests/fixtures/plan.json: google_compute_subnetwork.run: secondary_ip_range ignored"), "{err}");
}

#[test]
fn check_passes_when_the_subnet_holds() {
    // The Shared VPC case: the service names a subnet no input declares, given on the line.
    let o = ipsim(&[
        "check",
        &fx("api-service.yaml"),
        "--subnet",
        "run-subnet=10.0.0.0/23",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn an_undeclared_subnet_is_asked_for() {
    let o = ipsim(&["import", &fx("api-service.yaml")]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr).lines().next().unwrap(),
        "error: crates/ipsim-import/tests/fixtures/api-service.yaml: spec.template.metadata.annotations[\"run.googleapis.com/network-interfaces\"][0].subnetwork: subnet \"run-subnet\" is not declared by any input (a Shared VPC host project's subnet?): give its range with --subnet run-subnet=CIDR"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn import_piped_into_run_stdin_gates_on_exhaustion() {
    let d = tmp("import-pipe");
    let imp = ipsim(&[
        "import",
        &fx("api-service.yaml"),
        &fx("etl-job.yaml"),
        &fx("addresses.json"),
        "--subnet",
        "run-subnet=10.0.0.0/24",
    ]);
    assert_eq!(imp.status.code(), Some(0), "{}", text(&imp.stderr));
    let out = d.join("out");
    let o = run_stdin(
        &[
            "run",
            "-",
            "--fail-on-exhaustion",
            "--no-chart",
            "--out",
            out.to_str().unwrap(),
        ],
        &imp.stdout,
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(
        text(&o.stdout).contains("EXHAUSTED at +00:20:00: subnet run-subnet, workload etl"),
        "{}",
        text(&o.stdout)
    );
    // The same written with --out, on a /23: it holds.
    let file = d.join("imported.json");
    let imp = ipsim(&[
        "import",
        &fx("api-service.yaml"),
        &fx("etl-job.yaml"),
        &fx("addresses.json"),
        "--subnet",
        "run-subnet=10.0.0.0/23",
        "--out",
        file.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(imp.status.code(), Some(0), "{}", text(&imp.stderr));
    let o = ipsim(&[
        "run",
        file.to_str().unwrap(),
        "--fail-on-exhaustion",
        "--no-chart",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn run_stdin_reports_bad_input_like_a_file() {
    let o = run_stdin(
        &["run", "-", "--no-chart"],
        b"{\"name\": \"x\",\n \"description\": 1}\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains(
            "error: <stdin>:2:17: description: invalid type: integer `1`, expected a string"
        ),
        "{err}"
    );
    let o = run_stdin(&["run", "-"], b"  \n");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr).lines().next().unwrap(),
        "error: <stdin>: standard input is empty: pipe a scenario in (`ipsim import ... | ipsim run -`)"
    );
    let swap = std::fs::read(repo().join("scenarios/revision-swap.json")).unwrap();
    let o = run_stdin(&["run", "-", "--bracket"], &swap);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stderr).trim_end(),
        "ipsim: error: --bracket reads the scenario again for each reading: give a file, not standard input"
    );
}

#[test]
fn import_demand_profiles_and_bad_arguments() {
    let o = ipsim(&[
        "import",
        &fx("worker-pool.yaml"),
        "--subnet",
        "run-subnet=10.0.0.0/24",
        "--demand",
        "min",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["workloads"][0]["demand"],
        serde_json::json!({"type": "constant", "value": 0.0})
    );
    assert!(v["workloads"][0].get("swaps").is_none());
    let o = ipsim(&["import", &fx("worker-pool.yaml"), "--demand", "most"]);
    assert_eq!(o.status.code(), Some(2));
    let o = ipsim(&["import", &fx("worker-pool.yaml"), "--subnet", "run-subnet"]);
    assert_eq!(o.status.code(), Some(2));
}
