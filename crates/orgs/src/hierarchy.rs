//! The organization tree: create, rename, move (never under itself), disable, delete (empty
//! only, or cascading by policy), and ancestor/descendant questions answered from the
//! materialized path. Pure rules first (unit-tested without a store), then thin async
//! operations over [`OrganizationStore`] (and [`SharingStore`]/[`RoleStore`] for deletion).

use idforge_oauth_core::Rng;

use crate::error::{OrgError, Result};
use crate::model::{
    check_handle, check_name, IssuerMode, OrgId, OrgStatus, Organization, MAX_DEPTH,
};
use crate::ports::{OrganizationStore, RoleStore, SharingStore};
use crate::settings::{self, EffectiveSettings, OrgSettings};

/// What creating an organization takes (`POST /api/organizations`: `{id?, name, handle,
/// parent?}`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewOrganization {
    /// The id; generated when absent.
    pub id: Option<OrgId>,
    /// Display name.
    pub name: String,
    /// Unique handle.
    pub handle: String,
    /// The parent; absent means the root.
    pub parent: Option<OrgId>,
    /// Email domains for discovery.
    pub email_domains: Vec<String>,
    /// Issuer of its applications.
    pub issuer: IssuerMode,
    /// Settings set on it.
    pub settings: OrgSettings,
}

impl NewOrganization {
    /// An organization named `name` with `handle`, below the root.
    pub fn new(name: impl Into<String>, handle: impl Into<String>) -> Self {
        NewOrganization {
            id: None,
            name: name.into(),
            handle: handle.into(),
            parent: None,
            email_domains: Vec::new(),
            issuer: IssuerMode::Root,
            settings: OrgSettings::default(),
        }
    }

    /// Sets the id.
    pub fn with_id(mut self, id: OrgId) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the parent.
    pub fn with_parent(mut self, parent: OrgId) -> Self {
        self.parent = Some(parent);
        self
    }

    /// Sets the email domains.
    pub fn with_email_domains<S: Into<String>>(mut self, d: impl IntoIterator<Item = S>) -> Self {
        self.email_domains = d.into_iter().map(Into::into).collect();
        self
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
}

/// How [`delete`] treats an organization that still has sub-organizations or residents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeletePolicy {
    /// Refuse (`NotEmpty`) unless it has no sub-organizations and no resident users.
    #[default]
    OnlyIfEmpty,
    /// Delete the whole subtree, its residents' records, shares into it and its roles.
    Cascade,
}

/// The record of a new organization below `parent` (pure: validates and builds the path).
/// A disabled parent takes no new children.
pub fn new_record(parent: &Organization, id: OrgId, new: &NewOrganization) -> Result<Organization> {
    check_name(&new.name)?;
    check_handle(&new.handle)?;
    if id.is_root() {
        return Err(OrgError::DuplicateId(id));
    }
    if parent.status == OrgStatus::Disabled {
        return Err(OrgError::Disabled(parent.id.clone()));
    }
    if parent.depth() + 1 > MAX_DEPTH {
        return Err(OrgError::invalid("parent", "the tree is too deep"));
    }
    let org = Organization::child_of(parent, id, new.name.clone(), new.handle.clone())
        .with_email_domains(&new.email_domains)?
        .with_issuer(new.issuer)
        .with_settings(new.settings.clone());
    org.validate()?;
    Ok(org)
}

/// Checks a move of `org` under `new_parent` (pure): never the root, never under itself or a
/// descendant (which would make a cycle), never deeper than [`MAX_DEPTH`] for the subtree.
pub fn check_move(
    org: &Organization,
    new_parent: &Organization,
    subtree_height: usize,
) -> Result<()> {
    if org.id.is_root() {
        return Err(OrgError::Root("moved"));
    }
    if new_parent.is_within(&org.id) {
        return Err(OrgError::Cycle {
            org: org.id.clone(),
            parent: new_parent.id.clone(),
        });
    }
    if new_parent.depth() + 1 + subtree_height > MAX_DEPTH {
        return Err(OrgError::invalid("parent", "the tree would be too deep"));
    }
    Ok(())
}

/// A generated organization id: 128 random bits, base64url (22 characters).
pub fn generate_id(rng: &dyn Rng) -> Result<OrgId> {
    let mut b = [0u8; 16];
    rng.fill(&mut b)
        .map_err(|_| OrgError::Store("random source unavailable".into()))?;
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = String::with_capacity(22);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for byte in b {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            s.push(A[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        s.push(A[((acc << (6 - bits)) & 63) as usize] as char);
    }
    OrgId::new(s)
}

async fn require(store: &dyn OrganizationStore, id: &OrgId) -> Result<Organization> {
    store
        .get(id)
        .await?
        .ok_or_else(|| OrgError::UnknownOrganization(id.to_string()))
}

/// Creates an organization. Sharing rules and applications shared with all reach it at once
/// (they are evaluated against the tree when asked, never copied).
pub async fn create(
    store: &dyn OrganizationStore,
    rng: &dyn Rng,
    new: &NewOrganization,
) -> Result<Organization> {
    let parent_id = new.parent.clone().unwrap_or_else(OrgId::root);
    let parent = require(store, &parent_id).await?;
    let id = match &new.id {
        Some(id) => id.clone(),
        None => generate_id(rng)?,
    };
    let org = new_record(&parent, id, new)?;
    store.insert(org.clone()).await?;
    Ok(org)
}

/// Renames an organization (and optionally changes its handle, unique).
pub async fn rename(
    store: &dyn OrganizationStore,
    id: &OrgId,
    name: &str,
    handle: Option<&str>,
) -> Result<Organization> {
    check_name(name)?;
    let mut org = require(store, id).await?;
    org.name = name.to_owned();
    if let Some(h) = handle {
        check_handle(h)?;
        if id.is_root() && h != org.handle {
            return Err(OrgError::Root("given another handle"));
        }
        org.handle = h.to_owned();
    }
    store.update(org.clone()).await?;
    Ok(org)
}

/// Moves an organization (and its subtree) under `new_parent`. The pure check runs first;
/// the store re-checks atomically, so two concurrent moves cannot make a cycle.
pub async fn move_to(
    store: &dyn OrganizationStore,
    id: &OrgId,
    new_parent: &OrgId,
) -> Result<Organization> {
    let org = require(store, id).await?;
    let parent = require(store, new_parent).await?;
    let below = store.descendants(id).await?;
    let height = below
        .iter()
        .map(|d| d.depth() - org.depth())
        .max()
        .unwrap_or(0);
    check_move(&org, &parent, height)?;
    store.move_subtree(id, new_parent).await
}

/// Disables or enables an organization. The root cannot be disabled.
pub async fn set_status(
    store: &dyn OrganizationStore,
    id: &OrgId,
    status: OrgStatus,
) -> Result<Organization> {
    if id.is_root() && status == OrgStatus::Disabled {
        return Err(OrgError::Root("disabled"));
    }
    store.set_status(id, status).await?;
    require(store, id).await
}

/// Makes an organization its own issuer (`{issuer}/o/{org_id}`) or has it use the root's.
/// The root is always the root issuer. Its applications follow at once: a host serving
/// issuers by the store's current record (as `idforge serve` does) starts or stops serving
/// them at the organization's own issuer.
pub async fn set_issuer(
    store: &dyn OrganizationStore,
    id: &OrgId,
    issuer: IssuerMode,
) -> Result<Organization> {
    let mut org = require(store, id).await?;
    if id.is_root() && issuer != IssuerMode::Root {
        return Err(OrgError::Root("made an organization issuer"));
    }
    org.issuer = issuer;
    store.update(org.clone()).await?;
    Ok(org)
}

/// Deletes an organization under `policy`; returns the deleted ids and the users who were
/// resident there (the host deletes or moves their accounts).
pub async fn delete(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    roles: &dyn RoleStore,
    id: &OrgId,
    policy: DeletePolicy,
) -> Result<(Vec<OrgId>, Vec<String>)> {
    if id.is_root() {
        return Err(OrgError::Root("deleted"));
    }
    require(orgs, id).await?;
    let cascade = policy == DeletePolicy::Cascade;
    if !cascade && !sharing.residents_in(id, 1).await?.is_empty() {
        return Err(OrgError::NotEmpty(id.clone()));
    }
    let deleted = orgs.delete(id, cascade).await?;
    let users = sharing.forget_organizations(&deleted).await?;
    roles.forget_organizations(&deleted).await?;
    Ok((deleted, users))
}

/// The ancestors of `org`, root first, in one store call.
pub async fn ancestors(
    store: &dyn OrganizationStore,
    org: &Organization,
) -> Result<Vec<Organization>> {
    let mut found = store.get_many(&org.ancestors).await?;
    found.sort_by_key(|o| o.depth());
    Ok(found)
}

/// Whether `org` can be used: it and every ancestor are active. Returns the first disabled
/// one as `Disabled`.
pub fn check_active(org: &Organization, ancestors: &[Organization]) -> Result<()> {
    if org.status == OrgStatus::Disabled {
        return Err(OrgError::Disabled(org.id.clone()));
    }
    if let Some(a) = ancestors.iter().find(|a| a.status == OrgStatus::Disabled) {
        return Err(OrgError::Disabled(a.id.clone()));
    }
    Ok(())
}

/// [`check_active`] reading the ancestors from the store (one call).
pub async fn require_active(store: &dyn OrganizationStore, org: &Organization) -> Result<()> {
    if org.status == OrgStatus::Disabled {
        return Err(OrgError::Disabled(org.id.clone()));
    }
    if org.ancestors.is_empty() {
        return Ok(());
    }
    check_active(org, &store.get_many(&org.ancestors).await?)
}

/// The settings in force in `id` (one store call for the ancestors).
pub async fn effective_settings(
    store: &dyn OrganizationStore,
    id: &OrgId,
) -> Result<EffectiveSettings> {
    let org = require(store, id).await?;
    let ancestors = store.get_many(&org.ancestors).await?;
    Ok(settings::effective(&org, &ancestors))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> OrgId {
        OrgId::new(s).unwrap()
    }

    #[test]
    fn new_records_take_the_parent_path_and_validate() {
        let root = Organization::root("Root");
        let a = new_record(&root, id("a"), &NewOrganization::new("A", "a")).unwrap();
        let b = new_record(&a, id("b"), &NewOrganization::new("B", "b")).unwrap();
        assert_eq!(b.ancestors, [id("root"), id("a")]);
        assert!(new_record(&root, id("x"), &NewOrganization::new("", "x")).is_err());
        assert!(new_record(&root, id("x"), &NewOrganization::new("X", "X!")).is_err());
        assert_eq!(
            new_record(&root, id("root"), &NewOrganization::new("X", "x")),
            Err(OrgError::DuplicateId(id("root")))
        );
        let mut off = a.clone();
        off.status = OrgStatus::Disabled;
        assert_eq!(
            new_record(&off, id("c"), &NewOrganization::new("C", "c")),
            Err(OrgError::Disabled(id("a")))
        );
        let bad = NewOrganization::new("X", "x").with_email_domains(["not a domain"]);
        assert!(new_record(&root, id("x"), &bad).is_err());
    }

    #[test]
    fn moves_never_make_cycles() {
        let root = Organization::root("Root");
        let a = Organization::child_of(&root, id("a"), "A", "a");
        let b = Organization::child_of(&a, id("b"), "B", "b");
        assert_eq!(check_move(&root, &a, 0), Err(OrgError::Root("moved")));
        assert!(matches!(check_move(&a, &b, 1), Err(OrgError::Cycle { .. })));
        assert!(matches!(check_move(&a, &a, 1), Err(OrgError::Cycle { .. })));
        assert!(check_move(&b, &root, 0).is_ok());
        let mut deep = root.clone();
        deep.ancestors = vec![id("root"); MAX_DEPTH - 1];
        assert!(check_move(&b, &deep, 1).is_err());
    }

    #[test]
    fn disabled_ancestors_disable_the_subtree() {
        let root = Organization::root("Root");
        let mut a = Organization::child_of(&root, id("a"), "A", "a");
        let b = Organization::child_of(&a, id("b"), "B", "b");
        assert!(check_active(&b, &[root.clone(), a.clone()]).is_ok());
        a.status = OrgStatus::Disabled;
        assert_eq!(
            check_active(&b, &[root, a]),
            Err(OrgError::Disabled(id("a")))
        );
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let rng = idforge_oauth_core::OsRng::new();
        let a = generate_id(&rng).unwrap();
        let b = generate_id(&rng).unwrap();
        assert_eq!(a.as_str().len(), 22);
        assert_ne!(a, b);
    }
}
