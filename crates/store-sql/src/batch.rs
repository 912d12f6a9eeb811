//! Group inserts on PostgreSQL: the grant and token rows that concurrent requests write
//! (`GrantStore::create_grant`, `insert_token`, `create_grant_with_token`) go to the database
//! together, in one statement, instead of one statement each (decision 0023).
//!
//! Why: on PostgreSQL a `client_credentials` token is two inserts, and each insert through
//! the pool is a round trip for the statement plus one for sqlx's test of the connection on
//! its way back to the pool. Measured on a 2-core host, the wake-ups of those round trips in
//! idforge and in the PostgreSQL backends were most of the CPU of a token. One writer (a thread
//! of its own) owns a connection and, while one statement runs, collects the rows that arrive; the next
//! statement writes all of them (PostgreSQL's own group commit, one level up). A lone
//! request waits for its own statement only: nothing is held back on a timer.
//!
//! Correctness stays with the single-row statements of `grants.rs`: a row is acknowledged
//! only once the statement that wrote it has committed, a token is written only if its
//! grant is live at its `issued_at` (the test `insert_token` makes), and whenever a group statement fails (a grant
//! deleted under the token's foreign key, a duplicate, a lost connection) no row of it was
//! written and every caller runs its own single-row statement, which gives each its exact
//! outcome. A writer that is gone (its thread could not start, or the pool was closed) sends
//! everyone to that path too.

use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, PgPool};
use tokio::sync::{mpsc, oneshot};

/// Rows written by one statement at most. Bigger groups only form when more requests wait,
/// and each waits for the whole statement.
const MAX_GROUP: usize = 128;

/// Rows waiting for the writer at most; a caller beyond it waits for room (back-pressure
/// instead of unbounded memory).
const QUEUE: usize = 1024;

/// The writer's connection, idle longer than this, is tested (a ping) before the next
/// statement instead of being written to blind: see `ALIVE_BYPASS` in `lib.rs`.
const HOLD_IDLE: Duration = crate::ALIVE_BYPASS;

/// One `oauth_grants` row.
#[derive(Debug)]
pub(crate) struct GrantRow {
    pub id: String,
    pub client_id: String,
    pub subject: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub body: String,
}

/// One `oauth_tokens` row.
#[derive(Debug)]
pub(crate) struct TokenRow {
    pub hash: Vec<u8>,
    pub kind: String,
    pub grant_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub state: &'static str,
    pub state_at: Option<i64>,
    pub body: String,
}

/// What a caller hands the writer.
#[derive(Debug)]
pub(crate) enum Row {
    /// `create_grant`.
    Grant(GrantRow),
    /// `insert_token`: its grant is already committed.
    Token(TokenRow),
    /// `create_grant_with_token`: a new grant and its first token, written by the same
    /// statement.
    GrantWithToken(GrantRow, TokenRow),
}

/// What became of a row handed to the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// Committed.
    Yes,
    /// A token whose grant is not live (revoked or expired): not written.
    GrantGone,
    /// Not written: the caller runs its own single-row statement.
    Alone,
}

struct Pending {
    row: Row,
    done: oneshot::Sender<Written>,
}

/// The handle the store keeps: cheap to clone, one writer behind all clones.
#[derive(Debug, Clone)]
pub(crate) struct GroupWriter {
    queue: mpsc::Sender<Pending>,
}

impl GroupWriter {
    /// Starts the writer on a thread of its own, with its own single-threaded runtime.
    ///
    /// Why a thread: on the application's runtime, busy with requests, the writer's wake-up
    /// (PostgreSQL's answer arriving) waited until a worker next polled the I/O driver, which
    /// a busy tokio worker does only every few dozen tasks; the requests of the next group
    /// waited with it. The thread sleeps in its own `epoll` and runs as soon as the answer
    /// arrives. If the thread cannot be started, every write takes the single-row path.
    pub(crate) fn start(pool: PgPool) -> GroupWriter {
        let (queue, rx) = mpsc::channel(QUEUE);
        let spawned = std::thread::Builder::new()
            .name("idforge-sql-writer".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(run(pool, rx));
            });
        // Not started: the receiver went with the closure, so every `write` answers `Alone`.
        drop(spawned);
        GroupWriter { queue }
    }

    /// Hands `row` to the writer and waits for its statement.
    pub(crate) async fn write(&self, row: Row) -> Written {
        let (done, outcome) = oneshot::channel();
        if self.queue.send(Pending { row, done }).await.is_err() {
            return Written::Alone;
        }
        outcome.await.unwrap_or(Written::Alone)
    }
}

/// The writer: one statement at a time on a connection of its own, opened with the pool's
/// settings. Not a pooled one: sqlx tests a pooled connection with a round trip each time it
/// goes back, and the writer's session plans its one statement generically (below), a
/// setting that must not leak to the pool's other users. It ends when the pool is closed
/// (closing its connection) or when every handle is gone.
///
/// One writer, not several: measured with 2 to 4 writers taking turns at the queue, the
/// groups got smaller and PostgreSQL's CPU per token grew more than the overlap gained
/// (9.3k tokens/s with one writer, 8.5k with two, 7.1k with four; decision 0023).
async fn run(pool: PgPool, mut rx: mpsc::Receiver<Pending>) {
    // PostgreSQL plans a prepared statement anew for its parameters ("custom plans") unless
    // a generic plan looks as cheap; for the group statement it kept re-planning, which was
    // a fifth of its CPU. The plan does not depend on the arrays' contents (index probes per
    // row, see `WRITE_GROUP`), so the generic plan is the right one.
    let options = (*pool.connect_options())
        .clone()
        .options([("plan_cache_mode", "force_generic_plan")]);
    let mut closed = pool.close_event();
    let mut held: Option<Held> = None;
    let mut group = Vec::with_capacity(MAX_GROUP);
    loop {
        match closed.do_until(rx.recv_many(&mut group, MAX_GROUP)).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let outcomes = write(&options, &mut held, &group).await;
        for (i, pending) in group.drain(..).enumerate() {
            let written = outcomes
                .as_ref()
                .and_then(|o| o.get(i).copied())
                .unwrap_or(Written::Alone);
            // A caller that stopped waiting has nothing to be told.
            let _ = pending.done.send(written);
        }
    }
    if let Some(h) = held {
        let _ = h.conn.close().await;
    }
}

/// The writer's connection and when it last answered.
struct Held {
    conn: PgConnection,
    used: Instant,
}

/// Writes `group` on the writer's connection (tested first if it sat idle, reopened if it
/// is broken); `None` when no connection could be had or the statement failed.
async fn write(
    options: &PgConnectOptions,
    held: &mut Option<Held>,
    group: &[Pending],
) -> Option<Vec<Written>> {
    if let Some(h) = held.as_mut() {
        if h.used.elapsed() >= HOLD_IDLE && h.conn.ping().await.is_err() {
            *held = None;
        }
    }
    if held.is_none() {
        *held = PgConnection::connect_with(options)
            .await
            .ok()
            .map(|conn| Held {
                conn,
                used: Instant::now(),
            });
    }
    let h = held.as_mut()?;
    match write_group(&mut h.conn, group).await {
        Ok(outcomes) => {
            h.used = Instant::now();
            Some(outcomes)
        }
        Err(e) => {
            // A statement the database refused leaves the session usable; anything else
            // (I/O, protocol) may not have: open a new one for the next group.
            if !matches!(e, sqlx::Error::Database(_)) {
                *held = None;
            }
            None
        }
    }
}

/// The grants first (a data-modifying `WITH`), then the tokens whose grant is live: a grant
/// committed before (`insert_token`) or one of this statement's own (`create_grant_with_token`,
/// read from the parameters, since a `WITH`'s rows are not visible to the rest of the
/// statement). The foreign key is checked at the end of the statement and sees both. One
/// statement: all rows or none.
///
/// The statement's own grants are looked up first (in the parameters, no index probe); the
/// test against the table is a scalar subquery on the primary key, evaluated per token:
/// written as `EXISTS`, PostgreSQL may plan it as a hash join over all of `oauth_grants` (it
/// did, on a table that grew faster than autovacuum analyzed it, and the group statement
/// became slower than the single rows it replaced).
const WRITE_GROUP: &str = "WITH g AS ( \
       INSERT INTO oauth_grants (id, client_id, subject, created_at, expires_at, body) \
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[]) \
     ) \
     INSERT INTO oauth_tokens (hash, kind, grant_id, issued_at, expires_at, state, state_at, body) \
     SELECT t.hash, t.kind, t.grant_id, t.issued_at, t.expires_at, t.state, t.state_at, t.body \
     FROM unnest($7::bytea[], $8::text[], $9::text[], $10::int8[], $11::int8[], $12::text[], \
                 $13::int8[], $14::text[]) \
       AS t(hash, kind, grant_id, issued_at, expires_at, state, state_at, body) \
     WHERE COALESCE( \
         (SELECT n.expires_at FROM unnest($1::text[], $5::int8[]) AS n(id, expires_at) \
          WHERE n.id = t.grant_id LIMIT 1), \
         (SELECT g.expires_at FROM oauth_grants g WHERE g.id = t.grant_id) \
       ) > t.issued_at \
     RETURNING hash";

/// Writes `group` in one statement; per row, in order: written, or a token refused because
/// its grant is gone.
async fn write_group(
    conn: &mut PgConnection,
    group: &[Pending],
) -> Result<Vec<Written>, sqlx::Error> {
    let mut g = GrantColumns::default();
    let mut t = TokenColumns::default();
    for pending in group {
        match &pending.row {
            Row::Grant(row) => g.push(row),
            Row::Token(row) => t.push(row),
            Row::GrantWithToken(grant, token) => {
                g.push(grant);
                t.push(token);
            }
        }
    }
    let inserted: Vec<Vec<u8>> = sqlx::query_scalar(WRITE_GROUP)
        .bind(g.id)
        .bind(g.client_id)
        .bind(g.subject)
        .bind(g.created_at)
        .bind(g.expires_at)
        .bind(g.body)
        .bind(t.hash)
        .bind(t.kind)
        .bind(t.grant_id)
        .bind(t.issued_at)
        .bind(t.expires_at)
        .bind(t.state)
        .bind(t.state_at)
        .bind(t.body)
        .fetch_all(&mut *conn)
        .await?;
    Ok(group
        .iter()
        .map(|pending| match &pending.row {
            Row::Grant(_) => Written::Yes,
            Row::Token(token) | Row::GrantWithToken(_, token) if inserted.contains(&token.hash) => {
                Written::Yes
            }
            Row::Token(_) | Row::GrantWithToken(..) => Written::GrantGone,
        })
        .collect())
}

#[derive(Default)]
struct GrantColumns<'a> {
    id: Vec<&'a str>,
    client_id: Vec<&'a str>,
    subject: Vec<Option<&'a str>>,
    created_at: Vec<i64>,
    expires_at: Vec<i64>,
    body: Vec<&'a str>,
}

impl<'a> GrantColumns<'a> {
    fn push(&mut self, row: &'a GrantRow) {
        self.id.push(&row.id);
        self.client_id.push(&row.client_id);
        self.subject.push(row.subject.as_deref());
        self.created_at.push(row.created_at);
        self.expires_at.push(row.expires_at);
        self.body.push(&row.body);
    }
}

#[derive(Default)]
struct TokenColumns<'a> {
    hash: Vec<&'a [u8]>,
    kind: Vec<&'a str>,
    grant_id: Vec<&'a str>,
    issued_at: Vec<i64>,
    expires_at: Vec<i64>,
    state: Vec<&'a str>,
    state_at: Vec<Option<i64>>,
    body: Vec<&'a str>,
}

impl<'a> TokenColumns<'a> {
    fn push(&mut self, row: &'a TokenRow) {
        self.hash.push(&row.hash);
        self.kind.push(&row.kind);
        self.grant_id.push(&row.grant_id);
        self.issued_at.push(row.issued_at);
        self.expires_at.push(row.expires_at);
        self.state.push(row.state);
        self.state_at.push(row.state_at);
        self.body.push(&row.body);
    }
}
