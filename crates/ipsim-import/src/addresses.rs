//! `gcloud compute addresses list --filter="subnetwork~SUBNET" --format=json`: the subnet's
//! reserved addresses. `serverless-ipv4-*` /28 reservations are Cloud Run's blocks; every
//! other address (purpose `GCE_ENDPOINT` and the rest) is a static allocation.

use serde_json::Value;

use crate::build::{Addr, Collected, SubnetRef, subnet_name};
use crate::doc::Doc;

pub(crate) fn read(file: &str, v: &Value, cx: &mut Collected) {
    let mut doc = Doc::new(file, v);
    let mut skipped = Vec::new();
    for (a, p) in doc.items(v, "") {
        let name = doc
            .get(a, &p, "name")
            .and_then(|(n, _)| n.as_str().map(String::from));
        let Some(name) = name else {
            cx.err(file, &format!("{p}.name"), "an address without a name: expected the output of `gcloud compute addresses list --format=json`");
            continue;
        };
        let kind = doc
            .get(a, &p, "addressType")
            .and_then(|(t, _)| t.as_str().map(String::from));
        if kind.as_deref() == Some("EXTERNAL") {
            skipped.push(name);
            continue;
        }
        let address = match doc.get(a, &p, "address") {
            Some((Value::String(s), ap)) => match s.parse::<std::net::Ipv4Addr>() {
                Ok(_) => s.clone(),
                Err(_) => {
                    cx.err(
                        file,
                        &ap,
                        format!("{s:?} is not an IPv4 address like \"10.0.0.5\""),
                    );
                    continue;
                }
            },
            _ => {
                cx.err(
                    file,
                    &format!("{p}.address"),
                    format!("address {name:?} has no \"address\""),
                );
                continue;
            }
        };
        let prefix_len = match doc.get(a, &p, "prefixLength") {
            Some((x, xp)) => match x.as_u64().filter(|&n| (8..=32).contains(&n)) {
                Some(n) => Some(n as u8),
                None => {
                    cx.err(
                        file,
                        &xp,
                        format!("{x} is not a prefix length from 8 to 32"),
                    );
                    continue;
                }
            },
            None => None,
        };
        let purpose = doc
            .get(a, &p, "purpose")
            .and_then(|(x, _)| x.as_str().map(String::from))
            .unwrap_or_else(|| "no purpose".into());
        doc.get(a, &p, "status"); // RESERVED or IN_USE: both hold the address
        let subnet = match doc.get(a, &p, "subnetwork") {
            Some((Value::String(s), sp)) => SubnetRef {
                name: subnet_name(s),
                written: s.clone(),
                file: file.to_string(),
                path: crate::doc::show(&sp),
            },
            _ => {
                cx.err(file, &format!("{p}.subnetwork"), format!("internal address {name:?} names no subnetwork (list with --filter=\"subnetwork~SUBNET\")"));
                continue;
            }
        };
        cx.addresses.push(Addr {
            name,
            address,
            prefix_len,
            purpose,
            subnet,
        });
    }
    if !skipped.is_empty() {
        cx.note(format!(
            "{file}: external addresses, on no subnet, left out: {}",
            skipped.join(", ")
        ));
    }
    if v.as_array().is_some_and(Vec::is_empty) {
        cx.note(format!(
            "{file}: no address: the subnet holds none besides Cloud Run's"
        ));
    }
    cx.unused(&doc, "");
}
