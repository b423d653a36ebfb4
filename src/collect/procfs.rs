//! The /proc backend (work in progress).
use super::{BackendKind, CollectOptions, Collector, Sample};

pub struct ProcfsCollector;

impl ProcfsCollector {
    pub fn new(_options: &CollectOptions) -> Self {
        ProcfsCollector
    }
}

impl Collector for ProcfsCollector {
    fn kind(&self) -> BackendKind {
        BackendKind::Procfs
    }
    fn collect(&mut self) -> anyhow::Result<Sample> {
        anyhow::bail!("not yet")
    }
}
