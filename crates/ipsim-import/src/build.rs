//! What the readers found, and the scenario made of it.

use std::collections::BTreeMap;

use ipsim_scenario::Duration;
use ipsim_scenario::def::{
    DemandDef, ExecutionDef, JobDef, ParamsDef, ReservedDef, ScaledDef, ScenarioDef, StaticDef,
    SubnetDef, SwapDef, TaskDurationDef, TraceDef, TraceFormat, WorkloadDef, WorkloadKindDef,
};
use serde_json::Value;

use crate::doc::Doc;
use crate::{Demand, ImportError, ImportErrors, Imported, Options, Scale};

/// When the worst case's revision swap happens: after every workload is at its scale.
pub const WORST_SWAP_AT: u64 = 10 * 60_000;
/// How long the worst case runs: the swap, a rollout of up to 10 minutes, the old revision's
/// 20-minute retention, and some margin.
pub const WORST_DURATION: u64 = 45 * 60_000;

/// A workload's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Service,
    WorkerPool,
    Job,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::WorkerPool => "worker pool",
            Kind::Job => "job",
        }
    }
}

/// Where a subnet name was read, to ask for it if no input declares it.
#[derive(Debug, Clone)]
pub(crate) struct SubnetRef {
    pub(crate) name: String,
    /// As written (a name or a URL).
    pub(crate) written: String,
    pub(crate) file: String,
    pub(crate) path: String,
}

/// A service, worker pool or job on Direct VPC egress.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) file: String,
    pub(crate) subnet: SubnetRef,
    /// Maximum instances and the field it came from.
    pub(crate) max: Option<(u32, String)>,
    /// Minimum instances.
    pub(crate) min: u32,
    /// Worker pools: manual instance count and its field.
    pub(crate) manual: Option<(u32, String)>,
    /// Jobs: tasks, parallelism (0: all), task timeout.
    pub(crate) tasks: u32,
    pub(crate) parallelism: u32,
    pub(crate) timeout_ms: u64,
}

impl Found {
    pub(crate) fn new(name: String, kind: Kind, file: &str, subnet: SubnetRef) -> Self {
        Found {
            name,
            kind,
            file: file.to_string(),
            subnet,
            max: None,
            min: 0,
            manual: None,
            tasks: 1,
            parallelism: 0,
            timeout_ms: 10 * 60_000,
        }
    }
}

/// A subnet an input declares.
#[derive(Debug, Clone)]
pub(crate) struct Net {
    pub(crate) name: String,
    pub(crate) cidr: String,
    pub(crate) file: String,
}

/// An address of a subnet's list.
#[derive(Debug, Clone)]
pub(crate) struct Addr {
    pub(crate) name: String,
    pub(crate) address: String,
    pub(crate) prefix_len: Option<u8>,
    pub(crate) purpose: String,
    pub(crate) subnet: SubnetRef,
}

/// Everything read from the sources.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub(crate) errors: Vec<ImportError>,
    pub(crate) notes: Vec<String>,
    pub(crate) workloads: Vec<Found>,
    pub(crate) subnets: Vec<Net>,
    pub(crate) addresses: Vec<Addr>,
}

impl Collected {
    pub(crate) fn err(&mut self, file: &str, path: &str, message: impl Into<String>) {
        self.errors.push(ImportError {
            file: file.to_string(),
            path: crate::doc::show(path),
            message: message.into(),
        });
    }

    pub(crate) fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// The note listing what `doc` holds and ipsim does not use, if anything.
    pub(crate) fn unused(&mut self, doc: &Doc<'_>, what: &str) {
        let u = doc.unused();
        if !u.is_empty() {
            self.note(format!("{}{what}: not used: {}", doc.file, u.join(", ")));
        }
    }

    /// A whole number of instances or tasks: a JSON number, or a string of digits (Knative
    /// annotations are strings: maxScale: "100").
    pub(crate) fn count(&mut self, file: &str, path: &str, v: &Value) -> Option<u32> {
        let n = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match n.and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n <= 100_000 => Some(n),
            _ => {
                self.err(
                    file,
                    path,
                    format!(
                        "{v} is not a whole number of instances from 0 to 100000 (annotations \
                         are strings of digits, like \"100\")"
                    ),
                );
                None
            }
        }
    }

    /// Seconds as a number (`600`), a string of digits (`"600"`) or a duration (`"600s"`,
    /// `"3.5s"`), in ms.
    pub(crate) fn seconds(&mut self, file: &str, path: &str, v: &Value) -> Option<u64> {
        let text = match v {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.trim().trim_end_matches('s').to_string(),
            _ => String::new(),
        };
        match text.parse::<f64>() {
            Ok(s) if s.is_finite() && s > 0.0 && s <= 7.0 * 86_400.0 => {
                Some((s * 1000.0).round() as u64)
            }
            _ => {
                self.err(
                    file,
                    path,
                    format!("{v} is not a positive number of seconds like 600 or \"600s\" (at most 7 days)"),
                );
                None
            }
        }
    }
}

/// The subnet's name in a name or a URL (`projects/p/regions/r/subnetworks/NAME`).
pub(crate) fn subnet_name(written: &str) -> String {
    written
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(written)
        .to_string()
}

/// A `network_interfaces` entry: its subnetwork, or (none given) the network's name, which
/// Cloud Run then uses as the subnet's name.
pub(crate) fn interface_subnet<'a>(
    cx: &mut Collected,
    doc: &mut Doc<'a>,
    file: &str,
    nic: &'a Value,
    path: &str,
    shown: &str,
    owner: &str,
) -> Option<SubnetRef> {
    let sub = doc.get(nic, path, "subnetwork");
    let net = doc.get(nic, path, "network");
    // Network tags select firewall rules; they take no address.
    if let Some((_, p)) = doc.get(nic, path, "tags") {
        doc.mark(&p);
    }
    match (sub, net) {
        (Some((Value::String(s), p)), _) => Some(SubnetRef {
            name: subnet_name(s),
            written: s.clone(),
            file: file.to_string(),
            path: format!("{shown}{p}"),
        }),
        (None, Some((Value::String(n), p))) => {
            cx.note(format!(
                "{file}: {owner}: no subnetwork given, so Cloud Run uses the subnet named like \
                 the network: {:?}",
                subnet_name(n)
            ));
            Some(SubnetRef {
                name: subnet_name(n),
                written: n.clone(),
                file: file.to_string(),
                path: format!("{shown}{p}"),
            })
        }
        _ => {
            cx.err(
                file,
                &format!("{shown}{path}"),
                "a network interface needs a \"subnetwork\" (or a \"network\", whose subnet of \
                 the same name Cloud Run then uses)",
            );
            None
        }
    }
}

/// A subnet's range: `a.b.c.d/len` with host bits zero.
fn check_cidr(cx: &mut Collected, file: &str, path: &str, cidr: &str) -> bool {
    match cidr.parse::<ipnet::Ipv4Net>() {
        Ok(n) if n.trunc() == n => true,
        Ok(n) => {
            cx.err(
                file,
                path,
                format!("{cidr} has host bits set; the network is {}", n.trunc()),
            );
            false
        }
        Err(_) => {
            cx.err(
                file,
                path,
                format!("{cidr:?} is not an IPv4 range like \"10.0.0.0/24\""),
            );
            false
        }
    }
}

/// The scenario made of what was read.
pub(crate) fn build(mut cx: Collected, opts: &Options) -> Result<Imported, ImportErrors> {
    // Subnets: those the inputs declare, then those given with --subnet.
    let mut nets: BTreeMap<String, Net> = BTreeMap::new();
    for n in std::mem::take(&mut cx.subnets) {
        if let Some(prev) = nets.get(&n.name) {
            if prev.cidr != n.cidr {
                let msg = format!(
                    "subnet {:?} is {} here but {} in {}",
                    n.name, n.cidr, prev.cidr, prev.file
                );
                cx.err(&n.file, "", msg);
            }
            continue;
        }
        nets.insert(n.name.clone(), n);
    }
    for (name, cidr) in &opts.subnets {
        if check_cidr(&mut cx, "--subnet", name, cidr) {
            if let Some(prev) = nets.get(name)
                && &prev.cidr != cidr
            {
                cx.note(format!(
                    "--subnet {name}={cidr} replaces {} from {}",
                    prev.cidr, prev.file
                ));
            }
            nets.insert(
                name.clone(),
                Net {
                    name: name.clone(),
                    cidr: cidr.clone(),
                    file: "--subnet".into(),
                },
            );
        }
    }
    // Every subnet referenced must be declared somewhere.
    let mut asked: Vec<String> = Vec::new();
    let refs: Vec<SubnetRef> = cx
        .workloads
        .iter()
        .map(|w| w.subnet.clone())
        .chain(cx.addresses.iter().map(|a| a.subnet.clone()))
        .collect();
    for r in &refs {
        if !nets.contains_key(&r.name) && !asked.contains(&r.name) {
            asked.push(r.name.clone());
            let url = if r.written != r.name {
                format!(" ({})", r.written)
            } else {
                String::new()
            };
            cx.err(
                &r.file,
                &r.path,
                format!(
                    "subnet {:?}{url} is not declared by any input (a Shared VPC host project's \
                     subnet?): give its range with --subnet {}=CIDR",
                    r.name, r.name
                ),
            );
        }
    }
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for w in &cx.workloads {
        if let Some(prev) = names.insert(&w.name, &w.file) {
            let msg = format!(
                "{} {:?} is also in {prev}: each workload once",
                w.kind.name(),
                w.name
            );
            cx.errors.push(ImportError {
                file: w.file.clone(),
                path: String::new(),
                message: msg,
            });
        }
    }
    if cx.workloads.is_empty() && cx.errors.is_empty() {
        cx.err(
            "inputs",
            "",
            "no Cloud Run service, worker pool or job on Direct VPC egress was found: nothing \
             to simulate",
        );
    }

    // Addresses: statics, and blocks reserved at time 0.
    let mut subnets: Vec<SubnetDef> = nets
        .values()
        .map(|n| SubnetDef {
            name: n.name.clone(),
            cidr: n.cidr.clone(),
            statics: Vec::new(),
            edge_blocks: None,
            allow_small_subnet: false,
            allow_unsupported_range: false,
            reserved: Vec::new(),
        })
        .collect();
    let holder_of: BTreeMap<&str, &str> = opts
        .holders
        .iter()
        .map(|(r, w)| (r.as_str(), w.as_str()))
        .collect();
    let mut held: Vec<String> = Vec::new();
    let addresses = std::mem::take(&mut cx.addresses);
    for a in &addresses {
        let Some(sd) = subnets.iter_mut().find(|s| s.name == a.subnet.name) else {
            continue; // asked for above
        };
        let serverless = a.name.starts_with("serverless-ipv4-");
        if serverless && a.prefix_len == Some(28) {
            let holder = holder_of.get(a.name.as_str()).map(|w| w.to_string());
            if holder.is_some() {
                held.push(a.name.clone());
            }
            sd.reserved.push(ReservedDef {
                prefix: format!("{}/28", a.address),
                holder,
                label: Some(a.name.clone()),
            });
        } else {
            if serverless {
                cx.note(format!(
                    "{}: {} is named like a Cloud Run reservation but is not a /28 block \
                     (prefixLength {}): read as a static allocation",
                    a.subnet.file,
                    a.name,
                    a.prefix_len.map_or("none".into(), |p| p.to_string())
                ));
            }
            let label = Some(format!("{} ({})", a.name, a.purpose));
            sd.statics.push(match a.prefix_len {
                Some(p) if p < 32 => StaticDef {
                    label,
                    address: None,
                    prefix: Some(format!("{}/{p}", a.address)),
                    count: None,
                },
                _ => StaticDef {
                    label,
                    address: Some(a.address.clone()),
                    prefix: None,
                    count: None,
                },
            });
        }
    }
    for (r, _) in &opts.holders {
        if !held.contains(r) {
            cx.err(
                "--hold",
                r,
                format!(
                    "no serverless-ipv4-* /28 reservation named {r:?} is in the addresses read"
                ),
            );
        }
    }

    // Workloads and their demand.
    let swap_at = Duration(WORST_SWAP_AT);
    let mut workloads = Vec::new();
    let mut scales = Vec::new();
    let mut said = Vec::new();
    let found = std::mem::take(&mut cx.workloads);
    for w in &found {
        let (count, why) = scale(w, opts);
        let scaled = |demand: DemandDef, swaps: Vec<SwapDef>| ScaledDef {
            min_instances: (w.min > 0).then_some(w.min.min(count)),
            max_instances: Some(count),
            quota: Some(opts.quota),
            demand: Some(demand),
            requests: None,
            noise: None,
            idle_delay: None,
            swaps,
        };
        let kind = match (w.kind, &opts.demand) {
            (Kind::Job, Demand::MinInstances) => {
                cx.note(format!(
                    "job {:?}: left out (the demand is min instances only)",
                    w.name
                ));
                continue;
            }
            (Kind::Job, _) => WorkloadKindDef::Job(JobDef {
                quota: Some(opts.quota),
                executions: vec![ExecutionDef {
                    start: swap_at,
                    tasks: w.tasks,
                    parallelism: w.parallelism,
                    task_duration: TaskDurationDef::Fixed(Duration(w.timeout_ms)),
                    repeat_every: None,
                    repeat_count: None,
                }],
            }),
            (_, Demand::WorstCase) => {
                let s = scaled(
                    DemandDef::Constant {
                        value: f64::from(count),
                    },
                    vec![SwapDef {
                        at: swap_at,
                        rollout: Duration(opts.rollout_ms),
                    }],
                );
                wrap(w.kind, s)
            }
            (_, Demand::MinInstances) => {
                let s = scaled(
                    DemandDef::Constant {
                        value: f64::from(w.min.min(count)),
                    },
                    Vec::new(),
                );
                wrap(w.kind, s)
            }
            (_, Demand::Trace(_)) => {
                let s = scaled(
                    DemandDef::Trace {
                        trace: "demand".into(),
                        series: None,
                        revisions: None,
                    },
                    Vec::new(),
                );
                wrap(w.kind, s)
            }
        };
        let count = match (w.kind, &opts.demand) {
            (Kind::Job, _) => {
                let at_once = if w.parallelism == 0 {
                    w.tasks
                } else {
                    w.parallelism.min(w.tasks)
                };
                at_once.min(opts.quota)
            }
            (_, Demand::MinInstances) => w.min.min(count),
            _ => count,
        };
        let why = match (w.kind, &opts.demand) {
            (Kind::Job, _) => why,
            (_, Demand::MinInstances) => "min instances".into(),
            (_, Demand::Trace(_)) => format!("the trace, up to {why}"),
            _ => why,
        };
        said.push(format!("{} {} at {count} ({why})", w.kind.name(), w.name));
        scales.push(Scale {
            workload: w.name.clone(),
            kind: w.kind.name(),
            subnet: w.subnet.name.clone(),
            count,
            why,
        });
        workloads.push(WorkloadDef {
            name: w.name.clone(),
            subnet: w.subnet.name.clone(),
            kind,
        });
    }
    let traces = match &opts.demand {
        Demand::Trace(file) => vec![TraceDef {
            name: "demand".into(),
            format: if file.ends_with(".json") {
                TraceFormat::CloudMonitoring
            } else {
                TraceFormat::Csv
            },
            file: ipsim_scenario::def::TraceFile::One(file.clone()),
            ignore_unknown: false,
            functions: None,
            max_gap: None,
        }],
        _ => Vec::new(),
    };
    let profile = match &opts.demand {
        Demand::WorstCase => format!(
            "Worst case: every service and worker pool at its maximum (the Direct VPC quota of {q} \
             instances per revision where none is set, and never above it) swaps to a new revision \
             at 10m ({rollout}), and every job runs all its tasks at its parallelism from 10m, each \
             task for its whole timeout.",
            q = opts.quota,
            rollout = if opts.rollout_ms == 0 {
                "at once".to_string()
            } else {
                format!("rolled out over {}", Duration(opts.rollout_ms))
            }
        ),
        Demand::MinInstances => {
            "Min instances only: every service and worker pool at its minimum, no swap, no job."
                .into()
        }
        Demand::Trace(f) => format!("Demand from the trace {f}; jobs as in the worst case."),
    };
    if !cx.errors.is_empty() {
        return Err(ImportErrors(cx.errors));
    }
    let scenario = ScenarioDef {
        schema: None,
        name: opts.name.clone(),
        description: format!(
            "Imported by ipsim import. {profile} Scales: {}.",
            said.join("; ")
        ),
        seed: 0,
        duration: Duration(WORST_DURATION),
        start: None,
        params: ParamsDef::default(),
        subnets,
        workloads,
        traces,
        expect: None,
        cost: None,
    };
    Ok(Imported {
        scenario,
        notes: cx.notes,
        scales,
    })
}

fn wrap(kind: Kind, s: ScaledDef) -> WorkloadKindDef {
    match kind {
        Kind::WorkerPool => WorkloadKindDef::WorkerPool(s),
        _ => WorkloadKindDef::Service(s),
    }
}

/// A service's or worker pool's instances in the worst case, and why; a job's tasks at once.
fn scale(w: &Found, opts: &Options) -> (u32, String) {
    let q = opts.quota;
    if w.kind == Kind::Job {
        let at_once = if w.parallelism == 0 {
            w.tasks
        } else {
            w.parallelism.min(w.tasks)
        };
        let why = if w.parallelism == 0 || w.parallelism >= w.tasks {
            format!("all {} tasks at once", w.tasks)
        } else {
            format!("{} tasks, {} at once", w.tasks, w.parallelism)
        };
        return if at_once > q {
            (q, format!("{why}, capped by the quota of {q}"))
        } else {
            (at_once, why)
        };
    }
    let given = w.manual.clone().or_else(|| w.max.clone());
    match given {
        Some((n, from)) if n > q => (q, format!("{from} {n}, capped by the quota of {q}")),
        Some((0, from)) => (q, format!("the quota of {q} ({from} 0 means no maximum)")),
        Some((n, from)) => (n, format!("{from} {n}")),
        None => (q, format!("the quota of {q}: no maximum set")),
    }
}
