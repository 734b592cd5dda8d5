//! Integration tests of ipsim-scenario: bad input, trace readers, the bundled scenarios, the
//! JSON Schema against both, and a fuzz test of the loader.

#![allow(missing_docs)]

mod bad_input;
mod connectors;
mod fuzz;
mod monitoring;
mod scenarios;
mod schema;
mod traces;

use std::path::{Path, PathBuf};

use ipsim_scenario::{Overrides, Scenario, ScenarioErrors};

/// A fresh folder under the target's temporary directory.
pub fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("scenario-it")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `files` (name, bytes) into a fresh folder and loads `scenario.json` from it.
pub fn load_files(name: &str, files: &[(&str, &[u8])]) -> Result<Scenario, ScenarioErrors> {
    let d = tmp(name);
    for (f, bytes) in files {
        std::fs::write(d.join(f), bytes).unwrap();
    }
    ipsim_scenario::load_with(&d.join("scenario.json"), &Overrides::default())
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
