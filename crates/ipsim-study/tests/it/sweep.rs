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

#[test]
fn named_parameters_can_be_swept() {
    let vs = vec![
        parse_vary("params.block_scope=service,revision,subnet").unwrap(),
        parse_vary("params.edge_blocks=excluded,partial").unwrap(),
    ];
    let sw = Sweep::new(&repo().join("scenarios/shared-subnet.json"), vs, 1).unwrap();
    let rows = sw.run(&sw.shard_points(None), &|_| {}).unwrap();
    let failing: Vec<f64> = rows.iter().map(|r| r.failure_probability).collect();
    // Blocks run out with one owner per service or revision, unless the edge blocks count.
    assert_eq!(failing, [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
    let csv = ipsim_study::sweep::to_csv(&sw.result(rows, None));
    assert!(
        csv.contains("\n0,service,excluded,1,1.000000,720.000,720,"),
        "{csv}"
    );
    assert!(csv.contains("\n5,subnet,partial,1,0.000000,"), "{csv}");
    for (bad, msg) in [
        (
            "params.block_scope=team",
            "\"team\" is not one of service, revision, subnet",
        ),
        (
            "params.strategy=worst-fit",
            "is not one of first-fit, next-fit, best-fit, random",
        ),
        // Found by the fuzz campaign: the count of values overflowed (a panic).
        (
            "surge.peak=0..1e300:1e-300",
            "more than 10^15 values is too many (at most 100,000)",
        ),
        (
            "surge.peak=0..300000",
            "300001 values is too many (at most 100,000)",
        ),
    ] {
        assert!(parse_vary(bad).unwrap_err().contains(msg), "{bad}");
    }
}
