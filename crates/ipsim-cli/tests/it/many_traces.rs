//! Many trace files, one per workload: merged by a heap with a bounded number of files open,
//! so that `ipsim run` and `ipsim validate` work under a small `ulimit -n`.

use std::process::Command;

use crate::{ipsim, repo, text, tmp};

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

/// A run whose CSV traces are read ahead on a second thread (the default with two cores or
/// more: `--threads 2`) writes byte for byte what the run on one thread (`--threads 1`)
/// writes, and prints the same: three trace files (one with an idle delay), 30,000 rows,
/// more than the reading thread sends at once, an exhaustion, and a bad row two hours after
/// the end of the run that neither meets (the reading thread reads it, the run does not).
/// With the bad row inside the run, both stop at it with the same message.
#[test]
fn a_run_reading_ahead_writes_what_the_run_on_one_thread_writes() {
    let d = tmp("read-ahead");
    for k in 0..3 {
        let mut csv = String::from("time,workload,instances\n");
        for m in 0..10_000u64 {
            let v = (m * (k + 3) / 7) % 40 + k;
            csv.push_str(&format!("{}s,w{k},{v}\n", m * 30));
        }
        std::fs::write(d.join(format!("t{k}.csv")), csv).unwrap();
    }
    // One row a minute for 4h, then the bad row (line 242), which a 2h run never reads.
    let mut late = String::from("time,workload,instances\n");
    for m in 0..240 {
        late.push_str(&format!("{m}m,w3,{}\n", 1 + m % 3));
    }
    late.push_str("240m,w3,many\n");
    std::fs::write(d.join("late.csv"), late).unwrap();
    let scenario = |duration: &str| {
        format!(
            r#"{{"name": "ahead", "description": "traces read ahead", "duration": "{duration}",
                "start": "2025-03-10T00:00:00Z",
                "subnets": [{{"name": "s", "cidr": "10.0.0.0/25"}}],
                "workloads": [
                  {{"name": "w0", "subnet": "s", "demand": {{"type": "trace", "trace": "t0"}}}},
                  {{"name": "w1", "subnet": "s", "idle_delay": "10m",
                    "demand": {{"type": "trace", "trace": "t1"}}}},
                  {{"name": "w2", "subnet": "s", "demand": {{"type": "trace", "trace": "t2"}}}},
                  {{"name": "w3", "subnet": "s", "demand": {{"type": "trace", "trace": "late"}}}}],
                "traces": [{{"name": "t0", "format": "csv", "file": "t0.csv"}},
                           {{"name": "t1", "format": "csv", "file": "t1.csv"}},
                           {{"name": "t2", "format": "csv", "file": "t2.csv"}},
                           {{"name": "late", "format": "csv", "file": "late.csv"}}]}}"#
        )
    };
    std::fs::write(d.join("ok.json"), scenario("2h")).unwrap();
    std::fs::write(d.join("bad.json"), scenario("5h")).unwrap();
    let run = |sc: &str, threads: &str| {
        let out = d.join(format!("out-{sc}-{threads}"));
        let o = ipsim(&[
            "run",
            d.join(format!("{sc}.json")).to_str().unwrap(),
            "--no-chart",
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ]);
        let stdout = text(&o.stdout).replace(out.to_str().unwrap(), "OUT");
        (o.status.code(), stdout, text(&o.stderr), out)
    };
    let (code, stdout, stderr, one) = run("ok", "1");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("EXHAUSTED"), "{stdout}");
    let (code2, stdout2, stderr2, two) = run("ok", "2");
    assert_eq!((code2, &stdout2, &stderr2), (code, &stdout, &stderr));
    for f in ["report.json", "occupancy.csv", "workloads.csv"] {
        let (a, b) = (
            std::fs::read(one.join(f)).unwrap(),
            std::fs::read(two.join(f)).unwrap(),
        );
        assert!(a == b, "{f} differs");
    }
    let (code, _, stderr, _) = run("bad", "1");
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("late.csv:242: value: \"many\" is not a number"),
        "{stderr}"
    );
    let (code2, _, stderr2, _) = run("bad", "2");
    assert_eq!((code2, stderr2), (code, stderr));
}

/// The rows of a run with two threads or more are formatted and written on a thread of their
/// own, in batches; what it writes, charts included, is byte for byte what `--threads 1`
/// writes in place: 20 services for 12 hours of a minute trace, some 14,000 rows out, several
/// batches and a partial last one.
#[test]
fn rows_written_on_their_own_thread_are_the_rows_written_in_place() {
    let d = tmp("rows-thread");
    let mut csv = String::from("time,workload,instances\n");
    for m in 0..720u64 {
        for k in 0..20u64 {
            csv.push_str(&format!("{m}m,w{k},{}\n", (m * (k + 1) / 5) % 9 + 1));
        }
    }
    std::fs::write(d.join("t.csv"), csv).unwrap();
    let workloads: Vec<String> = (0..20)
        .map(|k| {
            format!(
                r#"{{"name": "w{k}", "subnet": "s", "demand": {{"type": "trace", "trace": "t"}}}}"#
            )
        })
        .collect();
    std::fs::write(
        d.join("s.json"),
        format!(
            r#"{{"name": "rows", "description": "rows on a thread", "duration": "12h",
                "start": "2025-03-10T00:00:00Z",
                "subnets": [{{"name": "s", "cidr": "10.0.0.0/23"}}],
                "workloads": [{}],
                "traces": [{{"name": "t", "format": "csv", "file": "t.csv"}}]}}"#,
            workloads.join(",")
        ),
    )
    .unwrap();
    for chart in [false, true] {
        let run = |threads: &str| {
            let out = d.join(format!("out-{threads}-{chart}"));
            let (sc, out_s) = (d.join("s.json"), out.to_str().unwrap().to_string());
            let mut args = vec![
                "run",
                sc.to_str().unwrap(),
                "--threads",
                threads,
                "--out",
                &out_s,
            ];
            if !chart {
                args.push("--no-chart");
            }
            let o = ipsim(&args);
            assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
            (text(&o.stdout).replace(&out_s, "OUT"), out)
        };
        let ((stdout1, one), (stdout2, two)) = (run("1"), run("2"));
        assert_eq!(stdout1, stdout2);
        let rows = std::fs::read_to_string(one.join("workloads.csv")).unwrap();
        assert!(
            rows.lines().count() > 3 * 4_096,
            "{} rows",
            rows.lines().count()
        );
        let mut files: Vec<_> = std::fs::read_dir(&one)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        files.sort();
        assert_eq!(
            files.iter().any(|f| f == "occupancy.png"),
            chart,
            "{files:?}"
        );
        for f in files {
            let (a, b) = (std::fs::read(one.join(&f)), std::fs::read(two.join(&f)));
            assert!(a.unwrap() == b.unwrap(), "{f:?} differs");
        }
    }
}
