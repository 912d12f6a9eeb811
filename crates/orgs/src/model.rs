//! Records: organizations (with their materialized ancestor path), residents, shares and
//! sharing rules, roles, applications. Identifiers validate when built or deserialized.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{OrgError, Result};
use crate::settings::OrgSettings;

/// Longest organization id, handle, user id or role name accepted.
pub const MAX_ID_LEN: usize = 64;
/// Longest organization name accepted.
pub const MAX_NAME_LEN: usize = 256;
/// Deepest tree accepted (root at depth 0).
pub const MAX_DEPTH: usize = 64;

/// The implicit root organization's id (and handle).
pub const ROOT: &str = "root";

fn url_safe(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// An organization id: 1..=64 URL-safe characters (`A-Z a-z 0-9 - _ .`), so it can be a path
/// segment of `{issuer}/o/{org_id}` unescaped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgId(String);

impl OrgId {
    /// Validates an id.
    pub fn new(id: impl Into<String>) -> Result<OrgId> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_ID_LEN || !url_safe(&id) || id == "." || id == ".." {
            return Err(OrgError::invalid(
                "organization id",
                "1 to 64 characters of A-Z a-z 0-9 - _ .",
            ));
        }
        Ok(OrgId(id))
    }

    /// The root organization's id.
    pub fn root() -> OrgId {
        OrgId(ROOT.into())
    }

    /// Whether this is the root's id.
    pub fn is_root(&self) -> bool {
        self.0 == ROOT
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgId {
    type Error = OrgError;
    fn try_from(s: String) -> Result<OrgId> {
        OrgId::new(s)
    }
}

impl From<OrgId> for String {
    fn from(id: OrgId) -> String {
        id.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for OrgId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// Checks a handle: 1..=64 characters of `a-z 0-9 -` (lower case, URL-safe), not starting or
/// ending with `-`. Handles are unique across the tree (the store enforces it atomically).
pub fn check_handle(handle: &str) -> Result<()> {
    let ok = !handle.is_empty()
        && handle.len() <= MAX_ID_LEN
        && handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !handle.starts_with('-')
        && !handle.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(OrgError::invalid(
            "handle",
            "1 to 64 characters of a-z 0-9 -, not starting or ending with -",
        ))
    }
}

/// Checks a display name: 1..=256 characters, no control characters.
pub fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(OrgError::invalid(
            "name",
            "1 to 256 characters without control characters",
        ));
    }
    Ok(())
}

/// Checks a user id or role name: 1..=256 bytes, no control characters.
pub fn check_label(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_NAME_LEN || s.chars().any(char::is_control) {
        return Err(OrgError::invalid(
            field,
            "1 to 256 characters without control characters",
        ));
    }
    Ok(())
}

/// Normalizes and checks an email domain (lower case, a dot, DNS label characters).
pub fn normalize_email_domain(domain: &str) -> Result<String> {
    let d = domain.trim().to_ascii_lowercase();
    let labels_ok = d.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    if d.len() > 253 || !d.contains('.') || !labels_ok {
        return Err(OrgError::invalid("email domain", format!("`{domain}`")));
    }
    Ok(d)
}

/// Whether an organization can be used (logged into, switched to, shared into).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgStatus {
    /// Usable.
    #[default]
    Active,
    /// Disabled: it and its whole subtree refuse logins and switches; records are kept.
    Disabled,
}

/// Which issuer an organization's applications get tokens from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssuerMode {
    /// The root organization's issuer (subject to root governance,
    /// [`RootIssuerPolicy`](crate::issuer::RootIssuerPolicy)).
    #[default]
    Root,
    /// The organization is its own issuer: `{issuer}/o/{org_id}`, own keys and discovery.
    #[serde(rename = "self")]
    SelfIssued,
}

/// One organization. `ancestors` is the materialized path (root first, parent last), so
/// ancestor and descendant questions need no walk through the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// Identifier.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// Unique URL-safe handle.
    pub handle: String,
    /// Active or disabled.
    pub status: OrgStatus,
    /// The parent (`None` only for the root).
    pub parent: Option<OrgId>,
    /// Every ancestor, root first, parent last (empty for the root).
    pub ancestors: Vec<OrgId>,
    /// Email domains registered for organization discovery (never for membership).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_domains: Vec<String>,
    /// Issuer of its applications.
    #[serde(default)]
    pub issuer: IssuerMode,
    /// Home-realm identifiers of connected identity providers (`fidp` value → IdP name).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub home_realms: BTreeMap<String, String>,
    /// Settings set here (absent ones inherit).
    #[serde(default)]
    pub settings: OrgSettings,
}

impl Organization {
    /// The root organization.
    pub fn root(name: impl Into<String>) -> Organization {
        Organization {
            id: OrgId::root(),
            name: name.into(),
            handle: ROOT.into(),
            status: OrgStatus::Active,
            parent: None,
            ancestors: Vec::new(),
            email_domains: Vec::new(),
            issuer: IssuerMode::Root,
            home_realms: BTreeMap::new(),
            settings: OrgSettings::default(),
        }
    }

    /// A new active organization `id` below `parent` (its path taken from the parent record).
    pub fn child_of(
        parent: &Organization,
        id: OrgId,
        name: impl Into<String>,
        handle: impl Into<String>,
    ) -> Organization {
        let mut ancestors = parent.ancestors.clone();
        ancestors.push(parent.id.clone());
        Organization {
            id,
            name: name.into(),
            handle: handle.into(),
            status: OrgStatus::Active,
            parent: Some(parent.id.clone()),
            ancestors,
            email_domains: Vec::new(),
            issuer: IssuerMode::Root,
            home_realms: BTreeMap::new(),
            settings: OrgSettings::default(),
        }
    }

    /// Depth in the tree (root 0).
    pub fn depth(&self) -> usize {
        self.ancestors.len()
    }

    /// Whether `ancestor` is a strict ancestor of this organization.
    pub fn is_below(&self, ancestor: &OrgId) -> bool {
        self.ancestors.contains(ancestor)
    }

    /// Whether this organization is `other` or below it.
    pub fn is_within(&self, other: &OrgId) -> bool {
        &self.id == other || self.is_below(other)
    }

    /// Sets the email domains (normalized).
    pub fn with_email_domains<S: AsRef<str>>(
        mut self,
        domains: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let mut out = Vec::new();
        for d in domains {
            let d = normalize_email_domain(d.as_ref())?;
            if !out.contains(&d) {
                out.push(d);
            }
        }
        self.email_domains = out;
        Ok(self)
    }

    /// Sets the issuer mode.
    pub fn with_issuer(mut self, issuer: IssuerMode) -> Self {
        self.issuer = issuer;
        self
    }

    /// Sets the settings.
    pub fn with_settings(mut self, settings: OrgSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Adds a home-realm identifier routing to `idp`.
    pub fn with_home_realm(
        mut self,
        identifier: impl Into<String>,
        idp: impl Into<String>,
    ) -> Self {
        self.home_realms.insert(identifier.into(), idp.into());
        self
    }

    /// Validates the record's own fields (id, name, handle, domains, depth, path shape).
    pub fn validate(&self) -> Result<()> {
        check_name(&self.name)?;
        check_handle(&self.handle)?;
        for d in &self.email_domains {
            if normalize_email_domain(d)? != *d {
                return Err(OrgError::invalid("email domain", "not normalized"));
            }
        }
        if self.ancestors.len() > MAX_DEPTH {
            return Err(OrgError::invalid("parent", "the tree is too deep"));
        }
        if self.parent.as_ref() != self.ancestors.last() {
            return Err(OrgError::invalid(
                "parent",
                "does not end the ancestor path",
            ));
        }
        if self.id.is_root() != self.parent.is_none() {
            return Err(OrgError::invalid("parent", "only the root has no parent"));
        }
        if self.ancestors.contains(&self.id) {
            return Err(OrgError::Cycle {
                org: self.id.clone(),
                parent: self.id.clone(),
            });
        }
        Ok(())
    }
}

/// What kind of identity a resident is: organization claims say `user_org` for users and
/// `agent_org` for agent identities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    /// A person.
    #[default]
    User,
    /// An agent identity (AI agent, workload acting on its own).
    Agent,
}

impl IdentityKind {
    /// The claim naming the identity's resident organization.
    pub fn org_claim(self) -> &'static str {
        match self {
            IdentityKind::User => "user_org",
            IdentityKind::Agent => "agent_org",
        }
    }
}

/// A user's (or agent's) one resident organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Resident {
    /// The resident organization.
    pub org: OrgId,
    /// User or agent.
    pub kind: IdentityKind,
}

impl Resident {
    /// A resident of `org` of `kind`.
    pub fn new(org: OrgId, kind: IdentityKind) -> Self {
        Resident { org, kind }
    }
}

/// How far a sharing rule reaches below its anchor, including organizations created or moved
/// there later (the "future" policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// Every organization below the anchor.
    Descendants,
    /// The anchor's immediate children.
    Children,
}

/// A standing share: the user is shared into every organization `reach` of `anchor`, now and
/// later, with `roles` there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShareRule {
    /// The organization the rule hangs off (not itself covered).
    pub anchor: OrgId,
    /// How far below.
    pub reach: Reach,
    /// Roles in each covered organization.
    pub roles: Vec<String>,
}

impl ShareRule {
    /// A rule.
    pub fn new(anchor: OrgId, reach: Reach, roles: Vec<String>) -> Self {
        ShareRule {
            anchor,
            reach,
            roles,
        }
    }

    /// Whether the rule covers `org` in the tree as it is now.
    pub fn covers(&self, org: &Organization) -> bool {
        match self.reach {
            Reach::Descendants => org.is_below(&self.anchor),
            Reach::Children => org.parent.as_ref() == Some(&self.anchor),
        }
    }
}

/// Everything shared of one user: explicit shares (organization → roles) and standing rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserShares {
    /// Shares into named organizations, with the roles there.
    pub explicit: BTreeMap<OrgId, Vec<String>>,
    /// Standing rules (future policies).
    pub rules: Vec<ShareRule>,
    /// Organizations unshared one by one although a rule covers them.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub excluded: BTreeSet<OrgId>,
}

impl UserShares {
    /// Whether nothing is shared.
    pub fn is_empty(&self) -> bool {
        self.explicit.is_empty() && self.rules.is_empty()
    }
}

/// One atomic change to a user's shares: removals first, then additions (an explicit share
/// added for an organization already shared replaces its roles; a rule added for an anchor
/// and reach already present replaces it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShareChange {
    /// Explicit shares to remove.
    pub remove_explicit: BTreeSet<OrgId>,
    /// Rules to remove, by anchor (any reach).
    pub remove_rules_at: BTreeSet<OrgId>,
    /// Remove everything first (unshare from all).
    pub remove_all: bool,
    /// Explicit shares to add (organization → roles).
    pub add_explicit: BTreeMap<OrgId, Vec<String>>,
    /// Rules to add.
    pub add_rules: Vec<ShareRule>,
    /// Organizations to exclude from the rules (unshared one by one).
    pub add_excluded: BTreeSet<OrgId>,
}

impl ShareChange {
    /// No change.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == ShareChange::default()
    }

    /// Composes `next` after this change, so applying the result equals applying both in
    /// order.
    pub fn then(&mut self, next: ShareChange) {
        if next.remove_all {
            *self = next;
            return;
        }
        for o in next.remove_explicit {
            self.add_explicit.remove(&o);
            self.remove_explicit.insert(o);
        }
        for o in next.remove_rules_at {
            self.add_rules.retain(|r| r.anchor != o);
            self.remove_rules_at.insert(o);
        }
        for (o, roles) in next.add_explicit {
            self.add_excluded.remove(&o);
            self.add_explicit.insert(o, roles);
        }
        for rule in next.add_rules {
            self.add_rules
                .retain(|r| !(r.anchor == rule.anchor && r.reach == rule.reach));
            self.add_rules.push(rule);
        }
        for o in next.add_excluded {
            self.add_explicit.remove(&o);
            self.add_excluded.insert(o);
        }
    }

    /// Applies the change to `shares` (what every store does, atomically).
    pub fn apply_to(&self, shares: &mut UserShares) {
        if self.remove_all {
            *shares = UserShares::default();
        }
        for o in &self.remove_explicit {
            shares.explicit.remove(o);
        }
        shares
            .rules
            .retain(|r| !self.remove_rules_at.contains(&r.anchor));
        for (o, roles) in &self.add_explicit {
            shares.excluded.remove(o);
            shares.explicit.insert(o.clone(), roles.clone());
        }
        shares.excluded.extend(self.add_excluded.iter().cloned());
        for rule in &self.add_rules {
            shares
                .rules
                .retain(|r| !(r.anchor == rule.anchor && r.reach == rule.reach));
            shares.rules.push(rule.clone());
        }
    }
}

/// A role defined in one organization: its name and the scopes (permissions) it grants there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Role {
    /// Name, unique in its organization.
    pub name: String,
    /// Scopes it grants.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl Role {
    /// A role granting `scopes`.
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        Role {
            name: name.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }
}

/// Which organizations an application is shared with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharedWith {
    /// Only its own organization.
    #[default]
    None,
    /// The listed organizations (no implied descendants).
    Selected(BTreeSet<OrgId>),
    /// Every organization below its own, existing and future.
    All,
}

/// An application (OAuth client) registered in an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Application {
    /// Its OAuth `client_id`.
    pub client_id: String,
    /// The organization it is registered in.
    pub organization: OrgId,
    /// Organizations it is shared with.
    #[serde(default)]
    pub shared_with: SharedWith,
    /// Outbound provisioning connectors configured on the application.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbound_connectors: Vec<String>,
}

impl Application {
    /// An application of `organization`, shared with nobody.
    pub fn new(client_id: impl Into<String>, organization: OrgId) -> Self {
        Application {
            client_id: client_id.into(),
            organization,
            shared_with: SharedWith::None,
            outbound_connectors: Vec::new(),
        }
    }

    /// Sets whom it is shared with.
    pub fn with_shared_with(mut self, shared_with: SharedWith) -> Self {
        self.shared_with = shared_with;
        self
    }

    /// Sets its outbound provisioning connectors.
    pub fn with_outbound_connectors<S: Into<String>>(
        mut self,
        connectors: impl IntoIterator<Item = S>,
    ) -> Self {
        self.outbound_connectors = connectors.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the application may be used in `org`: its own organization, a listed one, or
    /// (shared with all) any organization below its own.
    pub fn usable_in(&self, org: &Organization) -> bool {
        if org.id == self.organization {
            return true;
        }
        match &self.shared_with {
            SharedWith::None => false,
            SharedWith::Selected(list) => list.contains(&org.id),
            SharedWith::All => org.is_below(&self.organization),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_handles_are_url_safe() {
        assert!(OrgId::new("acme-eu_1.x").is_ok());
        for bad in ["", "a/b", "a b", "..", "é", &"x".repeat(65)] {
            assert!(OrgId::new(bad).is_err(), "{bad}");
        }
        assert!(check_handle("acme-eu").is_ok());
        for bad in ["", "Acme", "-a", "a-", "a_b", "a.b"] {
            assert!(check_handle(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<OrgId>("\"a/b\"").is_err());
        assert_eq!(normalize_email_domain(" Acme.COM ").unwrap(), "acme.com");
        assert!(normalize_email_domain("localhost").is_err());
        assert!(normalize_email_domain("a..b").is_err());
    }

    #[test]
    fn path_rules() {
        let root = Organization::root("Root");
        let a = Organization::child_of(&root, OrgId::new("a").unwrap(), "A", "a");
        let b = Organization::child_of(&a, OrgId::new("b").unwrap(), "B", "b");
        assert_eq!(b.ancestors, [OrgId::root(), a.id.clone()]);
        assert!(b.is_below(&OrgId::root()) && b.is_below(&a.id) && !b.is_below(&b.id));
        assert!(b.is_within(&b.id));
        b.validate().unwrap();
        let mut bad = b.clone();
        bad.parent = Some(OrgId::root());
        assert!(bad.validate().is_err());
    }

    #[test]
    fn share_change_applies_removals_then_additions() {
        let a = OrgId::new("a").unwrap();
        let mut s = UserShares::default();
        let mut c = ShareChange::new();
        c.add_explicit.insert(a.clone(), vec!["r".into()]);
        c.add_rules
            .push(ShareRule::new(a.clone(), Reach::Children, vec![]));
        c.apply_to(&mut s);
        let mut c2 = ShareChange::new();
        c2.remove_explicit.insert(a.clone());
        c2.add_rules
            .push(ShareRule::new(a.clone(), Reach::Children, vec!["x".into()]));
        c2.apply_to(&mut s);
        assert!(s.explicit.is_empty());
        assert_eq!(s.rules.len(), 1);
        assert_eq!(s.rules[0].roles, ["x"]);
    }
}
