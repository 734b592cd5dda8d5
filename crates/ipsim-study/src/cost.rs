//! The egress cost comparison: Direct VPC egress and a Serverless VPC Access connector, each
//! with Cloud NAT when internet-bound traffic goes through the VPC, for the scenario's
//! traffic.
//!
//! Every design carries the same traffic (Mbps over time, `cost.traffic` or the connectors'
//! demand) and is priced on the same lines ([`Lines`]): connector instance-hours, Cloud NAT
//! (gateway, IPs, data processing), Cloud DNS (private zones, queries) and internet egress;
//! a line that does not apply to a design is there at $0 with the reason. The connector
//! designs' instances come from running the traffic they carry through the core's connector
//! (scale out on throughput, never in). Costs are summed over the run and scaled to a month
//! (730 hours by default), as if the run's profile repeated, and rounded to cents. Prices are
//! parameters; the defaults and their public sources are in [`Prices::sources`] and
//! docs/connectors.md.

use std::collections::BTreeMap;

use ipsim_core::{
    DemandPoint, Output, RowSink, SimInput, Simulation, SubnetRow, SubnetSpec, WorkloadKind,
    WorkloadRow, WorkloadSpec,
};
use serde::{Deserialize, Serialize};

use ipsim_scenario::Scenario;
use ipsim_scenario::def::{CostDef, DemandDef, MachineDef, PricesDef};
use ipsim_scenario::demand;

/// The date the default prices were taken.
pub const PRICES_DATE: &str = "2026-11-21";

/// The hours a month may have: `hours_per_month` must lie in this range.
pub const HOURS_PER_MONTH: std::ops::RangeInclusive<f64> = 1.0..=744.0;

/// Public sources of the default prices: `cost.prices` parameter -> URL (docs/connectors.md
/// says what each page gives and how sure it is).
pub const SOURCES: [(&str, &str); 10] = [
    ("f1_micro_hour", BLOG),
    (
        "e2_micro_hour",
        "https://cloud.google.com/compute/vm-instance-pricing",
    ),
    ("e2_standard_4_hour", BLOG),
    ("nat_per_vm_hour", NAT),
    ("nat_cap_hour", NAT),
    ("nat_vm_cap", NAT),
    ("nat_per_gib", NAT),
    ("nat_ip_hour", NAT),
    ("dns_zone_month", DNS),
    ("dns_per_million", DNS),
];
const BLOG: &str =
    "https://cloud.google.com/blog/products/serverless/announcing-direct-vpc-egress-for-cloud-run";
const NAT: &str = "https://cloud.google.com/nat/pricing";
const DNS: &str = "https://cloud.google.com/dns/pricing";
/// Where internet egress prices are, for a caller that prices it.
pub const INTERNET_EGRESS_SOURCE: &str = "https://cloud.google.com/vpc/network-pricing";

/// Prices in USD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    /// When the defaults were taken.
    pub date: String,
    /// Connector instance per hour: f1-micro, e2-micro, e2-standard-4.
    pub connector_hour: ConnectorHour,
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
    /// Internet egress per GiB; `None`: left out (the same bytes leave Google in every
    /// design, so it does not change the comparison).
    pub internet_egress_per_gib: Option<f64>,
    /// Hours per month, within [`HOURS_PER_MONTH`].
    pub hours_per_month: f64,
    /// Where each default comes from: price parameter -> public URL.
    pub sources: BTreeMap<String, String>,
}

/// Connector instance prices per hour, by machine type.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConnectorHour {
    /// f1-micro.
    pub f1_micro: f64,
    /// e2-micro.
    pub e2_micro: f64,
    /// e2-standard-4.
    pub e2_standard_4: f64,
}

/// Where the scenario's Cloud Run egress goes through the VPC (Cloud Run's `--vpc-egress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Egress {
    /// Only traffic to private ranges goes through the VPC; internet-bound traffic leaves
    /// Cloud Run directly, needing no NAT (Cloud Run's default).
    #[default]
    PrivateRangesOnly,
    /// All traffic goes through the VPC; internet-bound traffic needs Cloud NAT.
    AllTraffic,
}

/// Where the traffic goes and what internet egress costs: the scenario file's `cost.egress`,
/// `cost.internet_share` and `cost.prices.internet_egress_per_gib` ([`options`]), or a
/// caller's, for [`compare_with`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostOptions {
    /// Where the egress goes.
    pub egress: Egress,
    /// The share of the traffic bound for the internet, 0 to 1.
    pub internet_share: f64,
    /// Internet egress per GiB (`None`: left out).
    pub internet_egress_per_gib: Option<f64>,
}

impl Default for CostOptions {
    fn default() -> CostOptions {
        CostOptions {
            egress: Egress::PrivateRangesOnly,
            internet_share: 0.0,
            internet_egress_per_gib: None,
        }
    }
}

impl Prices {
    /// The defaults, overridden by `p`; every price must be finite and 0 or more, and
    /// `hours_per_month` within [`HOURS_PER_MONTH`].
    pub fn from_def(p: &PricesDef) -> Result<Prices, String> {
        let prices = Prices {
            date: PRICES_DATE.into(),
            connector_hour: ConnectorHour {
                f1_micro: p.f1_micro_hour.unwrap_or(0.0096),
                e2_micro: p.e2_micro_hour.unwrap_or(0.0084),
                e2_standard_4: p.e2_standard_4_hour.unwrap_or(0.1712),
            },
            nat_per_vm_hour: p.nat_per_vm_hour.unwrap_or(0.0014),
            nat_cap_hour: p.nat_cap_hour.unwrap_or(0.044),
            nat_vm_cap: p.nat_vm_cap.unwrap_or(32),
            nat_per_gib: p.nat_per_gib.unwrap_or(0.045),
            nat_ip_hour: p.nat_ip_hour.unwrap_or(0.005),
            dns_zone_month: p.dns_zone_month.unwrap_or(0.20),
            dns_per_million: p.dns_per_million.unwrap_or(0.40),
            internet_egress_per_gib: None,
            hours_per_month: p.hours_per_month.unwrap_or(730.0),
            sources: SOURCES
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let named = [
            ("f1_micro_hour", prices.connector_hour.f1_micro),
            ("e2_micro_hour", prices.connector_hour.e2_micro),
            ("e2_standard_4_hour", prices.connector_hour.e2_standard_4),
            ("nat_per_vm_hour", prices.nat_per_vm_hour),
            ("nat_cap_hour", prices.nat_cap_hour),
            ("nat_per_gib", prices.nat_per_gib),
            ("nat_ip_hour", prices.nat_ip_hour),
            ("dns_zone_month", prices.dns_zone_month),
            ("dns_per_million", prices.dns_per_million),
        ];
        if let Some((k, v)) = named.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
            return Err(format!(
                "cost.prices.{k}: {v} is not a price (a number of USD, 0 or more)"
            ));
        }
        let h = prices.hours_per_month;
        if !HOURS_PER_MONTH.contains(&h) {
            return Err(format!(
                "cost.prices.hours_per_month: {h} is outside {}..={} (the hours of a month; 730 is the average)",
                HOURS_PER_MONTH.start(),
                HOURS_PER_MONTH.end()
            ));
        }
        Ok(prices)
    }

    fn connector(&self, m: MachineDef) -> f64 {
        match m {
            MachineDef::F1Micro => self.connector_hour.f1_micro,
            MachineDef::E2Micro => self.connector_hour.e2_micro,
            MachineDef::E2Standard4 => self.connector_hour.e2_standard_4,
        }
    }

    /// The NAT gateway's price per hour for `vms` assigned VMs.
    fn gateway_hour(&self, vms: u64) -> f64 {
        if vms <= u64::from(self.nat_vm_cap) {
            vms as f64 * self.nat_per_vm_hour
        } else {
            self.nat_cap_hour
        }
    }
}

/// One line of a design's monthly cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    /// USD per month, rounded to cents (0 when the line does not apply).
    pub usd_per_month: f64,
    /// What is paid for, per month, in `unit` (rounded to 2 decimals).
    pub quantity_per_month: f64,
    /// The unit of `quantity_per_month`.
    pub unit: String,
    /// Whether the line applies to this design.
    pub applies: bool,
    /// How it is priced, or why it does not apply.
    pub note: String,
}

/// A design's cost lines: every design has all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lines {
    /// Connector VM instance-hours (Cloud Run's own instances cost the same in every design
    /// and are left out).
    pub connector_instances: CostLine,
    /// Cloud NAT gateway uptime, per assigned VM-hour up to the cap.
    pub nat_gateway: CostLine,
    /// Cloud NAT external IP hours.
    pub nat_ips: CostLine,
    /// Cloud NAT data processing, per GiB of internet-bound traffic.
    pub nat_data_processing: CostLine,
    /// Cloud DNS private zones.
    pub dns_zones: CostLine,
    /// Cloud DNS queries.
    pub dns_queries: CostLine,
    /// Internet egress, per GiB (left out unless priced: the same in every design).
    pub internet_egress: CostLine,
}

impl Lines {
    fn all(&self) -> [(&'static str, &CostLine); 7] {
        [
            ("connector instances", &self.connector_instances),
            ("nat gateway", &self.nat_gateway),
            ("nat ips", &self.nat_ips),
            ("nat data processing", &self.nat_data_processing),
            ("dns zones", &self.dns_zones),
            ("dns queries", &self.dns_queries),
            ("internet egress", &self.internet_egress),
        ]
    }

    fn total(&self) -> f64 {
        cents(self.all().iter().map(|(_, l)| l.usd_per_month).sum())
    }
}

/// One design's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    /// Name.
    pub design: String,
    /// Monthly cost, USD, rounded to cents: the sum of its lines.
    pub monthly_usd: f64,
    /// What the cost is made of.
    pub lines: Lines,
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
    /// Traffic per month, GiB (2 decimals).
    pub traffic_gib_per_month: f64,
    /// Of which bound for the internet, GiB per month (2 decimals).
    pub internet_gib_per_month: f64,
    /// Where the egress goes.
    pub egress: Egress,
    /// The share of the traffic bound for the internet.
    pub internet_share: f64,
    /// The connector designs' machine type and instance limits.
    pub connector: String,
    /// The designs: Direct VPC egress and the connector, each "+ cloud nat" when
    /// internet-bound traffic goes through the VPC.
    pub designs: Vec<Design>,
    /// The design that fails first, if any fails.
    pub fails_first: Option<String>,
    /// What no design is charged for, and why.
    pub left_out: Vec<String>,
    /// Prices used.
    pub prices: Prices,
}

/// Rounds USD to cents.
fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The time the scenario's Cloud Run instances (every workload but connectors, together)
/// spent at each count of running instances: what Cloud NAT's per-VM gateway price needs for
/// the Direct VPC design. A [`RowSink`], so that `ipsim run` fills it as rows stream;
/// [`InstanceTime::from_output`] takes it from an output that kept its rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceTime {
    counted: Vec<bool>,
    running: Vec<u32>,
    sum: u64,
    last_ms: u64,
    /// Milliseconds at each count of running instances.
    at: BTreeMap<u64, u64>,
}

impl InstanceTime {
    /// An empty tally for the workloads of `input`.
    pub fn new(input: &SimInput) -> InstanceTime {
        let counted: Vec<bool> = input
            .workloads
            .iter()
            .map(|w| w.tag() != WorkloadKind::Connector)
            .collect();
        InstanceTime {
            running: vec![0; counted.len()],
            counted,
            ..InstanceTime::default()
        }
    }

    /// The tally of a run whose output kept its workload rows.
    pub fn from_output(input: &SimInput, out: &Output) -> InstanceTime {
        let mut t = InstanceTime::new(input);
        let mut rows: Vec<(u64, usize, &WorkloadRow)> = out
            .workloads
            .iter()
            .enumerate()
            .flat_map(|(w, wo)| wo.rows.iter().map(move |r| (r.time_ms, w, r)))
            .collect();
        rows.sort_by_key(|r| (r.0, r.1));
        for (_, w, r) in rows {
            t.workload_row(w, r);
        }
        t
    }

    fn advance(&mut self, t: u64) {
        if t > self.last_ms {
            *self.at.entry(self.sum).or_default() += t - self.last_ms;
            self.last_ms = t;
        }
    }

    /// (instance-hours, NAT gateway cost) over `[0, end)`.
    fn gateway(&self, end: u64, prices: &Prices) -> (f64, f64) {
        let mut at = self.at.clone();
        if end > self.last_ms {
            *at.entry(self.sum).or_default() += end - self.last_ms;
        }
        let hours = |ms: u64| ms as f64 / 3_600_000.0;
        let inst: f64 = at.iter().map(|(&n, &ms)| n as f64 * hours(ms)).sum();
        let usd: f64 = at
            .iter()
            .map(|(&n, &ms)| prices.gateway_hour(n) * hours(ms))
            .sum();
        (inst, usd)
    }
}

impl RowSink for InstanceTime {
    fn subnet_row(&mut self, _subnet: usize, _row: &SubnetRow) {}

    fn workload_row(&mut self, workload: usize, row: &WorkloadRow) {
        if !self.counted.get(workload).copied().unwrap_or(false) {
            return;
        }
        self.advance(row.time_ms);
        self.sum = self.sum - u64::from(self.running[workload]) + u64::from(row.running);
        self.running[workload] = row.running;
    }
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
    // One cursor per connector over its points: linear in the points, not quadratic.
    let series: Vec<&[DemandPoint]> = conns
        .iter()
        .map(|w| w.kind.demand().unwrap_or(&[]))
        .collect();
    let mut next = vec![0usize; series.len()];
    let mut now = vec![0u32; series.len()];
    let mut out: Vec<DemandPoint> = Vec::new();
    for t in times {
        for (k, pts) in series.iter().enumerate() {
            while let Some(p) = pts.get(next[k]).filter(|p| p.time_ms <= t) {
                now[k] = p.instances;
                next[k] += 1;
            }
        }
        let v: u32 = now.iter().fold(0u32, |a, &b| a.saturating_add(b));
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

/// The options a scenario gives (the defaults: see [`CostOptions`]).
pub fn options(s: &Scenario) -> CostOptions {
    let c = s.def.cost.clone().unwrap_or_default();
    CostOptions {
        egress: match c.egress {
            Some(ipsim_scenario::def::EgressDef::AllTraffic) => Egress::AllTraffic,
            Some(ipsim_scenario::def::EgressDef::PrivateRangesOnly) | None => {
                Egress::PrivateRangesOnly
            }
        },
        internet_share: c.internet_share.unwrap_or(0.0),
        internet_egress_per_gib: c.prices.internet_egress_per_gib,
    }
}

/// Compares the designs for `s`, whose own run gave `out` with its workload rows kept (as
/// `Scenario::run` does), with the scenario's [`options`].
pub fn compare(s: &Scenario, out: &Output) -> Result<CostReport, String> {
    let it = InstanceTime::from_output(&s.input, out);
    compare_with(s, out, &options(s), &it)
}

/// Compares the designs for `s`, whose run gave `out` and the instance tally `it`.
pub fn compare_with(
    s: &Scenario,
    out: &Output,
    opts: &CostOptions,
    it: &InstanceTime,
) -> Result<CostReport, String> {
    let c = s.def.cost.clone().unwrap_or_default();
    let mut prices = Prices::from_def(&c.prices)?;
    if let Some(p) = opts.internet_egress_per_gib {
        if !(p.is_finite() && p >= 0.0) {
            return Err(format!("internet egress price {p} is not 0 or more"));
        }
        prices.internet_egress_per_gib = Some(p);
        prices.sources.insert(
            "internet_egress_per_gib".into(),
            INTERNET_EGRESS_SOURCE.into(),
        );
    }
    let share = opts.internet_share;
    if !(0.0..=1.0).contains(&share) {
        return Err(format!("internet share {share} is not from 0 to 1"));
    }
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
    // Mbps x ms -> bytes -> GiB, per month.
    let gib = mbps_ms / 1000.0 * 1e6 / 8.0 / (1u64 << 30) as f64 * month_factor;
    let internet_gib = gib * share;
    // Internet-bound traffic through the VPC: NAT in every design.
    let nat = opts.egress == Egress::AllTraffic && share > 0.0;
    // What a connector carries: everything under all-traffic, else the private part.
    let carried: Vec<DemandPoint> = match opts.egress {
        Egress::AllTraffic => traffic.clone(),
        Egress::PrivateRangesOnly => traffic
            .iter()
            .map(|p| DemandPoint {
                time_ms: p.time_ms,
                instances: (f64::from(p.instances) * (1.0 - share)).ceil() as u32,
            })
            .collect(),
    };
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
    // The connector designs: the core's connector carrying their traffic.
    let mut conn = WorkloadSpec::connector("connector", 0, per, min, max);
    if let ipsim_core::Kind::Connector(c) = &mut conn.kind {
        c.demand = carried;
    }
    let sn = SubnetSpec::new("connector-28", 0x0A00_0000, 28);
    let mut input = SimInput::new(vec![sn], vec![conn], dur);
    input.options.log_limit = 0;
    let co = Simulation::new(&input)
        .map_err(|e| format!("cost: {}", e[0]))?
        .run();
    let cw = &co.workloads[0];
    let conn_it = {
        let mut t = InstanceTime {
            counted: vec![true],
            running: vec![0],
            ..InstanceTime::default()
        };
        for r in &cw.rows {
            t.workload_row(0, r);
        }
        t
    };
    let (conn_inst_hours, conn_gateway) = conn_it.gateway(dur, &prices);
    let (cr_inst_hours, cr_gateway) = it.gateway(dur, &prices);
    let sat = cw.summary.saturation_windows.first().map(|w| w.start_ms);
    let limit = u64::from(max) * u64::from(per);
    let peak_instances = cw.summary.peak_running;
    let hours = dur as f64 / 3_600_000.0;
    let n_ips = f64::from(c.nat_ips.unwrap_or(1));
    let zones = f64::from(c.dns_zones.unwrap_or(1));
    let qps = c.dns_queries_per_second.unwrap_or(0.0).max(0.0);
    let queries_month = qps * prices.hours_per_month * 3600.0;

    let line = |usd: f64, qty: f64, unit: &str, note: String| CostLine {
        usd_per_month: cents(usd),
        quantity_per_month: cents(qty),
        unit: unit.into(),
        applies: true,
        note,
    };
    let none = |unit: &str, note: &str| CostLine {
        usd_per_month: 0.0,
        quantity_per_month: 0.0,
        unit: unit.into(),
        applies: false,
        note: note.into(),
    };
    // Lines every design shares: DNS (the services resolve the same names whichever way
    // their packets leave), NAT IPs and data processing, internet egress.
    let dns_zones = line(
        zones * prices.dns_zone_month,
        zones,
        "zone-months",
        format!("${} per private zone a month", prices.dns_zone_month),
    );
    let dns_queries = line(
        queries_month / 1e6 * prices.dns_per_million,
        queries_month / 1e6,
        "million queries",
        format!(
            "{qps} queries a second at ${} per million",
            prices.dns_per_million
        ),
    );
    let no_nat = if opts.egress == Egress::AllTraffic {
        "no internet-bound traffic, so no Cloud NAT"
    } else {
        "egress private-ranges-only: internet-bound traffic leaves Cloud Run directly, without NAT"
    };
    let nat_lines = |vm_hours: f64, gateway: f64, vms: &str| {
        if nat {
            (
                line(
                    gateway * month_factor,
                    vm_hours * month_factor,
                    "VM-hours",
                    format!(
                        "{vms}: ${} per VM-hour up to {} VMs, then ${} an hour",
                        prices.nat_per_vm_hour, prices.nat_vm_cap, prices.nat_cap_hour
                    ),
                ),
                line(
                    n_ips * hours * prices.nat_ip_hour * month_factor,
                    n_ips * hours * month_factor,
                    "IP-hours",
                    format!("{n_ips} NAT IP(s) at ${} an hour", prices.nat_ip_hour),
                ),
                line(
                    internet_gib * prices.nat_per_gib,
                    internet_gib,
                    "GiB",
                    format!(
                        "the internet-bound {}% of the traffic at ${} per GiB",
                        share * 100.0,
                        prices.nat_per_gib
                    ),
                ),
            )
        } else {
            (
                none("VM-hours", no_nat),
                none("IP-hours", no_nat),
                none("GiB", no_nat),
            )
        }
    };
    let internet_egress = match prices.internet_egress_per_gib {
        _ if internet_gib == 0.0 => none("GiB", "no internet-bound traffic"),
        Some(p) => line(
            internet_gib * p,
            internet_gib,
            "GiB",
            format!("${p} per GiB, the same in every design"),
        ),
        None => CostLine {
            usd_per_month: 0.0,
            quantity_per_month: cents(internet_gib),
            unit: "GiB".into(),
            applies: true,
            note: "left out: the same bytes leave Google in every design".into(),
        },
    };
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
    let suffix = if nat { " + cloud nat" } else { "" };
    let (gw, ips, data) = nat_lines(
        cr_inst_hours,
        cr_gateway,
        "Cloud Run instances counted as VMs (ipsim's reading: the pricing page does not say)",
    );
    let direct_lines = Lines {
        connector_instances: none("instance-hours", "no connector: Direct VPC egress"),
        nat_gateway: gw,
        nat_ips: ips,
        nat_data_processing: data,
        dns_zones: dns_zones.clone(),
        dns_queries: dns_queries.clone(),
        internet_egress: internet_egress.clone(),
    };
    let (gw, ips, data) = nat_lines(conn_inst_hours, conn_gateway, "the connector's VMs");
    let conn_lines = Lines {
        connector_instances: line(
            conn_inst_hours * prices.connector(machine) * month_factor,
            conn_inst_hours * month_factor,
            "instance-hours",
            format!(
                "{} at ${} an hour",
                machine.name(),
                prices.connector(machine)
            ),
        ),
        nat_gateway: gw,
        nat_ips: ips,
        nat_data_processing: data,
        dns_zones,
        dns_queries,
        internet_egress,
    };
    let designs = vec![
        Design {
            design: format!("direct-vpc{suffix}"),
            monthly_usd: direct_lines.total(),
            lines: direct_lines,
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
            design: format!("connector{suffix}"),
            monthly_usd: conn_lines.total(),
            lines: conn_lines,
            addresses: 16,
            addresses_note: format!(
                "a dedicated /28 (12 usable), {peak_instances} used at the peak; the services take none{}",
                if nat {
                    "; NAT needs no subnet addresses"
                } else {
                    ""
                }
            ),
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
    let mut left_out = vec![
        "Cloud Run's own instance-hours: the same in every design".to_string(),
        "DNS queries beyond a billion a month: priced at the first tier".to_string(),
    ];
    if prices.internet_egress_per_gib.is_none() {
        left_out.push(
            "internet egress: the same bytes leave Google in every design (price it to see it)"
                .into(),
        );
    }
    Ok(CostReport {
        peak_traffic_mbps: peak,
        traffic_gib_per_month: cents(gib),
        internet_gib_per_month: cents(internet_gib),
        egress: opts.egress,
        internet_share: share,
        connector: format!(
            "{} x {min}..{max} instances, {per} Mbps each",
            machine.name()
        ),
        designs,
        fails_first,
        left_out,
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
        "egress designs for {} Mbps at peak, {} GiB a month ({} GiB internet-bound, egress {}); connector: {}\n\n",
        r.peak_traffic_mbps,
        fmt_num(r.traffic_gib_per_month),
        fmt_num(r.internet_gib_per_month),
        match r.egress {
            Egress::PrivateRangesOnly => "private-ranges-only",
            Egress::AllTraffic => "all-traffic",
        },
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
        for (what, l) in d.lines.all() {
            if l.applies {
                o.push_str(&format!(
                    "    {what}: {:.2} ({} {}; {})\n",
                    l.usd_per_month,
                    fmt_num(l.quantity_per_month),
                    l.unit,
                    l.note
                ));
            } else {
                o.push_str(&format!("    {what}: n/a ({})\n", l.note));
            }
        }
        o.push_str(&format!("    addresses: {}\n", d.addresses_note));
    }
    o.push('\n');
    match &r.fails_first {
        Some(d) => o.push_str(&format!("fails first: {d}\n")),
        None => o.push_str("no design fails on this traffic\n"),
    }
    for l in &r.left_out {
        o.push_str(&format!("left out: {l}\n"));
    }
    o.push_str(&format!(
        "prices of {} (USD; sources in docs/connectors.md and the JSON's prices.sources)\n",
        r.prices.date
    ));
    o
}
