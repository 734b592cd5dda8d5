//! CSV traces: `time,workload,instances` or `time,workload,rps`, time as RFC 3339 or as an
//! offset (`"90s"`, `"1h30m"`, or integer milliseconds), rows in time order; spaces around a
//! field are ignored.
//!
//! A trace is read once per run. At load only its header is read ([`open_trace`], which says
//! the unit). The row rules (`Rules`: each field parses, time order, one value per series
//! and time, no unknown series unless `ignore_unknown`, the instance cap after the request
//! rule, rows for every series taken, a row at all) are applied by whoever reads the rows:
//! - the run's feed ([`CsvFeed`]) streams the file while the run goes and ends the run at the
//!   first bad row with its file, column and line; memory holds a small read-ahead of parsed
//!   values and, per workload, the idle-delay window, never the file;
//! - [`CsvTrace::check_rows`] (`ipsim validate`) reads the whole file and reports up to 20 bad
//!   rows, then a count;
//! - [`CsvTrace::hold`] reads it whole with the same report and keeps its values in
//!   [`CsvTrace::held`] as compact points (16 bytes a value, at most [`MAX_HELD`]), which every
//!   later run replays: for studies that run many times, and at load for a trace that is not
//!   a regular file (a named pipe, `<(...)`), which cannot be read twice.
//!
//! A row costs little: one reused record, names mapped to indexes once, whole numbers and
//! `YYYY-MM-DDTHH:MM:SSZ` times parsed directly (anything else by the general parsers). A
//! good row in that form is read as bytes, without a UTF-8 check of its own (its fields
//! show it is UTF-8), its time often the previous row's and its series often the one that
//! followed the previous row's last time; any other row goes through every rule, one by
//! one (`Rules::quick_row`, `Rules::full_row`).
//! A feed can let go of its file between read-aheads and reopen it where it left off
//! ([`CsvFeed::close`]), so that a run over thousands of trace files keeps a bounded number
//! open (see `trace::merge`).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipsim_core::{DemandFeed, FeedPoint};

use crate::bounded::{LineLimit, MAX_LINE_BYTES, excerpt, short};
use crate::demand::{INSTANCE_CAP, IdleWindow, Requests, count, instances};
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
#[derive(Debug, Clone, PartialEq)]
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
    /// The values of the whole trace, read and checked once ([`CsvTrace::hold`]); a run
    /// replays them instead of reading the file.
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

type Reader = csv::Reader<LineLimit<File>>;

/// A trace opened at load, its header read.
#[derive(Debug)]
pub struct Opened {
    reader: Reader,
    /// What the third column holds.
    pub unit: CsvUnit,
    /// Whether it is a regular file, which each run opens again to stream it; anything else
    /// is read whole at load ([`CsvTrace::check`]).
    pub regular: bool,
}

/// Most row errors reported for one file; the rest are counted.
const MAX_ROW_ERRORS: usize = 20;
/// The largest value a row may hold.
const MAX_VALUE: u64 = 1_000_000_000;
/// Values a feed reads ahead each time it reads its file.
const READ_AHEAD: usize = 64;
/// The csv reader's buffer.
const BUFFER_BYTES: usize = 32 << 10;

/// Where a reader starts in its file: the byte offset and the line there (1 at the start).
#[derive(Debug, Clone, Copy)]
struct Mark {
    byte: u64,
    line: u64,
}

const FILE_START: Mark = Mark { byte: 0, line: 1 };

/// Opens `path` at `at`; from the start of the file the header is to be read.
fn open_at(path: &Path, at: Mark) -> Result<(Reader, bool), ScenarioError> {
    let cannot = |e: std::io::Error| {
        ScenarioError::new(path, "", format!("cannot read the trace: {e}"))
            .at((at.line > 1).then_some(at.line), None)
    };
    let mut f = File::open(path).map_err(cannot)?;
    let regular = f.metadata().is_ok_and(|m| m.is_file());
    if at.byte > 0 {
        f.seek(SeekFrom::Start(at.byte)).map_err(cannot)?;
    }
    let r = csv::ReaderBuilder::new()
        .has_headers(at.byte == 0)
        .buffer_capacity(BUFFER_BYTES)
        .from_reader(LineLimit::from_line(f, MAX_LINE_BYTES, at.line));
    Ok((r, regular))
}

/// Opens the trace, reads the header and says what the third column holds.
pub fn open_trace(path: &Path) -> Result<Opened, ScenarioError> {
    let (mut reader, regular) = open_at(path, FILE_START)?;
    let unit = header_unit(path, &mut reader)?;
    Ok(Opened {
        reader,
        unit,
        regular,
    })
}

fn header_unit(path: &Path, r: &mut Reader) -> Result<CsvUnit, ScenarioError> {
    let h = r.byte_headers().map_err(|e| csv_error(path, &e, 1))?;
    let cols: Vec<String> = h
        .iter()
        .map(|c| String::from_utf8_lossy(c.trim_ascii()).into_owned())
        .collect();
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    match cols.as_slice() {
        ["time", "workload", "instances"] => Ok(CsvUnit::Instances),
        ["time", "workload", "rps"] => Ok(CsvUnit::Rps),
        _ => Err(ScenarioError::new(
            path,
            "header",
            format!(
                "the header is {}; expected `time,workload,instances` or `time,workload,rps`",
                excerpt(&cols.join(","))
            ),
        )
        .at(Some(1), None)),
    }
}

/// A csv error; `base` is the file's line where the reader started.
fn csv_error(path: &Path, e: &csv::Error, base: u64) -> ScenarioError {
    let line = e.position().map(|p| p.line() + base - 1);
    let msg = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => not_utf8(),
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

fn not_utf8() -> String {
    "the row is not valid UTF-8; traces must be UTF-8 text".to_string()
}

/// Turns rows into times relative to the scenario start.
#[derive(Debug, Clone)]
struct Clock {
    start: Option<jiff::Timestamp>,
    /// `start` in ms since the Unix epoch.
    start_ms: Option<i64>,
    kind: Option<bool>, // Some(true): RFC 3339 rows; Some(false): offsets
    /// The text and time of the last row read by [`Clock::quick`]: rows at one time follow
    /// each other, so most rows repeat it.
    last: (Vec<u8>, u64),
}

impl Clock {
    fn new(start: Option<jiff::Timestamp>) -> Clock {
        Clock {
            start,
            start_ms: start.map(|s| s.as_millisecond()),
            kind: None,
            last: (Vec::new(), 0),
        }
    }

    /// The time of `field` in the common cases once the kind is known (`YYYY-MM-DDTHH:MM:SSZ`
    /// at or after the start, whole ms), read as bytes: what [`Clock::time`] gives for it.
    /// `None`: anything else, left to [`Clock::time`] (nothing is changed then but the cache).
    fn quick(&mut self, field: &[u8]) -> Option<u64> {
        if !field.is_empty() && same_bytes(field, &self.last.0) {
            return Some(self.last.1);
        }
        let t = match self.kind? {
            true => u64::try_from(utc_seconds_ms(field)? - self.start_ms?).ok()?,
            false => digits(field, 18)?,
        };
        self.last.0.clear();
        self.last.0.extend_from_slice(field);
        self.last.1 = t;
        Some(t)
    }

    fn time(&mut self, field: &str) -> Result<u64, String> {
        // The common cases once the kind is known: `2025-01-01T00:00:00Z` and whole ms.
        if let Some(t) = self.quick(field.as_bytes()) {
            return Ok(t);
        }
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
        self.start_ms = Some(start.as_millisecond());
        let ms = ts.as_millisecond() - start.as_millisecond();
        u64::try_from(ms).map_err(|_| format!("time {field} is before the scenario start {start}"))
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` as ms since the Unix epoch, `None` for anything else (which the
/// general RFC 3339 parser reads): the form of most traces, read without a general parser.
fn utc_seconds_ms(b: &[u8]) -> Option<i64> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Years at the edges of jiff's range are left to it.
    if !(1..=9998).contains(&y) {
        return None;
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > days_in || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000)
}

/// `a == b`, without a call to `memcmp` for the short fields of a row (a time, a name): two
/// overlapping loads of 4, 8 or 16 bytes from each end compare up to 32 bytes.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    fn ends<const N: usize>(a: &[u8], b: &[u8]) -> bool {
        let n = a.len();
        let head = |x: &[u8]| <[u8; N]>::try_from(&x[..N]).ok();
        let tail = |x: &[u8]| <[u8; N]>::try_from(&x[n - N..]).ok();
        head(a) == head(b) && tail(a) == tail(b)
    }
    if a.len() != b.len() {
        return false;
    }
    match a.len() {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => ends::<4>(a, b),
        8..16 => ends::<8>(a, b),
        16..=32 => ends::<16>(a, b),
        _ => a == b,
    }
}

/// `b` as a whole number if it is 1 to `most` ASCII digits (at most 18: no overflow).
fn digits(b: &[u8], most: usize) -> Option<u64> {
    if b.is_empty() || b.len() > most {
        return None;
    }
    b.iter().try_fold(0u64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0'))
    })
}

/// Pushes `value` at `t` once for each workload `targets` feed, under its request rule;
/// `false`, with nothing pushed, if it is above the instance cap for any of them: values
/// reach `out` only once the whole row is good.
fn push_values(targets: &[Target], value: &Value, t: u64, out: &mut Vec<Held>) -> bool {
    let start = out.len();
    for target in targets {
        let Some(instances) = value.instances(target.requests.as_ref()) else {
            out.truncate(start);
            return false;
        };
        out.push(Held {
            t,
            workload: target.workload as u32,
            instances,
        });
    }
    true
}

/// A row's value as written: a whole number (most rows), else exact.
#[derive(Debug, Clone)]
enum Value {
    Int(u64),
    Exact(Exact),
}

impl Value {
    fn instances(&self, requests: Option<&Requests>) -> Option<u32> {
        match (self, requests) {
            (Value::Int(n), None) => u32::try_from(*n).ok().filter(|&n| n <= INSTANCE_CAP),
            (Value::Int(n), Some(_)) => count(&Exact::int(*n), requests, INSTANCE_CAP),
            (Value::Exact(x), _) => instances(x, requests),
        }
    }
}

fn parse_value(text: &str) -> Result<Value, String> {
    if let Some(n) = digits(text.as_bytes(), 18) {
        if n > MAX_VALUE {
            return Err(format!(
                "{} is absurdly large (at most {MAX_VALUE})",
                short(text)
            ));
        }
        return Ok(Value::Int(n));
    }
    let value = Exact::parse(text).map_err(|e| match e {
        ParseError::NotANumber => format!("{} is not a number", excerpt(text)),
        ParseError::NotFinite | ParseError::Negative => {
            format!("{} is not a finite number of 0 or more", short(text))
        }
        ParseError::OutOfRange => format!("{} is {e}", short(text)),
    })?;
    if value > Exact::int(MAX_VALUE) {
        return Err(format!(
            "{} is absurdly large (at most {MAX_VALUE})",
            short(text)
        ));
    }
    Ok(Value::Exact(value))
}

/// FNV-1a: series names are short, and the default hasher costs more than the lookup.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The row rules of a CSV trace, one row at a time: the one owner of what a row may say,
/// used alike by the run's feed and by the checking pass.
#[derive(Debug, Clone)]
struct Rules {
    path: PathBuf,
    clock: Clock,
    ignore_unknown: bool,
    /// Series name to its index in `names`, `targets` and `last_at` (names in sorted order).
    index: HashMap<Box<[u8]>, usize, BuildHasherDefault<Fnv>>,
    names: Vec<String>,
    targets: Vec<Vec<Target>>,
    /// Per series, the time of its last value.
    last_at: Vec<Option<u64>>,
    last_t: Option<u64>,
    /// Rows read, bad ones included.
    rows: u64,
    /// Per series, the series of the row that followed its last row, and the series of the
    /// last row: a trace that gives its series in the same order at every time finds each
    /// name by one comparison ([`Rules::series`]).
    follows: Vec<usize>,
    prev: usize,
}

impl Rules {
    fn new(trace: &CsvTrace) -> Rules {
        Rules {
            path: trace.path.clone(),
            clock: Clock::new(trace.start),
            ignore_unknown: trace.ignore_unknown,
            index: trace
                .targets
                .keys()
                .enumerate()
                .map(|(i, k)| (k.as_bytes().into(), i))
                .collect(),
            names: trace.targets.keys().cloned().collect(),
            targets: trace.targets.values().cloned().collect(),
            last_at: vec![None; trace.targets.len()],
            last_t: None,
            rows: 0,
            follows: vec![0; trace.targets.len()],
            prev: 0,
        }
    }

    /// The index of series `name`, if a workload takes it.
    fn series(&mut self, name: &[u8]) -> Option<usize> {
        let guess = self.follows.get(self.prev).copied()?;
        let s = if self
            .names
            .get(guess)
            .is_some_and(|n| same_bytes(n.as_bytes(), name))
        {
            guess
        } else {
            let s = *self.index.get(name)?;
            self.follows[self.prev] = s;
            s
        };
        self.prev = s;
        Some(s)
    }

    /// [`Rules::row`] for a good row in the common form (each field as [`Clock::quick`], a
    /// series taken, a whole number): its values appended to `out`, and `true`. `false`:
    /// anything else, with nothing changed (but hints), for [`Rules::row`] to apply every
    /// rule to it. A row read here is valid UTF-8 without checking it: its time and number
    /// are ASCII, its name is a series name, and what trimming took off is ASCII.
    fn quick_row(&mut self, rec: &csv::ByteRecord, out: &mut Vec<Held>) -> bool {
        let (Some(time), Some(name), Some(value), 3) =
            (rec.get(0), rec.get(1), rec.get(2), rec.len())
        else {
            return false;
        };
        let name = name.trim_ascii();
        if name.is_empty() {
            return false;
        }
        let Some(t) = self.clock.quick(time.trim_ascii()) else {
            return false;
        };
        let Some(n) = digits(value.trim_ascii(), 18).filter(|&n| n <= MAX_VALUE) else {
            return false;
        };
        if self.last_t.is_some_and(|prev| t < prev) {
            return false;
        }
        let Some(s) = self.series(name) else {
            return false;
        };
        if self.last_at[s] == Some(t) {
            return false;
        }
        if !push_values(&self.targets[s], &Value::Int(n), t, out) {
            return false;
        }
        self.rows += 1;
        self.last_t = Some(t);
        self.last_at[s] = Some(t);
        true
    }

    fn err(&self, col: &str, msg: String, line: u64) -> ScenarioError {
        ScenarioError::new(&self.path, col, msg).at(Some(line), None)
    }

    /// Applies every rule to the record read at file line `line`, appending its values (one
    /// per workload taking its series) to `out`; `Ok(false)`: a row skipped (an unknown
    /// series under `ignore_unknown`).
    fn row(
        &mut self,
        rec: &csv::ByteRecord,
        line: u64,
        out: &mut Vec<Held>,
    ) -> Result<bool, ScenarioError> {
        if self.quick_row(rec, out) {
            return Ok(true);
        }
        self.full_row(rec, line, out)
    }

    /// [`Rules::row`] for any row: every rule, one after the other.
    fn full_row(
        &mut self,
        rec: &csv::ByteRecord,
        line: u64,
        out: &mut Vec<Held>,
    ) -> Result<bool, ScenarioError> {
        // The csv reader checks this too, but only against the first record it read: a file
        // reopened in the middle would take a short row as the measure.
        if rec.len() != 3 {
            let msg = format!(
                "the row has {} fields; expected 3 (time,workload,value)",
                rec.len()
            );
            return Err(self.err("", msg, line));
        }
        if std::str::from_utf8(rec.as_slice()).is_err() {
            return Err(self.err("", not_utf8(), line));
        }
        self.rows += 1;
        let field = |i: usize| {
            // Valid UTF-8 as a whole, so each field is; spaces around a field are ignored.
            std::str::from_utf8(rec.get(i).unwrap_or_default().trim_ascii()).unwrap_or_default()
        };
        let t = self
            .clock
            .time(field(0))
            .map_err(|m| self.err("time", m, line))?;
        let series = field(1);
        if series.is_empty() {
            return Err(self.err("workload", "the workload name is empty".into(), line));
        }
        let value = parse_value(field(2)).map_err(|m| self.err("value", m, line))?;
        if let Some(prev) = self.last_t {
            if t < prev {
                return Err(self.err("time", format!(
                    "time goes backwards: {} is before the previous row's {}; sort the trace by time",
                    Duration(t), Duration(prev)
                ), line));
            }
        }
        self.last_t = Some(t);
        let Some(&s) = self.index.get(series.as_bytes()) else {
            if self.ignore_unknown {
                return Ok(false);
            }
            return Err(self.err("workload", format!(
                "no workload takes series {series:?} from this trace; declare a workload with demand {{\"type\": \"trace\"}} for it, or set ignore_unknown"
            ), line));
        };
        if self.last_at[s] == Some(t) {
            return Err(self.err(
                "time",
                format!(
                    "a second value for {series:?} at {}; give one value per workload and time",
                    Duration(t)
                ),
                line,
            ));
        }
        if !push_values(&self.targets[s], &value, t, out) {
            return Err(too_many(&self.path, t, series, line));
        }
        self.last_at[s] = Some(t);
        Ok(true)
    }

    /// The rules for the end of the file: a row at all, and rows for every series taken.
    fn at_end(&self) -> Vec<ScenarioError> {
        if self.rows == 0 {
            return vec![
                ScenarioError::new(&self.path, "", "the trace has a header but no rows")
                    .at(Some(1), None),
            ];
        }
        self.names
            .iter()
            .zip(&self.last_at)
            .filter(|(_, at)| at.is_none())
            .map(|(series, _)| ScenarioError::new(&self.path, "workload", format!("the trace has no rows for series {series:?}, which a workload takes from it")))
            .collect()
    }
}

/// The error for a row whose value is more than [`INSTANCE_CAP`] instances.
fn too_many(path: &Path, t: u64, series: &str, line: u64) -> ScenarioError {
    ScenarioError::new(
        path,
        "value",
        format!(
            "at {} the value for {series:?} is more than {} instances, the most ipsim accepts",
            Duration(t),
            INSTANCE_CAP
        ),
    )
    .at(Some(line), None)
}

impl CsvTrace {
    /// Reads the whole trace from `opened` (at load, a trace that is not a regular file) and
    /// reports every bad row (up to 20, then a count); keeps its values in
    /// [`CsvTrace::held`] unless it is a regular file.
    pub fn check(&mut self, opened: Opened) -> Result<(), Vec<ScenarioError>> {
        let hold = !opened.regular;
        self.pass(opened.reader, hold, opened.regular)
    }

    /// Reads the whole trace once and reports every bad row (up to 20, then a count), without
    /// keeping anything: what `ipsim validate` does. A trace already held was checked.
    pub fn check_rows(&self) -> Result<(), Vec<ScenarioError>> {
        if self.held.is_some() {
            return Ok(());
        }
        let (reader, regular) = open_at(&self.path, FILE_START).map_err(|e| vec![e])?;
        let mut copy = self.clone();
        copy.pass(reader, false, regular)
    }

    /// Reads the whole trace once with every check (as [`CsvTrace::check_rows`]) and keeps
    /// its values in [`CsvTrace::held`], so that every later run replays them from memory.
    pub fn hold(&mut self) -> Result<(), Vec<ScenarioError>> {
        if self.held.is_some() {
            return Ok(());
        }
        let (reader, regular) = open_at(&self.path, FILE_START).map_err(|e| vec![e])?;
        self.pass(reader, true, regular)
    }

    /// The checking pass over every row from `r` (header first), keeping the values if `hold`.
    fn pass(&mut self, mut r: Reader, hold: bool, regular: bool) -> Result<(), Vec<ScenarioError>> {
        let path = self.path.clone();
        // Read here, or at load (then the reader has it already): it must still say the same.
        let unit = header_unit(&path, &mut r).map_err(|e| vec![e])?;
        if unit != self.unit {
            return Err(vec![changed(&path)]);
        }
        let mut rules = Rules::new(self);
        let mut held = hold.then(Vec::new);
        let mut sink = Vec::new();
        let mut errs = Vec::new();
        let mut more = 0usize;
        let mut rec = csv::ByteRecord::new();
        let mut push = |errs: &mut Vec<ScenarioError>, e: ScenarioError| {
            if errs.len() < MAX_ROW_ERRORS {
                errs.push(e)
            } else {
                more += 1
            }
        };
        loop {
            match r.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                    push(&mut errs, csv_error(&path, &e, 1));
                    if fatal {
                        break;
                    }
                    continue;
                }
            }
            let line = rec.position().map_or(0, |p| p.line());
            let out: &mut Vec<Held> = held.as_mut().unwrap_or(&mut sink);
            if let Err(e) = rules.row(&rec, line, out) {
                push(&mut errs, e);
                continue;
            }
            if let Some(h) = &held {
                if h.len() > MAX_HELD {
                    let msg = if regular {
                        format!(
                            "a study keeps the trace's values in memory to run it many times, and it has more than {MAX_HELD}; its runs read the file each time instead"
                        )
                    } else {
                        format!(
                            "the trace is not a regular file (a pipe?), so ipsim keeps its values in memory, and it has more than {MAX_HELD}; write it to a file, which is streamed"
                        )
                    };
                    push(
                        &mut errs,
                        ScenarioError::new(&path, "", msg).at(Some(line), None),
                    );
                    break;
                }
            }
            sink.clear();
        }
        if errs.is_empty() {
            errs = rules.at_end();
        }
        if more > 0 {
            errs.push(ScenarioError::new(
                &path,
                "",
                format!("... and {more} more bad rows"),
            ));
        }
        if errs.is_empty() {
            if let Some(h) = held {
                self.held = Some(Arc::new(h));
            }
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// The trace as a feed for the core: the values held, or the file, opened when the run
    /// first reads it.
    pub fn feed(&self) -> Result<CsvFeed, ScenarioError> {
        let mut windows = BTreeMap::new();
        for ts in self.targets.values() {
            for t in ts {
                if t.idle_delay_ms > 0 {
                    windows.insert(t.workload, IdleWindow::new(t.idle_delay_ms));
                }
            }
        }
        Ok(CsvFeed {
            rules: Rules::new(self),
            trace: self.clone(),
            reader: None,
            at: FILE_START,
            rec: csv::ByteRecord::new(),
            next_held: 0,
            values: Vec::new(),
            taken: 0,
            out: VecDeque::new(),
            windows,
            reeval: BinaryHeap::new(),
            scheduled: BTreeMap::new(),
            error: None,
            done: false,
        })
    }
}

/// The error for a file whose header changed since it was loaded.
fn changed(path: &Path) -> ScenarioError {
    ScenarioError::new(
        path,
        "header",
        "the header changed since the scenario was loaded",
    )
    .at(Some(1), None)
}

/// A CSV trace read as the run advances.
#[derive(Debug)]
pub struct CsvFeed {
    trace: CsvTrace,
    rules: Rules,
    /// The file while it is open (`None`: not yet, let go of, at its end, or values held).
    reader: Option<Reader>,
    /// Where `reader` started in the file, or where to reopen it.
    at: Mark,
    rec: csv::ByteRecord,
    /// The next held value to hand on.
    next_held: usize,
    /// Values read and not yet applied, in order: the read-ahead.
    values: Vec<Held>,
    /// How many of `values` were taken.
    taken: usize,
    out: VecDeque<FeedPoint>,
    windows: BTreeMap<usize, IdleWindow>,
    reeval: BinaryHeap<Reverse<(u64, usize)>>,
    /// Per workload, the time its live entry in `reeval` is for: other entries are stale.
    /// Without it, every row of a falling demand queued one more entry for the same window
    /// end, and each entry carried itself on to the next end: work quadratic in the rows.
    scheduled: BTreeMap<usize, u64>,
    /// The first bad row (or a file that could not be read): the run ends there.
    pub error: Option<ScenarioError>,
    /// No more rows to read.
    done: bool,
}

impl CsvFeed {
    /// Whether the feed holds its file open now.
    pub fn is_open(&self) -> bool {
        self.reader.is_some()
    }

    /// Whether reading on may open the file.
    pub fn may_open(&self) -> bool {
        !self.done && self.reader.is_none() && self.trace.held.is_none()
    }

    /// Lets go of the file, to be reopened where it was left when its read-ahead runs dry.
    pub fn close(&mut self) {
        if let Some(r) = self.reader.take() {
            let p = r.position();
            self.at = Mark {
                byte: self.at.byte + p.byte(),
                line: self.at.line + p.line() - 1,
            };
        }
    }

    fn fail(&mut self, e: ScenarioError) {
        self.error.get_or_insert(e);
        self.done = true;
        self.reader = None;
    }

    /// Makes `values` hold the next values, if any are left.
    fn fill(&mut self) {
        if self.taken < self.values.len() {
            return;
        }
        self.values.clear();
        self.taken = 0;
        if let Some(h) = &self.trace.held {
            let next = h.get(self.next_held..).unwrap_or_default();
            let next = &next[..next.len().min(READ_AHEAD)];
            self.next_held += next.len();
            self.values.extend_from_slice(next);
            return;
        }
        if self.done {
            return;
        }
        if self.reader.is_none() {
            match open_at(&self.trace.path, self.at) {
                Ok((mut r, _)) => {
                    if self.at.byte == 0 {
                        match header_unit(&self.trace.path, &mut r) {
                            Ok(u) if u == self.trace.unit => {}
                            Ok(_) => return self.fail(changed(&self.trace.path)),
                            Err(e) => return self.fail(e),
                        }
                    }
                    self.reader = Some(r);
                }
                Err(e) => return self.fail(e),
            }
        }
        let Some(r) = self.reader.as_mut() else {
            return;
        };
        while self.values.len() < READ_AHEAD {
            match r.read_byte_record(&mut self.rec) {
                Ok(false) => {
                    self.done = true;
                    self.reader = None;
                    if let Some(e) = self.rules.at_end().into_iter().next() {
                        self.error = Some(e);
                    }
                    return;
                }
                Ok(true) => {
                    let line = self.rec.position().map_or(0, |p| p.line()) + self.at.line - 1;
                    if let Err(e) = self.rules.row(&self.rec, line, &mut self.values) {
                        return self.fail(e);
                    }
                }
                Err(e) => {
                    let e = csv_error(&self.trace.path, &e, self.at.line);
                    return self.fail(e);
                }
            }
        }
    }

    /// The next value read ahead.
    fn take(&mut self) -> Option<Held> {
        let v = self.values.get(self.taken).copied()?;
        self.taken += 1;
        Some(v)
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
        if self.windows.is_empty() {
            // No idle delay: each value is a point, in order (what the loop below does then,
            // without its queues).
            if self.taken == self.values.len() {
                self.fill();
            }
            return self.take().map(|v| FeedPoint {
                time_ms: v.t,
                workload: v.workload as usize,
                instances: v.instances,
            });
        }
        loop {
            if let Some(p) = self.out.pop_front() {
                return Some(p);
            }
            self.fill();
            let row_t = self.values.get(self.taken).map(|v| v.t);
            let re_t = self.reeval.peek().map(|Reverse((t, _))| *t);
            match (row_t, re_t) {
                (None, None) => return None,
                (Some(rt), Some(et)) if et < rt => self.reevaluate(et),
                (None, Some(et)) => self.reevaluate(et),
                (Some(_), _) => {
                    if let Some(v) = self.take() {
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

#[cfg(test)]
mod fast_parse {
    use super::*;

    /// The direct reading of `YYYY-MM-DDTHH:MM:SSZ` agrees with jiff wherever it reads a time,
    /// and reads every such time jiff reads (leap-second `:60` excepted: jiff reads that).
    #[test]
    fn utc_seconds_agree_with_jiff() {
        let mut read = 0;
        for y in [
            1, 1600, 1900, 1969, 1970, 2000, 2023, 2024, 2025, 2100, 9998,
        ] {
            for mo in 0..=13 {
                for d in 0..=32 {
                    for (h, mi, s) in [(0, 0, 0), (23, 59, 59), (12, 30, 5), (24, 0, 0), (0, 60, 0)]
                    {
                        let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
                        let fast = utc_seconds_ms(text.as_bytes());
                        let slow = text
                            .parse::<jiff::Timestamp>()
                            .ok()
                            .map(|t| t.as_millisecond());
                        if fast.is_some() {
                            read += 1;
                        }
                        assert!(fast.is_none() || fast == slow, "{text}: {fast:?} {slow:?}");
                        assert!(slow.is_none() || fast.is_some(), "{text}: jiff reads it");
                    }
                }
            }
        }
        assert!(read > 10_000, "{read}");
        assert_eq!(utc_seconds_ms(b"2025-01-01T00:00:00+00:00"), None);
        assert_eq!(utc_seconds_ms(b"2025-01-01T00:00:00.5Z"), None);
    }
}

#[cfg(test)]
mod quick_rows {
    use super::*;
    use proptest::prelude::*;

    /// The comparison of short fields is `==`, at every length around its loads' sizes.
    #[test]
    fn same_bytes_is_equality() {
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..=40 {
            let a = &base[..n];
            assert!(same_bytes(a, a), "{n}");
            for m in 0..=40 {
                assert_eq!(same_bytes(a, &base[..m]), n == m, "{n} {m}");
            }
            for i in 0..n {
                let mut b = a.to_vec();
                b[i] ^= 1;
                assert!(!same_bytes(a, &b), "{n}: byte {i}");
            }
        }
    }

    const TIMES: &[&str] = &[
        "2025-03-10T00:00:00Z",
        "2025-03-10T00:01:00Z",
        " 2025-03-10T00:01:00Z ",
        "2025-03-10T00:02:00Z",
        "2025-03-10T00:02:00+00:00",
        "2025-03-09T23:59:00Z",
        "2025-02-30T00:00:00Z",
        "0",
        "60000",
        "90s",
        "120000",
        "999999999999999999",
        "bad",
        "",
    ];
    const NAMES: &[&[u8]] = &[
        b"a",
        b"b",
        b"c",
        b" a",
        b"a ",
        b"zz",
        b"",
        b"\xc3\xa9",
        b"\xff",
        b"b\xff",
    ];
    const VALUES: &[&str] = &[
        "3",
        "007",
        " 12 ",
        "0",
        "1000000000",
        "1000000001",
        "4294967296",
        "999999999999999999",
        "2.5",
        "1e3",
        "-1",
        "x",
        "",
    ];

    fn trace(ignore_unknown: bool) -> CsvTrace {
        let one = |workload| Target {
            workload,
            requests: None,
            idle_delay_ms: 0,
        };
        let rps = |workload| Target {
            workload,
            requests: Some(Requests::new(
                &Exact::parse("250").unwrap(),
                80,
                &Exact::parse("0.6").unwrap(),
            )),
            idle_delay_ms: 0,
        };
        CsvTrace {
            path: PathBuf::from("t.csv"),
            unit: CsvUnit::Instances,
            targets: BTreeMap::from([
                ("a".to_string(), vec![one(0)]),
                ("b".to_string(), vec![one(1), rps(2)]),
                ("c".to_string(), vec![rps(3)]),
            ]),
            ignore_unknown,
            start: None,
            held: None,
        }
    }

    /// A row: indexes into the lists above (a time past the list: a good time, minute
    /// `row / 3` in the form of the first), and how many fields it has (3 mostly). Most rows
    /// are good, so that the quick path is taken often, and left often.
    fn rows() -> impl Strategy<Value = Vec<(usize, usize, usize, usize)>> {
        let n = TIMES.len();
        let time = prop_oneof![2 => 0..n, 3 => Just(n)];
        let name = prop_oneof![3 => 0..3usize, 1 => 0..NAMES.len()];
        let value = prop_oneof![3 => 0..4usize, 1 => 0..VALUES.len()];
        let field_count = prop_oneof![8 => Just(3usize), 1 => Just(2usize), 1 => Just(4usize)];
        proptest::collection::vec((time, name, value, field_count), 1..60)
    }

    proptest! {
        /// Whatever the rows, reading them with the quick path for common rows gives what
        /// every rule applied to every row gives: the same values, the same skipped rows,
        /// the same errors (row after row, as `ipsim validate` goes on after a bad row) and
        /// the same errors at the end.
        #[test]
        fn the_quick_path_gives_what_every_rule_gives(rows in rows(), ignore in any::<bool>()) {
            let t = trace(ignore);
            let (mut quick, mut full) = (Rules::new(&t), Rules::new(&t));
            for (k, &(ti, ni, vi, n)) in rows.iter().enumerate() {
                let mut rec = csv::ByteRecord::new();
                let good = format!("2025-03-10T{:02}:{:02}:00Z", k / 180, k / 3 % 60);
                let time = TIMES.get(ti).copied().unwrap_or(&good);
                let fields: [&[u8]; 4] =
                    [time.as_bytes(), NAMES[ni], VALUES[vi].as_bytes(), b"x"];
                for f in &fields[..n] {
                    rec.push_field(f);
                }
                let line = k as u64 + 2;
                let (mut qv, mut fv) = (Vec::new(), Vec::new());
                let q = quick.row(&rec, line, &mut qv).map_err(|e| e.to_string());
                let f = full.full_row(&rec, line, &mut fv).map_err(|e| e.to_string());
                prop_assert_eq!(&q, &f, "row {}", line);
                prop_assert_eq!(&qv, &fv, "row {}", line);
            }
            let end = |r: &Rules| r.at_end().iter().map(|e| e.to_string()).collect::<Vec<_>>();
            prop_assert_eq!(end(&quick), end(&full));
        }
    }

    /// A trace in the common form takes the quick path (else the test above would not test
    /// it): a row in it, then the series in another order, then one more row of each.
    #[test]
    fn common_rows_take_the_quick_path() {
        let t = trace(false);
        let mut r = Rules::new(&t);
        let mut out = Vec::new();
        let rec = |f: [&str; 3]| csv::ByteRecord::from(f.to_vec());
        // The first row sets the clock: every rule.
        assert!(!r.quick_row(&rec(["2025-03-10T00:00:00Z", "a", "1"]), &mut out));
        r.row(&rec(["2025-03-10T00:00:00Z", "a", "1"]), 2, &mut out)
            .unwrap();
        for (t, names) in [("00:01", ["c", "b", "a"]), ("00:02", ["a", "b", "c"])] {
            for name in names {
                let time = format!("2025-03-10T{t}:00Z");
                assert!(
                    r.quick_row(&rec([&time, name, "40"]), &mut out),
                    "{t} {name}"
                );
            }
        }
        // b feeds two workloads: 40 instances, and 40 rps at 250 ms, 80 a instance, 60 %.
        assert_eq!(
            out.iter()
                .filter(|h| h.t == 120_000)
                .map(|h| (h.workload, h.instances))
                .collect::<Vec<_>>(),
            [(0, 40), (1, 40), (2, 1), (3, 1)]
        );
    }
}
