//! Sessions: the memory store against the conformance kit, and real multi-threaded logins and
//! logouts of one user.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use idforge_oauth_core::memory::MemorySessionStore;
use idforge_oauth_core::ports::SessionStore;
use idforge_oauth_core::session::RememberMe;
use idforge_oauth_core::testkit;

#[tokio::test]
async fn memory_session_store_conforms() {
    testkit::run_all_sessions(&MemorySessionStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn threaded_logins_and_logouts_leave_no_session() {
    let store = Arc::new(MemorySessionStore::new());
    let mut tasks = Vec::new();
    for i in 0..100 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let s = testkit::session("alice", RememberMe::No, None);
            assert!(store.create(s.clone()).await.unwrap());
            let mut ended = usize::from(store.remove(&s.sid).await.unwrap().is_some());
            if i % 7 == 0 {
                ended += store.remove_by_subject("alice").await.unwrap().len();
            }
            ended
        }));
    }
    let mut ended = 0;
    for t in tasks {
        ended += t.await.unwrap();
    }
    assert_eq!(ended, 100);
    assert!(store
        .by_subject("alice", testkit::T0)
        .await
        .unwrap()
        .is_empty());
    assert!(store.is_empty());
}

#[tokio::test]
async fn a_full_store_sweeps_then_refuses() {
    let store = MemorySessionStore::with_capacity(2);
    let a = testkit::session("u", RememberMe::No, None);
    let b = testkit::session("u", RememberMe::No, None);
    assert!(store.create(a).await.unwrap());
    assert!(store.create(b).await.unwrap());
    let c = testkit::session("u", RememberMe::No, None);
    let err = store.create(c.clone()).await.unwrap_err();
    assert_eq!(err.code(), "temporarily_unavailable");
    // Once the others expired, creating sweeps them and succeeds.
    let mut late = c;
    late.last_active = testkit::T0 + 900;
    late.created_at = testkit::T0 + 900;
    assert!(store.create(late).await.unwrap());
    assert_eq!(store.len(), 1);
}
