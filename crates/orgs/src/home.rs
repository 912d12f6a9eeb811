//! [`OrgHome`]: the three ports as the provider of one organization (its *home*: the root,
//! or a self-issuing organization) sees them — what the organization switch grant, the
//! `organization` parameter and the authorization extension share, with the store reads they
//! all make (the target organization with its ancestors, the application, the user's
//! membership, roles and the scopes those grant).

use std::sync::Arc;

use idforge_oauth_core::Error;

use crate::error::internal;
use crate::model::{Application, OrgId, Organization, Resident};
use crate::ports::{OrganizationStore, RoleStore, SharingStore};
use crate::sharing::{self, Membership};

/// The organization, sharing and role stores, and the organization whose provider uses them.
/// Cloning is cheap (three `Arc`s and an id).
#[derive(Clone)]
pub struct OrgHome {
    /// The organizations.
    pub orgs: Arc<dyn OrganizationStore>,
    /// Residents, shares and applications.
    pub sharing: Arc<dyn SharingStore>,
    /// Roles per organization.
    pub roles: Arc<dyn RoleStore>,
    /// The provider's own organization: tokens without an `org_id` claim were issued there,
    /// and only it and the organizations below it can be asked for.
    pub home: OrgId,
}

impl std::fmt::Debug for OrgHome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgHome")
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

/// A user's standing in one organization, read in two store calls (resident, shares).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// Where the user is resident (`None`: unknown to the sharing store).
    pub resident: Option<Resident>,
    /// Resident, shared (with the share's roles) or not a member there.
    pub membership: Membership,
}

impl OrgHome {
    /// The stores, for the provider of organization `home`.
    pub fn new(
        orgs: Arc<dyn OrganizationStore>,
        sharing: Arc<dyn SharingStore>,
        roles: Arc<dyn RoleStore>,
        home: OrgId,
    ) -> Self {
        OrgHome {
            orgs,
            sharing,
            roles,
            home,
        }
    }

    /// The same stores for the provider of organization `home`.
    pub fn at(&self, home: OrgId) -> Self {
        OrgHome {
            home,
            ..self.clone()
        }
    }

    /// The organization `id` (`None` if unknown or malformed) and its ancestors, root first
    /// (two store reads).
    pub async fn organization(
        &self,
        id: &str,
    ) -> Result<Option<(Organization, Vec<Organization>)>, Error> {
        let Ok(id) = OrgId::new(id) else {
            return Ok(None);
        };
        let Some(org) = self.orgs.get(&id).await.map_err(internal)? else {
            return Ok(None);
        };
        let ancestors = if org.ancestors.is_empty() {
            Vec::new()
        } else {
            self.orgs.get_many(&org.ancestors).await.map_err(internal)?
        };
        Ok(Some((org, ancestors)))
    }

    /// The application registered as `client_id`.
    pub async fn application(&self, client_id: &str) -> Result<Option<Application>, Error> {
        self.sharing.application(client_id).await.map_err(internal)
    }

    /// `user`'s residency and membership in `org`: the shares are read only when the user is
    /// resident elsewhere.
    pub async fn standing(&self, user: &str, org: &Organization) -> Result<Standing, Error> {
        let resident = self.sharing.resident(user).await.map_err(internal)?;
        let membership = match &resident {
            Some(r) if r.org == org.id => Membership::Resident,
            Some(r) if org.is_below(&r.org) => {
                let shares = self.sharing.shares(user).await.map_err(internal)?;
                sharing::membership(r, &shares, org)
            }
            _ => Membership::NotMember,
        };
        Ok(Standing {
            resident,
            membership,
        })
    }

    /// `user`'s role names in `org` given their membership, and the scopes those roles grant
    /// there (no scope lookup when there is no role).
    pub async fn roles_and_scopes(
        &self,
        membership: &Membership,
        org: &OrgId,
        user: &str,
    ) -> Result<(Vec<String>, Vec<String>), Error> {
        let names = sharing::roles_in(self.roles.as_ref(), membership, org, user)
            .await
            .map_err(internal)?;
        if names.is_empty() {
            return Ok((names, Vec::new()));
        }
        let scopes = self
            .roles
            .roles(org, &names)
            .await
            .map_err(internal)?
            .into_iter()
            .flat_map(|r| r.scopes)
            .collect();
        Ok((names, scopes))
    }
}
