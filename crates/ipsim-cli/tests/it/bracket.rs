//! What a run assumes, stated in every output, and the bracket over the undocumented
//! readings.

use crate::{ipsim, text, tmp};

fn report(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn report_json_lists_every_undocumented_parameter() {
    let d = tmp("assumptions");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--out",
        d.to_str().unwrap(),
        "--no-chart",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains(
            "Assumes (undocumented): block_scope=service, retention=fixed, edge_blocks=excluded, \
             strategy=first-fit, block_linger=0s, retry_interval=10s, sample_interval=1m"
        ),
        "{stdout}"
    );
    let r = report(&d);
    assert_eq!(r["format"], 2);
    assert!(r["ipsim_version"].is_string());
    assert_eq!(r["params"]["block_scope"], "service");
    assert_eq!(r["params"]["service_retention_ms"], 1_200_000);
    assert_eq!(r["subnets"][0]["edge_blocks"], "excluded");
    let a = r["assumptions"].as_array().unwrap();
    let status = |p: &str| {
        a.iter()
            .find(|x| x["parameter"] == p)
            .unwrap_or_else(|| panic!("{p} missing"))["status"]
            .clone()
    };
    for p in [
        "params.block_scope",
        "params.retention",
        "subnets[].edge_blocks",
        "params.strategy",
        "params.block_linger",
        "params.retry_interval",
        "params.sample_interval",
    ] {
        assert_eq!(status(p), "model_choice", "{p}");
    }
    for p in [
        "params.ips_per_instance",
        "params.ips_per_task",
        "params.block_size",
        "params.service_retention",
        "params.task_retention",
    ] {
        assert_eq!(status(p), "documented", "{p}");
        let x = a.iter().find(|x| x["parameter"] == p).unwrap();
        assert!(
            x["source"]
                .as_str()
                .unwrap()
                .starts_with("https://cloud.google.com/")
        );
    }
}
