//! The bad-input corpus: every case must fail with an error naming the file, where in it, and
//! what would be valid; none may panic.

use crate::load_files;

const BASE_SUBNETS: &str = r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24"}]"#;

fn scenario(body: &str) -> String {
    format!(
        "{{\n  \"name\": \"bad\",\n  \"description\": \"a bad scenario\",\n  \"duration\": \"1h\",\n{body}\n}}\n"
    )
}

fn service(demand: &str) -> String {
    format!(
        "{BASE_SUBNETS},\n  \"workloads\": [{{\"name\": \"api\", \"subnet\": \"main\", \"demand\": {demand}}}]"
    )
}

/// (case name, files, fragments the reported errors must contain)
pub(crate) type Case = (
    &'static str,
    Vec<(&'static str, Vec<u8>)>,
    Vec<&'static str>,
);

pub(crate) fn corpus() -> Vec<Case> {
    let s = |body: &str| vec![("scenario.json", scenario(body).into_bytes())];
    let with_trace = |body: &str, trace: &[u8]| {
        vec![
            ("scenario.json", scenario(body).into_bytes()),
            ("trace.csv", trace.to_vec()),
        ]
    };
    let csv_body = r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24"}],
  "workloads": [{"name": "api", "subnet": "main", "demand": {"type": "trace", "trace": "t"}}],
  "traces": [{"name": "t", "format": "csv", "file": "trace.csv"}]"#;
    let rps_body = csv_body.to_string();
    let reserved = |r: &str| {
        s(&format!(
            r#""subnets": [{{"name": "main", "cidr": "10.0.0.0/24", "reserved": [{r}]}}],
  "workloads": [{{"name": "api", "subnet": "main", "demand": {{"type": "constant", "value": 1}}}},
    {{"name": "etl", "kind": "job", "subnet": "main",
      "executions": [{{"start": "0s", "tasks": 1, "task_duration": "1m"}}]}}]"#
        ))
    };
    vec![
        (
            "reserved holder unknown",
            reserved(r#"{"prefix": "10.0.0.32/28", "holder": "web"}"#),
            vec![
                "scenario.json:5:103: subnets[0].reserved[0].holder: no workload is named \"web\": the holder is a service or worker pool of this scenario (leave it out for existing Cloud Run)",
            ],
        ),
        (
            "reserved holder a job",
            reserved(r#"{"prefix": "10.0.0.32/28", "holder": "etl"}"#),
            vec![
                "subnets[0].reserved[0]: workload \"etl\" is not a service or worker pool: only they can hold a block from time 0",
            ],
        ),
        (
            "reserved block not aligned",
            reserved(r#"{"prefix": "10.0.0.40/28", "label": "serverless-ipv4-1"}"#),
            vec![
                "subnets[0].reserved[0]: 10.0.0.40/28 has host bits set: a block starts at a multiple of 16",
            ],
        ),
        (
            "reserved block an edge block",
            reserved(r#"{"prefix": "10.0.0.0/28"}"#),
            vec![
                "subnets[0].reserved[0]: 10.0.0.0/28 cannot be reserved: it holds a static address or is an edge block",
            ],
        ),
        (
            "bad cidr",
            s(r#""subnets": [{"name": "main", "cidr": "10.0.0.300/24"}]"#),
            vec![
                "scenario.json:5:38: subnets[0].cidr: \"10.0.0.300/24\" is not an IPv4 range like \"10.0.0.0/24\"",
            ],
        ),
        (
            "a /27",
            s(&service(r#"{"type": "constant", "value": 1}"#).replace("/24", "/27")),
            vec![
                "subnets[0].cidr: 10.0.0.0/27 is smaller than /26: Cloud Run needs a /26 or larger subnet",
            ],
        ),
        (
            "host bits",
            s(&service(r#"{"type": "constant", "value": 1}"#)
                .replace("10.0.0.0/24", "10.0.0.7/24")),
            vec!["subnets[0].cidr: 10.0.0.7/24 has host bits set; the network is 10.0.0.0/24"],
        ),
        (
            "unsupported range",
            s(
                &service(r#"{"type": "constant", "value": 1}"#)
                    .replace("10.0.0.0/24", "8.8.8.0/24"),
            ),
            vec![
                "8.8.8.0/24 is outside the ranges Cloud Run supports",
                "allow_unsupported_range",
            ],
        ),
        (
            "overlapping statics",
            s(
                r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24", "statics": [{"prefix": "10.0.0.16/28"}, {"address": "10.0.0.20"}]}]"#,
            ),
            vec!["subnets[0].statics[1]: 10.0.0.20 overlaps statics[0]"],
        ),
        (
            "static outside",
            s(
                r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24", "statics": [{"address": "10.9.0.20"}]}]"#,
            ),
            vec!["subnets[0].statics[0]: 10.9.0.20 is outside the subnet 10.0.0.0/24"],
        ),
        (
            "static twice",
            s(
                r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24", "statics": [{"address": "10.0.0.9", "count": 3}]}]"#,
            ),
            vec!["subnets[0].statics[0]: give exactly one of \"address\", \"prefix\" or \"count\""],
        ),
        (
            "unknown field",
            s(&format!("{BASE_SUBNETS},\n  \"duraton\": \"2h\"")),
            vec!["scenario.json:6:3: duraton: unknown field `duraton`, expected one of"],
        ),
        (
            "unknown demand field",
            s(&service(r#"{"type": "constant", "value": 1, "vaule": 2}"#)),
            vec![
                "scenario.json:6:94: workloads[0].demand.vaule: unknown field `vaule`, expected `value`",
            ],
        ),
        (
            "unknown demand type",
            s(&service(r#"{"type": "sine", "value": 1}"#)),
            vec![
                "workloads[0].demand.type: unknown variant `sine`, expected one of `constant`, `step`, `surge`, `diurnal`, `trace`",
            ],
        ),
        (
            "negative value",
            s(&service(r#"{"type": "constant", "value": -5}"#)),
            vec![
                "scenario.json:6:91: workloads[0].demand.value: -5 is not an instance count of 0 or more",
            ],
        ),
        (
            "absurd value",
            s(&service(r#"{"type": "constant", "value": 1e12}"#)),
            vec![
                "workloads[0].demand.value: 1000000000000 is absurdly large for an instance count (at most 100000)",
            ],
        ),
        (
            "absurd duration",
            vec![(
                "scenario.json",
                scenario(BASE_SUBNETS)
                    .replace("\"1h\"", "\"9999d\"")
                    .into_bytes(),
            )],
            vec!["duration: 9999d is longer than the 400 days ipsim accepts"],
        ),
        (
            "negative duration",
            vec![(
                "scenario.json",
                scenario(BASE_SUBNETS).replace("\"1h\"", "-5").into_bytes(),
            )],
            vec!["scenario.json:4:15: duration: duration -5 is negative"],
        ),
        (
            "bad duration text",
            vec![(
                "scenario.json",
                scenario(BASE_SUBNETS)
                    .replace("\"1h\"", "\"5x\"")
                    .into_bytes(),
            )],
            vec!["duration: invalid duration \"5x\": expected numbers with units d, h, m, s or ms"],
        ),
        (
            "wrong type",
            s(&format!("{BASE_SUBNETS},\n  \"seed\": \"abc\"")),
            vec![
                "seed: invalid type: string \"abc\", expected a whole number from 0 to 18446744073709551615",
            ],
        ),
        (
            "missing field",
            vec![(
                "scenario.json",
                br#"{"name": "x", "description": "y", "subnets": []}"#.to_vec(),
            )],
            vec!["missing field `duration`"],
        ),
        (
            "time backwards in steps",
            s(&service(
                r#"{"type": "step", "points": [["10m", 1], ["5m", 2]]}"#,
            )),
            vec![
                "workloads[0].demand.points[1]: time 5m goes back from the previous point's 10m; times must increase",
            ],
        ),
        (
            "undeclared subnet",
            s(&service(r#"{"type": "constant", "value": 1}"#)
                .replace("\"subnet\": \"main\"", "\"subnet\": \"nope\"")),
            vec!["workloads[0].subnet: subnet \"nope\" is not declared; declared subnets: main"],
        ),
        (
            "non-utf8 scenario",
            vec![("scenario.json", {
                let mut b = scenario(BASE_SUBNETS).into_bytes();
                let i = b.iter().position(|&c| c == b'a').unwrap() + 1;
                b[i] = 0xff;
                b
            })],
            vec!["scenario.json:2:6: invalid unicode code point (scenario files must be UTF-8)"],
        ),
        (
            "top level not an object",
            vec![(
                "scenario.json",
                br#"["bad", "a bad scenario", "1h", [], []]"#.to_vec(),
            )],
            vec![
                "scenario.json:1:1: a scenario is a JSON object ({\"name\": ..., \"subnets\": [...], ...}), not an array",
            ],
        ),
        (
            "NaN",
            vec![(
                "scenario.json",
                scenario(&service(r#"{"type": "constant", "value": NaN}"#)).into_bytes(),
            )],
            vec!["NaN is not valid JSON; use a number"],
        ),
        (
            "truncated",
            vec![(
                "scenario.json",
                scenario(&service(r#"{"type": "constant", "value": 1}"#)).as_bytes()[..120]
                    .to_vec(),
            )],
            vec![
                "EOF while parsing",
                "(the file ends early: is it truncated?)",
            ],
        ),
        (
            "text after",
            vec![(
                "scenario.json",
                format!(
                    "{}\n{{}}",
                    scenario(&service(r#"{"type": "constant", "value": 1}"#))
                )
                .into_bytes(),
            )],
            vec!["scenario.json:9:1: unexpected text after the scenario object"],
        ),
        (
            "swap after the end",
            s(&service(
                r#"{"type": "constant", "value": 1}, "swaps": [{"at": "2h"}]"#,
            )),
            vec!["workloads[0].swaps[0].at: the swap at 2h is not before the end of the run (1h)"],
        ),
        (
            "job parallelism above its tasks",
            s(&format!(
                "{BASE_SUBNETS},\n  \"workloads\": [{{\"name\": \"j\", \"kind\": \"job\", \"subnet\": \"main\", \"executions\": [{{\"start\": 0, \"tasks\": 10, \"parallelism\": 12, \"task_duration\": \"1m\"}}]}}]"
            )),
            vec!["workloads[0].executions[0].parallelism: parallelism 12 is above the 10 tasks"],
        ),
        (
            "job with demand",
            s(&format!(
                "{BASE_SUBNETS},\n  \"workloads\": [{{\"name\": \"j\", \"kind\": \"job\", \"subnet\": \"main\", \"demand\": {{\"type\": \"constant\", \"value\": 1}}, \"executions\": [{{\"start\": 0, \"tasks\": 1, \"task_duration\": \"1m\"}}]}}]"
            )),
            vec![
                "workloads[0].demand: a job has no demand (it runs executions of tasks); the fields of a job, besides name, subnet and kind: quota, executions",
            ],
        ),
        (
            "service with executions",
            s(&format!(
                "{BASE_SUBNETS},\n  \"workloads\": [{{\"name\": \"w\", \"subnet\": \"main\", \"demand\": {{\"type\": \"constant\", \"value\": 1}}, \"executions\": [{{\"start\": 0, \"tasks\": 1, \"task_duration\": \"1m\"}}]}}]"
            )),
            vec!["scenario.json:6:93: workloads[0].executions: a service has no executions"],
        ),
        (
            "connector with a quota",
            s(&format!(
                "{BASE_SUBNETS},\n  \"workloads\": [{{\"name\": \"c\", \"kind\": \"connector\", \"subnet\": \"main\", \"quota\": 3, \"demand\": {{\"type\": \"constant\", \"value\": 1}}}}]"
            )),
            vec![
                "workloads[0].quota: a connector has no quota (its demand is throughput in Mbps); the fields of a connector",
            ],
        ),
        (
            "per-task durations",
            s(&format!(
                "{BASE_SUBNETS},\n  \"workloads\": [{{\"name\": \"j\", \"kind\": \"job\", \"subnet\": \"main\", \"executions\": [{{\"start\": 0, \"tasks\": 3, \"task_duration\": [\"1m\", \"2m\"]}}]}}]"
            )),
            vec![
                "workloads[0].executions[0].task_duration: 2 durations given for 3 tasks; give one per task",
            ],
        ),
        (
            "task duration shape",
            s(&format!(
                "{BASE_SUBNETS},\n  \"workloads\": [{{\"name\": \"j\", \"kind\": \"job\", \"subnet\": \"main\", \"executions\": [{{\"start\": 0, \"tasks\": 3, \"task_duration\": true}}]}}]"
            )),
            vec![
                "a duration (\"5m\"), a list of durations (one per task), or {\"min\": \"1m\", \"max\": \"4m\"}",
            ],
        ),
        (
            "min above max",
            s(&service(
                r#"{"type": "constant", "value": 1}, "min_instances": 5, "max_instances": 2"#,
            )),
            vec!["workloads[0].min_instances: min_instances 5 is above max_instances 2"],
        ),
        (
            "block size",
            s(&format!(
                "\"params\": {{\"block_size\": 12}},\n{}",
                service(r#"{"type": "constant", "value": 1}"#)
            )),
            vec![
                "scenario.json:5:26: params.block_size: 12 is not a power of two from 4 to 64 (16 is a /28)",
            ],
        ),
        (
            "target utilization",
            s(&format!(
                "\"params\": {{\"target_utilization\": 1.5}},\n{}",
                service(r#"{"type": "constant", "value": 1}"#)
            )),
            vec!["params.target_utilization: 1.5 is not a share in (0, 1] (0.6)"],
        ),
        (
            "duplicate names",
            s(
                r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24"}, {"name": "main", "cidr": "10.1.0.0/24"}]"#,
            ),
            vec!["subnets[1].name: subnet \"main\" is declared twice"],
        ),
        (
            "generator samples over the run",
            s(&format!(
                "\"params\": {{\"sample_interval\": \"1s\"}},\n{BASE_SUBNETS},\n  \"workloads\": [{{\"name\": \"w0\", \"subnet\": \"nope\", \"demand\": {{\"type\": \"step\", \"points\": [[\"0s\", 1]]}}}}{}]",
                (1..2800)
                    .map(|i| format!(", {{\"name\": \"w{i}\", \"subnet\": \"main\", \"demand\": {{\"type\": \"step\", \"points\": [[\"0s\", 1]]}}}}"))
                    .collect::<String>()
            )),
            vec!["workloads[2777].demand: the generators come to more than 10000000 samples over the run (10000800 with this one's 3600)"],
        ),
        (
            "seed -0",
            s(&format!(
                "\"seed\": -0,\n{}",
                service(r#"{"type": "constant", "value": 1}"#)
            )),
            vec!["seed: the seed -0 is a negative zero; write 0"],
        ),
        (
            "seed 2^64",
            s(&format!(
                "\"seed\": 18446744073709551616,\n{}",
                service(r#"{"type": "constant", "value": 1}"#)
            )),
            vec![
                "seed: the seed 1.8446744073709552e19 is too large; a seed is at most 18446744073709551615",
            ],
        ),
        (
            "overlapping subnets",
            s(
                r#""subnets": [{"name": "a", "cidr": "10.0.0.0/23"}, {"name": "b", "cidr": "10.9.0.0/24"}, {"name": "c", "cidr": "10.0.1.128/25"}]"#,
            ),
            vec![
                "subnets[2].cidr: 10.0.1.128/25 overlaps subnets[0] \"a\" (10.0.0.0/23); subnets of one VPC network cannot share addresses",
            ],
        ),
        (
            "subnets writing the same chart",
            s(
                r#""subnets": [{"name": "run.a", "cidr": "10.0.0.0/24"}, {"name": "run_a", "cidr": "10.1.0.0/24"}]"#,
            ),
            vec![
                "subnets[1].name: subnets \"run.a\" and \"run_a\" would write the same chart, occupancy-run_a.png",
            ],
        ),
        (
            "a name with NUL",
            s(
                &service(r#"{"type": "constant", "value": 1}"#)
                    .replace("\"api\"", "\"a\\u0000pi\""),
            ),
            vec!["workloads[0].name: the workload name \"a\\0pi\" holds a control character"],
        ),
        (
            "a name with a path separator",
            s(r#""subnets": [{"name": "ma/in", "cidr": "10.0.0.0/24"}],
  "workloads": [{"name": "api", "subnet": "ma/in", "demand": {"type": "constant", "value": 1}}]"#),
            vec!["subnets[0].name: the subnet name \"ma/in\" holds a path separator"],
        ),
        (
            "a name over 63 characters",
            s(&service(r#"{"type": "constant", "value": 1}"#)
                .replace("\"api\"", &format!("\"{}\"", "w".repeat(64)))),
            vec![
                "workloads[0].name: the workload name \"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww\"... (64 characters) has 64 characters, more than the 63 Google allows",
            ],
        ),
        (
            "undeclared trace",
            s(&service(r#"{"type": "trace", "trace": "prod"}"#)),
            vec!["workloads[0].demand.trace: trace \"prod\" is not declared in traces"],
        ),
        (
            "missing trace file",
            s(csv_body),
            vec!["trace.csv: cannot read the trace"],
        ),
        (
            "empty trace",
            with_trace(csv_body, b"time,workload,instances\n"),
            vec!["trace.csv:1: the trace has a header but no rows"],
        ),
        (
            "trace header",
            with_trace(csv_body, b"t,name,count\n0,api,1\n"),
            vec![
                "trace.csv:1: header: the header is \"t,name,count\"; expected `time,workload,instances` or `time,workload,rps`",
            ],
        ),
        (
            "trace time backwards",
            with_trace(
                csv_body,
                b"time,workload,instances\n0,api,1\n5m,api,2\n1m,api,3\n",
            ),
            vec![
                "trace.csv:4: time: time goes backwards: 1m is before the previous row's 5m; sort the trace by time",
            ],
        ),
        (
            "trace bad number",
            with_trace(csv_body, b"time,workload,instances\n0,api,one\n"),
            vec!["trace.csv:2: value: \"one\" is not a number"],
        ),
        (
            "trace negative",
            with_trace(csv_body, b"time,workload,instances\n0,api,-1\n"),
            vec!["trace.csv:2: value: -1 is not a finite number of 0 or more"],
        ),
        (
            "trace value beyond exact range",
            with_trace(csv_body, b"time,workload,instances\n0,api,1e1001\n"),
            vec!["trace.csv:2: value: 1e1001 is out of the range ipsim computes exactly"],
        ),
        (
            "trace rps above the instance cap",
            with_trace(
                &csv_body.replace(
                    r#""trace": "t"}"#,
                    r#""trace": "t"}, "requests": {"latency": "1h", "target_utilization": 0.001}"#,
                ),
                b"time,workload,rps\n0,api,1\n1m,api,1000000\n",
            ),
            vec![
                "trace.csv:3: value: at 1m the value for \"api\" is more than 100000 instances, the most ipsim accepts",
            ],
        ),
        (
            "a trace row of 1e9 instances",
            with_trace(
                csv_body,
                b"time,workload,instances\n0,api,3\n1m,api,1000000000\n",
            ),
            vec![
                "trace.csv:3: value: at 1m the value for \"api\" is more than 100000 instances, the most ipsim accepts",
            ],
        ),
        (
            "json value beyond exact range",
            s(&service(&format!(
                r#"{{"type": "constant", "value": 0.{}1}}"#,
                "0".repeat(1000)
            ))),
            vec![
                "workloads[0].demand.value: 0.000",
                "is out of the range ipsim computes exactly",
            ],
        ),
        (
            "rps above the instance cap",
            s(&service(
                r#"{"type": "constant", "value": 1000000}, "requests": {"latency": "1h", "target_utilization": 0.001}"#,
            )),
            vec![
                "workloads[0].demand: at 0s the demand is more than 100000 instances, the most ipsim accepts",
            ],
        ),
        (
            "a target utilisation of 1e-300",
            s(&service(
                r#"{"type": "constant", "value": 1}, "requests": {"latency": "100ms", "target_utilization": 1e-300}"#,
            )),
            vec![
                "workloads[0].demand: at 0s the demand is more than 100000 instances, the most ipsim accepts",
            ],
        ),
        (
            "1e9 rps at a latency of a day",
            s(&service(
                r#"{"type": "constant", "value": 1e9}, "requests": {"latency": "1d"}"#,
            )),
            vec![
                "workloads[0].demand: at 0s the demand is more than 100000 instances, the most ipsim accepts",
            ],
        ),
        (
            "trace unknown workload",
            with_trace(csv_body, b"time,workload,instances\n0,api,1\n0,web,1\n"),
            vec!["trace.csv:3: workload: no workload takes series \"web\" from this trace"],
        ),
        (
            "trace duplicate",
            with_trace(csv_body, b"time,workload,instances\n0,api,1\n0,api,2\n"),
            vec!["trace.csv:3: time: a second value for \"api\" at 0s"],
        ),
        (
            "trace non-utf8",
            with_trace(csv_body, b"time,workload,instances\n0,api,1\n1m,a\xffi,2\n"),
            vec!["trace.csv:3: the row is not valid UTF-8"],
        ),
        (
            "trace short row",
            with_trace(csv_body, b"time,workload,instances\n0,api\n"),
            vec!["trace.csv:2: the row has 2 fields; expected 3"],
        ),
        (
            "trace bad time",
            with_trace(csv_body, b"time,workload,instances\nyesterday,api,1\n"),
            vec!["trace.csv:2: time: time \"yesterday\" is neither an RFC 3339 time"],
        ),
        (
            "trace mixed times",
            with_trace(
                csv_body,
                b"time,workload,instances\n0,api,1\n2025-01-01T00:00:00Z,api,2\n",
            ),
            vec![
                "trace.csv:3: time: time \"2025-01-01T00:00:00Z\" mixes a clock time with the offsets used above",
            ],
        ),
        (
            "rps without requests",
            with_trace(&rps_body, b"time,workload,rps\n0,api,10\n"),
            vec!["workloads[0].requests: trace \"t\" gives requests per second"],
        ),
        (
            "connector with 20 instances",
            s(r#""subnets": [{"name": "c", "cidr": "10.8.0.0/28"}],
  "workloads": [{"name": "c", "kind": "connector", "subnet": "c", "max_instances": 20, "demand": {"type": "constant", "value": 100}}]"#),
            vec![
                "workloads[0].max_instances: max_instances 20: a connector runs at most 10 instances",
            ],
        ),
        (
            "negative count",
            s(&service(
                r#"{"type": "constant", "value": 1}, "min_instances": -1"#,
            )),
            vec!["workloads[0].min_instances: invalid value: integer `-1`, expected u32"],
        ),
        (
            "repeat count alone",
            s(&format!(
                "{BASE_SUBNETS},\n  \"workloads\": [{{\"name\": \"j\", \"kind\": \"job\", \"subnet\": \"main\", \"executions\": [{{\"start\": 0, \"tasks\": 1, \"task_duration\": \"1m\", \"repeat_count\": 3}}]}}]"
            )),
            vec!["workloads[0].executions[0].repeat_count: repeat_count goes with repeat_every"],
        ),
        (
            "bad static prefix",
            s(
                r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24", "statics": [{"prefix": "10.0.0.16/33"}]}]"#,
            ),
            vec!["subnets[0].statics[0].prefix: \"10.0.0.16/33\" is not an IPv4 range"],
        ),
        (
            "concurrency zero",
            s(&service(
                r#"{"type": "constant", "value": 100}, "requests": {"latency": "1s", "concurrency": 0}"#,
            )),
            vec!["workloads[0].requests.concurrency: 0 is not a concurrency from 1 to 1000"],
        ),
        (
            "structural and value errors together",
            vec![("scenario.json", MANY_PROBLEMS.as_bytes().to_vec())],
            vec![
                "scenario.json:11:39: workloads[0].colour: unknown field `colour`",
                "scenario.json:13:93: workloads[2].executions[0].tasks: invalid type",
                "scenario.json:7:32: subnets[1].cidr: \"10.1.0.300/24\" is not an IPv4 range",
            ],
        ),
    ]
}

#[test]
fn every_bad_input_gets_a_specific_error() {
    let cases = corpus();
    assert!(cases.len() >= 25, "the corpus has {} cases", cases.len());
    for (i, (name, files, want)) in cases.iter().enumerate() {
        let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        let got = match load_files(&format!("bad-{i}"), &files) {
            Ok(_) => panic!("case {name:?} loaded without error"),
            Err(e) => e.to_string(),
        };
        if std::env::var_os("SHOW_BAD_INPUT").is_some() {
            eprintln!("--- {name}\n{got}");
            continue;
        }
        for w in want {
            assert!(got.contains(w), "case {name:?}: expected {w:?} in:\n{got}");
        }
    }
}

/// Every problem is reported at once, not one per run.
#[test]
fn all_problems_at_once() {
    let body = r#""subnets": [{"name": "main", "cidr": "10.0.0.0/27"}, {"name": "b", "cidr": "nonsense"}],
  "workloads": [
    {"name": "a", "subnet": "zzz", "demand": {"type": "constant", "value": -1}},
    {"name": "a", "subnet": "main", "demand": {"type": "step", "points": []}}
  ]"#;
    let e = load_files(
        "all-at-once",
        &[("scenario.json", scenario(body).as_bytes())],
    )
    .unwrap_err();
    let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "subnets[1].cidr",
            "workloads[0].subnet",
            "workloads[0].demand.value",
            "workloads[1].name",
            "workloads[1].demand.points",
            // The core's checks (the subnet layout among them) come after the file's own.
            "subnets[0].cidr"
        ]
    );
    assert!(e.0.iter().all(|e| e.line.is_some()));
}

/// Structural errors (an unknown field, a wrong type, a bad enum value, a field of another
/// kind) and value errors are reported together, each with its path, line and column: each
/// subnet, workload and trace is read on its own, and the value checks run on what was read.
#[test]
fn structural_and_value_problems_at_once() {
    let e = load_files(
        "structural-and-value",
        &[("scenario.json", MANY_PROBLEMS.as_bytes())],
    )
    .unwrap_err();
    let got: Vec<String> =
        e.0.iter()
            .map(|e| {
                format!(
                    "{}:{}: {}: {}",
                    e.line.unwrap(),
                    e.column.unwrap(),
                    e.path,
                    e.message
                )
            })
            .collect();
    let want = [
        // Structural, in file order.
        "9:45: params.retention: unknown variant `sometimes`, expected `fixed` or `uniform`",
        "11:39: workloads[0].colour: unknown field `colour`, expected one of",
        "13:93: workloads[2].executions[0].tasks: invalid type: string \"ten\", expected u32",
        "14:54: workloads[3].demand: a job has no demand",
        // Then the value checks of what was read.
        "7:32: subnets[1].cidr: \"10.1.0.300/24\" is not an IPv4 range like \"10.0.0.0/24\"",
        "12:79: workloads[1].demand.value: -3 is not an instance count of 0 or more",
        "14:46: workloads[3].subnet: subnet \"nope\" is not declared; declared subnets: main, second",
        // The core's, last.
        "9:28: params.block_size: 12 is not a power of two from 4 to 64",
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(want) {
        assert!(g.starts_with(w), "expected {w:?}, got {g:?} in {got:#?}");
    }
}

/// Four structural errors and four value errors (see `structural_and_value_problems_at_once`).
const MANY_PROBLEMS: &str = r#"{
  "name": "bad",
  "description": "structural and value errors together",
  "duration": "1h",
  "subnets": [
    {"name": "main", "cidr": "10.0.0.0/24"},
    {"name": "second", "cidr": "10.1.0.300/24"}
  ],
  "params": {"block_size": 12, "retention": "sometimes"},
  "workloads": [
    {"name": "api", "subnet": "main", "colour": "blue", "demand": {"type": "constant", "value": 1}},
    {"name": "web", "subnet": "main", "demand": {"type": "constant", "value": -3}},
    {"name": "batch", "kind": "job", "subnet": "main", "executions": [{"start": 0, "tasks": "ten", "task_duration": "1m"}]},
    {"name": "etl", "kind": "job", "subnet": "nope", "demand": {"type": "constant", "value": 1}, "executions": [{"start": 0, "tasks": 1, "task_duration": "1m"}]}
  ]
}
"#;

/// What could not be read is reported once: the value checks say nothing about a placeholder
/// or about what follows only from a part left out (a reference to a subnet whose name is
/// unreadable, a swap after an unreadable duration, a trace whose only taker was not read).
#[test]
fn a_part_left_out_brings_no_second_error() {
    for (name, body, want) in [
        (
            "unreadable subnet",
            r#""subnets": [{"name": 5, "cidr": "10.0.0.0/24"}],
  "workloads": [{"name": "api", "subnet": "main", "demand": {"type": "constant", "value": 1}}]"#,
            vec!["subnets[0].name"],
        ),
        (
            "subnet not an object",
            r#""subnets": ["10.0.0.0/24"],
  "workloads": [{"name": "api", "subnet": "main", "demand": {"type": "constant", "value": -1}}]"#,
            vec!["subnets[0]", "workloads[0].demand.value"],
        ),
        (
            "unreadable kind",
            r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24"}],
  "workloads": [{"name": "j", "kind": "jobb", "subnet": "main", "executions": []},
                {"name": "j", "subnet": "main", "demand": {"type": "constant", "value": 1}}]"#,
            vec!["workloads[0].kind", "workloads[1].name"],
        ),
        (
            "unreadable demand",
            r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24"}],
  "workloads": [{"name": "api", "subnet": "main", "requests": {"latency": "1s"},
                 "demand": {"type": "constant", "value": "many"}}]"#,
            vec!["workloads[0].demand"],
        ),
        (
            "unreadable static",
            r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24", "statics": [{"count": "ten"}]}]"#,
            vec!["subnets[0].statics[0].count"],
        ),
        (
            "duplicate field",
            r#""subnets": [{"name": "main", "cidr": "10.0.0.0/24", "cidr": "10.1.0.0/24"}]"#,
            vec!["subnets[0].cidr"],
        ),
    ] {
        let text = scenario(body);
        let e = load_files("left-out", &[("scenario.json", text.as_bytes())]).unwrap_err();
        let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, want, "{name}: {e}");
        assert!(e.0.iter().all(|e| e.line.is_some()), "{name}: {e}");
    }
    let text = scenario(&format!(
        "{},\n  \"workloads\": [{{\"name\": \"api\", \"subnet\": \"main\", \"demand\": {{\"type\": \"constant\", \"value\": 1}}, \"swaps\": [{{\"at\": \"2h\"}}]}}]",
        BASE_SUBNETS
    ))
    .replace("\"1h\"", "\"1 hour\"");
    let e = load_files("left-out", &[("scenario.json", text.as_bytes())]).unwrap_err();
    let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["duration"], "{e}");
}
