//! Integration tests of ipsim-study on the bundled scenarios.

#![allow(missing_docs)]

mod bracket;
mod cost;
mod fuzz;
mod size;
mod sweep;

use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
