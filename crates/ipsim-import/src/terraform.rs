//! `terraform show -json` of a plan (`planned_values`, `resource_changes`, `configuration`)
//! or of a state (`values`): the Cloud Run v2 resources, the subnetworks and the connectors.

use serde_json::Value;

use crate::build::{Collected, Found, Kind, Net, SubnetRef, interface_subnet, subnet_name};
use crate::doc::Doc;

/// The resources of a module and of its child modules, depth first.
fn resources<'a>(m: &'a Value, out: &mut Vec<&'a Value>) {
    if let Some(rs) = m.get("resources").and_then(Value::as_array) {
        out.extend(rs.iter());
    }
    if let Some(cs) = m.get("child_modules").and_then(Value::as_array) {
        for c in cs {
            resources(c, out);
        }
    }
}

pub(crate) fn read(file: &str, v: &Value, cx: &mut Collected) {
    let (section, values) = match (v.get("planned_values"), v.get("values")) {
        (Some(p), _) => ("planned_values", p),
        (None, Some(s)) => ("values", s),
        (None, None) => {
            cx.err(file, "", "`terraform show -json` output with neither \"planned_values\" (a plan) nor \"values\" (a state): was the plan empty?");
            return;
        }
    };
    let Some(root) = values.get("root_module") else {
        cx.err(file, section, "no root_module");
        return;
    };
    let mut all = Vec::new();
    resources(root, &mut all);
    let mut left = Vec::new();
    // Subnets first, so that a service's reference to one by address can be resolved.
    let mut subnets: Vec<(String, String)> = Vec::new(); // (address, name)
    for r in &all {
        if r.get("type").and_then(Value::as_str) == Some("google_compute_subnetwork")
            && let Some(n) = subnetwork(file, r, cx)
        {
            subnets.push((address(r), n));
        }
    }
    for r in &all {
        let ty = r.get("type").and_then(Value::as_str).unwrap_or("");
        let kind = match ty {
            "google_cloud_run_v2_service" => Kind::Service,
            "google_cloud_run_v2_job" => Kind::Job,
            "google_cloud_run_v2_worker_pool" => Kind::WorkerPool,
            "google_compute_subnetwork" => continue,
            "google_vpc_access_connector" => {
                connector(file, r, cx);
                continue;
            }
            _ => {
                left.push(address(r));
                continue;
            }
        };
        run(file, v, r, kind, &subnets, cx);
    }
    if !left.is_empty() {
        cx.note(format!(
            "{file}: resources not read (no Cloud Run, subnet or connector): {}",
            left.join(", ")
        ));
    }
    let mut top: Vec<&str> = v
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, x)| {
                    !x.is_null()
                        && ![
                            "format_version",
                            "terraform_version",
                            section,
                            "configuration",
                        ]
                        .contains(&k.as_str())
                })
                .map(|(k, _)| k.as_str())
                .collect()
        })
        .unwrap_or_default();
    top.sort();
    if !top.is_empty() {
        cx.note(format!(
            "{file}: not used: {} (the scenario is made of {section}; configuration only for references unknown until apply)",
            top.join(", ")
        ));
    }
}

fn address(r: &Value) -> String {
    r.get("address")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

/// A resource's `values` and the Doc of them, labelled `file: address`.
fn values<'a>(file: &str, r: &'a Value) -> (Doc<'a>, &'a Value) {
    static NULL: Value = Value::Null;
    let v = r.get("values").unwrap_or(&NULL);
    (Doc::new(format!("{file}: {}", address(r)), v), v)
}

/// A block (Terraform lists nested blocks as arrays of one object): its first element.
fn block<'a>(
    doc: &mut Doc<'a>,
    v: &'a Value,
    path: &str,
    key: &str,
) -> Option<(&'a Value, String)> {
    let (b, p) = doc.get(v, path, key)?;
    doc.items(b, &p).into_iter().next()
}

fn subnetwork(file: &str, r: &Value, cx: &mut Collected) -> Option<String> {
    let (mut doc, v) = values(file, r);
    let label = doc.file.clone();
    let name = match doc.get(v, "", "name") {
        Some((Value::String(n), _)) => n.clone(),
        _ => {
            cx.err(&label, "name", "a subnetwork without a name");
            return None;
        }
    };
    match doc.get(v, "", "ip_cidr_range") {
        Some((Value::String(c), _)) => cx.subnets.push(Net { name: name.clone(), cidr: c.clone(), file: label.clone() }),
        _ => cx.err(&label, "ip_cidr_range", format!("subnet {name:?} has no ip_cidr_range (unknown until apply?): give it with --subnet {name}=CIDR")),
    }
    if let Some((s, p)) = doc.get(v, "", "secondary_ip_range")
        && s.as_array().is_some_and(|a| !a.is_empty())
    {
        doc.mark(&p);
        cx.note(format!("{label}: secondary_ip_range ignored: Cloud Run's Direct VPC egress takes addresses from the primary range"));
    }
    cx.unused(&doc, "");
    Some(name)
}

fn connector(file: &str, r: &Value, cx: &mut Collected) {
    let (mut doc, v) = values(file, r);
    let label = doc.file.clone();
    let name = doc
        .get(v, "", "name")
        .and_then(|(n, _)| n.as_str().map(String::from))
        .unwrap_or_default();
    let range = doc
        .get(v, "", "ip_cidr_range")
        .and_then(|(n, _)| n.as_str().map(String::from));
    cx.note(format!(
        "{label}: connector {name:?}{}: a Serverless VPC Access connector, not Direct VPC egress; \
         its services are left out (`ipsim cost` compares the two designs)",
        range.map_or(String::new(), |r| format!(" on {r}"))
    ));
    cx.unused(&doc, "");
}

/// A Cloud Run v2 service, job or worker pool.
fn run(
    file: &str,
    top: &Value,
    r: &Value,
    kind: Kind,
    subnets: &[(String, String)],
    cx: &mut Collected,
) {
    let addr = address(r);
    let (mut doc, v) = values(file, r);
    let label = doc.file.clone();
    let name = match doc.get(v, "", "name") {
        Some((Value::String(n), _)) => n.clone(),
        _ => {
            cx.err(&label, "name", "no name (unknown until apply?)");
            return;
        }
    };
    let owner = format!("{} {name:?}", kind.name());
    let Some((t, tp)) = block(&mut doc, v, "", "template") else {
        cx.err(&label, "template", format!("{owner} has no template"));
        return;
    };
    // A job's task template is template.template.
    let (task, taskp) = match kind {
        Kind::Job => match block(&mut doc, t, &tp, "template") {
            Some(x) => x,
            None => {
                cx.err(
                    &label,
                    &format!("{tp}.template"),
                    format!("{owner} has no task template"),
                );
                return;
            }
        },
        _ => (t, tp.clone()),
    };
    let vpc = block(&mut doc, task, &taskp, "vpc_access");
    let nic = vpc
        .clone()
        .and_then(|(va, vp)| block(&mut doc, va, &vp, "network_interfaces"));
    let conn = vpc
        .clone()
        .and_then(|(va, vp)| doc.get(va, &vp, "connector"));
    if let Some((va, vp)) = vpc.clone() {
        doc.get(va, &vp, "egress");
    }
    let subnet = match (nic, conn) {
        (Some((n, np)), _) => {
            let given = n.get("subnetwork").is_some_and(|s| !s.is_null());
            match referenced(top, &addr, subnets).filter(|_| !given) {
                // Unknown until apply: the configuration says which subnetwork it refers to.
                Some(s) => {
                    doc.get(n, &np, "network");
                    if let Some((_, p)) = doc.get(n, &np, "tags") {
                        doc.mark(&p);
                    }
                    cx.note(format!("{label}: {owner}: the subnetwork is known only after apply; the configuration refers to subnet {s:?}"));
                    Some(SubnetRef {
                        name: s.clone(),
                        written: s,
                        file: label.clone(),
                        path: crate::doc::show(&format!("{np}.subnetwork")),
                    })
                }
                None => interface_subnet(cx, &mut doc, &label, n, &np, "", &owner),
            }
        }
        (None, Some((c, _))) => {
            cx.note(format!("{label}: {owner} uses the connector {c}, not Direct VPC egress: it takes no address of a Cloud Run subnet, so it is left out"));
            cx.unused(&doc, "");
            return;
        }
        (None, None) => {
            cx.note(format!("{label}: {owner} has no vpc_access network interfaces: it does not use Direct VPC egress, so it takes no subnet address and is left out"));
            cx.unused(&doc, "");
            return;
        }
    };
    let Some(subnet) = subnet else { return };
    let mut w = Found::new(name, kind, &label, subnet);
    for (s, at) in [
        (block(&mut doc, t, &tp, "scaling"), "template scaling"),
        (block(&mut doc, v, "", "scaling"), "service scaling"),
    ] {
        let Some((s, sp)) = s else { continue };
        if let Some((x, p)) = doc.get(s, &sp, "max_instance_count")
            && let Some(n) = cx.count(&label, &p, x)
        {
            w.max = match w.max.take() {
                Some((m, f)) if m != 0 && (n == 0 || m <= n) => Some((m, f)),
                _ => Some((n, format!("{at} max_instance_count"))),
            };
        }
        if let Some((x, p)) = doc.get(s, &sp, "min_instance_count")
            && let Some(n) = cx.count(&label, &p, x)
        {
            w.min = w.min.max(n);
        }
        if let Some((x, p)) = doc.get(s, &sp, "manual_instance_count")
            && let Some(n) = cx.count(&label, &p, x)
        {
            w.manual = Some((n, "manual_instance_count".into()));
        }
        doc.get(s, &sp, "scaling_mode");
    }
    match kind {
        Kind::Job => {
            if let Some((x, p)) = doc.get(t, &tp, "task_count") {
                w.tasks = cx.count(&label, &p, x).unwrap_or(1);
            }
            if let Some((x, p)) = doc.get(t, &tp, "parallelism") {
                w.parallelism = cx.count(&label, &p, x).unwrap_or(0);
            }
            if let Some((x, p)) = doc.get(task, &taskp, "timeout") {
                w.timeout_ms = cx.seconds(&label, &p, x).unwrap_or(w.timeout_ms);
            }
        }
        _ => {
            if let Some((x, p)) = doc.get(t, &tp, "max_instance_request_concurrency")
                && let Some(n) = cx.count(&label, &p, x)
            {
                cx.note(format!("{label}: max_instance_request_concurrency {n} is not needed for a demand in instances"));
            }
        }
    }
    cx.unused(&doc, "");
    cx.workloads.push(w);
}

/// The subnet a resource's network interface refers to in the plan's configuration
/// (`google_compute_subnetwork.NAME.id`), by the subnet's name.
fn referenced(top: &Value, addr: &str, subnets: &[(String, String)]) -> Option<String> {
    let mut all = Vec::new();
    resources(top.get("configuration")?.get("root_module")?, &mut all);
    let r = all
        .into_iter()
        .find(|r| r.get("address").and_then(Value::as_str) == Some(addr))?;
    let text = r.get("expressions")?.to_string();
    subnets
        .iter()
        .find(|(a, _)| text.contains(&format!("\"{a}")))
        .map(|(_, n)| subnet_name(n))
}
