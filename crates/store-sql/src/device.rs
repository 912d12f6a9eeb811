//! oauth-core's [`DeviceCodeStore`] (RFC 8628; table `oauth_device_codes`).
//!
//! `poll` and `decide` apply oauth-core's pure transitions ([`DeviceAuthorization::poll`],
//! [`DeviceAuthorization::decide`]) as a compare-and-set: read the record and its `version`,
//! decide, then `UPDATE … WHERE version = <read>`; a write that finds another version lost a
//! race and starts over from the new record. So of concurrent polls at most one passes the
//! interval check (RFC 8628 §3.5 `slow_down`) and exactly one redeems an approved code.

use async_trait::async_trait;
use idforge_oauth_core::device::{
    DecideOutcome, DeviceAuthorization, PollOutcome, TransitionError, UserDecision,
};
use idforge_oauth_core::{DeviceCodeStore, Result, TokenHash};

use crate::db::{internal, on_db};
use crate::SqlStore;

/// Lost compare-and-set rounds before giving up with `temporarily_unavailable` (each lost
/// round means another caller's write landed, so progress is always made).
const MAX_ROUNDS: usize = 1000;

enum Key<'a> {
    Device(&'a TokenHash),
    User(&'a TokenHash),
}

impl SqlStore {
    /// The retained record and its version.
    async fn device_read(
        &self,
        key: &Key<'_>,
        now: i64,
    ) -> Result<Option<(DeviceAuthorization, i64)>> {
        let (sql, hash) = match key {
            Key::Device(h) => (
                "SELECT body, version FROM oauth_device_codes \
                 WHERE device_code = $1 AND retain_until > $2",
                h,
            ),
            Key::User(h) => (
                "SELECT body, version FROM oauth_device_codes \
                 WHERE user_code = $1 AND retain_until > $2",
                h,
            ),
        };
        let row: Option<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(sql)
            .bind(&hash.0[..])
            .bind(now)
            .fetch_optional(pool)
            .await
            .map_err(internal)?);
        row.map(|(b, v)| Ok((serde_json::from_str(&b).map_err(internal)?, v)))
            .transpose()
    }

    /// Writes `next` if the record is still at `version`; `false` if another write won.
    async fn device_write(&self, next: &DeviceAuthorization, version: i64) -> Result<bool> {
        let body = serde_json::to_string(next).map_err(internal)?;
        let n = on_db!(&self.db, pool => sqlx::query(
            "UPDATE oauth_device_codes SET body = $1, version = version + 1 \
             WHERE device_code = $2 AND version = $3",
        )
        .bind(&body)
        .bind(&next.device_code.0[..])
        .bind(version)
        .execute(pool)
        .await
        .map_err(internal)?
        .rows_affected());
        Ok(n == 1)
    }
}

fn contended() -> idforge_oauth_core::Error {
    idforge_oauth_core::Error::TemporarilyUnavailable("the device code is busy".into())
}

#[async_trait]
impl DeviceCodeStore for SqlStore {
    async fn insert(&self, authorization: DeviceAuthorization) -> Result<bool> {
        let body = serde_json::to_string(&authorization).map_err(internal)?;
        // Either code in use: nothing is written (both are unique), the caller draws again.
        let n = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO oauth_device_codes \
             (device_code, user_code, client_id, retain_until, version, body) \
             VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&authorization.device_code.0[..])
        .bind(&authorization.user_code.0[..])
        .bind(&authorization.client_id)
        .bind(authorization.retain_until())
        .bind(&body)
        .execute(pool)
        .await
        .map_err(internal)?
        .rows_affected());
        Ok(n == 1)
    }

    async fn by_user_code(
        &self,
        user_code: &TokenHash,
        now: i64,
    ) -> Result<Option<DeviceAuthorization>> {
        Ok(self
            .device_read(&Key::User(user_code), now)
            .await?
            .map(|(a, _)| a))
    }

    async fn poll(
        &self,
        device_code: &TokenHash,
        client_id: &str,
        now: i64,
    ) -> Result<PollOutcome> {
        for _ in 0..MAX_ROUNDS {
            let Some((a, version)) = self.device_read(&Key::Device(device_code), now).await? else {
                return Ok(PollOutcome::NotFound);
            };
            let (next, outcome) = a.poll(client_id, now);
            match next {
                None => return Ok(outcome),
                Some(next) => {
                    if self.device_write(&next, version).await? {
                        return Ok(outcome);
                    }
                }
            }
        }
        Err(contended())
    }

    async fn decide(
        &self,
        user_code: &TokenHash,
        decision: UserDecision,
        now: i64,
    ) -> Result<DecideOutcome> {
        let approve = matches!(decision, UserDecision::Approve(_));
        for _ in 0..MAX_ROUNDS {
            let Some((a, version)) = self.device_read(&Key::User(user_code), now).await? else {
                return Ok(DecideOutcome::NotFound);
            };
            match a.decide(decision.clone(), now) {
                Ok(next) => {
                    if self.device_write(&next, version).await? {
                        return Ok(if approve {
                            DecideOutcome::Approved(next)
                        } else {
                            DecideOutcome::Denied(next)
                        });
                    }
                }
                Err(TransitionError::Expired) => return Ok(DecideOutcome::Expired),
                Err(_) => return Ok(DecideOutcome::NotFound),
            }
        }
        Err(contended())
    }

    async fn sweep(&self, now: i64) -> Result<usize> {
        self.sweep_batches(
            "DELETE FROM oauth_device_codes WHERE device_code IN \
             (SELECT device_code FROM oauth_device_codes WHERE retain_until <= $1 LIMIT $2)",
            now,
        )
        .await
    }
}
