//! Exports a replay for the SimPy reference model and runs ipsim on it:
//! `cargo run --release -p ipsim-benches --example reference_export -- DIR [SERVICES] [DAYS] [PREFIX]`.
//!
//! Writes `DIR/trace.csv` (time_ms,workload,instances), `DIR/swaps.csv`
//! (time_ms,workload,rollout_ms), `DIR/setup.json` (services, duration, subnet prefix) and
//! `DIR/ipsim_minutes.csv`: ipsim's state at every minute (after the events of that
//! millisecond), plus `DIR/ipsim_time.json` with the run's wall-clock time. Timing lives here,
//! in the bench tooling; the core never reads a clock.
//!
//! It also writes the same replay as a scenario for the command line, `DIR/scenario.json` with
//! its trace `DIR/scenario-trace.csv`, so that `ipsim run DIR/scenario.json` can be timed as a
//! whole process against `python benches/reference/model.py DIR`.

use std::fmt::Write as _;

use ipsim_core::{DemandFeed, FeedPoint, Simulation};

struct Points(std::vec::IntoIter<FeedPoint>);
impl DemandFeed for Points {
    fn next_point(&mut self) -> Option<FeedPoint> {
        self.0.next()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).map_or("target/reference", String::as_str));
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let days: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let prefix: u8 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(21);
    std::fs::create_dir_all(&dir).expect("output folder");
    let (mut input, mut trace) = ipsim_benches::synthetic_replay(n, days, 92);
    input.subnets[0].prefix_len = prefix;
    input.options.record_subnet_series = true;
    input.options.log_limit = 0;
    let mut points = Vec::new();
    while let Some(p) = trace.next_point() {
        points.push(p);
    }
    let mut csv = String::from("time_ms,workload,instances\n");
    for p in &points {
        let _ = writeln!(csv, "{},{},{}", p.time_ms, p.workload, p.instances);
    }
    std::fs::write(dir.join("trace.csv"), csv).expect("trace");
    let mut sw = String::from("time_ms,workload,rollout_ms\n");
    for (i, w) in input.workloads.iter().enumerate() {
        let swaps = match &w.kind {
            ipsim_core::Kind::Service(s) | ipsim_core::Kind::WorkerPool(s) => &s.swaps[..],
            ipsim_core::Kind::Job(_) | ipsim_core::Kind::Connector(_) => &[],
        };
        for s in swaps {
            let _ = writeln!(sw, "{},{i},{}", s.time_ms, s.rollout_ms);
        }
    }
    std::fs::write(dir.join("swaps.csv"), sw).expect("swaps");
    write_scenario(&dir, &input, &points, prefix);
    std::fs::write(
        dir.join("setup.json"),
        format!(
            "{{\"services\": {n}, \"duration_ms\": {}, \"prefix\": {prefix}}}\n",
            input.duration_ms
        ),
    )
    .expect("setup");
    // Best of 5 runs: the first pays for page faults and cold caches.
    let mut secs = f64::INFINITY;
    let mut out = None;
    for _ in 0..5 {
        let mut feed = Points(points.clone().into_iter());
        let t0 = std::time::Instant::now();
        let o = Simulation::with_feed(&input, &mut feed)
            .expect("valid")
            .run();
        secs = secs.min(t0.elapsed().as_secs_f64());
        out = Some(o);
    }
    let out = out.expect("ran");
    let rows = &out.subnets[0].rows;
    let mut m = String::from(
        "minute,in_use,retained,reserved_idle,unreserved,reserved_blocks,free_blocks\n",
    );
    for minute in 0..input.duration_ms / 60_000 {
        let r = out.subnets[0].at(minute * 60_000);
        let _ = writeln!(
            m,
            "{minute},{},{},{},{},{},{}",
            r.in_use, r.retained, r.reserved_idle, r.unreserved, r.reserved_blocks, r.free_blocks
        );
    }
    std::fs::write(dir.join("ipsim_minutes.csv"), m).expect("minutes");
    std::fs::write(
        dir.join("ipsim_time.json"),
        format!("{{\"seconds\": {secs}, \"events\": {}}}\n", out.n_events),
    )
    .expect("time");
    println!(
        "ipsim: {} events in {:.3} s, {} rows, failed attempts {}",
        out.n_events,
        secs,
        rows.len(),
        out.summary.failed_attempts
    );
}

/// The replay as a scenario file and a CSV trace named by workload, for `ipsim run`.
fn write_scenario(
    dir: &std::path::Path,
    input: &ipsim_core::SimInput,
    points: &[FeedPoint],
    prefix: u8,
) {
    let names: Vec<&str> = input.workloads.iter().map(|w| w.name.as_str()).collect();
    let mut csv = String::from("time,workload,instances\n");
    for p in points {
        let _ = writeln!(csv, "{},{},{}", p.time_ms, names[p.workload], p.instances);
    }
    std::fs::write(dir.join("scenario-trace.csv"), csv).expect("scenario trace");
    let mut workloads = Vec::new();
    for w in &input.workloads {
        let swaps = match &w.kind {
            ipsim_core::Kind::Service(s) | ipsim_core::Kind::WorkerPool(s) => &s.swaps[..],
            ipsim_core::Kind::Job(_) | ipsim_core::Kind::Connector(_) => &[],
        };
        let swaps: Vec<String> = swaps
            .iter()
            .map(|s| {
                format!(
                    "{{\"at\": \"{}ms\", \"rollout\": \"{}ms\"}}",
                    s.time_ms, s.rollout_ms
                )
            })
            .collect();
        workloads.push(format!(
            "    {{\"name\": \"{}\", \"subnet\": \"bench\", \"demand\": {{\"type\": \"trace\", \"trace\": \"replay\"}}, \"swaps\": [{}]}}",
            w.name,
            swaps.join(", ")
        ));
    }
    let text = format!(
        "{{\n  \"name\": \"reference-replay\",\n  \"description\": \"The SimPy reference replay ({} services) as a scenario\",\n  \"duration\": \"{}ms\",\n  \"seed\": {},\n  \"subnets\": [{{\"name\": \"bench\", \"cidr\": \"10.0.0.0/{prefix}\"}}],\n  \"traces\": [{{\"name\": \"replay\", \"format\": \"csv\", \"file\": \"scenario-trace.csv\"}}],\n  \"workloads\": [\n{}\n  ]\n}}\n",
        input.workloads.len(),
        input.duration_ms,
        input.seed,
        workloads.join(",\n")
    );
    std::fs::write(dir.join("scenario.json"), text).expect("scenario");
}
