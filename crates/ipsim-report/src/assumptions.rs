//! What a run assumes: every model parameter, the value used, and whether Google documents it
//! (with the page) or it is ipsim's choice. The one list of them: report.json's `params` and
//! `assumptions`, the summary's assumptions line, every chart's subtitle, and the readings
//! `ipsim run --bracket`, `ipsim size` and `ipsim compare` try all come from here.
//!
//! [`Choice`] names the undocumented choices that can change an outcome and that ipsim can
//! simulate every reading of: block scope, retention, edge blocks. The other model choices
//! (strategy, linger, retry interval, sampling) are stated too, but not bracketed: the
//! strategies cannot change an outcome while blocks are interchangeable, and the others are
//! numbers a user sets.

use ipsim_core::{BlockScope, EdgeBlocks, Params, Retention, SimInput};
use serde::{Deserialize, Serialize};

/// [Direct VPC egress with a VPC network](https://cloud.google.com/run/docs/configuring/vpc-direct-vpc).
pub const DVE: &str = "https://cloud.google.com/run/docs/configuring/vpc-direct-vpc";
/// [Cloud Run release notes](https://cloud.google.com/run/docs/release-notes) (26 March 2025: 2X).
pub const RELEASE_NOTES: &str = "https://cloud.google.com/run/docs/release-notes";
/// [Set maximum retries for jobs](https://cloud.google.com/run/docs/configuring/max-retries).
pub const MAX_RETRIES: &str = "https://cloud.google.com/run/docs/configuring/max-retries";
/// [About concurrency](https://cloud.google.com/run/docs/about-concurrency).
pub const CONCURRENCY: &str = "https://cloud.google.com/run/docs/about-concurrency";
/// [About instance autoscaling](https://cloud.google.com/run/docs/about-instance-autoscaling).
pub const AUTOSCALING: &str = "https://cloud.google.com/run/docs/about-instance-autoscaling";

/// The documented default concurrency (requests per instance) of request-rate demand.
pub const DEFAULT_CONCURRENCY: u32 = 80;
/// The documented target utilization of request-rate demand.
pub const DEFAULT_TARGET_UTILIZATION: f64 = 0.6;
/// ipsim's default sampling step of demand generators, in ms.
pub const DEFAULT_SAMPLE_INTERVAL_MS: u64 = 60_000;

/// Whether Google documents a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Google Cloud's documentation says so (`source` links the page).
    Documented,
    /// The documentation leaves it open; ipsim picks.
    ModelChoice,
}

/// One assumption of a run: report.json's `assumptions[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assumption {
    /// The scenario parameter (`params.F`, or `edge_blocks` of the subnets).
    pub parameter: String,
    /// The value this run used.
    pub value: String,
    /// ipsim's default.
    pub default: String,
    /// Documented by Google, or ipsim's choice.
    pub status: Status,
    /// The Google Cloud page, when there is one.
    pub source: Option<String>,
    /// What is documented and what is chosen.
    pub note: String,
    /// The other values `ipsim run --bracket` tries (empty: not bracketed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<String>,
}

/// The parameters of request-rate demand and generators, which ipsim-scenario applies before
/// the core runs (so a bare [`SimInput`] does not carry them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DemandParams {
    /// Requests an instance serves at once.
    pub concurrency: u32,
    /// Target share of the concurrency.
    pub target_utilization: f64,
    /// Sampling step of generators.
    pub sample_interval_ms: u64,
}

impl Default for DemandParams {
    fn default() -> Self {
        DemandParams {
            concurrency: DEFAULT_CONCURRENCY,
            target_utilization: DEFAULT_TARGET_UTILIZATION,
            sample_interval_ms: DEFAULT_SAMPLE_INTERVAL_MS,
        }
    }
}

/// Every parameter as the run resolved it: report.json's `params`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedParams {
    /// Addresses per service or worker-pool instance.
    pub ips_per_instance: u32,
    /// Addresses per job task.
    pub ips_per_task: u32,
    /// Retention after an instance stops (the maximum under uniform retention).
    pub service_retention_ms: u64,
    /// Retention after a task ends.
    pub task_retention_ms: u64,
    /// `fixed` or `uniform`.
    pub retention: String,
    /// Addresses per block.
    pub block_size: u32,
    /// `service`, `revision` or `subnet`.
    pub block_scope: String,
    /// `excluded` or `partial` when every subnet has it (a connector's aside); else `mixed`.
    pub edge_blocks: String,
    /// How long a wholly free block stays with its owner.
    pub block_linger_ms: u64,
    /// Time between start attempts.
    pub retry_interval_ms: u64,
    /// Retries of a job task that fails to start.
    pub max_task_retries: u32,
    /// Block placement strategy.
    pub strategy: String,
    /// Request-rate and generator parameters, when the run came from a scenario file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand: Option<DemandParams>,
}

/// An undocumented choice that can change an outcome and that `--bracket` tries every
/// reading of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Choice {
    /// Who owns a block.
    BlockScope,
    /// Always the full retention, or a draw up to it.
    Retention,
    /// Whether the blocks holding Google's reserved addresses can be reserved.
    EdgeBlocks,
}

impl Choice {
    /// Every bracketed choice, in bracket order.
    pub const ALL: [Choice; 3] = [Choice::BlockScope, Choice::Retention, Choice::EdgeBlocks];

    /// Its key in a variant or reading (`scope=subnet`).
    pub fn key(self) -> &'static str {
        match self {
            Choice::BlockScope => "scope",
            Choice::Retention => "retention",
            Choice::EdgeBlocks => "edges",
        }
    }

    /// The scenario parameter it is.
    pub fn parameter(self) -> &'static str {
        match self {
            Choice::BlockScope => "params.block_scope",
            Choice::Retention => "params.retention",
            Choice::EdgeBlocks => "subnets[].edge_blocks",
        }
    }

    /// Its readings, the default first.
    pub fn readings(self) -> &'static [&'static str] {
        match self {
            Choice::BlockScope => &["service", "revision", "subnet"],
            Choice::Retention => &["fixed", "uniform"],
            Choice::EdgeBlocks => &["excluded", "partial"],
        }
    }

    /// What reading `value` means for the addresses a run needs.
    pub fn meaning(self, value: &str) -> &'static str {
        match (self, value) {
            (Choice::BlockScope, "service") => {
                "each workload reserves its own blocks, so a workload of a few instances still takes a whole block"
            }
            (Choice::BlockScope, "revision") => {
                "each revision or job execution reserves its own blocks, so a new revision cannot use the free addresses in the old one's blocks"
            }
            (Choice::BlockScope, "subnet") => {
                "one pool for the subnet: workloads share blocks, so fewer are needed"
            }
            (Choice::Retention, "fixed") => {
                "stopped instances keep their addresses for the full retention"
            }
            (Choice::Retention, "uniform") => {
                "stopped instances keep their addresses for a seeded draw up to the retention (half of it on average)"
            }
            (Choice::EdgeBlocks, "excluded") => {
                "the first and last blocks, which hold Google's reserved addresses, cannot be reserved"
            }
            (Choice::EdgeBlocks, "partial") => {
                "the first and last blocks can be reserved, with their usable addresses"
            }
            _ => "not a reading ipsim knows",
        }
    }

    /// The choice whose key is `key`.
    pub fn from_key(key: &str) -> Option<Choice> {
        Choice::ALL.into_iter().find(|c| c.key() == key)
    }

    /// The value `p` has for it.
    pub fn value(self, p: &ResolvedParams) -> &str {
        match self {
            Choice::BlockScope => &p.block_scope,
            Choice::Retention => &p.retention,
            Choice::EdgeBlocks => &p.edge_blocks,
        }
    }
}

fn scope_name(s: BlockScope) -> &'static str {
    match s {
        BlockScope::Service => "service",
        BlockScope::Revision => "revision",
        BlockScope::Subnet => "subnet",
    }
}

fn retention_name(r: Retention) -> &'static str {
    match r {
        Retention::Fixed => "fixed",
        Retention::Uniform => "uniform",
    }
}

/// `excluded` or `partial`.
pub fn edge_name(e: EdgeBlocks) -> &'static str {
    match e {
        EdgeBlocks::Excluded => "excluded",
        EdgeBlocks::Partial => "partial",
    }
}

/// `20m`, `1h30m`, `0s`.
fn dur(ms: u64) -> String {
    crate::span(ms)
}

impl Default for ResolvedParams {
    /// The defaults (a report written before `params` existed reads as them).
    fn default() -> Self {
        ResolvedParams::of(&SimInput::new(Vec::new(), Vec::new(), 1), None)
    }
}

impl ResolvedParams {
    /// The parameters of `input`, with the demand parameters if known.
    pub fn of(input: &SimInput, demand: Option<DemandParams>) -> ResolvedParams {
        let p = &input.params;
        // A connector's /28 holds no Cloud Run block: its policy is not a reading.
        let connector = |i: usize| {
            input
                .workloads
                .iter()
                .any(|w| w.subnet == i && matches!(w.kind, ipsim_core::Kind::Connector(_)))
        };
        let edges: Vec<&str> = input
            .subnets
            .iter()
            .enumerate()
            .filter(|(i, _)| !connector(*i))
            .map(|(_, s)| edge_name(s.edge_blocks))
            .collect();
        let edge_blocks = match edges.first() {
            None => "excluded".to_string(),
            Some(e) if edges.iter().all(|x| x == e) => e.to_string(),
            Some(_) => "mixed".to_string(),
        };
        ResolvedParams {
            ips_per_instance: p.ips_per_instance,
            ips_per_task: p.ips_per_task,
            service_retention_ms: p.service_retention_ms,
            task_retention_ms: p.task_retention_ms,
            retention: retention_name(p.retention).into(),
            block_size: p.block_size,
            block_scope: scope_name(p.block_scope).into(),
            edge_blocks,
            block_linger_ms: p.block_linger_ms,
            retry_interval_ms: p.retry_interval_ms,
            max_task_retries: p.max_task_retries,
            strategy: p.strategy.name().into(),
            demand,
        }
    }

    /// Every assumption of these parameters, documented ones first, in a fixed order.
    pub fn assumptions(&self) -> Vec<Assumption> {
        let d = Params::default();
        let dd = DemandParams::default();
        let a = |parameter: &str,
                 value: String,
                 default: String,
                 status: Status,
                 source: Option<&str>,
                 note: &str| Assumption {
            parameter: parameter.into(),
            value,
            default,
            status,
            source: source.map(String::from),
            note: note.into(),
            readings: Vec::new(),
        };
        use Status::{Documented, ModelChoice};
        let mut v = vec![
            a(
                "params.ips_per_instance",
                self.ips_per_instance.to_string(),
                d.ips_per_instance.to_string(),
                Documented,
                Some(DVE),
                "2 addresses per instance at steady state (4 before the release note of 26 March 2025)",
            ),
            a(
                "params.ips_per_task",
                self.ips_per_task.to_string(),
                d.ips_per_task.to_string(),
                Documented,
                Some(DVE),
                "1 address per job task",
            ),
            a(
                "params.block_size",
                self.block_size.to_string(),
                d.block_size.to_string(),
                Documented,
                Some(DVE),
                "addresses are reserved in /28 blocks of 16; their alignment is ipsim's choice",
            ),
            a(
                "params.service_retention",
                dur(self.service_retention_ms),
                dur(d.service_retention_ms),
                Documented,
                Some(DVE),
                "a scaled-down revision's addresses are kept for up to 20 minutes (a maximum)",
            ),
            a(
                "params.task_retention",
                dur(self.task_retention_ms),
                dur(d.task_retention_ms),
                Documented,
                Some(DVE),
                "a job task's address is kept for 7 minutes after it completes",
            ),
            a(
                "params.max_task_retries",
                self.max_task_retries.to_string(),
                d.max_task_retries.to_string(),
                Documented,
                Some(MAX_RETRIES),
                "the documented default for task failures; that failed starts count against it is ipsim's choice",
            ),
        ];
        if let Some(dm) = &self.demand {
            v.push(a(
                "params.concurrency",
                dm.concurrency.to_string(),
                dd.concurrency.to_string(),
                Documented,
                Some(CONCURRENCY),
                "requests an instance serves at once, for request-rate demand",
            ));
            v.push(a(
                "params.target_utilization",
                dm.target_utilization.to_string(),
                dd.target_utilization.to_string(),
                Documented,
                Some(AUTOSCALING),
                "the autoscaler's target share of the concurrency; the request rule built on it is ipsim's",
            ));
        }
        let choice = |c: Choice, note: &str, source: Option<&str>| Assumption {
            parameter: c.parameter().into(),
            value: c.value(self).into(),
            default: c.readings()[0].into(),
            status: ModelChoice,
            source: source.map(String::from),
            note: note.into(),
            readings: c.readings().iter().map(|s| s.to_string()).collect(),
        };
        v.push(choice(
            Choice::BlockScope,
            "how Cloud Run scopes its blocks (per service, per revision, or pooled per subnet) is not documented",
            None,
        ));
        v.push(choice(
            Choice::Retention,
            "whether retention is always the full maximum or a time up to it is not documented (\"up to 20 minutes\")",
            Some(DVE),
        ));
        v.push(choice(
            Choice::EdgeBlocks,
            "whether the blocks holding Google's reserved addresses can be reserved is not documented (excluded: first reservations are seen at .16, and it explains the /26 minimum)",
            None,
        ));
        v.push(a(
            "params.strategy",
            self.strategy.clone(),
            d.strategy.name().into(),
            ModelChoice,
            None,
            "which free block is reserved is not documented; it cannot change an outcome while blocks are interchangeable (edge blocks excluded)",
        ));
        v.push(a(
            "params.block_linger",
            dur(self.block_linger_ms),
            dur(d.block_linger_ms),
            ModelChoice,
            None,
            "how long a wholly free block stays with its owner is not documented",
        ));
        v.push(a(
            "params.retry_interval",
            dur(self.retry_interval_ms),
            dur(d.retry_interval_ms),
            ModelChoice,
            None,
            "how often a failed start is retried is not documented",
        ));
        if let Some(dm) = &self.demand {
            v.push(a(
                "params.sample_interval",
                dur(dm.sample_interval_ms),
                dur(dd.sample_interval_ms),
                ModelChoice,
                None,
                "how often demand generators are sampled (traces are used as they are)",
            ));
        }
        v
    }
}

/// The undocumented choices of `assumptions`, in one line:
/// `block_scope=service, retention=fixed, edge_blocks=excluded, ...`.
pub fn choices_text(assumptions: &[Assumption]) -> String {
    assumptions
        .iter()
        .filter(|a| a.status == Status::ModelChoice)
        .map(|a| {
            let name = a.parameter.rsplit('.').next().unwrap_or(&a.parameter);
            format!("{name}={}", a.value)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary's line of assumptions.
pub fn summary_line(assumptions: &[Assumption]) -> String {
    format!(
        "Assumes (undocumented): {} (report.json: assumptions; ipsim run --bracket tries the other readings)",
        choices_text(assumptions)
    )
}

/// A chart's subtitle.
pub fn subtitle(assumptions: &[Assumption]) -> String {
    format!(
        "model choices, not documented: {}",
        choices_text(assumptions)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bracketed_choice_is_a_model_choice_with_its_readings() {
        let input = SimInput::new(vec![], vec![], 1);
        let p = ResolvedParams::of(&input, Some(DemandParams::default()));
        let a = p.assumptions();
        for c in Choice::ALL {
            let row = a.iter().find(|x| x.parameter == c.parameter()).unwrap();
            assert_eq!(row.status, Status::ModelChoice);
            assert_eq!(row.value, c.readings()[0]);
            assert_eq!(row.readings.len(), c.readings().len());
        }
        assert_eq!(
            choices_text(&a),
            "block_scope=service, retention=fixed, edge_blocks=excluded, strategy=first-fit, \
             block_linger=0s, retry_interval=10s, sample_interval=1m"
        );
        // Every source is a public Google Cloud page.
        for x in &a {
            if let Some(s) = &x.source {
                assert!(s.starts_with("https://cloud.google.com/"), "{s}");
            }
            if x.status == Status::Documented {
                assert!(x.source.is_some(), "{}", x.parameter);
            }
        }
    }
}
