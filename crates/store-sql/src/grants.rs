//! oauth-core's [`GrantStore`] (tables `oauth_grants`, `oauth_tokens`, `oauth_marks`).
//!
//! - `consume`: one `UPDATE … WHERE state = 'active' … RETURNING` the token and its grant (RFC
//!   6749 §4.1.2: a code is used once); of N concurrent callers the database lets exactly one
//!   row change.
//! - `rotate`: one transaction that retires the old refresh token with the same single-use
//!   `UPDATE` and inserts its successor (RFC 9700 §4.14.2).
//! - `revoke_grant`: one `DELETE` of the grant; its tokens go by `ON DELETE CASCADE`, and the
//!   foreign key refuses a token inserted for a grant that is gone.
//!
//! Every write here runs on the store's writer pool: on SQLite one connection, so the token
//! requests' writes and the sweep's batches queue fairly in the process (decision 0022).

use async_trait::async_trait;
use idforge_oauth_core::records::{ConsumeOutcome, RotateOutcome, TokenState};
use idforge_oauth_core::{Error, Grant, GrantStore, Result, TokenHash, TokenKind, TokenRecord};
use sqlx::Row;

use crate::db::{internal, on_db};
use crate::SqlStore;

pub(crate) fn kind_key(kind: &TokenKind) -> Result<String> {
    serde_json::to_string(kind).map_err(internal)
}

fn state_columns(state: TokenState) -> (&'static str, Option<i64>) {
    match state {
        TokenState::Active => ("active", None),
        TokenState::Consumed { at } => ("consumed", Some(at)),
        TokenState::Rotated { at } => ("rotated", Some(at)),
    }
}

/// The record from its JSON body, with the state taken from the columns (the body's state is
/// the one it was inserted with).
fn token_from(body: &str, state: &str, state_at: Option<i64>) -> Result<TokenRecord> {
    let mut record: TokenRecord = serde_json::from_str(body).map_err(internal)?;
    let at = state_at.unwrap_or(record.issued_at);
    record.state = match state {
        "active" => TokenState::Active,
        "consumed" => TokenState::Consumed { at },
        "rotated" => TokenState::Rotated { at },
        other => return Err(internal(format!("unknown token state {other:?}"))),
    };
    Ok(record)
}

fn grant_from(body: &str) -> Result<Grant> {
    serde_json::from_str(body).map_err(internal)
}

/// The live token (any state) of kind-agnostic lookup, with its live grant.
const LIVE_TOKEN: &str =
    "SELECT t.body, t.state, t.state_at, t.kind, t.grant_id, g.body AS grant_body \
     FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id \
     WHERE t.hash = $1 AND t.expires_at > $2 AND g.expires_at > $2";

struct Live {
    record: TokenRecord,
    kind: String,
    grant: Grant,
}

impl SqlStore {
    async fn live_token(&self, hash: &TokenHash, now: i64) -> Result<Option<Live>> {
        let row = on_db!(&self.db, pool => sqlx::query(LIVE_TOKEN)
            .bind(&hash.0[..])
            .bind(now)
            .fetch_optional(pool)
            .await
            .map_err(internal)?
            .map(|r| -> std::result::Result<_, sqlx::Error> {
                Ok((
                    r.try_get::<String, _>("body")?,
                    r.try_get::<String, _>("state")?,
                    r.try_get::<Option<i64>, _>("state_at")?,
                    r.try_get::<String, _>("kind")?,
                    r.try_get::<String, _>("grant_body")?,
                ))
            })
            .transpose()
            .map_err(internal)?);
        let Some((body, state, state_at, kind, grant_body)) = row else {
            return Ok(None);
        };
        Ok(Some(Live {
            record: token_from(&body, &state, state_at)?,
            kind,
            grant: grant_from(&grant_body)?,
        }))
    }

    async fn grant_body(&self, id: &str, now: i64) -> Result<Option<Grant>> {
        let body: Option<String> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT body FROM oauth_grants WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        body.as_deref().map(grant_from).transpose()
    }
}

/// Retires an active token of `kind` (single use): the one statement that decides who wins.
/// `$1` hash, `$2` kind, `$3` now, `$4` new state. It returns the grant with the token: read
/// by a second statement, a replay could revoke the grant in between (a replay is detected
/// once this statement has committed) and the winner would lose too.
const SPEND: &str = "UPDATE oauth_tokens SET state = $4, state_at = $3 \
     WHERE hash = $1 AND kind = $2 AND state = 'active' AND expires_at > $3 \
     AND EXISTS (SELECT 1 FROM oauth_grants g WHERE g.id = oauth_tokens.grant_id AND g.expires_at > $3) \
     RETURNING body, grant_id, \
     (SELECT g.body FROM oauth_grants g WHERE g.id = oauth_tokens.grant_id) AS grant_body";

const INSERT_TOKEN: &str = "INSERT INTO oauth_tokens \
     (hash, kind, grant_id, issued_at, expires_at, state, state_at, body) \
     SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
     WHERE EXISTS (SELECT 1 FROM oauth_grants WHERE id = $3 AND expires_at > $4)";

fn token_params(record: &TokenRecord) -> Result<(String, &'static str, Option<i64>, String)> {
    let (state, state_at) = state_columns(record.state);
    Ok((
        kind_key(&record.kind)?,
        state,
        state_at,
        serde_json::to_string(record).map_err(internal)?,
    ))
}

impl SqlStore {
    /// `create_grant` as one statement of its own.
    async fn create_grant_single(&self, grant: &Grant) -> Result<()> {
        let body = serde_json::to_string(grant).map_err(internal)?;
        on_db!(&self.writer, pool => sqlx::query(
            "INSERT INTO oauth_grants (id, client_id, subject, created_at, expires_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&grant.id)
        .bind(&grant.client_id)
        .bind(grant.subject.as_deref())
        .bind(grant.created_at)
        .bind(grant.expires_at)
        .bind(&body)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(internal))?;
        Ok(())
    }

    /// `insert_token` as one statement of its own.
    async fn insert_token_single(&self, record: &TokenRecord) -> Result<()> {
        let (kind, state, state_at, body) = token_params(record)?;
        // The grant must be live at issue time; the foreign key also refuses a grant deleted
        // concurrently (the insert locks the grant row against the delete).
        let inserted = on_db!(&self.writer, pool => sqlx::query(INSERT_TOKEN)
            .bind(&record.hash.0[..])
            .bind(&kind)
            .bind(&record.grant_id)
            .bind(record.issued_at)
            .bind(record.expires_at)
            .bind(state)
            .bind(state_at)
            .bind(&body)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()));
        match inserted {
            Ok(1) => Ok(()),
            Ok(_) => Err(gone()),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(gone()),
            Err(e) => Err(internal(e)),
        }
    }

    /// Hands the row `row` makes to the group writer (PostgreSQL with grouped writes) and
    /// returns its answer, or `None` when the caller writes alone: no group writer, or the
    /// group statement failed (`batch.rs`).
    #[cfg(feature = "postgres")]
    async fn grouped(&self, row: impl FnOnce() -> Result<crate::batch::Row>) -> Option<Result<()>> {
        let group = self.group.as_ref()?;
        let row = match row() {
            Ok(row) => row,
            Err(e) => return Some(Err(e)),
        };
        match group.write(row).await {
            crate::batch::Written::Yes => Some(Ok(())),
            crate::batch::Written::GrantGone => Some(Err(gone())),
            crate::batch::Written::Alone => None,
        }
    }
}

#[cfg(feature = "postgres")]
fn grant_row(grant: &Grant) -> Result<crate::batch::GrantRow> {
    Ok(crate::batch::GrantRow {
        id: grant.id.clone(),
        client_id: grant.client_id.clone(),
        subject: grant.subject.clone(),
        created_at: grant.created_at,
        expires_at: grant.expires_at,
        body: serde_json::to_string(grant).map_err(internal)?,
    })
}

#[cfg(feature = "postgres")]
fn token_row(record: &TokenRecord) -> Result<crate::batch::TokenRow> {
    let (kind, state, state_at, body) = token_params(record)?;
    Ok(crate::batch::TokenRow {
        hash: record.hash.0.to_vec(),
        kind,
        grant_id: record.grant_id.clone(),
        issued_at: record.issued_at,
        expires_at: record.expires_at,
        state,
        state_at,
        body,
    })
}

fn gone() -> Error {
    Error::InvalidGrant("the grant was revoked or expired".into())
}

#[async_trait]
impl GrantStore for SqlStore {
    async fn create_grant(&self, grant: Grant) -> Result<()> {
        #[cfg(feature = "postgres")]
        if let Some(done) = self
            .grouped(|| Ok(crate::batch::Row::Grant(grant_row(&grant)?)))
            .await
        {
            return done;
        }
        self.create_grant_single(&grant).await
    }

    async fn grant(&self, id: &str, now: i64) -> Result<Option<Grant>> {
        self.grant_body(id, now).await
    }

    /// PostgreSQL with grouped writes: both rows in the writer's next statement. Otherwise
    /// (and when the group statement failed) the two single-row statements: on SQLite one
    /// transaction for both was measured slower than two autocommitted inserts
    /// (`benches/load/README.md`, decision 0022).
    async fn create_grant_with_token(&self, grant: Grant, token: TokenRecord) -> Result<()> {
        #[cfg(feature = "postgres")]
        if let Some(done) = self
            .grouped(|| {
                Ok(crate::batch::Row::GrantWithToken(
                    grant_row(&grant)?,
                    token_row(&token)?,
                ))
            })
            .await
        {
            return done;
        }
        self.create_grant_single(&grant).await?;
        self.insert_token_single(&token).await
    }

    async fn grants_by_subject(&self, subject: &str, now: i64) -> Result<Vec<Grant>> {
        // Index `oauth_grants_subject` (migration 0011).
        let rows: Vec<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT body FROM oauth_grants WHERE subject = $1 AND expires_at > $2 \
             ORDER BY created_at, id",
        )
        .bind(subject)
        .bind(now)
        .fetch_all(pool)
        .await
        .map_err(internal)?);
        rows.iter().map(|(b,)| grant_from(b)).collect()
    }

    async fn insert_token(&self, record: TokenRecord) -> Result<()> {
        #[cfg(feature = "postgres")]
        if let Some(done) = self
            .grouped(|| Ok(crate::batch::Row::Token(token_row(&record)?)))
            .await
        {
            return done;
        }
        self.insert_token_single(&record).await
    }

    async fn token(&self, hash: &TokenHash, now: i64) -> Result<Option<(TokenRecord, Grant)>> {
        Ok(self
            .live_token(hash, now)
            .await?
            .map(|l| (l.record, l.grant)))
    }

    async fn consume(&self, hash: &TokenHash, kind: TokenKind, now: i64) -> Result<ConsumeOutcome> {
        let kind = kind_key(&kind)?;
        let won: Option<(String, String, Option<String>)> = on_db!(&self.writer, pool => sqlx::query_as(SPEND)
            .bind(&hash.0[..])
            .bind(&kind)
            .bind(now)
            .bind("consumed")
            .fetch_optional(pool)
            .await
            .map_err(internal)?);
        if let Some((body, _, grant_body)) = won {
            let record = token_from(&body, "consumed", Some(now))?;
            // The statement's `EXISTS` saw the grant live; the subquery reads the same row.
            return Ok(match grant_body {
                Some(grant) => ConsumeOutcome::Consumed(record, grant_from(&grant)?),
                None => ConsumeOutcome::NotFound,
            });
        }
        // Lost (or never there): a consumed record of this kind is a replay.
        Ok(match self.live_token(hash, now).await? {
            Some(l) if l.kind == kind && matches!(l.record.state, TokenState::Consumed { .. }) => {
                ConsumeOutcome::Replayed(l.record)
            }
            _ => ConsumeOutcome::NotFound,
        })
    }

    async fn rotate(
        &self,
        old: &TokenHash,
        new: TokenRecord,
        now: i64,
        grace_seconds: i64,
    ) -> Result<RotateOutcome> {
        let refresh = kind_key(&TokenKind::RefreshToken)?;
        let (new_kind, new_state, new_state_at, new_body) = token_params(&new)?;
        on_db!(&self.writer, pool => {
            // One transaction: the old token is retired and its successor stored, or neither.
            let mut tx = pool
                .begin_with(crate::db::begin_write(pool))
                .await
                .map_err(internal)?;
            let won: Option<(String, String, Option<String>)> = sqlx::query_as(SPEND)
                .bind(&old.0[..])
                .bind(&refresh)
                .bind(now)
                .bind("rotated")
                .fetch_optional(&mut *tx)
                .await
                .map_err(internal)?;
            let outcome = match won {
                Some((body, grant_id, _)) if grant_id == new.grant_id => {
                    Some(token_from(&body, "rotated", Some(now))?)
                }
                // Another grant's successor: undo by rolling back.
                Some(_) => return Ok(RotateOutcome::NotFound),
                None => {
                    let row: Option<(String, String, Option<i64>, String, String)> = sqlx::query_as(
                        "SELECT t.body, t.state, t.state_at, t.kind, t.grant_id \
                         FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id \
                         WHERE t.hash = $1 AND t.expires_at > $2 AND g.expires_at > $2",
                    )
                    .bind(&old.0[..])
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(internal)?;
                    let Some((body, state, state_at, kind, grant_id)) = row else {
                        return Ok(RotateOutcome::NotFound);
                    };
                    if kind != refresh || grant_id != new.grant_id {
                        return Ok(RotateOutcome::NotFound);
                    }
                    let record = token_from(&body, &state, state_at)?;
                    match record.state {
                        // Concurrent refresh inside the grace window: another successor.
                        TokenState::Rotated { at } if grace_seconds > 0 && now - at <= grace_seconds => {
                            Some(record)
                        }
                        TokenState::Rotated { .. } => return Ok(RotateOutcome::Reused(record)),
                        _ => return Ok(RotateOutcome::NotFound),
                    }
                }
            };
            let Some(old_record) = outcome else {
                return Ok(RotateOutcome::NotFound);
            };
            let inserted = sqlx::query(INSERT_TOKEN)
                .bind(&new.hash.0[..])
                .bind(&new_kind)
                .bind(&new.grant_id)
                .bind(now)
                .bind(new.expires_at)
                .bind(new_state)
                .bind(new_state_at)
                .bind(&new_body)
                .execute(&mut *tx)
                .await
                .map_err(internal)?
                .rows_affected();
            if inserted != 1 {
                return Ok(RotateOutcome::NotFound);
            }
            let grant: Option<String> =
                sqlx::query_scalar("SELECT body FROM oauth_grants WHERE id = $1")
                    .bind(&new.grant_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(internal)?;
            let Some(grant) = grant else {
                return Ok(RotateOutcome::NotFound);
            };
            tx.commit().await.map_err(internal)?;
            Ok(RotateOutcome::Rotated(old_record, grant_from(&grant)?))
        })
    }

    async fn revoke_grant(&self, id: &str) -> Result<()> {
        // One statement: the tokens go with it (ON DELETE CASCADE).
        on_db!(&self.writer, pool => sqlx::query("DELETE FROM oauth_grants WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(internal))?;
        Ok(())
    }

    async fn revoke_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>> {
        let row: Option<(String, String, Option<i64>)> = on_db!(&self.writer, pool => sqlx::query_as(
            "DELETE FROM oauth_tokens WHERE hash = $1 RETURNING body, state, state_at",
        )
        .bind(&hash.0[..])
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        row.map(|(b, s, a)| token_from(&b, &s, a)).transpose()
    }

    async fn mark(&self, key: &TokenHash, until: i64, now: i64) -> Result<bool> {
        // Set if absent or expired, in one statement: a row comes back only when this call
        // wrote it (RFC 7523 §3 item 7: a jti is accepted once).
        let row: Option<i64> = on_db!(&self.writer, pool => sqlx::query_scalar(
            "INSERT INTO oauth_marks (key, until_at) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET until_at = excluded.until_at \
             WHERE oauth_marks.until_at <= $3 RETURNING until_at",
        )
        .bind(&key.0[..])
        .bind(until)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        Ok(row.is_some())
    }

    async fn is_marked(&self, key: &TokenHash, now: i64) -> Result<bool> {
        let row: Option<i64> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT until_at FROM oauth_marks WHERE key = $1 AND until_at > $2",
        )
        .bind(&key.0[..])
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        Ok(row.is_some())
    }

    async fn sweep(&self, now: i64) -> Result<usize> {
        let tokens = self
            .sweep_batches(
                "DELETE FROM oauth_tokens WHERE hash IN \
                 (SELECT hash FROM oauth_tokens WHERE expires_at <= $1 LIMIT $2)",
                now,
            )
            .await?;
        // A grant's remaining tokens go with it (cascade); they are not counted.
        let grants = self
            .sweep_batches(
                "DELETE FROM oauth_grants WHERE id IN \
                 (SELECT id FROM oauth_grants WHERE expires_at <= $1 LIMIT $2)",
                now,
            )
            .await?;
        let marks = self
            .sweep_batches(
                "DELETE FROM oauth_marks WHERE key IN \
                 (SELECT key FROM oauth_marks WHERE until_at <= $1 LIMIT $2)",
                now,
            )
            .await?;
        Ok(tokens + grants + marks)
    }
}
