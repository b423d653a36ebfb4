//! The backend factory: the one place that names every backend, and the
//! `auto` fallback from bpf to procfs.

use super::{bpf, procfs, BackendChoice, CollectOptions, Collector};

/// A running collector plus, when `auto` fell back, why.
pub struct Opened {
    pub collector: Box<dyn Collector + Send>,
    pub fallback_reason: Option<String>,
}

/// Opens the backend the user chose.
pub fn open(choice: BackendChoice, options: &CollectOptions) -> anyhow::Result<Opened> {
    match choice {
        BackendChoice::Bpf => Ok(Opened {
            collector: Box::new(bpf::BpfCollector::open(options)?),
            fallback_reason: None,
        }),
        BackendChoice::Procfs => Ok(Opened {
            collector: Box::new(procfs::ProcfsCollector::new(options)),
            fallback_reason: None,
        }),
        BackendChoice::Auto => match bpf::BpfCollector::open(options) {
            Ok(c) => Ok(Opened {
                collector: Box::new(c),
                fallback_reason: None,
            }),
            Err(e) => Ok(Opened {
                collector: Box::new(procfs::ProcfsCollector::new(options)),
                fallback_reason: Some(format!("{e:#}")),
            }),
        },
    }
}
