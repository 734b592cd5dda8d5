use expect_test::expect;
use ipsim_import::Options;

use crate::{imported, run, shown};

#[test]
fn gcloud_exports_and_the_address_list() {
    let opts = Options {
        subnets: vec![("run-subnet".into(), "10.0.0.0/24".into())],
        ..Options::default()
    };
    let i = imported(
        &[
            "api-service.yaml",
            "etl-job.yaml",
            "worker-pool.yaml",
            "connector-service.yaml",
            "addresses.json",
        ],
        &opts,
    );
    expect![[r#"
        {
          "name": "imported",
          "description": "Imported by ipsim import. Worst case: every service and worker pool at its maximum (the Direct VPC quota of 200 instances per revision where none is set, and never above it) swaps to a new revision at 10m (at once), and every job runs all its tasks at its parallelism from 10m, each task for its whole timeout. Scales: service api at 40 (template maxScale 40); job etl at 20 (50 tasks, 20 at once); worker pool consumer at 3 (manualInstanceCount 3).",
          "seed": 0,
          "duration": "45m",
          "subnets": [
            {
              "name": "run-subnet",
              "cidr": "10.0.0.0/24",
              "statics": [
                {
                  "label": "vm-bastion (GCE_ENDPOINT)",
                  "address": "10.0.0.5"
                }
              ],
              "reserved": [
                {
                  "prefix": "10.0.0.32/28",
                  "label": "serverless-ipv4-1740938400000"
                }
              ]
            }
          ],
          "workloads": [
            {
              "name": "api",
              "kind": "service",
              "subnet": "run-subnet",
              "min_instances": 2,
              "max_instances": 40,
              "quota": 200,
              "demand": {
                "type": "constant",
                "value": 40.0
              },
              "swaps": [
                {
                  "at": "10m",
                  "rollout": "0s"
                }
              ]
            },
            {
              "name": "etl",
              "kind": "job",
              "subnet": "run-subnet",
              "quota": 200,
              "executions": [
                {
                  "start": "10m",
                  "tasks": 50,
                  "parallelism": 20,
                  "task_duration": "5m"
                }
              ]
            },
            {
              "name": "consumer",
              "kind": "worker_pool",
              "subnet": "run-subnet",
              "max_instances": 3,
              "quota": 200,
              "demand": {
                "type": "constant",
                "value": 3.0
              },
              "swaps": [
                {
                  "at": "10m",
                  "rollout": "0s"
                }
              ]
            }
          ]
        }
        note: api-service.yaml: service "api": containerConcurrency 80 is not needed for a demand in instances
        note: api-service.yaml: not used: metadata.annotations["run.googleapis.com/ingress"], metadata.annotations["run.googleapis.com/ingress-status"], metadata.labels, metadata.namespace, spec.template.metadata.annotations["run.googleapis.com/startup-cpu-boost"], spec.template.metadata.annotations["run.googleapis.com/vpc-access-egress"], spec.template.metadata.labels, spec.template.spec.containers, spec.template.spec.serviceAccountName, spec.template.spec.timeoutSeconds, spec.traffic
        note: etl-job.yaml: not used: metadata.annotations["run.googleapis.com/launch-stage"], metadata.labels, metadata.namespace, spec.template.metadata.annotations["run.googleapis.com/execution-environment"], spec.template.metadata.annotations["run.googleapis.com/vpc-access-egress"], spec.template.spec.template.spec.containers, spec.template.spec.template.spec.maxRetries, spec.template.spec.template.spec.serviceAccountName
        note: worker-pool.yaml: not used: metadata.annotations["run.googleapis.com/launch-stage"], metadata.namespace, spec.template.spec.containers
        note: connector-service.yaml: service "legacy" uses the Serverless VPC Access connector "projects/p/locations/us-central1/connectors/conn-1" (run.googleapis.com/vpc-access-connector), not Direct VPC egress: it takes no address of a Cloud Run subnet, so it is left out (`ipsim cost` compares the two designs)
        note: connector-service.yaml: not used: spec.template.metadata.annotations["autoscaling.knative.dev/maxScale"], spec.template.metadata.annotations["run.googleapis.com/vpc-access-egress"], spec.template.spec.containers
        note: addresses.json: not used: [].creationTimestamp, [].id, [].kind, [].labelFingerprint, [].networkTier, [].region, [].selfLink, [].users
    "#]].assert_eq(&shown(&i));
    // On the /24 the swap fits (api 40 + 40 instances in 10 blocks, the worker pool's 3 + 3
    // in one, the job's first 20 tasks in two: the 13 blocks left by the edge blocks and the
    // existing Cloud Run reservation); the job's second wave at 15m does not, since its first
    // wave's addresses are retained for 7 minutes.
    let out = run(&i);
    let first = out
        .summary
        .first_exhaustion
        .as_ref()
        .expect("the /24 runs dry");
    assert_eq!(
        (first.time_ms, first.workload, first.desired, first.running),
        (15 * 60_000, 1, 20, 12)
    );
    // A /23 holds it.
    let opts = Options {
        subnets: vec![("run-subnet".into(), "10.0.0.0/23".into())],
        ..Options::default()
    };
    let i = imported(
        &[
            "api-service.yaml",
            "etl-job.yaml",
            "worker-pool.yaml",
            "addresses.json",
        ],
        &opts,
    );
    assert!(run(&i).summary.first_exhaustion.is_none());
}

#[test]
fn terraform_plan() {
    let i = imported(&["plan.json"], &Options::default());
    expect![[r#"
        {
          "name": "imported",
          "description": "Imported by ipsim import. Worst case: every service and worker pool at its maximum (the Direct VPC quota of 200 instances per revision where none is set, and never above it) swaps to a new revision at 10m (at once), and every job runs all its tasks at its parallelism from 10m, each task for its whole timeout. Scales: service api at 40 (template scaling max_instance_count 40); job etl at 20 (50 tasks, 20 at once).",
          "seed": 0,
          "duration": "45m",
          "subnets": [
            {
              "name": "run-subnet",
              "cidr": "10.0.0.0/24"
            }
          ],
          "workloads": [
            {
              "name": "api",
              "kind": "service",
              "subnet": "run-subnet",
              "min_instances": 2,
              "max_instances": 40,
              "quota": 200,
              "demand": {
                "type": "constant",
                "value": 40.0
              },
              "swaps": [
                {
                  "at": "10m",
                  "rollout": "0s"
                }
              ]
            },
            {
              "name": "etl",
              "kind": "job",
              "subnet": "run-subnet",
              "quota": 200,
              "executions": [
                {
                  "start": "10m",
                  "tasks": 50,
                  "parallelism": 20,
                  "task_duration": "5m"
                }
              ]
            }
          ]
        }
        note: plan.json: google_compute_subnetwork.run: secondary_ip_range ignored: Cloud Run's Direct VPC egress takes addresses from the primary range
        note: plan.json: google_compute_subnetwork.run: not used: network, private_ip_google_access, region
        note: plan.json: google_cloud_run_v2_service.api: service "api": the subnetwork is known only after apply; the configuration refers to subnet "run-subnet"
        note: plan.json: google_cloud_run_v2_service.api: max_instance_request_concurrency 80 is not needed for a demand in instances
        note: plan.json: google_cloud_run_v2_service.api: not used: deletion_protection, ingress, location, template[].containers
        note: plan.json: google_cloud_run_v2_job.etl: not used: location, template[].template[].containers, template[].template[].max_retries
        note: plan.json: resources not read (no Cloud Run, subnet or connector): google_storage_bucket.assets
        note: plan.json: not used: resource_changes (the scenario is made of planned_values; configuration only for references unknown until apply)
    "#]].assert_eq(&shown(&i));
}

#[test]
fn other_demand_profiles() {
    let subnet = vec![("run-subnet".to_string(), "10.0.0.0/24".to_string())];
    let opts = Options {
        subnets: subnet.clone(),
        demand: ipsim_import::Demand::Trace("prod.json".into()),
        ..Options::default()
    };
    let i = imported(&["api-service.yaml", "etl-job.yaml"], &opts);
    let v = serde_json::to_value(&i.scenario).unwrap();
    assert_eq!(
        v["traces"],
        serde_json::json!([{"name": "demand", "format": "cloud-monitoring", "file": "prod.json"}])
    );
    assert_eq!(
        v["workloads"][0]["demand"],
        serde_json::json!({"type": "trace", "trace": "demand"})
    );
    assert!(v["workloads"][0].get("swaps").is_none());
    assert_eq!(v["workloads"][0]["max_instances"], 40);
    assert_eq!(i.scales[0].why, "the trace, up to template maxScale 40");
    assert_eq!(v["workloads"][1]["executions"][0]["tasks"], 50);

    let opts = Options {
        subnets: subnet,
        demand: ipsim_import::Demand::MinInstances,
        rollout_ms: 0,
        ..Options::default()
    };
    let i = imported(&["api-service.yaml", "etl-job.yaml"], &opts);
    let v = serde_json::to_value(&i.scenario.workloads).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(
        v[0]["demand"],
        serde_json::json!({"type": "constant", "value": 2.0})
    );
    assert!(
        i.notes
            .contains(&"job \"etl\": left out (the demand is min instances only)".to_string())
    );
    // The service level minScale "2": 2 instances of 2 addresses, one block.
    assert_eq!(crate::run(&i).summary.peak_held, 4);
}

#[test]
fn the_rollout_variant_rolls_the_swap_out() {
    let opts = Options {
        subnets: vec![("run-subnet".into(), "10.0.0.0/24".into())],
        rollout_ms: 10 * 60_000,
        ..Options::default()
    };
    let i = imported(&["api-service.yaml"], &opts);
    let v = serde_json::to_value(&i.scenario.workloads[0]).unwrap();
    assert_eq!(
        v["swaps"],
        serde_json::json!([{"at": "10m", "rollout": "10m"}])
    );
    assert!(
        i.scenario
            .description
            .contains("swaps to a new revision at 10m (rolled out over 10m)")
    );
}
