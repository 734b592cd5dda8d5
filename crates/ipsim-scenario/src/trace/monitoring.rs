//! Cloud Monitoring `timeSeries` exports (`ListTimeSeriesResponse` JSON) of
//! `run.googleapis.com/container/instance_count` or `run.googleapis.com/request_count`.
//!
//! `int64Value` is a string, `doubleValue` a number; points come newest first; there is one
//! series per revision and state (`active`, `idle`), and they add up. Series are keyed by the
//! `service_name` resource label; the first point of each later `revision_name` is a swap.
//! An export is a JSON document, so it is held in memory as compact points per service.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue as JsonText;

use crate::error::ScenarioError;
use crate::exact::{Exact, ParseError};

/// Which metric the export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `container/instance_count`: instances.
    InstanceCount,
    /// `request_count`: requests per interval, read as requests per second.
    RequestCount,
}

/// One service's demand from the export.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSeries {
    /// (time in ms since t = 0, value: instances or requests per second), ascending; values
    /// exact on the numbers as written (a rate is the count over the interval, a rational).
    pub points: Vec<(u64, Exact)>,
    /// Times at which a new revision first appears (after the first revision).
    pub swaps: Vec<u64>,
}

/// The export read and summed per service.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The metric.
    pub metric: Metric,
    /// Per service name.
    pub services: BTreeMap<String, ServiceSeries>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawExport {
    #[serde(default)]
    time_series: Vec<RawSeries>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    execution_errors: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawMetric {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize, Default)]
struct RawResource {
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawSeries {
    metric: RawMetric,
    #[serde(default)]
    resource: RawResource,
    #[serde(default)]
    points: Vec<RawPoint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawInterval {
    #[serde(default)]
    start_time: Option<String>,
    end_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawValue {
    #[serde(default)]
    int64_value: Option<serde_json::Value>,
    /// Kept as its JSON text, to be read exactly.
    #[serde(default)]
    double_value: Option<Box<JsonText>>,
}

#[derive(Deserialize)]
struct RawPoint {
    interval: RawInterval,
    value: RawValue,
}

fn ts(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not an RFC 3339 time"))
}

/// Reads an export. `start` is the clock time of t = 0 (`None`: the earliest point).
pub fn read(path: &Path, start: Option<jiff::Timestamp>) -> Result<Export, Vec<ScenarioError>> {
    let err = |p: String, m: String| vec![ScenarioError::new(path, p, m)];
    let text = std::fs::read(path)
        .map_err(|e| err(String::new(), format!("cannot read the export: {e}")))?;
    let mut de = serde_json::Deserializer::from_slice(&text);
    let raw: RawExport = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        let (l, c) = (inner.line() as u64, inner.column() as u64);
        vec![ScenarioError::new(path, e.path().to_string(), inner.to_string()).at(Some(l), Some(c))]
    })?;
    if raw
        .next_page_token
        .as_deref()
        .is_some_and(|t| !t.is_empty())
    {
        return Err(err("nextPageToken".into(), "the export has more pages (nextPageToken is set): fetch every page and merge their timeSeries".into()));
    }
    if !raw.execution_errors.is_empty() {
        return Err(err(
            "executionErrors".into(),
            "the export reports execution errors, so its data may be incomplete".into(),
        ));
    }
    if raw.time_series.is_empty() {
        return Err(err(
            "timeSeries".into(),
            "the export has no time series".into(),
        ));
    }
    let mut metric = None;
    let mut errs = Vec::new();
    // (service) -> time -> summed value; (service) -> revision -> first time
    let mut sums: BTreeMap<String, BTreeMap<i64, Exact>> = BTreeMap::new();
    let mut revisions: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (i, s) in raw.time_series.iter().enumerate() {
        let sp = format!("timeSeries[{i}]");
        let m = match s.metric.kind.as_str() {
            "run.googleapis.com/container/instance_count" => Metric::InstanceCount,
            "run.googleapis.com/request_count" => Metric::RequestCount,
            other => {
                errs.push(ScenarioError::new(path, format!("{sp}.metric.type"), format!(
                    "metric {other:?} is not run.googleapis.com/container/instance_count or run.googleapis.com/request_count"
                )));
                continue;
            }
        };
        if *metric.get_or_insert(m) != m {
            errs.push(ScenarioError::new(
                path,
                format!("{sp}.metric.type"),
                "an export must hold one metric; this series has another",
            ));
            continue;
        }
        let Some(service) = s.resource.labels.get("service_name") else {
            errs.push(ScenarioError::new(
                path,
                format!("{sp}.resource.labels"),
                "the series has no service_name label",
            ));
            continue;
        };
        let revision = s
            .resource
            .labels
            .get("revision_name")
            .cloned()
            .unwrap_or_default();
        for (j, p) in s.points.iter().enumerate() {
            let pp = format!("{sp}.points[{j}]");
            let end = match ts(&p.interval.end_time) {
                Ok(t) => t,
                Err(m) => {
                    errs.push(ScenarioError::new(
                        path,
                        format!("{pp}.interval.endTime"),
                        m,
                    ));
                    continue;
                }
            };
            let negative = |v: &dyn std::fmt::Display| format!("{v} is not a count of 0 or more");
            let v = match (&p.value.int64_value, &p.value.double_value) {
                (Some(serde_json::Value::String(s)), None) => match s.parse::<i64>() {
                    Ok(v) => u64::try_from(v).map(Exact::int).map_err(|_| negative(&v)),
                    Err(_) => Err(format!("int64Value {s:?} is not an integer")),
                },
                (Some(serde_json::Value::Number(n)), None) => match (n.as_u64(), n.as_f64()) {
                    (Some(u), _) => Ok(Exact::int(u)),
                    (None, Some(f)) => Exact::from_f64_decimal(f).ok_or_else(|| negative(&f)),
                    _ => Err("int64Value is not a number".to_string()),
                },
                (None, Some(d)) => Exact::parse(d.get()).map_err(|e| match e {
                    ParseError::Negative => negative(&d.get()),
                    e => format!("doubleValue {} is {e}", d.get()),
                }),
                _ => Err(
                    "the value must hold exactly one of int64Value (a string) and doubleValue"
                        .to_string(),
                ),
            };
            let mut v = match v {
                Ok(v) => v,
                Err(m) => {
                    errs.push(ScenarioError::new(path, format!("{pp}.value"), m));
                    continue;
                }
            };
            if m == Metric::RequestCount {
                let start_t = p.interval.start_time.as_deref().map(ts).transpose();
                match start_t {
                    Ok(Some(st)) if st < end => {
                        let ms = (end.as_millisecond() - st.as_millisecond()).unsigned_abs();
                        v = v.mul(&Exact::ratio(1000, ms).unwrap_or_else(Exact::zero));
                    }
                    _ => {
                        errs.push(ScenarioError::new(path, format!("{pp}.interval"), "a request_count point needs startTime before endTime (export it with an alignment period)"));
                        continue;
                    }
                }
            }
            let t = end.as_millisecond();
            let sum = sums
                .entry(service.clone())
                .or_default()
                .entry(t)
                .or_insert_with(Exact::zero);
            *sum = sum.add(&v);
            let first = revisions
                .entry(service.clone())
                .or_default()
                .entry(revision.clone())
                .or_insert(t);
            *first = (*first).min(t);
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let t0 = match start {
        Some(s) => s.as_millisecond(),
        None => sums
            .values()
            .filter_map(|m| m.keys().next().copied())
            .min()
            .unwrap_or(0),
    };
    let mut services = BTreeMap::new();
    for (name, points) in sums {
        let mut out = Vec::with_capacity(points.len());
        for (t, v) in points {
            match u64::try_from(t - t0) {
                Ok(rel) => out.push((rel, v)),
                Err(_) => errs.push(ScenarioError::new(
                    path,
                    "timeSeries",
                    format!("service {name:?} has a point before the scenario start"),
                )),
            }
        }
        let mut firsts: Vec<i64> = revisions
            .get(&name)
            .map(|r| r.values().copied().collect())
            .unwrap_or_default();
        firsts.sort_unstable();
        let swaps = firsts
            .iter()
            .skip(1)
            .filter_map(|&t| u64::try_from(t - t0).ok())
            .collect();
        services.insert(name, ServiceSeries { points: out, swaps });
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Export {
        metric: metric.unwrap_or(Metric::InstanceCount),
        services,
    })
}
