//! Model parameters, each with the default docs/model.md documents.

/// How long a stopped instance's addresses stay retained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retention {
    /// Always the maximum (`service_retention_ms` or `task_retention_ms`).
    #[default]
    Fixed,
    /// Uniform in `[0, max]` ms, one draw per stop from the run's seeded RNG.
    Uniform,
}

/// Who owns a reserved block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockScope {
    /// One owner per workload: all revisions or executions share its blocks.
    #[default]
    Service,
    /// One owner per revision or job execution.
    Revision,
    /// One pool for everything on the subnet.
    Subnet,
}

/// Whether the first and last block, which hold Google-reserved addresses, can be reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EdgeBlocks {
    /// They cannot (matches the first reservation seen at .16 and the /26 minimum).
    #[default]
    Excluded,
    /// They can, each offering only its usable addresses.
    Partial,
}

/// Which free blocks an owner reserves when its own blocks fall short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Lowest address first.
    #[default]
    FirstFit,
    /// The first free block at or after the last one reserved, wrapping around.
    NextFit,
    /// The most-used /24-sized region first, to keep large runs of whole blocks free.
    BestFit,
    /// A free block drawn uniformly from a seeded RNG.
    Random,
}

impl Strategy {
    /// Every strategy, in documentation order.
    pub const ALL: [Strategy; 4] = [
        Strategy::FirstFit,
        Strategy::NextFit,
        Strategy::BestFit,
        Strategy::Random,
    ];

    /// `first-fit`, `next-fit`, `best-fit` or `random`.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::FirstFit => "first-fit",
            Strategy::NextFit => "next-fit",
            Strategy::BestFit => "best-fit",
            Strategy::Random => "random",
        }
    }

    /// The strategy called `name`.
    pub fn from_name(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Every number of the allocation model; `Params::default()` is docs/model.md's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Addresses a service or worker-pool instance holds (2; 4 replays the pre-2025 rule).
    pub ips_per_instance: u32,
    /// Addresses a job task holds (1).
    pub ips_per_task: u32,
    /// Retention after a service or worker-pool instance stops (20 min).
    pub service_retention_ms: u64,
    /// Retention after a job task ends (7 min).
    pub task_retention_ms: u64,
    /// Fixed or seeded-uniform retention.
    pub retention: Retention,
    /// Addresses per block: a power of two from 4 to 64 (16, a /28).
    pub block_size: u32,
    /// Block ownership.
    pub block_scope: BlockScope,
    /// How long a wholly free block stays with its owner before release (0: released at once).
    pub block_linger_ms: u64,
    /// Time between start attempts of a pending instance or task (10 s).
    pub retry_interval_ms: u64,
    /// Retries of a job task that fails to start before the task fails (3).
    pub max_task_retries: u32,
    /// Block choice when an owner must reserve.
    pub strategy: Strategy,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            ips_per_instance: 2,
            ips_per_task: 1,
            service_retention_ms: 20 * 60 * 1000,
            task_retention_ms: 7 * 60 * 1000,
            retention: Retention::Fixed,
            block_size: 16,
            block_scope: BlockScope::Service,
            block_linger_ms: 0,
            retry_interval_ms: 10_000,
            max_task_retries: 3,
            strategy: Strategy::FirstFit,
        }
    }
}
