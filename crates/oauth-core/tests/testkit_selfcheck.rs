//! The conformance kit catches what it claims to: a store whose `consume` is a read, a pause and
//! a write (not atomic) fails `concurrent_consume`.
#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use idforge_oauth_core::memory::MemoryGrantStore;
use idforge_oauth_core::ports::GrantStore;
use idforge_oauth_core::records::{
    ConsumeOutcome, Grant, RotateOutcome, TokenKind, TokenRecord, TokenState,
};
use idforge_oauth_core::Result;
use idforge_oauth_core::TokenHash;

/// Returns `Pending` once, so concurrent callers interleave.
struct YieldOnce(bool);
impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Check-then-act: the classic race.
struct RacyStore(MemoryGrantStore);

#[async_trait]
impl GrantStore for RacyStore {
    async fn create_grant(&self, grant: Grant) -> Result<()> {
        self.0.create_grant(grant).await
    }
    async fn grant(&self, id: &str, now: i64) -> Result<Option<Grant>> {
        self.0.grant(id, now).await
    }
    async fn insert_token(&self, record: TokenRecord) -> Result<()> {
        self.0.insert_token(record).await
    }
    async fn token(&self, hash: &TokenHash, now: i64) -> Result<Option<(TokenRecord, Grant)>> {
        self.0.token(hash, now).await
    }
    async fn consume(&self, hash: &TokenHash, kind: TokenKind, now: i64) -> Result<ConsumeOutcome> {
        let seen = self.0.token(hash, now).await?;
        YieldOnce(false).await;
        match seen {
            Some((r, g)) if r.kind == kind && r.state == TokenState::Active => {
                let _ = self.0.consume(hash, kind, now).await?;
                Ok(ConsumeOutcome::Consumed(r, g))
            }
            Some((r, _)) if r.kind == kind => Ok(ConsumeOutcome::Replayed(r)),
            _ => Ok(ConsumeOutcome::NotFound),
        }
    }
    async fn rotate(
        &self,
        old: &TokenHash,
        new: TokenRecord,
        now: i64,
        grace: i64,
    ) -> Result<RotateOutcome> {
        self.0.rotate(old, new, now, grace).await
    }
    async fn revoke_grant(&self, id: &str) -> Result<()> {
        self.0.revoke_grant(id).await
    }
    async fn revoke_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>> {
        self.0.revoke_token(hash).await
    }
    async fn mark(&self, key: &TokenHash, until: i64, now: i64) -> Result<bool> {
        self.0.mark(key, until, now).await
    }
    async fn is_marked(&self, key: &TokenHash, now: i64) -> Result<bool> {
        self.0.is_marked(key, now).await
    }
    async fn grants_by_subject(&self, subject: &str, now: i64) -> Result<Vec<Grant>> {
        self.0.grants_by_subject(subject, now).await
    }
    async fn sweep(&self, now: i64) -> Result<usize> {
        self.0.sweep(now).await
    }
}

#[tokio::test]
async fn concurrent_consume_catches_a_racy_store() {
    let outcome = tokio::spawn(async {
        let store = RacyStore(MemoryGrantStore::new());
        idforge_oauth_core::testkit::concurrent_consume(&store, 8).await;
    })
    .await;
    let panic = outcome.unwrap_err().into_panic();
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("exactly one concurrent consume"), "{msg}");
    // The sequential checks alone would not have seen it.
    idforge_oauth_core::testkit::consume_once(&RacyStore(MemoryGrantStore::new())).await;
}
