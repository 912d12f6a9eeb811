//! Selectable attribute storage (WSO2 IS 7.3): the memory stores pass the `LocalAttributeStore`
//! and `ConnectedUserStore` suites, and `FederatedUsers` sees one user over connected stores,
//! local attributes and local-only users.
#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use idforge_oauth_core::memory::{MemoryLocalAttributeStore, MemoryUserStore};
use idforge_oauth_core::testkit::{self, KnownUser};
use idforge_oauth_core::users::{
    AttributePlacement, FederatedUsers, PlacementError, PlacementPolicy, Written,
};
use idforge_oauth_core::{
    ClaimsSource, ConnectedUserStore, OsRng, PasswordVerifier, Result, UserLookup,
};
use serde_json::{json, Map, Value};

fn object(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn users_with(username: &str, password: &str, claims: Value) -> Arc<MemoryUserStore> {
    let s = Arc::new(MemoryUserStore::new().with_iterations(1));
    s.add_user(username, password, object(claims), &OsRng::new())
        .unwrap();
    s
}

#[tokio::test]
async fn memory_local_attribute_store_passes_the_testkit() {
    testkit::run_all_local_attributes(&MemoryLocalAttributeStore::new()).await;
}

#[tokio::test]
async fn memory_user_store_passes_the_connected_store_testkit() {
    let store = users_with("alice", "pw", json!({"email": "alice@example.com"}));
    let user = KnownUser::new("alice", "pw", "alice", "email", "alice@example.com");
    testkit::run_connected_user_store(&*store, &user).await;
}

#[tokio::test]
async fn federated_users_over_memory_pass_the_testkit() {
    testkit::run_federated(Arc::new(MemoryLocalAttributeStore::new())).await;
}

/// A read-only directory that counts password checks.
struct ReadOnly {
    inner: Arc<MemoryUserStore>,
    checks: AtomicUsize,
}

#[async_trait]
impl ConnectedUserStore for ReadOnly {
    async fn user_attributes(&self, subject: &str) -> Result<Option<Map<String, Value>>> {
        self.inner.user_attributes(subject).await
    }
    async fn verify_password(&self, username: &str, password: &str) -> Result<Option<String>> {
        self.checks.fetch_add(1, Ordering::Relaxed);
        self.inner.verify_password(username, password).await
    }
    async fn find_subjects(&self, attributes: &[(&str, &str)]) -> Result<Vec<String>> {
        self.inner.find_subjects(attributes).await
    }
}

#[tokio::test]
async fn a_read_only_store_refuses_and_nothing_changes() {
    let dir = Arc::new(ReadOnly {
        inner: users_with("alice", "pw", json!({"email": "a@example.com"})),
        checks: AtomicUsize::new(0),
    });
    testkit::run_connected_user_store(
        &*dir,
        &KnownUser::new("alice", "pw", "alice", "email", "a@example.com"),
    )
    .await;
    let local = Arc::new(MemoryLocalAttributeStore::new());
    let users = FederatedUsers::builder(local.clone())
        .connect("ldap", dir.clone())
        .policy(PlacementPolicy::global(
            AttributePlacement::with_local(["nickname"]).unwrap(),
        ))
        .build()
        .unwrap();
    // The connected part is refused first, so the local part is not written either.
    let outcome = users
        .write_attributes(
            "alice",
            &object(json!({"nickname": "Al", "email": "b@example.com"})),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Written::ReadOnly);
    assert!(local
        .local_attributes_for_test("ldap", "alice")
        .await
        .is_empty());
    // A write of local attributes only goes through.
    assert_eq!(
        users
            .write_attributes("alice", &object(json!({"nickname": "Al"})))
            .await
            .unwrap(),
        Written::Written
    );
    let claims = users.claims("alice").await.unwrap().unwrap();
    assert_eq!(
        claims,
        object(json!({"email": "a@example.com", "nickname": "Al"}))
    );
}

trait LocalForTest {
    async fn local_attributes_for_test(&self, store: &str, subject: &str) -> Map<String, Value>;
}
impl LocalForTest for MemoryLocalAttributeStore {
    async fn local_attributes_for_test(&self, store: &str, subject: &str) -> Map<String, Value> {
        idforge_oauth_core::LocalAttributeStore::local_attributes(self, store, subject)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn local_only_users_keep_their_password_and_every_store_is_asked() {
    let dir = Arc::new(ReadOnly {
        inner: users_with("alice", "pw", json!({"email": "a@example.com"})),
        checks: AtomicUsize::new(0),
    });
    let second = Arc::new(ReadOnly {
        inner: users_with("bob", "bob-pw", json!({})),
        checks: AtomicUsize::new(0),
    });
    // A local-only user, and a local user whose subject a connected store owns (shadowed).
    let local_users = users_with("dora", "dora-pw", json!({"name": "Dora"}));
    local_users
        .add_user(
            "alice-copy",
            "copy-pw",
            object(json!({"sub": "alice"})),
            &OsRng::new(),
        )
        .unwrap();
    let users = FederatedUsers::builder(Arc::new(MemoryLocalAttributeStore::new()))
        .connect("ldap", dir.clone())
        .connect("scim", second.clone())
        .local_users(local_users)
        .build()
        .unwrap();
    assert_eq!(
        users.verify("dora", "dora-pw").await.unwrap().as_deref(),
        Some("dora")
    );
    assert_eq!(
        users.claims("dora").await.unwrap(),
        Some(object(json!({"name": "Dora"})))
    );
    assert_eq!(users.verify("alice-copy", "copy-pw").await.unwrap(), None);
    assert_eq!(
        users.find_users(&[("name", "Dora")]).await.unwrap(),
        vec!["dora".to_owned()]
    );
    // The local-only user's attributes are not this composite's to write.
    assert_eq!(
        users
            .write_attributes("dora", &object(json!({"name": "D"})))
            .await
            .unwrap(),
        Written::UnknownUser
    );
    // An unknown username and a wrong password both ask every connected store once.
    let before = (
        dir.checks.load(Ordering::Relaxed),
        second.checks.load(Ordering::Relaxed),
    );
    assert_eq!(users.verify("nobody", "x").await.unwrap(), None);
    assert_eq!(users.verify("alice", "x").await.unwrap(), None);
    assert_eq!(
        (
            dir.checks.load(Ordering::Relaxed) - before.0,
            second.checks.load(Ordering::Relaxed) - before.1
        ),
        (2, 2)
    );
}

#[test]
fn building_checks_store_names_and_placements() {
    let local = Arc::new(MemoryLocalAttributeStore::new());
    let store = users_with("a", "b", json!({}));
    let twice = FederatedUsers::builder(local.clone())
        .connect("ldap", store.clone())
        .connect("ldap", store.clone())
        .build();
    assert_eq!(
        twice.unwrap_err(),
        PlacementError::DuplicateStore("ldap".into())
    );
    let unknown = FederatedUsers::builder(local.clone())
        .connect("ldap", store.clone())
        .policy(
            PlacementPolicy::default()
                .with_store("scim", AttributePlacement::connected_only())
                .unwrap(),
        )
        .build();
    assert_eq!(
        unknown.unwrap_err(),
        PlacementError::UnknownStore("scim".into())
    );
    let bad = FederatedUsers::builder(local)
        .connect("my store", store)
        .build();
    assert_eq!(
        bad.unwrap_err(),
        PlacementError::InvalidStoreName("my store".into())
    );
}
