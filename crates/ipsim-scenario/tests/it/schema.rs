//! The JSON Schema (`ipsim schema`, docs/scenario.schema.json) is as strict as the loader
//! wherever a JSON Schema can say the rule: every bundled scenario validates, and every case
//! of the bad-input corpus is refused, but for the cases listed in [`BEYOND_SCHEMA`].
//! `SHOW_SCHEMA=1` prints what the schema says of each corpus case.

use crate::bad_input::corpus;
use crate::repo;

/// Corpus cases the schema accepts because their rule is one a JSON Schema cannot express
/// (docs/scenario-format.md, "What the schema cannot check"), and why.
const BEYOND_SCHEMA: &[(&str, &str)] = &[
    ("reserved holder unknown", "a reference between sections"),
    (
        "reserved holder a job",
        "a reference between sections (the holder's kind)",
    ),
    (
        "reserved block not aligned",
        "arithmetic on addresses (host bits)",
    ),
    (
        "reserved block an edge block",
        "arithmetic on addresses (the edge blocks)",
    ),
    (
        "generator samples over the run",
        "a sum over every workload's generator",
    ),
    ("seed -0", "JSON Schema reads -0 as the integer 0"),
    (
        "seed 2^64",
        "serde_json reads 2^64 as a floating-point number, which the schema's integer maximum lets pass",
    ),
    // The /26 minimum applies to a subnet Cloud Run uses: a workload's reference to it.
    (
        "a /27",
        "a rule on a subnet that depends on the workloads naming it",
    ),
    (
        "host bits",
        "arithmetic on the address and the prefix length",
    ),
    (
        "unsupported range",
        "the supported ranges, waived by a flag; arithmetic on addresses",
    ),
    (
        "overlapping statics",
        "arithmetic on addresses, across elements",
    ),
    (
        "static outside",
        "arithmetic on addresses and the subnet's range",
    ),
    (
        "absurd duration",
        "400 days written with units: the value of a pattern",
    ),
    (
        "time backwards in steps",
        "an order between elements of an array",
    ),
    (
        "undeclared subnet",
        "a reference to a name declared in another section",
    ),
    ("swap after the end", "a time relative to the duration"),
    (
        "job parallelism above its tasks",
        "one field compared with another",
    ),
    (
        "per-task durations",
        "a list's length compared with another field",
    ),
    ("min above max", "one field compared with another"),
    (
        "duplicate names",
        "unique names across elements (uniqueItems is for whole elements)",
    ),
    (
        "undeclared trace",
        "a reference to a name declared in another section",
    ),
    ("missing trace file", "the trace's contents"),
    ("empty trace", "the trace's contents"),
    ("trace header", "the trace's contents"),
    ("trace time backwards", "the trace's contents"),
    ("trace bad number", "the trace's contents"),
    ("trace negative", "the trace's contents"),
    ("trace value beyond exact range", "the trace's contents"),
    ("trace rps above the instance cap", "the trace's contents"),
    ("a trace row of 1e9 instances", "the trace's contents"),
    (
        "json value beyond exact range",
        "a number's digits as written (JSON Schema reads a number)",
    ),
    (
        "rps above the instance cap",
        "the request rule's arithmetic over several fields",
    ),
    (
        "a target utilisation of 1e-300",
        "the request rule's arithmetic over several fields",
    ),
    (
        "1e9 rps at a latency of a day",
        "the request rule's arithmetic over several fields",
    ),
    (
        "overlapping subnets",
        "arithmetic on addresses across subnets",
    ),
    (
        "subnets writing the same chart",
        "two names compared after mapping to a file name",
    ),
    (
        "a name with NUL",
        "a name's characters (the schema says it is a string)",
    ),
    (
        "a name with a path separator",
        "a name's characters (the schema says it is a string)",
    ),
    (
        "a name over 63 characters",
        "a name's length (the schema says it is a string)",
    ),
    ("trace unknown workload", "the trace's contents"),
    ("trace duplicate", "the trace's contents"),
    ("trace non-utf8", "the trace's contents"),
    ("trace short row", "the trace's contents"),
    ("trace bad time", "the trace's contents"),
    ("trace mixed times", "the trace's contents"),
    (
        "rps without requests",
        "the trace's contents (its unit) against the workload",
    ),
];

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&ipsim_scenario::schema()).expect("the schema compiles")
}

#[test]
fn every_bundled_scenario_validates() {
    let v = validator();
    let mut n = 0;
    for e in std::fs::read_dir(repo().join("scenarios")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        let errs: Vec<String> = v
            .iter_errors(&json)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errs.is_empty(), "{}: {errs:#?}", p.display());
        n += 1;
    }
    assert!(n >= 8, "{n} bundled scenarios");
}

#[test]
fn the_schema_refuses_every_bad_input_it_can_express() {
    let v = validator();
    let mut accepted = Vec::new();
    let cases = corpus();
    for (n, _) in BEYOND_SCHEMA {
        assert!(
            cases.iter().any(|(c, _, _)| c == n),
            "BEYOND_SCHEMA names {n:?}, which is not a corpus case"
        );
    }
    for (name, files, _) in cases {
        let text = &files.iter().find(|(f, _)| *f == "scenario.json").unwrap().1;
        // Not JSON (a syntax error, bytes that are not UTF-8): nothing for a schema to accept.
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(text) else {
            continue;
        };
        let beyond = BEYOND_SCHEMA.iter().any(|(n, _)| *n == name);
        let valid = v.is_valid(&json);
        if std::env::var_os("SHOW_SCHEMA").is_some() {
            let why: Vec<String> = v
                .iter_errors(&json)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            eprintln!("--- {name} (beyond: {beyond})\n{why:#?}");
        }
        if valid && !beyond {
            accepted.push(name);
        }
        assert!(
            !beyond || valid,
            "case {name:?} is listed in BEYOND_SCHEMA, but the schema refuses it: take it off the list"
        );
    }
    assert!(accepted.is_empty(), "the schema accepts {accepted:?}");
}
