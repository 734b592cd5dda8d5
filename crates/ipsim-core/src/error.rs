//! Input errors: what is wrong with the resolved input, and where.
//!
//! The core cannot fail once a [`crate::Simulation`] exists; only building one can. Every
//! problem found is reported at once, each with a path into the input (for example
//! `subnets[0].statics[2]`) so that the scenario crate can map it back to a JSON path.

use std::fmt;

/// One problem with the input to the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Where the problem is, as a path into [`crate::SimInput`], e.g. `workloads[3].demand[7]`.
    pub path: String,
    /// What is wrong and what would be valid, lowercase with no final period.
    pub message: String,
}

impl InputError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for InputError {}
