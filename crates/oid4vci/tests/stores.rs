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
