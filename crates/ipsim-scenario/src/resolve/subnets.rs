//! `subnets`: names declared once, CIDR and address syntax, each static given as exactly one
//! of address, prefix or count; and the subnets connectors use (a dedicated /28, which
//! Direct VPC egress does not share). Host bits, sizes, supported ranges and the statics' places in
//! the subnet are the core's rules (its layout), checked once at the end.

use std::collections::BTreeMap;

use ipsim_core::{EdgeBlocks, ReservedBlock, StaticAlloc, SubnetSpec};

use super::Resolver;
use crate::def::{EdgeDef, ScenarioDef, WorkloadKindDef};
use crate::locate::JsonPath;

/// `a.b.c.d/len` as (base, prefix length).
fn parse_net(text: &str) -> Result<(u32, u8), String> {
    let net: ipnet::Ipv4Net = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an IPv4 range like \"10.0.0.0/24\""))?;
    Ok((u32::from(net.addr()), net.prefix_len()))
}

/// `a.b.c.d` as a `u32`.
fn parse_addr(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<std::net::Ipv4Addr>()
        .map(u32::from)
        .map_err(|_| format!("{text:?} is not an IPv4 address like \"10.0.0.5\""))
}

impl Resolver<'_> {
    /// The subnets, and each one's index by name.
    pub(super) fn subnets(
        &mut self,
        def: &ScenarioDef,
    ) -> (Vec<SubnetSpec>, BTreeMap<String, usize>) {
        let mut subnet_idx = BTreeMap::new();
        let mut subnets = Vec::new();
        // Each valid range (first, last address, index), and each file stem's first subnet.
        let mut ranges: Vec<(u32, u32, usize)> = Vec::new();
        let mut stems: BTreeMap<String, usize> = BTreeMap::new();
        for (i, s) in def.subnets.iter().enumerate() {
            let p = JsonPath::from("subnets").index(i);
            self.name(&p.key("name"), "subnet", &s.name);
            if subnet_idx.insert(s.name.clone(), i).is_some() {
                self.err(
                    p.key("name"),
                    format!("subnet {:?} is declared twice", s.name),
                );
            } else if let Some(&j) = stems.get(&ipsim_core::file_stem(&s.name)) {
                self.err(
                    p.key("name"),
                    format!(
                        "subnets {:?} and {:?} would write the same chart, occupancy-{}.png; \
                         rename one (letters, digits, '-' and '_' are kept, the rest become '_')",
                        def.subnets[j].name,
                        s.name,
                        ipsim_core::file_stem(&s.name)
                    ),
                );
            } else {
                stems.insert(ipsim_core::file_stem(&s.name), i);
            }
            let (base, len) = match parse_net(&s.cidr) {
                Ok(v) => {
                    let last = u64::from(v.0) + (1u64 << (32 - u32::from(v.1).min(32))) - 1;
                    ranges.push((v.0, last.min(u64::from(u32::MAX)) as u32, i));
                    v
                }
                Err(m) => {
                    self.err(p.key("cidr"), m);
                    (0, 32)
                }
            };
            let mut spec = SubnetSpec::new(s.name.clone(), base, len);
            spec.edge_blocks = match s.edge_blocks {
                Some(EdgeDef::Partial) => EdgeBlocks::Partial,
                _ => EdgeBlocks::Excluded,
            };
            spec.allow_small_subnet = s.allow_small_subnet;
            spec.allow_unsupported_range = s.allow_unsupported_range;
            for (j, st) in s.statics.iter().enumerate() {
                let sp = p.key("statics").index(j);
                let given = [
                    st.address.is_some(),
                    st.prefix.is_some(),
                    st.count.is_some(),
                ]
                .iter()
                .filter(|&&b| b)
                .count();
                if given != 1 {
                    self.err(
                        sp,
                        "give exactly one of \"address\", \"prefix\" or \"count\"",
                    );
                    continue;
                }
                if let Some(a) = &st.address {
                    match parse_addr(a) {
                        Ok(a) => spec.statics.push(StaticAlloc::Address(a)),
                        Err(m) => self.err(sp.key("address"), m),
                    }
                } else if let Some(pr) = &st.prefix {
                    match parse_net(pr) {
                        Ok((b, l)) => spec.statics.push(StaticAlloc::Prefix {
                            base: b,
                            prefix_len: l,
                        }),
                        Err(m) => self.err(sp.key("prefix"), m),
                    }
                } else if let Some(n) = st.count {
                    spec.statics.push(StaticAlloc::Count(n));
                }
            }
            for (j, r) in s.reserved.iter().enumerate() {
                let (base, prefix_len) = match parse_net(&r.prefix) {
                    Ok(v) => v,
                    Err(m) => {
                        self.err(p.key("reserved").index(j).key("prefix"), m);
                        (0, 28) // keeps the indices; the core's error on it is moot
                    }
                };
                spec.reserved.push(ReservedBlock {
                    base,
                    prefix_len,
                    workload: None,
                });
            }
            subnets.push(spec);
        }
        // Google refuses a subnet whose range overlaps another's in the same network (a
        // scenario is one network): sorted by first address, each must start past the
        // furthest end so far.
        ranges.sort_unstable();
        let mut reach: Option<(u32, usize)> = None;
        for &(first, last, i) in &ranges {
            if let Some((end, j)) = reach.filter(|&(end, _)| first <= end) {
                let (a, b) = (j.min(i), j.max(i));
                self.err(
                    JsonPath::from("subnets").index(b).key("cidr"),
                    format!(
                        "{} overlaps subnets[{a}] {:?} ({}); subnets of one VPC network cannot \
                         share addresses",
                        def.subnets[b].cidr, def.subnets[a].name, def.subnets[a].cidr
                    ),
                );
                if last > end {
                    reach = Some((last, i));
                }
                continue;
            }
            reach = Some((last, i));
        }
        (subnets, subnet_idx)
    }

    /// Each reserved block's `holder`: a declared workload (the core checks its kind and subnet).
    pub(super) fn holders(&mut self, def: &ScenarioDef, subnets: &mut [SubnetSpec]) {
        let index: BTreeMap<&str, usize> = def
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| (w.name.as_str(), i))
            .collect();
        for (i, s) in def.subnets.iter().enumerate() {
            for (j, r) in s.reserved.iter().enumerate() {
                let Some(name) = &r.holder else { continue };
                match index.get(name.as_str()) {
                    Some(&w) => subnets[i].reserved[j].workload = Some(w),
                    None => self.err(
                        JsonPath::from("subnets")
                            .index(i)
                            .key("reserved")
                            .index(j)
                            .key("holder"),
                        format!(
                            "no workload is named {name:?}: the holder is a service or worker \
                             pool of this scenario (leave it out for existing Cloud Run)"
                        ),
                    ),
                }
            }
        }
    }

    /// A connector has a dedicated /28 of VMs. (Direct VPC on a /28, a connector's typically,
    /// is the classic mistake: the core's /26 minimum refuses it and names the connector.)
    pub(super) fn connector_rules(&mut self, def: &ScenarioDef, subnets: &[SubnetSpec]) {
        // One pass to index subnets and who is on each: linear in workloads, not quadratic.
        let index: BTreeMap<&str, usize> = def
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        let mut on: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for w in &def.workloads {
            on.entry(w.subnet.as_str())
                .or_default()
                .push(w.name.as_str());
        }
        for (i, w) in def.workloads.iter().enumerate() {
            if !matches!(w.kind, WorkloadKindDef::Connector(_)) {
                continue;
            }
            let Some(&si) = index.get(w.subnet.as_str()) else {
                continue;
            };
            if self.gaps.within(&JsonPath::from("subnets").index(si)) {
                continue; // its size is not known
            }
            let (sd, spec) = (&def.subnets[si], &subnets[si]);
            let at = JsonPath::from("workloads").index(i).key("subnet");
            if spec.prefix_len != 28 {
                self.err(
                    at.clone(),
                    format!("a Serverless VPC Access connector needs a dedicated /28 subnet; {:?} is a /{}", sd.name, spec.prefix_len),
                );
            }
            if sd.edge_blocks == Some(EdgeDef::Partial) {
                self.err(
                    at.clone(),
                    "a connector's /28 holds VMs, not Cloud Run blocks: leave edge_blocks unset",
                );
            }
            let others: Vec<&str> = on
                .get(w.subnet.as_str())
                .map(|v| v.iter().copied().filter(|&o| o != w.name).collect())
                .unwrap_or_default();
            if !others.is_empty() && !sd.allow_small_subnet {
                let (shown, more) = (others.len().min(5), others.len().saturating_sub(5));
                let mut names = others[..shown].join(", ");
                if more > 0 {
                    names.push_str(&format!(" and {more} more"));
                }
                let verb = if others.len() == 1 { "uses" } else { "use" };
                self.err(
                    at,
                    format!(
                        "connector {:?}'s /28 is dedicated to it, but {names} {verb} it too",
                        w.name
                    ),
                );
            }
        }
    }
}
