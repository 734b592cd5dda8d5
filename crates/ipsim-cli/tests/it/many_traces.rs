//! Many trace files, one per workload: merged by a heap with a bounded number of files open,
//! so that `ipsim run` and `ipsim validate` work under a small `ulimit -n`.

use std::process::Command;

use crate::{repo, text, tmp};

/// 10,000 CSV trace files, one per service, under `ulimit -n 256`: `validate` passes and
/// `run` replays them, every service at its one instance from 0 to 30m (2 addresses each:
/// 20,000 held at the peak), not "Too many open files".
#[test]
fn ten_thousand_trace_files_run_under_ulimit_256() {
    let d = tmp("many-traces");
    let n = 10_000;
    let mut workloads = Vec::new();
    let mut traces = Vec::new();
    std::fs::create_dir_all(d.join("t")).unwrap();
    for k in 0..n {
        std::fs::write(
            d.join(format!("t/{k}.csv")),
            format!("time,workload,instances\n0,w{k},1\n30m,w{k},0\n"),
        )
        .unwrap();
        workloads.push(format!(
            r#"{{"name": "w{k}", "subnet": "s", "demand": {{"type": "trace", "trace": "t{k}"}}}}"#
        ));
        traces.push(format!(
            r#"{{"name": "t{k}", "format": "csv", "file": "t/{k}.csv"}}"#
        ));
    }
    let sc = d.join("s.json");
    std::fs::write(
        &sc,
        format!(
            r#"{{"name": "many", "description": "one trace file per service", "duration": "1h",
                "subnets": [{{"name": "s", "cidr": "10.0.0.0/12"}}],
                "workloads": [{}], "traces": [{}]}}"#,
            workloads.join(",\n"),
            traces.join(",\n")
        ),
    )
    .unwrap();
    let limited = |args: &[&str]| {
        Command::new("sh")
            .arg("-c")
            .arg(r#"ulimit -n 256 && exec "$@""#)
            .arg("sh")
            .arg(env!("CARGO_BIN_EXE_ipsim"))
            .args(args)
            .current_dir(repo())
            .output()
            .unwrap()
    };
    let o = limited(&["validate", sc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("1 subnet(s), 10000 workload(s)"));
    let out = d.join("out");
    let o = limited(&[
        "run",
        sc.to_str().unwrap(),
        "--no-chart",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let s = &r["summary"];
    assert_eq!(s["peak_held"], 2 * n, "{s}");
    assert_eq!(s["failed_attempts"], 0, "{s}");
}
