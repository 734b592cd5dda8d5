//! A seeded campaign over what the scenario crate's campaign cannot reach: the `--vary` parser
//! (and a sweep built from what it accepts) and the report writers (report.json, the two
//! CSVs, report.md) on every accepted run of a mutated bundled scenario, each written and read
//! back. `.ci/run` runs it beside `ipsim-scenario`'s `fuzz::campaign`.

use std::time::{Duration, Instant};

use ipsim_report::{Clock, Context, CsvSink, Report};
use ipsim_scenario::{Overrides, parse};
use ipsim_study::sweep::{Sweep, parse_vary};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::repo;

/// Valid `--vary` expressions on scenarios/surge.json, mutated by the campaign.
const VARY: [&str; 8] = [
    "surge.peak=100..1000:100",
    "subnet.main.prefix=20..26",
    "surge.peak=100,200,300",
    "params.retention=uniform,fixed",
    "params.block_scope=service,subnet",
    "surge.peak=1e2..2e2:50",
    "subnet.main.prefix=24",
    "params.idle_timeout=10m..20m:5m",
];

const TOKENS: [&str; 16] = [
    "-1",
    "1e308",
    "..",
    ":",
    ",",
    "=",
    "0",
    "..:",
    "1e-300",
    "99999999d",
    "NaN",
    "inf",
    "18446744073709551615",
    "\u{ff}",
    " ",
    "workloads[0]",
];

/// The longest one input may take (a guard against a hang, not a speed test).
const TIME_PER_INPUT: Duration = Duration::from_secs(60);

/// 1 to 3 byte-level or token mutations of `b`.
fn mutate(rng: &mut ChaCha8Rng, mut b: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.random_range(1..=3) {
        let n = b.len().max(1);
        let i = rng.random_range(0..n);
        match rng.random_range(0..5) {
            0 if i < b.len() => b[i] = rng.random(),
            1 => {
                let j = (i + rng.random_range(0..20)).min(b.len());
                b.drain(i.min(b.len())..j);
            }
            2 => {
                let t = TOKENS[rng.random_range(0..TOKENS.len())];
                let i = i.min(b.len());
                b.splice(i..i, t.bytes());
            }
            3 => b.truncate(i),
            _ => {
                if let Some(s) = b[i.min(b.len())..].iter().position(u8::is_ascii_digit) {
                    let s = i + s;
                    let e = s + b[s..].iter().take_while(|c| c.is_ascii_digit()).count();
                    let v: i64 = rng.random_range(-5..200_000);
                    b.splice(s..e, v.to_string().into_bytes());
                }
            }
        }
    }
    b
}

/// Parses a mutated `--vary`; if it is accepted, builds the sweep on surge.json and, if it is
/// small, runs its first point. Returns whether the parser accepted it.
fn vary_input(rng: &mut ChaCha8Rng) -> bool {
    let which = rng.random_range(0..VARY.len());
    let expr = mutate(rng, VARY[which].into());
    let expr = String::from_utf8_lossy(&expr).into_owned();
    let Ok(v) = parse_vary(&expr) else {
        return false;
    };
    assert!(!v.values.is_empty(), "{expr:?} parsed to no values");
    assert!(v.values.iter().all(|x| x.is_finite()), "{expr:?}: {v:?}");
    if let Ok(s) = Sweep::new(&repo().join("scenarios/surge.json"), vec![v], 1) {
        if s.total_points() <= 20 {
            if let Ok(def) = s.point_def(0) {
                let _ = s.run_one(def, 0);
            }
        }
    }
    true
}

/// Loads a mutated bundled scenario; if it is accepted and small, runs it and writes
/// report.json, occupancy.csv, workloads.csv and report.md into memory and reads each back.
/// Returns whether a report was written.
fn report_input(rng: &mut ChaCha8Rng, seeds: &[Vec<u8>]) -> bool {
    let which = rng.random_range(0..seeds.len());
    let b = mutate(rng, seeds[which].clone());
    let Ok(s) = parse(
        &b,
        &repo().join("scenarios/fuzz.json"),
        &Overrides::default(),
    ) else {
        return false;
    };
    if s.input.duration_ms > 86_400_000 || s.input.workloads.len() > 20 {
        return false;
    }
    let clock = Clock { start: s.start };
    let mut sink = CsvSink::new(Vec::new(), Vec::new(), clock, &s.input);
    let Ok(out) = s.run_with(Some(&mut sink)) else {
        return false;
    };
    let (occ, wls) = sink.into_inner().expect("writing to memory");
    for (name, bytes) in [("occupancy.csv", occ), ("workloads.csv", wls)] {
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let width = r.headers().expect(name).len();
        let mut rows = 0;
        for rec in r.records() {
            let rec = rec.unwrap_or_else(|e| panic!("{name} does not read back: {e}"));
            assert_eq!(rec.len(), width, "{name} row {rows}");
            rows += 1;
        }
        assert!(rows > 0, "{name} has no rows");
    }
    let mut ctx = Context::new(&s.def.name, &s.input);
    ctx.description = s.def.description.clone();
    ctx.clock = clock;
    ctx.params = ipsim_study::variation::resolved_params(&s);
    let report = Report::new(&out, &ctx);
    let text = serde_json::to_string_pretty(&report).expect("report.json");
    let back: serde_json::Value = serde_json::from_str(&text).expect("report.json reads back");
    assert_eq!(back, serde_json::to_value(&report).unwrap());
    assert_eq!(
        back["subnets"].as_array().map(Vec::len),
        Some(out.subnets.len()),
        "report.json lists every subnet"
    );
    let md = ipsim_report::page::markdown(&report);
    assert!(md.starts_with('#'), "report.md starts with a heading");
    true
}

/// `IPSIM_FUZZ_INPUTS` inputs (6,000), seed `IPSIM_FUZZ_SEED` (1): every other input a
/// mutated `--vary`, the rest a mutated bundled scenario whose run's reports are written and
/// read back; no panic, each within a minute. A failure prints the seed and input to replay.
#[test]
#[ignore = "a campaign: run with --ignored (.ci/run does)"]
fn campaign() {
    let n: u64 = std::env::var("IPSIM_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6_000);
    let seed: u64 = std::env::var("IPSIM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    seeds.sort();
    let (mut parsed, mut reported) = (0u64, 0u64);
    for k in 0..n {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let started = Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if k % 2 == 0 {
                (vary_input(&mut rng), false)
            } else {
                (false, report_input(&mut rng, &seeds))
            }
        }));
        let replay = format!(
            "replay with IPSIM_FUZZ_SEED={seed} IPSIM_FUZZ_INPUTS={}",
            k + 1
        );
        match r {
            Ok((p, w)) => {
                parsed += u64::from(p);
                reported += u64::from(w);
            }
            Err(_) => panic!("input {k} of seed {seed} panicked; {replay}"),
        }
        assert!(
            started.elapsed() <= TIME_PER_INPUT,
            "input {k} of seed {seed} took {:?}; {replay}",
            started.elapsed()
        );
    }
    eprintln!(
        "study fuzz campaign: {n} inputs, seed {seed}: {parsed} --vary accepted, {reported} runs \
         written and read back"
    );
}
