//! Exit codes, and the error that carries one.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (the run finished, whatever its outcome, unless a gate below applies) |
//! | 1 | bad input (a scenario, trace or saved file), or a file that cannot be written |
//! | 2 | bad arguments (clap rejects them, or they ask for what the scenario lacks) |
//! | 3 | a gate failed: `--fail-on`, `--fail-on-exhaustion`, `--fail-if-probability-above`, or `size` finds a declared prefix too small |
//! | 4 | `--check`: the outcome differs from the scenario's `expect` |
//! | 141 | standard output was closed (a pipe to `head`): ended quietly, as if by SIGPIPE |

use std::fmt;

/// Success.
pub const OK: u8 = 0;
/// Bad input, or a failed read or write.
pub const INPUT: u8 = 1;
/// Bad arguments.
pub const USAGE: u8 = 2;
/// A gate failed.
pub const GATE: u8 = 3;
/// `--check` found the outcome differs from `expect`.
pub const CHECK: u8 = 4;
/// Standard output was closed: 128 + SIGPIPE (13), what a shell reports for a program
/// SIGPIPE ended.
pub const CLOSED: u8 = 141;

/// An error that has already been printed in full, with the exit code it calls for.
#[derive(Debug)]
pub struct Exit(pub u8);

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// An argument error found once the scenario is known (a `--vary` path that names no field,
/// `--check` on a scenario without `expect`): printed now, exit 2.
pub fn usage(message: impl fmt::Display) -> anyhow::Error {
    crate::output::err(&format!("ipsim: error: {message}"));
    Exit(USAGE).into()
}

/// The exit code of an error: its own if it carries one (already printed), else 1 after
/// printing it.
pub fn code_of(e: &anyhow::Error) -> u8 {
    if let Some(Exit(code)) = e.downcast_ref::<Exit>() {
        return *code;
    }
    crate::output::err(&format!("ipsim: error: {e:#}"));
    INPUT
}
