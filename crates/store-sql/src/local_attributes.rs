//! Local attributes of connected users (table `local_user_attributes`): oauth-core's
//! [`LocalAttributeStore`], the local side of `FederatedUsers` (attributes placed in
//! idforge's database for users who live in a connected user store).
//!
//! One row per (store, subject, attribute); a write is one transaction of upserts, so
//! concurrent writes of different attributes never lose each other; a removal is a row whose
//! value is the JSON text `null`, which reads and lookups skip; a seed is
//! `INSERT … ON CONFLICT DO NOTHING` per attribute, so it never overwrites a write or a removal.

use async_trait::async_trait;
use idforge_oauth_core::{LocalAttributeStore, Result};
use serde_json::{Map, Value};

use crate::db::{begin_write, internal, on_db};
use crate::SqlStore;

/// Longest string value indexed for [`LocalAttributeStore::find_local`].
const MAX_LOOKUP_BYTES: usize = 1024;

/// The lookup column of `value`: the string when short enough, else NULL.
fn lookup(value: &Value) -> Option<&str> {
    value.as_str().filter(|s| s.len() <= MAX_LOOKUP_BYTES)
}

#[async_trait]
impl LocalAttributeStore for SqlStore {
    async fn local_attributes(&self, store: &str, subject: &str) -> Result<Map<String, Value>> {
        let rows: Vec<(String, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT name, value FROM local_user_attributes \
             WHERE store = $1 AND subject = $2 AND value <> 'null'",
        )
        .bind(store)
        .bind(subject)
        .fetch_all(pool)
        .await
        .map_err(internal)?);
        rows.into_iter()
            .map(|(name, value)| Ok((name, serde_json::from_str(&value).map_err(internal)?)))
            .collect()
    }

    async fn write_local(
        &self,
        store: &str,
        subject: &str,
        changes: &Map<String, Value>,
    ) -> Result<()> {
        // A removal (`null`) is stored as the JSON text `null`: the row keeps `seed_local`'s
        // `ON CONFLICT DO NOTHING` from importing the value again; reads skip it.
        let rows: Vec<(&str, String, Option<&str>)> = changes
            .iter()
            .map(|(name, value)| {
                let json = serde_json::to_string(value).map_err(internal)?;
                Ok((name.as_str(), json, lookup(value)))
            })
            .collect::<Result<_>>()?;
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(internal)?;
            for (name, json, lookup) in &rows {
                sqlx::query(
                    "INSERT INTO local_user_attributes (store, subject, name, value, lookup) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (store, subject, name) \
                     DO UPDATE SET value = excluded.value, lookup = excluded.lookup",
                )
                .bind(store)
                .bind(subject)
                .bind(*name)
                .bind(json)
                .bind(*lookup)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
            }
            tx.commit().await.map_err(internal)?;
        });
        Ok(())
    }

    async fn seed_local(
        &self,
        store: &str,
        subject: &str,
        values: &Map<String, Value>,
    ) -> Result<usize> {
        let mut set = 0u64;
        for (name, value) in values.iter().filter(|(_, v)| !v.is_null()) {
            let json = serde_json::to_string(value).map_err(internal)?;
            set += on_db!(&self.db, pool => sqlx::query(
                "INSERT INTO local_user_attributes (store, subject, name, value, lookup) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(store)
            .bind(subject)
            .bind(name)
            .bind(&json)
            .bind(lookup(value))
            .execute(pool)
            .await
            .map_err(internal)?
            .rows_affected());
        }
        Ok(usize::try_from(set).unwrap_or(usize::MAX))
    }

    async fn find_local(&self, store: &str, attributes: &[(&str, &str)]) -> Result<Vec<String>> {
        let mut found: Option<Vec<String>> = None;
        for (name, value) in attributes {
            let subjects: Vec<String> = on_db!(&self.db, pool => sqlx::query_scalar(
                "SELECT subject FROM local_user_attributes \
                 WHERE store = $1 AND name = $2 AND lookup = $3 ORDER BY subject",
            )
            .bind(store)
            .bind(*name)
            .bind(*value)
            .fetch_all(pool)
            .await
            .map_err(internal)?);
            found = Some(match found {
                None => subjects,
                Some(prev) => prev.into_iter().filter(|s| subjects.contains(s)).collect(),
            });
        }
        // No attribute: nobody (as the port reads).
        Ok(found.unwrap_or_default())
    }

    async fn forget_local(&self, store: &str, subject: &str) -> Result<bool> {
        // Removals go too; the answer counts values only.
        let gone: Vec<String> = on_db!(&self.db, pool => sqlx::query_scalar(
            "DELETE FROM local_user_attributes WHERE store = $1 AND subject = $2 RETURNING value",
        )
        .bind(store)
        .bind(subject)
        .fetch_all(pool)
        .await
        .map_err(internal)?);
        Ok(gone.iter().any(|v| v != "null"))
    }
}
