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
    const TOKENS: [&[u8]; 14] = [
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

/// A bounded, seeded campaign: `IPSIM_FUZZ_INPUTS` inputs (20,000), seed `IPSIM_FUZZ_SEED`
/// (1). Each input is a bundled scenario, or the bundled CSV trace under trace-replay, with
/// 1 to 3 structure-aware mutations; it must load to `Ok` or an error, never panic, and a
/// scenario that loads and is small enough (at most a day, 20 workloads) is run and its
/// output checked: no subnet holds more than it has. `.ci/run` runs it; docs/performance.md
/// says how to run a long campaign. A failure prints the seed and input number to replay.
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
    let dir = crate::tmp("fuzz-campaign");
    std::fs::create_dir_all(dir.join("traces")).unwrap();
    let (mut loaded, mut ran) = (0u64, 0u64);
    for k in 0..n {
        let mut rng =
            rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let muts: Vec<Mutation> = (0..rng.random_range(1..=3))
            .map(|_| draw(&mut rng))
            .collect();
        let on_trace = k % 5 == 4;
        let (text, path) = if on_trace {
            let mut t = trace.clone();
            for m in &muts {
                t = apply(t, m);
            }
            std::fs::write(dir.join("traces/small.csv"), &t).unwrap();
            (replay.clone(), dir.join("fuzz.json"))
        } else {
            let mut b = all[rng.random_range(0..all.len())].clone();
            for m in &muts {
                b = apply(b, m);
            }
            (b, repo().join("scenarios/fuzz.json"))
        };
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
    eprintln!("fuzz campaign: {n} inputs, seed {seed}: {loaded} loaded, {ran} ran");
}
