//! [`FederatedUsers`]: connected user stores, the local attributes of their users, and
//! optional local-only users, seen by oauth-core as one user store.
//!
//! Rules (each a thin wrapper over [`placement`](super::placement)'s pure functions):
//! - A user lives in exactly one place: the first connected store (in the order they were
//!   connected) that knows its subject, else the local users. A subject a later store (or the
//!   local users) also has is shadowed there: claims, passwords and lookups all resolve it to
//!   the first, so [`ClaimsSource`] and [`PasswordVerifier`] always see the same user.
//! - Reads merge the connected store's attributes with the local ones by placement
//!   ([`merge`]); writes are split by placement ([`partition`]) and the connected part is
//!   written first, so a connected store refusing it changes nothing.
//! - Passwords stay where the user lives: in its connected store, or with the local-only user.
//!   Every store is asked while none accepts, so an unknown username costs as much as a wrong
//!   password.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::placement::{
    check_store_name, merge, partition, split_query, AttributePlacement, PlacementError,
    PlacementPolicy, Written,
};
use crate::error::{Error, Result};
use crate::ports::{
    ClaimsSource, ConnectedUserStore, LocalAttributeStore, PasswordVerifier, UserLookup,
};

/// Users idforge owns outright (the `users` table of `idforge-store-sql`, oauth-core's
/// `MemoryUserStore`): claims, password and lookup in one place.
pub trait LocalUsers: ClaimsSource + PasswordVerifier + UserLookup {}
impl<T: ClaimsSource + PasswordVerifier + UserLookup> LocalUsers for T {}

struct Connected {
    name: String,
    store: Arc<dyn ConnectedUserStore>,
    placement: AttributePlacement,
}

/// Builds a [`FederatedUsers`]; [`build`](Self::build) validates the stores and placements.
pub struct FederatedUsersBuilder {
    attributes: Arc<dyn LocalAttributeStore>,
    stores: Vec<(String, Arc<dyn ConnectedUserStore>)>,
    policy: PlacementPolicy,
    local_users: Option<Arc<dyn LocalUsers>>,
}

impl FederatedUsersBuilder {
    /// Connects `store` under `name` (which keys its users' local attributes: keep it stable).
    /// Stores are consulted in the order they are connected.
    pub fn connect(mut self, name: &str, store: Arc<dyn ConnectedUserStore>) -> Self {
        self.stores.push((name.to_owned(), store));
        self
    }

    /// The placement of every store (default: everything in the connected stores).
    pub fn policy(mut self, policy: PlacementPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Users that live only in idforge (consulted after every connected store).
    pub fn local_users(mut self, users: Arc<dyn LocalUsers>) -> Self {
        self.local_users = Some(users);
        self
    }

    /// Checks store names (valid, unique) and that every per-store placement names a
    /// connected store.
    pub fn build(self) -> std::result::Result<FederatedUsers, PlacementError> {
        let mut seen = BTreeSet::new();
        for (name, _) in &self.stores {
            check_store_name(name)?;
            if !seen.insert(name.as_str()) {
                return Err(PlacementError::DuplicateStore(name.clone()));
            }
        }
        self.policy
            .check_stores(self.stores.iter().map(|(n, _)| n.as_str()))?;
        let stores = self
            .stores
            .into_iter()
            .map(|(name, store)| Connected {
                placement: self.policy.for_store(&name).clone(),
                name,
                store,
            })
            .collect();
        Ok(FederatedUsers {
            stores,
            attributes: self.attributes,
            local_users: self.local_users,
        })
    }
}

/// Connected user stores plus idforge's local attributes (and optional local-only users) as
/// one [`ClaimsSource`], [`PasswordVerifier`] and [`UserLookup`]; see the module docs for the
/// rules.
pub struct FederatedUsers {
    stores: Vec<Connected>,
    attributes: Arc<dyn LocalAttributeStore>,
    local_users: Option<Arc<dyn LocalUsers>>,
}

impl std::fmt::Debug for FederatedUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederatedUsers")
            .field(
                "stores",
                &self.stores.iter().map(|s| &s.name).collect::<Vec<_>>(),
            )
            .field("local_users", &self.local_users.is_some())
            .finish_non_exhaustive()
    }
}

/// Where a subject lives.
enum Home {
    /// In connected store `index`, with that store's attributes.
    Connected(usize, Map<String, Value>),
    /// Nowhere connected.
    NotConnected,
}

impl FederatedUsers {
    /// A builder over `attributes` (the local side).
    pub fn builder(attributes: Arc<dyn LocalAttributeStore>) -> FederatedUsersBuilder {
        FederatedUsersBuilder {
            attributes,
            stores: Vec::new(),
            policy: PlacementPolicy::default(),
            local_users: None,
        }
    }

    /// The connected stores' names, in consultation order.
    pub fn store_names(&self) -> impl Iterator<Item = &str> {
        self.stores.iter().map(|s| s.name.as_str())
    }

    /// The first connected store among `self.stores[..upto]` that knows `subject`.
    async fn home(&self, subject: &str, upto: usize) -> Result<Home> {
        for (i, s) in self.stores.iter().enumerate().take(upto) {
            if let Some(attrs) = s.store.user_attributes(subject).await? {
                return Ok(Home::Connected(i, attrs));
            }
        }
        Ok(Home::NotConnected)
    }

    /// The name of the connected store `subject` lives in, if any.
    pub async fn store_of(&self, subject: &str) -> Result<Option<&str>> {
        Ok(match self.home(subject, self.stores.len()).await? {
            Home::Connected(i, _) => Some(self.stores[i].name.as_str()),
            Home::NotConnected => None,
        })
    }

    /// Writes `changes` (attribute → value, `null` removes) where each attribute lives: the
    /// connected store's part first (a refusal there, [`Written::ReadOnly`], changes
    /// nothing), then the local part. [`Written::UnknownUser`] for a subject no connected
    /// store has (local-only users are changed through their own store's API). `sub` and
    /// `username` are refused with `invalid_request`.
    pub async fn write_attributes(
        &self,
        subject: &str,
        changes: &Map<String, Value>,
    ) -> Result<Written> {
        let Home::Connected(i, _) = self.home(subject, self.stores.len()).await? else {
            return Ok(Written::UnknownUser);
        };
        let s = &self.stores[i];
        let split =
            partition(&s.placement, changes).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        if !split.connected.is_empty() {
            match s.store.write_attributes(subject, &split.connected).await? {
                Written::Written => {}
                refused => return Ok(refused),
            }
        }
        if !split.local.is_empty() {
            self.attributes
                .write_local(&s.name, subject, &split.local)
                .await?;
        }
        Ok(Written::Written)
    }

    /// Imports initial values of the locally placed attributes of `subject` from `values`
    /// (say the connected store's or a configuration file's): each is set only if there is no
    /// local value yet and it was never removed, so later local writes and removals win over
    /// the source. Returns how many were set (0 for a subject no connected store has).
    pub async fn import(&self, subject: &str, values: &Map<String, Value>) -> Result<usize> {
        let Home::Connected(i, _) = self.home(subject, self.stores.len()).await? else {
            return Ok(0);
        };
        let s = &self.stores[i];
        let local = partition(&s.placement, values)
            .map_err(|e| Error::InvalidRequest(e.to_string()))?
            .local;
        if local.is_empty() {
            return Ok(0);
        }
        self.attributes.seed_local(&s.name, subject, &local).await
    }

    /// The subjects of connected store `i` matching `attributes`, each living there.
    async fn find_in(&self, i: usize, attributes: &[(&str, &str)]) -> Result<Vec<String>> {
        let s = &self.stores[i];
        let (connected, local) = split_query(&s.placement, attributes);
        let mut found = if local.is_empty() {
            s.store.find_subjects(&connected).await?
        } else {
            let mut found = self.attributes.find_local(&s.name, &local).await?;
            if !connected.is_empty() {
                let there: BTreeSet<String> = s
                    .store
                    .find_subjects(&connected)
                    .await?
                    .into_iter()
                    .collect();
                found.retain(|f| there.contains(f));
            }
            found
        };
        let mut out = Vec::with_capacity(found.len());
        for subject in found.drain(..) {
            // Local attributes may outlive the user; an earlier store shadows the subject.
            if matches!(self.home(&subject, i + 1).await?, Home::Connected(j, _) if j == i) {
                out.push(subject);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl ClaimsSource for FederatedUsers {
    async fn claims(&self, subject: &str) -> Result<Option<Map<String, Value>>> {
        match self.home(subject, self.stores.len()).await? {
            Home::Connected(i, connected) => {
                let s = &self.stores[i];
                let local = if s.placement.is_connected_only() {
                    Map::new()
                } else {
                    self.attributes.local_attributes(&s.name, subject).await?
                };
                Ok(Some(merge(&s.placement, connected, local)))
            }
            Home::NotConnected => match &self.local_users {
                Some(users) => users.claims(subject).await,
                None => Ok(None),
            },
        }
    }
}

#[async_trait]
impl PasswordVerifier for FederatedUsers {
    async fn verify(&self, username: &str, password: &str) -> Result<Option<String>> {
        for (i, s) in self.stores.iter().enumerate() {
            if let Some(subject) = s.store.verify_password(username, password).await? {
                // The password is right; the subject must live here, not in an earlier store.
                return Ok(match self.home(&subject, i + 1).await? {
                    Home::Connected(j, _) if j == i => Some(subject),
                    _ => None,
                });
            }
        }
        let Some(users) = &self.local_users else {
            return Ok(None);
        };
        match users.verify(username, password).await? {
            Some(subject) => Ok(match self.home(&subject, self.stores.len()).await? {
                Home::NotConnected => Some(subject),
                Home::Connected(..) => None,
            }),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl UserLookup for FederatedUsers {
    async fn find_users(&self, attributes: &[(&str, &str)]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for i in 0..self.stores.len() {
            for s in self.find_in(i, attributes).await? {
                if seen.insert(s.clone()) {
                    out.push(s);
                }
            }
        }
        if let Some(users) = &self.local_users {
            for s in users.find_users(attributes).await? {
                if !seen.contains(&s)
                    && matches!(self.home(&s, self.stores.len()).await?, Home::NotConnected)
                {
                    seen.insert(s.clone());
                    out.push(s);
                }
            }
        }
        Ok(out)
    }
}
