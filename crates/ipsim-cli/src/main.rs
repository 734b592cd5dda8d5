//! `ipsim`: replay Cloud Run's IP address allocation on a subnet and say when it runs dry.
//!
//! The binary owns files, arguments, output and exit codes; the work is done by
//! `ipsim-scenario` (loading), `ipsim-core` (simulating) and `ipsim-report` (reporting).
//! Exit codes: 0 success, 1 bad input (or a failed write), 2 bad arguments, 3 when
//! `--fail-on-exhaustion` is given and the scenario ran out of addresses, 4 when `--check`
//! finds the outcome differs from the scenario's `expect`.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use ipsim_report::{Clock, Context, CsvSink, Report};
use ipsim_scenario::{Overrides, Scenario, ScenarioErrors};

#[derive(Parser)]
#[command(
    name = "ipsim",
    version,
    about = "Replays Cloud Run IP address allocation on a VPC subnet and says the minute it runs dry"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario: print a summary, write report.json and occupancy.csv.
    Run {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder [default: out/NAME, NAME being the scenario's name].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print report.json to standard output instead of the summary.
        #[arg(long)]
        json: bool,
        /// Exit with code 3 if any start failed for want of addresses.
        #[arg(long)]
        fail_on_exhaustion: bool,
        /// Exit with code 4 if the outcome differs from the scenario's `expect`.
        #[arg(long)]
        check: bool,
    },
    /// Check scenarios and their traces; report every problem at once.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Print the JSON Schema of scenario files.
    Schema,
}

/// An error that has already been printed in full, with the exit code it calls for.
#[derive(Debug)]
struct Exit(u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}
impl std::error::Error for Exit {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if let Some(Exit(code)) = e.downcast_ref::<Exit>() {
                return ExitCode::from(*code);
            }
            eprintln!("ipsim: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Run {
            scenario,
            seed,
            out,
            json,
            fail_on_exhaustion,
            check,
        } => run(&scenario, seed, out, json, fail_on_exhaustion, check),
        Command::Validate { scenarios } => validate(&scenarios),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&ipsim_scenario::schema())?
            );
            Ok(0)
        }
    }
}

fn print_errors(e: &ScenarioErrors) -> anyhow::Error {
    for err in &e.0 {
        eprintln!("error: {err}");
    }
    let n = e.0.len();
    eprintln!("ipsim: {n} problem{} found", if n == 1 { "" } else { "s" });
    Exit(1).into()
}

fn load(path: &Path, seed: Option<u64>) -> Result<Scenario> {
    ipsim_scenario::load_with(path, &Overrides { seed }).map_err(|e| print_errors(&e))
}

fn run(
    path: &Path,
    seed: Option<u64>,
    out_dir: Option<PathBuf>,
    json: bool,
    fail: bool,
    check: bool,
) -> Result<u8> {
    let mut scenario = load(path, seed)?;
    let dir = out_dir.unwrap_or_else(|| Path::new("out").join(&scenario.def.name));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    let clock = Clock {
        start: scenario.start,
    };
    // Rows stream to disk as the run goes; the output keeps only summaries.
    scenario.input.options.record_subnet_series = false;
    scenario.input.options.record_workload_series = false;
    let occ = dir.join("occupancy.csv");
    let wls = dir.join("workloads.csv");
    let create = |p: &Path| {
        File::create(p)
            .map(BufWriter::new)
            .with_context(|| format!("cannot write {}", p.display()))
    };
    let mut sink = CsvSink::new(create(&occ)?, create(&wls)?, clock, &scenario.input);
    let output = scenario
        .run_with(Some(&mut sink))
        .map_err(|e| print_errors(&e))?;
    sink.finish()
        .with_context(|| format!("cannot write {} or {}", occ.display(), wls.display()))?;
    let mut ctx = Context::new(&scenario.def.name, &scenario.input);
    ctx.description = scenario.def.description.clone();
    ctx.clock = clock;
    let report = Report::new(&output, &ctx);
    let report_path = dir.join("report.json");
    let json_text = serde_json::to_string_pretty(&report)?;
    std::fs::write(&report_path, format!("{json_text}\n"))
        .with_context(|| format!("cannot write {}", report_path.display()))?;
    if json {
        println!("{json_text}");
    } else {
        print!("{}", ipsim_report::summary_text(&report));
        println!();
        println!(
            "wrote {}, {}, {}",
            report_path.display(),
            occ.display(),
            wls.display()
        );
    }
    if check {
        let bad = scenario.check_expect(&output);
        for b in &bad {
            eprintln!("check: {b}");
        }
        if !bad.is_empty() {
            return Ok(4);
        }
    }
    if fail && output.summary.first_exhaustion.is_some() {
        return Ok(3);
    }
    Ok(0)
}

fn validate(paths: &[PathBuf]) -> Result<u8> {
    let mut bad = 0;
    for p in paths {
        match ipsim_scenario::load(p) {
            Ok(s) => println!(
                "ok: {}: {} subnet(s), {} workload(s), {}",
                p.display(),
                s.input.subnets.len(),
                s.input.workloads.len(),
                ipsim_report::span(s.input.duration_ms)
            ),
            Err(e) => {
                for err in &e.0 {
                    eprintln!("error: {err}");
                }
                bad += e.0.len();
            }
        }
    }
    if bad > 0 {
        eprintln!(
            "ipsim: {bad} problem{} found",
            if bad == 1 { "" } else { "s" }
        );
        return Ok(1);
    }
    Ok(0)
}
