//! Property tests: random workloads on random small subnets.
//!
//! Debug builds audit every pool after every event (recounting blocks, owners and the
//! invariant `static + in_use + retained + reserved_idle + unreserved = usable`); these tests
//! add what the audit cannot see: no address is ever given to two holders, every row keeps the
//! invariant, and once demand ends and retention has passed every address is free again.

use std::collections::BTreeSet;

use ipsim_core::{
    BlockScope, DemandPoint, EdgeBlocks, JobExecution, JobSpec, Kind, LogEvent, Retention, Scaled,
    SimInput, StaticAlloc, TaskDurations, WorkloadSpec, simulate,
};
use proptest::prelude::*;

use crate::{MIN, S, ip, subnet};

fn workload(subnet_idx: usize) -> impl Strategy<Value = WorkloadSpec> {
    let points = prop::collection::vec((0u64..40, 0u32..12), 0..8);
    let swaps = prop::collection::vec((0u64..40, prop_oneof![Just(0u64), 1u64..200_000]), 0..3);
    let job = prop::collection::vec((0u64..40, 0u32..12, 0u32..5, 1u64..120), 0..3);
    (0u8..3, points, swaps, job).prop_map(move |(kind, points, swaps, execs)| {
        let name = ["s", "p", "j"][usize::from(kind.min(2))];
        let k = if kind < 2 {
            let mut sc = Scaled::default();
            let mut t = BTreeSet::new();
            for (m, n) in points {
                if t.insert(m) {
                    sc.demand.push(DemandPoint {
                        time_ms: m * MIN / 2,
                        instances: n,
                    });
                }
            }
            sc.demand.sort_by_key(|p| p.time_ms);
            // All demand ends at 20 minutes.
            sc.demand.push(DemandPoint {
                time_ms: 20 * MIN + 1,
                instances: 0,
            });
            let mut ts = BTreeSet::new();
            for (m, r) in swaps {
                if ts.insert(m) {
                    sc.swaps.push(ipsim_core::Swap {
                        time_ms: m * MIN / 2,
                        rollout_ms: r,
                    });
                }
            }
            sc.swaps.sort_by_key(|s| s.time_ms);
            if kind == 0 {
                Kind::Service(sc)
            } else {
                Kind::WorkerPool(sc)
            }
        } else {
            let mut es: Vec<_> = execs
                .into_iter()
                .map(|(m, n, p, d)| JobExecution {
                    start_ms: m * MIN / 2,
                    n_tasks: n,
                    parallelism: p,
                    durations: TaskDurations::Fixed(d * S),
                })
                .collect();
            es.sort_by_key(|e| e.start_ms);
            Kind::Job(JobSpec {
                quota: None,
                executions: es,
            })
        };
        WorkloadSpec::new(name, subnet_idx, k)
    })
}

fn input() -> impl Strategy<Value = SimInput> {
    (
        prop::collection::vec(24u8..=26, 1..3),
        prop::collection::vec((0usize..2, workload(0)), 1..6),
        0u8..3,
        any::<bool>(),
        prop_oneof![Just(2u32), Just(4u32)],
        any::<bool>(),
        any::<u64>(),
        prop_oneof![Just(16u32), Just(8u32), Just(32u32)],
        0u8..3,
        0usize..4,
    )
        .prop_map(
            |(lens, wls, scope, partial, ips, uniform, seed, bs, n_static, strategy)| {
                let subnets: Vec<_> = lens
                    .iter()
                    .enumerate()
                    .map(|(i, &l)| {
                        let mut s = subnet(l);
                        s.base = ip(10, i as u8, 0, 0);
                        s.edge_blocks = if partial {
                            EdgeBlocks::Partial
                        } else {
                            EdgeBlocks::Excluded
                        };
                        if n_static > 0 {
                            s.statics.push(StaticAlloc::Count(u32::from(n_static) * 5));
                        }
                        s
                    })
                    .collect();
                let n = subnets.len();
                let workloads = wls
                    .into_iter()
                    .map(|(s, mut w)| {
                        w.subnet = s % n;
                        w
                    })
                    .collect();
                let mut input = SimInput::new(subnets, workloads, 60 * MIN);
                input.params.block_scope = [
                    BlockScope::Service,
                    BlockScope::Revision,
                    BlockScope::Subnet,
                ][scope as usize];
                input.params.ips_per_instance = ips;
                input.params.block_size = bs;
                input.params.strategy = ipsim_core::Strategy::ALL[strategy];
                input.params.block_linger_ms = if seed % 3 == 0 { 2 * MIN } else { 0 };
                input.params.retention = if uniform {
                    Retention::Uniform
                } else {
                    Retention::Fixed
                };
                input.options.log_lifecycle = true;
                input.options.log_limit = usize::MAX;
                input.seed = seed;
                input
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_workloads_keep_every_invariant(input in input()) {
        let out = simulate(&input).expect("generated input is valid");
        for sn in &out.subnets {
            for r in &sn.rows {
                prop_assert_eq!(sn.n_static + r.in_use + r.retained + r.reserved_idle + r.unreserved, sn.usable);
                prop_assert!(r.free <= sn.reservable);
            }
            prop_assert!(sn.rows.windows(2).all(|w| w[0].time_ms < w[1].time_ms));
        }
        // No address is held by two instances at once.
        let mut held = BTreeSet::new();
        for e in &out.log {
            match e {
                LogEvent::Start { addrs, .. } => for a in addrs {
                    prop_assert!(held.insert(*a), "address {} given twice", ipsim_core::fmt_addr(*a));
                },
                LogEvent::Expire { addrs, .. } => for a in addrs {
                    prop_assert!(held.remove(a));
                },
                _ => {}
            }
        }
        // Demand ends by 20:00, executions start by 19:30 and run at most 11 tasks of 2 min
        // one after another (plus 30 s of retries each), retention is at most 20 min and the
        // linger 2 min: by 60:00 everything is free again.
        for (sn, spec) in out.subnets.iter().zip(&input.subnets) {
            let end = sn.rows.last().unwrap();
            prop_assert_eq!((end.in_use, end.retained, end.reserved_blocks), (0, 0, 0), "{}", spec.name);
            prop_assert_eq!(end.free, sn.reservable);
        }
    }

    #[test]
    fn same_seed_same_output(input in input()) {
        prop_assert_eq!(simulate(&input).unwrap(), simulate(&input).unwrap());
    }

    /// Retrying pending starts in groups gives exactly what retrying each on its own gives:
    /// every row, summary, event count and log entry (the log cut at a random limit too).
    #[test]
    fn grouped_retries_equal_one_by_one(
        input in input(),
        limit in prop_oneof![Just(usize::MAX), 0usize..50],
        demand_x in 1u32..6,
    ) {
        let mut input = input;
        input.options.log_limit = limit;
        // Heavier demand makes long retry storms, cancellations and job give-ups.
        for w in &mut input.workloads {
            if let ipsim_core::Kind::Service(s) | ipsim_core::Kind::WorkerPool(s) = &mut w.kind {
                for p in &mut s.demand {
                    p.instances *= demand_x;
                }
            }
        }
        let grouped = simulate(&input).unwrap();
        input.options.group_retries = false;
        let one_by_one = simulate(&input).unwrap();
        prop_assert_eq!(grouped, one_by_one);
    }

    /// Services alone under a fixed retention run each one's start attempts right after its
    /// own evaluation (engine/fused.rs); the lifecycle log keeps the model's two sweeps. Both
    /// give the same rows, summaries, counts and failures in the same order, through
    /// exhaustion, retries, swaps and several subnets.
    #[test]
    fn fused_attempts_equal_two_sweeps(input in input(), demand_x in 1u32..6) {
        let mut input = input;
        input.workloads.retain(|w| !matches!(w.kind, Kind::Job(_)));
        prop_assume!(!input.workloads.is_empty());
        input.params.retention = Retention::Fixed;
        for w in &mut input.workloads {
            if let Kind::Service(s) | Kind::WorkerPool(s) = &mut w.kind {
                for p in &mut s.demand {
                    p.instances *= demand_x;
                }
            }
        }
        let (two_sweeps, order) = run_in_order(&input);
        input.options.log_lifecycle = false;
        let (mut fused, fused_order) = run_in_order(&input);
        prop_assert_eq!(fused_order, order, "the order rows reach a sink");
        let lifecycle = |e: &LogEvent| !matches!(e, LogEvent::Exhaustion(_) | LogEvent::TaskFailed { .. });
        let mut expected = two_sweeps;
        expected.log.retain(|e| !lifecycle(e));
        fused.log_dropped = expected.log_dropped;
        prop_assert_eq!(fused, expected);
    }
}

/// Every row as a sink receives it, in order: (subnet or `usize::MAX - workload`, time).
#[derive(Default)]
struct Order(Vec<(usize, u64)>);

impl ipsim_core::RowSink for Order {
    fn subnet_row(&mut self, subnet: usize, row: &ipsim_core::SubnetRow) {
        self.0.push((subnet, row.time_ms));
    }
    fn workload_row(&mut self, workload: usize, row: &ipsim_core::WorkloadRow) {
        self.0.push((usize::MAX - workload, row.time_ms));
    }
}

fn run_in_order(input: &SimInput) -> (ipsim_core::Output, Vec<(usize, u64)>) {
    let mut order = Order::default();
    let mut sim = ipsim_core::Simulation::new(input).unwrap();
    sim.set_sink(&mut order);
    let out = sim.run();
    (out, order.0)
}

/// Extreme parameters: the core never panics (debug builds panic on any arithmetic overflow)
/// and keeps its invariant.
fn extreme() -> impl Strategy<Value = SimInput> {
    (
        prop::collection::vec((0u64..u64::MAX / 4, 0u32..2_000), 0..6),
        prop::collection::vec((0u64..u64::MAX / 4, any::<u64>()), 0..3),
        (
            1u32..=64,
            1u32..=64,
            prop_oneof![Just(4u32), Just(8), Just(16), Just(32), Just(64)],
        ),
        (any::<u64>(), any::<u64>(), 1u64..u64::MAX, any::<u64>()),
        (1u64..u64::MAX, 0u32..20, any::<bool>(), 0usize..4),
        (1u32..5000, 0u32..3000),
    )
        .prop_map(
            |(
                points,
                swaps,
                (ips, ipt, bs),
                (ret_s, ret_t, retry, linger),
                (dur, retries, uniform, strat),
                (per, mbps),
            )| {
                let mut pts: Vec<_> = points;
                pts.sort_by_key(|p| p.0);
                pts.dedup_by_key(|p| p.0);
                let mut w = WorkloadSpec::service("s", 0);
                for (t, n) in pts {
                    w = w.at(t, n);
                }
                let mut sw = swaps;
                sw.sort_by_key(|s| s.0);
                sw.dedup_by_key(|s| s.0);
                for (t, r) in sw {
                    w = w.swap(t, r);
                }
                let job = WorkloadSpec::job("j", 0).execution(JobExecution {
                    start_ms: dur / 3,
                    n_tasks: 50,
                    parallelism: 7,
                    durations: TaskDurations::Uniform {
                        min_ms: 0,
                        max_ms: u64::MAX / 8,
                    },
                });
                let mut conn_subnet = subnet(28);
                conn_subnet.base = ip(10, 9, 0, 0);
                let conn = WorkloadSpec::connector("c", 1, per, 2, 10)
                    .at(0, mbps)
                    .at(dur / 2, mbps * 3);
                let mut input = SimInput::new(
                    vec![subnet(24), conn_subnet],
                    vec![w, job, conn],
                    dur.min(u64::MAX / 2),
                );
                input.params.ips_per_instance = ips;
                input.params.ips_per_task = ipt;
                input.params.block_size = bs;
                input.params.service_retention_ms = ret_s;
                input.params.task_retention_ms = ret_t;
                input.params.retry_interval_ms = retry.max(60_000);
                input.params.block_linger_ms = linger;
                input.params.max_task_retries = retries;
                input.params.retention = if uniform {
                    Retention::Uniform
                } else {
                    Retention::Fixed
                };
                input.params.strategy = ipsim_core::Strategy::ALL[strat];
                input.options.log_limit = 1000;
                input
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn extreme_parameters_never_panic(input in extreme()) {
        let out = simulate(&input).expect("valid input");
        for sn in &out.subnets {
            for r in &sn.rows {
                prop_assert_eq!(sn.n_static + r.in_use + r.retained + r.reserved_idle + r.unreserved, sn.usable);
            }
        }
    }
}
