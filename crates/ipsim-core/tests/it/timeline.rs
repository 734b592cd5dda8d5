//! Snapshot timelines: [`check`] runs a scenario with lifecycle logging on and compares a
//! compact text timeline of the run with an `expect![[...]]` snapshot.
//!
//! A mismatch fails the test and prints a diff. After a deliberate change to the engine,
//! regenerate the snapshots with
//!
//! ```text
//! UPDATE_EXPECT=1 cargo test -p ipsim-core --test it
//! ```
//!
//! then read the diff of every snapshot it rewrote before committing: a snapshot is only as
//! good as the reading that confirmed it against docs/model.md.
//!
//! # The timeline
//!
//! The first line names the columns. Then comes one line per millisecond (and subnet) at which
//! something happened: a logged event, a change of the subnet's state, or a change of a
//! workload's running or pending count. A line at `0:00` is always there: the state at the
//! start. Every line reads
//!
//! ```text
//! time       use  ret idle unres blk free | workloads | events
//! 11:01       22   12   14   204   3   11 | api=11 | reserve api .48-.63; start api r2 .48-.49
//! ```
//!
//! - `time`: offset from the start of the run as `m:ss`, or `m:ss.mmm` when not on a whole
//!   second (minutes are not folded into hours: `61:00` is an hour and a minute).
//! - `subnet`: the subnet's name, a column after `time` only when the run has more than one
//!   subnet (the lines of one millisecond then come in subnet order).
//! - `use ret idle unres blk free`: the subnet's row *after* every event of that millisecond
//!   (docs/model.md's recorded state): addresses in use, retained, reserved but idle (free inside
//!   reserved blocks), unreserved (usable, not static, outside reserved blocks), then the
//!   reserved blocks and the free blocks (reservable blocks no owner holds).
//! - `workloads`: `name=running`, or `name=running+pending`, for each workload of the subnet
//!   whose running or pending count changed at that millisecond (a pending start is one
//!   requested and not yet made, retrying included). A drop of `pending` with no event is a
//!   cancellation.
//! - `events`: the logged events of the millisecond, separated by `; `, in processing order
//!   except that events of one kind in a row are one item with a count `xN` (no count: one
//!   event), and that all the reservations of one owner in the millisecond are one item where
//!   the first was, as are all the releases:
//!   - `reserve api x2 .16-.47`: owner `api` (`pool` under subnet scope) reserved 2 blocks,
//!     which cover `.16` to `.47`; `release .16-.31`: blocks went back to the subnet;
//!   - `start api r2 x12 .216-.239`: 12 instances (or tasks) of revision 2 (`e1`: job
//!     execution 1) started, holding these addresses;
//!   - `stop api r1 .20-.21 20m`: an instance stopped; its addresses are retained 20 minutes;
//!   - `expire api x2 .20-.23`: retained addresses became free;
//!   - `EXHAUSTED api r2 x88 100/12/0/0`: 88 start attempts failed, each with its
//!     `desired/running/owner_free/free_blocks` (desired and running of the revision or
//!     execution, free addresses in the owner's blocks, free blocks of the subnet);
//!   - `task failed etl e1`: a job task failed its last attempt and gave up.
//!
//!   Addresses are written as the part after the subnet's fixed octets (`.16` in a /24 or
//!   smaller, `.1.16` in a /16 to /23), ranges of consecutive addresses as `a-b`, several
//!   ranges as `a-b,c-d`, and `+N ranges` past the third. Demand changes, swaps and
//!   cancellations are not logged: they show in the `workloads` column. Connectors log
//!   nothing: their instances show in `workloads` and `use` only.
//!
//! Runs of lines that repeat are folded. Two lines are alike when they are about the same
//! subnet and have the same items in the same order, with the same counts, retentions and
//! failure figures; addresses, rows, the `workloads` column and block reservations and
//! releases aside. A run of at least 2P + 3 lines in which each line is like the one P lines
//! before it (P from 1 to 4; the P that hides the most) shows its first P and last P lines,
//! and one line for the rest:
//!
//! ```text
//! ... 27 more lines like the line above, 0:20 to 4:40: 108 failed attempts
//! ```
//!
//! which counts the events it hides by kind (reserved blocks, released blocks, starts, stops,
//! expiries, failed attempts, failed tasks). Runs of failed retries (lines with nothing but
//! `EXHAUSTED` and `task failed` items) always fold; other runs fold only when the timeline
//! would otherwise have more than 40 lines (rollout steps, and the expiries that follow them
//! 20 minutes later).
//!
//! After the lines comes the summary:
//!
//! - `run: peak_held H, peak_blocks B, min_free F (K blocks), failed N, unmet Us`: run-wide
//!   figures (`Summary`'s `peak_held`, `peak_reserved_blocks`, `min_free`, `min_free_blocks`,
//!   `failed_attempts`, and `unmet_instance_ms` in instance-seconds);
//! - `first exhaustion: t name rN d/r/o/f`, when a start failed;
//! - `windows:` the failure windows as `name start-end` (`open` when still open at the end);
//! - `deploy failures:` as `name rN at t (swap t)`;
//! - `saturated:` the connectors' saturation windows, like failure windows;
//! - `subnet NAME: ...` the same figures per subnet, only when there are several;
//! - one line per workload: `name: held<=H blk<=B run<=R started S failed N unmet Us`, its
//!   peak held addresses, peak reserved blocks (`-` under subnet scope) and peak running, the
//!   instances or tasks started, failed attempts and unmet instance-seconds; for jobs also
//!   `tasks D done F failed`, for connectors `demand<=M Mbps`;
//!
//! and `log dropped N events` if the log hit `RunOptions::log_limit` (the timeline then misses
//! events). The Cloud Run message of an exhaustion is not shown (it only names the subnet).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use expect_test::Expect;
use ipsim_core::{Kind, LogEvent, Output, SimInput, Summary, Unit, WorkloadSpec, simulate};

/// Runs `input` with lifecycle logging on and compares its timeline with `expect`.
pub fn check(input: SimInput, expect: Expect) {
    expect.assert_eq(&timeline(&input));
}

/// The timeline of `input`, run with lifecycle logging on.
pub fn timeline(input: &SimInput) -> String {
    let input = logged(input.clone());
    let out = simulate(&input).expect("valid input");
    render(&input, &out)
}

/// `input` with every log and series on, as [`render`] needs.
pub fn logged(mut input: SimInput) -> SimInput {
    input.options.log_lifecycle = true;
    input.options.record_subnet_series = true;
    input.options.record_workload_series = true;
    input
}

// The only places where the tests set WorkloadSpec fields: the struct is about to become a sum
// type, and the builders will stay.

/// `w` with `min_instances = n`.
pub fn with_min_instances(mut w: WorkloadSpec, n: u32) -> WorkloadSpec {
    if let Kind::Service(s) | Kind::WorkerPool(s) = &mut w.kind {
        s.min_instances = n;
    }
    w
}

/// `w` with `max_instances = Some(n)`.
pub fn with_max_instances(mut w: WorkloadSpec, n: u32) -> WorkloadSpec {
    if let Kind::Service(s) | Kind::WorkerPool(s) = &mut w.kind {
        s.max_instances = Some(n);
    }
    w
}

/// `w` with `quota = Some(n)`.
pub fn with_quota(mut w: WorkloadSpec, n: u32) -> WorkloadSpec {
    match &mut w.kind {
        Kind::Service(s) | Kind::WorkerPool(s) => s.quota = Some(n),
        Kind::Job(j) => j.quota = Some(n),
        Kind::Connector(_) => {}
    }
    w
}

/// One kind of event of one millisecond, grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Reserve(Option<usize>),
    Release,
    Start(usize, Unit),
    Stop(usize, Unit, u64),
    Expire(usize),
    Exhausted(usize, Unit, [u32; 4]),
    TaskFailed(usize, Unit),
}

#[derive(Debug)]
struct Group {
    key: Key,
    n: u64,
    addrs: Vec<u32>,
}

struct Line {
    time: u64,
    text: String,
    /// What must repeat for the line to fold: subnet and events, addresses, reservations and
    /// releases aside.
    sig: String,
    /// Events by kind, as `KINDS` names them.
    counts: [u64; 7],
}

/// How the fold line counts the events it hides, in `Key` order: one, several.
const KINDS: [(&str, &str); 7] = [
    ("reserved block", "reserved blocks"),
    ("released block", "released blocks"),
    ("start", "starts"),
    ("stop", "stops"),
    ("expiry", "expiries"),
    ("failed attempt", "failed attempts"),
    ("failed task", "failed tasks"),
];

/// Timelines of at most this many lines, once failed retries are folded, fold nothing else.
const FOLD_ABOVE: usize = 40;

/// `m:ss` or `m:ss.mmm`.
pub fn fmt_t(ms: u64) -> String {
    let (m, s, r) = (ms / 60_000, ms / 1000 % 60, ms % 1000);
    if r == 0 {
        format!("{m}:{s:02}")
    } else {
        format!("{m}:{s:02}.{r:03}")
    }
}

fn fmt_unit(u: Unit) -> String {
    match u {
        Unit::Revision(n) => format!("r{n}"),
        Unit::Execution(n) => format!("e{n}"),
    }
}

fn fmt_secs(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

fn fmt_dur(ms: u64) -> String {
    if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// The part of `a` after the subnet's fixed octets.
fn fmt_addr(a: u32, prefix_len: u8) -> String {
    let [o1, o2, o3, o4] = a.to_be_bytes();
    match prefix_len {
        24.. => format!(".{o4}"),
        16.. => format!(".{o3}.{o4}"),
        8.. => format!(".{o2}.{o3}.{o4}"),
        _ => format!("{o1}.{o2}.{o3}.{o4}"),
    }
}

fn fmt_addrs(addrs: &[u32], prefix_len: u8) -> String {
    let mut v = addrs.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for a in v {
        match runs.last_mut() {
            Some((_, hi)) if *hi + 1 == a => *hi = a,
            _ => runs.push((a, a)),
        }
    }
    let mut parts: Vec<String> = runs
        .iter()
        .take(3)
        .map(|&(lo, hi)| {
            if lo == hi {
                fmt_addr(lo, prefix_len)
            } else {
                format!("{}-{}", fmt_addr(lo, prefix_len), fmt_addr(hi, prefix_len))
            }
        })
        .collect();
    if runs.len() > 3 {
        parts.push(format!("+{} ranges", runs.len() - 3));
    }
    parts.join(",")
}

/// The timeline of a run of `input` that produced `out` (see the module doc).
pub fn render(input: &SimInput, out: &Output) -> String {
    assert!(
        input.options.log_lifecycle && input.options.record_workload_series,
        "render needs the lifecycle log and the workload series: run `logged(input)`"
    );
    let block = input.params.block_size;
    let wl_name = |w: usize| out.workloads[w].name.as_str();
    let wl_subnet = |w: usize| out.workloads[w].subnet;
    let multi = out.subnets.len() > 1;
    let name_w = out.subnets.iter().map(|s| s.name.len()).max().unwrap_or(0);

    // Events by (time, subnet), grouped in order of first occurrence.
    let mut at: BTreeMap<(u64, usize), Vec<Group>> = BTreeMap::new();
    for e in &out.log {
        let (subnet, key, addrs) = match e {
            LogEvent::Reserve {
                subnet,
                block_addr,
                workload,
                ..
            } => (
                *subnet,
                Key::Reserve(*workload),
                (*block_addr..*block_addr + block).collect(),
            ),
            LogEvent::Release {
                subnet, block_addr, ..
            } => (
                *subnet,
                Key::Release,
                (*block_addr..*block_addr + block).collect(),
            ),
            LogEvent::Start {
                workload,
                unit,
                addrs,
                ..
            } => (
                wl_subnet(*workload),
                Key::Start(*workload, *unit),
                addrs.clone(),
            ),
            LogEvent::Stop {
                workload,
                unit,
                addrs,
                retention_ms,
                ..
            } => (
                wl_subnet(*workload),
                Key::Stop(*workload, *unit, *retention_ms),
                addrs.clone(),
            ),
            LogEvent::Expire {
                workload, addrs, ..
            } => (wl_subnet(*workload), Key::Expire(*workload), addrs.clone()),
            LogEvent::Exhaustion(x) => (
                x.subnet,
                Key::Exhausted(
                    x.workload,
                    x.unit,
                    [x.desired, x.running, x.owner_free, x.free_blocks],
                ),
                Vec::new(),
            ),
            LogEvent::TaskFailed { workload, unit, .. } => (
                wl_subnet(*workload),
                Key::TaskFailed(*workload, *unit),
                Vec::new(),
            ),
        };
        let groups = at.entry((e.time_ms(), subnet)).or_default();
        // Block events join the first group of their kind in the millisecond; the others join
        // the last group of the other kinds only, so that their order shows.
        let block = matches!(key, Key::Reserve(_) | Key::Release);
        let joins = if block {
            groups.iter_mut().find(|g| g.key == key)
        } else {
            groups
                .iter_mut()
                .rfind(|g| !matches!(g.key, Key::Reserve(_) | Key::Release))
                .filter(|g| g.key == key)
        };
        match joins {
            Some(g) => {
                g.n += 1;
                g.addrs.extend(addrs);
            }
            None => groups.push(Group { key, n: 1, addrs }),
        }
    }
    // Changes of state without a logged event, and the start.
    for (i, sn) in out.subnets.iter().enumerate() {
        at.entry((0, i)).or_default();
        for r in &sn.rows {
            at.entry((r.time_ms, i)).or_default();
        }
    }
    for (w, wo) in out.workloads.iter().enumerate() {
        for r in &wo.rows {
            at.entry((r.time_ms, wl_subnet(w))).or_default();
        }
    }

    let mut lines = Vec::new();
    for (&(t, sn), groups) in &at {
        let so = &out.subnets[sn];
        let plen = so.prefix_len;
        let r = so.at(t);
        let prev = if t == 0 { None } else { Some(so.at(t - 1)) };
        let mut wls = Vec::new();
        for wo in &out.workloads {
            if wo.subnet != sn {
                continue;
            }
            let state = |t| wo.at(t).map_or((0, 0), |r| (r.running, r.pending));
            let now = state(t);
            let before = if t == 0 { (0, 0) } else { state(t - 1) };
            if now != before {
                let mut s = format!("{}={}", wo.name, now.0);
                if now.1 > 0 {
                    let _ = write!(s, "+{}", now.1);
                }
                wls.push(s);
            }
        }
        if t > 0 && groups.is_empty() && wls.is_empty() && prev == Some(r) {
            continue;
        }
        let mut events = Vec::new();
        let mut sig = format!("{sn}");
        let mut counts = [0; 7];
        for g in groups {
            let n = if g.n > 1 {
                format!(" x{}", g.n)
            } else {
                String::new()
            };
            let head = match &g.key {
                Key::Reserve(w) => {
                    format!("reserve {}{n}", w.map_or("pool", wl_name))
                }
                Key::Release => format!("release{n}"),
                Key::Start(w, u) => format!("start {} {}{n}", wl_name(*w), fmt_unit(*u)),
                Key::Stop(w, u, _) => format!("stop {} {}{n}", wl_name(*w), fmt_unit(*u)),
                Key::Expire(w) => format!("expire {}{n}", wl_name(*w)),
                Key::Exhausted(w, u, [d, r, o, f]) => {
                    format!(
                        "EXHAUSTED {} {}{n} {d}/{r}/{o}/{f}",
                        wl_name(*w),
                        fmt_unit(*u)
                    )
                }
                Key::TaskFailed(w, u) => {
                    format!("task failed {} {}{n}", wl_name(*w), fmt_unit(*u))
                }
            };
            let kind = match g.key {
                Key::Reserve(_) => 0,
                Key::Release => 1,
                Key::Start(..) => 2,
                Key::Stop(..) => 3,
                Key::Expire(_) => 4,
                Key::Exhausted(..) => 5,
                Key::TaskFailed(..) => 6,
            };
            counts[kind] += g.n;
            if kind > 1 {
                let _ = write!(sig, "; {head}");
            }
            let mut item = head;
            if !g.addrs.is_empty() {
                let _ = write!(item, " {}", fmt_addrs(&g.addrs, plen));
            }
            if let Key::Stop(_, _, ret) = g.key {
                let _ = write!(item, " {}", fmt_dur(ret));
            }
            events.push(item);
        }
        let subnet = if multi {
            format!(" {:<name_w$}", so.name)
        } else {
            String::new()
        };
        let text = format!(
            "{:<9}{subnet} {:>4} {:>4} {:>4} {:>5} {:>3} {:>4} | {} | {}",
            fmt_t(t),
            r.in_use,
            r.retained,
            r.reserved_idle,
            r.unreserved,
            r.reserved_blocks,
            r.free_blocks,
            wls.join(" "),
            events.join("; "),
        );
        lines.push(Line {
            time: t,
            text: text.trim_end().to_string(),
            sig,
            counts,
        });
    }

    let mut s = String::new();
    let subnet = if multi {
        format!(" {:<name_w$}", "subnet")
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "{:<9}{subnet} {:>4} {:>4} {:>4} {:>5} {:>3} {:>4} | workloads | events",
        "time", "use", "ret", "idle", "unres", "blk", "free"
    );
    let folded = fold(&lines, false);
    if folded.lines().count() > FOLD_ABOVE {
        s.push_str(&fold(&lines, true));
    } else {
        s.push_str(&folded);
    }

    let windows = |ws: &[ipsim_core::FailureWindow]| {
        ws.iter()
            .map(|w| {
                let open = if w.open { " open" } else { "" };
                format!(
                    "{} {}-{}{open}",
                    wl_name(w.workload),
                    fmt_t(w.start_ms),
                    fmt_t(w.end_ms)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let figures = |sm: &Summary| {
        format!(
            "peak_held {}, peak_blocks {}, min_free {} ({} blocks), failed {}, unmet {}",
            sm.peak_held,
            sm.peak_reserved_blocks,
            sm.min_free,
            sm.min_free_blocks,
            sm.failed_attempts,
            fmt_secs(sm.unmet_instance_ms)
        )
    };
    let sm = &out.summary;
    let _ = writeln!(s, "run: {}", figures(sm));
    if let Some(x) = &sm.first_exhaustion {
        let _ = writeln!(
            s,
            "first exhaustion: {} {} {} {}/{}/{}/{}",
            fmt_t(x.time_ms),
            wl_name(x.workload),
            fmt_unit(x.unit),
            x.desired,
            x.running,
            x.owner_free,
            x.free_blocks
        );
    }
    if !sm.failure_windows.is_empty() {
        let _ = writeln!(s, "windows: {}", windows(&sm.failure_windows));
    }
    if !sm.deploy_failures.is_empty() {
        let d: Vec<_> = sm
            .deploy_failures
            .iter()
            .map(|d| {
                format!(
                    "{} r{} at {} (swap {})",
                    wl_name(d.workload),
                    d.revision,
                    fmt_t(d.time_ms),
                    fmt_t(d.swap_ms)
                )
            })
            .collect();
        let _ = writeln!(s, "deploy failures: {}", d.join(", "));
    }
    if !sm.saturation_windows.is_empty() {
        let _ = writeln!(s, "saturated: {}", windows(&sm.saturation_windows));
    }
    if multi {
        for sn in &out.subnets {
            let _ = writeln!(s, "subnet {}: {}", sn.name, figures(&sn.summary));
        }
    }
    for wo in &out.workloads {
        let w = &wo.summary;
        let blk = w
            .peak_reserved_blocks
            .map_or("-".to_string(), |b| b.to_string());
        let _ = write!(
            s,
            "{}: held<={} blk<={blk} run<={} started {} failed {} unmet {}",
            wo.name,
            w.peak_held,
            w.peak_running,
            w.n_started,
            w.failed_attempts,
            fmt_secs(w.unmet_instance_ms)
        );
        match wo.kind {
            ipsim_core::WorkloadKind::Job => {
                let _ = write!(
                    s,
                    ", tasks {} done {} failed",
                    w.tasks_completed, w.tasks_failed
                );
            }
            ipsim_core::WorkloadKind::Connector => {
                let _ = write!(s, ", demand<={} Mbps", w.peak_demand_mbps);
            }
            _ => {}
        }
        s.push('\n');
    }
    if out.log_dropped > 0 {
        let _ = writeln!(s, "log dropped {} events", out.log_dropped);
    }
    s
}

/// `lines`, with runs that repeat with a period of 1 to 4 lines folded: runs of failed retries
/// always, other runs too if `all`.
fn fold(lines: &[Line], all: bool) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < lines.len() {
        // The period that hides the most lines (the shortest on ties).
        let mut best: Option<(usize, usize)> = None;
        for p in 1..=4 {
            let mut j = i + p;
            while j < lines.len() && lines[j].sig == lines[j - p].sig {
                j += 1;
            }
            let len = j.min(lines.len()) - i;
            // Retries that keep failing fold in any timeline, other runs in long ones only.
            let failing = lines[i..i + len]
                .iter()
                .all(|l| l.counts[5] > 0 && l.counts[..5].iter().all(|&n| n == 0));
            let foldable = failing || all;
            if foldable && len >= 2 * p + 3 && best.is_none_or(|(_, l)| len - 2 * p > l) {
                best = Some((p, len - 2 * p));
            }
        }
        let Some((p, hidden)) = best else {
            s.push_str(&lines[i].text);
            s.push('\n');
            i += 1;
            continue;
        };
        for l in &lines[i..i + p] {
            s.push_str(&l.text);
            s.push('\n');
        }
        let mid = &lines[i + p..i + p + hidden];
        let mut counts = [0; 7];
        for l in mid {
            for (c, n) in counts.iter_mut().zip(l.counts) {
                *c += n;
            }
        }
        let what = if p == 1 {
            "the line above".to_string()
        } else {
            format!("the {p} lines above")
        };
        let hid: Vec<String> = KINDS
            .iter()
            .zip(counts)
            .filter(|&(_, n)| n > 0)
            .map(|(&(one, many), n)| format!("{n} {}", if n == 1 { one } else { many }))
            .collect();
        let _ = writeln!(
            s,
            "... {hidden} more lines like {what}, {} to {}: {}",
            fmt_t(mid[0].time),
            fmt_t(mid[hidden - 1].time),
            hid.join(", ")
        );
        for l in &lines[i + p + hidden..i + 2 * p + hidden] {
            s.push_str(&l.text);
            s.push('\n');
        }
        i += 2 * p + hidden;
    }
    s
}
