//! idforge-oid4vci's [`TemplateStore`] and [`IssuanceStore`] (tables `oid4vci_*`; feature
//! `oid4vci`).
//!
//! Single use in one statement: a `c_nonce` (§7.2 replay), an `issuer_state` (§5.1.3) and a
//! deferred transaction (§9) are taken by `DELETE … RETURNING`. Status entries are handed out
//! by one `UPDATE … RETURNING` of a single allocator row, so no index is given twice.

use async_trait::async_trait;
use idforge_oauth_core::{Error, Result, TokenHash};
use idforge_oid4vci::ports::{IssuanceRecord, IssuanceStore, OfferRecord, TemplateStore};
use idforge_oid4vci::CredentialTemplate;
use serde_json::Value;

use crate::db::{begin_write, internal, on_db};
use crate::SqlStore;

fn hash_bytes(h: Option<&TokenHash>) -> Option<Vec<u8>> {
    h.map(|h| h.0.to_vec())
}

impl SqlStore {
    async fn offer_where(
        &self,
        column: &str,
        h: &TokenHash,
        now: i64,
    ) -> Result<Option<OfferRecord>> {
        let sql = format!(
            "SELECT body FROM oid4vci_offers WHERE {column} = $1 AND expires_at > $2 LIMIT 1"
        );
        let body: Option<String> = on_db!(&self.db, pool => sqlx::query_scalar(&sql)
            .bind(&h.0[..])
            .bind(now)
            .fetch_optional(pool)
            .await
            .map_err(internal)?);
        body.map(|b| serde_json::from_str(&b).map_err(internal))
            .transpose()
    }

    async fn record_where(
        &self,
        table: &str,
        h: &TokenHash,
        now: i64,
    ) -> Result<Option<IssuanceRecord>> {
        let sql = format!("SELECT body FROM {table} WHERE hash = $1 AND expires_at > $2");
        let body: Option<String> = on_db!(&self.db, pool => sqlx::query_scalar(&sql)
            .bind(&h.0[..])
            .bind(now)
            .fetch_optional(pool)
            .await
            .map_err(internal)?);
        body.map(|b| serde_json::from_str(&b).map_err(internal))
            .transpose()
    }

    async fn insert_record(&self, table: &str, record: &IssuanceRecord) -> Result<()> {
        let body = serde_json::to_string(record).map_err(internal)?;
        let sql = format!(
            "INSERT INTO {table} (hash, expires_at, body) VALUES ($1, $2, $3) \
             ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at, body = excluded.body"
        );
        on_db!(&self.db, pool => sqlx::query(&sql)
            .bind(&record.hash.0[..])
            .bind(record.expires_at)
            .bind(&body)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(internal))
    }
}

#[async_trait]
impl TemplateStore for SqlStore {
    async fn templates(&self) -> Result<Vec<CredentialTemplate>> {
        let bodies: Vec<String> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT body FROM oid4vci_templates ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .map_err(internal)?);
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(internal))
            .collect()
    }

    async fn template(&self, id: &str) -> Result<Option<CredentialTemplate>> {
        let body: Option<String> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT body FROM oid4vci_templates WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        body.map(|b| serde_json::from_str(&b).map_err(internal))
            .transpose()
    }

    async fn put(&self, template: CredentialTemplate) -> Result<()> {
        // A template that cannot be issued is refused when saved.
        template
            .validate()
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let body = serde_json::to_string(&template).map_err(internal)?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO oid4vci_templates (id, body) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        )
        .bind(&template.id)
        .bind(&body)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(internal))
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let n = on_db!(&self.db, pool => sqlx::query("DELETE FROM oid4vci_templates WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map_err(internal)?
            .rows_affected());
        Ok(n > 0)
    }
}

#[async_trait]
impl IssuanceStore for SqlStore {
    async fn insert_offer(&self, offer: OfferRecord) -> Result<()> {
        let body = serde_json::to_string(&offer).map_err(internal)?;
        let reference = offer.reference.as_ref().map(|(h, _)| h.0.to_vec());
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO oid4vci_offers \
             (pre_authorized_code, issuer_state, reference, expires_at, body) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash_bytes(offer.pre_authorized_code.as_ref()))
        .bind(hash_bytes(offer.issuer_state.as_ref()))
        .bind(reference)
        .bind(offer.expires_at)
        .bind(&body)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(internal))
    }

    async fn offer_by_code(&self, code: &TokenHash, now: i64) -> Result<Option<OfferRecord>> {
        self.offer_where("pre_authorized_code", code, now).await
    }

    async fn offer_by_reference(&self, reference: &TokenHash, now: i64) -> Result<Option<Value>> {
        Ok(self
            .offer_where("reference", reference, now)
            .await?
            .and_then(|o| o.reference.map(|(_, v)| v)))
    }

    async fn offer_by_issuer_state(
        &self,
        state: &TokenHash,
        now: i64,
    ) -> Result<Option<OfferRecord>> {
        self.offer_where("issuer_state", state, now).await
    }

    async fn take_issuer_state(&self, state: &TokenHash, now: i64) -> Result<Option<OfferRecord>> {
        // One statement: of concurrent callers one gets the row (an expired one is dropped).
        let row: Option<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "DELETE FROM oid4vci_offers WHERE issuer_state = $1 RETURNING body, expires_at",
        )
        .bind(&state.0[..])
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

    async fn insert_nonce(&self, nonce: TokenHash, _now: i64, expires_at: i64) -> Result<()> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO oid4vci_nonces (nonce, expires_at) VALUES ($1, $2) \
             ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at",
        )
        .bind(&nonce.0[..])
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(internal))
    }

    async fn consume_nonce(&self, nonce: &TokenHash, now: i64) -> Result<bool> {
        let expires_at: Option<i64> = on_db!(&self.db, pool => sqlx::query_scalar(
            "DELETE FROM oid4vci_nonces WHERE nonce = $1 RETURNING expires_at",
        )
        .bind(&nonce.0[..])
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        Ok(expires_at.is_some_and(|e| e > now))
    }

    async fn insert_notification(&self, record: IssuanceRecord) -> Result<()> {
        self.insert_record("oid4vci_notifications", &record).await
    }

    async fn notification(&self, hash: &TokenHash, now: i64) -> Result<Option<IssuanceRecord>> {
        self.record_where("oid4vci_notifications", hash, now).await
    }

    async fn insert_transaction(&self, record: IssuanceRecord) -> Result<()> {
        self.insert_record("oid4vci_transactions", &record).await
    }

    async fn transaction(&self, hash: &TokenHash, now: i64) -> Result<Option<IssuanceRecord>> {
        self.record_where("oid4vci_transactions", hash, now).await
    }

    async fn take_transaction(&self, hash: &TokenHash, now: i64) -> Result<Option<IssuanceRecord>> {
        let row: Option<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "DELETE FROM oid4vci_transactions WHERE hash = $1 RETURNING body, expires_at",
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

    async fn allocate_status(&self, list_size: u64) -> Result<(u64, u64)> {
        let size = i64::try_from(list_size).map_err(internal)?;
        if size < 1 {
            return Err(Error::ServerError(
                "status list size must be positive".into(),
            ));
        }
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(internal)?;
            sqlx::query(
                "INSERT INTO oid4vci_status_allocator (id, list_size, current_list, next_index) \
                 VALUES (1, $1, 1, 0) ON CONFLICT (id) DO NOTHING",
            )
            .bind(size)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
            // The row lock serializes allocators: each gets its own (list, index).
            let got: Option<(i64, i64)> = sqlx::query_as(
                "UPDATE oid4vci_status_allocator SET \
                   current_list = CASE WHEN next_index >= list_size THEN current_list + 1 \
                     ELSE current_list END, \
                   next_index = CASE WHEN next_index >= list_size THEN 1 ELSE next_index + 1 END \
                 WHERE id = 1 AND list_size = $1 \
                 RETURNING current_list, next_index - 1",
            )
            .bind(size)
            .fetch_optional(&mut *tx)
            .await
            .map_err(internal)?;
            let Some((list, index)) = got else {
                return Err(Error::ServerError("status list size changed".into()));
            };
            sqlx::query("INSERT INTO oid4vci_status_entries (list_id, idx, value) VALUES ($1, $2, 0)")
                .bind(list)
                .bind(index)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
            tx.commit().await.map_err(internal)?;
            Ok((
                u64::try_from(list).map_err(internal)?,
                u64::try_from(index).map_err(internal)?,
            ))
        })
    }

    async fn set_status(&self, list: u64, index: u64, value: u8) -> Result<bool> {
        let (Ok(list), Ok(index)) = (i64::try_from(list), i64::try_from(index)) else {
            return Ok(false);
        };
        let n = on_db!(&self.db, pool => sqlx::query(
            "UPDATE oid4vci_status_entries SET value = $1 WHERE list_id = $2 AND idx = $3",
        )
        .bind(i64::from(value))
        .bind(list)
        .bind(index)
        .execute(pool)
        .await
        .map_err(internal)?
        .rows_affected());
        Ok(n == 1)
    }

    async fn status_list(&self, list: u64) -> Result<Option<Vec<u8>>> {
        let Ok(list) = i64::try_from(list) else {
            return Ok(None);
        };
        let alloc: Option<(i64, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT list_size, current_list FROM oid4vci_status_allocator WHERE id = 1",
        )
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        let Some((size, current)) = alloc else {
            return Ok(None);
        };
        if list < 1 || list > current {
            return Ok(None);
        }
        let entries: Vec<(i64, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT idx, value FROM oid4vci_status_entries WHERE list_id = $1",
        )
        .bind(list)
        .fetch_all(pool)
        .await
        .map_err(internal)?);
        let mut values = vec![0u8; usize::try_from(size).map_err(internal)?];
        for (idx, value) in entries {
            if let Some(slot) = usize::try_from(idx).ok().and_then(|i| values.get_mut(i)) {
                *slot = u8::try_from(value).map_err(internal)?;
            }
        }
        Ok(Some(values))
    }

    async fn sweep(&self, now: i64) -> Result<usize> {
        let mut removed = 0;
        for (table, key) in [
            ("oid4vci_offers", "id"),
            ("oid4vci_nonces", "nonce"),
            ("oid4vci_notifications", "hash"),
            ("oid4vci_transactions", "hash"),
        ] {
            let sql = format!(
                "DELETE FROM {table} WHERE {key} IN \
                 (SELECT {key} FROM {table} WHERE expires_at <= $1 LIMIT $2)"
            );
            removed += self.sweep_batches(&sql, now).await?;
        }
        Ok(removed)
    }
}
