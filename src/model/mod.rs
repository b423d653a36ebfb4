//! The model: pure functions from raw samples (current and previous) to the
//! numbers users see: rates, percentages, totals. No I/O here.

mod system;

use std::collections::HashMap;

use crate::collect::sample::{BackendKind, ProcessKey, ProcessSample, Sample};

pub use system::{cpu_busy_percent, SystemView};

/// One process as shown: its raw sample plus what needs two samples.
#[derive(Debug, Clone)]
pub struct ProcessView {
    pub sample: ProcessSample,
    pub user: String,
    /// Share of one CPU over the last interval (100 % = one full core, so a
    /// process with four busy threads shows ~400 %, as in htop).
    pub cpu_percent: f64,
    /// Resident memory as a share of MemTotal.
    pub mem_percent: f64,
    /// Storage-layer I/O rates (read_bytes/write_bytes), bytes per second.
    pub io_read_rate: f64,
    pub io_write_rate: f64,
}

/// Everything a view needs for one refresh.
#[derive(Debug, Clone)]
pub struct Model {
    pub unix_time: f64,
    pub backend: BackendKind,
    pub fallback_reason: Option<String>,
    pub system: SystemView,
    pub processes: Vec<ProcessView>,
}

/// How a counter moved between two samples of the same process.
#[derive(Debug, Clone, Copy)]
struct Baseline {
    cpu_ns: u64,
    read_bytes: u64,
    write_bytes: u64,
}

impl Baseline {
    fn of(p: &ProcessSample) -> Self {
        let io = p.io.unwrap_or_default();
        Baseline {
            cpu_ns: p.cpu_time_ns(),
            read_bytes: io.read_bytes,
            write_bytes: io.write_bytes,
        }
    }

    /// A process born after `prev` was taken used all its counters within
    /// the interval, so its baseline is zero.
    const ZERO: Baseline = Baseline {
        cpu_ns: 0,
        read_bytes: 0,
        write_bytes: 0,
    };
}

impl Model {
    /// Builds the model for `cur`. Rates need `prev`; without it (the first
    /// refresh) they are 0. `users` maps uids to names.
    pub fn new(
        cur: &Sample,
        prev: Option<&Sample>,
        fallback_reason: Option<String>,
        users: &dyn Fn(u32) -> String,
    ) -> Model {
        let system = SystemView::new(cur, prev);
        let baselines: HashMap<ProcessKey, Baseline> = prev
            .map(|p| {
                p.processes
                    .iter()
                    .map(|s| (s.key(), Baseline::of(s)))
                    .collect()
            })
            .unwrap_or_default();
        let interval_ns = prev.map(|p| cur.boottime_ns.saturating_sub(p.boottime_ns));
        let mem_total = system.mem_total_bytes;

        let processes = cur
            .processes
            .iter()
            .map(|p| {
                let base = match (prev, baselines.get(&p.key())) {
                    (_, Some(b)) => Some(*b),
                    (Some(prev), None) if p.start_time_ns >= prev.boottime_ns => {
                        Some(Baseline::ZERO)
                    }
                    _ => None,
                };
                let (cpu_percent, io_read_rate, io_write_rate) = match (base, interval_ns) {
                    (Some(b), Some(dt)) if dt > 0 => {
                        let now = Baseline::of(p);
                        let per_second = |d: u64| d as f64 * 1e9 / dt as f64;
                        (
                            now.cpu_ns.saturating_sub(b.cpu_ns) as f64 * 100.0 / dt as f64,
                            per_second(now.read_bytes.saturating_sub(b.read_bytes)),
                            per_second(now.write_bytes.saturating_sub(b.write_bytes)),
                        )
                    }
                    _ => (0.0, 0.0, 0.0),
                };
                let mem_percent = if mem_total > 0 {
                    p.rss_bytes as f64 * 100.0 / mem_total as f64
                } else {
                    0.0
                };
                ProcessView {
                    user: users(p.uid),
                    sample: p.clone(),
                    cpu_percent,
                    mem_percent,
                    io_read_rate,
                    io_write_rate,
                }
            })
            .collect();

        Model {
            unix_time: cur.unix_time,
            backend: cur.backend,
            fallback_reason,
            system,
            processes,
        }
    }
}
