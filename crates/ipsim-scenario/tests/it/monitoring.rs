//! The Cloud Monitoring reader on exports built by hand in the exact shape of a
//! `projects.timeSeries.list` response (`ListTimeSeriesResponse`): values by kind and unit,
//! alignment and gaps, pages, caps, and observed revisions.

use std::path::PathBuf;

use ipsim_core::{DemandPoint, Kind};
use ipsim_scenario::exact::Exact;
use ipsim_scenario::trace::monitoring::{self, Export, Options};

use crate::{load_files, tmp};

const MIN: u64 = 60_000;
const S: u64 = 1000;

/// RFC 3339 time `secs` after 2025-01-01T00:00:00Z.
fn at(secs: i64) -> String {
    jiff::Timestamp::from_second(1_735_689_600 + secs)
        .unwrap()
        .to_string()
}

/// One point: (startTime offset or none, endTime offset, value JSON).
type P<'a> = (Option<i64>, i64, &'a str);

/// One series, its points written newest first as the API lists them.
#[allow(clippy::too_many_arguments)]
fn series(
    metric: &str,
    state: Option<&str>,
    service: &str,
    rev: &str,
    kind: &str,
    vtype: &str,
    unit: Option<&str>,
    points: &[P<'_>],
) -> String {
    let mut pts: Vec<String> = points
        .iter()
        .map(|(st, end, v)| {
            let start = match st {
                Some(s) => format!(r#""startTime": "{}", "#, at(*s)),
                None => format!(r#""startTime": "{}", "#, at(*end)),
            };
            format!(
                r#"{{"interval": {{{start}"endTime": "{}"}}, "value": {v}}}"#,
                at(*end)
            )
        })
        .collect();
    pts.reverse();
    let labels = state
        .map(|s| format!(r#", "labels": {{"state": "{s}"}}"#))
        .unwrap_or_default();
    let unit = unit
        .map(|u| format!(r#", "unit": "{u}""#))
        .unwrap_or_default();
    format!(
        r#"{{"metric": {{"type": "run.googleapis.com/{metric}"{labels}}},
  "resource": {{"type": "cloud_run_revision", "labels": {{"project_id": "my-project", "service_name": "{service}",
    "revision_name": "{rev}", "location": "us-central1", "configuration_name": "{service}"}}}},
  "metricKind": "{kind}", "valueType": "{vtype}", "points": [{}]{unit}}}"#,
        pts.join(",\n    ")
    )
}

fn instances(state: &str, rev: &str, points: &[(i64, u64)]) -> String {
    let vals: Vec<String> = points
        .iter()
        .map(|(_, v)| format!(r#"{{"int64Value": "{v}"}}"#))
        .collect();
    let pts: Vec<P<'_>> = points
        .iter()
        .zip(&vals)
        .map(|((t, _), v)| (None, *t, v.as_str()))
        .collect();
    series(
        "container/instance_count",
        Some(state),
        "api",
        rev,
        "GAUGE",
        "INT64",
        None,
        &pts,
    )
}

fn export(series: &[String], tail: &str) -> String {
    format!(
        r#"{{"timeSeries": [{}], "nextPageToken": ""{tail}, "unit": "1"}}"#,
        series.join(",\n")
    )
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn read_text(name: &str, text: &str) -> Result<Export, String> {
    let d = tmp(name);
    monitoring::read(&write(&d, "m.json", text), None).map_err(|e| {
        e.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn ints(points: &[(u64, u64)]) -> Vec<(u64, Exact)> {
    points.iter().map(|&(t, v)| (t, Exact::int(v))).collect()
}

/// active + idle of two revisions, newest first: one step function, a swap at revision 2.
#[test]
fn instance_count_export() {
    let x = read_text(
        "mon-ic",
        &export(
            &[
                instances("active", "api-00042-xyz", &[(0, 5), (60, 5), (120, 7)]),
                instances("idle", "api-00042-xyz", &[(120, 2)]),
                instances("active", "api-00043-abc", &[(180, 9), (240, 9)]),
            ],
            "",
        ),
    )
    .unwrap();
    let api = &x.services["api"];
    // Revision 1 ends after 2m + its 1m period; its idle series too.
    assert_eq!(api.points(), ints(&[(0, 5), (120 * S, 9), (300 * S, 0)]));
    assert_eq!(api.swaps, [3 * MIN]);
    assert_eq!(api.revisions.len(), 2);
    assert_eq!(api.revisions[1].name, "api-00043-abc");
    assert_eq!(
        api.revisions[1].points(),
        ints(&[(180 * S, 9), (300 * S, 0)])
    );
    assert_eq!(
        x.note.line(),
        "3 series in 1 file, 6 points (GAUGE instance count); sampling period 1m; 2 gaps closed"
    );
}

/// request_count as a DELTA count per minute and as ALIGN_RATE (GAUGE, 1/s) replay the same
/// instances; a rate of 1920/s at 1 s latency is 40 instances, not 1.
#[test]
fn rate_export_replays_as_the_count_export() {
    let counts = [(0, "6000"), (60, "12000"), (120, "600"), (180, "115200")];
    let rates = [(0, "100.0"), (60, "200"), (120, "10.0"), (180, "1920")];
    let delta: Vec<String> = counts
        .iter()
        .map(|(_, c)| format!(r#"{{"int64Value": "{c}"}}"#))
        .collect();
    let delta_pts: Vec<P<'_>> = counts
        .iter()
        .zip(&delta)
        .map(|((t, _), v)| (Some(*t), t + 60, v.as_str()))
        .collect();
    let rate: Vec<String> = rates
        .iter()
        .map(|(_, r)| format!(r#"{{"doubleValue": {r}}}"#))
        .collect();
    let rate_pts: Vec<P<'_>> = rates
        .iter()
        .zip(&rate)
        .map(|((t, _), v)| (None, t + 60, v.as_str()))
        .collect();
    let count_export = export(
        &[series(
            "request_count",
            None,
            "api",
            "r1",
            "DELTA",
            "INT64",
            Some("1"),
            &delta_pts,
        )],
        "",
    );
    let rate_export = export(
        &[series(
            "request_count",
            None,
            "api",
            "r1",
            "GAUGE",
            "DOUBLE",
            Some("1/s"),
            &rate_pts,
        )],
        "",
    );
    let a = read_text("mon-delta", &count_export).unwrap();
    let b = read_text("mon-rate", &rate_export).unwrap();
    assert_eq!(a.services["api"].points(), b.services["api"].points());
    assert_eq!(
        a.services["api"].points(),
        ints(&[
            (0, 100),
            (MIN, 200),
            (2 * MIN, 10),
            (3 * MIN, 1920),
            (4 * MIN, 0)
        ])
    );
    let sc = r#"{"name": "t", "description": "rate", "duration": "10m",
        "subnets": [{"name": "main", "cidr": "10.0.0.0/22"}],
        "workloads": [{"name": "api", "subnet": "main", "demand": {"type": "trace", "trace": "m"},
                       "requests": {"latency": "1s"}}],
        "traces": [{"name": "m", "format": "cloud-monitoring", "file": "m.json"}]}"#;
    let mut demands = Vec::new();
    for (name, text) in [
        ("mon-run-delta", &count_export),
        ("mon-run-rate", &rate_export),
    ] {
        let s = load_files(
            name,
            &[
                ("scenario.json", sc.as_bytes()),
                ("m.json", text.as_bytes()),
            ],
        )
        .unwrap();
        demands.push(s.input.workloads[0].kind.demand().unwrap().to_vec());
    }
    assert_eq!(demands[0], demands[1]);
    // ceil(rps / 48): 100 -> 3, 200 -> 5, 10 -> 1, 1920 -> 40.
    let want: Vec<DemandPoint> = [(0, 3), (1, 5), (2, 1), (3, 40), (4, 0)]
        .iter()
        .map(|&(m, n)| DemandPoint {
            time_ms: m * MIN,
            instances: n,
        })
        .collect();
    assert_eq!(demands[0], want);
}

/// Each combination that cannot be read is refused, naming the aligner to use.
#[test]
fn uninterpretable_kinds_name_the_aligner() {
    let one = |metric: &str, kind: &str, vt: &str, unit: Option<&str>| {
        export(
            &[series(
                metric,
                None,
                "api",
                "r1",
                kind,
                vt,
                unit,
                &[(Some(0), 60, r#"{"doubleValue": 3.5}"#)],
            )],
            "",
        )
    };
    let cases = [
        (
            one("request_count", "GAUGE", "DOUBLE", Some("1")),
            "timeSeries[0]: a request_count series of GAUGE DOUBLE in \"1\" cannot be read as requests per second: export it with perSeriesAligner ALIGN_RATE",
        ),
        (
            one("request_count", "CUMULATIVE", "INT64", None),
            "ALIGN_RATE (a GAUGE in 1/s) or ALIGN_DELTA",
        ),
        (
            one("container/instance_count", "DELTA", "INT64", None),
            "export it as a GAUGE with perSeriesAligner ALIGN_MEAN or ALIGN_MAX",
        ),
        (
            one("container/instance_count", "GAUGE", "DOUBLE", Some("1/s")),
            "cannot be read as instances",
        ),
        (
            one("request_count", "DELTA", "DISTRIBUTION", None),
            "ALIGN_DELTA",
        ),
        (
            r#"{"timeSeries": [{"metric": {"type": "run.googleapis.com/container/instance_count"},
                "resource": {"labels": {"service_name": "api"}}, "points": []}]}"#
                .to_string(),
            "the series has no metricKind",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let e = read_text(&format!("mon-kind-{i}"), text).unwrap_err();
        assert!(e.contains(want), "case {i}: {e}");
    }
}

/// Series 30 s apart are summed at every instant: no flip-flop between them.
#[test]
fn unaligned_series_sum_as_step_functions() {
    let x = read_text(
        "mon-unaligned",
        &export(
            &[
                instances("active", "r1", &[(0, 10), (60, 12), (120, 10)]),
                instances("idle", "r1", &[(30, 3), (90, 4), (150, 2)]),
            ],
            "",
        ),
    )
    .unwrap();
    assert_eq!(
        x.services["api"].points(),
        ints(&[
            (0, 10),
            (30 * S, 13),
            (60 * S, 15),
            (90 * S, 16),
            (120 * S, 14),
            (150 * S, 12),
            (180 * S, 2),
            (210 * S, 0)
        ])
    );
}

/// A 20-minute silence drops to zero after the series' own 1-minute period; a `max_gap`
/// of 30 minutes bridges it.
#[test]
fn a_gap_drops_to_zero() {
    let mut pts: Vec<(i64, u64)> = (0..=10).map(|m| (m * 60, 5)).collect();
    pts.extend([(30 * 60, 5), (31 * 60, 5)]);
    let text = export(&[instances("active", "r1", &pts)], "");
    let x = read_text("mon-gap", &text).unwrap();
    assert_eq!(
        x.services["api"].points(),
        ints(&[(0, 5), (11 * MIN, 0), (30 * MIN, 5), (32 * MIN, 0)])
    );
    assert_eq!(x.note.gaps_closed, 1);
    assert_eq!(x.note.periods.keys().copied().collect::<Vec<_>>(), [MIN]);
    let d = tmp("mon-gap-max");
    let opts = Options {
        start: None,
        max_gap_ms: Some(30 * MIN),
    };
    let y = monitoring::read_pages(&[write(&d, "m.json", &text)], &opts).unwrap();
    assert_eq!(y.services["api"].points(), ints(&[(0, 5), (61 * MIN, 0)]));
    assert_eq!(y.note.gaps_closed, 0);
}

/// Raw points a little late or early (61 s and 59 s apart on a 60 s period) are no gaps: only
/// a missing point (more than one and a half periods of silence) drops the series to zero.
#[test]
fn late_points_are_not_gaps() {
    let secs = [0, 60, 120, 181, 240, 300, 361, 420];
    let pts: Vec<(i64, u64)> = secs.iter().map(|&t| (t, 5)).collect();
    let text = export(&[instances("active", "r1", &pts)], "");
    let x = read_text("mon-late", &text).unwrap();
    assert_eq!(x.services["api"].points(), ints(&[(0, 5), (8 * MIN, 0)]));
    assert_eq!(x.note.gaps_closed, 0);
    // One point missing (240 s absent: 120 s of silence) is a gap, closed when it was due.
    let pts: Vec<(i64, u64)> = [0, 60, 120, 180, 300, 360]
        .iter()
        .map(|&t| (t, 5))
        .collect();
    let text = export(&[instances("active", "r1", &pts)], "");
    let x = read_text("mon-missing", &text).unwrap();
    assert_eq!(
        x.services["api"].points(),
        ints(&[(0, 5), (4 * MIN, 0), (5 * MIN, 5), (7 * MIN, 0)])
    );
    assert_eq!(x.note.gaps_closed, 1);
}

/// The pages of one query (a list, or their directory) read as the whole export; a series
/// continued over pages is one series; overlapping pages, a missing last page and
/// execution errors are refused.
#[test]
fn pages_equal_the_unpaged_export() {
    let active = [(0, 10), (60, 12), (120, 10)];
    let whole = export(
        &[
            instances("active", "r1", &active),
            instances("idle", "r1", &[(30, 3), (90, 4)]),
            instances("active", "r2", &[(120, 1)]),
        ],
        "",
    );
    let page1 = export(
        &[
            instances("active", "r1", &active[1..]),
            instances("idle", "r1", &[(30, 3), (90, 4)]),
        ],
        "",
    )
    .replace(r#""nextPageToken": """#, r#""nextPageToken": "tok1""#);
    let page2 = export(
        &[
            instances("active", "r1", &active[..1]),
            instances("active", "r2", &[(120, 1)]),
        ],
        "",
    );
    let d = tmp("mon-pages");
    let a = monitoring::read(&write(&d, "whole.json", &whole), None).unwrap();
    let pd = d.join("pages");
    std::fs::create_dir_all(&pd).unwrap();
    let p1 = write(&pd, "page-1.json", &page1);
    let p2 = write(&pd, "page-2.json", &page2);
    let opts = Options::default();
    for b in [
        monitoring::read_pages(&[p1.clone(), p2.clone()], &opts).unwrap(),
        monitoring::read_pages(std::slice::from_ref(&pd), &opts).unwrap(),
    ] {
        let (sa, sb) = (&a.services["api"], &b.services["api"]);
        assert_eq!(sa.points(), sb.points());
        assert_eq!(sa.swaps, sb.swaps);
        assert_eq!(sa.revisions, sb.revisions);
        assert_eq!(b.note.series, 3);
        assert_eq!(b.note.files, 2);
    }
    // The last page still has a token: pages are missing.
    let e = monitoring::read_pages(std::slice::from_ref(&p1), &opts).unwrap_err();
    assert!(
        e[0].to_string()
            .contains("nextPageToken: this page says more follow"),
        "{}",
        e[0]
    );
    // Pages that overlap.
    let p3 = write(
        &d,
        "overlap.json",
        &page2.replace("\"2025-01-01T00:00:00Z", "\"2025-01-01T00:01:00Z"),
    );
    let e = monitoring::read_pages(&[p1.clone(), p3], &opts).unwrap_err();
    assert!(
        e[0].to_string().contains("overlap.json: timeSeries[0]: this page's part of the series has a point at 2025-01-01T00:01:00Z that"),
        "{}",
        e[0]
    );
    let errs = whole.replace(
        r#""nextPageToken": """#,
        r#""executionErrors": [{"code": 3, "message": "some data is unavailable"}], "nextPageToken": """#,
    );
    let e = monitoring::read(&write(&d, "errs.json", &errs), None).unwrap_err();
    assert!(
        e[0].to_string().ends_with("executionErrors: the export reports execution errors, so its data may be incomplete (first: \"some data is unavailable\"); export it again"),
        "{}",
        e[0]
    );
}

/// Values over the 100,000-instance cap are refused where they are, with the cap; so is a
/// series repeated with identical labels; bad fields are quoted short.
#[test]
fn caps_repeats_and_short_excerpts() {
    let big = export(
        &[instances(
            "active",
            "r1",
            &[(0, 3), (60, 9_223_372_036_854_775_807)],
        )],
        "",
    );
    let e = read_text("mon-cap", &big).unwrap_err();
    assert!(
        e.contains("m.json: timeSeries[0].points[0].value.int64Value: 9223372036854775807 instances is above the cap of 100000 instances"),
        "{e}"
    );
    let pasted = export(&[instances("active", "r1", &[(0, 86_400_000)])], "");
    let e = read_text("mon-cap2", &pasted).unwrap_err();
    assert!(
        e.contains("86400000 instances is above the cap of 100000"),
        "{e}"
    );
    // Under the per-point cap, over it once summed and converted: named in the export.
    let sums = export(
        &[
            instances("active", "r1", &[(0, 60_000), (60, 60_000)]),
            instances("idle", "r1", &[(0, 50_000), (60, 50_000)]),
        ],
        "",
    );
    let sc = r#"{"name": "t", "description": "cap", "duration": "10m",
        "subnets": [{"name": "main", "cidr": "10.0.0.0/8"}],
        "workloads": [{"name": "api", "subnet": "main", "demand": {"type": "trace", "trace": "m"}}],
        "traces": [{"name": "m", "format": "cloud-monitoring", "file": "m.json"}]}"#;
    let e = load_files(
        "mon-cap-sum",
        &[
            ("scenario.json", sc.as_bytes()),
            ("m.json", sums.as_bytes()),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("m.json: timeSeries[1]: at 0s the series of this service add up to more than the cap of 100000 instances"),
        "{e}"
    );
    let repeated = export(
        &[
            instances("active", "r1", &[(0, 3)]),
            instances("active", "r1", &[(0, 3)]),
        ],
        "",
    );
    let e = read_text("mon-repeat", &repeated).unwrap_err();
    assert!(
        e.contains("timeSeries[1]: repeats timeSeries[0] of this file (same metric and resource labels): it would be counted twice"),
        "{e}"
    );
    let long = "x".repeat(1_000_000);
    let bad = export(&[instances("active", "r1", &[(0, 3)])], "")
        .replace("\"2025-01-01T00:00:00Z\"", &format!("\"{long}\""));
    let e = read_text("mon-excerpt", &bad).unwrap_err();
    assert!(e.len() < 400, "{} bytes", e.len());
    assert!(e.contains("\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"... (1000000 bytes) is not an RFC 3339 time"), "{e}");
}

/// Time zones and nanoseconds are read exactly; NaN and Infinity (proto3 JSON strings) are
/// refused.
#[test]
fn times_with_zones_and_special_doubles() {
    let text = export(&[instances("active", "r1", &[(0, 3), (60, 4)])], "").replace(
        "2025-01-01T00:01:00Z",
        "2025-01-01T02:01:00.000000001+02:00",
    );
    let x = read_text("mon-tz", &text).unwrap();
    assert_eq!(
        x.services["api"].points(),
        ints(&[(0, 3), (MIN, 4), (2 * MIN, 0)])
    );
    for (i, v) in ["\"NaN\"", "\"Infinity\"", "\"-Infinity\""]
        .iter()
        .enumerate()
    {
        let t = export(
            &[series(
                "container/instance_count",
                Some("active"),
                "api",
                "r1",
                "GAUGE",
                "DOUBLE",
                None,
                &[(None, 0, &format!(r#"{{"doubleValue": {v}}}"#))],
            )],
            "",
        );
        let e = read_text(&format!("mon-nan-{i}"), &t).unwrap_err();
        assert!(
            e.contains("timeSeries[0].points[0].value.doubleValue: ")
                && e.contains("is not a finite number"),
            "{e}"
        );
    }
}

/// The export is read once, as a stream: a named pipe works.
#[cfg(unix)]
#[test]
fn a_named_pipe_export_is_read_once() {
    let d = tmp("mon-fifo");
    let fifo = d.join("m.json");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return; // no mkfifo here
    }
    let text = export(&[instances("active", "r1", &[(0, 3), (60, 4)])], "");
    let f2 = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(f2, text).unwrap());
    let x = monitoring::read(&fifo, None).unwrap();
    writer.join().unwrap();
    assert_eq!(
        x.services["api"].points(),
        ints(&[(0, 3), (MIN, 4), (2 * MIN, 0)])
    );
}

/// Revision 2 ramps up over 10 minutes while revision 1 runs, then revision 1 drains over 10
/// minutes (Cloud Monitoring writes no point at zero).
fn migration() -> String {
    let mut a: Vec<(i64, u64)> = (0..=20).map(|m| (m * 60, 10)).collect();
    a.extend((1..=9).map(|k| ((20 + k) * 60, 10 - k as u64)));
    let mut b: Vec<(i64, u64)> = (1..=10).map(|k| ((10 + k) * 60, k as u64)).collect();
    b.extend((21..=40).map(|m| (m * 60, 10)));
    export(
        &[
            instances("active", "api-00001-aaa", &a),
            instances("active", "api-00002-bbb", &b),
        ],
        "",
    )
}

fn migration_scenario(revisions: &str) -> String {
    format!(
        r#"{{"name": "t", "description": "observed", "duration": "45m",
        "subnets": [{{"name": "main", "cidr": "10.0.0.0/24"}}],
        "workloads": [{{"name": "api", "subnet": "main",
            "demand": {{"type": "trace", "trace": "m", "revisions": "{revisions}"}}}}],
        "traces": [{{"name": "m", "format": "cloud-monitoring", "file": "m.json"}}]}}"#
    )
}

/// Observed revisions replay as they ran: each revision's own count, its stops retained
/// 20 minutes; the exact occupancy at every minute.
#[test]
fn observed_revisions_replay_a_drain_exactly() {
    let text = migration();
    let sc = migration_scenario("observed");
    let s = load_files(
        "mon-observed",
        &[
            ("scenario.json", sc.as_bytes()),
            ("m.json", text.as_bytes()),
        ],
    )
    .unwrap();
    let Kind::Service(spec) = &s.input.workloads[0].kind else {
        panic!("a service")
    };
    assert_eq!(spec.observed.len(), 2);
    assert!(spec.swaps.is_empty() && spec.demand.is_empty());
    let out = s.run().unwrap();
    for m in 0..45u64 {
        // Instances of revision 1 and 2, and addresses retained, at minute m.
        let (a, b) = match m {
            0..=20 => (10, m.saturating_sub(10)),
            21..=29 => (30 - m, 10),
            30..=40 => (0, 10),
            _ => (0, 0),
        };
        // Revision 1 stops one instance a minute from 21m to 30m; revision 2 stops 10 at 41m.
        let stopped_a = (21..=30).filter(|&t| t <= m && m < t + 20).count() as u32;
        let retained = 2 * stopped_a + if m >= 41 { 20 } else { 0 };
        let row = out.subnets[0].at(m * MIN);
        assert_eq!(row.in_use, 2 * (a + b) as u32, "in use at {m}m");
        assert_eq!(row.retained, retained, "retained at {m}m");
    }
    assert_eq!(out.summary.peak_held, 40);
    assert!(out.summary.first_exhaustion.is_none());
}

/// The same export as instant swaps: revision 2 takes the summed count at its first point,
/// revision 1's 10 instances are retained at once, and the peak is higher.
#[test]
fn the_same_export_as_an_instant_swap_peaks_higher() {
    let text = migration();
    let sc = migration_scenario("swaps");
    let s = load_files(
        "mon-swapped",
        &[
            ("scenario.json", sc.as_bytes()),
            ("m.json", text.as_bytes()),
        ],
    )
    .unwrap();
    let out = s.run().unwrap();
    // At 20m: revision 2 runs all 20 summed instances, revision 1's 10 retained since 11m.
    let row = out.subnets[0].at(20 * MIN);
    assert_eq!((row.in_use, row.retained), (40, 20));
    assert_eq!(out.summary.peak_held, 60);
}

mod fuzz {
    //! Structure-aware mutations of an export in the real shape: each run ends in an answer
    //! or in errors that each name the file and a place in it, never a panic.

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use crate::load_files;

    fn palette() -> Vec<Value> {
        vec![
            json!("GAUGE"),
            json!("DELTA"),
            json!("CUMULATIVE"),
            json!("INT64"),
            json!("DOUBLE"),
            json!("DISTRIBUTION"),
            json!("1/s"),
            json!("1"),
            json!("{not_a_unit}"),
            Value::Null,
            json!(42),
            json!(-3),
            json!(1.5),
            json!(1e300),
            json!(true),
            json!([]),
            json!({}),
            json!(""),
            json!("9223372036854775807"),
            json!("-9223372036854775808"),
            json!("18446744073709551616"),
            json!("86400000"),
            json!("NaN"),
            json!("Infinity"),
            json!("-Infinity"),
            json!("1e400"),
            json!("0.000000000000000000000000001"),
            json!("2025-01-01T00:00:00.123456789+05:30"),
            json!("2024-12-31T23:59:59.999999999-08:00"),
            json!("2025-01-01T00:03:00Z"),
            json!("9999-12-31T23:59:59Z"),
            json!("not a time"),
            json!("run.googleapis.com/request_count"),
            json!("run.googleapis.com/container/instance_count"),
        ]
    }

    fn base() -> Value {
        serde_json::from_str(&super::migration()).unwrap()
    }

    /// Where to put a value: a series field, a point field, or the whole response.
    #[derive(Debug, Clone)]
    enum Target {
        Series(usize, &'static str),
        Point(usize, usize, &'static str),
        RemovePoint(usize, usize),
        Duplicate(usize),
        Top(&'static str),
    }

    fn target() -> impl Strategy<Value = Target> {
        let series_field = prop_oneof![
            Just("metricKind"),
            Just("valueType"),
            Just("unit"),
            Just("metric.type"),
            Just("resource.labels.service_name"),
            Just("resource.labels.revision_name"),
            Just("metric.labels.state"),
            Just("points"),
        ];
        let point_field = prop_oneof![
            Just("interval.endTime"),
            Just("interval.startTime"),
            Just("interval"),
            Just("value.int64Value"),
            Just("value.doubleValue"),
            Just("value"),
        ];
        prop_oneof![
            (0usize..3, series_field).prop_map(|(s, f)| Target::Series(s, f)),
            (0usize..3, 0usize..40, point_field).prop_map(|(s, p, f)| Target::Point(s, p, f)),
            (0usize..3, 0usize..40).prop_map(|(s, p)| Target::RemovePoint(s, p)),
            (0usize..3).prop_map(Target::Duplicate),
            prop_oneof![
                Just("nextPageToken"),
                Just("executionErrors"),
                Just("unit"),
                Just("timeSeries")
            ]
            .prop_map(Target::Top),
        ]
    }

    fn set(v: &mut Value, path: &str, x: Value) {
        let mut cur = v;
        let parts: Vec<&str> = path.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            if !cur.is_object() {
                return;
            }
            cur = cur
                .as_object_mut()
                .unwrap()
                .entry(p.to_string())
                .or_insert_with(|| json!({}));
        }
        if let Some(o) = cur.as_object_mut() {
            if x.is_null() {
                o.remove(parts[parts.len() - 1]);
            } else {
                o.insert(parts[parts.len() - 1].to_string(), x);
            }
        }
    }

    fn mutate(doc: &mut Value, t: &Target, x: Value) {
        let n = doc["timeSeries"].as_array().map_or(0, Vec::len);
        match t {
            Target::Top(f) => set(doc, f, x),
            Target::Duplicate(s) if n > 0 => {
                let c = doc["timeSeries"][s % n].clone();
                if let Some(a) = doc["timeSeries"].as_array_mut() {
                    a.push(c);
                }
            }
            Target::Series(s, f) if n > 0 => set(&mut doc["timeSeries"][s % n], f, x),
            Target::Point(s, p, f) if n > 0 => {
                let pts = &mut doc["timeSeries"][s % n]["points"];
                let m = pts.as_array().map_or(0, Vec::len);
                if m > 0 {
                    set(&mut pts[p % m], f, x);
                }
            }
            Target::RemovePoint(s, p) if n > 0 => {
                if let Some(a) = doc["timeSeries"][s % n]["points"].as_array_mut() {
                    if !a.is_empty() {
                        let k = p % a.len();
                        a.remove(k);
                    }
                }
            }
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn mutated_exports_answer_or_fail_precisely(
            muts in proptest::collection::vec((target(), 0usize..34), 1..5),
            observed in any::<bool>(),
        ) {
            let pal = palette();
            let mut doc = base();
            for (t, k) in &muts {
                mutate(&mut doc, t, pal[*k].clone());
            }
            let text = serde_json::to_string(&doc).unwrap();
            let sc = super::migration_scenario(if observed { "observed" } else { "swaps" });
            match load_files("mon-fuzz", &[("scenario.json", sc.as_bytes()), ("m.json", text.as_bytes())]) {
                Ok(s) => {
                    let out = s.run().unwrap();
                    prop_assert!(out.summary.peak_held <= 252);
                }
                Err(e) => {
                    for e in &e.0 {
                        prop_assert!(!e.message.is_empty());
                        prop_assert!(
                            !e.path.is_empty() || e.line.is_some(),
                            "no place in the file: {e}"
                        );
                        prop_assert!(e.message.len() < 600, "long message: {e}");
                    }
                }
            }
        }
    }
}

/// Page lists, `max_gap` and `revisions` belong to Cloud Monitoring traces only.
#[test]
fn monitoring_fields_on_a_csv_trace_are_refused() {
    let sc = r#"{"name": "t", "description": "csv", "duration": "1h",
        "subnets": [{"name": "main", "cidr": "10.0.0.0/24"}],
        "workloads": [{"name": "web", "subnet": "main",
                       "demand": {"type": "trace", "trace": "c", "revisions": "observed"}}],
        "traces": [{"name": "c", "format": "csv", "file": ["t.csv", "u.csv"], "max_gap": "2m"}]}"#;
    let csv = "time,workload,instances\n0,web,3\n";
    let e = load_files(
        "mon-csv-fields",
        &[("scenario.json", sc.as_bytes()), ("t.csv", csv.as_bytes())],
    )
    .unwrap_err()
    .to_string();
    for want in [
        "traces[0].file: a list of files goes with format \"cloud-monitoring\"",
        "traces[0].max_gap: \"max_gap\" goes with format \"cloud-monitoring\"",
    ] {
        assert!(e.contains(want), "{want}: {e}");
    }
    let sc = sc.replace(r#"["t.csv", "u.csv"], "max_gap": "2m""#, r#""t.csv""#);
    let e = load_files(
        "mon-csv-revisions",
        &[("scenario.json", sc.as_bytes()), ("t.csv", csv.as_bytes())],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(
            "workloads[0].demand.revisions: \"revisions\" goes with a cloud-monitoring trace"
        ),
        "{e}"
    );
}
