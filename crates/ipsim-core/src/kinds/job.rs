//! Jobs: executions of tasks, at most `parallelism` (capped by the quota) running or pending
//! at once; a task that gives up passes its slot on at once (docs/model.md "Starting", "Failing").

use super::{Action, Timer};
use crate::input::{JobExecution, JobSpec};

/// One execution's slots and counts.
#[derive(Debug, Clone)]
pub(crate) struct Exec {
    /// Its own owner under revision scope, else `NONE`.
    pub(crate) owner: u32,
    n_tasks: u32,
    slots: u32,
    next_task: u32,
    running: u32,
    pending: u32,
}

/// A job's executions.
#[derive(Debug, Default)]
pub(crate) struct JobState {
    execs: Vec<Exec>,
    /// Executions with tasks left to run, in start order.
    active: Vec<u32>,
    cursor: usize,
}

impl JobState {
    /// Execution `ex`.
    pub(crate) fn exec(&self, ex: u32) -> &Exec {
        &self.execs[ex as usize]
    }

    /// Execution `ex`'s desired count (running plus pending tasks) and running count.
    pub(crate) fn desired_running(&self, ex: u32) -> (u32, u32) {
        let e = &self.execs[ex as usize];
        (e.running + e.pending, e.running)
    }

    /// Starts every execution due by `now`, each with an owner from `owner`; the next start is
    /// appended to `timers`.
    pub(crate) fn start_due(
        &mut self,
        now: u64,
        spec: &JobSpec,
        mut owner: impl FnMut() -> u32,
        timers: &mut Vec<Timer>,
    ) {
        let quota = spec.quota.unwrap_or(u32::MAX);
        while let Some(e) = spec.executions.get(self.cursor) {
            if e.start_ms > now {
                timers.push(Timer::ExecStart { at: e.start_ms });
                break;
            }
            self.execs.push(Exec {
                owner: owner(),
                n_tasks: e.n_tasks,
                slots: slots(e).min(quota),
                next_task: 0,
                running: 0,
                pending: 0,
            });
            self.active.push(self.cursor as u32);
            self.cursor += 1;
        }
    }

    /// Requests queued tasks of every active execution while it has free slots.
    pub(crate) fn evaluate(&mut self, out: &mut Vec<Action>) {
        for i in 0..self.active.len() {
            let ex = self.active[i];
            self.fill(ex, out);
        }
        self.retire();
    }

    /// Requests queued tasks of execution `ex` while it has free slots.
    pub(crate) fn dispatch(&mut self, ex: u32, out: &mut Vec<Action>) {
        self.fill(ex, out);
        self.retire();
    }

    fn fill(&mut self, ex: u32, out: &mut Vec<Action>) {
        let e = &mut self.execs[ex as usize];
        while e.running + e.pending < e.slots && e.next_task < e.n_tasks {
            out.push(Action::Request {
                unit: ex,
                task: e.next_task,
                n: 1,
            });
            e.next_task += 1;
            e.pending += 1;
        }
    }

    /// Executions with every task done or failed leave the active list.
    fn retire(&mut self) {
        let execs = &self.execs;
        self.active.retain(|&x| {
            let e = &execs[x as usize];
            e.next_task < e.n_tasks || e.running > 0 || e.pending > 0
        });
    }

    /// A task of `ex` started.
    pub(crate) fn started(&mut self, ex: u32) {
        let e = &mut self.execs[ex as usize];
        e.pending -= 1;
        e.running += 1;
    }

    /// A task of `ex` completed (its slot is free; dispatch next).
    pub(crate) fn completed(&mut self, ex: u32) {
        self.execs[ex as usize].running -= 1;
    }

    /// A task of `ex` gave up after its retries (its slot is free; dispatch next).
    pub(crate) fn gave_up(&mut self, ex: u32) {
        self.execs[ex as usize].pending -= 1;
    }
}

/// Tasks an execution runs at once: its parallelism (0: all), at most its task count.
fn slots(e: &JobExecution) -> u32 {
    if e.parallelism == 0 {
        e.n_tasks
    } else {
        e.parallelism.min(e.n_tasks)
    }
}
