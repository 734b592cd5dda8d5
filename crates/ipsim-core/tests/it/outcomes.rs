//! What a person reads about a run's failures: how many starts were short and by how much, how
//! many requests never started against their attempts, each job execution's tasks, and the
//! figures that name the cause of a failed start.

use ipsim_core::{BlockScope, ExecutionTasks, JobExecution, SimInput, TaskDurations, WorkloadSpec};

use crate::{MIN, run, run_input, subnet};

/// The swap on a /24: revision 2 wanted 100 and ran 12 for 20 minutes. 88 requests failed
/// 120 times each and all started at 30:00; the subnet had no free address at all.
#[test]
fn a_swap_on_a_24_is_short_by_88_of_100_and_every_request_starts_late() {
    let api = WorkloadSpec::service("api", 0).at(0, 100).swap(10 * MIN, 0);
    let out = run(vec![subnet(24)], vec![api], 60 * MIN);
    let s = &out.workloads[0].summary;
    assert_eq!((s.peak_short, s.peak_short_desired), (88, 100));
    assert_eq!((s.requests_failed, s.started_after_failing), (88, 88));
    assert_eq!(s.failed_attempts, 88 * 120);
    let e = s.first_exhaustion.as_ref().unwrap();
    // Every reserved address is held: the cause is no free address, not blocks.
    assert_eq!((e.owner_free, e.free_blocks, e.idle), (0, 0, 0));
    assert_eq!((e.owner_blocks, e.owners), (14, 1));
}

/// Under revision scope each revision owns its blocks: revision 2 holds one block (16
/// addresses, 8 instances) while 8 idle addresses sit in revision 1's blocks it cannot use.
#[test]
fn under_revision_scope_the_figures_show_idle_addresses_in_other_owners_blocks() {
    let api = WorkloadSpec::service("api", 0).at(0, 100).swap(10 * MIN, 0);
    let mut input = SimInput::new(vec![subnet(24)], vec![api], 60 * MIN);
    input.params.block_scope = BlockScope::Revision;
    let out = run_input(&input);
    let e = out.workloads[0].summary.first_exhaustion.clone().unwrap();
    assert_eq!(
        (
            e.owner_free,
            e.owner_blocks,
            e.free_blocks,
            e.owners,
            e.idle
        ),
        (0, 1, 0, 2, 8)
    );
}

/// A job that starts when a service holds all but one block: 16 of its 40 tasks run, the
/// others fail every attempt and give up; a second execution after the service left runs
/// every task.
#[test]
fn a_job_counts_tasks_per_execution() {
    let api = WorkloadSpec::service("api", 0).at(0, 100).at(20 * MIN, 0);
    let ex = |start_ms| JobExecution {
        start_ms,
        n_tasks: 40,
        parallelism: 40,
        durations: TaskDurations::Fixed(MIN),
    };
    let job = WorkloadSpec::job("etl", 0)
        .execution(ex(MIN))
        .execution(ex(50 * MIN));
    let out = run(vec![subnet(24)], vec![api, job], 90 * MIN);
    let s = &out.workloads[1].summary;
    assert_eq!(
        s.executions,
        vec![
            ExecutionTasks {
                execution: 1,
                completed: 16,
                failed: 24
            },
            ExecutionTasks {
                execution: 2,
                completed: 40,
                failed: 0
            },
        ]
    );
    assert_eq!((s.tasks_completed, s.tasks_failed), (56, 24));
    assert_eq!((s.requests_failed, s.started_after_failing), (24, 0));
    assert_eq!((s.peak_short, s.peak_short_desired), (24, 40));
}

/// Asked to stop at the first failed start on the /24, the swap run ends at 10:00, the
/// millisecond revision 2 cannot start, with the same first exhaustion as the whole run and
/// says it stopped early; asked about another subnet (which never fails), it runs to the end
/// exactly as without the option.
#[test]
fn a_run_stops_at_the_first_failed_start_on_the_subnet_asked_about() {
    let api = WorkloadSpec::service("api", 0).at(0, 100).swap(10 * MIN, 0);
    let web = WorkloadSpec::service("web", 1).at(0, 10);
    let mut other = subnet(24);
    other.name = "other".into();
    other.base = crate::ip(10, 1, 0, 0);
    let mut input = SimInput::new(vec![subnet(24), other], vec![api, web], 60 * MIN);
    let whole = run_input(&input);
    assert!(!whole.stopped_early);
    input.options.stop_at_first_failed_start = Some(0);
    let stopped = run_input(&input);
    assert!(stopped.stopped_early);
    assert_eq!(stopped.duration_ms, 10 * MIN);
    let first = stopped.subnets[0].summary.first_exhaustion.clone().unwrap();
    assert_eq!(first.time_ms, 10 * MIN);
    assert_eq!(Some(first), whole.subnets[0].summary.first_exhaustion);
    assert_eq!(stopped.subnets[0].summary.failed_attempts, 1);
    assert!(whole.subnets[0].summary.failed_attempts > 1);
    input.options.stop_at_first_failed_start = Some(1);
    assert_eq!(run_input(&input), whole);
    input.options.stop_at_first_failed_start = Some(7);
    assert_eq!(run_input(&input), whole);
}
