//! oauth-core's [`ClientStore`] (table `oauth_clients`): clients as JSON (the secret only as
//! its SHA-256 hash, as [`Client`] keeps it), upserted by the host (`idforge serve` writes its
//! configuration file's clients at start).

use async_trait::async_trait;
use idforge_oauth_core::{Client, ClientStore, Result};

use crate::db::{internal, on_db};
use crate::SqlStore;

impl SqlStore {
    /// Adds or replaces `client` (by `client_id`); `now` is recorded as its update time.
    pub async fn upsert_client(&self, client: &Client, now: i64) -> Result<()> {
        let body = serde_json::to_string(client).map_err(internal)?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO oauth_clients (client_id, body, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id) DO UPDATE SET body = excluded.body, \
             updated_at = excluded.updated_at",
        )
        .bind(&client.client_id)
        .bind(&body)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(internal))?;
        Ok(())
    }

    /// Removes a client; `true` if it existed.
    pub async fn delete_client(&self, client_id: &str) -> Result<bool> {
        let n = on_db!(&self.db, pool => sqlx::query("DELETE FROM oauth_clients WHERE client_id = $1")
            .bind(client_id)
            .execute(pool)
            .await
            .map_err(internal)?
            .rows_affected());
        Ok(n > 0)
    }
}

#[async_trait]
impl ClientStore for SqlStore {
    async fn client(&self, client_id: &str) -> Result<Option<Client>> {
        let body: Option<String> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT body FROM oauth_clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        body.map(|b| serde_json::from_str(&b).map_err(internal))
            .transpose()
    }
}
