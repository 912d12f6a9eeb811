//! The access log of `idforge serve`: one line per request on stderr (`METHOD PATH STATUS
//! 1.2ms`), buffered in memory and written in batches (issue 19 §3).
//!
//! Writing each line with `eprintln!` cost one `write(2)` on unbuffered stderr and a lock of the
//! global stderr handle per request, on the request's own task. Here a request only appends its
//! line to a buffer under a mutex (no system call); [`AccessLog::flush_every`] writes the buffer
//! to stderr in one call every interval, and a request that finds the buffer over
//! [`FLUSH_BYTES`] flushes it at once so memory stays bounded under any load.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A buffer this large is written at once rather than at the next tick.
pub(crate) const FLUSH_BYTES: usize = 64 * 1024;

/// The shared line buffer.
#[derive(Debug, Default)]
pub(crate) struct AccessLog {
    buf: Mutex<String>,
}

impl AccessLog {
    fn lock(&self) -> MutexGuard<'_, String> {
        // A panic while appending leaves at worst a partial line: keep logging.
        self.buf.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends one request's line; writes the buffer out if it has grown past [`FLUSH_BYTES`].
    pub(crate) fn record(&self, method: &str, path: &str, status: u16, elapsed: Duration) {
        let mut buf = self.lock();
        // Writing to a String cannot fail.
        let _ = writeln!(
            buf,
            "{method} {path} {status} {:.1}ms",
            elapsed.as_secs_f64() * 1000.0
        );
        if buf.len() >= FLUSH_BYTES {
            let full = std::mem::take(&mut *buf);
            drop(buf);
            write_out(&full);
        }
    }

    /// Writes what is buffered.
    pub(crate) fn flush(&self) {
        let pending = std::mem::take(&mut *self.lock());
        if !pending.is_empty() {
            write_out(&pending);
        }
    }

    /// Flushes every `interval` for as long as the runtime runs.
    pub(crate) fn flush_every(self: Arc<Self>, interval: Duration) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                self.flush();
            }
        });
    }
}

/// One write of whole lines to stderr; a failing stderr (closed pipe) drops the lines, as
/// `eprintln!` would have panicked instead.
fn write_out(lines: &str) {
    let _ = std::io::stderr().lock().write_all(lines.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_buffered_until_flushed() {
        let log = AccessLog::default();
        log.record("POST", "/token", 200, Duration::from_micros(1250));
        log.record("GET", "/jwks", 404, Duration::from_micros(50));
        assert_eq!(*log.lock(), "POST /token 200 1.2ms\nGET /jwks 404 0.1ms\n");
        log.flush();
        assert!(log.lock().is_empty());
    }

    #[test]
    fn a_full_buffer_is_written_at_once() {
        let log = AccessLog::default();
        let path = "/".repeat(1000);
        for _ in 0..(FLUSH_BYTES / 1000 + 1) {
            log.record("GET", &path, 200, Duration::ZERO);
        }
        assert!(log.lock().len() < FLUSH_BYTES);
    }
}
