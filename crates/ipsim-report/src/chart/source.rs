//! Where a chart's rows come from: a run's saved CSV files, streamed row by row, or the run
//! itself, through a [`ChartSink`] that fills the pixel columns while the run goes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ipsim_core::{RowSink, SimInput, SubnetInfo, SubnetRow, WorkloadRow};

use super::columns::{Columns, Frontier, HeldSteps, Sweep};
use super::{ChartError, ChartOptions, err, plot_columns, stack_order, time_range};
use crate::Report;
use crate::schema::{OccupancyCol, WorkloadCol};

/// One subnet's occupancy columns: the stacked levels' maxima and the fewest free blocks.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Occupancy {
    /// Column maxima of static, + in use, + retained, + reserved idle.
    pub(super) levels: Vec<Vec<f64>>,
    /// Column minima of the reservable /28 blocks nobody holds (`None` before the first row).
    pub(super) free_blocks: Vec<Option<f64>>,
}

/// Columns that keep the fewest free blocks, as maxima of their negation.
fn free_columns(sweep: &Sweep) -> Columns {
    Columns::starting_at(sweep.from, sweep.to, sweep.n, 1, f64::NEG_INFINITY)
}

fn free_minima(c: &Columns) -> Vec<Option<f64>> {
    c.levels[0]
        .iter()
        .map(|&v| v.is_finite().then_some(-v))
        .collect()
}

/// The two lines a workload row gives the instances panel: its running count and what it
/// wanted (running + pending); for a connector, the throughput its VMs carry and its demand, in
/// Mbps (the demand above the capacity is what saturates).
fn line_values(
    connector: bool,
    running: f64,
    pending: f64,
    demand: f64,
    capacity: f64,
) -> [f64; 2] {
    if connector {
        [capacity, demand]
    } else {
        [running, running + pending]
    }
}

/// The rows a chart is drawn from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The `occupancy.csv` and `workloads.csv` of a run's output folder, streamed row by row
    /// (`ipsim chart DIR`, any time range).
    Files(&'a Path),
    /// The pixel columns a [`ChartSink`] filled during the run (`ipsim run`).
    Run(&'a RunColumns),
}

/// The occupancy levels of one subnet's state: static, + in use, + retained, + reserved idle.
fn occupancy_levels(st: f64, in_use: f64, retained: f64, idle: f64) -> [f64; 4] {
    let a = st + in_use;
    let b = a + retained;
    [st, a, b, b + idle]
}

impl Source<'_> {
    /// Column maxima of subnet `i`'s (named `subnet`) occupancy levels over `sweep`'s columns.
    pub(super) fn occupancy(
        &self,
        i: usize,
        subnet: &str,
        sweep: &Sweep,
    ) -> Result<Occupancy, ChartError> {
        match self {
            Source::Files(dir) => {
                let mut cols = Columns::new(sweep.from, sweep.to, sweep.n, 4);
                let mut free = free_columns(sweep);
                occupancy_columns(&dir.join(OccupancyCol::FILE), subnet, &mut cols, &mut free)?;
                Ok(Occupancy {
                    levels: cols.levels,
                    free_blocks: free_minima(&free),
                })
            }
            Source::Run(run) => {
                let s = run.subnet(i, subnet, sweep)?;
                Ok(Occupancy {
                    levels: s.occupancy.levels.clone(),
                    free_blocks: free_minima(&s.free),
                })
            }
        }
    }

    /// Per workload of `names` (of subnet `i`), the column maxima of its running count and of
    /// what it wanted: its desired count (running + pending); or, for a connector (`connectors`,
    /// one per name), of the throughput its VMs carry and of its demand, in Mbps. (A run's
    /// columns are in these units already: its [`ChartSink`] knew each workload's kind.)
    pub(super) fn lines(
        &self,
        i: usize,
        subnet: &str,
        names: &[String],
        connectors: &[bool],
        sweep: &Sweep,
    ) -> Result<Vec<Vec<Vec<f64>>>, ChartError> {
        match self {
            Source::Files(dir) => {
                let mut cols = vec![Columns::new(sweep.from, sweep.to, sweep.n, 2); names.len()];
                let path = dir.join(WorkloadCol::FILE);
                line_columns(&path, subnet, names, connectors, &mut cols)?;
                Ok(cols.into_iter().map(|c| c.levels).collect())
            }
            Source::Run(run) => {
                let s = run.subnet(i, subnet, sweep)?;
                names
                    .iter()
                    .map(|n| {
                        s.lines
                            .iter()
                            .find(|(w, _)| w == n)
                            .map(|(_, c)| c.levels.clone())
                            .ok_or_else(|| {
                                err(format!(
                                    "the run kept no instance columns for workload {n} of \
                                     subnet {subnet}; gather them again with ChartSink::stacked"
                                ))
                            })
                    })
                    .collect()
            }
        }
    }

    /// Column maxima of the held addresses of subnet `i`'s workloads, stacked in `order`, the
    /// rest summed as "other" on top.
    pub(super) fn workloads(
        &self,
        i: usize,
        subnet: &str,
        order: &[String],
        sweep: &Sweep,
    ) -> Result<Vec<Vec<f64>>, ChartError> {
        match self {
            Source::Files(dir) => {
                let mut cols = Columns::new(sweep.from, sweep.to, sweep.n, order.len() + 1);
                workload_columns(&dir.join(WorkloadCol::FILE), subnet, order, &mut cols)?;
                Ok(cols.levels)
            }
            Source::Run(run) => {
                let s = run.subnet(i, subnet, sweep)?;
                match &s.held {
                    Held::Frontier(f) => {
                        let slot_of: Vec<usize> = s
                            .workloads
                            .iter()
                            .map(|w| order.iter().position(|o| o == w).unwrap_or(order.len()))
                            .collect();
                        Ok(f.levels(&slot_of, order.len() + 1))
                    }
                    Held::Stacked { order: o, cols, .. } if o == order => Ok(cols.levels.clone()),
                    Held::Stacked { .. } => Err(err(format!(
                        "the run's workload columns of subnet {subnet} are stacked in another order"
                    ))),
                    Held::Dropped => Err(err(format!(
                        "the run's workload columns of subnet {subnet} outgrew their budget; \
                         gather them again with ChartSink::stacked"
                    ))),
                }
            }
        }
    }
}

fn open_csv(path: &Path) -> Result<csv::Reader<BufReader<File>>, ChartError> {
    let f = File::open(path).map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(BufReader::new(f)))
}

/// A saved CSV file, read row by row, its columns found by their names in the schema.
struct CsvRows {
    path: PathBuf,
    reader: csv::Reader<BufReader<File>>,
    header: csv::StringRecord,
}

impl CsvRows {
    fn open(path: &Path) -> Result<Self, ChartError> {
        let mut reader = open_csv(path)?;
        let header = reader
            .headers()
            .map_err(|e| err(format!("{}: {e}", path.display())))?
            .clone();
        if header.iter().all(str::is_empty) {
            return Err(err(format!(
                "{} is empty, not even its header: the run that wrote it did not finish; \
                 run the scenario again",
                path.display()
            )));
        }
        Ok(CsvRows {
            path: path.to_path_buf(),
            reader,
            header,
        })
    }

    fn col(&self, name: &str) -> Result<usize, ChartError> {
        self.header
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| err(format!("{} has no column {name}", self.path.display())))
    }

    /// Calls `f` with each row, in file order.
    fn each(
        mut self,
        mut f: impl FnMut(&csv::StringRecord, &Path) -> Result<(), ChartError>,
    ) -> Result<(), ChartError> {
        let mut rec = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut rec) {
                Ok(true) => f(&rec, &self.path)?,
                Ok(false) => return Ok(()),
                Err(e) => return Err(err(format!("{}: {e}", self.path.display()))),
            }
        }
    }
}

/// Column `i` of `rec`: a finite number of at most 2^53 (the CSVs hold counts and
/// milliseconds; NaN, infinities and negative values are refused).
fn num(rec: &csv::StringRecord, i: usize, path: &Path) -> Result<f64, ChartError> {
    rec.get(i)
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && (0.0..=9_007_199_254_740_992.0).contains(v))
        .ok_or_else(|| {
            err(format!(
                "{}:{}: column {} is not a count: {}",
                path.display(),
                rec.position().map_or(0, |p| p.line()),
                i + 1,
                excerpt(rec.get(i).unwrap_or(""))
            ))
        })
}

/// At most 40 characters of `s`, quoted, for an error message.
fn excerpt(s: &str) -> String {
    let mut e: String = s.chars().take(40).collect();
    if e.len() < s.len() {
        e.push_str("...");
    }
    format!("{e:?}")
}

/// Occupancy levels of one subnet from `occupancy.csv`.
fn occupancy_columns(
    path: &Path,
    subnet: &str,
    cols: &mut Columns,
    free: &mut Columns,
) -> Result<(), ChartError> {
    let rows = CsvRows::open(path)?;
    let cfb = rows.col(OccupancyCol::FreeBlocks.name())?;
    let (ct, cs, cst, ciu, cre, cid) = (
        rows.col(OccupancyCol::TimeMs.name())?,
        rows.col(OccupancyCol::Subnet.name())?,
        rows.col(OccupancyCol::Static.name())?,
        rows.col(OccupancyCol::InUse.name())?,
        rows.col(OccupancyCol::Retained.name())?,
        rows.col(OccupancyCol::ReservedIdle.name())?,
    );
    rows.each(|rec, path| {
        if rec.get(cs) != Some(subnet) {
            return Ok(());
        }
        let t = num(rec, ct, path)? as u64;
        let levels = occupancy_levels(
            num(rec, cst, path)?,
            num(rec, ciu, path)?,
            num(rec, cre, path)?,
            num(rec, cid, path)?,
        );
        cols.set(t, &levels);
        free.set(t, &[-num(rec, cfb, path)?]);
        Ok(())
    })?;
    cols.finish();
    free.finish();
    Ok(())
}

/// Running and wanted counts of the workloads `names` of a subnet from `workloads.csv`, or a
/// connector's capacity and demand in Mbps (a file without the throughput columns, written
/// before they existed, reads 0 for them).
fn line_columns(
    path: &Path,
    subnet: &str,
    names: &[String],
    connectors: &[bool],
    cols: &mut [Columns],
) -> Result<(), ChartError> {
    let rows = CsvRows::open(path)?;
    let (ct, cw, cs, cr, cp) = (
        rows.col(WorkloadCol::TimeMs.name())?,
        rows.col(WorkloadCol::Workload.name())?,
        rows.col(WorkloadCol::Subnet.name())?,
        rows.col(WorkloadCol::Running.name())?,
        rows.col(WorkloadCol::Pending.name())?,
    );
    let (cd, cc) = (
        rows.col(WorkloadCol::DemandMbps.name()).ok(),
        rows.col(WorkloadCol::CapacityMbps.name()).ok(),
    );
    rows.each(|rec, path| {
        if rec.get(cs) != Some(subnet) {
            return Ok(());
        }
        let Some(k) = names.iter().position(|n| Some(n.as_str()) == rec.get(cw)) else {
            return Ok(());
        };
        let opt = |c: Option<usize>| c.map_or(Ok(0.0), |c| num(rec, c, path));
        let (r, p) = (num(rec, cr, path)?, num(rec, cp, path)?);
        let connector = connectors.get(k).copied().unwrap_or(false);
        let v = line_values(connector, r, p, opt(cd)?, opt(cc)?);
        cols[k].set(num(rec, ct, path)? as u64, &v);
        Ok(())
    })?;
    cols.iter_mut().for_each(Columns::finish);
    Ok(())
}

/// Held addresses of the subnet's workloads from `workloads.csv`, stacked in `order`, the rest
/// summed as "other".
fn workload_columns(
    path: &Path,
    subnet: &str,
    order: &[String],
    cols: &mut Columns,
) -> Result<(), ChartError> {
    let rows = CsvRows::open(path)?;
    let (ct, cw, cs, ch) = (
        rows.col(WorkloadCol::TimeMs.name())?,
        rows.col(WorkloadCol::Workload.name())?,
        rows.col(WorkloadCol::Subnet.name())?,
        rows.col(WorkloadCol::Held.name())?,
    );
    let n = order.len() + 1;
    // Workloads in the order they first appear, and the slot each is stacked in.
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut slot_of: Vec<usize> = Vec::new();
    let mut steps = HeldSteps::<f64>::new(0);
    let mut cum = vec![0.0; n];
    rows.each(|rec, path| {
        if rec.get(cs) != Some(subnet) {
            return Ok(());
        }
        let t = num(rec, ct, path)? as u64;
        let name = rec.get(cw).unwrap_or("");
        let v = num(rec, ch, path)?;
        let j = match index.get(name) {
            Some(&j) => j,
            None => {
                let j = index.len();
                index.insert(name.to_string(), j);
                slot_of.push(order.iter().position(|o| o == name).unwrap_or(n - 1));
                j
            }
        };
        steps.row(t, j, v, &mut |t, held| {
            stack(held, &slot_of, &mut cum);
            cols.set(t, &cum);
        });
        Ok(())
    })?;
    steps.finish(&mut |t, held| {
        stack(held, &slot_of, &mut cum);
        cols.set(t, &cum);
    });
    cols.finish();
    Ok(())
}

/// Cumulative levels of `held`, component `j` stacked in slot `slot_of[j]`.
fn stack<V: Copy + Into<f64>>(held: &[V], slot_of: &[usize], cum: &mut [f64]) {
    cum.iter_mut().for_each(|v| *v = 0.0);
    for (j, &v) in held.iter().enumerate() {
        cum[slot_of[j]] += v.into();
    }
    for k in 1..cum.len() {
        cum[k] += cum[k - 1];
    }
}

/// One subnet's columns, filled during the run.
#[derive(Debug, Clone)]
struct SubnetColumns {
    name: String,
    n_static: f64,
    occupancy: Columns,
    /// The fewest free blocks, negated.
    free: Columns,
    /// Per workload whose lines are kept: its name and its running and wanted columns.
    lines: Vec<(String, Columns)>,
    /// Per component of `held`: its index in `lines`.
    line_of: Vec<Option<usize>>,
    /// Per component of `held`: whether it is a connector, whose lines are in Mbps.
    connector: Vec<bool>,
    /// The subnet's workloads, in input order: the components of `held`.
    workloads: Vec<String>,
    steps: HeldSteps<u32>,
    held: Held,
}

/// The workload panel's columns of one subnet.
#[derive(Debug, Clone)]
enum Held {
    /// The stacking order is not known yet: each column's frontier of states.
    Frontier(Frontier),
    /// The stacking order is known (from the report of the same run): the stacked maxima.
    Stacked {
        order: Vec<String>,
        slot_of: Vec<usize>,
        cum: Vec<f64>,
        cols: Columns,
    },
    /// The frontiers outgrew the budget and were dropped.
    Dropped,
}

impl Held {
    /// The state of the subnet's workloads becomes `h` at `t`.
    fn set(&mut self, t: u64, h: &[u32]) {
        match self {
            Held::Frontier(f) => f.set(t, h),
            Held::Stacked {
                slot_of, cum, cols, ..
            } => {
                stack(h, slot_of, cum);
                cols.set(t, cum);
            }
            Held::Dropped => {}
        }
    }

    fn finish(&mut self) {
        match self {
            Held::Frontier(f) => f.finish(),
            Held::Stacked { cols, .. } => cols.finish(),
            Held::Dropped => {}
        }
    }

    fn n_values(&self) -> usize {
        match self {
            Held::Frontier(f) => f.n_values(),
            _ => 0,
        }
    }
}

/// How many held values (4 bytes each) the frontiers of a [`ChartSink`] may keep in all: 4 MiB.
pub const FRONTIER_BUDGET: usize = 1 << 20;

/// A [`RowSink`] that fills the chart's pixel columns as the run goes, for the chart `ipsim
/// run` draws: the time range (by default the whole run) is known before the run, so each row
/// goes straight into its column and none is kept. Pair it with a [`crate::CsvSink`] through
/// [`Tee`].
///
/// Which workloads the workload panel stacks on their own, and in which order, depends on
/// their peaks, known only at the end. So [`ChartSink::new`] keeps, per column, the workload
/// states no other state of the column covers (a frontier, usually a state or a few), and
/// stacks them when drawn. If the frontiers outgrow `FRONTIER_BUDGET`, 4 MiB (many workloads in one
/// subnet rising and falling against each other within each column), they are dropped and
/// [`RunColumns::complete`] says so: then run the same input again into
/// [`ChartSink::stacked`], which knows the order from the first run's report and keeps the
/// stacked maxima only. Memory stays bounded either way; the picture is the same.
#[derive(Debug, Clone)]
pub struct ChartSink {
    sweep: Sweep,
    subnets: Vec<SubnetColumns>,
    /// Per workload of the input: its subnet and its component there.
    place: Vec<(usize, usize)>,
    budget: usize,
    kept: usize,
    /// Whether the instance lines were too many to keep for every workload.
    lines_dropped: bool,
}

impl ChartSink {
    /// A sink for the charts of a run of `input` drawn with `opts` (its width, height and time
    /// range fix the columns).
    pub fn new(input: &SimInput, opts: &ChartOptions) -> Result<Self, ChartError> {
        Self::build(input, opts, None)
    }

    /// A sink for a second run of `input`, whose first run's report is `report`: the
    /// workload panel's order is known, so it keeps only the stacked column maxima.
    pub fn stacked(
        input: &SimInput,
        opts: &ChartOptions,
        report: &Report,
    ) -> Result<Self, ChartError> {
        Self::build(input, opts, Some(report))
    }

    /// The same sink with a budget of `values` held values for its frontiers.
    pub fn with_budget(mut self, values: usize) -> Self {
        self.budget = values;
        self
    }

    fn build(
        input: &SimInput,
        opts: &ChartOptions,
        report: Option<&Report>,
    ) -> Result<Self, ChartError> {
        let (from, to) = time_range(input.duration_ms, opts)?;
        let n = plot_columns(opts)?;
        let mut subnets: Vec<SubnetColumns> = input
            .subnets
            .iter()
            .map(|s| SubnetColumns {
                name: s.name.clone(),
                n_static: 0.0,
                occupancy: Columns::new(from, to, n, 4),
                free: Columns::starting_at(from, to, n, 1, f64::NEG_INFINITY),
                lines: Vec::new(),
                line_of: Vec::new(),
                connector: Vec::new(),
                workloads: Vec::new(),
                steps: HeldSteps::new(0),
                held: Held::Dropped,
            })
            .collect();
        let mut place = Vec::with_capacity(input.workloads.len());
        for w in &input.workloads {
            let s = subnets
                .get_mut(w.subnet)
                .ok_or_else(|| err(format!("workload {} has no subnet", w.name)))?;
            place.push((w.subnet, s.workloads.len()));
            s.workloads.push(w.name.clone());
            let connector = matches!(w.kind, ipsim_core::Kind::Connector(_));
            s.connector.push(connector);
        }
        // Every workload's instance lines while they fit in half the budget; else only those
        // a report names, or none (and the run is gathered again).
        let all_lines = input.workloads.len() * n * 2 <= FRONTIER_BUDGET / 2;
        for s in &mut subnets {
            let keep: Vec<String> = match report {
                Some(r) => super::line_order(r, &s.name, super::shown_lines(opts)),
                None if all_lines => s.workloads.clone(),
                None => Vec::new(),
            };
            s.line_of = s
                .workloads
                .iter()
                .map(|w| keep.iter().position(|k| k == w))
                .collect();
            s.lines = keep
                .into_iter()
                .map(|k| (k, Columns::new(from, to, n, 2)))
                .collect();
            s.steps = HeldSteps::new(s.workloads.len());
            s.held = match report {
                None => Held::Frontier(Frontier::new(from, to, n, s.workloads.len())),
                Some(r) => {
                    let order = stack_order(r, &s.name, opts);
                    let slot_of = s
                        .workloads
                        .iter()
                        .map(|w| order.iter().position(|o| o == w).unwrap_or(order.len()))
                        .collect();
                    Held::Stacked {
                        cum: vec![0.0; order.len() + 1],
                        cols: Columns::new(from, to, n, order.len() + 1),
                        order,
                        slot_of,
                    }
                }
            };
        }
        Ok(ChartSink {
            sweep: Sweep::new(from, to, n),
            subnets,
            place,
            budget: FRONTIER_BUDGET,
            kept: 0,
            lines_dropped: report.is_none() && !all_lines,
        })
    }

    /// Drops every frontier if they keep more than the budget.
    fn check_budget(&mut self) {
        if self.kept > self.budget {
            for s in &mut self.subnets {
                if let Held::Frontier(_) = s.held {
                    s.held = Held::Dropped;
                }
            }
            self.kept = 0;
        }
    }

    /// The filled columns, once the run is over.
    pub fn finish(mut self) -> RunColumns {
        for s in &mut self.subnets {
            s.occupancy.finish();
            s.free.finish();
            s.lines.iter_mut().for_each(|(_, c)| c.finish());
            let held = &mut s.held;
            let before = held.n_values();
            s.steps.finish(&mut |t, h| held.set(t, h));
            held.finish();
            self.kept = self.kept + held.n_values() - before;
        }
        self.check_budget();
        RunColumns {
            sweep: self.sweep,
            subnets: self.subnets,
            lines_dropped: self.lines_dropped,
        }
    }
}

impl RowSink for ChartSink {
    fn start(&mut self, subnets: &[SubnetInfo]) {
        for (s, info) in self.subnets.iter_mut().zip(subnets) {
            s.n_static = f64::from(info.n_static);
        }
    }

    fn subnet_row(&mut self, subnet: usize, r: &SubnetRow) {
        if let Some(s) = self.subnets.get_mut(subnet) {
            let levels = occupancy_levels(
                s.n_static,
                f64::from(r.in_use),
                f64::from(r.retained),
                f64::from(r.reserved_idle),
            );
            s.occupancy.set(r.time_ms, &levels);
            s.free.set(r.time_ms, &[-f64::from(r.free_blocks)]);
        }
    }

    fn workload_row(&mut self, workload: usize, r: &WorkloadRow) {
        let Some(&(subnet, j)) = self.place.get(workload) else {
            return;
        };
        let s = &mut self.subnets[subnet];
        if let Some(&Some(k)) = s.line_of.get(j) {
            let f = f64::from;
            let v = line_values(
                s.connector.get(j).copied().unwrap_or(false),
                f(r.running),
                f(r.pending),
                f(r.demand_mbps),
                f(r.capacity_mbps),
            );
            s.lines[k].1.set(r.time_ms, &v);
        }
        let held = &mut s.held;
        let before = held.n_values();
        s.steps
            .row(r.time_ms, j, r.held(), &mut |t, h| held.set(t, h));
        let after = held.n_values();
        if after != before {
            self.kept = self.kept + after - before;
            self.check_budget();
        }
    }
}

/// The pixel columns a [`ChartSink`] filled during a run; draw them with
/// [`super::render_run`].
#[derive(Debug, Clone)]
pub struct RunColumns {
    sweep: Sweep,
    subnets: Vec<SubnetColumns>,
    lines_dropped: bool,
}

impl RunColumns {
    /// Whether every workload panel can be drawn: false if the frontiers outgrew the budget
    /// or the workloads were too many to keep every one's instance lines, and the run is to
    /// be gathered again with [`ChartSink::stacked`].
    pub fn complete(&self) -> bool {
        !self.lines_dropped && !self.subnets.iter().any(|s| matches!(s.held, Held::Dropped))
    }

    /// Subnet `i`, checked to be the subnet and the columns the chart draws.
    fn subnet(&self, i: usize, name: &str, sweep: &Sweep) -> Result<&SubnetColumns, ChartError> {
        if *sweep != self.sweep {
            return Err(err(format!(
                "the run's chart columns are {} over {}..{} ms, the chart needs {} over {}..{} ms",
                self.sweep.n, self.sweep.from, self.sweep.to, sweep.n, sweep.from, sweep.to
            )));
        }
        self.subnets
            .get(i)
            .filter(|s| s.name == name)
            .ok_or_else(|| err(format!("the run has no columns for subnet {name}")))
    }
}

/// A [`RowSink`] that passes every row to a first sink and, if there is one, a second: `ipsim
/// run` writes the CSV files and fills the chart's columns from one run.
#[derive(Debug)]
pub struct Tee<A, B>(pub A, pub Option<B>);

impl<A: RowSink, B: RowSink> RowSink for Tee<A, B> {
    fn start(&mut self, subnets: &[SubnetInfo]) {
        self.0.start(subnets);
        if let Some(b) = &mut self.1 {
            b.start(subnets);
        }
    }

    fn subnet_row(&mut self, subnet: usize, row: &SubnetRow) {
        self.0.subnet_row(subnet, row);
        if let Some(b) = &mut self.1 {
            b.subnet_row(subnet, row);
        }
    }

    fn workload_row(&mut self, workload: usize, row: &WorkloadRow) {
        self.0.workload_row(workload, row);
        if let Some(b) = &mut self.1 {
            b.workload_row(workload, row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, CsvSink};
    use ipsim_core::{Simulation, SubnetSpec, WorkloadSpec};

    fn service(name: &str, subnet: usize, steps: &[(u64, u32)]) -> WorkloadSpec {
        steps
            .iter()
            .fold(WorkloadSpec::service(name, subnet), |w, &(t, n)| w.at(t, n))
    }

    /// One run, written as CSV files and gathered by a `ChartSink` at once: both sources give
    /// the same columns, for any stacking order.
    #[test]
    fn the_files_and_the_run_give_the_same_columns() {
        let ip = |a: u8| u32::from(std::net::Ipv4Addr::new(10, a, 0, 0));
        let mut input = SimInput::new(
            vec![
                SubnetSpec::new("a", ip(0), 25),
                SubnetSpec::new("b,c", ip(1), 26),
            ],
            vec![
                service("up", 0, &[(0, 10), (600_000, 40), (1_200_000, 5)]),
                service("down", 0, &[(0, 50), (600_000, 10), (1_800_000, 30)]),
                service("blip", 0, &[(0, 0), (900_000, 20), (900_100, 0)]),
                service("other\"one", 1, &[(0, 3), (300_000, 9), (2_400_000, 1)]),
                service("two", 1, &[(0, 4), (1_000_000, 2)]),
            ],
            3_600_000,
        );
        input.options.record_subnet_series = false;
        input.options.record_workload_series = false;
        let opts = ChartOptions {
            width: 900,
            height: 600,
            ..ChartOptions::default()
        };
        let dir = std::env::temp_dir().join(format!("ipsim-report-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |f: &str| std::io::BufWriter::new(File::create(dir.join(f)).unwrap());
        let csv = CsvSink::new(
            file(OccupancyCol::FILE),
            file(WorkloadCol::FILE),
            Clock::default(),
            &input,
        );
        let mut tee = Tee(csv, Some(ChartSink::new(&input, &opts).unwrap()));
        let mut sim = Simulation::new(&input).unwrap();
        sim.set_sink(&mut tee);
        let out = sim.run();
        let Tee(csv, chart) = tee;
        csv.finish().unwrap();
        let run = chart.unwrap().finish();

        let (from, to) = time_range(out.duration_ms, &opts).unwrap();
        let sweep = Sweep::new(from, to, plot_columns(&opts).unwrap());
        let (files, run) = (Source::Files(&dir), Source::Run(&run));
        let orders: [&[&str]; 4] = [&[], &["up", "down", "blip"], &["blip", "up"], &["down"]];
        for (i, name) in ["a", "b,c"].into_iter().enumerate() {
            let occ = files.occupancy(i, name, &sweep).unwrap();
            assert_eq!(occ, run.occupancy(i, name, &sweep).unwrap(), "{name}");
            assert!(occ.levels[3].iter().any(|&v| v > 0.0));
            assert!(occ.free_blocks.iter().all(Option::is_some));
            // Every workload's instance lines, from the files and from the run.
            let names: Vec<String> = input
                .workloads
                .iter()
                .filter(|w| input.subnets[w.subnet].name == name)
                .map(|w| w.name.clone())
                .collect();
            let lines = files
                .lines(i, name, &names, &vec![false; names.len()], &sweep)
                .unwrap();
            assert_eq!(
                lines,
                run.lines(i, name, &names, &vec![false; names.len()], &sweep)
                    .unwrap(),
                "{name}"
            );
            // (Every workload wants some; "blip" wants 20 for 100 ms and may never run.)
            assert!(lines.iter().all(|l| l[1].iter().any(|&v| v > 0.0)));
            assert!(lines.iter().any(|l| l[0].iter().any(|&v| v > 0.0)));
            for order in orders.iter().chain([&["two", "other\"one"][..]].iter()) {
                let order: Vec<String> = order.iter().map(|s| s.to_string()).collect();
                let wl = files.workloads(i, name, &order, &sweep).unwrap();
                assert_eq!(wl, run.workloads(i, name, &order, &sweep).unwrap());
                assert!(wl.last().unwrap().iter().any(|&v| v > 0.0));
            }
        }
        // Other columns than the run gathered cannot be drawn from it.
        let zoom = Sweep::new(from + 1, to, sweep.n);
        assert!(run.occupancy(0, "a", &zoom).is_err());
        assert!(files.occupancy(0, "a", &zoom).is_ok());

        // Over budget, the frontiers are dropped; a second run stacked in the report's order
        // gives the same columns.
        let gather = |sink: ChartSink| {
            let mut sink = sink;
            let mut sim = Simulation::new(&input).unwrap();
            sim.set_sink(&mut sink);
            sim.run();
            sink.finish()
        };
        let small = gather(ChartSink::new(&input, &opts).unwrap().with_budget(10));
        assert!(!small.complete());
        let order = vec!["down".to_string()];
        assert!(
            Source::Run(&small)
                .workloads(0, "a", &order, &sweep)
                .is_err()
        );
        assert!(Source::Run(&small).occupancy(0, "a", &sweep).is_ok());
        let report = Report::new(&out, &crate::Context::new("t", &input));
        let opts_top = ChartOptions {
            top_n: 2,
            ..opts.clone()
        };
        let stacked = gather(ChartSink::stacked(&input, &opts_top, &report).unwrap());
        assert!(stacked.complete());
        for (i, name) in ["a", "b,c"].into_iter().enumerate() {
            let order = stack_order(&report, name, &opts_top);
            let want = files.workloads(i, name, &order, &sweep).unwrap();
            let got = Source::Run(&stacked).workloads(i, name, &order, &sweep);
            assert_eq!(want, got.unwrap(), "{name}");
            // The second run keeps the instance lines of the workloads the chart draws only.
            let names =
                super::super::line_order(&report, name, super::super::shown_lines(&opts_top));
            assert_eq!(
                files
                    .lines(i, name, &names, &vec![false; names.len()], &sweep)
                    .unwrap(),
                Source::Run(&stacked)
                    .lines(i, name, &names, &vec![false; names.len()], &sweep)
                    .unwrap()
            );
            // Stacked columns are for their own order only.
            let other: Vec<String> = order.iter().rev().cloned().collect();
            assert!(
                Source::Run(&stacked)
                    .workloads(i, name, &other, &sweep)
                    .is_err()
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod many {
    use super::*;
    use ipsim_core::{Simulation, SubnetSpec, WorkloadSpec};

    /// Too many workloads to keep every one's instance lines: the run is incomplete, and the
    /// stacked rerun keeps the lines of the workloads the chart draws.
    #[test]
    fn too_many_workloads_for_every_line_are_gathered_again() {
        let opts = ChartOptions {
            width: 900,
            height: 600,
            ..ChartOptions::default()
        };
        let n = plot_columns(&opts).unwrap();
        let count = FRONTIER_BUDGET / 2 / (2 * n) + 1;
        let wls = (0..count)
            .map(|k| WorkloadSpec::service(format!("w{k}"), 0).at(0, u32::from(k % 7 == 0)))
            .collect();
        let input = SimInput::new(vec![SubnetSpec::new("s", 10 << 24, 16)], wls, 600_000);
        let gather = |mut sink: ChartSink| {
            let mut sim = Simulation::new(&input).unwrap();
            sim.set_sink(&mut sink);
            let out = sim.run();
            (out, sink.finish())
        };
        let (out, first) = gather(ChartSink::new(&input, &opts).unwrap());
        assert!(!first.complete());
        let (from, to) = time_range(out.duration_ms, &opts).unwrap();
        let sweep = Sweep::new(from, to, n);
        let names = vec!["w0".to_string()];
        assert!(
            Source::Run(&first)
                .lines(0, "s", &names, &vec![false; names.len()], &sweep)
                .is_err()
        );
        let report = Report::new(&out, &crate::Context::new("t", &input));
        let (_, again) = gather(ChartSink::stacked(&input, &opts, &report).unwrap());
        assert!(again.complete());
        let names = super::super::line_order(&report, "s", super::super::shown_lines(&opts));
        let lines = Source::Run(&again)
            .lines(0, "s", &names, &vec![false; names.len()], &sweep)
            .unwrap();
        assert_eq!(lines.len(), names.len());
        assert!(lines[0][0].iter().all(|&v| v == 1.0), "{:?}", names);
    }
}
