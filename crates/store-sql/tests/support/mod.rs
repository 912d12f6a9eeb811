//! Fresh databases for the tests: a temporary SQLite file, or a new PostgreSQL database under
//! `IDFORGE_PG_URL` (skipped with a printed reason when unset; a failure under
//! `IDFORGE_INTEROP=require`, as CI sets).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use idforge_store_sql::{SqlStore, StoreOptions};

static N: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let mut r = [0u8; 6];
    idforge_jose::crypto::random_bytes(&mut r).unwrap();
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{prefix}_{}_{}_{hex}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A temporary SQLite file, removed (with its WAL files) on drop.
pub struct TempSqlite {
    pub path: PathBuf,
}

impl TempSqlite {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("{}.db", unique("idforge_store_sql")));
        TempSqlite { path }
    }

    /// `sqlite:///ABS/PATH`.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    pub async fn open(&self) -> SqlStore {
        SqlStore::connect(&self.url()).await.unwrap()
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A fresh PostgreSQL database, dropped on [`TempPostgres::drop_db`].
pub struct TempPostgres {
    admin: String,
    pub name: String,
    pub url: String,
}

/// The server under `IDFORGE_PG_URL`, or `None` (printed) when unset.
pub async fn postgres(test: &str) -> Option<TempPostgres> {
    if !cfg!(feature = "postgres") {
        eprintln!("{test}: skipped: built without the `postgres` feature");
        return None;
    }
    let Ok(admin) = std::env::var("IDFORGE_PG_URL") else {
        if std::env::var("IDFORGE_INTEROP").as_deref() == Ok("require") {
            panic!("{test}: IDFORGE_PG_URL is unset but IDFORGE_INTEROP=require");
        }
        eprintln!(
            "{test}: skipped: IDFORGE_PG_URL is unset (run .ci/scim-filter.sh for a PostgreSQL)"
        );
        return None;
    };
    let name = unique("idforge_store_sql");
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("{test}: cannot reach IDFORGE_PG_URL: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.split('?').next().unwrap_or(&admin);
    let cut = base.rfind('/').unwrap();
    let url = format!("{}/{name}", &base[..cut]);
    Some(TempPostgres { admin, name, url })
}

impl TempPostgres {
    pub async fn open(&self) -> SqlStore {
        SqlStore::connect_with(&self.url, StoreOptions::new().with_max_connections(20))
            .await
            .unwrap()
    }

    pub async fn drop_db(self, store: SqlStore) {
        store.close().await;
        self.drop_only().await;
    }

    /// Drops the database (every store on it closed).
    pub async fn drop_only(self) {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&self.admin)
            .await
            .unwrap();
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}
