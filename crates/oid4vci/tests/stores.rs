//! The conformance kit against the memory stores, plus a multi-threaded run of the nonce
//! store's single-use guarantee.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use idforge_oauth_core::TokenHash;
use idforge_oid4vci::memory::{MemoryIssuanceStore, MemoryTemplateStore};
use idforge_oid4vci::IssuanceStore;

#[tokio::test]
async fn memory_stores_pass_the_kit() {
    idforge_oid4vci::testkit::run_all(
        Arc::new(MemoryIssuanceStore::new()),
        &MemoryTemplateStore::new(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nonce_consumption_across_threads() {
    let store = Arc::new(MemoryIssuanceStore::new());
    for round in 0..10 {
        let h = TokenHash::of(&format!("n{round}"));
        store.insert_nonce(h, 0, 100).await.unwrap();
        let tasks: Vec<_> = (0..128)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move { s.consume_nonce(&h, 1).await.unwrap() })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            wins += usize::from(t.await.unwrap());
        }
        assert_eq!(wins, 1);
    }
}

/// A replayed pre-authorized code revokes the first redemption's token, for stored and
/// self-contained tokens, on one store and on two providers sharing it.
#[tokio::test]
async fn pre_authorized_code_replay_revokes_tokens_on_memory() {
    use idforge_oauth_core::memory::MemoryGrantStore;
    use idforge_oauth_core::{GrantStore, TokenPersistence};
    for persistence in [TokenPersistence::Stored, TokenPersistence::SelfContained] {
        let grants: Arc<dyn GrantStore> = Arc::new(MemoryGrantStore::new());
        idforge_oid4vci::testkit::pre_authorized_code_replay_revokes_tokens(
            vec![grants.clone(), grants],
            Arc::new(MemoryIssuanceStore::new()),
            persistence,
            64,
        )
        .await;
    }
}
