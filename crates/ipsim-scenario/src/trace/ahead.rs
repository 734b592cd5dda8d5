//! CSV traces read ahead on a second thread while the run goes.
//!
//! The thread owns the [`MergedFeed`] and calls it exactly as the run would, sending its
//! points in batches of [`BATCH`] through a channel that holds at most [`IN_FLIGHT`] batches
//! (memory stays bounded: a few hundred KB however long the trace). The run reads the
//! points in the same order, so its output is the same. An error (a bad row, a file that
//! cannot be read) is noted with the call of `next_point` during which it appeared: the run
//! reports the errors that appeared by the last call it made, which are the errors a merge
//! read on the run's own thread holds when the run ends (the thread may have read further:
//! what it found there is not the run's). When the run ends before the trace does, the
//! thread stops at its next batch.

use std::collections::BTreeSet;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use ipsim_core::{DemandFeed, FeedPoint};

use super::csv::CsvFeed;
use super::merge::MergedFeed;
use crate::error::ScenarioError;

/// Points sent at once.
pub const BATCH: usize = 4096;
/// Batches waiting in the channel at most (one more is being read, one being run).
pub const IN_FLIGHT: usize = 2;

/// What the reading thread ends with: the merge, and per feed whose error appeared, the
/// call during which it did (0: while the merge was made).
type Ended = (MergedFeed, Vec<(usize, u64)>);

/// The run's side: the points of a merge read on another thread.
#[derive(Debug)]
pub struct Ahead {
    rx: Receiver<Vec<FeedPoint>>,
    batch: std::vec::IntoIter<FeedPoint>,
    /// Calls of `next_point` so far.
    calls: u64,
}

impl DemandFeed for Ahead {
    fn next_point(&mut self) -> Option<FeedPoint> {
        self.calls += 1;
        loop {
            if let Some(p) = self.batch.next() {
                return Some(p);
            }
            // The channel closes after the batch that holds the merge's last point.
            self.batch = self.rx.recv().ok()?.into_iter();
        }
    }
}

/// Runs `run` with `feeds` merged and read ahead on a second thread, and returns what it
/// returns with the feeds' errors that appeared by its last read, in feed order: what
/// `run` given a [`MergedFeed`] of `feeds` returns, and that merge's errors then. If no
/// thread can be started, `run` is given that merge.
pub fn with_read_ahead<T>(
    feeds: Vec<CsvFeed>,
    run: impl FnOnce(&mut dyn DemandFeed) -> T,
) -> (T, Vec<ScenarioError>) {
    let (tx, rx) = sync_channel(IN_FLIGHT);
    // The feeds go to the thread once it is started, and stay here if it cannot be.
    let (feeds_tx, feeds_rx) = sync_channel::<Vec<CsvFeed>>(1);
    std::thread::scope(|scope| {
        let started = std::thread::Builder::new()
            .name("ipsim-read-ahead".into())
            .spawn_scoped(scope, move || {
                let feeds = feeds_rx.recv().ok()?;
                Some(read(MergedFeed::new(feeds), &tx))
            });
        let reader = match started {
            Ok(reader) => reader,
            Err(_) => {
                let mut merged = MergedFeed::new(feeds);
                let out = run(&mut merged);
                return (out, merged.errors());
            }
        };
        // The thread waits for them: the channel has room, and nothing else closes it.
        let _ = feeds_tx.send(feeds);
        let mut ahead = Ahead {
            rx,
            batch: Vec::new().into_iter(),
            calls: 0,
        };
        let out = run(&mut ahead);
        let calls = ahead.calls;
        // Closes the channel: a reader still going stops at its next batch.
        drop(ahead);
        let Some((merged, appeared)) = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        else {
            return (out, Vec::new());
        };
        let by_then: BTreeSet<usize> = appeared
            .into_iter()
            .filter(|&(_, call)| call <= calls)
            .map(|(feed, _)| feed)
            .collect();
        let errs = merged.errors_of(|i| by_then.contains(&i));
        (out, errs)
    })
}

/// The reading thread: the merge's points in batches, until its end or until the run
/// stops taking them.
fn read(mut merged: MergedFeed, tx: &SyncSender<Vec<FeedPoint>>) -> Ended {
    let mut appeared: Vec<(usize, u64)> = merged.erred().iter().map(|&i| (i, 0)).collect();
    let mut call = 0u64;
    loop {
        let mut batch = Vec::with_capacity(BATCH);
        let mut end = false;
        while batch.len() < BATCH {
            call += 1;
            let p = merged.next_point();
            if merged.erred().len() > appeared.len() {
                let new = merged.erred()[appeared.len()..].to_vec();
                appeared.extend(new.into_iter().map(|i| (i, call)));
            }
            match p {
                Some(p) => batch.push(p),
                None => {
                    end = true;
                    break;
                }
            }
        }
        if tx.send(batch).is_err() || end {
            return (merged, appeared);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::csv::{CsvTrace, CsvUnit, Target};
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Feeds of `files` traces of 300 rows each, one a minute; in file `bad.0` line `bad.1`
    /// is short. Every series but `s0` has an idle delay in one of them.
    fn feeds(dir: &Path, files: usize, bad: (usize, u64)) -> Vec<CsvFeed> {
        (0..files)
            .map(|k| {
                let mut text = String::from("time,workload,instances\n");
                for m in 0..300u64 {
                    if bad == (k, m + 2) {
                        text.push_str(&format!("{m}m,s{k}\n"));
                    } else {
                        text.push_str(&format!("{m}m,s{k},{}\n", (m * 7 + k as u64) % 50));
                    }
                }
                let path = dir.join(format!("t{k}.csv"));
                std::fs::write(&path, text).unwrap();
                CsvTrace {
                    path,
                    unit: CsvUnit::Instances,
                    targets: BTreeMap::from([(
                        format!("s{k}"),
                        vec![Target {
                            workload: k,
                            requests: None,
                            idle_delay_ms: if k == 1 { 120_000 } else { 0 },
                        }],
                    )]),
                    ignore_unknown: false,
                    start: None,
                    held: None,
                }
                .feed()
                .unwrap()
            })
            .collect()
    }

    fn take(f: &mut dyn DemandFeed, calls: u64) -> Vec<Option<FeedPoint>> {
        (0..calls).map(|_| f.next_point()).collect()
    }

    fn text(errs: Vec<ScenarioError>) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    /// A run that stops after any number of points gets from the feed read ahead what it
    /// gets from the merge read on its own thread: the same points, and the same errors,
    /// though the reading thread read the whole trace, its bad row included, long before
    /// (a run that stops before the merge meets the bad row reports nothing).
    #[test]
    fn a_run_read_ahead_gets_the_points_and_errors_it_would_get_on_its_own() {
        let dir = std::env::temp_dir().join(format!("ipsim-ahead-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (files, bad) in [(1, (0, 200)), (3, (1, 130)), (3, (2, 301))] {
            // The call during which the merge meets the bad row.
            let mut merged = MergedFeed::new(feeds(&dir, files, bad));
            let mut met = None;
            for call in 1..2000 {
                merged.next_point();
                if met.is_none() && !merged.erred().is_empty() {
                    met = Some(call);
                }
            }
            let met = met.expect("the bad row is met");
            assert_eq!(text(merged.errors()).len(), 1);
            for calls in [0, 1, met - 1, met, met + 1, 700, 2000] {
                let mut on_its_own = MergedFeed::new(feeds(&dir, files, bad));
                let want = take(&mut on_its_own, calls);
                let want_errs = text(on_its_own.errors());
                let (got, got_errs) = with_read_ahead(feeds(&dir, files, bad), |f| take(f, calls));
                assert_eq!(got, want, "{files} files, {calls} calls");
                assert_eq!(text(got_errs), want_errs, "{files} files, {calls} calls");
                assert_eq!(want_errs.len(), usize::from(calls >= met), "{calls} {met}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// More points than the channel holds: the reading thread waits for the run, and a run
    /// that stops early ends it (the test would hang otherwise).
    #[test]
    fn a_long_trace_streams_through_a_bounded_channel() {
        let dir = std::env::temp_dir().join(format!("ipsim-ahead-long-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::from("time,workload,instances\n");
        let rows = (BATCH * (IN_FLIGHT + 3)) as u64;
        for m in 0..rows {
            text.push_str(&format!("{m},w,{}\n", m % 9));
        }
        let path = dir.join("long.csv");
        std::fs::write(&path, text).unwrap();
        let trace = CsvTrace {
            path,
            unit: CsvUnit::Instances,
            targets: BTreeMap::from([(
                "w".to_string(),
                vec![Target {
                    workload: 0,
                    requests: None,
                    idle_delay_ms: 0,
                }],
            )]),
            ignore_unknown: false,
            start: None,
            held: None,
        };
        let (all, errs) = with_read_ahead(vec![trace.feed().unwrap()], |f| {
            std::iter::from_fn(|| f.next_point()).collect::<Vec<_>>()
        });
        assert!(errs.is_empty());
        assert_eq!(all.len() as u64, rows);
        assert!(
            all.iter()
                .enumerate()
                .all(|(i, p)| p.time_ms == i as u64 && p.instances == (i % 9) as u32)
        );
        let (some, _) = with_read_ahead(vec![trace.feed().unwrap()], |f| take(f, 10));
        assert_eq!(some.len(), 10);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
