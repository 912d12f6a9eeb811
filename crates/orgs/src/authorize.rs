//! Organization claims on authorization-code tokens: an oauth-core
//! [`AuthorizationExtension`] registered on the provider of one organization (the root, or a
//! self-issuing organization).
//!
//! - At an organization's own issuer, every code is scoped to that organization: its tokens
//!   carry `org_id`, `org_name`, `org_handle`, `user_org` (or `agent_org`) and `roles` in the
//!   access and the ID token, as the switch grant's do.
//! - The `organization` request parameter (WSO2 IS 7.3 "organization login" with
//!   `organization=<id>`) scopes the code to that organization instead, by the same rules as the
//!   `organization_switch` grant: the organization is the provider's own or below it, active,
//!   the application usable there, the user resident or shared there; the scopes are narrowed
//!   to the identity scopes and those the user's roles there grant.
//!
//! Refusals are redirected to the client with the authorization endpoint's registered codes
//! (RFC 6749 §4.1.2.1): an unknown organization (or one outside the provider's) is
//! `invalid_request`, an application not shared there `unauthorized_client`, a disabled
//! organization or a user who is not a member `access_denied`.

use async_trait::async_trait;

use idforge_oauth_core::{AuthorizationExtension, AuthorizationRequest, Client, Error, Grant};

use crate::error::OrgError;
use crate::hierarchy;
use crate::home::OrgHome;
use crate::model::{Application, OrgId, Organization};
use crate::switch::{self, SwitchRefusal};

/// The authorization request parameter naming the organization (WSO2 IS 7.3).
pub const PARAMETER: &str = "organization";

/// Where the code of an authorization request is scoped (pure decision outcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeScope {
    /// No organization: a root-issuer code without the `organization` parameter.
    Unscoped,
    /// The provider's own organization (a self-issuing organization's issuer); the scopes the
    /// organization's own client was granted are kept.
    Home(OrgId),
    /// The organization the `organization` parameter names; scopes narrowed to its roles.
    Requested(OrgId),
}

/// Where a request's code is scoped (pure): the `organization` parameter if present, else the
/// provider's own organization unless it is the root.
pub fn code_scope(home: &OrgId, parameter: Option<&str>) -> Result<CodeScope, Error> {
    match parameter {
        Some(p) => OrgId::new(p)
            .map(CodeScope::Requested)
            .map_err(|_| unknown()),
        None if home.is_root() => Ok(CodeScope::Unscoped),
        None => Ok(CodeScope::Home(home.clone())),
    }
}

/// The checks made before the user is asked anything (pure), in order: the organization is
/// `home` or below it, active (with its `ancestors`), and the application usable there.
pub fn check_target(
    home: &OrgId,
    target: &Organization,
    ancestors: &[Organization],
    app: Option<&Application>,
) -> Result<(), Error> {
    if !target.is_within(home) {
        return Err(unknown());
    }
    if let Err(OrgError::Disabled(id)) = hierarchy::check_active(target, ancestors) {
        return Err(to_authorization_error(&SwitchRefusal::Disabled(id)));
    }
    if !app.is_some_and(|a| a.usable_in(target)) {
        return Err(to_authorization_error(&SwitchRefusal::ApplicationNotShared));
    }
    Ok(())
}

/// A switch refusal as an authorization endpoint error (RFC 6749 §4.1.2.1 registers no
/// `invalid_grant` there): an application not shared is `unauthorized_client`, anything about
/// the organization or the user `access_denied`.
pub fn to_authorization_error(r: &SwitchRefusal) -> Error {
    match r {
        SwitchRefusal::ApplicationNotShared => {
            Error::UnauthorizedClient("the application is not shared with the organization".into())
        }
        SwitchRefusal::Disabled(_) => Error::AccessDenied("the organization is disabled".into()),
        SwitchRefusal::NotMember => {
            Error::AccessDenied("the user is not a member of the organization".into())
        }
        SwitchRefusal::NotDescendant => unknown(),
    }
}

fn unknown() -> Error {
    Error::InvalidRequest("unknown organization".into())
}

/// The extension, for the provider of organization `home`.
#[derive(Debug)]
pub struct OrganizationAuthorization {
    home: OrgHome,
}

impl OrganizationAuthorization {
    /// The extension over the stores, for the provider of organization `home.home` (the
    /// root, or a self-issuing organization whose issuer serves its own clients).
    pub fn new(home: OrgHome) -> Self {
        OrganizationAuthorization { home }
    }

    /// The organization a code is scoped to (`scope`), checked against the stores as they
    /// are now (so a change between the request and the login is seen).
    async fn target(
        &self,
        client: &Client,
        scope: CodeScope,
    ) -> Result<Option<(Organization, bool)>, Error> {
        let (id, narrow) = match scope {
            CodeScope::Unscoped => return Ok(None),
            CodeScope::Home(id) => (id, false),
            CodeScope::Requested(id) => (id, true),
        };
        let (org, ancestors) = self
            .home
            .organization(id.as_str())
            .await?
            .ok_or_else(unknown)?;
        let app = self.home.application(&client.client_id).await?;
        check_target(&self.home.home, &org, &ancestors, app.as_ref())?;
        Ok(Some((org, narrow)))
    }

    /// Adds the claims of `org` for the grant's user (who must be a member there), narrowing
    /// the scopes to the user's roles there when `narrow`.
    async fn scope_to(
        &self,
        org: &Organization,
        narrow: bool,
        grant: &mut Grant,
    ) -> Result<(), Error> {
        let not_member = || to_authorization_error(&SwitchRefusal::NotMember);
        let user = grant.subject.as_deref().ok_or_else(not_member)?;
        let standing = self.home.standing(user, org).await?;
        let resident = match standing.resident {
            Some(r) if standing.membership.is_member() => r,
            _ => return Err(not_member()),
        };
        let (role_names, role_scopes) = self
            .home
            .roles_and_scopes(&standing.membership, &org.id, user)
            .await?;
        if narrow {
            grant.scopes = switch::narrow_scopes(&grant.scopes, None, &role_scopes)?;
        }
        switch::add_organization_claims(&mut grant.contents, org, &resident, &role_names)?;
        Ok(())
    }
}

#[async_trait]
impl AuthorizationExtension for OrganizationAuthorization {
    fn parameters(&self) -> Vec<&'static str> {
        vec![PARAMETER]
    }

    async fn check(&self, client: &Client, request: &AuthorizationRequest) -> Result<(), Error> {
        let scope = code_scope(&self.home.home, request.extension_param(PARAMETER))?;
        self.target(client, scope).await.map(|_| ())
    }

    async fn shape_grant(
        &self,
        client: &Client,
        request: &AuthorizationRequest,
        grant: &mut Grant,
    ) -> Result<(), Error> {
        let scope = code_scope(&self.home.home, request.extension_param(PARAMETER))?;
        match self.target(client, scope).await? {
            Some((org, narrow)) => self.scope_to(&org, narrow, grant).await,
            None => Ok(()),
        }
    }

    /// Device-code (RFC 8628) and CIBA grants at a self-issuing organization's issuer are
    /// scoped to that organization like its codes: the organization's claims and the user's
    /// roles there, the user a member (`access_denied` otherwise, RFC 8628 §3.5, CIBA §11),
    /// the organization active and the application usable there. Those flows carry no
    /// `organization` parameter, so at the root their grants stay unscoped.
    async fn shape_decoupled_grant(
        &self,
        client: &Client,
        _grant_type: &str,
        grant: &mut Grant,
    ) -> Result<(), Error> {
        let scope = code_scope(&self.home.home, None)?;
        match self.target(client, scope).await? {
            Some((org, narrow)) => self.scope_to(&org, narrow, grant).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SharedWith;

    fn id(s: &str) -> OrgId {
        OrgId::new(s).unwrap()
    }

    #[test]
    fn where_codes_are_scoped() {
        let root = OrgId::root();
        assert_eq!(code_scope(&root, None).unwrap(), CodeScope::Unscoped);
        assert_eq!(
            code_scope(&id("a"), None).unwrap(),
            CodeScope::Home(id("a"))
        );
        assert_eq!(
            code_scope(&root, Some("b")).unwrap(),
            CodeScope::Requested(id("b"))
        );
        assert_eq!(
            code_scope(&root, Some("a/b")).unwrap_err().code(),
            "invalid_request"
        );
    }

    #[test]
    fn target_checks_and_codes() {
        let root = Organization::root("Root");
        let a = Organization::child_of(&root, id("a"), "A", "a");
        let b = Organization::child_of(&a, id("b"), "B", "b");
        let c = Organization::child_of(&root, id("c"), "C", "c");
        let all = Application::new("app", OrgId::root()).with_shared_with(SharedWith::All);
        let anc_b = [root.clone(), a.clone()];
        assert!(check_target(&OrgId::root(), &b, &anc_b, Some(&all)).is_ok());
        assert!(check_target(&id("a"), &b, &anc_b, Some(&all)).is_ok());
        // The provider's own organization is within it.
        let own = Application::new("app", id("a"));
        assert!(check_target(&id("a"), &a, std::slice::from_ref(&root), Some(&own)).is_ok());
        // Outside the provider's organization: unknown there.
        let e = check_target(&id("a"), &c, std::slice::from_ref(&root), Some(&all)).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        let mut off = a.clone();
        off.status = crate::model::OrgStatus::Disabled;
        let e = check_target(&OrgId::root(), &b, &[root.clone(), off], Some(&all)).unwrap_err();
        assert_eq!(e.code(), "access_denied");
        let unshared = Application::new("app", OrgId::root());
        for app in [Some(&unshared), None] {
            let e = check_target(&OrgId::root(), &b, &anc_b, app).unwrap_err();
            assert_eq!(e.code(), "unauthorized_client");
        }
        assert_eq!(
            to_authorization_error(&SwitchRefusal::NotMember).code(),
            "access_denied"
        );
    }
}
