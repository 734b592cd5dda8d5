//! Worked examples from the Cloud Run documentation and from reported cases, with exact figures.

use ipsim_core::{
    BlockScope, EdgeBlocks, JobExecution, Kind, LogEvent, Retention, SimInput, StaticAlloc,
    TaskDurations, Unit, WorkloadSpec,
};

use crate::{MIN, S, ip, run, run_input, subnet};

/// Seed 000: "revision 1 scales from 100 instances down to zero while revision 2 scales from
/// zero up to 100 ... you must reserve at least 400 IP addresses ((100 + 100) * 2)".
#[test]
fn revision_swap_100_plus_100_holds_400_on_a_23() {
    let api = WorkloadSpec::service("api", 0).at(0, 100).swap(10 * MIN, 0);
    let out = run(vec![subnet(23)], vec![api], 60 * MIN);
    let sn = &out.subnets[0];
    assert_eq!(out.summary.peak_held, 400);
    assert!(out.summary.first_exhaustion.is_none());
    assert_eq!(out.summary.failed_attempts, 0);
    // Before the swap: 100 instances, 200 addresses in 13 blocks (208 addresses).
    let before = sn.at(10 * MIN - 1);
    assert_eq!(
        (before.in_use, before.retained, before.reserved_blocks),
        (200, 0, 13)
    );
    // During retention: both revisions' addresses, 400, in 25 blocks.
    let during = sn.at(10 * MIN);
    assert_eq!(
        (during.in_use, during.retained, during.reserved_blocks),
        (200, 200, 25)
    );
    assert_eq!(sn.at(30 * MIN - 1).held(), 400);
    // Revision 1's retention ends 20 minutes after the swap; its 12 whole blocks go back.
    let after = sn.at(30 * MIN);
    assert_eq!(
        (after.in_use, after.retained, after.reserved_blocks),
        (200, 0, 13)
    );
}

/// The same swap on a /24 (14 reservable blocks, 224 addresses) fails at the swap instant and
/// stays failing until revision 1's retention ends, 20 minutes later.
#[test]
fn revision_swap_on_a_24_fails_at_the_swap_for_20_minutes() {
    let api = WorkloadSpec::service("api", 0).at(0, 100).swap(10 * MIN, 0);
    let out = run(vec![subnet(24)], vec![api], 60 * MIN);
    let first = out.summary.first_exhaustion.as_ref().expect("exhausted");
    assert_eq!(first.time_ms, 10 * MIN);
    assert_eq!(first.unit, Unit::Revision(2));
    assert_eq!(
        first.message,
        "Instance failed to start because of insufficient free IP addresses in the subnetwork run-subnet"
    );
    // Revision 2 got the 8 idle addresses of revision 1's blocks and the last free block: 12.
    assert_eq!(
        (
            first.desired,
            first.running,
            first.owner_free,
            first.free_blocks
        ),
        (100, 12, 0, 0)
    );
    let sn = &out.subnets[0];
    let at_swap = sn.at(10 * MIN);
    assert_eq!(
        (at_swap.in_use, at_swap.retained, at_swap.free_blocks),
        (24, 200, 0)
    );
    assert_eq!(out.summary.failure_windows.len(), 1);
    let w = out.summary.failure_windows[0];
    assert_eq!((w.start_ms, w.end_ms, w.open), (10 * MIN, 30 * MIN, false));
    assert_eq!(out.summary.deploy_failures.len(), 1);
    assert_eq!(out.summary.deploy_failures[0].time_ms, 10 * MIN);
    assert_eq!(out.summary.deploy_failures[0].revision, 2);
    // 88 instances fail at 10:00, 10:10, ..., 29:50 (120 attempts each) and start at 30:00.
    assert_eq!(out.summary.failed_attempts, 88 * 120);
    assert_eq!(out.summary.unmet_instance_ms, 88 * 20 * MIN);
    assert_eq!(sn.at(30 * MIN).in_use, 200);
    assert_eq!(sn.at(30 * MIN).retained, 0);
    assert_eq!(out.summary.peak_held, 224);
}

/// Seed 000: "each task consumes 1 IP address for the duration of its execution plus 7
/// minutes after it completes".
#[test]
fn a_job_task_holds_one_address_for_its_run_plus_7_minutes() {
    let job = WorkloadSpec::job("etl", 0).execution(JobExecution {
        start_ms: MIN,
        n_tasks: 1,
        parallelism: 1,
        durations: TaskDurations::Fixed(3 * MIN),
    });
    let out = run(vec![subnet(26)], vec![job], 30 * MIN);
    let sn = &out.subnets[0];
    let held = |t| (sn.at(t).in_use, sn.at(t).retained);
    assert_eq!(held(MIN - 1), (0, 0));
    assert_eq!(held(MIN), (1, 0));
    assert_eq!(held(4 * MIN - 1), (1, 0));
    assert_eq!(held(4 * MIN), (0, 1));
    assert_eq!(held(11 * MIN - 1), (0, 1));
    assert_eq!(held(11 * MIN), (0, 0));
    assert_eq!(sn.at(11 * MIN).reserved_blocks, 0);
    assert_eq!(out.workloads[0].summary.tasks_completed, 1);
}

/// N = 10 tasks with parallelism P = 4, 5 minutes each: one address per running task, each
/// for its run plus 7 minutes.
#[test]
fn a_job_of_10_tasks_with_parallelism_4() {
    let job = WorkloadSpec::job("batch", 0).execution(JobExecution {
        start_ms: 0,
        n_tasks: 10,
        parallelism: 4,
        durations: TaskDurations::Fixed(5 * MIN),
    });
    let out = run(vec![subnet(26)], vec![job], 60 * MIN);
    let sn = &out.subnets[0];
    let held = |t| (sn.at(t).in_use, sn.at(t).retained);
    assert_eq!(held(0), (4, 0));
    assert_eq!(held(5 * MIN), (4, 4));
    assert_eq!(held(10 * MIN), (2, 8));
    assert_eq!(held(12 * MIN), (2, 4)); // tasks 1-4: 5 min run + 7 min
    assert_eq!(held(15 * MIN), (0, 6));
    assert_eq!(held(17 * MIN), (0, 2));
    assert_eq!(held(22 * MIN), (0, 0));
    assert_eq!(out.summary.peak_held, 10);
    assert_eq!(out.workloads[0].summary.peak_running, 4);
    assert_eq!(out.workloads[0].summary.tasks_completed, 10);
    assert_eq!(sn.at(22 * MIN).reserved_blocks, 0);
}

/// A /26 offers two reservable blocks: 32 addresses, 16 instances; the 17th fails. The first
/// reservation is at .16, as seen in the field.
#[test]
fn a_26_offers_two_blocks_and_the_17th_instance_fails() {
    let mut input = SimInput::new(
        vec![subnet(26)],
        vec![WorkloadSpec::service("api", 0).at(0, 17)],
        10 * MIN,
    );
    input.options.log_lifecycle = true;
    let out = run_input(&input);
    let sn = &out.subnets[0];
    assert_eq!(sn.usable, 60);
    assert_eq!((sn.n_reservable_blocks, sn.reservable), (2, 32));
    assert_eq!(out.workloads[0].summary.peak_running, 16);
    let first = out.summary.first_exhaustion.as_ref().unwrap();
    assert_eq!((first.time_ms, first.desired, first.running), (0, 17, 16));
    let first_block = out.log.iter().find_map(|e| match e {
        LogEvent::Reserve { block_addr, .. } => Some(*block_addr),
        _ => None,
    });
    assert_eq!(first_block, Some(ip(10, 0, 0, 16)));
    assert_eq!(sn.at(0).unreserved, 28);
    let w = out.summary.failure_windows[0];
    assert_eq!((w.start_ms, w.end_ms, w.open), (0, 10 * MIN, true));
}

/// With `edge_blocks = "partial"` a /26 offers 14 + 16 + 16 + 14 = 60 addresses: 30 instances.
#[test]
fn a_26_with_partial_edge_blocks_offers_60() {
    let mut sn = subnet(26);
    sn.edge_blocks = EdgeBlocks::Partial;
    let out = run(
        vec![sn.clone()],
        vec![WorkloadSpec::service("api", 0).at(0, 30)],
        10 * MIN,
    );
    assert_eq!(out.subnets[0].reservable, 60);
    assert!(out.summary.first_exhaustion.is_none());
    assert_eq!(out.subnets[0].at(0).in_use, 60);
    assert_eq!(out.subnets[0].at(0).unreserved, 0);
    let out = run(
        vec![sn],
        vec![WorkloadSpec::service("api", 0).at(0, 31)],
        10 * MIN,
    );
    assert_eq!(out.summary.first_exhaustion.as_ref().unwrap().running, 30);
}

/// A static address inside a block makes the whole block unreservable.
#[test]
fn a_static_allocation_makes_its_block_unreservable() {
    let mut sn = subnet(26);
    sn.statics.push(StaticAlloc::Address(ip(10, 0, 0, 20)));
    let out = run(
        vec![sn],
        vec![WorkloadSpec::service("api", 0).at(0, 9)],
        10 * MIN,
    );
    let s = &out.subnets[0];
    assert_eq!(
        (s.n_static, s.n_reservable_blocks, s.reservable),
        (1, 1, 16)
    );
    assert_eq!(out.workloads[0].summary.peak_running, 8);
    assert_eq!(out.summary.first_exhaustion.as_ref().unwrap().running, 8);
    let r = s.at(0);
    assert_eq!((r.in_use, r.reserved_idle, r.unreserved), (16, 0, 43));
}

/// 20 one-instance services on one /24 each hold a whole block (service scope): 14 reservable
/// blocks, so the 15th service fails although only 28 addresses are in use.
#[test]
fn the_15th_one_instance_service_on_a_24_fails() {
    let services: Vec<_> = (0..20)
        .map(|i| WorkloadSpec::service(format!("svc-{i:02}"), 0).at(0, 1))
        .collect();
    let out = run(vec![subnet(24)], services.clone(), 10 * MIN);
    let first = out.summary.first_exhaustion.as_ref().unwrap();
    assert_eq!((first.time_ms, first.workload), (0, 14));
    let r = out.subnets[0].at(0);
    assert_eq!(
        (r.in_use, r.reserved_blocks, r.free_blocks, r.reserved_idle),
        (28, 14, 0, 14 * 16 - 28)
    );
    let failing: Vec<_> = out
        .workloads
        .iter()
        .filter(|w| w.summary.failed_attempts > 0)
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(
        failing,
        ["svc-14", "svc-15", "svc-16", "svc-17", "svc-18", "svc-19"]
    );
    // One pool for the subnet fits all 20 in 3 blocks.
    let mut input = SimInput::new(vec![subnet(24)], services, 10 * MIN);
    input.params.block_scope = BlockScope::Subnet;
    let out = run_input(&input);
    assert!(out.summary.first_exhaustion.is_none());
    assert_eq!(out.subnets[0].at(0).reserved_blocks, 3);
}

fn uniform_input(seed: u64) -> SimInput {
    let api = WorkloadSpec::service("api", 0)
        .at(0, 40)
        .at(5 * MIN, 3)
        .at(30 * MIN, 40)
        .swap(40 * MIN, 10 * MIN);
    let job = WorkloadSpec::job("etl", 0).execution(JobExecution {
        start_ms: 2 * MIN,
        n_tasks: 30,
        parallelism: 10,
        durations: TaskDurations::Uniform {
            min_ms: MIN,
            max_ms: 4 * MIN,
        },
    });
    let mut input = SimInput::new(vec![subnet(24)], vec![api, job], 90 * MIN);
    input.params.retention = Retention::Uniform;
    input.options.log_lifecycle = true;
    input.seed = seed;
    input
}

/// Same input and seed: identical output. Another seed: different draws.
#[test]
fn same_seed_same_output_other_seed_differs() {
    let a = run_input(&uniform_input(7));
    let b = run_input(&uniform_input(7));
    assert_eq!(a, b);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    let c = run_input(&uniform_input(8));
    assert_ne!(a.subnets[0].rows, c.subnets[0].rows);
    // Fixed retention does not depend on the seed at all (but job durations still do).
    let mut d = uniform_input(7);
    d.params.retention = Retention::Fixed;
    if let Kind::Job(j) = &mut d.workloads[1].kind {
        j.executions[0].durations = TaskDurations::Fixed(2 * MIN);
    }
    let mut e = d.clone();
    e.seed = 99;
    assert_eq!(run_input(&d).subnets, run_input(&e).subnets);
    let _ = S;
}

/// A retry storm: 100,000 instances wanted on a /24 that holds 112 (14 blocks of 16, two
/// addresses each) for a day. The other 99,888 retry every 10 s from 0 for the whole day,
/// 8,640 attempts each: failed_attempts counts every one of them, while the run costs what its
/// state changes cost (the pending starts retry as one group), so it ends at once.
#[test]
fn a_day_long_retry_storm_counts_every_attempt() {
    let day = 86_400_000;
    let mut input = SimInput::new(
        vec![subnet(24)],
        vec![WorkloadSpec::service("api", 0).at(0, 100_000)],
        day,
    );
    input.options.log_limit = 10;
    let out = run_input(&input);
    let w = &out.workloads[0].summary;
    assert_eq!(w.peak_running, 112);
    assert_eq!(w.failed_attempts, 99_888 * 8_640);
    assert_eq!(out.summary.failed_attempts, 99_888 * 8_640);
    assert_eq!(out.log.len(), 10);
    assert_eq!(out.log_dropped, 99_888 * 8_640 - 10);
    // Each pending instance is short for the whole day.
    assert_eq!(w.unmet_instance_ms, 99_888 * day);
    assert_eq!(w.failure_windows.len(), 1);
    assert!(w.failure_windows[0].open);
}
