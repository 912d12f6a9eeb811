//! Ports the host implements (`async-trait`, object safe), with in-memory implementations.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// Remembers assertion IDs until they expire (SAML Profiles §4.1.4.5: an SP must ensure bearer
/// assertions are not replayed; §4.1.4.2 OneTimeUse). `consume` is atomic: of two concurrent
/// calls with the same ID exactly one gets `true`.
#[async_trait]
pub trait ReplayCache: Send + Sync {
    /// Records `id` until `expires_at`. `Ok(true)`: first use; `Ok(false)`: seen before.
    async fn consume(
        &self,
        id: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool>;
}

/// An AuthnRequest this SP sent and is waiting for (SAML Profiles §4.1.4.3 InResponseTo).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequest {
    /// The request `ID`.
    pub id: String,
    /// The IdP it was sent to.
    pub idp_entity_id: String,
    /// RelayState sent with it.
    pub relay_state: Option<String>,
    /// When it stops being acceptable.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Outstanding requests; `take` removes atomically so a response is accepted once per request.
#[async_trait]
pub trait RequestStore: Send + Sync {
    /// Stores a request.
    async fn save(&self, request: PendingRequest) -> Result<()>;
    /// Removes and returns the request with `id`, if present and not expired at `now`.
    async fn take(&self, id: &str, now: OffsetDateTime) -> Result<Option<PendingRequest>>;
}

/// In-memory [`ReplayCache`]: bounded, sweeps expired IDs, fails closed when full.
#[derive(Debug)]
pub struct MemoryReplayCache {
    inner: Mutex<HashMap<String, OffsetDateTime>>,
    capacity: usize,
}

impl MemoryReplayCache {
    /// A cache holding at most `capacity` live IDs.
    pub fn new(capacity: usize) -> Self {
        MemoryReplayCache {
            inner: Mutex::new(HashMap::new()),
            capacity,
        }
    }
}

impl Default for MemoryReplayCache {
    fn default() -> Self {
        Self::new(100_000)
    }
}

#[async_trait]
impl ReplayCache for MemoryReplayCache {
    async fn consume(
        &self,
        id: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let mut map = self
            .inner
            .lock()
            .map_err(|_| Error::Store("replay cache poisoned".into()))?;
        if let Some(exp) = map.get(id) {
            if *exp > now {
                return Ok(false);
            }
        }
        if map.len() >= self.capacity {
            map.retain(|_, exp| *exp > now);
            if map.len() >= self.capacity {
                return Err(Error::Store("replay cache full".into()));
            }
        }
        map.insert(id.to_owned(), expires_at);
        Ok(true)
    }
}

/// In-memory [`RequestStore`]: bounded, sweeps expired requests.
#[derive(Debug)]
pub struct MemoryRequestStore {
    inner: Mutex<HashMap<String, PendingRequest>>,
    capacity: usize,
}

impl MemoryRequestStore {
    /// A store holding at most `capacity` outstanding requests.
    pub fn new(capacity: usize) -> Self {
        MemoryRequestStore {
            inner: Mutex::new(HashMap::new()),
            capacity,
        }
    }
}

impl Default for MemoryRequestStore {
    fn default() -> Self {
        Self::new(100_000)
    }
}

#[async_trait]
impl RequestStore for MemoryRequestStore {
    async fn save(&self, request: PendingRequest) -> Result<()> {
        let mut map = self
            .inner
            .lock()
            .map_err(|_| Error::Store("request store poisoned".into()))?;
        if map.len() >= self.capacity {
            let now = OffsetDateTime::now_utc();
            map.retain(|_, r| r.expires_at > now);
            if map.len() >= self.capacity {
                return Err(Error::Store("request store full".into()));
            }
        }
        map.insert(request.id.clone(), request);
        Ok(())
    }

    async fn take(&self, id: &str, now: OffsetDateTime) -> Result<Option<PendingRequest>> {
        let mut map = self
            .inner
            .lock()
            .map_err(|_| Error::Store("request store poisoned".into()))?;
        Ok(map.remove(id).filter(|r| r.expires_at > now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use time::Duration;

    #[tokio::test]
    async fn replay_cache_is_single_use_under_concurrency() {
        let cache = Arc::new(MemoryReplayCache::new(10));
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let mut handles = Vec::new();
        for _ in 0..16 {
            let c = cache.clone();
            handles.push(tokio::spawn(async move {
                c.consume("a", now + Duration::minutes(5), now).await
            }));
        }
        let mut firsts = 0;
        for h in handles {
            if h.await.expect("join").expect("consume") {
                firsts += 1;
            }
        }
        assert_eq!(firsts, 1);
        // Expired entries are reusable and swept when full.
        assert!(cache
            .consume("a", now + Duration::minutes(20), now + Duration::minutes(6))
            .await
            .expect("c"));
    }

    #[tokio::test]
    async fn replay_cache_fails_closed_when_full() {
        let cache = MemoryReplayCache::new(2);
        let now = OffsetDateTime::UNIX_EPOCH;
        let later = now + Duration::minutes(5);
        assert!(cache.consume("a", later, now).await.expect("a"));
        assert!(cache.consume("b", later, now).await.expect("b"));
        assert!(matches!(
            cache.consume("c", later, now).await,
            Err(Error::Store(_))
        ));
        assert!(cache
            .consume("c", later + Duration::minutes(5), later)
            .await
            .expect("after sweep"));
    }

    #[tokio::test]
    async fn request_store_take_is_once_and_respects_expiry() {
        let store = MemoryRequestStore::default();
        let now = OffsetDateTime::now_utc();
        let req = PendingRequest {
            id: "_r1".into(),
            idp_entity_id: "idp".into(),
            relay_state: None,
            expires_at: now + Duration::minutes(5),
        };
        store.save(req.clone()).await.expect("save");
        assert_eq!(
            store.take("_r1", now).await.expect("take"),
            Some(req.clone())
        );
        assert_eq!(store.take("_r1", now).await.expect("take"), None);
        store.save(req).await.expect("save");
        assert_eq!(
            store
                .take("_r1", now + Duration::minutes(6))
                .await
                .expect("take"),
            None
        );
    }
}
