//! One trace pass: `ipsim run --no-chart` on a generated minute-resolution CSV trace (200
//! services x 1 day: 288,000 rows, RFC 3339 times) against the floor, a minimal pass over
//! the same file with the `csv` crate (one reused record; each row's time parsed by jiff, its
//! name as UTF-8 and its number), timed alternately in one run; the end-to-end ratio is the
//! goal (at most 3). `ipsim validate` (load and one checking pass) and a bare read of the
//! records are timed beside them.
//!
//! Whole processes of the release binary: build it first.
//!
//! ```text
//! cargo build --release -p ipsim-cli
//! cargo bench -p ipsim-benches --bench trace_pass
//! ```
//!
//! `IPSIM_BIN` names another binary; `ROUNDS` (default 7) the rounds. `trace_pass --floor FILE`
//! runs the floor alone, to time it as a whole process too.

use std::f64::consts::PI;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const SERVICES: usize = 200;
const MINUTES: u64 = 1440;

fn write_inputs(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut csv = String::from("time,workload,instances\n");
    for m in 0..MINUTES {
        let (h, mi) = (m / 60, m % 60);
        let day = ((m as f64 / MINUTES as f64 * 2.0 * PI).sin() + 1.0) * 5.0;
        for k in 0..SERVICES {
            let v = 2 + day as u64 + (k as u64 * 7 + m) % 3;
            writeln!(csv, "2025-03-10T{h:02}:{mi:02}:00Z,svc-{k},{v}").unwrap();
        }
    }
    std::fs::write(dir.join("trace.csv"), csv).unwrap();
    let workloads: Vec<String> = (0..SERVICES)
        .map(|k| {
            format!(
                r#"{{"name": "svc-{k}", "subnet": "run", "demand": {{"type": "trace", "trace": "prod"}}}}"#
            )
        })
        .collect();
    let scenario = dir.join("scenario.json");
    std::fs::write(
        &scenario,
        format!(
            r#"{{"name": "trace-pass", "description": "200 services replayed from a minute trace",
  "duration": "1d", "start": "2025-03-10T00:00:00Z",
  "subnets": [{{"name": "run", "cidr": "10.0.0.0/16"}}],
  "workloads": [{}],
  "traces": [{{"name": "prod", "format": "csv", "file": "trace.csv"}}]}}"#,
            workloads.join(",\n    ")
        ),
    )
    .unwrap();
    scenario
}

/// The floor: every record read into one reused record, its time, name and number parsed.
fn floor(path: &Path, parse: bool) -> u64 {
    let mut r = csv::ReaderBuilder::new()
        .from_path(path)
        .expect("the trace");
    let mut rec = csv::ByteRecord::new();
    let mut sum = 0u64;
    while r.read_byte_record(&mut rec).expect("a record") {
        if parse {
            let t: jiff::Timestamp = std::str::from_utf8(&rec[0]).unwrap().parse().unwrap();
            let name = std::str::from_utf8(&rec[1]).unwrap();
            let n: u64 = std::str::from_utf8(&rec[2]).unwrap().parse().unwrap();
            sum += t.as_second() as u64 % 7 + name.len() as u64 + n;
        } else {
            sum += rec.len() as u64;
        }
    }
    sum
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `trace_pass --floor FILE`: the floor alone, as a process of its own.
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, file, ..] = args.as_slice() {
        if flag == "--floor" {
            println!("{}", floor(Path::new(file), true));
            return;
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = std::env::var_os("IPSIM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/ipsim"));
    if !bin.exists() {
        eprintln!(
            "trace_pass: {} not found; build it with `cargo build --release -p ipsim-cli` (or set IPSIM_BIN)",
            bin.display()
        );
        return;
    }
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let dir = std::env::temp_dir().join(format!("ipsim-trace-pass-{}", std::process::id()));
    let scenario = write_inputs(&dir);
    let trace = dir.join("trace.csv");
    let rows = SERVICES as u64 * MINUTES;
    let out = dir.join("out");
    let ipsim = |args: &[&str]| {
        let t = Instant::now();
        let o = Command::new(&bin).args(args).output().expect("ipsim runs");
        assert!(
            o.status.success(),
            "ipsim {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        t.elapsed().as_secs_f64()
    };
    let s = scenario.to_str().unwrap();
    let run_args = ["run", s, "--no-chart", "--out", out.to_str().unwrap()];
    let (mut run, mut validate, mut parse, mut read) = (vec![], vec![], vec![], vec![]);
    ipsim(&run_args); // warm the page cache
    for _ in 0..rounds {
        run.push(ipsim(&run_args));
        validate.push(ipsim(&["validate", s]));
        let t = Instant::now();
        std::hint::black_box(floor(&trace, true));
        parse.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        std::hint::black_box(floor(&trace, false));
        read.push(t.elapsed().as_secs_f64());
    }
    let (run, validate, parse, read) = (
        median(&mut run),
        median(&mut validate),
        median(&mut parse),
        median(&mut read),
    );
    let ns = |s: f64| s * 1e9 / rows as f64;
    println!(
        "trace_pass: {rows} rows ({} MB), medians of {rounds} alternating rounds",
        std::fs::metadata(&trace).unwrap().len() / 1_000_000
    );
    for (what, t) in [
        ("ipsim run --no-chart", run),
        ("ipsim validate", validate),
        ("floor: csv + time, name, number", parse),
        ("floor: csv records only", read),
    ] {
        println!(
            "  {what:34} {:8.1} ms  {:6.0} ns/row  {:5.2}x the floor",
            t * 1e3,
            ns(t),
            t / parse
        );
    }
    println!("  end-to-end ratio (goal <= 3): {:.2}", run / parse);
    let _ = std::fs::remove_dir_all(&dir);
}
