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

/// Runs `ipsim ARGS` while a thread writes `data` into the named pipe `fifo`, under the guard
/// time (a second open of the pipe would wait for a writer for ever); returns (code, stdout,
/// stderr).
#[cfg(unix)]
fn through_pipe(fifo: &Path, data: Vec<u8>, args: &[&str]) -> (Option<i32>, String, String) {
    let f = fifo.to_path_buf();
    let writer = std::thread::spawn(move || {
        // Ignore a broken pipe: the reader may stop at an error.
        let _ = std::fs::write(f, data);
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipsim"))
        .args(args)
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > guard {
            child.kill().unwrap();
            panic!("ipsim {args:?} ran past the guard time: the pipe was opened twice?");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (o.status.code(), text(&o.stdout), text(&o.stderr))
}

/// A CSV trace is opened once at load: `validate` and `run` read it from a named pipe, and the
/// run writes exactly what it writes from the file. A sweep, which resolves the scenario once
/// per variation, refuses the pipe at once instead of waiting for a writer.
#[cfg(unix)]
#[test]
fn a_csv_trace_through_a_named_pipe_is_read_once() {
    let d = tmp("csv-fifo");
    let fifo = d.join("prod.csv");
    if !Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        return; // no mkfifo here
    }
    let csv = std::fs::read(repo().join("scenarios/traces/small.csv")).unwrap();
    let sc = std::fs::read_to_string(repo().join("scenarios/trace-replay.json"))
        .unwrap()
        .replace("traces/small.csv", "prod.csv")
        .replace("../docs/scenario.schema.json", "scenario.schema.json");
    let scp = d.join("s.json");
    std::fs::write(&scp, sc).unwrap();
    let s = scp.to_str().unwrap();

    let (code, out, err) = through_pipe(&fifo, csv.clone(), &["validate", s]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("1 subnet(s), 2 workload(s), 3h"), "{out}");

    let piped = d.join("piped");
    let (code, _, err) = through_pipe(
        &fifo,
        csv.clone(),
        &["run", s, "--out", piped.to_str().unwrap(), "--no-chart"],
    );
    // The bundled scenario expects its exhaustion: exit 0 says the replay matched it.
    assert_eq!(code, Some(0), "{err}");
    let file = d.join("file");
    let o = Command::new(env!("CARGO_BIN_EXE_ipsim"))
        .args(["run", "scenarios/trace-replay.json", "--no-chart", "--out"])
        .arg(&file)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    // The same rows; only the run id differs, the two scenario files being written apart.
    let rows = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap();
        let id = text
            .lines()
            .nth(1)
            .unwrap()
            .rsplit(',')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 16, "{text}");
        text.replace(&format!(",{id}\n"), ",\n")
    };
    for f in ["occupancy.csv", "workloads.csv"] {
        assert_eq!(rows(&piped.join(f)), rows(&file.join(f)), "{f}");
    }

    // A bad row late in the pipe is still reported at its line and column.
    let mut bad = csv.clone();
    bad.extend_from_slice(b"2025-03-10T10:59:00Z,web,lots\n");
    let lines = bad.iter().filter(|&&b| b == b'\n').count();
    let (code, _, err) = through_pipe(&fifo, bad, &["validate", s]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "prod.csv:{lines}: value: \"lots\" is not a number"
        )),
        "{err}"
    );

    let o = Command::new(env!("CARGO_BIN_EXE_ipsim"))
        .args([
            "sweep",
            s,
            "--vary",
            "subnet.app-subnet.prefix=23,24",
            "--out",
        ])
        .arg(d.join("sweep"))
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("traces[0].file:"), "{err}");
    assert!(err.contains("is not a regular file (a pipe?)"), "{err}");
}

/// An Azure Functions trace is read once too: `validate` and `run` read it from a named pipe.
#[cfg(unix)]
#[test]
fn an_azure_trace_through_a_named_pipe_is_read_once() {
    let d = tmp("azure-fifo");
    let fifo = d.join("inv.csv");
    if !Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        return; // no mkfifo here
    }
    let inv = b"HashOwner,HashApp,HashFunction,Trigger,1,2,3,4\n\
        o,a,aaaaaaaa11112222,http,60,0,0,0\n\
        o,a,bbbbbbbb33334444,http,6000,6000,0,120\n";
    std::fs::write(
        d.join("run.csv"),
        "HashFunction,HashApp,HashOwner,Count,Average,Minimum,Maximum\n\
         bbbbbbbb33334444,x,y,10,2400,1.0,9.0\naaaaaaaa11112222,x,y,10,300,1.0,9.0\n",
    )
    .unwrap();
    let scp = d.join("s.json");
    std::fs::write(
        &scp,
        r#"{"name": "az", "description": "azure", "duration": "4m",
            "subnets": [{"name": "main", "cidr": "10.0.0.0/22"}],
            "traces": [{"name": "az", "format": "azure-functions", "file": "inv.csv",
                        "functions": {"top": 2, "subnet": "main", "durations_file": "run.csv"}}]}"#,
    )
    .unwrap();
    let s = scp.to_str().unwrap();
    let (code, out, err) = through_pipe(&fifo, inv.to_vec(), &["validate", s]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("1 subnet(s), 2 workload(s), 4m"), "{out}");
    let o = d.join("o");
    let (code, _, err) = through_pipe(
        &fifo,
        inv.to_vec(),
        &["run", s, "--out", o.to_str().unwrap(), "--no-chart"],
    );
    assert_eq!(code, Some(0), "{err}");
    let wls = std::fs::read_to_string(o.join("workloads.csv")).unwrap();
    assert!(wls.contains("fn-bbbbbbbb3333"), "{wls}");
}
