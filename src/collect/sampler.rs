//! A sampler: the chosen process backend plus the system-wide readers and
//! the user table, producing one complete [`Sample`] per refresh.

use std::path::PathBuf;

use super::sample::{BackendKind, Sample};
use super::system::SystemReader;
use super::users::UserTable;
use super::{open, BackendChoice, CollectOptions, Collector};

pub struct Sampler {
    collector: Box<dyn Collector + Send>,
    system: SystemReader,
    users: UserTable,
    fallback_reason: Option<String>,
}

impl Sampler {
    /// Opens the backend the user chose; `auto` records why it fell back.
    pub fn open(
        choice: BackendChoice,
        options: &CollectOptions,
        passwd: PathBuf,
    ) -> anyhow::Result<Self> {
        let opened = open(choice, options)?;
        Ok(Sampler {
            collector: opened.collector,
            system: SystemReader::new(&options.proc_root, &options.sys_root),
            users: UserTable::new(&passwd),
            fallback_reason: opened.fallback_reason,
        })
    }

    pub fn backend(&self) -> BackendKind {
        self.collector.kind()
    }

    /// Why `auto` did not get the bpf backend, if it did not.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    /// Takes one complete sample.
    pub fn sample(&mut self) -> anyhow::Result<Sample> {
        let mut sample = self.collector.collect()?;
        sample.system = self.system.read()?;
        self.users.refresh();
        Ok(sample)
    }

    pub fn user_name(&self, uid: u32) -> String {
        self.users.name(uid)
    }
}
