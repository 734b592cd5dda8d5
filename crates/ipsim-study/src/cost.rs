//! The egress cost comparison: Direct VPC egress with a Cloud DNS private zone, a Serverless
//! VPC Access connector, and a connector with Cloud NAT, for the scenario's traffic.
//!
//! Every design carries the same traffic (Mbps over time, `cost.traffic` or the connectors'
//! demand). The connector designs' instances come from running that traffic through the
//! core's connector (scale out on throughput, never in). Costs are summed over the run and
//! scaled to a month (730 hours by default), as if the run's profile repeated. Prices are
//! parameters; the defaults, their sources and their date are in docs/connectors.md.

use ipsim_core::{
    DemandPoint, Output, SimInput, Simulation, SubnetSpec, WorkloadKind, WorkloadSpec,
};
use serde::{Deserialize, Serialize};

use ipsim_scenario::Scenario;
use ipsim_scenario::def::{CostDef, DemandDef, MachineDef, PricesDef};
use ipsim_scenario::demand;

/// The date the default prices were taken.
pub const PRICES_DATE: &str = "2026-11-21";

/// Prices in USD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    /// When the defaults were taken.
    pub date: String,
    /// Connector instance per hour: f1-micro, e2-micro, e2-standard-4.
    pub connector_hour: [f64; 3],
    /// NAT gateway per assigned VM per hour, up to `nat_vm_cap` VMs.
    pub nat_per_vm_hour: f64,
    /// NAT gateway per hour above the cap.
    pub nat_cap_hour: f64,
    /// VMs at which the gateway price stops growing.
    pub nat_vm_cap: u32,
    /// NAT data processing per GiB.
    pub nat_per_gib: f64,
    /// NAT external IP per hour.
    pub nat_ip_hour: f64,
    /// DNS private zone per month.
    pub dns_zone_month: f64,
    /// DNS per million queries.
    pub dns_per_million: f64,
    /// Hours per month.
    pub hours_per_month: f64,
}

impl Prices {
    /// The defaults, overridden by `p`.
    pub fn from_def(p: &PricesDef) -> Prices {
        Prices {
            date: PRICES_DATE.into(),
            connector_hour: [
                p.f1_micro_hour.unwrap_or(0.0096),
                p.e2_micro_hour.unwrap_or(0.0084),
                p.e2_standard_4_hour.unwrap_or(0.1712),
            ],
            nat_per_vm_hour: p.nat_per_vm_hour.unwrap_or(0.0014),
            nat_cap_hour: p.nat_cap_hour.unwrap_or(0.044),
            nat_vm_cap: p.nat_vm_cap.unwrap_or(32),
            nat_per_gib: p.nat_per_gib.unwrap_or(0.045),
            nat_ip_hour: p.nat_ip_hour.unwrap_or(0.005),
            dns_zone_month: p.dns_zone_month.unwrap_or(0.20),
            dns_per_million: p.dns_per_million.unwrap_or(0.40),
            hours_per_month: p.hours_per_month.unwrap_or(730.0),
        }
    }

    fn connector(&self, m: MachineDef) -> f64 {
        match m {
            MachineDef::F1Micro => self.connector_hour[0],
            MachineDef::E2Micro => self.connector_hour[1],
            MachineDef::E2Standard4 => self.connector_hour[2],
        }
    }
}

/// One design's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    /// Name.
    pub design: String,
    /// Monthly cost, USD.
    pub monthly_usd: f64,
    /// What the cost is made of, USD per month each.
    pub breakdown: Vec<(String, f64)>,
    /// Subnet addresses the design takes at its peak.
    pub addresses: u64,
    /// What it says about addresses.
    pub addresses_note: String,
    /// Throughput it can carry, in Mbps (`None`: no connector in the path).
    pub throughput_limit_mbps: Option<u64>,
    /// When it first fails: an exhausted subnet, or traffic above the connector's limit.
    pub first_failure_ms: Option<u64>,
    /// How it fails.
    pub failure: String,
}

/// The comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostReport {
    /// Peak traffic, Mbps.
    pub peak_traffic_mbps: u64,
    /// Traffic over the run, GiB, and per month.
    pub traffic_gib_per_month: f64,
    /// The connector designs' machine type and instance limits.
    pub connector: String,
    /// The three designs.
    pub designs: Vec<Design>,
    /// The design that fails first, if any fails.
    pub fails_first: Option<String>,
    /// Prices used.
    pub prices: Prices,
}

/// The traffic step function (Mbps) of a scenario: `cost.traffic`, or the sum of its
/// connectors' demand.
fn traffic(s: &Scenario, c: &CostDef) -> Result<Vec<DemandPoint>, String> {
    let dur = s.input.duration_ms;
    if let Some(t) = &c.traffic {
        if matches!(t, DemandDef::Trace { .. }) {
            return Err(
                "cost.traffic: give a generator (constant, step, surge, diurnal), not a trace"
                    .into(),
            );
        }
        let interval = s.def.params.sample_interval.map_or(60_000, |d| d.ms());
        return Ok(demand::sample(t, dur, interval, None, None));
    }
    let conns: Vec<&WorkloadSpec> = s
        .input
        .workloads
        .iter()
        .filter(|w| w.tag() == WorkloadKind::Connector)
        .collect();
    if conns.is_empty() {
        return Err("nothing to price: add cost.traffic (Mbps) or a connector workload".into());
    }
    // Sum the connectors' step functions.
    let mut times: Vec<u64> = conns
        .iter()
        .flat_map(|w| w.kind.demand().unwrap_or(&[]).iter().map(|p| p.time_ms))
        .collect();
    times.sort_unstable();
    times.dedup();
    let mut out: Vec<DemandPoint> = Vec::new();
    for t in times {
        let v: u32 = conns
            .iter()
            .map(|w| {
                w.kind
                    .demand()
                    .unwrap_or(&[])
                    .iter()
                    .take_while(|p| p.time_ms <= t)
                    .last()
                    .map_or(0, |p| p.instances)
            })
            .sum();
        if out.last().map(|p| p.instances) != Some(v) {
            out.push(DemandPoint {
                time_ms: t,
                instances: v,
            });
        }
    }
    Ok(out)
}

/// Whether a run of `s` is priced: the scenario has a `cost` section or a connector.
pub fn applies(s: &Scenario) -> bool {
    s.def.cost.is_some()
        || s.input
            .workloads
            .iter()
            .any(|w| w.tag() == WorkloadKind::Connector)
}

/// The line `ipsim run` prints under its summary.
pub fn summary_line(r: &CostReport) -> String {
    let per: Vec<String> = r
        .designs
        .iter()
        .map(|d| format!("{} ${:.2}", d.design, d.monthly_usd))
        .collect();
    format!(
        "egress per month: {}; fails first: {} (ipsim cost for details)",
        per.join(", "),
        r.fails_first.as_deref().unwrap_or("none")
    )
}

/// Integral of a step function over [0, end): value-milliseconds.
fn integral(points: &[(u64, f64)], end: u64) -> f64 {
    let mut sum = 0.0;
    for (k, &(t, v)) in points.iter().enumerate() {
        let until = points.get(k + 1).map_or(end, |p| p.0).min(end);
        if until > t {
            sum += v * (until - t) as f64;
        }
    }
    sum
}

/// Compares the three designs for `s`, whose own run gave `out`.
pub fn compare(s: &Scenario, out: &Output) -> Result<CostReport, String> {
    let c = s.def.cost.clone().unwrap_or_default();
    let prices = Prices::from_def(&c.prices);
    let dur = s.input.duration_ms.max(1);
    let month_factor = prices.hours_per_month * 3_600_000.0 / dur as f64;
    let traffic = traffic(s, &c)?;
    let peak = traffic
        .iter()
        .map(|p| u64::from(p.instances))
        .max()
        .unwrap_or(0);
    let mbps_ms = integral(
        &traffic
            .iter()
            .map(|p| (p.time_ms, f64::from(p.instances)))
            .collect::<Vec<_>>(),
        dur,
    );
    // Mbps x ms -> bytes -> GiB.
    let gib = mbps_ms / 1000.0 * 1e6 / 8.0 / (1u64 << 30) as f64;
    let scenario_conn = s.def.workloads.iter().find_map(|w| match &w.kind {
        ipsim_scenario::def::WorkloadKindDef::Connector(c) => Some(c),
        _ => None,
    });
    let machine = c
        .machine_type
        .or(scenario_conn.and_then(|w| w.machine_type))
        .unwrap_or_default();
    let per = scenario_conn
        .and_then(|w| w.throughput_per_instance)
        .unwrap_or(machine.mbps());
    let min = c
        .min_instances
        .or(scenario_conn.and_then(|w| w.min_instances))
        .unwrap_or(2);
    let max = c
        .max_instances
        .or(scenario_conn.and_then(|w| w.max_instances))
        .unwrap_or(10);
    if !(2..=10).contains(&min) || !(min..=10).contains(&max) {
        return Err(format!(
            "cost: connector instances {min}..{max} must lie within 2..10"
        ));
    }
    // The connector designs: the core's connector carrying the traffic.
    let mut conn = WorkloadSpec::connector("connector", 0, per, min, max);
    if let ipsim_core::Kind::Connector(c) = &mut conn.kind {
        c.demand = traffic.clone();
    }
    let sn = SubnetSpec::new("connector-28", 0x0A00_0000, 28);
    let mut input = SimInput::new(vec![sn], vec![conn], dur);
    input.options.log_limit = 0;
    let co = Simulation::new(&input)
        .map_err(|e| format!("cost: {}", e[0]))?
        .run();
    let cw = &co.workloads[0];
    let inst_ms = integral(
        &cw.rows
            .iter()
            .map(|r| (r.time_ms, f64::from(r.running)))
            .collect::<Vec<_>>(),
        dur,
    );
    let inst_hours = inst_ms / 3_600_000.0;
    let gateway_hours_cost: f64 = {
        let pts: Vec<(u64, f64)> = cw
            .rows
            .iter()
            .map(|r| {
                let vms = r.running;
                let per_hour = if vms <= prices.nat_vm_cap {
                    f64::from(vms) * prices.nat_per_vm_hour
                } else {
                    prices.nat_cap_hour
                };
                (r.time_ms, per_hour)
            })
            .collect();
        integral(&pts, dur) / 3_600_000.0
    };
    let sat = cw.summary.saturation_windows.first().map(|w| w.start_ms);
    let limit = u64::from(max) * u64::from(per);
    let peak_instances = cw.summary.peak_running;
    let conn_cost = inst_hours * prices.connector(machine) * month_factor;
    let hours = dur as f64 / 3_600_000.0;
    let nat_ip = f64::from(c.nat_ips.unwrap_or(1)) * hours * prices.nat_ip_hour * month_factor;
    let nat_gw = gateway_hours_cost * month_factor;
    let nat_data = gib * prices.nat_per_gib * month_factor;
    let zones = f64::from(c.dns_zones.unwrap_or(1));
    let qps = c.dns_queries_per_second.unwrap_or(0.0).max(0.0);
    let queries_month = qps * prices.hours_per_month * 3600.0;
    let dns = zones * prices.dns_zone_month + queries_month / 1e6 * prices.dns_per_million;
    let sat_text = |t: Option<u64>| match t {
        Some(_) => format!("traffic above {limit} Mbps ({max} x {per} Mbps): saturated"),
        None => format!("never above {limit} Mbps"),
    };
    let direct_first = out.summary.first_exhaustion.as_ref().map(|e| e.time_ms);
    let cloud_run_subnets: Vec<usize> = (0..s.input.subnets.len())
        .filter(|&i| {
            s.input
                .workloads
                .iter()
                .any(|w| w.subnet == i && w.tag() != WorkloadKind::Connector)
        })
        .collect();
    let held: u64 = cloud_run_subnets
        .iter()
        .map(|&i| out.subnets[i].summary.peak_held)
        .sum();
    let reserved: u64 = cloud_run_subnets
        .iter()
        .map(|&i| out.subnets[i].summary.peak_reserved)
        .sum();
    let designs = vec![
        Design {
            design: "direct-vpc + dns".into(),
            monthly_usd: dns,
            breakdown: vec![
                ("dns private zones".into(), zones * prices.dns_zone_month),
                (
                    "dns queries".into(),
                    queries_month / 1e6 * prices.dns_per_million,
                ),
            ],
            addresses: reserved,
            addresses_note: format!(
                "{held} held by instances at the peak, {reserved} reserved in /28 blocks, on the services' subnets"
            ),
            throughput_limit_mbps: None,
            first_failure_ms: direct_first,
            failure: match direct_first {
                Some(_) => "subnet exhausted: instances fail to start".into(),
                None => "never exhausted".into(),
            },
        },
        Design {
            design: "connector".into(),
            monthly_usd: conn_cost,
            breakdown: vec![(
                format!(
                    "{} instance-hours ({})",
                    machine.name(),
                    fmt_num(inst_hours * month_factor)
                ),
                conn_cost,
            )],
            addresses: 16,
            addresses_note: format!(
                "a dedicated /28 (12 usable), {peak_instances} used at the peak; the services take none"
            ),
            throughput_limit_mbps: Some(limit),
            first_failure_ms: sat,
            failure: sat_text(sat),
        },
        Design {
            design: "connector + cloud nat".into(),
            monthly_usd: conn_cost + nat_gw + nat_ip + nat_data,
            breakdown: vec![
                (format!("{} instance-hours", machine.name()), conn_cost),
                ("nat gateway".into(), nat_gw),
                ("nat ip".into(), nat_ip),
                (
                    format!("nat data processing ({} GiB)", fmt_num(gib * month_factor)),
                    nat_data,
                ),
            ],
            addresses: 16,
            addresses_note: "the connector's /28; NAT needs no subnet addresses".into(),
            throughput_limit_mbps: Some(limit),
            first_failure_ms: sat,
            failure: sat_text(sat),
        },
    ];
    let fails_first = designs
        .iter()
        .filter_map(|d| d.first_failure_ms.map(|t| (t, d.design.clone())))
        .min()
        .map(|(_, d)| d);
    Ok(CostReport {
        peak_traffic_mbps: peak,
        traffic_gib_per_month: gib * month_factor,
        connector: format!(
            "{} x {min}..{max} instances, {per} Mbps each",
            machine.name()
        ),
        designs,
        fails_first,
        prices,
    })
}

fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The human table of `ipsim cost`.
pub fn cost_text(r: &CostReport, clock: &dyn Fn(u64) -> String) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "egress designs for {} Mbps at peak, {} GiB a month; connector: {}\n\n",
        r.peak_traffic_mbps,
        fmt_num(r.traffic_gib_per_month),
        r.connector
    ));
    o.push_str(&format!(
        "{:<24} {:>12} {:>10} {:>16} {:<28}\n",
        "design", "USD/month", "addresses", "throughput", "first failure"
    ));
    for d in &r.designs {
        let limit = d
            .throughput_limit_mbps
            .map_or("no connector".to_string(), |l| format!("{l} Mbps"));
        let fail = d.first_failure_ms.map_or("none".to_string(), |t| {
            format!("{} ({})", clock(t), d.failure)
        });
        o.push_str(&format!(
            "{:<24} {:>12.2} {:>10} {:>16} {:<28}\n",
            d.design, d.monthly_usd, d.addresses, limit, fail
        ));
        for (what, usd) in &d.breakdown {
            o.push_str(&format!("    {what}: {usd:.2}\n"));
        }
        o.push_str(&format!("    addresses: {}\n", d.addresses_note));
    }
    o.push('\n');
    match &r.fails_first {
        Some(d) => o.push_str(&format!("fails first: {d}\n")),
        None => o.push_str("no design fails on this traffic\n"),
    }
    o.push_str(&format!(
        "prices of {} (USD; see docs/connectors.md)\n",
        r.prices.date
    ));
    o
}
