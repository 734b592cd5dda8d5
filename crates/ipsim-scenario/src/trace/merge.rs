//! Several CSV feeds merged in time order, with a bounded number of files open.
//!
//! The next point comes from a heap of each feed's next point, by (time, feed index): the
//! order a scan for the earliest point, lowest index first, gives. Each feed reads ahead a
//! few dozen values at a time; at most [`MAX_OPEN`] feeds hold their file open between reads,
//! and the one used least recently lets go of its file (to reopen it where it left off) when
//! another needs to open one. Thousands of trace files run under a small `ulimit -n`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use ipsim_core::{DemandFeed, FeedPoint};

use super::csv::CsvFeed;
use crate::error::ScenarioError;

/// The most trace files open at once during a run.
pub const MAX_OPEN: usize = 64;

/// CSV feeds merged in time order.
#[derive(Debug)]
pub struct MergedFeed {
    feeds: Vec<CsvFeed>,
    /// Each feed's next point, taken when it is handed on.
    next: Vec<Option<FeedPoint>>,
    heads: BinaryHeap<Reverse<(u64, usize)>>,
    /// The feeds holding their file open, by when they last read: (tick, feed).
    lru: BTreeMap<u64, usize>,
    /// Per feed, its key in `lru` (0: not in it).
    used: Vec<u64>,
    tick: u64,
    max_open: usize,
    /// The most files held open at once so far (kept only with more feeds than the limit).
    pub most_open: usize,
    /// The feeds whose error has appeared, in the order they appeared ([`MergedFeed::erred`]).
    erred: Vec<usize>,
    /// Per feed, whether it is in `erred`.
    flagged: Vec<bool>,
}

impl MergedFeed {
    /// Merges `feeds`, holding at most [`MAX_OPEN`] files open.
    pub fn new(feeds: Vec<CsvFeed>) -> Self {
        Self::with_limit(feeds, MAX_OPEN)
    }

    /// Merges `feeds`, holding at most `max_open` (at least 1) files open.
    pub fn with_limit(feeds: Vec<CsvFeed>, max_open: usize) -> Self {
        let n = feeds.len();
        let mut m = MergedFeed {
            feeds,
            next: vec![None; n],
            heads: BinaryHeap::with_capacity(n),
            lru: BTreeMap::new(),
            used: vec![0; n],
            tick: 0,
            max_open: max_open.max(1),
            most_open: 0,
            erred: Vec::new(),
            flagged: vec![false; n],
        };
        for i in 0..n {
            m.advance(i);
        }
        m
    }

    /// Reads feed `i`'s next point, first letting go of the least recently used file if `i`
    /// may open one and the limit is reached.
    fn advance(&mut self, i: usize) {
        self.read(i);
        if self.feeds[i].error.is_some() && !self.flagged[i] {
            self.flagged[i] = true;
            self.erred.push(i);
        }
    }

    /// [`MergedFeed::advance`] but for noting an error.
    fn read(&mut self, i: usize) {
        if self.feeds.len() == 1 {
            // One feed: its points as they come, one read ahead as with many.
            self.next[0] = self.feeds[0].next_point();
            return;
        }
        // With more files than may stay open, the least recently used is let go of first;
        // else no feed is ever closed, so recency is not kept (it cost two map operations a
        // point on the common one-trace run).
        let recency = self.feeds.len() > self.max_open;
        if recency && self.feeds[i].may_open() {
            while self.lru.len() >= self.max_open {
                let Some((_, j)) = self.lru.pop_first() else {
                    break;
                };
                self.feeds[j].close();
                self.used[j] = 0;
            }
        }
        let p = self.feeds[i].next_point();
        if recency {
            if self.used[i] != 0 {
                self.lru.remove(&self.used[i]);
                self.used[i] = 0;
            }
            if self.feeds[i].is_open() {
                self.tick += 1;
                self.lru.insert(self.tick, i);
                self.used[i] = self.tick;
            }
            self.most_open = self.most_open.max(self.lru.len());
        }
        self.next[i] = p;
        if let Some(p) = p {
            self.heads.push(Reverse((p.time_ms, i)));
        }
    }

    /// The feeds' errors, in feed order: a bad row, or a file that could not be read.
    pub fn errors(self) -> Vec<ScenarioError> {
        self.feeds.into_iter().filter_map(|f| f.error).collect()
    }

    /// The feeds whose error has appeared so far, in the order they appeared: each appears
    /// while the merge is made or during one call of `next_point` (a feed's error, once
    /// there, stays as it is).
    pub(crate) fn erred(&self) -> &[usize] {
        &self.erred
    }

    /// The errors of the feeds `keep` accepts, in feed order.
    pub(crate) fn errors_of(self, keep: impl Fn(usize) -> bool) -> Vec<ScenarioError> {
        self.feeds
            .into_iter()
            .enumerate()
            .filter(|&(i, _)| keep(i))
            .filter_map(|(_, f)| f.error)
            .collect()
    }
}

impl DemandFeed for MergedFeed {
    fn next_point(&mut self) -> Option<FeedPoint> {
        if self.feeds.len() == 1 {
            // No heap for one feed: the point read ahead, then the next.
            let out = self.next[0].take()?;
            self.advance(0);
            return Some(out);
        }
        let Reverse((_, i)) = self.heads.pop()?;
        let out = self.next[i].take();
        self.advance(i);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::csv::{CsvTrace, CsvUnit, Target};
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    fn trace(path: PathBuf, series: &str, workload: usize) -> CsvTrace {
        CsvTrace {
            path,
            unit: CsvUnit::Instances,
            targets: BTreeMap::from([(
                series.to_string(),
                vec![Target {
                    workload,
                    requests: None,
                    idle_delay_ms: 0,
                }],
            )]),
            ignore_unknown: false,
            start: None,
            held: None,
        }
    }

    fn write(dir: &Path, k: usize, rows: u64, bad_at: Option<u64>) -> PathBuf {
        let mut text = String::from("time,workload,instances\n");
        for m in 0..rows {
            // Line m + 2 of the file.
            if bad_at == Some(m + 2) {
                text.push_str(&format!("{m}m,s{k}\n"));
            } else {
                text.push_str(&format!("{m}m, s{k} ,{}\n", (m * 7 + k as u64) % 50));
            }
        }
        let p = dir.join(format!("t{k}.csv"));
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Twelve files of 200 rows each, interleaved in time, merged with at most 3 open: every
    /// file is let go of and reopened several times (64 values are read ahead at a time), and
    /// the points come in the order of a scan (time, then file), every one of them; a bad row
    /// found after reopening (a short row, the first the reopened reader sees) is named at its
    /// line in the file.
    #[test]
    fn many_files_merge_in_order_with_three_open() {
        let dir = std::env::temp_dir().join(format!("ipsim-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (n, rows) = (12usize, 200u64);
        let feeds = (0..n)
            .map(|k| {
                let p = write(&dir, k, rows, None);
                trace(p, &format!("s{k}"), k).feed().unwrap()
            })
            .collect();
        let mut m = MergedFeed::with_limit(feeds, 3);
        let mut got = Vec::new();
        while let Some(p) = m.next_point() {
            got.push((p.time_ms, p.workload, p.instances));
        }
        let most_open = m.most_open;
        assert!(m.errors().is_empty());
        let want: Vec<(u64, usize, u32)> = (0..rows)
            .flat_map(|t| (0..n).map(move |k| (t * 60_000, k, ((t * 7 + k as u64) % 50) as u32)))
            .collect();
        assert_eq!(got, want);
        assert!(most_open <= 3, "{most_open} files open at once");

        // Line 130 holds the 129th row: the first read after the second reopening (64 a read).
        let bad = write(&dir, 5, rows, Some(130));
        let mut feeds: Vec<CsvFeed> = (0..n)
            .map(|k| {
                trace(dir.join(format!("t{k}.csv")), &format!("s{k}"), k)
                    .feed()
                    .unwrap()
            })
            .collect();
        feeds[5] = trace(bad, "s5", 5).feed().unwrap();
        let mut m = MergedFeed::with_limit(feeds, 3);
        let (mut last5, mut last) = (0, 0);
        while let Some(p) = m.next_point() {
            last = p.time_ms;
            if p.workload == 5 {
                last5 = p.time_ms;
            }
        }
        // The bad file ends before its bad row; the others go on to their end.
        assert_eq!((last5, last), (127 * 60_000, 199 * 60_000));
        let errs = m.errors();
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0]
                .to_string()
                .ends_with("t5.csv:130: the row has 2 fields; expected 3 (time,workload,value)"),
            "{}",
            errs[0]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
