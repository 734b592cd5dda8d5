//! Pages a person reads: `report.md`, short Markdown for a pull-request comment or a CI step
//! summary, and `report.html`, one self-contained file (inline CSS, inline SVG charts, a few
//! lines of plain JavaScript, no network request) with the verdict first.

use ipsim_core::{LogEvent, Output, Unit};

use crate::outcome::{LIST_MAX, thousands};
use crate::{Context, ExhaustionRow, Names, Report, WindowRow, span};

/// The first failed start of each revision or execution in the event log, in time order, at
/// most `max` of them (the log may have dropped some: see `log_limit`).
pub fn first_failures(out: &Output, ctx: &Context, max: usize) -> Vec<ExhaustionRow> {
    let n = Names {
        out,
        clock: ctx.clock,
        block_size: ctx.params.block_size,
        subnet_scope: ctx.params.block_scope == "subnet",
    };
    let mut seen: Vec<(usize, Unit)> = Vec::new();
    let mut rows = Vec::new();
    for ev in &out.log {
        if let LogEvent::Exhaustion(e) = ev {
            if !seen.contains(&(e.workload, e.unit)) {
                seen.push((e.workload, e.unit));
                rows.push(n.exhaustion(e));
                if rows.len() == max {
                    break;
                }
            }
        }
    }
    rows
}

/// The verdict in one line: `OK: ...` or `EXHAUSTED at T: ... : cause`.
pub fn verdict(r: &Report) -> String {
    match &r.summary.first_exhaustion {
        None => match r.saturation_windows.first() {
            None => "OK: every start succeeded; no subnet ran out of addresses.".into(),
            Some(w) => format!(
                "OK: every start succeeded, but connector {} saturated from {}.",
                w.workload, w.start
            ),
        },
        Some(e) => {
            let cause = if e.cause.is_empty() {
                String::new()
            } else {
                format!(": {}", e.cause)
            };
            format!(
                "EXHAUSTED at {}: subnet {}, workload {} ({}){cause}",
                e.time, e.subnet, e.workload, e.unit
            )
        }
    }
}

/// The workloads whose starts failed, most unmet time first.
fn hit(r: &Report) -> Vec<&crate::WorkloadReport> {
    let mut v: Vec<_> = r
        .workloads
        .iter()
        .filter(|w| !w.outcome.is_empty())
        .collect();
    v.sort_by(|a, b| {
        b.unmet_instance_seconds
            .total_cmp(&a.unmet_instance_seconds)
            .then_with(|| a.name.cmp(&b.name))
    });
    v
}

/// The failure windows, longest first.
fn longest(r: &Report) -> Vec<&WindowRow> {
    let mut v: Vec<_> = r.failure_windows.iter().collect();
    v.sort_by(|a, b| {
        b.duration_ms
            .cmp(&a.duration_ms)
            .then(a.start_ms.cmp(&b.start_ms))
    });
    v
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn short_cell(w: &crate::WorkloadReport) -> String {
    w.short.as_ref().map_or("-".into(), |s| {
        format!(
            "{} of {} ({}%) for {}",
            s.peak,
            s.desired,
            s.percent,
            span(s.duration_ms)
        )
    })
}

fn end_text(w: &WindowRow) -> String {
    if w.open {
        format!("{} (still open at the end)", w.end)
    } else {
        w.end.clone()
    }
}

/// `report.md`: the verdict, the assumptions, a table per subnet and per workload, and the
/// longest windows, short enough for a pull-request comment.
pub fn markdown(r: &Report) -> String {
    let mut o = String::new();
    let failed = r.summary.first_exhaustion.is_some();
    o.push_str(&format!(
        "## ipsim: {} {}\n\n",
        md_cell(&r.scenario),
        if failed { "❌" } else { "✅" }
    ));
    o.push_str(&format!("**{}**\n\n", md_cell(&verdict(r))));
    o.push_str(&format!(
        "Seed {}, {}. {}\n\n",
        r.seed,
        span(r.duration_ms),
        md_cell(&crate::assumptions::summary_line(&r.assumptions))
    ));
    let hit = hit(r);
    if !hit.is_empty() {
        for w in hit.iter().take(LIST_MAX) {
            o.push_str(&format!(
                "- **{}**: {}\n",
                md_cell(&w.name),
                md_cell(&w.outcome.join("; "))
            ));
        }
        if hit.len() > LIST_MAX {
            o.push_str(&format!("- and {} more workloads\n", hit.len() - LIST_MAX));
        }
        o.push('\n');
    }
    o.push_str("| subnet | cidr | usable | reservable | peak held | min free blocks | failed attempts | windows |\n");
    o.push_str("|---|---|--:|--:|--:|--:|--:|--:|\n");
    for sn in &r.subnets {
        let f = &sn.figures;
        o.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md_cell(&sn.name),
            sn.cidr,
            thousands(u64::from(sn.usable)),
            thousands(u64::from(sn.reservable)),
            thousands(f.peak_held),
            f.min_free_blocks,
            thousands(f.failed_attempts),
            sn.failure_windows.len()
        ));
    }
    o.push('\n');
    o.push_str("| workload | kind | subnet | peak held | peak running | short | never started | failed attempts |\n");
    o.push_str("|---|---|---|--:|--:|---|--:|--:|\n");
    let mut wls: Vec<_> = r.workloads.iter().collect();
    wls.sort_by(|a, b| {
        b.unmet_instance_seconds
            .total_cmp(&a.unmet_instance_seconds)
            .then(b.peak_held.cmp(&a.peak_held))
            .then_with(|| a.name.cmp(&b.name))
    });
    let shown = 20;
    for w in wls.iter().take(shown) {
        o.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md_cell(&w.name),
            w.kind,
            md_cell(&w.subnet),
            thousands(u64::from(w.peak_held)),
            w.peak_running,
            short_cell(w),
            thousands(w.never_started),
            thousands(w.failed_attempts)
        ));
    }
    if wls.len() > shown {
        o.push_str(&format!(
            "\n{} more workloads in report.json.\n",
            wls.len() - shown
        ));
    }
    let windows = longest(r);
    if !windows.is_empty() {
        o.push_str("\nFailure windows, longest first:\n\n");
        for w in windows.iter().take(LIST_MAX) {
            o.push_str(&format!(
                "- {}: {} .. {} ({})\n",
                md_cell(&w.workload),
                w.start,
                end_text(w),
                span(w.duration_ms)
            ));
        }
        if windows.len() > LIST_MAX {
            o.push_str(&format!("- and {} more\n", windows.len() - LIST_MAX));
        }
    }
    o
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A chart for the page: its title and its SVG document.
#[derive(Debug, Clone)]
pub struct PageChart {
    /// What it shows.
    pub title: String,
    /// The SVG document, as the chart module draws it.
    pub svg: String,
}

/// An SVG document made fit to sit inside HTML: no XML declaration, no namespace URL (an
/// inline `<svg>` needs none), scaled to the page's width.
fn inline_svg(svg: &str) -> String {
    let body = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    };
    body.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
        .replacen(
            "<svg ",
            "<svg class=\"chart\" preserveAspectRatio=\"xMinYMin meet\" ",
            1,
        )
}

/// Width and height of an SVG document, for its viewBox.
fn svg_size(svg: &str) -> Option<(u32, u32)> {
    let head = &svg[svg.find("<svg")?..];
    let head = &head[..head.find('>')?];
    let attr = |name: &str| -> Option<u32> {
        let i = head.find(&format!("{name}=\""))? + name.len() + 2;
        head[i..].split('"').next()?.parse().ok()
    };
    Some((attr("width")?, attr("height")?))
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}
.verdict{font-size:1.25em;font-weight:bold;padding:.6em .8em;border-radius:6px}
.verdict.bad{background:#fde2e2;color:#8a0000}.verdict.ok{background:#e2f5e2;color:#145214}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f2f2f2}
figure{margin:1em 0}figcaption{color:#555;font-size:.9em}
svg.chart{width:100%;height:auto;border:1px solid #ddd;cursor:zoom-in}
svg.chart.zoomed{width:200%;cursor:zoom-out}
.scroll{overflow-x:auto}
.muted{color:#666}";

/// Click a chart to see it at twice the width (scroll sideways), click again to fit.
const JS: &str = "document.querySelectorAll('svg.chart').forEach(function(s){s.addEventListener('click',function(){s.classList.toggle('zoomed');});});";

/// `report.html`: verdict, assumptions, charts, tables, windows and the event log's first
/// exhaustions, in one file with nothing to fetch.
pub fn html(r: &Report, charts: &[PageChart], first: &[ExhaustionRow]) -> String {
    let mut o = String::new();
    let failed = r.summary.first_exhaustion.is_some();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(&format!(
        "<title>ipsim: {}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n",
        esc(&r.scenario)
    ));
    o.push_str(&format!("<h1>ipsim: {}</h1>\n", esc(&r.scenario)));
    o.push_str(&format!(
        "<p class=\"verdict {}\" id=\"verdict\">{}</p>\n",
        if failed { "bad" } else { "ok" },
        esc(&verdict(r))
    ));
    if !r.description.is_empty() {
        o.push_str(&format!("<p>{}</p>\n", esc(&r.description)));
    }
    o.push_str(&format!(
        "<p class=\"muted\">Seed {}, {}, ipsim {}.</p>\n",
        r.seed,
        span(r.duration_ms),
        esc(&r.ipsim_version)
    ));
    let hit = hit(r);
    if !hit.is_empty() {
        o.push_str("<h2>Outcomes</h2>\n<ul>\n");
        for w in &hit {
            o.push_str(&format!(
                "<li><b>{}</b>: {}</li>\n",
                esc(&w.name),
                esc(&w.outcome.join("; "))
            ));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("<h2>Assumptions</h2>\n<table>\n<tr><th>parameter</th><th>value</th><th>status</th><th>note</th></tr>\n");
    for a in &r.assumptions {
        let status = match a.status {
            crate::Status::Documented => "documented",
            crate::Status::ModelChoice => "model choice (undocumented)",
        };
        o.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&a.parameter),
            esc(&a.value),
            status,
            esc(&a.note)
        ));
    }
    o.push_str("</table>\n");
    if !charts.is_empty() {
        o.push_str("<h2>Charts</h2>\n<p class=\"muted\">Click a chart to zoom it.</p>\n");
        for c in charts {
            let svg = inline_svg(&c.svg);
            let svg = match svg_size(&c.svg) {
                Some((w, h)) => svg.replacen("<svg ", &format!("<svg viewBox=\"0 0 {w} {h}\" "), 1),
                None => svg,
            };
            o.push_str(&format!(
                "<figure><div class=\"scroll\">{svg}</div><figcaption>{}</figcaption></figure>\n",
                esc(&c.title)
            ));
        }
    }
    o.push_str("<h2>Subnets</h2>\n<table>\n<tr><th>subnet</th><th>cidr</th><th>usable</th><th>reservable</th><th>peak held</th><th>peak reserved blocks</th><th>min free blocks</th><th>failed attempts</th><th>windows</th></tr>\n");
    for sn in &r.subnets {
        let f = &sn.figures;
        o.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            esc(&sn.name),
            esc(&sn.cidr),
            thousands(u64::from(sn.usable)),
            thousands(u64::from(sn.reservable)),
            thousands(f.peak_held),
            f.peak_reserved_blocks,
            f.min_free_blocks,
            thousands(f.failed_attempts),
            sn.failure_windows.len()
        ));
    }
    o.push_str("</table>\n");
    o.push_str("<h2>Workloads</h2>\n<table>\n<tr><th>workload</th><th>kind</th><th>subnet</th><th>peak held</th><th>peak running</th><th>short</th><th>never started</th><th>failed attempts</th><th>tasks failed</th></tr>\n");
    for w in &r.workloads {
        o.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            esc(&w.name),
            esc(&w.kind),
            esc(&w.subnet),
            thousands(u64::from(w.peak_held)),
            w.peak_running,
            esc(&short_cell(w)),
            thousands(w.never_started),
            thousands(w.failed_attempts),
            thousands(w.tasks_failed)
        ));
    }
    o.push_str("</table>\n");
    let windows = longest(r);
    if !windows.is_empty() {
        let shown = 100;
        o.push_str("<h2>Failure windows, longest first</h2>\n<table>\n<tr><th>workload</th><th>subnet</th><th>from</th><th>to</th><th>duration</th></tr>\n");
        for w in windows.iter().take(shown) {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>\n",
                esc(&w.workload),
                esc(&w.subnet),
                esc(&w.start),
                esc(&end_text(w)),
                span(w.duration_ms)
            ));
        }
        o.push_str("</table>\n");
        if windows.len() > shown {
            o.push_str(&format!(
                "<p>and {} more (report.json: failure_windows)</p>\n",
                windows.len() - shown
            ));
        }
    }
    if !first.is_empty() {
        o.push_str("<h2>First failed starts (event log)</h2>\n<table>\n<tr><th>time</th><th>subnet</th><th>workload</th><th>unit</th><th>desired</th><th>running</th><th>cause</th></tr>\n");
        for e in first {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                esc(&e.time),
                esc(&e.subnet),
                esc(&e.workload),
                esc(&e.unit),
                e.desired,
                e.running,
                esc(&e.cause)
            ));
        }
        o.push_str("</table>\n");
    }
    o.push_str(&format!("<script>\n{JS}\n</script>\n</body>\n</html>\n"));
    o
}
