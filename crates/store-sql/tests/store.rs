//! The ports without an oauth-core testkit (clients, attempt limiter, users), opening and
//! migrating, the schema-version guard, and batched sweeping, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod support;

use idforge_oauth_core::testkit::{grant, join_all, token, BoxFuture, T0};
use idforge_oauth_core::{
    AttemptLimiter, ClaimsSource, Client, ClientStore, GrantStore, PasswordVerifier,
    PushedRequestStore, TokenKind, UserLookup,
};
use idforge_store_sql::users::{PasswordPolicy, Verified};
use idforge_store_sql::{SqlStore, StoreError, StoreOptions};
use serde_json::{json, Map, Value};

/// Runs `$check(&SqlStore)` on a fresh SQLite file and on a fresh PostgreSQL database.
macro_rules! both {
    ($sqlite:ident, $pg:ident, $check:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let db = support::TempSqlite::new();
            let store = db.open().await;
            $check(&store).await;
            store.close().await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $pg() {
            let Some(pg) = support::postgres(stringify!($pg)).await else {
                return;
            };
            let store = pg.open().await;
            $check(&store).await;
            pg.drop_db(store).await;
        }
    };
}

fn claims(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

/// A cheap policy: these tests check behaviour, not cost (one test checks the OWASP default).
fn cheap() -> PasswordPolicy {
    PasswordPolicy::new(1024, 1, 1)
}

async fn clients(store: &SqlStore) {
    assert_eq!(store.client("app").await.unwrap(), None);
    let c = Client::confidential("app", "s3cret").with_redirect_uri("https://app.example/cb");
    store.upsert_client(&c, T0).await.unwrap();
    assert_eq!(store.client("app").await.unwrap(), Some(c.clone()));
    // The secret itself is never stored, only its hash (as Client keeps it).
    let again = store.client("app").await.unwrap().unwrap();
    assert!(again.client_secret_hash.is_some());
    let c2 = Client::confidential("app", "other").with_redirect_uri("https://app.example/cb2");
    store.upsert_client(&c2, T0 + 1).await.unwrap();
    assert_eq!(store.client("app").await.unwrap(), Some(c2));
    assert!(store.delete_client("app").await.unwrap());
    assert!(!store.delete_client("app").await.unwrap());
    assert_eq!(store.client("app").await.unwrap(), None);
}
both!(sqlite_clients, postgres_clients, clients);

async fn attempts(store: &SqlStore) {
    // RFC 8628 §5.1: at most `max` per window, then refused until the window ends.
    for i in 0..3 {
        assert!(store.attempt("ip:a", 3, 60, T0 + i).await.unwrap());
    }
    assert!(!store.attempt("ip:a", 3, 60, T0 + 10).await.unwrap());
    assert!(
        store.attempt("ip:b", 3, 60, T0 + 10).await.unwrap(),
        "per key"
    );
    assert!(
        store.attempt("ip:a", 3, 60, T0 + 60).await.unwrap(),
        "new window"
    );
    // 100 concurrent attempts on one key with max 10: exactly 10 pass (atomic per key).
    let futures: Vec<BoxFuture<'_, _>> = (0..100)
        .map(|_| Box::pin(store.attempt("ip:c", 10, 60, T0)) as BoxFuture<'_, _>)
        .collect();
    let passed = join_all(futures)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(true)))
        .count();
    assert_eq!(passed, 10);
    // Over-long keys fail closed.
    assert!(!store.attempt(&"k".repeat(600), 3, 60, T0).await.unwrap());
    // Ended windows are swept.
    assert!(store.sweep_all(T0 + 1000).await.unwrap() >= 3);
    assert!(store.attempt("ip:a", 1, 60, T0 + 1000).await.unwrap());
}
both!(sqlite_attempts, postgres_attempts, attempts);

async fn users(store: &SqlStore) {
    let store = store.clone().with_password_policy(cheap());
    let sub = store
        .upsert_user(
            "alice",
            "wonderland",
            claims(json!({"sub": "u-1", "email": "alice@example.com", "age": 30})),
            T0,
        )
        .await
        .unwrap();
    assert_eq!(sub, "u-1");
    let stored = store.password_hash("alice").await.unwrap().unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("wonderland"));
    assert_eq!(
        store.verify("alice", "wonderland").await.unwrap(),
        Some("u-1".into())
    );
    assert_eq!(store.verify("alice", "wrong").await.unwrap(), None);
    assert_eq!(store.verify("nobody", "wonderland").await.unwrap(), None);
    assert_eq!(
        store.verify("alice", &"x".repeat(2000)).await.unwrap(),
        None
    );
    let c = store.claims("u-1").await.unwrap().unwrap();
    assert_eq!(c["email"], "alice@example.com");
    assert_eq!(store.claims("alice").await.unwrap(), None, "by subject");
    // UserLookup: login name or string claims, all must match.
    assert_eq!(
        store
            .find_users(&[("email", "alice@example.com")])
            .await
            .unwrap(),
        vec!["u-1".to_owned()]
    );
    assert_eq!(
        store.find_users(&[("username", "alice")]).await.unwrap(),
        vec!["u-1".to_owned()]
    );
    assert!(store
        .find_users(&[("email", "alice@example.com"), ("username", "bob")])
        .await
        .unwrap()
        .is_empty());
    // Upsert replaces password, claims and attributes.
    store
        .upsert_user(
            "alice",
            "new",
            claims(json!({"sub": "u-1", "email": "a@x.test"})),
            T0,
        )
        .await
        .unwrap();
    assert_eq!(store.verify("alice", "wonderland").await.unwrap(), None);
    assert!(store
        .find_users(&[("email", "alice@example.com")])
        .await
        .unwrap()
        .is_empty());
    assert!(store.delete_user("alice").await.unwrap());
    assert_eq!(store.claims("u-1").await.unwrap(), None);
}
both!(sqlite_users, postgres_users, users);

/// A PBKDF2-HMAC-SHA256 PHC string (the RustCrypto `pbkdf2` format).
fn pbkdf2_phc(password: &str, iterations: usize) -> String {
    let salt = [9u8; 16];
    let dk = idforge_jose::crypto::pbkdf2(
        idforge_jose::crypto::HashAlg::Sha256,
        password.as_bytes(),
        &salt,
        iterations,
        32,
    )
    .unwrap();
    let salt = argon2::password_hash::SaltString::encode_b64(&salt).unwrap();
    let hash = argon2::password_hash::Output::new(&dk).unwrap();
    format!(
        "$pbkdf2-sha256$i={iterations},l=32${}${hash}",
        salt.as_str()
    )
}

async fn legacy_pbkdf2_is_rehashed(store: &SqlStore) {
    let store = store.clone().with_password_policy(cheap());
    let legacy = pbkdf2_phc("hunter2", 1000);
    store
        .upsert_user_with_hash("bob", &legacy, Map::new(), T0)
        .await
        .unwrap();
    assert_eq!(store.verify("bob", "wrong").await.unwrap(), None);
    assert_eq!(
        store.password_hash("bob").await.unwrap().as_deref(),
        Some(legacy.as_str()),
        "a failed login rehashes nothing"
    );
    assert_eq!(
        store.verify("bob", "hunter2").await.unwrap(),
        Some("bob".into())
    );
    let now = store.password_hash("bob").await.unwrap().unwrap();
    assert!(now.starts_with("$argon2id$"), "rehashed on login: {now}");
    assert_eq!(
        store.verify("bob", "hunter2").await.unwrap(),
        Some("bob".into())
    );
}
both!(
    sqlite_legacy_pbkdf2_is_rehashed,
    postgres_legacy_pbkdf2_is_rehashed,
    legacy_pbkdf2_is_rehashed
);

#[test]
fn password_policy_defaults_to_owasp_argon2id() {
    let policy = PasswordPolicy::default();
    let phc = policy.hash("correct horse").unwrap();
    // OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1.
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert_eq!(policy.verify(&phc, "correct horse"), Verified::Right);
    assert_eq!(policy.verify(&phc, "correct horsf"), Verified::Wrong);
    // Weaker parameters than the policy verify but ask for a rehash.
    let weak = cheap().hash("pw").unwrap();
    assert_eq!(policy.verify(&weak, "pw"), Verified::RightNeedsRehash);
    assert_eq!(
        policy.verify(&pbkdf2_phc("pw", 10), "pw"),
        Verified::RightNeedsRehash
    );
    assert_eq!(policy.verify(&pbkdf2_phc("pw", 10), "px"), Verified::Wrong);
    // Garbage and unknown algorithms never verify.
    assert_eq!(policy.verify("", "pw"), Verified::Wrong);
    assert_eq!(policy.verify("$md5$abc$def", "pw"), Verified::Wrong);
    assert_eq!(policy.verify("plain-text", "plain-text"), Verified::Wrong);
}

async fn sweeping_is_batched(store: &SqlStore) {
    // 25 expired grants with a token each, swept 7 rows per statement.
    for _ in 0..25 {
        let g = grant(10);
        store.create_grant(g.clone()).await.unwrap();
        let (_, t) = token(&g, TokenKind::AccessToken, T0, 5);
        store.insert_token(t).await.unwrap();
    }
    let keep = grant(100_000);
    store.create_grant(keep.clone()).await.unwrap();
    for _ in 0..9 {
        let (_, r) = idforge_oauth_core::testkit::pushed_request(1);
        store.insert(r).await.unwrap();
    }
    #[allow(unused_mut)]
    let mut expected = 25 + 25 + 9;
    #[cfg(feature = "oid4vci")]
    {
        use idforge_oid4vci::ports::IssuanceStore;
        for i in 0..3 {
            let nonce = idforge_oauth_core::TokenHash::of(&format!("nonce-{i}-{}", keep.id));
            store.insert_nonce(nonce, T0, T0 + 1).await.unwrap();
        }
        expected += 3;
    }
    let removed = store.sweep_all(T0 + 20).await.unwrap();
    assert_eq!(
        removed, expected,
        "tokens, grants, pushed requests, c_nonces"
    );
    assert!(store.grant(&keep.id, T0 + 20).await.unwrap().is_some());
    assert_eq!(store.sweep_all(T0 + 20).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sweeping_is_batched() {
    let db = support::TempSqlite::new();
    let store = SqlStore::connect_with(&db.url(), StoreOptions::new().with_sweep_batch(7))
        .await
        .unwrap();
    sweeping_is_batched(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sweeping_is_batched() {
    let Some(pg) = support::postgres("postgres_sweeping_is_batched").await else {
        return;
    };
    let store = SqlStore::connect_with(&pg.url, StoreOptions::new().with_sweep_batch(7))
        .await
        .unwrap();
    sweeping_is_batched(&store).await;
    pg.drop_db(store).await;
}

/// A paced sweep (small batches, a pause between them) removes exactly the expired rows, however
/// long it takes and whatever is written meanwhile: no live row is ever deleted.
async fn paced_sweep_spares_live_rows(store: SqlStore) {
    const BATCH: usize = 3;
    const PAUSE_MS: u64 = 5;
    let now = T0 + 20;
    let mut live = Vec::new();
    // 40 expired grants, each with its expired token.
    for _ in 0..40 {
        let g = grant(10);
        store.create_grant(g.clone()).await.unwrap();
        store
            .insert_token(token(&g, TokenKind::AccessToken, T0, 5).1)
            .await
            .unwrap();
    }
    // 10 live grants with a live token each, and one expired token under one of them.
    let mut expired_token = None;
    for i in 0..10 {
        let g = grant(100_000);
        store.create_grant(g.clone()).await.unwrap();
        let (_, t) = token(&g, TokenKind::RefreshToken, T0, 50_000);
        store.insert_token(t.clone()).await.unwrap();
        if i == 0 {
            let (_, old) = token(&g, TokenKind::AccessToken, T0, 5);
            store.insert_token(old.clone()).await.unwrap();
            expired_token = Some(old);
        }
        live.push((g, t));
    }
    // A token that outlives its expired grant is dead with it (the grant's expiry bounds it).
    let short = grant(10);
    store.create_grant(short.clone()).await.unwrap();
    let (_, orphan) = token(&short, TokenKind::RefreshToken, T0, 50_000);
    store.insert_token(orphan.clone()).await.unwrap();

    // Requests keep writing live rows while the sweep runs.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut written = Vec::new();
            for _ in 0..20 {
                let g = grant(100_000);
                store.create_grant(g.clone()).await.unwrap();
                let (_, t) = token(&g, TokenKind::AccessToken, now, 3600);
                store.insert_token(t.clone()).await.unwrap();
                written.push((g, t));
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            written
        })
    };
    let started = std::time::Instant::now();
    let removed = GrantStore::sweep(&store, now).await.unwrap();
    let took = started.elapsed();
    live.extend(writer.await.unwrap());

    // 41 expired tokens, 41 expired grants (the orphan token went with its grant, uncounted).
    assert_eq!(removed, 41 + 41);
    // Paced: at least one pause after every full batch of expired tokens.
    assert!(
        took >= std::time::Duration::from_millis(PAUSE_MS * (41 / BATCH) as u64),
        "the sweep took {took:?}: not paced"
    );
    for (g, t) in &live {
        assert!(
            store.grant(&g.id, now).await.unwrap().is_some(),
            "live grant swept"
        );
        let (record, _) = store
            .token(&t.hash, now)
            .await
            .unwrap()
            .expect("live token swept");
        assert_eq!(record.hash, t.hash);
    }
    let old = expired_token.unwrap();
    assert!(store.token(&old.hash, T0).await.unwrap().is_none());
    assert!(store.token(&orphan.hash, T0).await.unwrap().is_none());
    assert_eq!(GrantStore::sweep(&store, now).await.unwrap(), 0);
}

fn paced() -> StoreOptions {
    StoreOptions::new()
        .with_sweep_batch(3)
        .with_sweep_pause(std::time::Duration::from_millis(5))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_paced_sweep_spares_live_rows() {
    let db = support::TempSqlite::new();
    let store = SqlStore::connect_with(&db.url(), paced()).await.unwrap();
    paced_sweep_spares_live_rows(store.clone()).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_paced_sweep_spares_live_rows() {
    let Some(pg) = support::postgres("postgres_paced_sweep_spares_live_rows").await else {
        return;
    };
    let store = SqlStore::connect_with(&pg.url, paced()).await.unwrap();
    paced_sweep_spares_live_rows(store.clone()).await;
    pg.drop_db(store).await;
}

#[test]
fn sweep_pause_is_bounded() {
    let max = StoreOptions::MAX_SWEEP_PAUSE;
    assert_eq!(
        StoreOptions::new()
            .with_sweep_pause(max)
            .unwrap()
            .sweep_pause,
        max
    );
    assert_eq!(
        StoreOptions::new().with_sweep_pause(max + std::time::Duration::from_millis(1)),
        Err(idforge_store_sql::InvalidStoreOption::SweepPause)
    );
    assert_eq!(StoreOptions::new().with_sweep_batch(0).sweep_batch, 1);
}

#[tokio::test]
async fn sqlite_file_is_created_and_survives_a_reopen() {
    let db = support::TempSqlite::new();
    assert!(!db.path.exists());
    let store = db.open().await;
    assert!(db.path.exists(), "sqlite:///ABS/PATH creates the file");
    assert_eq!(
        store.schema_version().await.unwrap(),
        store.binary_schema_version()
    );
    let g = grant(3600);
    store.create_grant(g.clone()).await.unwrap();
    store.close().await;
    let again = db.open().await;
    assert_eq!(again.grant(&g.id, T0).await.unwrap(), Some(g));
    again.close().await;
}

#[tokio::test]
async fn sqlite_relative_path_is_relative_to_the_current_directory() {
    // sqlite://PATH (no third slash) is relative; the temp dir's absolute path works both ways,
    // so check the relative form against a name in the current directory's temp subfolder.
    let dir = std::env::temp_dir().join(format!("idforge_store_sql_rel_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rel = pathdiff(&dir);
    let url = format!("sqlite://{rel}/rel.db");
    let store = SqlStore::connect(&url).await.unwrap();
    store.close().await;
    assert!(dir.join("rel.db").exists(), "{url}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `dir` relative to the current directory (through `..` up to the root).
fn pathdiff(dir: &std::path::Path) -> String {
    let cwd = std::env::current_dir().unwrap();
    let ups = cwd.components().count() - 1;
    let mut s = "../".repeat(ups);
    s.push_str(dir.to_str().unwrap().trim_start_matches('/'));
    s
}

#[tokio::test]
async fn urls_are_checked() {
    for bad in ["mysql://x/y", "idforge.db", "", "sqlite://"] {
        assert!(
            matches!(SqlStore::connect(bad).await, Err(StoreError::InvalidUrl)),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn sqlite_newer_schema_is_refused() {
    let db = support::TempSqlite::new();
    let store = db.open().await;
    let binary = store.binary_schema_version();
    store.close().await;
    // A newer idforge migrated this database.
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db.url())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, X'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    match SqlStore::connect(&db.url()).await {
        Err(
            e @ StoreError::SchemaTooNew {
                database: 9999,
                binary: b,
            },
        ) if b == binary => {
            let msg = e.to_string();
            assert!(msg.contains("9999") && msg.contains("newer"), "{msg}");
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[tokio::test]
async fn postgres_newer_schema_is_refused() {
    let Some(pg) = support::postgres("postgres_newer_schema_is_refused").await else {
        return;
    };
    let store = pg.open().await;
    let binary = store.binary_schema_version();
    store.close().await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg.url)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, '\\x00'::bytea, 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    match SqlStore::connect(&pg.url).await {
        Err(StoreError::SchemaTooNew {
            database: 9999,
            binary: b,
        }) if b == binary => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    pg.drop_only().await;
}

fn es256_key() -> idforge_jose::Key {
    let key = idforge_jose::Key::generate(idforge_jose::KeySpec::Ec(
        idforge_jose::crypto::EcCurve::P256,
    ))
    .unwrap();
    let kid = key.jwk().thumbprint();
    idforge_jose::Key::from_jwk(key.jwk().clone().with_kid(kid)).unwrap()
}

async fn signing_keys(store: &SqlStore) {
    use idforge_jose::JwsAlgorithm;
    use idforge_store_sql::keys::StoredKey;
    let iss = "https://issuer.example";
    assert!(store.active_signing_key(iss).await.unwrap().is_none());
    let first = es256_key();
    let got = store
        .ensure_signing_key(StoredKey::new(iss, first.clone(), JwsAlgorithm::ES256, T0))
        .await
        .unwrap();
    assert_eq!(got.key.jwk().kid, first.jwk().kid);
    assert_eq!(got.key.jwk(), first.jwk(), "the private key round-trips");
    // A second process's candidate loses: the issuer keeps its key.
    let second = es256_key();
    let got = store
        .ensure_signing_key(StoredKey::new(
            iss,
            second.clone(),
            JwsAlgorithm::ES256,
            T0 + 1,
        ))
        .await
        .unwrap();
    assert_eq!(got.key.jwk().kid, first.jwk().kid);
    // Rotation: the new key is active, the old one published until it retires.
    store
        .rotate_signing_key(
            StoredKey::new(iss, second.clone(), JwsAlgorithm::ES256, T0 + 2),
            T0 + 100,
        )
        .await
        .unwrap();
    let published = store.signing_keys(iss, T0 + 50).await.unwrap();
    let kids: Vec<_> = published.iter().map(|k| k.key.jwk().kid.clone()).collect();
    assert_eq!(
        kids,
        vec![second.jwk().kid.clone(), first.jwk().kid.clone()]
    );
    assert_eq!(store.signing_keys(iss, T0 + 100).await.unwrap().len(), 1);
    assert!(store.sweep_all(T0 + 100).await.unwrap() >= 1);
    assert_eq!(
        store
            .active_signing_key(iss)
            .await
            .unwrap()
            .unwrap()
            .key
            .jwk()
            .kid,
        second.jwk().kid
    );
}
both!(sqlite_signing_keys, postgres_signing_keys, signing_keys);

/// A host secret is drawn once: of 50 concurrent first callers with different candidates one
/// candidate is kept, and every caller (and every later one) gets it.
async fn host_secrets(store: &SqlStore) {
    let futures: Vec<BoxFuture<'_, Vec<u8>>> = (0..50u8)
        .map(|i| {
            Box::pin(async move { store.ensure_secret("seal", &[i; 32], T0).await.unwrap() })
                as BoxFuture<'_, Vec<u8>>
        })
        .collect();
    let got = join_all(futures).await;
    assert!(got.iter().all(|s| s == &got[0] && s.len() == 32), "{got:?}");
    assert_eq!(
        store
            .ensure_secret("seal", &[99; 32], T0 + 1)
            .await
            .unwrap(),
        got[0]
    );
    // Another name, another secret.
    assert_eq!(
        store.ensure_secret("other", &[7; 16], T0).await.unwrap(),
        vec![7; 16]
    );
}
both!(sqlite_host_secrets, postgres_host_secrets, host_secrets);

/// Grouped writes (PostgreSQL, decision 0023) answer each row exactly as its own statement
/// would: among concurrent writes sharing a statement, a duplicate grant fails alone (the
/// group statement fails, every row is then written by itself), a token of a revoked grant
/// is refused with `invalid_grant`, and every other row is stored. On SQLite each row is its
/// own statement anyway.
async fn grouped_writes_answer_each_row(store: &SqlStore) {
    let taken = grant(3600);
    store.create_grant(taken.clone()).await.unwrap();
    let revoked = grant(3600);
    store.create_grant(revoked.clone()).await.unwrap();
    store.revoke_grant(&revoked.id).await.unwrap();
    // Rounds: the same mix again, so the writer also runs groups after a failed one.
    for _ in 0..3 {
        let fresh: Vec<_> = (0..32)
            .map(|_| {
                let g = grant(3600);
                let (_, t) = token(&g, TokenKind::AccessToken, T0, 600);
                (g, t)
            })
            .collect();
        let (_, duplicate) = token(&taken, TokenKind::AccessToken, T0, 600);
        let (_, orphan) = token(&revoked, TokenKind::AccessToken, T0, 600);
        let mut futures: Vec<BoxFuture<'_, (&str, idforge_oauth_core::Result<()>)>> = fresh
            .iter()
            .map(|(g, t)| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    (
                        "fresh",
                        store.create_grant_with_token(g.clone(), t.clone()).await,
                    )
                })
            })
            .collect();
        let dup = (taken.clone(), duplicate.clone());
        futures.push(Box::pin(async move {
            (
                "duplicate",
                store.create_grant_with_token(dup.0, dup.1).await,
            )
        }));
        let orphan_record = orphan.clone();
        futures.push(Box::pin(async move {
            ("orphan", store.insert_token(orphan_record).await)
        }));
        for (what, result) in join_all(futures).await {
            match what {
                "fresh" => result.unwrap(),
                "duplicate" => assert!(result.is_err(), "a duplicate grant id was accepted"),
                _ => assert_eq!(result.unwrap_err().code(), "invalid_grant"),
            }
        }
        for (g, t) in &fresh {
            let (_, of) = store.token(&t.hash, T0 + 1).await.unwrap().unwrap();
            assert_eq!(of.id, g.id);
        }
        assert!(store
            .token(&duplicate.hash, T0 + 1)
            .await
            .unwrap()
            .is_none());
        assert!(store.token(&orphan.hash, T0 + 1).await.unwrap().is_none());
    }
}
both!(
    sqlite_grouped_writes_answer_each_row,
    postgres_grouped_writes_answer_each_row,
    grouped_writes_answer_each_row
);
