//! The storage ports a host implements (memory implementations under the `memory` feature,
//! conformance suites under `testkit`). Invariants that concurrent callers could break are the
//! store's to enforce atomically: unique ids, handles and email domains; no cycle on move;
//! delete only when empty.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{
    Application, OrgId, OrgStatus, Organization, Resident, Role, ShareChange, UserShares,
};

/// Organizations and their tree. Every record carries its materialized ancestor path, which
/// the store keeps right when a subtree moves.
#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Inserts a new organization. Atomically refuses a taken id (`DuplicateId`), handle
    /// (`DuplicateHandle`) or email domain (`DuplicateEmailDomain`), and a parent that is
    /// missing (`UnknownOrganization`) or whose path differs from `org.ancestors` (`Invalid`).
    async fn insert(&self, org: Organization) -> Result<()>;

    /// The organization `id`.
    async fn get(&self, id: &OrgId) -> Result<Option<Organization>>;

    /// Several organizations in one call (missing ones are left out), e.g. all ancestors.
    async fn get_many(&self, ids: &[OrgId]) -> Result<Vec<Organization>>;

    /// The organization with this handle.
    async fn by_handle(&self, handle: &str) -> Result<Option<Organization>>;

    /// Organizations with exactly this name (names need not be unique).
    async fn by_name(&self, name: &str) -> Result<Vec<Organization>>;

    /// The organization that registered this (normalized) email domain.
    async fn by_email_domain(&self, domain: &str) -> Result<Option<Organization>>;

    /// The immediate children of `id`.
    async fn children(&self, id: &OrgId) -> Result<Vec<Organization>>;

    /// Every organization below `id`, in one call (not one level per call).
    async fn descendants(&self, id: &OrgId) -> Result<Vec<Organization>>;

    /// Replaces the mutable attributes of `org` (name, handle, email domains, issuer,
    /// home realms, settings); id, parent, path and status are ignored. Enforces uniqueness of
    /// handle and email domains atomically.
    async fn update(&self, org: Organization) -> Result<()>;

    /// Sets the status of `id`.
    async fn set_status(&self, id: &OrgId, status: OrgStatus) -> Result<()>;

    /// Moves `id` under `new_parent`, rewriting the ancestor paths of its whole subtree.
    /// Atomically refuses a move under itself or a descendant (`Cycle`) and a missing
    /// organization or parent; returns the moved record.
    async fn move_subtree(&self, id: &OrgId, new_parent: &OrgId) -> Result<Organization>;

    /// Deletes `id` if it has no children (`NotEmpty` otherwise), or with `cascade` its whole
    /// subtree; returns the ids deleted.
    async fn delete(&self, id: &OrgId, cascade: bool) -> Result<Vec<OrgId>>;
}

/// Residency, user sharing and application registration.
#[async_trait]
pub trait SharingStore: Send + Sync {
    /// Sets the user's resident organization (one per user).
    async fn set_resident(&self, user: &str, resident: Resident) -> Result<()>;

    /// The user's resident organization.
    async fn resident(&self, user: &str) -> Result<Option<Resident>>;

    /// Users resident in `org` (at most `limit`).
    async fn residents_in(&self, org: &OrgId, limit: usize) -> Result<Vec<String>>;

    /// Removes a user (residency and shares).
    async fn remove_user(&self, user: &str) -> Result<()>;

    /// Everything shared of `user`.
    async fn shares(&self, user: &str) -> Result<UserShares>;

    /// Applies `change` to the user's shares atomically (removals, then additions).
    async fn apply(&self, user: &str, change: ShareChange) -> Result<UserShares>;

    /// Removes every trace of deleted organizations: residents (returned), explicit shares
    /// into them, rules anchored at them, applications registered in them.
    async fn forget_organizations(&self, orgs: &[OrgId]) -> Result<Vec<String>>;

    /// Registers or replaces an application.
    async fn put_application(&self, app: Application) -> Result<()>;

    /// The application with this client id.
    async fn application(&self, client_id: &str) -> Result<Option<Application>>;
}

/// Roles defined per organization and role assignments of resident users.
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// Defines (or replaces) a role in `org`.
    async fn define_role(&self, org: &OrgId, role: Role) -> Result<()>;

    /// The roles of `org` named in `names` (unknown names left out).
    async fn roles(&self, org: &OrgId, names: &[String]) -> Result<Vec<Role>>;

    /// Every role of `org`.
    async fn all_roles(&self, org: &OrgId) -> Result<Vec<Role>>;

    /// Sets the roles of resident `user` in `org`.
    async fn assign(&self, org: &OrgId, user: &str, roles: Vec<String>) -> Result<()>;

    /// The roles assigned to resident `user` in `org`.
    async fn assigned(&self, org: &OrgId, user: &str) -> Result<Vec<String>>;

    /// Removes every role and assignment of deleted organizations.
    async fn forget_organizations(&self, orgs: &[OrgId]) -> Result<()>;
}
