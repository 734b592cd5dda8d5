//! Serverless VPC Access connectors: VMs with one address each outside Cloud Run's blocks,
//! scaling out to carry their throughput demand within their limits and never in; demand
//! above what their instances carry is a saturation window.

use crate::input::ConnectorSpec;

/// A connector's instance count.
#[derive(Debug, Default)]
pub(crate) struct ConnectorState {
    instances: u32,
}

/// What an evaluation decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scale {
    /// Instances to add (the engine may get fewer addresses).
    pub(crate) add: u32,
}

impl ConnectorState {
    /// How many instances to add for `mbps` of demand.
    pub(crate) fn evaluate(&self, spec: &ConnectorSpec, mbps: u32) -> Scale {
        let per = spec.throughput_per_instance_mbps.max(1);
        let min = spec.min_instances.min(spec.max_instances);
        let target = mbps.div_ceil(per).clamp(min, spec.max_instances);
        Scale {
            add: target.saturating_sub(self.instances),
        }
    }

    /// `n` instances got their addresses.
    pub(crate) fn added(&mut self, n: u32) {
        self.instances += n;
    }

    /// The throughput its instances carry, in Mbps.
    pub(crate) fn capacity_mbps(&self, spec: &ConnectorSpec) -> u32 {
        let per = spec.throughput_per_instance_mbps.max(1);
        self.instances.saturating_mul(per)
    }

    /// Whether `mbps` is more than the instances carry.
    pub(crate) fn saturated(&self, spec: &ConnectorSpec, mbps: u32) -> bool {
        let per = spec.throughput_per_instance_mbps.max(1);
        u64::from(mbps) > u64::from(self.instances) * u64::from(per)
    }
}
