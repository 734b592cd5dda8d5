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
    assert_eq!(
        report["summary"]["failure_windows"][0]["duration_ms"],
        60_000
    );
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
