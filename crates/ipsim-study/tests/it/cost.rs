//! The egress cost comparison, with exact figures.

use ipsim_scenario::load;
use ipsim_study::cost::{CostOptions, Egress, InstanceTime, compare, compare_with};

use crate::repo;

const H: u64 = 3_600_000;

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[test]
fn monthly_cost_of_a_fixed_traffic_profile() {
    let s = load(&repo().join("scenarios/connector.json")).unwrap();
    let out = s.run().unwrap();
    let r = compare(&s, &out).unwrap();
    let month = 730.0 / 6.0; // the 6-hour profile, repeated over 730 hours
    // Direct VPC and the connector pay the same DNS: one private zone ($0.20) and 10 queries
    // a second at $0.40 a million.
    let dns = cents(10.0 * 730.0 * 3600.0 / 1e6 * 0.40);
    assert_eq!(dns, 10.51);
    let names: Vec<&str> = r.designs.iter().map(|d| d.design.as_str()).collect();
    assert_eq!(names, ["direct-vpc", "connector"]);
    for d in &r.designs {
        assert_eq!(d.lines.dns_zones.usd_per_month, 0.20, "{}", d.design);
        assert_eq!(d.lines.dns_queries.usd_per_month, dns, "{}", d.design);
        // Egress is private-ranges-only by default: no NAT in either design.
        assert!(!d.lines.nat_gateway.applies && d.lines.nat_data_processing.usd_per_month == 0.0);
    }
    // 2 x 1 h + 5 x 2 h + 10 x 3 h = 42 instance-hours of e2-micro at $0.0084.
    let conn = &r.designs[1];
    assert_eq!(
        conn.lines.connector_instances.usd_per_month,
        cents(42.0 * month * 0.0084)
    );
    assert_eq!(conn.lines.connector_instances.usd_per_month, 42.92);
    assert_eq!(conn.monthly_usd, 53.63);
    assert_eq!(conn.throughput_limit_mbps, Some(1000));
    assert_eq!(conn.first_failure_ms, Some(3 * H));
    let direct = &r.designs[0];
    assert!(!direct.lines.connector_instances.applies);
    assert_eq!(direct.monthly_usd, 10.71);
    assert_eq!(direct.first_failure_ms, None);
    // (150 + 450 + 200 + 1200 + 900 + 300) Mbps-hours, per month, to the cent of a GiB.
    let gib = 3200.0 * 3600.0 * 1e6 / 8.0 / 1_073_741_824.0 * month;
    assert_eq!(r.traffic_gib_per_month, cents(gib));
    assert_eq!(r.fails_first.as_deref(), Some("connector"));
    assert_eq!(r.prices.date, "2026-11-21");
    assert_eq!(
        r.prices.sources["nat_per_gib"],
        "https://cloud.google.com/nat/pricing"
    );
    assert_eq!(
        r.prices.sources["dns_per_million"],
        "https://cloud.google.com/dns/pricing"
    );
    assert!(r.left_out.iter().any(|l| l.starts_with("internet egress")));
}

#[test]
fn internet_traffic_through_the_vpc_puts_cloud_nat_in_every_design() {
    let s = load(&repo().join("scenarios/connector.json")).unwrap();
    let out = s.run().unwrap();
    let opts = CostOptions {
        egress: Egress::AllTraffic,
        internet_share: 0.5,
        internet_egress_per_gib: Some(0.085),
    };
    let it = InstanceTime::from_output(&s.input, &out);
    let r = compare_with(&s, &out, &opts, &it).unwrap();
    let names: Vec<&str> = r.designs.iter().map(|d| d.design.as_str()).collect();
    assert_eq!(names, ["direct-vpc + cloud nat", "connector + cloud nat"]);
    let month = 730.0 / 6.0;
    let gib = 3200.0 * 3600.0 * 1e6 / 8.0 / 1_073_741_824.0 * month / 2.0;
    assert_eq!(r.internet_gib_per_month, cents(gib));
    let (direct, conn) = (&r.designs[0], &r.designs[1]);
    // The same NAT IP hours, NAT data processing and internet egress in both.
    for d in [direct, conn] {
        assert_eq!(
            d.lines.nat_ips.usd_per_month,
            cents(730.0 * 0.005),
            "{}",
            d.design
        );
        assert_eq!(
            d.lines.nat_data_processing.usd_per_month,
            cents(gib * 0.045)
        );
        assert_eq!(d.lines.internet_egress.usd_per_month, cents(gib * 0.085));
    }
    // The connector's gateway: its 42 VM-hours at $0.0014. The scenario has no Cloud Run
    // instance (only the connector), so Direct VPC's gateway has no VM to charge.
    assert_eq!(
        conn.lines.nat_gateway.usd_per_month,
        cents(42.0 * month * 0.0014)
    );
    assert_eq!(direct.lines.nat_gateway.usd_per_month, 0.0);
    // Under all-traffic the connector carries everything, and still saturates at 03:00.
    assert_eq!(conn.first_failure_ms, Some(3 * H));
    assert_eq!(
        r.prices.sources["internet_egress_per_gib"],
        "https://cloud.google.com/vpc/network-pricing"
    );
    // The total is the sum of the lines, to the cent.
    let l = &conn.lines;
    let sum = l.connector_instances.usd_per_month
        + l.nat_gateway.usd_per_month
        + l.nat_ips.usd_per_month
        + l.nat_data_processing.usd_per_month
        + l.dns_zones.usd_per_month
        + l.dns_queries.usd_per_month
        + l.internet_egress.usd_per_month;
    assert_eq!(conn.monthly_usd, cents(sum));
}

#[test]
fn direct_vpc_nat_gateway_counts_cloud_run_instances_as_vms() {
    // egress-compare: frontend (diurnal 20 +- 10) and orders (8) on Direct VPC.
    let s = load(&repo().join("scenarios/egress-compare.json")).unwrap();
    let out = s.run().unwrap();
    let opts = CostOptions {
        egress: Egress::AllTraffic,
        internet_share: 1.0,
        internet_egress_per_gib: None,
    };
    let it = InstanceTime::from_output(&s.input, &out);
    let r = compare_with(&s, &out, &opts, &it).unwrap();
    let gw = &r.designs[0].lines.nat_gateway;
    assert!(gw.applies);
    // Between 18 and 38 instances all day: between 18 and 38 VM-hours an hour, and the
    // gateway between 18 x $0.0014 and $0.044 an hour.
    let hours = 730.0;
    assert!(gw.quantity_per_month >= 18.0 * hours && gw.quantity_per_month <= 38.0 * hours);
    assert!(
        gw.usd_per_month >= cents(18.0 * hours * 0.0014)
            && gw.usd_per_month <= cents(hours * 0.044)
    );
    // A tally streamed from rows is the tally taken from the output afterwards.
    let mut streamed = InstanceTime::new(&s.input);
    let mut s2 = load(&repo().join("scenarios/egress-compare.json")).unwrap();
    s2.input.options.record_workload_series = false;
    s2.input.options.record_subnet_series = false;
    s2.run_with(Some(&mut streamed)).unwrap();
    assert_eq!(streamed, it);
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

/// The scenario file turns the NAT designs on: `cost.egress`, `cost.internet_share` and
/// `cost.prices.internet_egress_per_gib` reach the comparison as a caller's options do.
#[test]
fn the_scenario_file_sends_internet_traffic_through_the_vpc() {
    let path = repo().join("scenarios/connector.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["cost"] = serde_json::json!({
        "egress": "all-traffic",
        "internet_share": 0.5,
        "prices": {"internet_egress_per_gib": 0.085}
    });
    let text = serde_json::to_vec(&v).unwrap();
    let s = ipsim_scenario::parse(&text, &path, &ipsim_scenario::Overrides::default()).unwrap();
    let opts = ipsim_study::cost::options(&s);
    assert_eq!(opts.egress, Egress::AllTraffic);
    assert_eq!(opts.internet_share, 0.5);
    assert_eq!(opts.internet_egress_per_gib, Some(0.085));
    let out = s.run().unwrap();
    let r = ipsim_study::cost::compare(&s, &out).unwrap();
    let names: Vec<&str> = r.designs.iter().map(|d| d.design.as_str()).collect();
    assert_eq!(names, ["direct-vpc + cloud nat", "connector + cloud nat"]);
    // Out of range: an error that names the share.
    v["cost"]["internet_share"] = serde_json::json!(1.5);
    let text = serde_json::to_vec(&v).unwrap();
    let s = ipsim_scenario::parse(&text, &path, &ipsim_scenario::Overrides::default()).unwrap();
    let out = s.run().unwrap();
    let e = ipsim_study::cost::compare(&s, &out).unwrap_err();
    assert!(e.contains("internet share 1.5 is not from 0 to 1"), "{e}");
}
