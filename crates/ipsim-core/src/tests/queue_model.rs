//! The event queue against a naive model: a `BTreeMap` keyed by `(time, class, seq)` whose
//! least key is the next event (docs/model.md "Event order": time, then class, then the order the
//! events were scheduled). Random pushes (any event kind, at or after the current time),
//! lane pushes (a fixed delay per lane from a non-decreasing now: the lane contract) and pops;
//! every pop must return exactly the model's event, and `len` must agree throughout.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::queue::{Ev, EventQueue, Lane};

/// docs/model.md's class order, written out independently of [`Ev::class`]: (1) retention expiries
/// and block releases; (2) job task completions; (3) demand changes and rollout steps, then
/// the evaluation; (4) starts and retries.
fn model_class(ev: Ev) -> u8 {
    match ev {
        Ev::Expire { .. } | Ev::LingerEnd { .. } => 0,
        Ev::TaskDone { .. } => 1,
        Ev::Swap { .. } | Ev::Rollout { .. } | Ev::ExecStart { .. } | Ev::Feed => 2,
        Ev::Evaluate => 3,
        Ev::Attempt { .. } | Ev::Retries => 4,
    }
}

const LANES: [Lane; 5] = [
    Lane::Now,
    Lane::ServiceExpire,
    Lane::TaskExpire,
    Lane::Retry,
    Lane::Linger,
];

/// The kind of event the engine puts on each lane (one class per lane: see the report on the
/// lane contract in `lane_needs_one_class`).
fn lane_event(lane: usize, id: u32) -> Ev {
    match LANES[lane] {
        Lane::Now => Ev::Attempt { req: id, epoch: 0 },
        Lane::Retry => Ev::Retries,
        Lane::ServiceExpire | Lane::TaskExpire => Ev::Expire { inst: id, epoch: 1 },
        Lane::Linger => Ev::LingerEnd {
            subnet: 0,
            block: id,
            epoch: 2,
        },
    }
}

fn any_ev() -> impl Strategy<Value = Ev> {
    let id = 0u32..4;
    prop_oneof![
        (id.clone(), id.clone()).prop_map(|(inst, epoch)| Ev::Expire { inst, epoch }),
        (id.clone(), id.clone()).prop_map(|(block, epoch)| Ev::LingerEnd {
            subnet: 0,
            block,
            epoch
        }),
        (id.clone(), id.clone()).prop_map(|(inst, epoch)| Ev::TaskDone { inst, epoch }),
        id.clone().prop_map(|wl| Ev::Swap { wl }),
        (id.clone(), id.clone()).prop_map(|(wl, epoch)| Ev::Rollout { wl, epoch }),
        id.clone().prop_map(|wl| Ev::ExecStart { wl }),
        Just(Ev::Feed),
        Just(Ev::Evaluate),
        (id.clone(), id).prop_map(|(req, epoch)| Ev::Attempt { req, epoch }),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    /// `push` at now + dt.
    Push(u64, Ev),
    /// `push_lane` on lane i at now + the lane's delay, with event id.
    Lane(usize, u32),
    Pop,
}

fn ops(spread: u64) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        3 => (0..spread, any_ev()).prop_map(|(dt, ev)| Op::Push(dt, ev)),
        3 => (0..LANES.len(), 0u32..100).prop_map(|(l, id)| Op::Lane(l, id)),
        3 => Just(Op::Pop),
    ];
    proptest::collection::vec(op, 0..200)
}

/// Per-lane fixed delays (`Lane::Now` is always 0), and the operations.
fn case() -> impl Strategy<Value = ([u64; 5], Vec<Op>)> {
    // Spread 3: few distinct times, so ties on time (and on class) are the rule.
    prop_oneof![Just(3u64), Just(1_000u64)].prop_flat_map(|spread| {
        (
            proptest::array::uniform4(0..spread.min(5)).prop_map(|d| [0, d[0], d[1], d[2], d[3]]),
            ops(spread),
        )
    })
}

type Model = BTreeMap<(u64, u8, u64), Ev>;

fn pop_both(q: &mut EventQueue, m: &mut Model, now: &mut u64) -> Result<(), TestCaseError> {
    let got = q.pop().map(|e| (e.time_ms, e.ev));
    let want = m.pop_first().map(|((t, _, _), ev)| (t, ev));
    prop_assert_eq!(got, want);
    if let Some((t, _)) = got {
        prop_assert!(t >= *now, "time went backwards: {} after {}", t, *now);
        *now = t;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn queue_matches_naive_model((delays, ops) in case()) {
        let mut q = EventQueue::default();
        let mut m = Model::new();
        let (mut seq, mut now) = (0u64, 0u64);
        for op in ops {
            match op {
                Op::Push(dt, ev) => {
                    q.push(now + dt, ev);
                    m.insert((now + dt, model_class(ev), seq), ev);
                    seq += 1;
                }
                Op::Lane(l, id) => {
                    let ev = lane_event(l, id);
                    let t = now + delays[l];
                    q.push_lane(LANES[l], t, ev);
                    m.insert((t, model_class(ev), seq), ev);
                    seq += 1;
                }
                Op::Pop => pop_both(&mut q, &mut m, &mut now)?,
            }
            prop_assert_eq!(q.len(), m.len());
        }
        while !m.is_empty() {
            pop_both(&mut q, &mut m, &mut now)?;
            prop_assert_eq!(q.len(), m.len());
        }
        prop_assert!(q.pop().is_none());
    }
}

/// Every class at one millisecond, scheduled in reverse class order through the heap and the
/// lanes: they come out in docs/model.md's order, each class FIFO.
#[test]
fn one_millisecond_runs_in_class_order() {
    let mut q = EventQueue::default();
    q.push_lane(Lane::Retry, 5, Ev::Attempt { req: 0, epoch: 0 });
    q.push(5, Ev::Attempt { req: 1, epoch: 0 });
    q.push(5, Ev::Evaluate);
    q.push(5, Ev::Feed);
    q.push(5, Ev::Swap { wl: 0 });
    q.push(5, Ev::TaskDone { inst: 0, epoch: 0 });
    q.push_lane(
        Lane::Linger,
        5,
        Ev::LingerEnd {
            subnet: 0,
            block: 0,
            epoch: 0,
        },
    );
    q.push_lane(Lane::ServiceExpire, 5, Ev::Expire { inst: 0, epoch: 0 });
    q.push(4, Ev::Attempt { req: 2, epoch: 0 });
    let order: Vec<Ev> = std::iter::from_fn(|| q.pop().map(|e| e.ev)).collect();
    assert_eq!(
        order,
        [
            Ev::Attempt { req: 2, epoch: 0 },
            Ev::LingerEnd {
                subnet: 0,
                block: 0,
                epoch: 0
            },
            Ev::Expire { inst: 0, epoch: 0 },
            Ev::TaskDone { inst: 0, epoch: 0 },
            Ev::Feed,
            Ev::Swap { wl: 0 },
            Ev::Evaluate,
            Ev::Attempt { req: 0, epoch: 0 },
            Ev::Attempt { req: 1, epoch: 0 },
        ]
    );
}

/// The lane contract is stronger than "times never decrease": a lane's `(time, class)` must
/// never decrease, which holds because the engine puts one class on each lane. An earlier
/// class at the same time behind a later one on one lane would be popped late; the debug
/// assertion catches it.
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "lane out of order")]
fn lane_needs_one_class() {
    let mut q = EventQueue::default();
    q.push_lane(Lane::Retry, 5, Ev::Attempt { req: 0, epoch: 0 });
    q.push_lane(Lane::Retry, 5, Ev::Expire { inst: 0, epoch: 0 });
}

/// Reading ahead names the expiries that follow the next ones, in lane order, and stops at
/// the lane's end: a wrong window would only cost time, so nothing else would notice.
#[test]
fn read_ahead_names_the_expiries_that_follow() {
    use crate::queue::Retained;
    let mut q = EventQueue::default();
    for w in 0..6u32 {
        let r = Retained {
            workload: w,
            ..Retained::default()
        };
        let ev = Ev::Expire { inst: w, epoch: 0 };
        q.push_retained(Lane::ServiceExpire, 10 + u64::from(w), ev, r);
    }
    let ahead = |q: &EventQueue, skip, n| {
        q.retained_ahead(skip, n)
            .map(|r| r.workload)
            .collect::<Vec<_>>()
    };
    assert_eq!(ahead(&q, 2, 3), [2, 3, 4]);
    assert_eq!(ahead(&q, 4, 16), [4, 5]);
    assert_eq!(ahead(&q, 9, 16), Vec::<u32>::new());
    q.pop();
    assert!(q.take_retained().is_some_and(|r| r.workload == 0));
    assert_eq!(ahead(&q, 2, 2), [3, 4]);
}
