//! The engine's benches: the event queue (hold model at 1k, 100k and 1M pending events,
//! beside a bare `BinaryHeap`), the allocator (reserve, take, give back, release), the full
//! replay of 1,000 services over 7 days with one-minute steps on a /16, per real queue pop
//! beside a bare `BinaryHeap` of the replay's mean queue size; the replay at 300, 3,000 and
//! 30,000 services per state-changing event; and a retry storm whose cost must not grow with
//! the number of pending starts.
//!
//! Hold model: with N events pending, pop the earliest and push one a pseudo-random delay
//! later, so N stays constant; filling the queue is not timed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ipsim_benches::{prefix_for, synthetic_replay, synthetic_replay_on};
use ipsim_core::Simulation;
use ipsim_core::bench_api::{Allocator, Queue};

/// A cheap deterministic delay stream (xorshift), the same for every queue compared.
struct Delays(u64);
impl Delays {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % 1_200_000
    }
}

const HOLD_OPS: u64 = 1_000_000;

fn fill_ipsim(n: usize) -> (Queue, Delays) {
    let mut q = Queue::default();
    let mut d = Delays(0x9E37_79B9_7F4A_7C15);
    for _ in 0..n {
        q.push(d.next());
    }
    (q, d)
}

fn hold_ipsim((mut q, mut d): (Queue, Delays)) -> u64 {
    let mut sum = 0;
    for _ in 0..HOLD_OPS {
        let t = q.pop().unwrap_or(0);
        sum ^= t;
        q.push(t + d.next());
    }
    sum
}

/// Entries of the same size as the engine's: (time, key, 16-byte payload).
type StdHeap = BinaryHeap<Reverse<(u64, u64, [u64; 2])>>;

fn fill_std(n: usize) -> (StdHeap, Delays, u64) {
    let mut q = BinaryHeap::with_capacity(n + 1);
    let mut d = Delays(0x9E37_79B9_7F4A_7C15);
    for i in 0..n as u64 {
        q.push(Reverse((d.next(), i, [0; 2])));
    }
    (q, d, n as u64)
}

fn hold_std((mut q, mut d, mut seq): (StdHeap, Delays, u64)) -> u64 {
    let mut sum = 0;
    for _ in 0..HOLD_OPS {
        let Reverse((t, _, _)) = q.pop().unwrap_or(Reverse((0, 0, [0; 2])));
        sum ^= t;
        seq += 1;
        q.push(Reverse((t + d.next(), seq, [0; 2])));
    }
    sum
}

fn queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_hold");
    g.sample_size(10);
    g.throughput(Throughput::Elements(HOLD_OPS));
    for n in [1_000usize, 100_000, 1_000_000] {
        g.bench_function(format!("ipsim_{n}"), |b| {
            b.iter_batched(|| fill_ipsim(n), hold_ipsim, BatchSize::LargeInput)
        });
        g.bench_function(format!("std_binary_heap_{n}"), |b| {
            b.iter_batched(|| fill_std(n), hold_std, BatchSize::LargeInput)
        });
    }
    g.finish();
}

fn allocator(c: &mut Criterion) {
    // 1,000 owners on a /16 reserve and release: each round every owner takes 2 addresses
    // (reserving a block when its own are full) and the oldest holdings are given back.
    let mut g = c.benchmark_group("allocator");
    g.sample_size(10);
    const ROUNDS: u64 = 200;
    g.throughput(Throughput::Elements(ROUNDS * 1000 * 2));
    g.bench_function("take_give_back_1000_owners_16", |b| {
        b.iter(|| {
            let mut a = Allocator::new(16, 1000);
            let mut live: std::collections::VecDeque<(usize, ipsim_core::bench_api::Held)> =
                Default::default();
            for r in 0..ROUNDS {
                for o in 0..1000 {
                    if let Some(h) = a.take((o * 7 + r as usize) % 1000, 2) {
                        live.push_back(((o * 7 + r as usize) % 1000, h));
                    }
                }
                while live.len() > 8000 {
                    let Some((o, h)) = live.pop_front() else {
                        break;
                    };
                    a.give_back(o, &h);
                }
            }
            live.len()
        })
    });
    g.finish();
}

/// The acceptance figures of the primitives: the full replay (1,000 services, 7 days, /16)
/// beside a bare BinaryHeap holding as many entries as the replay's queue holds on average
/// (pop one, push one), in one group and one run. Criterion's throughput for the replay is
/// its real queue pops (`replay_..._pops`); the same run is also measured per
/// state-changing event (`..._state_changes`) and per event including demand points that
/// never enter the queue (`..._events`, the old labelled throughput). For the heap it is one
/// hold (one pop and one push).
fn replay_vs_heap(c: &mut Criterion) {
    let (out, counts) = ipsim_benches::run_replay_counted(1_000, 7 * 1440);
    let handled = counts.pops - 1;
    let n = (counts.pending_sum / handled) as usize;
    let changes = counts.state_changes(out.summary.failed_attempts);
    eprintln!(
        "replay: {} events incl. demand points, {} queue pops, {changes} state changes \
         ({counts:?}, failed attempts {}), mean pending {n}, peak pending {}, peak held {}",
        out.n_events,
        counts.pops,
        out.summary.failed_attempts,
        out.peak_pending_events,
        out.summary.peak_held,
    );
    let mut g = c.benchmark_group("replay_vs_heap");
    g.sample_size(10);
    let run = |b: &mut criterion::Bencher| {
        b.iter_batched(
            || synthetic_replay(1_000, 7, 92),
            |(input, mut trace)| {
                Simulation::with_feed(&input, &mut trace)
                    .expect("valid")
                    .run()
            },
            BatchSize::PerIteration,
        )
    };
    g.throughput(Throughput::Elements(counts.pops));
    g.bench_function("replay_1000_services_7_days_16_pops", run);
    g.throughput(Throughput::Elements(changes));
    g.bench_function("replay_1000_services_7_days_16_state_changes", run);
    g.throughput(Throughput::Elements(out.n_events));
    g.bench_function("replay_1000_services_7_days_16_events", run);
    g.throughput(Throughput::Elements(HOLD_OPS));
    g.bench_function(format!("std_binary_heap_hold_{n}"), |b| {
        b.iter_batched(|| fill_std(n), hold_std, BatchSize::LargeInput)
    });
    g.finish();
}

/// Linear in services: the reference replay at 300, 3,000 and 30,000 services (the subnet
/// scaled with them, `prefix_for`: /17, /14, /11), each for 2 simulated hours, measured per
/// state-changing event (start, stop, expiry, reservation, release, failed attempt, counted
/// exactly by the engine).
fn replay_scaling(c: &mut Criterion) {
    const MINUTES: u64 = 120;
    let mut g = c.benchmark_group("replay_scaling");
    g.sample_size(10);
    for n in [300usize, 3_000, 30_000] {
        let (out, counts) = ipsim_benches::run_replay_counted(n, MINUTES);
        let changes = counts.state_changes(out.summary.failed_attempts);
        eprintln!(
            "{n} services, {MINUTES} min on a /{}: {changes} state changes ({counts:?}, \
             failed attempts {}), {} queue pops, peak held {}",
            prefix_for(n),
            out.summary.failed_attempts,
            counts.pops,
            out.summary.peak_held
        );
        g.throughput(Throughput::Elements(changes));
        g.bench_function(format!("services_{n}_2h_state_changes"), |b| {
            b.iter_batched(
                || synthetic_replay_on(n, MINUTES, 92, prefix_for(n)),
                |(input, mut trace)| {
                    Simulation::with_feed(&input, &mut trace)
                        .expect("valid")
                        .run()
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

/// A retry storm: one service wants `n` instances on a /24 (112 fit) for a day, so `n - 112`
/// starts retry every 10 s all day: `(n - 112) * 8,640` failed attempts (criterion's
/// throughput). Pending starts that fail together retry as a group, so a run costs one
/// request and one first failure per instance plus one step per retry tick, with no
/// `n * retries` term: the time grows like `n`, the attempts like `n * 8,640`.
fn retry_storm(c: &mut Criterion) {
    use ipsim_core::{SimInput, SubnetSpec, WorkloadSpec};
    let day = 86_400_000;
    let storm = |n: u32| {
        let subnet = SubnetSpec::new("storm", 0x0A00_0000, 24);
        let mut input = SimInput::new(
            vec![subnet],
            vec![WorkloadSpec::service("api", 0).at(0, n)],
            day,
        );
        input.options.record_subnet_series = false;
        input.options.record_workload_series = false;
        input.options.log_limit = 0;
        input
    };
    let mut g = c.benchmark_group("retry_storm");
    g.sample_size(10);
    for n in [1_000u32, 10_000, 100_000] {
        let input = storm(n);
        let attempts = ipsim_core::simulate(&input)
            .expect("valid")
            .summary
            .failed_attempts;
        g.throughput(Throughput::Elements(attempts));
        g.bench_function(format!("pending_{n}_one_day_24"), |b| {
            b.iter(|| ipsim_core::simulate(&input).expect("valid"))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    queue,
    allocator,
    replay_vs_heap,
    replay_scaling,
    retry_storm
);
criterion_main!(benches);
