//! oauth-core's [`PushedRequestStore`] (RFC 9126; table `oauth_pushed_requests`): `consume`
//! is one `DELETE … RETURNING`, so of N concurrent callers exactly one gets the request
//! (RFC 9126 §4: the `request_uri` is used once).

use async_trait::async_trait;
use idforge_oauth_core::{PushedRequest, PushedRequestStore, Result, TokenHash};

use crate::db::{internal, on_db};
use crate::SqlStore;

#[async_trait]
impl PushedRequestStore for SqlStore {
    async fn insert(&self, request: PushedRequest) -> Result<()> {
        let body = serde_json::to_string(&request).map_err(internal)?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO oauth_pushed_requests (hash, client_id, expires_at, body) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&request.hash.0[..])
        .bind(&request.client_id)
        .bind(request.expires_at)
        .bind(&body)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(internal))?;
        Ok(())
    }

    async fn consume(&self, hash: &TokenHash, now: i64) -> Result<Option<PushedRequest>> {
        // Removed whether or not it expired (an expired one is dead either way).
        let row: Option<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "DELETE FROM oauth_pushed_requests WHERE hash = $1 RETURNING body, expires_at",
        )
        .bind(&hash.0[..])
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        match row {
            Some((body, expires_at)) if expires_at > now => {
                Ok(Some(serde_json::from_str(&body).map_err(internal)?))
            }
            _ => Ok(None),
        }
    }

    async fn sweep(&self, now: i64) -> Result<usize> {
        self.sweep_batches(
            "DELETE FROM oauth_pushed_requests WHERE hash IN \
             (SELECT hash FROM oauth_pushed_requests WHERE expires_at <= $1 LIMIT $2)",
            now,
        )
        .await
    }
}
