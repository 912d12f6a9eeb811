//! Conformance suites for the storage ports ([`ReplayCache`], [`RequestStore`]): the same
//! checks against any implementation (the memory ones, idforge-store-sql's, a host's own).
//! Hosts call [`run_all`] from a test (feature `testkit`):
//!
//! ```
//! # async fn demo() {
//! use idforge_saml_sp::ports::{MemoryReplayCache, MemoryRequestStore};
//! idforge_saml_sp::conformance::run_all(&MemoryReplayCache::default(), &MemoryRequestStore::default())
//!     .await;
//! # }
//! ```
//!
//! Every check uses fresh ids, so one store can run them all; each panics naming the rule it
//! saw broken. Single use is checked with [`CONCURRENCY`] attempts polled together: exactly
//! one consumes an assertion ID (SAML Profiles §4.1.4.5), exactly one takes a pending request
//! (§4.1.4.3 InResponseTo).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use time::{Duration, OffsetDateTime};

use crate::ports::{PendingRequest, ReplayCache, RequestStore};

/// Concurrent attempts at one single-use item.
pub const CONCURRENCY: usize = 128;

/// A boxed future (the suites' concurrent attempts).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Polls every future together until all are done; their outputs in order.
pub async fn join_all<T>(futures: Vec<BoxFuture<'_, T>>) -> Vec<T> {
    struct JoinAll<'a, T> {
        futures: Vec<Option<BoxFuture<'a, T>>>,
        out: Vec<Option<T>>,
    }
    // Outputs are moved, never pinned.
    impl<T> Unpin for JoinAll<'_, T> {}
    impl<T> Future for JoinAll<'_, T> {
        type Output = Vec<T>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
            let this = self.get_mut();
            let mut pending = false;
            for (slot, out) in this.futures.iter_mut().zip(this.out.iter_mut()) {
                if let Some(f) = slot {
                    match f.as_mut().poll(cx) {
                        Poll::Ready(v) => {
                            *out = Some(v);
                            *slot = None;
                        }
                        Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                Poll::Pending
            } else {
                Poll::Ready(this.out.iter_mut().filter_map(Option::take).collect())
            }
        }
    }
    let n = futures.len();
    JoinAll {
        futures: futures.into_iter().map(Some).collect(),
        out: (0..n).map(|_| None).collect(),
    }
    .await
}

fn fresh(prefix: &str) -> String {
    let mut r = [0u8; 12];
    if idforge_jose::crypto::random_bytes(&mut r).is_err() {
        panic!("testkit: the random source failed");
    }
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!("_{prefix}{hex}")
}

/// A fixed instant (the suites pass `now` explicitly).
fn t0() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("testkit: {what} failed: {e}"),
    }
}

/// Runs every suite.
pub async fn run_all(cache: &dyn ReplayCache, requests: &dyn RequestStore) {
    replay_cache(cache).await;
    request_store(requests).await;
}

/// The [`ReplayCache`] suite.
pub async fn replay_cache(cache: &dyn ReplayCache) {
    let now = t0();
    let id = fresh("a");
    let exp = now + Duration::minutes(5);
    assert!(
        ok(cache.consume(&id, exp, now).await, "consume"),
        "testkit: the first use of an assertion ID is accepted"
    );
    assert!(
        !ok(
            cache.consume(&id, exp, now + Duration::minutes(1)).await,
            "consume"
        ),
        "testkit: a second use before expiry is a replay (SAML Profiles §4.1.4.5)"
    );
    assert!(
        ok(cache.consume(&fresh("b"), exp, now).await, "consume"),
        "testkit: another ID is independent"
    );
    // Once expired, the ID may be recorded again (the assertion itself is refused by its
    // NotOnOrAfter long before; the cache only has to cover its lifetime).
    assert!(
        ok(
            cache
                .consume(&id, exp + Duration::minutes(5), exp + Duration::seconds(1))
                .await,
            "consume"
        ),
        "testkit: an expired entry does not block"
    );
    concurrent_consume(cache, CONCURRENCY).await;
}

/// `n` concurrent uses of one assertion ID: exactly one is first.
pub async fn concurrent_consume(cache: &dyn ReplayCache, n: usize) {
    let now = t0();
    let id = fresh("c");
    let futures: Vec<BoxFuture<'_, bool>> = (0..n)
        .map(|_| {
            let id = id.clone();
            Box::pin(async move {
                ok(
                    cache.consume(&id, now + Duration::minutes(5), now).await,
                    "consume",
                )
            }) as BoxFuture<'_, bool>
        })
        .collect();
    let firsts = join_all(futures).await.into_iter().filter(|f| *f).count();
    assert_eq!(
        firsts, 1,
        "testkit: exactly one of {n} concurrent uses of an assertion ID is accepted"
    );
}

fn pending(now: OffsetDateTime, minutes: i64) -> PendingRequest {
    PendingRequest {
        id: fresh("r"),
        idp_entity_id: "https://idp.example/metadata".into(),
        relay_state: Some("state & more".into()),
        expires_at: now + Duration::minutes(minutes),
    }
}

/// The [`RequestStore`] suite.
pub async fn request_store(store: &dyn RequestStore) {
    let now = t0();
    let req = pending(now, 5);
    ok(store.save(req.clone()).await, "save");
    assert_eq!(
        ok(store.take(&req.id, now).await, "take"),
        Some(req.clone()),
        "testkit: take returns the request as saved"
    );
    assert_eq!(
        ok(store.take(&req.id, now).await, "take"),
        None,
        "testkit: a request is taken once (SAML Profiles §4.1.4.3)"
    );
    assert_eq!(ok(store.take(&fresh("x"), now).await, "take"), None);
    let expired = pending(now, 5);
    ok(store.save(expired.clone()).await, "save");
    assert_eq!(
        ok(
            store.take(&expired.id, now + Duration::minutes(5)).await,
            "take"
        ),
        None,
        "testkit: an expired request is not returned"
    );
    // No relay state round-trips as none.
    let mut bare = pending(now, 5);
    bare.relay_state = None;
    ok(store.save(bare.clone()).await, "save");
    assert_eq!(ok(store.take(&bare.id, now).await, "take"), Some(bare));
    concurrent_take(store, CONCURRENCY).await;
}

/// `n` concurrent takes of one pending request: exactly one gets it.
pub async fn concurrent_take(store: &dyn RequestStore, n: usize) {
    let now = t0();
    let req = pending(now, 5);
    ok(store.save(req.clone()).await, "save");
    let futures: Vec<BoxFuture<'_, Option<PendingRequest>>> = (0..n)
        .map(|_| {
            let id = req.id.clone();
            Box::pin(async move { ok(store.take(&id, now).await, "take") })
                as BoxFuture<'_, Option<PendingRequest>>
        })
        .collect();
    let got: Vec<_> = join_all(futures).await.into_iter().flatten().collect();
    assert_eq!(
        got,
        vec![req],
        "testkit: exactly one of {n} concurrent takes of a request gets it"
    );
}
