//! A workload's demand generator (`constant`, `step`, `surge`, `diurnal`): values of 0 or
//! more and below the absurd-value caps of their unit (instances, requests per second, Mbps),
//! a step function's points in increasing time, a positive period; then the samples, with
//! Poisson noise and the idle delay, at most [`demand::INSTANCE_CAP`] instances each (after
//! the request rule), or `u32::MAX` Mbps.

use ipsim_core::{DemandPoint, Kind, Scaled, WorkloadSpec};
use rand_chacha::ChaCha8Rng;

use super::params::Settings;
use super::{MAX_INSTANCES, MAX_RPS, MAX_SAMPLES, Resolver};
use crate::def::DemandDef;
use crate::demand::{self, Requests};
use crate::duration::Duration;
use crate::locate::JsonPath;

/// What a demand's values count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Instances,
    Rps,
    Mbps,
}

impl Resolver<'_> {
    /// Checks generator `g` at `p` and, if the file has no error so far, samples it into a
    /// step function of instances (through `requests`, with `noise`, then the idle delay).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn generated(
        &mut self,
        p: &JsonPath,
        g: &DemandDef,
        unit: Unit,
        s: &Settings,
        noise: Option<&mut ChaCha8Rng>,
        requests: Option<&Requests>,
        idle: u64,
    ) -> Option<Vec<DemandPoint>> {
        self.generator(p, g, unit);
        // The sample cap is the run's, over every workload.
        let n = demand::samples(g, s.duration, s.interval, noise.is_some());
        let before = self.samples;
        self.samples = self.samples.saturating_add(n);
        if self.samples > MAX_SAMPLES {
            if before > MAX_SAMPLES {
                return None; // said once, at the workload that went over
            }
            self.err(
                p,
                format!(
                    "the generators come to more than {MAX_SAMPLES} samples over the run \
                     ({} with this one's {n}); use a longer params.sample_interval, a \
                     shorter duration or fewer sampled workloads",
                    self.samples
                ),
            );
            return None;
        }
        if !self.errs.is_empty() {
            return None;
        }
        let exact = demand::Generator::new(g, |f, v| self.exact(&p.key(f), v));
        let cap = match unit {
            Unit::Mbps => u32::MAX,
            Unit::Instances | Unit::Rps => demand::INSTANCE_CAP,
        };
        match demand::try_sample(&exact, g, s.duration, s.interval, noise, requests, cap) {
            Ok(pts) if idle > 0 => Some(demand::idle_delay(&pts, idle)),
            Ok(pts) => Some(pts),
            Err(t) if unit == Unit::Mbps => {
                self.err(
                    p,
                    format!("at {} the demand is more than {cap} Mbps", Duration(t)),
                );
                None
            }
            Err(t) => {
                self.err(p, too_many(t));
                None
            }
        }
    }

    /// The generator's values and shape.
    fn generator(&mut self, p: &JsonPath, g: &DemandDef, unit: Unit) {
        let (max, what) = match unit {
            Unit::Instances => (MAX_INSTANCES, "an instance count"),
            Unit::Rps => (MAX_RPS, "a request rate"),
            Unit::Mbps => (MAX_RPS, "a throughput in Mbps"),
        };
        match g {
            DemandDef::Constant { value } => self.count(&p.key("value"), *value, max, what),
            DemandDef::Step { points } => {
                if points.is_empty() {
                    self.err(
                        p.key("points"),
                        "a step function needs at least one [time, value] point",
                    );
                }
                for (j, (t, v)) in points.iter().enumerate() {
                    self.count(&p.key("points").index(j), *v, max, what);
                    if j > 0 && *t <= points[j - 1].0 {
                        let how = if *t == points[j - 1].0 {
                            "repeats"
                        } else {
                            "goes back from"
                        };
                        self.err(
                            p.key("points").index(j),
                            format!(
                                "time {t} {how} the previous point's {}; times must increase",
                                points[j - 1].0
                            ),
                        );
                    }
                }
            }
            DemandDef::Surge { base, peak, .. } => {
                self.count(&p.key("base"), *base, max, what);
                self.count(&p.key("peak"), *peak, max, what);
            }
            DemandDef::Diurnal {
                mean,
                amplitude,
                period,
                ..
            } => {
                self.count(&p.key("mean"), *mean, max, what);
                self.count(&p.key("amplitude"), *amplitude, max, what);
                if period.is_some_and(|d| d.ms() == 0) {
                    self.err(p.key("period"), "the period must be positive (24h)");
                }
            }
            DemandDef::Trace { .. } => {}
        }
    }
}

/// The error for a demand of more than [`demand::INSTANCE_CAP`] instances at `t`.
pub(super) fn too_many(t: u64) -> String {
    format!(
        "at {} the demand is more than {} instances, the most ipsim accepts",
        Duration(t),
        demand::INSTANCE_CAP
    )
}

/// Sets the demand of a workload whose kind has one.
pub(super) fn set_demand(spec: &mut WorkloadSpec, points: Vec<DemandPoint>) {
    if let Some(d) = spec.kind.demand_mut() {
        *d = points;
    }
}

/// The clamp, demand and swaps of a service or worker pool.
pub(super) fn scaled_mut(spec: &mut WorkloadSpec) -> Option<&mut Scaled> {
    match &mut spec.kind {
        Kind::Service(s) | Kind::WorkerPool(s) => Some(s),
        Kind::Job(_) | Kind::Connector(_) => None,
    }
}
