//! Test support: the fake collector's demo machine as a model.

#![allow(clippy::unwrap_used)]

use super::Model;
use crate::collect::fake::{demo_processes, demo_user_name, FakeCollector};
use crate::collect::Collector;

/// The demo machine after two refreshes, so CPU% and rates are known.
pub fn demo_model() -> Model {
    let mut fake = FakeCollector::new(demo_processes());
    let prev = fake.collect().unwrap();
    let cur = fake.collect().unwrap();
    Model::new(&cur, Some(&prev), None, &demo_user_name)
}

/// A model holding exactly `processes` (for tests that build views by hand).
pub fn model_of(processes: Vec<super::ProcessView>) -> Model {
    Model {
        unix_time: 0.0,
        backend: crate::collect::BackendKind::Procfs,
        fallback_reason: None,
        system: super::SystemView::default(),
        processes,
        network: Default::default(),
        gpus: Vec::new(),
        gpu_status: Default::default(),
        units: Vec::new(),
        stalls_off: None,
        exits: Default::default(),
        raw_system: Default::default(),
        boottime_ns: 0,
        starts_seen: Default::default(),
    }
}
