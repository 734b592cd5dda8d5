//! The README's "Bundled scenarios" table, checked against the build.
//!
//! Every row of the table is split into claims: phrases that must appear in the row's text,
//! each with a check on one run of the scenario (its report.json, occupancy.csv and
//! workloads.csv, and `ipsim size` where the row quotes it). The table of claims below is
//! keyed by scenario file: a row the test does not know, a scenario the README does not list,
//! a phrase no longer in its row, or a check the run contradicts, fails the test, so the
//! README and the build cannot drift apart.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::{ipsim, repo, text, tmp};

/// A CSV row, by column name.
type Row = BTreeMap<String, String>;

/// One run of a bundled scenario.
struct Run {
    file: String,
    scenario: Value,
    report: Value,
    occupancy: Vec<Row>,
    workloads: Vec<Row>,
}

/// What a check says when the run contradicts it.
type Outcome = Result<(), String>;

/// A phrase of a README row and the facts of the run that make it true.
struct Claim {
    phrase: &'static str,
    check: fn(&Run) -> Outcome,
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

fn claim(phrase: &'static str, check: fn(&Run) -> Outcome) -> Claim {
    Claim { phrase, check }
}

fn read_csv(path: &Path) -> Vec<Row> {
    let body = std::fs::read_to_string(path).unwrap();
    let mut lines = body.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn num(row: &Row, col: &str) -> u64 {
    row[col].parse().unwrap()
}

/// A scenario duration such as `"3m"`, `"1h30m"` or `"90s"`, in milliseconds.
fn duration_ms(v: &Value) -> u64 {
    if let Some(n) = v.as_u64() {
        return n;
    }
    let s = v.as_str().unwrap();
    let (mut total, mut digits) = (0u64, String::new());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            'm' => 60_000,
            's' => 1_000,
            _ => panic!("unknown duration unit in {s:?}"),
        };
        total += digits.parse::<u64>().unwrap() * unit;
        digits.clear();
    }
    total
}

impl Run {
    fn summary(&self) -> &Value {
        &self.report["summary"]
    }

    /// The scenario's only subnet, as reported.
    fn subnet(&self) -> &Value {
        let subnets = self.report["subnets"].as_array().unwrap();
        assert_eq!(subnets.len(), 1, "{}: one subnet expected", self.file);
        &subnets[0]
    }

    fn prefix(&self) -> u64 {
        let cidr = self.subnet()["cidr"].as_str().unwrap();
        cidr.rsplit('/').next().unwrap().parse().unwrap()
    }

    fn workloads(&self) -> &Vec<Value> {
        self.report["workloads"].as_array().unwrap()
    }

    fn workload(&self, name: &str) -> &Value {
        self.workloads()
            .iter()
            .find(|w| w["name"] == name)
            .unwrap_or_else(|| panic!("{}: no workload {name}", self.file))
    }

    fn markers(&self, kind: &str) -> Vec<&Value> {
        self.report["markers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == kind)
            .collect()
    }

    /// The time of the only marker of this kind.
    fn marker_ms(&self, kind: &str) -> Result<u64, String> {
        let m = self.markers(kind);
        ensure!(m.len() == 1, "{} {kind} markers, one expected", m.len());
        Ok(m[0]["time_ms"].as_u64().unwrap())
    }

    fn first_exhaustion_ms(&self) -> Result<u64, String> {
        self.summary()["first_exhaustion"]["time_ms"]
            .as_u64()
            .ok_or_else(|| "no start failed".to_string())
    }

    /// The subnet's occupancy row that holds at `t`.
    fn occupancy_at(&self, t: u64) -> &Row {
        self.occupancy
            .iter()
            .rev()
            .find(|r| num(r, "time_ms") <= t)
            .unwrap()
    }

    /// A workload's rows of workloads.csv, in time order.
    fn rows_of(&self, name: &str) -> Vec<&Row> {
        self.workloads
            .iter()
            .filter(|r| r["workload"] == name)
            .collect()
    }

    fn no_failure(&self) -> Outcome {
        let s = self.summary();
        ensure!(
            s["exhausted"] == false,
            "exhausted: {}",
            s["first_exhaustion"]
        );
        ensure!(
            s["failed_attempts"] == 0,
            "failed attempts {}",
            s["failed_attempts"]
        );
        ensure!(
            self.report["failure_windows"]
                .as_array()
                .unwrap()
                .is_empty(),
            "failure windows {}",
            self.report["failure_windows"]
        );
        Ok(())
    }

    fn on_prefix(&self, p: u64) -> Outcome {
        ensure!(self.prefix() == p, "the subnet is a /{}", self.prefix());
        Ok(())
    }

    /// `ipsim size --json` on this scenario: the sizing of its only subnet.
    fn size(&self) -> Value {
        size_json(&format!("scenarios/{}", self.file))["subnets"][0].clone()
    }
}

/// `ipsim size FILE --json`, run once per file for all the tests that quote it (under every
/// reading it is the slowest command here).
fn size_json(file: &str) -> Value {
    static CACHE: std::sync::Mutex<std::collections::BTreeMap<String, Value>> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());
    if let Some(v) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(file) {
        return v.clone();
    }
    let o = ipsim(&["size", file, "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    crate::sweeps::assert_size_gate(&o, &v);
    CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(file.to_string(), v.clone());
    v
}

/// The scenario of another bundled file, as written.
fn scenario_file(file: &str) -> Value {
    read_json(&repo().join("scenarios").join(file))
}

/// Every row of the README's table, and what makes it true.
fn claims() -> BTreeMap<&'static str, Vec<Claim>> {
    let mut t: BTreeMap<&'static str, Vec<Claim>> = BTreeMap::new();
    t.insert(
        "revision-swap.json",
        vec![
            claim("100 + 100 revision swap", |r| {
                r.marker_ms("swap")?;
                let w = r.workload("api");
                ensure!(
                    w["peak_running"] == 100,
                    "peak running {}",
                    w["peak_running"]
                );
                ensure!(w["started"] == 200, "{} instances started", w["started"]);
                Ok(())
            }),
            claim("on a /23", |r| r.on_prefix(23)),
            claim("400 addresses held", |r| {
                let held = &r.summary()["peak_held"];
                ensure!(*held == 400, "peak held {held}");
                Ok(())
            }),
            claim("no failure", Run::no_failure),
        ],
    );
    t.insert(
        "revision-swap-tight.json",
        vec![
            claim("the same", |r| {
                let roomy = scenario_file("revision-swap.json");
                ensure!(
                    r.scenario["workloads"] == roomy["workloads"],
                    "its workloads differ from revision-swap.json's"
                );
                Ok(())
            }),
            claim("on a /24", |r| r.on_prefix(24)),
            claim("fails at the swap", |r| {
                let (swap, first) = (r.marker_ms("swap")?, r.first_exhaustion_ms()?);
                ensure!(
                    first == swap,
                    "first failure at {first} ms, swap at {swap} ms"
                );
                Ok(())
            }),
            claim("for exactly 20 minutes", |r| {
                let w = r.report["failure_windows"].as_array().unwrap();
                ensure!(w.len() == 1, "{} failure windows", w.len());
                ensure!(w[0]["duration_ms"] == 1_200_000, "window {}", w[0]);
                ensure!(w[0]["open"] == false, "the window is still open at the end");
                Ok(())
            }),
        ],
    );
    t.insert(
        "job-burst.json",
        vec![
            claim("a 400-task job", |r| {
                let jobs: Vec<&Value> = r
                    .workloads()
                    .iter()
                    .filter(|w| w["kind"] == "job")
                    .collect();
                ensure!(jobs.len() == 1, "{} jobs", jobs.len());
                let done = jobs[0]["tasks_completed"].as_u64().unwrap()
                    + jobs[0]["tasks_failed"].as_u64().unwrap();
                ensure!(done == 400, "{done} tasks completed or failed");
                Ok(())
            }),
            claim("the 7-minute retention of earlier waves", |r| {
                let p = &r.scenario["params"];
                ensure!(
                    p.get("task_retention").is_none(),
                    "task_retention is set: {}",
                    p["task_retention"]
                );
                let ex = &r.scenario["workloads"][1]["executions"][0];
                let wave = ex["parallelism"].as_u64().unwrap();
                let task = duration_ms(&ex["task_duration"]);
                ensure!(
                    task * 2 < 7 * 60_000,
                    "two waves outlast the 7-minute retention"
                );
                let retained = num(r.occupancy_at(r.first_exhaustion_ms()?), "retained");
                ensure!(
                    retained == 2 * wave,
                    "{retained} addresses retained at the first failure, not two waves of {wave}"
                );
                Ok(())
            }),
            claim("starves the third", |r| {
                let ex = &r.scenario["workloads"][1]["executions"][0];
                let third = r.marker_ms("job")? + 2 * duration_ms(&ex["task_duration"]);
                let first = r.first_exhaustion_ms()?;
                ensure!(
                    first == third,
                    "first failure at {first} ms, third wave at {third}"
                );
                let fe = &r.summary()["first_exhaustion"];
                ensure!(fe["workload"] == "nightly-etl", "the first failure is {fe}");
                ensure!(
                    fe["running"].as_u64().unwrap_or(u64::MAX)
                        < ex["parallelism"].as_u64().unwrap(),
                    "the third wave was not short: {fe}"
                );
                Ok(())
            }),
        ],
    );
    t.insert(
        "surge.json",
        vec![
            claim("a 5x surge", |r| {
                let d = &r.scenario["workloads"][0]["demand"];
                ensure!(d["type"] == "surge", "demand {d}");
                ensure!(
                    d["peak"].as_u64() == d["base"].as_u64().map(|b| 5 * b),
                    "{d}"
                );
                Ok(())
            }),
            claim("during a gradual rollout", |r| {
                let swap = &r.scenario["workloads"][0]["swaps"][0];
                let (at, rollout) = (duration_ms(&swap["at"]), duration_ms(&swap["rollout"]));
                ensure!(rollout > 0, "the swap has no rollout");
                let first = r.first_exhaustion_ms()?;
                ensure!(
                    (at..=at + rollout).contains(&first),
                    "first failure at {first} ms, rollout from {at} ms for {rollout} ms"
                );
                Ok(())
            }),
            claim("breaks a /23", |r| {
                r.on_prefix(23)?;
                ensure!(r.summary()["exhausted"] == true, "no start failed");
                Ok(())
            }),
            claim("though 2 x its 200 peak instances (400) fits", |r| {
                let peak = r.scenario["workloads"][0]["demand"]["peak"].as_u64();
                ensure!(peak == Some(200), "peak demand {peak:?}");
                let reservable = r.subnet()["reservable"].as_u64().unwrap();
                ensure!(400 <= reservable, "the subnet reserves only {reservable}");
                Ok(())
            }),
            claim("both revisions follow the surge", |r| {
                let s = r.size();
                let reservable = r.subnet()["reservable"].as_u64().unwrap();
                ensure!(
                    s["steady_rule"] == 400,
                    "2 x peak running: {}",
                    s["steady_rule"]
                );
                let overlap = s["overlap_rule"].as_u64().unwrap();
                ensure!(
                    overlap > reservable,
                    "{overlap} addresses of overlapping instances fit the {reservable} reservable"
                );
                Ok(())
            }),
            claim("`ipsim size` asks for a /22", |r| {
                let s = r.size();
                ensure!(
                    s["smallest_prefix"] == 22,
                    "ipsim size: {}",
                    s["smallest_prefix"]
                );
                Ok(())
            }),
        ],
    );
    t.insert(
        "shared-subnet.json",
        vec![
            claim("13 small services", |r| {
                let services: Vec<&Value> = r
                    .workloads()
                    .iter()
                    .filter(|w| w["kind"] == "service")
                    .collect();
                ensure!(services.len() == 13, "{} services", services.len());
                for w in services {
                    ensure!(
                        w["peak_running"].as_u64() <= Some(5),
                        "{} is not small",
                        w["name"]
                    );
                }
                Ok(())
            }),
            claim("some VMs", |r| {
                ensure!(
                    r.subnet()["static"].as_u64() > Some(0),
                    "no static addresses"
                );
                Ok(())
            }),
            claim("on a /24", |r| r.on_prefix(24)),
            claim("blocks, not addresses, run out", |r| {
                let fe = &r.summary()["first_exhaustion"];
                ensure!(
                    fe["free_blocks"] == 0,
                    "free blocks at the first failure: {fe}"
                );
                let row = r.occupancy_at(r.first_exhaustion_ms()?);
                let free = num(row, "reserved_idle") + num(row, "unreserved");
                let used = num(row, "in_use");
                ensure!(free > used, "{free} free addresses, {used} in use");
                Ok(())
            }),
        ],
    );
    t.insert(
        "worker-pool.json",
        vec![
            claim("a worker pool's swap", |r| {
                let swaps = r.markers("swap");
                ensure!(swaps.len() == 1, "{} swaps", swaps.len());
                let w = r.workload(swaps[0]["workload"].as_str().unwrap());
                ensure!(w["kind"] == "worker_pool", "the swap is of {}", w["name"]);
                Ok(())
            }),
            claim("scale-up", |r| {
                let swap = r.marker_ms("swap")?;
                let pool = r.markers("swap")[0]["workload"].as_str().unwrap();
                let rows = r.rows_of(pool);
                let at_swap = rows
                    .iter()
                    .rev()
                    .find(|x| num(x, "time_ms") <= swap)
                    .unwrap();
                let peak = rows.iter().map(|x| num(x, "running")).max().unwrap();
                ensure!(
                    peak > num(at_swap, "running"),
                    "the pool never runs more than its {} at the swap",
                    at_swap["running"]
                );
                Ok(())
            }),
            claim("beside a service", |r| {
                let pool = r.markers("swap")[0]["workload"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                ensure!(
                    r.workloads()
                        .iter()
                        .any(|w| w["kind"] == "service"
                            && w["subnet"] == r.workload(&pool)["subnet"]),
                    "no service on the pool's subnet"
                );
                Ok(())
            }),
            claim("with no failure", Run::no_failure),
            claim("on a /24", |r| r.on_prefix(24)),
        ],
    );
    t.insert(
        "observed-revisions.json",
        vec![
            claim("a Cloud Monitoring export of a gradual migration", |r| {
                let tr = &r.scenario["traces"][0];
                ensure!(tr["format"] == "cloud-monitoring", "trace {tr}");
                let file = repo().join("scenarios").join(tr["file"].as_str().unwrap());
                ensure!(
                    file.is_file(),
                    "{} is not in the repository",
                    file.display()
                );
                let read = &r.report["traces"][0];
                ensure!(read["series"] == 4, "series read: {read}");
                Ok(())
            }),
            claim("each revision at its own observed count", |r| {
                let w = &r.scenario["workloads"][0]["demand"];
                ensure!(w["revisions"] == "observed", "demand {w}");
                r.marker_ms("revision")?;
                ensure!(r.markers("swap").is_empty(), "no swap is invented");
                Ok(())
            }),
            claim("the /24 holds", |r| {
                ensure!(
                    r.subnet()["cidr"].as_str().unwrap().ends_with("/24"),
                    "not a /24"
                );
                ensure!(r.summary()["exhausted"] == false, "exhausted");
                Ok(())
            }),
        ],
    );
    t.insert(
        "trace-replay.json",
        vec![
            claim("a bundled CSV trace", |r| {
                let tr = &r.scenario["traces"][0];
                ensure!(tr["format"] == "csv", "trace {tr}");
                let file = repo().join("scenarios").join(tr["file"].as_str().unwrap());
                ensure!(
                    file.is_file(),
                    "{} is not in the repository",
                    file.display()
                );
                Ok(())
            }),
            claim(
                "the service that fails is not the one that filled the subnet",
                |r| {
                    let failing = r.summary()["first_exhaustion"]["workload"].clone();
                    let filler = r
                        .workloads()
                        .iter()
                        .max_by_key(|w| w["peak_held"].as_u64())
                        .unwrap();
                    ensure!(
                        filler["name"] != failing,
                        "{failing} failed and filled the subnet"
                    );
                    ensure!(
                        filler["failed_attempts"] == 0,
                        "{} failed too",
                        filler["name"]
                    );
                    ensure!(r.summary()["min_free"] == 0, "the subnet never filled");
                    Ok(())
                },
            ),
        ],
    );
    t.insert(
        "legacy-4x.json",
        vec![
            claim("the pre-March-2025 rule of 4 addresses per instance", |r| {
                ensure!(
                    r.scenario["params"]["ips_per_instance"] == 4,
                    "ips_per_instance {}",
                    r.scenario["params"]["ips_per_instance"]
                );
                for row in &r.workloads {
                    ensure!(
                        num(row, "in_use") == 4 * num(row, "running"),
                        "{} addresses for {} instances at {} ms",
                        row["in_use"],
                        row["running"],
                        row["time_ms"]
                    );
                }
                Ok(())
            }),
            claim("the swap of `revision-swap.json`", |r| {
                let roomy = scenario_file("revision-swap.json");
                ensure!(
                    r.scenario["workloads"] == roomy["workloads"],
                    "its workloads differ from revision-swap.json's"
                );
                Ok(())
            }),
            claim("fails on the same /23", |r| {
                let roomy = scenario_file("revision-swap.json");
                ensure!(
                    r.scenario["subnets"] == roomy["subnets"],
                    "its subnet differs from revision-swap.json's"
                );
                r.on_prefix(23)?;
                let (swap, first) = (r.marker_ms("swap")?, r.first_exhaustion_ms()?);
                ensure!(
                    first == swap,
                    "first failure at {first} ms, swap at {swap} ms"
                );
                Ok(())
            }),
        ],
    );
    t.insert(
        "connector.json",
        vec![
            claim("a Serverless VPC Access connector", |r| {
                ensure!(
                    r.workloads().iter().any(|w| w["kind"] == "connector"),
                    "no connector"
                );
                Ok(())
            }),
            claim("scaling out", |r| {
                let running: Vec<u64> = r.workloads.iter().map(|x| num(x, "running")).collect();
                ensure!(
                    running.windows(2).any(|p| p[1] > p[0]),
                    "running {running:?}"
                );
                Ok(())
            }),
            claim("never in", |r| {
                let running: Vec<u64> = r.workloads.iter().map(|x| num(x, "running")).collect();
                ensure!(
                    running.windows(2).all(|p| p[1] >= p[0]),
                    "running {running:?}"
                );
                Ok(())
            }),
            claim("saturating", |r| {
                let w = r.report["saturation_windows"].as_array().unwrap();
                ensure!(!w.is_empty(), "no saturation window");
                Ok(())
            }),
        ],
    );
    t.insert(
        "egress-compare.json",
        vec![
            claim(
                "Direct VPC egress against a connector, on the same cost lines",
                |r| {
                    let designs: Vec<&Value> = r.report["cost"]["designs"]
                        .as_array()
                        .map(|d| d.iter().map(|x| &x["design"]).collect())
                        .unwrap_or_default();
                    ensure!(
                        designs == ["direct-vpc", "connector"],
                        "designs {designs:?}"
                    );
                    let lines = |i: usize| r.report["cost"]["designs"][i]["lines"].clone();
                    for k in ["dns_zones", "dns_queries", "nat_data_processing"] {
                        ensure!(
                            lines(0)[k] == lines(1)[k],
                            "{k} differs between the designs"
                        );
                    }
                    Ok(())
                },
            ),
            claim("cost", |r| {
                for d in r.report["cost"]["designs"].as_array().unwrap() {
                    ensure!(
                        d["monthly_usd"].as_f64().is_some_and(|c| c > 0.0),
                        "{}",
                        d["design"]
                    );
                }
                Ok(())
            }),
            claim("who fails first (the connector)", |r| {
                let c = &r.report["cost"];
                ensure!(
                    c["fails_first"] == "connector",
                    "fails first: {}",
                    c["fails_first"]
                );
                ensure!(r.summary()["exhausted"] == false, "the services ran dry");
                Ok(())
            }),
        ],
    );
    t
}

/// The rows of the README's "Bundled scenarios" table: (file, what it shows).
fn readme_rows() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split("\n## Bundled scenarios\n")
        .nth(1)
        .expect("README.md has a \"Bundled scenarios\" section");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2) // the header and the separator
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 2, "README row {l:?}");
            (cells[0].trim_matches('`').to_string(), cells[1].to_string())
        })
        .collect()
}

fn run(file: &str) -> Run {
    let stem = file.trim_end_matches(".json");
    let out = tmp(&format!("readme-{stem}"));
    let o = ipsim(&[
        "run",
        &format!("scenarios/{file}"),
        "--out",
        out.to_str().unwrap(),
        "--no-chart",
    ]);
    assert!(o.status.success(), "{file}: {}", text(&o.stderr));
    Run {
        file: file.to_string(),
        scenario: scenario_file(file),
        report: read_json(&out.join("report.json")),
        occupancy: read_csv(&out.join("occupancy.csv")),
        workloads: read_csv(&out.join("workloads.csv")),
    }
}

#[test]
fn readme_bundled_scenarios_table_is_true() {
    let rows = readme_rows();
    let claims = claims();
    let listed: Vec<&str> = rows.iter().map(|(f, _)| f.as_str()).collect();
    let known: Vec<&str> = claims.keys().copied().collect();
    let mut bundled: Vec<String> = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    bundled.sort();
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted, known,
        "README rows against the claims this test knows"
    );
    assert_eq!(sorted, bundled, "README rows against the scenarios/ folder");

    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = listed.iter().map(|f| s.spawn(move || run(f))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut failures = Vec::new();
    for ((file, shows), r) in rows.iter().zip(&runs) {
        for c in &claims[file.as_str()] {
            if !shows.contains(c.phrase) {
                failures.push(format!("{file}: the row no longer says {:?}", c.phrase));
            } else if let Err(why) = (c.check)(r) {
                failures.push(format!("{file}: {:?} is false: {why}", c.phrase));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The README's "Size a subnet" example, against `ipsim size`.
#[test]
fn readme_size_example_is_true() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    for phrase in [
        "`ipsim size scenarios/shared-subnet.json` finds the smallest prefix that survives (a /23)",
        "plus a buffer: 58 addresses, a /25)",
        "On `scenarios/surge.json` the two agree on a /22, while 2 x its 200 peak instances (400) would have fitted the /23 that runs dry",
    ] {
        assert!(
            readme.contains(phrase),
            "README.md no longer says {phrase:?}"
        );
    }
    let size = |file: &str| -> Value { size_json(file)["subnets"][0].clone() };
    let shared = size("scenarios/shared-subnet.json");
    assert_eq!(shared["smallest_prefix"], 23, "{shared}");
    assert_eq!(shared["overlap_rule"], 58, "{shared}");
    assert_eq!(shared["rule_prefix"], 25, "{shared}");
    let surge = size("scenarios/surge.json");
    assert_eq!(surge["smallest_prefix"], 22, "{surge}");
    assert_eq!(surge["rule_prefix"], 22, "{surge}");
    assert_eq!(surge["steady_rule"], 400, "{surge}");
    assert_eq!(surge["declared_prefix"], 23, "{surge}");
    assert_eq!(
        surge["probes"][1],
        serde_json::json!([23, false]),
        "{surge}"
    );
}
