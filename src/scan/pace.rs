//! Pacing: each sender thread keeps to its share of the scan's rate.

use std::time::{Duration, Instant};

/// Keeps one thread at its share of the rate without sleeping for less than a
/// millisecond (short sleeps overshoot on a busy machine and would cap the rate): it
/// compares what was sent with what the rate allows since a checkpoint, and lets a
/// thread that fell behind catch up by at most 10 ms worth of probes.
pub(super) struct Pacer {
    since: Instant,
    base: u64,
    rate: u64,
}

impl Pacer {
    pub(super) fn new() -> Pacer {
        Pacer {
            since: Instant::now(),
            base: 0,
            rate: 0,
        }
    }

    pub(super) fn pace(&mut self, rate: u64, sent: u64, batch: u64) {
        let rate = rate.max(1);
        if rate != self.rate {
            *self = Pacer {
                since: Instant::now(),
                base: sent,
                rate,
            };
            return;
        }
        loop {
            let el = self.since.elapsed();
            let allowed = (el.as_secs_f64() * rate as f64) as u64;
            let done = sent - self.base;
            if done + batch <= allowed {
                if allowed - done - batch > (rate / 100).max(batch) {
                    // Fell behind by more than 10 ms: forget the debt.
                    *self = Pacer {
                        since: Instant::now(),
                        base: sent,
                        rate,
                    };
                }
                return;
            }
            let ahead = Duration::from_secs_f64((done + batch - allowed) as f64 / rate as f64);
            if ahead < Duration::from_millis(1) {
                std::hint::spin_loop();
                std::thread::yield_now();
            } else {
                std::thread::sleep(ahead);
            }
        }
    }
}
