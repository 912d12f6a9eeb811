//! In-memory implementations of the ports (feature `memory`): the request store (bounded,
//! concurrency-safe, with expiry), a user resolver from tables, and a notifier that records
//! what it would send.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use idforge_jose::crypto::ct_eq;
use idforge_oauth_core::{Error, TokenHash};

use crate::model::{CibaRequest, Verdict};
use crate::ports::{
    CibaRequestStore, ClientNotification, DeliveryReport, HintResolution, Notifier, Polled,
    Redemption, Transition, UserNotification, UserResolver,
};
use crate::validate::Hint;

#[derive(Default)]
struct Requests {
    by_id: HashMap<TokenHash, CibaRequest>,
    by_approval: HashMap<TokenHash, TokenHash>,
}

/// The request store in memory: one lock over both indexes, so every operation is atomic.
pub struct MemoryCibaRequestStore {
    inner: Mutex<Requests>,
    capacity: usize,
}

impl std::fmt::Debug for MemoryCibaRequestStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCibaRequestStore")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Default for MemoryCibaRequestStore {
    fn default() -> Self {
        Self::with_capacity(100_000)
    }
}

impl MemoryCibaRequestStore {
    /// A store of at most 100,000 requests.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store of at most `capacity` requests (`temporarily_unavailable` beyond).
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryCibaRequestStore {
            inner: Mutex::new(Requests::default()),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Requests> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many requests are stored.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The approximate bytes of all stored records and index entries.
    pub fn approximate_bytes(&self) -> usize {
        let g = self.lock();
        let entry = std::mem::size_of::<(TokenHash, TokenHash)>() + 8;
        g.by_id
            .values()
            .map(|r| r.approximate_size() + std::mem::size_of::<TokenHash>() + 8 + entry)
            .sum()
    }
}

#[async_trait]
impl CibaRequestStore for MemoryCibaRequestStore {
    async fn insert(&self, request: CibaRequest) -> Result<(), Error> {
        let mut g = self.lock();
        if g.by_id.len() >= self.capacity {
            return Err(Error::TemporarilyUnavailable(
                "too many pending requests".into(),
            ));
        }
        if g.by_id.contains_key(&request.id) || g.by_approval.contains_key(&request.approval) {
            return Err(Error::Internal("duplicate CIBA request id".into()));
        }
        g.by_approval.insert(request.approval, request.id);
        g.by_id.insert(request.id, request);
        Ok(())
    }

    async fn get(&self, id: &TokenHash, now: i64) -> Result<Option<CibaRequest>, Error> {
        Ok(self
            .lock()
            .by_id
            .get(id)
            .filter(|r| !r.removable(now))
            .cloned())
    }

    async fn by_approval(
        &self,
        approval: &TokenHash,
        now: i64,
    ) -> Result<Option<CibaRequest>, Error> {
        let g = self.lock();
        Ok(g.by_approval
            .get(approval)
            .and_then(|id| g.by_id.get(id))
            .filter(|r| !r.removable(now))
            .cloned())
    }

    async fn poll(
        &self,
        id: &TokenHash,
        client_id: &str,
        now: i64,
    ) -> Result<Option<Polled>, Error> {
        let mut g = self.lock();
        Ok(g.by_id
            .get_mut(id)
            .filter(|r| !r.removable(now) && r.client_id == client_id)
            .map(|r| Polled::record(r, now)))
    }

    async fn decide(
        &self,
        approval: &TokenHash,
        verdict: &Verdict,
        now: i64,
    ) -> Result<Transition, Error> {
        let mut g = self.lock();
        let Some(id) = g.by_approval.get(approval).copied() else {
            return Ok(Transition::NotFound);
        };
        let Some(r) = g.by_id.get_mut(&id).filter(|r| !r.removable(now)) else {
            return Ok(Transition::NotFound);
        };
        Ok(match r.decide(verdict, now) {
            Ok(()) => Transition::Applied(r.clone()),
            Err(e) => Transition::Refused(e),
        })
    }

    async fn redeem(&self, id: &TokenHash, now: i64) -> Result<Redemption, Error> {
        let mut g = self.lock();
        let Some(r) = g.by_id.get_mut(id).filter(|r| !r.removable(now)) else {
            return Ok(Redemption::NotFound);
        };
        Ok(match r.redeem(now) {
            Ok(approval) => Redemption::Redeemed(r.clone(), approval),
            Err(e) => Redemption::Refused(e),
        })
    }

    async fn expire_due(&self, now: i64) -> Result<Vec<CibaRequest>, Error> {
        let mut g = self.lock();
        let mut expired = Vec::new();
        let mut gone = Vec::new();
        for (id, r) in g.by_id.iter_mut() {
            if r.removable(now) {
                gone.push((*id, r.approval));
            }
            // Only pending or approved requests whose time ran out (the state machine's rule).
            if r.expire(now).is_ok() {
                expired.push(r.clone());
            }
        }
        for (id, approval) in gone {
            g.by_id.remove(&id);
            g.by_approval.remove(&approval);
        }
        Ok(expired)
    }
}

/// Users from tables: `login_hint` values (usernames, email addresses) to subjects,
/// `login_hint_token`s with their expiry, and `user_code`s.
#[derive(Debug, Default)]
pub struct MemoryUserResolver {
    hints: Mutex<HashMap<String, String>>,
    hint_tokens: Mutex<HashMap<String, (String, i64)>>,
    user_codes: Mutex<HashMap<String, String>>,
}

impl MemoryUserResolver {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// `login_hint` `hint` names `subject`.
    pub fn add_login_hint(&self, hint: impl Into<String>, subject: impl Into<String>) {
        self.hints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(hint.into(), subject.into());
    }

    /// `login_hint_token` `token` names `subject` until `expires_at`.
    pub fn add_login_hint_token(
        &self,
        token: impl Into<String>,
        subject: impl Into<String>,
        expires_at: i64,
    ) {
        self.hint_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.into(), (subject.into(), expires_at));
    }

    /// `code` is the `user_code` of `subject`.
    pub fn set_user_code(&self, subject: impl Into<String>, code: impl Into<String>) {
        self.user_codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(subject.into(), code.into());
    }
}

#[async_trait]
impl UserResolver for MemoryUserResolver {
    async fn resolve(&self, hint: &Hint, now: i64) -> Result<HintResolution, Error> {
        Ok(match hint {
            Hint::LoginHint(h) => self
                .hints
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(h)
                .map_or(HintResolution::Unknown, |s| HintResolution::User(s.clone())),
            Hint::LoginHintToken(t) => {
                match self
                    .hint_tokens
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(t)
                {
                    None => HintResolution::Unknown,
                    Some((_, exp)) if *exp <= now => HintResolution::Expired,
                    Some((s, _)) => HintResolution::User(s.clone()),
                }
            }
            Hint::IdTokenHint(_) => HintResolution::Unknown,
        })
    }

    async fn check_user_code(&self, subject: &str, code: &str) -> Result<bool, Error> {
        let codes = self.user_codes.lock().unwrap_or_else(|e| e.into_inner());
        Ok(codes
            .get(subject)
            .is_some_and(|c| ct_eq(c.as_bytes(), code.as_bytes())))
    }
}

/// A notifier that records messages and notifications instead of sending them, and reports
/// every delivery as done (or failed, with [`RecordingNotifier::failing`]).
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    users: Mutex<Vec<UserNotification>>,
    clients: Mutex<Vec<ClientNotification>>,
    fail: bool,
}

impl RecordingNotifier {
    /// Records and reports success.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records and reports every client delivery as failed.
    pub fn failing() -> Self {
        RecordingNotifier {
            fail: true,
            ..Self::default()
        }
    }

    /// The messages sent to users so far.
    pub fn user_notifications(&self) -> Vec<UserNotification> {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The notifications sent to clients so far.
    pub fn client_notifications(&self) -> Vec<ClientNotification> {
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn notify_user(&self, n: &UserNotification) -> Result<(), Error> {
        self.users
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(n.clone());
        Ok(())
    }

    async fn notify_client(&self, n: &ClientNotification) -> DeliveryReport {
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(n.clone());
        if self.fail {
            DeliveryReport::Failed { attempts: 1 }
        } else {
            DeliveryReport::Delivered { attempts: 1 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "testkit")]
    #[tokio::test]
    async fn store_passes_the_conformance_suite() {
        crate::testkit::run_all(&MemoryCibaRequestStore::new()).await;
    }

    #[tokio::test]
    async fn store_is_bounded() {
        let request = |n: &str| {
            CibaRequest::new(
                TokenHash::of(n),
                TokenHash::of(&format!("{n}-approval")),
                "c",
                "u",
                idforge_oauth_core::Scopes::from_values(["openid"]),
                0,
                120,
            )
        };
        let s = MemoryCibaRequestStore::with_capacity(1);
        s.insert(request("a")).await.unwrap();
        let e = s.insert(request("b")).await.unwrap_err();
        assert_eq!(e.code(), "temporarily_unavailable");
    }

    #[tokio::test]
    async fn user_resolver_tables() {
        let u = MemoryUserResolver::new();
        u.add_login_hint("alice@example.com", "alice");
        u.add_login_hint_token("tok", "alice", 100);
        u.set_user_code("alice", "4711");
        let r = |h: Hint, now| {
            let u = &u;
            async move { u.resolve(&h, now).await.unwrap() }
        };
        assert_eq!(
            r(Hint::LoginHint("alice@example.com".into()), 0).await,
            HintResolution::User("alice".into())
        );
        assert_eq!(
            r(Hint::LoginHint("bob".into()), 0).await,
            HintResolution::Unknown
        );
        assert_eq!(
            r(Hint::LoginHintToken("tok".into()), 99).await,
            HintResolution::User("alice".into())
        );
        assert_eq!(
            r(Hint::LoginHintToken("tok".into()), 100).await,
            HintResolution::Expired
        );
        assert!(u.check_user_code("alice", "4711").await.unwrap());
        assert!(!u.check_user_code("alice", "4712").await.unwrap());
        assert!(!u.check_user_code("bob", "4711").await.unwrap());
    }
}
