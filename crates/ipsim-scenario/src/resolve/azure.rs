//! `traces[].functions`: the services an Azure Functions trace makes. Either `top` (1 to
//! 10,000) or `hashes` (prefixes of at least 8 hex digits), a declared subnet, a latency or a
//! durations file that has every chosen function, names not taken, and at most 100,000
//! instances a minute.

use std::collections::BTreeMap;

use ipsim_core::{DemandPoint, WorkloadSpec};

use super::Resolver;
use super::demand::{scaled_mut, set_demand, too_many};
use super::params::Settings;
use super::workloads::Workloads;
use crate::def::{FunctionsDef, TraceDef};
use crate::demand::{self, Requests};
use crate::exact::Exact;
use crate::locate::JsonPath;
use crate::trace::azure;

impl Resolver<'_> {
    /// Adds the services of trace `i` (`t`, with `f` its `functions`) to `out`.
    pub(super) fn azure(
        &mut self,
        i: usize,
        t: &TraceDef,
        f: &FunctionsDef,
        subnet_idx: &BTreeMap<String, usize>,
        s: &Settings,
        out: &mut Workloads,
    ) {
        let p = JsonPath::from("traces").index(i).key("functions");
        let select = match (f.top, f.hashes.is_empty()) {
            (Some(n), true) if n > 0 && n <= 10_000 => azure::Select::Top(n as usize),
            (None, false) => {
                for (j, h) in f.hashes.iter().enumerate() {
                    if h.len() < 8 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                        self.err(
                            p.key("hashes").index(j),
                            format!("{h:?} is not a hash prefix of at least 8 hex digits"),
                        );
                    }
                }
                azure::Select::Hashes(f.hashes.clone())
            }
            _ => {
                self.err(
                    p,
                    "give either \"top\" (1 to 10,000 functions) or \"hashes\"",
                );
                return;
            }
        };
        let Some(&subnet) = subnet_idx.get(&f.subnet) else {
            if self.gaps.unnamed.contains("subnets") {
                return; // perhaps the unread one
            }
            self.err(
                p.key("subnet"),
                format!("subnet {:?} is not declared", f.subnet),
            );
            return;
        };
        let durations = match &f.durations_file {
            Some(d) => match azure::read_durations(&self.file(d)) {
                Ok(m) => Some(m),
                Err(e) => {
                    self.errs.extend(e);
                    return;
                }
            },
            None => None,
        };
        if durations.is_none() && f.latency.is_none() {
            self.err(
                p.key("latency"),
                "give a latency, or a durations_file with each function's average",
            );
            return;
        }
        let funcs = match azure::read(&self.file(t.file.first()), &select) {
            Ok(v) => v,
            Err(e) => {
                self.errs.extend(e);
                return;
            }
        };
        for func in funcs {
            let latency_ms = match durations.as_ref().and_then(|d| d.get(&func.hash)) {
                Some(avg) => avg.clone(),
                None => match f.latency {
                    Some(l) => Exact::int(l.ms()),
                    None => {
                        self.err(p.key("durations_file"), format!("the durations file has no function {}; give a latency to fall back on", func.hash));
                        continue;
                    }
                },
            };
            let req = Requests::new(&latency_ms, s.concurrency, &s.target);
            // The first 12 characters (a HashFunction need not be ASCII hex).
            let name = format!("fn-{}", func.hash.chars().take(12).collect::<String>());
            if !out.names.insert(name.clone()) {
                self.err(p.clone(), format!("workload {name:?} already exists"));
                continue;
            }
            let mut w = WorkloadSpec::service(name, subnet);
            if let Some(sc) = scaled_mut(&mut w) {
                sc.max_instances = f.max_instances;
            }
            let mut pts: Vec<DemandPoint> = Vec::new();
            for (m, &count) in func.per_minute.iter().enumerate() {
                let t = m as u64 * 60_000;
                if t >= s.duration {
                    break;
                }
                let rate = Exact::ratio(u64::from(count), 60).unwrap_or_else(Exact::zero);
                let Some(n) = demand::instances(&rate, Some(&req)) else {
                    self.err(
                        p.clone(),
                        format!("function {}: {}", func.hash, too_many(t)),
                    );
                    break;
                };
                if pts.last().map(|p| p.instances) != Some(n) {
                    pts.push(DemandPoint {
                        time_ms: t,
                        instances: n,
                    });
                }
            }
            set_demand(
                &mut w,
                match f.idle_delay {
                    Some(d) if d.ms() > 0 => demand::idle_delay(&pts, d.ms()),
                    _ => pts,
                },
            );
            out.specs.push(w);
            out.azure_from.push(i);
        }
    }
}
