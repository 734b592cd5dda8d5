//! The loader never panics: random bytes and mutated bundled scenarios give `Ok` or an error.

use std::path::Path;

use ipsim_scenario::{Overrides, parse};
use proptest::prelude::*;

use crate::repo;

fn seeds() -> Vec<Vec<u8>> {
    let mut v: Vec<_> = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    v.sort();
    v
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Truncate(usize),
    Number(usize, i64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop_oneof![
        Just(b"-1".to_vec()),
        Just(b"1e308".to_vec()),
        Just(b"\"\"".to_vec()),
        Just(b"null".to_vec()),
        Just(b"[]".to_vec()),
        Just(b"{}".to_vec()),
        Just(b"\"99999999d\"".to_vec()),
        Just(b"18446744073709551615".to_vec()),
        Just(b"\"/31\"".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b",".to_vec()),
        Just(b"\"x\":".to_vec())
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), 0usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), tokens).prop_map(|(i, t)| Mutation::Insert(i, t)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<i64>()).prop_map(|(i, n)| Mutation::Number(i, n)),
    ]
}

fn apply(mut b: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let n = b.len().max(1);
    match m {
        Mutation::Flip(i, x) => {
            let i = i % n;
            if i < b.len() {
                b[i] = *x;
            }
        }
        Mutation::Delete(i, k) => {
            let i = i % n;
            let j = (i + k).min(b.len());
            b.drain(i.min(b.len())..j);
        }
        Mutation::Insert(i, t) => {
            let i = i % (b.len() + 1);
            b.splice(i..i, t.iter().copied());
        }
        Mutation::Truncate(i) => b.truncate(i % n),
        Mutation::Number(i, v) => {
            // Replace the digits of some number with v.
            let i = i % n;
            if let Some(s) = b[i..].iter().position(|c| c.is_ascii_digit()) {
                let s = i + s;
                let e = s + b[s..].iter().take_while(|c| c.is_ascii_digit()).count();
                b.splice(s..e, v.to_string().into_bytes());
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&bytes, Path::new("fuzz.json"), &Overrides::default());
    }

    #[test]
    fn mutated_scenarios_never_panic(which in 0usize..8, muts in prop::collection::vec(mutation(), 1..4)) {
        let all = seeds();
        let mut b = all[which % all.len()].clone();
        for m in &muts {
            b = apply(b, m);
        }
        // Relative trace paths resolve against the real scenarios folder.
        let _ = parse(&b, &repo().join("scenarios/fuzz.json"), &Overrides::default());
    }
}

/// A random mutation drawn from `rng` (the same kinds as the proptest strategy).
fn draw(rng: &mut rand_chacha::ChaCha8Rng) -> Mutation {
    use rand::Rng;
    const TOKENS: [&[u8]; 18] = [
        b"-1",
        b"1e308",
        b"\"\"",
        b"null",
        b"[]",
        b"{}",
        b"\"99999999d\"",
        b"18446744073709551615",
        b"\"/31\"",
        b"\xff\xfe",
        b",",
        b"\"x\":",
        b"1e-300",
        b"100001",
        b"\"9223372036854775807\"",
        b"1e300",
        b"\"2025-03-10T09:00:00Z\"",
        b"\n",
    ];
    let i = rng.random::<u64>() as usize;
    match rng.random_range(0..5) {
        0 => Mutation::Flip(i, rng.random()),
        1 => Mutation::Delete(i, rng.random_range(0..40)),
        2 => Mutation::Insert(i, TOKENS[rng.random_range(0..TOKENS.len())].to_vec()),
        3 => Mutation::Truncate(i),
        _ => Mutation::Number(i, rng.random_range(-5..200_000)),
    }
}

/// An Azure Functions scenario: invocations per minute and a durations file.
const AZURE_SCENARIO: &str = r#"{"name": "az", "description": "azure", "duration": "4m",
    "subnets": [{"name": "main", "cidr": "10.0.0.0/22"}],
    "traces": [{"name": "az", "format": "azure-functions", "file": "inv.csv",
                "functions": {"top": 2, "subnet": "main", "durations_file": "run.csv"}}]}"#;
const AZURE_INV: &str = "HashOwner,HashApp,HashFunction,Trigger,1,2,3,4\n\
    o,a,aaaaaaaa11112222,http,60,0,0,0\n\
    o,a,bbbbbbbb33334444,http,6000,6000,0,120\n\
    o,a,cccccccc55556666,timer,600,600,600,600\n";
const AZURE_RUN: &str = "HashFunction,HashApp,HashOwner,Count,Average,Minimum,Maximum\n\
    bbbbbbbb33334444,x,y,10,2400,1.0,9.0\n\
    cccccccc55556666,x,y,10,300,1.0,9.0\n";

/// The most resident memory one input may add to what was resident before it.
const MEMORY_PER_INPUT: usize = 1 << 30;
/// The longest one input may take (a guard against a hang, not a speed test).
const TIME_PER_INPUT: std::time::Duration = std::time::Duration::from_secs(60);

/// What an input of the campaign mutates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Scenario,
    CsvTrace,
    Export,
    AzureTrace,
    AzureDurations,
}

/// The target of input `k`: six in ten a scenario, two the CSV trace, one the Cloud
/// Monitoring export, one an Azure file.
fn target(k: u64) -> Target {
    match k % 10 {
        4 | 9 => Target::CsvTrace,
        3 => Target::Export,
        8 if k % 20 == 8 => Target::AzureTrace,
        8 => Target::AzureDurations,
        _ => Target::Scenario,
    }
}

/// A bounded, seeded campaign: `IPSIM_FUZZ_INPUTS` inputs (20,000), seed `IPSIM_FUZZ_SEED`
/// (1). Each input is a bundled scenario, the bundled CSV trace under trace-replay, the
/// bundled Cloud Monitoring export under observed-revisions, or an Azure Functions trace or
/// its durations file, with 1 to 3 structure-aware mutations; it must load to `Ok` or an
/// error, never panic, add at most 1 GiB to the resident memory (Linux's peak RSS, reset
/// before each input) and end within a minute; a scenario that loads and is small enough (at
/// most a day, 20 workloads) is run and its output checked: no subnet holds more than it has.
/// `.ci/run` runs it; docs/ARCHITECTURE.md says how to run a long campaign. A failure prints the seed and input number to replay.
#[test]
#[ignore = "a campaign: run with --ignored (.ci/run does)"]
fn campaign() {
    use rand::{Rng, SeedableRng};
    let n: u64 = std::env::var("IPSIM_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("IPSIM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let all = seeds();
    let trace = std::fs::read(repo().join("scenarios/traces/small.csv")).unwrap();
    let replay = std::fs::read(repo().join("scenarios/trace-replay.json")).unwrap();
    let export = std::fs::read(repo().join("scenarios/traces/checkout-migration.json")).unwrap();
    let observed = std::fs::read(repo().join("scenarios/observed-revisions.json")).unwrap();
    let dir = crate::tmp("fuzz-campaign");
    std::fs::create_dir_all(dir.join("traces")).unwrap();
    let az = crate::tmp("fuzz-campaign-azure");
    let (mut loaded, mut ran, mut most) = (0u64, 0u64, 0usize);
    let mut per_target = [0u64; 5];
    for k in 0..n {
        let mut rng =
            rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let muts: Vec<Mutation> = (0..rng.random_range(1..=3))
            .map(|_| draw(&mut rng))
            .collect();
        let mutated = |mut b: Vec<u8>| {
            for m in &muts {
                b = apply(b, m);
            }
            b
        };
        let what = target(k);
        per_target[what as usize] += 1;
        let (text, path) = match what {
            Target::Scenario => {
                let b = all[rng.random_range(0..all.len())].clone();
                (mutated(b), repo().join("scenarios/fuzz.json"))
            }
            Target::CsvTrace => {
                std::fs::write(dir.join("traces/small.csv"), mutated(trace.clone())).unwrap();
                (replay.clone(), dir.join("fuzz.json"))
            }
            Target::Export => {
                let t = mutated(export.clone());
                std::fs::write(dir.join("traces/checkout-migration.json"), t).unwrap();
                (observed.clone(), dir.join("fuzz.json"))
            }
            Target::AzureTrace | Target::AzureDurations => {
                let (inv, run) = if what == Target::AzureTrace {
                    (mutated(AZURE_INV.into()), AZURE_RUN.into())
                } else {
                    (AZURE_INV.into(), mutated(AZURE_RUN.into()))
                };
                std::fs::write(az.join("inv.csv"), inv).unwrap();
                std::fs::write(az.join("run.csv"), run).unwrap();
                (AZURE_SCENARIO.into(), az.join("fuzz.json"))
            }
        };
        let held_before = crate::memory::reset_peak();
        let started = std::time::Instant::now();
        let result = std::panic::catch_unwind(|| {
            let Ok(s) = parse(&text, &path, &Overrides::default()) else {
                return (false, false);
            };
            if s.input.duration_ms > 86_400_000 || s.input.workloads.len() > 20 {
                return (true, false);
            }
            if let Ok(out) = s.run() {
                for sn in &out.subnets {
                    assert!(
                        sn.summary.peak_held <= u64::from(sn.usable),
                        "subnet {} held {} of {} usable",
                        sn.name,
                        sn.summary.peak_held,
                        sn.usable
                    );
                }
            }
            (true, true)
        });
        let grew = match (held_before, crate::memory::peak()) {
            (Some(b), Some(p)) => p.saturating_sub(b),
            _ => 0,
        };
        most = most.max(grew);
        let replay_with = format!(
            "replay with IPSIM_FUZZ_SEED={seed} IPSIM_FUZZ_INPUTS={}",
            k + 1
        );
        assert!(
            grew <= MEMORY_PER_INPUT,
            "input {k} of seed {seed} ({what:?}, mutations {muts:?}) added {grew} bytes to the resident memory at its peak; {replay_with}"
        );
        assert!(
            started.elapsed() <= TIME_PER_INPUT,
            "input {k} of seed {seed} ({what:?}, mutations {muts:?}) took {:?}; {replay_with}",
            started.elapsed()
        );
        match result {
            Ok((l, r)) => {
                loaded += u64::from(l);
                ran += u64::from(r);
            }
            Err(_) => panic!(
                "input {k} of seed {seed} panicked (mutations {muts:?}); replay with \
                 IPSIM_FUZZ_SEED={seed} IPSIM_FUZZ_INPUTS={}",
                k + 1
            ),
        }
    }
    eprintln!(
        "fuzz campaign: {n} inputs, seed {seed} (scenario, CSV, export, Azure trace, durations: \
         {per_target:?}): {loaded} loaded, {ran} ran; the most one input added to the resident memory: {most} bytes"
    );
}
