//! The `idforge-orgs` module: `[[organizations]]`, `[root]`, users' resident organizations and
//! shares, clients' organizations and sharing become the orgs crate's memory stores; the root
//! provider gets the `organization_switch` grant and the `org_admin` scope; every
//! organization with `issuer = "self"` gets its own provider (own issuer `{issuer}/o/{org_id}`,
//! own key, discovery, JWKS, authorize and token endpoints); and the JSON management API
//! (WSO2 v2 shapes) is served under `{issuer}/api/`, authorized by a bearer token with scope
//! `org_admin`.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use idforge_oauth_core::grant::{ClientCredentialsGrant, GrantHandler, PasswordGrant};
use idforge_oauth_core::{resolve_access_token, AuthorizationExtension, OsRng};
use idforge_orgs::api::{
    self, Administrator, ApiLimits, PatchShareRequest, Permission, ShareRequest,
    ShareWithAllRequest, UnshareRequest,
};
use idforge_orgs::discovery::{self, DiscoveryRequest};
use idforge_orgs::hierarchy::{self, NewOrganization};
use idforge_orgs::memory::{MemoryOrganizationStore, MemoryRoleStore, MemorySharingStore};
use idforge_orgs::sharing::{self, OrgShare, SharePolicy};
use idforge_orgs::{
    Application, IdentityKind, IssuerMode, OrgError, OrgId, OrgSettings, OrgStatus, Organization,
    OrganizationAuthorization, OrganizationParameter, OrganizationStore, OrganizationSwitchGrant,
    Resident, RootIssuerPolicy, SharedWith, SharingStore,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::{ConfigError, ServeConfig, TrustedIssuerConfig};

/// The administrative scope of the management API.
pub(crate) const ORG_ADMIN: &str = "org_admin";

/// `[root]`: the implicit root organization (id and handle `root`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RootConfig {
    /// Its name (default "Root").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Which organizations' applications may use the root issuer (`[root.root_issuer]` with
    /// `policy = "ALLOW_ALL" | "ALLOW_IMMEDIATE" | "ALLOW_SELECTED" | "DENY_ALL"` and, for
    /// `ALLOW_SELECTED`, `organizations = [...]`); default `ALLOW_ALL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_issuer: Option<RootIssuerPolicy>,
}

/// `[organizations.settings]`: absent keys inherit from the parent organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OrganizationSettingsConfig {
    /// TOTP progressive enrollment (default on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_enrollment: Option<bool>,
    /// Keep sessions on password update (default off; data only until sessions land).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_sessions_on_password_update: Option<bool>,
    /// `scope` as an array in JWT access tokens (default off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_as_array: Option<bool>,
    /// Organization discovery by email domain (default off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_domains_discovery: Option<bool>,
    /// `[[organizations.settings.trusted_issuers]]`: issuers whose JWTs token exchange
    /// (RFC 8693) accepts at the issuer of this organization and of the self-issuing
    /// organizations below it, in addition to the inherited ones (merged up the tree to the
    /// top-level `[[trusted_issuers]]`, the root's; the nearest entry wins per `issuer`). Same
    /// fields as `[[trusted_issuers]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_issuers: Vec<TrustedIssuerConfig>,
}

/// One `[[organizations]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OrganizationConfig {
    /// Identifier (URL-safe).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique handle.
    pub handle: String,
    /// Parent organization id (absent: the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Email domains for organization discovery.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_domains: Vec<String>,
    /// `root` (default) or `self`.
    #[serde(default)]
    pub issuer: IssuerMode,
    /// Settings set here.
    #[serde(default)]
    pub settings: OrganizationSettingsConfig,
}

impl OrganizationConfig {
    /// An organization below the root.
    pub fn new(id: impl Into<String>, name: impl Into<String>, handle: impl Into<String>) -> Self {
        OrganizationConfig {
            id: id.into(),
            name: name.into(),
            handle: handle.into(),
            parent: None,
            email_domains: Vec::new(),
            issuer: IssuerMode::Root,
            settings: OrganizationSettingsConfig::default(),
        }
    }

    /// Sets the parent.
    pub fn with_parent(mut self, parent: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self
    }

    /// Sets the issuer mode.
    pub fn with_issuer(mut self, issuer: IssuerMode) -> Self {
        self.issuer = issuer;
        self
    }
}

/// One `[[users.shares]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ShareConfig {
    /// The policy (`SELECTED_ORG_ONLY`, ...).
    pub policy: SharePolicy,
    /// The organizations (selected or anchors).
    pub organizations: Vec<String>,
    /// Roles in every organization reached.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl ShareConfig {
    /// A share.
    pub fn new<S: Into<String>>(
        policy: SharePolicy,
        organizations: impl IntoIterator<Item = S>,
        roles: impl IntoIterator<Item = S>,
    ) -> Self {
        ShareConfig {
            policy,
            organizations: organizations.into_iter().map(Into::into).collect(),
            roles: roles.into_iter().map(Into::into).collect(),
        }
    }
}

/// Whether the configuration uses organizations (then `org_admin` is a supported scope and
/// the switch grant is available).
pub(crate) fn enabled(config: &ServeConfig) -> bool {
    config.root.is_some()
        || !config.organizations.is_empty()
        || config
            .users
            .iter()
            .any(|u| u.organization.is_some() || !u.shares.is_empty())
        || config
            .clients
            .iter()
            .any(|c| c.organization.is_some() || !c.shared_with.is_empty())
}

/// Runs a future of the memory stores, which never suspend, to completion.
fn ready<F: Future>(f: F) -> Result<F::Output, OrgError> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Ok(v),
        std::task::Poll::Pending => Err(OrgError::Store("memory store suspended".into())),
    }
}

fn bad(id: &str, e: impl std::fmt::Display) -> ConfigError {
    ConfigError::Organization {
        id: id.to_owned(),
        reason: e.to_string(),
    }
}

/// The organization stores built from a configuration.
pub(crate) struct Orgs {
    pub(crate) orgs: Arc<MemoryOrganizationStore>,
    pub(crate) sharing: Arc<MemorySharingStore>,
    pub(crate) roles: Arc<MemoryRoleStore>,
}

impl std::fmt::Debug for Orgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orgs").finish_non_exhaustive()
    }
}

impl Orgs {
    /// The grants of the provider of organization `home`: the organization switch, and
    /// `password` and `client_credentials` taking the `organization` parameter.
    pub(crate) fn grant_handlers(&self, home: &OrgId) -> Vec<Arc<dyn GrantHandler>> {
        let wrap = |inner: Arc<dyn GrantHandler>| -> Arc<dyn GrantHandler> {
            Arc::new(OrganizationParameter::new(
                inner,
                self.orgs.clone(),
                self.sharing.clone(),
                self.roles.clone(),
                home.clone(),
            ))
        };
        vec![
            Arc::new(OrganizationSwitchGrant::new(
                self.orgs.clone(),
                self.sharing.clone(),
                self.roles.clone(),
                home.clone(),
            )),
            wrap(Arc::new(PasswordGrant)),
            wrap(Arc::new(ClientCredentialsGrant)),
        ]
    }

    /// The authorization extensions of the provider of organization `home`: organization
    /// claims on authorization-code tokens (its own organization's at a self-issuing
    /// organization's issuer; the one the `organization` parameter names anywhere).
    pub(crate) fn authorization_extensions(
        &self,
        home: &OrgId,
    ) -> Vec<Arc<dyn AuthorizationExtension>> {
        vec![Arc::new(OrganizationAuthorization::new(
            self.orgs.clone(),
            self.sharing.clone(),
            self.roles.clone(),
            home.clone(),
        ))]
    }

    /// Whether `user` is resident or shared in `org` now.
    pub(crate) fn is_member(&self, user: &str, org: &OrgId) -> bool {
        matches!(
            ready(sharing::resolve(self.orgs.as_ref(), self.sharing.as_ref(), user, org)),
            Ok(Ok(m)) if m.is_member()
        )
    }

    /// The settings in force in `org`.
    pub(crate) fn settings(&self, org: &OrgId) -> Option<idforge_orgs::EffectiveSettings> {
        ready(hierarchy::effective_settings(self.orgs.as_ref(), org))
            .ok()?
            .ok()
    }
}

fn org_id(id: &str) -> Result<OrgId, ConfigError> {
    OrgId::new(id).map_err(|e| bad(id, e))
}

/// Builds (and so validates) the stores: organizations in parent-first order (a missing
/// parent or a cycle is an error), residents, shares, applications.
pub(crate) fn build(config: &ServeConfig) -> Result<Orgs, ConfigError> {
    let mut root = Organization::root(
        config
            .root
            .as_ref()
            .and_then(|r| r.name.clone())
            .unwrap_or_else(|| "Root".into()),
    );
    root.validate().map_err(|e| bad("root", e))?;
    let orgs = Arc::new(
        MemoryOrganizationStore::with_root(std::mem::replace(
            &mut root,
            Organization::root("Root"),
        ))
        .map_err(|e| bad("root", e))?,
    );
    let sharing = Arc::new(MemorySharingStore::new());
    let roles = Arc::new(MemoryRoleStore::new());
    let rng = OsRng::new();
    let mut pending: Vec<&OrganizationConfig> = config.organizations.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut rest = Vec::new();
        for o in pending {
            let parent = org_id(o.parent.as_deref().unwrap_or("root"))?;
            if ready(orgs.get(&parent))
                .and_then(|r| r)
                .map_err(|e| bad(&o.id, e))?
                .is_none()
            {
                rest.push(o);
                continue;
            }
            let mut settings = OrgSettings::default();
            settings.totp_enrollment = o.settings.totp_enrollment;
            settings.preserve_sessions_on_password_update =
                o.settings.preserve_sessions_on_password_update;
            settings.scope_as_array = o.settings.scope_as_array;
            settings.email_domains_discovery = o.settings.email_domains_discovery;
            let new = NewOrganization::new(o.name.clone(), o.handle.clone())
                .with_id(org_id(&o.id)?)
                .with_parent(parent)
                .with_email_domains(o.email_domains.clone())
                .with_issuer(o.issuer)
                .with_settings(settings);
            ready(hierarchy::create(orgs.as_ref(), &rng, &new))
                .and_then(|r| r)
                .map_err(|e| bad(&o.id, e))?;
        }
        if rest.len() == before {
            let o = rest[0];
            return Err(bad(
                &o.id,
                format!(
                    "parent {} is unknown (or the parents form a cycle)",
                    o.parent.as_deref().unwrap_or("root")
                ),
            ));
        }
        pending = rest;
    }
    for u in &config.users {
        let org = org_id(u.organization.as_deref().unwrap_or("root"))?;
        if ready(orgs.get(&org))
            .and_then(|r| r)
            .map_err(|e| bad(org.as_str(), e))?
            .is_none()
        {
            return Err(bad(
                org.as_str(),
                format!("user {}: unknown organization", u.username),
            ));
        }
        ready(sharing.set_resident(&u.username, Resident::new(org, IdentityKind::User)))
            .and_then(|r| r)
            .map_err(|e| bad(&u.username, e))?;
    }
    for u in &config.users {
        let mut entries = Vec::new();
        for s in &u.shares {
            for o in &s.organizations {
                entries.push(OrgShare::new(org_id(o)?, s.policy, s.roles.clone()));
            }
        }
        if !entries.is_empty() {
            ready(sharing::share(
                orgs.as_ref(),
                sharing.as_ref(),
                &u.username,
                &entries,
            ))
            .and_then(|r| r)
            .map_err(|e| bad(&u.username, format!("user {}: {e}", u.username)))?;
        }
    }
    for c in &config.clients {
        let org = org_id(c.organization.as_deref().unwrap_or("root"))?;
        if ready(orgs.get(&org))
            .and_then(|r| r)
            .map_err(|e| bad(org.as_str(), e))?
            .is_none()
        {
            return Err(bad(
                org.as_str(),
                format!("client {}: unknown organization", c.client_id),
            ));
        }
        let shared_with = if c.shared_with.iter().any(|s| s == "*") {
            SharedWith::All
        } else if c.shared_with.is_empty() {
            SharedWith::None
        } else {
            let mut set = BTreeSet::new();
            for s in &c.shared_with {
                let id = org_id(s)?;
                if ready(orgs.get(&id))
                    .and_then(|r| r)
                    .map_err(|e| bad(s, e))?
                    .is_none()
                {
                    return Err(bad(
                        s,
                        format!(
                            "client {}: shared_with names an unknown organization",
                            c.client_id
                        ),
                    ));
                }
                set.insert(id);
            }
            SharedWith::Selected(set)
        };
        // Root governance: may this organization's applications use the root issuer?
        let record = ready(orgs.get(&org))
            .and_then(|r| r)
            .map_err(|e| bad(org.as_str(), e))?;
        if let Some(record) = record {
            let policy = config
                .root
                .as_ref()
                .and_then(|r| r.root_issuer.clone())
                .unwrap_or_default();
            idforge_orgs::issuer::select(&record, &policy)
                .map_err(|e| bad(org.as_str(), format!("client {}: {e}", c.client_id)))?;
        }
        ready(sharing.put_application(
            Application::new(c.client_id.clone(), org).with_shared_with(shared_with),
        ))
        .and_then(|r| r)
        .map_err(|e| bad(&c.client_id, e))?;
    }
    Ok(Orgs {
        orgs,
        sharing,
        roles,
    })
}

/// The trusted issuers of the token exchange at the issuer of organization `org`: its own
/// `trusted_issuers`, then its parent's, up to the top-level `[[trusted_issuers]]` (the
/// root's), the nearest entry winning per `issuer` (`idforge_orgs::settings::merge_nearest`,
/// the rule of every inherited list setting). Computed from the configured tree when the
/// provider is built.
pub(crate) fn trusted_issuers(
    config: &ServeConfig,
    stores: &Orgs,
    org: &OrgId,
) -> Result<Vec<TrustedIssuerConfig>, ConfigError> {
    let record = ready(stores.orgs.get(org))
        .and_then(|r| r)
        .map_err(|e| bad(org.as_str(), e))?
        .ok_or_else(|| bad(org.as_str(), "unknown organization"))?;
    let own = |id: &OrgId| -> &[TrustedIssuerConfig] {
        if id.is_root() {
            return &config.trusted_issuers;
        }
        config
            .organizations
            .iter()
            .find(|o| o.id == id.as_str())
            .map_or(&[], |o| &o.settings.trusted_issuers)
    };
    let chain = std::iter::once(&record.id)
        .chain(record.ancestors.iter().rev())
        .map(own);
    Ok(idforge_orgs::settings::merge_nearest(chain, |t| {
        t.issuer.clone()
    }))
}

/// Applies inherited organization settings to the clients registered in each organization:
/// `scope_as_array` in force there turns the client's `scope` claim into an array.
pub(crate) fn apply_settings(config: &mut ServeConfig, stores: &Orgs) {
    for c in &mut config.clients {
        let Ok(org) = OrgId::new(c.organization.clone().unwrap_or_else(|| "root".into())) else {
            continue;
        };
        if stores.settings(&org).is_some_and(|s| s.scope_as_array) {
            c.scope_as_array = true;
        }
    }
}

/// The organizations whose applications get their own issuer, with the clients registered
/// in them.
pub(crate) fn self_issuing(config: &ServeConfig) -> Vec<String> {
    config
        .organizations
        .iter()
        .filter(|o| o.issuer == IssuerMode::SelfIssued)
        .map(|o| o.id.clone())
        .collect()
}

/// The routes of the management API, state applied.
pub(crate) fn api_routes(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/organizations", post(create_org))
        .route("/api/organizations/{id}", get(get_org).patch(patch_org))
        .route("/api/users/share", post(share).patch(patch_share))
        .route("/api/users/share-with-all", post(share_with_all))
        .route("/api/users/unshare", post(unshare))
        .with_state(state)
}

/// What the management API needs: the stores and the root provider (to resolve bearer tokens).
#[derive(Debug)]
pub(crate) struct ApiState {
    pub(crate) orgs: Arc<Orgs>,
    pub(crate) root: Arc<crate::oauth::OAuth>,
}

fn json_response(status: StatusCode, v: Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        v.to_string(),
    )
        .into_response()
}

fn error(e: &OrgError) -> Response {
    json_response(
        StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
        e.to_json(),
    )
}

/// RFC 6750 §3: a bearer token with the `org_admin` scope.
async fn admin(state: &ApiState, headers: &HeaderMap) -> Result<Administrator, Response> {
    let challenge = |status: StatusCode, code: &str| {
        let mut r = json_response(status, json!({"error": code}));
        if let Ok(v) = format!("Bearer error=\"{code}\", scope=\"{ORG_ADMIN}\"").parse() {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or_else(|| challenge(StatusCode::UNAUTHORIZED, "invalid_token"))?;
    let info = resolve_access_token(&state.root.provider.ctx, token)
        .await
        .map_err(|_| challenge(StatusCode::UNAUTHORIZED, "invalid_token"))?;
    if !info.scopes.contains(ORG_ADMIN) {
        return Err(challenge(StatusCode::FORBIDDEN, "insufficient_scope"));
    }
    Ok(Administrator::new(
        OrgId::root(),
        [
            Permission::SharedUserManagement,
            Permission::OrganizationManagement,
        ],
    ))
}

fn org_json(o: &Organization) -> Value {
    json!({
        "id": o.id,
        "name": o.name,
        "handle": o.handle,
        "parent": o.parent,
        "status": match o.status { OrgStatus::Active => "active", OrgStatus::Disabled => "disabled" },
        "issuer": match o.issuer { IssuerMode::Root => "root", IssuerMode::SelfIssued => "self" },
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrg {
    #[serde(default)]
    id: Option<OrgId>,
    name: String,
    handle: String,
    #[serde(default)]
    parent: Option<OrgId>,
}

// A response is the handler's answer either way; boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Response> {
    if body.len() > ApiLimits::default().max_body {
        return Err(error(&OrgError::invalid("body", "too large")));
    }
    serde_json::from_slice(body).map_err(|e| error(&OrgError::invalid("body", e.to_string())))
}

async fn create_org(State(s): State<Arc<ApiState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = admin(&s, &headers).await {
        return r;
    }
    let req: CreateOrg = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut new = NewOrganization::new(req.name, req.handle);
    new.id = req.id;
    new.parent = req.parent;
    match hierarchy::create(s.orgs.orgs.as_ref(), &OsRng::new(), &new).await {
        Ok(o) => json_response(StatusCode::CREATED, org_json(&o)),
        Err(e) => error(&e),
    }
}

async fn get_org(
    State(s): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = admin(&s, &headers).await {
        return r;
    }
    let found = match OrgId::new(id.clone()) {
        Ok(id) => s.orgs.orgs.get(&id).await,
        Err(_) => Ok(None),
    };
    match found {
        Ok(Some(o)) => json_response(StatusCode::OK, org_json(&o)),
        Ok(None) => error(&OrgError::UnknownOrganization(id)),
        Err(e) => error(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchOrg {
    #[serde(default)]
    parent: Option<OrgId>,
    #[serde(default)]
    status: Option<OrgStatus>,
    #[serde(default)]
    name: Option<String>,
}

async fn patch_org(
    State(s): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = admin(&s, &headers).await {
        return r;
    }
    let req: PatchOrg = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Ok(id) = OrgId::new(id.clone()) else {
        return error(&OrgError::UnknownOrganization(id));
    };
    if req.parent.is_none() && req.status.is_none() && req.name.is_none() {
        return error(&OrgError::invalid("body", "one of parent, status, name"));
    }
    let store = s.orgs.orgs.as_ref();
    let mut result = store
        .get(&id)
        .await
        .and_then(|o| o.ok_or_else(|| OrgError::UnknownOrganization(id.to_string())));
    if let (Ok(_), Some(name)) = (&result, &req.name) {
        result = hierarchy::rename(store, &id, name, None).await;
    }
    if let (Ok(_), Some(parent)) = (&result, &req.parent) {
        result = hierarchy::move_to(store, &id, parent).await;
    }
    if let (Ok(_), Some(status)) = (&result, req.status) {
        result = hierarchy::set_status(store, &id, status).await;
    }
    match result {
        Ok(o) => json_response(StatusCode::OK, org_json(&o)),
        Err(e) => error(&e),
    }
}

fn done(r: Result<(), OrgError>) -> Response {
    match r {
        Ok(()) => json_response(StatusCode::OK, json!({"status": "Completed"})),
        Err(e) => error(&e),
    }
}

async fn share(State(s): State<Arc<ApiState>>, headers: HeaderMap, body: Bytes) -> Response {
    let admin = match admin(&s, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (users, entries) = match ShareRequest::from_json(&body, &ApiLimits::default()) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    done(
        api::share(
            s.orgs.orgs.as_ref(),
            s.orgs.sharing.as_ref(),
            &admin,
            &users,
            &entries,
        )
        .await,
    )
}

async fn share_with_all(
    State(s): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admin = match admin(&s, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (users, policy, roles) = match ShareWithAllRequest::from_json(&body, &ApiLimits::default())
    {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    done(
        api::share_with_all(
            s.orgs.orgs.as_ref(),
            s.orgs.sharing.as_ref(),
            &admin,
            &users,
            policy,
            &roles,
        )
        .await,
    )
}

async fn unshare(State(s): State<Arc<ApiState>>, headers: HeaderMap, body: Bytes) -> Response {
    let admin = match admin(&s, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (users, orgs) = match UnshareRequest::from_json(&body, &ApiLimits::default()) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    done(
        api::unshare(
            s.orgs.orgs.as_ref(),
            s.orgs.sharing.as_ref(),
            &admin,
            &users,
            &orgs,
        )
        .await,
    )
}

async fn patch_share(State(s): State<Arc<ApiState>>, headers: HeaderMap, body: Bytes) -> Response {
    let admin = match admin(&s, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (users, patches) = match PatchShareRequest::from_json(&body, &ApiLimits::default()) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    done(
        api::patch(
            s.orgs.orgs.as_ref(),
            s.orgs.sharing.as_ref(),
            &admin,
            &users,
            &patches,
        )
        .await,
    )
}

/// Organization discovery at the root's authorization endpoint (`orgId`, `orgHandle`, `org`,
/// `login_hint` + `orgDiscoveryType=emailDomain`): a GET authorization request carrying one
/// is redirected (303) to the authorization endpoint of the organization's own issuer, with
/// the same parameters less the discovery ones, when the organization is self-issuing and the
/// client one of its applications (`discovery::route_to_issuer`). Otherwise an error page
/// (400): the client's redirect URI is not trusted for that organization (RFC 6749 §4.1.2.1).
/// Discovery only routes: the organization's issuer lets only its members log in. Requests
/// without discovery parameters go on to the root's endpoint.
pub(crate) fn discovery_routing(router: Router, state: Arc<ApiState>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(
        state,
        discovery_redirect,
    ))
}

async fn discovery_redirect(
    State(s): State<Arc<ApiState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let root = &s.root.provider.ctx.config;
    if req.method() != axum::http::Method::GET || req.uri().path() != root.authorization_path {
        return next.run(req).await;
    }
    let query = req.uri().query().unwrap_or("").to_owned();
    if query.len() > root.limits.max_input_bytes {
        return next.run(req).await;
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let refused = |code: &str, description: &str| crate::pages::error(400, code, description);
    let wanted = DiscoveryRequest::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let wanted = match wanted {
        Ok(None) => return next.run(req).await,
        Ok(Some(w)) => w,
        Err(e) => return refused("invalid_request", &e.to_string()),
    };
    let Some(client_id) = pairs.iter().find(|(k, _)| k == "client_id").map(|(_, v)| v) else {
        return refused("invalid_request", "client_id is missing");
    };
    let org = match discovery::discover(s.orgs.orgs.as_ref(), &wanted).await {
        Ok(found) => found.organization,
        Err(OrgError::Disabled(id)) => {
            return refused("access_denied", &format!("organization {id} is disabled"))
        }
        Err(OrgError::Store(_)) => return crate::pages::error(500, "server_error", "store"),
        Err(_) => return refused("invalid_request", "unknown organization"),
    };
    let app = match s.orgs.sharing.application(client_id).await {
        Ok(app) => app,
        Err(_) => return crate::pages::error(500, "server_error", "store"),
    };
    let id = match discovery::route_to_issuer(&org, client_id, app.as_ref()) {
        Ok(id) => id,
        Err(r) => return refused("invalid_request", &r.to_string()),
    };
    let mut forwarded = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        if !discovery::DISCOVERY_PARAMETERS.contains(&k.as_str()) {
            forwarded.append_pair(k, v);
        }
    }
    let location = format!(
        "{}{}?{}",
        idforge_orgs::issuer::organization_issuer(s.root.issuer(), &id),
        root.authorization_path,
        forwarded.finish()
    );
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

/// The providers of self-issuing organizations, nested at `/o/{org_id}`.
pub(crate) fn issuer_routes(
    router: Router,
    issuers: &[(String, Arc<crate::oauth::OAuth>)],
) -> Router {
    issuers.iter().fold(router, |r, (id, oauth)| {
        r.nest(&format!("/o/{id}"), crate::oauth::routes(oauth.clone()))
    })
}
