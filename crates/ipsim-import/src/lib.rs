//! ipsim-import makes a runnable scenario from what users already have: Cloud Run resources as
//! `gcloud run services|jobs|worker-pools describe --format export` YAML, a Terraform plan or
//! state as `terraform show -json`, and a subnet's current addresses as
//! `gcloud compute addresses list --format=json`.
//!
//! [`import`] reads any mix of them ([`Source`]s), recognises each by its content, and returns
//! an [`Imported`]: the scenario ([`ipsim_scenario::def::ScenarioDef`], ready to write as JSON
//! and to load with [`ipsim_scenario::resolve`]) and the notes: every field with a value that
//! ipsim does not use, once per file, and each choice made for the user (a quota used where
//! no maximum is set, a service left out because it uses a connector). Problems come back all
//! at once as [`ImportError`]s naming the file, the field and what would be valid.
//!
//! The demand is the worst case by default ([`Demand::WorstCase`]): each service and worker
//! pool at its maximum (or the Direct VPC quota), swapping to a new revision, while each job
//! runs all its tasks at its parallelism; docs/import.md says why.

mod addresses;
mod build;
mod doc;
mod knative;
mod terraform;

use std::fmt;

pub use build::{WORST_DURATION, WORST_SWAP_AT};

/// One input file: its name (for messages) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file's name as the user gave it.
    pub name: String,
    /// Its contents.
    pub text: String,
}

/// What demand the scenario gives the workloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Demand {
    /// Each service and worker pool at its maximum (or the quota) with a revision swap; each
    /// job running all its tasks at its parallelism, during the swap.
    WorstCase,
    /// Each service and worker pool at its minimum instances only; no swap, no job.
    MinInstances,
    /// Each service's and worker pool's demand from the series of its name in this trace file
    /// (CSV, or a Cloud Monitoring export if it ends in `.json`), path as the scenario will
    /// name it; jobs as in the worst case.
    Trace(String),
}

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// The scenario's name (default `imported`).
    pub name: String,
    /// Subnets no input declares (a Shared VPC host project's): `(name, cidr)`.
    pub subnets: Vec<(String, String)>,
    /// Reservations (`serverless-ipv4-*`) handed to a workload: `(reservation, workload)`.
    pub holders: Vec<(String, String)>,
    /// The demand profile.
    pub demand: Demand,
    /// The Direct VPC egress instance quota per revision and region (100 to 200 by region):
    /// the count of a service or worker pool without a maximum, and a cap on every one.
    pub quota: u32,
    /// The worst case's revision swap rolls out over this long (0: at once).
    pub rollout_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: "imported".into(),
            subnets: Vec::new(),
            holders: Vec::new(),
            demand: Demand::WorstCase,
            quota: 200,
            rollout_ms: 0,
        }
    }
}

/// A scenario made from the inputs, and what the user should know about how.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The scenario.
    pub scenario: ipsim_scenario::def::ScenarioDef,
    /// Notes: fields not used, choices made, things left out; one line each.
    pub notes: Vec<String>,
    /// Each service, worker pool and job and the scale the scenario runs it at.
    pub scales: Vec<Scale>,
}

impl Imported {
    /// The scenario as pretty JSON, as `ipsim import` writes it: the fields in the scenario
    /// format's order, `params` left out (the model's defaults).
    pub fn json(&self) -> String {
        use ipsim_scenario::def::{SubnetDef, TraceDef, WorkloadDef};
        #[derive(serde::Serialize)]
        struct Out<'a> {
            name: &'a str,
            description: &'a str,
            seed: u64,
            duration: ipsim_scenario::Duration,
            subnets: &'a [SubnetDef],
            workloads: &'a [WorkloadDef],
            #[serde(skip_serializing_if = "<[TraceDef]>::is_empty")]
            traces: &'a [TraceDef],
        }
        let d = &self.scenario;
        let out = Out {
            name: &d.name,
            description: &d.description,
            seed: d.seed,
            duration: d.duration,
            subnets: &d.subnets,
            workloads: &d.workloads,
            traces: &d.traces,
        };
        let mut s = serde_json::to_string_pretty(&out).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// A workload of the scenario and the scale it runs at, and where that came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale {
    /// Its name.
    pub workload: String,
    /// `service`, `worker pool` or `job`.
    pub kind: &'static str,
    /// Its subnet.
    pub subnet: String,
    /// Instances (services, worker pools) or tasks at once (jobs).
    pub count: u32,
    /// Where the count comes from, e.g. `maxScale 100` or `the quota (no maxScale)`.
    pub why: String,
}

/// A problem with an input: the file, where in it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file (or `--subnet` for an option).
    pub file: String,
    /// The field, as a path into the document (may be empty).
    pub path: String,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.path, self.message)
        }
    }
}

impl std::error::Error for ImportError {}

/// Every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportErrors(pub Vec<ImportError>);

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

/// Reads every source and makes the scenario; every problem at once.
pub fn import(sources: &[Source], opts: &Options) -> Result<Imported, ImportErrors> {
    let mut cx = build::Collected::default();
    for s in sources {
        read_source(s, &mut cx);
    }
    build::build(cx, opts)
}

/// Recognises a source by its content and reads it into `cx`.
fn read_source(s: &Source, cx: &mut build::Collected) {
    let text = s.text.strip_prefix('\u{feff}').unwrap_or(&s.text);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        cx.err(&s.name, "", "the file is empty: expected a gcloud export (YAML), `terraform show -json` output or `gcloud compute addresses list --format=json` output");
        return;
    }
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) if v.is_array() => addresses::read(&s.name, &v, cx),
            Ok(v) if v.get("format_version").is_some() => terraform::read(&s.name, &v, cx),
            Ok(v) if v.get("kind").is_some() => knative::read_all(&s.name, vec![v], cx),
            Ok(_) => cx.err(
                &s.name,
                "",
                "a JSON object that is neither `terraform show -json` output (no \
                 \"format_version\") nor a Cloud Run resource (no \"kind\")",
            ),
            Err(e) => cx.err(
                &s.name,
                "",
                format!(
                    "line {} column {}: not valid JSON: {e}",
                    e.line(),
                    e.column()
                ),
            ),
        }
        return;
    }
    match serde_saphyr::from_multiple::<serde_json::Value>(text) {
        Ok(docs) => knative::read_all(&s.name, docs, cx),
        Err(e) => cx.err(&s.name, "", format!("not valid YAML: {e}")),
    }
}
