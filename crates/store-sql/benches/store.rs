//! Criterion benches of the SQL stores, each beside the primitive it stands in for so the report
//! reads as a ratio (benches/support/ratio.rs):
//!
//! - an authorization code's life (create the grant, store the code, redeem it once) on SQLite
//!   (and on PostgreSQL when `IDFORGE_PG_URL` is set) against the same on oauth-core's
//!   `MemoryGrantStore`: the price of durability and cross-process single use;
//! - a login (`PasswordVerifier::verify`: one row read, Argon2id on the blocking pool) against
//!   the raw `argon2` verification of the same hash: the store's overhead around the hash;
//! - organizations on SQLite against idforge-orgs' memory store: the descendants of a
//!   1000-organization subtree (one index range scan), and moving that subtree (one `UPDATE`
//!   rewriting 1001 paths, under the tree lock).
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use idforge_oauth_core::memory::MemoryGrantStore;
use idforge_oauth_core::records::ConsumeOutcome;
use idforge_oauth_core::{
    Grant, GrantStore, PasswordVerifier, Scopes, TokenHash, TokenKind, TokenRecord,
};
use idforge_store_sql::SqlStore;

#[path = "../../../benches/support/ratio.rs"]
mod ratio;
use ratio::interleaved;

const T0: i64 = 1_800_000_000;
static N: AtomicU64 = AtomicU64::new(0);

/// One code's life: grant, code, a single redemption, the grant revoked.
async fn code_cycle(store: &dyn GrantStore) {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let grant = Grant::new(
        format!("g-{n}"),
        "app",
        Scopes::from_values(["openid"]),
        T0,
        T0 + 600,
    )
    .with_subject("alice");
    store
        .create_grant(grant.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let hash = TokenHash::of(&format!("code-{n}"));
    let code = TokenRecord::new(
        hash,
        TokenKind::AuthorizationCode,
        &grant,
        grant.scopes.clone(),
        T0,
        T0 + 60,
    );
    store
        .insert_token(code)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let got = store
        .consume(&hash, TokenKind::AuthorizationCode, T0 + 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(got, ConsumeOutcome::Consumed(..)));
    // The family ends (as after a replay), so the memory store stays within its bounds.
    store
        .revoke_grant(&grant.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn sqlite_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("idforge-store-sql-bench-{}.db", std::process::id()))
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let path = sqlite_path();
    let sqlite = rt
        .block_on(SqlStore::connect(&format!("sqlite://{}", path.display())))
        .unwrap_or_else(|e| panic!("{e}"));
    let memory = MemoryGrantStore::new();
    let mut g = c.benchmark_group("store-sql");
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("code cycle (sqlite)", |b| {
        b.iter(|| rt.block_on(code_cycle(&sqlite)))
    });
    g.bench_function("code cycle (memory)", |b| {
        b.iter(|| rt.block_on(code_cycle(&memory)))
    });
    g.finish();

    // Ratios, interleaved round by round.
    interleaved(
        "code cycle: sqlite vs memory store",
        300,
        || rt.block_on(code_cycle(&sqlite)),
        || rt.block_on(code_cycle(&memory)),
    );
    if let Ok(admin) = std::env::var("IDFORGE_PG_URL") {
        // A database of its own, dropped at the end.
        let name = format!("idforge_store_sql_bench_{}", std::process::id());
        let pg_exec = |sql: String| {
            rt.block_on(async {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                sqlx::query(&sql)
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            })
        };
        pg_exec(format!("CREATE DATABASE {name}"));
        let base = admin.split('?').next().unwrap_or(&admin);
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap_or(base.len())]);
        let pg = rt
            .block_on(SqlStore::connect(&url))
            .unwrap_or_else(|e| panic!("{e}"));
        interleaved(
            "code cycle: postgres vs memory store",
            300,
            || rt.block_on(code_cycle(&pg)),
            || rt.block_on(code_cycle(&memory)),
        );
        rt.block_on(pg.close());
        pg_exec(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    } else {
        println!("ratio code cycle: postgres vs memory store: skipped (IDFORGE_PG_URL unset)");
    }
    rt.block_on(sqlite.upsert_user("alice", "correct horse battery", serde_json::Map::new(), T0))
        .unwrap_or_else(|e| panic!("{e}"));
    let phc = rt
        .block_on(sqlite.password_hash("alice"))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_default();
    interleaved(
        "login: SqlStore::verify vs raw argon2 verify",
        20,
        || {
            let ok = rt
                .block_on(sqlite.verify("alice", "correct horse battery"))
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(ok.is_some());
        },
        || {
            use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
            let parsed = PasswordHash::new(&phc).unwrap_or_else(|e| panic!("{e}"));
            assert!(argon2::Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok());
        },
    );
    orgs(&rt, &sqlite);
    rt.block_on(sqlite.close());
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Builds root → {a, b}, 1000 organizations under a, in `store`; returns (a, b).
async fn org_tree(
    store: &dyn idforge_orgs::OrganizationStore,
) -> (idforge_orgs::OrgId, idforge_orgs::OrgId) {
    use idforge_orgs::{OrgId, Organization};
    let root = store
        .get(&OrgId::root())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no root"));
    let mk = |parent: &Organization, id: String| {
        Organization::child_of(
            parent,
            OrgId::new(id.clone()).unwrap_or_else(|e| panic!("{e}")),
            id.clone(),
            id,
        )
    };
    let a = mk(&root, "bench-a".into());
    let b = mk(&root, "bench-b".into());
    for o in [&a, &b] {
        store
            .insert(o.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    for i in 0..1000 {
        store
            .insert(mk(&a, format!("bench-a-{i}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    (a.id, b.id)
}

fn orgs(rt: &tokio::runtime::Runtime, sqlite: &SqlStore) {
    use idforge_orgs::memory::MemoryOrganizationStore;
    use idforge_orgs::{Organization, OrganizationStore};
    rt.block_on(sqlite.ensure_root_organization(&Organization::root("Root")))
        .unwrap_or_else(|e| panic!("{e}"));
    let memory = MemoryOrganizationStore::default();
    let (a, b) = rt.block_on(org_tree(sqlite));
    rt.block_on(org_tree(&memory));
    interleaved(
        "descendants of 1000: sqlite vs memory store",
        50,
        || {
            let d = rt
                .block_on(OrganizationStore::descendants(sqlite, &a))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(d.len(), 1000);
        },
        || {
            let d = rt
                .block_on(memory.descendants(&a))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(d.len(), 1000);
        },
    );
    let root = idforge_orgs::OrgId::root();
    let flip = std::cell::Cell::new(false);
    let flip_m = std::cell::Cell::new(false);
    interleaved(
        "move a 1001-organization subtree: sqlite vs memory store",
        50,
        || {
            let to = if flip.replace(!flip.get()) { &root } else { &b };
            rt.block_on(OrganizationStore::move_subtree(sqlite, &a, to))
                .unwrap_or_else(|e| panic!("{e}"));
        },
        || {
            let to = if flip_m.replace(!flip_m.get()) {
                &root
            } else {
                &b
            };
            rt.block_on(memory.move_subtree(&a, to))
                .unwrap_or_else(|e| panic!("{e}"));
        },
    );
}

criterion_group!(store, benches);
criterion_main!(store);
