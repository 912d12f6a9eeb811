//! The connection pool of either backend, and the one macro every port module uses to run the
//! same code on it.

/// A pool of one backend. Port modules never match on it by hand: they use [`on_db!`], which
/// compiles the body once per enabled backend (SQL written with `$1`-style placeholders runs
/// unchanged on both; where the dialects differ, the module picks the text by [`Db::backend`]).
#[derive(Debug, Clone)]
pub(crate) enum Db {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool (`&Pool<Sqlite>` or `&Pool<Postgres>`).
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            #[cfg(feature = "sqlite")]
            $crate::db::Db::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// Which backend a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite (one machine, embedded).
    Sqlite,
    /// PostgreSQL (scale-out).
    Postgres,
}

impl Db {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => Backend::Postgres,
        }
    }
}

/// What differs between the pools beyond SQL text: the migrations and how a writing
/// transaction starts.
pub(crate) trait PoolKind {
    /// The embedded migrations of this backend.
    fn migrator(&self) -> &'static sqlx::migrate::Migrator;
    /// The statement that opens a transaction which will write. SQLite: `BEGIN IMMEDIATE`
    /// takes the write lock up front (waiting out `busy_timeout`), so two writers never
    /// deadlock upgrading read locks; PostgreSQL: row locks do that, a plain `BEGIN`.
    fn begin_write(&self) -> &'static str;
}

#[cfg(feature = "sqlite")]
pub(crate) static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
#[cfg(feature = "postgres")]
pub(crate) static POSTGRES_MIGRATOR: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/postgres");

#[cfg(feature = "sqlite")]
impl PoolKind for sqlx::SqlitePool {
    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        &SQLITE_MIGRATOR
    }
    fn begin_write(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }
}

#[cfg(feature = "postgres")]
impl PoolKind for sqlx::PgPool {
    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        &POSTGRES_MIGRATOR
    }
    fn begin_write(&self) -> &'static str {
        "BEGIN"
    }
}

/// The migrations of `pool`'s backend.
pub(crate) fn migrator(pool: &impl PoolKind) -> &'static sqlx::migrate::Migrator {
    pool.migrator()
}

/// How a writing transaction starts on `pool`'s backend.
pub(crate) fn begin_write(pool: &impl PoolKind) -> &'static str {
    pool.begin_write()
}

/// A storage failure as oauth-core's internal error: the detail is for the host's logs, and
/// oauth-core answers the client with a bare `server_error` (it never shows `Internal` text).
pub(crate) fn internal(e: impl std::fmt::Display) -> idforge_oauth_core::Error {
    idforge_oauth_core::Error::Internal(format!("sql store: {e}"))
}
