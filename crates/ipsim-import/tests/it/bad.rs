//! Bad or partial inputs: each gets a precise error (file, field, what would be valid) or a
//! note saying what was done with it.

use ipsim_import::{Options, import};

use crate::{imported, source, text};

fn errors(srcs: &[ipsim_import::Source], opts: &Options) -> Vec<String> {
    match import(srcs, opts) {
        Ok(i) => panic!("expected errors, got {}", i.json()),
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

const SERVICE: &str = r#"apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: web
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/maxScale: MAX
        run.googleapis.com/network-interfaces: 'NICS'
    spec:
      containers:
      - image: us-docker.pkg.dev/cloudrun/container/hello
"#;

fn service(max: &str, nics: &str) -> String {
    SERVICE.replace("MAX", max).replace("NICS", nics)
}

fn subnet() -> Options {
    Options {
        subnets: vec![("run-subnet".into(), "10.0.0.0/24".into())],
        ..Options::default()
    }
}

#[test]
fn max_scale_not_a_number() {
    let s = text(
        "web.yaml",
        &service(
            "'lots'",
            r#"[{"network":"default","subnetwork":"run-subnet"}]"#,
        ),
    );
    assert_eq!(
        errors(&[s], &subnet()),
        [
            "web.yaml: spec.template.metadata.annotations[\"autoscaling.knative.dev/maxScale\"]: \"lots\" is not a whole number of instances from 0 to 100000 (annotations are strings of digits, like \"100\")"
        ]
    );
}

#[test]
fn a_subnetwork_url_to_an_undeclared_subnet() {
    let s = text(
        "web.yaml",
        &service(
            "'10'",
            r#"[{"network":"projects/host/global/networks/shared","subnetwork":"projects/host-project/regions/us-central1/subnetworks/shared-run"}]"#,
        ),
    );
    assert_eq!(
        errors(&[s], &Options::default()),
        [
            "web.yaml: spec.template.metadata.annotations[\"run.googleapis.com/network-interfaces\"][0].subnetwork: subnet \"shared-run\" (projects/host-project/regions/us-central1/subnetworks/shared-run) is not declared by any input (a Shared VPC host project's subnet?): give its range with --subnet shared-run=CIDR"
        ]
    );
    // Given, it is used by its name.
    let s = text(
        "web.yaml",
        &service(
            "'10'",
            r#"[{"subnetwork":"projects/host-project/regions/us-central1/subnetworks/shared-run"}]"#,
        ),
    );
    let opts = Options {
        subnets: vec![("shared-run".into(), "10.8.0.0/22".into())],
        ..Options::default()
    };
    let i = import(&[s], &opts).unwrap();
    assert_eq!(i.scenario.subnets[0].cidr, "10.8.0.0/22");
    assert_eq!(i.scenario.workloads[0].subnet, "shared-run");
}

#[test]
fn network_interfaces_not_json_or_empty() {
    let s = text("web.yaml", &service("'10'", "default/run-subnet"));
    assert_eq!(
        errors(&[s], &subnet()),
        [
            "web.yaml: spec.template.metadata.annotations[\"run.googleapis.com/network-interfaces\"]: not a JSON list of interfaces like '[{\"network\":\"default\",\"subnetwork\":\"run-subnet\"}]': expected value at line 1 column 1"
        ]
    );
    let s = text("web.yaml", &service("'10'", "[]"));
    assert_eq!(
        errors(&[s], &subnet()),
        [
            "web.yaml: spec.template.metadata.annotations[\"run.googleapis.com/network-interfaces\"]: service \"web\": the network interfaces list is empty: Direct VPC egress needs one interface with a subnetwork"
        ]
    );
}

#[test]
fn no_network_interfaces_or_a_connector_is_a_note_and_left_out() {
    let plain = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - image: hello\n";
    let i = import(
        &[
            text("web.yaml", plain),
            source("connector-service.yaml"),
            source("worker-pool.yaml"),
        ],
        &subnet(),
    )
    .unwrap();
    assert_eq!(i.scenario.workloads.len(), 1);
    assert_eq!(i.scenario.workloads[0].name, "consumer");
    assert!(i.notes.contains(&"web.yaml: service \"web\" has no network interfaces (run.googleapis.com/network-interfaces) and no connector: it does not use Direct VPC egress, so it takes no subnet address and is left out".to_string()), "{:#?}", i.notes);
    assert!(i.notes.iter().any(|n| n.starts_with(
        "connector-service.yaml: service \"legacy\" uses the Serverless VPC Access connector"
    )));
    // Nothing on Direct VPC at all is an error: there is nothing to simulate.
    assert_eq!(
        errors(&[source("connector-service.yaml")], &subnet()),
        [
            "inputs: no Cloud Run service, worker pool or job on Direct VPC egress was found: nothing to simulate"
        ]
    );
}

#[test]
fn several_documents_are_each_read_with_a_note() {
    let two = format!(
        "{}---\n{}",
        service("'5'", r#"[{"subnetwork":"run-subnet"}]"#),
        service("'7'", r#"[{"subnetwork":"run-subnet"}]"#).replace("name: web", "name: web2")
    );
    let i = import(&[text("all.yaml", &two)], &subnet()).unwrap();
    assert_eq!(
        i.notes[0],
        "all.yaml: 2 YAML documents, each read as one resource"
    );
    let scales: Vec<(String, u32)> = i
        .scales
        .iter()
        .map(|s| (s.workload.clone(), s.count))
        .collect();
    assert_eq!(scales, [("web".to_string(), 5), ("web2".to_string(), 7)]);
    // The same name twice is an error.
    let dup = format!(
        "{}---\n{}",
        service("'5'", r#"[{"subnetwork":"run-subnet"}]"#),
        service("'7'", r#"[{"subnetwork":"run-subnet"}]"#)
    );
    assert_eq!(
        errors(&[text("all.yaml", &dup)], &subnet()),
        [
            "all.yaml (document 2): service \"web\" is also in all.yaml (document 1): each workload once"
        ]
    );
}

#[test]
fn bad_yaml_json_and_unknown_kinds() {
    let e = errors(
        &[text("x.yaml", "kind: Service\n  name: [unclosed\n")],
        &subnet(),
    );
    assert!(e[0].starts_with("x.yaml: not valid YAML: "), "{e:?}");
    assert_eq!(
        errors(
            &[text(
                "x.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
            )],
            &subnet()
        ),
        [
            "x.yaml: kind: \"ConfigMap\" is not a Cloud Run resource ipsim reads: Service, Job or WorkerPool"
        ]
    );
    assert_eq!(
        errors(
            &[text("plan.json", "{\"format_version\": \"1.2\"}")],
            &subnet()
        ),
        [
            "plan.json: `terraform show -json` output with neither \"planned_values\" (a plan) nor \"values\" (a state): was the plan empty?"
        ]
    );
    assert_eq!(
        errors(
            &[text(
                "a.json",
                "[{\"name\": \"vm\", \"address\": \"10.0.0.500\", \"subnetwork\": \"run-subnet\"}]"
            )],
            &subnet()
        ),
        ["a.json: [0].address: \"10.0.0.500\" is not an IPv4 address like \"10.0.0.5\""]
    );
}

#[test]
fn a_reservation_handed_to_a_service_is_its_block_from_time_0() {
    let opts = Options {
        holders: vec![("serverless-ipv4-1740938400000".into(), "api".into())],
        ..subnet()
    };
    let i = imported(&["api-service.yaml", "addresses.json"], &opts);
    let r = &i.scenario.subnets[0].reserved[0];
    assert_eq!(
        (r.prefix.as_str(), r.holder.as_deref()),
        ("10.0.0.32/28", Some("api"))
    );
    // At the swap the api holds 40 + 40 instances, 160 addresses, 10 blocks, the one it
    // already held among them: 10 blocks reserved on the subnet at the peak, where the
    // block left to existing Cloud Run makes 11.
    let out = crate::run(&i);
    assert_eq!(out.workloads[0].summary.peak_reserved_blocks, Some(10));
    assert_eq!(out.summary.peak_reserved_blocks, 10);
    let unmapped = crate::run(&imported(
        &["api-service.yaml", "addresses.json"],
        &subnet(),
    ));
    assert_eq!(unmapped.summary.peak_reserved_blocks, 11);
    let opts = Options {
        holders: vec![("serverless-ipv4-9".into(), "api".into())],
        ..subnet()
    };
    assert_eq!(
        errors(
            &[source("api-service.yaml"), source("addresses.json")],
            &opts
        ),
        [
            "--hold: serverless-ipv4-9: no serverless-ipv4-* /28 reservation named \"serverless-ipv4-9\" is in the addresses read"
        ]
    );
}

#[test]
fn a_state_reads_values_and_a_job_timeout() {
    let state = r#"{"format_version": "1.0", "terraform_version": "1.9.5",
      "values": {"root_module": {"resources": [
        {"address": "google_compute_subnetwork.s", "type": "google_compute_subnetwork", "name": "s",
         "values": {"name": "jobs", "ip_cidr_range": "10.1.0.0/26"}},
        {"address": "module.batch.google_cloud_run_v2_job.j", "type": "google_cloud_run_v2_job", "name": "j",
         "values": {"name": "nightly", "template": [{"task_count": 30, "parallelism": 0,
           "template": [{"timeout": "90s", "vpc_access": [{"network_interfaces": [{"subnetwork": "jobs"}]}]}]}]}}
      ]}}}"#;
    let i = import(&[text("state.json", state)], &Options::default()).unwrap();
    let j = serde_json::to_value(&i.scenario.workloads[0]).unwrap();
    assert_eq!(
        j,
        serde_json::json!({"name": "nightly", "kind": "job", "subnet": "jobs", "quota": 200,
            "executions": [{"start": "10m", "tasks": 30, "parallelism": 0, "task_duration": "1m30s"}]})
    );
    assert_eq!(i.scales[0].why, "all 30 tasks at once");
    // 30 tasks, one address each, in two /28 blocks of a /26 whose edge blocks are excluded.
    assert!(crate::run(&i).summary.first_exhaustion.is_none());
}

#[test]
fn a_terraform_worker_pool_at_its_manual_count_and_a_connector_noted() {
    let state = r#"{"format_version": "1.0",
      "values": {"root_module": {"resources": [
        {"address": "google_compute_subnetwork.s", "type": "google_compute_subnetwork", "name": "s",
         "values": {"name": "pool", "ip_cidr_range": "10.2.0.0/24"}},
        {"address": "google_cloud_run_v2_worker_pool.w", "type": "google_cloud_run_v2_worker_pool", "name": "w",
         "values": {"name": "consumer", "scaling": [{"scaling_mode": "MANUAL", "manual_instance_count": 6}],
           "template": [{"vpc_access": [{"network_interfaces": [{"network": "vpc", "subnetwork": "pool"}]}]}]}},
        {"address": "google_vpc_access_connector.c", "type": "google_vpc_access_connector", "name": "c",
         "values": {"name": "conn", "ip_cidr_range": "10.8.0.0/28", "machine_type": "e2-micro"}}
      ]}}}"#;
    let i = import(&[text("state.json", state)], &Options::default()).unwrap();
    let w = serde_json::to_value(&i.scenario.workloads[0]).unwrap();
    assert_eq!(
        w,
        serde_json::json!({"name": "consumer", "kind": "worker_pool", "subnet": "pool",
            "max_instances": 6, "quota": 200, "demand": {"type": "constant", "value": 6.0},
            "swaps": [{"at": "10m", "rollout": "0s"}]})
    );
    assert_eq!(
        i.notes,
        [
            "state.json: google_vpc_access_connector.c: connector \"conn\" on 10.8.0.0/28: a Serverless VPC Access connector, not Direct VPC egress; its services are left out (`ipsim cost` compares the two designs)",
            "state.json: google_vpc_access_connector.c: not used: machine_type",
        ]
    );
}
