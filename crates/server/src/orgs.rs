//! The `idforge-orgs` module: `[[organizations]]`, `[root]`, users' resident organizations and
//! shares, clients' organizations and sharing become the orgs crate's memory stores; the root
//! provider gets the `organization_switch` grant and the `org_admin` scope; every
//! organization that is self-issuing and active *now* has its own provider (own issuer
//! `{issuer}/o/{org_id}`, own key, discovery, JWKS, authorize, token, device and CIBA
//! endpoints), built when first asked for ([`Issuers`]), serving the applications whose
//! organization's current issuer it is; and the JSON management API (WSO2 v2 shapes) is
//! served under `{issuer}/api/`, authorized by a bearer token with scope `org_admin`.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{header, request::Parts, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use idforge_oauth_core::grant::{ClientCredentialsGrant, GrantHandler, PasswordGrant};
use idforge_oauth_core::{
    resolve_access_token, AuthorizationExtension, Client, Config, Context, OsRng, TokenRequest,
    TokenResponse, UserLookup,
};
use idforge_orgs::api::{
    self, Administrator, ApiLimits, PatchShareRequest, Permission, ShareRequest,
    ShareWithAllRequest, UnshareRequest,
};
use idforge_orgs::discovery::{self, DiscoveryRequest};
use idforge_orgs::hierarchy::{self, NewOrganization};
use idforge_orgs::issuer::TokenIssuer;
use idforge_orgs::memory::{MemoryOrganizationStore, MemoryRoleStore, MemorySharingStore};
use idforge_orgs::sharing::{self, OrgShare, SharePolicy};
use idforge_orgs::RoleStore;
use idforge_orgs::{
    Application, DeletePolicy, IdentityKind, IssuerMode, OrgError, OrgHome, OrgId, OrgSettings,
    OrgStatus, Organization, OrganizationAuthorization, OrganizationParameter, OrganizationStore,
    OrganizationSwitchGrant, Resident, RootIssuerPolicy, SharedWith, SharingStore,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::config::{ConfigError, ServeConfig, TrustedIssuerConfig};
use crate::oauth::{self, Additions, OAuth};
use crate::ServeError;

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
    /// `[organizations.branding]`: the pages' name, logo, colour and footer links for its
    /// applications (absent fields inherited from the parent and the root).
    #[serde(
        default,
        skip_serializing_if = "crate::pages::BrandingConfig::is_default"
    )]
    pub branding: crate::pages::BrandingConfig,
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
            branding: crate::pages::BrandingConfig::default(),
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

/// Runs a future of the organization stores to completion from synchronous code: the memory
/// stores never suspend; the database's answer comes from its own thread
/// ([`crate::storage::SideDatabase`]), so waiting here needs no runtime.
fn ready<F: Future>(f: F) -> Result<F::Output, OrgError> {
    Ok(crate::storage::block_on(f))
}

fn bad(id: &str, e: impl std::fmt::Display) -> ConfigError {
    ConfigError::Organization {
        id: id.to_owned(),
        reason: e.to_string(),
    }
}

/// The organization stores built from a configuration, and root governance.
pub(crate) struct Orgs {
    pub(crate) orgs: Arc<dyn OrganizationStore>,
    pub(crate) sharing: Arc<dyn SharingStore>,
    pub(crate) roles: Arc<dyn RoleStore>,
    /// `[root.root_issuer]`.
    pub(crate) policy: RootIssuerPolicy,
}

impl std::fmt::Debug for Orgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orgs").finish_non_exhaustive()
    }
}

impl Orgs {
    /// The stores as the provider of organization `home` sees them.
    pub(crate) fn home(&self, home: &OrgId) -> OrgHome {
        OrgHome::new(
            self.orgs.clone(),
            self.sharing.clone(),
            self.roles.clone(),
            home.clone(),
        )
    }

    /// The grants of the provider of organization `home`: the organization switch, and
    /// `password` and `client_credentials` taking the `organization` parameter.
    pub(crate) fn grant_handlers(&self, home: &OrgId) -> Vec<Arc<dyn GrantHandler>> {
        let home = self.home(home);
        vec![
            Arc::new(OrganizationSwitchGrant::new(home.clone())),
            Arc::new(OrganizationParameter::new(
                Arc::new(PasswordGrant),
                home.clone(),
            )),
            Arc::new(OrganizationParameter::new(
                Arc::new(ClientCredentialsGrant),
                home,
            )),
        ]
    }

    /// The authorization extensions of the provider of organization `home`: organization
    /// claims on authorization-code tokens (its own organization's at a self-issuing
    /// organization's issuer; the one the `organization` parameter names anywhere) and, at a
    /// self-issuing organization's issuer, on device-code and CIBA tokens.
    pub(crate) fn authorization_extensions(
        &self,
        home: &OrgId,
    ) -> Vec<Arc<dyn AuthorizationExtension>> {
        vec![Arc::new(OrganizationAuthorization::new(self.home(home)))]
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

    /// The organization `id` now, if it exists.
    fn get(&self, id: &OrgId) -> Option<Organization> {
        ready(self.orgs.get(id)).ok()?.ok()?
    }

    /// Whether `org` issues its own tokens now: self-issuing, it and its ancestors active.
    fn issues_now(&self, org: &Organization) -> bool {
        org.issuer == IssuerMode::SelfIssued
            && matches!(
                ready(hierarchy::require_active(self.orgs.as_ref(), org)),
                Ok(Ok(()))
            )
    }

    /// Which issuer serves the application `client_id` now (`issuer::select` over its
    /// organization's current record and root governance); `None` when none may (governance
    /// denies the root issuer to an organization that is not its own issuer). Clients without
    /// an application record are the root's.
    fn issuer_of(&self, client_id: &str) -> Option<TokenIssuer> {
        let app = match ready(self.sharing.application(client_id)) {
            Ok(Ok(app)) => app,
            _ => return None,
        };
        let Some(app) = app else {
            return Some(TokenIssuer::Root);
        };
        let org = self.get(&app.organization)?;
        idforge_orgs::issuer::select(&org, &self.policy).ok()
    }
}

fn org_id(id: &str) -> Result<OrgId, ConfigError> {
    OrgId::new(id).map_err(|e| bad(id, e))
}

/// The root organization of `config`.
fn root_of(config: &ServeConfig) -> Result<Organization, ConfigError> {
    let root = Organization::root(
        config
            .root
            .as_ref()
            .and_then(|r| r.name.clone())
            .unwrap_or_else(|| "Root".into()),
    );
    root.validate().map_err(|e| bad("root", e))?;
    Ok(root)
}

/// Builds (and so validates) memory stores from `config`.
pub(crate) fn build(config: &ServeConfig) -> Result<Orgs, ConfigError> {
    let orgs =
        Arc::new(MemoryOrganizationStore::with_root(root_of(config)?).map_err(|e| bad("root", e))?);
    build_on(
        config,
        orgs,
        Arc::new(MemorySharingStore::new()),
        Arc::new(MemoryRoleStore::new()),
    )
}

/// Fills the stores from `config`: organizations in parent-first order (a missing parent or a
/// cycle is an error; one stored already, by an earlier start or the API, is kept as stored),
/// residents, shares, applications (the configuration is their source of truth).
fn build_on(
    config: &ServeConfig,
    orgs: Arc<dyn OrganizationStore>,
    sharing: Arc<dyn SharingStore>,
    roles: Arc<dyn RoleStore>,
) -> Result<Orgs, ConfigError> {
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
            if ready(orgs.get(&org_id(&o.id)?))
                .and_then(|r| r)
                .map_err(|e| bad(&o.id, e))?
                .is_some()
            {
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
        policy: config
            .root
            .as_ref()
            .and_then(|r| r.root_issuer.clone())
            .unwrap_or_default(),
    })
}

/// The trusted issuers of the token exchange at the issuer of organization `org`: its own
/// `trusted_issuers`, then its parent's, up to the top-level `[[trusted_issuers]]` (the
/// root's), the nearest entry winning per `issuer` (`idforge_orgs::settings::merge_nearest`,
/// the rule of every inherited list setting), along the tree as it is now.
pub(crate) fn trusted_issuers(
    config: &ServeConfig,
    stores: &Orgs,
    org: &OrgId,
) -> Result<Vec<TrustedIssuerConfig>, ConfigError> {
    let record = stores
        .get(org)
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

/// Token exchange (RFC 8693) at an organization's issuer, trusting the organization's
/// inherited trusted issuers as the tree is at each request: a move under another parent, or
/// an organization created live below one, changes the list at once. oauth-core's grant is
/// rebuilt (with the same user lookup) only when the list changes.
struct LiveTrust {
    config: Arc<ServeConfig>,
    stores: Arc<Orgs>,
    org: OrgId,
    lookup: Arc<dyn UserLookup>,
    /// The client that fetches the trusted issuers' `jwks_uri`.
    outbound: crate::outbound::Outbound,
    /// The list the grant was built for, and the grant.
    current: Mutex<(Vec<TrustedIssuerConfig>, Arc<dyn GrantHandler>)>,
    grant_type: String,
}

impl LiveTrust {
    fn grant(
        lookup: &Arc<dyn UserLookup>,
        list: &[TrustedIssuerConfig],
        outbound: &crate::outbound::Outbound,
    ) -> Result<Arc<dyn GrantHandler>, ServeError> {
        let mut only = ServeConfig::new();
        only.trusted_issuers = list.to_vec();
        Ok(Arc::new(crate::token_exchange::grant(
            &only,
            lookup.clone(),
            outbound,
        )?))
    }

    fn new(
        config: Arc<ServeConfig>,
        stores: Arc<Orgs>,
        org: OrgId,
        lookup: Arc<dyn UserLookup>,
        outbound: crate::outbound::Outbound,
    ) -> Result<Self, ServeError> {
        let list = trusted_issuers(&config, &stores, &org)?;
        let grant = Self::grant(&lookup, &list, &outbound)?;
        Ok(LiveTrust {
            grant_type: grant.grant_type().to_owned(),
            current: Mutex::new((list, grant)),
            config,
            stores,
            org,
            lookup,
            outbound,
        })
    }

    /// oauth-core's grant for the list in force now.
    fn now(&self) -> Result<Arc<dyn GrantHandler>, idforge_oauth_core::Error> {
        let internal = |e: &dyn std::fmt::Display| {
            idforge_oauth_core::Error::Internal(format!("trusted issuers: {e}"))
        };
        let list =
            trusted_issuers(&self.config, &self.stores, &self.org).map_err(|e| internal(&e))?;
        let mut current = self.current.lock().map_err(|e| internal(&e))?;
        if current.0 != list {
            let grant =
                Self::grant(&self.lookup, &list, &self.outbound).map_err(|e| internal(&e))?;
            *current = (list, grant);
        }
        Ok(current.1.clone())
    }
}

#[async_trait]
impl GrantHandler for LiveTrust {
    fn grant_type(&self) -> &str {
        &self.grant_type
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, idforge_oauth_core::Error> {
        let grant = self.now()?;
        grant.handle(ctx, client, req).await
    }

    fn discovery(&self, config: &Config, metadata: &mut serde_json::Map<String, Value>) {
        if let Ok(current) = self.current.lock() {
            current.1.discovery(config, metadata);
        }
    }
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

/// A built provider of an organization's own issuer, with its routes.
struct OrgIssuer {
    oauth: Arc<OAuth>,
    routes: Router,
}

/// The providers of the organizations' own issuers at `{issuer}/o/{org_id}`, looked up by the
/// organization's record at each request: an organization serves its issuer while it is
/// self-issuing and it and its ancestors are active (created with `issuer = "self"` or
/// switched to it through the API: at once; disabled, switched back or deleted: 404). A
/// provider is built the first time it is needed, with its own key, and kept while its
/// organization exists (so a disabled and re-enabled organization keeps its key).
pub(crate) struct Issuers {
    config: Arc<ServeConfig>,
    default_issuer: String,
    root_issuer: String,
    stores: Arc<Orgs>,
    built: Mutex<HashMap<OrgId, Arc<OrgIssuer>>>,
    /// Login attempts are counted across the root's and every organization's issuer.
    login_limiter: Arc<dyn idforge_oauth_core::AttemptLimiter>,
    /// Where the providers' state lives (`--database`).
    backing: Arc<crate::storage::Stores>,
    /// The root's client to relying parties: every issuer posts through one pool.
    outbound: crate::outbound::Outbound,
}

impl std::fmt::Debug for Issuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuers")
            .field("root_issuer", &self.root_issuer)
            .finish_non_exhaustive()
    }
}

impl Issuers {
    /// The provider of organization `id`'s own issuer, as its record is now.
    fn current(&self, id: &str) -> Result<Option<Arc<OrgIssuer>>, ServeError> {
        let Ok(id) = OrgId::new(id) else {
            return Ok(None);
        };
        let Some(org) = self.stores.get(&id) else {
            self.forget(std::slice::from_ref(&id));
            return Ok(None);
        };
        if id.is_root() || !self.stores.issues_now(&org) {
            return Ok(None);
        }
        let mut built = self.built.lock().map_err(|_| {
            ServeError::Provider(idforge_oauth_core::Error::Internal("issuers".into()))
        })?;
        if let Some(b) = built.get(&id) {
            return Ok(Some(b.clone()));
        }
        let oauth = Arc::new(self.build(&id)?);
        crate::ciba::spawn_sweeper(Arc::downgrade(&oauth));
        let b = Arc::new(OrgIssuer {
            routes: oauth::routes(oauth.clone()),
            oauth,
        });
        built.insert(id, b.clone());
        Ok(Some(b))
    }

    /// Drops the providers of deleted organizations.
    fn forget(&self, ids: &[OrgId]) {
        if let Ok(mut built) = self.built.lock() {
            for id in ids {
                built.remove(id);
            }
        }
    }

    /// The organizations whose issuers have been built, with their issuer identifiers.
    pub(crate) fn built(&self) -> Vec<(String, String)> {
        let Ok(built) = self.built.lock() else {
            return Vec::new();
        };
        let mut v: Vec<(String, String)> = built
            .iter()
            .map(|(id, b)| (id.to_string(), b.oauth.issuer().to_owned()))
            .collect();
        v.sort();
        v
    }

    /// Builds the provider of organization `id`: issuer `{issuer}/o/{org_id}`, its own key,
    /// the configured clients of which it serves those whose organization it is now, only its
    /// members logging in, its inherited trusted issuers.
    fn build(&self, id: &OrgId) -> Result<OAuth, ServeError> {
        let mut c = (*self.config).clone();
        c.issuer = Some(idforge_orgs::issuer::organization_issuer(
            &self.root_issuer,
            id,
        ));
        // Its own key: tokens of one organization never verify at another.
        c.signing_key = None;
        apply_settings(&mut c, &self.stores);
        oauth::build_with(&c, &self.default_issuer, self.additions(id)?)
    }

    /// What the provider of organization `home` adds to oauth-core's.
    fn additions(&self, home: &OrgId) -> Result<Additions, ServeError> {
        let stores = self.stores.clone();
        let (filter_stores, want) = (stores.clone(), TokenIssuer::Organization(home.clone()));
        // Only the organization's members (resident or shared, as the stores say at login
        // time) log in at its issuer.
        let (members, member_org) = (stores.clone(), home.clone());
        // Token exchange trusts the organization's inherited trusted issuers, live; the list
        // is checked here, before the provider's user lookup exists.
        LiveTrust::new(
            self.config.clone(),
            stores.clone(),
            home.clone(),
            Arc::new(NoUsers),
            self.outbound.clone(),
        )?;
        let (config, trust_stores, org) = (self.config.clone(), stores.clone(), home.clone());
        let trust_outbound = self.outbound.clone();
        Ok(Additions {
            login_limiter: Some(self.login_limiter.clone()),
            stores: self.backing.clone(),
            outbound: Some(self.outbound.clone()),
            handlers: stores.grant_handlers(home),
            extensions: stores.authorization_extensions(home),
            login_filter: Some(Arc::new(move |subject: &str| {
                members.is_member(subject, &member_org)
            })),
            client_filter: Some(Arc::new(move |client_id: &str| {
                filter_stores.issuer_of(client_id).as_ref() == Some(&want)
            })),
            token_exchange: Some(Box::new(move |lookup| {
                match LiveTrust::new(config, trust_stores, org, lookup, trust_outbound) {
                    Ok(t) => Arc::new(t) as Arc<dyn GrantHandler>,
                    // Unreachable: the same list was accepted just above.
                    Err(_) => Arc::new(idforge_oauth_core::TokenExchangeGrant::new()),
                }
            })),
        })
    }
}

/// A user lookup finding nobody (to check a trust list before the provider's own lookup
/// exists).
struct NoUsers;

#[async_trait]
impl UserLookup for NoUsers {
    async fn find_users(
        &self,
        _attributes: &[(&str, &str)],
    ) -> idforge_oauth_core::Result<Vec<String>> {
        Ok(Vec::new())
    }
}

/// The ids of the organizations configured with `issuer = "self"` (their signing keys are
/// kept in the database under `--database`).
pub(crate) fn self_issuing(config: &ServeConfig) -> Vec<String> {
    config
        .organizations
        .iter()
        .filter(|o| o.issuer == IssuerMode::SelfIssued)
        .map(|o| o.id.clone())
        .collect()
}

/// The root provider and the organizations' state: the root serves the root's applications
/// and those of organizations using the root issuer (as their records are now, under root
/// governance), with the organization switch, the `organization` parameter and claims; each
/// organization with `issuer = "self"` at start gets its issuer built at once (the others
/// when they become self-issuing).
pub(crate) fn providers(
    config: &ServeConfig,
    default_issuer: &str,
    login_limiter: Arc<dyn idforge_oauth_core::AttemptLimiter>,
    backing: Arc<crate::storage::Stores>,
) -> Result<(Arc<OAuth>, Arc<ApiState>), ServeError> {
    config.validate()?;
    let stores = Arc::new(match backing.org_database(&root_of(config)?)? {
        None => build(config)?,
        Some(db) => {
            let db = Arc::new(db);
            build_on(config, db.clone(), db.clone(), db)?
        }
    });
    let mut root_config = config.clone();
    apply_settings(&mut root_config, &stores);
    let root_id = OrgId::root();
    let filter_stores = stores.clone();
    let additions = Additions {
        handlers: stores.grant_handlers(&root_id),
        extensions: stores.authorization_extensions(&root_id),
        client_filter: Some(Arc::new(move |client_id: &str| {
            filter_stores.issuer_of(client_id) == Some(TokenIssuer::Root)
        })),
        login_limiter: Some(login_limiter.clone()),
        stores: backing.clone(),
        ..Additions::default()
    };
    let root = Arc::new(oauth::build_with(&root_config, default_issuer, additions)?);
    let issuers = Issuers {
        config: Arc::new(config.clone()),
        default_issuer: default_issuer.to_owned(),
        root_issuer: root.issuer().to_owned(),
        stores: stores.clone(),
        built: Mutex::new(HashMap::new()),
        login_limiter,
        backing,
        outbound: root.outbound.clone(),
    };
    for o in &config.organizations {
        if o.issuer == IssuerMode::SelfIssued {
            issuers.current(&o.id)?;
        }
    }
    let api = Arc::new(ApiState {
        orgs: stores,
        root: root.clone(),
        issuers,
    });
    Ok((root, api))
}

/// The routes of the management API, state applied.
pub(crate) fn api_routes(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/organizations", post(create_org))
        .route(
            "/api/organizations/{id}",
            get(get_org).patch(patch_org).delete(delete_org),
        )
        .route("/api/users/share", post(share).patch(patch_share))
        .route("/api/users/share-with-all", post(share_with_all))
        .route("/api/users/unshare", post(unshare))
        .with_state(state)
}

/// What the management API and the organizations' issuers need: the stores, the root provider
/// (to resolve bearer tokens) and the organizations' providers.
#[derive(Debug)]
pub(crate) struct ApiState {
    pub(crate) orgs: Arc<Orgs>,
    pub(crate) root: Arc<OAuth>,
    pub(crate) issuers: Issuers,
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

/// A refusal of the management API: its status and `{error, error_description}`.
struct ApiError(OrgError);

impl From<OrgError> for ApiError {
    fn from(e: OrgError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::BAD_REQUEST),
            self.0.to_json(),
        )
    }
}

type ApiResult = Result<Response, ApiError>;

/// RFC 6750 §3: a bearer token with the `org_admin` scope; the administrator it makes (the
/// root's, with both permissions). Rejected with 401/403 and `WWW-Authenticate`.
struct Admin(Administrator);

impl FromRequestParts<Arc<ApiState>> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, Self::Rejection> {
        admin(state, &parts.headers).await.map(Admin)
    }
}

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
    #[serde(default)]
    issuer: IssuerMode,
}

/// A JSON body of at most the API's size limit.
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, OrgError> {
    if body.len() > ApiLimits::default().max_body {
        return Err(OrgError::invalid("body", "too large"));
    }
    serde_json::from_slice(body).map_err(|e| OrgError::invalid("body", e.to_string()))
}

/// An organization id from the path; an id that cannot exist is unknown.
fn path_id(id: String) -> Result<OrgId, OrgError> {
    OrgId::new(id.clone()).map_err(|_| OrgError::UnknownOrganization(id))
}

async fn create_org(State(s): State<Arc<ApiState>>, _: Admin, body: Bytes) -> ApiResult {
    let req: CreateOrg = parse(&body)?;
    let mut new = NewOrganization::new(req.name, req.handle).with_issuer(req.issuer);
    new.id = req.id;
    new.parent = req.parent;
    let o = hierarchy::create(s.orgs.orgs.as_ref(), &OsRng::new(), &new).await?;
    Ok(json_response(StatusCode::CREATED, org_json(&o)))
}

async fn get_org(State(s): State<Arc<ApiState>>, _: Admin, Path(id): Path<String>) -> ApiResult {
    let id = path_id(id)?;
    let o = s
        .orgs
        .orgs
        .get(&id)
        .await?
        .ok_or_else(|| OrgError::UnknownOrganization(id.to_string()))?;
    Ok(json_response(StatusCode::OK, org_json(&o)))
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
    #[serde(default)]
    issuer: Option<IssuerMode>,
}

async fn patch_org(
    State(s): State<Arc<ApiState>>,
    _: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: PatchOrg = parse(&body)?;
    let id = path_id(id)?;
    if req.parent.is_none() && req.status.is_none() && req.name.is_none() && req.issuer.is_none() {
        return Err(OrgError::invalid("body", "one of parent, status, name, issuer").into());
    }
    let store = s.orgs.orgs.as_ref();
    let mut o = store
        .get(&id)
        .await?
        .ok_or_else(|| OrgError::UnknownOrganization(id.to_string()))?;
    if let Some(name) = &req.name {
        o = hierarchy::rename(store, &id, name, None).await?;
    }
    if let Some(parent) = &req.parent {
        o = hierarchy::move_to(store, &id, parent).await?;
    }
    if let Some(issuer) = req.issuer {
        o = hierarchy::set_issuer(store, &id, issuer).await?;
    }
    if let Some(status) = req.status {
        o = hierarchy::set_status(store, &id, status).await?;
    }
    Ok(json_response(StatusCode::OK, org_json(&o)))
}

/// `DELETE /api/organizations/{id}`: an empty organization (no sub-organizations, no resident
/// users; 409 `not_empty` otherwise) goes, with the shares into it and its issuer (204).
async fn delete_org(State(s): State<Arc<ApiState>>, _: Admin, Path(id): Path<String>) -> ApiResult {
    let id = path_id(id)?;
    let o = &s.orgs;
    let (deleted, _) = hierarchy::delete(
        o.orgs.as_ref(),
        o.sharing.as_ref(),
        o.roles.as_ref(),
        &id,
        DeletePolicy::OnlyIfEmpty,
    )
    .await?;
    s.issuers.forget(&deleted);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The sharing API's answer (WSO2 v2).
fn completed() -> Response {
    json_response(StatusCode::OK, json!({"status": "Completed"}))
}

async fn share(State(s): State<Arc<ApiState>>, Admin(a): Admin, body: Bytes) -> ApiResult {
    let (users, entries) = ShareRequest::from_json(&body, &ApiLimits::default())?;
    let o = &s.orgs;
    api::share(o.orgs.as_ref(), o.sharing.as_ref(), &a, &users, &entries).await?;
    Ok(completed())
}

async fn share_with_all(State(s): State<Arc<ApiState>>, Admin(a): Admin, body: Bytes) -> ApiResult {
    let (users, policy, roles) = ShareWithAllRequest::from_json(&body, &ApiLimits::default())?;
    let o = &s.orgs;
    api::share_with_all(
        o.orgs.as_ref(),
        o.sharing.as_ref(),
        &a,
        &users,
        policy,
        &roles,
    )
    .await?;
    Ok(completed())
}

async fn unshare(State(s): State<Arc<ApiState>>, Admin(a): Admin, body: Bytes) -> ApiResult {
    let (users, ids) = UnshareRequest::from_json(&body, &ApiLimits::default())?;
    let o = &s.orgs;
    api::unshare(o.orgs.as_ref(), o.sharing.as_ref(), &a, &users, &ids).await?;
    Ok(completed())
}

async fn patch_share(State(s): State<Arc<ApiState>>, Admin(a): Admin, body: Bytes) -> ApiResult {
    let (users, patches) = PatchShareRequest::from_json(&body, &ApiLimits::default())?;
    let o = &s.orgs;
    api::patch(o.orgs.as_ref(), o.sharing.as_ref(), &a, &users, &patches).await?;
    Ok(completed())
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

/// The organizations' own issuers at `/o/{org_id}/...`: the request goes to the provider of
/// the organization as its record is now ([`Issuers`]), with the prefix stripped (as
/// `Router::nest` does); 404 when the organization does not issue its own tokens now.
pub(crate) fn issuer_routes(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/o/{org}", any(to_issuer))
        .route("/o/{org}/{*rest}", any(to_issuer))
        .with_state(state)
}

async fn to_issuer(State(s): State<Arc<ApiState>>, mut req: Request) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found").into_response();
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix("/o/") else {
        return not_found();
    };
    let (id, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let issuer = match s.issuers.current(id) {
        Ok(Some(i)) => i,
        Ok(None) => return not_found(),
        Err(e) => {
            // The detail is for the operator, not the client.
            eprintln!("organization {id}: its issuer could not be built: {e}");
            return crate::pages::error(500, "server_error", "the issuer is unavailable");
        }
    };
    let tail = if tail.is_empty() { "/" } else { tail };
    let path_and_query = match req.uri().query() {
        Some(q) => format!("{tail}?{q}"),
        None => tail.to_owned(),
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    let Ok(uri) = Uri::from_parts(parts) else {
        return not_found();
    };
    *req.uri_mut() = uri;
    match issuer.routes.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}
