//! Integration tests of ipsim-core: the Cloud Run documentation's worked examples and docs/model.md's rules, each
//! asserting exact figures at exact times, plus property tests over random workloads.

#![allow(missing_docs)]

mod examples;
mod outcomes;
mod props;
mod rules;
mod tidy;
mod timeline;
mod validation;

use ipsim_core::{Output, SimInput, SubnetSpec, WorkloadSpec, simulate};

pub const S: u64 = 1_000;
pub const MIN: u64 = 60 * S;

/// `10.0.0.0/len` with default policy.
pub fn subnet(len: u8) -> SubnetSpec {
    SubnetSpec::new(
        "run-subnet",
        u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0)),
        len,
    )
}

pub fn ip(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from(std::net::Ipv4Addr::new(a, b, c, d))
}

pub fn run(subnets: Vec<SubnetSpec>, workloads: Vec<WorkloadSpec>, duration_ms: u64) -> Output {
    simulate(&SimInput::new(subnets, workloads, duration_ms)).expect("valid input")
}

pub fn run_input(input: &SimInput) -> Output {
    simulate(input).expect("valid input")
}
