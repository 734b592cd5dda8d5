//! `ipsim size` answers the safe question: the smallest prefix that holds under every reading.

use std::path::Path;

use ipsim_study::Base;
use ipsim_study::bracket::{parse_sets, plan};
use ipsim_study::size::{safe_size_text, size_of, size_safe};

/// On a /26 (2 reservable blocks): `big` holds one block; `small`'s 3 instances (6 addresses)
/// swap to a new revision at 10 minutes. One owner per service fits the new revision in the
/// old one's block; one owner per revision needs a second block, which a /26 does not have.
const SCOPE_DECIDES: &str = r#"{"name": "scope-decides", "description": "", "duration": "30m",
    "subnets": [{"name": "main", "cidr": "10.0.0.0/26"}],
    "workloads": [
        {"name": "big", "subnet": "main", "demand": {"type": "constant", "value": 8}},
        {"name": "small", "subnet": "main", "demand": {"type": "constant", "value": 3},
         "swaps": [{"at": "10m"}]}]}"#;

fn base() -> Base {
    Base::parse(SCOPE_DECIDES.as_bytes(), Path::new("scope-decides.json")).unwrap()
}

#[test]
fn size_gives_the_larger_prefix_when_the_answer_depends_on_scope() {
    let b = base();
    // As written (one owner per service), a /26 holds.
    let own = size_of(&b, None, 0.99).unwrap();
    assert_eq!(own.subnets[0].smallest_prefix, Some(26));
    let p = plan(
        &b,
        &parse_sets(&["scope=service,revision,subnet".into()]).unwrap(),
    )
    .unwrap();
    let r = size_safe(&b, &p, None, 0.99).unwrap();
    let s = &r.subnets[0];
    assert_eq!(s.sizing.smallest_prefix, Some(25));
    assert_eq!(s.decided_by, "scope=revision");
    let answers: Vec<(&str, Option<u8>, bool)> = s
        .answers
        .iter()
        .map(|a| (a.reading.as_str(), a.smallest_prefix, a.as_written))
        .collect();
    assert_eq!(
        answers,
        [
            ("scope=service", Some(26), true),
            ("scope=revision", Some(25), false),
            ("scope=subnet", Some(26), false),
        ]
    );
    assert_eq!(
        s.differences,
        [
            "scope=service instead of revision needs /26: each workload reserves its own blocks, so a workload of a few instances still takes a whole block",
            "scope=subnet instead of revision needs /26: one pool for the subnet: workloads share blocks, so fewer are needed",
        ]
    );
    let text = safe_size_text(&r);
    assert!(
        text.contains(
            "subnet main: smallest prefix that holds under every reading: /25 (124 usable addresses); declared /26"
        ),
        "{text}"
    );
}

#[test]
fn the_default_brackets_every_reading() {
    let b = base();
    let p = plan(&b, &parse_sets(&[]).unwrap()).unwrap();
    let r = size_safe(&b, &p, Some(3), 0.99).unwrap();
    assert_eq!(r.readings, 12);
    assert_eq!(r.subnets[0].sizing.smallest_prefix, Some(25));
    assert_eq!(
        r.subnets[0].decided_by,
        "scope=revision+retention=fixed+edges=excluded"
    );
}
