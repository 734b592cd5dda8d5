//! `ipsim import` (a scenario from gcloud exports, `terraform show -json` and the subnet's
//! address list), `ipsim check` (the same, run in the worst case, for a pipeline) and reading
//! a scenario from standard input (`ipsim run -`). The import itself is `ipsim-import`'s.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use ipsim_core::{ExhaustionEvent, Unit};
use ipsim_import::{Demand, Imported, Options, Source};
use ipsim_scenario::{Overrides, Scenario, ScenarioError, ScenarioErrors};

use crate::exit::{Exit, GATE, INPUT, OK};
use crate::output::{errln, outln, quiet};

/// What `import` and `check` read, and how.
#[derive(clap::Args, Debug, Clone)]
pub struct ImportArgs {
    /// Input files, any mix: `gcloud run services|jobs|worker-pools describe NAME --format
    /// export` YAML, `terraform show -json` (plan or state), `gcloud compute addresses list
    /// --format=json`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// A subnet no input declares (a Shared VPC host project's): NAME=CIDR (repeat).
    #[arg(long = "subnet", value_name = "NAME=CIDR", value_parser = pair)]
    subnets: Vec<(String, String)>,
    /// Hand a serverless-ipv4-* reservation to a service or worker pool: RESERVATION=WORKLOAD
    /// (repeat); unmapped ones are "existing Cloud Run", held for the whole run.
    #[arg(long = "hold", value_name = "RESERVATION=WORKLOAD", value_parser = pair)]
    holders: Vec<(String, String)>,
    /// The Direct VPC egress instance quota per revision (100 to 200 by region): the scale of
    /// a service or worker pool without a maximum, and a cap on every one.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    quota: u32,
    /// The scenario's name.
    #[arg(long, default_value = "imported")]
    name: String,
}

impl ImportArgs {
    fn options(&self) -> Options {
        Options {
            name: self.name.clone(),
            subnets: self.subnets.clone(),
            holders: self.holders.clone(),
            quota: self.quota,
            ..Options::default()
        }
    }
}

/// `NAME=VALUE`.
fn pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a.trim().to_string(), b.trim().to_string()))
        }
        _ => Err(format!("{s:?} is not NAME=VALUE")),
    }
}

/// `--demand`: `worst` (the default), `min`, or `trace=FILE`.
pub fn demand(s: &str) -> Result<Demand, String> {
    match s.trim() {
        "worst" | "worst-case" => Ok(Demand::WorstCase),
        "min" | "min-instances" => Ok(Demand::MinInstances),
        t => match t.strip_prefix("trace=") {
            Some(f) if !f.is_empty() => Ok(Demand::Trace(f.to_string())),
            _ => Err(format!(
                "{s:?} is not a demand profile: worst (each service at its maximum, with a \
                 revision swap), min (min instances only) or trace=FILE (a CSV or Cloud \
                 Monitoring trace with a series per service)"
            )),
        },
    }
}

/// Reads the inputs and imports them; every problem printed, exit 1.
fn imported(a: &ImportArgs, opts: &Options) -> Result<Imported> {
    let mut sources = Vec::new();
    let mut bad = Vec::new();
    for p in &a.inputs {
        match std::fs::read(p) {
            Ok(b) => match String::from_utf8(b) {
                Ok(text) => sources.push(Source {
                    name: p.display().to_string(),
                    text,
                }),
                Err(_) => bad.push(format!("{}: not UTF-8 text", p.display())),
            },
            Err(e) => bad.push(format!("{}: cannot read it: {e}", p.display())),
        }
    }
    let result = if bad.is_empty() {
        ipsim_import::import(&sources, opts)
            .map_err(|e| e.0.iter().map(|e| e.to_string()).collect())
    } else {
        Err(bad)
    };
    match result {
        Ok(i) => Ok(i),
        Err(errs) => {
            for e in &errs {
                errln!("error: {e}");
            }
            let n = errs.len();
            errln!("ipsim: {n} problem{} found", if n == 1 { "" } else { "s" });
            Err(Exit(INPUT).into())
        }
    }
}

fn notes(i: &Imported) {
    if quiet() {
        return;
    }
    for n in &i.notes {
        errln!("note: {n}");
    }
}

/// `ipsim import`: the scenario to standard output or `--out`, the notes to standard error.
pub fn import(a: &ImportArgs, demand: Demand, rollout_ms: u64, out: Option<&Path>) -> Result<u8> {
    let opts = Options {
        demand,
        rollout_ms,
        ..a.options()
    };
    let i = imported(a, &opts)?;
    notes(&i);
    let json = i.json();
    match out {
        Some(p) => {
            std::fs::write(p, &json).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => crate::output::write_to(&mut std::io::stdout().lock(), json.as_bytes())?,
    }
    Ok(OK)
}

/// One variant's verdict: its first failed start, if any.
fn verdict(
    label: &str,
    json: &str,
    i: &Imported,
) -> Result<(Option<ExhaustionEvent>, ipsim_study::Base)> {
    let path = Path::new(label);
    let base =
        ipsim_study::Base::parse(json.as_bytes(), path).map_err(|e| crate::print_errors(&e))?;
    let sc = base
        .resolve(i.scenario.clone(), None)
        .map_err(|e| crate::print_errors(&e))?;
    let out = sc.run().map_err(|e| crate::print_errors(&e))?;
    Ok((out.summary.first_exhaustion.clone(), base))
}

fn ms_text(ms: u64) -> String {
    ipsim_scenario::Duration(ms).to_string()
}

/// `ipsim check`: the worst case, instant swap and rolled-out swap; exit 3 if either runs a
/// subnet dry, with the scales, the first failure and the subnet size that would hold.
pub fn check(a: &ImportArgs, rollout_ms: u64) -> Result<u8> {
    let mut failed = false;
    let mut first = true;
    let mut sized = None;
    for (what, rollout) in [("swap at once", 0), ("swap rolled out", rollout_ms)] {
        let opts = Options {
            rollout_ms: rollout,
            ..a.options()
        };
        let i = imported(a, &opts)?;
        if first {
            notes(&i);
            outln!("ipsim check: the worst case of {}", inputs(a))?;
            outln!(
                "  every service and worker pool at its maximum swaps to a new revision at 10m; every job runs all its tasks at its parallelism from 10m"
            )?;
            for s in &i.scales {
                let unit = if s.kind == "job" {
                    "tasks at once"
                } else {
                    "instances"
                };
                outln!(
                    "  {:<12} {:<20} on {:<16} {:>6} {unit} ({})",
                    s.kind,
                    s.workload,
                    s.subnet,
                    s.count,
                    s.why
                )?;
            }
            first = false;
        }
        let label = if rollout == 0 {
            what.to_string()
        } else {
            format!("{what} over {}", ms_text(rollout))
        };
        let json = i.json();
        let (ex, base) = verdict(&format!("{} ({label})", inputs(a)), &json, &i)?;
        match ex {
            None => outln!("{label}: holds: no start fails")?,
            Some(e) => {
                failed = true;
                let sc = &i.scenario;
                let subnet = sc.subnets.get(e.subnet).map_or("?", |s| s.name.as_str());
                let wl = sc
                    .workloads
                    .get(e.workload)
                    .map_or("?", |w| w.name.as_str());
                let unit = match e.unit {
                    Unit::Revision(n) => format!("revision {n}"),
                    Unit::Execution(n) => format!("execution {n}"),
                };
                outln!(
                    "{label}: RUNS DRY at {}: subnet {subnet}, {wl} ({unit}) wanted {}, {} running",
                    ms_text(e.time_ms),
                    e.desired,
                    e.running
                )?;
                if sized.is_none() {
                    sized = Some(base);
                }
            }
        }
    }
    if let Some(base) = sized {
        // Every reading of the undocumented choices, as `ipsim size` does by default.
        let sets = ipsim_study::bracket::parse_sets(&[]).map_err(crate::fail_lines)?;
        let plan = ipsim_study::bracket::plan(&base, &sets).map_err(|e| crate::print_errors(&e))?;
        match ipsim_study::size::size_safe(&base, &plan, None, 0.99) {
            Ok(r) => {
                for s in &r.subnets {
                    let z = &s.sizing;
                    let answer = z
                        .smallest_prefix
                        .map_or("none: it fails at any size".to_string(), |p| {
                            format!("/{p}")
                        });
                    outln!(
                        "subnet {}: declared /{}; the smallest that holds the swap at once under every reading of what Google leaves undocumented: {answer}",
                        z.name,
                        z.declared_prefix
                    )?;
                }
            }
            Err(e) => {
                for l in e {
                    errln!("error: sizing: {l}");
                }
            }
        }
        errln!("ipsim check: the plan runs a subnet dry in the worst case");
        return Ok(GATE);
    }
    let _ = failed;
    outln!("ipsim check: every subnet holds the worst case")?;
    Ok(OK)
}

fn inputs(a: &ImportArgs) -> String {
    a.inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `ipsim run -`: the scenario from standard input; trace paths are relative to the current
/// folder, and errors name `<stdin>`.
pub fn load_stdin(seed: Option<u64>) -> Result<Scenario, ScenarioErrors> {
    let path = Path::new("<stdin>");
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        return Err(ScenarioErrors(vec![ScenarioError {
            file: path.to_path_buf(),
            path: String::new(),
            line: None,
            column: None,
            message: format!("cannot read the scenario from standard input: {e}"),
        }]));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ScenarioErrors(vec![ScenarioError {
            file: path.to_path_buf(),
            path: String::new(),
            line: None,
            column: None,
            message:
                "standard input is empty: pipe a scenario in (`ipsim import ... | ipsim run -`)"
                    .into(),
        }]));
    }
    ipsim_scenario::parse(&bytes, path, &Overrides { seed })
}
