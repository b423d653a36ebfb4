//! What the collector publishes and the HTTP side reads: the latest
//! exposition behind a mutex held only to swap or clone an `Arc`, so
//! neither side can make the other wait for more than that.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::exposition::Exposition;

/// The latest refresh as served.
#[derive(Debug)]
pub struct Published {
    pub exposition: Exposition,
    /// When the collector last succeeded (None before the first refresh).
    pub refreshed: Option<Instant>,
    /// Why the latest refresh failed, if it did.
    pub error: Option<String>,
}

pub struct Shared {
    current: Mutex<Arc<Published>>,
    scrapes: AtomicU64,
    interval: Duration,
}

impl Shared {
    /// `interval` is the collector's: /healthz fails when no refresh
    /// succeeded for a few of them.
    pub fn new(interval: Duration) -> Shared {
        let empty = Exposition {
            openmetrics: Bytes::from_static(b"# EOF\n"),
            text: Bytes::new(),
        };
        Shared {
            current: Mutex::new(Arc::new(Published {
                exposition: empty,
                refreshed: None,
                error: None,
            })),
            scrapes: AtomicU64::new(0),
            interval,
        }
    }

    pub fn current(&self) -> Arc<Published> {
        // A panic elsewhere while holding the lock cannot leave the Arc half
        // written, so a poisoned lock is still good to read.
        Arc::clone(&self.current.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn replace(&self, p: Published) {
        let new = Arc::new(p);
        // The old exposition is dropped after the lock is released.
        let _old = std::mem::replace(
            &mut *self.current.lock().unwrap_or_else(PoisonError::into_inner),
            new,
        );
    }

    /// A new exposition from a refresh finished at `at`.
    pub fn publish(&self, exposition: Exposition, at: Instant) {
        self.replace(Published {
            exposition,
            refreshed: Some(at),
            error: None,
        });
    }

    /// A failed refresh: the last exposition stays, /healthz reports why.
    pub fn fail(&self, error: String) {
        let cur = self.current();
        self.replace(Published {
            exposition: cur.exposition.clone(),
            refreshed: cur.refreshed,
            error: Some(error),
        });
    }

    pub fn count_scrape(&self) {
        self.scrapes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn scrapes(&self) -> u64 {
        self.scrapes.load(Ordering::Relaxed)
    }

    /// Ok while the latest refresh succeeded and is recent (a collector
    /// stuck in the kernel shows here too).
    pub fn health(&self) -> Result<(), String> {
        let cur = self.current();
        if let Some(e) = &cur.error {
            return Err(format!("the last refresh failed: {e}"));
        }
        let Some(at) = cur.refreshed else {
            return Err("no refresh yet".into());
        };
        let limit = self.interval * 3 + Duration::from_secs(5);
        let age = at.elapsed();
        if age > limit {
            return Err(format!(
                "the last refresh is {:.1} s old",
                age.as_secs_f64()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_follows_the_collector() {
        let s = Shared::new(Duration::from_millis(10));
        assert_eq!(s.health(), Err("no refresh yet".into()));
        let e = Exposition {
            openmetrics: Bytes::from_static(b"a"),
            text: Bytes::from_static(b"b"),
        };
        s.publish(e, Instant::now());
        assert_eq!(s.health(), Ok(()));
        s.fail("walk failed".into());
        assert!(s.health().is_err_and(|e| e.contains("walk failed")));
        // The last good exposition is still served.
        assert_eq!(&s.current().exposition.text[..], b"b");
        let long_ago = Instant::now().checked_sub(Duration::from_secs(60));
        if let Some(t) = long_ago {
            let e = s.current().exposition.clone();
            s.publish(e, t);
            assert!(s.health().is_err_and(|e| e.contains("old")));
        }
    }
}
