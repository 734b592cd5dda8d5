//! `traces` and the workloads that take demand from them: names declared once, `functions`
//! only with the Azure format, the files readable (CSV: its header; Cloud Monitoring: the whole
//! export), a workload's series present in its trace and in the unit its `requests` expect,
//! and every series of a trace taken by some workload unless `ignore_unknown`. Of a CSV trace
//! in a regular file only the header is read here: its rows are checked as each run streams
//! them (and by [`CsvTrace::check_rows`] for `ipsim validate`). A trace that is not a regular
//! file (a named pipe, `<(...)`) is read whole here, once, with every row check
//! ([`CsvTrace::check`]), and its values are held for the runs.

use std::collections::{BTreeMap, BTreeSet};

use ipsim_core::{DemandPoint, Swap, WorkloadSpec};

use super::demand::{scaled_mut, set_demand};
use super::{MAX_INSTANCES, Resolver};
use crate::def::{ScenarioDef, TraceFile, TraceFormat};
use crate::demand::{self, Requests};
use crate::duration::Duration;
use crate::error::ScenarioError;
use crate::exact::Exact;
use crate::locate::JsonPath;
use crate::trace::csv::{CsvTrace, CsvUnit, Opened, Target};
use crate::trace::monitoring::{self, Export, Metric, ReadNote, ServiceSeries};

/// The declared traces, what was read of them, and who takes which series.
#[derive(Default)]
pub(super) struct Traces {
    /// Index of each trace by name.
    idx: BTreeMap<String, usize>,
    /// CSV traces' units (their rows are read later).
    csv_units: BTreeMap<usize, CsvUnit>,
    /// CSV traces that are not regular files, opened, their header read: read whole at load.
    csv_opened: BTreeMap<usize, Opened>,
    /// Cloud Monitoring exports, read whole.
    exports: BTreeMap<usize, Export>,
    /// Per CSV trace, per series, the workloads that take it.
    csv_targets: BTreeMap<usize, BTreeMap<String, Vec<Target>>>,
    /// Per export, the series some workload takes.
    used_series: BTreeMap<usize, BTreeSet<String>>,
    /// The workloads whose swaps are an export's deploys.
    pub(super) traced_swaps: BTreeSet<usize>,
    /// What each export's reader did, by trace name.
    pub(super) notes: Vec<(String, ReadNote)>,
}

/// What a workload that takes its demand from a trace brings to it.
pub(super) struct Taker<'r> {
    /// Its path, `workloads[i]`.
    pub(super) p: &'r JsonPath,
    /// Its index.
    pub(super) index: usize,
    /// The series it takes.
    pub(super) series: String,
    /// Its request rule, if its demand is in requests per second.
    pub(super) requests: Option<&'r Requests>,
    /// Its idle delay in ms.
    pub(super) idle: u64,
    /// Whether it declares swaps of its own (an export's deploys are used only if not).
    pub(super) own_swaps: bool,
    /// Whether each revision of an export follows its own observed count.
    pub(super) observed: bool,
    /// Whether the demand says `revisions` at all (Cloud Monitoring only).
    pub(super) revisions: bool,
    /// Whether it sets `min_instances` above 0.
    pub(super) min_instances: bool,
}

impl Resolver<'_> {
    /// Reads the in-memory traces now; CSV ones are checked by [`Resolver::csv_traces`].
    pub(super) fn traces(&mut self, def: &ScenarioDef, start: Option<jiff::Timestamp>) -> Traces {
        let mut tr = Traces::default();
        for (i, t) in def.traces.iter().enumerate() {
            self.name(
                &JsonPath::from("traces").index(i).key("name"),
                "trace",
                &t.name,
            );
            if tr.idx.insert(t.name.clone(), i).is_some() {
                self.err(
                    JsonPath::from("traces").index(i).key("name"),
                    format!("trace {:?} is declared twice", t.name),
                );
            }
            if t.functions.is_some() != (t.format == TraceFormat::AzureFunctions) {
                self.err(
                    JsonPath::from("traces").index(i).key("functions"),
                    "\"functions\" goes with format \"azure-functions\", and only with it",
                );
            }
            let monitoring = t.format == TraceFormat::CloudMonitoring;
            match &t.file {
                TraceFile::Pages(_) if !monitoring => self.err(
                    JsonPath::from("traces").index(i).key("file"),
                    "a list of files goes with format \"cloud-monitoring\" (the pages of one query); give one file",
                ),
                TraceFile::Pages(v) if v.is_empty() => self.err(
                    JsonPath::from("traces").index(i).key("file"),
                    "the list of page files is empty",
                ),
                _ => {}
            }
            if t.max_gap.is_some() && !monitoring {
                self.err(
                    JsonPath::from("traces").index(i).key("max_gap"),
                    "\"max_gap\" goes with format \"cloud-monitoring\"",
                );
            }
            if t.max_gap.is_some_and(|g| g.ms() == 0) {
                self.err(
                    JsonPath::from("traces").index(i).key("max_gap"),
                    "max_gap must be positive (e.g. \"2m\")",
                );
            }
        }
        if !self.errs.is_empty() {
            return tr;
        }
        for (i, t) in def.traces.iter().enumerate() {
            if self.gaps.within(&JsonPath::from("traces").index(i)) {
                continue; // not read until the file can say what it is
            }
            let file = self.file(t.file.first());
            match t.format {
                TraceFormat::Csv => match crate::trace::csv::open_trace(&file) {
                    Ok(o) => {
                        tr.csv_units.insert(i, o.unit);
                        // A regular file is closed until a run reads it: thousands of trace
                        // files are not held open at once.
                        if !o.regular {
                            tr.csv_opened.insert(i, o);
                        }
                    }
                    Err(e) => self.errs.push(e),
                },
                TraceFormat::CloudMonitoring => {
                    let paths: Vec<_> = t.file.paths().into_iter().map(|f| self.file(f)).collect();
                    let opts = monitoring::Options {
                        start,
                        max_gap_ms: t.max_gap.map(|g| g.ms()),
                    };
                    match monitoring::read_pages(&paths, &opts) {
                        Ok(x) => {
                            tr.notes.push((t.name.clone(), x.note.clone()));
                            tr.exports.insert(i, x);
                        }
                        Err(e) => self.errs.extend(e),
                    }
                }
                TraceFormat::AzureFunctions => {}
            }
        }
        tr
    }

    /// Links workload `w` to the series it takes from trace `trace`: a CSV series is streamed,
    /// an export's series becomes its demand (and its deploys its swaps).
    pub(super) fn trace_demand(
        &mut self,
        def: &ScenarioDef,
        tr: &mut Traces,
        trace: &str,
        w: Taker<'_>,
        spec: &mut WorkloadSpec,
        duration: u64,
    ) {
        let p = w.p;
        let Some(&t) = tr.idx.get(trace) else {
            if self.gaps.unnamed.contains("traces") {
                return; // perhaps the unread one
            }
            self.err(
                p.key("demand").key("trace"),
                format!("trace {trace:?} is not declared in traces"),
            );
            return;
        };
        tr.used_series
            .entry(t)
            .or_default()
            .insert(w.series.clone());
        let name = &def.traces[t].name;
        if w.revisions && def.traces[t].format != TraceFormat::CloudMonitoring {
            self.err(
                p.key("demand").key("revisions"),
                "\"revisions\" goes with a cloud-monitoring trace (a CSV trace has no revisions)",
            );
        }
        if let Some(&unit) = tr.csv_units.get(&t) {
            let rps = unit == CsvUnit::Rps;
            self.check_unit(p, rps, w.requests.is_some(), name);
            tr.csv_targets
                .entry(t)
                .or_default()
                .entry(w.series)
                .or_default()
                .push(Target {
                    workload: w.index,
                    requests: if rps { w.requests.cloned() } else { None },
                    idle_delay_ms: w.idle,
                });
        } else if let Some(x) = tr.exports.get(&t) {
            let rps = x.metric == Metric::RequestCount;
            self.check_unit(p, rps, w.requests.is_some(), name);
            let requests = if rps { w.requests } else { None };
            match x.services.get(&w.series) {
                None => self.err(
                    p.key("demand").key("series"),
                    format!(
                        "the export has no service {:?}; it has: {}",
                        w.series,
                        x.services.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ),
                Some(s) if w.observed => {
                    self.observed(p, &w, s, requests, spec);
                }
                Some(s) => {
                    let idle = w.idle;
                    if let Some(pts) = self.export_points(s, s.iter(), Some(&s.origins), requests) {
                        set_demand(
                            spec,
                            if idle > 0 {
                                demand::idle_delay(&pts, idle)
                            } else {
                                pts
                            },
                        );
                    }
                    if !w.own_swaps {
                        tr.traced_swaps.insert(w.index);
                        if let Some(sc) = scaled_mut(spec) {
                            sc.swaps = s
                                .swaps
                                .iter()
                                .filter(|&&t| t < duration)
                                .map(|&t| Swap {
                                    time_ms: t,
                                    rollout_ms: 0,
                                })
                                .collect();
                        }
                    }
                }
            }
        } else if def.traces[t].format == TraceFormat::AzureFunctions {
            self.err(p.key("demand").key("trace"), "an Azure Functions trace makes its own workloads (see traces[].functions); it cannot feed a declared one");
        }
    }

    /// A trace in requests per second needs `requests`; one in instances refuses them.
    fn check_unit(&mut self, p: &JsonPath, rps: bool, has_requests: bool, trace: &str) {
        if rps && !has_requests {
            self.err(p.key("requests"), format!("trace {trace:?} gives requests per second: add \"requests\": {{\"latency\": \"...\"}} to turn them into instances"));
        } else if !rps && has_requests {
            self.err(
                p.key("requests"),
                format!("trace {trace:?} gives instance counts; remove \"requests\""),
            );
        }
    }

    /// Every series of an export should be used unless `ignore_unknown`.
    pub(super) fn unused_series(&mut self, def: &ScenarioDef, tr: &Traces) {
        if self.gaps.within(&JsonPath::from("workloads")) {
            return; // a workload not wholly read may take them
        }
        for (i, x) in &tr.exports {
            if def.traces[*i].ignore_unknown {
                continue;
            }
            let used = tr.used_series.get(i).cloned().unwrap_or_default();
            let unused: Vec<_> = x
                .services
                .keys()
                .filter(|s| !used.contains(*s))
                .cloned()
                .collect();
            if !unused.is_empty() {
                self.err(JsonPath::from("traces").index(*i), format!("no workload takes service(s) {} from this export; add workloads for them or set ignore_unknown", unused.join(", ")));
            }
        }
    }

    /// The CSV traces to stream; one that is not a regular file is read and checked now.
    pub(super) fn csv_traces(
        &mut self,
        def: &ScenarioDef,
        tr: &mut Traces,
        start: Option<jiff::Timestamp>,
    ) -> Vec<CsvTrace> {
        let mut csv_traces = Vec::new();
        for (&i, &unit) in &tr.csv_units {
            let t = &def.traces[i];
            let mut trace = CsvTrace {
                path: self.file(t.file.first()),
                unit,
                targets: tr.csv_targets.remove(&i).unwrap_or_default(),
                ignore_unknown: t.ignore_unknown,
                start,
                held: None,
            };
            if trace.targets.is_empty() {
                if self.gaps.within(&JsonPath::from("workloads")) {
                    continue; // a workload not wholly read may take it
                }
                self.err(
                    JsonPath::from("traces").index(i),
                    format!("no workload takes demand from trace {:?}", t.name),
                );
                continue;
            }
            if let Some(k) = self.known.iter().find(|k| reads_as(k, &trace)) {
                csv_traces.push(k.clone());
                continue;
            }
            // A trace that is not a regular file is read whole now, its values held; with
            // `hold` (a study), so is every other.
            let checked = match tr.csv_opened.remove(&i) {
                Some(opened) => trace.check(opened),
                None if self.hold => trace.hold(),
                None => Ok(()),
            };
            if let Err(e) = checked {
                self.errs.extend(e);
            }
            csv_traces.push(trace);
        }
        csv_traces
    }
}

/// Whether `a` and `b` read the same file the same way: the checks of one hold for the other,
/// and they give the same values.
fn reads_as(a: &CsvTrace, b: &CsvTrace) -> bool {
    a.path == b.path
        && a.unit == b.unit
        && a.ignore_unknown == b.ignore_unknown
        && a.start == b.start
        && a.targets == b.targets
}

/// Instance points from (time, value) pairs, keeping changes only; `Err(k)` if the value of
/// point `k` is more than `MAX_INSTANCES` instances.
fn points_from(
    points: impl Iterator<Item = (u64, Exact)>,
    requests: Option<&Requests>,
) -> Result<Vec<DemandPoint>, (usize, u64, Exact)> {
    let mut out: Vec<DemandPoint> = Vec::new();
    for (k, (t, v)) in points.enumerate() {
        let Some(n) = demand::instances(&v, requests).filter(|&n| f64::from(n) <= MAX_INSTANCES)
        else {
            return Err((k, t, v));
        };
        if out.last().map(|p| p.instances) != Some(n) {
            out.push(DemandPoint {
                time_ms: t,
                instances: n,
            });
        }
    }
    Ok(out)
}

impl Resolver<'_> {
    /// A service's (or one revision's) points as instances, or the error, in the export, of
    /// the first above the cap.
    fn export_points(
        &mut self,
        s: &ServiceSeries,
        points: impl Iterator<Item = (u64, Exact)>,
        origins: Option<&[u32]>,
        requests: Option<&Requests>,
    ) -> Option<Vec<DemandPoint>> {
        match points_from(points, requests) {
            Ok(pts) => Some(pts),
            Err((k, t, v)) => {
                let src = origins
                    .and_then(|o| o.get(k))
                    .and_then(|&i| s.sources.get(i as usize))
                    .or(s.sources.first());
                let what = match requests {
                    Some(_) => format!("{} requests per second, which is", v.to_f64()),
                    None => String::new(),
                };
                let msg = format!(
                    "at {} the series of this service add up to {what}more than the cap of {} instances",
                    Duration(t),
                    MAX_INSTANCES
                );
                match src {
                    Some(o) => self.errs.push(ScenarioError::new(
                        &o.file,
                        format!("timeSeries[{}]", o.index),
                        msg,
                    )),
                    None => self.errs.push(ScenarioError::new(self.path, "", msg)),
                }
                None
            }
        }
    }

    /// Each revision of the export follows its own observed count.
    fn observed(
        &mut self,
        p: &JsonPath,
        w: &Taker<'_>,
        s: &ServiceSeries,
        requests: Option<&Requests>,
        spec: &mut WorkloadSpec,
    ) {
        if w.own_swaps {
            self.err(p.key("swaps"), "with \"revisions\": \"observed\" the export's revisions are replayed as they ran; remove swaps (or use \"revisions\": \"swaps\")");
        }
        if w.min_instances {
            self.err(p.key("min_instances"), "with \"revisions\": \"observed\" each revision follows its observed count, which already holds its minimum instances; remove min_instances");
        }
        let mut revisions = Vec::with_capacity(s.revisions.len());
        for r in &s.revisions {
            let got = if s.revisions.len() == 1 {
                self.export_points(s, s.iter(), Some(&s.origins[..]), requests)
            } else {
                self.export_points(s, r.iter(), None, requests)
            };
            let Some(pts) = got else {
                return;
            };
            revisions.push(if w.idle > 0 {
                demand::idle_delay(&pts, w.idle)
            } else {
                pts
            });
        }
        if let Some(sc) = scaled_mut(spec) {
            sc.demand = Vec::new();
            sc.swaps = Vec::new();
            sc.observed = revisions;
        }
    }
}
