//! Bad input gets an error that says where and why, every problem at once.

use ipsim_core::{
    InputError, JobExecution, SimInput, Simulation, StaticAlloc, TaskDurations, WorkloadSpec,
};

use crate::{MIN, ip, subnet};

fn errors(input: &SimInput) -> Vec<InputError> {
    Simulation::new(input).expect_err("expected input errors")
}

fn one(input: &SimInput) -> String {
    let e = errors(input);
    assert_eq!(e.len(), 1, "{e:?}");
    e[0].to_string()
}

#[test]
fn a_27_is_too_small_for_cloud_run_unless_waived() {
    let mut input = SimInput::new(
        vec![subnet(27)],
        vec![WorkloadSpec::service("a", 0).at(0, 1)],
        MIN,
    );
    assert_eq!(
        one(&input),
        "subnets[0].cidr: 10.0.0.0/27 is smaller than /26: Cloud Run needs a /26 or larger subnet (set allow_small_subnet to replay this mistake)"
    );
    input.subnets[0].allow_small_subnet = true;
    assert!(Simulation::new(&input).is_ok());
    // Down to /29 only.
    input.subnets[0].prefix_len = 30;
    assert!(one(&input).contains("smaller than /29"));
}

#[test]
fn the_classic_mistake_a_connector_28_runs_dry_at_once() {
    let mut input = SimInput::new(
        vec![subnet(28)],
        vec![WorkloadSpec::service("a", 0).at(0, 1)],
        MIN,
    );
    input.subnets[0].allow_small_subnet = true;
    let out = ipsim_core::simulate(&input).unwrap();
    assert_eq!(out.subnets[0].n_reservable_blocks, 0);
    assert_eq!(out.summary.first_exhaustion.unwrap().time_ms, 0);
}

#[test]
fn an_unused_small_subnet_is_fine() {
    let input = SimInput::new(
        vec![subnet(24), subnet(28)],
        vec![WorkloadSpec::service("a", 0).at(0, 1)],
        MIN,
    );
    assert!(Simulation::new(&input).is_ok());
}

#[test]
fn unsupported_ranges_are_refused_unless_waived() {
    let mut sn = subnet(24);
    sn.base = ip(8, 8, 8, 0);
    let mut input = SimInput::new(vec![sn], vec![WorkloadSpec::service("a", 0)], MIN);
    assert!(
        one(&input)
            .starts_with("subnets[0].cidr: 8.8.8.0/24 is outside the ranges Cloud Run supports")
    );
    input.subnets[0].allow_unsupported_range = true;
    assert!(Simulation::new(&input).is_ok());
    for ok in [
        ip(100, 64, 0, 0),
        ip(240, 0, 0, 0),
        ip(172, 31, 0, 0),
        ip(192, 168, 7, 0),
    ] {
        input.subnets[0].base = ok;
        input.subnets[0].allow_unsupported_range = false;
        assert!(Simulation::new(&input).is_ok(), "{ok:x}");
    }
}

#[test]
fn host_bits_set_names_the_network() {
    let mut sn = subnet(24);
    sn.base = ip(10, 0, 0, 5);
    let input = SimInput::new(vec![sn], vec![], MIN);
    assert_eq!(
        one(&input),
        "subnets[0].cidr: 10.0.0.5/24 has host bits set; the network is 10.0.0.0/24"
    );
}

#[test]
fn statics_overlapping_outside_reserved_or_too_many() {
    let mut sn = subnet(26);
    sn.statics = vec![
        StaticAlloc::Prefix {
            base: ip(10, 0, 0, 16),
            prefix_len: 28,
        },
        StaticAlloc::Address(ip(10, 0, 0, 20)),
        StaticAlloc::Address(ip(10, 0, 1, 1)),
        StaticAlloc::Address(ip(10, 0, 0, 1)),
        StaticAlloc::Count(100),
    ];
    let e: Vec<String> = errors(&SimInput::new(vec![sn], vec![], MIN))
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        e,
        [
            "subnets[0].statics[1]: 10.0.0.20 overlaps statics[0]",
            "subnets[0].statics[2]: 10.0.1.1 is outside the subnet 10.0.0.0/26",
            "subnets[0].statics[3]: 10.0.0.1 is the default gateway of 10.0.0.0/26, reserved by Google; use another address",
            "subnets[0].statics[4]: 10.0.0.0/26 has no room for 100 more static addresses (56 short)",
        ]
    );
}

#[test]
fn static_count_takes_the_lowest_usable_and_can_run_out() {
    let mut sn = subnet(26);
    sn.statics = vec![StaticAlloc::Address(ip(10, 0, 0, 2)), StaticAlloc::Count(3)];
    let out = ipsim_core::simulate(&SimInput::new(vec![sn.clone()], vec![], MIN)).unwrap();
    assert_eq!(out.subnets[0].n_static, 4);
    // .2 to .5 are static, all in the first (edge) block: both middle blocks stay reservable.
    assert_eq!(out.subnets[0].n_reservable_blocks, 2);
    sn.statics = vec![StaticAlloc::Count(61)];
    assert_eq!(
        one(&SimInput::new(vec![sn], vec![], MIN)),
        "subnets[0].statics[0]: 10.0.0.0/26 has no room for 61 more static addresses (1 short)"
    );
}

#[test]
fn prefix_statics_skip_google_reserved_addresses() {
    let mut sn = subnet(26);
    sn.statics = vec![StaticAlloc::Prefix {
        base: ip(10, 0, 0, 0),
        prefix_len: 28,
    }];
    let out = ipsim_core::simulate(&SimInput::new(vec![sn], vec![], MIN)).unwrap();
    assert_eq!(out.subnets[0].n_static, 14);
    assert_eq!(out.subnets[0].rows[0].unreserved, 60 - 14);
}

#[test]
fn workload_problems_are_all_reported_at_once() {
    let mut input = SimInput::new(
        vec![subnet(24)],
        vec![
            WorkloadSpec::service("a", 3),
            WorkloadSpec::service("b", 0).at(5, 1).at(5, 2),
            WorkloadSpec::service("c", 0).at(9, 1).at(4, 2),
            WorkloadSpec::job("d", 0).execution(JobExecution {
                start_ms: 0,
                n_tasks: 3,
                parallelism: 1,
                durations: TaskDurations::PerTask(vec![1, 2].into()),
            }),
        ],
        0,
    );
    input.params.block_size = 12;
    let e: Vec<String> = errors(&input).iter().map(|e| e.to_string()).collect();
    assert_eq!(
        e,
        [
            "duration_ms: the duration must be positive",
            "params.block_size: 12 is not a power of two from 4 to 64 (16 is a /28)",
            "workloads[0].subnet: subnet index 3 does not exist (1 declared)",
            "workloads[1].demand[1]: time 5 ms repeats the previous point's 5 ms; times must increase",
            "workloads[2].demand[1]: time 4 ms goes back from the previous point's 9 ms; times must increase",
            "workloads[3].executions[0].durations: 2 durations given for 3 tasks; give one per task",
        ]
    );
}

#[test]
fn larger_than_a_8_is_refused() {
    let mut sn = subnet(8);
    sn.prefix_len = 4;
    sn.base = 0;
    sn.allow_unsupported_range = true;
    let input = SimInput::new(vec![sn], vec![WorkloadSpec::service("a", 0).at(0, 1)], MIN);
    assert_eq!(
        one(&input),
        "subnets[0].cidr: 0.0.0.0/4 is larger than /8, the largest subnet Google Cloud allows"
    );
}

#[test]
fn blocks_reserved_at_time_0_must_be_whole_free_blocks_held_by_a_service() {
    use ipsim_core::ReservedBlock;
    let block = |a: u8, len: u8, workload| ReservedBlock {
        base: ip(10, 0, 0, a),
        prefix_len: len,
        workload,
    };
    let mut sn = subnet(26);
    sn.statics = vec![StaticAlloc::Address(ip(10, 0, 0, 40))];
    sn.reserved = vec![
        block(16, 27, None),
        block(20, 28, None),
        block(0, 28, None),
        block(32, 28, None),
        block(16, 28, Some(0)),
        block(16, 28, None),
        block(128, 28, None),
        block(16, 28, Some(1)),
    ];
    let job = WorkloadSpec::job("etl", 0).execution(JobExecution {
        start_ms: 0,
        n_tasks: 1,
        parallelism: 1,
        durations: TaskDurations::Fixed(MIN),
    });
    let api = WorkloadSpec::service("api", 0).at(0, 1);
    let e: Vec<String> = errors(&SimInput::new(vec![sn], vec![api, job], MIN))
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        e,
        [
            "subnets[0].reserved[7]: workload \"etl\" is not a service or worker pool: only they can hold a block from time 0",
            "subnets[0].reserved[0]: 10.0.0.16/27 is not one block: blocks are /28 (16 addresses)",
            "subnets[0].reserved[1]: 10.0.0.20/28 has host bits set: a block starts at a multiple of 16",
            "subnets[0].reserved[2]: 10.0.0.0/28 cannot be reserved: it holds a static address or is an edge block with Google's reserved addresses (edge_blocks \"excluded\")",
            "subnets[0].reserved[3]: 10.0.0.32/28 cannot be reserved: it holds a static address or is an edge block with Google's reserved addresses (edge_blocks \"excluded\")",
            "subnets[0].reserved[5]: 10.0.0.16/28 is already reserved[4]",
            "subnets[0].reserved[6]: 10.0.0.128/28 is outside the subnet 10.0.0.0/26",
            "subnets[0].reserved[7]: 10.0.0.16/28 is already reserved[4]",
        ]
    );
}
