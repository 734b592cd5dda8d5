//! The command line's conventions: one test per exit code, a closed standard output, --quiet,
//! completions, the manual page, the version.

use std::io::Read as _;
use std::process::{Command, Stdio};

use crate::{ipsim, repo, text, tmp};

/// Every exit code, as README.md and docs/report-format.md list it, in one table each.
const CODES: [u8; 6] = [0, 1, 2, 3, 4, 141];

#[test]
fn exit_0_success() {
    let d = tmp("exit-0");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap.json",
        "--no-chart",
        "--out",
        d.to_str().unwrap(),
        "--check",
        "--fail-on",
        "exhaustion",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn exit_1_bad_input() {
    let d = tmp("exit-1");
    let f = d.join("bad.json");
    std::fs::write(
        &f,
        r#"{"name": "b", "duration": "1h", "subnets": [], "workloads": []}"#,
    )
    .unwrap();
    let o = ipsim(&["run", f.to_str().unwrap(), "--out", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let o = ipsim(&["chart", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("cannot read"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn exit_2_every_argument_error() {
    for args in [
        vec!["run"],
        vec!["run", "scenarios/surge.json", "--bogus"],
        vec!["run", "scenarios/surge.json", "--fail-on", "exhausted"],
        vec!["run", "scenarios/surge.json", "--fail-on", "short>150%"],
        vec!["sweep", "scenarios/surge.json", "--shard", "3/3"],
        vec!["sweep", "scenarios/surge.json", "--seeds", "0"],
        vec!["sweep", "scenarios/surge.json", "--threads", "0"],
        vec!["sweep", "scenarios/surge.json", "--vary", "surge.peak"],
        vec![
            "sweep",
            "scenarios/surge.json",
            "--vary",
            "no.such.field=1..2",
        ],
        vec![
            "sweep",
            "scenarios/surge.json",
            "--fail-if-probability-above",
            "1.5",
        ],
        vec!["size", "scenarios/surge.json", "--confidence", "1.5"],
        vec!["size", "scenarios/surge.json", "--confidence", "0"],
        vec!["size", "scenarios/surge.json", "--seeds", "0"],
        vec![
            "size",
            "scenarios/surge.json",
            "--fail-if-probability-above",
            "-0.1",
        ],
        vec![
            "compare",
            "scenarios/surge.json",
            "--strategies",
            "worst-fit",
        ],
        vec!["chart", "out", "--from", "noon"],
        vec!["chart", "out", "--width", "0"],
        vec!["completions", "tcsh"],
        vec!["man", "nosuch"],
    ] {
        let o = ipsim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(!text(&o.stderr).contains("panicked"), "{args:?}");
    }
}

#[test]
fn exit_2_check_without_expect() {
    let d = tmp("exit-2-check");
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("scenarios/revision-swap.json")).unwrap(),
    )
    .unwrap();
    v.as_object_mut().unwrap().remove("expect");
    v.as_object_mut().unwrap().remove("$schema");
    let f = d.join("no-expect.json");
    std::fs::write(&f, v.to_string()).unwrap();
    let o = ipsim(&[
        "run",
        f.to_str().unwrap(),
        "--check",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("has no `expect` to check the outcome against"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn exit_3_a_gate_failed() {
    let d = tmp("exit-3");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--no-chart",
        "--out",
        d.to_str().unwrap(),
        "--fail-on-exhaustion",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
}

#[test]
fn exit_4_check_differs() {
    let d = tmp("exit-4");
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("scenarios/revision-swap.json")).unwrap(),
    )
    .unwrap();
    v["expect"]["peak_held"] = 401.into();
    v.as_object_mut().unwrap().remove("$schema");
    let f = d.join("wrong-expect.json");
    std::fs::write(&f, v.to_string()).unwrap();
    let o = ipsim(&[
        "run",
        f.to_str().unwrap(),
        "--check",
        "--no-chart",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("check: "), "{}", text(&o.stderr));
}

/// Runs `ipsim args`, reads the first bytes of its standard output and closes it: the rest
/// (more than a pipe holds) meets a closed pipe.
fn close_early(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipsim"))
        .args(args)
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn exit_141_standard_output_closed_quietly() {
    // `validate` prints a line per file: 4000 lines, far more than a pipe's 64 KiB.
    let mut args = vec!["validate"];
    args.extend(std::iter::repeat_n("scenarios/revision-swap.json", 4000));
    let o = close_early(&args);
    assert_eq!(o.status.code(), Some(141), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "");
    // `run --json` with a report.json of 300 workloads, well over 64 KiB.
    let d = tmp("exit-141");
    let workloads: Vec<serde_json::Value> = (0..300)
        .map(|i| {
            serde_json::json!({"name": format!("svc-{i}"), "subnet": "main",
                               "demand": {"type": "constant", "value": 1}})
        })
        .collect();
    let s = serde_json::json!({"name": "many", "description": "", "duration": "1m",
        "subnets": [{"name": "main", "cidr": "10.0.0.0/16"}], "workloads": workloads});
    let f = d.join("many.json");
    std::fs::write(&f, s.to_string()).unwrap();
    let out = d.join("out");
    let o = close_early(&[
        "run",
        f.to_str().unwrap(),
        "--json",
        "--no-chart",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(141), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "");
    assert!(std::fs::metadata(out.join("report.json")).unwrap().len() > 100_000);
}

#[test]
fn exit_codes_are_one_table_in_the_readme_and_the_report_format() {
    for doc in ["README.md", "docs/report-format.md"] {
        let t = std::fs::read_to_string(repo().join(doc)).unwrap();
        for c in CODES {
            assert!(
                t.contains(&format!("\n| {c} |")),
                "{doc} has no row for exit {c}"
            );
        }
    }
}

#[test]
fn quiet_prints_nothing_but_errors() {
    let d = tmp("quiet");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap.json",
        "--out",
        d.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        (text(&o.stdout), text(&o.stderr)),
        (String::new(), String::new())
    );
    assert!(d.join("report.json").exists() && d.join("occupancy.png").exists());
    let o = ipsim(&[
        "-q",
        "run",
        "scenarios/revision-swap-tight.json",
        "--no-chart",
        "--out",
        d.to_str().unwrap(),
        "--fail-on",
        "exhaustion",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(text(&o.stdout), "");
    assert!(
        text(&o.stderr).starts_with("gate failed: exhaustion"),
        "{}",
        text(&o.stderr)
    );
    for args in [
        vec!["schema", "-q"],
        vec!["validate", "-q", "scenarios/surge.json"],
    ] {
        let o = ipsim(&args);
        assert_eq!(
            (o.status.code(), text(&o.stdout)),
            (Some(0), String::new()),
            "{args:?}"
        );
    }
}

const SUBCOMMANDS: [&str; 11] = [
    "run",
    "chart",
    "validate",
    "schema",
    "sweep",
    "merge",
    "compare",
    "cost",
    "size",
    "completions",
    "man",
];

#[test]
fn completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = ipsim(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let s = text(&o.stdout);
        assert!(s.len() > 1000, "{shell}: {s}");
        for c in SUBCOMMANDS {
            assert!(s.contains(c), "{shell} completions lack {c}");
        }
        assert!(s.contains("fail-on"), "{shell}");
    }
}

#[test]
fn man_page_names_every_subcommand() {
    let o = ipsim(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let s = text(&o.stdout);
    assert!(s.starts_with(".ie") || s.contains(".TH ipsim"), "{s}");
    assert!(s.contains(".SH SUBCOMMANDS"), "{s}");
    for c in SUBCOMMANDS {
        assert!(
            s.contains(&format!("ipsim\\-{c}")),
            "man page lacks {c}: {s}"
        );
    }
    let o = ipsim(&["man", "run"]);
    assert_eq!(o.status.code(), Some(0));
    let s = text(&o.stdout);
    assert!(
        s.contains(".TH ipsim-run 1") && s.contains("fail\\-on"),
        "{s}"
    );
}

#[test]
fn version_comes_from_the_workspace() {
    let o = ipsim(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout),
        format!("ipsim {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_ne!(env!("CARGO_PKG_VERSION"), "0.0.0");
}
