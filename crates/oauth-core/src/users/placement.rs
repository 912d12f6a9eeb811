//! Where each user attribute lives (WSO2 IS 7.3 "attribute storage location"): in idforge's
//! own database ([`Storage::Local`]) or in the connected user store the user belongs to
//! ([`Storage::Connected`], the host's LDAP directory, SCIM service or own tables).
//!
//! Model and pure logic only: [`AttributePlacement`] (one store's choice, validated when
//! built), [`PlacementPolicy`] (a global choice and per-store overrides), and the functions the
//! composite [`FederatedUsers`](crate::users::FederatedUsers) applies to every write
//! ([`partition`]), read ([`merge`]) and lookup ([`split_query`]).
//!
//! Keycloak's LDAP mappers call the local copy "imported" and the modes `READ_ONLY` /
//! `WRITABLE` / `UNSYNCED`; here a locally placed attribute is always the local store's (the
//! connected store's value of it is never read), which is Keycloak's `UNSYNCED` for that
//! attribute, and every other attribute is the connected store's, `WRITABLE` or `READ_ONLY`
//! as that store answers ([`Written`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// The subject identifier (OIDC Core §2 `sub`): a user's identity in its connected store,
/// never an attribute that can be placed or written.
pub const SUBJECT: &str = "sub";
/// The login name, which [`UserLookup`](crate::ports::UserLookup) treats as a pseudo
/// attribute: it always lives with the password, in the connected store.
pub const USERNAME: &str = "username";
/// Longest attribute name accepted in a placement.
pub const MAX_NAME_BYTES: usize = 256;

/// Where one attribute lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Storage {
    /// idforge's own database ([`LocalAttributeStore`](crate::ports::LocalAttributeStore)).
    Local,
    /// The connected user store the user belongs to
    /// ([`ConnectedUserStore`](crate::ports::ConnectedUserStore)).
    Connected,
}

/// What a connected store did with a write of attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Written {
    /// Every change applied.
    Written,
    /// The store takes no writes (Keycloak's `READ_ONLY` federation mode); nothing changed.
    ReadOnly,
    /// The store has no such user; nothing changed.
    UnknownUser,
}

/// A placement or policy that cannot be used. Every variant names the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlacementError {
    /// An attribute name that is empty, too long, or has whitespace or control characters.
    #[error("attribute {0:?}: not a valid attribute name")]
    InvalidName(String),
    /// The same attribute listed twice.
    #[error("attribute {0}: listed twice")]
    Duplicate(String),
    /// `sub` or `username`: they identify the user in its connected store.
    #[error("attribute {0}: identifies the user and always stays in the connected store")]
    Reserved(String),
    /// A per-store placement for a store that is not connected.
    #[error("user store {0}: not a connected store")]
    UnknownStore(String),
    /// Two connected stores with one name, or two placements for one store.
    #[error("user store {0}: configured twice")]
    DuplicateStore(String),
    /// A user store name that is empty or too long.
    #[error("user store {0:?}: not a valid store name")]
    InvalidStoreName(String),
}

/// Which attributes of one connected store's users are kept locally; every other attribute
/// stays in the connected store. The default keeps everything in the connected store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttributePlacement {
    local: BTreeSet<String>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl AttributePlacement {
    /// Everything in the connected store.
    pub fn connected_only() -> Self {
        Self::default()
    }

    /// The attributes `local` kept locally. Refuses invalid names, duplicates, and the
    /// reserved [`SUBJECT`] and [`USERNAME`].
    pub fn with_local<I, S>(local: I) -> Result<Self, PlacementError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for name in local {
            let name = name.as_ref();
            if !valid_name(name) {
                return Err(PlacementError::InvalidName(name.to_owned()));
            }
            if name == SUBJECT || name == USERNAME {
                return Err(PlacementError::Reserved(name.to_owned()));
            }
            if !set.insert(name.to_owned()) {
                return Err(PlacementError::Duplicate(name.to_owned()));
            }
        }
        Ok(AttributePlacement { local: set })
    }

    /// Where `name` lives (`sub` and `username` always in the connected store).
    pub fn storage_of(&self, name: &str) -> Storage {
        if self.local.contains(name) {
            Storage::Local
        } else {
            Storage::Connected
        }
    }

    /// The locally kept attributes, sorted.
    pub fn local(&self) -> impl Iterator<Item = &str> {
        self.local.iter().map(String::as_str)
    }

    /// Whether nothing is kept locally.
    pub fn is_connected_only(&self) -> bool {
        self.local.is_empty()
    }
}

/// The placement of every connected store: a global one, and overrides per store (a store
/// named here uses its own list instead of the global one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlacementPolicy {
    global: AttributePlacement,
    per_store: BTreeMap<String, AttributePlacement>,
}

/// A connected store's name: non-empty, at most 64 bytes, no whitespace or control characters
/// (it keys the local attributes of its users).
pub fn check_store_name(name: &str) -> Result<(), PlacementError> {
    if name.is_empty()
        || name.len() > 64
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(PlacementError::InvalidStoreName(name.to_owned()));
    }
    Ok(())
}

impl PlacementPolicy {
    /// `global` for every store.
    pub fn global(global: AttributePlacement) -> Self {
        PlacementPolicy {
            global,
            per_store: BTreeMap::new(),
        }
    }

    /// Adds `store`'s own placement (refused if `store` already has one).
    pub fn with_store(
        mut self,
        store: &str,
        placement: AttributePlacement,
    ) -> Result<Self, PlacementError> {
        check_store_name(store)?;
        if self.per_store.contains_key(store) {
            return Err(PlacementError::DuplicateStore(store.to_owned()));
        }
        self.per_store.insert(store.to_owned(), placement);
        Ok(self)
    }

    /// The placement of `store`'s users.
    pub fn for_store(&self, store: &str) -> &AttributePlacement {
        self.per_store.get(store).unwrap_or(&self.global)
    }

    /// Checks that every per-store placement names one of `connected` (done when the
    /// composite is built, so a typo in a store name is an error rather than a silent global).
    pub fn check_stores<'a>(
        &self,
        connected: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), PlacementError> {
        let known: BTreeSet<&str> = connected.into_iter().collect();
        match self.per_store.keys().find(|s| !known.contains(s.as_str())) {
            Some(s) => Err(PlacementError::UnknownStore(s.clone())),
            None => Ok(()),
        }
    }
}

/// One write split by where each attribute lives. A `null` value removes the attribute.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Partition {
    /// Changes for the local store.
    pub local: Map<String, Value>,
    /// Changes for the connected store.
    pub connected: Map<String, Value>,
}

/// Splits `changes` (attribute → new value, `null` to remove) by `placement`. `sub` and
/// `username` cannot be written this way ([`PlacementError::Reserved`]); an invalid name is
/// [`PlacementError::InvalidName`].
pub fn partition(
    placement: &AttributePlacement,
    changes: &Map<String, Value>,
) -> Result<Partition, PlacementError> {
    let mut out = Partition::default();
    for (name, value) in changes {
        if name == SUBJECT || name == USERNAME {
            return Err(PlacementError::Reserved(name.clone()));
        }
        if !valid_name(name) {
            return Err(PlacementError::InvalidName(name.clone()));
        }
        let side = match placement.storage_of(name) {
            Storage::Local => &mut out.local,
            Storage::Connected => &mut out.connected,
        };
        side.insert(name.clone(), value.clone());
    }
    Ok(out)
}

/// One user as oauth-core sees it: the connected store's attributes that are not placed
/// locally, plus the local store's attributes that are. A locally placed attribute comes
/// only from the local store (absent there: absent), so the two never disagree; a local
/// value of an attribute no longer placed locally is ignored. `sub` comes from neither
/// (the caller knows the subject).
pub fn merge(
    placement: &AttributePlacement,
    connected: Map<String, Value>,
    local: Map<String, Value>,
) -> Map<String, Value> {
    let mut out: Map<String, Value> = connected
        .into_iter()
        .filter(|(k, _)| k != SUBJECT && placement.storage_of(k) == Storage::Connected)
        .collect();
    for (k, v) in local {
        if placement.storage_of(&k) == Storage::Local && !v.is_null() {
            out.insert(k, v);
        }
    }
    out
}

/// Attribute (name, value) pairs of a lookup.
pub type Pairs<'a> = Vec<(&'a str, &'a str)>;

/// A lookup's attribute pairs split by where each lives: the connected store answers the
/// first list, the local store the second. `username` (the login name) is the connected
/// store's.
pub fn split_query<'a>(
    placement: &AttributePlacement,
    attributes: &[(&'a str, &'a str)],
) -> (Pairs<'a>, Pairs<'a>) {
    attributes
        .iter()
        .copied()
        .partition(|(name, _)| placement.storage_of(name) == Storage::Connected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn placement_is_validated() {
        assert_eq!(
            AttributePlacement::with_local(["nickname", "nickname"]),
            Err(PlacementError::Duplicate("nickname".into()))
        );
        assert_eq!(
            AttributePlacement::with_local(["sub"]),
            Err(PlacementError::Reserved("sub".into()))
        );
        assert_eq!(
            AttributePlacement::with_local(["username"]),
            Err(PlacementError::Reserved("username".into()))
        );
        for bad in ["", "a b", "x\u{0}", &"n".repeat(MAX_NAME_BYTES + 1)] {
            assert_eq!(
                AttributePlacement::with_local([bad]),
                Err(PlacementError::InvalidName(bad.into()))
            );
        }
        let p = AttributePlacement::with_local(["nickname", "locale"]).unwrap();
        assert_eq!(p.local().collect::<Vec<_>>(), ["locale", "nickname"]);
        assert_eq!(p.storage_of("nickname"), Storage::Local);
        assert_eq!(p.storage_of("email"), Storage::Connected);
        assert_eq!(p.storage_of("sub"), Storage::Connected);
        assert!(AttributePlacement::connected_only().is_connected_only());
    }

    #[test]
    fn per_store_placement_overrides_the_global_one() {
        let global = AttributePlacement::with_local(["nickname"]).unwrap();
        let ldap = AttributePlacement::with_local(["locale"]).unwrap();
        let policy = PlacementPolicy::global(global.clone())
            .with_store("ldap", ldap.clone())
            .unwrap();
        assert_eq!(policy.for_store("ldap"), &ldap);
        assert_eq!(policy.for_store("scim"), &global);
        assert_eq!(
            policy.clone().with_store("ldap", ldap.clone()),
            Err(PlacementError::DuplicateStore("ldap".into()))
        );
        assert_eq!(
            policy.clone().with_store("", ldap),
            Err(PlacementError::InvalidStoreName("".into()))
        );
        assert!(policy.check_stores(["ldap", "scim"]).is_ok());
        assert_eq!(
            policy.check_stores(["scim"]),
            Err(PlacementError::UnknownStore("ldap".into()))
        );
    }

    #[test]
    fn a_write_goes_where_each_attribute_lives() {
        let p = AttributePlacement::with_local(["nickname"]).unwrap();
        let split = partition(
            &p,
            &map(json!({"nickname": "Al", "email": "a@example.com", "phone_number": null})),
        )
        .unwrap();
        assert_eq!(split.local, map(json!({"nickname": "Al"})));
        assert_eq!(
            split.connected,
            map(json!({"email": "a@example.com", "phone_number": null}))
        );
        assert_eq!(
            partition(&p, &map(json!({"sub": "x"}))),
            Err(PlacementError::Reserved("sub".into()))
        );
        assert_eq!(
            partition(&p, &map(json!({"username": "x"}))),
            Err(PlacementError::Reserved("username".into()))
        );
        assert_eq!(
            partition(&p, &map(json!({"a b": 1}))),
            Err(PlacementError::InvalidName("a b".into()))
        );
        assert_eq!(partition(&p, &Map::new()).unwrap(), Partition::default());
    }

    #[test]
    fn a_read_takes_each_attribute_from_where_it_lives() {
        let p = AttributePlacement::with_local(["nickname", "locale"]).unwrap();
        let merged = merge(
            &p,
            // The connected store's stale nickname and its sub are not released.
            map(json!({"sub": "alice", "email": "a@example.com", "nickname": "old"})),
            // A local email (placed connected) is ignored; a null local value is absent.
            map(json!({"nickname": "Al", "email": "evil@example.com", "locale": null})),
        );
        assert_eq!(
            merged,
            map(json!({"email": "a@example.com", "nickname": "Al"}))
        );
        // Nothing local: the locally placed attribute is absent, not the connected value.
        let merged = merge(&p, map(json!({"nickname": "old", "name": "A"})), Map::new());
        assert_eq!(merged, map(json!({"name": "A"})));
        // Connected only: the connected store's attributes pass through.
        let merged = merge(
            &AttributePlacement::connected_only(),
            map(json!({"nickname": "old"})),
            map(json!({"nickname": "Al"})),
        );
        assert_eq!(merged, map(json!({"nickname": "old"})));
    }

    #[test]
    fn a_lookup_asks_each_side_for_its_attributes() {
        let p = AttributePlacement::with_local(["employee_id"]).unwrap();
        let (connected, local) = split_query(
            &p,
            &[
                ("username", "alice"),
                ("employee_id", "42"),
                ("email", "a@x"),
            ],
        );
        assert_eq!(connected, [("username", "alice"), ("email", "a@x")]);
        assert_eq!(local, [("employee_id", "42")]);
    }
}
