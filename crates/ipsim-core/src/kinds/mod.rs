//! One state machine per kind of workload. Each owns its kind's state (revisions and their
//! rollout, job executions and their slots, connector VMs) and, asked to evaluate, says what
//! to do as [`Action`]s for the engine to apply; none of them touches the allocator, the queue
//! or the recorder.

pub(crate) mod connector;
mod ids;
pub(crate) mod job;
pub(crate) mod service;

pub(crate) use connector::ConnectorState;
pub(crate) use job::JobState;
pub(crate) use service::ServiceState;

/// What a kind's evaluation asks the engine to do, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Request `n` new starts for unit `unit` (a revision, or a task of an execution).
    Request {
        /// Revision or execution index.
        unit: u32,
        /// Job task index (0 for services).
        task: u32,
        /// How many.
        n: u32,
    },
    /// Cancel pending request `req` (already removed from the kind's lists).
    Cancel {
        /// Request id.
        req: u32,
    },
    /// Stop running instance `inst` (already removed from the kind's lists).
    Stop {
        /// Instance id.
        inst: u32,
    },
}

/// A timer a kind asks the engine to schedule, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The next rollout step, valid while the rollout's epoch is `epoch`.
    Rollout {
        /// When.
        at: u64,
        /// The rollout generation it belongs to.
        epoch: u32,
    },
    /// The next revision swap.
    Swap {
        /// When.
        at: u64,
    },
    /// The next job execution start.
    ExecStart {
        /// When.
        at: u64,
    },
}

/// The state of one workload, by kind. Worker pools have revisions like services.
#[derive(Debug)]
// Services are the many workloads of a large run: their newest revision is kept inline so
// that a sweep reads it with the workload's record, and the other kinds pay its size.
#[allow(clippy::large_enum_variant)]
pub(crate) enum KindState {
    /// A service or worker pool.
    Scaled(ServiceState),
    /// A job.
    Job(JobState),
    /// A Serverless VPC Access connector.
    Connector(ConnectorState),
}
