//! Tidy rules that run as ordinary tests: the core stays a pure, deterministic library.

use std::path::Path;

fn core_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The core depends on no serialisation, CLI or drawing crate, and on no other ipsim crate.
#[test]
fn core_has_no_edge_dependencies() {
    let manifest = std::fs::read_to_string(core_dir().join("Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap_or("");
    let deps = deps.split("\n[").next().unwrap_or("");
    for banned in ["serde", "clap", "plotters", "anyhow", "ipsim-"] {
        assert!(
            !deps.contains(banned),
            "ipsim-core must not depend on {banned}"
        );
    }
}

/// No I/O, wall clock, hash-ordered collection or unseeded RNG in the core's sources.
#[test]
fn core_sources_do_no_io_and_read_no_clock() {
    for entry in std::fs::read_dir(core_dir().join("src")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for banned in [
            "std::fs",
            "std::io",
            "std::time",
            "std::env",
            "HashMap",
            "HashSet",
            "thread_rng",
            "rand::rng()",
            "println!",
        ] {
            assert!(!text.contains(banned), "{} uses {banned}", path.display());
        }
    }
}
