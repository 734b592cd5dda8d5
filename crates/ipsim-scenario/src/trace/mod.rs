//! Trace files: CSV (streamed), Cloud Monitoring exports, the Azure Functions 2019 trace.

pub mod azure;
pub mod csv;
pub mod monitoring;
