//! Sweeps through typed edits and through JSON paths agree; bad values are caught up front.

use ipsim_study::sweep::{PointRow, Sweep, parse_vary};

use crate::repo;

fn plan(vary: &[&str]) -> Result<Sweep, Vec<String>> {
    let vs = vary.iter().map(|v| parse_vary(v).unwrap()).collect();
    Sweep::new(&repo().join("scenarios/surge.json"), vs, 2)
}

fn rows(vary: &[&str]) -> Vec<PointRow> {
    let sw = plan(vary).unwrap();
    sw.run(&sw.shard_points(None), &|_| {}).unwrap()
}

#[test]
fn a_typed_path_and_its_json_path_give_the_same_points() {
    let typed = rows(&["surge.peak=120,200", "subnet.edge-subnet.prefix=22..23"]);
    let json = rows(&[
        "workloads[0].demand.peak=120,200",
        "subnet.edge-subnet.prefix=22..23",
    ]);
    assert_eq!(typed.len(), 4);
    assert_eq!(typed, json);
    assert!(typed.iter().any(|r| r.failure_probability > 0.0));
}

#[test]
fn every_value_is_checked_before_anything_runs() {
    // 22.5 lies between valid extremes: it is refused when the sweep is planned.
    let e = plan(&["subnet.edge-subnet.prefix=22..23:0.5"]).unwrap_err();
    assert!(e[0].contains("prefix 22.5 is not a whole number"), "{e:?}");
    let e = plan(&["surge.height=1..2"]).unwrap_err();
    assert!(
        e[0].contains("a surge demand has no number field \"height\""),
        "{e:?}"
    );
}
