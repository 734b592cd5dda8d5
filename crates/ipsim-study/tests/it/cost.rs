//! The egress cost comparison, with exact figures.

use ipsim_scenario::load;
use ipsim_study::cost::compare;

use crate::repo;

const H: u64 = 3_600_000;

#[test]
fn monthly_cost_of_a_fixed_traffic_profile() {
    let s = load(&repo().join("scenarios/connector.json")).unwrap();
    let out = s.run().unwrap();
    let r = compare(&s, &out).unwrap();
    let month = 730.0 / 6.0; // the 6-hour profile, repeated over 730 hours
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.max(1.0);
    // 2 x 1 h + 5 x 2 h + 10 x 3 h = 42 instance-hours of e2-micro at $0.0084.
    let conn = &r.designs[1];
    assert_eq!(conn.design, "connector");
    assert!(
        close(conn.monthly_usd, 42.0 * month * 0.0084),
        "{}",
        conn.monthly_usd
    );
    assert_eq!(conn.throughput_limit_mbps, Some(1000));
    assert_eq!(conn.first_failure_ms, Some(3 * H));
    // NAT: $0.0014 per VM-hour, one IP at $0.005/h for 730 h, $0.045 per GiB of
    // (150 + 450 + 200 + 1200 + 900 + 300) Mbps-hours.
    let gib = 3200.0 * 3600.0 * 1e6 / 8.0 / 1_073_741_824.0 * month;
    assert!(close(r.traffic_gib_per_month, gib));
    let nat = &r.designs[2];
    let want = 42.0 * month * 0.0084 + 42.0 * month * 0.0014 + 730.0 * 0.005 + gib * 0.045;
    assert!(
        close(nat.monthly_usd, want),
        "{} vs {want}",
        nat.monthly_usd
    );
    // Direct VPC: one private zone ($0.20) and 10 queries a second at $0.40 a million.
    let direct = &r.designs[0];
    assert!(close(
        direct.monthly_usd,
        0.20 + 10.0 * 730.0 * 3600.0 / 1e6 * 0.40
    ));
    assert_eq!(direct.first_failure_ms, None);
    assert_eq!(r.fails_first.as_deref(), Some("connector"));
    assert_eq!(r.prices.date, "2026-11-21");
}

#[test]
fn egress_compare_the_connector_fails_first_in_the_surge() {
    let s = load(&repo().join("scenarios/egress-compare.json")).unwrap();
    let out = s.run().unwrap();
    let r = compare(&s, &out).unwrap();
    assert_eq!(r.peak_traffic_mbps, 1500);
    // The surge rises 1,200 Mbps over 30 minutes from 300: sampled each minute it is first
    // above 1,000 Mbps at 10:18 (1,020 Mbps).
    assert_eq!(r.designs[1].first_failure_ms, Some(10 * H + 18 * 60_000));
    assert_eq!(r.designs[0].first_failure_ms, None);
    assert_eq!(r.fails_first.as_deref(), Some("connector"));
    assert!(r.designs[0].addresses > 0 && r.designs[1].addresses == 16);
}
