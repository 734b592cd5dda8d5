//! report.md and report.html as a person meets them; report.html loaded in a real browser
//! (headless Chromium): it draws something, says the verdict, holds every chart, and makes
//! no network request of its own.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{ipsim, text, tmp};

fn run_tight(name: &str) -> PathBuf {
    let d = tmp(name);
    let o = ipsim(&[
        "run",
        "scenarios/revision-swap-tight.json",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("report.md"), "{}", text(&o.stdout));
    d
}

#[test]
fn report_md_is_short_and_says_the_verdict_the_outcome_and_the_windows() {
    let d = run_tight("page-md");
    let md = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(md.starts_with("## ipsim: revision-swap-tight ❌\n"), "{md}");
    assert!(
        md.contains(
            "**EXHAUSTED at 2025-06-02T09:10:00Z: subnet run-subnet, workload api (revision 2): no free address (14 of 14 /28 blocks reserved, every address held)**"
        ),
        "{md}"
    );
    assert!(
        md.contains("Assumes (undocumented): block_scope=service"),
        "{md}"
    );
    assert!(
        md.contains("- **api**: short by up to 88 of 100 instances (88%) for 20m; 88 instances failed to start (10,560 failed attempts): all started later; 1 of 1 deploy failed: revision 2 at 2025-06-02T09:10:00Z"),
        "{md}"
    );
    assert!(
        md.contains("| run-subnet | 10.0.0.0/24 | 252 | 224 | 224 | 0 | 10,560 | 1 |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| api | service | run-subnet | 224 | 100 | 88 of 100 (88%) for 20m | 0 | 10,560 |"
        ),
        "{md}"
    );
    assert!(
        md.contains("- api: 2025-06-02T09:10:00Z .. 2025-06-02T09:30:00Z (20m)"),
        "{md}"
    );
    assert!(md.lines().count() < 40, "{md}");
}

/// The page names no resource to fetch: no `src`, `href`, `url(` or `@import`, and no
/// http(s) address at all.
#[test]
fn report_html_references_nothing_to_fetch() {
    let d = run_tight("page-static");
    let html = std::fs::read_to_string(d.join("report.html")).unwrap();
    for bad in ["src=", "href=", "url(", "@import", "http://", "https://"] {
        assert!(!html.contains(bad), "report.html contains {bad}");
    }
    assert!(html.contains("class=\"chart\""));
    assert!(html.contains("id=\"verdict\""));
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let ok = Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()?;
            ok.status
                .success()
                .then(|| PathBuf::from(text(&ok.stdout).trim()))
        })
}

/// Runs headless Chromium on `page` with a fresh profile and the flags that keep it quiet,
/// plus `extra`; returns its standard output.
fn browse(bin: &Path, page: &Path, profile: &Path, extra: &[String]) -> String {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let o = Command::new("timeout")
        .arg("180")
        .arg(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(o.status.success(), "chromium failed: {}", text(&o.stderr));
    text(&o.stdout)
}

/// Requests a browser makes for itself (update checks, account probes) whatever the page;
/// anything else in the net log came from the page.
fn browser_own(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', ':', '?']).next())
        .unwrap_or("");
    ["google.com", "googleapis.com", "gvt1.com", "gstatic.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

#[test]
fn report_html_in_a_real_browser_shows_the_verdict_and_every_chart_and_fetches_nothing() {
    let Some(bin) = chromium() else {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !in_ci,
            "CI: chromium is needed to test report.html (.ci/run installs it: apt-get install -y chromium)"
        );
        eprintln!(
            "\n\n*** SKIPPED: report.html browser test: chromium is not installed (apt-get install -y chromium) ***\n\n"
        );
        return;
    };
    let d = run_tight("page-browser");
    let page = d.join("report.html");
    // The DOM as the browser built it, with every request it made logged.
    let net = d.join("net.json");
    let dom = browse(
        &bin,
        &page,
        &d.join("profile-dom"),
        &[
            "--dump-dom".into(),
            format!("--log-net-log={}", net.display()),
        ],
    );
    assert!(
        dom.contains("EXHAUSTED at 2025-06-02T09:10:00Z: subnet run-subnet, workload api (revision 2): no free address"),
        "{dom}"
    );
    assert_eq!(
        dom.matches("class=\"chart\"").count(),
        1,
        "one chart per subnet"
    );
    assert!(dom.contains("short by up to 88 of 100 instances (88%) for 20m"));
    let log = std::fs::read_to_string(&net).unwrap();
    let urls: Vec<&str> = log
        .split("\"url\":\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    let page_own: Vec<&&str> = urls
        .iter()
        .filter(|u| !u.starts_with("file://") && !u.starts_with("data:") && !browser_own(u))
        .collect();
    assert!(page_own.is_empty(), "the page made requests: {page_own:?}");
    // A screenshot: not blank, the verdict's red box at the top, the chart drawn.
    let shot = d.join("shot.png");
    browse(
        &bin,
        &page,
        &d.join("profile-shot"),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".into(),
        ],
    );
    let img = image::open(&shot).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let non_white = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(
        non_white > (w * h / 20) as usize,
        "the page looks blank: {non_white} of {} pixels drawn",
        w * h
    );
    // The verdict box (#fde2e2) in the top 200 rows.
    let verdict_box = (0..200.min(h))
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0 == [0xfd, 0xe2, 0xe2])
        .count();
    assert!(verdict_box > 10_000, "no verdict box: {verdict_box} pixels");
    // The chart's retained orange somewhere on the page.
    let orange = img.pixels().filter(|p| p.0 == [255, 152, 48]).count();
    assert!(orange > 1_000, "no chart drawn: {orange} orange pixels");
}
