//! The columns of `occupancy.csv` and `workloads.csv`, defined once.
//!
//! [`crate::CsvSink`] writes the header and every row in the order of [`OccupancyCol::ALL`] and
//! [`WorkloadCol::ALL`], matching on each column, and the chart reader finds its columns by
//! [`OccupancyCol::name`] and [`WorkloadCol::name`]: a column is named in this file only, and a
//! new one is a compile error in the writer until it is written.

/// Joins header names with commas at compile time.
macro_rules! header {
    ($first:literal $(, $rest:literal)*) => {
        concat!($first $(, ",", $rest)*)
    };
}

/// An enum with one variant per column of a CSV file, its names, its header and its file.
macro_rules! columns {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident in $file:literal {
            $( $(#[$vmeta:meta])* $var:ident = $col:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $var ),+
        }

        impl $name {
            /// Every column, in file order.
            pub const ALL: &'static [Self] = &[$(Self::$var),+];
            /// The file's name in a run's output folder.
            pub const FILE: &'static str = $file;
            /// The header line (without its newline).
            pub const HEADER: &'static str = header!($($col),+);

            /// The column's name in the header.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$var => $col),+
                }
            }
        }
    };
}

columns! {
    /// A column of `occupancy.csv`: one row per change of a subnet's state.
    pub enum OccupancyCol in "occupancy.csv" {
        /// Milliseconds since the start.
        TimeMs = "time_ms",
        /// Clock time (RFC 3339, or `+HH:MM:SS` when the scenario has no start).
        Time = "time",
        /// Subnet name.
        Subnet = "subnet",
        /// Usable addresses.
        Usable = "usable",
        /// Static addresses.
        Static = "static",
        /// Addresses held by running instances and tasks.
        InUse = "in_use",
        /// Addresses of stopped instances and tasks, not yet free.
        Retained = "retained",
        /// Free addresses inside reserved blocks.
        ReservedIdle = "reserved_idle",
        /// Usable addresses outside reserved blocks and not static.
        Unreserved = "unreserved",
        /// Reserved blocks.
        ReservedBlocks = "reserved_blocks",
        /// Reservable blocks no owner holds.
        FreeBlocks = "free_blocks",
        /// Addresses in free blocks.
        Free = "free",
        /// Addresses of connector VMs.
        Connector = "connector",
        /// The run id, the same in every row and in report.json's `run.id`.
        Run = "run",
    }
}

columns! {
    /// A column of `workloads.csv`: one row per change of a workload's state.
    pub enum WorkloadCol in "workloads.csv" {
        /// Milliseconds since the start.
        TimeMs = "time_ms",
        /// Workload name.
        Workload = "workload",
        /// Subnet name.
        Subnet = "subnet",
        /// Addresses held by its running instances or tasks.
        InUse = "in_use",
        /// Addresses of its stopped instances or tasks, not yet free.
        Retained = "retained",
        /// `in_use + retained`.
        Held = "held",
        /// Blocks its owners hold.
        ReservedBlocks = "reserved_blocks",
        /// Running instances or tasks.
        Running = "running",
        /// Start requests not yet started.
        Pending = "pending",
        /// A connector's throughput demand in Mbps (0 for other kinds).
        DemandMbps = "demand_mbps",
        /// What a connector's running instances carry in Mbps (0 for other kinds).
        CapacityMbps = "capacity_mbps",
        /// The run id, the same in every row and in report.json's `run.id`.
        Run = "run",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_the_files_first_lines() {
        assert_eq!(
            OccupancyCol::HEADER,
            "time_ms,time,subnet,usable,static,in_use,retained,reserved_idle,unreserved,\
             reserved_blocks,free_blocks,free,connector,run"
        );
        assert_eq!(
            WorkloadCol::HEADER,
            "time_ms,workload,subnet,in_use,retained,held,reserved_blocks,running,pending,\
             demand_mbps,capacity_mbps,run"
        );
        assert_eq!(OccupancyCol::FILE, "occupancy.csv");
        assert_eq!(WorkloadCol::FILE, "workloads.csv");
    }

    #[test]
    fn the_header_is_the_names_in_order() {
        let names: Vec<_> = OccupancyCol::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.join(","), OccupancyCol::HEADER);
        let names: Vec<_> = WorkloadCol::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.join(","), WorkloadCol::HEADER);
        assert_eq!(OccupancyCol::ALL.len(), 14);
        assert_eq!(WorkloadCol::ALL.len(), 12);
        assert_eq!(OccupancyCol::ALL[4], OccupancyCol::Static);
        assert_eq!(WorkloadCol::Held.name(), "held");
    }
}
