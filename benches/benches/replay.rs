//! The full replay: 1,000 services over 7 days with one-minute steps on a /16.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipsim_benches::synthetic_replay;
use ipsim_core::simulate;

fn replay(c: &mut Criterion) {
    let input = synthetic_replay(1_000, 7, 92);
    let out = simulate(&input).expect("valid");
    eprintln!(
        "replay: {} events, peak held {}, peak reserved blocks {}, failed attempts {}",
        out.n_events,
        out.summary.peak_held,
        out.summary.peak_reserved_blocks,
        out.summary.failed_attempts
    );
    let mut g = c.benchmark_group("replay");
    g.sample_size(10);
    g.throughput(Throughput::Elements(out.n_events));
    g.bench_function("1000_services_7_days_16", |b| {
        b.iter(|| simulate(&input).expect("valid"))
    });
    g.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
