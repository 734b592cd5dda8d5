//! Occupancy charts: what a subnet held over time, when starts failed, and who filled it.
//!
//! A chart is drawn from a [`Report`] and rows of a [`Source`]: the run's saved files
//! (`occupancy.csv`, `workloads.csv`, streamed row by row, for `ipsim chart DIR`), or the run
//! itself, whose rows a [`ChartSink`] put into the chart's pixel columns as they were made (for
//! `ipsim run`, which draws without reading back what it wrote). Both give the same picture,
//! byte for byte. Rows go into one bucket per pixel column that keeps the **maximum** of every
//! stacked level over its time span: a peak shorter than a pixel still shows, and a 30-day run
//! costs memory for the columns, not for its rows. (During a run the workload panel's stacking
//! order is not known yet, so each column keeps the workload states no other state of the
//! column covers, `columns::Frontier`, and past a budget runs again; see [`ChartSink`].) Failure windows are at least 2 pixels wide, so a
//! one-minute window on a month-long chart stays visible.
//!
//! Text is drawn with a bundled DejaVu Sans through plotters' pure-Rust `ab_glyph` backend,
//! so no system font library is needed.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::{Clock, Report, span};

mod bands;
mod columns;
mod source;

use columns::{Columns, Sweep};
pub use source::{ChartSink, RunColumns, Source, Tee};

static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bundled font is valid; if registration failed, text would be missing, and the
        // chart tests would see it.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// PNG or SVG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A bitmap (default).
    #[default]
    Png,
    /// A vector drawing.
    Svg,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

/// What to draw.
#[derive(Debug, Clone)]
pub struct ChartOptions {
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Start of the time range (default 0).
    pub from_ms: Option<u64>,
    /// End of the time range (default the run's duration).
    pub to_ms: Option<u64>,
    /// Workloads drawn on their own in the workload panel; the rest are "other".
    pub top_n: usize,
    /// PNG or SVG.
    pub format: Format,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            width: 1600,
            height: 1100,
            from_ms: None,
            to_ms: None,
            top_n: 8,
            format: Format::Png,
        }
    }
}

/// Where the occupancy panel's plot area landed, so that a time maps to a pixel column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The chart file.
    pub path: PathBuf,
    /// Pixel columns of the plot area.
    pub plot_x: std::ops::Range<i32>,
    /// Pixel rows of the plot area.
    pub plot_y: std::ops::Range<i32>,
    /// Pixel rows of the instances panel's plot area (wanted against running).
    pub lines_y: std::ops::Range<i32>,
    /// Time at the left edge.
    pub from_ms: u64,
    /// Time at the right edge.
    pub to_ms: u64,
}

impl Layout {
    /// The pixel column of time `t_ms`.
    pub fn x_of(&self, t_ms: u64) -> i32 {
        let w = f64::from(self.plot_x.end - self.plot_x.start);
        let f =
            (t_ms.saturating_sub(self.from_ms)) as f64 / (self.to_ms - self.from_ms).max(1) as f64;
        self.plot_x.start + (f * w).round() as i32
    }
}

/// Why a chart could not be drawn.
#[derive(Debug)]
pub struct ChartError(pub String);

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChartError {}

fn err(m: impl Into<String>) -> ChartError {
    ChartError(m.into())
}

/// Chooses a tick step giving about 6 to 12 ticks.
fn tick_step(range_ms: u64) -> u64 {
    tick_step_for(range_ms, 12)
}

/// Chooses a tick step giving at most `max_ticks` ticks (at least 2).
fn tick_step_for(range_ms: u64, max_ticks: u64) -> u64 {
    let max_ticks = max_ticks.max(2);
    const STEPS: [u64; 16] = [
        1_000,
        5_000,
        10_000,
        30_000,
        60_000,
        300_000,
        600_000,
        900_000,
        1_800_000,
        3_600_000,
        7_200_000,
        10_800_000,
        21_600_000,
        43_200_000,
        86_400_000,
        604_800_000,
    ];
    STEPS
        .iter()
        .copied()
        .find(|&s| range_ms / s <= max_ticks)
        .unwrap_or(604_800_000 * ((range_ms / 604_800_000 / max_ticks).max(1)))
}

fn tick_label(clock: Clock, t: u64, long: bool) -> String {
    match clock.start {
        Some(s) => {
            let ts = s
                .checked_add(jiff::SignedDuration::from_millis(t as i64))
                .unwrap_or(s);
            let z = ts.to_zoned(jiff::tz::TimeZone::UTC);
            if long {
                z.strftime("%m-%d %H:%M").to_string()
            } else {
                z.strftime("%H:%M").to_string()
            }
        }
        None => {
            let (d, h, m) = (t / 86_400_000, t / 3_600_000 % 24, t / 60_000 % 60);
            if d > 0 {
                format!("+{d}d {h:02}:{m:02}")
            } else {
                format!("+{h:02}:{m:02}")
            }
        }
    }
}

const STATIC: RGBColor = RGBColor(170, 170, 170);
const IN_USE: RGBColor = RGBColor(31, 119, 180);
const RETAINED: RGBColor = RGBColor(255, 152, 48);
const IDLE: RGBColor = RGBColor(166, 216, 130);
/// The exhaustion marker: pure enough a red that a test can find it.
pub const MARKER_RED: RGBColor = RGBColor(220, 0, 0);
const BAND: RGBColor = RGBColor(255, 170, 170);
const SWAP: RGBColor = RGBColor(40, 40, 160);
const SAT_BAND: RGBColor = RGBColor(200, 170, 240);
const SAT_MARKER: RGBColor = RGBColor(110, 40, 170);
/// A connector's demand above its capacity, in the throughput panel: the saturation colour
/// over white, opaque.
const SAT_SHADE: RGBColor = RGBColor(204, 180, 226);
const JOB: RGBColor = RGBColor(140, 60, 160);
/// The free /28 blocks line: a dark rust, apart from the state and workload colours.
const FREE_LINE: RGBColor = RGBColor(150, 60, 0);
/// Addresses in a /28 block: the free-blocks line is drawn on the address axis.
const BLOCK: f64 = 16.0;
/// Workload colours: viridis, colour-blind-safe and apart from the state colours above,
/// interleaved so that neighbours in a stack differ in lightness.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x44, 0x01, 0x54),
    RGBColor(0x1F, 0xA1, 0x87),
    RGBColor(0x46, 0x33, 0x7E),
    RGBColor(0x4A, 0xC1, 0x6D),
    RGBColor(0x36, 0x5C, 0x8D),
    RGBColor(0x9F, 0xDA, 0x3A),
    RGBColor(0x27, 0x7F, 0x8E),
    RGBColor(0xFD, 0xE7, 0x25),
];
/// The "other" workloads: a neutral grey darker than the static addresses'.
const OTHER: RGBColor = RGBColor(120, 120, 120);
/// A failed deploy or an execution that lost tasks, on the time axis.
const FAILED_MARK: RGBColor = MARKER_RED;

/// What a legend entry shows beside its label.
#[derive(Debug, Clone, Copy)]
enum Swatch {
    /// A filled box: a stacked area.
    Fill,
    /// A line.
    Line,
    /// A shaded band (its colour) with its start line (the entry's colour) at the left.
    Band(RGBColor),
    /// A triangle: a mark on the time axis.
    Mark,
}

/// The shortest legend row, in pixels.
const MIN_ROW: i32 = 15;
/// Where a legend entry's label starts, right of its swatch.
const TEXT_X: i32 = 42;

/// The smallest chart, in pixels: below it the panels and legends do not fit.
pub const MIN_SIZE: (u32, u32) = (800, 500);

/// The colour of a chart's assumptions subtitle.
const SUBTITLE_GREY: RGBColor = RGBColor(90, 90, 90);

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// Draws every subnet of the run saved in `dir` from its files (report.json, occupancy.csv,
/// workloads.csv), streamed row by row; returns each chart's layout.
pub fn render_dir(dir: &Path, opts: &ChartOptions) -> Result<Vec<Layout>, ChartError> {
    render_dir_to(dir, dir, opts)
}

/// [`render_dir`], the charts written into `out` instead of `dir`.
pub fn render_dir_to(
    dir: &Path,
    out: &Path,
    opts: &ChartOptions,
) -> Result<Vec<Layout>, ChartError> {
    let rp = dir.join("report.json");
    let report = Report::read(&rp).map_err(err)?;
    // The CSVs must be the ones this report's run wrote, whole.
    if let Some(run) = &report.run {
        run.check(dir).map_err(err)?;
    }
    render_all(&report, Source::Files(dir), out, opts)
}

/// Draws every subnet of a run into `dir` from its report and the columns a [`ChartSink`]
/// made with the same `opts` during the run: no file is read.
pub fn render_run(
    report: &Report,
    run: &RunColumns,
    dir: &Path,
    opts: &ChartOptions,
) -> Result<Vec<Layout>, ChartError> {
    render_all(report, Source::Run(run), dir, opts)
}

fn render_all(
    report: &Report,
    source: Source<'_>,
    dir: &Path,
    opts: &ChartOptions,
) -> Result<Vec<Layout>, ChartError> {
    let mut out = Vec::new();
    for (i, name) in chart_names(report, opts.format).iter().enumerate() {
        out.push(render_subnet(report, i, source, &dir.join(name), opts)?);
    }
    Ok(out)
}

/// The file names of a run's subnet charts: `occupancy.png`, or `occupancy-<subnet>.png`
/// each when there are several subnets (`.svg` in SVG).
pub fn chart_names(report: &Report, format: Format) -> Vec<String> {
    let names: Vec<&str> = report.subnets.iter().map(|s| s.name.as_str()).collect();
    chart_file_names(&names, format)
}

/// [`chart_names`] of a run whose subnets are named `subnets`.
pub fn chart_file_names(subnets: &[&str], format: Format) -> Vec<String> {
    subnets
        .iter()
        .map(|name| {
            if subnets.len() == 1 {
                format!("occupancy.{}", format.ext())
            } else {
                format!("occupancy-{}.{}", ipsim_core::file_stem(name), format.ext())
            }
        })
        .collect()
}

/// The time range a chart of a run of `duration_ms` shows.
fn time_range(duration_ms: u64, opts: &ChartOptions) -> Result<(u64, u64), ChartError> {
    check_size(opts)?;
    let from = opts.from_ms.unwrap_or(0);
    let to = opts.to_ms.unwrap_or(duration_ms).min(duration_ms.max(1));
    if from >= to {
        return Err(err(format!(
            "the time range {}..{} is empty",
            span(from),
            span(to)
        )));
    }
    Ok((from, to))
}

/// The widest and tallest chart drawn, in pixels (plotters panics near 65536): a larger
/// [`ChartOptions`] size is refused.
pub const MAX_SIDE: u32 = 20_000;

fn image_size(opts: &ChartOptions) -> (u32, u32) {
    (opts.width, opts.height)
}

/// Refuses a size below [`MIN_SIZE`] or a side above [`MAX_SIDE`] instead of drawing
/// something else than was asked.
fn check_size(opts: &ChartOptions) -> Result<(), ChartError> {
    let (w, h) = MIN_SIZE;
    if opts.width < w || opts.height < h {
        return Err(err(format!(
            "a chart of {}x{} pixels is too small: the smallest is {w}x{h}",
            opts.width, opts.height
        )));
    }
    if opts.width > MAX_SIDE || opts.height > MAX_SIDE {
        return Err(err(format!(
            "a chart of {}x{} pixels is too large: at most {MAX_SIDE} pixels a side",
            opts.width, opts.height
        )));
    }
    Ok(())
}

/// How many workloads the workload panel draws on their own: `top_n`, at most one per
/// palette colour and as many as the legend holds with a line for "other".
pub(crate) fn shown_workloads(opts: &ChartOptions) -> usize {
    let legend_h = (opts.height.saturating_sub(TITLE_H)) * SHARES[1] / 100;
    let rows = (legend_h.saturating_sub(30) / 26) as usize;
    opts.top_n
        .min(PALETTE.len())
        .min(rows.saturating_sub(1))
        .max(1)
}

/// How many instance-line workloads the instances panel draws: at most 3, and as many as its
/// legend holds under the two rows saying which line is which.
pub(crate) fn shown_lines(opts: &ChartOptions) -> usize {
    let legend_h = (opts.height.saturating_sub(TITLE_H)) * SHARES[2] / 100;
    let rows = (legend_h.saturating_sub(30) / 22) as usize;
    rows.saturating_sub(2)
        .clamp(1, 3)
        .min(shown_workloads(opts))
}

/// The areas of a chart: title, the three panels, and the legend beside each.
struct Panels<DB: DrawingBackend> {
    title: DrawingArea<DB, Shift>,
    top: DrawingArea<DB, Shift>,
    bottom: DrawingArea<DB, Shift>,
    lines: DrawingArea<DB, Shift>,
    legend_top: DrawingArea<DB, Shift>,
    legend_bottom: DrawingArea<DB, Shift>,
    legend_lines: DrawingArea<DB, Shift>,
}

/// Height of a chart's title area: title, verdict, and the assumptions subtitle.
const TITLE_H: u32 = 100;

/// The panels' shares of the height under the title, in percent: occupancy, held by
/// workload, instances wanted against running.
const SHARES: [u32; 3] = [44, 28, 28];

/// Pixels under a panel for its tick labels; the last panel also has the axis title.
const TICKS_H: u32 = 30;
const LAST_TICKS_H: u32 = 56;

fn panels<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> Panels<DB> {
    let (w, h) = root.dim_in_pixel();
    let (title, body) = root.split_vertically(TITLE_H);
    // A quarter of the width, and at least 240 pixels so that a small chart's legend holds
    // its labels.
    let legend_w = (w / 4).clamp(240, 290);
    let (plots, legend) = body.split_horizontally(w - legend_w);
    let body_h = h - TITLE_H;
    let (a, b) = (
        body_h * SHARES[0] / 100,
        body_h * (SHARES[0] + SHARES[1]) / 100,
    );
    let split = |area: &DrawingArea<DB, Shift>| {
        let (top, rest) = area.split_vertically(a);
        let (mid, low) = rest.split_vertically(b - a);
        (top, mid, low)
    };
    let (top, bottom, lines) = split(&plots);
    let (legend_top, legend_bottom, legend_lines) = split(&legend);
    Panels {
        title,
        top,
        bottom,
        lines,
        legend_top,
        legend_bottom,
        legend_lines,
    }
}

/// A panel's plot: its width in pixels is the number of columns.
fn plot_builder<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x_max: f64,
    y_max: f64,
) -> Result<ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, ChartError> {
    panel_builder(area, x_max, y_max, TICKS_H)
}

/// A panel's plot with `ticks_h` pixels under it for the time axis.
fn panel_builder<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x_max: f64,
    y_max: f64,
    ticks_h: u32,
) -> Result<ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, ChartError> {
    ChartBuilder::on(area)
        .margin(8)
        .margin_right(20)
        .x_label_area_size(ticks_h)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(de)
}

/// The pixel columns of the occupancy panel's plot area.
fn plot_x<DB: DrawingBackend>(p: &Panels<DB>) -> Result<std::ops::Range<i32>, ChartError> {
    Ok(plot_builder(&p.top, 1.0, 1.0)?
        .plotting_area()
        .get_pixel_range()
        .0)
}

/// How many pixel columns a chart drawn with `opts` has; the drawing backend does not change
/// the layout, so an SVG in memory measures it.
fn plot_columns(opts: &ChartOptions) -> Result<usize, ChartError> {
    let mut svg = String::new();
    let px = {
        let root = SVGBackend::with_string(&mut svg, image_size(opts)).into_drawing_area();
        plot_x(&panels(&root))?
    };
    Ok((px.end - px.start).max(1) as usize)
}

/// Draws subnet `i` of `report` from the rows of `source` into `out`.
pub fn render_subnet(
    report: &Report,
    i: usize,
    source: Source<'_>,
    out: &Path,
    opts: &ChartOptions,
) -> Result<Layout, ChartError> {
    register_font();
    let (from, to) = time_range(report.duration_ms, opts)?;
    let size = image_size(opts);
    let result = match opts.format {
        Format::Png => {
            let root = BitMapBackend::new(out, size).into_drawing_area();
            let l = draw(root.clone(), report, i, source, from, to, opts, out)?;
            root.present()
                .map_err(|e| err(format!("cannot write {}: {e}", out.display())))?;
            l
        }
        Format::Svg => {
            let root = SVGBackend::new(out, size).into_drawing_area();
            let l = draw(root.clone(), report, i, source, from, to, opts, out)?;
            root.present()
                .map_err(|e| err(format!("cannot write {}: {e}", out.display())))?;
            l
        }
    };
    Ok(result)
}

/// Draws subnet `i` of `report` from the rows of `source` as an SVG document in memory, for
/// a page that inlines its charts (report.html). Same drawing as [`render_subnet`].
pub fn subnet_svg(
    report: &Report,
    i: usize,
    source: Source<'_>,
    opts: &ChartOptions,
) -> Result<String, ChartError> {
    register_font();
    let (from, to) = time_range(report.duration_ms, opts)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, image_size(opts)).into_drawing_area();
        draw(
            root.clone(),
            report,
            i,
            source,
            from,
            to,
            opts,
            Path::new(""),
        )?;
        root.present().map_err(de)?;
    }
    Ok(svg)
}

fn de<E: std::fmt::Debug>(e: E) -> ChartError {
    err(format!("drawing failed: {e:?}"))
}

#[allow(clippy::too_many_arguments)]
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    report: &Report,
    i: usize,
    source: Source<'_>,
    from: u64,
    to: u64,
    opts: &ChartOptions,
    out: &Path,
) -> Result<Layout, ChartError> {
    let sn = &report.subnets[i];
    let clock = Clock {
        start: report.start.as_deref().and_then(|s| s.parse().ok()),
    };
    root.fill(&WHITE).map_err(de)?;
    let Panels {
        title: title_area,
        top,
        bottom,
        lines: lines_area,
        legend_top,
        legend_bottom,
        legend_lines,
    } = panels(&root);
    let (title_w, _) = title_area.dim_in_pixel();
    let line_w = title_w.saturating_sub(30);
    let (t, size) = fitted(
        &title_area,
        &format!("{}: subnet {} {}", report.scenario, sn.name, sn.cidr),
        30,
        22,
        line_w,
    );
    title_area
        .draw(&Text::new(t, (20, 12), font(size)))
        .map_err(de)?;
    let (verdict, vcolor) = match (
        &sn.figures.first_exhaustion,
        report.saturation_windows_at(&sn.saturation_windows).next(),
    ) {
        (Some(e), _) => (
            if e.cause.is_empty() {
                format!(
                    "ran out of addresses at {} ({} failed starts)",
                    e.time, sn.figures.failed_attempts
                )
            } else {
                // The cause names what ran out: blocks or addresses.
                format!("starts failed from {}: {}", e.time, e.cause)
            },
            MARKER_RED,
        ),
        (None, Some(w)) => (
            format!(
                "connector {} saturated at {}: more throughput than its maximum instances carry",
                w.workload, w.start
            ),
            SAT_MARKER,
        ),
        (None, None) => ("every start succeeded".to_string(), RGBColor(30, 120, 30)),
    };
    let (verdict, size) = fitted(&title_area, &verdict, 20, 14, line_w);
    title_area
        .draw(&Text::new(verdict, (20, 46), font(size).color(&vcolor)))
        .map_err(de)?;
    let (sub, size) = fitted(
        &title_area,
        &crate::assumptions::subtitle(&report.assumptions),
        16,
        11,
        line_w,
    );
    title_area
        .draw(&Text::new(sub, (20, 74), font(size).color(&SUBTITLE_GREY)))
        .map_err(de)?;

    // --- occupancy panel ---
    let usable = f64::from(sn.usable);
    let long = to - from > 2 * 86_400_000;
    let x_desc = match (clock.start.is_some(), long) {
        (true, false) => "time (UTC)",
        (true, true) => "time (UTC), month-day hour:minute",
        (false, false) => "time since start (h:mm)",
        (false, true) => "time since start (days, h:mm)",
    };
    // The plot area's width in pixels is the number of columns; a first builder measures it.
    let builder = plot_builder::<DB>;
    let (px, py) = builder(&top, 1.0, 1.0)?.plotting_area().get_pixel_range();
    let n_cols = (px.end - px.start).max(1) as usize;
    let n = n_cols as f64;
    let sweep = Sweep::new(from, to, n_cols);
    let source::Occupancy {
        levels: occ,
        free_blocks,
    } = source.occupancy(i, &sn.name, &sweep)?;
    // A subnet used below 30% would leave the data a sliver under the capacity line: scale the
    // axis to the data and say in words where the capacity is.
    let stack_max = occ[3].iter().copied().fold(0.0, f64::max);
    let zoomed = stack_max < 0.3 * usable;
    let y_max = if zoomed {
        (stack_max * 1.3).max(16.0)
    } else {
        usable * 1.08
    };
    // The instances panel's workloads: a subnet with a connector draws its throughput there.
    let line_names = line_order(report, &sn.name, shown_lines(opts));
    let mbps = !line_names.is_empty()
        && line_names.iter().all(|n| {
            report
                .workloads
                .iter()
                .any(|w| &w.name == n && w.kind == "connector")
        });
    let descs = ["addresses", "held", if mbps { "Mbps" } else { "instances" }];
    // One size for the three axis titles: the largest each panel's height holds.
    let desc_size = [&top, &bottom, &lines_area]
        .iter()
        .zip(descs)
        .map(|(a, d)| {
            let h = f64::from(a.dim_in_pixel().1);
            (h * 1.2 / d.chars().count().max(1) as f64).clamp(11.0, 20.0) as u32
        })
        .min()
        .unwrap_or(20);
    // Every panel: y grid and integer labels; the time axis is drawn by `draw_time_axis`.
    // Labels at least 22 pixels apart.
    let mesh = |c: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
                desc: &str,
                y_top: f64| {
        let (_, ys) = c.plotting_area().get_pixel_range();
        let plot_h = (ys.end - ys.start).max(0) as usize;
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(integer_labels(y_top).min((plot_h / 22).max(2)))
            .y_desc(desc)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .axis_desc_style(font(desc_size))
            .label_style(font(16))
            .draw()
            .map_err(de)
    };
    let mut chart = builder(&top, n, y_max)?;
    mesh(&mut chart, descs[0], y_max)?;
    let x_of = |t: u64| ((t.saturating_sub(from)) as f64 / (to - from) as f64) * n_cols as f64;

    // Failure windows first, under the data: a shaded band each.
    let windows: Vec<_> = report
        .failure_windows_at(&sn.failure_windows)
        .filter(|fw| fw.end_ms > from && fw.start_ms < to)
        .collect();
    // Failure windows, and a connector's saturation windows, as shaded bands under the data.
    let saturations: Vec<_> = report
        .saturation_windows_at(&sn.saturation_windows)
        .filter(|w| w.end_ms > from && w.start_ms < to)
        .collect();
    // Windows closer than 6 pixels share a band: many windows stay readable.
    let gap_ms = (to - from) * 6 / n_cols.max(1) as u64;
    let fail_bands = bands::merge(&windows, gap_ms);
    let sat_bands = bands::merge(&saturations, gap_ms);
    {
        let area = chart.plotting_area();
        for (bs, color) in [(&fail_bands, BAND), (&sat_bands, SAT_BAND)] {
            for w in bs.iter() {
                let (a, mut b) = (x_of(w.start_ms.max(from)), x_of(w.end_ms.min(to)));
                // At least 2 pixels, so that a one-minute window on a month still shows.
                if b - a < 2.0 {
                    b = a + 2.0;
                }
                area.draw(&Rectangle::new(
                    [(a, 0.0), (b, y_max)],
                    color.mix(0.45).filled(),
                ))
                .map_err(de)?;
            }
        }
    }
    // Stacked areas, drawn as column steps of the column maxima.
    let names = ["static", "in use", "retained", "reserved, idle"];
    let colors = [STATIC, IN_USE, RETAINED, IDLE];
    for k in (0..4).rev() {
        let pts = stack_polygon(&occ, k);
        chart
            .draw_series(std::iter::once(Polygon::new(pts, colors[k].filled())))
            .map_err(de)?;
    }
    // Capacity lines.
    let area = chart.plotting_area();
    if zoomed {
        let share = 100.0 * stack_max / usable;
        let note = format!(
            "usable {} is far above: this subnet never had more than {share:.1}% of it reserved or static",
            sn.usable
        );
        area.draw(&Text::new(note, (n * 0.005, y_max * 0.97), font(17)))
            .map_err(de)?;
    } else {
        chart
            .draw_series(LineSeries::new(
                [(0.0, usable), (n, usable)],
                BLACK.stroke_width(2),
            ))
            .map_err(de)?;
        let reservable = f64::from(sn.reservable + sn.r#static);
        if sn.reservable < sn.usable && sn.reservable > 0 {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, reservable), (n, reservable)],
                    10,
                    6,
                    RGBColor(90, 90, 90).stroke_width(2),
                ))
                .map_err(de)?;
        }
        // Centred on its line, over a white backing (there may be no room above the line).
        let area = chart.plotting_area();
        let px_y = y_max / f64::from((py.end - py.start).max(1));
        let label = format!("usable {}", sn.usable);
        let width = area
            .estimate_text_size(&label, &font(16))
            .map_or(90.0, |d| f64::from(d.0));
        let (a, top) = (n - 14.0 - width, usable + 9.0 * px_y);
        area.draw(&Rectangle::new(
            [(a - 3.0, top + px_y), (a + width + 3.0, top - 18.0 * px_y)],
            WHITE.filled(),
        ))
        .map_err(de)?;
        area.draw(&Text::new(label, (a, top), font(16)))
            .map_err(de)?;
    }
    // Free /28 blocks, what a new owner needs, as a line on the address axis (16 a block):
    // drawn when it shows below the top of the axis somewhere.
    let free_pts: Vec<(f64, f64)> = free_blocks
        .iter()
        .enumerate()
        .filter_map(|(c, v)| v.map(|v| (c, (v * BLOCK).min(y_max))))
        .flat_map(|(c, v)| [(c as f64, v), (c as f64 + 1.0, v)])
        .collect();
    let fewest_free = free_blocks
        .iter()
        .flatten()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let free_drawn = !zoomed && sn.reservable > 0 && free_pts.iter().any(|&(_, v)| v < y_max);
    if free_drawn {
        chart
            .draw_series(LineSeries::new(free_pts, FREE_LINE.stroke_width(3)))
            .map_err(de)?;
    }
    let area = chart.plotting_area();
    // A marker at the start of each band; labels for the longest bands first, where they fit
    // (two rows of labels, none overlapping another or the plot's edge).
    for (bs, color) in [(&sat_bands, SAT_MARKER), (&fail_bands, MARKER_RED)] {
        for w in bs.iter().filter(|w| w.start_ms >= from) {
            let a0 = (x_of(w.start_ms) - 1.0).max(1.0);
            area.draw(&Rectangle::new(
                [(a0, 0.0), (a0 + 3.0, y_max)],
                color.filled(),
            ))
            .map_err(de)?;
        }
    }
    // The "usable" label at the right end sits across both rows of band labels.
    let mut placed: Vec<(usize, f64, f64)> = if zoomed {
        Vec::new()
    } else {
        vec![(0, n - 114.0, n), (1, n - 114.0, n)]
    };
    let mut unlabelled = 0;
    for (bs, color, verb) in [
        (&fail_bands, MARKER_RED, "fail"),
        (&sat_bands, SAT_MARKER, "saturated"),
    ] {
        for k in bands::label_order(bs) {
            let w = &bs[k];
            if w.start_ms < from {
                unlabelled += 1;
                continue;
            }
            let end = if w.open {
                "end".to_string()
            } else {
                short_time(clock, w.end_ms, long)
            };
            let who = bands::who(w);
            let verb = if w.workloads.len() == 1 && verb == "fail" {
                "fails"
            } else {
                verb
            };
            let times = format!(
                "{}\u{2013}{} ({})",
                short_time(clock, w.start_ms, long),
                end,
                span(w.end_ms - w.start_ms)
            );
            // Right of the band's start, else left of it; on one of two rows 20 pixels apart,
            // over a white backing so that no line under it strikes it out.
            // Where the whole label fits nowhere, its times alone.
            let x0 = x_of(w.start_ms);
            let spot = [format!("{who} {verb} {times}"), times]
                .into_iter()
                .find_map(|label| {
                    let width = area
                        .estimate_text_size(&label, &font(16))
                        .map_or(label.chars().count() as f64 * 8.5, |d| f64::from(d.0));
                    [x0 + 5.0, x0 - 5.0 - width]
                        .into_iter()
                        .filter(|&a| a >= 4.0 && a + width < n - 4.0)
                        .flat_map(|a| (0..2).map(move |r| (r, a, a + width)))
                        .find(|&(r, a, b)| {
                            !placed
                                .iter()
                                .any(|&(pr, pa, pb)| pr == r && a < pb + 12.0 && pa < b + 12.0)
                        })
                        .map(|spot| (spot, label))
                });
            let Some(((row, a, b), label)) = spot else {
                unlabelled += 1;
                continue;
            };
            placed.push((row, a, b));
            let px_y = y_max / f64::from((py.end - py.start).max(1));
            let top = y_max - px_y * f64::from(2 + 20 * row as i32);
            area.draw(&Rectangle::new(
                [(a - 2.0, top), (b + 2.0, top - 18.0 * px_y)],
                WHITE.filled(),
            ))
            .map_err(de)?;
            area.draw(&Text::new(label, (a, top), font(16).color(&color)))
                .map_err(de)?;
        }
    }
    // Swaps and job starts on the time axis.
    let marks = axis_marks(report, &sn.name);
    for (m, failed) in marks
        .iter()
        .filter(|(m, _)| m.time_ms >= from && m.time_ms < to)
    {
        let a = x_of(m.time_ms);
        let color = match (m.kind.as_str(), failed) {
            (_, true) => FAILED_MARK,
            ("job", _) => JOB,
            _ => SWAP,
        };
        let s = y_max * 0.05;
        let tri = vec![(a - 8.0, 0.0), (a + 8.0, 0.0), (a, s)];
        area.draw(&Polygon::new(tri.clone(), color.filled()))
            .map_err(de)?;
        let mut outline = tri;
        outline.push((a - 8.0, 0.0));
        area.draw(&PathElement::new(outline, WHITE.stroke_width(2)))
            .map_err(de)?;
    }
    // Time axis: ticks on whole minutes, hours or days.
    // Labels about 75 pixels apart (110 for month-day ones), so that none overlap.
    let label_px = if long { 110 } else { 75 };
    let step = tick_step_for(to - from, (n_cols / label_px) as u64);
    let ticks: Vec<u64> = (from.div_ceil(step)..=to / step)
        .map(|k| k * step)
        .collect();
    let desc = x_desc.to_string();
    let x_px = |t: u64| px.start + (x_of(t) / n * f64::from(px.end - px.start)).round() as i32;
    draw_time_axis(
        &root,
        &px,
        py.end,
        &ticks,
        &x_px,
        |t| tick_label(clock, t, long),
        ("", 0),
    )?;

    // Legend of the occupancy panel, outside the data: every entry of what is drawn, in rows
    // as tall as the panel's height holds them all, and one text size for every legend of the
    // chart (the largest the rows and the legend's width hold).
    let drawn = |k: usize| {
        occ[k]
            .iter()
            .enumerate()
            .any(|(c, &v)| v > if k == 0 { 0.0 } else { occ[k - 1][c] })
    };
    let mut items: Vec<(RGBColor, String, Swatch)> = Vec::new();
    // Only the states the panel shows: a level above the one below it somewhere.
    for k in (0..4).rev().filter(|&k| drawn(k)) {
        items.push((colors[k], names[k].to_string(), Swatch::Fill));
    }
    if !zoomed {
        items.push((BLACK, format!("usable ({})", sn.usable), Swatch::Line));
    }
    if sn.reservable < sn.usable && sn.reservable > 0 && !zoomed {
        items.push((
            RGBColor(90, 90, 90),
            format!("static + reservable ({})", sn.reservable + sn.r#static),
            Swatch::Line,
        ));
    }
    if free_drawn {
        items.push((
            FREE_LINE,
            format!("free /28 blocks \u{d7}16 (fewest {fewest_free})"),
            Swatch::Line,
        ));
    }
    let shown = |kind: &str, failed: bool| {
        marks
            .iter()
            .any(|(m, f)| m.kind == kind && *f == failed && m.time_ms >= from && m.time_ms < to)
    };
    if !fail_bands.is_empty() {
        items.push((
            MARKER_RED,
            "failure window (red line: start)".into(),
            Swatch::Band(BAND),
        ));
    }
    if !sat_bands.is_empty() {
        items.push((
            SAT_MARKER,
            "connector saturated".into(),
            Swatch::Band(SAT_BAND),
        ));
    }
    if shown("swap", false) {
        items.push((SWAP, "deploy (on axis)".into(), Swatch::Mark));
    }
    if shown("swap", true) {
        items.push((
            FAILED_MARK,
            "deploy that failed (on axis)".into(),
            Swatch::Mark,
        ));
    }
    if shown("job", false) {
        items.push((JOB, "job execution start".into(), Swatch::Mark));
    }
    if shown("job", true) {
        items.push((
            FAILED_MARK,
            "execution that lost tasks".into(),
            Swatch::Mark,
        ));
    }
    let (legend_w, legend_h) = legend_top.dim_in_pixel();
    let head_h = if legend_h < 260 { 24 } else { 30 };
    // (A row too for the note of how many bands went unlabelled.)
    let rows = items.len() + usize::from(unlabelled > 0);
    let row = ((legend_h as i32 - head_h - 4) / rows.max(1) as i32).clamp(MIN_ROW, 26);
    let text_w = legend_w.saturating_sub(TEXT_X as u32 + 6);
    let longest = items
        .iter()
        .map(|i| i.1.as_str())
        .max_by_key(|l| l.chars().count())
        .unwrap_or("");
    let ts = (12..=((row - 5) as u32).clamp(12, 17))
        .rev()
        .find(|&sz| {
            legend_top
                .estimate_text_size(longest, &font(sz))
                .is_ok_and(|d| d.0 <= text_w)
        })
        .unwrap_or(12);
    let entry = |area: &DrawingArea<DB, Shift>,
                 y: i32,
                 row: i32,
                 color: RGBColor,
                 label: &str,
                 swatch: Swatch|
     -> Result<(), ChartError> {
        let box_h = (row * 6 / 10).max(8);
        let mid = y + ts as i32 / 2 + 1;
        match swatch {
            Swatch::Fill => area.draw(&Rectangle::new(
                [(10, mid - box_h / 2), (34, mid + box_h / 2)],
                color.filled(),
            )),
            Swatch::Line => area.draw(&Rectangle::new(
                [(10, mid - 1), (34, mid + 2)],
                color.filled(),
            )),
            Swatch::Band(band) => area
                .draw(&Rectangle::new(
                    [(10, mid - box_h / 2), (34, mid + box_h / 2)],
                    band.filled(),
                ))
                .and_then(|()| {
                    area.draw(&Rectangle::new(
                        [(10, mid - box_h / 2), (13, mid + box_h / 2)],
                        color.filled(),
                    ))
                }),
            Swatch::Mark => area.draw(&Polygon::new(
                vec![
                    (14, mid + box_h / 2),
                    (30, mid + box_h / 2),
                    (22, mid - box_h / 2),
                ],
                color.filled(),
            )),
        }
        .map_err(de)?;
        let (w, _) = area.dim_in_pixel();
        let (label, size) = fitted(area, label, ts, ts, w.saturating_sub(TEXT_X as u32 + 6));
        area.draw(&Text::new(label, (TEXT_X, y), font(size)))
            .map_err(de)
    };
    let head = |area: &DrawingArea<DB, Shift>, text: &str| -> Result<(), ChartError> {
        let (w, _) = area.dim_in_pixel();
        let (t, size) = fitted(area, text, ts + 2, ts + 2, w.saturating_sub(15));
        area.draw(&Text::new(t, (10, 4), font(size))).map_err(de)
    };
    head(&legend_top, "addresses")?;
    let mut y = head_h;
    for (color, label, swatch) in items {
        // (Only past MIN_ROW rows a legend, which would not fit, drops its last entries.)
        if y + row > legend_h as i32 {
            break;
        }
        entry(&legend_top, y, row, color, &label, swatch)?;
        y += row;
    }
    if row == 26 {
        y += 8;
    }
    let line_h = ts as i32 + 5;
    if unlabelled > 0 && y + line_h.min(row) <= legend_h as i32 {
        legend_top
            .draw(&Text::new(
                if unlabelled == 1 {
                    "1 band unlabelled".to_string()
                } else {
                    format!("{unlabelled} bands unlabelled")
                },
                (10, y),
                font(ts).color(&SUBTITLE_GREY),
            ))
            .map_err(de)?;
        y += line_h;
    }
    let f = &sn.figures;
    for line in [
        format!("peak held {}", f.peak_held),
        format!(
            "peak reserved {} ({} blocks)",
            f.peak_reserved, f.peak_reserved_blocks
        ),
        format!("min free {} ({} blocks)", f.min_free, f.min_free_blocks),
        format!("failed attempts {}", f.failed_attempts),
    ] {
        // Figures only while they fit above the panel's end.
        if y + line_h > legend_h as i32 {
            break;
        }
        let (line, size) = fitted(&legend_top, &line, ts, ts, legend_w.saturating_sub(15));
        legend_top
            .draw(&Text::new(line, (10, y), font(size)))
            .map_err(de)?;
        y += line_h;
    }

    // --- workload panel: who held the addresses ---
    let wls = by_peak(report, &sn.name);
    let order = stack_order(report, &sn.name, opts);
    let has_other = wls.len() > order.len();
    let wc = source.workloads(i, &sn.name, &order, &sweep)?;
    let top_level = wc
        .last()
        .map_or(0.0, |l| l.iter().copied().fold(0.0, f64::max));
    let wy = (top_level * 1.1).max(4.0);
    let mut wchart = builder(&bottom, n, wy)?;
    let (_, wpy) = wchart.plotting_area().get_pixel_range();
    mesh(&mut wchart, descs[1], wy)?;
    draw_time_axis(
        &root,
        &px,
        wpy.end,
        &ticks,
        &x_px,
        |t| tick_label(clock, t, long),
        ("", 0),
    )?;
    let n_levels = order.len() + usize::from(has_other);
    let level_color = |k: usize| {
        if k < order.len() {
            PALETTE[k % PALETTE.len()]
        } else {
            OTHER
        }
    };
    for k in (0..n_levels).rev() {
        let pts = stack_polygon(&wc, k);
        wchart
            .draw_series(std::iter::once(Polygon::new(pts, level_color(k).filled())))
            .map_err(de)?;
    }
    for fw in &fail_bands {
        if fw.start_ms >= from {
            let a = x_of(fw.start_ms);
            wchart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a - 0.5, 0.0), (a + 1.5, wy)],
                    MARKER_RED.filled(),
                )))
                .map_err(de)?;
        }
    }
    head(&legend_bottom, "held (in use + retained)")?;
    let mut y = head_h;
    // (A workload that never held an address, stacked for its colour in the instances panel,
    // has no area here and no entry.)
    for (k, w) in order
        .iter()
        .filter_map(|o| wls.iter().find(|w| &w.name == o))
        .enumerate()
        .filter(|(_, w)| w.peak_held > 0)
    {
        let label = format!("{} ({})", clip(&w.name, 18), w.peak_held);
        entry(&legend_bottom, y, 26, level_color(k), &label, Swatch::Fill)?;
        y += 26;
    }
    if has_other {
        let label = format!("other ({} workloads)", wls.len() - order.len());
        entry(&legend_bottom, y, 26, OTHER, &label, Swatch::Fill)?;
    }

    // --- instances panel: what the top workloads wanted against what ran; or, in a subnet
    // with a connector, the connectors' throughput demand against what their VMs carry ---
    let names = line_names;
    let connectors = vec![mbps; names.len()];
    let lines = source.lines(i, &sn.name, &names, &connectors, &sweep)?;
    let top_line = lines
        .iter()
        .flat_map(|l| l.iter().flatten())
        .copied()
        .fold(0.0, f64::max);
    let ly = (top_line * 1.1).max(4.0);
    let mut lchart = panel_builder(&lines_area, n, ly, LAST_TICKS_H)?;
    let (_, lpy) = lchart.plotting_area().get_pixel_range();
    mesh(&mut lchart, descs[2], ly)?;
    draw_time_axis(
        &root,
        &px,
        lpy.end,
        &ticks,
        &x_px,
        |t| tick_label(clock, t, long),
        (&desc, desc_size),
    )?;
    let line_color = |name: &str| {
        order
            .iter()
            .position(|o| o == name)
            .map_or(OTHER, level_color)
    };
    // Where a connector's demand is above its capacity: saturated.
    let mut saturated = false;
    for (name, l) in names.iter().zip(&lines) {
        let color = line_color(name);
        // The shortfall (or the demand beyond capacity, in the saturation colour), shaded
        // between the two lines; then the lines.
        let shade = if mbps {
            saturated |= l[1].iter().zip(&l[0]).any(|(d, c)| d > c);
            SAT_SHADE.filled()
        } else {
            color.mix(0.25).filled()
        };
        lchart
            .draw_series(
                excess_polygons(l)
                    .into_iter()
                    .map(|p| Polygon::new(p, shade)),
            )
            .map_err(de)?;
        let steps = |v: &[f64]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .flat_map(|(c, &v)| [(c as f64, v), (c as f64 + 1.0, v)])
                .collect()
        };
        lchart
            .draw_series(DashedLineSeries::new(
                steps(&l[1]),
                8,
                5,
                color.stroke_width(2),
            ))
            .map_err(de)?;
        lchart
            .draw_series(LineSeries::new(steps(&l[0]), color.stroke_width(2)))
            .map_err(de)?;
    }
    if mbps {
        for w in sat_bands.iter().filter(|w| w.start_ms >= from) {
            let a = x_of(w.start_ms);
            lchart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a - 0.5, 0.0), (a + 1.5, ly)],
                    SAT_MARKER.filled(),
                )))
                .map_err(de)?;
        }
    }
    let (lw, lh) = legend_lines.dim_in_pixel();
    head(
        &legend_lines,
        if mbps {
            "throughput, Mbps"
        } else {
            "instances: wanted vs running"
        },
    )?;
    let mut y = head_h;
    let small = |area: &DrawingArea<DB, Shift>, y: i32, label: &str, dashed: bool| {
        let mid = y + ts as i32 / 2 + 1;
        if dashed {
            for x in [10, 19, 28] {
                area.draw(&Rectangle::new(
                    [(x, mid - 1), (x + 6, mid + 1)],
                    BLACK.filled(),
                ))
                .map_err(de)?;
            }
        } else {
            area.draw(&Rectangle::new(
                [(10, mid - 1), (34, mid + 1)],
                BLACK.filled(),
            ))
            .map_err(de)?;
        }
        let (label, size) = fitted(area, label, ts, ts, lw.saturating_sub(TEXT_X as u32 + 6));
        area.draw(&Text::new(label, (TEXT_X, y), font(size)))
            .map_err(de)
    };
    if !names.is_empty() {
        let (solid, dashed) = if mbps {
            ("capacity (its VMs)", "demand (dashed)")
        } else {
            ("running", "wanted (dashed)")
        };
        small(&legend_lines, y, solid, false)?;
        small(&legend_lines, y + 22, dashed, true)?;
        y += 44;
    }
    let mut rows: Vec<(RGBColor, String, Swatch)> = names
        .iter()
        .map(|name| (line_color(name), clip(name, 22), Swatch::Fill))
        .collect();
    if saturated {
        rows.push((
            SAT_MARKER,
            "over capacity: saturated".into(),
            Swatch::Band(SAT_SHADE),
        ));
    }
    for (color, label, swatch) in rows {
        if y + 22 > lh as i32 {
            break;
        }
        entry(&legend_lines, y, 22, color, &label, swatch)?;
        y += 22;
    }

    Ok(Layout {
        path: out.to_path_buf(),
        plot_x: px,
        plot_y: py,
        lines_y: lpy,
        from_ms: from,
        to_ms: to,
    })
}

/// `text` at the largest font size from `size` down to `min` that fits in `max_w` pixels,
/// clipped with an ellipsis at `min` if even that is too wide: text never leaves its area.
fn fitted<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: u32,
    min: u32,
    max_w: u32,
) -> (String, u32) {
    let width = |t: &str, sz: u32| {
        area.estimate_text_size(t, &font(sz))
            .map_or(u32::MAX, |d| d.0)
    };
    for sz in (min..=size).rev() {
        if width(text, sz) <= max_w {
            return (text.to_string(), sz);
        }
    }
    let chars: Vec<char> = text.chars().collect();
    let (mut lo, mut hi) = (0, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let t: String = chars[..mid].iter().collect::<String>() + "\u{2026}";
        if width(&t, min) <= max_w {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    (chars[..lo].iter().collect::<String>() + "\u{2026}", min)
}

/// How many y labels give whole-number steps for an axis from 0 to `y_top`: never more
/// labels than whole numbers, so that no label repeats.
fn integer_labels(y_top: f64) -> usize {
    (y_top.floor() as usize + 1).clamp(2, 10)
}

/// The swaps and job starts of subnet `subnet`, each with whether it failed: a deploy whose
/// new revision failed to start during its rollout, or an execution that lost tasks.
fn axis_marks<'a>(report: &'a Report, subnet: &str) -> Vec<(&'a crate::Marker, bool)> {
    let by_name: std::collections::BTreeMap<&str, &crate::WorkloadReport> = report
        .workloads
        .iter()
        .map(|w| (w.name.as_str(), w))
        .collect();
    // Each workload's job starts counted in order: the k-th is its execution k.
    let mut nth: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    report
        .markers
        .iter()
        .filter(|m| m.subnet == subnet)
        .map(|m| {
            let wl = by_name.get(m.workload.as_str());
            let failed = match m.kind.as_str() {
                "swap" => {
                    wl.is_some_and(|w| w.deploy_failures.iter().any(|d| d.swap_ms == m.time_ms))
                }
                "job" => {
                    let k = nth.entry(m.workload.as_str()).or_insert(0);
                    *k += 1;
                    let k = *k;
                    wl.is_some_and(|w| {
                        w.executions
                            .iter()
                            .any(|e| e.execution == k && e.failed > 0)
                    })
                }
                // An observed revision's first point is no deploy ipsim watched.
                _ => false,
            };
            (m, failed)
        })
        .collect()
}

/// The workloads of subnet `subnet`, most held first.
fn by_peak<'a>(report: &'a Report, subnet: &str) -> Vec<&'a crate::WorkloadReport> {
    let mut wls: Vec<_> = report
        .workloads
        .iter()
        .filter(|w| w.subnet == subnet)
        .collect();
    wls.sort_by(|a, b| b.peak_held.cmp(&a.peak_held).then(a.name.cmp(&b.name)));
    wls
}

/// The workloads of subnet `subnet` the instances panel draws, at most `k`: those short the
/// most first (a connector that saturated counts as short), then the most held. In a subnet
/// with a connector (a connector's /28 is its own), the connectors only: the panel draws their
/// throughput in Mbps.
pub(crate) fn line_order(report: &Report, subnet: &str, k: usize) -> Vec<String> {
    let mut wls = by_peak(report, subnet);
    if wls.iter().any(|w| w.kind == "connector") {
        wls.retain(|w| w.kind == "connector");
    }
    let short = |w: &crate::WorkloadReport| {
        let s = w.short.as_ref().map_or(0, |s| s.peak);
        (s, u32::from(!w.saturation_windows.is_empty()))
    };
    wls.sort_by_key(|w| std::cmp::Reverse(short(w)));
    wls.iter().take(k).map(|w| w.name.clone()).collect()
}

/// The workloads the workload panel stacks on their own, bottom first (most held first); the
/// rest are "other". The instances panel's workloads are among them, so that each of its lines
/// has its workload's own colour in both panels; the most held fill the rest of the room.
pub(crate) fn stack_order(report: &Report, subnet: &str, opts: &ChartOptions) -> Vec<String> {
    let wls = by_peak(report, subnet);
    let lines = line_order(report, subnet, shown_lines(opts));
    let mut room = shown_workloads(opts).saturating_sub(lines.len());
    wls.iter()
        .filter(|w| {
            lines.contains(&w.name) || {
                let fits = room > 0;
                room = room.saturating_sub(1);
                fits
            }
        })
        .map(|w| w.name.clone())
        .collect()
}

/// The outline of stacked level `k`: its column maxima along the top, left to right, and the
/// level below it (or 0) back along the bottom, as column-wide steps.
fn stack_polygon(levels: &[Vec<f64>], k: usize) -> Vec<(f64, f64)> {
    let top = &levels[k];
    let n = top.len();
    let mut pts = Vec::with_capacity(4 * n);
    for (c, &v) in top.iter().enumerate() {
        pts.push((c as f64, v));
        pts.push((c as f64 + 1.0, v));
    }
    for c in (0..n).rev() {
        let v = if k == 0 {
            0.0
        } else {
            levels[k - 1][c].min(top[c])
        };
        pts.push((c as f64 + 1.0, v));
        pts.push((c as f64, v));
    }
    pts
}

/// The outlines of the runs of columns where `levels[1]` is above `levels[0]`: from the lower
/// line up to the higher, as column-wide steps (no sliver where the two are equal).
fn excess_polygons(levels: &[Vec<f64>]) -> Vec<Vec<(f64, f64)>> {
    let (lo, hi) = (&levels[0], &levels[1]);
    let mut out = Vec::new();
    let mut c = 0;
    while c < hi.len() {
        if hi[c] <= lo[c] {
            c += 1;
            continue;
        }
        let start = c;
        while c < hi.len() && hi[c] > lo[c] {
            c += 1;
        }
        let mut pts: Vec<(f64, f64)> = (start..c)
            .flat_map(|k| [(k as f64, hi[k]), (k as f64 + 1.0, hi[k])])
            .collect();
        pts.extend(
            (start..c)
                .rev()
                .flat_map(|k| [(k as f64 + 1.0, lo[k]), (k as f64, lo[k])]),
        );
        out.push(pts);
    }
    out
}

/// The time axis of a chart over a whole run of `duration_ms` (the compare and spread charts):
/// ticks from 0, labelled in UTC when the run has a start, else described as `since`.
fn draw_run_axis<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    px: &std::ops::Range<i32>,
    y0: i32,
    duration_ms: u64,
    clock: Clock,
    since: &str,
) -> Result<(), ChartError> {
    let long = duration_ms > 2 * 86_400_000;
    let step = tick_step(duration_ms.max(1));
    let ticks: Vec<u64> = (0..=duration_ms / step).map(|k| k * step).collect();
    let x_px = |t: u64| {
        px.start
            + ((t as f64 / duration_ms.max(1) as f64) * f64::from(px.end - px.start)).round() as i32
    };
    let desc = if clock.start.is_some() {
        "time (UTC)"
    } else {
        since
    };
    draw_time_axis(
        area,
        px,
        y0,
        &ticks,
        &x_px,
        |t| tick_label(clock, t, long),
        (desc, 19),
    )
}

/// Tick marks and labels under a panel, and the axis title `desc` (none if empty) in size
/// `desc_size`, centred under the plot.
fn draw_time_axis<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    px: &std::ops::Range<i32>,
    y0: i32,
    ticks: &[u64],
    x_px: &dyn Fn(u64) -> i32,
    label: impl Fn(u64) -> String,
    (desc, desc_size): (&str, u32),
) -> Result<(), ChartError> {
    area.draw(&PathElement::new(vec![(px.start, y0), (px.end, y0)], BLACK))
        .map_err(de)?;
    for &t in ticks {
        let x = x_px(t);
        area.draw(&PathElement::new(vec![(x, y0), (x, y0 + 6)], BLACK))
            .map_err(de)?;
        let l = label(t);
        let half = (l.chars().count() as i32) * 9 / 2;
        area.draw(&Text::new(l, (x - half, y0 + 9), font(16)))
            .map_err(de)?;
    }
    if desc.is_empty() {
        return Ok(());
    }
    let half = area
        .estimate_text_size(desc, &font(desc_size))
        .map_or(desc.chars().count() as i32 * 5, |d| d.0 as i32 / 2);
    area.draw(&Text::new(
        desc.to_string(),
        ((px.start + px.end) / 2 - half, y0 + 34),
        font(desc_size),
    ))
    .map_err(de)
}

/// A time as the axis labels it, with its seconds when it is not on a whole minute
/// (`08:35:06`, `+00:12:30`).
fn short_time(clock: Clock, t: u64, long: bool) -> String {
    let s = tick_label(clock, t - t % 60_000, long);
    if t % 60_000 != 0 {
        format!("{s}:{:02}", t / 1000 % 60)
    } else {
        s
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(3_600_000), 300_000);
        assert_eq!(tick_step(30 * 86_400_000), 604_800_000);
        assert_eq!(tick_label(Clock::default(), 5_400_000, false), "+01:30");
    }

    /// Prefix labels as long as `/22 (1,020 usable)` on either axis of a heatmap are drawn
    /// whole, inside the image (they began left of it), and x labels do not overlap.
    #[test]
    fn heatmap_labels_of_prefixes_stay_inside_the_image() {
        let prefixes: Vec<String> = [20, 21, 22, 23, 24, 25, 26]
            .iter()
            .map(|p| format!("/{p} ({} usable)", (1u64 << (32 - p)) - 4))
            .collect();
        let h = Heatmap {
            title: "t".into(),
            subtitle: "s".into(),
            x_label: "subnet.a.prefix".into(),
            y_label: "subnet.b.prefix".into(),
            xs: prefixes.clone(),
            ys: prefixes.clone(),
            cells: vec![vec![Some(0.5); 7]; 7],
        };
        let out = std::env::temp_dir().join(format!("ipsim-heat-{}.svg", std::process::id()));
        draw_heatmap(&h, &out, Format::Svg).unwrap();
        let svg = std::fs::read_to_string(&out).unwrap();
        let _ = std::fs::remove_file(&out);
        let mut xs_drawn: Vec<(f64, f64, String)> = Vec::new();
        for t in svg.split("<text ").skip(1) {
            let (tag, rest) = t.split_once('>').unwrap();
            let body = rest.split("</text>").next().unwrap().trim();
            let attr = |k: &str| -> f64 {
                format!(" {tag}")
                    .split(&format!(" {k}=\""))
                    .nth(1)
                    .and_then(|v| v.split('"').next())
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            let (x, y) = (attr("x"), attr("y"));
            assert!(x >= 0.0, "{body:?} starts at x={x}, left of the image");
            if prefixes.iter().any(|p| p == body) {
                xs_drawn.push((x, y, body.to_string()));
            }
        }
        // Every y label whole (7 rows hold them all), and x labels at least their width apart.
        for p in &prefixes {
            assert!(
                xs_drawn.iter().any(|(_, _, b)| b == p),
                "{p} not drawn whole"
            );
        }
        // (The x labels are the ones under the plot, near the image's bottom.)
        let mut bottom: Vec<f64> = xs_drawn
            .iter()
            .filter(|(_, y, _)| *y > 750.0)
            .map(|(x, ..)| *x)
            .collect();
        assert!(bottom.len() >= 3, "{xs_drawn:?}");
        bottom.sort_by(f64::total_cmp);
        assert!(bottom.windows(2).all(|w| w[1] - w[0] > 140.0), "{bottom:?}");
    }
}

/// Draws a title and its subtitle (the assumptions) across the top of `root` and returns
/// the area below them.
fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    let (head, body) = root.split_vertically(72);
    head.draw(&Text::new(title.to_string(), (20, 12), font(26)))
        .map_err(de)?;
    head.draw(&Text::new(
        subtitle.to_string(),
        (20, 46),
        font(14).color(&SUBTITLE_GREY),
    ))
    .map_err(de)?;
    Ok(body)
}

/// A grid of failure probabilities over two varied fields.
#[derive(Debug, Clone)]
pub struct Heatmap {
    /// Title.
    pub title: String,
    /// Subtitle: the assumptions the varied runs share.
    pub subtitle: String,
    /// The first varied field (x axis).
    pub x_label: String,
    /// The second varied field (y axis).
    pub y_label: String,
    /// Its values, as labels (numbers, or names like `service`).
    pub xs: Vec<String>,
    /// Its values, as labels.
    pub ys: Vec<String>,
    /// `cells[yi][xi]`: failure probability, if that point was run.
    pub cells: Vec<Vec<Option<f64>>>,
}

/// Green (0) through yellow (0.5) to red (1).
fn heat(p: f64) -> RGBColor {
    let p = p.clamp(0.0, 1.0);
    let lerp =
        |a: u8, b: u8, t: f64| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    if p < 0.5 {
        let t = p * 2.0;
        RGBColor(lerp(70, 250, t), lerp(170, 210, t), lerp(90, 60, t))
    } else {
        let t = (p - 0.5) * 2.0;
        RGBColor(lerp(250, 210, t), lerp(210, 40, t), lerp(60, 40, t))
    }
}

/// Draws a failure-probability heatmap.
pub fn draw_heatmap(h: &Heatmap, out: &Path, format: Format) -> Result<(), ChartError> {
    register_font();
    let size = (1200, 900);
    match format {
        Format::Png => {
            let root = BitMapBackend::new(out, size).into_drawing_area();
            heatmap_on(root.clone(), h)?;
            root.present()
                .map_err(|e| err(format!("cannot write {}: {e}", out.display())))
        }
        Format::Svg => {
            let root = SVGBackend::new(out, size).into_drawing_area();
            heatmap_on(root.clone(), h)?;
            root.present()
                .map_err(|e| err(format!("cannot write {}: {e}", out.display())))
        }
    }
}

fn heatmap_on<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    h: &Heatmap,
) -> Result<(), ChartError> {
    root.fill(&WHITE).map_err(de)?;
    let body = titled(&root, &h.title, &h.subtitle)?;
    let (w, _) = body.dim_in_pixel();
    let (main, legend) = body.split_horizontally(w - 170);
    let (nx, ny) = (h.xs.len().max(1), h.ys.len().max(1));
    let xs = h.xs.clone();
    let ys = h.ys.clone();
    let text_w = |l: &str| {
        root.estimate_text_size(l, &font(16))
            .map_or(l.chars().count() as i32 * 9, |d| d.0 as i32)
    };
    // The y labels' area as wide as the widest label (`/22 (1,020 usable)`) and the axis
    // title beside it need, at most a third of the image.
    let widest_y = ys.iter().map(|l| text_w(l)).max().unwrap_or(0);
    let y_area = (widest_y + 50).clamp(90, w as i32 / 3);
    let mut chart = ChartBuilder::on(&main)
        .margin(20)
        .x_label_area_size(70)
        .y_label_area_size(y_area as u32)
        .build_cartesian_2d(0f64..nx as f64, 0f64..ny as f64)
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc(&h.x_label)
        .y_desc(&h.y_label)
        .axis_desc_style(font(20))
        .draw()
        .map_err(de)?;
    // Categorical labels at cell centres, thinned so that none overlaps the next (x) and at
    // most about 12 per axis.
    let (plot_xs, plot_ys) = chart.plotting_area().get_pixel_range();
    let cell_w = f64::from((plot_xs.end - plot_xs.start).max(1)) / nx as f64;
    let cell_h = f64::from((plot_ys.end - plot_ys.start).max(1)) / ny as f64;
    let widest_x = xs.iter().map(|l| text_w(l)).max().unwrap_or(0);
    let step_x = ((f64::from(widest_x + 12) / cell_w).ceil() as usize)
        .max(nx / 12)
        .max(1);
    let step_y = ((22.0 / cell_h).ceil() as usize).max(ny / 12).max(1);
    for (i, v) in xs.iter().enumerate().filter(|(i, _)| i % step_x == 0) {
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        let half = text_w(v) / 2;
        root.draw(&Text::new(v.clone(), (px - half, py + 8), font(16)))
            .map_err(de)?;
    }
    for (i, v) in ys.iter().enumerate().filter(|(i, _)| i % step_y == 0) {
        let (px, py) = chart.backend_coord(&(0.0, i as f64 + 0.5));
        let (l, _) = fitted(&root, v, 16, 16, (y_area - 50).max(10) as u32);
        root.draw(&Text::new(
            l.clone(),
            (px - text_w(&l) - 10, py - 8),
            font(16),
        ))
        .map_err(de)?;
    }
    let big = nx <= 16 && ny <= 16;
    for (yi, row) in h.cells.iter().enumerate() {
        for (xi, c) in row.iter().enumerate() {
            let (x, y) = (xi as f64, yi as f64);
            let color = c.map_or(RGBColor(235, 235, 235), heat);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    color.filled(),
                )))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    WHITE.stroke_width(1),
                )))
                .map_err(de)?;
            if big {
                if let Some(p) = c {
                    let label = format!("{p:.2}");
                    chart
                        .plotting_area()
                        .draw(&Text::new(label, (x + 0.35, y + 0.6), font(16)))
                        .map_err(de)?;
                }
            }
        }
    }
    legend
        .draw(&Text::new("failure", (10, 60), font(18)))
        .map_err(de)?;
    legend
        .draw(&Text::new("probability", (10, 80), font(18)))
        .map_err(de)?;
    for k in 0..=10 {
        let p = 1.0 - f64::from(k) / 10.0;
        let y = 110 + k * 30;
        legend
            .draw(&Rectangle::new([(10, y), (40, y + 30)], heat(p).filled()))
            .map_err(de)?;
        if k % 2 == 0 {
            legend
                .draw(&Text::new(format!("{p:.1}"), (48, y + 8), font(16)))
                .map_err(de)?;
        }
    }
    legend
        .draw(&Text::new("grey: not run", (10, 460), font(15)))
        .map_err(de)?;
    Ok(())
}

/// Free addresses over time for several variants of one scenario, overlaid.
#[derive(Debug, Clone)]
pub struct CompareChart {
    /// Title.
    pub title: String,
    /// Subtitle: the assumptions the variants share.
    pub subtitle: String,
    /// Run length.
    pub duration_ms: u64,
    /// Clock of t = 0.
    pub clock: Clock,
    /// Per variant: its name and its (time, addresses in free blocks) step function.
    pub series: Vec<(String, Vec<(u64, u64)>)>,
    /// Per variant, in the same order: its first failed start, if any (marked with an X on
    /// its line and named in the legend).
    pub failures: Vec<Option<u64>>,
}

/// Draws the overlay: each pixel column keeps the series' **minimum** (a dip in free
/// addresses is what matters), so short dips stay visible on long runs.
pub fn draw_compare(c: &CompareChart, out: &Path) -> Result<(), ChartError> {
    register_font();
    let root = BitMapBackend::new(out, (1600, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(de)?;
    let body = titled(&root, &c.title, &c.subtitle)?;
    let (w, _) = body.dim_in_pixel();
    let (main, legend) = body.split_horizontally(w - 300);
    let y_max = c
        .series
        .iter()
        .flat_map(|(_, s)| s.iter().map(|p| p.1))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.08;
    // A little room below 0, so that a variant at 0 free addresses is a line above the axis,
    // not hidden in it.
    let y_min = -y_max * 0.03;
    let long = c.duration_ms > 2 * 86_400_000;
    let mut chart = ChartBuilder::on(&main)
        .margin(15)
        .x_label_area_size(62)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..1f64, y_min..y_max)
        .map_err(de)?;
    let (px, py) = chart.plotting_area().get_pixel_range();
    let n = (px.end - px.start).max(1) as usize;
    chart = ChartBuilder::on(&main)
        .margin(15)
        .x_label_area_size(62)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..n as f64, y_min..y_max)
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("addresses in free blocks")
        .y_labels(integer_labels(y_max))
        .y_label_formatter(&|v| {
            if *v < 0.0 {
                String::new()
            } else {
                format!("{v:.0}")
            }
        })
        .axis_desc_style(font(20))
        .label_style(font(16))
        .draw()
        .map_err(de)?;
    // As many variants in the legend as fit; all are drawn.
    let (_, legend_h) = legend.dim_in_pixel();
    let rows = ((legend_h as i32 - 90) / 28).max(1) as usize;
    let listed = if c.series.len() > rows {
        rows - 1
    } else {
        c.series.len()
    };
    let x_of = |t: u64| (t as f64 / c.duration_ms.max(1) as f64) * n as f64;
    // Variants with equal values would hide one another: each line sits 3 pixels above the
    // previous one, so every variant stays visible.
    let px_h = (y_max - y_min) / f64::from((py.end - py.start).max(1));
    for (k, (name, s)) in c.series.iter().enumerate() {
        let lift = 3.0 * k as f64 * px_h;
        // Column minima: negate, take the maximum.
        let mut cols = Columns::starting_at(0, c.duration_ms.max(1), n, 1, f64::NEG_INFINITY);
        for &(t, v) in s {
            cols.set(t, &[-(v as f64)]);
        }
        cols.finish();
        // Past the 8 palette colours a colour repeats: a dashed line tells it apart.
        let color = PALETTE[k % PALETTE.len()];
        let pts: Vec<(f64, f64)> = (0..n)
            .filter(|&i| cols.levels[0][i].is_finite())
            .flat_map(|i| {
                let v = -cols.levels[0][i] + lift;
                [(i as f64, v), (i as f64 + 1.0, v)]
            })
            .collect();
        if k < PALETTE.len() {
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(3)))
                .map_err(de)?;
        } else {
            chart
                .draw_series(DashedLineSeries::new(pts, 12, 6, color.stroke_width(3)))
                .map_err(de)?;
        }
        let failed = c.failures.get(k).copied().flatten();
        if let Some(t) = failed {
            chart
                .draw_series(std::iter::once(Cross::new(
                    (x_of(t), lift),
                    9,
                    MARKER_RED.stroke_width(3),
                )))
                .map_err(de)?;
        }
        if k < listed {
            let y = 60 + 28 * k as i32;
            // Dashed in the legend too when the line is.
            if k < PALETTE.len() {
                legend
                    .draw(&Rectangle::new([(10, y), (40, y + 6)], color.filled()))
                    .map_err(de)?;
            } else {
                for x in [10, 23, 36] {
                    legend
                        .draw(&Rectangle::new([(x, y), (x + 8, y + 6)], color.filled()))
                        .map_err(de)?;
                }
            }
            let label = match failed {
                Some(t) => format!("{} ✗ {}", clip(name, 20), short_time(c.clock, t, long)),
                None => clip(name, 26),
            };
            let (lw, _) = legend.dim_in_pixel();
            let (label, size) = fitted(&legend, &label, 17, 12, lw.saturating_sub(55));
            legend
                .draw(&Text::new(label, (50, y - 6), font(size)))
                .map_err(de)?;
        }
    }
    let mut ly = 60 + 28 * listed as i32;
    if listed < c.series.len() {
        legend
            .draw(&Text::new(
                format!("and {} more (compare.csv)", c.series.len() - listed),
                (10, ly - 6),
                font(16),
            ))
            .map_err(de)?;
        ly += 28;
    }
    if c.failures.iter().any(Option::is_some) {
        legend
            .draw(&Text::new(
                "✗ first failed start",
                (10, ly),
                font(16).color(&MARKER_RED),
            ))
            .map_err(de)?;
        ly += 26;
    }
    if c.series.len() > 1 {
        legend
            .draw(&Text::new(
                "lines 3 px apart, so equal ones all show",
                (10, ly),
                font(14).color(&SUBTITLE_GREY),
            ))
            .map_err(de)?;
    }
    legend
        .draw(&Text::new("variant", (10, 24), font(19)))
        .map_err(de)?;
    draw_run_axis(
        &root,
        &px,
        py.end,
        c.duration_ms,
        c.clock,
        "time since start",
    )?;
    root.present()
        .map_err(|e| err(format!("cannot write {}: {e}", out.display())))
}

/// The spread of a bracket: addresses in free blocks over time under every reading (a grey
/// band from the lowest to the highest), with a few readings drawn as lines (worst, as
/// written, best) and each one's first failed start marked.
#[derive(Debug, Clone)]
pub struct SpreadChart {
    /// Title.
    pub title: String,
    /// Subtitle: the verdict and the assumptions the readings share.
    pub subtitle: String,
    /// Run length.
    pub duration_ms: u64,
    /// Clock of t = 0.
    pub clock: Clock,
    /// Every reading's (time, addresses in free blocks) step function.
    pub all: Vec<Vec<(u64, u64)>>,
    /// The readings drawn as lines: a label (`ROLES: READING`, the roles `worst`, `as written`
    /// or `best`, which pick the colour), the index into `all`, its first failed start.
    pub shown: Vec<(String, usize, Option<u64>)>,
}

/// Column minima of a step function over `n` columns of `[0, duration)`; NaN where no row.
fn column_minima(s: &[(u64, u64)], duration_ms: u64, n: usize) -> Vec<f64> {
    let mut cols = Columns::starting_at(0, duration_ms.max(1), n, 1, f64::NEG_INFINITY);
    for &(t, v) in s {
        cols.set(t, &[-(v as f64)]);
    }
    cols.finish();
    cols.levels[0]
        .iter()
        .map(|v| if v.is_finite() { -v } else { f64::NAN })
        .collect()
}

/// Draws a bracket's spread as a PNG.
pub fn draw_spread(c: &SpreadChart, out: &Path) -> Result<(), ChartError> {
    register_font();
    let root = BitMapBackend::new(out, (1600, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(de)?;
    let body = titled(&root, &c.title, &c.subtitle)?;
    let (w, _) = body.dim_in_pixel();
    let (main, legend) = body.split_horizontally(w - 420);
    let y_max = c
        .all
        .iter()
        .flat_map(|s| s.iter().map(|p| p.1))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.08;
    let build = |x_max: f64| {
        ChartBuilder::on(&main)
            .margin(15)
            .x_label_area_size(62)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(de)
    };
    let (px, py) = build(1.0)?.plotting_area().get_pixel_range();
    let n = (px.end - px.start).max(1) as usize;
    let mut chart = build(n as f64)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("addresses in free blocks")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .axis_desc_style(font(20))
        .label_style(font(16))
        .draw()
        .map_err(de)?;
    let minima: Vec<Vec<f64>> = c
        .all
        .iter()
        .map(|s| column_minima(s, c.duration_ms, n))
        .collect();
    // The band: per column, the lowest and the highest reading.
    let band = RGBColor(215, 215, 215);
    for i in 0..n {
        let vals = minima.iter().map(|m| m[i]).filter(|v| !v.is_nan());
        let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if lo.is_finite() {
            let x = i as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, lo), (x + 1.0, hi.max(lo + y_max / 400.0))],
                    band.filled(),
                )))
                .map_err(de)?;
        }
    }
    let x_of = |t: u64| t as f64 / c.duration_ms.max(1) as f64 * n as f64;
    for (k, (label, idx, fail)) in c.shown.iter().enumerate() {
        // The colour says the role: worst red, as written blue, best green.
        let color = if label.starts_with("worst") {
            MARKER_RED
        } else if label.starts_with("as written") {
            RGBColor(31, 119, 180)
        } else if label.starts_with("best") {
            RGBColor(44, 160, 44)
        } else {
            PALETTE[k % PALETTE.len()]
        };
        let Some(m) = minima.get(*idx) else { continue };
        let pts: Vec<(f64, f64)> = (0..n)
            .filter(|&i| !m[i].is_nan())
            .flat_map(|i| [(i as f64, m[i]), (i as f64 + 1.0, m[i])])
            .collect();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(3)))
            .map_err(de)?;
        if let Some(t) = fail {
            // The first failed start: a vertical line in the reading's colour, an X on the axis.
            let x = x_of(*t).min(n as f64 - 0.5);
            chart
                .draw_series(LineSeries::new(
                    [(x, 0.0), (x, y_max)],
                    color.stroke_width(1),
                ))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Cross::new(
                    (x, y_max / 60.0),
                    9,
                    color.stroke_width(3),
                )))
                .map_err(de)?;
        }
        let y = 60 + 74 * k as i32;
        let (tag, reading) = label.split_once(": ").unwrap_or((label.as_str(), ""));
        legend
            .draw(&Rectangle::new([(10, y + 6), (40, y + 12)], color.filled()))
            .map_err(de)?;
        legend
            .draw(&Text::new(tag.to_string(), (50, y), font(17)))
            .map_err(de)?;
        legend
            .draw(&Text::new(clip(reading, 48), (50, y + 20), font(14)))
            .map_err(de)?;
        let what = match fail {
            Some(t) => {
                let at = c.clock.fmt(*t);
                let at = at.split_once('T').map_or(at.as_str(), |x| x.1);
                format!("X: first failed start {}", at.trim_end_matches('Z'))
            }
            None => "never fails".to_string(),
        };
        legend
            .draw(&Text::new(what, (50, y + 38), font(14).color(&color)))
            .map_err(de)?;
    }
    let y = 60 + 74 * c.shown.len() as i32;
    legend
        .draw(&Rectangle::new([(10, y), (40, y + 18)], band.filled()))
        .map_err(de)?;
    legend
        .draw(&Text::new(
            format!("range of all {} readings", c.all.len()),
            (50, y),
            font(16),
        ))
        .map_err(de)?;
    legend
        .draw(&Text::new("reading", (10, 24), font(19)))
        .map_err(de)?;
    draw_run_axis(
        &root,
        &px,
        py.end,
        c.duration_ms,
        c.clock,
        "time since start (h:mm)",
    )?;
    root.present()
        .map_err(|e| err(format!("cannot write {}: {e}", out.display())))
}
