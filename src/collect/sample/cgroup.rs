//! What a sample says about each distinct cgroup (filled by the catalog).

use std::sync::Arc;

use crate::collect::containers::Container;
use crate::collect::units::UnitInfo;

/// The unchanging facts of one cgroup path.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CgroupInfo {
    pub unit: UnitInfo,
    pub container: Option<Container>,
    pub container_name: Option<String>,
    /// Display forms, computed once per cgroup rather than per comparison
    /// when sorting: the unit and slice unescaped, the container as
    /// "runtime:name" (or "runtime:short-id").
    pub unit_label: Option<String>,
    pub slice_label: Option<String>,
    pub container_label: Option<String>,
}

/// A cgroup as of one refresh.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CgroupFacts {
    pub info: Arc<CgroupInfo>,
    /// None when cgroup.events could not be read (no cgroup2, removed).
    pub frozen: Option<bool>,
    /// The cgroup of the process's unit or container and its pressure,
    /// limits and counters; None outside any unit or container.
    pub unit: Option<super::UnitCgroup>,
}
