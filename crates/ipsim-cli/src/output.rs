//! Standard output and standard error that never panic.
//!
//! Everything `ipsim` prints goes through here. A closed standard output (`ipsim schema |
//! head -1`) ends the command quietly with exit 141, the status a shell reports for a program
//! that SIGPIPE ended (Rust ignores SIGPIPE, so the write returns `EPIPE` instead). Any other
//! failure to write standard output is an error (exit 1). Standard error is best effort: if it
//! cannot be written there is nowhere to say so. `--quiet` drops everything meant for standard
//! output; errors, failed gates and `--check` differences still go to standard error.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::exit::{CLOSED, Exit};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets `--quiet`.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Writes `text` to standard output (nothing under `--quiet`).
pub fn out(text: &str) -> anyhow::Result<()> {
    if quiet() {
        return Ok(());
    }
    write_to(&mut io::stdout().lock(), text.as_bytes())
}

/// Writes bytes to `w` and flushes; a closed pipe becomes a quiet exit 141.
pub fn write_to(w: &mut impl Write, bytes: &[u8]) -> anyhow::Result<()> {
    w.write_all(bytes)
        .and_then(|()| w.flush())
        .map_err(stdout_error)
}

/// A failed write to standard output: exit 141 for a closed pipe, else an error.
pub fn stdout_error(e: io::Error) -> anyhow::Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Exit(CLOSED).into()
    } else {
        anyhow::Error::new(e).context("cannot write to standard output")
    }
}

/// Writes a line to standard error, ignoring failure.
pub fn err(line: &str) {
    let mut e = io::stderr().lock();
    let _ = e.write_all(line.as_bytes());
    let _ = e.write_all(b"\n");
}

/// `println!` to standard output, returning `anyhow::Result<()>` (see [`out`]).
macro_rules! outln {
    () => {
        $crate::output::out("\n")
    };
    ($($arg:tt)*) => {
        $crate::output::out(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics (see [`err`]).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::err(&format!($($arg)*))
    };
}

pub(crate) use {errln, outln};
