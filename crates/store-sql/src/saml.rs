//! idforge-saml-sp's [`ReplayCache`] and [`RequestStore`] (feature `saml`; tables
//! `saml_replay`, `saml_requests`, migration 0014).
//!
//! Single use lives in one statement each: `consume` is an upsert that writes only when the
//! assertion ID is new or its entry has expired (`ON CONFLICT (id) DO UPDATE … WHERE
//! expires_at <= now`), so of concurrent uses exactly one changes a row; `take` is
//! `DELETE … RETURNING`, so of concurrent takes exactly one gets the request. Instants are
//! stored as Unix nanoseconds, compared exactly as the memory stores compare them.

use async_trait::async_trait;
use idforge_saml_sp::ports::{PendingRequest, ReplayCache, RequestStore};
use idforge_saml_sp::{Error, Result};
use time::OffsetDateTime;

use crate::db::on_db;
use crate::SqlStore;

fn store_err(e: impl std::fmt::Display) -> Error {
    Error::Store(format!("sql store: {e}"))
}

/// Unix nanoseconds, saturating (past year 2262).
fn nanos(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(if t.unix_timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

#[async_trait]
impl ReplayCache for SqlStore {
    async fn consume(
        &self,
        id: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let n = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO saml_replay (id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE saml_replay.expires_at <= $3",
        )
        .bind(id)
        .bind(nanos(expires_at))
        .bind(nanos(now))
        .execute(pool)
        .await
        .map_err(store_err)?
        .rows_affected());
        Ok(n == 1)
    }
}

#[async_trait]
impl RequestStore for SqlStore {
    async fn save(&self, request: PendingRequest) -> Result<()> {
        let body = serde_json::to_string(&request).map_err(store_err)?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO saml_requests (id, expires_at, body) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, \
             body = excluded.body",
        )
        .bind(&request.id)
        .bind(nanos(request.expires_at))
        .bind(&body)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(store_err)?);
        Ok(())
    }

    async fn take(&self, id: &str, now: OffsetDateTime) -> Result<Option<PendingRequest>> {
        // Removed either way, like the memory store: an expired request is gone too.
        let row: Option<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "DELETE FROM saml_requests WHERE id = $1 RETURNING body, expires_at",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(store_err)?);
        match row {
            Some((body, exp)) if exp > nanos(now) => {
                serde_json::from_str(&body).map(Some).map_err(store_err)
            }
            _ => Ok(None),
        }
    }
}

impl SqlStore {
    /// Sweeps expired assertion IDs and pending requests (`now` in Unix seconds).
    pub(crate) async fn sweep_saml(&self, now: i64) -> idforge_oauth_core::Result<usize> {
        let now = now.saturating_mul(1_000_000_000);
        Ok(self
            .sweep_batches(
                "DELETE FROM saml_replay WHERE id IN \
                 (SELECT id FROM saml_replay WHERE expires_at <= $1 LIMIT $2)",
                now,
            )
            .await?
            + self
                .sweep_batches(
                    "DELETE FROM saml_requests WHERE id IN \
                     (SELECT id FROM saml_requests WHERE expires_at <= $1 LIMIT $2)",
                    now,
                )
                .await?)
    }
}
