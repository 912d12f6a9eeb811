//! The organization switch grant (`grant_type=organization_switch`, WSO2 IS 7.x): exchanges an
//! access token issued in one organization for one scoped to a descendant organization where
//! the user is resident or shared and the application may be used, with the scopes narrowed
//! to the user's roles there and the organization claims (`org_id`, `org_name`, `org_handle`,
//! `user_org` or `agent_org`, `roles`) in the access and ID tokens.
//!
//! Parameters: `token` (the access token), `switching_organization` (the target
//! organization's id), optional `scope` (at most the token's scopes). Refusals:
//! `invalid_request` (missing parameter, unknown organization), `invalid_grant` (token
//! invalid or of another client, target not a descendant, disabled, user not a member),
//! `unauthorized_client` (application not shared with the target), `invalid_scope`.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use idforge_oauth_core::grant::GrantHandler;
use idforge_oauth_core::issue::{issue_token_response, persists, IssueOptions};
use idforge_oauth_core::{
    resolve_access_token, Client, Config, Context, Error, Grant, Scopes, TokenContents,
    TokenRequest, TokenResponse,
};

use crate::error::OrgError;
use crate::hierarchy;
use crate::home::OrgHome;
use crate::model::{Application, OrgId, Organization, Resident};
use crate::sharing::Membership;

/// The grant type.
pub const GRANT_TYPE: &str = "organization_switch";

/// Scopes that carry identity, not permissions: kept through a switch when the token had them.
pub const IDENTITY_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

/// Why a switch is refused (pure decision outcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchRefusal {
    /// The target is not strictly below the token's organization.
    NotDescendant,
    /// The target or one of its ancestors is disabled.
    Disabled(OrgId),
    /// The application may not be used in the target.
    ApplicationNotShared,
    /// The user is neither resident nor shared there.
    NotMember,
}

impl SwitchRefusal {
    /// The token endpoint error (RFC 6749 §5.2).
    pub fn to_error(&self) -> Error {
        match self {
            SwitchRefusal::NotDescendant => {
                Error::InvalidGrant("the organization is not below the token's organization".into())
            }
            SwitchRefusal::Disabled(_) => {
                Error::InvalidGrant("the organization is disabled".into())
            }
            SwitchRefusal::ApplicationNotShared => Error::UnauthorizedClient(
                "the application is not shared with the organization".into(),
            ),
            SwitchRefusal::NotMember => {
                Error::InvalidGrant("the user is not a member of the organization".into())
            }
        }
    }
}

/// The switch decision (pure), in the order the checks run: descendant of `source`, active
/// (with `target_ancestors`), application usable there, user a member.
pub fn decide(
    source: &OrgId,
    target: &Organization,
    target_ancestors: &[Organization],
    app: Option<&Application>,
    membership: &Membership,
) -> Result<(), SwitchRefusal> {
    if !target.is_below(source) {
        return Err(SwitchRefusal::NotDescendant);
    }
    if let Err(OrgError::Disabled(id)) = hierarchy::check_active(target, target_ancestors) {
        return Err(SwitchRefusal::Disabled(id));
    }
    if !app.is_some_and(|a| a.usable_in(target)) {
        return Err(SwitchRefusal::ApplicationNotShared);
    }
    if !membership.is_member() {
        return Err(SwitchRefusal::NotMember);
    }
    Ok(())
}

/// The scopes after a switch (pure): the requested ones (at most the token's, else
/// `invalid_scope`), or the token's, keeping identity scopes and those `role_scopes` grant.
pub fn narrow_scopes(
    token_scopes: &Scopes,
    requested: Option<&Scopes>,
    role_scopes: &[String],
) -> Result<Scopes, Error> {
    let wanted = match requested {
        Some(r) if !r.is_subset_of(token_scopes) => {
            return Err(Error::InvalidScope(
                "a switched token cannot carry scopes the presented token lacks".into(),
            ))
        }
        Some(r) => r,
        None => token_scopes,
    };
    Ok(Scopes::from_values(
        wanted
            .values()
            .iter()
            .filter(|s| IDENTITY_SCOPES.contains(&s.as_str()) || role_scopes.contains(s))
            .cloned(),
    ))
}

/// The organization claims for tokens scoped to `org` of a user resident in `resident`, with
/// `roles` there: `org_id`, `org_name`, `org_handle`, `user_org` (or `agent_org` for agents),
/// `roles`, in the access and the ID token.
pub fn organization_contents(
    org: &Organization,
    resident: &Resident,
    roles: &[String],
) -> Result<TokenContents, Error> {
    let mut c = TokenContents::new();
    add_organization_claims(&mut c, org, resident, roles)?;
    Ok(c)
}

/// Adds the organization claims of [`organization_contents`] to `contents` (which may carry
/// other claims already, e.g. another authorization extension's).
pub fn add_organization_claims(
    contents: &mut TokenContents,
    org: &Organization,
    resident: &Resident,
    roles: &[String],
) -> Result<(), Error> {
    claims_into(contents, org, resident, roles, true)
}

/// The organization claims, into the ID token's claims too when `id_token` (a grant whose
/// scopes lack `openid` never gets an ID token, OIDC Core §3.1.2.1, not even on refresh: its
/// scopes cannot widen, RFC 6749 §6).
fn claims_into(
    contents: &mut TokenContents,
    org: &Organization,
    resident: &Resident,
    roles: &[String],
    id_token: bool,
) -> Result<(), Error> {
    let claims: [(&str, Value); 5] = [
        ("org_id", json!(org.id)),
        ("org_name", json!(org.name)),
        ("org_handle", json!(org.handle)),
        (resident.kind.org_claim(), json!(resident.org)),
        ("roles", json!(roles)),
    ];
    for (name, value) in claims {
        if id_token {
            contents.add_id_token_claim(name, value.clone())?;
        }
        contents.add_access_token_claim(name, value)?;
    }
    Ok(())
}

/// The organization claims of a grant with `scopes`.
fn contents_for(
    org: &Organization,
    resident: &Resident,
    roles: &[String],
    scopes: &Scopes,
) -> Result<TokenContents, Error> {
    let mut c = TokenContents::new();
    claims_into(&mut c, org, resident, roles, scopes.contains("openid"))?;
    Ok(c)
}

/// The `organization_switch` grant handler, registered on the provider of one organization
/// (the root, or a self-issuing organization): tokens without an `org_id` claim are taken as
/// issued in that organization.
#[derive(Debug)]
pub struct OrganizationSwitchGrant {
    home: OrgHome,
}

impl OrganizationSwitchGrant {
    /// A handler over the stores, for the provider of organization `home.home`.
    pub fn new(home: OrgHome) -> Self {
        OrganizationSwitchGrant { home }
    }
}

#[async_trait]
impl GrantHandler for OrganizationSwitchGrant {
    fn grant_type(&self) -> &str {
        GRANT_TYPE
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        let token = req.params.require("token")?;
        let target_id = req.params.require("switching_organization")?;
        let requested = match req.params.get("scope") {
            Some(s) => Some(Scopes::parse(s, &ctx.config.limits)?),
            None => None,
        };
        let (target, ancestors) = self
            .home
            .organization(target_id)
            .await?
            .ok_or_else(|| Error::InvalidRequest("unknown switching_organization".into()))?;
        // RFC 6749 §5.2: a token that is invalid, expired, revoked or another client's.
        let info = resolve_access_token(ctx, token)
            .await
            .map_err(|_| Error::InvalidGrant("the token is invalid, expired or revoked".into()))?;
        if info.client_id != client.client_id {
            return Err(Error::InvalidGrant(
                "the token was issued to another client".into(),
            ));
        }
        let user = info
            .subject
            .as_deref()
            .ok_or_else(|| Error::InvalidGrant("the token has no user".into()))?;
        let source = match info.extra_claims().get("org_id").and_then(Value::as_str) {
            Some(s) => OrgId::new(s).map_err(|_| Error::InvalidGrant("bad org_id".into()))?,
            None => self.home.home.clone(),
        };
        let app = self.home.application(&client.client_id).await?;
        let standing = self.home.standing(user, &target).await?;
        decide(
            &source,
            &target,
            &ancestors,
            app.as_ref(),
            &standing.membership,
        )
        .map_err(|r| r.to_error())?;
        let resident = standing
            .resident
            .ok_or_else(|| SwitchRefusal::NotMember.to_error())?;
        let (role_names, role_scopes) = self
            .home
            .roles_and_scopes(&standing.membership, &target.id, user)
            .await?;
        let scopes = narrow_scopes(&info.scopes, requested.as_ref(), &role_scopes)?;
        let contents = contents_for(&target, &resident, &role_names, &scopes)?;
        let now = ctx.now();
        let gid = hex_id(ctx)?;
        let expires = info
            .grant
            .expires_at
            .min(now + ctx.config.refresh_token_ttl);
        let mut grant = Grant::new(gid, client.client_id.clone(), scopes.clone(), now, expires)
            .with_subject(user.to_owned())
            .with_contents(contents);
        if let Some(t) = info.grant.auth_time {
            grant = grant.with_authentication(t, info.grant.acr.clone(), info.grant.amr.clone());
        }
        if persists(ctx, client) {
            ctx.grants.create_grant(grant.clone()).await?;
        }
        let options = IssueOptions::new()
            .refresh_token(idforge_oauth_core::grant::wants_refresh(
                &ctx.config,
                client,
            ))
            .id_token(scopes.contains("openid"));
        issue_token_response(ctx, client, &grant, &scopes, options).await
    }

    fn discovery(&self, _config: &Config, metadata: &mut serde_json::Map<String, Value>) {
        metadata.insert("organization_switch_supported".into(), json!(true));
    }
}

/// The `organization` parameter (WSO2 IS 7.3): a `password` or `client_credentials` request
/// carrying `organization=<id>` gets tokens scoped to that organization directly, without a
/// switch. Wraps the built-in handler of the same grant type, which still serves requests
/// without the parameter at the root; at a self-issuing organization's own provider, requests
/// without it are scoped to that organization (its claims; the scopes the client asked for
/// within its registration, not narrowed to roles), as its authorization codes are.
///
/// The organization must be the provider's own or below it and active, and the application
/// usable there (`unauthorized_client` otherwise); for `password` the user must be resident or
/// shared there (`invalid_grant`) and the scopes are narrowed to the user's roles. An unknown
/// organization is `invalid_request`.
pub struct OrganizationParameter {
    inner: Arc<dyn GrantHandler>,
    home: OrgHome,
}

impl std::fmt::Debug for OrganizationParameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrganizationParameter")
            .field("grant_type", &self.inner.grant_type())
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

impl OrganizationParameter {
    /// Wraps `inner` (oauth-core's `PasswordGrant` or `ClientCredentialsGrant`) for the
    /// provider of organization `home.home`.
    pub fn new(inner: Arc<dyn GrantHandler>, home: OrgHome) -> Self {
        OrganizationParameter { inner, home }
    }

    async fn target(&self, id: &str) -> Result<Organization, Error> {
        let unknown = || Error::InvalidRequest("unknown organization".into());
        let (org, ancestors) = self.home.organization(id).await?.ok_or_else(unknown)?;
        if !org.is_within(&self.home.home) {
            return Err(unknown());
        }
        if hierarchy::check_active(&org, &ancestors).is_err() {
            return Err(SwitchRefusal::Disabled(org.id.clone()).to_error());
        }
        Ok(org)
    }

    async fn app_usable(&self, client: &Client, org: &Organization) -> Result<(), Error> {
        if self
            .home
            .application(&client.client_id)
            .await?
            .is_some_and(|a| a.usable_in(org))
        {
            Ok(())
        } else {
            Err(SwitchRefusal::ApplicationNotShared.to_error())
        }
    }
}

/// A 128-bit random grant id, hex.
fn hex_id(ctx: &Context) -> Result<String, Error> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = [0u8; 16];
    ctx.rng.fill(&mut id)?;
    let mut s = String::with_capacity(32);
    for b in id {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    Ok(s)
}

#[async_trait]
impl GrantHandler for OrganizationParameter {
    fn grant_type(&self) -> &str {
        self.inner.grant_type()
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        // Without the parameter: unscoped at the root; at a self-issuing organization's own
        // issuer, scoped to it like its codes (scopes kept: they come from the client's
        // registration there).
        let (org_param, narrow) = match req.params.get("organization") {
            Some(p) => (p, true),
            None if self.home.home.is_root() => return self.inner.handle(ctx, client, req).await,
            None => (self.home.home.as_str(), false),
        };
        let org = self.target(org_param).await?;
        let now = ctx.now();
        match self.inner.grant_type() {
            "client_credentials" => {
                self.app_usable(client, &org).await?;
                let scopes = idforge_oauth_core::grant::client_credentials::decide(
                    &ctx.config,
                    client,
                    req,
                )?;
                let mut contents = TokenContents::new();
                for (name, value) in [
                    ("org_id", json!(org.id)),
                    ("org_name", json!(org.name)),
                    ("org_handle", json!(org.handle)),
                ] {
                    contents.add_access_token_claim(name, value)?;
                }
                let grant = Grant::new(
                    hex_id(ctx)?,
                    client.client_id.clone(),
                    scopes.clone(),
                    now,
                    now + ctx.config.access_token_ttl,
                )
                .with_contents(contents);
                if persists(ctx, client) {
                    ctx.grants.create_grant(grant.clone()).await?;
                }
                issue_token_response(ctx, client, &grant, &scopes, IssueOptions::new()).await
            }
            "password" => {
                let verifier = ctx.passwords.as_ref().ok_or_else(|| {
                    Error::UnsupportedGrantType("grant_type not supported".into())
                })?;
                let username = req.params.require("username")?;
                let password = req.params.require("password")?;
                let requested =
                    idforge_oauth_core::grant::requested_scopes(&ctx.config, client, req, &[])?;
                let user = verifier.verify(username, password).await?.ok_or_else(|| {
                    Error::InvalidGrant("invalid resource owner credentials".into())
                })?;
                self.app_usable(client, &org).await?;
                let standing = self.home.standing(&user, &org).await?;
                let resident = match standing.resident {
                    Some(r) if standing.membership.is_member() => r,
                    _ => return Err(SwitchRefusal::NotMember.to_error()),
                };
                let (role_names, role_scopes) = self
                    .home
                    .roles_and_scopes(&standing.membership, &org.id, &user)
                    .await?;
                let scopes = if narrow {
                    narrow_scopes(&requested, None, &role_scopes)?
                } else {
                    requested
                };
                let contents = contents_for(&org, &resident, &role_names, &scopes)?;
                let grant = Grant::new(
                    hex_id(ctx)?,
                    client.client_id.clone(),
                    scopes.clone(),
                    now,
                    now + ctx.config.refresh_token_ttl,
                )
                .with_subject(user)
                .with_authentication(now, None, vec!["pwd".into()])
                .with_contents(contents);
                if persists(ctx, client) {
                    ctx.grants.create_grant(grant.clone()).await?;
                }
                let options = IssueOptions::new()
                    .refresh_token(idforge_oauth_core::grant::wants_refresh(
                        &ctx.config,
                        client,
                    ))
                    .id_token(scopes.contains("openid"));
                issue_token_response(ctx, client, &grant, &scopes, options).await
            }
            _ => self.inner.handle(ctx, client, req).await,
        }
    }

    fn discovery(&self, config: &Config, metadata: &mut serde_json::Map<String, Value>) {
        self.inner.discovery(config, metadata);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IdentityKind, SharedWith};

    fn id(s: &str) -> OrgId {
        OrgId::new(s).unwrap()
    }

    #[test]
    fn decision_order_and_errors() {
        let root = Organization::root("Root");
        let a = Organization::child_of(&root, id("a"), "A", "a");
        let b = Organization::child_of(&a, id("b"), "B", "b");
        let app = Application::new("app", OrgId::root()).with_shared_with(SharedWith::All);
        let shared = Membership::Shared { roles: vec![] };
        let anc = [root.clone(), a.clone()];
        assert!(decide(&OrgId::root(), &b, &anc, Some(&app), &shared).is_ok());
        assert!(decide(&id("a"), &b, &anc, Some(&app), &Membership::Resident).is_ok());
        // Not below the token's organization (itself, a sibling's child, upwards).
        assert_eq!(
            decide(&id("b"), &b, &anc, Some(&app), &shared),
            Err(SwitchRefusal::NotDescendant)
        );
        assert_eq!(
            decide(&id("b"), &a, &anc[..1], Some(&app), &shared),
            Err(SwitchRefusal::NotDescendant)
        );
        let mut off = a.clone();
        off.status = crate::model::OrgStatus::Disabled;
        assert_eq!(
            decide(
                &OrgId::root(),
                &b,
                &[root.clone(), off],
                Some(&app),
                &shared
            ),
            Err(SwitchRefusal::Disabled(id("a")))
        );
        let unshared = Application::new("app", OrgId::root());
        assert_eq!(
            decide(&OrgId::root(), &b, &anc, Some(&unshared), &shared),
            Err(SwitchRefusal::ApplicationNotShared)
        );
        assert_eq!(
            decide(&OrgId::root(), &b, &anc, None, &shared),
            Err(SwitchRefusal::ApplicationNotShared)
        );
        assert_eq!(
            decide(&OrgId::root(), &b, &anc, Some(&app), &Membership::NotMember),
            Err(SwitchRefusal::NotMember)
        );
        assert_eq!(SwitchRefusal::NotMember.to_error().code(), "invalid_grant");
        assert_eq!(
            SwitchRefusal::NotDescendant.to_error().code(),
            "invalid_grant"
        );
        assert_eq!(
            SwitchRefusal::Disabled(id("a")).to_error().code(),
            "invalid_grant"
        );
        assert_eq!(
            SwitchRefusal::ApplicationNotShared.to_error().code(),
            "unauthorized_client"
        );
    }

    #[test]
    fn scopes_narrow_to_roles() {
        let token = Scopes::from_values(["openid", "email", "orders:read", "orders:write"]);
        let got = narrow_scopes(&token, None, &["orders:read".into()]).unwrap();
        assert_eq!(got.values(), ["openid", "email", "orders:read"]);
        let req = Scopes::from_values(["openid", "orders:write"]);
        assert_eq!(
            narrow_scopes(&token, Some(&req), &[]).unwrap().values(),
            ["openid"]
        );
        let wider = Scopes::from_values(["openid", "admin"]);
        assert_eq!(
            narrow_scopes(&token, Some(&wider), &[]).unwrap_err().code(),
            "invalid_scope"
        );
    }

    #[test]
    fn claims_for_users_and_agents() {
        let root = Organization::root("Root");
        let a = Organization::child_of(&root, id("a"), "Acme", "acme");
        let c = organization_contents(
            &a,
            &Resident::new(OrgId::root(), IdentityKind::User),
            &["viewer".into()],
        )
        .unwrap();
        let at = c.access_token_claims();
        assert_eq!(at["org_id"], "a");
        assert_eq!(at["org_name"], "Acme");
        assert_eq!(at["org_handle"], "acme");
        assert_eq!(at["user_org"], "root");
        assert_eq!(at["roles"], json!(["viewer"]));
        assert_eq!(c.id_token_claims(), at);
        let c =
            organization_contents(&a, &Resident::new(id("a"), IdentityKind::Agent), &[]).unwrap();
        assert_eq!(c.access_token_claims()["agent_org"], "a");
        assert!(!c.access_token_claims().contains_key("user_org"));
    }
}
