//! ipsim-study runs studies over a scenario: many runs of variations of it, summarised.
//!
//! Every study runs variations the same way ([`variation`]): the scenario file is parsed once
//! into a [`Base`], each variation is a list of typed [`Edit`]s applied to a clone of its
//! definition, and the edited definition is checked by [`ipsim_scenario::resolve`] and run.
//!
//! - [`bracket`]: the scenario under every reading of what Google does not document (block
//!   scope, retention, edge blocks), one verdict over them.
//! - [`sweep`]: `--vary` fields over ranges, every point over seeds, in parallel; shards and
//!   `merge`.
//! - [`shards`]: a sweep's fingerprint, and the checks that shards are one sweep's, each once.
//! - [`size`]: the smallest prefix of each subnet with no exhaustion, beside the rule of thumb.
//! - [`compare`]: allocation strategies and policies side by side.
//! - [`cost`]: the egress cost comparison (Direct VPC + DNS, connector, connector + NAT).

pub mod bracket;
pub mod compare;
pub mod cost;
pub mod shards;
pub mod size;
pub mod sweep;
pub mod variation;

pub use variation::{Base, Edit, Field};
