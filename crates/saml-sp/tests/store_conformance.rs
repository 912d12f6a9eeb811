//! The memory stores pass the storage conformance suites.
use idforge_saml_sp::ports::{MemoryReplayCache, MemoryRequestStore};

#[tokio::test]
async fn memory_stores_conform() {
    idforge_saml_sp::conformance::run_all(
        &MemoryReplayCache::default(),
        &MemoryRequestStore::default(),
    )
    .await;
}
