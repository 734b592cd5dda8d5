//! CSV traces: `time,workload,instances` or `time,workload,rps`, time as RFC 3339 or as an
//! offset (`"90s"`, `"1h30m"`, or integer milliseconds), rows in time order.
//!
//! The file is opened once at load ([`Opened`]): its header says the unit, then
//! [`CsvTrace::check`] reads every row as a stream and reports every bad one before the run.
//! A regular file is then opened again and streamed by [`CsvFeed`] while the run goes: memory
//! holds one row and, per workload, the idle-delay window, never the file. Anything else (a
//! named pipe, `<(...)`) cannot be read twice, so the checking pass keeps its values as compact
//! points (16 bytes a value, at most [`MAX_HELD`]) and the feed replays them.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipsim_core::{DemandFeed, FeedPoint};

use crate::bounded::{LineLimit, MAX_LINE_BYTES, excerpt, short};
use crate::demand::{INSTANCE_CAP, IdleWindow, Requests, instances};
use crate::duration::Duration;
use crate::error::ScenarioError;
use crate::exact::{Exact, ParseError};

/// What the third column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvUnit {
    /// Instance counts.
    Instances,
    /// Requests per second.
    Rps,
}

/// A workload fed by a series of the trace.
#[derive(Debug, Clone)]
pub struct Target {
    /// Workload index.
    pub workload: usize,
    /// The request rule, for rps traces.
    pub requests: Option<Requests>,
    /// Idle delay in ms (0: none).
    pub idle_delay_ms: u64,
}

/// A CSV trace and the workloads its series feed.
#[derive(Debug, Clone)]
pub struct CsvTrace {
    /// The file.
    pub path: PathBuf,
    /// Its unit, from the header.
    pub unit: CsvUnit,
    /// Series name to workloads.
    pub targets: BTreeMap<String, Vec<Target>>,
    /// Skip rows of series no workload takes.
    pub ignore_unknown: bool,
    /// Clock time of t = 0 for RFC 3339 rows (`None`: the first row's time).
    pub start: Option<jiff::Timestamp>,
    /// The values kept by the checking pass when the file cannot be opened again.
    pub held: Option<Arc<Vec<Held>>>,
}

/// One value of a trace kept in memory: at `t`, workload `workload` wants `instances`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// Time in ms.
    pub t: u64,
    /// Workload index.
    pub workload: u32,
    /// Instances, after the request rule.
    pub instances: u32,
}

/// The most values kept of a trace that is not a regular file, or that a study holds (16
/// bytes each: 256 MB; a week of 1,000 services at one row a minute is 10,080,000).
pub const MAX_HELD: usize = 16_000_000;

type Reader = csv::Reader<LineLimit<BufReader<File>>>;

/// A trace opened at load, its header read.
#[derive(Debug)]
pub struct Opened {
    reader: Reader,
    /// What the third column holds.
    pub unit: CsvUnit,
    /// Whether it is a regular file, which can be opened again to stream it at run time.
    pub regular: bool,
}

/// Most row errors reported for one file; the rest are counted.
const MAX_ROW_ERRORS: usize = 20;
/// The largest value a row may hold.
const MAX_VALUE: u64 = 1_000_000_000;

fn open(path: &Path) -> Result<(Reader, bool), ScenarioError> {
    let f = File::open(path)
        .map_err(|e| ScenarioError::new(path, "", format!("cannot read the trace: {e}")))?;
    let regular = f.metadata().is_ok_and(|m| m.is_file());
    let r = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(LineLimit::new(BufReader::new(f), MAX_LINE_BYTES));
    Ok((r, regular))
}

/// Opens the trace, reads the header and says what the third column holds.
pub fn open_trace(path: &Path) -> Result<Opened, ScenarioError> {
    let (mut reader, regular) = open(path)?;
    let unit = header_unit(path, &mut reader)?;
    Ok(Opened {
        reader,
        unit,
        regular,
    })
}

fn header_unit(path: &Path, r: &mut Reader) -> Result<CsvUnit, ScenarioError> {
    let h = r.headers().map_err(|e| csv_error(path, &e))?.clone();
    let cols: Vec<&str> = h.iter().collect();
    match cols.as_slice() {
        ["time", "workload", "instances"] => Ok(CsvUnit::Instances),
        ["time", "workload", "rps"] => Ok(CsvUnit::Rps),
        _ => Err(ScenarioError::new(
            path,
            "header",
            format!(
                "the header is {}; expected `time,workload,instances` or `time,workload,rps`",
                excerpt(&h.iter().collect::<Vec<_>>().join(","))
            ),
        )
        .at(Some(1), None)),
    }
}

fn csv_error(path: &Path, e: &csv::Error) -> ScenarioError {
    let line = e.position().map(|p| p.line());
    let msg = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "the row is not valid UTF-8; traces must be UTF-8 text".to_string()
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("the row has {len} fields; expected {expected_len} (time,workload,value)")
        }
        csv::ErrorKind::Io(io) => format!("cannot read the trace: {io}"),
        _ => e.to_string(),
    };
    ScenarioError::new(path, "", msg).at(line, None)
}

/// A parsed row.
#[derive(Debug, Clone)]
struct Row {
    t: u64,
    series: String,
    /// The value exactly as written.
    value: Exact,
}

/// Turns rows into times relative to the scenario start.
#[derive(Debug, Clone)]
struct Clock {
    start: Option<jiff::Timestamp>,
    kind: Option<bool>, // Some(true): RFC 3339 rows; Some(false): offsets
}

impl Clock {
    fn time(&mut self, field: &str) -> Result<u64, String> {
        let offset = Duration::parse(field);
        let is_offset = offset.is_ok();
        match self.kind {
            Some(k) if k == is_offset => {
                return Err(format!(
                    "time {} mixes {} with the {} used above; use one kind throughout",
                    excerpt(field),
                    if is_offset {
                        "an offset"
                    } else {
                        "a clock time"
                    },
                    if is_offset { "clock times" } else { "offsets" },
                ));
            }
            _ => self.kind = Some(!is_offset),
        }
        if let Ok(d) = offset {
            return Ok(d.ms());
        }
        let ts: jiff::Timestamp = field.parse().map_err(|_| {
            format!("time {} is neither an RFC 3339 time (2025-01-01T00:00:00Z) nor an offset (\"90s\", \"1h30m\", milliseconds)", excerpt(field))
        })?;
        let start = *self.start.get_or_insert(ts);
        let ms = ts.as_millisecond() - start.as_millisecond();
        u64::try_from(ms).map_err(|_| format!("time {field} is before the scenario start {start}"))
    }
}

/// The error for a row whose value is more than [`INSTANCE_CAP`] instances.
fn too_many(path: &Path, row: &Row, line: Option<u64>) -> ScenarioError {
    ScenarioError::new(
        path,
        "value",
        format!(
            "at {} the value for {:?} is more than {} instances, the most ipsim accepts",
            Duration(row.t),
            row.series,
            INSTANCE_CAP
        ),
    )
    .at(line, None)
}

fn parse_row(rec: &csv::StringRecord, clock: &mut Clock) -> Result<Row, (String, String)> {
    let t = clock.time(&rec[0]).map_err(|m| ("time".to_string(), m))?;
    let series = rec[1].to_string();
    if series.is_empty() {
        return Err(("workload".into(), "the workload name is empty".into()));
    }
    let text = &rec[2];
    let value = Exact::parse(text).map_err(|e| {
        let msg = match e {
            ParseError::NotANumber => format!("{} is not a number", excerpt(text)),
            ParseError::NotFinite | ParseError::Negative => {
                format!("{} is not a finite number of 0 or more", short(text))
            }
            ParseError::OutOfRange => format!("{} is {e}", short(text)),
        };
        ("value".to_string(), msg)
    })?;
    if value > Exact::int(MAX_VALUE) {
        return Err((
            "value".into(),
            format!("{} is absurdly large (at most {MAX_VALUE})", short(text)),
        ));
    }
    Ok(Row { t, series, value })
}

impl CsvTrace {
    /// Reads the whole file from `opened` and reports every bad row (up to 20, then a count);
    /// keeps its values in [`CsvTrace::held`] unless it is a regular file.
    pub fn check(&mut self, opened: Opened) -> Result<(), Vec<ScenarioError>> {
        let path = &self.path;
        let mut r = opened.reader;
        let mut held = (!opened.regular).then(Vec::new);
        let mut errs = Vec::new();
        let mut more = 0usize;
        let mut clock = Clock {
            start: self.start,
            kind: None,
        };
        let mut last_t = None;
        let mut last_at: BTreeMap<String, u64> = BTreeMap::new();
        let mut n_rows = 0u64;
        let mut rec = csv::StringRecord::new();
        let mut push = |errs: &mut Vec<ScenarioError>, e: ScenarioError| {
            if errs.len() < MAX_ROW_ERRORS {
                errs.push(e)
            } else {
                more += 1
            }
        };
        loop {
            match r.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                    push(&mut errs, csv_error(path, &e));
                    if fatal {
                        break;
                    }
                    continue;
                }
            }
            n_rows += 1;
            let line = rec.position().map_or(0, |p| p.line());
            let row = match parse_row(&rec, &mut clock) {
                Ok(row) => row,
                Err((col, msg)) => {
                    push(
                        &mut errs,
                        ScenarioError::new(path, col, msg).at(Some(line), None),
                    );
                    continue;
                }
            };
            if let Some(prev) = last_t {
                if row.t < prev {
                    push(&mut errs, ScenarioError::new(path, "time", format!(
                        "time goes backwards: {} is before the previous row's {}; sort the trace by time",
                        Duration(row.t), Duration(prev)
                    )).at(Some(line), None));
                    continue;
                }
            }
            last_t = Some(row.t);
            if !self.targets.contains_key(&row.series) && !self.ignore_unknown {
                push(&mut errs, ScenarioError::new(path, "workload", format!(
                    "no workload takes series {:?} from this trace; declare a workload with demand {{\"type\": \"trace\"}} for it, or set ignore_unknown",
                    row.series
                )).at(Some(line), None));
                continue;
            }
            if last_at.get(&row.series) == Some(&row.t) {
                push(
                    &mut errs,
                    ScenarioError::new(
                        path,
                        "time",
                        format!(
                            "a second value for {:?} at {}; give one value per workload and time",
                            row.series,
                            Duration(row.t)
                        ),
                    )
                    .at(Some(line), None),
                );
                continue;
            }
            let targets = self.targets.get(&row.series).into_iter().flatten();
            let counts: Option<Vec<(usize, u32)>> = targets
                .map(|t| instances(&row.value, t.requests.as_ref()).map(|n| (t.workload, n)))
                .collect();
            let Some(counts) = counts else {
                push(&mut errs, too_many(path, &row, Some(line)));
                continue;
            };
            if let Some(h) = held.as_mut() {
                if h.len() + counts.len() > MAX_HELD {
                    push(&mut errs, ScenarioError::new(path, "", format!(
                        "the trace is not a regular file (a pipe?), so ipsim keeps its values in memory, and it has more than {MAX_HELD}; write it to a file, which is streamed"
                    )).at(Some(line), None));
                    break;
                }
                h.extend(counts.into_iter().map(|(w, n)| Held {
                    t: row.t,
                    workload: w as u32,
                    instances: n,
                }));
            }
            last_at.insert(row.series.clone(), row.t);
        }
        if n_rows == 0 && errs.is_empty() {
            errs.push(
                ScenarioError::new(path, "", "the trace has a header but no rows")
                    .at(Some(1), None),
            );
        }
        for series in self.targets.keys() {
            if !last_at.contains_key(series) && errs.is_empty() {
                errs.push(ScenarioError::new(path, "workload", format!("the trace has no rows for series {series:?}, which a workload takes from it")));
            }
        }
        if more > 0 {
            errs.push(ScenarioError::new(
                path,
                "",
                format!("... and {more} more bad rows"),
            ));
        }
        if errs.is_empty() {
            self.held = held.map(Arc::new);
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// Reads the file once more, with every check of [`CsvTrace::check`], and keeps its values
    /// in [`CsvTrace::held`] even if it is a regular file (at most [`MAX_HELD`]): every later
    /// run replays them from memory, shared by `Arc` across clones and threads, instead of
    /// reading the file again. Studies hold their traces so that their many runs parse them
    /// once. Nothing changes on an error.
    pub fn hold(&mut self) -> Result<(), Vec<ScenarioError>> {
        if self.held.is_some() {
            return Ok(());
        }
        let mut opened = open_trace(&self.path).map_err(|e| vec![e])?;
        opened.regular = false;
        self.check(opened)
    }

    /// The trace as a feed for the core: the file opened again, or the values held.
    pub fn feed(&self) -> Result<CsvFeed, ScenarioError> {
        let reader = match &self.held {
            Some(_) => None,
            None => Some(open(&self.path)?.0),
        };
        let mut windows = BTreeMap::new();
        for ts in self.targets.values() {
            for t in ts {
                if t.idle_delay_ms > 0 {
                    windows.insert(t.workload, IdleWindow::new(t.idle_delay_ms));
                }
            }
        }
        Ok(CsvFeed {
            trace: self.clone(),
            reader,
            clock: Clock {
                start: self.start,
                kind: None,
            },
            next_held: 0,
            values: VecDeque::new(),
            out: VecDeque::new(),
            windows,
            reeval: BinaryHeap::new(),
            scheduled: BTreeMap::new(),
            error: None,
            done: false,
        })
    }
}

/// A CSV trace read as the run advances.
#[derive(Debug)]
pub struct CsvFeed {
    trace: CsvTrace,
    /// The file, streamed (`None`: the values are held).
    reader: Option<Reader>,
    clock: Clock,
    /// The next held value to hand on.
    next_held: usize,
    /// Values read and not yet applied, in order.
    values: VecDeque<Held>,
    out: VecDeque<FeedPoint>,
    windows: BTreeMap<usize, IdleWindow>,
    reeval: BinaryHeap<Reverse<(u64, usize)>>,
    /// Per workload, the time its live entry in `reeval` is for: other entries are stale.
    /// Without it, every row of a falling demand queued one more entry for the same window
    /// end, and each entry carried itself on to the next end: work quadratic in the rows.
    scheduled: BTreeMap<usize, u64>,
    /// Set if the file could not be read to the end (it changed since the check).
    pub error: Option<ScenarioError>,
    done: bool,
}

impl CsvFeed {
    /// Makes `values` hold the next values, if any are left.
    fn fill(&mut self) {
        if !self.values.is_empty() {
            return;
        }
        if let Some(h) = &self.trace.held {
            if let Some(&v) = h.get(self.next_held) {
                self.next_held += 1;
                self.values.push_back(v);
            }
            return;
        }
        if let Some(row) = self.read_row() {
            self.values_of(row);
        }
    }

    fn read_row(&mut self) -> Option<Row> {
        let mut rec = csv::StringRecord::new();
        let reader = self.reader.as_mut()?;
        while !self.done {
            match reader.read_record(&mut rec) {
                Ok(false) => self.done = true,
                Ok(true) => {
                    let line = rec.position().map_or(0, |p| p.line());
                    match parse_row(&rec, &mut self.clock) {
                        Ok(row) if self.trace.targets.contains_key(&row.series) => {
                            return Some(row);
                        }
                        Ok(_) => {}
                        Err((col, msg)) => {
                            self.error = Some(
                                ScenarioError::new(&self.trace.path, col, msg).at(Some(line), None),
                            );
                            self.done = true;
                        }
                    }
                }
                Err(e) => {
                    self.error = Some(csv_error(&self.trace.path, &e));
                    self.done = true;
                }
            }
        }
        None
    }

    /// The row's value for each workload that takes its series.
    fn values_of(&mut self, row: Row) {
        let Some(targets) = self.trace.targets.get(&row.series) else {
            return;
        };
        for t in targets {
            // The checking pass refused counts above the cap; a file changed since ends here.
            let Some(n) = instances(&row.value, t.requests.as_ref()) else {
                self.error = Some(too_many(&self.trace.path, &row, None));
                self.done = true;
                self.values.clear();
                return;
            };
            self.values.push_back(Held {
                t: row.t,
                workload: t.workload as u32,
                instances: n,
            });
        }
    }

    fn apply(&mut self, v: Held) {
        let (t, wl, n) = (v.t, v.workload as usize, v.instances);
        match self.windows.get_mut(&wl) {
            Some(w) => {
                if let Some(v) = w.set(t, n) {
                    self.out.push_back(FeedPoint {
                        time_ms: t,
                        workload: wl,
                        instances: v,
                    });
                }
                schedule(&mut self.scheduled, &mut self.reeval, wl, w.next_change());
            }
            None => self.out.push_back(FeedPoint {
                time_ms: t,
                workload: wl,
                instances: n,
            }),
        }
    }

    fn reevaluate(&mut self, t: u64) {
        while let Some(&Reverse((at, wl))) = self.reeval.peek() {
            if at != t {
                break;
            }
            self.reeval.pop();
            if self.scheduled.get(&wl) != Some(&at) {
                continue; // superseded by a later schedule
            }
            self.scheduled.remove(&wl);
            if let Some(w) = self.windows.get_mut(&wl) {
                if let Some(v) = w.eval(t) {
                    self.out.push_back(FeedPoint {
                        time_ms: t,
                        workload: wl,
                        instances: v,
                    });
                }
                schedule(&mut self.scheduled, &mut self.reeval, wl, w.next_change());
            }
        }
    }
}

/// Re-evaluates workload `wl`'s window at `next`, once however often it is asked.
fn schedule(
    scheduled: &mut BTreeMap<usize, u64>,
    reeval: &mut BinaryHeap<Reverse<(u64, usize)>>,
    wl: usize,
    next: Option<u64>,
) {
    let Some(next) = next else { return };
    if scheduled.insert(wl, next) != Some(next) {
        reeval.push(Reverse((next, wl)));
    }
}

impl DemandFeed for CsvFeed {
    fn next_point(&mut self) -> Option<FeedPoint> {
        loop {
            if let Some(p) = self.out.pop_front() {
                return Some(p);
            }
            self.fill();
            let row_t = self.values.front().map(|v| v.t);
            let re_t = self.reeval.peek().map(|Reverse((t, _))| *t);
            match (row_t, re_t) {
                (None, None) => return None,
                (Some(rt), Some(et)) if et < rt => self.reevaluate(et),
                (None, Some(et)) => self.reevaluate(et),
                (Some(_), _) => {
                    if let Some(v) = self.values.pop_front() {
                        self.apply(v);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demand::idle_delay;
    use ipsim_core::DemandPoint;

    /// A falling demand, one row a minute, under a 15-minute idle delay: the feed gives the
    /// same points as the idle delay applied to the whole step function, and it keeps one
    /// pending re-evaluation per workload (every row used to queue one more, each carried
    /// on to the next window end: 4x the rows took 14x the time).
    #[test]
    fn a_falling_trace_under_idle_delay_keeps_one_reevaluation_and_the_exact_output() {
        let n = 3_000u64;
        let dir = std::env::temp_dir().join(format!("ipsim-idle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        let mut text = String::from("time,workload,instances\n");
        for m in 0..n {
            text.push_str(&format!("{m}m,web,{}\n", n - m));
        }
        std::fs::write(&path, text).unwrap();
        let delay = 15 * 60_000;
        let trace = CsvTrace {
            path: path.clone(),
            unit: CsvUnit::Instances,
            targets: BTreeMap::from([(
                "web".to_string(),
                vec![Target {
                    workload: 0,
                    requests: None,
                    idle_delay_ms: delay,
                }],
            )]),
            ignore_unknown: false,
            start: None,
            held: None,
        };
        let mut feed = trace.feed().unwrap();
        let mut got = Vec::new();
        let mut most_pending = 0;
        while let Some(p) = feed.next_point() {
            most_pending = most_pending.max(feed.reeval.len());
            got.push(DemandPoint {
                time_ms: p.time_ms,
                instances: p.instances,
            });
        }
        assert!(feed.error.is_none());
        let whole: Vec<DemandPoint> = (0..n)
            .map(|m| DemandPoint {
                time_ms: m * 60_000,
                instances: (n - m) as u32,
            })
            .collect();
        assert_eq!(got, idle_delay(&whole, delay));
        assert_eq!(got.len() as u64, n, "one drop a minute, 15 minutes late");
        assert_eq!(got[1].time_ms, 16 * 60_000, "the drop at 1m shows at 16m");
        // One live entry, and at most one superseded entry waiting for its time.
        assert!(most_pending <= 2, "{most_pending} re-evaluations pending");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
