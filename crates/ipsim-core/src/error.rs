//! Input errors: what is wrong with the resolved input, and where.
//!
//! The core cannot fail once a [`crate::Simulation`] exists; only building one can. Every
//! problem found is reported at once, each with a typed [`InputPath`] into the input (for
//! example [`InputPath::Static`] `{ subnet: 0, index: 2 }`, shown as `subnets[0].statics[2]`),
//! so that the scenario crate can map it back to its file without parsing text.

use std::fmt;

/// A parameter the core checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamField {
    /// `params.block_size`.
    BlockSize,
    /// `params.ips_per_instance`.
    IpsPerInstance,
    /// `params.ips_per_task`.
    IpsPerTask,
    /// `params.retry_interval_ms`.
    RetryIntervalMs,
}

/// A field of a [`crate::SubnetSpec`] the core checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubnetField {
    /// Its range as a whole (base and prefix length together): `cidr`.
    Cidr,
    /// `prefix_len`.
    PrefixLen,
}

/// A field of a [`crate::WorkloadSpec`] the core checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadField {
    /// `subnet`.
    Subnet,
    /// `min_instances`.
    MinInstances,
    /// `max_instances`.
    MaxInstances,
    /// `throughput_per_instance_mbps`.
    ThroughputPerInstanceMbps,
}

/// A field of a [`crate::JobExecution`] the core checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionField {
    /// `start_ms`.
    StartMs,
    /// `durations`.
    Durations,
}

/// Where in a [`crate::SimInput`] a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputPath {
    /// `duration_ms`.
    Duration,
    /// `params.<field>`.
    Param(ParamField),
    /// `subnets`, the list as a whole.
    Subnets,
    /// `subnets[subnet].<field>`.
    Subnet {
        /// Index into `subnets`.
        subnet: usize,
        /// The field.
        field: SubnetField,
    },
    /// `subnets[subnet].statics[index]`.
    Static {
        /// Index into `subnets`.
        subnet: usize,
        /// Index into its `statics`.
        index: usize,
    },
    /// `subnets[subnet].reserved[index]`.
    Reserved {
        /// Index into `subnets`.
        subnet: usize,
        /// Index into its `reserved`.
        index: usize,
    },
    /// `workloads[workload].<field>`.
    Workload {
        /// Index into `workloads`.
        workload: usize,
        /// The field.
        field: WorkloadField,
    },
    /// `workloads[workload].demand[index]`.
    DemandPoint {
        /// Index into `workloads`.
        workload: usize,
        /// Index into its demand.
        index: usize,
    },
    /// `workloads[workload].observed[revision][index]`.
    Observed {
        /// Index into `workloads`.
        workload: usize,
        /// Index into its observed revisions.
        revision: usize,
        /// Index into that revision's points.
        index: usize,
    },
    /// `workloads[workload].swaps[index]`.
    Swap {
        /// Index into `workloads`.
        workload: usize,
        /// Index into its swaps.
        index: usize,
    },
    /// `workloads[workload].executions[index].<field>`.
    Execution {
        /// Index into `workloads`.
        workload: usize,
        /// Index into its executions.
        index: usize,
        /// The field.
        field: ExecutionField,
    },
}

impl fmt::Display for InputPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InputPath::Duration => write!(f, "duration_ms"),
            InputPath::Param(p) => {
                let name = match p {
                    ParamField::BlockSize => "block_size",
                    ParamField::IpsPerInstance => "ips_per_instance",
                    ParamField::IpsPerTask => "ips_per_task",
                    ParamField::RetryIntervalMs => "retry_interval_ms",
                };
                write!(f, "params.{name}")
            }
            InputPath::Subnets => write!(f, "subnets"),
            InputPath::Subnet { subnet, field } => {
                let name = match field {
                    SubnetField::Cidr => "cidr",
                    SubnetField::PrefixLen => "prefix_len",
                };
                write!(f, "subnets[{subnet}].{name}")
            }
            InputPath::Static { subnet, index } => write!(f, "subnets[{subnet}].statics[{index}]"),
            InputPath::Reserved { subnet, index } => {
                write!(f, "subnets[{subnet}].reserved[{index}]")
            }
            InputPath::Workload { workload, field } => {
                let name = match field {
                    WorkloadField::Subnet => "subnet",
                    WorkloadField::MinInstances => "min_instances",
                    WorkloadField::MaxInstances => "max_instances",
                    WorkloadField::ThroughputPerInstanceMbps => "throughput_per_instance_mbps",
                };
                write!(f, "workloads[{workload}].{name}")
            }
            InputPath::DemandPoint { workload, index } => {
                write!(f, "workloads[{workload}].demand[{index}]")
            }
            InputPath::Observed {
                workload,
                revision,
                index,
            } => write!(f, "workloads[{workload}].observed[{revision}][{index}]"),
            InputPath::Swap { workload, index } => {
                write!(f, "workloads[{workload}].swaps[{index}]")
            }
            InputPath::Execution {
                workload,
                index,
                field,
            } => {
                let name = match field {
                    ExecutionField::StartMs => "start_ms",
                    ExecutionField::Durations => "durations",
                };
                write!(f, "workloads[{workload}].executions[{index}].{name}")
            }
        }
    }
}

/// One problem with the input to the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Where the problem is in [`crate::SimInput`].
    pub path: InputPath,
    /// What is wrong and what would be valid, lowercase with no final period.
    pub message: String,
}

impl InputError {
    pub(crate) fn new(path: InputPath, message: impl Into<String>) -> Self {
        InputError {
            path,
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
