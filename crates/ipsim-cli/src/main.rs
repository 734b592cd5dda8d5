//! `ipsim`: replay Cloud Run's IP address allocation on a subnet and say when it runs dry.
//!
//! The binary owns files, arguments, output and exit codes; the work is done by
//! `ipsim-scenario` (loading), `ipsim-core` (simulating), `ipsim-study` (sweeps, sizing,
//! comparisons, cost) and `ipsim-report` (reporting). Exit codes are in [`exit`]; gates in
//! [`gates`]; every byte printed goes through [`output`], which never panics.

mod args;
mod batch;
mod exit;
mod gates;
mod generate;
mod import;
mod output;
mod progress;
mod staging;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::builder::RangedU64ValueParser;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use ipsim_report::chart::{
    ChartOptions, ChartSink, CompareChart, Format, Heatmap, SpreadChart, Tee, draw_compare,
    draw_heatmap, draw_spread, render_dir_to, render_run,
};
use ipsim_report::stamp::{RunStamp, Stamped};
use ipsim_report::threaded::Threaded;
use ipsim_report::{Clock, Context, CsvSink, OccupancyCol, Report, WorkloadCol};
use ipsim_scenario::{Overrides, Scenario, ScenarioErrors};
use ipsim_study::bracket::{self, Probe};
use ipsim_study::cost::{self, CostReport};
use ipsim_study::sweep;
use serde::Serialize;
use std::io::IsTerminal;

use crate::args::{ChartTime, Variants};
use crate::exit::{CHECK, Exit, GATE, INPUT, OK, usage};
use crate::gates::{Condition, Gate, Shortfall};
use crate::output::{errln, outln};

#[derive(Parser)]
#[command(
    name = "ipsim",
    version,
    about = "Replays Cloud Run IP address allocation on a VPC subnet and says the minute it runs dry",
    after_help = "Exit codes: 0 success, 1 bad input, 2 bad arguments, 3 a gate failed, \
                  4 --check found a difference, 141 standard output closed."
)]
pub(crate) struct Cli {
    /// Print nothing but errors (failed gates and --check differences included).
    #[arg(long, short, global = true)]
    quiet: bool,
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
        /// Exit with code 3 if any of these conditions holds (comma-separated or repeated):
        /// exhaustion, deploy-failure, task-failure, min-free-blocks<N,
        /// peak-utilization>P%, short>N%. Each is judged in report.json's `gates`.
        #[arg(long, value_name = "CONDITION", value_delimiter = ',', value_parser = gates::parse_condition)]
        fail_on: Vec<Condition>,
        /// The same as `--fail-on exhaustion`.
        #[arg(long)]
        fail_on_exhaustion: bool,
        /// Exit with code 4 if the outcome differs from the scenario's `expect` (an error if
        /// the scenario has none).
        #[arg(long)]
        check: bool,
        /// Draw the charts as SVG instead of PNG.
        #[arg(long)]
        svg: bool,
        /// Do not draw charts.
        #[arg(long)]
        no_chart: bool,
        /// Also run every reading of what Google does not document (block scope, retention,
        /// edge blocks) and give one verdict over them; see docs/strategies.md.
        #[arg(long)]
        bracket: bool,
        /// Bracket only these choices and readings: KEY=A,B with KEY scope, retention or
        /// edges (repeat for several; implies --bracket).
        #[arg(long = "readings")]
        readings: Vec<String>,
        /// Worker threads of the bracket. With 2 or more, the run also reads its CSV traces
        /// ahead on one more thread and writes its rows on another, beside the run's own;
        /// 1 keeps everything on one thread (the files are the same) [default: all cores].
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Redraw the charts of a run from its saved report.json, occupancy.csv and workloads.csv.
    Chart {
        /// The run's output folder.
        dir: PathBuf,
        /// Start of the time range: an offset ("90m", "1h30m") or an RFC 3339 time.
        #[arg(long, value_parser = args::chart_time)]
        from: Option<ChartTime>,
        /// End of the time range: an offset or an RFC 3339 time.
        #[arg(long, value_parser = args::chart_time)]
        to: Option<ChartTime>,
        /// SVG instead of PNG.
        #[arg(long)]
        svg: bool,
        /// Workloads drawn on their own in the workload panel (the rest are "other").
        #[arg(long, default_value_t = 8)]
        top: usize,
        /// Image width in pixels (at least 800).
        #[arg(long, default_value_t = 1600, value_parser = RangedU64ValueParser::<u32>::new().range(800..=20_000))]
        width: u32,
        /// Image height in pixels (at least 500).
        #[arg(long, default_value_t = 1100, value_parser = RangedU64ValueParser::<u32>::new().range(500..=20_000))]
        height: u32,
        /// Write the chart to this file instead of over the run's own (`name-<subnet>.png`
        /// each when the run has several subnets; `.svg` draws SVG).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check scenarios and their traces; report every problem at once.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Make a scenario from gcloud exports, `terraform show -json` and the subnet's addresses
    /// (docs/import.md); the worst case by default.
    Import {
        #[command(flatten)]
        import: import::ImportArgs,
        /// Write the scenario here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The demand: worst (default), min, or trace=FILE.
        #[arg(long, default_value = "worst", value_parser = import::demand)]
        demand: ipsim_import::Demand,
        /// Roll the worst case's revision swap out over this long ("10m"; default at once).
        #[arg(long, default_value = "0s", value_parser = args::duration)]
        rollout: u64,
    },
    /// The pipeline check: import the inputs, run the worst case (a swap at once and one
    /// rolled out) and exit 3 if a subnet runs dry, saying which services at what scale and
    /// which subnet size would hold.
    Check {
        #[command(flatten)]
        import: import::ImportArgs,
        /// The rollout of the second variant's swap.
        #[arg(long, default_value = "10m", value_parser = args::duration)]
        rollout: u64,
    },
    /// Print the JSON Schema of scenario files.
    Schema,
    /// Vary scenario fields over ranges, repeat each point over seeds, in parallel.
    Sweep {
        /// The scenario file.
        scenario: PathBuf,
        /// PATH=A..B:STEP or PATH=A,B,C, e.g. surge.peak=100..1000:100 or
        /// subnet.main.prefix=20..26 (repeat for several fields).
        /// Without --vary, the sweep has one point, the scenario as written: a multi-seed
        /// gate with --seeds and --fail-if-probability-above.
        #[arg(long = "vary", value_name = "PATH=RANGE", value_parser = args::vary)]
        vary: Vec<sweep::Vary>,
        /// Seeds per point (the scenario's seed + 0, 1, ...).
        #[arg(long, default_value_t = 1, value_parser = RangedU64ValueParser::<u64>::new().range(1..))]
        seeds: u64,
        /// Worker threads [default: all cores].
        #[arg(long, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
        threads: Option<usize>,
        /// Run only shard I of N (points whose index % N == I); `auto` takes I and N from a
        /// batch engine's environment (Kubernetes, Cloud Run, Slurm, AWS Batch) and writes to
        /// the folder shard-I in --out; see docs/sweeps.md.
        #[arg(long, value_name = "I/N|auto", value_parser = args::shard)]
        shard: Option<batch::ShardArg>,
        /// With --shard auto: the number of shards, where the engine does not say it (a
        /// Kubernetes Indexed Job's `completions`, an AWS Batch array's size).
        #[arg(long, value_name = "N", value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
        shard_count: Option<usize>,
        /// Print what the sweep runs and how long it will take (one run timed here), and
        /// run nothing else.
        #[arg(long)]
        plan: bool,
        /// Exit with code 3 if any point's failure probability (the share of its seeds with a
        /// failed start) is above P, from 0 to 1.
        #[arg(long, value_name = "P", value_parser = gates::parse_probability)]
        fail_if_probability_above: Option<f64>,
        /// Output folder [default: out/NAME/sweep, or out/NAME/sweep-shard-I-of-N].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Combine the outputs of sweep shards into the files one run would write.
    Merge {
        /// The shards' output folders, or a folder holding shard-I folders (the --out of
        /// --shard auto tasks).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Exit with code 3 if any point's failure probability is above P, from 0 to 1.
        #[arg(long, value_name = "P", value_parser = gates::parse_probability)]
        fail_if_probability_above: Option<f64>,
    },
    /// Run one scenario under several allocation strategies and policies, side by side.
    Compare {
        /// The scenario file.
        scenario: PathBuf,
        /// Comma-separated variants: strategies (first-fit, next-fit, best-fit, random) or
        /// KEY=VALUE (scope, edges, retention, block, ips, linger; the levers rollout, deploy,
        /// max, move), joined by '+' to combine [default: each reading of scope, retention and
        /// edges, the choices that can change an outcome].
        #[arg(long, visible_alias = "variants", value_parser = args::variants)]
        strategies: Option<Variants>,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Write compare.csv and compare.png (free addresses per variant) here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Compare egress designs for the scenario's traffic: Direct VPC egress with a private DNS
    /// zone, a Serverless VPC Access connector, and a connector with Cloud NAT.
    Cost {
        /// The scenario file.
        scenario: PathBuf,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Find each subnet's smallest prefix with no exhaustion across seeds.
    Size {
        /// The scenario file.
        scenario: PathBuf,
        /// Seeds per probe [default: 1 if the scenario draws nothing at random, else enough
        /// to bound the failure probability at 1%].
        #[arg(long, value_parser = RangedU64ValueParser::<u64>::new().range(1..))]
        seeds: Option<u64>,
        /// Confidence of that bound, strictly between 0 and 1.
        #[arg(long, default_value_t = 0.99, value_parser = args::confidence)]
        confidence: f64,
        /// Worker threads [default: all cores].
        #[arg(long, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
        threads: Option<usize>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// A declared prefix is too small (exit 3) when its failure probability over the
        /// seeds is above P, from 0 to 1 [default: 0, any failed seed].
        #[arg(long, value_name = "P", value_parser = gates::parse_probability)]
        fail_if_probability_above: Option<f64>,
        /// Size for the scenario's own reading of the undocumented choices alone [default:
        /// the smallest prefix that holds under every reading].
        #[arg(long)]
        as_written: bool,
        /// Size under only these readings: KEY=A,B with KEY scope, retention or edges
        /// (repeat for several).
        #[arg(long = "readings")]
        readings: Vec<String>,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), of ipsim or of one of its commands.
    Man {
        /// A command, for its own page (ipsim-COMMAND).
        command: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    output::set_quiet(cli.quiet);
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => ExitCode::from(exit::code_of(&e)),
    }
}

fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Run {
            scenario,
            seed,
            out,
            json,
            mut fail_on,
            fail_on_exhaustion,
            check,
            svg,
            no_chart,
            bracket,
            readings,
            threads,
        } => {
            if fail_on_exhaustion && !fail_on.contains(&Condition::Exhaustion) {
                fail_on.insert(0, Condition::Exhaustion);
            }
            let mut conditions: Vec<Condition> = Vec::new();
            for c in fail_on {
                if !conditions.contains(&c) {
                    conditions.push(c);
                }
            }
            let chart = (!no_chart).then_some(if svg { Format::Svg } else { Format::Png });
            let bracket = (bracket || !readings.is_empty()).then_some(readings);
            with_threads(threads, || {
                run(&RunArgs {
                    path: &scenario,
                    seed,
                    out_dir: out,
                    json,
                    conditions,
                    check,
                    chart,
                    bracket,
                })
            })
        }
        Command::Chart {
            dir,
            from,
            to,
            svg,
            top,
            width,
            height,
            out,
        } => chart(&dir, from, to, svg, top, (width, height), out.as_deref()),
        Command::Validate { scenarios } => validate(&scenarios),
        Command::Sweep {
            scenario,
            vary,
            seeds,
            threads,
            shard,
            shard_count,
            plan,
            out,
            fail_if_probability_above,
        } => with_threads(threads, || {
            let shard = batch::resolve(shard, shard_count).map_err(usage)?;
            sweep(
                &scenario,
                vary,
                seeds,
                shard,
                out,
                fail_if_probability_above,
                plan,
            )
        }),
        Command::Merge {
            shards,
            out,
            fail_if_probability_above,
        } => merge(&shards, &out, fail_if_probability_above),
        Command::Cost { scenario, json } => cost(&scenario, json),
        Command::Compare {
            scenario,
            strategies,
            seed,
            out,
        } => {
            let variants = match strategies {
                Some(v) => v,
                None => args::variants(&ipsim_study::compare::default_variants()).map_err(usage)?,
            };
            compare(&scenario, variants, seed, out)
        }
        Command::Size {
            scenario,
            seeds,
            confidence,
            threads,
            json,
            fail_if_probability_above,
            as_written,
            readings,
        } => with_threads(threads, || {
            let above = fail_if_probability_above.unwrap_or(0.0);
            if as_written {
                size(&scenario, seeds, confidence, json, above)
            } else {
                size_safe(&scenario, &readings, seeds, confidence, json, above)
            }
        }),
        Command::Schema => {
            outln!(
                "{}",
                serde_json::to_string_pretty(&ipsim_scenario::schema())?
            )?;
            Ok(OK)
        }
        Command::Import {
            import,
            out,
            demand,
            rollout,
        } => import::import(&import, demand, rollout, out.as_deref()),
        Command::Check { import, rollout } => import::check(&import, rollout),
        Command::Completions { shell } => generate::completions(shell),
        Command::Man { command } => generate::man(command.as_deref()),
    }
}

pub(crate) fn print_errors(e: &ScenarioErrors) -> anyhow::Error {
    for err in &e.0 {
        errln!("error: {err}");
    }
    let n = e.0.len();
    errln!("ipsim: {n} problem{} found", if n == 1 { "" } else { "s" });
    Exit(INPUT).into()
}

fn load(path: &Path, seed: Option<u64>) -> Result<Scenario> {
    if path == Path::new("-") {
        return import::load_stdin(seed).map_err(|e| print_errors(&e));
    }
    ipsim_scenario::load_with(path, &Overrides { seed }).map_err(|e| print_errors(&e))
}

/// What `ipsim run` was asked.
struct RunArgs<'a> {
    path: &'a Path,
    seed: Option<u64>,
    out_dir: Option<PathBuf>,
    json: bool,
    conditions: Vec<Condition>,
    check: bool,
    chart: Option<Format>,
    /// `--bracket`: the `--readings` sets (empty: every reading).
    bracket: Option<Vec<String>>,
}

fn run(a: &RunArgs<'_>) -> Result<u8> {
    let path = a.path;
    let mut scenario = load(path, a.seed)?;
    if a.check && scenario.def.expect.is_none() {
        return Err(usage(format!(
            "--check: {} has no `expect` to check the outcome against",
            path.display()
        )));
    }
    let plan = a
        .bracket
        .as_ref()
        .map(|sets| bracket_plan(path, sets))
        .transpose()?;
    let out_dir = a
        .out_dir
        .clone()
        .unwrap_or_else(|| Path::new("out").join(&scenario.def.name));
    // Every file goes into a staging folder and joins `out_dir` only once all are written.
    let staging = staging::Staging::new(&out_dir)?;
    let dir = staging.dir().to_path_buf();
    let stale = previous_charts(&out_dir);
    let clock = Clock {
        start: scenario.start,
    };
    // Rows stream to disk, into the charts' pixel columns and into the shortfall gate as the
    // run goes; the output keeps only summaries.
    scenario.input.options.record_subnet_series = false;
    scenario.input.options.record_workload_series = false;
    let occ = dir.join(OccupancyCol::FILE);
    let wls = dir.join(WorkloadCol::FILE);
    // No BufWriter: the sink hands each file its rows in chunks of CsvSink::CHUNK bytes,
    // which the stamp digests whole.
    let create = |p: &Path| {
        File::create(p)
            .map(Stamped::new)
            .with_context(|| format!("cannot write {}", staging.final_path(p).display()))
    };
    let chart_opts = a.chart.map(|format| ChartOptions {
        format,
        ..ChartOptions::default()
    });
    // A chart that cannot be drawn (an empty time range) is reported after the files are
    // written, as it always was.
    let (columns, chart_error) = match chart_opts
        .as_ref()
        .map(|o| ChartSink::new(&scenario.input, o))
    {
        Some(Ok(c)) => (Some(c), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    // The run id, fixed before the run so that every CSV row carries it.
    let run_id = run_id(&scenario)?;
    let csv = CsvSink::new(create(&occ)?, create(&wls)?, clock, &scenario.input).with_run(&run_id);
    let short = Shortfall::new(scenario.input.workloads.iter().map(|w| w.tag()));
    let instances = cost::InstanceTime::new(&scenario.input);
    // The as-written reading of a bracket is this run: a probe rides along.
    let probe = plan
        .as_ref()
        .and_then(|(_, p)| p.as_written)
        .map(|_| Probe::new(scenario.input.workloads.len(), scenario.input.subnets.len()));
    // A long run shows how far it has got on a terminal.
    let progress = progress::RunProgress::for_terminal(scenario.input.duration_ms);
    // With a second thread, the traces are read and checked on it, ahead of the run, and
    // the CSV rows and chart columns are formatted and written on another (the same output);
    // `--threads 1` keeps everything on one.
    let threads = rayon::current_num_threads() > 1;
    let files = Threaded::new(Tee(csv, columns), threads);
    let mut sink = Tee(
        Tee(Tee(Tee(files, Some(short)), Some(instances)), probe),
        progress,
    );
    let output = if threads {
        scenario.run_reading_ahead(Some(&mut sink))
    } else {
        scenario.run_with(Some(&mut sink))
    };
    let Tee(Tee(Tee(Tee(files, short), instances), probe), progress) = sink;
    if let Some(p) = progress {
        p.finish();
    }
    let files = files.finish();
    // The run's own errors first: a bad trace row is what the user must hear of.
    let output = output.map_err(|e| print_errors(&e))?;
    let Tee(csv, columns) = files?;
    let short = short.unwrap_or_default();
    let instances = instances.unwrap_or_default();
    let bracket = plan
        .map(|(base, plan)| {
            let own = probe.map(|p| p.outcome("", &output));
            bracket::run(&base, &plan, a.seed, own).map_err(|e| print_errors(&e))
        })
        .transpose()?;
    let (occ_w, wls_w) = csv.into_inner().with_context(|| {
        format!(
            "cannot write {} or {}",
            staging.final_path(&occ).display(),
            staging.final_path(&wls).display()
        )
    })?;
    let files = BTreeMap::from([
        (OccupancyCol::FILE.to_string(), occ_w.stamp()),
        (WorkloadCol::FILE.to_string(), wls_w.stamp()),
    ]);
    drop((occ_w, wls_w));
    let mut ctx = Context::new(&scenario.def.name, &scenario.input);
    ctx.description = scenario.def.description.clone();
    ctx.clock = clock;
    ctx.params = ipsim_study::variation::resolved_params(&scenario);
    ctx.traces = trace_reads(&scenario);
    let mut report = Report::new(&output, &ctx);
    report.run = Some(RunStamp::new(run_id, files));
    let cost = cost::applies(&scenario)
        .then(|| cost::compare_with(&scenario, &output, &cost::options(&scenario), &instances))
        .transpose()
        .map_err(|e| fail_lines(vec![format!("{}: {e}", path.display())]))?;
    let cost_line = cost.as_ref().map(cost::summary_line);
    let mut gates = gates::judge(&a.conditions, &output, &short, clock);
    // With a bracket, exhaustion holds if a start fails under any reading.
    if let Some(b) = &bracket {
        for g in gates.iter_mut().filter(|g| g.condition == "exhaustion") {
            if b.failing > 0 && !g.failed {
                g.failed = true;
                g.detail = format!("under the bracket: {}", b.verdict);
            }
        }
    }
    let report = RunReport {
        report: &report,
        cost: cost.as_ref(),
        gates: &gates,
        bracket: bracket.as_ref(),
    };
    let report_path = dir.join("report.json");
    // Streamed into the file as it is serialised: no copy of the document in memory.
    File::create(&report_path)
        .and_then(|f| write_json(f, &report))
        .with_context(|| {
            format!(
                "cannot write {}",
                staging.final_path(&report_path).display()
            )
        })?;
    let mut charts = Vec::new();
    let mut page_charts = Vec::new();
    if let Some(e) = chart_error {
        return Err(e).context("cannot draw the charts");
    }
    if let (Some(opts), Some(columns)) = (&chart_opts, columns) {
        let mut columns = columns.finish();
        if !columns.complete() {
            // Too many workload states to keep unstacked: the same run again (same input,
            // same rows), stacked in the order this run's report gives.
            let mut again = ChartSink::stacked(&scenario.input, opts, report.report)
                .context("cannot draw the charts")?;
            scenario
                .run_with(Some(&mut again))
                .map_err(|e| print_errors(&e))?;
            columns = again.finish();
        }
        for l in
            render_run(report.report, &columns, &dir, opts).context("cannot draw the charts")?
        {
            charts.push(staging.final_path(&l.path).display().to_string());
        }
        if let Some(b) = &bracket {
            let p = bracket_chart(b, report.report, clock, &dir)?;
            charts.push(staging.final_path(Path::new(&p)).display().to_string());
        }
        for (i, sn) in report.report.subnets.iter().enumerate() {
            let svg = ipsim_report::chart::subnet_svg(
                report.report,
                i,
                ipsim_report::chart::Source::Run(&columns),
                opts,
            )
            .context("cannot draw the charts")?;
            page_charts.push(ipsim_report::page::PageChart {
                title: format!(
                    "subnet {} {}: addresses over time, and who held them",
                    sn.name, sn.cidr
                ),
                svg,
            });
        }
    }
    let pages = write_pages(
        &staging,
        report.report,
        &page_charts,
        &ipsim_report::page::first_failures(&output, &ctx, 50),
    )?;
    // Everything is written: the files join the output folder.
    let (report_path, occ, wls) = (
        staging.final_path(&report_path),
        staging.final_path(&occ),
        staging.final_path(&wls),
    );
    staging.commit()?;
    // Charts an earlier run into this folder drew and this one did not are gone: a chart on
    // disk is always this run's. Only those names are removed, once this run's files are in.
    for name in &stale {
        let p = out_dir.join(name);
        if p.exists() && !charts.iter().any(|c| Path::new(c) == p) {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    if a.json {
        if !output::quiet() {
            write_json(std::io::stdout().lock(), &report).map_err(output::stdout_error)?;
        }
    } else {
        let mut text = ipsim_report::summary_text(report.report);
        if let Some(l) = &cost_line {
            text.push_str(l);
            text.push('\n');
        }
        if !gates.is_empty() {
            let failed: Vec<&str> = gates
                .iter()
                .filter(|g| g.failed)
                .map(|g| g.condition.as_str())
                .collect();
            text.push_str(&format!(
                "gates: {} checked, {} failed{}\n",
                gates.len(),
                failed.len(),
                if failed.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", failed.join(", "))
                }
            ));
        }
        if let Some(b) = &bracket {
            text.push('\n');
            text.push_str(&bracket::text(b, &|t| clock.fmt(t)));
        }
        text.push('\n');
        text.push_str(&format!(
            "wrote {}, {}, {}, {}\n",
            report_path.display(),
            pages.join(", "),
            occ.display(),
            wls.display()
        ));
        if !charts.is_empty() {
            text.push_str(&format!("drew {}\n", charts.join(", ")));
        }
        output::out(&text)?;
    }
    for g in gates.iter().filter(|g| g.failed) {
        errln!("{}", g.line());
    }
    if a.check {
        let bad = scenario.check_expect(&output);
        for b in &bad {
            errln!("check: {b}");
        }
        if !bad.is_empty() {
            return Ok(CHECK);
        }
    }
    if gates.iter().any(|g| g.failed) {
        return Ok(GATE);
    }
    Ok(OK)
}

/// `report.md` and `report.html` beside report.json: the pages a person reads. Returns
/// their paths.
fn write_pages(
    staging: &staging::Staging,
    report: &Report,
    charts: &[ipsim_report::page::PageChart],
    first: &[ipsim_report::ExhaustionRow],
) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    for (name, text) in [
        ("report.md", ipsim_report::page::markdown(report)),
        (
            "report.html",
            ipsim_report::page::html(report, charts, first),
        ),
    ] {
        let p = staging.dir().join(name);
        let shown = staging.final_path(&p);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", shown.display()))?;
        paths.push(shown.display().to_string());
    }
    Ok(paths)
}

/// The readings `ipsim run --bracket` tries (`sets`: its `--readings`), with the scenario
/// they edit.
fn bracket_plan(path: &Path, sets: &[String]) -> Result<(ipsim_study::Base, bracket::Plan)> {
    if path == Path::new("-") {
        return Err(usage(
            "--bracket reads the scenario again for each reading: give a file, not standard input",
        ));
    }
    let sets = bracket::parse_sets(sets).map_err(fail_lines)?;
    let base = ipsim_study::Base::load(path).map_err(|e| print_errors(&e))?;
    let plan = bracket::plan(&base, &sets).map_err(|e| print_errors(&e))?;
    Ok((base, plan))
}

/// `bracket.png`: free addresses under every reading, the worst, as-written and best drawn.
fn bracket_chart(
    b: &bracket::Bracket,
    report: &Report,
    clock: Clock,
    dir: &Path,
) -> Result<String> {
    // Worst, as written and best, each once, with every role it has.
    let mut roles: Vec<(usize, Vec<&str>)> = Vec::new();
    for (tag, i) in [
        ("worst", Some(b.worst)),
        ("as written", b.as_written),
        ("best", Some(b.best)),
    ] {
        let Some(i) = i else { continue };
        match roles.iter_mut().find(|r| r.0 == i) {
            Some(r) => r.1.push(tag),
            None => roles.push((i, vec![tag])),
        }
    }
    let shown: Vec<(String, usize, Option<u64>)> = roles
        .into_iter()
        .filter_map(|(i, tags)| {
            let o = b.readings.get(i)?;
            Some((
                format!("{}: {}", tags.join(", "), o.reading),
                i,
                o.first_exhaustion_ms,
            ))
        })
        .collect();
    let fixed: Vec<&str> = report
        .assumptions
        .iter()
        .filter(|a| {
            a.status == ipsim_report::Status::ModelChoice
                && !b.choices.iter().any(|c| {
                    ipsim_report::assumptions::Choice::from_key(c)
                        .is_some_and(|c| c.parameter() == a.parameter)
                })
        })
        .map(|a| a.parameter.as_str())
        .collect();
    let chart = SpreadChart {
        title: format!(
            "{}: {}",
            report.scenario,
            b.verdict.split(" (").next().unwrap_or(&b.verdict)
        ),
        subtitle: format!(
            "addresses in free blocks under {} readings of {}; also assumed: {}",
            b.n,
            b.choices.join(", "),
            ipsim_report::assumptions::choices_text(
                &report
                    .assumptions
                    .iter()
                    .filter(|a| fixed.contains(&a.parameter.as_str()))
                    .cloned()
                    .collect::<Vec<_>>()
            )
        ),
        duration_ms: report.duration_ms,
        clock,
        all: b.readings.iter().map(|r| r.free.clone()).collect(),
        shown,
    };
    let p = dir.join("bracket.png");
    draw_spread(&chart, &p).context("cannot draw the bracket")?;
    Ok(p.display().to_string())
}

/// Writes `value` as pretty JSON and a newline to `w`, streamed through a buffer (numbers
/// formatted by serde_json's itoa and ryu), and flushes.
fn write_json<W: Write>(w: W, value: &impl Serialize) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
    serde_json::to_writer_pretty(&mut w, value)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// The run id of `scenario` ([`ipsim_report::stamp::run_id`]): of the ipsim version, the
/// scenario as written and the seed. It is known before the run, so the CSVs carry it from
/// their first row; the same scenario and seed give the same id. (What the scenario's traces
/// hold is not read for it: the digest of each CSV in `run.files` tells their runs apart.)
fn run_id(scenario: &Scenario) -> Result<String> {
    let def = serde_json::to_vec(&scenario.def)?;
    let seed = scenario.input.seed.to_le_bytes();
    Ok(ipsim_report::stamp::run_id(&[
        ipsim_report::VERSION.as_bytes(),
        &def,
        &seed,
    ]))
}

/// `report.json`: the run's report and, when the scenario is priced, the egress cost
/// comparison as section `cost`, and the judged `--fail-on` conditions as `gates`.
#[derive(Serialize)]
struct RunReport<'a> {
    #[serde(flatten)]
    report: &'a Report,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "sorted_keys"
    )]
    cost: Option<&'a CostReport>,
    /// The `--fail-on` conditions as judged, when some were given.
    #[serde(skip_serializing_if = "<[Gate]>::is_empty")]
    gates: &'a [Gate],
    /// `ipsim run --bracket`: every reading of the undocumented choices, and the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    bracket: Option<&'a bracket::Bracket>,
}

/// Writes the cost section with its keys in sorted order, as report.json always has
/// (`ipsim cost --json` keeps the fields' declared order).
fn sorted_keys<S: serde::Serializer>(c: &Option<&CostReport>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::Error as _;
    serde_json::to_value(c)
        .map_err(S::Error::custom)?
        .serialize(s)
}

fn chart(
    dir: &Path,
    from: Option<ChartTime>,
    to: Option<ChartTime>,
    svg: bool,
    top: usize,
    (width, height): (u32, u32),
    out: Option<&Path>,
) -> Result<u8> {
    let rp = dir.join("report.json");
    let report = Report::read(&rp).map_err(|e| anyhow::anyhow!(e))?;
    let start = report.start.as_deref();
    let from_ms = from
        .map(|f| f.ms(start, "from"))
        .transpose()
        .map_err(usage)?;
    let to_ms = to.map(|t| t.ms(start, "to")).transpose().map_err(usage)?;
    if let (Some(a), Some(b)) = (from_ms, to_ms) {
        if a >= b {
            return Err(usage("--from must be before --to"));
        }
    }
    let opts = ChartOptions {
        width,
        height,
        from_ms,
        to_ms,
        top_n: top,
        format: if svg || out.is_some_and(|o| o.extension().is_some_and(|e| e == "svg")) {
            Format::Svg
        } else {
            Format::Png
        },
    };
    let Some(out) = out else {
        // Drawn beside the folder first: a chart that fails leaves the old ones whole.
        let staging = staging::Staging::new(dir)?;
        let drawn = render_dir_to(dir, staging.dir(), &opts).context("cannot draw the charts")?;
        let paths: Vec<PathBuf> = drawn.iter().map(|l| staging.final_path(&l.path)).collect();
        staging.commit()?;
        for p in paths {
            outln!("drew {}", p.display())?;
        }
        return Ok(OK);
    };
    // The CSVs must be the ones this report's run wrote, whole.
    if let Some(run) = &report.run {
        run.check(dir)
            .map_err(|e| anyhow::anyhow!(e))
            .context("cannot draw the charts")?;
    }
    // The run's own charts stay as the run drew them.
    let own: Vec<PathBuf> = [Format::Png, Format::Svg]
        .iter()
        .flat_map(|f| ipsim_report::chart::chart_names(&report, *f))
        .chain(["bracket.png".to_string()])
        .map(|n| dir.join(n))
        .collect();
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    };
    let ext = if opts.format == Format::Svg {
        "svg"
    } else {
        "png"
    };
    let paths: Vec<PathBuf> = if report.subnets.len() == 1 {
        vec![out.to_path_buf()]
    } else {
        let stem = out
            .file_stem()
            .map_or("chart".into(), |s| s.to_string_lossy().into_owned());
        report
            .subnets
            .iter()
            .map(|sn| {
                out.with_file_name(format!("{stem}-{}.{ext}", ipsim_core::file_stem(&sn.name)))
            })
            .collect()
    };
    if let Some(p) = paths.iter().find(|p| own.iter().any(|o| same(o, p))) {
        return Err(usage(format!(
            "--out {}: that is the run's own chart; name another file",
            p.display()
        )));
    }
    for (i, p) in paths.iter().enumerate() {
        ipsim_report::chart::render_subnet(
            &report,
            i,
            ipsim_report::chart::Source::Files(dir),
            p,
            &opts,
        )
        .context("cannot draw the charts")?;
        outln!("drew {}", p.display())?;
    }
    Ok(OK)
}

/// The charts an earlier run wrote into `dir`, by its report.json (none if there is none).
fn previous_charts(dir: &Path) -> Vec<String> {
    // Only the subnet names are read, so that a report of any format is understood.
    #[derive(serde::Deserialize)]
    struct Names {
        subnets: Vec<Name>,
    }
    #[derive(serde::Deserialize)]
    struct Name {
        name: String,
    }
    let Ok(f) = File::open(dir.join("report.json")) else {
        return Vec::new();
    };
    let Ok(report) = serde_json::from_reader::<_, Names>(std::io::BufReader::new(f)) else {
        return Vec::new();
    };
    let names: Vec<&str> = report.subnets.iter().map(|s| s.name.as_str()).collect();
    [Format::Png, Format::Svg]
        .iter()
        .flat_map(|f| ipsim_report::chart::chart_file_names(&names, *f))
        .chain(["bracket.png".to_string()])
        .collect()
}

/// Runs `f` on a rayon pool of `threads` threads (all cores if `None`; clap keeps it above 0).
fn with_threads(threads: Option<usize>, f: impl FnOnce() -> Result<u8> + Send) -> Result<u8> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    b.build()
        .context("cannot start the worker threads")?
        .install(f)
}

pub(crate) fn fail_lines(errs: Vec<String>) -> anyhow::Error {
    for e in &errs {
        errln!("error: {e}");
    }
    Exit(INPUT).into()
}

/// Argument errors found against the scenario (a `--vary` path that names no field, too many
/// runs): each printed, exit 2.
fn usage_lines(errs: Vec<String>) -> anyhow::Error {
    for e in &errs {
        errln!("error: {e}");
    }
    Exit(exit::USAGE).into()
}

fn sweep(
    path: &Path,
    vary: Vec<sweep::Vary>,
    seeds: u64,
    shard_of: Option<batch::Shard>,
    out: Option<PathBuf>,
    fail_above: Option<f64>,
    plan: bool,
) -> Result<u8> {
    // The scenario first, so that its problems are input errors (exit 1) and what is left
    // wrong is the arguments (exit 2).
    ipsim_study::Base::load(path).map_err(|e| print_errors(&e))?;
    let sw = sweep::Sweep::new(path, vary, seeds).map_err(usage_lines)?;
    let shard = shard_of.as_ref().map(|s| (s.index, s.count));
    let points = sw.shard_points(shard);
    if plan {
        output::out(&batch::plan(&sw, &points, shard_of.as_ref())?)?;
        return Ok(OK);
    }
    if let Some(
        s @ batch::Shard {
            from: Some(from), ..
        },
    ) = &shard_of
    {
        outln!("{}: shard {}/{} ({from})", sw.scenario, s.index, s.count)?;
    }
    let n_runs = points.len() as u64 * seeds;
    let bar = if std::io::stderr().is_terminal() && !output::quiet() {
        let b = ProgressBar::new(n_runs);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed} elapsed, ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let rows = sw
        .run(&points, &|_| bar.inc(1))
        .map_err(|e| print_errors(&e))?;
    bar.finish_and_clear();
    let result = sw.result(rows, shard);
    let dir = batch::out_dir(out, &sw.scenario, shard_of.as_ref());
    write_sweep(&dir, &result)?;
    Ok(probability_gate(&result, fail_above))
}

/// `--fail-if-probability-above P` on a sweep's points: each point above P printed, exit 3.
fn probability_gate(r: &sweep::SweepResult, above: Option<f64>) -> u8 {
    let Some(p) = above else {
        return OK;
    };
    let mut code = OK;
    for pt in r.points.iter().filter(|pt| pt.failure_probability > p) {
        let at: Vec<String> = r
            .vary
            .iter()
            .zip(&pt.values)
            .map(|(v, x)| format!("{}={x}", v.path))
            .collect();
        let at = if at.is_empty() {
            "the scenario as written".to_string()
        } else {
            at.join(", ")
        };
        errln!(
            "gate failed: point {} ({at}): failure probability {} over {} seed(s) is above {p}",
            pt.point,
            pt.failure_probability,
            pt.runs
        );
        code = GATE;
    }
    code
}

fn write_sweep(out: &Path, r: &sweep::SweepResult) -> Result<()> {
    let staging = staging::Staging::new(out)?;
    let dir = staging.dir();
    let json = serde_json::to_string_pretty(r)?;
    std::fs::write(dir.join("sweep.json"), format!("{json}\n"))
        .with_context(|| format!("cannot write {}", dir.display()))?;
    std::fs::write(dir.join("sweep.csv"), sweep::to_csv(r))
        .with_context(|| format!("cannot write {}", dir.display()))?;
    let mut wrote = vec!["sweep.json", "sweep.csv"];
    if r.vary.len() == 2 && r.shard.is_none() {
        let (a, b) = (&r.vary[0], &r.vary[1]);
        let mut cells = vec![vec![None; a.values.len()]; b.values.len()];
        for p in &r.points {
            let (xi, yi) = (p.point / b.values.len(), p.point % b.values.len());
            cells[yi][xi] = Some(p.failure_probability);
        }
        let h = Heatmap {
            title: format!(
                "{}: failure probability over {} seed(s)",
                r.scenario, r.seeds
            ),
            subtitle: ipsim_report::assumptions::subtitle(&r.assumptions),
            x_label: a.path.clone(),
            y_label: b.path.clone(),
            xs: a.values.iter().map(|v| a.axis_label(*v)).collect(),
            ys: b.values.iter().map(|v| b.axis_label(*v)).collect(),
            cells,
        };
        draw_heatmap(&h, &dir.join("heatmap.png"), Format::Png)
            .context("cannot draw the heatmap")?;
        wrote.push("heatmap.png");
    }
    staging.commit()?;
    let failing = r
        .points
        .iter()
        .filter(|p| p.failure_probability > 0.0)
        .count();
    outln!(
        "{}: {} point(s) x {} seed(s), {} with failures; wrote {} in {}",
        r.scenario,
        r.points.len(),
        r.seeds,
        failing,
        wrote.join(", "),
        out.display()
    )
}

fn merge(shards: &[PathBuf], out: &Path, fail_above: Option<f64>) -> Result<u8> {
    let mut parts = Vec::new();
    for d in &batch::shard_folders(shards)? {
        let p = d.join("sweep.json");
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
        let r: sweep::SweepResult = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a sweep result", p.display()))?;
        parts.push(r);
    }
    let merged = sweep::merge(parts).map_err(|e| fail_lines(vec![e]))?;
    write_sweep(out, &merged)?;
    Ok(probability_gate(&merged, fail_above))
}

fn compare(path: &Path, variants: Variants, seed: Option<u64>, out: Option<PathBuf>) -> Result<u8> {
    use ipsim_study::compare;
    let base = ipsim_study::Base::load(path).map_err(|e| print_errors(&e))?;
    let c = compare::compare(&base, &variants.0, seed).map_err(|e| print_errors(&e))?;
    let clock = Clock { start: c.start };
    output::out(&compare::table_text(&c, &|t| clock.fmt(t)))?;
    if let Some(out) = out {
        let staging = staging::Staging::new(&out)?;
        let dir = staging.dir();
        std::fs::write(dir.join("compare.csv"), compare::to_csv(&c))
            .with_context(|| format!("cannot write {}", out.join("compare.csv").display()))?;
        let chart = CompareChart {
            title: format!("{}: addresses in free blocks, per variant", c.scenario),
            subtitle: format!(
                "{} (each variant changes its own)",
                ipsim_report::assumptions::subtitle(&c.assumptions)
            ),
            duration_ms: c.duration_ms,
            clock,
            failures: c
                .runs
                .iter()
                .map(|r| r.figures.first_exhaustion_ms)
                .collect(),
            series: c.runs.into_iter().map(|r| (r.name, r.free)).collect(),
        };
        draw_compare(&chart, &dir.join("compare.png")).context("cannot draw the comparison")?;
        staging.commit()?;
        outln!(
            "wrote {}, {}",
            out.join("compare.csv").display(),
            out.join("compare.png").display()
        )?;
    }
    Ok(OK)
}

fn cost(path: &Path, json: bool) -> Result<u8> {
    let scenario = load(path, None)?;
    let out = scenario.run().map_err(|e| print_errors(&e))?;
    let r = cost::compare(&scenario, &out)
        .map_err(|e| fail_lines(vec![format!("{}: {e}", path.display())]))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&r)?)?;
    } else {
        let clock = Clock {
            start: scenario.start,
        };
        output::out(&cost::cost_text(&r, &|t| clock.fmt(t)))?;
    }
    Ok(OK)
}

fn size(path: &Path, seeds: Option<u64>, confidence: f64, json: bool, above: f64) -> Result<u8> {
    let r = ipsim_study::size::size(path, seeds, confidence).map_err(fail_lines)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&r)?)?;
    } else {
        output::out(&ipsim_study::size::size_text(&r))?;
    }
    Ok(size_gate(r.subnets.iter(), r.seeds, above))
}

/// The declared prefix is too small when more of its seeds fail than the gate allows: each
/// such subnet is named on standard error, and the code is 3.
fn size_gate<'s>(
    subnets: impl Iterator<Item = &'s ipsim_study::size::SubnetSize>,
    seeds: u64,
    above: f64,
) -> u8 {
    let mut code = OK;
    for s in subnets.filter(|s| s.declared_failure_probability > above) {
        let needs = match s.smallest_prefix {
            Some(p) => format!("/{p} survives"),
            None => format!("even /{} fails", s.largest_tried),
        };
        errln!(
            "gate failed: subnet {}: the declared /{} is too small: failure probability {} over {} seed(s) is above {above}; {needs}",
            s.name,
            s.declared_prefix,
            s.declared_failure_probability,
            seeds
        );
        code = GATE;
    }
    code
}

/// `ipsim size` by default: the smallest prefix that holds under every reading.
fn size_safe(
    path: &Path,
    readings: &[String],
    seeds: Option<u64>,
    confidence: f64,
    json: bool,
    above: f64,
) -> Result<u8> {
    let (base, plan) = bracket_plan(path, readings)?;
    let r = ipsim_study::size::size_safe(&base, &plan, seeds, confidence).map_err(fail_lines)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&r)?)?;
    } else {
        output::out(&ipsim_study::size::safe_size_text(&r))?;
    }
    // Judged under the reading that decides, the one that needs the largest subnet.
    Ok(size_gate(
        r.subnets.iter().map(|s| &s.sizing),
        r.seeds,
        above,
    ))
}

fn validate(paths: &[PathBuf]) -> Result<u8> {
    let mut bad = 0;
    for p in paths {
        // Loading reads a CSV trace's header; its rows are read here, once, every bad one
        // reported.
        match ipsim_scenario::load(p).and_then(|s| s.check_traces().map(|()| s)) {
            Ok(s) => outln!(
                "ok: {}: {} subnet(s), {} workload(s), {}",
                p.display(),
                s.input.subnets.len(),
                s.input.workloads.len(),
                ipsim_report::span(s.input.duration_ms)
            )?,
            Err(e) => {
                for err in &e.0 {
                    errln!("error: {err}");
                }
                bad += e.0.len();
            }
        }
    }
    if bad > 0 {
        errln!(
            "ipsim: {bad} problem{} found",
            if bad == 1 { "" } else { "s" }
        );
        return Ok(INPUT);
    }
    Ok(OK)
}

/// What the Cloud Monitoring reader did with each export, for report.json and the summary.
fn trace_reads(s: &ipsim_scenario::Scenario) -> Vec<ipsim_report::TraceRead> {
    s.trace_notes
        .iter()
        .map(|(name, n)| ipsim_report::TraceRead {
            name: name.clone(),
            files: n.files,
            series: n.series,
            points: n.points,
            readings: n
                .readings
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            sampling_periods: n
                .periods
                .iter()
                .map(|(&period_ms, &series)| ipsim_report::SamplingPeriod { period_ms, series })
                .collect(),
            max_gap_ms: n.max_gap_ms,
            gaps_closed: n.gaps_closed,
            text: n.line(),
        })
        .collect()
}
