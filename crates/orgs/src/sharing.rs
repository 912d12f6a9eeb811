//! User sharing (WSO2's v2 User Sharing API): a user belongs to one resident organization and
//! is shared into organizations below it by policy, with roles per target organization.
//!
//! "Existing" policies share into the organizations that exist when the request is made
//! (explicit shares, kept if those organizations move within the resident's subtree later);
//! "future" policies are standing rules evaluated against the tree whenever membership is
//! asked, so they cover organizations created (or moved) below their anchor afterwards.

use serde::{Deserialize, Serialize};

use crate::error::{OrgError, Result};
use crate::hierarchy;
use crate::model::{OrgId, Organization, Reach, Resident, ShareChange, ShareRule, UserShares};
use crate::ports::{OrganizationStore, RoleStore, SharingStore};

/// A sharing policy (WSO2 v2 User Sharing API `policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SharePolicy {
    /// Every organization existing now below the anchor.
    AllExistingOrgsOnly,
    /// Every organization below the anchor, now and later.
    AllExistingAndFutureOrgs,
    /// The anchor's children existing now.
    ImmediateExistingOrgsOnly,
    /// The anchor's children, now and later.
    ImmediateExistingAndFutureOrgs,
    /// The selected organization only.
    SelectedOrgOnly,
    /// The selected organization and every organization existing now below it.
    SelectedOrgWithAllExistingChildrenOnly,
    /// The selected organization and every organization below it, now and later.
    SelectedOrgWithAllExistingAndFutureChildren,
    /// The selected organization and its children existing now.
    SelectedOrgWithExistingImmediateChildrenOnly,
    /// The selected organization and its children, now and later.
    SelectedOrgWithExistingImmediateAndFutureChildren,
    /// Stop sharing into the organization (explicit share and rules anchored there).
    NoSharing,
}

impl SharePolicy {
    /// Every policy.
    pub const ALL: [SharePolicy; 10] = [
        SharePolicy::AllExistingOrgsOnly,
        SharePolicy::AllExistingAndFutureOrgs,
        SharePolicy::ImmediateExistingOrgsOnly,
        SharePolicy::ImmediateExistingAndFutureOrgs,
        SharePolicy::SelectedOrgOnly,
        SharePolicy::SelectedOrgWithAllExistingChildrenOnly,
        SharePolicy::SelectedOrgWithAllExistingAndFutureChildren,
        SharePolicy::SelectedOrgWithExistingImmediateChildrenOnly,
        SharePolicy::SelectedOrgWithExistingImmediateAndFutureChildren,
        SharePolicy::NoSharing,
    ];

    /// Whether the named organization itself is shared into.
    pub fn includes_selected(self) -> bool {
        matches!(
            self,
            SharePolicy::SelectedOrgOnly
                | SharePolicy::SelectedOrgWithAllExistingChildrenOnly
                | SharePolicy::SelectedOrgWithAllExistingAndFutureChildren
                | SharePolicy::SelectedOrgWithExistingImmediateChildrenOnly
                | SharePolicy::SelectedOrgWithExistingImmediateAndFutureChildren
        )
    }

    /// Whether it is one of the `ALL_*`/`IMMEDIATE_*` policies, relative to an anchor that is
    /// not itself shared into (the user's resident organization in share-with-all).
    pub fn is_general(self) -> bool {
        matches!(
            self,
            SharePolicy::AllExistingOrgsOnly
                | SharePolicy::AllExistingAndFutureOrgs
                | SharePolicy::ImmediateExistingOrgsOnly
                | SharePolicy::ImmediateExistingAndFutureOrgs
        )
    }

    /// The organizations below the anchor shared into as they exist now (snapshot).
    pub fn existing_reach(self) -> Option<Reach> {
        match self {
            SharePolicy::AllExistingOrgsOnly
            | SharePolicy::SelectedOrgWithAllExistingChildrenOnly => Some(Reach::Descendants),
            SharePolicy::ImmediateExistingOrgsOnly
            | SharePolicy::SelectedOrgWithExistingImmediateChildrenOnly => Some(Reach::Children),
            _ => None,
        }
    }

    /// The standing rule below the anchor (future organizations included).
    pub fn future_reach(self) -> Option<Reach> {
        match self {
            SharePolicy::AllExistingAndFutureOrgs
            | SharePolicy::SelectedOrgWithAllExistingAndFutureChildren => Some(Reach::Descendants),
            SharePolicy::ImmediateExistingAndFutureOrgs
            | SharePolicy::SelectedOrgWithExistingImmediateAndFutureChildren => {
                Some(Reach::Children)
            }
            _ => None,
        }
    }
}

/// One organization entry of a share: the organization (the anchor of the policy), the
/// policy, and the roles the user gets in every organization it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrgShare {
    /// The selected organization (or the anchor of an `ALL_*`/`IMMEDIATE_*` policy).
    pub org: OrgId,
    /// The policy.
    pub policy: SharePolicy,
    /// Roles in each organization reached (empty: `roleAssignment.mode = NONE`).
    pub roles: Vec<String>,
}

impl OrgShare {
    /// An entry.
    pub fn new(org: OrgId, policy: SharePolicy, roles: Vec<String>) -> Self {
        OrgShare { org, policy, roles }
    }
}

/// Plans one share entry (pure): `resident` is the user's, `anchor` the entry's organization,
/// `existing` the organizations below the anchor now (only read for "existing" policies).
///
/// Rules: sharing reaches only below the resident organization (a selected organization must
/// be strictly below it; a general anchor may be the resident organization itself); a
/// disabled anchor is refused; a new policy at an anchor replaces the rules there.
pub fn plan(
    resident: &Resident,
    anchor: &Organization,
    entry: &OrgShare,
    existing: &[Organization],
) -> Result<ShareChange> {
    let mut change = ShareChange::new();
    if entry.policy == SharePolicy::NoSharing {
        change.remove_explicit.insert(anchor.id.clone());
        change.remove_rules_at.insert(anchor.id.clone());
        return Ok(change);
    }
    let inside = if entry.policy.includes_selected() {
        anchor.is_below(&resident.org)
    } else {
        anchor.is_within(&resident.org)
    };
    if !inside {
        return Err(OrgError::NotDescendant {
            org: anchor.id.clone(),
            of: resident.org.clone(),
        });
    }
    if anchor.status == crate::model::OrgStatus::Disabled {
        return Err(OrgError::Disabled(anchor.id.clone()));
    }
    change.remove_rules_at.insert(anchor.id.clone());
    if entry.policy.includes_selected() {
        change
            .add_explicit
            .insert(anchor.id.clone(), entry.roles.clone());
    }
    if let Some(reach) = entry.policy.existing_reach() {
        for o in existing {
            let reached = match reach {
                Reach::Descendants => o.is_below(&anchor.id),
                Reach::Children => o.parent.as_ref() == Some(&anchor.id),
            };
            if reached {
                change
                    .add_explicit
                    .insert(o.id.clone(), entry.roles.clone());
            }
        }
    }
    if let Some(reach) = entry.policy.future_reach() {
        change.add_rules.push(ShareRule::new(
            anchor.id.clone(),
            reach,
            entry.roles.clone(),
        ));
    }
    Ok(change)
}

/// A user's relation to one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// It is the user's resident organization.
    Resident,
    /// The user is shared into it with these roles.
    Shared {
        /// Roles from the share (explicit share first, else the union of covering rules).
        roles: Vec<String>,
    },
    /// Neither: not a member (an email-domain match never changes this).
    NotMember,
}

impl Membership {
    /// Whether resident or shared.
    pub fn is_member(&self) -> bool {
        !matches!(self, Membership::NotMember)
    }
}

/// The user's membership in `org` (pure): resident; else an explicit share; else, unless
/// unshared one by one, any standing rule covering `org` in the tree as it is now. Shares
/// count only strictly below the resident organization.
pub fn membership(resident: &Resident, shares: &UserShares, org: &Organization) -> Membership {
    if resident.org == org.id {
        return Membership::Resident;
    }
    if !org.is_below(&resident.org) {
        return Membership::NotMember;
    }
    if let Some(roles) = shares.explicit.get(&org.id) {
        return Membership::Shared {
            roles: roles.clone(),
        };
    }
    if shares.excluded.contains(&org.id) {
        return Membership::NotMember;
    }
    let mut covered = false;
    let mut roles: Vec<String> = Vec::new();
    for rule in shares.rules.iter().filter(|r| r.covers(org)) {
        covered = true;
        for r in &rule.roles {
            if !roles.contains(r) {
                roles.push(r.clone());
            }
        }
    }
    if covered {
        Membership::Shared { roles }
    } else {
        Membership::NotMember
    }
}

async fn resident_of(sharing: &dyn SharingStore, user: &str) -> Result<Resident> {
    sharing
        .resident(user)
        .await?
        .ok_or_else(|| OrgError::UnknownUser(user.to_owned()))
}

async fn org(orgs: &dyn OrganizationStore, id: &OrgId) -> Result<Organization> {
    orgs.get(id)
        .await?
        .ok_or_else(|| OrgError::UnknownOrganization(id.to_string()))
}

/// The user's membership in organization `id` (three store reads, no tree walk).
pub async fn resolve(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    user: &str,
    id: &OrgId,
) -> Result<Membership> {
    let target = org(orgs, id).await?;
    let resident = resident_of(sharing, user).await?;
    if resident.org == target.id {
        return Ok(Membership::Resident);
    }
    let shares = sharing.shares(user).await?;
    Ok(membership(&resident, &shares, &target))
}

/// The user's roles in `org`: assigned ones for a resident, the share's for a shared user.
pub async fn roles_in(
    roles: &dyn RoleStore,
    membership: &Membership,
    org: &OrgId,
    user: &str,
) -> Result<Vec<String>> {
    match membership {
        Membership::Resident => roles.assigned(org, user).await,
        Membership::Shared { roles } => Ok(roles.clone()),
        Membership::NotMember => Ok(Vec::new()),
    }
}

/// Shares `user` by `entries` (applied in order, stored in one atomic change).
pub async fn share(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    user: &str,
    entries: &[OrgShare],
) -> Result<UserShares> {
    let resident = resident_of(sharing, user).await?;
    let mut change = ShareChange::new();
    for entry in entries {
        let anchor = org(orgs, &entry.org).await?;
        let existing = match entry.policy.existing_reach() {
            Some(Reach::Descendants) => orgs.descendants(&anchor.id).await?,
            Some(Reach::Children) => orgs.children(&anchor.id).await?,
            None => Vec::new(),
        };
        if entry.policy != SharePolicy::NoSharing {
            // A disabled ancestor disables the anchor too.
            hierarchy::require_active(orgs, &anchor).await?;
        }
        change.then(plan(&resident, &anchor, entry, &existing)?);
    }
    sharing.apply(user, change).await
}

/// Shares `user` with every organization below their resident organization by a general
/// policy (WSO2 `share-with-all`); `NO_SHARING` removes every share.
pub async fn share_with_all(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    user: &str,
    policy: SharePolicy,
    roles: Vec<String>,
) -> Result<UserShares> {
    if policy == SharePolicy::NoSharing {
        let mut change = ShareChange::new();
        change.remove_all = true;
        return sharing.apply(user, change).await;
    }
    if !policy.is_general() {
        return Err(OrgError::invalid(
            "policy",
            "share-with-all takes ALL_* or IMMEDIATE_* policies or NO_SHARING",
        ));
    }
    let resident = resident_of(sharing, user).await?;
    let anchor = org(orgs, &resident.org).await?;
    hierarchy::require_active(orgs, &anchor).await?;
    let existing = match policy.existing_reach() {
        Some(Reach::Descendants) => orgs.descendants(&anchor.id).await?,
        Some(Reach::Children) => orgs.children(&anchor.id).await?,
        None => Vec::new(),
    };
    // Replaces whatever was shared before, in the same atomic change.
    let mut change = ShareChange::new();
    change.remove_all = true;
    let entry = OrgShare::new(anchor.id.clone(), policy, roles);
    change.then(plan(&resident, &anchor, &entry, &existing)?);
    sharing.apply(user, change).await
}

/// Unshares `user` from the organizations `ids`: their explicit shares and rules anchored at
/// them go, and they are excluded from rules anchored higher up.
pub async fn unshare(sharing: &dyn SharingStore, user: &str, ids: &[OrgId]) -> Result<UserShares> {
    resident_of(sharing, user).await?;
    let mut change = ShareChange::new();
    for id in ids {
        change.remove_explicit.insert(id.clone());
        change.remove_rules_at.insert(id.clone());
        change.add_excluded.insert(id.clone());
    }
    sharing.apply(user, change).await
}

/// How a PATCH operation changes the roles of a shared user in one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleOp {
    /// Add the listed roles.
    Add,
    /// Remove the listed roles.
    Remove,
    /// Replace the roles by the listed ones.
    Replace,
}

/// Changes the roles of `user` in `org`, where they must be shared (not resident: a
/// resident's roles are assigned through the [`RoleStore`]). The result is pinned as an
/// explicit share of that organization.
pub async fn update_roles(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    user: &str,
    org_id: &OrgId,
    op: RoleOp,
    listed: &[String],
) -> Result<Vec<String>> {
    let current = match resolve(orgs, sharing, user, org_id).await? {
        Membership::Shared { roles } => roles,
        Membership::Resident => {
            return Err(OrgError::invalid(
                "organization",
                "the user is resident there: assign resident roles through the RoleStore",
            ))
        }
        Membership::NotMember => {
            return Err(OrgError::NotMember {
                user: user.to_owned(),
                org: org_id.clone(),
            })
        }
    };
    let roles = match op {
        RoleOp::Replace => dedup(listed.to_vec()),
        RoleOp::Add => dedup(current.into_iter().chain(listed.iter().cloned()).collect()),
        RoleOp::Remove => current
            .into_iter()
            .filter(|r| !listed.contains(r))
            .collect(),
    };
    let mut change = ShareChange::new();
    change.add_explicit.insert(org_id.clone(), roles.clone());
    sharing.apply(user, change).await?;
    Ok(roles)
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for r in v {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}
