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
    for path in sources() {
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

/// Every `.rs` file under the core's `src`, in subfolders too.
fn sources() -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![core_dir().join("src")];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// No source file of the core grows past about 600 lines: each part has one concern.
#[test]
fn core_files_stay_small() {
    for path in sources() {
        let n = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(
            n <= 620,
            "{} has {n} lines; split it by concern",
            path.display()
        );
    }
}
