//! MODEL.md's rules one by one: rollouts, scale-down order, retries, failure windows, job
//! retries, block linger, scopes, clamping and the order of events within a millisecond.

use ipsim_core::{BlockScope, JobExecution, LogEvent, SimInput, TaskDurations, Unit, WorkloadSpec};

use crate::{MIN, S, ip, run, run_input, subnet};

fn running(out: &ipsim_core::Output, wl: usize, t: u64) -> u32 {
    out.workloads[wl].at(t).unwrap().running
}

/// With rollout R the new revision takes k% at t + floor(k R / 100); each revision runs
/// ceil(demand * share).
#[test]
fn linear_rollout_splits_in_whole_percents() {
    let api = WorkloadSpec::service("api", 0)
        .at(0, 10)
        .swap(10 * MIN, 100 * S);
    let out = run(vec![subnet(24)], vec![api], 60 * MIN);
    let t = 10 * MIN;
    assert_eq!(running(&out, 0, t), 10); // k = 0 until t + 1 s
    assert_eq!(running(&out, 0, t + S), 11); // 1 + ceil(9.9)
    assert_eq!(running(&out, 0, t + 50 * S), 10); // 5 + 5
    assert_eq!(running(&out, 0, t + 51 * S), 11); // ceil(5.1) + ceil(4.9)
    assert_eq!(running(&out, 0, t + 99 * S), 11); // ceil(9.9) + ceil(0.1)
    assert_eq!(running(&out, 0, t + 100 * S), 10);
    assert!(out.summary.deploy_failures.is_empty());
}

/// Rollouts shorter than 100 ms take several percents in one millisecond.
#[test]
fn short_rollout_steps_several_percents_per_millisecond() {
    let api = WorkloadSpec::service("api", 0).at(0, 100).swap(MIN, 50);
    let out = run(vec![subnet(22)], vec![api], 10 * MIN);
    // k = 1 at t (floor(50/100) = 0): 1 + 99; at t + 1 ms k = 3: 3 + 97.
    assert_eq!(running(&out, 0, MIN), 100);
    assert_eq!(out.subnets[0].at(MIN).retained, 2);
    assert_eq!(out.subnets[0].at(MIN + 1).retained, 6);
    assert_eq!(out.subnets[0].at(MIN + 50).retained, 200);
}

/// A swap during a rollout freezes the current shares and starts again.
#[test]
fn swap_during_rollout_freezes_shares() {
    let api = WorkloadSpec::service("api", 0)
        .at(0, 100)
        .swap(10 * MIN, 100 * S)
        .swap(10 * MIN + 50 * S, 100 * S);
    let out = run(vec![subnet(21)], vec![api], 60 * MIN);
    let t = 10 * MIN + 50 * S;
    // At t: 50 / 50 / 0. One second later: rev 1 ceil(49.5) = 50, rev 2 50, rev 3 1.
    assert_eq!(running(&out, 0, t), 100);
    assert_eq!(running(&out, 0, t + S), 101);
    assert_eq!(running(&out, 0, t + 100 * S), 100);
}

/// A swap at the very end of a rollout starts from the completed rollout's shares, and the
/// revisions are evaluated once for that millisecond.
#[test]
fn swap_at_end_of_rollout_starts_from_completed_rollout() {
    let api = WorkloadSpec::service("api", 0)
        .at(0, 100)
        .swap(10 * MIN, 100 * S)
        .swap(10 * MIN + 100 * S, 0);
    let out = run(vec![subnet(21)], vec![api], 60 * MIN);
    let t = 10 * MIN + 100 * S;
    // At t - 1 ms: revision 1 at ceil(1%) = 1, revision 2 at 99, 99 stopped. At t the last
    // step (revision 2 at 100%) and the swap (revision 3 at 100%) are evaluated together:
    // revision 2 never starts its 100th instance, and 199 instances have stopped.
    assert_eq!(out.subnets[0].at(t - 1).retained, 198);
    assert_eq!(out.subnets[0].at(t).retained, 398);
    assert_eq!(running(&out, 0, t), 100);
}

/// Scaling down stops the newest instance first.
#[test]
fn scale_down_stops_the_newest_instance() {
    let api = WorkloadSpec::service("api", 0).at(0, 3).at(MIN, 2);
    let mut input = SimInput::new(vec![subnet(24)], vec![api], 30 * MIN);
    input.options.log_lifecycle = true;
    let out = run_input(&input);
    let stops: Vec<_> = out
        .log
        .iter()
        .filter_map(|e| match e {
            LogEvent::Stop {
                time_ms,
                addrs,
                retention_ms,
                unit,
                ..
            } => Some((*time_ms, addrs.clone(), *retention_ms, *unit)),
            _ => None,
        })
        .collect();
    assert_eq!(
        stops,
        vec![(
            MIN,
            vec![ip(10, 0, 0, 20), ip(10, 0, 0, 21)],
            20 * MIN,
            Unit::Revision(1)
        )]
    );
}

/// min_instances holds from 0, before the first point; the quota caps the demand.
#[test]
fn demand_is_clamped_to_min_max_and_quota() {
    let mut a = WorkloadSpec::service("a", 0).at(5 * MIN, 0);
    a.min_instances = 2;
    let mut b = WorkloadSpec::service("b", 0).at(0, 50);
    b.max_instances = Some(30);
    b.quota = Some(10);
    let out = run(vec![subnet(24)], vec![a, b], 10 * MIN);
    assert_eq!(running(&out, 0, 0), 2);
    assert_eq!(running(&out, 0, 6 * MIN), 2);
    assert_eq!(running(&out, 1, 0), 10);
}

/// A demand drop cancels pending starts and closes the failure window.
#[test]
fn demand_drop_cancels_pending_and_closes_the_window() {
    let api = WorkloadSpec::service("api", 0).at(0, 20).at(5 * MIN, 16);
    let out = run(vec![subnet(26)], vec![api], 10 * MIN);
    let w = out.summary.failure_windows[0];
    assert_eq!((w.start_ms, w.end_ms, w.open), (0, 5 * MIN, false));
    assert_eq!(out.summary.unmet_instance_ms, 4 * 5 * MIN);
    // 4 pending instances, each failing at 0:00, 0:10, ..., 4:50.
    assert_eq!(out.summary.failed_attempts, 4 * 30);
}

/// Each pending instance retries every 10 s from its own first failure; an address freed at t
/// can be taken at t.
#[test]
fn retries_every_10s_and_freed_addresses_are_taken_the_same_millisecond() {
    let a = WorkloadSpec::service("a", 0).at(0, 16).at(MIN, 15);
    let b = WorkloadSpec::service("b", 0).at(5 * S, 1);
    let mut input = SimInput::new(vec![subnet(26)], vec![a, b], 30 * MIN);
    input.params.block_scope = BlockScope::Subnet;
    let out = run_input(&input);
    // a's stopped instance is retained until 21:00; b retries at 0:05 + 10 s n: 21:05.
    let w = out.workloads[1].summary.failure_windows[0];
    assert_eq!((w.start_ms, w.end_ms), (5 * S, 21 * MIN + 5 * S));
    assert_eq!(out.workloads[1].summary.failed_attempts, 126);
    // Under subnet scope an expiry at t serves a start at t.
    let a = WorkloadSpec::service("a", 0).at(0, 16).at(MIN, 0);
    let b = WorkloadSpec::service("b", 0).at(21 * MIN, 16);
    let mut input = SimInput::new(vec![subnet(26)], vec![a, b], 30 * MIN);
    input.params.block_scope = BlockScope::Subnet;
    let out = run_input(&input);
    assert_eq!(out.summary.failed_attempts, 0);
    assert_eq!(running(&out, 1, 21 * MIN), 16);
}

/// Under service scope, when blocks are short at the same millisecond, the workload declared
/// first gets the block, whatever order their demand points were read in.
#[test]
fn declaration_order_decides_who_gets_the_last_block() {
    let a = WorkloadSpec::service("a", 0).at(5 * MIN, 1);
    let b = WorkloadSpec::service("b", 0).at(5 * MIN, 1);
    let c = WorkloadSpec::service("c", 0).at(MIN, 0).at(5 * MIN, 1);
    let out = run(vec![subnet(26)], vec![a, b, c], 10 * MIN);
    let first = out.summary.first_exhaustion.as_ref().unwrap();
    assert_eq!(first.workload, 2);
    let out = run(
        vec![subnet(26)],
        vec![
            WorkloadSpec::service("c", 0).at(MIN, 0).at(5 * MIN, 1),
            WorkloadSpec::service("a", 0).at(5 * MIN, 1),
            WorkloadSpec::service("b", 0).at(5 * MIN, 1),
        ],
        10 * MIN,
    );
    assert_eq!(out.summary.first_exhaustion.as_ref().unwrap().workload, 2);
}

/// A job task that fails 4 attempts (1 + 3 retries) fails, and its slot passes at once.
#[test]
fn job_task_gives_up_after_three_retries_and_passes_its_slot() {
    let fill = WorkloadSpec::service("fill", 0).at(0, 16);
    let job = WorkloadSpec::job("etl", 0).execution(JobExecution {
        start_ms: MIN,
        n_tasks: 2,
        parallelism: 1,
        durations: TaskDurations::Fixed(MIN),
    });
    let out = run(vec![subnet(26)], vec![fill, job], 10 * MIN);
    let j = &out.workloads[1].summary;
    assert_eq!(
        (j.failed_attempts, j.tasks_failed, j.tasks_completed),
        (8, 2, 0)
    );
    // One window: it closes and reopens at 1:30 (same millisecond), ends at 2:00.
    assert_eq!(j.failure_windows.len(), 1);
    assert_eq!(
        (j.failure_windows[0].start_ms, j.failure_windows[0].end_ms),
        (MIN, 2 * MIN)
    );
    assert_eq!(j.unmet_instance_ms, 60 * S);
    assert_eq!(
        j.first_exhaustion.as_ref().unwrap().unit,
        Unit::Execution(1)
    );
}

/// With a linger, a wholly free block stays with its owner, is reused, and is released only if
/// still free when the linger ends.
#[test]
fn block_linger_keeps_and_reuses_blocks() {
    let api = WorkloadSpec::service("api", 0)
        .at(0, 1)
        .at(MIN, 0)
        .at(23 * MIN, 1)
        .at(24 * MIN, 0);
    let mut input = SimInput::new(vec![subnet(24)], vec![api], 60 * MIN);
    input.params.block_linger_ms = 5 * MIN;
    input.options.log_lifecycle = true;
    let out = run_input(&input);
    let sn = &out.subnets[0];
    // Wholly free at 21:00, reused at 23:00 before the linger ends at 26:00.
    assert_eq!(sn.at(22 * MIN).reserved_blocks, 1);
    assert_eq!(sn.at(22 * MIN).reserved_idle, 16);
    // Free again at 44:00, released at 49:00.
    assert_eq!(sn.at(49 * MIN - 1).reserved_blocks, 1);
    assert_eq!(sn.at(49 * MIN).reserved_blocks, 0);
    let n_reserve = out
        .log
        .iter()
        .filter(|e| matches!(e, LogEvent::Reserve { .. }))
        .count();
    let releases: Vec<_> = out
        .log
        .iter()
        .filter_map(|e| match e {
            LogEvent::Release { time_ms, .. } => Some(*time_ms),
            _ => None,
        })
        .collect();
    assert_eq!((n_reserve, releases), (1, vec![49 * MIN]));
}

/// Under revision scope each revision reserves its own blocks.
#[test]
fn revision_scope_gives_each_revision_its_own_blocks() {
    let api = WorkloadSpec::service("api", 0).at(0, 1).swap(MIN, 0);
    let mut input = SimInput::new(vec![subnet(24)], vec![api], 60 * MIN);
    input.params.block_scope = BlockScope::Revision;
    let out = run_input(&input);
    assert_eq!(out.subnets[0].at(MIN).reserved_blocks, 2);
    assert_eq!(out.workloads[0].summary.peak_reserved_blocks, Some(2));
    input.params.block_scope = BlockScope::Service;
    let out = run_input(&input);
    assert_eq!(out.subnets[0].at(MIN).reserved_blocks, 1);
}

/// The pre-2025 rule: 4 addresses per instance.
#[test]
fn legacy_four_addresses_per_instance() {
    let api = WorkloadSpec::service("api", 0).at(0, 100).swap(10 * MIN, 0);
    let mut input = SimInput::new(vec![subnet(22)], vec![api], 60 * MIN);
    input.params.ips_per_instance = 4;
    let out = run_input(&input);
    assert_eq!(out.summary.peak_held, 800);
    assert!(out.summary.first_exhaustion.is_none());
}

/// A deploy fails at the new revision's first failed start during its rollout; a scale-up
/// failure after the rollout, with nothing pending, is not a deploy failure.
#[test]
fn deploy_failure_only_during_the_rollout() {
    // 9 instances hold 2 blocks of a /26 (32 addresses). During a 10 s rollout old and new
    // revisions together need 2 * (new + 9) addresses: too many once new reaches 8, at k = 78.
    let api = WorkloadSpec::service("api", 0)
        .at(0, 9)
        .swap(MIN, 10 * S)
        .at(30 * MIN, 17);
    let out = run(vec![subnet(26)], vec![api], 40 * MIN);
    assert_eq!(out.summary.deploy_failures.len(), 1);
    let d = out.summary.deploy_failures[0];
    assert_eq!((d.time_ms, d.swap_ms, d.revision), (MIN + 7_800, MIN, 2));
    let wins = &out.workloads[0].summary.failure_windows;
    assert_eq!(wins.len(), 2);
    // The 9th new instance (pending from k = 89, 8.9 s) starts once the second old stop
    // (k = 23, 2.3 s) has been retained 20 minutes, at its retry 20 minutes later.
    assert_eq!(
        (wins[0].start_ms, wins[0].end_ms),
        (MIN + 7_800, 21 * MIN + 8_900)
    );
    assert_eq!(
        (wins[1].start_ms, wins[1].end_ms, wins[1].open),
        (30 * MIN, 40 * MIN, true)
    );
}

/// Several subnets: run-wide peaks are sums at each instant.
#[test]
fn run_wide_peaks_are_sums_at_each_instant() {
    let mut b = subnet(24);
    b.name = "b".into();
    b.base = ip(10, 1, 0, 0);
    let x = WorkloadSpec::service("x", 0).at(0, 10).at(MIN, 0);
    let y = WorkloadSpec::service("y", 1).at(0, 5).at(30 * MIN, 20);
    let out = run(vec![subnet(24), b], vec![x, y], 60 * MIN);
    // x holds 20 until 21:00; y 10 then 40 from 30:00: the peak sum is 40, not 20 + 40.
    assert_eq!(out.subnets[0].summary.peak_held, 20);
    assert_eq!(out.subnets[1].summary.peak_held, 40);
    assert_eq!(out.summary.peak_held, 40);
}

/// A streamed feed gives the same result as the same points held in memory.
#[test]
fn a_streamed_feed_equals_in_memory_demand() {
    use ipsim_core::{DemandFeed, FeedPoint, Simulation};
    struct Points(std::vec::IntoIter<FeedPoint>);
    impl DemandFeed for Points {
        fn next_point(&mut self) -> Option<FeedPoint> {
            self.0.next()
        }
    }
    let pts = [
        (0, 0, 30),
        (0, 1, 5),
        (MIN, 1, 40),
        (2 * MIN, 0, 10),
        (5 * MIN, 1, 0),
        (5 * MIN, 0, 60),
    ];
    let mut a = WorkloadSpec::service("a", 0);
    let mut b = WorkloadSpec::service("b", 0).swap(3 * MIN, 30 * S);
    for &(t, w, n) in &pts {
        if w == 0 {
            a = a.at(t, n)
        } else {
            b = b.at(t, n)
        }
    }
    let memory = run(vec![subnet(24)], vec![a.clone(), b.clone()], 30 * MIN);
    a.demand.clear();
    b.demand.clear();
    let input = SimInput::new(vec![subnet(24)], vec![a, b], 30 * MIN);
    let mut feed = Points(
        pts.iter()
            .map(|&(time_ms, workload, instances)| FeedPoint {
                time_ms,
                workload,
                instances,
            })
            .collect::<Vec<_>>()
            .into_iter(),
    );
    let streamed = Simulation::with_feed(&input, &mut feed).unwrap().run();
    assert_eq!(memory.subnets, streamed.subnets);
    assert_eq!(memory.summary, streamed.summary);
    assert!(memory.summary.failed_attempts > 0);
}

mod strategies {
    use ipsim_core::{BlockScope, LogEvent, SimInput, Strategy, WorkloadSpec};

    use crate::{MIN, ip, run_input, subnet};

    /// Which blocks (by first address) are reserved, in order, when three services start
    /// one after another, the second stops, and a fourth starts after its retention.
    fn reservations(strategy: Strategy, seed: u64) -> Vec<u32> {
        let w = |name: &str, at: u64| WorkloadSpec::service(name, 0).at(at, 1);
        let b = WorkloadSpec::service("b", 0).at(MIN, 1).at(2 * MIN, 0);
        let mut input = SimInput::new(
            vec![subnet(22)],
            vec![w("a", 0), b, w("c", 3 * MIN), w("d", 30 * MIN)],
            60 * MIN,
        );
        input.params.strategy = strategy;
        input.params.block_scope = BlockScope::Service;
        input.options.log_lifecycle = true;
        input.seed = seed;
        run_input(&input)
            .log
            .iter()
            .filter_map(|e| match e {
                LogEvent::Reserve { block_addr, .. } => Some(*block_addr),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn first_fit_takes_the_lowest_free_block() {
        // b's block (.32) is released at 22:00, so d takes it again.
        assert_eq!(
            reservations(Strategy::FirstFit, 0),
            [
                ip(10, 0, 0, 16),
                ip(10, 0, 0, 32),
                ip(10, 0, 0, 48),
                ip(10, 0, 0, 32)
            ]
        );
    }

    #[test]
    fn next_fit_continues_after_the_last_reservation() {
        assert_eq!(
            reservations(Strategy::NextFit, 0),
            [
                ip(10, 0, 0, 16),
                ip(10, 0, 0, 32),
                ip(10, 0, 0, 48),
                ip(10, 0, 0, 64)
            ]
        );
    }

    #[test]
    fn best_fit_fills_the_most_used_region_first() {
        // A /22 has four /24 regions; the first has 14 free blocks, the others 16 (the last 15).
        // The first region stays the most used, so best-fit keeps reserving in it, like
        // first-fit here; a static block in the second /24 makes that one the most used.
        assert_eq!(
            reservations(Strategy::BestFit, 0),
            reservations(Strategy::FirstFit, 0)
        );
        let mut input = SimInput::new(
            vec![subnet(22)],
            vec![WorkloadSpec::service("a", 0).at(0, 1)],
            MIN,
        );
        input.subnets[0]
            .statics
            .push(ipsim_core::StaticAlloc::Prefix {
                base: ip(10, 0, 1, 0),
                prefix_len: 25,
            });
        input.params.strategy = Strategy::BestFit;
        input.options.log_lifecycle = true;
        let out = run_input(&input);
        let first = out.log.iter().find_map(|e| match e {
            LogEvent::Reserve { block_addr, .. } => Some(*block_addr),
            _ => None,
        });
        assert_eq!(first, Some(ip(10, 0, 1, 128)));
    }

    #[test]
    fn random_is_seeded() {
        let a = reservations(Strategy::Random, 1);
        assert_eq!(a, reservations(Strategy::Random, 1));
        assert_ne!(a, reservations(Strategy::Random, 2));
        assert_eq!(a.len(), 4);
    }
}

/// A connector (e2-micro, 100 Mbps each, 2 to 10 instances) scales out on throughput, never
/// in, holds one address per instance in its /28, and saturates above 1,000 Mbps.
#[test]
fn connector_scales_out_never_in_and_saturates() {
    let c = WorkloadSpec::connector("conn", 0, 100, 2, 10)
        .at(0, 150)
        .at(10 * MIN, 450)
        .at(20 * MIN, 200)
        .at(30 * MIN, 1200)
        .at(40 * MIN, 900);
    let out = run(vec![subnet(28)], vec![c], 60 * MIN);
    let w = &out.workloads[0];
    let n = |t| w.at(t).unwrap().running;
    assert_eq!(
        (n(0), n(10 * MIN), n(20 * MIN), n(30 * MIN), n(59 * MIN)),
        (2, 5, 5, 10, 10)
    );
    assert_eq!(out.subnets[0].at(10 * MIN).in_use, 5);
    assert_eq!(out.subnets[0].at(10 * MIN).unreserved, 7);
    let s = &w.summary.saturation_windows;
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].start_ms, s[0].end_ms, s[0].open),
        (30 * MIN, 40 * MIN, false)
    );
    assert_eq!(out.summary.saturation_windows, *s);
    assert_eq!(w.summary.peak_demand_mbps, 1200);
    assert!(out.summary.first_exhaustion.is_none());
}
