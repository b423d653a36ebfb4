//! The start-up every mode goes through, in this order: open the sampler
//! (loading the BPF programs), check what the mode needs from it, say when
//! the procfs backend stands in, then give up the capabilities no longer
//! needed. All of it before any thread starts: capabilities are per thread,
//! and a thread started earlier would keep them.

use std::path::PathBuf;

use super::refresh_count::RefreshCount;
use super::Monitor;
use crate::collect::sample::BackendKind;
use crate::collect::sampler::Sampler;
use crate::collect::{BackendChoice, CollectOptions};
use crate::privileges::{self, Mode};

/// Where samples come from.
#[derive(Debug, Clone)]
pub struct Source {
    pub backend: BackendChoice,
    pub collect: CollectOptions,
    /// The passwd file user names come from.
    pub passwd: PathBuf,
}

/// A request a mode cannot honour (an unknown user, column or theme): bad
/// usage, which the binary reports with exit status 2, as it does for
/// every malformed option.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Why a mode did not start.
#[derive(Debug)]
pub enum StartError<E> {
    /// The sampler could not be opened.
    Open(anyhow::Error),
    /// The mode's check refused what it was asked for.
    Refused(E),
}

/// A started monitor, with what the mode's check made of the sampler.
pub struct Started<T> {
    pub monitor: Monitor,
    pub checked: T,
    /// Why capabilities could not be dropped (monitoring goes on). Only the
    /// interface gets it here; the other modes have said it on stderr.
    pub drop_failure: Option<String>,
}

/// Opens `source` for `mode`. `check` sees the sampler before anything is
/// reported (batch mode resolves a user name there): when it refuses,
/// nothing has been said and no capability dropped.
///
/// Batch mode and the exporter report the fallback and a failed drop on
/// stderr; the interface shows both in its window instead (the backend in
/// the header, the failure in the status line), so it says nothing here.
pub fn start<T, E>(
    source: &Source,
    mode: Mode,
    check: impl FnOnce(&Sampler) -> Result<T, E>,
) -> Result<Started<T>, StartError<E>> {
    let sampler = Sampler::open(source.backend, &source.collect, source.passwd.clone())
        .map_err(StartError::Open)?;
    let checked = check(&sampler).map_err(StartError::Refused)?;
    let on_stderr = mode != Mode::Interactive;
    if on_stderr {
        if let Some(reason) = sampler.fallback_reason() {
            eprintln!("bpftop: using the procfs backend: {reason}");
        }
    }
    let procfs = sampler.backend() == BackendKind::Procfs;
    let drop_failure = privileges::drop_after_load(mode, source.collect.gpu, procfs).err();
    let drop_failure = match drop_failure {
        Some(e) if on_stderr => {
            eprintln!("bpftop: {e}");
            None
        }
        other => other,
    };
    let mut monitor = Monitor::new(sampler);
    if let Some(counter) = RefreshCount::from_env().map_err(StartError::Open)? {
        monitor.count_refreshes(counter);
    }
    Ok(Started {
        monitor,
        checked,
        drop_failure,
    })
}
