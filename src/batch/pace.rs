//! Batch mode's pace: when the next snapshot is due, and whether the
//! snapshots come as often as the delay asks. A refresh that takes longer
//! than the delay is not made up for with a burst of snapshots; the rate
//! achieved instead is said once.

use std::time::{Duration, Instant};

/// Intervals between snapshots over which the achieved rate is judged.
const WINDOW: u32 = 10;

/// The achieved rate may fall this much short of the asked one (timer
/// slack, a scheduler's hiccup) before it is reported.
const TOLERANCE: f64 = 0.9;

pub struct Pacer {
    delay: Duration,
    /// When the next snapshot is due.
    next: Instant,
    /// When the window's first snapshot was printed (None before the
    /// first), and the intervals since.
    window_start: Option<Instant>,
    intervals: u32,
    warned: bool,
}

impl Pacer {
    pub fn new(delay: Duration) -> Pacer {
        Pacer {
            delay,
            next: Instant::now(),
            window_start: None,
            intervals: 0,
            warned: false,
        }
    }

    /// After a snapshot was printed: says on stderr (once) when the delay
    /// cannot be kept, then waits for the next one.
    pub fn wait_for_next(&mut self) {
        std::thread::sleep(self.until_next());
    }

    /// After a snapshot was printed: says on stderr (once) when the delay
    /// cannot be kept; how long until the next one, for a caller that waits
    /// on something else meanwhile.
    pub fn until_next(&mut self) -> Duration {
        let (wait, warning) = self.printed(Instant::now());
        if let Some(warning) = warning {
            eprintln!("{warning}");
        }
        wait
    }

    /// After a snapshot was printed at `now`: how long to wait before the
    /// next one, and, the first time a window of snapshots came less often
    /// than the delay asks, the message that says so.
    pub fn printed(&mut self, now: Instant) -> (Duration, Option<String>) {
        let mut warning = None;
        let Some(start) = self.window_start else {
            self.window_start = Some(now);
            self.next = now + self.delay;
            return (self.delay, None);
        };
        self.intervals += 1;
        if self.intervals >= WINDOW {
            let elapsed = now.saturating_duration_since(start);
            let achieved = f64::from(self.intervals) / elapsed.as_secs_f64().max(1e-9);
            let asked = 1.0 / self.delay.as_secs_f64().max(1e-9);
            if achieved < asked * TOLERANCE && !self.warned {
                self.warned = true;
                warning = Some(format!(
                    "bpftop: a refresh takes longer than the delay of {} ms: {achieved:.1} \
                     snapshots a second instead of {asked:.1}",
                    self.delay.as_millis()
                ));
            }
            self.window_start = Some(now);
            self.intervals = 0;
        }
        self.next += self.delay;
        // Late: the next refresh starts at once (the refresh itself is the
        // wait), and the schedule goes on from it rather than catching up.
        if self.next < now {
            self.next = now;
        }
        (self.next.saturating_duration_since(now), warning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prints `n` snapshots `each` apart (the time a slow refresh takes,
    /// or the wait the pacer asked for when that is longer); returns the
    /// messages.
    fn run(delay_ms: u64, each_ms: u64, n: u32) -> Vec<String> {
        let start = Instant::now();
        let mut pacer = Pacer::new(Duration::from_millis(delay_ms));
        let mut now = start;
        let mut said = Vec::new();
        for _ in 0..n {
            let (wait, warning) = pacer.printed(now);
            said.extend(warning);
            now += wait.max(Duration::from_millis(each_ms));
        }
        said
    }

    #[test]
    fn a_refresh_that_keeps_up_says_nothing() {
        assert!(run(100, 20, 100).is_empty());
        assert!(run(100, 100, 100).is_empty());
    }

    #[test]
    fn a_slow_refresh_is_said_once_with_the_rate() {
        let said = run(100, 150, 100);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("delay of 100 ms"), "{}", said[0]);
        assert!(
            said[0].contains("6.7 snapshots a second instead of 10.0"),
            "{}",
            said[0]
        );
    }

    #[test]
    fn a_late_snapshot_is_followed_at_once_but_not_by_a_burst() {
        let start = Instant::now();
        let delay = Duration::from_millis(100);
        let ms = Duration::from_millis;
        let mut pacer = Pacer::new(delay);
        assert_eq!(pacer.printed(start).0, delay);
        // One refresh took a second: the next starts at once...
        let late = start + Duration::from_secs(1);
        assert_eq!(pacer.printed(late).0, Duration::ZERO);
        // ...and the nine snapshots missed are not made up for: the one
        // after it is due a delay after the late one.
        assert_eq!(pacer.printed(late + ms(10)).0, ms(90));
        assert_eq!(pacer.printed(late + ms(100)).0, ms(100));
    }

    #[test]
    fn refreshes_slightly_too_slow_keep_the_rate_they_can() {
        // Refreshes of 110 ms, as the batch loop runs them (refresh, then
        // the wait): after the first snapshot's wait of a whole delay they
        // follow one another, ten intervals in 1.2 s; a whole delay after
        // each would leave 4.8 a second.
        let start = Instant::now();
        let each = Duration::from_millis(110);
        let mut pacer = Pacer::new(Duration::from_millis(100));
        let mut now = start;
        let mut said = Vec::new();
        for _ in 0..=WINDOW {
            let (wait, warning) = pacer.printed(now);
            said.extend(warning);
            now += wait + each;
        }
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains(": 8.3 snapshots a second"), "{}", said[0]);
    }

    #[test]
    fn a_count_shorter_than_the_window_says_nothing() {
        assert!(run(100, 500, (WINDOW - 1).max(1)).is_empty());
    }
}
