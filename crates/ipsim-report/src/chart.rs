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
        .find(|&s| range_ms / s <= 12)
        .unwrap_or(604_800_000 * ((range_ms / 604_800_000 / 12).max(1)))
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
const JOB: RGBColor = RGBColor(140, 60, 160);
const PALETTE: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 140),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
];

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
    let text = std::fs::read_to_string(&rp)
        .map_err(|e| err(format!("cannot read {}: {e}", rp.display())))?;
    let report: Report =
        serde_json::from_str(&text).map_err(|e| err(format!("{}: {e}", rp.display())))?;
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
    for (i, sn) in report.subnets.iter().enumerate() {
        let name = if report.subnets.len() == 1 {
            format!("occupancy.{}", opts.format.ext())
        } else {
            format!(
                "occupancy-{}.{}",
                ipsim_core::file_stem(&sn.name),
                opts.format.ext()
            )
        };
        out.push(render_subnet(report, i, source, &dir.join(name), opts)?);
    }
    Ok(out)
}

/// The time range a chart of a run of `duration_ms` shows.
fn time_range(duration_ms: u64, opts: &ChartOptions) -> Result<(u64, u64), ChartError> {
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

/// The widest and tallest chart drawn, in pixels (plotters panics near 65536; `ipsim chart`
/// refuses more); a larger [`ChartOptions`] size is cut to it.
pub const MAX_SIDE: u32 = 20_000;

fn image_size(opts: &ChartOptions) -> (u32, u32) {
    (
        opts.width.clamp(400, MAX_SIDE),
        opts.height.clamp(300, MAX_SIDE),
    )
}

/// The areas of a chart: title, the two panels, and the legend beside each.
struct Panels<DB: DrawingBackend> {
    title: DrawingArea<DB, Shift>,
    top: DrawingArea<DB, Shift>,
    bottom: DrawingArea<DB, Shift>,
    legend_top: DrawingArea<DB, Shift>,
    legend_bottom: DrawingArea<DB, Shift>,
}

/// Height of a chart's title area: title, verdict, and the assumptions subtitle.
const TITLE_H: u32 = 100;

fn panels<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> Panels<DB> {
    let (w, h) = root.dim_in_pixel();
    let (title, body) = root.split_vertically(TITLE_H);
    let legend_w = 290.min(w / 4);
    let (plots, legend) = body.split_horizontally(w - legend_w);
    let (top, bottom) = plots.split_vertically((h - TITLE_H) * 62 / 100);
    let (legend_top, legend_bottom) = legend.split_vertically((h - TITLE_H) * 62 / 100);
    Panels {
        title,
        top,
        bottom,
        legend_top,
        legend_bottom,
    }
}

/// A panel's plot: its width in pixels is the number of columns.
fn plot_builder<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x_max: f64,
    y_max: f64,
) -> Result<ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, ChartError> {
    ChartBuilder::on(area)
        .margin(10)
        .margin_right(20)
        .x_label_area_size(62)
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
        legend_top,
        legend_bottom,
    } = panels(&root);
    title_area
        .draw(&Text::new(
            format!("{}: subnet {} {}", report.scenario, sn.name, sn.cidr),
            (20, 12),
            font(30),
        ))
        .map_err(de)?;
    let (verdict, vcolor) = match (
        &sn.figures.first_exhaustion,
        sn.figures.saturation_windows.first(),
    ) {
        (Some(e), _) => (
            format!(
                "ran out of addresses at {} ({} failed starts)",
                e.time, sn.figures.failed_attempts
            ),
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
    title_area
        .draw(&Text::new(verdict, (20, 46), font(20).color(&vcolor)))
        .map_err(de)?;
    title_area
        .draw(&Text::new(
            crate::assumptions::subtitle(&report.assumptions),
            (20, 74),
            font(16).color(&SUBTITLE_GREY),
        ))
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
    let occ = source.occupancy(i, &sn.name, &sweep)?;
    // A subnet used below 30% would leave the data a sliver under the capacity line: scale the
    // axis to the data and say in words where the capacity is.
    let stack_max = occ[3].iter().copied().fold(0.0, f64::max);
    let zoomed = stack_max < 0.3 * usable;
    let y_max = if zoomed {
        (stack_max * 1.3).max(16.0)
    } else {
        usable * 1.08
    };
    // Both panels: y grid and integer labels; the time axis is drawn by `draw_time_axis`.
    let mesh = |c: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
                desc: &str| {
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(desc)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .axis_desc_style(font(20))
            .label_style(font(16))
            .draw()
            .map_err(de)
    };
    let mut chart = builder(&top, n, y_max)?;
    mesh(&mut chart, "addresses")?;
    let x_of = |t: u64| ((t.saturating_sub(from)) as f64 / (to - from) as f64) * n_cols as f64;

    // Failure windows first, under the data: a shaded band each.
    let windows: Vec<_> = sn
        .figures
        .failure_windows
        .iter()
        .filter(|fw| fw.end_ms > from && fw.start_ms < to)
        .collect();
    // Failure windows, and a connector's saturation windows, as shaded bands under the data.
    let saturations: Vec<_> = sn
        .figures
        .saturation_windows
        .iter()
        .filter(|w| w.end_ms > from && w.start_ms < to)
        .collect();
    {
        let area = chart.plotting_area();
        for (ws, color) in [(&windows, BAND), (&saturations, SAT_BAND)] {
            for w in ws.iter() {
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
        let area = chart.plotting_area();
        area.draw(&Text::new(
            format!("usable {}", sn.usable),
            (n - 110.0, usable + y_max * 0.03),
            font(16),
        ))
        .map_err(de)?;
    }
    let area = chart.plotting_area();
    // A marker at the start of each window, labelled with its clock times where there is room.
    for (ws, color, verb) in [
        (&saturations, SAT_MARKER, "saturated"),
        (&windows, MARKER_RED, "fails"),
    ] {
        let mut last_label = f64::NEG_INFINITY;
        for w in ws.iter().filter(|w| w.start_ms >= from) {
            let a = x_of(w.start_ms);
            // Kept inside the plot, so a window at the very start is not hidden by the axis.
            let a0 = (a - 1.0).max(1.0);
            area.draw(&Rectangle::new(
                [(a0, 0.0), (a0 + 3.0, y_max)],
                color.filled(),
            ))
            .map_err(de)?;
            if a - last_label > 330.0 && a < n - 420.0 {
                let end = if w.open {
                    "end".to_string()
                } else {
                    short_time(clock, w.end_ms, long)
                };
                let label = format!(
                    "{} {verb} {}\u{2013}{} ({})",
                    w.workload,
                    short_time(clock, w.start_ms, long),
                    end,
                    span(w.duration_ms)
                );
                area.draw(&Text::new(
                    label,
                    (a + 5.0, y_max * 0.985),
                    font(16).color(&color),
                ))
                .map_err(de)?;
                last_label = a;
            }
        }
    }
    // Swaps and job starts on the time axis.
    for m in report
        .markers
        .iter()
        .filter(|m| m.subnet == sn.name && m.time_ms >= from && m.time_ms < to)
    {
        let a = x_of(m.time_ms);
        let color = if m.kind == "swap" { SWAP } else { JOB };
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
    let step = tick_step(to - from);
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
        &desc,
    )?;

    // Legend of the occupancy panel, outside the data.
    let mut y = 30;
    let entry = |area: &DrawingArea<DB, Shift>,
                 y: i32,
                 color: RGBColor,
                 label: &str,
                 line: bool|
     -> Result<(), ChartError> {
        if line {
            area.draw(&Rectangle::new([(10, y + 7), (40, y + 10)], color.filled()))
                .map_err(de)?;
        } else {
            area.draw(&Rectangle::new([(10, y), (40, y + 16)], color.filled()))
                .map_err(de)?;
        }
        area.draw(&Text::new(label.to_string(), (50, y), font(17)))
            .map_err(de)
    };
    legend_top
        .draw(&Text::new("addresses", (10, y - 24), font(19)))
        .map_err(de)?;
    for k in (0..4).rev() {
        entry(&legend_top, y, colors[k], names[k], false)?;
        y += 26;
    }
    if !zoomed {
        entry(
            &legend_top,
            y,
            BLACK,
            &format!("usable ({})", sn.usable),
            true,
        )?;
        y += 26;
    }
    if sn.reservable < sn.usable && sn.reservable > 0 && !zoomed {
        entry(
            &legend_top,
            y,
            RGBColor(90, 90, 90),
            &format!("static + reservable ({})", sn.reservable + sn.r#static),
            true,
        )?;
        y += 26;
    }
    entry(&legend_top, y, MARKER_RED, "first failed start", false)?;
    y += 26;
    entry(&legend_top, y, BAND, "failure window", false)?;
    y += 26;
    if !sn.figures.saturation_windows.is_empty() {
        entry(&legend_top, y, SAT_BAND, "connector saturated", false)?;
        y += 26;
    }
    entry(&legend_top, y, SWAP, "revision swap (on axis)", false)?;
    y += 26;
    entry(&legend_top, y, JOB, "job execution start", false)?;
    y += 40;
    let f = &sn.figures;
    for line in [
        format!("peak held {}", f.peak_held),
        format!(
            "peak reserved {} ({} blocks)",
            f.peak_reserved, f.peak_reserved_blocks
        ),
        format!("min free {} ({} blocks)", f.min_free, f.min_free_blocks),
        format!("failed starts {}", f.failed_attempts),
    ] {
        legend_top
            .draw(&Text::new(line, (10, y), font(16)))
            .map_err(de)?;
        y += 22;
    }

    // --- workload panel: who held the addresses ---
    let wls = by_peak(report, &sn.name);
    let order = stack_order(&wls, opts.top_n);
    let has_other = wls.len() > order.len();
    let wc = source.workloads(i, &sn.name, &order, &sweep)?;
    let top_level = wc
        .last()
        .map_or(0.0, |l| l.iter().copied().fold(0.0, f64::max));
    let wy = (top_level * 1.1).max(4.0);
    let mut wchart = builder(&bottom, n, wy)?;
    let (_, wpy) = wchart.plotting_area().get_pixel_range();
    mesh(&mut wchart, "held by workload")?;
    draw_time_axis(
        &root,
        &px,
        wpy.end,
        &ticks,
        &x_px,
        |t| tick_label(clock, t, long),
        &desc,
    )?;
    let n_levels = order.len() + usize::from(has_other);
    for k in (0..n_levels).rev() {
        let pts = stack_polygon(&wc, k);
        wchart
            .draw_series(std::iter::once(Polygon::new(
                pts,
                PALETTE[k % PALETTE.len()].filled(),
            )))
            .map_err(de)?;
    }
    for fw in &windows {
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
    let mut y = 30;
    legend_bottom
        .draw(&Text::new(
            "held (in use + retained)",
            (10, y - 24),
            font(19),
        ))
        .map_err(de)?;
    for (k, w) in wls.iter().take(opts.top_n).enumerate() {
        entry(
            &legend_bottom,
            y,
            PALETTE[k % PALETTE.len()],
            &format!("{} ({})", clip(&w.name, 18), w.peak_held),
            false,
        )?;
        y += 26;
    }
    if has_other {
        entry(
            &legend_bottom,
            y,
            PALETTE[order.len() % PALETTE.len()],
            &format!("other ({} workloads)", wls.len() - order.len()),
            false,
        )?;
    }

    Ok(Layout {
        path: out.to_path_buf(),
        plot_x: px,
        plot_y: py,
        from_ms: from,
        to_ms: to,
    })
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

/// The workloads the workload panel stacks on their own, bottom first; the rest are "other".
fn stack_order(by_peak: &[&crate::WorkloadReport], top_n: usize) -> Vec<String> {
    by_peak.iter().take(top_n).map(|w| w.name.clone()).collect()
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

/// Tick marks and labels under a panel, and the axis title.
fn draw_time_axis<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    px: &std::ops::Range<i32>,
    y0: i32,
    ticks: &[u64],
    x_px: &dyn Fn(u64) -> i32,
    label: impl Fn(u64) -> String,
    desc: &str,
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
    let half = (desc.chars().count() as i32) * 5;
    area.draw(&Text::new(
        desc.to_string(),
        ((px.start + px.end) / 2 - half, y0 + 34),
        font(19),
    ))
    .map_err(de)
}

fn short_time(clock: Clock, t: u64, long: bool) -> String {
    let s = tick_label(clock, t, long);
    if t % 60_000 != 0 { clock.fmt(t) } else { s }
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
    let mut chart = ChartBuilder::on(&main)
        .margin(20)
        .x_label_area_size(70)
        .y_label_area_size(90)
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
    // Categorical labels at cell centres, thinned to about 12 per axis.
    let (step_x, step_y) = ((nx / 12).max(1), (ny / 12).max(1));
    for (i, v) in xs.iter().enumerate().filter(|(i, _)| i % step_x == 0) {
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        let l = v.clone();
        let half = (l.chars().count() as i32) * 9 / 2;
        root.draw(&Text::new(l, (px - half, py + 8), font(16)))
            .map_err(de)?;
    }
    for (i, v) in ys.iter().enumerate().filter(|(i, _)| i % step_y == 0) {
        let (px, py) = chart.backend_coord(&(0.0, i as f64 + 0.5));
        let l = v.clone();
        let wdt = (l.chars().count() as i32) * 9;
        root.draw(&Text::new(l, (px - wdt - 10, py - 8), font(16)))
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
    let long = c.duration_ms > 2 * 86_400_000;
    let mut chart = ChartBuilder::on(&main)
        .margin(15)
        .x_label_area_size(62)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..1f64, 0f64..y_max)
        .map_err(de)?;
    let (px, py) = chart.plotting_area().get_pixel_range();
    let n = (px.end - px.start).max(1) as usize;
    chart = ChartBuilder::on(&main)
        .margin(15)
        .x_label_area_size(62)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..n as f64, 0f64..y_max)
        .map_err(de)?;
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
    for (k, (name, s)) in c.series.iter().enumerate() {
        // Column minima: negate, take the maximum.
        let mut cols = Columns::starting_at(0, c.duration_ms.max(1), n, 1, f64::NEG_INFINITY);
        for &(t, v) in s {
            cols.set(t, &[-(v as f64)]);
        }
        cols.finish();
        let color = PALETTE[k % PALETTE.len()];
        let pts: Vec<(f64, f64)> = (0..n)
            .filter(|&i| cols.levels[0][i].is_finite())
            .flat_map(|i| {
                let v = -cols.levels[0][i];
                [(i as f64, v), (i as f64 + 1.0, v)]
            })
            .collect();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(3)))
            .map_err(de)?;
        legend
            .draw(&Rectangle::new(
                [(10, 60 + 28 * k as i32), (40, 66 + 28 * k as i32)],
                color.filled(),
            ))
            .map_err(de)?;
        legend
            .draw(&Text::new(
                clip(name, 26),
                (50, 54 + 28 * k as i32),
                font(17),
            ))
            .map_err(de)?;
    }
    legend
        .draw(&Text::new("variant", (10, 24), font(19)))
        .map_err(de)?;
    let step = tick_step(c.duration_ms.max(1));
    let ticks: Vec<u64> = (0..=c.duration_ms / step).map(|k| k * step).collect();
    let x_px = |t: u64| {
        px.start
            + ((t as f64 / c.duration_ms.max(1) as f64) * f64::from(px.end - px.start)).round()
                as i32
    };
    let desc = if c.clock.start.is_some() {
        "time (UTC)"
    } else {
        "time since start"
    };
    draw_time_axis(
        &root,
        &px,
        py.end,
        &ticks,
        &x_px,
        |t| tick_label(c.clock, t, long),
        desc,
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
    let long = c.duration_ms > 2 * 86_400_000;
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
    let step = tick_step(c.duration_ms.max(1));
    let ticks: Vec<u64> = (0..=c.duration_ms / step).map(|k| k * step).collect();
    let x_px = |t: u64| {
        px.start
            + ((t as f64 / c.duration_ms.max(1) as f64) * f64::from(px.end - px.start)).round()
                as i32
    };
    let desc = if c.clock.start.is_some() {
        "time (UTC)"
    } else {
        "time since start (h:mm)"
    };
    draw_time_axis(
        &root,
        &px,
        py.end,
        &ticks,
        &x_px,
        |t| tick_label(c.clock, t, long),
        desc,
    )?;
    root.present()
        .map_err(|e| err(format!("cannot write {}: {e}", out.display())))
}
