//! Time as a port, so every expiry rule is testable without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time, in seconds since the Unix epoch (the JWT `NumericDate`).
pub trait Clock: Send + Sync {
    /// Now, as a `NumericDate` (RFC 7519 §2).
    fn now(&self) -> i64;
}

/// The system clock.
///
/// Fails closed: a system time before the Unix epoch (a broken or tampered clock) reads as the
/// end of time, so every token and artifact looks expired instead of valid forever.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        numeric_date(SystemTime::now())
    }
}

/// `t` as a `NumericDate`; [`i64::MAX`] for a time before the epoch or beyond `i64` seconds.
fn numeric_date(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .unwrap_or(i64::MAX)
}

/// A clock that stands still until told to move; for tests.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock showing `now`.
    pub fn new(now: i64) -> Self {
        FixedClock(AtomicI64::new(now))
    }
    /// Sets the time.
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst)
    }
    /// Moves the time forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn system_clock_fails_closed() {
        assert_eq!(
            numeric_date(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
            1_800_000_000
        );
        // Before the epoch: the end of time, so nothing validates as unexpired.
        assert_eq!(numeric_date(UNIX_EPOCH - Duration::from_secs(1)), i64::MAX);
        assert!(SystemClock.now() > 1_700_000_000);
    }
}
