//! Keeps refreshes for rewinding on a thread of its own: the collector
//! hands each refresh over without waiting (a refresh that finds the
//! encoder busy is dropped and counted), the encoder thread turns it into
//! a frame and adds it to the ring. So encoding never delays a refresh, a
//! key the collector answers, or the next collection.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use crate::model::Model;
use crate::record::frame::{Encoder, Rest};
use crate::record::ring::Ring;
use crate::record::KEY_EVERY;

/// Refreshes waiting for the encoder besides the one it encodes: one, so
/// that at most two models are held for it whatever the pace.
const QUEUE: usize = 1;

/// The most the kept frames may take, whatever `rewind_minutes` asks: the
/// oldest minutes go first beyond it. An idle machine of 30 000 processes
/// fills about 5 MB in ten minutes, but every exit is kept with its
/// refresh: at 6 900 exits a second, the interface's RSS rose from 111 MB
/// after a minute to 147 MB after ten without this limit.
const MAX_BYTES: usize = 8 << 20;

/// A refresh handed over: its model (which holds the processes' samples)
/// and the rest of its sample.
type Refresh = (Arc<Model>, Rest);

/// What the encoder thread shares with the collector.
pub struct Kept {
    pub ring: Ring,
    /// Refreshes the encoder is done with (kept, or failed to encode).
    done: u64,
}

struct Shared {
    kept: Mutex<Kept>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Kept> {
        // A panic on the encoder thread leaves a ring that is whole
        // between pushes: keep using it.
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The collector's end: hands refreshes to the encoder thread.
pub struct Keeper {
    refreshes: SyncSender<Refresh>,
    shared: Arc<Shared>,
    /// Refreshes handed over.
    sent: u64,
    /// Refreshes not kept because the encoder was still busy.
    dropped: u64,
}

impl Keeper {
    /// Starts the encoder thread, keeping `keep_secs` of refreshes.
    pub fn start(keep_secs: f64) -> std::io::Result<Keeper> {
        let (keeper, refreshes) = Keeper::unstarted(keep_secs);
        let shared = Arc::clone(&keeper.shared);
        thread::Builder::new()
            .name("rewind".into())
            .spawn(move || encode_all(&refreshes, &shared))?;
        Ok(keeper)
    }

    /// A keeper and the receiving end its encoder thread would read.
    fn unstarted(keep_secs: f64) -> (Keeper, Receiver<Refresh>) {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let shared = Arc::new(Shared {
            kept: Mutex::new(Kept {
                ring: Ring::new(keep_secs, MAX_BYTES),
                done: 0,
            }),
            changed: Condvar::new(),
        });
        let keeper = Keeper {
            refreshes: tx,
            shared,
            sent: 0,
            dropped: 0,
        };
        (keeper, rx)
    }

    /// Hands a refresh to the encoder, never waiting for it: while it is
    /// busy with earlier ones the refresh is dropped (the rewind has a
    /// gap there; the next refresh kept is a delta against the last one
    /// kept, which is what a delta needs).
    pub fn offer(&mut self, model: Arc<Model>, rest: Rest) {
        match self.refreshes.try_send((model, rest)) {
            Ok(()) => self.sent += 1,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.dropped += 1,
        }
    }

    /// Refreshes not kept because the encoder was busy.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The kept refreshes, once the encoder has kept those handed over
    /// (at most `patience`: what it has kept by then otherwise).
    pub fn settled(&self, patience: Duration) -> MutexGuard<'_, Kept> {
        let kept = self.shared.lock();
        let sent = self.sent;
        let (kept, _) = self
            .shared
            .changed
            .wait_timeout_while(kept, patience, |k| k.done < sent)
            .unwrap_or_else(PoisonError::into_inner);
        kept
    }

    /// The kept refreshes as they are.
    pub fn kept(&self) -> MutexGuard<'_, Kept> {
        self.shared.lock()
    }
}

/// The encoder thread: each refresh becomes a frame in the ring, until
/// the collector hangs up.
fn encode_all(refreshes: &Receiver<Refresh>, shared: &Shared) {
    let mut encoder = Encoder::new(KEY_EVERY);
    while let Ok((model, rest)) = refreshes.recv() {
        let frame = encoder
            .encode_later(&rest, &model)
            .and_then(|p| encoder.finish(p, &model));
        // The model goes before the lock is taken (freeing a refresh of
        // many processes takes a while).
        drop(model);
        let mut kept = shared.lock();
        match frame {
            Ok((kind, blob)) => {
                kept.ring.push(rest.unix_time(), kind, blob);
                encoder.stored(kind);
            }
            // The next one kept is a key frame.
            Err(_) => encoder.reset(),
        }
        kept.done += 1;
        drop(kept);
        shared.changed.notify_all();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::collect::fake::{demo_processes, FakeCollector};
    use crate::collect::Collector;

    fn refresh(collector: &mut FakeCollector, prev: Option<&Model>) -> Refresh {
        let sample = collector.collect().unwrap();
        let rest = Rest::of(&sample);
        let baselines = prev.map(Model::baselines);
        let model = Model::after(sample, baselines.as_ref(), None, &|uid| uid.to_string());
        (Arc::new(model), rest)
    }

    #[test]
    fn a_refresh_offered_while_the_encoder_is_busy_is_dropped_and_counted() {
        let (mut keeper, refreshes) = Keeper::unstarted(600.0);
        let mut collector = FakeCollector::new(demo_processes());
        let (model, rest) = refresh(&mut collector, None);
        // Nobody encodes: the first waits in the queue, the next two find
        // it full.
        keeper.offer(Arc::clone(&model), rest.clone());
        keeper.offer(Arc::clone(&model), rest.clone());
        keeper.offer(model, rest);
        assert_eq!(keeper.dropped(), 2);
        assert_eq!(refreshes.try_iter().count(), 1);
    }

    #[test]
    fn the_encoder_thread_keeps_every_refresh_it_is_given_time_for() {
        let mut keeper = Keeper::start(600.0).unwrap();
        let mut collector = FakeCollector::new(demo_processes());
        let mut prev: Option<Arc<Model>> = None;
        let mut times = Vec::new();
        for _ in 0..5 {
            let (model, rest) = refresh(&mut collector, prev.as_deref());
            times.push(rest.unix_time());
            keeper.offer(Arc::clone(&model), rest);
            // Each waits for the one before to be kept: none dropped.
            drop(keeper.settled(Duration::from_secs(60)));
            prev = Some(model);
        }
        assert_eq!(keeper.dropped(), 0);
        let kept = keeper.settled(Duration::from_secs(60));
        let newest = kept.ring.newest().unwrap();
        assert_eq!(newest.id, 5);
        assert_eq!(newest.time, *times.last().unwrap());
    }
}
