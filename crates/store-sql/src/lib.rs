//! # idforge-store-sql
//!
//! SQL storage for idforge: the storage ports of `idforge-oauth-core` on SQLite (embedded, one
//! machine) and PostgreSQL (N stateless processes on one database), on [`sqlx`].
//!
//! [`SqlStore::connect`] opens a database from a URL (`sqlite://PATH`, `sqlite:///ABS/PATH` —
//! the file is created —, `postgres://…`) and applies the embedded migrations (one directory
//! per backend, one file per port family). A database whose schema is newer than this binary
//! knows is refused with [`StoreError::SchemaTooNew`].
//!
//! One [`SqlStore`] implements every port; hand it (in an `Arc`) to each:
//!
//! | port (oauth-core) | module | table(s) |
//! | --- | --- | --- |
//! | `GrantStore` | `grants` | `oauth_grants`, `oauth_tokens`, `oauth_marks` |
//! | `PushedRequestStore` | `pushed` | `oauth_pushed_requests` |
//! | `ClientStore` | `clients` | `oauth_clients` |
//! | `DeviceCodeStore` | `device` | `oauth_device_codes` |
//! | `AttemptLimiter` | `attempts` | `oauth_attempts` |
//! | `SessionStore` | `sessions` | `oauth_sessions` |
//! | `ClaimsSource`, `PasswordVerifier`, `UserLookup` | `users` | `users`, `user_attributes` |
//! | `LocalAttributeStore` (attributes placed locally for users of a connected store) | `local_attributes` | `local_user_attributes` |
//! | signing keys (a jose `KeyRing`'s contents) | `keys` | `signing_keys` |
//! | `ReplayCache`, `RequestStore` (idforge-saml-sp, feature `saml`) | `saml` | `saml_replay`, `saml_requests` |
//! | host secrets ([`SqlStore::ensure_secret`]: drawn once, shared by every process) | `secrets` | `host_secrets` |
//! | `CibaRequestStore` (idforge-ciba, feature `ciba`) | `ciba` | `ciba_requests` |
//! | `TemplateStore`, `IssuanceStore` (idforge-oid4vci, feature `oid4vci`) | `oid4vci` | `oid4vci_*` |
//! | `OrganizationStore`, `SharingStore`, `RoleStore` (idforge-orgs, feature `orgs`; call [`SqlStore::ensure_root_organization`] first) | `orgs` | `org_*` |
//!
//! Atomicity lives in SQL, not in Rust: single-use artifacts are consumed by one statement
//! that changes state only if still unused (`UPDATE … WHERE state = 'active' … RETURNING`,
//! `DELETE … RETURNING`), rotation is one transaction, revoking a family is one `DELETE`
//! cascading to its tokens. See `docs/storage.md`.
//!
//! ## Adding a port
//! A port added later gets its SQL implementation in the same change: a module here (one per
//! port family, `impl ThePort for SqlStore`, every query written once with `$1` placeholders
//! and run through `on_db!`), a migration file per backend (`migrations/{sqlite,postgres}/
//! NNNN_<family>.sql`, never editing an applied one), its sweep in [`SqlStore::sweep_all`],
//! and the port's testkit run on both backends in `tests/`.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("idforge-store-sql needs the `sqlite` or `postgres` feature (or both)");

mod db;

#[cfg(feature = "postgres")]
mod batch;

mod attempts;
#[cfg(feature = "ciba")]
mod ciba;
mod clients;
mod device;
mod grants;
pub mod keys;
mod local_attributes;
#[cfg(feature = "oid4vci")]
mod oid4vci;
#[cfg(feature = "orgs")]
mod orgs;
mod pushed;
#[cfg(feature = "saml")]
mod saml;
mod secrets;
mod sessions;
pub mod users;

pub use db::Backend;
use db::{internal, on_db, Db};

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL is not `sqlite://…`, `postgres://…` or `postgresql://…`.
    #[error("unsupported database URL (expected sqlite://PATH or postgres://...)")]
    InvalidUrl,
    /// The URL names a backend this build does not include (a Cargo feature).
    #[error("this build has no {0} support (enable the `{0}` feature of idforge-store-sql)")]
    BackendNotBuilt(&'static str),
    /// The database could not be opened or reached.
    #[error("cannot open the database: {0}")]
    Connect(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Applying the migrations failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database was migrated by a newer idforge: this binary does not know its schema and
    /// refuses to touch it (upgrade the binary, or restore a backup taken before the upgrade).
    #[error(
        "the database schema is version {database}, newer than this binary knows ({binary}): \
         upgrade idforge or restore a backup"
    )]
    SchemaTooNew {
        /// The newest migration applied to the database.
        database: i64,
        /// The newest migration embedded in this binary.
        binary: i64,
    },
}

/// Settings of a [`SqlStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Maximum pooled connections (SQLite: readers run in parallel, writers one at a time).
    pub max_connections: u32,
    /// Rows deleted per statement when sweeping expired entries, so a sweep never holds a
    /// long lock: each batch is its own short statement (its own transaction).
    pub sweep_batch: u32,
    /// How long the sweep waits between two batches, so requests get the database (SQLite's
    /// write lock, PostgreSQL's CPU) between them instead of queueing behind a sweep of a
    /// million rows run back to back (`benches/load/README.md`, "Growth"). At most
    /// [`StoreOptions::MAX_SWEEP_PAUSE`].
    pub sweep_pause: std::time::Duration,
    /// How long a statement waits for a locked SQLite database before failing.
    pub busy_timeout: std::time::Duration,
    /// PostgreSQL: write the grant and token rows of concurrent requests together, one
    /// statement for all that arrive while the previous one runs (default on; decision
    /// 0023). Off, each row is its own statement. SQLite ignores it (its writes already
    /// queue on one connection).
    pub group_writes: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 10,
            sweep_batch: Self::DEFAULT_SWEEP_BATCH,
            sweep_pause: Self::DEFAULT_SWEEP_PAUSE,
            busy_timeout: std::time::Duration::from_secs(10),
            group_writes: true,
        }
    }
}

impl StoreOptions {
    /// The default [`sweep_batch`](Self::sweep_batch): small enough that one batch holds
    /// SQLite's write lock for a few milliseconds (measured in `benches/load/growth.sh`).
    pub const DEFAULT_SWEEP_BATCH: u32 = 100;
    /// The default [`sweep_pause`](Self::sweep_pause).
    pub const DEFAULT_SWEEP_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);
    /// The longest [`sweep_pause`](Self::sweep_pause): a longer one would let expired rows
    /// pile up faster than a sweep every minute removes them.
    pub const MAX_SWEEP_PAUSE: std::time::Duration = std::time::Duration::from_secs(10);

    /// The defaults: 10 connections, sweeping 100 rows per statement with 20 ms between
    /// statements, 10 s busy timeout, grouped writes on PostgreSQL.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the pool size (at least 1).
    pub fn with_max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Turns [`group_writes`](Self::group_writes) on or off.
    pub fn with_group_writes(mut self, on: bool) -> Self {
        self.group_writes = on;
        self
    }

    /// Sets the sweep batch size (at least 1).
    pub fn with_sweep_batch(mut self, n: u32) -> Self {
        self.sweep_batch = n.max(1);
        self
    }

    /// Sets the pause between two sweep batches (zero: back to back, the behaviour before
    /// the pause existed). Longer than [`MAX_SWEEP_PAUSE`](Self::MAX_SWEEP_PAUSE) is refused
    /// (hosts validate their configuration with this before connecting).
    pub fn with_sweep_pause(
        mut self,
        pause: std::time::Duration,
    ) -> Result<Self, InvalidStoreOption> {
        if pause > Self::MAX_SWEEP_PAUSE {
            return Err(InvalidStoreOption::SweepPause);
        }
        self.sweep_pause = pause;
        Ok(self)
    }
}

/// A [`StoreOptions`] value out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidStoreOption {
    /// The sweep pause is longer than [`StoreOptions::MAX_SWEEP_PAUSE`].
    #[error("the sweep pause must be at most 10 seconds")]
    SweepPause,
}

/// Every storage port on one SQL database. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Db,
    /// The pool that writes to the grant store and sweeps: on SQLite one connection of its
    /// own, so those writers queue in order in the process (fair, no busy-handler sleeps)
    /// instead of contending for the file's write lock; on PostgreSQL the same pool as `db`.
    writer: Db,
    /// PostgreSQL with [`StoreOptions::group_writes`]: the handle of the writer (a thread of
    /// its own) that writes grant and token rows in groups (`batch.rs`).
    #[cfg(feature = "postgres")]
    group: Option<batch::GroupWriter>,
    options: StoreOptions,
    passwords: users::PasswordPolicy,
}

fn boxed(
    e: impl std::error::Error + Send + Sync + 'static,
) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(e)
}

impl SqlStore {
    /// Opens the database at `url` with default [`StoreOptions`] and migrates it.
    ///
    /// `sqlite://PATH` is relative to the current directory, `sqlite:///ABS/PATH` absolute;
    /// the file is created if missing (WAL journal, foreign keys on). `postgres://…` (or
    /// `postgresql://…`) is a libpq-style URL.
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// [`connect`](Self::connect) with `options`.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<SqlStore, StoreError> {
        let (db, writer) = if let Some(path) = url.strip_prefix("sqlite://") {
            open_sqlite(path, &options).await?
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let db = open_postgres(url, &options).await?;
            (db.clone(), db)
        } else {
            return Err(StoreError::InvalidUrl);
        };
        #[cfg(feature = "postgres")]
        let group = match &writer {
            Db::Postgres(pool) if options.group_writes => {
                Some(batch::GroupWriter::start(pool.clone()))
            }
            #[allow(unreachable_patterns)]
            _ => None,
        };
        let store = SqlStore {
            db,
            writer,
            #[cfg(feature = "postgres")]
            group,
            options,
            passwords: users::PasswordPolicy::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Which backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The newest schema version this binary knows (its newest embedded migration).
    pub fn binary_schema_version(&self) -> i64 {
        on_db!(&self.db, _pool => db::migrator(_pool).iter().map(|m| m.version).max().unwrap_or(0))
    }

    /// The newest migration applied to the database (0 before the first).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        on_db!(&self.db, pool => {
            // Absent before the first migration.
            let v: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
            )
            .fetch_one(pool)
            .await
            .unwrap_or(None);
            Ok(v.unwrap_or(0))
        })
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let database = self.schema_version().await?;
        let binary = self.binary_schema_version();
        if database > binary {
            return Err(StoreError::SchemaTooNew { database, binary });
        }
        on_db!(&self.db, pool => db::migrator(pool)
            .run(pool)
            .await
            .map_err(|e| StoreError::Migrate(boxed(e))))
    }

    /// Sweeps every expired entry of every port (each in batches of
    /// [`StoreOptions::sweep_batch`] rows); returns how many rows went. Hosts call it
    /// periodically.
    pub async fn sweep_all(&self, now: i64) -> idforge_oauth_core::Result<usize> {
        use idforge_oauth_core::{DeviceCodeStore, GrantStore, PushedRequestStore};
        #[allow(unused_mut)]
        let mut removed = GrantStore::sweep(self, now).await?
            + PushedRequestStore::sweep(self, now).await?
            + DeviceCodeStore::sweep(self, now).await?
            + idforge_oauth_core::SessionStore::sweep(self, now).await?
            + self.sweep_attempts(now).await?
            + self.sweep_signing_keys(now).await?;
        #[cfg(feature = "ciba")]
        {
            removed += self.sweep_ciba(now).await?;
        }
        #[cfg(feature = "oid4vci")]
        {
            removed += idforge_oid4vci::ports::IssuanceStore::sweep(self, now).await?;
        }
        #[cfg(feature = "saml")]
        {
            removed += self.sweep_saml(now).await?;
        }
        Ok(removed)
    }

    /// Closes the pools (waits for connections in use to be returned).
    pub async fn close(&self) {
        on_db!(&self.writer, pool => pool.close().await);
        on_db!(&self.db, pool => pool.close().await)
    }

    /// Deletes rows in batches of `sweep_batch` with `sql`, which has one `$1` (`now`) and one
    /// `$2` (the batch size) parameter; returns how many went.
    ///
    /// Each batch is one autocommitted statement on the writer pool, so it holds locks only
    /// for its own rows; `sweep_pause` separates batches so requests run between them. The
    /// statement only matches rows whose expiry is at or before `now`, so a live row is never
    /// deleted however long the sweep takes.
    pub(crate) async fn sweep_batches(
        &self,
        sql: &str,
        now: i64,
    ) -> idforge_oauth_core::Result<usize> {
        let batch = i64::from(self.options.sweep_batch);
        let mut removed = 0usize;
        loop {
            let n = on_db!(&self.writer, pool => sqlx::query(sql)
                .bind(now)
                .bind(batch)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))
            .map_err(internal)?;
            removed = removed.saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
            if n < batch as u64 {
                return Ok(removed);
            }
            if !self.options.sweep_pause.is_zero() {
                tokio::time::sleep(self.options.sweep_pause).await;
            }
        }
    }
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(path: &str, options: &StoreOptions) -> Result<(Db, Db), StoreError> {
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    if path.is_empty() {
        return Err(StoreError::InvalidUrl);
    }
    let connect = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // WAL + NORMAL: durable across process crashes; a power loss may drop the last
        // transactions, never corrupt (https://www.sqlite.org/wal.html).
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(options.busy_timeout);
    // No ping before each acquire: a local file's connection cannot drop, and the ping is
    // one more round trip to sqlx's connection thread per statement.
    let pool = SqlitePoolOptions::new()
        .max_connections(options.max_connections)
        .test_before_acquire(false)
        .connect_with(connect.clone())
        .await
        .map_err(|e| StoreError::Connect(boxed(e)))?;
    // SQLite writes one transaction at a time whatever the pool size; with every pooled
    // connection a writer, the waiting ones poll the lock in SQLite's busy handler (sleeps of
    // 1 to 100 ms) and a sweep running batch after batch wins it again and again. One writer
    // connection turns that into sqlx's fair queue in the process.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(connect)
        .await
        .map_err(|e| StoreError::Connect(boxed(e)))?;
    Ok((Db::Sqlite(pool), Db::Sqlite(writer)))
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(_: &str, _: &StoreOptions) -> Result<(Db, Db), StoreError> {
    Err(StoreError::BackendNotBuilt("sqlite"))
}

/// How long a pooled PostgreSQL connection may have been idle and still be handed out
/// without a ping first.
#[cfg(feature = "postgres")]
pub(crate) const ALIVE_BYPASS: std::time::Duration = std::time::Duration::from_secs(1);

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str, options: &StoreOptions) -> Result<Db, StoreError> {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use std::str::FromStr;
    let connect = PgConnectOptions::from_str(url).map_err(|e| StoreError::Connect(boxed(e)))?;
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections)
        // sqlx pings a connection on every acquire by default: one more round trip (and its
        // wake-ups on both sides) per statement. A connection used within the last second
        // was alive then; only one idle longer is tested (HikariCP's `aliveBypassWindowMs`
        // does the same). sqlx still tests each connection when it goes back to the pool.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= ALIVE_BYPASS {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(connect)
        .await
        .map_err(|e| StoreError::Connect(boxed(e)))?;
    Ok(Db::Postgres(pool))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_: &str, _: &StoreOptions) -> Result<Db, StoreError> {
    Err(StoreError::BackendNotBuilt("postgres"))
}

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
