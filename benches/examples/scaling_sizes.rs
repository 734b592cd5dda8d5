//! Times the `replay_scaling` replay in process at five sizes, for a quick look at where the
//! cost per state change rises (docs/performance.md "What did not move it"):
//! `cargo run --release -p ipsim-benches --example scaling_sizes [RUNS_AT_300] [RUNS_AT_30000]`.
//! Prints the fastest and the median run of each size, in ns per state change. Criterion's
//! `replay_scaling` bench stays the figure of record.

use ipsim_benches::{prefix_for, synthetic_replay_on};
use ipsim_core::Simulation;

fn main() {
    let arg = |i: usize, d: usize| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(d)
    };
    let (runs_small, runs_large) = (arg(1, 40).max(1), arg(2, 3).max(1));
    let sizes = [
        (300usize, runs_small),
        (3_000, runs_small / 10 + 1),
        (10_000, runs_large + 1),
        (20_000, runs_large),
        (30_000, runs_large),
    ];
    for (n, runs) in sizes {
        let (out, counts) = ipsim_benches::run_replay_counted(n, 120);
        let changes = counts.state_changes(out.summary.failed_attempts) as f64;
        let mut ns: Vec<f64> = (0..runs)
            .map(|_| {
                let (input, mut trace) = synthetic_replay_on(n, 120, 92, prefix_for(n));
                let sim = Simulation::with_feed(&input, &mut trace).expect("valid");
                let start = std::time::Instant::now();
                std::hint::black_box(sim.run());
                start.elapsed().as_nanos() as f64 / changes
            })
            .collect();
        ns.sort_by(f64::total_cmp);
        println!(
            "{n} services: fastest {:.0} ns, median {:.0} ns per state change ({runs} runs)",
            ns[0],
            ns[ns.len() / 2]
        );
    }
}
