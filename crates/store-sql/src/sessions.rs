//! oauth-core's [`SessionStore`] (login sessions; table `oauth_sessions`).
//!
//! A session is one row: the [`SessionRecord`] as JSON in `body`, beside the columns the
//! queries filter on. `expires_at` is the record's [`SessionRecord::expires_at`] (the earlier
//! of the idle and the absolute deadline), rewritten with every update, so "live at `now`" is
//! `expires_at > now` in SQL and the sweep is one indexed range delete.
//!
//! Updates (`touch`, `reauthenticate`, `record_grant`) apply the record's own transition
//! ([`SessionRecord::touch`] and siblings, shared with the memory store) and write it back as a compare-and-set on `version` (`UPDATE … WHERE sid = $ AND version =
//! <read>`): a write that finds another version lost a race and starts over from the new
//! record, so concurrent updates never lose one another's clients or grants. Removal is one
//! `DELETE … RETURNING`: of concurrent logouts of one session exactly one gets the record (and
//! so does the fan-out).

use async_trait::async_trait;
use idforge_oauth_core::session::SessionRecord;
use idforge_oauth_core::{Result, SessionStore};

use crate::db::{internal, on_db};
use crate::SqlStore;

/// Lost compare-and-set rounds before giving up with `temporarily_unavailable` (each lost
/// round means another caller's write landed, so progress is always made).
const MAX_ROUNDS: usize = 1000;

fn decode(body: &str) -> Result<SessionRecord> {
    serde_json::from_str(body).map_err(internal)
}

fn decode_all(rows: Vec<(String,)>) -> Result<Vec<SessionRecord>> {
    rows.iter().map(|(b,)| decode(b)).collect()
}

impl SqlStore {
    /// The live session and its version.
    async fn session_read(&self, sid: &str, now: i64) -> Result<Option<(SessionRecord, i64)>> {
        let row: Option<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT body, version FROM oauth_sessions WHERE sid = $1 AND expires_at > $2",
        )
        .bind(sid)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        row.map(|(b, v)| Ok((decode(&b)?, v))).transpose()
    }

    /// Reads the live session, applies `change`, and writes it back if nobody wrote in
    /// between (else retries from the new record); `None` when the session is not live.
    async fn session_update(
        &self,
        sid: &str,
        now: i64,
        change: impl Fn(&mut SessionRecord),
    ) -> Result<Option<SessionRecord>> {
        for _ in 0..MAX_ROUNDS {
            let Some((mut record, version)) = self.session_read(sid, now).await? else {
                return Ok(None);
            };
            change(&mut record);
            let body = serde_json::to_string(&record).map_err(internal)?;
            let n = on_db!(&self.db, pool => sqlx::query(
                "UPDATE oauth_sessions SET body = $1, expires_at = $2, version = version + 1 \
                 WHERE sid = $3 AND version = $4",
            )
            .bind(&body)
            .bind(record.expires_at())
            .bind(sid)
            .bind(version)
            .execute(pool)
            .await
            .map_err(internal)?
            .rows_affected());
            if n == 1 {
                return Ok(Some(record));
            }
        }
        Err(idforge_oauth_core::Error::TemporarilyUnavailable(
            "the session is busy".into(),
        ))
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn create(&self, session: SessionRecord) -> Result<bool> {
        let body = serde_json::to_string(&session).map_err(internal)?;
        // A `sid` in use: nothing is written, the caller draws another.
        let n = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO oauth_sessions (sid, subject, created_at, expires_at, version, body) \
             VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&session.sid)
        .bind(&session.subject)
        .bind(session.created_at)
        .bind(session.expires_at())
        .bind(&body)
        .execute(pool)
        .await
        .map_err(internal)?
        .rows_affected());
        Ok(n == 1)
    }

    async fn get(&self, sid: &str, now: i64) -> Result<Option<SessionRecord>> {
        Ok(self.session_read(sid, now).await?.map(|(s, _)| s))
    }

    async fn touch(&self, sid: &str, now: i64) -> Result<Option<SessionRecord>> {
        self.session_update(sid, now, |s| s.touch(now)).await
    }

    async fn reauthenticate(
        &self,
        sid: &str,
        auth_time: i64,
        acr: Option<&str>,
        amr: &[String],
        now: i64,
    ) -> Result<Option<SessionRecord>> {
        self.session_update(sid, now, |s| s.reauthenticate(auth_time, acr, amr, now))
            .await
    }

    async fn record_grant(
        &self,
        sid: &str,
        client_id: &str,
        grant_id: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>> {
        self.session_update(sid, now, |s| s.record_grant(client_id, grant_id, now))
            .await
    }

    async fn remove(&self, sid: &str) -> Result<Option<SessionRecord>> {
        let row: Option<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "DELETE FROM oauth_sessions WHERE sid = $1 RETURNING body",
        )
        .bind(sid)
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        row.map(|(b,)| decode(&b)).transpose()
    }

    async fn remove_by_subject(&self, subject: &str) -> Result<Vec<SessionRecord>> {
        let rows: Vec<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "DELETE FROM oauth_sessions WHERE subject = $1 RETURNING body",
        )
        .bind(subject)
        .fetch_all(pool)
        .await
        .map_err(internal)?);
        decode_all(rows)
    }

    async fn by_subject(&self, subject: &str, now: i64) -> Result<Vec<SessionRecord>> {
        let rows: Vec<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT body FROM oauth_sessions WHERE subject = $1 AND expires_at > $2 \
             ORDER BY created_at, sid",
        )
        .bind(subject)
        .bind(now)
        .fetch_all(pool)
        .await
        .map_err(internal)?);
        decode_all(rows)
    }

    async fn sweep(&self, now: i64) -> Result<usize> {
        self.sweep_batches(
            "DELETE FROM oauth_sessions WHERE sid IN \
             (SELECT sid FROM oauth_sessions WHERE expires_at <= $1 LIMIT $2)",
            now,
        )
        .await
    }
}
