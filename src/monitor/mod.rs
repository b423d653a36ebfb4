//! The pipeline every mode shares: sample → [`Model::next`] against the
//! previous model → the next model.
//!
//! A [`Monitor`] owns the sampler and the previous refresh's model, so the
//! interface, batch mode and the exporter each only ask for the next model
//! and decide what to do with it. [`start`] is the start-up all of them go
//! through: open the sampler, report a fallback, drop privileges.

pub mod refresh_count;
pub mod start;

use std::sync::Arc;

use crate::collect::sample::Sample;
use crate::collect::sampler::Sampler;
use crate::model::{Baselines, Model};
use refresh_count::RefreshCount;

/// The sampler and what its next refresh's rates are computed from: the
/// last model's baselines, not the model itself, so that a mode which is
/// done with a model frees it before the next one is built.
pub struct Monitor {
    sampler: Sampler,
    prev: Option<Baselines>,
    /// Counts refreshes for a benchmark ([`refresh_count`]).
    counter: Option<RefreshCount>,
}

impl Monitor {
    /// A monitor whose first model has no previous one (rates are 0).
    pub fn new(sampler: Sampler) -> Monitor {
        Monitor {
            sampler,
            prev: None,
            counter: None,
        }
    }

    /// Counts each successful refresh in `counter`.
    pub fn count_refreshes(&mut self, counter: RefreshCount) {
        self.counter = Some(counter);
    }

    /// Samples and builds the next model. A failed sample leaves the
    /// previous model in place, so the refresh after it still has rates.
    pub fn refresh(&mut self) -> anyhow::Result<Arc<Model>> {
        self.refresh_with(|_| (), |model, ()| Ok(Arc::clone(model)))
    }

    /// As [`Monitor::refresh`], for a mode that does more with a refresh
    /// than take its model: `observe` sees the raw sample before the model
    /// takes it over (for what the model keeps to itself, such as the
    /// exporter's cumulative CPU counters), then `use_model` gets the model
    /// and what `observe` returned. The model becomes the next refresh's
    /// baseline only when `use_model` succeeds: a refresh the mode could
    /// not use counts as failed.
    pub fn refresh_with<S, T>(
        &mut self,
        observe: impl FnOnce(&Sample) -> S,
        use_model: impl FnOnce(&Arc<Model>, S) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let sample = self.sampler.sample()?;
        let observed = observe(&sample);
        let reason = self.sampler.fallback_reason().map(str::to_owned);
        let sampler = &self.sampler;
        let model = Arc::new(Model::after(sample, self.prev.as_ref(), reason, &|uid| {
            sampler.user_name(uid)
        }));
        let used = use_model(&model, observed)?;
        self.prev = Some(model.baselines());
        if let Some(counter) = &mut self.counter {
            counter.tick();
        }
        Ok(used)
    }

    pub fn sampler(&self) -> &Sampler {
        &self.sampler
    }

    /// For what a mode changes between refreshes (threads, titles).
    pub fn sampler_mut(&mut self) -> &mut Sampler {
        &mut self.sampler
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::collect::{BackendChoice, CollectOptions};

    /// Whether `monitor` computes its next rates from `model`.
    fn baseline_is(monitor: &Monitor, model: &Model) -> bool {
        let kept = monitor.prev.as_ref().unwrap();
        kept.boottime_ns() == model.baselines().boottime_ns() && kept.len() == model.processes.len()
    }

    #[test]
    fn each_refresh_is_the_next_ones_baseline() {
        let options = CollectOptions {
            gpu: false,
            ..CollectOptions::default()
        };
        let sampler = Sampler::open(BackendChoice::Procfs, &options, "/etc/passwd".into()).unwrap();
        let mut monitor = Monitor::new(sampler);
        let first = monitor.refresh().unwrap();
        assert!(baseline_is(&monitor, &first));
        let (second, pids) = monitor
            .refresh_with(
                |sample| sample.processes.len(),
                |model, pids| Ok((Arc::clone(model), pids)),
            )
            .unwrap();
        assert!(baseline_is(&monitor, &second));
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(second.processes.len(), pids);
        assert!(second
            .processes
            .iter()
            .any(|p| p.sample.pid == std::process::id()));
        // A refresh the mode could not use is not the next one's baseline.
        let refused: anyhow::Result<()> =
            monitor.refresh_with(|_| (), |_, ()| Err(anyhow::anyhow!("unused")));
        assert!(refused.is_err());
        assert!(baseline_is(&monitor, &second));
    }
}
