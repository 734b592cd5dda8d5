//! Subnet sizing: the smallest prefix with no exhaustion across the seeds, beside the
//! documented rule of thumb (2 x peak overlapping instances plus a buffer), and why they differ.
//!
//! For each subnet, the other subnets stay as declared and only its prefix changes (its base
//! masked to the prefix). The search starts at the declared prefix and moves outward (to
//! smaller subnets while they survive; to larger ones, doubling the step, while they fail),
//! then bisects, between the largest subnet its address range allows and the smallest Cloud
//! Run accepts (/26, or /29 with `allow_small_subnet`); it assumes that a larger subnet never
//! fails where a smaller one survives. A prefix survives when no seed has a failed start on
//! that subnet.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use ipsim_core::{Output, WorkloadKind};
use ipsim_scenario::{Scenario, ScenarioErrors};
use rayon::prelude::*;
use serde::Serialize;

use crate::variation::{Base, Edit, Field, quiet};

/// The sizing of one subnet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubnetSize {
    /// Name.
    pub name: String,
    /// The prefix the scenario declares.
    pub declared_prefix: u8,
    /// The smallest subnet (longest prefix) with no failed start in any seed; `None` if even
    /// the largest one tried fails.
    pub smallest_prefix: Option<u8>,
    /// The largest subnet its address range allows.
    pub largest_tried: u8,
    /// Prefixes tried, with whether they survived.
    pub probes: Vec<(u8, bool)>,
    /// The share of seeds with a failed start on this subnet at its declared prefix (0 when
    /// it survives): what `--fail-if-probability-above` compares.
    pub declared_failure_probability: f64,
    /// 2 x the peak of running instances (+ 1 x running tasks).
    pub steady_rule: u64,
    /// 2 x the peak of instances running or stopped within their retention: the documented
    /// rule of thumb, before its buffer.
    pub overlap_rule: u64,
    /// The smallest prefix whose usable addresses, less statics, cover `overlap_rule`.
    pub rule_prefix: Option<u8>,
    /// Addresses inside reserved blocks at the peak on a roomy subnet.
    pub peak_reserved: u64,
    /// Addresses held at the peak on a roomy subnet.
    pub peak_held: u64,
    /// Why the simulated size differs from the rule, largest factor first.
    pub reasons: Vec<String>,
}

/// The sizing of every subnet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeReport {
    /// Scenario name.
    pub scenario: String,
    /// Seeds per probe.
    pub seeds: u64,
    /// The confidence asked for.
    pub confidence: f64,
    /// With no failure in `seeds` runs, the failure probability is below this at `confidence`
    /// (0 when the scenario draws nothing at random, so one seed says it all).
    pub failure_bound: f64,
    /// Whether the scenario draws anything at random.
    pub random: bool,
    /// Per subnet.
    pub subnets: Vec<SubnetSize>,
    /// Simulation runs done (probes' seeds and rule-of-thumb runs; probes the bound settles
    /// are not runs).
    pub runs: u64,
}

fn usable(prefix: u8) -> u64 {
    (1u64 << (32 - u32::from(prefix))).saturating_sub(4)
}

/// The smallest prefix length (largest subnet) that keeps `base` inside the range it is in.
fn widest_prefix(base: u32, allow_unsupported: bool) -> u8 {
    for (b, l) in ipsim_core::SUPPORTED_RANGES {
        let m = if l == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(l))
        };
        if base & m == b {
            return l.max(8);
        }
    }
    if allow_unsupported { 8 } else { 26 }
}

/// Whether the scenario draws anything from its RNG: uniform retention, the random strategy,
/// Poisson noise or uniform task durations.
fn is_random(s: &Scenario) -> bool {
    use ipsim_core::{Retention, Strategy, TaskDurations};
    s.input.params.retention == Retention::Uniform
        || s.input.params.strategy == Strategy::Random
        || s.def.workloads.iter().any(|w| w.kind.noise())
        || s.input.workloads.iter().any(|w| match &w.kind {
            ipsim_core::Kind::Job(j) => j
                .executions
                .iter()
                .any(|e| matches!(e.durations, TaskDurations::Uniform { .. })),
            _ => false,
        })
}

fn lines(e: ScenarioErrors) -> Vec<String> {
    e.0.iter().map(|e| e.to_string()).collect()
}

/// Sizes every subnet of the scenario at `path`.
pub fn size(path: &Path, seeds: Option<u64>, confidence: f64) -> Result<SizeReport, Vec<String>> {
    let base = Base::load(path).map_err(lines)?;
    size_of(&base, seeds, confidence)
}

/// Sizes every subnet of a loaded scenario, as written.
pub fn size_of(
    base: &Base,
    seeds: Option<u64>,
    confidence: f64,
) -> Result<SizeReport, Vec<String>> {
    size_with(base, &[], seeds, confidence)
}

/// Sizes every subnet of `base` with `edits` applied (a reading of the undocumented choices).
///
/// What keeps it cheap, the answer unchanged: the traces are parsed once ([`Base`] holds
/// them); a probe runs with no rows and ends at its first failed start on the probed subnet;
/// the first surviving probe bounds the prefix (docs/sweeps.md, "The bound"), so the probes
/// the search would make beyond it are answered without a run; the candidates left between the
/// surviving and the failing prefix are run at once, in parallel, before the search visits
/// them (a fixed set, so the runs done are the same whatever the thread count); and the
/// rule-of-thumb run reuses a probe's run when it is the same one, or the one made beside the
/// first probe in case the declared prefix is the answer.
pub fn size_with(
    base: &Base,
    edits: &[Edit],
    seeds: Option<u64>,
    confidence: f64,
) -> Result<SizeReport, Vec<String>> {
    let def = &base.edited(edits).map_err(|e| vec![e])?;
    let declared = base.resolve(def.clone(), None).map_err(lines)?;
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(vec![format!(
            "--confidence {confidence} is not between 0 and 1"
        )]);
    }
    let random = is_random(&declared);
    // Without randomness every seed gives the same run. With it, enough seeds that no failure
    // in all of them bounds the failure probability at 1% (at the confidence asked for).
    let seeds = match seeds {
        Some(0) => return Err(vec!["--seeds must be at least 1".into()]),
        Some(n) => n,
        None if random => ((1.0 - confidence).ln() / (0.99f64).ln()).ceil() as u64,
        None => 1,
    };
    let failure_bound = if random {
        1.0 - (1.0 - confidence).powf(1.0 / seeds as f64)
    } else {
        0.0
    };
    let runs = AtomicU64::new(0);
    let mut subnets = Vec::new();
    for (i, sd) in def.subnets.iter().enumerate() {
        let spec = &declared.input.subnets[i];
        if !declared
            .input
            .workloads
            .iter()
            .any(|w| w.subnet == i && w.tag() != WorkloadKind::Connector)
        {
            continue;
        }
        let lo = widest_prefix(spec.base, sd.allow_unsupported_range);
        let hi = if sd.allow_small_subnet { 29 } else { 26 };
        let at_prefix = |p: u8| {
            let mut e = edits.to_vec();
            e.push(Edit::Set(
                Field::SubnetPrefix(sd.name.clone()),
                f64::from(p),
            ));
            e
        };
        let prober = Prober {
            base,
            def,
            subnet: i,
            seeds,
            runs: &runs,
        };
        let probe = |p: u8| prober.probe(&at_prefix(p));
        // Search outward from the declared prefix: smaller subnets while they survive, larger
        // ones (doubling the step) while they fail, then bisect between the two.
        let mut search = Search {
            probes: Vec::new(),
            done: BTreeMap::new(),
            bound: Bound::default(),
            declared: spec.prefix_len,
        };
        let start = spec.prefix_len.clamp(lo, hi);
        // The roomy run if the declared prefix is the answer (the common case of a subnet
        // sized by hand) runs beside its probe; it is used only if that is the answer.
        let guess = start.saturating_sub(2).max(lo);
        let (first, guessed) = rayon::join(
            || search.visit(start, &probe),
            || {
                (guess != start)
                    .then(|| prober.roomy(&at_prefix(guess)))
                    .flatten()
            },
        );
        let (mut good, mut bad): (Option<u8>, Option<u8>) = (None, None);
        if first? {
            good = Some(start);
        } else {
            bad = Some(start);
            let mut step = 1u8;
            let mut p = start;
            while p > lo {
                p = p.saturating_sub(step).max(lo);
                if search.visit(p, &probe)? {
                    good = Some(p);
                    break;
                }
                bad = Some(p);
                step = step.saturating_mul(2);
            }
        }
        let smallest = match good {
            Some(mut g) => {
                let mut b = bad.unwrap_or(hi + 1);
                // Every prefix the bisection can still visit that the bound does not settle,
                // run at once if they are few.
                let open: Vec<u8> = (g + 1..b)
                    .filter(|&p| !search.done.contains_key(&p) && !search.bound.fails(p))
                    .collect();
                if open.len() <= MAX_AT_ONCE {
                    let ran: Vec<(u8, Result<Probe, Vec<String>>)> =
                        open.par_iter().map(|&p| (p, probe(p))).collect();
                    for (p, r) in ran {
                        if let Ok(r) = r {
                            search.done.insert(p, r);
                        }
                    }
                }
                while b - g > 1 {
                    let mid = g + (b - g) / 2;
                    match search.visit(mid, &probe) {
                        Ok(true) => g = mid,
                        _ => b = mid,
                    }
                }
                Some(g)
            }
            None => None,
        };
        let declared_failed = search.declared_failed();
        let mut probes = std::mem::take(&mut search.probes);
        probes.sort_unstable();
        // The rule of thumb and the reasons, from a roomy run (4 times the answer, first
        // seed): a probe's own first-seed run when it probed that prefix and survived (the
        // same run: same scenario, same seed, and no failure on this subnet to stop at).
        let roomy_prefix = smallest.map_or(lo, |p| p.saturating_sub(2).max(lo));
        let reused = search
            .done
            .remove(&roomy_prefix)
            .and_then(|p| p.first.filter(|_| p.ok))
            .or(guessed.filter(|_| roomy_prefix == guess));
        let Roomy {
            scenario: roomy,
            out,
            rules: (steady, overlap),
        } = match reused {
            Some(r) => r,
            None => {
                let mut roomy = base
                    .scenario(&at_prefix(roomy_prefix), None)
                    .map_err(lines)?;
                quiet(&mut roomy);
                let mut rules = Rules::new(&roomy, i);
                runs.fetch_add(1, Ordering::Relaxed);
                let out = roomy.run_with(Some(&mut rules)).map_err(lines)?;
                Roomy {
                    rules: rules.finish(),
                    scenario: roomy,
                    out,
                }
            }
        };
        let n_static = u64::from(out.subnets[i].n_static);
        let rule_prefix = (lo..=hi)
            .rev()
            .find(|&p| usable(p).saturating_sub(n_static) >= overlap);
        let sn = &out.subnets[i].summary;
        let mut s = SubnetSize {
            name: sd.name.clone(),
            declared_prefix: spec.prefix_len,
            smallest_prefix: smallest,
            largest_tried: lo,
            probes,
            declared_failure_probability: declared_failed as f64 / seeds as f64,
            steady_rule: steady,
            overlap_rule: overlap,
            rule_prefix,
            peak_reserved: sn.peak_reserved,
            peak_held: sn.peak_held,
            reasons: Vec::new(),
        };
        s.reasons = reasons(&s, &roomy, &out, i);
        subnets.push(s);
    }
    Ok(SizeReport {
        scenario: def.name.clone(),
        seeds,
        confidence,
        failure_bound,
        random,
        subnets,
        runs: runs.into_inner(),
    })
}

/// The most candidate prefixes run at once ahead of the bisection.
const MAX_AT_ONCE: usize = 4;

/// What a probe of one prefix learnt, over its seeds.
struct Probe {
    /// No seed has a failed start on the subnet.
    ok: bool,
    /// Seeds with a failed start on it (or that the prefix cannot take).
    failed: u64,
    /// The most addresses held at once on the subnet, over the seeds (when `ok`).
    peak_held: u64,
    /// The first seed's run, when it ran to the end.
    first: Option<Roomy>,
}

/// A run to the end, with the rule of thumb of its rows.
struct Roomy {
    scenario: Scenario,
    out: Output,
    rules: (u64, u64),
}

/// Runs the probes of one subnet.
struct Prober<'a> {
    base: &'a Base,
    def: &'a ipsim_scenario::def::ScenarioDef,
    subnet: usize,
    seeds: u64,
    runs: &'a AtomicU64,
}

impl Prober<'_> {
    /// Runs `s` with no rows, to its first failed start on the subnet: (survived, addresses
    /// held at the peak, and the run with its rule of thumb if `keep` and it survived).
    fn run(&self, mut s: Scenario, keep: bool) -> (bool, u64, Option<Roomy>) {
        let i = self.subnet;
        quiet(&mut s);
        s.input.options.stop_at_first_failed_start = Some(i);
        let mut rules = keep.then(|| Rules::new(&s, i));
        self.runs.fetch_add(1, Ordering::Relaxed);
        let out = s.run_with(rules.as_mut().map(|r| r as &mut dyn ipsim_core::RowSink));
        match out {
            Ok(o) if o.subnets[i].summary.first_exhaustion.is_none() => {
                let held = o.subnets[i].summary.peak_held;
                let first = rules.map(|r| Roomy {
                    rules: r.finish(),
                    scenario: s,
                    out: o,
                });
                (true, held, first)
            }
            _ => (false, 0, None),
        }
    }

    /// The first seed's run of the prefix `at` sets, if it survives: the rule-of-thumb run
    /// when that prefix is the roomy one.
    fn roomy(&self, at: &[Edit]) -> Option<Roomy> {
        let s = self.base.scenario(at, Some(self.def.seed)).ok()?;
        self.run(s, true).2
    }

    /// Every seed of the prefix that `at` sets, in parallel: each run keeps no rows and stops
    /// at its first failed start on the subnet.
    fn probe(&self, at: &[Edit]) -> Result<Probe, Vec<String>> {
        let base = self.base;
        // The prefix is set once per probe; each seed only resolves and runs it (or, when the
        // seed changes nothing before the run, takes the first seed's scenario reseeded).
        let d = base.edited(at).map_err(|e| vec![e])?;
        let seed = |k: u64| self.def.seed.wrapping_add(k);
        let first = base.resolve(d.clone(), Some(seed(0)));
        let per: Vec<(bool, u64, Option<Roomy>)> = (0..self.seeds)
            .into_par_iter()
            .map(|k| {
                let s = match &first {
                    Ok(f) => f
                        .reseeded(seed(k))
                        .map_or_else(|| base.resolve(d.clone(), Some(seed(k))), Ok),
                    Err(_) => base.resolve(d.clone(), Some(seed(k))),
                };
                // A prefix the scenario cannot take (statics outside it) is too small.
                match s {
                    Ok(s) => self.run(s, k == 0),
                    Err(_) => (false, 0, None),
                }
            })
            .collect();
        let mut probe = Probe {
            ok: per.iter().all(|r| r.0),
            failed: per.iter().filter(|r| !r.0).count() as u64,
            peak_held: per.iter().map(|r| r.1).max().unwrap_or(0),
            first: None,
        };
        probe.first = per.into_iter().next().and_then(|r| r.2);
        Ok(probe)
    }
}

/// The bound from a surviving probe, sound under the model: a seed with no failed start on
/// the subnet at some prefix starts every instance and task when asked, so its addresses
/// held on the subnet follow the same course at every prefix where it survives (the subnet
/// only decides which addresses and blocks are given: the allocator's choices draw on the
/// subnet's own random stream, and which block an address is in changes neither when an
/// instance starts or stops nor the run's other draws). Held addresses are distinct usable
/// addresses, so a seed that held `peak` addresses at once fails on any subnet with fewer
/// usable addresses than `peak`.
#[derive(Debug, Default)]
struct Bound {
    /// The most addresses one seed held at once in a surviving probe.
    peak: Option<u64>,
}

impl Bound {
    /// Whether `prefix` fails for certain.
    fn fails(&self, prefix: u8) -> bool {
        self.peak.is_some_and(|h| usable(prefix) < h)
    }
}

/// The search's memory: the probes it visited, in order, and every probe run.
struct Search {
    /// Visited, with whether it survived: the report's probes.
    probes: Vec<(u8, bool)>,
    /// Every probe run, by prefix.
    done: BTreeMap<u8, Probe>,
    bound: Bound,
    /// The declared prefix.
    declared: u8,
}

impl Search {
    /// Whether `p` survives: from the bound, a probe already run, or a new probe.
    fn visit(
        &mut self,
        p: u8,
        probe: &dyn Fn(u8) -> Result<Probe, Vec<String>>,
    ) -> Result<bool, Vec<String>> {
        if let Some(&(_, ok)) = self.probes.iter().find(|(q, _)| *q == p) {
            return Ok(ok);
        }
        // The declared prefix is always run: its seeds' failures are the gate's figure.
        let ok = if p != self.declared && self.bound.fails(p) {
            false
        } else {
            let r = match self.done.entry(p) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => e.insert(probe(p)?),
            };
            if r.ok && self.bound.peak.is_none() {
                self.bound.peak = Some(r.peak_held);
            }
            r.ok
        };
        self.probes.push((p, ok));
        Ok(ok)
    }

    /// Seeds that failed at the declared prefix (0 if it was not probed).
    fn declared_failed(&self) -> u64 {
        self.done.get(&self.declared).map_or(0, |p| p.failed)
    }
}

/// (2 x peak running instances, 2 x peak instances running or retained), tasks counted once,
/// on one subnet, from the workloads' rows as the run makes them (none is kept): at each
/// time the rows of that time replace their workloads' values, then the sums are compared.
struct Rules {
    /// Per workload on the subnet: (addresses per instance or task, count factor).
    per: Vec<Option<(u64, u64)>>,
    /// Each workload's latest (running, alive) figures.
    cur: Vec<(u64, u64)>,
    sums: (u64, u64),
    at: Option<u64>,
    best: (u64, u64),
}

impl Rules {
    fn new(s: &Scenario, subnet: usize) -> Rules {
        let p = &s.input.params;
        let per: Vec<Option<(u64, u64)>> = s
            .input
            .workloads
            .iter()
            .map(|w| {
                (w.subnet == subnet).then(|| match w.tag() {
                    WorkloadKind::Job => (u64::from(p.ips_per_task), 1),
                    _ => (u64::from(p.ips_per_instance), 2),
                })
            })
            .collect();
        Rules {
            cur: vec![(0, 0); per.len()],
            per,
            sums: (0, 0),
            at: None,
            best: (0, 0),
        }
    }

    fn settle(&mut self) {
        self.best = (self.best.0.max(self.sums.0), self.best.1.max(self.sums.1));
    }

    /// (steady, overlap).
    fn finish(mut self) -> (u64, u64) {
        self.settle();
        self.best
    }
}

impl ipsim_core::RowSink for Rules {
    fn subnet_row(&mut self, _: usize, _: &ipsim_core::SubnetRow) {}

    fn workload_row(&mut self, w: usize, r: &ipsim_core::WorkloadRow) {
        let Some(&Some((ips, factor))) = self.per.get(w) else {
            return;
        };
        if self.at != Some(r.time_ms) {
            self.settle();
            self.at = Some(r.time_ms);
        }
        let running = u64::from(r.running) * factor;
        let alive = (u64::from(r.in_use) + u64::from(r.retained)) / ips.max(1) * factor;
        let (old_running, old_alive) = std::mem::replace(&mut self.cur[w], (running, alive));
        self.sums = (
            self.sums.0 - old_running + running,
            self.sums.1 - old_alive + alive,
        );
    }
}

/// `20 min`, or a duration like `1m30s` when it is not whole minutes.
fn minutes(ms: u64) -> String {
    if ms % 60_000 == 0 {
        format!("{} min", ms / 60_000)
    } else {
        ipsim_scenario::Duration(ms).to_string()
    }
}

fn reasons(s: &SubnetSize, sc: &Scenario, out: &Output, i: usize) -> Vec<String> {
    let mut r: Vec<(u64, String)> = Vec::new();
    let so = &out.subnets[i];
    if s.overlap_rule > s.steady_rule {
        let p = &sc.input.params;
        r.push((s.overlap_rule - s.steady_rule, format!(
            "retention overlap: stopped instances keep their addresses ({}, tasks {}), {} addresses beyond 2 x peak running",
            minutes(p.service_retention_ms),
            minutes(p.task_retention_ms),
            s.overlap_rule - s.steady_rule
        )));
    }
    if s.peak_held > s.overlap_rule {
        r.push((
            s.peak_held - s.overlap_rule,
            format!(
                "{} addresses per instance: {} held at the peak against the 2x rule's {}",
                sc.input.params.ips_per_instance, s.peak_held, s.overlap_rule
            ),
        ));
    }
    if s.peak_reserved > s.peak_held {
        let scope = match sc.input.params.block_scope {
            ipsim_core::BlockScope::Service => "one owner per workload",
            ipsim_core::BlockScope::Revision => "one owner per revision or execution",
            ipsim_core::BlockScope::Subnet => "one pool for the subnet",
        };
        r.push((s.peak_reserved - s.peak_held, format!(
            "block rounding and scope ({scope}): {} addresses reserved in /28 blocks at the peak for {} held",
            s.peak_reserved, s.peak_held
        )));
    }
    let size = so.usable + 4;
    let bs = sc.input.params.block_size;
    let unusable_blocks = so.n_blocks - so.n_reservable_blocks;
    if unusable_blocks > 0 {
        let edge = if size > bs { 2 } else { 1 };
        let statics = unusable_blocks.saturating_sub(edge);
        r.push((u64::from(edge * bs), format!(
            "the first and last {bs}-address blocks hold Google's reserved addresses and cannot be reserved: {} addresses",
            edge * bs
        )));
        if statics > 0 {
            r.push((u64::from(statics * bs), format!(
                "fragmentation by static allocations: {statics} blocks hold a static address and cannot be reserved ({} addresses; {} are static)",
                statics * bs,
                so.n_static
            )));
        }
    }
    if so.summary.failed_attempts > 0 {
        r.push((u64::MAX, "even the largest subnet tried fails".into()));
    }
    r.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    r.into_iter().map(|(_, m)| m).collect()
}

/// The human answer of `ipsim size`, and the runs it took.
pub fn size_text(r: &SizeReport) -> String {
    let mut o = size_detail(r);
    o.push_str(&runs_text(r.runs));
    o
}

/// `runs: N simulations`, the last line of a size answer.
fn runs_text(runs: u64) -> String {
    let s = if runs == 1 { "" } else { "s" };
    format!("\nruns: {runs} simulation{s}\n")
}

/// [`size_text`] without the runs.
fn size_detail(r: &SizeReport) -> String {
    let mut o = String::new();
    o.push_str(&format!("ipsim size: {}\n", r.scenario));
    if r.random {
        o.push_str(&format!(
            "  {} seeds per probe: with no failure in all of them, the failure probability is below {:.2}% at {:.0}% confidence\n",
            r.seeds,
            r.failure_bound * 100.0,
            r.confidence * 100.0
        ));
    } else {
        o.push_str("  the scenario draws nothing at random: one seed per probe decides\n");
    }
    for s in &r.subnets {
        o.push('\n');
        match s.smallest_prefix {
            Some(p) => o.push_str(&format!(
                "subnet {}: smallest prefix with no exhaustion: /{p} ({} usable addresses); declared /{}\n",
                s.name,
                usable(p),
                s.declared_prefix
            )),
            None => o.push_str(&format!("subnet {}: fails even as a /{}, the largest subnet its range allows\n", s.name, s.largest_tried)),
        }
        let probes: Vec<String> = s
            .probes
            .iter()
            .map(|(p, ok)| format!("/{p} {}", if *ok { "ok" } else { "fails" }))
            .collect();
        o.push_str(&format!("  probed: {}\n", probes.join(", ")));
        o.push_str(&format!(
            "  rule of thumb: 2 x peak overlapping instances = {} addresses, plus a buffer -> /{} or larger (2 x peak running alone: {})\n",
            s.overlap_rule,
            s.rule_prefix.map_or("?".into(), |p| p.to_string()),
            s.steady_rule
        ));
        match (s.smallest_prefix, s.rule_prefix) {
            (Some(a), Some(b)) if a == b => o.push_str("  the rule and the simulation agree; what makes up the need:\n"),
            (Some(a), Some(b)) if a < b => o.push_str(&format!(
                "  the rule falls short by {} prefix length(s); why:\n",
                b - a
            )),
            (Some(_), Some(_)) => o.push_str("  the rule asks for more than the simulation needs (the rule's buffer is not needed here); factors:\n"),
            _ => o.push_str("  factors:\n"),
        }
        for reason in &s.reasons {
            o.push_str(&format!("    - {reason}\n"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 instances swapping to a new revision at 10 minutes on a /24, with `params`.
    fn base(params: &str) -> Base {
        let text = format!(
            r#"{{"name": "s", "description": "", "duration": "1h", "params": {params},
                "subnets": [{{"name": "main", "cidr": "10.0.0.0/24"}}],
                "workloads": [{{"name": "api", "subnet": "main",
                    "demand": {{"type": "constant", "value": 10}},
                    "swaps": [{{"at": "10m"}}]}}]}}"#
        );
        Base::parse(text.as_bytes(), Path::new("s.json")).unwrap()
    }

    #[test]
    fn the_random_strategy_makes_a_scenario_random() {
        let r = size_of(&base(r#"{"strategy": "random"}"#), Some(2), 0.99).unwrap();
        assert!(r.random);
        assert!(r.failure_bound > 0.0);
        assert!(
            size_text(&r).contains("2 seeds per probe"),
            "{}",
            size_text(&r)
        );
        let r = size_of(&base("{}"), Some(2), 0.99).unwrap();
        assert!(!r.random);
    }

    /// 100 instances swapping at 10 minutes on a /16 hold 400 addresses at once: the /16
    /// survives, so every prefix with fewer than 400 usable addresses (/24 and smaller) fails
    /// without a run. The bisection's probe of /24 is answered by the bound; /21, /22 and /23
    /// run (and survive), and the rule-of-thumb run is the /21 probe's own: 4 runs, and the
    /// /14 run made beside the /16 probe in case /16 were the answer (unused here), where the
    /// search without the bound and reuse made 6.
    #[test]
    fn the_bound_settles_the_probes_past_it_without_a_run() {
        let text = r#"{"name": "s", "description": "", "duration": "1h",
            "subnets": [{"name": "main", "cidr": "10.0.0.0/16"}],
            "workloads": [{"name": "api", "subnet": "main",
                "demand": {"type": "constant", "value": 100},
                "swaps": [{"at": "10m"}]}]}"#;
        let base = Base::parse(text.as_bytes(), Path::new("s.json")).unwrap();
        let r = size_of(&base, None, 0.99).unwrap();
        let s = &r.subnets[0];
        assert_eq!(s.peak_held, 400);
        assert_eq!(s.smallest_prefix, Some(23));
        assert_eq!(
            s.probes,
            vec![(16, true), (21, true), (22, true), (23, true), (24, false)]
        );
        assert_eq!(r.runs, 5);
        assert!(size_text(&r).ends_with("\nruns: 5 simulations\n"));
    }

    /// Probes run in parallel, and each seed in parallel: the report, its runs count
    /// included, is the same on one thread as on three.
    #[test]
    fn the_report_is_the_same_whatever_the_thread_count() {
        let b = base(r#"{"strategy": "random", "retention": "uniform"}"#);
        let on = |n: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap();
            pool.install(|| size_of(&b, Some(3), 0.99).unwrap())
        };
        let one = on(1);
        assert_eq!(one, on(3));
        assert_eq!(size_text(&one), size_text(&on(2)));
        // /24 survives (beside it, the first seed of /22 in case /24 were the answer); /25
        // and /26 are run at once ahead of the bisection, 3 seeds each; the rule-of-thumb run
        // is on a /23, which no probe ran.
        assert_eq!(
            one.subnets[0].probes,
            vec![(24, true), (25, true), (26, false)]
        );
        assert_eq!(one.runs, 3 * 3 + 1 + 1);
    }

    #[test]
    fn the_retention_reason_states_the_scenarios_retention() {
        let r = size_of(
            &base(r#"{"service_retention": "5m", "task_retention": "90s"}"#),
            None,
            0.99,
        )
        .unwrap();
        let reasons = r.subnets[0].reasons.join("\n");
        assert!(
            reasons.contains("stopped instances keep their addresses (5 min, tasks 1m30s)"),
            "{reasons}"
        );
        let r = size_of(&base("{}"), None, 0.99).unwrap();
        let reasons = r.subnets[0].reasons.join("\n");
        assert!(
            reasons.contains("stopped instances keep their addresses (20 min, tasks 7 min)"),
            "{reasons}"
        );
    }
}

/// One reading's answer for one subnet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadingAnswer {
    /// The reading (`scope=revision+retention=fixed+edges=excluded`).
    pub reading: String,
    /// Whether it is the scenario as written.
    pub as_written: bool,
    /// Its smallest prefix with no exhaustion; `None` if even the largest subnet fails.
    pub smallest_prefix: Option<u8>,
}

/// The safe sizing of one subnet: the smallest prefix that holds under every reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SafeSubnet {
    /// The sizing under the reading that decides (needs the largest subnet): its probes, rule
    /// of thumb and reasons; `smallest_prefix` is the safe answer.
    #[serde(flatten)]
    pub sizing: SubnetSize,
    /// The reading that decides.
    pub decided_by: String,
    /// Every reading's answer, in reading order.
    pub answers: Vec<ReadingAnswer>,
    /// Why the readings' answers differ: each choice that alone changes the answer, then the
    /// readings that differ only in combination.
    pub differences: Vec<String>,
}

/// `ipsim size` by default: every subnet sized under every reading of the undocumented choices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SafeSizeReport {
    /// Scenario name.
    pub scenario: String,
    /// The choices bracketed, by key.
    pub choices: Vec<String>,
    /// Readings tried.
    pub readings: usize,
    /// Most seeds per probe of any reading (1 when none draws at random).
    pub seeds: u64,
    /// The confidence asked for.
    pub confidence: f64,
    /// The largest failure-probability bound of the random readings (0 if none is random).
    pub failure_bound: f64,
    /// Whether any reading draws at random.
    pub random: bool,
    /// Per subnet.
    pub subnets: Vec<SafeSubnet>,
    /// Simulation runs done, over every reading.
    pub runs: u64,
}

/// `a` needs a larger subnet than `b` (a shorter prefix; `None`, failing even the largest, is
/// the largest need of all).
fn needs_more(a: Option<u8>, b: Option<u8>) -> bool {
    match (a, b) {
        (None, Some(_)) => true,
        (Some(x), Some(y)) => x < y,
        _ => false,
    }
}

fn prefix_text(p: Option<u8>) -> String {
    p.map_or("fails at any size".into(), |p| format!("/{p}"))
}

/// Sizes every subnet of `base` under every reading of `plan`, in parallel; the readings
/// are collected in order, so the answer is the same whatever the thread count.
pub fn size_safe(
    base: &Base,
    plan: &crate::bracket::Plan,
    seeds: Option<u64>,
    confidence: f64,
) -> Result<SafeSizeReport, Vec<String>> {
    let per: Vec<Result<SizeReport, Vec<String>>> = plan
        .readings
        .par_iter()
        .map(|r| size_with(base, &r.edits, seeds, confidence))
        .collect();
    let per: Vec<SizeReport> = per.into_iter().collect::<Result<_, _>>()?;
    let Some(first) = per.first() else {
        return Err(vec!["no reading to size under".into()]);
    };
    let mut subnets = Vec::new();
    for (k, s0) in first.subnets.iter().enumerate() {
        let answers: Vec<ReadingAnswer> = plan
            .readings
            .iter()
            .zip(&per)
            .enumerate()
            .map(|(i, (r, rep))| ReadingAnswer {
                reading: r.name.clone(),
                as_written: Some(i) == plan.as_written,
                smallest_prefix: rep.subnets.get(k).and_then(|s| s.smallest_prefix),
            })
            .collect();
        // The deciding reading: the largest need; of equals, the scenario as written, else the
        // first.
        let mut d = plan.as_written.unwrap_or(0).min(answers.len() - 1);
        for (i, a) in answers.iter().enumerate() {
            if needs_more(a.smallest_prefix, answers[d].smallest_prefix) {
                d = i;
            }
        }
        let decided = &plan.readings[d];
        // Each choice on its own: the reading that differs from the deciding one in that
        // choice alone. Readings whose answer differs only through a combination are named.
        let mut differences = Vec::new();
        let mut explained = vec![false; answers.len()];
        for (i, a) in answers.iter().enumerate() {
            let changed: Vec<usize> = (0..decided.values.len())
                .filter(|&j| plan.readings[i].values.get(j) != decided.values.get(j))
                .collect();
            if a.smallest_prefix == answers[d].smallest_prefix {
                explained[i] = true;
                continue;
            }
            if let [j] = changed[..] {
                let (c, v) = &plan.readings[i].values[j];
                differences.push(format!(
                    "{}={v} instead of {} needs {}: {}",
                    c.key(),
                    decided.values[j].1,
                    prefix_text(a.smallest_prefix),
                    c.meaning(v)
                ));
                explained[i] = true;
            }
        }
        // A reading that has a choice which alone changes the answer is explained by it.
        let alone: Vec<&(ipsim_report::assumptions::Choice, String)> = (0..answers.len())
            .filter(|&i| explained[i] && answers[i].smallest_prefix != answers[d].smallest_prefix)
            .flat_map(|i| {
                plan.readings[i]
                    .values
                    .iter()
                    .zip(&decided.values)
                    .filter(|(x, y)| x != y)
                    .map(|(x, _)| x)
            })
            .collect();
        let rest: Vec<&str> = answers
            .iter()
            .enumerate()
            .filter(|&(i, _)| {
                !explained[i] && !plan.readings[i].values.iter().any(|v| alone.contains(&v))
            })
            .map(|(_, a)| a.reading.as_str())
            .collect();
        if !rest.is_empty() {
            differences.push(format!("only in combination: {}", rest.join(", ")));
        }
        let mut sizing = per[d].subnets.get(k).cloned().unwrap_or_else(|| s0.clone());
        sizing.smallest_prefix = answers[d].smallest_prefix;
        subnets.push(SafeSubnet {
            sizing,
            decided_by: decided.name.clone(),
            answers,
            differences,
        });
    }
    let mut choices: Vec<String> = Vec::new();
    for r in &plan.readings {
        for (c, _) in &r.values {
            if !choices.iter().any(|x| x == c.key()) {
                choices.push(c.key().to_string());
            }
        }
    }
    Ok(SafeSizeReport {
        scenario: first.scenario.clone(),
        choices,
        readings: plan.readings.len(),
        seeds: per.iter().map(|r| r.seeds).max().unwrap_or(1),
        confidence,
        failure_bound: per.iter().map(|r| r.failure_bound).fold(0.0, f64::max),
        random: per.iter().any(|r| r.random),
        subnets,
        runs: per.iter().map(|r| r.runs).sum(),
    })
}

/// The human answer of `ipsim size` under every reading.
pub fn safe_size_text(r: &SafeSizeReport) -> String {
    let mut o = format!(
        "ipsim size: {}: the smallest subnet that holds under all {} readings of the undocumented choices ({}); --as-written for the scenario's own reading alone\n",
        r.scenario,
        r.readings,
        r.choices.join(", ")
    );
    if r.random {
        o.push_str(&format!(
            "  readings that draw at random use up to {} seeds per probe: no failure in all of them bounds the failure probability below {:.2}% at {:.0}% confidence\n",
            r.seeds,
            r.failure_bound * 100.0,
            r.confidence * 100.0
        ));
    }
    for s in &r.subnets {
        o.push('\n');
        let z = &s.sizing;
        match z.smallest_prefix {
            Some(p) => o.push_str(&format!(
                "subnet {}: smallest prefix that holds under every reading: /{p} ({} usable addresses); declared /{}\n",
                z.name,
                usable(p),
                z.declared_prefix
            )),
            None => o.push_str(&format!(
                "subnet {}: fails under some reading even as a /{}, the largest subnet its range allows\n",
                z.name, z.largest_tried
            )),
        }
        o.push_str(&format!("  decided by {}\n", s.decided_by));
        let w = s.answers.iter().map(|a| a.reading.len()).max().unwrap_or(0);
        for a in &s.answers {
            let tag = if a.as_written { "  (as written)" } else { "" };
            o.push_str(&format!(
                "    {:<w$}  {}{tag}\n",
                a.reading,
                prefix_text(a.smallest_prefix)
            ));
        }
        if !s.differences.is_empty() {
            o.push_str("  why the answers differ:\n");
            for d in &s.differences {
                o.push_str(&format!("    - {d}\n"));
            }
        }
        // The deciding reading's detail, as `--as-written` prints a reading.
        let detail = size_detail(&SizeReport {
            scenario: String::new(),
            seeds: r.seeds,
            confidence: r.confidence,
            failure_bound: r.failure_bound,
            random: r.random,
            subnets: vec![z.clone()],
            runs: 0,
        });
        o.push_str(&format!("  under {}:\n", s.decided_by));
        for l in detail.lines().skip_while(|l| !l.starts_with("  probed")) {
            o.push_str(&format!("  {l}\n"));
        }
    }
    o.push_str(&runs_text(r.runs));
    o
}
