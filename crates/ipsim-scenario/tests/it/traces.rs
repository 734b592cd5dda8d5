//! Trace readers on small files written by the tests.

use ipsim_core::{DemandFeed, FeedPoint};
use ipsim_scenario::trace::azure;

use crate::{load_files, tmp};

const MIN: u64 = 60_000;

fn scenario(workloads: &str, traces: &str, extra: &str) -> String {
    format!(
        r#"{{"name": "t", "description": "trace test", "duration": "2h"{extra},
  "subnets": [{{"name": "main", "cidr": "10.0.0.0/22"}}],
  "workloads": [{workloads}],
  "traces": [{traces}]}}"#
    )
}

/// A CSV instance trace with RFC 3339 times replays exactly, relative to `start`.
#[test]
fn csv_instances_with_clock_times() {
    let sc = scenario(
        r#"{"name": "web", "subnet": "main", "demand": {"type": "trace", "trace": "p"}},
           {"name": "api", "subnet": "main", "demand": {"type": "trace", "trace": "p", "series": "backend"}}"#,
        r#"{"name": "p", "format": "csv", "file": "t.csv"}"#,
        r#", "start": "2025-01-01T00:00:00Z""#,
    );
    let csv = "time,workload,instances\n2025-01-01T00:05:00Z,web,10\n2025-01-01T00:05:00Z,backend,3\n2025-01-01T00:30:00Z,web,4\n";
    let s = load_files(
        "csv-clock",
        &[("scenario.json", sc.as_bytes()), ("t.csv", csv.as_bytes())],
    )
    .unwrap();
    let out = s.run().unwrap();
    let (web, api) = (&out.workloads[0], &out.workloads[1]);
    assert_eq!(web.at(5 * MIN - 1).unwrap().running, 0);
    assert_eq!(web.at(5 * MIN).unwrap().running, 10);
    assert_eq!(api.at(5 * MIN).unwrap().running, 3);
    assert_eq!(web.at(30 * MIN).unwrap().running, 4);
    assert_eq!(out.subnets[0].at(30 * MIN).retained, 12);
}

/// An rps trace becomes instances by ceil(rps * latency / (concurrency * 0.6)); the idle delay
/// keeps the window's maximum, streamed.
#[test]
fn csv_rps_with_idle_delay() {
    let sc = scenario(
        r#"{"name": "api", "subnet": "main", "demand": {"type": "trace", "trace": "p"},
            "requests": {"latency": "500ms"}, "idle_delay": "15m"}"#,
        r#"{"name": "p", "format": "csv", "file": "t.csv"}"#,
        "",
    );
    // 960 rps * 0.5 s / 48 = 10 instances; 96 rps: 1.
    let csv = "time,workload,rps\n0,api,960\n10m,api,96\n20m,api,0\n";
    let s = load_files(
        "csv-rps",
        &[("scenario.json", sc.as_bytes()), ("t.csv", csv.as_bytes())],
    )
    .unwrap();
    let out = s.run().unwrap();
    let w = &out.workloads[0];
    assert_eq!(w.at(0).unwrap().running, 10);
    assert_eq!(w.at(25 * MIN - 1).unwrap().running, 10); // 960 rps until 10m counts until 25m
    assert_eq!(w.at(25 * MIN).unwrap().running, 1);
    assert_eq!(w.at(35 * MIN).unwrap().running, 0);
}

/// The feed pulls rows as the run advances and merges idle-window drops in time order.
#[test]
fn csv_feed_streams_in_time_order() {
    let sc = scenario(
        r#"{"name": "a", "subnet": "main", "demand": {"type": "trace", "trace": "p"}, "idle_delay": "2m"},
           {"name": "b", "subnet": "main", "demand": {"type": "trace", "trace": "p"}}"#,
        r#"{"name": "p", "format": "csv", "file": "t.csv"}"#,
        "",
    );
    let csv = "time,workload,instances\n0,a,5\n1m,a,1\n2m,b,7\n10m,b,1\n";
    let s = load_files(
        "csv-feed",
        &[("scenario.json", sc.as_bytes()), ("t.csv", csv.as_bytes())],
    )
    .unwrap();
    let mut feed = s.csv_traces[0].feed().unwrap();
    let mut got = Vec::new();
    while let Some(FeedPoint {
        time_ms,
        workload,
        instances,
    }) = feed.next_point()
    {
        got.push((time_ms / 1000, workload, instances));
    }
    assert_eq!(got, [(0, 0, 5), (120, 1, 7), (180, 0, 1), (600, 1, 1)]);
    assert!(feed.error.is_none());
}

fn azure_rows(layout_azure: bool) -> String {
    let mut s = String::new();
    if layout_azure {
        s.push_str("HashOwner,HashApp,HashFunction,Trigger");
        for m in 1..=4 {
            s.push_str(&format!(",{m}"));
        }
    } else {
        s.push_str("HashFunction,HashApp,HashOwner");
        for m in 1..=4 {
            s.push_str(&format!(",minute_{m}"));
        }
    }
    s.push('\n');
    for (h, counts) in [
        ("aaaaaaaa11112222", [60, 0, 0, 0]),
        ("bbbbbbbb33334444", [6000, 6000, 0, 120]),
        ("cccccccc55556666", [600, 600, 600, 600]),
    ] {
        let c: Vec<String> = counts.iter().map(|v| v.to_string()).collect();
        if layout_azure {
            s.push_str(&format!("o,a,{h},http,{}\n", c.join(",")));
        } else {
            s.push_str(&format!("{h},{h},{h},{}\n", c.join(",")));
        }
    }
    s
}

/// Both layouts; top N by volume; hashes; durations file.
#[test]
fn azure_functions_trace() {
    for layout in [true, false] {
        let d = tmp(&format!("azure-{layout}"));
        std::fs::write(d.join("inv.csv"), azure_rows(layout)).unwrap();
        let top = azure::read(&d.join("inv.csv"), &azure::Select::Top(2)).unwrap();
        let hashes: Vec<&str> = top.iter().map(|f| f.hash.as_str()).collect();
        assert_eq!(hashes, ["bbbbbbbb33334444", "cccccccc55556666"]);
        assert_eq!(top[0].per_minute, [6000, 6000, 0, 120]);
        let one = azure::read(
            &d.join("inv.csv"),
            &azure::Select::Hashes(vec!["aaaaaaaa".into()]),
        )
        .unwrap();
        assert_eq!(one[0].total, 60);
    }
    let sc = r#"{"name": "az", "description": "azure", "duration": "4m",
        "subnets": [{"name": "main", "cidr": "10.0.0.0/22"}],
        "traces": [{"name": "az", "format": "azure-functions", "file": "inv.csv",
                    "functions": {"top": 1, "subnet": "main", "durations_file": "run.csv"}}]}"#;
    let run = "HashFunction,HashApp,HashOwner,Count,Average,Minimum,Maximum\nbbbbbbbb33334444,x,y,10,2400,1.0,9.0\n";
    let s = load_files(
        "azure-run",
        &[
            ("scenario.json", sc.as_bytes()),
            ("inv.csv", azure_rows(true).as_bytes()),
            ("run.csv", run.as_bytes()),
        ],
    )
    .unwrap();
    let w = &s.input.workloads[0];
    assert_eq!(w.name, "fn-bbbbbbbb3333");
    // 6000/min = 100 rps * 2.4 s / 48 = 5 instances; 120/min = 2 rps -> 0.1 -> 1.
    let pts: Vec<(u64, u32)> = w
        .kind
        .demand()
        .unwrap_or(&[])
        .iter()
        .map(|p| (p.time_ms / MIN, p.instances))
        .collect();
    assert_eq!(pts, [(0, 5), (2, 0), (3, 1)]);
}

/// Poisson noise is seeded: the same seed gives the same demand, another seed another, and the
/// samples scatter around the generator's value.
#[test]
fn poisson_noise_is_seeded() {
    let sc = r#"{"name": "n", "description": "noise", "duration": "10h", "seed": 5,
        "subnets": [{"name": "main", "cidr": "10.0.0.0/20"}],
        "workloads": [{"name": "api", "subnet": "main", "noise": "poisson",
                       "demand": {"type": "constant", "value": 50}}]}"#;
    let demand = |seed: Option<u64>| {
        let d = tmp(&format!("noise-{seed:?}"));
        std::fs::write(d.join("scenario.json"), sc).unwrap();
        let s = ipsim_scenario::load_with(
            &d.join("scenario.json"),
            &ipsim_scenario::Overrides { seed },
        )
        .unwrap();
        s.input.workloads[0].kind.demand().unwrap_or(&[]).to_vec()
    };
    let a = demand(None);
    assert_eq!(a, demand(None));
    assert_ne!(a, demand(Some(6)));
    // 600 samples of Poisson(50) (a point only when the value changes).
    assert!(a.len() > 400, "{} points", a.len());
    let mean = a.iter().map(|p| f64::from(p.instances)).sum::<f64>() / a.len() as f64;
    assert!((45.0..55.0).contains(&mean), "mean {mean}");
    assert!(a.iter().all(|p| p.time_ms % MIN == 0));
}

/// docs/model.md computes the request rule exactly on the decimals as written: 48 rps at 1 s over
/// 80 x 0.6 is 1 instance, 48.00000002 rps is 2, in a scenario file and in a CSV trace.
#[test]
fn request_rule_is_exact_on_the_numbers_as_written() {
    let sc = |value: &str| {
        scenario(
            &format!(
                r#"{{"name": "api", "subnet": "main", "requests": {{"latency": "1s"}},
                    "demand": {{"type": "constant", "value": {value}}}}}"#
            ),
            "",
            "",
        )
    };
    let demand = |value: &str| {
        let s = load_files("exact-json", &[("scenario.json", sc(value).as_bytes())]).unwrap();
        s.input.workloads[0].kind.demand().unwrap_or(&[]).to_vec()
    };
    let one = |n| {
        vec![ipsim_core::DemandPoint {
            time_ms: 0,
            instances: n,
        }]
    };
    assert_eq!(demand("48"), one(1));
    assert_eq!(demand("48.00000002"), one(2));
    // Beyond f64's precision (this literal reads as the double 48.0): still 2.
    assert_eq!(demand("48.000000000000000001"), one(2));
    assert_eq!(demand("4.8e1"), one(1));

    // A CSV rps trace, with a non-default utilisation whose f64 is inexact (0.1).
    let sc = scenario(
        r#"{"name": "api", "subnet": "main", "demand": {"type": "trace", "trace": "p"},
            "requests": {"latency": "1s", "target_utilization": 0.1}}"#,
        r#"{"name": "p", "format": "csv", "file": "t.csv"}"#,
        "",
    );
    // 8 rps at 1 s over 80 x 0.1 = 8 is 1 instance; 8.00000002 is 2; 16 is 2; 0.3 is 1.
    let csv = "time,workload,rps\n0,api,8\n1m,api,8.00000002\n2m,api,16\n3m,api,16.000000000000000001\n4m,api,0.3\n";
    let s = load_files(
        "exact-csv",
        &[("scenario.json", sc.as_bytes()), ("t.csv", csv.as_bytes())],
    )
    .unwrap();
    let out = s.run().unwrap();
    let w = &out.workloads[0];
    let running: Vec<u32> = (0..5).map(|m| w.at(m * MIN).unwrap().running).collect();
    assert_eq!(running, [1, 2, 2, 3, 1]);
}

/// A HashFunction that is not ASCII names its workload by its first 12 characters, cut on a
/// character boundary (a byte slice of it used to panic).
#[test]
fn azure_non_ascii_hash_names_a_workload() {
    let hash = "a€€€€€€€€€€€€€"; // byte 12 falls inside a '€'
    let mut inv = String::from("HashOwner,HashApp,HashFunction,Trigger,1,2\n");
    inv.push_str(&format!("o,a,{hash},http,60,0\n"));
    let sc = r#"{"name": "az", "description": "azure", "duration": "2m",
        "subnets": [{"name": "main", "cidr": "10.0.0.0/22"}],
        "traces": [{"name": "az", "format": "azure-functions", "file": "inv.csv",
                    "functions": {"top": 1, "subnet": "main", "latency": "1s"}}]}"#;
    let s = load_files(
        "azure-non-ascii",
        &[
            ("scenario.json", sc.as_bytes()),
            ("inv.csv", inv.as_bytes()),
        ],
    )
    .unwrap();
    assert_eq!(s.input.workloads[0].name, "fn-a€€€€€€€€€€€");
}

/// A held CSV trace replays from memory: after `hold_traces`, the run is the same with the
/// file gone (a clone shares the values), and a scenario resolved with the held trace as
/// known takes its values, not the file's (here rewritten to other values, same header).
/// A variation whose workloads take the series differently reads the file again.
#[test]
fn held_csv_traces_replay_from_memory_and_serve_later_resolves() {
    let sc = scenario(
        r#"{"name": "web", "subnet": "main", "demand": {"type": "trace", "trace": "p"}}"#,
        r#"{"name": "p", "format": "csv", "file": "t.csv"}"#,
        "",
    );
    let csv = "time,workload,instances\n0s,web,10\n30m,web,4\n";
    let d = tmp("csv-held");
    std::fs::write(d.join("scenario.json"), &sc).unwrap();
    std::fs::write(d.join("t.csv"), csv).unwrap();
    let path = d.join("scenario.json");
    let mut s = ipsim_scenario::load(&path).unwrap();
    let whole = s.run().unwrap();
    assert!(s.csv_traces[0].held.is_none(), "a regular file is streamed");
    s.hold_traces().unwrap();
    let values = s.csv_traces[0].held.clone().unwrap();
    assert_eq!(values.len(), 2);
    let copy = s.clone();
    std::fs::remove_file(d.join("t.csv")).unwrap();
    assert_eq!(s.run().unwrap(), whole);
    assert_eq!(copy.run().unwrap(), whole);

    std::fs::write(d.join("t.csv"), "time,workload,instances\n0s,web,50\n").unwrap();
    let def = ipsim_scenario::read_def(sc.as_bytes(), &path).unwrap();
    let ov = ipsim_scenario::Overrides::default();
    let known = ipsim_scenario::resolve_known(def.clone(), &path, &sc, &ov, &s.csv_traces).unwrap();
    assert!(std::sync::Arc::ptr_eq(
        known.csv_traces[0].held.as_ref().unwrap(),
        &values
    ));
    assert_eq!(known.run().unwrap(), whole);
    // Another series: checked and read from the file as it is now.
    let mut other = def;
    other.workloads[0].name = "api".into();
    let csv_now = "time,workload,instances\n0s,api,7\n";
    std::fs::write(d.join("t.csv"), csv_now).unwrap();
    let held = ipsim_scenario::resolve_holding(other.clone(), &path, &sc, &ov).unwrap();
    let api = ipsim_scenario::resolve_known(other, &path, &sc, &ov, &s.csv_traces).unwrap();
    assert!(api.csv_traces[0].held.is_none());
    assert_eq!(held.csv_traces[0].held.as_ref().unwrap().len(), 1);
    let out = api.run().unwrap();
    assert_eq!(out.workloads[0].at(0).unwrap().running, 7);
    assert_eq!(out, held.run().unwrap());
}

/// Another block scope, retention or strategy, taken by `with_choices` without resolving
/// again, gives the scenario that resolving the edited definition gives (same input, same
/// run); a definition changed in anything else is refused.
#[test]
fn with_choices_equals_resolving_the_edited_definition() {
    use ipsim_scenario::def::{RetentionDef, ScopeDef, StrategyDef};
    let sc = scenario(
        r#"{"name": "web", "subnet": "main", "demand": {"type": "trace", "trace": "p"}, "swaps": [{"at": "20m"}]}"#,
        r#"{"name": "p", "format": "csv", "file": "t.csv"}"#,
        "",
    );
    let csv = "time,workload,instances\n0s,web,10\n30m,web,40\n1h,web,4\n";
    let s = load_files(
        "csv-choices",
        &[("scenario.json", sc.as_bytes()), ("t.csv", csv.as_bytes())],
    )
    .unwrap();
    let ov = ipsim_scenario::Overrides::default();
    for (scope, retention, strategy) in [
        (Some(ScopeDef::Revision), Some(RetentionDef::Uniform), None),
        (Some(ScopeDef::Subnet), None, Some(StrategyDef::Random)),
        (None, Some(RetentionDef::Fixed), Some(StrategyDef::BestFit)),
        (None, None, Some(StrategyDef::NextFit)),
    ] {
        let mut def = s.def.clone();
        def.params.block_scope = scope;
        def.params.retention = retention;
        def.params.strategy = strategy;
        let fast = s.with_choices(def.clone()).unwrap();
        let full = ipsim_scenario::resolve(def, &s.path, &sc, &ov).unwrap();
        assert_eq!(fast.input, full.input);
        assert_eq!(fast.def, full.def);
        assert_eq!(fast.run().unwrap(), full.run().unwrap());
    }
    let mut other = s.def.clone();
    other.params.block_scope = Some(ScopeDef::Revision);
    other.duration = ipsim_scenario::Duration(3_600_000 / 2);
    assert!(s.with_choices(other).is_none());
}
