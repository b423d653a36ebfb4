//! Fleet mode (`--serve`): an OpenMetrics / Prometheus exporter.
//!
//! A collector thread owns the monitor: each interval it samples, builds
//! the model, folds it into the unit and container totals and renders the
//! exposition once; the HTTP side (hyper on the main thread) only hands out
//! the latest rendering. Scrapes therefore never trigger a collection, and
//! however many or slow they are, the collector never waits for them.

pub mod addr;
pub mod aggregate;
pub mod exposition;
pub mod http;
pub mod pool;
pub mod refuse;
pub mod state;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::collect::clock::clock_ticks_per_second;
use crate::monitor::Monitor;
use aggregate::Aggregator;
use exposition::{render, Refresh, SelfStats};
use state::Shared;

/// Default time between refreshes. Prometheus scrapes every 15 s to 1 min
/// as a rule; computing rates from counters is its job, so a refresh only
/// needs to be fresh compared with a scrape: 5 s keeps data at most 5 s old
/// for a 15 s scrape while bpftop's own CPU stays negligible.
pub const DEFAULT_INTERVAL_MS: u64 = 5000;
/// Default K for the per-process series (see `exposition::top_processes`).
pub const DEFAULT_TOP_K: usize = 20;

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub interval: Duration,
    pub top_k: usize,
}

/// Binds, takes the first refresh (so a broken backend fails at once, as in
/// batch mode), then serves until killed.
pub fn run(monitor: Monitor, options: &ServeOptions) -> anyhow::Result<()> {
    let listener = TcpListener::bind(options.addr)
        .with_context(|| format!("cannot listen on {}", options.addr))?;
    let shared = Arc::new(Shared::new(options.interval));
    let mut collector = Collector::new(monitor, options.top_k, Arc::clone(&shared));
    collector.refresh()?;
    let bound = listener.local_addr()?;
    if let Some(warning) = addr::exposure_warning(&bound) {
        eprintln!("{warning}");
    }
    eprintln!("bpftop: serving http://{bound}/metrics");
    let interval = options.interval;
    thread::Builder::new()
        .name("bpftop-collect".into())
        .spawn(move || collector.run(interval))?;
    http::serve(listener, shared)
}

/// The collector thread's state between refreshes.
struct Collector {
    monitor: Monitor,
    aggregator: Aggregator,
    top_k: usize,
    user_hz: u64,
    collections: u64,
    errors: u64,
    shared: Arc<Shared>,
}

impl Collector {
    fn new(monitor: Monitor, top_k: usize, shared: Arc<Shared>) -> Collector {
        Collector {
            monitor,
            aggregator: Aggregator::new(),
            top_k,
            user_hz: clock_ticks_per_second(),
            collections: 0,
            errors: 0,
            shared,
        }
    }

    /// Refreshes on a fixed schedule for ever. A failed refresh is reported
    /// and counted, and the previous exposition stays served: one bad walk
    /// must not take a fleet's metrics down.
    fn run(mut self, interval: Duration) {
        let mut next = Instant::now();
        loop {
            next += interval;
            let now = Instant::now();
            if next < now {
                // Fell behind (suspend, a slow walk): skip, don't burst.
                next = now + interval;
            }
            thread::sleep(next.saturating_duration_since(now));
            if let Err(e) = self.refresh() {
                self.errors += 1;
                let e = format!("{e:#}");
                eprintln!("bpftop: refresh failed: {e}");
                self.shared.fail(e);
            }
        }
    }

    /// One refresh, published; its model becomes the baseline only once
    /// its exposition is.
    fn refresh(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        self.monitor.refresh_with(
            |sample| sample.system.cpu_total,
            |model, cpu_ticks| {
                let groups = self.aggregator.update(model, Instant::now());
                self.collections += 1;
                let exposition = render(&Refresh {
                    model,
                    cpu_ticks,
                    user_hz: self.user_hz,
                    groups: &groups,
                    top_k: self.top_k,
                    stats: SelfStats {
                        collection_seconds: started.elapsed().as_secs_f64(),
                        collections: self.collections,
                        collection_errors: self.errors,
                        scrapes: self.shared.scrapes(),
                    },
                })
                .context("rendering the exposition")?;
                self.shared.publish(exposition, Instant::now());
                Ok(())
            },
        )
    }
}
