//! oauth-core's storage conformance suites (`testkit`), unchanged, on SQLite and PostgreSQL,
//! including their concurrent single-use checks and 200 concurrent redemptions of one code.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod support;

use std::sync::Arc;

use idforge_oauth_core::records::ConsumeOutcome;
use idforge_oauth_core::testkit::{self, grant, join_all, ok, token, BoxFuture, T0};
use idforge_oauth_core::{GrantStore, TokenKind, TokenPersistence};
use idforge_store_sql::SqlStore;

async fn every_suite(store: &SqlStore) {
    testkit::run_all(store).await;
    testkit::run_all_pushed(store).await;
    testkit::run_all_device(store).await;
    testkit::run_all_sessions(store).await;
    testkit::run_all_local_attributes(store).await;
    testkit::local_attributes_concurrent_writes(store, 64).await;
    testkit::run_federated(std::sync::Arc::new(store.clone())).await;
    // Beyond the kit's 64: 200 concurrent redemptions of one code, exactly one wins.
    testkit::concurrent_consume(store, 200).await;
    testkit::concurrent_rotate(store, 200).await;
    testkit::pushed_concurrent_consume(store, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_oauth_core_testkit() {
    let db = support::TempSqlite::new();
    let store = db.open().await;
    every_suite(&store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_oauth_core_testkit() {
    let Some(pg) = support::postgres("postgres_passes_the_oauth_core_testkit").await else {
        return;
    };
    let store = pg.open().await;
    every_suite(&store).await;
    pg.drop_db(store).await;
}

/// Two pools on one database (two processes' worth): 200 concurrent redemptions spread over
/// both, exactly one succeeds.
async fn two_pools_consume_once(a: &SqlStore, b: &SqlStore) {
    let g = grant(3600);
    ok(a.create_grant(g.clone()).await, "create_grant");
    let (_, code) = token(&g, TokenKind::AuthorizationCode, T0, 60);
    ok(b.insert_token(code.clone()).await, "insert_token");
    let futures: Vec<BoxFuture<'_, _>> = (0..200)
        .map(|i| {
            let store: &SqlStore = if i % 2 == 0 { a } else { b };
            let hash = code.hash;
            Box::pin(async move {
                store
                    .consume(&hash, TokenKind::AuthorizationCode, T0 + 1)
                    .await
            }) as BoxFuture<'_, _>
        })
        .collect();
    let results = join_all(futures).await;
    let won = results
        .iter()
        .filter(|r| matches!(r, Ok(ConsumeOutcome::Consumed(..))))
        .count();
    let replayed = results
        .iter()
        .filter(|r| matches!(r, Ok(ConsumeOutcome::Replayed(..))))
        .count();
    assert_eq!((won, replayed), (1, 199), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_pools_redeem_a_code_once() {
    let db = support::TempSqlite::new();
    let (a, b) = (db.open().await, db.open().await);
    two_pools_consume_once(&a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_pools_redeem_a_code_once() {
    let Some(pg) = support::postgres("postgres_two_pools_redeem_a_code_once").await else {
        return;
    };
    let (a, b) = (pg.open().await, pg.open().await);
    two_pools_consume_once(&a, &b).await;
    a.close().await;
    pg.drop_db(b).await;
}

/// The code-redemption race end to end (oauth-core providers over two pools of one database,
/// 128 concurrent redemptions): exactly one gets tokens, and the replays revoke them, with
/// tokens stored and self-contained.
async fn two_pools_redeem_through_providers(a: &SqlStore, b: &SqlStore) {
    for persistence in [TokenPersistence::Stored, TokenPersistence::SelfContained] {
        let stores: Vec<Arc<dyn GrantStore>> = vec![Arc::new(a.clone()), Arc::new(b.clone())];
        testkit::concurrent_code_redemption(stores, persistence, 128).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_code_redemption() {
    let db = support::TempSqlite::new();
    let (a, b) = (db.open().await, db.open().await);
    two_pools_redeem_through_providers(&a, &b).await;
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_code_redemption() {
    let Some(pg) = support::postgres("postgres_concurrent_code_redemption").await else {
        return;
    };
    let (a, b) = (pg.open().await, pg.open().await);
    two_pools_redeem_through_providers(&a, &b).await;
    a.close().await;
    pg.drop_db(b).await;
}

#[cfg(feature = "ciba")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_ciba_testkit() {
    let db = support::TempSqlite::new();
    let store = db.open().await;
    idforge_ciba::testkit::run_all(&store).await;
    store.close().await;
}

#[cfg(feature = "ciba")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_ciba_testkit() {
    let Some(pg) = support::postgres("postgres_passes_the_ciba_testkit").await else {
        return;
    };
    let store = pg.open().await;
    idforge_ciba::testkit::run_all(&store).await;
    pg.drop_db(store).await;
}

#[cfg(feature = "oid4vci")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_oid4vci_testkit() {
    let db = support::TempSqlite::new();
    let store = std::sync::Arc::new(db.open().await);
    idforge_oid4vci::testkit::run_all(store.clone(), store.as_ref()).await;
    store.close().await;
}

#[cfg(feature = "oid4vci")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_oid4vci_testkit() {
    let Some(pg) = support::postgres("postgres_passes_the_oid4vci_testkit").await else {
        return;
    };
    let store = std::sync::Arc::new(pg.open().await);
    idforge_oid4vci::testkit::run_all(store.clone(), store.as_ref()).await;
    pg.drop_db(store.as_ref().clone()).await;
}

/// A replayed pre-authorized code revokes the first redemption's token (OID4VCI 1.0 §6,
/// RFC 6749 §4.1.2), through providers on two pools of one database, with tokens stored and
/// self-contained, and under 64 concurrent redemptions.
#[cfg(feature = "oid4vci")]
async fn two_pools_replay_pre_authorized_codes(a: &SqlStore, b: &SqlStore) {
    for persistence in [TokenPersistence::Stored, TokenPersistence::SelfContained] {
        let stores: Vec<Arc<dyn GrantStore>> = vec![Arc::new(a.clone()), Arc::new(b.clone())];
        idforge_oid4vci::testkit::pre_authorized_code_replay_revokes_tokens(
            stores,
            Arc::new(a.clone()),
            persistence,
            64,
        )
        .await;
    }
}

#[cfg(feature = "oid4vci")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_pre_authorized_code_replay_revokes_tokens() {
    let db = support::TempSqlite::new();
    let (a, b) = (db.open().await, db.open().await);
    two_pools_replay_pre_authorized_codes(&a, &b).await;
    a.close().await;
    b.close().await;
}

#[cfg(feature = "oid4vci")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pre_authorized_code_replay_revokes_tokens() {
    let Some(pg) = support::postgres("postgres_pre_authorized_code_replay_revokes_tokens").await
    else {
        return;
    };
    let (a, b) = (pg.open().await, pg.open().await);
    two_pools_replay_pre_authorized_codes(&a, &b).await;
    a.close().await;
    pg.drop_db(b).await;
}

#[cfg(feature = "orgs")]
async fn orgs_suites(store: &SqlStore) {
    use idforge_orgs::model::Organization;
    store
        .ensure_root_organization(&Organization::root("Root"))
        .await
        .unwrap();
    // Twice: the stored root is kept.
    store
        .ensure_root_organization(&Organization::root("Other"))
        .await
        .unwrap();
    idforge_orgs::testkit::run_all(store, store, store).await;
}

#[cfg(feature = "orgs")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_orgs_testkit() {
    let db = support::TempSqlite::new();
    let store = db.open().await;
    orgs_suites(&store).await;
    store.close().await;
}

#[cfg(feature = "orgs")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_orgs_testkit() {
    let Some(pg) = support::postgres("postgres_passes_the_orgs_testkit").await else {
        return;
    };
    let store = pg.open().await;
    orgs_suites(&store).await;
    pg.drop_db(store).await;
}

#[cfg(feature = "saml")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_saml_sp_testkit() {
    let db = support::TempSqlite::new();
    let store = db.open().await;
    idforge_saml_sp::conformance::run_all(&store, &store).await;
    // Beyond the kit's 128.
    idforge_saml_sp::conformance::concurrent_consume(&store, 200).await;
    idforge_saml_sp::conformance::concurrent_take(&store, 200).await;
    store.close().await;
}

#[cfg(feature = "saml")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_saml_sp_testkit() {
    let Some(pg) = support::postgres("postgres_passes_the_saml_sp_testkit").await else {
        return;
    };
    let store = pg.open().await;
    idforge_saml_sp::conformance::run_all(&store, &store).await;
    idforge_saml_sp::conformance::concurrent_consume(&store, 200).await;
    idforge_saml_sp::conformance::concurrent_take(&store, 200).await;
    pg.drop_db(store).await;
}
