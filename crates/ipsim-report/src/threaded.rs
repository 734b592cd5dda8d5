//! A sink on a thread of its own: the run hands it its rows in batches and goes on, while the
//! thread formats and writes them (`ipsim run` writes its CSV files and chart columns this
//! way). The inner sink receives exactly the calls, in exactly the order, it would receive
//! on the run's own thread, so what it writes is the same byte for byte; if the thread stops
//! (a panic), the later calls are dropped and [`Threaded::finish`] says so.
//!
//! Memory stays bounded: a batch holds [`Threaded::BATCH`] calls, at most
//! [`Threaded::QUEUED`] batches wait for the thread (after which the run waits for it), so at
//! most `QUEUED + 3` batches exist at once: the one being filled, one being sent, those
//! waiting and the one being replayed (about 1.2 MB).

use ipsim_core::{RowSink, SubnetInfo, SubnetRow, WorkloadRow};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

/// One call of [`RowSink`], as the thread replays it.
#[derive(Debug)]
enum Call {
    Start(Vec<SubnetInfo>),
    Subnet(usize, SubnetRow),
    Workload(usize, WorkloadRow),
}

impl Call {
    /// Makes this call on `sink`.
    fn on(self, sink: &mut impl RowSink) {
        match self {
            Call::Start(subnets) => sink.start(&subnets),
            Call::Subnet(i, row) => sink.subnet_row(i, &row),
            Call::Workload(i, row) => sink.workload_row(i, &row),
        }
    }
}

/// A [`RowSink`] that passes every call to `S`, on a thread of its own or, without one,
/// in place.
#[derive(Debug)]
pub struct Threaded<S> {
    kind: Kind<S>,
}

#[derive(Debug)]
enum Kind<S> {
    InPlace(S),
    Thread {
        batch: Vec<Call>,
        /// `None` once the thread has stopped: later calls are dropped.
        to_thread: Option<SyncSender<Vec<Call>>>,
        /// Batches the thread has replayed, emptied, to be filled again (a new batch would
        /// cost its allocation and page faults: about 3 % of `ipsim run` on a trace).
        spent: Receiver<Vec<Call>>,
        thread: Option<JoinHandle<Option<S>>>,
    },
    /// Finished.
    Done,
}

/// The sink's thread ended in a panic: what it wrote is incomplete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadFailed;

impl std::fmt::Display for ThreadFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the thread writing the rows stopped before the end")
    }
}

impl std::error::Error for ThreadFailed {}

impl<S: RowSink + Send + 'static> Threaded<S> {
    /// Calls a batch holds before it goes to the thread (about 250 KB of rows).
    pub const BATCH: usize = 4_096;
    /// Batches that may wait for the thread.
    pub const QUEUED: usize = 2;

    /// `inner` on a thread of its own if `thread`, else in place. A thread that cannot be
    /// started leaves `inner` in place: the rows are the same either way.
    pub fn new(inner: S, thread: bool) -> Self {
        if !thread {
            return Threaded {
                kind: Kind::InPlace(inner),
            };
        }
        let (to_thread, from_run) = sync_channel::<Vec<Call>>(Self::QUEUED);
        let (give_back, spent) = channel::<Vec<Call>>();
        // The sink goes to the thread once it is started, and stays here if it cannot be
        // (as `ipsim-scenario`'s read-ahead hands over its feeds).
        let (sink_tx, sink_rx) = sync_channel::<S>(1);
        let started = std::thread::Builder::new()
            .name("ipsim-rows".into())
            .spawn(move || Some(replay(sink_rx.recv().ok()?, &from_run, &give_back)));
        let Ok(thread) = started else {
            return Threaded {
                kind: Kind::InPlace(inner),
            };
        };
        // The thread waits for it: the channel has room, and nothing else closes it.
        let _ = sink_tx.send(inner);
        Threaded {
            kind: Kind::Thread {
                batch: Vec::with_capacity(Self::BATCH),
                to_thread: Some(to_thread),
                spent,
                thread: Some(thread),
            },
        }
    }

    /// Sends the batch being filled to the thread, and takes an emptied one to fill next.
    fn send(&mut self) {
        let Kind::Thread {
            batch,
            to_thread,
            spent,
            ..
        } = &mut self.kind
        else {
            return;
        };
        let next = spent
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(Self::BATCH));
        let full = std::mem::replace(batch, next);
        // A thread that is gone has panicked: later calls are dropped, and `finish` says so.
        if to_thread.as_ref().is_some_and(|tx| tx.send(full).is_err()) {
            *to_thread = None;
        }
    }

    fn push(&mut self, call: Call) {
        match &mut self.kind {
            Kind::InPlace(s) => call.on(s),
            Kind::Thread {
                to_thread: None, ..
            }
            | Kind::Done => {}
            Kind::Thread { batch, .. } => {
                batch.push(call);
                if batch.len() >= Self::BATCH {
                    self.send();
                }
            }
        }
    }

    /// Waits for the thread to replay every call, and returns the inner sink.
    pub fn finish(mut self) -> Result<S, ThreadFailed> {
        self.send();
        match std::mem::replace(&mut self.kind, Kind::Done) {
            Kind::InPlace(s) => Ok(s),
            Kind::Thread {
                to_thread, thread, ..
            } => {
                drop(to_thread);
                match thread.map(JoinHandle::join) {
                    Some(Ok(Some(s))) => Ok(s),
                    _ => Err(ThreadFailed),
                }
            }
            Kind::Done => Err(ThreadFailed),
        }
    }
}

/// Dropped without [`Threaded::finish`] (the run stopped early): the thread is told there is
/// no more and waited for, so that no file is still being written once the caller goes on.
impl<S> Drop for Threaded<S> {
    fn drop(&mut self) {
        if let Kind::Thread {
            to_thread, thread, ..
        } = &mut self.kind
        {
            drop(to_thread.take());
            if let Some(t) = thread.take() {
                let _ = t.join();
            }
        }
    }
}

impl<S: RowSink + Send + 'static> RowSink for Threaded<S> {
    fn start(&mut self, subnets: &[SubnetInfo]) {
        self.push(Call::Start(subnets.to_vec()));
    }

    fn subnet_row(&mut self, subnet: usize, row: &SubnetRow) {
        self.push(Call::Subnet(subnet, *row));
    }

    fn workload_row(&mut self, workload: usize, row: &WorkloadRow) {
        self.push(Call::Workload(workload, *row));
    }
}

/// The thread: replays every batch into `inner`, hands the emptied batch back, and returns
/// `inner` once the run has sent its last batch.
fn replay<S: RowSink>(
    mut inner: S,
    from_run: &Receiver<Vec<Call>>,
    give_back: &Sender<Vec<Call>>,
) -> S {
    while let Ok(mut batch) = from_run.recv() {
        for call in batch.drain(..) {
            call.on(&mut inner);
        }
        // The run may have finished already; a batch it does not take back is dropped.
        let _ = give_back.send(batch);
    }
    inner
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Every call it receives, in order.
    #[derive(Debug, Default)]
    struct Log(Vec<String>);

    impl RowSink for Log {
        fn start(&mut self, subnets: &[SubnetInfo]) {
            self.0.push(format!("start {}", subnets.len()));
        }
        fn subnet_row(&mut self, subnet: usize, row: &SubnetRow) {
            self.0.push(format!("subnet {subnet} {row:?}"));
        }
        fn workload_row(&mut self, workload: usize, row: &WorkloadRow) {
            self.0.push(format!("workload {workload} {row:?}"));
        }
    }

    fn feed(sink: &mut impl RowSink, n: u64) {
        let info = SubnetInfo {
            name: "s".into(),
            base: 0x0A00_0000,
            prefix_len: 24,
            usable: 252,
            n_static: 0,
            reservable: 240,
            n_reservable_blocks: 15,
        };
        sink.start(&[info]);
        for t in 0..n {
            let w = WorkloadRow {
                time_ms: t,
                in_use: (t % 7) as u32,
                ..WorkloadRow::default()
            };
            sink.workload_row((t % 3) as usize, &w);
            if t % 5 == 0 {
                let s = SubnetRow {
                    time_ms: t,
                    free: t as u32,
                    ..SubnetRow::default()
                };
                sink.subnet_row(0, &s);
            }
        }
    }

    /// Through the thread, across several batches and a partial last one, the inner sink
    /// receives exactly the calls, in the order, it receives in place.
    #[test]
    fn the_thread_replays_every_call_in_order() {
        let n = 3 * Threaded::<Log>::BATCH as u64 + 17;
        let mut in_place = Log::default();
        feed(&mut in_place, n);
        let mut threaded = Threaded::new(Log::default(), true);
        assert!(matches!(threaded.kind, Kind::Thread { .. }));
        feed(&mut threaded, n);
        let through = threaded.finish().unwrap();
        assert_eq!(through.0.len(), in_place.0.len());
        assert!(through.0 == in_place.0);
        let mut no_thread = Threaded::new(Log::default(), false);
        feed(&mut no_thread, 10);
        assert_eq!(no_thread.finish().unwrap().0[..], in_place.0[..13]);
    }

    /// Counts the rows it has received, where the test can see them.
    #[derive(Debug)]
    struct Shared(Arc<Mutex<u64>>);

    impl RowSink for Shared {
        fn subnet_row(&mut self, _: usize, _: &SubnetRow) {}
        fn workload_row(&mut self, _: usize, _: &WorkloadRow) {
            std::thread::sleep(std::time::Duration::from_micros(1));
            if let Ok(mut n) = self.0.lock() {
                *n += 1;
            }
        }
    }

    /// Dropped without `finish` (a run that stopped early), it waits for the thread to replay
    /// the batches it was sent (the one still being filled is dropped), so that nothing is
    /// still writing once the caller goes on: each row takes the sink a sleep, so without the
    /// wait the count would still be rising.
    #[test]
    fn dropped_unfinished_it_waits_for_the_thread() {
        let n = Arc::new(Mutex::new(0));
        let mut threaded = Threaded::new(Shared(Arc::clone(&n)), true);
        feed(&mut threaded, 3 * Threaded::<Shared>::BATCH as u64);
        drop(threaded);
        let at_drop = *n.lock().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(*n.lock().unwrap(), at_drop);
        // Three full batches of 4,096 calls, five in six of them workload rows.
        assert!(at_drop >= 10_000, "{at_drop}");
    }

    /// A sink that stops on its thread fails the finish instead of hanging the run, even when
    /// the run goes on sending rows after it stopped.
    #[derive(Debug)]
    struct Stops;

    impl RowSink for Stops {
        fn subnet_row(&mut self, _: usize, _: &SubnetRow) {}
        fn workload_row(&mut self, _: usize, row: &WorkloadRow) {
            assert!(row.time_ms < 10, "the sink stops here");
        }
    }

    #[test]
    fn a_sink_that_stops_on_its_thread_fails_the_finish() {
        let mut threaded = Threaded::new(Stops, true);
        feed(&mut threaded, 10 * Threaded::<Stops>::BATCH as u64);
        assert_eq!(threaded.finish().err(), Some(ThreadFailed));
    }
}
