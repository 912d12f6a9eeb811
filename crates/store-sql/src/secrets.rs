//! Host secrets (table `host_secrets`): a secret a host draws once and shares between its
//! processes, such as `idforge serve`'s form sealing key.

use crate::db::{internal, on_db};
use crate::SqlStore;

impl SqlStore {
    /// The secret stored under `name`, storing `candidate` first if there is none: of
    /// concurrent first starts exactly one candidate is kept (`INSERT … ON CONFLICT DO
    /// NOTHING`), and every caller gets that one. The secret never appears in an error.
    pub async fn ensure_secret(
        &self,
        name: &str,
        candidate: &[u8],
        now: i64,
    ) -> idforge_oauth_core::Result<Vec<u8>> {
        on_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO host_secrets (name, secret, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(name)
            .bind(candidate)
            .bind(now)
            .execute(pool)
            .await
            .map_err(internal)?;
            let (secret,): (Vec<u8>,) =
                sqlx::query_as("SELECT secret FROM host_secrets WHERE name = $1")
                    .bind(name)
                    .fetch_one(pool)
                    .await
                    .map_err(internal)?;
            Ok(secret)
        })
    }
}
