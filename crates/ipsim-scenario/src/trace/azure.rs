//! The Azure Functions 2019 public trace: invocations per function per minute over a day.
//!
//! Two layouts are read: Azure's own `HashOwner,HashApp,HashFunction,Trigger,1..1440`, and the
//! `HashFunction,HashApp,HashOwner,minute_1..minute_1440` variant. The file is streamed once;
//! only the selected functions' 1440 counts are kept (the top N by volume in a bounded heap),
//! so memory grows with the number of workloads made, not with the file.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::Path;

use crate::bounded;
use crate::error::ScenarioError;
use crate::exact::{Exact, ParseError};

/// A selected function: its hash and invocations per minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// HashFunction.
    pub hash: String,
    /// Invocations in minute 1, 2, ...
    pub per_minute: Vec<u32>,
    /// Their sum.
    pub total: u64,
}

/// Which functions to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Select {
    /// The N with the most invocations (ties: file order).
    Top(usize),
    /// By hash or hash prefix.
    Hashes(Vec<String>),
}

struct Layout {
    hash_col: usize,
    first_minute: usize,
    n_minutes: usize,
}

fn layout(path: &Path, h: &csv::StringRecord) -> Result<Layout, ScenarioError> {
    let cols: Vec<&str> = h.iter().collect();
    let (hash_col, first_minute, prefix) = match cols.as_slice() {
        ["HashOwner", "HashApp", "HashFunction", "Trigger", ..] => (2, 4, ""),
        ["HashFunction", "HashApp", "HashOwner", ..] => (0, 3, "minute_"),
        _ => {
            return Err(ScenarioError::new(path, "header", "expected the Azure Functions header `HashOwner,HashApp,HashFunction,Trigger,1,...,1440` or `HashFunction,HashApp,HashOwner,minute_1,...`").at(Some(1), None));
        }
    };
    let minutes = &cols[first_minute..];
    for (i, c) in minutes.iter().enumerate() {
        if *c != format!("{prefix}{}", i + 1) {
            return Err(ScenarioError::new(
                path,
                "header",
                format!(
                    "column {} is {c:?}; expected {prefix}{}",
                    first_minute + i + 1,
                    i + 1
                ),
            )
            .at(Some(1), None));
        }
    }
    if minutes.is_empty() {
        return Err(
            ScenarioError::new(path, "header", "the header has no minute columns")
                .at(Some(1), None),
        );
    }
    Ok(Layout {
        hash_col,
        first_minute,
        n_minutes: minutes.len(),
    })
}

/// Reads the selected functions, reporting every bad row (up to 20).
pub fn read(path: &Path, select: &Select) -> Result<Vec<Function>, Vec<ScenarioError>> {
    let (mut r, h) = super::open_csv(path, "trace").map_err(|e| vec![e])?;
    let lay = layout(path, &h).map_err(|e| vec![e])?;
    let mut errs = Vec::new();
    // Top N: a min-heap of (total, Reverse(row index)) holding the N best so far.
    let mut best: BinaryHeap<Reverse<(u64, Reverse<usize>, usize)>> = BinaryHeap::new();
    let mut kept: BTreeMap<usize, Function> = BTreeMap::new();
    let mut n_rows = 0usize;
    let mut rec = csv::StringRecord::new();
    loop {
        match r.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line());
                let msg = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("the row has {len} fields; the header has {expected_len}"),
                    _ => e.to_string(),
                };
                errs.push(ScenarioError::new(path, "", msg).at(line, None));
                if errs.len() >= 20 || matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let idx = n_rows;
        n_rows += 1;
        let line = rec.position().map(|p| p.line());
        let hash = rec.get(lay.hash_col).unwrap_or("").to_string();
        let mut per_minute = Vec::with_capacity(lay.n_minutes);
        let mut bad = None;
        for m in 0..lay.n_minutes {
            let field = rec.get(lay.first_minute + m).unwrap_or("");
            match field.trim().parse::<u32>() {
                Ok(v) => per_minute.push(v),
                Err(_) => {
                    bad = Some(format!(
                        "minute {} holds {field:?}, not a count of invocations",
                        m + 1
                    ));
                    break;
                }
            }
        }
        if let Some(m) = bad {
            errs.push(ScenarioError::new(path, "", m).at(line, None));
            if errs.len() >= 20 {
                break;
            }
            continue;
        }
        let total = per_minute.iter().map(|&v| u64::from(v)).sum();
        let func = Function {
            hash,
            per_minute,
            total,
        };
        match select {
            Select::Top(n) => {
                best.push(Reverse((total, Reverse(idx), idx)));
                kept.insert(idx, func);
                if best.len() > *n {
                    if let Some(Reverse((_, _, drop))) = best.pop() {
                        kept.remove(&drop);
                    }
                }
            }
            Select::Hashes(hs) => {
                if hs.iter().any(|h| func.hash.starts_with(h.as_str())) {
                    kept.insert(idx, func);
                }
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    if n_rows == 0 {
        return Err(vec![
            ScenarioError::new(path, "", "the trace has a header but no rows").at(Some(1), None),
        ]);
    }
    let mut out: Vec<Function> = kept.into_values().collect();
    match select {
        Select::Top(_) => out.sort_by_key(|f| std::cmp::Reverse(f.total)),
        Select::Hashes(hs) => {
            for h in hs {
                let n = out
                    .iter()
                    .filter(|f| f.hash.starts_with(h.as_str()))
                    .count();
                if n != 1 {
                    errs.push(ScenarioError::new(path, "HashFunction", format!("hash {h:?} matches {n} functions; give a prefix that matches exactly one")));
                }
            }
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// Average durations in ms by HashFunction, exactly as written, from a durations file (any
/// column order, as long as `HashFunction` and `Average` are in the header).
pub fn read_durations(path: &Path) -> Result<BTreeMap<String, Exact>, Vec<ScenarioError>> {
    let (mut r, h) = super::open_csv(path, "durations file").map_err(|e| vec![e])?;
    let col = |name: &str| h.iter().position(|c| c == name);
    let (Some(hc), Some(ac)) = (col("HashFunction"), col("Average")) else {
        return Err(vec![
            ScenarioError::new(
                path,
                "header",
                "the durations file needs HashFunction and Average columns",
            )
            .at(Some(1), None),
        ]);
    };
    let mut out = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            vec![
                ScenarioError::new(path, "", e.to_string())
                    .at(e.position().map(|p| p.line()), None),
            ]
        })?;
        let line = rec.position().map(|p| p.line());
        let text = rec.get(ac).unwrap_or("");
        let avg = Exact::parse(text).map_err(|e| {
            let msg = match e {
                ParseError::NotANumber => {
                    format!("{} is not a number of milliseconds", bounded::excerpt(text))
                }
                ParseError::NotFinite | ParseError::Negative => {
                    format!("{} is not a duration of 0 ms or more", bounded::short(text))
                }
                ParseError::OutOfRange => format!("{} is {e}", bounded::short(text)),
            };
            vec![ScenarioError::new(path, "Average", msg).at(line, None)]
        })?;
        out.insert(rec.get(hc).unwrap_or("").to_string(), avg);
    }
    Ok(out)
}
