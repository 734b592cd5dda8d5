//! Fixed, seeded inputs for the benchmarks of ipsim-core.
//!
//! [`synthetic_replay`] builds the reference workload: `n_services` services on one /16, each
//! with a diurnal instance count sampled every minute with seeded noise, and a revision swap
//! per service per day. Same arguments, same input, so figures compare across commits.

use ipsim_core::{SimInput, SubnetSpec, WorkloadSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One minute in milliseconds.
pub const MIN: u64 = 60_000;

/// `n_services` services over `days` days with one-minute demand steps on 10.0.0.0/16.
pub fn synthetic_replay(n_services: usize, days: u64, seed: u64) -> SimInput {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let minutes = days * 24 * 60;
    let mut workloads = Vec::with_capacity(n_services);
    for i in 0..n_services {
        let mean: f64 = rng.random_range(2.0..14.0);
        let phase: f64 = rng.random_range(0.0..1440.0);
        let mut w = WorkloadSpec::service(format!("svc-{i:04}"), 0);
        let mut last = u32::MAX;
        for m in 0..minutes {
            let day = (2.0 * std::f64::consts::PI * (m as f64 - phase) / 1440.0).sin();
            let noise: f64 = rng.random_range(-1.5..1.5);
            let v = (mean * (1.0 + 0.6 * day) + noise).max(0.0).round() as u32;
            if v != last {
                w = w.at(m * MIN, v);
                last = v;
            }
        }
        for d in 0..days {
            let at = d * 1440 * MIN + rng.random_range(0..1440) * MIN;
            w = w.swap(at, rng.random_range(0..5) * MIN);
        }
        workloads.push(w);
    }
    let subnet = SubnetSpec::new(
        "bench-16",
        u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0)),
        16,
    );
    let mut input = SimInput::new(vec![subnet], workloads, days * 1440 * MIN);
    input.options.record_workload_series = false;
    input.seed = seed;
    input
}
