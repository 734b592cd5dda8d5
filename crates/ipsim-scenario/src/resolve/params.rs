//! The scenario's own settings: its name (a folder name), the duration (positive is the
//! core's rule; at most 400 days is ours), the start time (RFC 3339), and `params`: ranges of
//! Cloud Run's figures (addresses per instance and task, retentions, retries), the request
//! rule's concurrency and utilization, the sampling step. What a value means for the model
//! (a block size that is a power of two, at least one address) is the core's to check.

use ipsim_core::{BlockScope, Params, Retention, Strategy};

use super::{MAX_DURATION_MS, MAX_SAMPLES, Resolver, param};
use crate::def::{ParamsDef, RetentionDef, ScenarioDef, ScopeDef, StrategyDef};
use crate::duration::Duration;
use crate::exact::Exact;
use crate::locate::JsonPath;

/// What the rest of the file is read against.
pub(super) struct Settings {
    /// The run covers `[0, duration)`.
    pub(super) duration: u64,
    /// Clock time of t = 0.
    pub(super) start: Option<jiff::Timestamp>,
    /// Default concurrency of the request rule.
    pub(super) concurrency: u32,
    /// Default target utilization of the request rule, exactly as written.
    pub(super) target: Exact,
    /// Sampling step of generators.
    pub(super) interval: u64,
}

impl Resolver<'_> {
    /// The name, duration, start and params, and the defaults of the request rule.
    pub(super) fn settings(&mut self, def: &ScenarioDef) -> (Settings, Params) {
        if def.name.trim().is_empty() {
            self.err(
                "name",
                "the name is empty; give a short name (it names the output folder)",
            );
        } else if def.name.contains(['/', '\\']) || def.name.starts_with('.') {
            self.err(
                "name",
                format!(
                    "{:?} cannot name a folder; use letters, digits, '-' and '_'",
                    def.name
                ),
            );
        } else {
            self.name(&JsonPath::from("name"), "scenario", &def.name);
        }
        let duration = def.duration.ms();
        // A positive duration is the core's rule; the cap is ours.
        if duration > MAX_DURATION_MS {
            self.err(
                "duration",
                format!("{} is longer than the 400 days ipsim accepts", def.duration),
            );
        }
        let start = match &def.start {
            None => None,
            Some(s) => match s.parse::<jiff::Timestamp>() {
                Ok(t) => Some(t),
                Err(_) => {
                    self.err(
                        "start",
                        format!("{s:?} is not an RFC 3339 time like \"2025-01-01T00:00:00Z\""),
                    );
                    None
                }
            },
        };
        let params = self.params(&def.params, duration);
        let pd = &def.params;
        let target = match pd.target_utilization {
            Some(u) => self.exact(&param("target_utilization"), u),
            None => Exact::ratio(6, 10).unwrap_or_else(Exact::zero),
        };
        let settings = Settings {
            duration,
            start,
            concurrency: pd.concurrency.unwrap_or(80),
            target,
            interval: pd.sample_interval.map_or(60_000, Duration::ms),
        };
        (settings, params)
    }

    /// The model's parameters, defaults applied.
    fn params(&mut self, d: &ParamsDef, duration: u64) -> Params {
        let mut p = Params::default();
        // At least one address and a block size that is a power of two are the core's rules;
        // the caps are ours.
        if let Some(v) = d.ips_per_instance {
            if v > 64 {
                self.err(
                    param("ips_per_instance"),
                    format!("{v} is more than 64 (2; 4 for the pre-2025 rule)"),
                );
            }
            p.ips_per_instance = v;
        }
        if let Some(v) = d.ips_per_task {
            if v > 64 {
                self.err(param("ips_per_task"), format!("{v} is more than 64 (1)"));
            }
            p.ips_per_task = v;
        }
        if let Some(v) = d.block_size {
            p.block_size = v;
        }
        let day = 86_400_000;
        for (name, v, slot) in [
            (
                "service_retention",
                d.service_retention,
                &mut p.service_retention_ms,
            ),
            ("task_retention", d.task_retention, &mut p.task_retention_ms),
            ("block_linger", d.block_linger, &mut p.block_linger_ms),
        ] {
            if let Some(v) = v {
                if v.ms() > day {
                    self.err(
                        JsonPath::from("params").key(name),
                        format!("{v} is longer than a day; that is not a retention Cloud Run has"),
                    );
                }
                *slot = v.ms();
            }
        }
        if let Some(v) = d.retry_interval {
            if v.ms() > day {
                self.err(
                    param("retry_interval"),
                    format!("{v} is longer than a day (10s)"),
                );
            }
            p.retry_interval_ms = v.ms();
        }
        if let Some(v) = d.max_task_retries {
            if v > 10 {
                self.err(
                    param("max_task_retries"),
                    format!("{v} is more than the 10 retries Cloud Run allows per task"),
                );
            }
            p.max_task_retries = v;
        }
        choices(d, &mut p);
        if let Some(c) = d.concurrency {
            if !(1..=1000).contains(&c) {
                self.err(
                    param("concurrency"),
                    format!("{c} is not a concurrency from 1 to 1000 (80)"),
                );
            }
        }
        if let Some(u) = d.target_utilization {
            if !(u > 0.0 && u <= 1.0) {
                self.err(
                    param("target_utilization"),
                    format!("{u} is not a share in (0, 1] (0.6)"),
                );
            }
        }
        if let Some(s) = d.sample_interval {
            if s.ms() == 0 {
                self.err(
                    param("sample_interval"),
                    "the sample interval must be positive (1m)",
                );
            } else if duration / s.ms() > MAX_SAMPLES && !self.gaps.duration {
                self.err(param("sample_interval"), format!("{s} gives more than {MAX_SAMPLES} samples over the run; use a longer interval"));
            }
        }
        p
    }
}

/// `params.retention`, `params.block_scope` and `params.strategy` into the core's parameters:
/// each is one of its names, so none can be wrong, and nothing else of a run's input depends
/// on them.
pub(super) fn choices(d: &ParamsDef, p: &mut Params) {
    p.strategy = match d.strategy {
        Some(StrategyDef::FirstFit) | None => Strategy::FirstFit,
        Some(StrategyDef::NextFit) => Strategy::NextFit,
        Some(StrategyDef::BestFit) => Strategy::BestFit,
        Some(StrategyDef::Random) => Strategy::Random,
    };
    p.retention = match d.retention {
        Some(RetentionDef::Uniform) => Retention::Uniform,
        _ => Retention::Fixed,
    };
    p.block_scope = match d.block_scope {
        Some(ScopeDef::Revision) => BlockScope::Revision,
        Some(ScopeDef::Subnet) => BlockScope::Subnet,
        _ => BlockScope::Service,
    };
}
