//! The scenario file, exactly as written: serde types with no defaults applied yet.
//!
//! Every struct denies unknown fields, so a typo is an error that names the field, not a
//! silently ignored setting. `docs/scenario-format.md` documents each field; `ipsim schema`
//! prints the JSON Schema generated from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::Duration;

/// A scenario: subnets, workloads, their demand, the model's parameters and a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioDef {
    /// JSON Schema reference for editors; ignored.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Short name, used for the default output folder `out/<name>`.
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub name: String,
    /// What the scenario shows and what outcome to expect.
    pub description: String,
    /// Seed of every random draw (retention, task durations, noise). Default 0.
    #[serde(default, deserialize_with = "seed")]
    pub seed: u64,
    /// How long the run covers.
    #[schemars(schema_with = "crate::duration::positive_schema")]
    pub duration: Duration,
    /// Clock time of the scenario start (RFC 3339), so that reports show clock times; traces
    /// with RFC 3339 timestamps are placed relative to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Model parameters; every one has docs/model.md's default.
    #[serde(default)]
    pub params: ParamsDef,
    /// Subnets.
    #[schemars(length(min = 1))]
    pub subnets: Vec<SubnetDef>,
    /// Services, worker pools and jobs, in order (the order breaks ties).
    #[serde(default)]
    pub workloads: Vec<WorkloadDef>,
    /// Trace files that demand can come from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traces: Vec<TraceDef>,
    /// The documented outcome; `ipsim run --check` and the tests compare the run against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectDef>,
    /// Egress cost comparison (`ipsim cost`, and `cost` in report.json).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostDef>,
}

/// What to price: the traffic and the DNS queries, the connector designs' shape, prices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostDef {
    /// Egress throughput in Mbps over time (default: the connectors' demand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<DemandDef>,
    /// Private DNS queries per second (Direct VPC design), default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_queries_per_second: Option<f64>,
    /// Private DNS zones (Direct VPC design), default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_zones: Option<u32>,
    /// Connector designs' machine type (default: the scenario's connector's, else e2-micro).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_type: Option<MachineDef>,
    /// Connector designs' minimum instances (default: the scenario's connector's, else 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_instances: Option<u32>,
    /// Connector designs' maximum instances (default: the scenario's connector's, else 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_instances: Option<u32>,
    /// Cloud NAT external IP addresses, default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_ips: Option<u32>,
    /// Where Cloud Run's egress goes through the VPC (its `--vpc-egress`):
    /// "private-ranges-only" (default) or "all-traffic" (internet-bound traffic then needs
    /// Cloud NAT in every design).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<EgressDef>,
    /// The share of the traffic bound for the internet, from 0 to 1 (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub internet_share: Option<f64>,
    /// Price overrides (USD); see docs/connectors.md for the defaults and their date.
    #[serde(default)]
    pub prices: PricesDef,
}

/// Prices in USD; absent ones take the documented defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PricesDef {
    /// f1-micro connector instance, per hour.
    pub f1_micro_hour: Option<f64>,
    /// e2-micro connector instance, per hour.
    pub e2_micro_hour: Option<f64>,
    /// e2-standard-4 connector instance, per hour.
    pub e2_standard_4_hour: Option<f64>,
    /// Cloud NAT gateway, per assigned VM per hour, up to `nat_vm_cap` VMs.
    pub nat_per_vm_hour: Option<f64>,
    /// Cloud NAT gateway, per hour, above `nat_vm_cap` VMs.
    pub nat_cap_hour: Option<f64>,
    /// VMs at which the NAT gateway price stops growing.
    pub nat_vm_cap: Option<u32>,
    /// Cloud NAT, per GiB processed.
    pub nat_per_gib: Option<f64>,
    /// Cloud NAT external IP, per hour.
    pub nat_ip_hour: Option<f64>,
    /// Cloud DNS private zone, per month.
    pub dns_zone_month: Option<f64>,
    /// Cloud DNS, per million queries (the first billion a month).
    pub dns_per_million: Option<f64>,
    /// Hours in a month.
    pub hours_per_month: Option<f64>,
    /// Internet egress, per GiB (default: left out of the comparison).
    pub internet_egress_per_gib: Option<f64>,
}

/// Where Cloud Run's egress goes through the VPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EgressDef {
    /// Only traffic to private ranges goes through the VPC (Cloud Run's default).
    PrivateRangesOnly,
    /// All traffic goes through the VPC.
    AllTraffic,
}

/// Model parameters (docs/model.md section 2); absent fields take the documented default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamsDef {
    /// Addresses per service or worker-pool instance (2; 4 replays the pre-2025 rule).
    #[schemars(range(min = 1, max = 64))]
    pub ips_per_instance: Option<u32>,
    /// Addresses per job task (1).
    #[schemars(range(min = 1, max = 64))]
    pub ips_per_task: Option<u32>,
    /// Retention after an instance stops ("20m").
    pub service_retention: Option<Duration>,
    /// Retention after a job task ends ("7m").
    pub task_retention: Option<Duration>,
    /// "fixed" (the maximum) or "uniform" (seeded draw in [0, max]).
    pub retention: Option<RetentionDef>,
    /// Addresses per block: 16 (/28), or 8, 32, 64; a power of two from 4 to 64.
    #[schemars(extend("enum" = [4, 8, 16, 32, 64, null]))]
    pub block_size: Option<u32>,
    /// Block owner: "service", "revision" or "subnet".
    pub block_scope: Option<ScopeDef>,
    /// How long a wholly free block stays with its owner ("0s").
    pub block_linger: Option<Duration>,
    /// Time between start attempts of a pending instance or task ("10s").
    #[serde(default)]
    #[schemars(schema_with = "crate::duration::positive_option_schema")]
    pub retry_interval: Option<Duration>,
    /// Retries of a job task before it fails (3).
    #[schemars(range(max = 10))]
    pub max_task_retries: Option<u32>,
    /// Block choice: "first-fit" (default), "next-fit", "best-fit" or "random".
    pub strategy: Option<StrategyDef>,
    /// Maximum concurrent requests per instance (80), for request-rate demand.
    #[schemars(range(min = 1, max = 1000))]
    pub concurrency: Option<u32>,
    /// Target share of the concurrency (0.6), for request-rate demand.
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    pub target_utilization: Option<f64>,
    /// Sampling step of generators ("1m").
    #[serde(default)]
    #[schemars(schema_with = "crate::duration::positive_option_schema")]
    pub sample_interval: Option<Duration>,
}

/// Retention policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetentionDef {
    /// Always the maximum.
    Fixed,
    /// Uniform in [0, max] ms, seeded.
    Uniform,
}

/// Block scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeDef {
    /// One owner per workload.
    Service,
    /// One owner per revision or job execution.
    Revision,
    /// One pool per subnet.
    Subnet,
}

/// Allocation strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyDef {
    /// Lowest address first.
    FirstFit,
    /// The first free block after the last one reserved, wrapping around.
    NextFit,
    /// The most-used /24-sized region first, keeping whole free regions free.
    BestFit,
    /// A free block drawn uniformly from a seeded RNG.
    Random,
}

/// Edge-block policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EdgeDef {
    /// The first and last blocks cannot be reserved.
    Excluded,
    /// They can, with their usable addresses only.
    Partial,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubnetDef {
    /// Name (Cloud Run's SUBNET_ID in messages); workloads refer to it.
    pub name: String,
    /// IPv4 range, host bits zero: "10.0.0.0/24"; /8 to /29.
    #[schemars(regex(pattern = SUBNET_PATTERN))]
    pub cidr: String,
    /// Other resources' addresses: VMs, load balancers, databases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statics: Vec<StaticDef>,
    /// "excluded" (default) or "partial".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_blocks: Option<EdgeDef>,
    /// Waive the /26 minimum (down to /29), to replay pointing Direct VPC at a connector's /28.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_small_subnet: bool,
    /// Waive the supported-range check.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unsupported_range: bool,
    /// Blocks Cloud Run already holds when the run starts (the live subnet's
    /// `serverless-ipv4-*` reservations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reserved: Vec<ReservedDef>,
}

/// A block reserved at time 0: by an "existing Cloud Run" owner outside the scenario for the
/// whole run, or by a service or worker pool of the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservedDef {
    /// The block: "10.0.0.32/28" (one block of `block_size` addresses, aligned).
    #[schemars(regex(pattern = PREFIX_PATTERN))]
    pub prefix: String,
    /// The service or worker pool that holds it; none: existing Cloud Run, for the whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// What it is (for people; not used): the reservation's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A static allocation: exactly one of `address`, `prefix` or `count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    { "required": ["address"] },
    { "required": ["prefix"] },
    { "required": ["count"] }
]))]
pub struct StaticDef {
    /// What holds it (for people; not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// One address: "10.0.0.5".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = ADDRESS_PATTERN))]
    pub address: Option<String>,
    /// A range: "10.0.0.64/28".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = PREFIX_PATTERN))]
    pub prefix: Option<String>,
    /// This many addresses, the lowest usable ones left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// Workload kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum KindDef {
    /// A Cloud Run service.
    #[default]
    Service,
    /// A Cloud Run worker pool.
    WorkerPool,
    /// A Cloud Run job.
    Job,
    /// A Serverless VPC Access connector: VMs in a dedicated /28, one address each, scaling
    /// out on throughput (its demand, in Mbps) and never in.
    Connector,
}

/// A connector's machine type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MachineDef {
    /// f1-micro: about 50 Mbps per instance (100-500 Mbps for 2-10 instances).
    F1Micro,
    /// e2-micro (default): about 100 Mbps per instance (200-1,000 Mbps).
    #[default]
    E2Micro,
    /// e2-standard-4: about 1,600 Mbps per instance (3,200-16,000 Mbps).
    #[serde(rename = "e2-standard-4")]
    E2Standard4,
}

impl MachineDef {
    /// Throughput per instance in Mbps: the documented range's top divided by 10 instances.
    pub fn mbps(self) -> u32 {
        match self {
            MachineDef::F1Micro => 50,
            MachineDef::E2Micro => 100,
            MachineDef::E2Standard4 => 1600,
        }
    }

    /// `f1-micro`, `e2-micro`, `e2-standard-4`.
    pub fn name(self) -> &'static str {
        match self {
            MachineDef::F1Micro => "f1-micro",
            MachineDef::E2Micro => "e2-micro",
            MachineDef::E2Standard4 => "e2-standard-4",
        }
    }
}

/// A workload as the file writes it: one JSON object whose `kind` says which of these fields
/// it may have. Reading it gives a [`WorkloadDef`], where each kind carries only its own
/// fields (and whose JSON Schema has one subschema per kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    /// Name.
    pub name: String,
    /// "service" (default), "worker_pool" or "job".
    #[serde(default)]
    pub kind: KindDef,
    /// Name of its subnet.
    pub subnet: String,
    /// Lower clamp of the instance count (0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_instances: Option<u32>,
    /// Upper clamp of the instance count (none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_instances: Option<u32>,
    /// Direct VPC egress instance quota per revision or job execution (none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<u32>,
    /// Demand over time (services and worker pools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand: Option<DemandDef>,
    /// Present when demand is in requests per second: how requests become instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<RequestsDef>,
    /// "poisson": each sample of a generator is drawn from Poisson(value), seeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseDef>,
    /// Idle instances kept after demand drops: desired(t) = max demand over [t - delay, t]
    /// (Cloud Run keeps idle instances up to 15 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_delay: Option<Duration>,
    /// Revision swaps (deploys).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub swaps: Vec<SwapDef>,
    /// Job executions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executions: Vec<ExecutionDef>,
    /// Connectors: "f1-micro", "e2-micro" (default) or "e2-standard-4".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_type: Option<MachineDef>,
    /// Connectors: Mbps one instance carries, instead of the machine type's figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_per_instance: Option<u32>,
}

/// A workload: its name, its subnet, and its kind with that kind's fields only, so a job
/// with a demand or a connector with swaps cannot be written. Read from and written as a
/// [`WorkloadFile`]; a field that belongs to another kind is an error of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WorkloadFile", into = "WorkloadFile")]
pub struct WorkloadDef {
    /// Name.
    pub name: String,
    /// Name of its subnet.
    pub subnet: String,
    /// The kind and its fields.
    pub kind: WorkloadKindDef,
}

/// One subschema per kind, each with only that kind's fields, as [`WorkloadDef`]'s
/// `TryFrom<WorkloadFile>` reads them; a workload without `kind` is a service.
impl JsonSchema for WorkloadDef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WorkloadDef".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        use serde_json::{Value, json};
        let demand = Value::from(g.subschema_for::<DemandDef>());
        let requests = Value::from(g.subschema_for::<RequestsDef>());
        let noise = Value::from(g.subschema_for::<NoiseDef>());
        let duration = Value::from(g.subschema_for::<Duration>());
        let swap = Value::from(g.subschema_for::<SwapDef>());
        let execution = Value::from(g.subschema_for::<ExecutionDef>());
        let machine = Value::from(g.subschema_for::<MachineDef>());
        let count = |what: &str| json!({ "description": what, "type": "integer", "minimum": 0, "maximum": 100_000 });
        let kind = |kind: &str, what: &str, fields: Value| {
            let mut props = json!({
                "name": { "description": "Name (unique).", "type": "string" },
                "kind": { "description": what, "const": kind },
                "subnet": { "description": "Name of its subnet.", "type": "string" },
            });
            if let (Some(p), Value::Object(f)) = (props.as_object_mut(), fields) {
                p.extend(f);
            }
            json!({
                "title": kind,
                "type": "object",
                "additionalProperties": false,
                "properties": props,
                "required": if kind == "service" {
                    json!(["name", "subnet"])
                } else {
                    json!(["name", "kind", "subnet"])
                },
            })
        };
        let scaled = |name: &str, what: &str| {
            let mut s = kind(
                name,
                what,
                json!({
                    "min_instances": count("Lower clamp of the instance count (0)."),
                    "max_instances": count("Upper clamp of the instance count (none)."),
                    "quota": count("Direct VPC egress instance quota per revision (none)."),
                    "demand": demand,
                    "requests": requests,
                    "noise": noise,
                    "idle_delay": duration,
                    "swaps": { "description": "Revision swaps (deploys).", "type": "array", "items": swap },
                }),
            );
            if let Some(o) = s.as_object_mut() {
                // Demand, or a floor of instances; requests only with demand; no noise on a trace.
                o.insert(
                    "anyOf".into(),
                    json!([
                        { "required": ["demand"] },
                        { "required": ["min_instances"], "properties": { "min_instances": { "minimum": 1 } } }
                    ]),
                );
                o.insert(
                    "dependentRequired".into(),
                    json!({ "requests": ["demand"] }),
                );
                o.insert(
                    "not".into(),
                    json!({
                        "required": ["noise", "demand"],
                        "properties": { "demand": { "properties": { "type": { "const": "trace" } } } }
                    }),
                );
            }
            s
        };
        let mut job = kind(
            "job",
            "A Cloud Run job.",
            json!({
                "quota": count("Direct VPC egress instance quota per execution: caps the parallelism."),
                "executions": { "description": "Executions (at least one).", "type": "array", "items": execution, "minItems": 1 },
            }),
        );
        let mut connector = kind(
            "connector",
            "A Serverless VPC Access connector: VMs in a dedicated /28, one address each, scaling out on throughput (its demand, in Mbps) and never in.",
            json!({
                "min_instances": { "description": "Fewest instances (2 to 10, default 2).", "type": "integer", "minimum": 2, "maximum": 10 },
                "max_instances": { "description": "Most instances (at most 10, default 10).", "type": "integer", "minimum": 1, "maximum": 10 },
                "demand": {
                    "description": "Throughput in Mbps, from a generator (not a trace).",
                    "allOf": [demand, { "not": { "properties": { "type": { "const": "trace" } } } }]
                },
                "noise": noise,
                "machine_type": machine,
                "throughput_per_instance": { "description": "Mbps one instance carries, instead of the machine type's figure.", "type": "integer", "minimum": 1, "maximum": u32::MAX },
            }),
        );
        for key in ["demand", "executions"] {
            let s = if key == "demand" {
                &mut connector
            } else {
                &mut job
            };
            if let Some(r) = s.get_mut("required").and_then(Value::as_array_mut) {
                r.push(key.into());
            }
        }
        let schema = json!({
            "description": "A workload: a service (the default kind), a worker pool, a job or a connector, each with only its own fields.",
            "oneOf": [
                scaled("service", "A Cloud Run service (the default kind)."),
                scaled("worker_pool", "A Cloud Run worker pool."),
                job,
                connector,
            ]
        });
        schemars::Schema::try_from(schema).unwrap_or_default()
    }
}

/// A scenario name: not blank, no `/` or `\`, not starting with `.` (it names a folder).
const NAME_PATTERN: &str = r"^([^./\\\s]|\s+[^/\\\s])[^/\\]*$";
/// An octet of a dotted IPv4 address, no leading zeros.
macro_rules! octet {
    () => {
        r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    };
}
/// An IPv4 address.
macro_rules! address {
    () => {
        concat!(octet!(), r"\.", octet!(), r"\.", octet!(), r"\.", octet!())
    };
}
/// `a.b.c.d`, surrounding blanks allowed.
const ADDRESS_PATTERN: &str = concat!(r"^\s*", address!(), r"\s*$");
/// `a.b.c.d/len`, len 0 to 32.
const PREFIX_PATTERN: &str = concat!(r"^\s*", address!(), r"/(3[0-2]|[12]?[0-9])\s*$");
/// A subnet's range: `a.b.c.d/len`, len 8 to 29 (the sizes the core lays out).
const SUBNET_PATTERN: &str = concat!(r"^\s*", address!(), r"/(2[0-9]|1[0-9]|[89])\s*$");

/// A step function's points: at least one `[time, value]` pair, values 0 to 1e9.
fn points_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let duration = serde_json::Value::from(g.subschema_for::<Duration>());
    schemars::json_schema!({
        "description": "Points.",
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "array",
            "prefixItems": [duration, { "type": "number", "minimum": 0, "maximum": 1e9 }],
            "minItems": 2,
            "maxItems": 2
        }
    })
}

/// A workload's kind, with the fields of that kind.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkloadKindDef {
    /// A Cloud Run service.
    Service(ScaledDef),
    /// A Cloud Run worker pool.
    WorkerPool(ScaledDef),
    /// A Cloud Run job.
    Job(JobDef),
    /// A Serverless VPC Access connector.
    Connector(ConnectorDef),
}

/// The fields of a service or worker pool.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScaledDef {
    /// Lower clamp of the instance count (0).
    pub min_instances: Option<u32>,
    /// Upper clamp of the instance count (none).
    pub max_instances: Option<u32>,
    /// Direct VPC egress instance quota per revision (none).
    pub quota: Option<u32>,
    /// Demand over time.
    pub demand: Option<DemandDef>,
    /// Present when demand is in requests per second.
    pub requests: Option<RequestsDef>,
    /// Poisson noise on a generator.
    pub noise: Option<NoiseDef>,
    /// Idle instances kept after demand drops.
    pub idle_delay: Option<Duration>,
    /// Revision swaps (deploys).
    pub swaps: Vec<SwapDef>,
}

/// The fields of a job.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobDef {
    /// Direct VPC egress instance quota per execution (none): it caps the parallelism.
    pub quota: Option<u32>,
    /// Executions.
    pub executions: Vec<ExecutionDef>,
}

/// The fields of a connector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectorDef {
    /// Fewest instances (2).
    pub min_instances: Option<u32>,
    /// Most instances (10).
    pub max_instances: Option<u32>,
    /// Throughput demand in Mbps, from a generator.
    pub demand: Option<DemandDef>,
    /// Poisson noise on the generator.
    pub noise: Option<NoiseDef>,
    /// "f1-micro", "e2-micro" (default) or "e2-standard-4".
    pub machine_type: Option<MachineDef>,
    /// Mbps one instance carries, instead of the machine type's figure.
    pub throughput_per_instance: Option<u32>,
}

impl WorkloadKindDef {
    /// The kind's name in the file.
    pub fn tag(&self) -> KindDef {
        match self {
            WorkloadKindDef::Service(_) => KindDef::Service,
            WorkloadKindDef::WorkerPool(_) => KindDef::WorkerPool,
            WorkloadKindDef::Job(_) => KindDef::Job,
            WorkloadKindDef::Connector(_) => KindDef::Connector,
        }
    }

    /// The demand of the kinds that have one.
    pub fn demand(&self) -> Option<&DemandDef> {
        match self {
            WorkloadKindDef::Service(s) | WorkloadKindDef::WorkerPool(s) => s.demand.as_ref(),
            WorkloadKindDef::Connector(c) => c.demand.as_ref(),
            WorkloadKindDef::Job(_) => None,
        }
    }

    /// The demand of the kinds that have one, to edit.
    pub fn demand_mut(&mut self) -> Option<&mut Option<DemandDef>> {
        match self {
            WorkloadKindDef::Service(s) | WorkloadKindDef::WorkerPool(s) => Some(&mut s.demand),
            WorkloadKindDef::Connector(c) => Some(&mut c.demand),
            WorkloadKindDef::Job(_) => None,
        }
    }

    /// Whether generated demand has Poisson noise.
    pub fn noise(&self) -> bool {
        match self {
            WorkloadKindDef::Service(s) | WorkloadKindDef::WorkerPool(s) => s.noise.is_some(),
            WorkloadKindDef::Connector(c) => c.noise.is_some(),
            WorkloadKindDef::Job(_) => false,
        }
    }
}

/// Fields a file gave a workload that its kind does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisplacedFields {
    /// The kind.
    pub kind: KindDef,
    /// The fields, in file-struct order.
    pub fields: Vec<&'static str>,
}

/// How a misplaced-field error's message starts: `misplaced field `NAME`: `.
pub const MISPLACED: &str = "misplaced field `";

impl std::fmt::Display for MisplacedFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, why, own) = match self.kind {
            KindDef::Service | KindDef::WorkerPool => (
                if self.kind == KindDef::Service {
                    "a service"
                } else {
                    "a worker pool"
                },
                "machine_type and throughput_per_instance are for connectors (kind \"connector\"), executions for jobs",
                "min_instances, max_instances, quota, demand, requests, noise, idle_delay, swaps",
            ),
            KindDef::Job => ("a job", "it runs executions of tasks", "quota, executions"),
            KindDef::Connector => (
                "a connector",
                "its demand is throughput in Mbps",
                "min_instances, max_instances, demand, noise, machine_type, throughput_per_instance",
            ),
        };
        let first = self.fields.first().copied().unwrap_or("?");
        write!(
            f,
            "{MISPLACED}{first}`: {what} has no {} ({why}); the fields of {what}, besides name, subnet and kind: {own}",
            self.fields.join(" or ")
        )
    }
}

impl TryFrom<WorkloadFile> for WorkloadDef {
    type Error = MisplacedFields;

    fn try_from(w: WorkloadFile) -> Result<Self, MisplacedFields> {
        let present = [
            ("min_instances", w.min_instances.is_some()),
            ("max_instances", w.max_instances.is_some()),
            ("quota", w.quota.is_some()),
            ("demand", w.demand.is_some()),
            ("requests", w.requests.is_some()),
            ("noise", w.noise.is_some()),
            ("idle_delay", w.idle_delay.is_some()),
            ("swaps", !w.swaps.is_empty()),
            ("executions", !w.executions.is_empty()),
            ("machine_type", w.machine_type.is_some()),
            (
                "throughput_per_instance",
                w.throughput_per_instance.is_some(),
            ),
        ];
        let own: &[&str] = match w.kind {
            KindDef::Service | KindDef::WorkerPool => &[
                "min_instances",
                "max_instances",
                "quota",
                "demand",
                "requests",
                "noise",
                "idle_delay",
                "swaps",
            ],
            KindDef::Job => &["quota", "executions"],
            KindDef::Connector => &[
                "min_instances",
                "max_instances",
                "demand",
                "noise",
                "machine_type",
                "throughput_per_instance",
            ],
        };
        let fields: Vec<&'static str> = present
            .iter()
            .filter(|(f, p)| *p && !own.contains(f))
            .map(|(f, _)| *f)
            .collect();
        if !fields.is_empty() {
            return Err(MisplacedFields {
                kind: w.kind,
                fields,
            });
        }
        let scaled = || ScaledDef {
            min_instances: w.min_instances,
            max_instances: w.max_instances,
            quota: w.quota,
            demand: w.demand.clone(),
            requests: w.requests.clone(),
            noise: w.noise,
            idle_delay: w.idle_delay,
            swaps: w.swaps.clone(),
        };
        let kind = match w.kind {
            KindDef::Service => WorkloadKindDef::Service(scaled()),
            KindDef::WorkerPool => WorkloadKindDef::WorkerPool(scaled()),
            KindDef::Job => WorkloadKindDef::Job(JobDef {
                quota: w.quota,
                executions: w.executions.clone(),
            }),
            KindDef::Connector => WorkloadKindDef::Connector(ConnectorDef {
                min_instances: w.min_instances,
                max_instances: w.max_instances,
                demand: w.demand.clone(),
                noise: w.noise,
                machine_type: w.machine_type,
                throughput_per_instance: w.throughput_per_instance,
            }),
        };
        Ok(WorkloadDef {
            name: w.name,
            subnet: w.subnet,
            kind,
        })
    }
}

impl From<WorkloadDef> for WorkloadFile {
    fn from(w: WorkloadDef) -> WorkloadFile {
        let mut f = WorkloadFile {
            name: w.name,
            kind: w.kind.tag(),
            subnet: w.subnet,
            min_instances: None,
            max_instances: None,
            quota: None,
            demand: None,
            requests: None,
            noise: None,
            idle_delay: None,
            swaps: Vec::new(),
            executions: Vec::new(),
            machine_type: None,
            throughput_per_instance: None,
        };
        match w.kind {
            WorkloadKindDef::Service(s) | WorkloadKindDef::WorkerPool(s) => {
                f.min_instances = s.min_instances;
                f.max_instances = s.max_instances;
                f.quota = s.quota;
                f.demand = s.demand;
                f.requests = s.requests;
                f.noise = s.noise;
                f.idle_delay = s.idle_delay;
                f.swaps = s.swaps;
            }
            WorkloadKindDef::Job(j) => {
                f.quota = j.quota;
                f.executions = j.executions;
            }
            WorkloadKindDef::Connector(c) => {
                f.min_instances = c.min_instances;
                f.max_instances = c.max_instances;
                f.demand = c.demand;
                f.noise = c.noise;
                f.machine_type = c.machine_type;
                f.throughput_per_instance = c.throughput_per_instance;
            }
        }
        f
    }
}

/// How request rates become instances: ceil(rps * latency / (concurrency * target_utilization)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestsDef {
    /// Mean request latency.
    #[schemars(schema_with = "crate::duration::positive_schema")]
    pub latency: Duration,
    /// Overrides params.concurrency for this workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub concurrency: Option<u32>,
    /// Overrides params.target_utilization for this workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    pub target_utilization: Option<f64>,
}

/// Noise on generated demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoiseDef {
    /// Each sample drawn from Poisson(value).
    Poisson,
}

/// Where demand comes from; values are instances, or requests per second with `requests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DemandDef {
    /// The same value throughout.
    Constant {
        /// The value.
        #[schemars(range(min = 0, max = 1e9))]
        value: f64,
    },
    /// A step function: [[time, value], ...], times increasing; 0 before the first.
    Step {
        /// Points.
        #[schemars(schema_with = "points_schema")]
        points: Vec<(Duration, f64)>,
    },
    /// base until start, a linear rise to peak, a hold, a linear fall back to base.
    Surge {
        /// Value before and after.
        #[schemars(range(min = 0, max = 1e9))]
        base: f64,
        /// Value during the hold.
        #[schemars(range(min = 0, max = 1e9))]
        peak: f64,
        /// When the rise begins.
        start: Duration,
        /// Length of the rise.
        rise: Duration,
        /// Length of the hold at peak.
        hold: Duration,
        /// Length of the fall.
        fall: Duration,
    },
    /// mean + amplitude * sin(2 pi (t - phase) / period), at least 0.
    Diurnal {
        /// Mean.
        #[schemars(range(min = 0, max = 1e9))]
        mean: f64,
        /// Amplitude.
        #[schemars(range(min = 0, max = 1e9))]
        amplitude: f64,
        /// Phase shift ("0s").
        #[serde(default)]
        phase: Duration,
        /// Period ("24h").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(schema_with = "crate::duration::positive_option_schema")]
        period: Option<Duration>,
    },
    /// A series of a trace file.
    Trace {
        /// Name of the trace in `traces`.
        trace: String,
        /// The series' key in the trace (workload column, service name); default: this
        /// workload's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        series: Option<String>,
        /// Cloud Monitoring exports: `"swaps"` (default): each later revision is a swap that
        /// takes the traffic at once; `"observed"`: each revision follows its own observed
        /// count.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revisions: Option<Revisions>,
    },
}

/// How the revisions of a Cloud Monitoring export are replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Revisions {
    /// Each revision after the first is a swap (rollout 0) at its first point; the service's
    /// summed count is split by traffic share.
    Swaps,
    /// Each revision wants its own observed count: no traffic split, no invented swap.
    Observed,
}

/// A deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwapDef {
    /// When the new revision is created.
    pub at: Duration,
    /// "0s": 100% at once; else the new revision takes k% at at + floor(k * rollout / 100).
    #[serde(default)]
    pub rollout: Duration,
}

/// Task run times: "5m" (all tasks), ["1m", "2m", ...] (one per task), or
/// {"min": "1m", "max": "4m"} (uniform, seeded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "a duration (\"5m\"), a list of durations (one per task), or {\"min\": \"1m\", \"max\": \"4m\"}"
)]
pub enum TaskDurationDef {
    /// Every task runs this long.
    Fixed(Duration),
    /// One per task.
    PerTask(Vec<Duration>),
    /// Uniform in [min, max].
    Uniform {
        /// Shortest.
        min: Duration,
        /// Longest.
        max: Duration,
    },
}

/// A job execution, optionally repeated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("dependentRequired" = { "repeat_count": ["repeat_every"] }))]
pub struct ExecutionDef {
    /// When it starts.
    pub start: Duration,
    /// Number of tasks (at most 10,000).
    #[schemars(range(max = 10_000))]
    pub tasks: u32,
    /// Tasks at once; 0 or absent: all.
    #[serde(default)]
    pub parallelism: u32,
    /// Task run times.
    pub task_duration: TaskDurationDef,
    /// Start another execution this long after each start...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::duration::positive_option_schema")]
    pub repeat_every: Option<Duration>,
    /// ...this many executions in all (default: until the end of the run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_count: Option<u32>,
}

/// Trace file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TraceFormat {
    /// `time,workload,instances` or `time,workload,rps`.
    Csv,
    /// A Cloud Monitoring `timeSeries` export of `run.googleapis.com/container/instance_count`
    /// or `run.googleapis.com/request_count`.
    CloudMonitoring,
    /// Azure Functions 2019 invocations per function per minute.
    AzureFunctions,
}

/// A trace file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "if" = { "properties": { "format": { "const": "azure-functions" } } },
    "then" = { "required": ["functions"] },
    "else" = { "not": { "required": ["functions"] } }
))]
pub struct TraceDef {
    /// Name that workloads' `{"type": "trace"}` demand refers to.
    pub name: String,
    /// File format.
    pub format: TraceFormat,
    /// Path, relative to the scenario file. A Cloud Monitoring export may also be a list of
    /// page files of one query, or a directory of them.
    pub file: TraceFile,
    /// Cloud Monitoring: the longest silence a series keeps its last value for before it
    /// reads as zero (default: the series' own sampling period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::duration::positive_option_schema")]
    pub max_gap: Option<Duration>,
    /// Skip rows or series that no workload takes, instead of reporting them as errors.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_unknown: bool,
    /// Azure Functions: the workloads to make from the trace's functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<FunctionsDef>,
}

/// A trace's file: one path, or (Cloud Monitoring) the page files of one query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TraceFile {
    /// One file (or, for Cloud Monitoring, a directory of page files).
    One(String),
    /// Page files of one query, merged.
    Pages(Vec<String>),
}

impl TraceFile {
    /// The paths as written.
    pub fn paths(&self) -> Vec<&str> {
        match self {
            TraceFile::One(p) => vec![p.as_str()],
            TraceFile::Pages(v) => v.iter().map(String::as_str).collect(),
        }
    }

    /// The first path (the one file of a CSV or Azure trace).
    pub fn first(&self) -> &str {
        match self {
            TraceFile::One(p) => p,
            TraceFile::Pages(v) => v.first().map_or("", String::as_str),
        }
    }
}

impl From<&str> for TraceFile {
    fn from(s: &str) -> Self {
        TraceFile::One(s.to_string())
    }
}

impl<'de> Deserialize<'de> for TraceFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TraceFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a path, or a list of paths (the page files of one Cloud Monitoring query)",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TraceFile, E> {
                Ok(TraceFile::One(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<TraceFile, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = seq.next_element::<String>()? {
                    out.push(p);
                }
                Ok(TraceFile::Pages(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Which Azure functions become workloads, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "oneOf" = [
        { "required": ["top"], "properties": { "hashes": { "maxItems": 0 } } },
        { "required": ["hashes"], "properties": { "hashes": { "minItems": 1 } }, "not": { "required": ["top"] } }
    ],
    "anyOf" = [{ "required": ["latency"] }, { "required": ["durations_file"] }]
))]
pub struct FunctionsDef {
    /// The N functions with the most invocations (1 to 10,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10_000))]
    pub top: Option<u32>,
    /// Functions by HashFunction (full, or a prefix of at least 8 hex digits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[0-9a-fA-F]{8,}$")))]
    pub hashes: Vec<String>,
    /// Subnet of the generated services.
    pub subnet: String,
    /// Mean latency, unless `durations_file` gives each function's average.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Duration>,
    /// The trace's durations file (`function_durations_percentiles` layout), relative to the
    /// scenario file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durations_file: Option<String>,
    /// Maximum instances of each generated service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_instances: Option<u32>,
    /// Idle delay of each generated service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_delay: Option<Duration>,
}

/// The documented outcome of a scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectDef {
    /// Whether any start fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhausted: Option<bool>,
    /// Time of the first failed start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_exhaustion: Option<Duration>,
    /// Run-wide peak of held addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_held: Option<u64>,
    /// Number of failure windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_windows: Option<usize>,
    /// Length of the first failure window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_window: Option<Duration>,
    /// Number of deploy failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_failures: Option<usize>,
    /// Number of connector saturation windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saturation_windows: Option<usize>,
}

/// A seed: a whole number from 0 to 2^64 - 1. JSON hands a larger number or `-0` over as a
/// floating-point number; say what is wrong with it instead of "floating point".
fn seed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct Seed;
    impl serde::de::Visitor<'_> for Seed {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number from 0 to 18446744073709551615")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| {
                E::custom(format!(
                    "the seed {v} is negative; a seed is 0 to 18446744073709551615"
                ))
            })
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u64, E> {
            Err(E::custom(if v == 0.0 {
                "the seed -0 is a negative zero; write 0".to_string()
            } else if v.fract() == 0.0 && v >= 18_446_744_073_709_551_615.0 {
                format!("the seed {v:e} is too large; a seed is at most 18446744073709551615")
            } else if v.fract() == 0.0 && v < 0.0 {
                format!("the seed {v:e} is negative; a seed is 0 to 18446744073709551615")
            } else {
                format!("the seed {v} is not a whole number; a seed is 0 to 18446744073709551615")
            }))
        }
    }
    d.deserialize_any(Seed)
}
