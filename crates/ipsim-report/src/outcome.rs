//! Outcomes in words: what a workload was short of and for how long, how many of its starts
//! never happened against the attempts they cost, each job execution's tasks, its failed
//! deploys, and the named cause of a failed start. report.json carries the figures and the
//! sentences; the text summary, report.md and report.html print the sentences.

use ipsim_core::{ExhaustionEvent, SubnetOutput, WorkloadKind, WorkloadOutput};
use serde::{Deserialize, Serialize};

use crate::span;

/// How many windows and workloads a summary lists before "and k more".
pub const LIST_MAX: usize = 5;

/// The most a workload was short at once while its starts were failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Short {
    /// Instances or tasks requested and not running, at most, while a start was failing.
    pub peak: u32,
    /// The desired count (running + requested) at that moment.
    pub desired: u32,
    /// `peak / desired` in whole percent (rounded, never 100 unless none ran, never 0).
    pub percent: u32,
    /// Time inside the workload's failure windows.
    pub duration_ms: u64,
}

/// One job execution's finished tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionRow {
    /// Execution number, 1 for the first.
    pub execution: u32,
    /// Tasks that completed.
    pub succeeded: u64,
    /// Tasks that gave up after every attempt failed.
    pub failed: u64,
}

/// `1,020`: thousands separated, for people.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `/28` for blocks of `block_size` addresses.
pub fn block_prefix(block_size: u32) -> String {
    format!("/{}", 32 - block_size.max(1).ilog2())
}

/// What an instance or task of this kind is called, in the plural when `n != 1`.
pub fn noun(kind: WorkloadKind, n: u64) -> &'static str {
    match (kind, n == 1) {
        (WorkloadKind::Job, true) => "task",
        (WorkloadKind::Job, false) => "tasks",
        (WorkloadKind::Connector, true) => "connector VM",
        (WorkloadKind::Connector, false) => "connector VMs",
        (_, true) => "instance",
        (_, false) => "instances",
    }
}

fn owners(n: u32) -> String {
    format!("{n} owner{}", if n == 1 { "" } else { "s" })
}

/// The cause of a failed start, named: which of addresses or blocks ran out.
///
/// - `no free address`: every address of the reserved blocks is held and no block is free;
/// - `no free /28 block (29 of 29 held by 31 owners)`: the owner holds no block and none is
///   free, while other owners' blocks have idle addresses;
/// - `owner's blocks full and no free /28 block (...)`: the owner's blocks are full, none is
///   free, and other owners' blocks have idle addresses it cannot use;
/// - `free /28 blocks too few (2 free)`: some blocks are free but not enough for the start.
pub fn cause(
    e: &ExhaustionEvent,
    sn: &SubnetOutput,
    block_size: u32,
    subnet_scope: bool,
) -> String {
    let b = block_prefix(block_size);
    let reserved = sn.n_reservable_blocks.saturating_sub(e.free_blocks);
    let held = format!(
        "{reserved} of {} held by {}",
        sn.n_reservable_blocks,
        owners(e.owners)
    );
    let idle_elsewhere = e.idle.saturating_sub(e.owner_free);
    if e.free_blocks > 0 {
        format!("free {b} blocks too few ({} free)", e.free_blocks)
    } else if subnet_scope || idle_elsewhere == 0 {
        format!(
            "no free address ({reserved} of {} {b} blocks reserved, every address held)",
            sn.n_reservable_blocks
        )
    } else if e.owner_blocks == 0 {
        format!(
            "no free {b} block ({held}; {} addresses idle in them)",
            thousands(u64::from(idle_elsewhere))
        )
    } else {
        format!(
            "owner's blocks full and no free {b} block ({held}; {} addresses idle in other owners' blocks)",
            thousands(u64::from(idle_elsewhere))
        )
    }
}

/// The workload's shortfall, if any start of it failed.
pub fn short(w: &WorkloadOutput) -> Option<Short> {
    let s = &w.summary;
    if s.failure_windows.is_empty() || s.peak_short == 0 {
        return None;
    }
    let desired = s.peak_short_desired.max(s.peak_short);
    let exact = u64::from(s.peak_short) * 100;
    let mut percent = ((exact + u64::from(desired) / 2) / u64::from(desired)) as u32;
    if s.peak_short < desired {
        percent = percent.min(99);
    }
    Some(Short {
        peak: s.peak_short,
        desired,
        percent: percent.max(1),
        duration_ms: s
            .failure_windows
            .iter()
            .map(|x| x.end_ms - x.start_ms)
            .sum(),
    })
}

/// "short by up to 148 of 150 instances (99%) for 50m".
pub fn short_text(s: &Short, kind: WorkloadKind) -> String {
    format!(
        "short by up to {} of {} {} ({}%) for {}",
        thousands(u64::from(s.peak)),
        thousands(u64::from(s.desired)),
        noun(kind, u64::from(s.desired)),
        s.percent,
        span(s.duration_ms)
    )
}

/// The sentences about one workload's outcome; empty when nothing went wrong.
///
/// `deploys` is the number of its swaps; `time` formats a time for people.
pub fn words(
    w: &WorkloadOutput,
    short: Option<&Short>,
    deploys: usize,
    time: &dyn Fn(u64) -> String,
) -> Vec<String> {
    let s = &w.summary;
    let mut out = Vec::new();
    if let Some(sh) = short {
        out.push(short_text(sh, w.kind));
    }
    if s.requests_failed > 0 {
        let never = s.requests_failed - s.started_after_failing;
        let late = match (s.started_after_failing, never) {
            (_, 0) => "all started later".to_string(),
            (0, _) => "none started".to_string(),
            (l, n) => format!(
                "{} started later, {} never started",
                thousands(l),
                thousands(n)
            ),
        };
        out.push(format!(
            "{} {} failed to start ({} failed attempts): {late}",
            thousands(s.requests_failed),
            noun(w.kind, s.requests_failed),
            thousands(s.failed_attempts),
        ));
    }
    for e in s.executions.iter().filter(|e| e.failed > 0) {
        out.push(format!(
            "execution {} lost tasks: {} succeeded, {} failed",
            e.execution,
            thousands(e.completed),
            thousands(e.failed)
        ));
    }
    let ok_execs = s.executions.iter().filter(|e| e.failed == 0).count();
    if ok_execs > 0 && ok_execs < s.executions.len() {
        out.push(format!(
            "{ok_execs} other execution{} ran every task",
            if ok_execs == 1 { "" } else { "s" }
        ));
    }
    if !s.deploy_failures.is_empty() {
        let first = &s.deploy_failures[0];
        let more = s.deploy_failures.len() - 1;
        out.push(format!(
            "{} of {} deploy{} failed: revision {} at {}{}",
            s.deploy_failures.len(),
            deploys.max(s.deploy_failures.len()),
            if deploys == 1 { "" } else { "s" },
            first.revision,
            time(first.time_ms),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_prefixes_read_as_people_write_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1020), "1,020");
        assert_eq!(thousands(10_560), "10,560");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(block_prefix(16), "/28");
        assert_eq!(block_prefix(32), "/27");
    }
}
