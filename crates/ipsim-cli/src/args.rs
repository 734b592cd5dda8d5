//! Value parsers for arguments, so that clap rejects a bad value with exit 2 before anything
//! runs.

use ipsim_study::compare::{self, Variant};
use ipsim_study::sweep::{self, Vary};

/// `--shard I/N` or `--shard auto`.
pub fn shard(s: &str) -> Result<crate::batch::ShardArg, String> {
    crate::batch::parse_shard(s)
}

/// `--vary PATH=RANGE`.
pub fn vary(s: &str) -> Result<Vary, String> {
    sweep::parse_vary(s)
}

/// `--confidence`: strictly between 0 and 1.
pub fn confidence(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(c) if c > 0.0 && c < 1.0 => Ok(c),
        _ => Err(format!("{s:?} is not strictly between 0 and 1")),
    }
}

/// `compare --strategies`, parsed whole.
#[derive(Debug, Clone)]
pub struct Variants(pub Vec<Variant>);

/// Parses `--strategies`.
pub fn variants(s: &str) -> Result<Variants, String> {
    compare::parse_variants(s)
        .map(Variants)
        .map_err(|e| e.join("; "))
}

/// A chart time as written: an offset, or an RFC 3339 time to take relative to the run's
/// start once the report is read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChartTime {
    /// Milliseconds from the run's start.
    Offset(u64),
    /// A clock time.
    At(jiff::Timestamp),
}

/// Parses `chart --from` and `--to`.
pub fn chart_time(s: &str) -> Result<ChartTime, String> {
    if let Ok(d) = ipsim_scenario::Duration::parse(s) {
        return Ok(ChartTime::Offset(d.ms()));
    }
    s.parse::<jiff::Timestamp>()
        .map(ChartTime::At)
        .map_err(|_| {
            format!("{s:?} is neither an offset (\"90m\", \"1h30m\") nor an RFC 3339 time")
        })
}

impl ChartTime {
    /// Milliseconds from the run's start `start` (RFC 3339, if the run has one).
    pub fn ms(self, start: Option<&str>, flag: &str) -> Result<u64, String> {
        let t = match self {
            ChartTime::Offset(ms) => return Ok(ms),
            ChartTime::At(t) => t,
        };
        let Some(s) = start.and_then(|s| s.parse::<jiff::Timestamp>().ok()) else {
            return Err(format!(
                "--{flag} {t} is a clock time, but the run has no start time; give an offset like \"90m\""
            ));
        };
        u64::try_from(t.as_millisecond() - s.as_millisecond())
            .map_err(|_| format!("--{flag} {t} is before the run's start {s}"))
    }
}

/// A duration: `"10m"`, `"1h30m"` or ms.
pub fn duration(s: &str) -> Result<u64, String> {
    ipsim_scenario::Duration::parse(s).map(|d| d.ms())
}
