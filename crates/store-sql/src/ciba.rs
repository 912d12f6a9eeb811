//! idforge-ciba's [`CibaRequestStore`] (table `ciba_requests`; feature `ciba`).
//!
//! Every transition applies the record's own method ([`CibaRequest::poll`],
//! [`CibaRequest::decide`], [`CibaRequest::redeem`], [`CibaRequest::expire`]) as a
//! compare-and-set on `version`: read, apply, `UPDATE … WHERE version = <read>`, re-read on a
//! lost race. Of N concurrent redemptions one write lands; the others re-read a redeemed
//! record and are refused (CIBA §11: tokens are issued once).

use async_trait::async_trait;
use idforge_ciba::model::{RequestState, RETENTION_SECONDS};
use idforge_ciba::ports::{Polled, Redemption, Transition};
use idforge_ciba::{CibaRequest, CibaRequestStore, Verdict};
use idforge_oauth_core::{Error, TokenHash};

use crate::db::{internal, on_db};
use crate::SqlStore;

/// Lost compare-and-set rounds before `temporarily_unavailable` (each lost round means another
/// caller's write landed).
const MAX_ROUNDS: usize = 10_000;

fn live(r: &CibaRequest) -> i64 {
    i64::from(matches!(
        r.state,
        RequestState::Pending | RequestState::Approved(_)
    ))
}

enum By<'a> {
    Id(&'a TokenHash),
    Approval(&'a TokenHash),
}

impl SqlStore {
    async fn ciba_read(&self, by: By<'_>, now: i64) -> Result<Option<(CibaRequest, i64)>, Error> {
        let (sql, h) = match by {
            By::Id(h) => (
                "SELECT body, version FROM ciba_requests WHERE id = $1 AND removable_at > $2",
                h,
            ),
            By::Approval(h) => (
                "SELECT body, version FROM ciba_requests WHERE approval = $1 AND removable_at > $2",
                h,
            ),
        };
        let row: Option<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(sql)
            .bind(&h.0[..])
            .bind(now)
            .fetch_optional(pool)
            .await
            .map_err(internal)?);
        row.map(|(b, v)| Ok((serde_json::from_str(&b).map_err(internal)?, v)))
            .transpose()
    }

    /// Writes `next` if still at `version`; `false` when another write won.
    async fn ciba_write(&self, next: &CibaRequest, version: i64) -> Result<bool, Error> {
        let body = serde_json::to_string(next).map_err(internal)?;
        let n = on_db!(&self.db, pool => sqlx::query(
            "UPDATE ciba_requests SET body = $1, live = $2, version = version + 1 \
             WHERE id = $3 AND version = $4",
        )
        .bind(&body)
        .bind(live(next))
        .bind(&next.id.0[..])
        .bind(version)
        .execute(pool)
        .await
        .map_err(internal)?
        .rows_affected());
        Ok(n == 1)
    }
}

impl SqlStore {
    /// Drops CIBA records past their retention, in batches (what `expire_due` also does; the
    /// expiry notifications are `expire_due`'s alone).
    pub(crate) async fn sweep_ciba(&self, now: i64) -> Result<usize, Error> {
        self.sweep_batches(
            "DELETE FROM ciba_requests WHERE id IN \
             (SELECT id FROM ciba_requests WHERE removable_at <= $1 LIMIT $2)",
            now,
        )
        .await
    }
}

fn contended() -> Error {
    Error::TemporarilyUnavailable("the CIBA request is busy".into())
}

#[async_trait]
impl CibaRequestStore for SqlStore {
    async fn insert(&self, request: CibaRequest) -> Result<(), Error> {
        let body = serde_json::to_string(&request).map_err(internal)?;
        let n = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO ciba_requests \
             (id, approval, client_id, expires_at, removable_at, live, version, body) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&request.id.0[..])
        .bind(&request.approval.0[..])
        .bind(&request.client_id)
        .bind(request.expires_at)
        .bind(request.expires_at.saturating_add(RETENTION_SECONDS))
        .bind(live(&request))
        .bind(&body)
        .execute(pool)
        .await
        .map_err(internal)?
        .rows_affected());
        if n == 1 {
            Ok(())
        } else {
            Err(Error::Internal("duplicate CIBA request id".into()))
        }
    }

    async fn get(&self, id: &TokenHash, now: i64) -> Result<Option<CibaRequest>, Error> {
        Ok(self.ciba_read(By::Id(id), now).await?.map(|(r, _)| r))
    }

    async fn by_approval(
        &self,
        approval: &TokenHash,
        now: i64,
    ) -> Result<Option<CibaRequest>, Error> {
        Ok(self
            .ciba_read(By::Approval(approval), now)
            .await?
            .map(|(r, _)| r))
    }

    async fn poll(
        &self,
        id: &TokenHash,
        client_id: &str,
        now: i64,
    ) -> Result<Option<Polled>, Error> {
        for _ in 0..MAX_ROUNDS {
            let Some((mut r, version)) = self.ciba_read(By::Id(id), now).await? else {
                return Ok(None);
            };
            // Another client's poll changes nothing.
            if r.client_id != client_id {
                return Ok(None);
            }
            let polled = Polled::record(&mut r, now);
            if self.ciba_write(&r, version).await? {
                return Ok(Some(polled));
            }
        }
        Err(contended())
    }

    async fn decide(
        &self,
        approval: &TokenHash,
        verdict: &Verdict,
        now: i64,
    ) -> Result<Transition, Error> {
        for _ in 0..MAX_ROUNDS {
            let Some((mut r, version)) = self.ciba_read(By::Approval(approval), now).await? else {
                return Ok(Transition::NotFound);
            };
            match r.decide(verdict, now) {
                Ok(()) => {
                    if self.ciba_write(&r, version).await? {
                        return Ok(Transition::Applied(r));
                    }
                }
                Err(e) => return Ok(Transition::Refused(e)),
            }
        }
        Err(contended())
    }

    async fn redeem(&self, id: &TokenHash, now: i64) -> Result<Redemption, Error> {
        for _ in 0..MAX_ROUNDS {
            let Some((mut r, version)) = self.ciba_read(By::Id(id), now).await? else {
                return Ok(Redemption::NotFound);
            };
            match r.redeem(now) {
                Ok(approval) => {
                    if self.ciba_write(&r, version).await? {
                        return Ok(Redemption::Redeemed(r, approval));
                    }
                }
                Err(e) => return Ok(Redemption::Refused(e)),
            }
        }
        Err(contended())
    }

    async fn expire_due(&self, now: i64) -> Result<Vec<CibaRequest>, Error> {
        // Live requests whose time ran out, a batch at a time; each moves to Expired by
        // compare-and-set, so a concurrent redemption or a second sweeper wins or loses cleanly.
        let batch = i64::from(self.options.sweep_batch);
        let mut expired = Vec::new();
        loop {
            let rows: Vec<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(
                "SELECT body, version FROM ciba_requests \
                 WHERE live = 1 AND expires_at <= $1 LIMIT $2",
            )
            .bind(now)
            .bind(batch)
            .fetch_all(pool)
            .await
            .map_err(internal)?);
            let n = rows.len();
            for (body, version) in rows {
                let mut r: CibaRequest = serde_json::from_str(&body).map_err(internal)?;
                if r.expire(now).is_ok() && self.ciba_write(&r, version).await? {
                    expired.push(r);
                }
            }
            if (n as i64) < batch {
                break;
            }
        }
        self.sweep_ciba(now).await?;
        Ok(expired)
    }
}
