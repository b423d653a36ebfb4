//! The eBPF backend (work in progress).
use super::{BackendKind, CollectOptions, Collector, Sample};

pub struct BpfCollector;

impl BpfCollector {
    pub fn open(_options: &CollectOptions) -> anyhow::Result<Self> {
        anyhow::bail!("not yet")
    }
}

impl Collector for BpfCollector {
    fn kind(&self) -> BackendKind {
        BackendKind::Bpf
    }
    fn collect(&mut self) -> anyhow::Result<Sample> {
        anyhow::bail!("not yet")
    }
}
