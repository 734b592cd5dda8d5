//! Scenario and trace errors: the file, where in it, and what would be valid.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem with a scenario or a trace file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// JSON path (`workloads[2].demand.peak`) or CSV column; empty when the whole file is wrong.
    pub path: String,
    /// 1-based line, where known.
    pub line: Option<u64>,
    /// 1-based column, where known.
    pub column: Option<u64>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl ScenarioError {
    pub(crate) fn new(file: &Path, path: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_path_buf(),
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub(crate) fn at(mut self, line: Option<u64>, column: Option<u64>) -> Self {
        self.line = line;
        self.column = column;
        self
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// Every problem found, at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}
