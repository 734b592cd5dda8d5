//! Every count bounded where it enters, and files read with bounds: each reproduction runs the
//! binary under a 1 GiB address-space cap and a generous guard time, and must end with a
//! precise input error.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{repo, text, tmp};

/// Runs `ipsim ARGS` under `prlimit --as=1GiB` (plain when prlimit is missing), killed after
/// the guard time; returns (exit code, stderr).
fn capped(args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = if Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let mut c = Command::new("prlimit");
        c.arg("--as=1073741824")
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_ipsim"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_ipsim"))
    };
    let mut child = cmd
        .args(args)
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = Vec::new();
            std::io::Read::read_to_end(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status.code(), text(&err));
        }
        if Instant::now() > guard {
            child.kill().unwrap();
            panic!("ipsim {args:?} ran past the guard time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn scenario(dir: &Path, name: &str, workloads: &str, traces: &str) -> String {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            r#"{{"name": "b", "description": "a count beyond the cap", "duration": "1h",
                "subnets": [{{"name": "s", "cidr": "10.0.0.0/16"}}],
                "workloads": [{workloads}], "traces": [{traces}]}}"#
        ),
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn a_count_over_the_cap_after_any_conversion_is_an_input_error() {
    let d = tmp("bounds-counts");
    let cap = "more than 100000 instances, the most ipsim accepts";
    // The request rule: a tiny utilisation, and 1e9 rps with a latency of a day.
    let tiny = scenario(
        &d,
        "tiny.json",
        r#"{"name": "w", "subnet": "s", "demand": {"type": "constant", "value": 1},
            "requests": {"latency": "100ms", "target_utilization": 1e-300}}"#,
        "",
    );
    let day = scenario(
        &d,
        "day.json",
        r#"{"name": "w", "subnet": "s", "demand": {"type": "constant", "value": 1e9},
            "requests": {"latency": "1d"}}"#,
        "",
    );
    // A CSV trace row of 1e9 instances.
    std::fs::write(
        d.join("t.csv"),
        "time,workload,instances\n0,w,2\n10m,w,1000000000\n",
    )
    .unwrap();
    let row = scenario(
        &d,
        "row.json",
        r#"{"name": "w", "subnet": "s", "demand": {"type": "trace", "trace": "t"}}"#,
        r#"{"name": "t", "format": "csv", "file": "t.csv"}"#,
    );
    // An Azure durations Average of 1e300 ms.
    std::fs::write(
        d.join("inv.csv"),
        "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,aaaaaaaa11112222,http,60,60\n",
    )
    .unwrap();
    std::fs::write(
        d.join("dur.csv"),
        "HashFunction,HashApp,HashOwner,Count,Average,Minimum,Maximum\n\
         aaaaaaaa11112222,a,o,10,1e300,1,1\n",
    )
    .unwrap();
    let azure = scenario(
        &d,
        "azure.json",
        "",
        r#"{"name": "az", "format": "azure-functions", "file": "inv.csv",
            "functions": {"top": 1, "subnet": "s", "durations_file": "dur.csv"}}"#,
    );
    for (file, says) in [
        (
            &tiny,
            format!("workloads[0].demand: at 0s the demand is {cap}"),
        ),
        (
            &day,
            format!("workloads[0].demand: at 0s the demand is {cap}"),
        ),
        (
            &row,
            format!("t.csv:3: value: at 10m the value for \"w\" is {cap}"),
        ),
        (
            &azure,
            format!("traces[0].functions: function aaaaaaaa11112222: at 0s the demand is {cap}"),
        ),
    ] {
        for cmd in ["validate", "run"] {
            let (code, stderr) = capped(
                &[cmd, file, "--out", d.join("out").to_str().unwrap()]
                    [..if cmd == "run" { 4 } else { 2 }],
            );
            assert_eq!(code, Some(1), "{cmd} {file}: {stderr}");
            assert!(stderr.contains(&says), "{cmd} {file}: {stderr}");
        }
    }
}

#[test]
fn endless_or_huge_files_are_errors_not_memory() {
    let d = tmp("bounds-files");
    if Path::new("/dev/zero").exists() {
        let (code, stderr) = capped(&["validate", "/dev/zero"]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains("/dev/zero: the scenario is larger than 256 MiB, the most ipsim reads"),
            "{stderr}"
        );
    }
    // A trace line of 8 MiB of NULs.
    let mut nul = b"time,workload,instances\n0,w,".to_vec();
    nul.extend(std::iter::repeat_n(0u8, 8 << 20));
    nul.push(b'\n');
    std::fs::write(d.join("nul.csv"), nul).unwrap();
    let f = scenario(
        &d,
        "nul.json",
        r#"{"name": "w", "subnet": "s", "demand": {"type": "trace", "trace": "t"}}"#,
        r#"{"name": "t", "format": "csv", "file": "nul.csv"}"#,
    );
    let (code, stderr) = capped(&["validate", &f]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("line 2 is longer than 1024 KiB, the longest line ipsim reads"),
        "{stderr}"
    );
    // A 1 MB bad field is quoted in 40 characters.
    let field = "x".repeat(1_000_000);
    std::fs::write(
        d.join("big.csv"),
        format!("time,workload,instances\n0,w,{field}\n"),
    )
    .unwrap();
    let f = scenario(
        &d,
        "big.json",
        r#"{"name": "w", "subnet": "s", "demand": {"type": "trace", "trace": "t"}}"#,
        r#"{"name": "t", "format": "csv", "file": "big.csv"}"#,
    );
    let (code, stderr) = capped(&["validate", &f]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "\"{}\"... (1000000 characters) is not a number",
            "x".repeat(40)
        )),
        "{stderr}"
    );
    assert!(stderr.len() < 1000, "{} bytes of errors", stderr.len());
}
