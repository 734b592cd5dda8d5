//! Connectors and the classic mistake, with exact figures.

use ipsim_scenario::load;

use crate::{load_files, repo};

const H: u64 = 3_600_000;

#[test]
fn connector_scales_out_never_in_and_saturates_for_an_hour() {
    let s = load(&repo().join("scenarios/connector.json")).unwrap();
    let out = s.run().unwrap();
    let w = &out.workloads[0];
    let n = |t: u64| w.at(t).unwrap().running;
    assert_eq!(
        [
            n(0),
            n(H - 1),
            n(H),
            n(2 * H),
            n(3 * H - 1),
            n(3 * H),
            n(4 * H),
            n(6 * H - 1)
        ],
        [2, 2, 5, 5, 5, 10, 10, 10]
    );
    let sat = &out.summary.saturation_windows;
    assert_eq!(sat.len(), 1);
    assert_eq!(
        (sat[0].start_ms, sat[0].end_ms, sat[0].open),
        (3 * H, 4 * H, false)
    );
    assert_eq!(out.subnets[0].at(3 * H).in_use, 10);
    assert_eq!(out.subnets[0].at(3 * H).unreserved, 2);
    assert_eq!(out.subnets[0].summary.peak_reserved, 0);
}

#[test]
fn the_classic_mistake_is_explained_and_replayable() {
    let sc = |allow: bool| {
        format!(
            r#"{{"name": "mistake", "description": "Direct VPC on the connector's /28", "duration": "1h",
  "subnets": [{{"name": "conn-28", "cidr": "10.8.0.0/28", "allow_small_subnet": {allow}}}],
  "workloads": [
    {{"name": "conn", "kind": "connector", "subnet": "conn-28", "demand": {{"type": "constant", "value": 100}}}},
    {{"name": "api", "subnet": "conn-28", "demand": {{"type": "constant", "value": 3}}}}
  ]}}"#
        )
    };
    let e = load_files("mistake", &[("scenario.json", sc(false).as_bytes())])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("subnets[0].cidr: 10.8.0.0/28 is the /28 of connector \"conn\": Direct VPC egress needs a /26 or larger subnet"),
        "{e}"
    );
    assert!(
        e.contains("(set allow_small_subnet to replay this mistake)"),
        "{e}"
    );
    let s = load_files(
        "mistake-replayed",
        &[("scenario.json", sc(true).as_bytes())],
    )
    .unwrap();
    let out = s.run().unwrap();
    let first = out.summary.first_exhaustion.unwrap();
    assert_eq!((first.time_ms, first.workload, first.running), (0, 1, 0));
    assert_eq!(out.workloads[0].summary.peak_running, 2);
}

#[test]
fn connector_limits_are_checked() {
    let sc = |cidr: &str, extra: &str| {
        format!(
            r#"{{"name": "c", "description": "c", "duration": "1h",
  "subnets": [{{"name": "s", "cidr": "{cidr}"}}],
  "workloads": [{{"name": "conn", "kind": "connector", "subnet": "s", "demand": {{"type": "constant", "value": 100}}{extra}}}]}}"#
        )
    };
    for (i, (cidr, extra, want)) in [
        ("10.8.0.0/24", "", "a Serverless VPC Access connector needs a dedicated /28 subnet; \"s\" is a /24"),
        ("10.8.0.0/28", r#", "min_instances": 1"#, "min_instances 1: a connector runs at least 2 instances"),
        ("10.8.0.0/28", r#", "max_instances": 11"#, "max_instances 11: a connector runs at most 10 instances"),
        ("10.8.0.0/28", r#", "swaps": [{"at": "10m"}]"#, "a connector has no swaps"),
        ("10.8.0.0/28", r#", "machine_type": "n2-standard-8""#, "unknown variant `n2-standard-8`, expected one of `f1-micro`, `e2-micro`, `e2-standard-4`"),
    ]
    .iter()
    .enumerate()
    {
        let e = load_files(&format!("conn-{i}"), &[("scenario.json", sc(cidr, extra).as_bytes())]).unwrap_err().to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
    let e = load_files("svc-machine", &[("scenario.json", br#"{"name": "c", "description": "c", "duration": "1h",
  "subnets": [{"name": "s", "cidr": "10.8.0.0/24"}],
  "workloads": [{"name": "api", "subnet": "s", "machine_type": "e2-micro", "demand": {"type": "constant", "value": 1}}]}"#)])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("scenario.json:3:48: workloads[0].machine_type: a service has no machine_type (machine_type and throughput_per_instance are for connectors"),
        "{e}"
    );
}
