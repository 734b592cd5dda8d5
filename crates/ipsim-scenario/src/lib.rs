//! ipsim-scenario turns a JSON scenario file, and the traces it names, into the input of
//! [`ipsim_core`]. It owns everything about files: parsing, durations like `"1h30m"`, demand
//! generators, trace readers, and errors that name the file, the JSON path and the line.
//!
//! # Brief overview
//!
//! - [`def::ScenarioDef`] is the file as written (serde, unknown fields denied);
//!   [`schema`] is its JSON Schema.
//! - [`load`] reads and checks a file and returns a [`Scenario`]: the definition, the core's
//!   [`ipsim_core::SimInput`], and the CSV traces to stream during [`Scenario::run`].
//! - [`resolve`] checks a definition already in memory (one a study edited, say) the same way.
//! - Every problem is reported at once as [`ScenarioErrors`], each a [`ScenarioError`] with
//!   file, JSON path (or CSV column), line and column where known.
//!
//! # Example
//!
//! ```
//! use std::path::Path;
//! use ipsim_scenario::{Overrides, parse};
//!
//! let text = br#"{
//!   "name": "swap", "description": "100 + 100 on a /23", "duration": "1h",
//!   "subnets": [{"name": "main", "cidr": "10.0.0.0/23"}],
//!   "workloads": [{"name": "api", "subnet": "main",
//!                  "demand": {"type": "constant", "value": 100},
//!                  "swaps": [{"at": "10m"}]}]
//! }"#;
//! let scenario = parse(text, Path::new("swap.json"), &Overrides::default()).unwrap();
//! let out = scenario.run().unwrap();
//! assert_eq!(out.summary.peak_held, 400);
//! ```

pub mod bounded;
pub mod def;
pub mod demand;
pub mod duration;
mod error;
pub mod exact;
mod locate;
mod resolve;
pub mod trace;

pub use duration::Duration;
pub use error::{ScenarioError, ScenarioErrors};
pub use resolve::{
    MAX_DURATION_MS, Overrides, Scenario, load, load_with, parse, parse_def, read_def, resolve,
    resolve_holding, resolve_known,
};

/// The JSON Schema of scenario files, generated from [`def::ScenarioDef`].
pub fn schema() -> serde_json::Value {
    let s = schemars::schema_for!(def::ScenarioDef);
    serde_json::to_value(s).unwrap_or_default()
}
