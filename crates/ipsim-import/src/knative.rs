//! `gcloud run services|jobs|worker-pools describe NAME --format export`: a Knative-style
//! `Service`, a `Job` or a `WorkerPool`. Annotations are strings (`maxScale: "100"`), and
//! `run.googleapis.com/network-interfaces` is a JSON string inside the YAML.

use serde_json::Value;

use crate::build::{Collected, Found, Kind, interface_subnet};
use crate::doc::Doc;

const MAX: [&str; 2] = [
    "autoscaling.knative.dev/maxScale",
    "run.googleapis.com/maxScale",
];
const MIN: [&str; 2] = [
    "autoscaling.knative.dev/minScale",
    "run.googleapis.com/minScale",
];
const NICS: &str = "run.googleapis.com/network-interfaces";
const CONNECTOR: &str = "run.googleapis.com/vpc-access-connector";
const MANUAL: &str = "run.googleapis.com/manualInstanceCount";

/// Every document of a YAML file (gcloud prints one; a `---` stream or a `kind: List` holds
/// several, each read).
pub(crate) fn read_all(file: &str, docs: Vec<Value>, cx: &mut Collected) {
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    if docs.is_empty() {
        cx.err(file, "", "the YAML holds no document: expected the output of `gcloud run services describe NAME --format export`");
        return;
    }
    if docs.len() > 1 {
        cx.note(format!(
            "{file}: {} YAML documents, each read as one resource",
            docs.len()
        ));
    }
    for (i, d) in docs.iter().enumerate() {
        let label = if docs.len() > 1 {
            format!("{file} (document {})", i + 1)
        } else {
            file.to_string()
        };
        if d.get("kind").and_then(Value::as_str) == Some("List") {
            let items = d
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            cx.note(format!(
                "{label}: a List of {} items, each read as one resource",
                items.len()
            ));
            for (j, it) in items.iter().enumerate() {
                read(&format!("{label} items[{j}]"), it, cx);
            }
            continue;
        }
        read(&label, d, cx);
    }
}

/// One resource.
fn read(file: &str, v: &Value, cx: &mut Collected) {
    let mut doc = Doc::new(file, v);
    let kind = match doc.get(v, "", "kind") {
        Some((Value::String(k), _)) => k.clone(),
        _ => {
            cx.err(file, "kind", "no \"kind\": expected a Cloud Run Service, Job or WorkerPool as `gcloud run ... describe --format export` prints it");
            return;
        }
    };
    let kind = match kind.as_str() {
        "Service" => Kind::Service,
        "Job" => Kind::Job,
        "WorkerPool" => Kind::WorkerPool,
        other => {
            cx.err(
                file,
                "kind",
                format!(
                    "{other:?} is not a Cloud Run resource ipsim reads: Service, Job or WorkerPool"
                ),
            );
            return;
        }
    };
    doc.get(v, "", "apiVersion");
    let Some((meta, mp)) = doc.get(v, "", "metadata") else {
        cx.err(
            file,
            "metadata",
            "no metadata: the resource's name is in metadata.name",
        );
        return;
    };
    let name = match doc.get(meta, &mp, "name") {
        Some((Value::String(n), _)) => n.clone(),
        _ => {
            cx.err(
                file,
                "metadata.name",
                "no name: the resource's name is in metadata.name",
            );
            return;
        }
    };
    let owner = format!("{} {name:?}", kind.name());
    let top = doc.get(meta, &mp, "annotations");
    let Some((spec, sp)) = doc.get(v, "", "spec") else {
        cx.err(file, "spec", format!("{owner} has no spec"));
        return;
    };
    // A job's revision-like template is spec.template.spec.template; the annotations of its
    // execution are on spec.template.metadata.
    let Some((tmpl, tp)) = doc.get(spec, &sp, "template") else {
        cx.err(
            file,
            &format!("{sp}.template"),
            format!("{owner} has no template"),
        );
        return;
    };
    let tmeta = doc.get(tmpl, &tp, "metadata");
    let tann = tmeta.and_then(|(m, p)| doc.get(m, &p, "annotations"));
    let tspec = doc.get(tmpl, &tp, "spec");

    // Direct VPC egress: the network interfaces annotation, or a connector, or neither.
    let connector = tann.clone().and_then(|(a, p)| doc.get(a, &p, CONNECTOR));
    let nics = tann.clone().and_then(|(a, p)| doc.get(a, &p, NICS));
    let subnet = match (nics, connector) {
        (Some((Value::String(text), p)), _) => match serde_json::from_str::<Value>(text) {
            Ok(list) => {
                let mut inner = Doc::new(file, &list);
                let first = inner.items(&list, "").into_iter().next();
                let Some((nic, np)) = first else {
                    cx.err(file, &p, format!("{owner}: the network interfaces list is empty: Direct VPC egress needs one interface with a subnetwork"));
                    return;
                };
                if list.as_array().map_or(0, Vec::len) > 1 {
                    cx.note(format!("{file}: {owner}: only the first network interface is read (Cloud Run takes one)"));
                }
                let s = interface_subnet(cx, &mut inner, file, nic, &np, &p, &owner);
                cx.unused(&inner, &format!(" {NICS}"));
                s
            }
            Err(e) => {
                cx.err(file, &p, format!("not a JSON list of interfaces like '[{{\"network\":\"default\",\"subnetwork\":\"run-subnet\"}}]': {e}"));
                return;
            }
        },
        (Some((other, p)), _) => {
            cx.err(
                file,
                &p,
                format!(
                    "{other} is not a string: the annotation holds the interfaces as a JSON string"
                ),
            );
            return;
        }
        (None, Some((c, _))) => {
            cx.note(format!(
                "{file}: {owner} uses the Serverless VPC Access connector {c} \
                 ({CONNECTOR}), not Direct VPC egress: it takes no address of a Cloud Run \
                 subnet, so it is left out (`ipsim cost` compares the two designs)"
            ));
            cx.unused(&doc, "");
            return;
        }
        (None, None) => {
            cx.note(format!(
                "{file}: {owner} has no network interfaces ({NICS}) and no connector: it does \
                 not use Direct VPC egress, so it takes no subnet address and is left out"
            ));
            cx.unused(&doc, "");
            return;
        }
    };
    let Some(subnet) = subnet else { return };
    let mut w = Found::new(name, kind, file, subnet);

    // Scale: the template's annotations and the resource's own (service level).
    for (ann, level) in [(tann.clone(), "template"), (top.clone(), "service")] {
        let Some((a, ap)) = ann else { continue };
        for key in MAX {
            if let Some((x, p)) = doc.get(a, &ap, key)
                && let Some(n) = cx.count(file, &p, x)
            {
                let field = format!("{level} {}", key.rsplit('/').next().unwrap_or(key));
                w.max = match w.max.take() {
                    Some((m, f)) if m != 0 && (n == 0 || m <= n) => Some((m, f)),
                    _ => Some((n, field)),
                };
            }
        }
        for key in MIN {
            if let Some((x, p)) = doc.get(a, &ap, key)
                && let Some(n) = cx.count(file, &p, x)
            {
                w.min = w.min.max(n);
            }
        }
        if let Some((x, p)) = doc.get(a, &ap, MANUAL)
            && let Some(n) = cx.count(file, &p, x)
        {
            w.manual = Some((n, "manualInstanceCount".into()));
        }
    }
    match kind {
        Kind::Service | Kind::WorkerPool => {
            if let Some((s, p)) = tspec
                && let Some((c, cp)) = doc.get(s, &p, "containerConcurrency")
                && let Some(n) = cx.count(file, &cp, c)
            {
                cx.note(format!("{file}: {owner}: containerConcurrency {n} is not needed for a demand in instances"));
            }
        }
        Kind::Job => {
            if let Some((s, p)) = tspec {
                if let Some((x, xp)) = doc.get(s, &p, "taskCount") {
                    w.tasks = cx.count(file, &xp, x).unwrap_or(1);
                }
                if let Some((x, xp)) = doc.get(s, &p, "parallelism") {
                    w.parallelism = cx.count(file, &xp, x).unwrap_or(0);
                }
                let task = doc
                    .get(s, &p, "template")
                    .and_then(|(t, tp)| doc.get(t, &tp, "spec"));
                if let Some((ts, tsp)) = task
                    && let Some((x, xp)) = doc.get(ts, &tsp, "timeoutSeconds")
                {
                    w.timeout_ms = cx.seconds(file, &xp, x).unwrap_or(w.timeout_ms);
                }
            }
            if w.tasks == 0 {
                cx.err(
                    file,
                    "spec.template.spec.taskCount",
                    "a job needs at least one task",
                );
            }
        }
    }
    cx.unused(&doc, "");
    cx.workloads.push(w);
}
