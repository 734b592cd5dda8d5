//! Cloud Monitoring `timeSeries` exports (`ListTimeSeriesResponse` JSON, the response of
//! `projects.timeSeries.list`) of `run.googleapis.com/container/instance_count` or
//! `run.googleapis.com/request_count`, in one file or in pages.
//!
//! What a value means follows from the series' `metricKind`, `valueType`, `unit` and point
//! intervals ([`Reading`]): a GAUGE of instances, a DELTA count per interval, or a GAUGE rate
//! per second (`ALIGN_RATE`, a unit ending in `/s`). Anything else is refused with the aligner
//! to use. Each series becomes its own step function (a point's value holds from its `endTime`
//! until the series' next point); a series that misses a point (silent for more than one and
//! a half times its own sampling period, the most common spacing of its points) drops to zero
//! when that point was due, and one silent for longer than the trace's `max_gap` drops to zero
//! `max_gap` after its last point, since
//! Cloud Monitoring writes no point for a revision at zero. The series of one service (and of
//! one revision) are then summed at every instant.
//!
//! Each file is read once, as a stream (a named pipe works), into compact points: the JSON
//! text is never held, and memory follows the number of points.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue as JsonText;

use crate::error::ScenarioError;
use crate::exact::{Exact, ParseError};

/// Largest instance count a point may give (the scenario's absurd-value cap).
const MAX_INSTANCES: u64 = crate::resolve::MAX_INSTANCES as u64;
/// Largest request rate a point may give, per second.
const MAX_RPS: u64 = crate::resolve::MAX_RPS as u64;
/// Most characters of a bad field quoted in an error.
const EXCERPT: usize = 40;
/// Most point errors kept per file (the rest are counted).
const MAX_POINT_ERRORS: usize = 50;

/// Which metric the export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `container/instance_count`: instances.
    InstanceCount,
    /// `request_count`: requests, read as requests per second.
    RequestCount,
}

/// How a series' values are read, from its `metricKind`, `valueType` and `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reading {
    /// GAUGE instance counts (INT64, or DOUBLE from `ALIGN_MEAN`): instances.
    Instances,
    /// DELTA counts per interval: count / (endTime - startTime) requests per second.
    DeltaCount,
    /// GAUGE rates per second (`ALIGN_RATE`, unit `1/s`): requests per second as written.
    Rate,
}

impl Reading {
    /// How the report names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reading::Instances => "GAUGE instance count",
            Reading::DeltaCount => "DELTA count per interval",
            Reading::Rate => "GAUGE rate per second",
        }
    }
}

/// One revision's observed demand: its series summed.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionSeries {
    /// `revision_name` (empty if the series had none).
    pub name: String,
    /// (ms since t = 0, value), ascending, changes only; 0 before the first point. Empty when
    /// the service has this one revision: its points are then the service's.
    steps: Vec<(u64, Val)>,
}

impl RevisionSeries {
    /// Its points (see [`ServiceSeries::points`]); empty when the service has one revision.
    pub fn points(&self) -> Vec<(u64, Exact)> {
        exact_points(&self.steps)
    }

    /// Its points one by one.
    pub fn iter(&self) -> impl Iterator<Item = (u64, Exact)> + '_ {
        self.steps.iter().map(|(t, v)| (*t, v.exact()))
    }
}

fn exact_points(steps: &[(u64, Val)]) -> Vec<(u64, Exact)> {
    steps.iter().map(|(t, v)| (*t, v.exact())).collect()
}

/// One service's demand from the export.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSeries {
    /// (time in ms since t = 0, value), held compactly.
    steps: Vec<(u64, Val)>,
    /// Times at which a new revision first appears (after the first revision).
    pub swaps: Vec<u64>,
    /// Each revision's own sum, in order of first point.
    pub revisions: Vec<RevisionSeries>,
    /// The service's series, for messages.
    pub sources: Vec<Origin>,
    /// For each change of `points`, the index in `sources` of the series that made it.
    pub origins: Vec<u32>,
}

/// A series' place in the files: which file and which `timeSeries[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: PathBuf,
    /// Its index in that file's `timeSeries`.
    pub index: usize,
}

impl ServiceSeries {
    /// (time in ms since t = 0, value: instances or requests per second), ascending, changes
    /// only; values exact on the numbers as written (a rate is the count over the interval).
    pub fn points(&self) -> Vec<(u64, Exact)> {
        exact_points(&self.steps)
    }

    /// Its points one by one.
    pub fn iter(&self) -> impl Iterator<Item = (u64, Exact)> + '_ {
        self.steps.iter().map(|(t, v)| (*t, v.exact()))
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: timeSeries[{}]", self.file.display(), self.index)
    }
}

/// What the reader did, for the run's summary and report.json.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadNote {
    /// Files (pages) read.
    pub files: usize,
    /// Series read (a series continued over pages counts once).
    pub series: usize,
    /// Points read.
    pub points: u64,
    /// How the values were read, with the number of series each.
    pub readings: BTreeMap<&'static str, usize>,
    /// Sampling periods found (ms), with the number of series each.
    pub periods: BTreeMap<u64, usize>,
    /// The trace's `max_gap`, if it set one.
    pub max_gap_ms: Option<u64>,
    /// Silences longer than the allowed gap, closed with a drop to zero.
    pub gaps_closed: u64,
}

impl ReadNote {
    /// One line for people: "3 series in 2 files, 420 points (GAUGE instance count); sampling
    /// period 1m; 2 gaps closed".
    pub fn line(&self) -> String {
        let readings: Vec<&str> = self.readings.keys().copied().collect();
        let periods: Vec<String> = self
            .periods
            .keys()
            .map(|&p| crate::duration::Duration(p).to_string())
            .collect();
        let gap = match self.max_gap_ms {
            Some(g) => format!("max_gap {}", crate::duration::Duration(g)),
            None => format!("sampling period {}", periods.join(", ")),
        };
        format!(
            "{} series in {} file{}, {} points ({}); {gap}; {} gap{} closed",
            self.series,
            self.files,
            if self.files == 1 { "" } else { "s" },
            self.points,
            readings.join(", "),
            self.gaps_closed,
            if self.gaps_closed == 1 { "" } else { "s" }
        )
    }
}

/// The export read and summed per service.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The metric.
    pub metric: Metric,
    /// Per service name.
    pub services: BTreeMap<String, ServiceSeries>,
    /// What was read.
    pub note: ReadNote,
}

/// How to read an export.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The clock time of t = 0 (`None`: the earliest point).
    pub start: Option<jiff::Timestamp>,
    /// Longest silence a series may keep its last value for (`None`: its sampling period).
    pub max_gap_ms: Option<u64>,
}

/// Reads one export file. `start` is the clock time of t = 0 (`None`: the earliest point).
pub fn read(path: &Path, start: Option<jiff::Timestamp>) -> Result<Export, Vec<ScenarioError>> {
    read_pages(
        &[path.to_path_buf()],
        &Options {
            start,
            max_gap_ms: None,
        },
    )
}

/// A short, safe excerpt of `text` for an error message.
pub(crate) fn excerpt(text: &str) -> String {
    let mut it = text.chars();
    let head: String = it.by_ref().take(EXCERPT).collect();
    if it.next().is_some() {
        format!("{head:?}... ({} bytes)", text.len())
    } else {
        format!("{head:?}")
    }
}

// ----- the JSON, read as a stream -----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPage {
    #[serde(default)]
    time_series: SeriesList,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    execution_errors: Vec<serde_json::Value>,
    #[serde(default)]
    unit: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawMetric {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct RawResource {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSeries {
    #[serde(default)]
    metric: Option<RawMetric>,
    #[serde(default)]
    resource: RawResource,
    #[serde(default)]
    metric_kind: Option<String>,
    #[serde(default)]
    value_type: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    points: Points,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawInterval {
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawValue {
    #[serde(default)]
    int64_value: Option<serde_json::Value>,
    /// Kept as its JSON text, to be read exactly.
    #[serde(default)]
    double_value: Option<Box<JsonText>>,
    #[serde(default)]
    bool_value: Option<IgnoredAny>,
    #[serde(default)]
    string_value: Option<IgnoredAny>,
    #[serde(default)]
    distribution_value: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RawPoint {
    interval: Option<RawInterval>,
    value: Option<RawValue>,
}

/// A value held compactly: a whole number, a ratio of two, else exact.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Int(u64),
    Ratio(u64, u64),
    Exact(Box<Exact>),
}

impl Val {
    fn exact(&self) -> Exact {
        match self {
            Val::Int(v) => Exact::int(*v),
            Val::Ratio(n, d) => Exact::ratio(*n, *d).unwrap_or_else(Exact::zero),
            Val::Exact(e) => (**e).clone(),
        }
    }
}

/// A point, compact: end time (ms since 1970), interval length (ms; 0 without a start), its
/// index in the series' `points`, its value.
#[derive(Debug, Clone, PartialEq)]
struct Pt {
    end: i64,
    span: u64,
    j: u32,
    v: Val,
}

/// A series' points, read one by one; the bad ones kept as (index, field, message).
#[derive(Default)]
struct Points {
    pts: Vec<Pt>,
    errs: Vec<(usize, &'static str, String)>,
    more_errs: usize,
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Points;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of points")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Points, A::Error> {
                let mut out = Points::default();
                let mut j = 0usize;
                while let Some(p) = seq.next_element::<RawPoint>()? {
                    match point(&p, j) {
                        Ok(pt) => out.pts.push(pt),
                        Err((field, m)) if out.errs.len() < MAX_POINT_ERRORS => {
                            out.errs.push((j, field, m))
                        }
                        Err(_) => out.more_errs += 1,
                    }
                    j += 1;
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V)
    }
}

/// The series of a page, each read as it comes.
#[derive(Default)]
struct SeriesList(Vec<RawSeries>);

impl<'de> Deserialize<'de> for SeriesList {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SeriesList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of time series")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SeriesList, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element_seed(SeriesSeed)? {
                    out.push(s);
                }
                Ok(SeriesList(out))
            }
        }
        d.deserialize_seq(V)
    }
}

struct SeriesSeed;

impl<'de> DeserializeSeed<'de> for SeriesSeed {
    type Value = RawSeries;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RawSeries, D::Error> {
        RawSeries::deserialize(d)
    }
}

fn ts(text: &str) -> Result<i64, String> {
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| {
            format!(
                "{} is not an RFC 3339 time (e.g. \"2025-01-01T00:00:00Z\")",
                excerpt(text)
            )
        })
}

/// A point in compact form, or the field that is wrong and why.
fn point(p: &RawPoint, j: usize) -> Result<Pt, (&'static str, String)> {
    let Some(iv) = &p.interval else {
        return Err((
            "interval",
            "a point needs an interval with an endTime".into(),
        ));
    };
    let Some(end_text) = &iv.end_time else {
        return Err(("interval.endTime", "a point needs an endTime".into()));
    };
    let end = ts(end_text).map_err(|m| ("interval.endTime", m))?;
    let span = match &iv.start_time {
        None => 0,
        Some(s) => {
            let st = ts(s).map_err(|m| ("interval.startTime", m))?;
            if st > end {
                return Err((
                    "interval",
                    format!("startTime {s} is after endTime {end_text}"),
                ));
            }
            (end - st).unsigned_abs()
        }
    };
    let Some(v) = &p.value else {
        return Err(("value", "a point needs a value".into()));
    };
    let negative = |v: &str| format!("{v} is below 0; a count or rate is 0 or more");
    let val = match (&v.int64_value, &v.double_value) {
        (Some(iv), None) => match iv {
            serde_json::Value::String(s) => match s.parse::<i64>() {
                Ok(n) => u64::try_from(n).map(Val::Int).map_err(|_| negative(s)),
                Err(_) => Err(format!(
                    "{} is not a 64-bit integer (int64Value is a string of digits, e.g. \"42\")",
                    excerpt(s)
                )),
            },
            serde_json::Value::Number(n) => match n.as_u64() {
                Some(u) => Ok(Val::Int(u)),
                None if n.as_i64().is_some() => Err(negative(&n.to_string())),
                None => Err(format!("{n} is not an integer")),
            },
            other => Err(format!(
                "{} is not an integer (int64Value is a string of digits, e.g. \"42\")",
                excerpt(&other.to_string())
            )),
        }
        .map_err(|m| ("value.int64Value", m))?,
        (None, Some(d)) => {
            let raw = d.get();
            // proto3 JSON writes a double as a number, or as a string ("1.5", "NaN").
            let text = serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string());
            match Exact::parse(&text) {
                Ok(e) => Ok(Val::Exact(Box::new(e))),
                Err(ParseError::Negative) => Err(negative(&excerpt(&text))),
                Err(ParseError::NotFinite) => Err(format!(
                    "{} is not a finite number; an instance count or a rate is a number of 0 or more",
                    excerpt(&text)
                )),
                Err(e) => Err(format!("{} is {e}", excerpt(&text))),
            }
            .map_err(|m| ("value.doubleValue", m))?
        }
        (Some(_), Some(_)) => {
            return Err((
                "value",
                "the value holds both int64Value and doubleValue; a TypedValue holds one".into(),
            ));
        }
        (None, None) => {
            let other = if v.bool_value.is_some() {
                "boolValue"
            } else if v.string_value.is_some() {
                "stringValue"
            } else if v.distribution_value.is_some() {
                "distributionValue"
            } else {
                ""
            };
            let what = if other.is_empty() {
                "the value holds no int64Value or doubleValue".to_string()
            } else {
                format!("a {other} cannot be replayed")
            };
            return Err((
                "value",
                format!(
                    "{what}: export instance_count with perSeriesAligner ALIGN_MEAN or ALIGN_MAX, request_count with ALIGN_DELTA or ALIGN_RATE"
                ),
            ));
        }
    };
    Ok(Pt {
        end,
        span,
        j: u32::try_from(j).unwrap_or(u32::MAX),
        v: val,
    })
}

// ----- from pages to series -----

/// A series read from one file (a page may hold part of a series).
struct Fragment {
    origin: Origin,
    pts: Vec<Pt>,
}

/// A series, all its fragments.
struct Series {
    metric_kind: Option<String>,
    value_type: Option<String>,
    unit: Option<String>,
    service: String,
    revision: String,
    frags: Vec<Fragment>,
}

/// The files of a trace: each path itself, or a directory's `.json` files in name order.
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Vec<ScenarioError>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| {
                vec![ScenarioError::new(
                    p,
                    "",
                    format!("cannot list the directory: {e}"),
                )]
            })?;
            let mut pages: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json") && !f.is_dir())
                .collect();
            pages.sort();
            if pages.is_empty() {
                return Err(vec![ScenarioError::new(
                    p,
                    "",
                    "the directory holds no .json page files",
                )]);
            }
            out.extend(pages);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Reads the pages of one query (files, or directories of them) and merges them.
pub fn read_pages(paths: &[PathBuf], opts: &Options) -> Result<Export, Vec<ScenarioError>> {
    let files = files(paths)?;
    let mut errs = Vec::new();
    // series key -> series; key: metric type and labels, resource type and labels.
    let mut series: BTreeMap<String, Series> = BTreeMap::new();
    let mut metric: Option<(Metric, Origin)> = None;
    for (fi, path) in files.iter().enumerate() {
        let page = match read_page(path) {
            Ok(p) => p,
            Err(e) => {
                errs.push(e);
                continue;
            }
        };
        let last = fi + 1 == files.len();
        match page.next_page_token.as_deref() {
            Some(t) if !t.is_empty() && last => errs.push(ScenarioError::new(
                path,
                "nextPageToken",
                "this page says more follow (nextPageToken is set): fetch them (pass the token as pageToken) and list every page file, or give their directory",
            )),
            _ => {}
        }
        if let Some(first) = page.execution_errors.first() {
            let msg = first
                .get("message")
                .and_then(|m| m.as_str())
                .map(|m| format!(" (first: {})", excerpt(m)))
                .unwrap_or_default();
            errs.push(ScenarioError::new(
                path,
                "executionErrors",
                format!("the export reports execution errors, so its data may be incomplete{msg}; export it again"),
            ));
        }
        let page_unit = page.unit.filter(|u| u != "{not_a_unit}");
        let mut in_page: BTreeMap<String, usize> = BTreeMap::new();
        for (i, s) in page.time_series.0.into_iter().enumerate() {
            let sp = format!("timeSeries[{i}]");
            let origin = Origin {
                file: path.clone(),
                index: i,
            };
            let e = |f: &str, m: String| ScenarioError::new(path, format!("{sp}{f}"), m);
            for (j, field, m) in &s.points.errs {
                errs.push(e(&format!(".points[{j}].{field}"), m.clone()));
            }
            if s.points.more_errs > 0 {
                errs.push(e(
                    ".points",
                    format!("{} more bad points", s.points.more_errs),
                ));
            }
            let Some(mt) = s.metric.as_ref().and_then(|m| m.kind.as_deref()) else {
                errs.push(e(".metric.type", "the series has no metric type".into()));
                continue;
            };
            let m = match mt {
                "run.googleapis.com/container/instance_count" => Metric::InstanceCount,
                "run.googleapis.com/request_count" => Metric::RequestCount,
                other => {
                    errs.push(e(".metric.type", format!(
                        "metric {} is not run.googleapis.com/container/instance_count or run.googleapis.com/request_count",
                        excerpt(other)
                    )));
                    continue;
                }
            };
            match &metric {
                None => metric = Some((m, origin.clone())),
                Some((first, at)) if *first != m => {
                    errs.push(e(
                        ".metric.type",
                        format!("an export holds one metric; {at} has another"),
                    ));
                    continue;
                }
                Some(_) => {}
            }
            let Some(service) = s.resource.labels.get("service_name").cloned() else {
                errs.push(e(
                    ".resource.labels",
                    "the series has no service_name label (a cloud_run_revision resource has one)"
                        .into(),
                ));
                continue;
            };
            let key = series_key(&s);
            if let Some(&first) = in_page.get(&key) {
                errs.push(e(
                    "",
                    format!(
                        "repeats timeSeries[{first}] of this file (same metric and resource labels): it would be counted twice"
                    ),
                ));
                continue;
            }
            in_page.insert(key.clone(), i);
            let unit = s.unit.clone().or_else(|| page_unit.clone());
            let entry = series.entry(key).or_insert_with(|| Series {
                metric_kind: s.metric_kind.clone(),
                value_type: s.value_type.clone(),
                unit: unit.clone(),
                service,
                revision: s
                    .resource
                    .labels
                    .get("revision_name")
                    .cloned()
                    .unwrap_or_default(),
                frags: Vec::new(),
            });
            if entry.metric_kind != s.metric_kind || entry.value_type != s.value_type {
                errs.push(e(
                    "",
                    format!(
                        "this series continues {} with another metricKind or valueType: pages of one query agree",
                        entry.frags.first().map(|f| f.origin.to_string()).unwrap_or_default()
                    ),
                ));
                continue;
            }
            let mut pts = s.points.pts;
            pts.shrink_to_fit();
            entry.frags.push(Fragment { origin, pts });
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let Some((metric, _)) = metric else {
        let at = files.first().cloned().unwrap_or_default();
        return Err(vec![ScenarioError::new(
            &at,
            "timeSeries",
            "the export has no time series: check the query's filter and interval",
        )]);
    };
    build(metric, series, files.len(), opts)
}

/// The identity of a series: its metric and resource, types and labels.
fn series_key(s: &RawSeries) -> String {
    let mut k = String::new();
    let mut add = |kind: &Option<String>, labels: &BTreeMap<String, String>| {
        k.push_str(kind.as_deref().unwrap_or(""));
        for (a, b) in labels {
            k.push('\u{0}');
            k.push_str(a);
            k.push('=');
            k.push_str(b);
        }
        k.push('\u{1}');
    };
    let (mk, ml) = s
        .metric
        .as_ref()
        .map(|m| (m.kind.clone(), m.labels.clone()))
        .unwrap_or_default();
    add(&mk, &ml);
    add(&s.resource.kind, &s.resource.labels);
    k
}

/// One page, streamed from its file.
fn read_page(path: &Path) -> Result<RawPage, ScenarioError> {
    let f = File::open(path)
        .map_err(|e| ScenarioError::new(path, "", format!("cannot read the export: {e}")))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, f));
    let located = |e: serde_json::Error, p: String| {
        let (l, c) = (e.line() as u64, e.column() as u64);
        let msg = if e.is_eof() && l <= 1 && c == 0 {
            "the file is empty; an export is a ListTimeSeriesResponse JSON object".to_string()
        } else {
            e.to_string()
        };
        ScenarioError::new(path, p, msg).at(Some(l), Some(c))
    };
    let page: RawPage = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let p = e.path().to_string();
        let p = if p == "." { String::new() } else { p };
        located(e.into_inner(), p)
    })?;
    de.end().map_err(|e| located(e, String::new()))?;
    Ok(page)
}

/// How a series' values read, or why they cannot.
fn reading(metric: Metric, s: &Series) -> Result<Reading, String> {
    let kind = s.metric_kind.as_deref().unwrap_or("");
    let vt = s.value_type.as_deref().unwrap_or("");
    let rate = s.unit.as_deref().is_some_and(|u| u.ends_with("/s"));
    let numeric = matches!(vt, "INT64" | "DOUBLE");
    let missing = |f: &str| {
        format!(
            "the series has no {f}: a projects.timeSeries.list response gives metricKind and valueType on every series"
        )
    };
    if kind.is_empty() {
        return Err(missing("metricKind"));
    }
    if vt.is_empty() {
        return Err(missing("valueType"));
    }
    let what = format!(
        "{kind} {vt}{}",
        s.unit
            .as_deref()
            .map(|u| format!(" in {}", excerpt(u)))
            .unwrap_or_default()
    );
    match metric {
        Metric::InstanceCount => match (kind, numeric, rate) {
            ("GAUGE", true, false) => Ok(Reading::Instances),
            _ => Err(format!(
                "an instance_count series of {what} cannot be read as instances: export it as a GAUGE with perSeriesAligner ALIGN_MEAN or ALIGN_MAX (or no aggregation)"
            )),
        },
        Metric::RequestCount => match (kind, numeric, rate) {
            ("DELTA", true, false) => Ok(Reading::DeltaCount),
            ("GAUGE", true, true) => Ok(Reading::Rate),
            _ => Err(format!(
                "a request_count series of {what} cannot be read as requests per second: export it with perSeriesAligner ALIGN_RATE (a GAUGE in 1/s) or ALIGN_DELTA (a DELTA count per alignmentPeriod)"
            )),
        },
    }
}

/// A series as its own step function, in absolute ms: (time, value in the metric's unit).
struct Steps {
    pts: Vec<(i64, Val)>,
}

fn build(
    metric: Metric,
    series: BTreeMap<String, Series>,
    n_files: usize,
    opts: &Options,
) -> Result<Export, Vec<ScenarioError>> {
    let mut errs = Vec::new();
    let mut note = ReadNote {
        files: n_files,
        series: series.len(),
        max_gap_ms: opts.max_gap_ms,
        ..ReadNote::default()
    };
    // Each series: its reading, its points in time order (checked), its own period.
    struct Sorted {
        service: String,
        revision: String,
        reading: Reading,
        origin: Origin,
        pts: Vec<Pt>,
        period: Option<u64>,
    }
    let mut sorted = Vec::with_capacity(series.len());
    for (_, mut s) in series {
        let origin = s.frags[0].origin.clone();
        let r = match reading(metric, &s) {
            Ok(r) => r,
            Err(m) => {
                errs.push(ScenarioError::new(
                    &origin.file,
                    format!("timeSeries[{}]", origin.index),
                    m,
                ));
                continue;
            }
        };
        *note.readings.entry(r.as_str()).or_default() += 1;
        let mut pts = Vec::new();
        let mut bad = false;
        for f in &mut s.frags {
            let at =
                |j: u32, field: &str| format!("timeSeries[{}].points[{j}]{field}", f.origin.index);
            for p in &f.pts {
                // The cap, on the value in its unit.
                let v = value(r, p);
                let (cap, what) = match r {
                    Reading::Instances => (MAX_INSTANCES, "instances"),
                    _ => (MAX_RPS, "requests per second"),
                };
                match v {
                    None => {
                        errs.push(ScenarioError::new(&f.origin.file, at(p.j, ".interval"), "a DELTA point needs a startTime before its endTime (the interval the count is over)"));
                        bad = true;
                    }
                    Some(v) if v > Exact::int(cap) => {
                        let field = if matches!(p.v, Val::Int(_)) {
                            ".value.int64Value"
                        } else {
                            ".value.doubleValue"
                        };
                        errs.push(ScenarioError::new(
                            &f.origin.file,
                            at(p.j, field),
                            format!(
                                "{} {what} is above the cap of {cap} {what}",
                                match (&p.v, r) {
                                    (Val::Int(n), Reading::Instances | Reading::Rate) =>
                                        n.to_string(),
                                    _ => fmt_val(&v),
                                }
                            ),
                        ));
                        bad = true;
                    }
                    Some(_) => {}
                }
            }
            // Newest first as listed; in time order here.
            f.pts.sort_by_key(|p| p.end);
            for w in f.pts.windows(2) {
                if w[0].end == w[1].end {
                    errs.push(ScenarioError::new(
                        &f.origin.file,
                        at(w[1].j, ".interval.endTime"),
                        format!(
                            "repeats the endTime of points[{}]: a series has one point per time",
                            w[0].j
                        ),
                    ));
                    bad = true;
                }
            }
        }
        if s.frags.len() > 1 {
            // Pages of one series must not overlap.
            for a in 0..s.frags.len() {
                for b in a + 1..s.frags.len() {
                    let (fa, fb) = (&s.frags[a], &s.frags[b]);
                    if let Some(t) = common_time(&fa.pts, &fb.pts) {
                        errs.push(ScenarioError::new(
                            &fb.origin.file,
                            format!("timeSeries[{}]", fb.origin.index),
                            format!(
                                "this page's part of the series has a point at {} that {} also has: pages of one query do not overlap",
                                jiff::Timestamp::from_millisecond(t).map(|t| t.to_string()).unwrap_or_default(),
                                fa.origin
                            ),
                        ));
                        bad = true;
                    }
                }
            }
        }
        if bad {
            continue;
        }
        for f in s.frags {
            pts.extend(f.pts);
        }
        pts.sort_by_key(|p| p.end);
        note.points += pts.len() as u64;
        let period = period(&pts, r);
        sorted.push(Sorted {
            service: s.service,
            revision: s.revision,
            reading: r,
            origin,
            pts,
            period,
        });
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    // A series of one point takes the period most series have.
    let mut common: BTreeMap<u64, usize> = BTreeMap::new();
    for s in &sorted {
        if let Some(p) = s.period {
            *common.entry(p).or_default() += 1;
        }
    }
    let common = mode(&common);
    let t0 = match opts.start {
        Some(s) => s.as_millisecond(),
        None => sorted
            .iter()
            .filter_map(|s| s.pts.first().map(|p| p.end))
            .min()
            .unwrap_or(0),
    };
    let export_end = sorted
        .iter()
        .filter_map(|s| s.pts.last().map(|p| p.end))
        .max()
        .unwrap_or(0);
    // Per service, per revision: the step functions of its series.
    let mut groups: BTreeMap<String, BTreeMap<String, Vec<(Steps, Origin)>>> = BTreeMap::new();
    let mut firsts: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for s in sorted {
        let allowed = match (opts.max_gap_ms, s.period.or(common)) {
            (Some(g), _) => g,
            (None, Some(p)) => p,
            (None, None) => {
                errs.push(ScenarioError::new(
                    &s.origin.file,
                    format!("timeSeries[{}]", s.origin.index),
                    "the sampling period cannot be found (every series has a single point): set max_gap on the trace",
                ));
                continue;
            }
        };
        *note
            .periods
            .entry(s.period.or(common).unwrap_or(allowed))
            .or_default() += 1;
        let mut steps = Vec::with_capacity(s.pts.len() + 1);
        for (k, p) in s.pts.iter().enumerate() {
            steps.push((p.end, compact(s.reading, p)));
            let next = s.pts.get(k + 1).map(|q| q.end);
            let silent_until = next.unwrap_or(i64::MAX);
            let drop = p
                .end
                .saturating_add(i64::try_from(allowed).unwrap_or(i64::MAX));
            // Without `max_gap`, a gap is a missing point: silence of more than one and a
            // half periods, so that raw points a little late (60.3 s apart on a 60 s period)
            // are not read as drops to zero. The drop comes when the missing point was due.
            let tolerated = match opts.max_gap_ms {
                Some(_) => drop,
                None => p.end.saturating_add(
                    i64::try_from(allowed.saturating_mul(3) / 2).unwrap_or(i64::MAX),
                ),
            };
            if silent_until > tolerated {
                steps.push((drop, Val::Int(0)));
                if next.is_some() || drop <= export_end {
                    note.gaps_closed += 1;
                }
            }
        }
        let first = s.pts.first().map_or(0, |p| p.end);
        let f = firsts
            .entry(s.service.clone())
            .or_default()
            .entry(s.revision.clone())
            .or_insert(first);
        *f = (*f).min(first);
        groups
            .entry(s.service)
            .or_default()
            .entry(s.revision)
            .or_default()
            .push((Steps { pts: steps }, s.origin));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut services = BTreeMap::new();
    for (name, revs) in groups {
        let first_of = &firsts[&name];
        let mut order: Vec<(&String, i64)> = first_of.iter().map(|(r, &t)| (r, t)).collect();
        order.sort_by_key(|&(r, t)| (t, r.clone()));
        let mut all = Vec::new();
        let mut revisions = Vec::new();
        for (rev, _) in &order {
            let series = &revs[*rev];
            // One revision's sum is the service's: not held twice.
            let points = if order.len() > 1 {
                sum(series.iter().map(|(s, o)| (s, o)), t0).0
            } else {
                Vec::new()
            };
            revisions.push(RevisionSeries {
                name: (*rev).clone(),
                steps: points,
            });
            all.extend(series.iter());
        }
        let (points, origins) = sum(all.iter().map(|(s, o)| (s, o)), t0);
        let sources = all.iter().map(|(_, o)| o.clone()).collect();
        let swaps = order
            .iter()
            .skip(1)
            .map(|&(_, t)| u64::try_from(t - t0).unwrap_or(0))
            .collect();
        services.insert(
            name,
            ServiceSeries {
                steps: points,
                swaps,
                revisions,
                sources,
                origins,
            },
        );
    }
    Ok(Export {
        metric,
        services,
        note,
    })
}

/// The first time two sorted point lists share.
fn common_time(a: &[Pt], b: &[Pt]) -> Option<i64> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].end.cmp(&b[j].end) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return Some(a[i].end),
        }
    }
    None
}

/// A point's value in its unit, held compactly (a DELTA point has an interval by now).
fn compact(r: Reading, p: &Pt) -> Val {
    match (r, &p.v) {
        (Reading::Instances | Reading::Rate, v) => v.clone(),
        (Reading::DeltaCount, Val::Int(n)) if p.span > 0 => match n.checked_mul(1000) {
            Some(m) => Val::Ratio(m, p.span),
            None => Val::Exact(Box::new(value(r, p).unwrap_or_else(Exact::zero))),
        },
        (Reading::DeltaCount, _) => Val::Exact(Box::new(value(r, p).unwrap_or_else(Exact::zero))),
    }
}

/// A point's value in its unit (instances, or requests per second); `None` for a DELTA point
/// without an interval.
fn value(r: Reading, p: &Pt) -> Option<Exact> {
    match r {
        Reading::Instances | Reading::Rate => Some(p.v.exact()),
        Reading::DeltaCount => {
            let per_ms = Exact::ratio(1000, p.span)?;
            Some(p.v.exact().mul(&per_ms))
        }
    }
}

fn fmt_val(v: &Exact) -> String {
    let f = v.to_f64();
    if f >= 1e15 {
        format!("{f:e}")
    } else {
        format!("{}", f.round())
    }
}

/// The most common value of a histogram (ties: the smaller).
fn mode(h: &BTreeMap<u64, usize>) -> Option<u64> {
    let mut best: Option<(u64, usize)> = None;
    for (&k, &n) in h {
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((k, n));
        }
    }
    best.map(|(k, _)| k)
}

/// A series' sampling period: the most common spacing of its points; with one point, a DELTA
/// point's interval.
fn period(pts: &[Pt], r: Reading) -> Option<u64> {
    let mut h: BTreeMap<u64, usize> = BTreeMap::new();
    for w in pts.windows(2) {
        *h.entry((w[1].end - w[0].end).unsigned_abs()).or_default() += 1;
    }
    mode(&h).or_else(|| {
        (r == Reading::DeltaCount)
            .then(|| pts.first().map(|p| p.span))
            .flatten()
            .filter(|&s| s > 0)
    })
}

/// Step functions summed at every instant, from `t0` on (a value that holds at `t0` starts
/// there): (ms since `t0`, sum) at each change, with the series that made each change.
fn sum<'a>(
    series: impl Iterator<Item = (&'a Steps, &'a Origin)>,
    t0: i64,
) -> (Vec<(u64, Val)>, Vec<u32>) {
    let mut events: Vec<(i64, u32, &Val)> = Vec::new();
    let mut n = 0;
    for (k, (s, _)) in series.enumerate() {
        n += 1;
        for (t, v) in &s.pts {
            events.push(((*t).max(t0), k as u32, v));
        }
    }
    // At one time (a point folded into t0, or a drop and a point together) the last
    // event of a series wins: stable order keeps each series' own order.
    events.sort_by_key(|&(t, k, _)| (t, k));
    let mut current: Vec<Exact> = vec![Exact::zero(); n];
    let mut total = Exact::zero();
    let mut out: Vec<(u64, Val)> = Vec::new();
    let mut last = None::<Exact>;
    let mut origins = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let t = events[i].0;
        let mut who = events[i].1;
        while i < events.len() && events[i].0 == t {
            let (_, k, v) = events[i];
            let v = v.exact();
            total = total.add(&v).sub_or_zero(&current[k as usize]);
            current[k as usize] = v;
            who = k;
            i += 1;
        }
        if last.as_ref() != Some(&total) {
            let rel = u64::try_from(t - t0).unwrap_or(0);
            let v = match total.as_u64_ratio() {
                Some((n, 1)) => Val::Int(n),
                Some((n, d)) => Val::Ratio(n, d),
                None => Val::Exact(Box::new(total.clone())),
            };
            match out.last_mut() {
                Some(l) if l.0 == rel => l.1 = v,
                _ => {
                    out.push((rel, v));
                    origins.push(who);
                }
            }
            last = Some(total.clone());
        }
    }
    (out, origins)
}
