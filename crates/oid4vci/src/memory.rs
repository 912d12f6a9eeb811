//! In-memory implementations of the storage ports: concurrency-safe (one mutex each),
//! bounded, with expiry sweeping.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use idforge_oauth_core::{Error, TokenHash};
use serde_json::Value;

use crate::ports::{IssuanceRecord, IssuanceStore, OfferRecord, Result, TemplateStore};
use crate::template::CredentialTemplate;

fn full() -> Error {
    Error::TemporarilyUnavailable("issuance store full".into())
}

/// An in-memory [`TemplateStore`] that validates templates when they are put.
#[derive(Debug, Default)]
pub struct MemoryTemplateStore {
    inner: Mutex<BTreeMap<String, CredentialTemplate>>,
}

impl MemoryTemplateStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with `templates` (each validated).
    pub fn with_templates(
        templates: impl IntoIterator<Item = CredentialTemplate>,
    ) -> std::result::Result<Self, crate::TemplateError> {
        let s = Self::new();
        for t in templates {
            t.validate()?;
            s.lock().insert(t.id.clone(), t);
        }
        Ok(s)
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, CredentialTemplate>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl TemplateStore for MemoryTemplateStore {
    async fn templates(&self) -> Result<Vec<CredentialTemplate>> {
        Ok(self.lock().values().cloned().collect())
    }
    async fn template(&self, id: &str) -> Result<Option<CredentialTemplate>> {
        Ok(self.lock().get(id).cloned())
    }
    async fn put(&self, template: CredentialTemplate) -> Result<()> {
        template
            .validate()
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        self.lock().insert(template.id.clone(), template);
        Ok(())
    }
    async fn delete(&self, id: &str) -> Result<bool> {
        Ok(self.lock().remove(id).is_some())
    }
}

/// Bounds of [`MemoryIssuanceStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryLimits {
    /// Most offers, nonces, notification ids and transactions, each.
    pub max_entries: usize,
    /// Most status lists.
    pub max_lists: usize,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits {
            max_entries: 100_000,
            max_lists: 64,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    offers: Vec<OfferRecord>,
    nonces: HashMap<TokenHash, i64>,
    notifications: HashMap<TokenHash, IssuanceRecord>,
    transactions: HashMap<TokenHash, IssuanceRecord>,
    /// Per list: values of allocated entries (index = position).
    lists: Vec<Vec<u8>>,
    list_size: u64,
}

impl Inner {
    fn sweep(&mut self, now: i64) -> usize {
        let before = self.offers.len()
            + self.nonces.len()
            + self.notifications.len()
            + self.transactions.len();
        self.offers.retain(|o| o.expires_at > now);
        self.nonces.retain(|_, e| *e > now);
        self.notifications.retain(|_, r| r.expires_at > now);
        self.transactions.retain(|_, r| r.expires_at > now);
        before
            - (self.offers.len()
                + self.nonces.len()
                + self.notifications.len()
                + self.transactions.len())
    }
}

/// An in-memory [`IssuanceStore`].
#[derive(Debug, Default)]
pub struct MemoryIssuanceStore {
    inner: Mutex<Inner>,
    limits: MemoryLimits,
}

impl MemoryIssuanceStore {
    /// An empty store with default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `limits`.
    pub fn with_limits(limits: MemoryLimits) -> Self {
        MemoryIssuanceStore {
            inner: Mutex::default(),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl IssuanceStore for MemoryIssuanceStore {
    async fn insert_offer(&self, offer: OfferRecord) -> Result<()> {
        let mut g = self.lock();
        if g.offers.len() >= self.limits.max_entries {
            return Err(full());
        }
        g.offers.push(offer);
        Ok(())
    }
    async fn offer_by_code(&self, code: &TokenHash, now: i64) -> Result<Option<OfferRecord>> {
        Ok(self
            .lock()
            .offers
            .iter()
            .find(|o| o.expires_at > now && o.pre_authorized_code.as_ref() == Some(code))
            .cloned())
    }
    async fn offer_by_reference(&self, reference: &TokenHash, now: i64) -> Result<Option<Value>> {
        Ok(self.lock().offers.iter().find_map(|o| match &o.reference {
            Some((h, v)) if h == reference && o.expires_at > now => Some(v.clone()),
            _ => None,
        }))
    }
    async fn offer_by_issuer_state(
        &self,
        state: &TokenHash,
        now: i64,
    ) -> Result<Option<OfferRecord>> {
        Ok(self
            .lock()
            .offers
            .iter()
            .find(|o| o.expires_at > now && o.issuer_state.as_ref() == Some(state))
            .cloned())
    }
    async fn take_issuer_state(&self, state: &TokenHash, now: i64) -> Result<Option<OfferRecord>> {
        let mut g = self.lock();
        let Some(i) = g
            .offers
            .iter()
            .position(|o| o.issuer_state.as_ref() == Some(state))
        else {
            return Ok(None);
        };
        let o = g.offers.swap_remove(i);
        Ok((o.expires_at > now).then_some(o))
    }
    async fn insert_nonce(&self, nonce: TokenHash, now: i64, expires_at: i64) -> Result<()> {
        let mut g = self.lock();
        if g.nonces.len() >= self.limits.max_entries {
            g.nonces.retain(|_, e| *e > now);
            if g.nonces.len() >= self.limits.max_entries {
                return Err(full());
            }
        }
        g.nonces.insert(nonce, expires_at);
        Ok(())
    }
    async fn consume_nonce(&self, nonce: &TokenHash, now: i64) -> Result<bool> {
        Ok(matches!(self.lock().nonces.remove(nonce), Some(e) if e > now))
    }
    async fn insert_notification(&self, record: IssuanceRecord) -> Result<()> {
        let mut g = self.lock();
        if g.notifications.len() >= self.limits.max_entries {
            return Err(full());
        }
        g.notifications.insert(record.hash, record);
        Ok(())
    }
    async fn notification(&self, hash: &TokenHash, now: i64) -> Result<Option<IssuanceRecord>> {
        Ok(self
            .lock()
            .notifications
            .get(hash)
            .filter(|r| r.expires_at > now)
            .cloned())
    }
    async fn insert_transaction(&self, record: IssuanceRecord) -> Result<()> {
        let mut g = self.lock();
        if g.transactions.len() >= self.limits.max_entries {
            return Err(full());
        }
        g.transactions.insert(record.hash, record);
        Ok(())
    }
    async fn transaction(&self, hash: &TokenHash, now: i64) -> Result<Option<IssuanceRecord>> {
        Ok(self
            .lock()
            .transactions
            .get(hash)
            .filter(|r| r.expires_at > now)
            .cloned())
    }
    async fn take_transaction(&self, hash: &TokenHash, now: i64) -> Result<Option<IssuanceRecord>> {
        Ok(self
            .lock()
            .transactions
            .remove(hash)
            .filter(|r| r.expires_at > now))
    }
    async fn allocate_status(&self, list_size: u64) -> Result<(u64, u64)> {
        let mut g = self.lock();
        if g.list_size != 0 && g.list_size != list_size {
            return Err(Error::ServerError("status list size changed".into()));
        }
        g.list_size = list_size;
        let need_new = g.lists.last().is_none_or(|l| l.len() as u64 >= list_size);
        if need_new {
            if g.lists.len() >= self.limits.max_lists {
                return Err(full());
            }
            g.lists.push(Vec::new());
        }
        let list = g.lists.len() as u64;
        let Some(l) = g.lists.last_mut() else {
            return Err(full());
        };
        l.push(0);
        Ok((list, l.len() as u64 - 1))
    }
    async fn set_status(&self, list: u64, index: u64, value: u8) -> Result<bool> {
        let mut g = self.lock();
        let slot = list
            .checked_sub(1)
            .and_then(|i| g.lists.get_mut(i as usize))
            .and_then(|l| l.get_mut(index as usize));
        Ok(match slot {
            Some(v) => {
                *v = value;
                true
            }
            None => false,
        })
    }
    async fn status_list(&self, list: u64) -> Result<Option<Vec<u8>>> {
        let g = self.lock();
        let size = g.list_size as usize;
        Ok(list
            .checked_sub(1)
            .and_then(|i| g.lists.get(i as usize))
            .map(|l| {
                let mut v = l.clone();
                v.resize(size.max(l.len()), 0);
                v
            }))
    }
    async fn sweep(&self, now: i64) -> Result<usize> {
        Ok(self.lock().sweep(now))
    }
}
