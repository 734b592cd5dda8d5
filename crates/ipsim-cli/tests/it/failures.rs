//! Nothing lost when a run fails: a failed or killed command leaves the output folder's
//! earlier files whole, and `ipsim chart` refuses files that are not one run's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{ipsim, repo, text, tmp};

/// Every file in `dir` and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Staging folders left beside `out`.
fn partials(out: &Path) -> Vec<String> {
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.contains(".ipsim-partial-").then_some(n)
        })
        .collect()
}

/// `out` holding the results of a good run (the roomy swap), and a snapshot of them.
fn earlier_results(name: &str) -> (PathBuf, BTreeMap<String, Vec<u8>>) {
    let out = tmp(name).join("out");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap.json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let before = snapshot(&out);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        [
            "occupancy.csv",
            "occupancy.png",
            "report.html",
            "report.json",
            "report.md",
            "workloads.csv"
        ]
    );
    (out, before)
}

/// Checks that `o` failed with exit 1 saying `says`, and that `out` is as `before`, with no
/// staging folder left.
fn intact(o: &Output, says: &str, out: &Path, before: &BTreeMap<String, Vec<u8>>) {
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
    assert!(snapshot(out) == *before, "the earlier results changed");
    assert_eq!(partials(out), Vec::<String>::new());
    // And they are still one run's: the chart redraws from them.
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c.stderr));
}

/// `ipsim ARGS` with the largest file it may write capped at `bytes` and SIGXFSZ ignored, so
/// that a write past the cap fails with EFBIG as a full disk fails with ENOSPC.
fn ipsim_fsize(bytes: u64, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; exec prlimit --fsize="$0" -- "$@""#)
        .arg(bytes.to_string())
        .arg(env!("CARGO_BIN_EXE_ipsim"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn has_prlimit() -> bool {
    Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_full_disk_at_a_csv_at_report_json_or_at_a_chart_leaves_the_earlier_results() {
    if !has_prlimit() {
        eprintln!("skipped: prlimit (util-linux) is not installed");
        return;
    }
    // The tight swap writes CSVs of about 300 bytes, a report of about 10 kB and a chart of
    // about 170 kB, in that order: each cap fails at the next file.
    for (cap, file) in [
        (100, "occupancy.csv"),
        (2_000, "report.json"),
        (50_000, "occupancy.png"),
    ] {
        let (out, before) = earlier_results(&format!("full-{file}"));
        let o = ipsim_fsize(
            cap,
            &[
                "run",
                "scenarios/revision-swap-tight.json",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let stderr = text(&o.stderr);
        let says = if file.ends_with(".png") {
            "cannot draw the charts".to_string()
        } else {
            format!("cannot write {}", out.join(file).display())
        };
        assert!(stderr.contains("File too large"), "{file}: {stderr}");
        intact(&o, &says, &out, &before);
    }
}

#[test]
fn a_bad_trace_row_found_late_leaves_the_earlier_results() {
    let (out, before) = earlier_results("late-row");
    let dir = out.parent().unwrap();
    let mut csv = String::from("time,workload,instances\n");
    for m in 0..600 {
        csv.push_str(&format!(
            "2025-03-10T{:02}:{:02}:00Z,web,{}\n",
            8 + m / 60,
            m % 60,
            5 + m % 7
        ));
    }
    csv.push_str("2025-03-10T18:00:00Z,web,many\n");
    std::fs::write(dir.join("t.csv"), csv).unwrap();
    std::fs::write(
        dir.join("late.json"),
        r#"{"name": "late", "description": "a trace whose last row is bad", "duration": "11h",
            "start": "2025-03-10T08:00:00Z",
            "subnets": [{"name": "s", "cidr": "10.0.0.0/24"}],
            "workloads": [{"name": "web", "subnet": "s", "demand": {"type": "trace", "trace": "t"}}],
            "traces": [{"name": "t", "format": "csv", "file": "t.csv"}]}"#,
    )
    .unwrap();
    let o = ipsim(&[
        "run",
        dir.join("late.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    // Read once, as the run goes: the run stops at the row, named with its line.
    intact(
        &o,
        "t.csv:602: value: \"many\" is not a number",
        &out,
        &before,
    );
}

#[test]
fn an_error_after_the_simulation_leaves_the_earlier_results() {
    let (out, before) = earlier_results("after");
    let dir = out.parent().unwrap();
    std::fs::write(
        dir.join("cost.json"),
        r#"{"name": "c", "description": "a cost section with nothing to price",
            "duration": "10m", "subnets": [{"name": "s", "cidr": "10.0.0.0/24"}],
            "workloads": [{"name": "w", "subnet": "s", "demand": {"type": "constant", "value": 5}}],
            "cost": {}}"#,
    )
    .unwrap();
    let o = ipsim(&[
        "run",
        dir.join("cost.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    intact(&o, "nothing to price", &out, &before);
}

#[test]
fn a_killed_run_leaves_the_earlier_results_and_its_leftovers_go_next_time() {
    let (out, before) = earlier_results("killed");
    let dir = out.parent().unwrap();
    // Thirty days of minute rows: long enough to be killed part way.
    let mut csv = String::from("time,workload,instances\n");
    let (mut t, end) = (
        jiff::Timestamp::from_second(1_700_000_000).unwrap(),
        jiff::Timestamp::from_second(1_700_000_000 + 30 * 86_400).unwrap(),
    );
    let mut k = 0u64;
    while t < end {
        csv.push_str(&format!("{t},web,{}\n", 20 + (k * 7919) % 61));
        t = t.checked_add(jiff::SignedDuration::from_secs(60)).unwrap();
        k += 1;
    }
    std::fs::write(dir.join("long.csv"), csv).unwrap();
    std::fs::write(
        dir.join("long.json"),
        r#"{"name": "long", "description": "thirty days of minute rows",
            "duration": "30d", "start": "2023-11-14T22:13:20Z",
            "subnets": [{"name": "s", "cidr": "10.0.0.0/24"}],
            "workloads": [{"name": "web", "subnet": "s", "demand": {"type": "trace", "trace": "t"}}],
            "traces": [{"name": "t", "format": "csv", "file": "long.csv"}]}"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipsim"))
        .args([
            "run",
            dir.join("long.json").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL) once its staging folder holds part of a CSV.
    let staged = dir.join(format!(".out.ipsim-partial-{}", child.id()));
    let guard = Instant::now() + Duration::from_secs(300);
    loop {
        let len = std::fs::metadata(staged.join("occupancy.csv")).map_or(0, |m| m.len());
        if len > 100_000 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        assert!(Instant::now() < guard, "the run never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(snapshot(&out) == before, "the earlier results changed");
    assert_eq!(partials(&out).len(), 1, "the killed run's staging folder");
    // The next run into the folder removes what the killed one left.
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(partials(&out), Vec::<String>::new());
    assert!(snapshot(&out) != before);
}

#[test]
fn report_json_and_the_csvs_carry_one_run_id_that_chart_checks() {
    let out = tmp("run-id").join("out");
    let run = |scenario: &str, out: &Path| {
        let o = ipsim(&[
            "run",
            scenario,
            "--no-chart",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        r["run"].clone()
    };
    let tight = "scenarios/revision-swap-tight.json";
    let a = run(tight, &out);
    // Deterministic: the same scenario and seed give the same id.
    assert_eq!(run(tight, &out), a);
    let id = a["id"].as_str().unwrap();
    assert_eq!(id.len(), 16);
    assert_eq!(
        a["files"]["occupancy.csv"]["bytes"],
        std::fs::metadata(out.join("occupancy.csv")).unwrap().len()
    );
    // Another run's CSV beside this report is refused.
    let other = out.parent().unwrap().join("other");
    let b = run("scenarios/revision-swap.json", &other);
    assert_ne!(b["id"], a["id"]);
    let other_id = b["id"].as_str().unwrap();
    // Every row of each CSV carries the id, in its last column `run`.
    for name in ["occupancy.csv", "workloads.csv"] {
        let csv = std::fs::read_to_string(out.join(name)).unwrap();
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().ends_with(",run"), "{name}");
        for l in lines {
            assert!(l.ends_with(&format!(",{id}")), "{name}: {l}");
        }
    }
    std::fs::copy(other.join("workloads.csv"), out.join("workloads.csv")).unwrap();
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    let stderr = text(&c.stderr);
    assert_eq!(c.status.code(), Some(1), "{stderr}");
    // The error names the file, its run and the report's run.
    assert!(
        stderr.contains(&format!(
            "{}:2: this file is of run {other_id}, but report.json beside it is of run {id}: \
             the files come from two runs",
            out.join("workloads.csv").display()
        )),
        "{stderr}"
    );
    // The same rows with the id rewritten to this run's: the digest still tells them apart.
    let forged = std::fs::read_to_string(other.join("workloads.csv"))
        .unwrap()
        .replace(other_id, id);
    std::fs::write(out.join("workloads.csv"), forged).unwrap();
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    let stderr = text(&c.stderr);
    assert_eq!(c.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("workloads.csv is not the file run {id} wrote")),
        "{stderr}"
    );
    // So is one cut short.
    run(tight, &out);
    let occ = std::fs::read(out.join("occupancy.csv")).unwrap();
    std::fs::write(out.join("occupancy.csv"), &occ[..occ.len() / 2]).unwrap();
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    let stderr = text(&c.stderr);
    assert_eq!(c.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("it was cut short"), "{stderr}");
    assert!(!out.join("occupancy.png").exists());
}

#[test]
fn chart_refuses_nan_and_infinite_counts() {
    let out = tight_run("nan");
    // A report without its run stamp (as older ipsim wrote) and a CSV edited by hand.
    let p = out.join("report.json");
    let mut r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    r.as_object_mut().unwrap().remove("run");
    std::fs::write(&p, r.to_string()).unwrap();
    let occ = std::fs::read_to_string(out.join("occupancy.csv")).unwrap();
    for bad in ["NaN", "inf", "-1"] {
        let mut lines: Vec<String> = occ.lines().map(str::to_string).collect();
        let mut fields: Vec<&str> = lines[2].split(',').collect();
        let col = occ
            .lines()
            .next()
            .unwrap()
            .split(',')
            .position(|c| c == "in_use")
            .unwrap();
        fields[col] = bad;
        lines[2] = fields.join(",");
        std::fs::write(out.join("occupancy.csv"), lines.join("\n") + "\n").unwrap();
        let c = ipsim(&["chart", out.to_str().unwrap()]);
        let stderr = text(&c.stderr);
        assert_eq!(c.status.code(), Some(1), "{bad}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "occupancy.csv:3: column {} is not a count: \"{bad}\"",
                col + 1
            )),
            "{stderr}"
        );
    }
}

#[test]
fn chart_says_an_empty_csv_is_empty() {
    let out = tight_run("empty-csv");
    // Without the run stamp, which would refuse it first.
    let p = out.join("report.json");
    let mut r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    r.as_object_mut().unwrap().remove("run");
    std::fs::write(&p, r.to_string()).unwrap();
    std::fs::write(out.join("occupancy.csv"), "").unwrap();
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    let stderr = text(&c.stderr);
    assert_eq!(c.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("occupancy.csv is empty, not even its header"),
        "{stderr}"
    );
}

/// Twelve services flapping (Poisson noise) on two small subnets for 4 hours: hundreds of
/// failure windows across workloads and subnets.
fn flapping_scenario(path: &Path) {
    let workloads: Vec<serde_json::Value> = ["a", "b"]
        .iter()
        .flat_map(|sn| {
            (0..6).map(move |i| {
                serde_json::json!({ "name": format!("{sn}{i}"), "subnet": sn, "noise": "poisson",
                                    "demand": { "type": "constant", "value": 3 } })
            })
        })
        .collect();
    let s = serde_json::json!({
        "name": "flap", "description": "flapping services", "duration": "4h",
        "subnets": [ { "name": "a", "cidr": "10.0.0.0/25" }, { "name": "b", "cidr": "10.1.0.0/25" } ],
        "workloads": workloads,
    });
    std::fs::write(path, s.to_string()).unwrap();
}

#[test]
fn each_failure_window_is_written_once_and_subnets_and_workloads_name_theirs_by_index() {
    let d = tmp("windows-once");
    let sc = d.join("flap.json");
    flapping_scenario(&sc);
    let out = d.join("out");
    let o = ipsim(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let raw = std::fs::read_to_string(out.join("report.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(r["format"], 5);
    let all = r["failure_windows"].as_array().unwrap();
    assert_eq!(all.len(), 615);
    // Each window appears once in the file: one `start_ms` each (failure windows only here).
    assert_eq!(raw.matches("\"start_ms\"").count(), all.len());
    assert!(r["summary"].get("failure_windows").is_none());
    // Sorted by start, then workload.
    let key = |w: &serde_json::Value| {
        (
            w["start_ms"].as_u64().unwrap(),
            w["workload"].as_str().unwrap().to_string(),
        )
    };
    assert!(all.windows(2).all(|p| key(&p[0]) <= key(&p[1])));
    // Every window belongs to exactly one workload and one subnet, which name it by index.
    for (section, field) in [("workloads", "name"), ("subnets", "name")] {
        let mut seen = vec![0; all.len()];
        for x in r[section].as_array().unwrap() {
            let own = if section == "workloads" {
                "workload"
            } else {
                "subnet"
            };
            let idx: Vec<usize> = x["failure_windows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as usize)
                .collect();
            assert!(idx.windows(2).all(|p| p[0] < p[1]), "{section} in order");
            for i in idx {
                assert_eq!(all[i][own], x[field], "{section}");
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "{section}: each window once");
    }
    assert_eq!(
        r["subnets"][0]["failure_windows"].as_array().unwrap().len(),
        306
    );
    // The chart, the pages and the summary read them from there.
    assert!(out.join("occupancy-a.png").exists());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| a | 10.0.0.0/25 |"), "{md}");
    assert!(md.contains("| 306 |"), "{md}");
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c.stderr));
    // An index past the list is refused, naming where it is.
    let bad = raw.replacen(
        "\"failure_windows\": [\n        0,",
        "\"failure_windows\": [\n        615,",
        1,
    );
    assert_ne!(bad, raw);
    std::fs::write(out.join("report.json"), &bad).unwrap();
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    let stderr = text(&c.stderr);
    assert_eq!(c.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .contains("subnets[0].failure_windows[0] is 615, but the run has 615 failure_windows"),
        "{stderr}"
    );
}

#[test]
fn chart_refuses_a_report_of_an_older_format_naming_both_formats() {
    let out = tight_run("old-format");
    let p = out.join("report.json");
    let raw = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, raw.replacen("\"format\": 5,", "\"format\": 3,", 1)).unwrap();
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    let stderr = text(&c.stderr);
    assert_eq!(c.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: report format 3, but this ipsim ({}) reads formats 4 and 5 only",
            p.display(),
            env!("CARGO_PKG_VERSION")
        )),
        "{stderr}"
    );
    assert!(stderr.contains("run the scenario again"), "{stderr}");
    assert!(!out.join("occupancy.png").exists());
}

#[test]
fn chart_still_checks_a_folder_of_report_format_4_with_its_fnv1a_digests() {
    let out = tight_run("format-4");
    // The folder as the previous ipsim wrote it: format 4, each CSV named by its FNV-1a 64.
    let p = out.join("report.json");
    let mut r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(r["format"], 5);
    r["format"] = 4.into();
    for name in ["occupancy.csv", "workloads.csv"] {
        let f = &mut r["run"]["files"][name];
        let crc = f.as_object_mut().unwrap().remove("crc32").unwrap();
        assert_eq!(crc.as_str().unwrap().len(), 8, "{name}: {crc}");
        let mut h = ipsim_report::stamp::Fnv::default();
        h.update(&std::fs::read(out.join(name)).unwrap());
        f["fnv1a64"] = h.hex().into();
    }
    // A format-5 report naming FNV-1a digests was edited: it is refused, not checked.
    r["format"] = 5.into();
    std::fs::write(&p, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    let stderr = text(&c.stderr);
    assert_eq!(c.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("run.files.occupancy.csv has no `crc32`, the digest of report format 5"),
        "{stderr}"
    );
    r["format"] = 4.into();
    std::fs::write(&p, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c.stderr));
    assert!(out.join("occupancy.png").exists());
    // And the FNV-1a digest still catches a changed file of such a folder.
    std::fs::remove_file(out.join("occupancy.png")).unwrap();
    let occ = std::fs::read_to_string(out.join("occupancy.csv")).unwrap();
    let changed = occ.replacen(",0,", ",1,", 1);
    assert_ne!(changed, occ);
    std::fs::write(out.join("occupancy.csv"), changed).unwrap();
    let c = ipsim(&["chart", out.to_str().unwrap()]);
    let stderr = text(&c.stderr);
    assert_eq!(c.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("occupancy.csv is not the file run") && stderr.contains("changed"),
        "{stderr}"
    );
    assert!(!out.join("occupancy.png").exists());
}

/// The tight revision swap run without a chart into `tmp(name)/out`, which it returns.
fn tight_run(name: &str) -> std::path::PathBuf {
    let out = tmp(name).join("out");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--no-chart",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    out
}
