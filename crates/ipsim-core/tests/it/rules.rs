//! docs/model.md's rules one by one: rollouts, scale-down order, retries, failure windows, job
//! retries, block linger, scopes, clamping and the order of events within a millisecond.
//!
//! Each test checks the timeline of its scenario against a snapshot (see `timeline.rs` for
//! the notation, and for how to update the snapshots with `UPDATE_EXPECT=1`).

use expect_test::expect;
use ipsim_core::{BlockScope, JobExecution, SimInput, TaskDurations, WorkloadSpec};

use crate::timeline::{check, timeline, with_max_instances, with_min_instances, with_quota};
use crate::{MIN, S, ip, subnet};

/// With rollout R the new revision takes k% at t + floor(k R / 100); each revision runs
/// ceil(demand * share): 10 until 10:01, 11 from 10:01 (1 + ceil(9.9)), 10 at 10:50 (5 + 5),
/// 11 at 10:51 (ceil(5.1) + ceil(4.9)) up to 11:39 (ceil(9.9) + ceil(0.1)), 10 at 11:40.
#[test]
fn linear_rollout_splits_in_whole_percents() {
    let api = WorkloadSpec::service("api", 0)
        .at(0, 10)
        .swap(10 * MIN, 100 * S);
    check(
        SimInput::new(vec![subnet(24)], vec![api], 60 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00        20    0   12   220   2   12 | api=10 | reserve api x2 .16-.47; start api r1 x10 .16-.35
            10:01       22    0   10   220   2   12 | api=11 | start api r2 .36-.37
            10:10       20    2   10   220   2   12 | api=10 | stop api r1 .34-.35 20m
            10:11       22    2    8   220   2   12 | api=11 | start api r2 .38-.39
            10:20       20    4    8   220   2   12 | api=10 | stop api r1 .32-.33 20m
            10:21       22    4    6   220   2   12 | api=11 | start api r2 .40-.41
            10:30       20    6    6   220   2   12 | api=10 | stop api r1 .30-.31 20m
            10:31       22    6    4   220   2   12 | api=11 | start api r2 .42-.43
            10:40       20    8    4   220   2   12 | api=10 | stop api r1 .28-.29 20m
            10:41       22    8    2   220   2   12 | api=11 | start api r2 .44-.45
            10:50       20   10    2   220   2   12 | api=10 | stop api r1 .26-.27 20m
            10:51       22   10    0   220   2   12 | api=11 | start api r2 .46-.47
            11:00       20   12    0   220   2   12 | api=10 | stop api r1 .24-.25 20m
            11:01       22   12   14   204   3   11 | api=11 | reserve api .48-.63; start api r2 .48-.49
            11:10       20   14   14   204   3   11 | api=10 | stop api r1 .22-.23 20m
            11:11       22   14   12   204   3   11 | api=11 | start api r2 .50-.51
            11:20       20   16   12   204   3   11 | api=10 | stop api r1 .20-.21 20m
            11:21       22   16   10   204   3   11 | api=11 | start api r2 .52-.53
            11:30       20   18   10   204   3   11 | api=10 | stop api r1 .18-.19 20m
            11:31       22   18    8   204   3   11 | api=11 | start api r2 .54-.55
            11:40       20   20    8   204   3   11 | api=10 | stop api r1 .16-.17 20m
            30:10       20   18   10   204   3   11 |  | expire api .34-.35
            30:20       20   16   12   204   3   11 |  | expire api .32-.33
            30:30       20   14   14   204   3   11 |  | expire api .30-.31
            30:40       20   12   16   204   3   11 |  | expire api .28-.29
            30:50       20   10   18   204   3   11 |  | expire api .26-.27
            31:00       20    8   20   204   3   11 |  | expire api .24-.25
            31:10       20    6   22   204   3   11 |  | expire api .22-.23
            31:20       20    4   24   204   3   11 |  | expire api .20-.21
            31:30       20    2   26   204   3   11 |  | expire api .18-.19
            31:40       20    0   12   220   2   12 |  | expire api .16-.17; release .16-.31
            run: peak_held 40, peak_blocks 3, min_free 176 (11 blocks), failed 0, unmet 0s
            api: held<=40 blk<=3 run<=11 started 20 failed 0 unmet 0s
        "#]],
    );
}

/// Rollouts shorter than 100 ms take several percents in one millisecond: k = 1 at 1:00
/// (floor(50 / 100) = 0), 1 + 99 instances, 2 retained; k = 3 at 1:00.001, 6 retained; 200
/// retained at 1:00.050.
#[test]
fn short_rollout_steps_several_percents_per_millisecond() {
    let api = WorkloadSpec::service("api", 0).at(0, 100).swap(MIN, 50);
    check(
        SimInput::new(vec![subnet(22)], vec![api], 10 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00       200    0    8   812  13   49 | api=100 | reserve api x13 .0.16-.0.223; start api r1 x100 .0.16-.0.215
            1:00       200    2    6   812  13   49 |  | stop api r1 .0.214-.0.215 20m; start api r2 .0.216-.0.217
            1:00.001   200    6    2   812  13   49 |  | stop api r1 x2 .0.210-.0.213 20m; start api r2 x2 .0.218-.0.221
            ... 47 more lines like the line above, 1:00.002 to 1:00.048: 12 reserved blocks, 94 starts, 94 stops
            1:00.049   200  198    2   620  25   37 |  | stop api r1 x2 .0.18-.0.21 20m; start api r2 x2 .1.154-.1.157
            1:00.050   200  200    0   620  25   37 |  | stop api r1 .0.16-.0.17 20m; start api r2 .1.158-.1.159
            run: peak_held 400, peak_blocks 25, min_free 592 (37 blocks), failed 0, unmet 0s
            api: held<=400 blk<=25 run<=100 started 200 failed 0 unmet 0s
        "#]],
    );
}

/// A swap during a rollout freezes the current shares and starts again: at 10:50 the shares
/// are 50 / 50 / 0; one second later revision 1 runs ceil(49.5) = 50, revision 2 50 and
/// revision 3 1 (101 in all); 100 again at the end of the second rollout, 12:30.
#[test]
fn swap_during_rollout_freezes_shares() {
    let api = WorkloadSpec::service("api", 0)
        .at(0, 100)
        .swap(10 * MIN, 100 * S)
        .swap(10 * MIN + 50 * S, 100 * S);
    check(
        SimInput::new(vec![subnet(21)], vec![api], 60 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00       200    0    8  1836  13  113 | api=100 | reserve api x13 .0.16-.0.223; start api r1 x100 .0.16-.0.215
            10:01      200    2    6  1836  13  113 |  | stop api r1 .0.214-.0.215 20m; start api r2 .0.216-.0.217
            ... 48 more lines like the line above, 10:02 to 10:49: 6 reserved blocks, 48 starts, 48 stops
            10:50      200  100    4  1740  19  107 |  | stop api r1 .0.116-.0.117 20m; start api r2 .1.58-.1.59
            10:51      202  100    2  1740  19  107 | api=101 | start api r3 .1.60-.1.61
            10:52      200  104    0  1740  19  107 | api=100 | stop api r1 .0.114-.0.115 20m; stop api r2 .1.58-.1.59 20m; start api r3 .1.62-.1.63
            ... 96 more lines like the 2 lines above, 10:53 to 12:28: 12 reserved blocks, 96 starts, 96 stops
            12:29      202  296   14  1532  32   94 | api=101 | reserve api .2.0-.2.15; start api r3 .2.0-.2.1
            12:30      200  300   12  1532  32   94 | api=100 | stop api r1 .0.16-.0.17 20m; stop api r2 .0.216-.0.217 20m; start api r3 .2.2-.2.3
            30:01      200  298   14  1532  32   94 |  | expire api .0.214-.0.215
            ... 48 more lines like the line above, 30:02 to 30:49: 5 released blocks, 48 expiries
            30:50      200  200   32  1612  27   99 |  | expire api .0.116-.0.117
            30:52      200  196   36  1612  27   99 |  | expire api x2 .0.114-.0.115,.1.58-.1.59
            ... 48 more lines like the line above, 30:54 to 32:28: 11 released blocks, 96 expiries
            32:30      200    0   24  1820  14  112 |  | expire api x2 .0.16-.0.17,.0.216-.0.217; release x2 .0.16-.0.31,.0.208-.0.223
            run: peak_held 500, peak_blocks 32, min_free 1504 (94 blocks), failed 0, unmet 0s
            api: held<=500 blk<=32 run<=101 started 250 failed 0 unmet 0s
        "#]],
    );
}

/// A swap at the very end of a rollout starts from the completed rollout's shares, and the
/// revisions are evaluated once for that millisecond. At 11:39.999 revision 1 runs ceil(1%) = 1
/// and revision 2 99, 99 stopped (198 retained). At 11:40 the last step (revision 2 at 100%)
/// and the swap (revision 3 at 100%) are evaluated together: revision 2 never starts its
/// 100th instance, 199 instances have stopped (398 retained) and 100 run.
#[test]
fn swap_at_end_of_rollout_starts_from_completed_rollout() {
    let api = WorkloadSpec::service("api", 0)
        .at(0, 100)
        .swap(10 * MIN, 100 * S)
        .swap(10 * MIN + 100 * S, 0);
    check(
        SimInput::new(vec![subnet(21)], vec![api], 60 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00       200    0    8  1836  13  113 | api=100 | reserve api x13 .0.16-.0.223; start api r1 x100 .0.16-.0.215
            10:01      200    2    6  1836  13  113 |  | stop api r1 .0.214-.0.215 20m; start api r2 .0.216-.0.217
            ... 97 more lines like the line above, 10:02 to 11:38: 12 reserved blocks, 97 starts, 97 stops
            11:39      200  198    2  1644  25  101 |  | stop api r1 .0.18-.0.19 20m; start api r2 .1.156-.1.157
            11:40      200  398   10  1436  38   88 |  | stop api r1 .0.16-.0.17 20m; stop api r2 x99 .0.216-.1.157 20m; start api r3 x100 .1.158-.2.101; reserve api x13 .1.160-.2.111
            30:01      200  396   12  1436  38   88 |  | expire api .0.214-.0.215
            ... 97 more lines like the line above, 30:02 to 31:38: 11 released blocks, 97 expiries
            31:39      200  200   32  1612  27   99 |  | expire api .0.18-.0.19
            31:40      200    0   24  1820  14  112 |  | expire api x100 .0.16-.0.17,.0.216-.1.157; release x13 .0.16-.0.31,.0.208-.1.143
            run: peak_held 598, peak_blocks 38, min_free 1408 (88 blocks), failed 0, unmet 0s
            api: held<=598 blk<=38 run<=100 started 299 failed 0 unmet 0s
        "#]],
    );
}

/// Scaling down stops the newest instance first: at 1:00 the third instance (.20-.21) of
/// revision 1 stops, retained 20 minutes.
#[test]
fn scale_down_stops_the_newest_instance() {
    let api = WorkloadSpec::service("api", 0).at(0, 3).at(MIN, 2);
    check(
        SimInput::new(vec![subnet(24)], vec![api], 30 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         6    0   10   236   1   13 | api=3 | reserve api .16-.31; start api r1 x3 .16-.21
            1:00         4    2   10   236   1   13 | api=2 | stop api r1 .20-.21 20m
            21:00        4    0   12   236   1   13 |  | expire api .20-.21
            run: peak_held 6, peak_blocks 1, min_free 208 (13 blocks), failed 0, unmet 0s
            api: held<=6 blk<=1 run<=3 started 3 failed 0 unmet 0s
        "#]],
    );
}

/// min_instances holds from 0, before the first point (a runs 2 from 0:00 and keeps them
/// after its demand drops to 0 at 5:00); the quota caps the demand below max_instances (b
/// runs 10 of 50).
#[test]
fn demand_is_clamped_to_min_max_and_quota() {
    let a = with_min_instances(WorkloadSpec::service("a", 0).at(5 * MIN, 0), 2);
    let b = with_quota(
        with_max_instances(WorkloadSpec::service("b", 0).at(0, 50), 30),
        10,
    );
    check(
        SimInput::new(vec![subnet(24)], vec![a, b], 10 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00        24    0   24   204   3   11 | a=2 b=10 | reserve a .16-.31; start a r1 x2 .16-.19; reserve b x2 .32-.63; start b r1 x10 .32-.51
            run: peak_held 24, peak_blocks 3, min_free 176 (11 blocks), failed 0, unmet 0s
            a: held<=4 blk<=1 run<=2 started 2 failed 0 unmet 0s
            b: held<=20 blk<=2 run<=10 started 10 failed 0 unmet 0s
        "#]],
    );
}

/// A demand drop cancels pending starts and closes the failure window: 4 pending instances
/// fail at 0:00, 0:10, ..., 4:50 (120 attempts, 1200 unmet instance-seconds) and are cancelled
/// at 5:00, which closes the window 0:00-5:00.
#[test]
fn demand_drop_cancels_pending_and_closes_the_window() {
    let api = WorkloadSpec::service("api", 0).at(0, 20).at(5 * MIN, 16);
    check(
        SimInput::new(vec![subnet(26)], vec![api], 10 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00        32    0    0    28   2    0 | api=16+4 | reserve api x2 .16-.47; start api r1 x16 .16-.47; EXHAUSTED api r1 x4 20/16/0/0
            0:10        32    0    0    28   2    0 |  | EXHAUSTED api r1 x4 20/16/0/0
            ... 27 more lines like the line above, 0:20 to 4:40: 108 failed attempts
            4:50        32    0    0    28   2    0 |  | EXHAUSTED api r1 x4 20/16/0/0
            5:00        32    0    0    28   2    0 | api=16 |
            run: peak_held 32, peak_blocks 2, min_free 0 (0 blocks), failed 120, unmet 1200s
            first exhaustion: 0:00 api r1 20/16/0/0
            windows: api 0:00-5:00
            api: held<=32 blk<=2 run<=16 started 16 failed 120 unmet 1200s
        "#]],
    );
}

/// Each pending instance retries every 10 s from its own first failure; an address freed at t
/// can be taken at t.
#[test]
fn retries_every_10s_and_freed_addresses_are_taken_the_same_millisecond() {
    // a's stopped instance is retained until 21:00; b retries at 0:05 + 10 s n and starts at
    // 21:05: window 0:05-21:05, 126 failed attempts.
    let a = WorkloadSpec::service("a", 0).at(0, 16).at(MIN, 15);
    let b = WorkloadSpec::service("b", 0).at(5 * S, 1);
    let mut input = SimInput::new(vec![subnet(26)], vec![a, b], 30 * MIN);
    input.params.block_scope = BlockScope::Subnet;
    check(
        input,
        expect![[r#"
        time       use  ret idle unres blk free | workloads | events
        0:00        32    0    0    28   2    0 | a=16 | reserve pool x2 .16-.47; start a r1 x16 .16-.47
        0:05        32    0    0    28   2    0 | b=0+1 | EXHAUSTED b r1 1/0/0/0
        ... 4 more lines like the line above, 0:15 to 0:45: 4 failed attempts
        0:55        32    0    0    28   2    0 |  | EXHAUSTED b r1 1/0/0/0
        1:00        30    2    0    28   2    0 | a=15 | stop a r1 .46-.47 20m
        1:05        30    2    0    28   2    0 |  | EXHAUSTED b r1 1/0/0/0
        ... 118 more lines like the line above, 1:15 to 20:45: 118 failed attempts
        20:55       30    2    0    28   2    0 |  | EXHAUSTED b r1 1/0/0/0
        21:00       30    0    2    28   2    0 |  | expire a .46-.47
        21:05       32    0    0    28   2    0 | b=1 | start b r1 .46-.47
        run: peak_held 32, peak_blocks 2, min_free 0 (0 blocks), failed 126, unmet 1260s
        first exhaustion: 0:05 b r1 1/0/0/0
        windows: b 0:05-21:05
        a: held<=32 blk<=- run<=16 started 16 failed 0 unmet 0s
        b: held<=2 blk<=- run<=1 started 1 failed 126 unmet 1260s
    "#]],
    );
    // Under subnet scope an expiry at 21:00 serves 16 starts at 21:00: no failed attempt.
    let a = WorkloadSpec::service("a", 0).at(0, 16).at(MIN, 0);
    let b = WorkloadSpec::service("b", 0).at(21 * MIN, 16);
    let mut input = SimInput::new(vec![subnet(26)], vec![a, b], 30 * MIN);
    input.params.block_scope = BlockScope::Subnet;
    check(
        input,
        expect![[r#"
        time       use  ret idle unres blk free | workloads | events
        0:00        32    0    0    28   2    0 | a=16 | reserve pool x2 .16-.47; start a r1 x16 .16-.47
        1:00         0   32    0    28   2    0 | a=0 | stop a r1 x16 .16-.47 20m
        21:00       32    0    0    28   2    0 | b=16 | expire a x16 .16-.47; release x2 .16-.47; reserve pool x2 .16-.47; start b r1 x16 .16-.47
        run: peak_held 32, peak_blocks 2, min_free 0 (0 blocks), failed 0, unmet 0s
        a: held<=32 blk<=- run<=16 started 16 failed 0 unmet 0s
        b: held<=32 blk<=- run<=16 started 16 failed 0 unmet 0s
    "#]],
    );
}

/// Under service scope, when blocks are short at the same millisecond, the workload declared
/// first gets the block, whatever order their demand points were read in (c's were read from
/// 1:00): the one declared last fails at 5:00, c of a, b, c, and b of c, a, b.
#[test]
fn declaration_order_decides_who_gets_the_last_block() {
    let a = WorkloadSpec::service("a", 0).at(5 * MIN, 1);
    let b = WorkloadSpec::service("b", 0).at(5 * MIN, 1);
    let c = WorkloadSpec::service("c", 0).at(MIN, 0).at(5 * MIN, 1);
    check(
        SimInput::new(vec![subnet(26)], vec![a, b, c], 10 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         0    0    0    60   0    2 |  |
            5:00         4    0   28    28   2    0 | a=1 b=1 c=0+1 | reserve a .16-.31; start a r1 .16-.17; reserve b .32-.47; start b r1 .32-.33; EXHAUSTED c r1 1/0/0/0
            5:10         4    0   28    28   2    0 |  | EXHAUSTED c r1 1/0/0/0
            ... 27 more lines like the line above, 5:20 to 9:40: 27 failed attempts
            9:50         4    0   28    28   2    0 |  | EXHAUSTED c r1 1/0/0/0
            run: peak_held 4, peak_blocks 2, min_free 0 (0 blocks), failed 30, unmet 300s
            first exhaustion: 5:00 c r1 1/0/0/0
            windows: c 5:00-10:00 open
            a: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            b: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            c: held<=0 blk<=0 run<=0 started 0 failed 30 unmet 300s
        "#]],
    );
    let c = WorkloadSpec::service("c", 0).at(MIN, 0).at(5 * MIN, 1);
    let a = WorkloadSpec::service("a", 0).at(5 * MIN, 1);
    let b = WorkloadSpec::service("b", 0).at(5 * MIN, 1);
    check(
        SimInput::new(vec![subnet(26)], vec![c, a, b], 10 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         0    0    0    60   0    2 |  |
            5:00         4    0   28    28   2    0 | c=1 a=1 b=0+1 | reserve c .16-.31; start c r1 .16-.17; reserve a .32-.47; start a r1 .32-.33; EXHAUSTED b r1 1/0/0/0
            5:10         4    0   28    28   2    0 |  | EXHAUSTED b r1 1/0/0/0
            ... 27 more lines like the line above, 5:20 to 9:40: 27 failed attempts
            9:50         4    0   28    28   2    0 |  | EXHAUSTED b r1 1/0/0/0
            run: peak_held 4, peak_blocks 2, min_free 0 (0 blocks), failed 30, unmet 300s
            first exhaustion: 5:00 b r1 1/0/0/0
            windows: b 5:00-10:00 open
            c: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            a: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            b: held<=0 blk<=0 run<=0 started 0 failed 30 unmet 300s
        "#]],
    );
}

/// A job task that fails 4 attempts (1 + 3 retries) fails, and its slot passes at once: task 1
/// fails at 1:00, 1:10, 1:20, 1:30, task 2 at 1:30, 1:40, 1:50, 2:00; 8 failed attempts, 2
/// tasks failed, one window 1:00-2:00 (it closes and reopens at 1:30), 60 unmet seconds.
#[test]
fn job_task_gives_up_after_three_retries_and_passes_its_slot() {
    let fill = WorkloadSpec::service("fill", 0).at(0, 16);
    let job = WorkloadSpec::job("etl", 0).execution(JobExecution {
        start_ms: MIN,
        n_tasks: 2,
        parallelism: 1,
        durations: TaskDurations::Fixed(MIN),
    });
    check(
        SimInput::new(vec![subnet(26)], vec![fill, job], 10 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00        32    0    0    28   2    0 | fill=16 | reserve fill x2 .16-.47; start fill r1 x16 .16-.47
            1:00        32    0    0    28   2    0 | etl=0+1 | EXHAUSTED etl e1 1/0/0/0
            1:10        32    0    0    28   2    0 |  | EXHAUSTED etl e1 1/0/0/0
            1:20        32    0    0    28   2    0 |  | EXHAUSTED etl e1 1/0/0/0
            1:30        32    0    0    28   2    0 |  | EXHAUSTED etl e1 1/0/0/0; task failed etl e1; EXHAUSTED etl e1 1/0/0/0
            1:40        32    0    0    28   2    0 |  | EXHAUSTED etl e1 1/0/0/0
            1:50        32    0    0    28   2    0 |  | EXHAUSTED etl e1 1/0/0/0
            2:00        32    0    0    28   2    0 | etl=0 | EXHAUSTED etl e1 1/0/0/0; task failed etl e1
            run: peak_held 32, peak_blocks 2, min_free 0 (0 blocks), failed 8, unmet 60s
            first exhaustion: 1:00 etl e1 1/0/0/0
            windows: etl 1:00-2:00
            fill: held<=32 blk<=2 run<=16 started 16 failed 0 unmet 0s
            etl: held<=0 blk<=0 run<=0 started 0 failed 8 unmet 60s, tasks 0 done 2 failed
        "#]],
    );
}

/// With a linger, a wholly free block stays with its owner, is reused, and is released only if
/// still free when the linger ends: wholly free at 21:00 (1 block, 16 idle), reused at 23:00
/// before the linger ends at 26:00, free again at 44:00 and released at 49:00; one
/// reservation in all.
#[test]
fn block_linger_keeps_and_reuses_blocks() {
    let api = WorkloadSpec::service("api", 0)
        .at(0, 1)
        .at(MIN, 0)
        .at(23 * MIN, 1)
        .at(24 * MIN, 0);
    let mut input = SimInput::new(vec![subnet(24)], vec![api], 60 * MIN);
    input.params.block_linger_ms = 5 * MIN;
    check(
        input,
        expect![[r#"
        time       use  ret idle unres blk free | workloads | events
        0:00         2    0   14   236   1   13 | api=1 | reserve api .16-.31; start api r1 .16-.17
        1:00         0    2   14   236   1   13 | api=0 | stop api r1 .16-.17 20m
        21:00        0    0   16   236   1   13 |  | expire api .16-.17
        23:00        2    0   14   236   1   13 | api=1 | start api r1 .16-.17
        24:00        0    2   14   236   1   13 | api=0 | stop api r1 .16-.17 20m
        44:00        0    0   16   236   1   13 |  | expire api .16-.17
        49:00        0    0    0   252   0   14 |  | release .16-.31
        run: peak_held 2, peak_blocks 1, min_free 208 (13 blocks), failed 0, unmet 0s
        api: held<=2 blk<=1 run<=1 started 2 failed 0 unmet 0s
    "#]],
    );
}

/// Under revision scope each revision reserves its own blocks (2 at 1:00); under service scope
/// the new revision shares the service's block (1 at 1:00).
#[test]
fn revision_scope_gives_each_revision_its_own_blocks() {
    let api = WorkloadSpec::service("api", 0).at(0, 1).swap(MIN, 0);
    let mut input = SimInput::new(vec![subnet(24)], vec![api], 60 * MIN);
    input.params.block_scope = BlockScope::Revision;
    check(
        input.clone(),
        expect![[r#"
        time       use  ret idle unres blk free | workloads | events
        0:00         2    0   14   236   1   13 | api=1 | reserve api .16-.31; start api r1 .16-.17
        1:00         2    2   28   220   2   12 |  | stop api r1 .16-.17 20m; reserve api .32-.47; start api r2 .32-.33
        21:00        2    0   14   236   1   13 |  | expire api .16-.17; release .16-.31
        run: peak_held 4, peak_blocks 2, min_free 192 (12 blocks), failed 0, unmet 0s
        api: held<=4 blk<=2 run<=1 started 2 failed 0 unmet 0s
    "#]],
    );
    input.params.block_scope = BlockScope::Service;
    check(
        input,
        expect![[r#"
        time       use  ret idle unres blk free | workloads | events
        0:00         2    0   14   236   1   13 | api=1 | reserve api .16-.31; start api r1 .16-.17
        1:00         2    2   12   236   1   13 |  | stop api r1 .16-.17 20m; start api r2 .18-.19
        21:00        2    0   14   236   1   13 |  | expire api .16-.17
        run: peak_held 4, peak_blocks 1, min_free 208 (13 blocks), failed 0, unmet 0s
        api: held<=4 blk<=1 run<=1 started 2 failed 0 unmet 0s
    "#]],
    );
}

/// The pre-2025 rule: 4 addresses per instance; 100 + 100 instances hold 800 on a /22
/// without a failure.
#[test]
fn legacy_four_addresses_per_instance() {
    let api = WorkloadSpec::service("api", 0).at(0, 100).swap(10 * MIN, 0);
    let mut input = SimInput::new(vec![subnet(22)], vec![api], 60 * MIN);
    input.params.ips_per_instance = 4;
    check(
        input,
        expect![[r#"
        time       use  ret idle unres blk free | workloads | events
        0:00       400    0    0   620  25   37 | api=100 | reserve api x25 .0.16-.1.159; start api r1 x100 .0.16-.1.159
        10:00      400  400    0   220  50   12 |  | stop api r1 x100 .0.16-.1.159 20m; reserve api x25 .1.160-.3.47; start api r2 x100 .1.160-.3.47
        30:00      400    0    0   620  25   37 |  | expire api x100 .0.16-.1.159; release x25 .0.16-.1.159
        run: peak_held 800, peak_blocks 50, min_free 192 (12 blocks), failed 0, unmet 0s
        api: held<=800 blk<=50 run<=100 started 200 failed 0 unmet 0s
    "#]],
    );
}

/// A deploy fails at the new revision's first failed start during its rollout; a scale-up
/// failure after the rollout, with nothing pending, is not a deploy failure. 9 instances hold
/// 2 blocks of a /26 (32 addresses). During a 10 s rollout old and new revisions together need
/// 2 * (new + 9) addresses: too many once new reaches 8, at k = 78 (1:07.800), the deploy
/// failure. The 9th new instance (pending from k = 89, 1:08.900) starts once the second old
/// stop (k = 23, 1:02.300) has been retained 20 minutes, at its retry at 21:08.900. The
/// scale-up to 17 at 30:00 opens a second window, open at the end.
#[test]
fn deploy_failure_only_during_the_rollout() {
    let api = WorkloadSpec::service("api", 0)
        .at(0, 9)
        .swap(MIN, 10 * S)
        .at(30 * MIN, 17);
    check(
        SimInput::new(vec![subnet(26)], vec![api], 40 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00        18    0   14    28   2    0 | api=9 | reserve api x2 .16-.47; start api r1 x9 .16-.33
            1:00.100    20    0   12    28   2    0 | api=10 | start api r2 .34-.35
            1:01.200    20    2   10    28   2    0 |  | stop api r1 .32-.33 20m; start api r2 .36-.37
            1:02.300    20    4    8    28   2    0 |  | stop api r1 .30-.31 20m; start api r2 .38-.39
            1:03.400    20    6    6    28   2    0 |  | stop api r1 .28-.29 20m; start api r2 .40-.41
            1:04.500    20    8    4    28   2    0 |  | stop api r1 .26-.27 20m; start api r2 .42-.43
            1:05.600    20   10    2    28   2    0 |  | stop api r1 .24-.25 20m; start api r2 .44-.45
            1:06.700    20   12    0    28   2    0 |  | stop api r1 .22-.23 20m; start api r2 .46-.47
            1:07.800    18   14    0    28   2    0 | api=9+1 | stop api r1 .20-.21 20m; EXHAUSTED api r2 8/7/0/0
            1:08.900    16   16    0    28   2    0 | api=8+2 | stop api r1 .18-.19 20m; EXHAUSTED api r2 9/7/0/0
            1:10        14   18    0    28   2    0 | api=7+2 | stop api r1 .16-.17 20m
            1:17.800    14   18    0    28   2    0 |  | EXHAUSTED api r2 9/7/0/0
            ... 236 more lines like the line above, 1:18.900 to 20:57.800: 236 failed attempts
            20:58.900   14   18    0    28   2    0 |  | EXHAUSTED api r2 9/7/0/0
            21:01.200   14   16    2    28   2    0 |  | expire api .32-.33
            21:02.300   14   14    4    28   2    0 |  | expire api .30-.31
            21:03.400   14   12    6    28   2    0 |  | expire api .28-.29
            21:04.500   14   10    8    28   2    0 |  | expire api .26-.27
            21:05.600   14    8   10    28   2    0 |  | expire api .24-.25
            21:06.700   14    6   12    28   2    0 |  | expire api .22-.23
            21:07.800   16    4   12    28   2    0 | api=8+1 | expire api .20-.21; start api r2 .20-.21
            21:08.900   18    2   12    28   2    0 | api=9 | expire api .18-.19; start api r2 .18-.19
            21:10       18    0   14    28   2    0 |  | expire api .16-.17
            30:00       32    0    0    28   2    0 | api=16+1 | start api r2 x7 .16-.17,.22-.33; EXHAUSTED api r2 17/16/0/0
            30:10       32    0    0    28   2    0 |  | EXHAUSTED api r2 17/16/0/0
            ... 57 more lines like the line above, 30:20 to 39:40: 57 failed attempts
            39:50       32    0    0    28   2    0 |  | EXHAUSTED api r2 17/16/0/0
            run: peak_held 32, peak_blocks 2, min_free 0 (0 blocks), failed 300, unmet 3000s
            first exhaustion: 1:07.800 api r2 8/7/0/0
            windows: api 1:07.800-21:08.900, api 30:00-40:00 open
            deploy failures: api r2 at 1:07.800 (swap 1:00)
            api: held<=32 blk<=2 run<=16 started 25 failed 300 unmet 3000s
        "#]],
    );
}

/// Several subnets: run-wide peaks are sums at each instant. x holds 20 until 21:00; y 10,
/// then 40 from 30:00: the run's peak is 40, not 20 + 40.
#[test]
fn run_wide_peaks_are_sums_at_each_instant() {
    let b = ipsim_core::SubnetSpec::new("b", ip(10, 1, 0, 0), 24);
    let x = WorkloadSpec::service("x", 0).at(0, 10).at(MIN, 0);
    let y = WorkloadSpec::service("y", 1).at(0, 5).at(30 * MIN, 20);
    check(
        SimInput::new(vec![subnet(24), b], vec![x, y], 60 * MIN),
        expect![[r#"
            time      subnet      use  ret idle unres blk free | workloads | events
            0:00      run-subnet   20    0   12   220   2   12 | x=10 | reserve x x2 .16-.47; start x r1 x10 .16-.35
            0:00      b            10    0    6   236   1   13 | y=5 | reserve y .16-.31; start y r1 x5 .16-.25
            1:00      run-subnet    0   20   12   220   2   12 | x=0 | stop x r1 x10 .16-.35 20m
            21:00     run-subnet    0    0    0   252   0   14 |  | expire x x10 .16-.35; release x2 .16-.47
            30:00     b            40    0    8   204   3   11 | y=20 | start y r1 x15 .26-.55; reserve y x2 .32-.63
            run: peak_held 40, peak_blocks 3, min_free 400 (25 blocks), failed 0, unmet 0s
            subnet run-subnet: peak_held 20, peak_blocks 2, min_free 192 (12 blocks), failed 0, unmet 0s
            subnet b: peak_held 40, peak_blocks 3, min_free 176 (11 blocks), failed 0, unmet 0s
            x: held<=20 blk<=2 run<=10 started 10 failed 0 unmet 0s
            y: held<=40 blk<=3 run<=20 started 20 failed 0 unmet 0s
        "#]],
    );
}

/// A streamed feed gives the same timeline as the same points held in memory.
#[test]
fn a_streamed_feed_equals_in_memory_demand() {
    use crate::timeline::{logged, render, timeline};
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
    let a = || WorkloadSpec::service("a", 0);
    let b = || WorkloadSpec::service("b", 0).swap(3 * MIN, 30 * S);
    let (mut ma, mut mb) = (a(), b());
    for &(t, w, n) in &pts {
        if w == 0 {
            ma = ma.at(t, n)
        } else {
            mb = mb.at(t, n)
        }
    }
    let memory = timeline(&SimInput::new(vec![subnet(24)], vec![ma, mb], 30 * MIN));
    let input = logged(SimInput::new(vec![subnet(24)], vec![a(), b()], 30 * MIN));
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
    let streamed = render(
        &input,
        &Simulation::with_feed(&input, &mut feed).unwrap().run(),
    );
    assert_eq!(memory, streamed);
    expect![[r#"
        time       use  ret idle unres blk free | workloads | events
        0:00        70    0   10   172   5    9 | a=30 b=5 | reserve a x4 .16-.79; start a r1 x30 .16-.75; reserve b .80-.95; start b r1 x5 .80-.89
        1:00       140    0    4   108   9    5 | b=40 | start b r1 x35 .90-.159; reserve b x4 .96-.159
        2:00       100   40    4   108   9    5 | a=10 | stop a r1 x20 .36-.75 20m
        3:00.300   102   40   18    92  10    4 | b=41 | reserve b .160-.175; start b r2 .160-.161
        3:00.900   102   42   16    92  10    4 |  | stop b r1 .158-.159 20m; start b r2 .162-.163
        3:01.500   100   44   16    92  10    4 | b=40 | stop b r1 .156-.157 20m
        ... 54 more lines like the 3 lines above, 3:01.800 to 3:28.500: 4 reserved blocks, 36 starts, 36 stops
        3:28.800   102  116    6    28  14    0 | b=41 | start b r2 .236-.237
        3:29.400   102  118    4    28  14    0 |  | stop b r1 .82-.83 20m; start b r2 .238-.239
        3:30       100  120    4    28  14    0 | b=40 | stop b r1 .80-.81 20m
        5:00        24  200    0    28  14    0 | a=12+48 b=0 | stop b r2 x40 .160-.239 20m; start a r1 x2 .76-.79; EXHAUSTED a r1 x48 60/12/0/0
        5:10        24  200    0    28  14    0 |  | EXHAUSTED a r1 x48 60/12/0/0
        ... 99 more lines like the line above, 5:20 to 21:40: 4752 failed attempts
        21:50       24  200    0    28  14    0 |  | EXHAUSTED a r1 x48 60/12/0/0
        22:00       64  160    0    28  14    0 | a=32+28 | expire a x20 .36-.75; release .48-.63; start a r1 x20 .36-.75; reserve a .48-.63; EXHAUSTED a r1 x28 60/32/0/0
        22:10       64  160    0    28  14    0 |  | EXHAUSTED a r1 x28 60/32/0/0
        ... 4 more lines like the line above, 22:20 to 22:50: 112 failed attempts
        23:00       64  160    0    28  14    0 |  | EXHAUSTED a r1 x28 60/32/0/0
        23:00.900   64  158    2    28  14    0 |  | expire b .158-.159
        ... 11 more lines like the line above, 23:01.500 to 23:09: 1 released block, 11 expiries
        23:09.900   64  134   10    44  13    1 |  | expire b .134-.135
        23:10       80  134   10    28  14    0 | a=40+20 | reserve a .144-.159; start a r1 x8 .144-.159; EXHAUSTED a r1 x20 60/40/0/0
        23:10.500   80  132   12    28  14    0 |  | expire b .132-.133
        ... 11 more lines like the line above, 23:11.400 to 23:18.900: 2 released blocks, 11 expiries
        23:19.500   80  108    4    60  12    2 |  | expire b .108-.109
        23:20      112  108    4    28  14    0 | a=56+4 | reserve a x2 .112-.143; start a r1 x16 .112-.143; EXHAUSTED a r1 x4 60/56/0/0
        23:20.400  112  106    6    28  14    0 |  | expire b .106-.107
        ... 11 more lines like the line above, 23:21 to 23:28.500: 1 released block, 11 expiries
        23:29.400  112   82   14    44  13    1 |  | expire b .82-.83
        23:30      120   80    8    44  13    1 | a=60 | expire b .80-.81; release .80-.95; reserve a .80-.95; start a r1 x4 .80-.87
        25:00      120    0    8   124   8    6 |  | expire b x40 .160-.239; release x5 .160-.239
        run: peak_held 224, peak_blocks 14, min_free 0 (0 blocks), failed 5116, unmet 51160s
        first exhaustion: 5:00 a r1 60/12/0/0
        windows: a 5:00-23:30
        a: held<=120 blk<=8 run<=60 started 80 failed 5116 unmet 51160s
        b: held<=160 blk<=10 run<=41 started 80 failed 0 unmet 0s
    "#]].assert_eq(&memory);
}

mod strategies {
    use expect_test::expect;
    use ipsim_core::{BlockScope, SimInput, Strategy, WorkloadSpec};

    use crate::timeline::check;
    use crate::{MIN, ip, subnet};

    /// Three services start one after another, the second stops, and a fourth starts after
    /// its retention; the reservations show which blocks each strategy picks.
    fn input(strategy: Strategy, seed: u64) -> SimInput {
        let w = |name: &str, at: u64| WorkloadSpec::service(name, 0).at(at, 1);
        let b = WorkloadSpec::service("b", 0).at(MIN, 1).at(2 * MIN, 0);
        let mut input = SimInput::new(
            vec![subnet(22)],
            vec![w("a", 0), b, w("c", 3 * MIN), w("d", 30 * MIN)],
            60 * MIN,
        );
        input.params.strategy = strategy;
        input.params.block_scope = BlockScope::Service;
        input.seed = seed;
        input
    }

    /// a, b, c reserve .0.16, .0.32, .0.48; b's block (.0.32) is released at 22:00, so d takes
    /// it again.
    #[test]
    fn first_fit_takes_the_lowest_free_block() {
        check(
            input(Strategy::FirstFit, 0),
            expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         2    0   14  1004   1   61 | a=1 | reserve a .0.16-.0.31; start a r1 .0.16-.0.17
            1:00         4    0   28   988   2   60 | b=1 | reserve b .0.32-.0.47; start b r1 .0.32-.0.33
            2:00         2    2   28   988   2   60 | b=0 | stop b r1 .0.32-.0.33 20m
            3:00         4    2   42   972   3   59 | c=1 | reserve c .0.48-.0.63; start c r1 .0.48-.0.49
            22:00        4    0   28   988   2   60 |  | expire b .0.32-.0.33; release .0.32-.0.47
            30:00        6    0   42   972   3   59 | d=1 | reserve d .0.32-.0.47; start d r1 .0.32-.0.33
            run: peak_held 6, peak_blocks 3, min_free 944 (59 blocks), failed 0, unmet 0s
            a: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            b: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            c: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            d: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
        "#]],
        );
    }

    /// d takes .0.64, the block after the last one reserved, not b's released .0.32.
    #[test]
    fn next_fit_continues_after_the_last_reservation() {
        check(
            input(Strategy::NextFit, 0),
            expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         2    0   14  1004   1   61 | a=1 | reserve a .0.16-.0.31; start a r1 .0.16-.0.17
            1:00         4    0   28   988   2   60 | b=1 | reserve b .0.32-.0.47; start b r1 .0.32-.0.33
            2:00         2    2   28   988   2   60 | b=0 | stop b r1 .0.32-.0.33 20m
            3:00         4    2   42   972   3   59 | c=1 | reserve c .0.48-.0.63; start c r1 .0.48-.0.49
            22:00        4    0   28   988   2   60 |  | expire b .0.32-.0.33; release .0.32-.0.47
            30:00        6    0   42   972   3   59 | d=1 | reserve d .0.64-.0.79; start d r1 .0.64-.0.65
            run: peak_held 6, peak_blocks 3, min_free 944 (59 blocks), failed 0, unmet 0s
            a: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            b: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            c: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            d: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
        "#]],
        );
    }

    /// A /22 has four /24 regions; the first has 14 free blocks, the others 16 (the last 15).
    /// The first region stays the most used, so best-fit keeps reserving in it, like first-fit
    /// here; a static /25 in the second /24 makes that one the most used, so the first
    /// reservation is at .1.128.
    #[test]
    fn best_fit_fills_the_most_used_region_first() {
        check(
            input(Strategy::BestFit, 0),
            expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         2    0   14  1004   1   61 | a=1 | reserve a .0.16-.0.31; start a r1 .0.16-.0.17
            1:00         4    0   28   988   2   60 | b=1 | reserve b .0.32-.0.47; start b r1 .0.32-.0.33
            2:00         2    2   28   988   2   60 | b=0 | stop b r1 .0.32-.0.33 20m
            3:00         4    2   42   972   3   59 | c=1 | reserve c .0.48-.0.63; start c r1 .0.48-.0.49
            22:00        4    0   28   988   2   60 |  | expire b .0.32-.0.33; release .0.32-.0.47
            30:00        6    0   42   972   3   59 | d=1 | reserve d .0.32-.0.47; start d r1 .0.32-.0.33
            run: peak_held 6, peak_blocks 3, min_free 944 (59 blocks), failed 0, unmet 0s
            a: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            b: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            c: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            d: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
        "#]],
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
        check(
            input,
            expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         2    0   14   876   1   53 | a=1 | reserve a .1.128-.1.143; start a r1 .1.128-.1.129
            run: peak_held 2, peak_blocks 1, min_free 848 (53 blocks), failed 0, unmet 0s
            a: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
        "#]],
        );
    }

    /// Random draws from the seeded RNG: seeds 1 and 2 pick other blocks (each run of a seed
    /// matches its snapshot).
    #[test]
    fn random_is_seeded() {
        check(
            input(Strategy::Random, 1),
            expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         2    0   14  1004   1   61 | a=1 | reserve a .2.64-.2.79; start a r1 .2.64-.2.65
            1:00         4    0   28   988   2   60 | b=1 | reserve b .3.96-.3.111; start b r1 .3.96-.3.97
            2:00         2    2   28   988   2   60 | b=0 | stop b r1 .3.96-.3.97 20m
            3:00         4    2   42   972   3   59 | c=1 | reserve c .3.128-.3.143; start c r1 .3.128-.3.129
            22:00        4    0   28   988   2   60 |  | expire b .3.96-.3.97; release .3.96-.3.111
            30:00        6    0   42   972   3   59 | d=1 | reserve d .2.144-.2.159; start d r1 .2.144-.2.145
            run: peak_held 6, peak_blocks 3, min_free 944 (59 blocks), failed 0, unmet 0s
            a: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            b: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            c: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            d: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
        "#]],
        );
        check(
            input(Strategy::Random, 2),
            expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         2    0   14  1004   1   61 | a=1 | reserve a .0.16-.0.31; start a r1 .0.16-.0.17
            1:00         4    0   28   988   2   60 | b=1 | reserve b .0.48-.0.63; start b r1 .0.48-.0.49
            2:00         2    2   28   988   2   60 | b=0 | stop b r1 .0.48-.0.49 20m
            3:00         4    2   42   972   3   59 | c=1 | reserve c .3.96-.3.111; start c r1 .3.96-.3.97
            22:00        4    0   28   988   2   60 |  | expire b .0.48-.0.49; release .0.48-.0.63
            30:00        6    0   42   972   3   59 | d=1 | reserve d .2.176-.2.191; start d r1 .2.176-.2.177
            run: peak_held 6, peak_blocks 3, min_free 944 (59 blocks), failed 0, unmet 0s
            a: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            b: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            c: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
            d: held<=2 blk<=1 run<=1 started 1 failed 0 unmet 0s
        "#]],
        );
    }
}

/// A connector (e2-micro, 100 Mbps each, 2 to 10 instances) scales out on throughput, never
/// in, holds one address per instance in its /28, and saturates above 1,000 Mbps: 2 instances
/// at 0:00, 5 at 10:00 (5 in use, 7 unreserved), still 5 at 20:00, 10 from 30:00 to the end;
/// saturated 30:00-40:00; demand up to 1200 Mbps; no exhaustion.
#[test]
fn connector_scales_out_never_in_and_saturates() {
    let c = WorkloadSpec::connector("conn", 0, 100, 2, 10)
        .at(0, 150)
        .at(10 * MIN, 450)
        .at(20 * MIN, 200)
        .at(30 * MIN, 1200)
        .at(40 * MIN, 900);
    check(
        SimInput::new(vec![subnet(28)], vec![c], 60 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         2    0    0    10   0    0 | conn=2 |
            10:00        5    0    0     7   0    0 | conn=5 |
            30:00       10    0    0     2   0    0 | conn=10 |
            run: peak_held 10, peak_blocks 0, min_free 0 (0 blocks), failed 0, unmet 0s
            saturated: conn 30:00-40:00
            conn: held<=10 blk<=0 run<=10 started 10 failed 0 unmet 0s, demand<=1200 Mbps
        "#]],
    );
}

/// An owner that falls short reserves the fewest free blocks that cover the shortfall, the
/// lowest among those: under partial edge blocks a /26's first block offers 14 addresses, so
/// an instance of 16 addresses takes the full block .16-.31 alone, not .2-.15 plus .16-.31.
/// The second instance needs 16 more: the partial first block cannot cover it, so the owner
/// takes the next full block .32-.47. For the third only the two partial edge blocks are left:
/// 14 + 14 cover 16 with two blocks, the fewest there are, so it holds .2-.15 and .48-.49.
#[test]
fn an_owner_reserves_the_fewest_blocks_that_cover_it() {
    let mut sn = subnet(26);
    sn.edge_blocks = ipsim_core::EdgeBlocks::Partial;
    let mut input = SimInput::new(
        vec![sn],
        vec![
            WorkloadSpec::service("big", 0)
                .at(0, 1)
                .at(MIN, 2)
                .at(2 * MIN, 3),
        ],
        3 * MIN,
    );
    input.params.ips_per_instance = 16;
    check(
        input,
        expect![[r#"
        time       use  ret idle unres blk free | workloads | events
        0:00        16    0    0    44   1    3 | big=1 | reserve big .16-.31; start big r1 .16-.31
        1:00        32    0    0    28   2    2 | big=2 | reserve big .32-.47; start big r1 .32-.47
        2:00        48    0   12     0   4    0 | big=3 | reserve big x2 .0-.15,.48-.63; start big r1 .2-.15,.48-.49
        run: peak_held 48, peak_blocks 4, min_free 0 (0 blocks), failed 0, unmet 0s
        big: held<=48 blk<=4 run<=3 started 3 failed 0 unmet 0s
    "#]],
    );
}

/// With 4-address instances, the shortfall of the first start is 4: the partial first block
/// (14 addresses) covers it with one block, so it is the one reserved (fewest blocks, lowest
/// address), and the fourth instance, short of 2, takes one more block.
#[test]
fn a_partial_edge_block_serves_when_one_block_is_enough() {
    let mut sn = subnet(26);
    sn.edge_blocks = ipsim_core::EdgeBlocks::Partial;
    let mut input = SimInput::new(
        vec![sn],
        vec![WorkloadSpec::service("api", 0).at(0, 4)],
        MIN,
    );
    input.params.ips_per_instance = 4;
    check(
        input,
        expect![[r#"
        time       use  ret idle unres blk free | workloads | events
        0:00        16    0   14    30   2    2 | api=4 | reserve api x2 .0-.31; start api r1 x4 .2-.17
        run: peak_held 16, peak_blocks 2, min_free 30 (2 blocks), failed 0, unmet 0s
        api: held<=16 blk<=2 run<=4 started 4 failed 0 unmet 0s
    "#]],
    );
}

/// A subnet smaller than one block has no block: on a /29 (allowed with allow_small_subnet)
/// under /28 blocks every start fails, and its usable addresses stay unreserved.
#[test]
fn a_subnet_smaller_than_a_block_has_no_block() {
    let mut sn = subnet(29);
    sn.allow_small_subnet = true;
    let mut input = |edge| {
        sn.edge_blocks = edge;
        SimInput::new(
            vec![sn.clone()],
            vec![WorkloadSpec::service("api", 0).at(0, 1)],
            30 * S,
        )
    };
    let partial = input(ipsim_core::EdgeBlocks::Partial);
    let excluded = input(ipsim_core::EdgeBlocks::Excluded);
    let out = crate::run_input(&partial);
    assert_eq!(out.subnets[0].n_blocks, 0);
    assert_eq!(out.subnets[0].usable, 4);
    assert_eq!(timeline(&partial), timeline(&excluded));
    check(
        partial,
        expect![[r#"
        time       use  ret idle unres blk free | workloads | events
        0:00         0    0    0     4   0    0 | api=0+1 | EXHAUSTED api r1 1/0/0/0
        0:10         0    0    0     4   0    0 |  | EXHAUSTED api r1 1/0/0/0
        0:20         0    0    0     4   0    0 |  | EXHAUSTED api r1 1/0/0/0
        run: peak_held 0, peak_blocks 0, min_free 0 (0 blocks), failed 3, unmet 30s
        first exhaustion: 0:00 api r1 1/0/0/0
        windows: api 0:00-0:30 open
        api: held<=0 blk<=0 run<=0 started 0 failed 3 unmet 30s
    "#]],
    );
}

/// A block already reserved at time 0 by Cloud Run outside the scenario ("existing Cloud
/// Run", a `serverless-ipv4-*` reservation of the live subnet) is held for the whole run:
/// on a /26 (two reservable blocks) it leaves one, so 10 instances (20 addresses) never start.
#[test]
fn a_block_reserved_by_existing_cloud_run_is_never_freed() {
    let mut s = subnet(26);
    s.reserved.push(ipsim_core::ReservedBlock {
        base: ip(10, 0, 0, 16),
        prefix_len: 28,
        workload: None,
    });
    let api = WorkloadSpec::service("api", 0).at(MIN, 10).at(2 * MIN, 0);
    check(
        SimInput::new(vec![s], vec![api], 30 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         0    0   16    44   1    1 |  | reserve pool .16-.31
            1:00        16    0   16    28   2    0 | api=8+2 | reserve api .32-.47; start api r1 x8 .32-.47; EXHAUSTED api r1 x2 10/8/0/0
            1:10        16    0   16    28   2    0 |  | EXHAUSTED api r1 x2 10/8/0/0
            ... 3 more lines like the line above, 1:20 to 1:40: 6 failed attempts
            1:50        16    0   16    28   2    0 |  | EXHAUSTED api r1 x2 10/8/0/0
            2:00         0   16   16    28   2    0 | api=0 | stop api r1 x8 .32-.47 20m
            22:00        0    0   16    44   1    1 |  | expire api x8 .32-.47; release .32-.47
            run: peak_held 16, peak_blocks 2, min_free 0 (0 blocks), failed 12, unmet 120s
            first exhaustion: 1:00 api r1 10/8/0/0
            windows: api 1:00-2:00
            api: held<=16 blk<=1 run<=8 started 8 failed 12 unmet 120s
        "#]],
    );
}

/// A block handed to a workload at time 0 is its owner's from the start: its first starts
/// take the block's addresses without reserving another, and once wholly free after the
/// retention it goes back to the subnet like any of its blocks.
#[test]
fn a_block_reserved_for_a_workload_is_its_own_from_time_0() {
    let mut s = subnet(24);
    s.reserved.push(ipsim_core::ReservedBlock {
        base: ip(10, 0, 0, 64),
        prefix_len: 28,
        workload: Some(0),
    });
    let api = WorkloadSpec::service("api", 0).at(MIN, 5).at(2 * MIN, 0);
    check(
        SimInput::new(vec![s], vec![api], 30 * MIN),
        expect![[r#"
            time       use  ret idle unres blk free | workloads | events
            0:00         0    0   16   236   1   13 |  | reserve api .64-.79
            1:00        10    0    6   236   1   13 | api=5 | start api r1 x5 .64-.73
            2:00         0   10    6   236   1   13 | api=0 | stop api r1 x5 .64-.73 20m
            22:00        0    0    0   252   0   14 |  | expire api x5 .64-.73; release .64-.79
            run: peak_held 10, peak_blocks 1, min_free 208 (13 blocks), failed 0, unmet 0s
            api: held<=10 blk<=1 run<=5 started 5 failed 0 unmet 0s
        "#]],
    );
}

/// A connector's rows carry the throughput asked of it and what its VMs carry, so that a
/// chart can show what saturates: (demand, capacity) is (150, 200) with 2 VMs, (450, 500) with
/// 5, (200, 500) as it never scales in, (1200, 1000) with its maximum 10 (saturated), then
/// (900, 1000).
#[test]
fn a_connectors_rows_carry_its_demand_and_capacity() {
    let c = WorkloadSpec::connector("conn", 0, 100, 2, 10)
        .at(0, 150)
        .at(10 * MIN, 450)
        .at(20 * MIN, 200)
        .at(30 * MIN, 1200)
        .at(40 * MIN, 900);
    let mut input = SimInput::new(vec![subnet(28)], vec![c], 60 * MIN);
    input.options.record_workload_series = true;
    let out = ipsim_core::Simulation::new(&input).unwrap().run();
    let rows: Vec<_> = out.workloads[0]
        .rows
        .iter()
        .map(|r| (r.time_ms / MIN, r.running, r.demand_mbps, r.capacity_mbps))
        .collect();
    assert_eq!(
        rows,
        [
            (0, 2, 150, 200),
            (10, 5, 450, 500),
            (20, 5, 200, 500),
            (30, 10, 1200, 1000),
            (40, 10, 900, 1000)
        ]
    );
}
