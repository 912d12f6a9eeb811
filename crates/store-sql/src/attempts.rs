//! oauth-core's [`AttemptLimiter`] (table `oauth_attempts`): a fixed window per key counted by
//! one upsert, so concurrent attempts on any number of processes are counted exactly
//! (RFC 8628 §5.1: user-code entry must be rate limited).

use async_trait::async_trait;
use idforge_oauth_core::{AttemptLimiter, Result};

use crate::db::{internal, on_db};
use crate::SqlStore;

/// Longest key stored (keys are `ip:…`, `device:<hash>`; longer ones are refused, fail
/// closed, rather than stored).
const MAX_KEY: usize = 512;

impl SqlStore {
    pub(crate) async fn sweep_attempts(&self, now: i64) -> Result<usize> {
        self.sweep_batches(
            "DELETE FROM oauth_attempts WHERE key IN \
             (SELECT key FROM oauth_attempts WHERE window_end <= $1 LIMIT $2)",
            now,
        )
        .await
    }
}

#[async_trait]
impl AttemptLimiter for SqlStore {
    async fn attempt(&self, key: &str, max: u32, window: i64, now: i64) -> Result<bool> {
        if key.len() > MAX_KEY {
            return Ok(false);
        }
        let end = now.saturating_add(window);
        // A window that ended restarts at `now` with this attempt; otherwise the count grows.
        let count: i64 = on_db!(&self.db, pool => sqlx::query_scalar(
            "INSERT INTO oauth_attempts (key, window_start, window_end, count) \
             VALUES ($1, $2, $3, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               window_start = CASE WHEN oauth_attempts.window_end <= $2 THEN $2 \
                 ELSE oauth_attempts.window_start END, \
               count = CASE WHEN oauth_attempts.window_end <= $2 THEN 1 \
                 ELSE oauth_attempts.count + 1 END, \
               window_end = CASE WHEN oauth_attempts.window_end <= $2 THEN $3 \
                 ELSE oauth_attempts.window_end END \
             RETURNING count",
        )
        .bind(key)
        .bind(now)
        .bind(end)
        .fetch_one(pool)
        .await
        .map_err(internal)?);
        Ok(count <= i64::from(max))
    }
}
