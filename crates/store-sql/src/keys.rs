//! Signing keys (table `signing_keys`): what a jose [`KeyRing`](idforge_jose::KeyRing) holds,
//! kept so a restart signs with the same key and publishes the same JWKS, and so N processes
//! on one PostgreSQL share it.
//!
//! One active key per issuer (a partial unique index): [`SqlStore::ensure_signing_key`]
//! stores a candidate only if the issuer has none, then returns whichever is stored, so two
//! processes starting at once agree on one key. Rotation: [`SqlStore::rotate_signing_key`]
//! retires the active key at a given time (still published until then) and stores the new one.

use idforge_jose::{Jwk, JwsAlgorithm, Key};
use idforge_oauth_core::Result;

use crate::db::{begin_write, internal, on_db};
use crate::SqlStore;

/// A stored signing key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoredKey {
    /// The issuer it signs for.
    pub issuer: String,
    /// The private key (its JWK has a `kid`).
    pub key: Key,
    /// The algorithm it signs with.
    pub alg: JwsAlgorithm,
    /// When it was stored.
    pub created_at: i64,
    /// `None`: the active key; else when it stops being published.
    pub retire_at: Option<i64>,
}

impl StoredKey {
    /// An active key of `issuer`; its JWK must carry a `kid`.
    pub fn new(issuer: impl Into<String>, key: Key, alg: JwsAlgorithm, created_at: i64) -> Self {
        StoredKey {
            issuer: issuer.into(),
            key,
            alg,
            created_at,
            retire_at: None,
        }
    }

    fn kid(&self) -> Result<String> {
        self.key
            .jwk()
            .kid
            .clone()
            .ok_or_else(|| internal("a stored signing key needs a kid"))
    }
}

type Row = (String, String, String, i64, Option<i64>);

fn from_row((issuer, alg, jwk, created_at, retire_at): Row) -> Result<StoredKey> {
    let jwk = Jwk::from_json(&jwk).map_err(internal)?;
    Ok(StoredKey {
        issuer,
        key: Key::from_jwk(jwk).map_err(internal)?,
        alg: JwsAlgorithm::from_name(&alg).map_err(internal)?,
        created_at,
        retire_at,
    })
}

const COLUMNS: &str = "issuer, alg, private_jwk, created_at, retire_at";

impl SqlStore {
    /// The active signing key of `issuer`.
    pub async fn active_signing_key(&self, issuer: &str) -> Result<Option<StoredKey>> {
        let sql =
            format!("SELECT {COLUMNS} FROM signing_keys WHERE issuer = $1 AND retire_at IS NULL");
        let row: Option<Row> = on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(issuer)
            .fetch_optional(pool)
            .await
            .map_err(internal)?);
        row.map(from_row).transpose()
    }

    /// The keys of `issuer` to publish at `now`: the active one first, then those retiring
    /// after `now`.
    pub async fn signing_keys(&self, issuer: &str, now: i64) -> Result<Vec<StoredKey>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM signing_keys WHERE issuer = $1 \
             AND (retire_at IS NULL OR retire_at > $2) \
             ORDER BY (retire_at IS NOT NULL), created_at DESC"
        );
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(issuer)
            .bind(now)
            .fetch_all(pool)
            .await
            .map_err(internal)?);
        rows.into_iter().map(from_row).collect()
    }

    /// Stores `candidate` as the active key of its issuer unless the issuer already has one;
    /// returns the active key (the candidate, or the one stored before).
    pub async fn ensure_signing_key(&self, candidate: StoredKey) -> Result<StoredKey> {
        let kid = candidate.kid()?;
        let jwk = candidate.key.jwk().to_json();
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO signing_keys (kid, issuer, alg, private_jwk, created_at, retire_at) \
             VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT DO NOTHING",
        )
        .bind(&kid)
        .bind(&candidate.issuer)
        .bind(candidate.alg.name())
        .bind(&jwk)
        .bind(candidate.created_at)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(internal))?;
        self.active_signing_key(&candidate.issuer)
            .await?
            .ok_or_else(|| internal("the signing key vanished"))
    }

    /// Makes `next` the active key of its issuer; the previous active key retires at
    /// `retire_at` (published until then, so tokens it signed still verify). One transaction.
    pub async fn rotate_signing_key(&self, next: StoredKey, retire_at: i64) -> Result<()> {
        let kid = next.kid()?;
        let jwk = next.key.jwk().to_json();
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(internal)?;
            sqlx::query("UPDATE signing_keys SET retire_at = $1 WHERE issuer = $2 AND retire_at IS NULL")
                .bind(retire_at)
                .bind(&next.issuer)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
            sqlx::query(
                "INSERT INTO signing_keys (kid, issuer, alg, private_jwk, created_at, retire_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL)",
            )
            .bind(&kid)
            .bind(&next.issuer)
            .bind(next.alg.name())
            .bind(&jwk)
            .bind(next.created_at)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
            tx.commit().await.map_err(internal)?;
        });
        Ok(())
    }

    pub(crate) async fn sweep_signing_keys(&self, now: i64) -> Result<usize> {
        self.sweep_batches(
            "DELETE FROM signing_keys WHERE kid IN \
             (SELECT kid FROM signing_keys WHERE retire_at IS NOT NULL AND retire_at <= $1 LIMIT $2)",
            now,
        )
        .await
    }
}
