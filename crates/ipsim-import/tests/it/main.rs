//! ipsim-import on hand-written fixtures in the exact shapes gcloud and Terraform print: the
//! scenario produced, field by field, the notes, the errors, and the verdict of running it.

#![allow(missing_docs)]

mod bad;
mod sources;

use std::path::{Path, PathBuf};

use ipsim_import::{Imported, Options, Source, import};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn source(name: &str) -> Source {
    Source {
        name: name.to_string(),
        text: std::fs::read_to_string(fixture(name)).unwrap(),
    }
}

pub fn text(name: &str, text: &str) -> Source {
    Source {
        name: name.to_string(),
        text: text.to_string(),
    }
}

pub fn imported(names: &[&str], opts: &Options) -> Imported {
    let srcs: Vec<Source> = names.iter().map(|n| source(n)).collect();
    import(&srcs, opts).unwrap_or_else(|e| panic!("{e}"))
}

/// The scenario as JSON, then the notes, one per line.
pub fn shown(i: &Imported) -> String {
    let mut s = i.json();
    for n in &i.notes {
        s.push_str("note: ");
        s.push_str(n);
        s.push('\n');
    }
    s
}

/// Loads the scenario as ipsim would and runs it.
pub fn run(i: &Imported) -> ipsim_core::Output {
    let text = i.json();
    let sc = ipsim_scenario::resolve(
        i.scenario.clone(),
        Path::new("imported.json"),
        &text,
        &ipsim_scenario::Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    sc.run().unwrap()
}
