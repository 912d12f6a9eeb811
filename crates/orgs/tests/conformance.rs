//! The memory stores pass the conformance suites.
use idforge_orgs::memory::{MemoryOrganizationStore, MemoryRoleStore, MemorySharingStore};

#[tokio::test]
async fn memory_stores_conform() {
    idforge_orgs::testkit::run_all(
        &MemoryOrganizationStore::default(),
        &MemorySharingStore::new(),
        &MemoryRoleStore::new(),
    )
    .await;
}
