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
