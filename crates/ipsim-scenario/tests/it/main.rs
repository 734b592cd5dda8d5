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

/// The process's peak resident memory since the last [`memory::reset_peak`], from Linux's
/// /proc (the workspace forbids `unsafe`, so no counting global allocator): the fuzz campaign
/// bounds each input's memory with it. `None` where /proc cannot say.
pub mod memory {
    fn status_kb(field: &str) -> Option<usize> {
        let s = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = s.lines().find(|l| l.starts_with(field))?;
        line[field.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// Starts a new peak at the memory resident now (writing 5 to /proc/self/clear_refs
    /// resets VmHWM); returns it in bytes.
    pub fn reset_peak() -> Option<usize> {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
        status_kb("VmRSS:").map(|k| k * 1024)
    }

    /// The peak resident memory since [`reset_peak`], in bytes.
    pub fn peak() -> Option<usize> {
        status_kb("VmHWM:").map(|k| k * 1024)
    }
}

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
    // As `ipsim validate` does: the trace rows too.
    ipsim_scenario::load_with(&d.join("scenario.json"), &Overrides::default())
        .and_then(|s| s.check_traces().map(|()| s))
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
