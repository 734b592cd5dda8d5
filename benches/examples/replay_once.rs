//! Runs the reference replay once (for profilers and memory measurements):
//! `cargo run --release -p ipsim-benches --example replay_once [DAYS]`.

fn main() {
    let days = std::env::args()
        .nth(1)
        .and_then(|d| d.parse().ok())
        .unwrap_or(7);
    let out = ipsim_benches::run_replay(1000, days, 92);
    println!(
        "{} events, peak held {}, peak pending events {}",
        out.n_events, out.summary.peak_held, out.peak_pending_events
    );
}
