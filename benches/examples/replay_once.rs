//! Runs the reference replay once (for profilers and memory measurements):
//! `cargo run --release -p ipsim-benches --example replay_once [DAYS] [SERVICES] [MINUTES]`.
//! With SERVICES (default 1,000) the subnet is `prefix_for(SERVICES)` (a /16 for 1,000);
//! MINUTES, if given, replaces DAYS as the length.

fn main() {
    let arg = |i: usize| std::env::args().nth(i).and_then(|d| d.parse::<u64>().ok());
    let days = arg(1).unwrap_or(7);
    let services = arg(2).unwrap_or(1000) as usize;
    let minutes = arg(3).unwrap_or(days * 1440);
    let (out, c) = ipsim_benches::run_replay_counted(services, minutes);
    println!(
        "{} events, peak held {}, peak pending events {}",
        out.n_events, out.summary.peak_held, out.peak_pending_events
    );
    println!(
        "{} queue pops, {} state changes ({:?}, failed attempts {})",
        c.pops,
        c.state_changes(out.summary.failed_attempts),
        c,
        out.summary.failed_attempts
    );
}
