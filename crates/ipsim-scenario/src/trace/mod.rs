//! Trace files: CSV (streamed, several merged by [`merge`], read ahead on a second thread by
//! [`ahead`]), Cloud Monitoring exports, the Azure Functions 2019 trace.

pub mod ahead;
pub mod azure;
pub mod csv;
pub mod merge;
pub mod monitoring;

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::bounded::{LineLimit, MAX_LINE_BYTES};
use crate::error::ScenarioError;

/// A CSV file being read, its lines bounded.
pub(crate) type CsvReader = ::csv::Reader<LineLimit<BufReader<File>>>;

/// Opens a CSV file with a header row; `what` names the file in the error ("trace").
pub(crate) fn open_csv(
    path: &Path,
    what: &str,
) -> Result<(CsvReader, ::csv::StringRecord), ScenarioError> {
    let f = File::open(path)
        .map_err(|e| ScenarioError::new(path, "", format!("cannot read the {what}: {e}")))?;
    let mut r = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(LineLimit::new(BufReader::new(f), MAX_LINE_BYTES));
    let h = r
        .headers()
        .map_err(|e| {
            ScenarioError::new(path, "", e.to_string()).at(e.position().map(|p| p.line()), None)
        })?
        .clone();
    Ok((r, h))
}
