//! ipsim-core replays Cloud Run's IP address allocation on a VPC subnet (Direct VPC egress),
//! event by event, and says the millisecond a start fails for want of addresses.
//!
//! It implements the allocation model of docs/model.md: aligned /28 blocks reserved by one owner,
//! 2 addresses per service instance and 1 per job task, retention of 20 and 7 minutes after a
//! stop, revision swaps with whole-percent rollouts, retries every 10 seconds, and a fixed
//! order for events at the same millisecond. The core is deterministic: no I/O, no wall clock,
//! no global state; its only randomness is a `ChaCha8Rng` seeded from [`SimInput::seed`].
//!
//! # Brief overview
//!
//! - [`SimInput`] is the resolved input: [`SubnetSpec`]s, [`WorkloadSpec`]s with their demand
//!   (an instance-count step function, swaps, or job executions), [`Params`] and a seed.
//! - [`Simulation::new`] checks it and reports every [`InputError`] at once; once built, a run
//!   cannot fail: running out of addresses is an outcome, not an error.
//! - [`Simulation::run`] returns an [`Output`]: per subnet the step function of
//!   [`SubnetRow`]s (in use, retained, reserved-idle, unreserved, blocks), per workload its
//!   [`WorkloadRow`]s, the event log, and [`Summary`] figures (peaks, the first exhaustion,
//!   failure windows, deploy failures, unmet instance-seconds).
//!
//! # Example
//!
//! The worked example of the Cloud Run documentation: revision 1 at 100 instances swaps at once
//! to revision 2 at 100 instances. During revision 1's 20-minute retention, 400 addresses are
//! held; a /23 holds them, a /24 does not.
//!
//! ```
//! use ipsim_core::{SimInput, SubnetSpec, WorkloadSpec, simulate};
//!
//! let min = 60_000;
//! let api = WorkloadSpec::service("api", 0).at(0, 100).swap(10 * min, 0);
//! let subnet = SubnetSpec::new("run-subnet", u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0)), 23);
//! let out = simulate(&SimInput::new(vec![subnet], vec![api], 60 * min)).unwrap();
//! assert_eq!(out.summary.peak_held, 400);
//! assert!(out.summary.first_exhaustion.is_none());
//! ```

mod alloc;
#[doc(hidden)]
pub mod bench_api;
mod demand;
mod engine;
mod error;
mod input;
mod kinds;
mod output;
mod params;
mod queue;
mod recorder;
mod series;
mod share;
mod subnet;

#[cfg(test)]
mod tests;

pub use demand::{DemandFeed, FeedPoint};
pub use engine::{Checked, Simulation, simulate};
pub use error::{ExecutionField, InputError, InputPath, ParamField, SubnetField, WorkloadField};
pub use input::{
    ConnectorSpec, DemandPoint, JobExecution, JobSpec, Kind, RunOptions, Scaled, SimInput, Swap,
    TaskDurations, WorkloadKind, WorkloadSpec,
};
pub use output::{
    DeployFailure, ExecutionTasks, ExhaustionEvent, FailureWindow, LogEvent, Output, SubnetOutput,
    SubnetRow, Summary, Unit, WorkloadOutput, WorkloadRow, WorkloadSummary, exhaustion_message,
};
pub use params::{BlockScope, EdgeBlocks, Params, Retention, Strategy};
pub use recorder::{RowSink, SubnetInfo};
pub use subnet::{
    ReservedBlock, SUPPORTED_RANGES, StaticAlloc, SubnetSpec, file_stem, fmt_addr, fmt_cidr,
};
