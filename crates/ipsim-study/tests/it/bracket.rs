//! Brackets over the undocumented readings: exact figures per reading, one verdict.

use std::path::Path;

use ipsim_study::Base;
use ipsim_study::bracket::{Bracket, parse_sets, plan, run};

/// Three services of 2 instances on a /26: with excluded edges it has 2 reservable blocks, so
/// one owner per service (3 blocks) fails from the start and one pool (1 block) does not;
/// with partial edges the /26 has 4 blocks and nothing fails.
pub const THREE_ON_A_26: &str = r#"{"name": "three", "description": "", "duration": "10m",
    "subnets": [{"name": "main", "cidr": "10.0.0.0/26"}],
    "workloads": [
        {"name": "a", "subnet": "main", "demand": {"type": "constant", "value": 2}},
        {"name": "b", "subnet": "main", "demand": {"type": "constant", "value": 2}},
        {"name": "c", "subnet": "main", "demand": {"type": "constant", "value": 2}}]}"#;

fn bracket(sets: &[&str]) -> Bracket {
    let base = Base::parse(THREE_ON_A_26.as_bytes(), Path::new("three.json")).unwrap();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let p = plan(&base, &parse_sets(&sets).unwrap()).unwrap();
    run(&base, &p, None, None).unwrap()
}

/// (reading, first exhaustion, failed attempts, instances short, deploy failures, min free blocks)
fn figures(b: &Bracket) -> Vec<(String, Option<u64>, u64, u64, u64, u64)> {
    b.readings
        .iter()
        .map(|o| {
            (
                o.reading.clone(),
                o.first_exhaustion_ms,
                o.failed_attempts,
                o.instances_short,
                o.deploy_failures,
                o.min_free_blocks,
            )
        })
        .collect()
}

#[test]
fn a_scenario_that_fails_only_under_one_owner_per_service() {
    let b = bracket(&["scope=service,subnet"]);
    assert_eq!(
        b.verdict,
        "fails under 1 of 2 readings (worst: scope=service, best: scope=subnet)"
    );
    // Service c's 2 instances fail at 0 and retry every 10 s for 10 minutes: 60 x 2 attempts.
    assert_eq!(
        figures(&b),
        [
            ("scope=service".into(), Some(0), 120, 2, 0, 0),
            ("scope=subnet".into(), None, 0, 0, 0, 1),
        ]
    );
    assert_eq!((b.n, b.failing, b.as_written), (2, 1, Some(0)));
}

#[test]
fn the_full_bracket_tries_twelve_readings() {
    let b = bracket(&[]);
    assert_eq!(b.n, 12);
    assert_eq!(
        b.verdict,
        "fails under 4 of 12 readings (worst: scope=service+retention=fixed+edges=excluded, \
         best: scope=subnet+retention=fixed+edges=partial)"
    );
    let failing: Vec<String> = b
        .readings
        .iter()
        .filter(|o| o.exhausted)
        .map(|o| o.reading.clone())
        .collect();
    assert_eq!(
        failing,
        [
            "scope=service+retention=fixed+edges=excluded",
            "scope=service+retention=uniform+edges=excluded",
            "scope=revision+retention=fixed+edges=excluded",
            "scope=revision+retention=uniform+edges=excluded",
        ]
    );
    for o in b.readings.iter().filter(|o| o.exhausted) {
        assert_eq!(
            (o.first_exhaustion_ms, o.failed_attempts, o.instances_short),
            (Some(0), 120, 2)
        );
    }
    assert_eq!(b.as_written, Some(0));
}

#[test]
fn bad_reading_sets_are_refused() {
    for (arg, msg) in [
        ("scope", "expected KEY=A,B"),
        ("color=red", "not an undocumented choice"),
        ("scope=team", "\"team\" is not a reading of scope"),
        ("edges=", "names no reading"),
    ] {
        let e = parse_sets(&[arg.to_string()]).unwrap_err();
        assert!(e[0].contains(msg), "{arg}: {e:?}");
    }
}
