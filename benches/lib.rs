//! Fixed, seeded inputs for the benchmarks of ipsim-core.
//!
//! [`synthetic_replay`] is the reference workload: `n_services` services on one /16, each with
//! a diurnal instance count sampled every minute with seeded noise, and one revision swap per
//! service per day. The trace is a [`SyntheticTrace`], a [`DemandFeed`] that computes each
//! minute's points when the run reaches them, as a trace file is streamed: memory does not
//! grow with the number of days. Same arguments, same input, so figures compare across commits.

use ipsim_core::{DemandFeed, FeedPoint, SimInput, SubnetSpec, WorkloadSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One minute in milliseconds.
pub const MIN: u64 = 60_000;

/// The services of the reference replay, and their trace.
pub fn synthetic_replay(n_services: usize, days: u64, seed: u64) -> (SimInput, SyntheticTrace) {
    synthetic_replay_on(n_services, days * 1440, seed, 16)
}

/// The smallest prefix length whose subnet has at least 64 addresses per service (a /16 for
/// 1,000 services, a /11 for 30,000): the density of the reference replay at every size.
pub fn prefix_for(n_services: usize) -> u8 {
    let want = (n_services as u64 * 64).max(1 << 8);
    (32 - want.next_power_of_two().trailing_zeros()) as u8
}

/// The reference replay of `n_services` services for `minutes` minutes on 10.0.0.0/`prefix_len`:
/// the same services, swaps and trace as [`synthetic_replay`] over the days it spans, cut at
/// `minutes` (so shorter runs of large sizes stay affordable).
pub fn synthetic_replay_on(
    n_services: usize,
    minutes: u64,
    seed: u64,
    prefix_len: u8,
) -> (SimInput, SyntheticTrace) {
    let days = minutes.div_ceil(1440);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut workloads = Vec::with_capacity(n_services);
    let mut shape = Vec::with_capacity(n_services);
    for i in 0..n_services {
        let mean: f64 = rng.random_range(2.0..14.0);
        let phase: f64 = rng.random_range(0.0..1440.0);
        shape.push((mean, phase));
        let mut w = WorkloadSpec::service(format!("svc-{i:04}"), 0);
        for d in 0..days {
            let at = d * 1440 * MIN + rng.random_range(0..1440) * MIN;
            w = w.swap(at, rng.random_range(0..5) * MIN);
        }
        workloads.push(w);
    }
    let subnet = SubnetSpec::new(
        format!("bench-{prefix_len}"),
        u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0)),
        prefix_len,
    );
    let mut input = SimInput::new(vec![subnet], workloads, minutes * MIN);
    input.options.record_workload_series = false;
    input.options.record_subnet_series = false;
    input.seed = seed;
    let trace = SyntheticTrace {
        shape,
        minutes,
        minute: 0,
        next: 0,
        last: vec![u32::MAX; n_services],
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed),
    };
    (input, trace)
}

/// Each service's diurnal instance count with noise, minute by minute, changes only.
#[derive(Debug, Clone)]
pub struct SyntheticTrace {
    shape: Vec<(f64, f64)>,
    minutes: u64,
    minute: u64,
    next: usize,
    last: Vec<u32>,
    rng: ChaCha8Rng,
}

impl DemandFeed for SyntheticTrace {
    fn next_point(&mut self) -> Option<FeedPoint> {
        while self.minute < self.minutes {
            while self.next < self.shape.len() {
                let i = self.next;
                self.next += 1;
                let (mean, phase) = self.shape[i];
                let m = self.minute as f64;
                let day = (2.0 * std::f64::consts::PI * (m - phase) / 1440.0).sin();
                let noise: f64 = self.rng.random_range(-1.5..1.5);
                let v = (mean * (1.0 + 0.6 * day) + noise).max(0.0).round() as u32;
                if v != self.last[i] {
                    self.last[i] = v;
                    return Some(FeedPoint {
                        time_ms: self.minute * MIN,
                        workload: i,
                        instances: v,
                    });
                }
            }
            self.next = 0;
            self.minute += 1;
        }
        None
    }
}

/// Runs the reference replay of `n_services` for `minutes` on `prefix_for(n_services)` once,
/// and returns the core's output and its exact counts.
pub fn run_replay_counted(
    n_services: usize,
    minutes: u64,
) -> (ipsim_core::Output, ipsim_core::bench_api::Counts) {
    let (input, mut trace) = synthetic_replay_on(n_services, minutes, 92, prefix_for(n_services));
    ipsim_core::bench_api::run_counted(
        ipsim_core::Simulation::with_feed(&input, &mut trace).expect("valid"),
    )
}
