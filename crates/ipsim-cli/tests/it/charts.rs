//! Charts as a reader sees them: every bundled scenario draws, the chart `ipsim run` draws is
//! the one `ipsim chart DIR` redraws, and the failure marker of the tight revision swap is
//! where the swap is.

use ipsim_report::chart::{ChartOptions, Format, MARKER_RED, render_dir};

use std::path::Path;

use crate::{ipsim, repo, text, tmp};

fn red_in_column(img: &image::RgbImage, x: i32, ys: std::ops::Range<i32>) -> usize {
    let red = image::Rgb([MARKER_RED.0, MARKER_RED.1, MARKER_RED.2]);
    ys.filter(|&y| img.get_pixel(x as u32, y as u32) == &red)
        .count()
}

#[test]
fn the_tight_swap_marker_is_at_the_swap_time() {
    let d = tmp("chart-tight");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("occupancy.png"));
    let img = image::open(d.join("occupancy.png")).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1600, 1100));
    // Redraw to learn the layout (same options, same picture).
    let layout = render_dir(&d, &ChartOptions::default()).unwrap().remove(0);
    assert_eq!(image::open(d.join("occupancy.png")).unwrap().to_rgb8(), img);
    let swap_x = layout.x_of(10 * 60_000);
    let plot_h = layout.plot_y.end - layout.plot_y.start;
    let at_swap = (swap_x - 2..=swap_x + 2)
        .map(|x| red_in_column(&img, x, layout.plot_y.clone()))
        .max()
        .unwrap();
    assert!(
        at_swap as i32 > plot_h * 9 / 10,
        "marker at x={swap_x}: {at_swap} red pixels of {plot_h}"
    );
    // Nowhere else in the plot: not at 5 min, not at 45 min.
    for t in [5 * 60_000, 45 * 60_000] {
        assert_eq!(
            red_in_column(&img, layout.x_of(t), layout.plot_y.clone()),
            0,
            "red at {t} ms"
        );
    }
    // The band (lighter red) covers 10:00-30:00 above the data; after 30:00 it is gone.
    let band_y = layout.plot_y.start + 5;
    let reddish = |t: u64| {
        let p = img.get_pixel(layout.x_of(t) as u32, band_y as u32);
        i32::from(p[0]) - i32::from(p[1]) > 20
    };
    assert!(reddish(20 * 60_000));
    assert!(!reddish(40 * 60_000));
}

#[test]
fn every_bundled_scenario_draws() {
    let mut n = 0;
    for e in std::fs::read_dir(repo().join("scenarios")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let d = tmp(&format!(
            "chart-{}",
            p.file_stem().unwrap().to_string_lossy()
        ));
        let o = ipsim(&["run", p.to_str().unwrap(), "--out", d.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            p.display(),
            text(&o.stderr)
        );
        let img =
            image::open(d.join("occupancy.png")).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!((img.width(), img.height()), (1600, 1100));
        assert_redraws_the_same(&d, false);
        n += 1;
    }
    assert!(n >= 8);
}

#[test]
fn chart_redraws_a_zoomed_range_and_svg() {
    let d = tmp("chart-zoom");
    let o = ipsim(&[
        "run",
        "scenarios/surge.json",
        "--out",
        d.to_str().unwrap(),
        "--no-chart",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!d.join("occupancy.png").exists());
    let o = ipsim(&[
        "chart",
        d.to_str().unwrap(),
        "--from",
        "2025-11-28T08:30:00Z",
        "--to",
        "1h",
        "--svg",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let svg = std::fs::read_to_string(d.join("occupancy.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("checkout fails"));
    let l = render_dir(
        &d,
        &ChartOptions {
            from_ms: Some(30 * 60_000),
            to_ms: Some(3_600_000),
            format: Format::Png,
            ..ChartOptions::default()
        },
    )
    .unwrap()
    .remove(0);
    assert_eq!((l.from_ms, l.to_ms), (30 * 60_000, 3_600_000));
    let o = ipsim(&["chart", d.to_str().unwrap(), "--from", "1h", "--to", "30m"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--from must be before --to"));
    let o = ipsim(&["chart", d.to_str().unwrap(), "--from", "noon"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("'noon' for '--from <FROM>': \"noon\" is neither an offset"));
}

/// A 30-day run with one 1-minute failure window: the window is still visible at its pixel
/// (that a short spike survives downsampling is `chart::tests::columns_keep_the_maximum_of_a_short_spike`).
#[test]
fn a_one_minute_window_in_a_30_day_run_stays_visible() {
    let d = tmp("chart-30d");
    let sc = d.join("long.json");
    std::fs::write(&sc, r#"{"name": "thirty-days", "description": "30 days, one 1-minute window", "duration": "30d",
      "subnets": [{"name": "main", "cidr": "10.0.0.0/24"}],
      "workloads": [
        {"name": "base", "subnet": "main", "demand": {"type": "constant", "value": 100}},
        {"name": "blip", "subnet": "main", "demand": {"type": "step", "points": [["0s", 0], ["17d6h", 12], ["17d6h1m", 0]]}}
      ]}"#).unwrap();
    let o = ipsim(&["run", sc.to_str().unwrap(), "--out", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["failure_windows"][0]["duration_ms"], 60_000);
    let img = image::open(d.join("occupancy.png")).unwrap().to_rgb8();
    let layout = render_dir(&d, &ChartOptions::default()).unwrap().remove(0);
    let x = layout.x_of((17 * 24 + 6) * 3_600_000);
    let red = (x - 2..=x + 2)
        .map(|x| red_in_column(&img, x, layout.plot_y.clone()))
        .max()
        .unwrap();
    assert!(red as i32 > (layout.plot_y.end - layout.plot_y.start) * 9 / 10);
}

/// Several subnets: one chart each, named after the subnet.
#[test]
fn one_chart_per_subnet() {
    let d = tmp("chart-two");
    let sc = d.join("two.json");
    std::fs::write(&sc, r#"{"name": "two", "description": "two subnets", "duration": "1h",
      "subnets": [{"name": "run-a", "cidr": "10.0.0.0/26"}, {"name": "run.b", "cidr": "10.1.0.0/24"}],
      "workloads": [
        {"name": "x", "subnet": "run-a", "demand": {"type": "constant", "value": 20}},
        {"name": "y", "subnet": "run.b", "demand": {"type": "constant", "value": 5}}
      ]}"#).unwrap();
    let o = ipsim(&["run", sc.to_str().unwrap(), "--out", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    for f in ["occupancy-run-a.png", "occupancy-run_b.png"] {
        assert!(image::open(d.join(f)).is_ok(), "{f}");
    }
    assert!(!d.join("occupancy.png").exists());
}

/// The charts in `dir` (`ipsim run` drew them from the run's own rows) are, byte for byte,
/// what `ipsim chart DIR` draws from the saved files.
fn assert_redraws_the_same(dir: &Path, svg: bool) {
    let charts = || -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "png" || x == "svg"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let drawn = charts();
    assert!(!drawn.is_empty(), "{}: no chart", dir.display());
    for (name, _) in &drawn {
        std::fs::remove_file(dir.join(name)).unwrap();
    }
    let mut args = vec!["chart", dir.to_str().unwrap()];
    if svg {
        args.push("--svg");
    }
    let o = ipsim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let redrawn = charts();
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|c| c.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&drawn), names(&redrawn), "{}", dir.display());
    for ((name, a), (_, b)) in drawn.iter().zip(&redrawn) {
        assert!(a == b, "{}: {name} differs from its redraw", dir.display());
    }
}

/// `ipsim run` draws from the run's own rows, `ipsim chart DIR` from the saved files: the two
/// sources give the same pictures, byte for byte, PNG and SVG, over several subnets (every
/// bundled scenario's PNG is compared in `every_bundled_scenario_draws`).
#[test]
fn the_run_draws_what_chart_redraws_from_the_files() {
    let d = tmp("chart-same");
    let two = d.join("two.json");
    std::fs::write(&two, r#"{"name": "two", "description": "two subnets, many workloads", "duration": "6h",
      "subnets": [{"name": "a", "cidr": "10.0.0.0/24"}, {"name": "b", "cidr": "10.1.0.0/25"}],
      "workloads": [
        {"name": "w1", "subnet": "a", "demand": {"type": "diurnal", "mean": 6, "amplitude": 4, "period": "2h"}},
        {"name": "w2", "subnet": "a", "demand": {"type": "diurnal", "mean": 5, "amplitude": 4, "period": "3h", "phase": "40m"}},
        {"name": "w3", "subnet": "a", "demand": {"type": "step", "points": [["0s", 2], ["1h", 9], ["1h1s", 1]]}},
        {"name": "w4", "subnet": "b", "demand": {"type": "constant", "value": 3}},
        {"name": "w5", "subnet": "b", "demand": {"type": "diurnal", "mean": 4, "amplitude": 3, "period": "90m"}}
      ]}"#).unwrap();
    let surge = repo().join("scenarios/surge.json");
    for (sc, svg) in [(&two, false), (&two, true), (&surge, true)] {
        let out = d.join(format!(
            "{}-{svg}",
            sc.file_stem().unwrap().to_string_lossy()
        ));
        let mut args = vec!["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()];
        if svg {
            args.push("--svg");
        }
        let o = ipsim(&args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_redraws_the_same(&out, svg);
    }
    for f in ["occupancy-a.png", "occupancy-b.png"] {
        assert!(d.join("two-false").join(f).exists(), "{f}");
    }
}

/// A scenario of 30 services that fail over and over on a /23, and a job: the case where
/// charts used to turn into a barcode with repeating colours.
fn thirty_workloads(dir: &Path) -> std::path::PathBuf {
    let mut wls = Vec::new();
    for i in 0..30 {
        let mut pts = vec![serde_json::json!(["0s", 2 + i % 5])];
        for k in 1..12 {
            pts.push(serde_json::json!([
                format!("{}m", k * 20 + i % 7),
                2 + i % 5 + (k * 7 + i * 3) % 9
            ]));
        }
        let mut w = serde_json::json!({
            "name": format!("svc-{i:02}"), "subnet": "shared",
            "demand": { "type": "step", "points": pts }
        });
        if i % 5 == 0 {
            w["swaps"] = serde_json::json!([{ "at": format!("{}m", 45 + i * 5) }]);
        }
        wls.push(w);
    }
    wls.push(serde_json::json!({
        "name": "nightly", "subnet": "shared", "kind": "job",
        "executions": [{ "start": "30m", "tasks": 200, "parallelism": 60, "task_duration": "3m" }]
    }));
    let s = serde_json::json!({
        "name": "thirty", "description": "30 services and a job on a /23", "duration": "4h",
        "subnets": [{ "name": "shared", "cidr": "10.8.0.0/23" }],
        "workloads": wls
    });
    let p = dir.join("thirty.json");
    std::fs::write(&p, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    p
}

/// The workload panel uses none of the state colours (blue in use, orange retained), and
/// every colour it draws is one of the legend's: 8 workloads and "other", none repeated.
#[test]
fn thirty_workloads_get_colours_of_their_own_and_a_legend_that_fits() {
    let d = tmp("chart-thirty");
    let scenario = thirty_workloads(&d);
    let out = d.join("out");
    let o = ipsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("and 26 more workloads"), "{stdout}");
    assert!(
        stdout.contains("failure windows, longest first:"),
        "{stdout}"
    );
    let img = image::open(out.join("occupancy.png")).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    // The workload and instances panels: the lower 56% of the body.
    let y0 = 100 + (h - 100) * 44 / 100;
    let count = |rgb: [u8; 3], x0: u32, x1: u32| {
        (y0..h)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == rgb)
            .count()
    };
    let legend_x = w - 290;
    for state in [[31, 119, 180], [255, 152, 48], [166, 216, 130]] {
        assert_eq!(
            count(state, 0, w),
            0,
            "state colour {state:?} in the workload panel"
        );
    }
    // Viridis' darkest colour (the biggest workload) and the grey of "other" are drawn, and
    // each appears in the legend too.
    for c in [[0x44, 0x01, 0x54], [120, 120, 120]] {
        assert!(count(c, 0, legend_x) > 500, "{c:?} not drawn");
        assert!(count(c, legend_x, w) > 100, "{c:?} not in the legend");
    }
    // The instances panel (the last 28% of the body) draws its three workloads short the
    // most in three viridis colours of their own, none in the grey of "other".
    let lines_y0 = 100 + (h - 100) * 72 / 100;
    let in_lines = |rgb: [u8; 3]| {
        (lines_y0..h)
            .flat_map(|y| (0..legend_x).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == rgb)
            .count()
    };
    let viridis = [
        [0x44, 0x01, 0x54],
        [0x1F, 0xA1, 0x87],
        [0x46, 0x33, 0x7E],
        [0x4A, 0xC1, 0x6D],
        [0x36, 0x5C, 0x8D],
        [0x9F, 0xDA, 0x3A],
        [0x27, 0x7F, 0x8E],
        [0xFD, 0xE7, 0x25],
    ];
    let drawn = viridis.iter().filter(|&&c| in_lines(c) > 30).count();
    assert_eq!(drawn, 3, "instance lines in {drawn} viridis colours");
    assert!(
        in_lines([120, 120, 120]) < 30,
        "an instance line in other's grey"
    );
    // Nothing is drawn in the last 3 pixel columns: no legend text runs off the image.
    let edge = (0..h)
        .flat_map(|y| (w - 3..w).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0 != [255, 255, 255])
        .count();
    assert_eq!(edge, 0, "something touches the right edge");
}

#[test]
fn chart_sizes_below_800x500_are_refused_and_800x500_draws() {
    let d = tmp("chart-small");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--out",
        d.to_str().unwrap(),
        "--no-chart",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let dir = d.to_str().unwrap();
    let o = ipsim(&["chart", dir, "--width", "799"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("799 is not in 800..=20000"),
        "{}",
        text(&o.stderr)
    );
    let o = ipsim(&["chart", dir, "--height", "100"]);
    assert_eq!(o.status.code(), Some(2));
    let o = ipsim(&["chart", dir, "--width", "800", "--height", "500"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let img = image::open(d.join("occupancy.png")).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (800, 500));
    let edge = (0..500)
        .flat_map(|y| (797..800).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0 != [255, 255, 255])
        .count();
    assert_eq!(edge, 0, "text runs off the right edge at 800x500");
}

#[test]
fn chart_out_leaves_the_runs_chart_and_a_rerun_removes_only_charts_it_no_longer_draws() {
    let d = tmp("chart-out");
    let dir = d.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut a = vec!["run", "scenarios/revision-swap-tight.json", "--out", dir];
        a.extend_from_slice(extra);
        let o = ipsim(&a);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    };
    run(&[]);
    let own = std::fs::read(d.join("occupancy.png")).unwrap();
    let zoom = d.join("zoom.png");
    let o = ipsim(&[
        "chart",
        dir,
        "--from",
        "5m",
        "--to",
        "35m",
        "--out",
        zoom.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(d.join("occupancy.png")).unwrap(),
        own,
        "the run's chart changed"
    );
    assert_ne!(std::fs::read(&zoom).unwrap(), own);
    let o = ipsim(&[
        "chart",
        dir,
        "--out",
        d.join("occupancy.png").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("the run's own chart"),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(d.join("notes.png"), b"mine").unwrap();
    run(&["--no-chart"]);
    assert!(
        !d.join("occupancy.png").exists(),
        "a chart of the earlier run is left"
    );
    assert!(
        zoom.exists() && d.join("notes.png").exists(),
        "removed a file it did not draw"
    );
}

/// The connector subnet holds only connector VMs: its legend shows "in use" and not the
/// retained or idle states or a failure marker, which nothing draws.
#[test]
fn the_legend_lists_only_what_is_drawn() {
    let d = tmp("chart-legend");
    let o = ipsim(&[
        "run",
        "scenarios/connector.json",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let img = image::open(d.join("occupancy.png")).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let legend = |rgb: [u8; 3]| {
        (100..100 + (h - 100) * 44 / 100)
            .flat_map(|y| (w - 290..w).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == rgb)
            .count()
    };
    assert!(
        legend([31, 119, 180]) > 100,
        "in use missing from the legend"
    );
    // (The static grey is left out: antialiased text has it too.)
    // Nor the free-blocks line: the connector's /28 has no block for Cloud Run to reserve.
    for absent in [[255, 152, 48], [166, 216, 130], [220, 0, 0], FREE] {
        assert_eq!(legend(absent), 0, "{absent:?} in the legend but not drawn");
    }
}

/// The free /28 blocks line's colour.
const FREE: [u8; 3] = [150, 60, 0];

/// Pixels of column `x`, rows `ys`, that `is` holds for.
fn count_in(
    img: &image::RgbImage,
    x: i32,
    ys: std::ops::Range<i32>,
    is: impl Fn([u8; 3]) -> bool,
) -> usize {
    ys.filter(|&y| is(img.get_pixel(x as u32, y as u32).0))
        .count()
}

/// The pixel row of `v` on an axis from 0 to `top` drawn over `ys`.
fn row_of(ys: &std::ops::Range<i32>, v: f64, top: f64) -> i32 {
    ys.end - ((v / top) * f64::from(ys.end - ys.start)).round() as i32
}

/// The light shade between a workload's running and wanted lines (its colour over white).
fn shaded(p: [u8; 3]) -> bool {
    p != [255, 255, 255] && p[0] > 150 && p[2] > p[1] + 10
}

#[test]
fn the_free_blocks_line_falls_to_zero_while_the_tight_swap_fails() {
    let d = tmp("chart-free");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let img = image::open(d.join("occupancy.png")).unwrap().to_rgb8();
    let layout = render_dir(&d, &ChartOptions::default()).unwrap().remove(0);
    // The address axis runs to usable x 1.08; one free block (16 addresses) before the swap,
    // none from 09:10 to 09:30, one again after.
    let top = 252.0 * 1.08;
    let near = |v: f64| {
        let y = row_of(&layout.plot_y, v, top);
        y - 3..y + 4
    };
    let free = |p: [u8; 3]| p == FREE;
    for (min, blocks) in [(5, 1.0), (20, 0.0), (45, 1.0)] {
        let x = layout.x_of(min * 60_000);
        assert!(
            count_in(&img, x, near(blocks * 16.0), free) >= 2,
            "no free-blocks line at {blocks} blocks at minute {min}"
        );
        let other = 1.0 - blocks;
        assert_eq!(
            count_in(&img, x, near(other * 16.0), free),
            0,
            "free-blocks line at {other} blocks at minute {min}"
        );
    }
}

#[test]
fn the_instances_panel_shades_what_the_tight_swap_wanted_and_did_not_run() {
    let d = tmp("chart-lines");
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let img = image::open(d.join("occupancy.png")).unwrap().to_rgb8();
    let layout = render_dir(&d, &ChartOptions::default()).unwrap().remove(0);
    // api wants 100 throughout; 12 run from 09:10 to 09:30 (short by 88), 100 otherwise.
    // The axis runs to 110.
    let ys = layout.lines_y.clone();
    let (y12, y100) = (row_of(&ys, 12.0, 110.0), row_of(&ys, 100.0, 110.0));
    let x = layout.x_of(20 * 60_000);
    let shade = count_in(&img, x, y100 + 3..y12 - 3, shaded);
    assert!(
        shade as i32 > (y12 - y100) * 8 / 10,
        "{shade} shaded pixels between 100 and 12 at 09:20"
    );
    // The running line in api's colour (viridis' darkest) at 12.
    let api = |p: [u8; 3]| p == [0x44, 0x01, 0x54];
    assert!(count_in(&img, x, y12 - 3..y12 + 4, api) >= 2);
    for min in [5, 45] {
        assert_eq!(
            count_in(&img, layout.x_of(min * 60_000), ys.clone(), shaded),
            0,
            "shaded at minute {min}, when every wanted instance ran"
        );
    }
}

/// The connector's panel draws its throughput in Mbps: the capacity of its VMs (solid) against
/// its demand (dashed), the demand above the capacity shaded in the saturation colour from a
/// line where the saturation starts.
#[test]
fn the_connectors_throughput_is_drawn_in_mbps_against_its_capacity_with_the_saturation_shaded() {
    let d = tmp("connector-mbps");
    let o = ipsim(&[
        "run",
        "scenarios/connector.json",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let img = image::open(d.join("occupancy.png")).unwrap().to_rgb8();
    let layout = render_dir(&d, &ChartOptions::default()).unwrap().remove(0);
    // Demand 150, 450, 200, 1200, 900, 300 Mbps by the hour; 2, 5, 5, 10, 10, 10 VMs of
    // 100 Mbps. 03:00-04:00 the demand, 1,200, is above the 1,000 the VMs carry: shaded
    // between 1,000 and 1,200. The axis runs to 1,200 x 1.1.
    let ys = layout.lines_y.clone();
    let top = 1200.0 * 1.1;
    let (y1000, y1200) = (row_of(&ys, 1000.0, top), row_of(&ys, 1200.0, top));
    let hour = 3_600_000;
    let sat = |p: [u8; 3]| p == SAT_SHADE;
    let shade = count_in(&img, layout.x_of(hour * 7 / 2), y1200 + 3..y1000 - 2, sat);
    assert!(
        shade as i32 >= (y1000 - y1200) * 8 / 10,
        "{shade} shaded at 03:30 of {}",
        y1000 - y1200
    );
    // The saturation starts at 03:00: a line in the saturation colour the panel's height.
    let line = (-1..=1)
        .map(|dx| {
            count_in(&img, layout.x_of(3 * hour) + dx, ys.clone(), |p| {
                p == [110, 40, 170]
            })
        })
        .max()
        .unwrap();
    assert!(
        line as i32 > (ys.end - ys.start) * 8 / 10,
        "{line} at 03:00"
    );
    // Before it and after 04:00 the VMs carry it all: no shade (02:30: 200 of 500 Mbps,
    // 04:30: 900 of 1,000).
    for t in [hour * 5 / 2, hour * 9 / 2] {
        let n = count_in(&img, layout.x_of(t), ys.clone(), sat);
        assert_eq!(n, 0, "shaded at {t} ms");
    }
    // The dashed demand at 02:30 is at 200 Mbps, under the capacity's 500.
    let (y200, y500) = (row_of(&ys, 200.0, top), row_of(&ys, 500.0, top));
    let dark = |p: [u8; 3]| p == [0x44, 0x01, 0x54];
    let at = layout.x_of(hour * 5 / 2);
    let near = |y: i32| {
        (at - 6..=at + 6)
            .map(|x| count_in(&img, x, y - 2..y + 3, dark))
            .sum::<usize>()
    };
    assert!(
        near(y200) > 0 && near(y500) > 0,
        "no lines at 200 and 500 Mbps at 02:30"
    );
    // The axis says its unit; the legend names what the shade means.
    let o = ipsim(&["chart", d.to_str().unwrap(), "--svg"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let texts = svg_texts(&std::fs::read_to_string(d.join("occupancy.svg")).unwrap());
    for want in [
        "Mbps",
        "throughput, Mbps",
        "capacity (its VMs)",
        "demand (dashed)",
        "over capacity: saturated",
    ] {
        assert!(texts.iter().any(|t| t.3 == want), "{want:?} not drawn");
    }
    let csv = std::fs::read_to_string(d.join("workloads.csv")).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",demand_mbps,capacity_mbps,run"),
        "{csv}"
    );
}

/// The shade of a connector's demand above its capacity.
const SAT_SHADE: [u8; 3] = [204, 180, 226];

/// Every `<text>` of an SVG chart: its x, y, font size and text.
fn svg_texts(svg: &str) -> Vec<(f64, f64, f64, String)> {
    let attr = |tag: &str, name: &str| -> f64 {
        let k = format!(" {name}=\"");
        let i = format!(" {tag}")
            .find(&k)
            .unwrap_or_else(|| panic!("no {name} in {tag}"))
            + k.len()
            - 1;
        tag[i..i + tag[i..].find('"').unwrap()].parse().unwrap()
    };
    svg.split("<text ")
        .skip(1)
        .map(|t| {
            let (tag, rest) = t.split_once('>').unwrap();
            let body = rest.split("</text>").next().unwrap().trim().to_string();
            let x = attr(tag, "x");
            let y = attr(tag, "y");
            (x, y, attr(tag, "font-size"), body)
        })
        .collect()
}

/// A service that bursts past its /25 every 15 minutes for 6 hours, beside a steady one: 25
/// failure windows, most of whose bands cannot be labelled.
fn many_windows(dir: &Path) -> std::path::PathBuf {
    let pts: Vec<_> = (0..72)
        .map(|k| {
            let v = if k % 3 == 1 || k % 11 == 0 { 70 } else { 20 };
            serde_json::json!([format!("{}m", k * 5), v])
        })
        .collect();
    let s = serde_json::json!({
        "name": "many-windows", "description": "a service that bursts past its /25 again and again",
        "duration": "6h",
        "subnets": [{ "name": "edge", "cidr": "10.9.0.0/25" }],
        "workloads": [
            { "name": "bursty", "subnet": "edge", "demand": { "type": "step", "points": pts } },
            { "name": "steady", "subnet": "edge", "demand": { "type": "constant", "value": 20 } }
        ]
    });
    let p = dir.join("many.json");
    std::fs::write(&p, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    p
}

/// At 800x500, the smallest size, the occupancy legend lists every entry of what is drawn (the
/// failure window and the failed deploys too, which it used to drop), inside the image, in one
/// text size; nothing touches the right or bottom edge. The tight swap, the 30-workload case,
/// whose legend is the longest (ten entries), and a case of 25 failure windows, whose legend
/// also says how many bands went unlabelled.
#[test]
fn at_800x500_the_legend_lists_every_entry_inside_the_image_in_one_size() {
    let d = tmp("chart-800");
    let thirty = thirty_workloads(&d);
    let many = many_windows(&d);
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            "scenarios/revision-swap-tight.json",
            "tight",
            &[
                "retained",
                "in use",
                "free /28 blocks",
                "failure window",
                "deploy that failed",
            ],
        ),
        (
            thirty.to_str().unwrap(),
            "thirty",
            &[
                "reserved, idle",
                "retained",
                "in use",
                "usable (508)",
                "static + reservable (480)",
                "free /28 blocks",
                "failure window",
                "deploy (on axis)",
                "deploy that failed",
                "execution that lost tasks",
            ],
        ),
        (
            many.to_str().unwrap(),
            "many",
            &[
                "reserved, idle",
                "retained",
                "in use",
                "usable (124)",
                "free /28 blocks",
                "failure window",
                "bands unlabelled",
            ],
        ),
    ];
    for (scenario, name, entries) in cases {
        let out = d.join(name);
        let dir = out.to_str().unwrap();
        let o = ipsim(&["run", scenario, "--out", dir, "--no-chart"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        for extra in [&[][..], &["--svg"][..]] {
            let mut args = vec!["chart", dir, "--width", "800", "--height", "500"];
            args.extend_from_slice(extra);
            let o = ipsim(&args);
            assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        }
        let img = image::open(out.join("occupancy.png")).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (800, 500));
        // The occupancy legend: right of the plots (240 pixels at this width), under the title.
        let (x0, y0, y1) = (800 - 240, 100, 100 + 400 * 44 / 100);
        let in_legend = |rgb: [u8; 3]| {
            (y0..y1)
                .flat_map(|y| (x0..800).map(move |x| (x, y)))
                .filter(|&(x, y)| img.get_pixel(x, y).0 == rgb)
                .count()
        };
        // The failure marker's red (the window's start line, at least 3 x 8 pixels; the failed
        // deploy's triangle) and the window's pink.
        assert!(in_legend([220, 0, 0]) >= 20, "{name}: no failure marker");
        assert!(in_legend([255, 170, 170]) > 40, "{name}: no failure window");
        let edge = (0..500)
            .flat_map(|y| (797..800).map(move |x| (x, y)))
            .chain((0..800).flat_map(|x| (497..500).map(move |y| (x, y))))
            .filter(|&(x, y)| img.get_pixel(x, y).0 != [255, 255, 255])
            .count();
        assert_eq!(
            edge, 0,
            "{name}: something touches the right or bottom edge"
        );
        let svg = std::fs::read_to_string(out.join("occupancy.svg")).unwrap();
        let texts = svg_texts(&svg);
        for (x, y, _, t) in &texts {
            assert!(
                (0.0..800.0).contains(x) && (0.0..500.0).contains(y),
                "{name}: {t:?} at ({x}, {y}), off the image"
            );
        }
        let legend: Vec<_> = texts
            .iter()
            .filter(|(x, y, ..)| *x >= f64::from(x0) && *y < f64::from(y1))
            .collect();
        for e in entries {
            assert!(
                legend.iter().any(|t| t.3.contains(e)),
                "{name}: {e:?} missing from the legend: {:?}",
                legend.iter().map(|t| &t.3).collect::<Vec<_>>()
            );
        }
        // One size for every legend entry of the chart (its headings one size above it).
        let mut sizes: Vec<u64> = texts
            .iter()
            .filter(|(x, ..)| *x >= f64::from(x0))
            .map(|t| (t.2 * 100.0).round() as u64)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        assert!(sizes.len() <= 2, "{name}: legend text sizes {sizes:?}");
        // The three y axis titles (drawn turned) and the time axis title have one size.
        let mut titles: Vec<u64> = texts
            .iter()
            .filter(|t| {
                (t.0 < 30.0 && ["addresses", "held", "instances"].contains(&t.3.as_str()))
                    || t.3.starts_with("time since start")
                    || t.3.starts_with("time (UTC)")
            })
            .map(|t| (t.2 * 100.0).round() as u64)
            .collect();
        assert_eq!(titles.len(), 4, "{name}: axis titles");
        titles.dedup();
        assert_eq!(titles.len(), 1, "{name}: axis title sizes {titles:?}");
    }
}

/// compare.png of the shared subnet under four variants, two of which fail (service-scoped
/// /28 blocks run out at +02:00): every variant's colour is drawn inside the plot, above the
/// x axis (the two failing ones sit at 0 free addresses, which used to be under the axis),
/// each is in the legend, and the failures are marked with red crosses at +02:00.
#[test]
fn compare_png_shows_every_variant_above_the_axis_and_marks_the_failures() {
    let d = tmp("chart-compare");
    let o = ipsim(&[
        "compare",
        "scenarios/shared-subnet.json",
        "--strategies",
        "first-fit,best-fit,scope=subnet,block=/29",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let img = image::open(d.join("compare.png")).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let is = |x: u32, y: u32, rgb: [u8; 3]| img.get_pixel(x, y).0 == rgb;
    // The plot area: the x axis is the lowest row black across the middle of the image, the y
    // axis the first column black for 300 rows above it; the axis row ends at the plot's end.
    let legend_x = w - 300;
    let axis_y = (0..h)
        .filter(|&y| (300..1000).all(|x| is(x, y, [0, 0, 0])))
        .max()
        .expect("no x axis");
    let axis_x = (0..w / 2)
        .find(|&x| (axis_y - 300..axis_y).all(|y| is(x, y, [0, 0, 0])))
        .expect("no y axis");
    let plot_end = (axis_x..legend_x)
        .filter(|&x| is(x, axis_y, [0, 0, 0]))
        .max()
        .unwrap();
    let count = |rgb: [u8; 3], xs: std::ops::Range<u32>, ys: std::ops::Range<u32>| {
        ys.flat_map(|y| xs.clone().map(move |x| (x, y)))
            .filter(|&(x, y)| is(x, y, rgb))
            .count()
    };
    let plot = axis_x + 1..plot_end;
    let viridis = [
        [0x44, 0x01, 0x54],
        [0x1F, 0xA1, 0x87],
        [0x46, 0x33, 0x7E],
        [0x4A, 0xC1, 0x6D],
    ];
    let run = (plot_end - axis_x) as usize;
    for (k, c) in viridis.iter().enumerate() {
        // Most of the run long, above the axis; nothing of it on or under the axis.
        let above = count(*c, plot.clone(), 72..axis_y);
        assert!(above > run, "variant {k}: {above} pixels in the plot");
        assert_eq!(
            count(*c, plot.clone(), axis_y..h),
            0,
            "variant {k} under the axis"
        );
        assert!(
            count(*c, legend_x..w, 72..h) > 50,
            "variant {k} not in the legend"
        );
    }
    // The failing variants (first-fit, best-fit) at 0 free addresses, just above the axis (the
    // y axis starts 3% below 0): each line within 30 pixels of it for most of the run.
    for c in &viridis[..2] {
        let low = count(*c, plot.clone(), axis_y - 30..axis_y);
        assert!(low > run, "a failing variant is not at 0: {low}");
    }
    // The crosses at +02:00, half way along the 4 h run, near 0; none elsewhere in the plot.
    let x2h = axis_x + (plot_end - axis_x) / 2;
    let red = [220, 0, 0];
    let near = count(red, x2h - 12..x2h + 13, axis_y - 40..axis_y);
    assert!(near > 40, "{near} red pixels at +02:00");
    assert_eq!(count(red, plot.clone(), 72..axis_y), near, "red elsewhere");
}
