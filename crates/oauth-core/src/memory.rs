//! In-memory implementations of every port: concurrency-safe (one mutex per store, never held
//! across an `.await`), bounded (a full store sweeps expired entries, then refuses with
//! `temporarily_unavailable`), with expiry sweeping every N writes.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use async_trait::async_trait;
use idforge_jose::crypto::{ct_eq, pbkdf2, HashAlg};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::device::{
    DecideOutcome, DeviceAuthorization, PollOutcome, TransitionError, UserDecision,
};
use crate::error::{Error, Result};
use crate::model::{ClaimsRequest, Scopes};
use crate::ports::{
    AttemptLimiter, ClaimsSource, ClientStore, ConnectedUserStore, DeviceCodeStore, GrantStore,
    LocalAttributeStore, PasswordVerifier, PushedRequestStore, SessionStore, UserLookup,
};
use crate::records::{
    CodeBinding, ConsumeOutcome, Grant, PushedRequest, RotateOutcome, TokenContents, TokenKind,
    TokenRecord, TokenState,
};
use crate::secret::{Rng, TokenHash};
use crate::session::SessionRecord;
use crate::users::Written;

/// Bounds of a [`MemoryGrantStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryLimits {
    /// Maximum number of grants.
    pub max_grants: usize,
    /// Maximum number of codes and tokens.
    pub max_tokens: usize,
    /// Maximum number of marks (`jti` replay and deny-list entries).
    pub max_marks: usize,
    /// Sweep expired entries every this many writes (a sweep only touches what expired).
    pub sweep_every: u64,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits {
            max_grants: 1_000_000,
            max_tokens: 4_000_000,
            max_marks: 1_000_000,
            sweep_every: 16,
        }
    }
}

/// A grant as the store keeps it (issue 19 §4: every stored token costs memory for as long as
/// it lives). The fields every grant has stay inline; the rest, empty for `client_credentials`,
/// token exchange and most service grants, is boxed only when set. The grant id is the map key.
#[derive(Debug)]
struct GrantEntry {
    client_id: Box<str>,
    subject: Option<Box<str>>,
    scopes: Scopes,
    created_at: i64,
    expires_at: i64,
    extras: Option<Box<GrantExtras>>,
    /// The family's tokens, for revoking the grant.
    tokens: Vec<TokenHash>,
}

/// The parts of a [`Grant`] that user-facing grants set (OIDC session facts, request-time
/// parameters, token contents).
#[derive(Debug)]
struct GrantExtras {
    auth_time: Option<i64>,
    acr: Option<String>,
    amr: Vec<String>,
    sid: Option<String>,
    nonce: Option<String>,
    claims: Option<ClaimsRequest>,
    contents: TokenContents,
}

impl GrantEntry {
    /// Splits `grant` into its id (the map key) and the compact entry.
    fn new(grant: Grant) -> (Arc<str>, GrantEntry) {
        // Exhaustive on purpose: a new `Grant` field must be kept here too.
        let Grant {
            id,
            client_id,
            subject,
            scopes,
            auth_time,
            acr,
            amr,
            sid,
            nonce,
            claims,
            created_at,
            expires_at,
            contents,
        } = grant;
        let plain = auth_time.is_none()
            && acr.is_none()
            && amr.is_empty()
            && sid.is_none()
            && nonce.is_none()
            && claims.is_none()
            && contents.is_empty();
        let extras = (!plain).then(|| {
            Box::new(GrantExtras {
                auth_time,
                acr,
                amr,
                sid,
                nonce,
                claims,
                contents,
            })
        });
        let entry = GrantEntry {
            client_id: client_id.into_boxed_str(),
            subject: subject.map(String::into_boxed_str),
            scopes,
            created_at,
            expires_at,
            extras,
            tokens: Vec::new(),
        };
        (id.into(), entry)
    }

    /// The [`Grant`] this entry was made from.
    fn to_grant(&self, id: &str) -> Grant {
        let x = self.extras.as_deref();
        Grant {
            id: id.to_owned(),
            client_id: self.client_id.to_string(),
            subject: self.subject.as_deref().map(str::to_owned),
            scopes: self.scopes.clone(),
            auth_time: x.and_then(|x| x.auth_time),
            acr: x.and_then(|x| x.acr.clone()),
            amr: x.map(|x| x.amr.clone()).unwrap_or_default(),
            sid: x.and_then(|x| x.sid.clone()),
            nonce: x.and_then(|x| x.nonce.clone()),
            claims: x.and_then(|x| x.claims.clone()),
            created_at: self.created_at,
            expires_at: self.expires_at,
            contents: x.map(|x| x.contents.clone()).unwrap_or_default(),
        }
    }
}

/// A token as the store keeps it: the [`TokenRecord`] minus what its grant already holds. The
/// hash is the map key; the grant id shares the grant's key; client and scopes are stored only
/// when they differ from the grant's (they never do for the tokens oauth-core issues, except
/// narrowed scopes); code bindings are boxed (codes only).
#[derive(Debug)]
struct StoredToken {
    grant_id: Arc<str>,
    client_id: Option<Box<str>>,
    scopes: Option<Box<Scopes>>,
    code: Option<Box<CodeBinding>>,
    issued_at: i64,
    expires_at: i64,
    state: TokenState,
    kind: TokenKind,
}

impl StoredToken {
    /// Compacts `record` of the grant stored under `grant_id` as `grant`.
    fn new(record: TokenRecord, grant_id: Arc<str>, grant: &GrantEntry) -> StoredToken {
        // Exhaustive on purpose: a new `TokenRecord` field must be kept here too.
        let TokenRecord {
            hash: _,
            kind,
            grant_id: _,
            client_id,
            scopes,
            issued_at,
            expires_at,
            code,
            state,
        } = record;
        StoredToken {
            grant_id,
            client_id: (*client_id != *grant.client_id).then(|| client_id.into_boxed_str()),
            scopes: (scopes != grant.scopes).then(|| Box::new(scopes)),
            code: code.map(Box::new),
            issued_at,
            expires_at,
            state,
            kind,
        }
    }

    /// The [`TokenRecord`] this entry was made from, given its grant.
    fn to_record(&self, hash: TokenHash, grant: &Grant) -> TokenRecord {
        TokenRecord {
            hash,
            kind: self.kind.clone(),
            grant_id: self.grant_id.to_string(),
            client_id: match &self.client_id {
                Some(c) => c.to_string(),
                None => grant.client_id.clone(),
            },
            scopes: match &self.scopes {
                Some(s) => (**s).clone(),
                None => grant.scopes.clone(),
            },
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            code: self.code.as_deref().cloned(),
            state: self.state,
        }
    }
}

/// What an expiry-queue entry points at.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Expiring {
    Grant(Arc<str>),
    Token(TokenHash),
    Mark(TokenHash),
}

#[derive(Debug, Default)]
struct Inner {
    // Values boxed: a map doubling moves every entry while the store's lock is held, and
    // with ~200k live tokens moving the whole records (about 100 bytes each) stalled every
    // request for tens of milliseconds (load-test p99 36–42 ms); moving pointers, 7–8 ms.
    grants: HashMap<Arc<str>, Box<GrantEntry>>,
    tokens: HashMap<TokenHash, Box<StoredToken>>,
    marks: HashMap<TokenHash, i64>,
    /// Expiry queue: sweeping costs O(expired · log n), not a scan of the whole store. Entries
    /// whose target is gone (revoked) or was extended are skipped when they come up.
    queue: BinaryHeap<Reverse<(i64, Expiring)>>,
    writes: u64,
}

impl Inner {
    fn sweep(&mut self, now: i64) -> usize {
        let mut removed = 0;
        while let Some(Reverse((at, _))) = self.queue.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, what))) = self.queue.pop() else {
                break;
            };
            match what {
                Expiring::Grant(id) => {
                    if self.grants.get(&id).is_some_and(|e| e.expires_at == at) {
                        if let Some(e) = self.grants.remove(&id) {
                            removed += 1;
                            for h in &e.tokens {
                                removed += usize::from(self.tokens.remove(h).is_some());
                            }
                        }
                    }
                }
                Expiring::Token(h) => {
                    if self.tokens.get(&h).is_some_and(|t| t.expires_at == at) {
                        if let Some(t) = self.tokens.remove(&h) {
                            removed += 1;
                            if let Some(e) = self.grants.get_mut(&t.grant_id) {
                                e.tokens.retain(|x| *x != h);
                            }
                        }
                    }
                }
                Expiring::Mark(h) => {
                    if self.marks.get(&h) == Some(&at) {
                        self.marks.remove(&h);
                        removed += 1;
                    }
                }
            }
        }
        removed
    }

    fn wrote(&mut self, now: i64, every: u64, expires_at: i64, what: Expiring) {
        self.queue.push(Reverse((expires_at, what)));
        // Revoked entries leave stale queue items behind until their expiry; keep the queue
        // within a constant factor of the live entries so memory stays bounded.
        let live = self.grants.len() + self.tokens.len() + self.marks.len();
        if self.queue.len() > 2 * live + 1024 {
            self.rebuild_queue();
        }
        self.writes += 1;
        if self.writes >= every {
            self.writes = 0;
            self.sweep(now);
        }
    }

    fn rebuild_queue(&mut self) {
        let mut items =
            Vec::with_capacity(self.grants.len() + self.tokens.len() + self.marks.len());
        items.extend(
            self.grants
                .iter()
                .map(|(id, e)| Reverse((e.expires_at, Expiring::Grant(id.clone())))),
        );
        let grants = &self.grants;
        items.extend(
            self.tokens
                .iter()
                .filter(|(_, t)| {
                    grants
                        .get(&t.grant_id)
                        .is_none_or(|g| g.expires_at > t.expires_at)
                })
                .map(|(h, t)| Reverse((t.expires_at, Expiring::Token(*h)))),
        );
        items.extend(
            self.marks
                .iter()
                .map(|(h, until)| Reverse((*until, Expiring::Mark(*h)))),
        );
        self.queue = BinaryHeap::from(items);
    }

    /// Adds `hash` to its grant's family list (growing it one slot at a time: most families
    /// hold one or two tokens, and `Vec`'s first growth would reserve four). Returns whether the
    /// grant's expiry covers the token's, so the grant's queue entry will sweep it too.
    fn add_to_family(&mut self, grant_id: &str, hash: TokenHash, expires_at: i64) -> bool {
        match self.grants.get_mut(grant_id) {
            Some(e) => {
                e.tokens.reserve_exact(1);
                e.tokens.push(hash);
                e.expires_at <= expires_at
            }
            None => false,
        }
    }

    /// [`Inner::wrote`] for a token: a token its grant outlives gets its own queue entry; one
    /// that ends with its grant (every `client_credentials` access token) is swept with it.
    fn wrote_token(
        &mut self,
        now: i64,
        every: u64,
        expires_at: i64,
        hash: TokenHash,
        covered: bool,
    ) {
        if covered {
            self.writes += 1;
            if self.writes >= every {
                self.writes = 0;
                self.sweep(now);
            }
        } else {
            self.wrote(now, every, expires_at, Expiring::Token(hash));
        }
    }

    /// The live token and its live grant.
    fn live(&self, hash: &TokenHash, now: i64) -> Option<(&StoredToken, Grant)> {
        let t = self.tokens.get(hash).filter(|t| t.expires_at > now)?;
        let g = self
            .grants
            .get(&t.grant_id)
            .filter(|g| g.expires_at > now)?;
        Some((t, g.to_grant(&t.grant_id)))
    }

    /// Refuses a write that would take `len` past `max` once expired entries are swept.
    fn room(&mut self, len: fn(&Inner) -> usize, max: usize, what: Full, now: i64) -> Result<()> {
        if len(self) >= max {
            self.sweep(now);
            if len(self) >= max {
                return Err(what.into());
            }
        }
        Ok(())
    }
}

/// Which bound of a [`MemoryGrantStore`] refused a write ([`MemoryLimits`]). The store answers
/// with [`Error::TemporarilyUnavailable`] (HTTP 503) carrying this description, so the client
/// learns that the server is at capacity (not that its request was wrong) and the operator which
/// limit to raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Full {
    /// [`MemoryLimits::max_grants`] live grants.
    Grants,
    /// [`MemoryLimits::max_tokens`] live codes and tokens.
    Tokens,
    /// [`MemoryLimits::max_marks`] live marks (`jti` replay and deny-list entries).
    Marks,
}

impl Full {
    /// The description sent with the error.
    pub fn description(self) -> &'static str {
        match self {
            Full::Grants => "the grant store is full: too many live grants (max_grants)",
            Full::Tokens => "the grant store is full: too many live codes and tokens (max_tokens)",
            Full::Marks => {
                "the grant store is full: too many live replay and revocation marks (max_marks)"
            }
        }
    }
}

impl From<Full> for Error {
    fn from(full: Full) -> Error {
        Error::TemporarilyUnavailable(full.description().into())
    }
}

/// An in-memory [`GrantStore`].
///
/// Memory per live entry is kept small (issue 19 §4): a grant without OIDC session facts and
/// its one JWT access token (`client_credentials`) cost about 0.65 KB together, measured by
/// `cargo bench -p idforge-oauth-core --bench memory`. Bound the total with [`MemoryLimits`];
/// a full store answers [`Full`] as `temporarily_unavailable`.
#[derive(Debug, Default)]
pub struct MemoryGrantStore {
    inner: Mutex<Inner>,
    limits: MemoryLimits,
}

impl MemoryGrantStore {
    /// A store with default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with `limits`.
    pub fn with_limits(limits: MemoryLimits) -> Self {
        MemoryGrantStore {
            inner: Mutex::default(),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // breaks their invariants (each write is one insert/remove), so recover the guard.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of grants, tokens and marks currently held.
    pub fn len(&self) -> (usize, usize, usize) {
        let g = self.lock();
        (g.grants.len(), g.tokens.len(), g.marks.len())
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0, 0)
    }
}

#[async_trait]
impl GrantStore for MemoryGrantStore {
    async fn create_grant(&self, grant: Grant) -> Result<()> {
        let mut g = self.lock();
        let now = grant.created_at;
        g.room(
            |i| i.grants.len(),
            self.limits.max_grants,
            Full::Grants,
            now,
        )?;
        let expires_at = grant.expires_at;
        let (id, entry) = GrantEntry::new(grant);
        g.grants.insert(id.clone(), Box::new(entry));
        g.wrote(
            now,
            self.limits.sweep_every,
            expires_at,
            Expiring::Grant(id),
        );
        Ok(())
    }

    async fn grant(&self, id: &str, now: i64) -> Result<Option<Grant>> {
        Ok(self
            .lock()
            .grants
            .get(id)
            .filter(|e| e.expires_at > now)
            .map(|e| e.to_grant(id)))
    }

    async fn insert_token(&self, record: TokenRecord) -> Result<()> {
        let mut g = self.lock();
        let now = record.issued_at;
        g.room(
            |i| i.tokens.len(),
            self.limits.max_tokens,
            Full::Tokens,
            now,
        )?;
        let hash = record.hash;
        let stored = match g.grants.get_key_value(record.grant_id.as_str()) {
            Some((id, e)) if e.expires_at > now => StoredToken::new(record, id.clone(), e),
            _ => {
                return Err(Error::InvalidGrant(
                    "the grant was revoked or expired".into(),
                ))
            }
        };
        let expires_at = stored.expires_at;
        let covered = g.add_to_family(&stored.grant_id, hash, expires_at);
        g.tokens.insert(hash, Box::new(stored));
        g.wrote_token(now, self.limits.sweep_every, expires_at, hash, covered);
        Ok(())
    }

    async fn token(&self, hash: &TokenHash, now: i64) -> Result<Option<(TokenRecord, Grant)>> {
        Ok(self
            .lock()
            .live(hash, now)
            .map(|(t, g)| (t.to_record(*hash, &g), g)))
    }

    async fn consume(&self, hash: &TokenHash, kind: TokenKind, now: i64) -> Result<ConsumeOutcome> {
        let mut g = self.lock();
        let grant = match g.live(hash, now) {
            Some((t, grant)) if t.kind == kind => grant,
            _ => return Ok(ConsumeOutcome::NotFound),
        };
        let Some(t) = g.tokens.get_mut(hash) else {
            return Ok(ConsumeOutcome::NotFound);
        };
        Ok(match t.state {
            TokenState::Active => {
                t.state = TokenState::Consumed { at: now };
                ConsumeOutcome::Consumed(t.to_record(*hash, &grant), grant)
            }
            TokenState::Consumed { .. } => ConsumeOutcome::Replayed(t.to_record(*hash, &grant)),
            TokenState::Rotated { .. } => ConsumeOutcome::NotFound,
        })
    }

    async fn rotate(
        &self,
        old: &TokenHash,
        new: TokenRecord,
        now: i64,
        grace_seconds: i64,
    ) -> Result<RotateOutcome> {
        let mut g = self.lock();
        let grant = match g.live(old, now) {
            Some((t, grant))
                if t.kind == TokenKind::RefreshToken && *t.grant_id == *new.grant_id =>
            {
                grant
            }
            _ => return Ok(RotateOutcome::NotFound),
        };
        g.room(
            |i| i.tokens.len(),
            self.limits.max_tokens,
            Full::Tokens,
            now,
        )?;
        let hash = new.hash;
        let Some((id, e)) = g.grants.get_key_value(new.grant_id.as_str()) else {
            return Ok(RotateOutcome::NotFound);
        };
        let stored = StoredToken::new(new, id.clone(), e);
        let Some(t) = g.tokens.get_mut(old) else {
            return Ok(RotateOutcome::NotFound);
        };
        let old_record = match t.state {
            TokenState::Active => {
                t.state = TokenState::Rotated { at: now };
                t.to_record(*old, &grant)
            }
            TokenState::Rotated { at } if grace_seconds > 0 && now - at <= grace_seconds => {
                t.to_record(*old, &grant)
            }
            TokenState::Rotated { .. } => {
                return Ok(RotateOutcome::Reused(t.to_record(*old, &grant)))
            }
            TokenState::Consumed { .. } => return Ok(RotateOutcome::NotFound),
        };
        let expires_at = stored.expires_at;
        let covered = g.add_to_family(&stored.grant_id, hash, expires_at);
        g.tokens.insert(hash, Box::new(stored));
        g.wrote_token(now, self.limits.sweep_every, expires_at, hash, covered);
        Ok(RotateOutcome::Rotated(old_record, grant))
    }

    async fn revoke_grant(&self, id: &str) -> Result<()> {
        let mut g = self.lock();
        if let Some(e) = g.grants.remove(id) {
            for h in &e.tokens {
                g.tokens.remove(h);
            }
        }
        Ok(())
    }

    async fn revoke_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>> {
        let mut g = self.lock();
        let Some(t) = g.tokens.remove(hash) else {
            return Ok(None);
        };
        // The record is rebuilt from its grant; a token outliving its grant is never stored
        // (sweeping and grant revocation remove the family), so the grant is there.
        let grant = match g.grants.get_mut(&t.grant_id) {
            Some(e) => {
                e.tokens.retain(|h| h != hash);
                e.to_grant(&t.grant_id)
            }
            None => return Ok(None),
        };
        Ok(Some(t.to_record(*hash, &grant)))
    }

    async fn mark(&self, key: &TokenHash, until: i64, now: i64) -> Result<bool> {
        let mut g = self.lock();
        if g.marks.get(key).is_some_and(|u| *u > now) {
            return Ok(false);
        }
        g.room(|i| i.marks.len(), self.limits.max_marks, Full::Marks, now)?;
        g.marks.insert(*key, until);
        g.wrote(now, self.limits.sweep_every, until, Expiring::Mark(*key));
        Ok(true)
    }

    async fn is_marked(&self, key: &TokenHash, now: i64) -> Result<bool> {
        Ok(self.lock().marks.get(key).is_some_and(|u| *u > now))
    }

    async fn grants_by_subject(&self, subject: &str, now: i64) -> Result<Vec<Grant>> {
        // A scan under the lock: password updates are rare, and an index would cost every
        // stored grant memory (issue 19 §4).
        let g = self.lock();
        let mut out: Vec<Grant> = g
            .grants
            .iter()
            .filter(|(_, e)| e.expires_at > now && e.subject.as_deref() == Some(subject))
            .map(|(id, e)| e.to_grant(id))
            .collect();
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    async fn sweep(&self, now: i64) -> Result<usize> {
        Ok(self.lock().sweep(now))
    }
}

#[derive(Debug, Default)]
struct PushedInner {
    requests: HashMap<TokenHash, PushedRequest>,
    /// Expiry queue, as in the grant store: entries already consumed are skipped.
    queue: BinaryHeap<Reverse<(i64, TokenHash)>>,
    writes: u64,
}

impl PushedInner {
    fn sweep(&mut self, now: i64) -> usize {
        let mut removed = 0;
        while let Some(Reverse((at, _))) = self.queue.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, h))) = self.queue.pop() else {
                break;
            };
            if self.requests.get(&h).is_some_and(|r| r.expires_at == at) {
                self.requests.remove(&h);
                removed += 1;
            }
        }
        removed
    }
}

/// An in-memory [`PushedRequestStore`] (RFC 9126): one mutex, atomic `consume`, bounded
/// (`max_requests`; a full store sweeps, then refuses with `temporarily_unavailable`), expired
/// entries swept every 16 writes.
#[derive(Debug)]
pub struct MemoryPushedRequestStore {
    inner: Mutex<PushedInner>,
    max_requests: usize,
    sweep_every: u64,
}

impl Default for MemoryPushedRequestStore {
    fn default() -> Self {
        Self::with_capacity(100_000)
    }
}

impl MemoryPushedRequestStore {
    /// A store holding at most 100 000 pending requests.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding at most `max_requests` pending requests.
    pub fn with_capacity(max_requests: usize) -> Self {
        MemoryPushedRequestStore {
            inner: Mutex::default(),
            max_requests,
            sweep_every: 16,
        }
    }

    fn lock(&self) -> MutexGuard<'_, PushedInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of pending requests (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.lock().requests.len()
    }

    /// Whether no request is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl PushedRequestStore for MemoryPushedRequestStore {
    async fn insert(&self, request: PushedRequest) -> Result<()> {
        let mut g = self.lock();
        let now = request.created_at;
        if g.requests.len() >= self.max_requests {
            g.sweep(now);
            if g.requests.len() >= self.max_requests {
                return Err(Error::TemporarilyUnavailable(
                    "the pushed request store is full".into(),
                ));
            }
        }
        let (hash, at) = (request.hash, request.expires_at);
        g.requests.insert(hash, request);
        g.queue.push(Reverse((at, hash)));
        if g.queue.len() > 2 * g.requests.len() + 1024 {
            let items: Vec<_> = g
                .requests
                .iter()
                .map(|(h, r)| Reverse((r.expires_at, *h)))
                .collect();
            g.queue = BinaryHeap::from(items);
        }
        g.writes += 1;
        if g.writes >= self.sweep_every {
            g.writes = 0;
            g.sweep(now);
        }
        Ok(())
    }

    async fn consume(&self, hash: &TokenHash, now: i64) -> Result<Option<PushedRequest>> {
        // Removed under the lock: of concurrent callers, one gets it.
        Ok(self
            .lock()
            .requests
            .remove(hash)
            .filter(|r| r.expires_at > now))
    }

    async fn sweep(&self, now: i64) -> Result<usize> {
        Ok(self.lock().sweep(now))
    }
}

/// An in-memory [`DeviceCodeStore`] (RFC 8628): one mutex, so `poll` and `decide` are atomic
/// read-modify-writes; bounded (`max_authorizations`; a full store sweeps, then refuses with
/// `temporarily_unavailable`); records are swept after
/// [`DeviceAuthorization::retain_until`], every 16 writes.
#[derive(Debug)]
pub struct MemoryDeviceCodeStore {
    inner: Mutex<DeviceInner>,
    max_authorizations: usize,
}

#[derive(Debug, Default)]
struct DeviceInner {
    by_device: HashMap<TokenHash, DeviceAuthorization>,
    by_user: HashMap<TokenHash, TokenHash>,
    queue: BinaryHeap<Reverse<(i64, TokenHash)>>,
    writes: u64,
}

impl DeviceInner {
    fn sweep(&mut self, now: i64) -> usize {
        let mut removed = 0;
        while let Some(Reverse((at, _))) = self.queue.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, h))) = self.queue.pop() else {
                break;
            };
            if let Some(a) = self.by_device.remove(&h) {
                self.by_user.remove(&a.user_code);
                removed += 1;
            }
        }
        removed
    }
}

impl Default for MemoryDeviceCodeStore {
    fn default() -> Self {
        Self::with_capacity(100_000)
    }
}

impl MemoryDeviceCodeStore {
    /// A store holding at most 100 000 device authorizations.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding at most `max_authorizations`.
    pub fn with_capacity(max_authorizations: usize) -> Self {
        MemoryDeviceCodeStore {
            inner: Mutex::default(),
            max_authorizations,
        }
    }

    fn lock(&self) -> MutexGuard<'_, DeviceInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of retained authorizations.
    pub fn len(&self) -> usize {
        self.lock().by_device.len()
    }

    /// Whether none is retained.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl DeviceCodeStore for MemoryDeviceCodeStore {
    async fn insert(&self, authorization: DeviceAuthorization) -> Result<bool> {
        let mut g = self.lock();
        let now = authorization.created_at;
        if g.by_device.len() >= self.max_authorizations {
            g.sweep(now);
            if g.by_device.len() >= self.max_authorizations {
                return Err(Error::TemporarilyUnavailable(
                    "the device code store is full".into(),
                ));
            }
        }
        if g.by_device.contains_key(&authorization.device_code)
            || g.by_user.contains_key(&authorization.user_code)
        {
            return Ok(false);
        }
        let (d, u, until) = (
            authorization.device_code,
            authorization.user_code,
            authorization.retain_until(),
        );
        g.by_device.insert(d, authorization);
        g.by_user.insert(u, d);
        g.queue.push(Reverse((until, d)));
        g.writes += 1;
        if g.writes >= 16 {
            g.writes = 0;
            g.sweep(now);
        }
        Ok(true)
    }

    async fn by_user_code(
        &self,
        user_code: &TokenHash,
        now: i64,
    ) -> Result<Option<DeviceAuthorization>> {
        let g = self.lock();
        Ok(g.by_user
            .get(user_code)
            .and_then(|d| g.by_device.get(d))
            .filter(|a| a.retain_until() > now)
            .cloned())
    }

    async fn poll(
        &self,
        device_code: &TokenHash,
        client_id: &str,
        now: i64,
    ) -> Result<PollOutcome> {
        let mut g = self.lock();
        let Some(a) = g.by_device.get_mut(device_code) else {
            return Ok(PollOutcome::NotFound);
        };
        if a.retain_until() <= now {
            return Ok(PollOutcome::NotFound);
        }
        // Read, decide and write under one lock: the check-and-update is atomic.
        let (next, outcome) = a.poll(client_id, now);
        if let Some(next) = next {
            *a = next;
        }
        Ok(outcome)
    }

    async fn decide(
        &self,
        user_code: &TokenHash,
        decision: UserDecision,
        now: i64,
    ) -> Result<DecideOutcome> {
        let mut g = self.lock();
        let Some(d) = g.by_user.get(user_code).copied() else {
            return Ok(DecideOutcome::NotFound);
        };
        let Some(a) = g.by_device.get_mut(&d) else {
            return Ok(DecideOutcome::NotFound);
        };
        let approve = matches!(decision, UserDecision::Approve(_));
        Ok(match a.decide(decision, now) {
            Ok(next) => {
                *a = next.clone();
                if approve {
                    DecideOutcome::Approved(next)
                } else {
                    DecideOutcome::Denied(next)
                }
            }
            Err(TransitionError::Expired) => DecideOutcome::Expired,
            Err(_) => DecideOutcome::NotFound,
        })
    }

    async fn sweep(&self, now: i64) -> Result<usize> {
        Ok(self.lock().sweep(now))
    }
}

/// An in-memory [`AttemptLimiter`]: a fixed window per key (the window starts at a key's first
/// attempt), bounded at `max_keys` (a full limiter drops expired windows, then refuses new keys,
/// failing closed).
#[derive(Debug)]
pub struct MemoryAttemptLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
    max_keys: usize,
}

impl Default for MemoryAttemptLimiter {
    fn default() -> Self {
        MemoryAttemptLimiter {
            windows: Mutex::default(),
            max_keys: 100_000,
        }
    }
}

impl MemoryAttemptLimiter {
    /// A limiter tracking at most 100 000 keys.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl AttemptLimiter for MemoryAttemptLimiter {
    async fn attempt(&self, key: &str, max: u32, window: i64, now: i64) -> Result<bool> {
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if !w.contains_key(key) && w.len() >= self.max_keys {
            w.retain(|_, (start, _)| now < start.saturating_add(window));
            if w.len() >= self.max_keys {
                return Ok(false);
            }
        }
        let entry = w.entry(key.to_owned()).or_insert((now, 0));
        if now >= entry.0.saturating_add(window) {
            *entry = (now, 0);
        }
        if entry.1 >= max {
            return Ok(false);
        }
        entry.1 += 1;
        Ok(true)
    }
}

/// An in-memory [`ClientStore`].
#[derive(Debug, Default)]
pub struct MemoryClientStore {
    clients: RwLock<HashMap<String, Client>>,
}

impl MemoryClientStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `clients`.
    pub fn with_clients(clients: impl IntoIterator<Item = Client>) -> Self {
        let s = Self::default();
        for c in clients {
            s.insert(c);
        }
        s
    }

    /// Adds or replaces a client.
    pub fn insert(&self, client: Client) {
        self.clients
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(client.client_id.clone(), client);
    }
}

#[async_trait]
impl ClientStore for MemoryClientStore {
    async fn client(&self, client_id: &str) -> Result<Option<Client>> {
        Ok(self
            .clients
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(client_id)
            .cloned())
    }
}

#[derive(Debug, Clone)]
struct User {
    subject: String,
    salt: [u8; 16],
    password_hash: Vec<u8>,
    claims: Map<String, Value>,
}

/// PBKDF2-HMAC-SHA256 iterations of [`MemoryUserStore`] (OWASP's 2023 figure is 600 000; the
/// memory store is for tests, examples and small deployments, so the default is lower and
/// [`MemoryUserStore::with_iterations`] raises it).
pub const DEFAULT_PBKDF2_ITERATIONS: usize = 60_000;

/// In-memory users: a [`ClaimsSource`] and a [`PasswordVerifier`] (PBKDF2-HMAC-SHA256, salted).
#[derive(Debug)]
pub struct MemoryUserStore {
    by_username: RwLock<HashMap<String, User>>,
    by_subject: RwLock<HashMap<String, Map<String, Value>>>,
    iterations: usize,
    dummy_salt: [u8; 16],
}

impl Default for MemoryUserStore {
    fn default() -> Self {
        MemoryUserStore {
            by_username: RwLock::default(),
            by_subject: RwLock::default(),
            iterations: DEFAULT_PBKDF2_ITERATIONS,
            dummy_salt: [7; 16],
        }
    }
}

impl MemoryUserStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the PBKDF2 iteration count (for users added afterwards).
    pub fn with_iterations(mut self, iterations: usize) -> Self {
        self.iterations = iterations.max(1);
        self
    }

    /// Adds a user; `subject` is `claims["sub"]` when present, else the username.
    pub fn add_user(
        &self,
        username: &str,
        password: &str,
        claims: Map<String, Value>,
        rng: &dyn Rng,
    ) -> Result<()> {
        let mut salt = [0u8; 16];
        rng.fill(&mut salt)?;
        let password_hash = pbkdf2(
            HashAlg::Sha256,
            password.as_bytes(),
            &salt,
            self.iterations,
            32,
        )
        .map_err(|_| Error::internal("pbkdf2"))?;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or(username)
            .to_owned();
        self.by_subject
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(subject.clone(), claims.clone());
        self.by_username
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                username.to_owned(),
                User {
                    subject,
                    salt,
                    password_hash,
                    claims,
                },
            );
        Ok(())
    }

    /// The subject and claims of `username`.
    pub fn user(&self, username: &str) -> Option<(String, Map<String, Value>)> {
        self.by_username
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(username)
            .map(|u| (u.subject.clone(), u.claims.clone()))
    }
}

/// Lookup by attribute: `username` is the login name, any other name a claim of the user
/// (strings compared exactly).
#[async_trait]
impl UserLookup for MemoryUserStore {
    async fn find_users(&self, attributes: &[(&str, &str)]) -> Result<Vec<String>> {
        let users = self.by_username.read().unwrap_or_else(|e| e.into_inner());
        Ok(users
            .iter()
            .filter(|(username, u)| {
                attributes.iter().all(|(name, value)| match *name {
                    "username" => username.as_str() == *value,
                    _ => u.claims.get(*name).and_then(Value::as_str) == Some(*value),
                })
            })
            .map(|(_, u)| u.subject.clone())
            .collect())
    }
}

#[async_trait]
impl ClaimsSource for MemoryUserStore {
    async fn claims(&self, subject: &str) -> Result<Option<Map<String, Value>>> {
        Ok(self
            .by_subject
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(subject)
            .cloned())
    }
}

#[async_trait]
impl PasswordVerifier for MemoryUserStore {
    async fn verify(&self, username: &str, password: &str) -> Result<Option<String>> {
        let user = self
            .by_username
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(username)
            .cloned();
        // Unknown users cost the same PBKDF2 run as known ones.
        let (salt, expected) = match &user {
            Some(u) => (u.salt, u.password_hash.clone()),
            None => (self.dummy_salt, vec![0u8; 32]),
        };
        let got = pbkdf2(
            HashAlg::Sha256,
            password.as_bytes(),
            &salt,
            self.iterations,
            32,
        )
        .map_err(|_| Error::internal("pbkdf2"))?;
        let ok = ct_eq(&got, &expected);
        Ok(user.filter(|_| ok).map(|u| u.subject))
    }
}

/// A [`MemoryUserStore`] as a connected user store (a directory idforge does not own, say
/// the users of a configuration file): attributes are its claims without `sub`; writes change
/// them in memory.
#[async_trait]
impl ConnectedUserStore for MemoryUserStore {
    async fn user_attributes(&self, subject: &str) -> Result<Option<Map<String, Value>>> {
        Ok(ClaimsSource::claims(self, subject).await?.map(|mut c| {
            c.remove("sub");
            c
        }))
    }

    async fn verify_password(&self, username: &str, password: &str) -> Result<Option<String>> {
        PasswordVerifier::verify(self, username, password).await
    }

    async fn find_subjects(&self, attributes: &[(&str, &str)]) -> Result<Vec<String>> {
        UserLookup::find_users(self, attributes).await
    }

    async fn write_attributes(
        &self,
        subject: &str,
        changes: &Map<String, Value>,
    ) -> Result<Written> {
        if changes.contains_key("sub") {
            return Err(Error::InvalidRequest("sub cannot be written".into()));
        }
        let apply = |claims: &mut Map<String, Value>| {
            for (k, v) in changes {
                if v.is_null() {
                    claims.remove(k);
                } else {
                    claims.insert(k.clone(), v.clone());
                }
            }
        };
        // Both maps under their write locks at once, so readers never see half a write.
        let mut by_subject = self.by_subject.write().unwrap_or_else(|e| e.into_inner());
        let mut by_username = self.by_username.write().unwrap_or_else(|e| e.into_inner());
        let Some(claims) = by_subject.get_mut(subject) else {
            return Ok(Written::UnknownUser);
        };
        apply(claims);
        for u in by_username.values_mut().filter(|u| u.subject == subject) {
            apply(&mut u.claims);
        }
        Ok(Written::Written)
    }
}

/// In-memory [`LocalAttributeStore`]: one map per (store, subject), under one lock.
#[derive(Debug, Default)]
pub struct MemoryLocalAttributeStore {
    users: Mutex<HashMap<(String, String), Map<String, Value>>>,
}

impl MemoryLocalAttributeStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), Map<String, Value>>> {
        self.users.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl LocalAttributeStore for MemoryLocalAttributeStore {
    async fn local_attributes(&self, store: &str, subject: &str) -> Result<Map<String, Value>> {
        // A null is a removal remembered (it keeps `seed_local` off), never a value.
        Ok(self
            .lock()
            .get(&(store.to_owned(), subject.to_owned()))
            .map(|attrs| {
                attrs
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn write_local(
        &self,
        store: &str,
        subject: &str,
        changes: &Map<String, Value>,
    ) -> Result<()> {
        let mut users = self.lock();
        let attrs = users
            .entry((store.to_owned(), subject.to_owned()))
            .or_default();
        for (k, v) in changes {
            // `null` stays as the removal's mark, so a later seed does not set it again.
            attrs.insert(k.clone(), v.clone());
        }
        Ok(())
    }

    async fn seed_local(
        &self,
        store: &str,
        subject: &str,
        values: &Map<String, Value>,
    ) -> Result<usize> {
        let mut users = self.lock();
        let attrs = users
            .entry((store.to_owned(), subject.to_owned()))
            .or_default();
        let mut set = 0;
        for (k, v) in values.iter().filter(|(_, v)| !v.is_null()) {
            if !attrs.contains_key(k) {
                attrs.insert(k.clone(), v.clone());
                set += 1;
            }
        }
        Ok(set)
    }

    async fn find_local(&self, store: &str, attributes: &[(&str, &str)]) -> Result<Vec<String>> {
        if attributes.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: Vec<String> = self
            .lock()
            .iter()
            .filter(|((s, _), attrs)| {
                s == store
                    && attributes
                        .iter()
                        .all(|(n, v)| attrs.get(*n).and_then(Value::as_str) == Some(*v))
            })
            .map(|((_, subject), _)| subject.clone())
            .collect();
        found.sort();
        Ok(found)
    }

    async fn forget_local(&self, store: &str, subject: &str) -> Result<bool> {
        Ok(self
            .lock()
            .remove(&(store.to_owned(), subject.to_owned()))
            .is_some_and(|a| a.values().any(|v| !v.is_null())))
    }
}

#[cfg(all(test, feature = "testkit"))]
mod tests {
    use super::*;
    use crate::testkit::{grant, token, T0};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // The memory store never suspends.
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
        let mut cx = std::task::Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn revoked_entries_do_not_grow_the_queue_without_bound() {
        let store = MemoryGrantStore::new();
        block_on(async {
            for _ in 0..5000 {
                let g = grant(1_000_000);
                store.create_grant(g.clone()).await.unwrap();
                let (_, t) = token(&g, TokenKind::AccessToken, T0, 1_000_000);
                store.insert_token(t).await.unwrap();
                store.revoke_grant(&g.id).await.unwrap();
            }
        });
        let inner = store.lock();
        assert!(inner.grants.is_empty() && inner.tokens.is_empty());
        assert!(inner.queue.len() <= 1024 + 2, "queue {}", inner.queue.len());
    }

    #[test]
    fn compact_entries_give_back_exactly_what_was_stored() {
        let store = MemoryGrantStore::new();
        block_on(async {
            // A grant with every optional part set, and one with none.
            let mut full = grant(1000).with_sid("sid-1").with_contents(
                TokenContents::new()
                    .with_audience("https://rs.example")
                    .with_access_token_ttl(60),
            );
            full.acr = Some("urn:acr:mfa".into());
            full.claims = Some(ClaimsRequest::default());
            let mut bare = Grant::new("bare", "svc", Scopes::from_values(["email"]), T0, T0 + 60);
            bare.subject = None;
            for g in [full, bare] {
                store.create_grant(g.clone()).await.unwrap();
                assert_eq!(store.grant(&g.id, T0).await.unwrap(), Some(g.clone()));
                // A token like its grant, and one with its own client, scopes and code binding.
                let (_, same) = token(&g, TokenKind::AccessToken, T0, 30);
                let (_, mut own) = token(&g, TokenKind::AuthorizationCode, T0, 30);
                own.client_id = "other".into();
                own.scopes = Scopes::from_values(["openid"]);
                own.code = Some(CodeBinding {
                    redirect_uri: "https://rp.example/cb".into(),
                    redirect_uri_sent: true,
                    code_challenge: None,
                });
                for t in [same, own] {
                    store.insert_token(t.clone()).await.unwrap();
                    assert_eq!(
                        store.token(&t.hash, T0).await.unwrap(),
                        Some((t.clone(), g.clone()))
                    );
                    assert_eq!(store.revoke_token(&t.hash).await.unwrap(), Some(t.clone()));
                }
            }
        });
    }

    #[test]
    fn full_stores_say_which_limit() {
        let store = MemoryGrantStore::with_limits(MemoryLimits {
            max_grants: 1,
            max_tokens: 1,
            max_marks: 1,
            ..MemoryLimits::default()
        });
        block_on(async {
            let g = grant(1000);
            store.create_grant(g.clone()).await.unwrap();
            let e = store.create_grant(grant(1000)).await.unwrap_err();
            assert_eq!(e, Error::from(Full::Grants));
            assert_eq!(e.code(), "temporarily_unavailable");
            assert_eq!(e.status(), 503);
            store
                .insert_token(token(&g, TokenKind::AccessToken, T0, 10).1)
                .await
                .unwrap();
            let e = store
                .insert_token(token(&g, TokenKind::AccessToken, T0, 10).1)
                .await
                .unwrap_err();
            assert_eq!(e, Error::from(Full::Tokens));
            assert!(store.mark(&TokenHash::of("a"), T0 + 10, T0).await.unwrap());
            let e = store
                .mark(&TokenHash::of("b"), T0 + 10, T0)
                .await
                .unwrap_err();
            assert_eq!(e, Error::from(Full::Marks));
            // Expired entries are swept to make room.
            assert!(store
                .mark(&TokenHash::of("b"), T0 + 20, T0 + 10)
                .await
                .unwrap());
        });
    }

    #[test]
    fn tokens_ending_with_their_grant_are_swept_with_it() {
        let store = MemoryGrantStore::new();
        block_on(async {
            let g = grant(100);
            store.create_grant(g.clone()).await.unwrap();
            let (_, t) = token(&g, TokenKind::AccessToken, T0, 100);
            store.insert_token(t).await.unwrap();
            // One queue entry (the grant's) covers both.
            assert_eq!(store.lock().queue.len(), 1);
            assert_eq!(store.sweep(T0 + 100).await.unwrap(), 2);
            assert!(store.is_empty());
        });
    }

    #[test]
    fn sweeping_follows_expiry_order() {
        let store = MemoryGrantStore::with_limits(MemoryLimits {
            sweep_every: 1,
            ..MemoryLimits::default()
        });
        block_on(async {
            let short = grant(10);
            let long = grant(1000);
            store.create_grant(short.clone()).await.unwrap();
            store.create_grant(long.clone()).await.unwrap();
            let (_, t) = token(&long, TokenKind::AccessToken, T0, 5);
            store.insert_token(t.clone()).await.unwrap();
            assert_eq!(store.sweep(T0 + 4).await.unwrap(), 0);
            assert_eq!(store.sweep(T0 + 5).await.unwrap(), 1, "the token");
            assert_eq!(store.sweep(T0 + 10).await.unwrap(), 1, "the short grant");
            assert_eq!(store.len(), (1, 0, 0));
            assert!(
                store.lock().grants[long.id.as_str()].tokens.is_empty(),
                "family list pruned"
            );
        });
    }
}

#[derive(Debug, Default)]
struct SessionInner {
    sessions: HashMap<String, SessionRecord>,
    /// `subject` -> its sids, for logout of every session of a user.
    by_subject: HashMap<String, Vec<String>>,
    writes: u64,
}

impl SessionInner {
    fn unindex(&mut self, subject: &str, sid: &str) {
        if let Some(sids) = self.by_subject.get_mut(subject) {
            sids.retain(|s| s != sid);
            if sids.is_empty() {
                self.by_subject.remove(subject);
            }
        }
    }

    fn remove(&mut self, sid: &str) -> Option<SessionRecord> {
        let s = self.sessions.remove(sid)?;
        self.unindex(&s.subject, sid);
        Some(s)
    }

    fn sweep(&mut self, now: i64) -> usize {
        let expired: Vec<String> = self
            .sessions
            .values()
            .filter(|s| !s.is_live(now))
            .map(|s| s.sid.clone())
            .collect();
        for sid in &expired {
            self.remove(sid);
        }
        expired.len()
    }

    /// The live session `sid`, for an update.
    fn live_mut(&mut self, sid: &str, now: i64) -> Option<&mut SessionRecord> {
        self.sessions.get_mut(sid).filter(|s| s.is_live(now))
    }
}

/// An in-memory [`SessionStore`]: one mutex (every method atomic), an index by subject,
/// bounded (`max_sessions`; a full store sweeps, then refuses with
/// `temporarily_unavailable`), expired sessions swept every 1024 creations.
#[derive(Debug)]
pub struct MemorySessionStore {
    inner: Mutex<SessionInner>,
    max_sessions: usize,
    sweep_every: u64,
}

impl Default for MemorySessionStore {
    fn default() -> Self {
        Self::with_capacity(1_000_000)
    }
}

impl MemorySessionStore {
    /// A store holding at most 1 000 000 sessions.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding at most `max_sessions` sessions.
    pub fn with_capacity(max_sessions: usize) -> Self {
        MemorySessionStore {
            inner: Mutex::default(),
            max_sessions,
            sweep_every: 1024,
        }
    }

    fn lock(&self) -> MutexGuard<'_, SessionInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of sessions held (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn create(&self, session: SessionRecord) -> Result<bool> {
        let mut g = self.lock();
        let now = session.last_active;
        if g.sessions.contains_key(&session.sid) {
            return Ok(false);
        }
        if g.sessions.len() >= self.max_sessions {
            g.sweep(now);
            if g.sessions.len() >= self.max_sessions {
                return Err(Error::TemporarilyUnavailable(
                    "the session store is full".into(),
                ));
            }
        }
        g.by_subject
            .entry(session.subject.clone())
            .or_default()
            .push(session.sid.clone());
        g.sessions.insert(session.sid.clone(), session);
        g.writes += 1;
        if g.writes >= self.sweep_every {
            g.writes = 0;
            g.sweep(now);
        }
        Ok(true)
    }

    async fn get(&self, sid: &str, now: i64) -> Result<Option<SessionRecord>> {
        Ok(self
            .lock()
            .sessions
            .get(sid)
            .filter(|s| s.is_live(now))
            .cloned())
    }

    async fn touch(&self, sid: &str, now: i64) -> Result<Option<SessionRecord>> {
        let mut g = self.lock();
        Ok(g.live_mut(sid, now).map(|s| {
            s.touch(now);
            s.clone()
        }))
    }

    async fn reauthenticate(
        &self,
        sid: &str,
        auth_time: i64,
        acr: Option<&str>,
        amr: &[String],
        now: i64,
    ) -> Result<Option<SessionRecord>> {
        let mut g = self.lock();
        Ok(g.live_mut(sid, now).map(|s| {
            s.reauthenticate(auth_time, acr, amr, now);
            s.clone()
        }))
    }

    async fn record_grant(
        &self,
        sid: &str,
        client_id: &str,
        grant_id: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>> {
        let mut g = self.lock();
        Ok(g.live_mut(sid, now).map(|s| {
            s.record_grant(client_id, grant_id, now);
            s.clone()
        }))
    }

    async fn remove(&self, sid: &str) -> Result<Option<SessionRecord>> {
        Ok(self.lock().remove(sid))
    }

    async fn remove_by_subject(&self, subject: &str) -> Result<Vec<SessionRecord>> {
        let mut g = self.lock();
        let sids = g.by_subject.remove(subject).unwrap_or_default();
        Ok(sids
            .iter()
            .filter_map(|sid| g.sessions.remove(sid))
            .collect())
    }

    async fn by_subject(&self, subject: &str, now: i64) -> Result<Vec<SessionRecord>> {
        let g = self.lock();
        let mut out: Vec<SessionRecord> = g
            .by_subject
            .get(subject)
            .into_iter()
            .flatten()
            .filter_map(|sid| g.sessions.get(sid))
            .filter(|s| s.is_live(now))
            .cloned()
            .collect();
        out.sort_by_key(|s| s.created_at);
        Ok(out)
    }

    async fn sweep(&self, now: i64) -> Result<usize> {
        Ok(self.lock().sweep(now))
    }
}
