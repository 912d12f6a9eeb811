//! The `idforge-oauth-core` module: builds the OpenID Provider from a [`ServeConfig`] with the
//! memory stores, and plugs its routes in: the interactive authorization endpoint (login and
//! consent pages, GET and POST) and oauth-core's HTTP adapter as the fallback for every other
//! endpoint (token, PAR, UserInfo, introspection, revocation, discovery, JWKS).
//!
//! Every use of oauth-core lives here, so changes to its API stay in one file.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use idforge_jose::crypto::EcCurve;
use idforge_jose::{JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner};
use idforge_oauth_core::http::{interaction_response, route, HttpEndpoints};
use idforge_oauth_core::model::ResponseMode;
use idforge_oauth_core::{
    AccessTokenFormat, AttemptLimiter, AuthorizationRequest, Client, ClientAuthMethod, Config,
    Decision, Error, Interaction, Params, PasswordVerifier, Provider, Session, UserLookup,
};

use crate::config::{ClientAuth, ClientConfig, ConfigError, ServeConfig, TokenFormat};
use crate::pages::{self, Audience};
use crate::seal::{Purpose, Sealer};
use crate::ServeError;

/// The provider and what the pages need next to it.
pub(crate) struct OAuth {
    pub(crate) provider: Provider,
    /// The OID4VCI credential issuer, when `[credential_issuer]` is configured.
    pub(crate) oid4vci: Option<crate::oid4vci::Oid4vci>,
    /// The user attributes API's view of the users, when `[attributes]` is configured.
    pub(crate) attributes: Option<crate::attributes::Attributes>,
    /// Verifies the login form's credentials (the user store, or only an organization's
    /// members at an organization's issuer).
    users: Arc<dyn PasswordVerifier>,
    /// The device authorization grant's endpoints (RFC 8628).
    pub(crate) device: crate::device::Device,
    sealer: Sealer,
    /// `[login]`: the form's lifetime and the password attempt limits.
    login: crate::login::LoginConfig,
    /// Counts password attempts per user name and client address.
    login_limiter: Arc<dyn AttemptLimiter>,
    /// `[limits] max_body_bytes`: the largest body the endpoints read.
    max_body: usize,
    /// The path the login and consent forms post to: the issuer's path (non-empty when the
    /// provider is nested under a prefix) plus the authorization endpoint's path.
    form_action: String,
    /// CIBA (`idforge-ciba`): the backchannel endpoint and the approval pages.
    pub(crate) ciba: crate::ciba::CibaHost,
    /// The session cookie.
    pub(crate) sessions: crate::sessions::SessionHost,
    /// Seals the logout confirmation form.
    pub(crate) logout_sealer: Sealer,
    /// The path the logout confirmation form posts to.
    pub(crate) logout_action: String,
    /// The hosted pages: templates, catalogs, branding.
    pub(crate) pages: Arc<crate::pages::Pages>,
    /// `[outbound]`: the HTTP(S) client posting back-channel Logout Tokens (CIBA's notifier
    /// holds a clone).
    pub(crate) outbound: crate::outbound::Outbound,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("issuer", &self.provider.ctx.config.issuer)
            .finish_non_exhaustive()
    }
}

impl OAuth {
    pub(crate) fn issuer(&self) -> &str {
        &self.provider.ctx.config.issuer
    }
}

/// The scopes the provider supports (a client's `scopes` must be among them).
pub(crate) fn scopes_supported() -> Vec<String> {
    Config::default().scopes_supported
}

/// Parses `signing_key` and picks the asymmetric algorithm it signs ID tokens with.
pub(crate) fn signing_key(jwk: &str) -> Result<(Key, JwsAlgorithm), ConfigError> {
    let key = Key::from_json(jwk).map_err(|e| ConfigError::SigningKey(e.to_string()))?;
    let alg = JwsAlgorithm::fitting(&key)
        .into_iter()
        .find(|a| !a.is_symmetric())
        .ok_or(ConfigError::SigningKeyNotAsymmetric)?;
    Ok((key, alg))
}

pub(crate) fn generated_key() -> Result<Key, idforge_jose::Error> {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256))?;
    let kid = key.jwk().thumbprint();
    Key::from_jwk(key.jwk().clone().with_kid(kid))
}

fn client(c: &ClientConfig, supported: &[String]) -> Client {
    let method = match c.auth_method() {
        ClientAuth::ClientSecretBasic => ClientAuthMethod::ClientSecretBasic,
        ClientAuth::ClientSecretPost => ClientAuthMethod::ClientSecretPost,
        ClientAuth::None => ClientAuthMethod::None,
    };
    let mut client = match &c.client_secret {
        Some(s) => Client::confidential(c.client_id.clone(), s),
        None => Client::public(c.client_id.clone()),
    }
    .with_auth_method(method)
    .with_grant_types(c.grant_types.clone())
    // Consent is implicit for the clients of the configuration.
    .with_consent_implied();
    client.redirect_uris = c.redirect_uris.clone();
    client.access_token_format = Some(match c.access_token_format.unwrap_or_default() {
        TokenFormat::Jwt => AccessTokenFormat::Jwt,
        TokenFormat::Opaque => AccessTokenFormat::Opaque,
    });
    client.scope_as_array = Some(c.scope_as_array);
    // Never empty (validation refuses `scopes = []`, and the default keeps `openid`): in
    // oauth-core an empty list would mean "any scope".
    client.scopes = c.allowed_scopes(supported);
    if let Some(seconds) = c.device_code_expiry_seconds {
        client = client.with_metadata(
            idforge_oauth_core::grant::device_code::CLIENT_EXPIRY_MEMBER,
            serde_json::json!(seconds),
        );
    }
    if c.allow_impersonation {
        client = client.with_metadata("allow_impersonation", serde_json::json!(true));
    }
    // RP-Initiated, Front-Channel and Back-Channel Logout 1.0 registration members.
    client.post_logout_redirect_uris = c.post_logout_redirect_uris.clone();
    client.frontchannel_logout_uri = c.frontchannel_logout_uri.clone();
    client.frontchannel_logout_session_required = c.frontchannel_logout_session_required;
    client.backchannel_logout_uri = c.backchannel_logout_uri.clone();
    client.backchannel_logout_session_required = c.backchannel_logout_session_required;
    crate::ciba::apply(c, client)
}

#[cfg(test)]
/// Builds the provider from a configuration; `default_issuer` is used when it names none.
pub(crate) fn build(
    config: &ServeConfig,
    default_issuer: &str,
    login_limiter: Arc<dyn AttemptLimiter>,
) -> Result<OAuth, ServeError> {
    build_with(
        config,
        default_issuer,
        Additions {
            login_limiter: Some(login_limiter),
            ..Additions::default()
        },
    )
}

/// Who may log in: a predicate on the subject, checked after the password.
pub(crate) type LoginFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Which of the configured clients the provider serves now: a predicate on the `client_id`,
/// checked at each lookup (an organization's issuer serves its organization's applications
/// while it issues its own tokens).
pub(crate) type ClientFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// What the organizations module adds to a provider.
#[derive(Default)]
pub(crate) struct Additions {
    /// More grant handlers (the organization switch, the `organization` parameter), registered
    /// last so they replace a built-in of the same grant type.
    pub(crate) handlers: Vec<Arc<dyn idforge_oauth_core::GrantHandler>>,
    /// Authorization extensions (organization claims).
    pub(crate) extensions: Vec<Arc<dyn idforge_oauth_core::AuthorizationExtension>>,
    /// Who may log in.
    pub(crate) login_filter: Option<LoginFilter>,
    /// Which clients are served.
    pub(crate) client_filter: Option<ClientFilter>,
    /// The token-exchange grant, given the user lookup (an organization's live trust list);
    /// default: `[[trusted_issuers]]`.
    pub(crate) token_exchange: Option<MakeGrant>,
    /// Counts login form password attempts (shared by every provider of one server);
    /// default: an in-memory limiter of the provider's own.
    pub(crate) login_limiter: Option<Arc<dyn AttemptLimiter>>,
    /// Where the state lives (`--database`); default: fresh in-memory stores.
    pub(crate) stores: Arc<crate::storage::Stores>,
    /// The client reaching relying parties, shared by every provider of one server (one
    /// connection pool); default: one built from `[outbound]`.
    pub(crate) outbound: Option<crate::outbound::Outbound>,
}

/// Makes a grant handler given the provider's user lookup.
pub(crate) type MakeGrant =
    Box<dyn FnOnce(Arc<dyn UserLookup>) -> Arc<dyn idforge_oauth_core::GrantHandler>>;

/// The configured clients, of which only those the filter lets through are found.
struct FilteredClients {
    clients: Arc<dyn idforge_oauth_core::ClientStore>,
    allow: ClientFilter,
}

#[async_trait::async_trait]
impl idforge_oauth_core::ClientStore for FilteredClients {
    async fn client(&self, client_id: &str) -> idforge_oauth_core::Result<Option<Client>> {
        if !(self.allow)(client_id) {
            return Ok(None);
        }
        self.clients.client(client_id).await
    }
}

/// The user store's passwords, accepted only for subjects the filter lets in; and its
/// attribute lookup (token exchange's implicit association), finding only those subjects.
struct FilteredPasswords {
    users: Arc<dyn crate::storage::Users>,
    allow: LoginFilter,
}

#[async_trait::async_trait]
impl PasswordVerifier for FilteredPasswords {
    async fn verify(
        &self,
        username: &str,
        password: &str,
    ) -> idforge_oauth_core::Result<Option<String>> {
        Ok(self
            .users
            .verify(username, password)
            .await?
            .filter(|subject| (self.allow)(subject)))
    }
}

#[async_trait::async_trait]
impl UserLookup for FilteredPasswords {
    async fn find_users(
        &self,
        attributes: &[(&str, &str)],
    ) -> idforge_oauth_core::Result<Vec<String>> {
        let mut found = self.users.find_users(attributes).await?;
        found.retain(|subject| (self.allow)(subject));
        Ok(found)
    }
}

/// [`build`] with the organizations module's [`Additions`]; when organizations are
/// configured, `org_admin` is also a supported scope.
pub(crate) fn build_with(
    config: &ServeConfig,
    default_issuer: &str,
    additions: Additions,
) -> Result<OAuth, ServeError> {
    let Additions {
        handlers,
        extensions,
        login_filter,
        client_filter,
        token_exchange,
        login_limiter,
        stores,
        outbound,
    } = additions;
    let stores = &*stores;
    let login_limiter = login_limiter
        .unwrap_or_else(|| Arc::new(idforge_oauth_core::memory::MemoryAttemptLimiter::new()));
    config.validate()?;
    let oc = Config::new(config.issuer.as_deref().unwrap_or(default_issuer));
    // The configured key, else the one stored for this issuer (`--database`), else a new one.
    let (key, alg) = match (&config.signing_key, stores.key_for(&oc.issuer)) {
        (Some(jwk), _) => signing_key(jwk)?,
        (None, Some(stored)) => stored,
        (None, None) => (
            generated_key().map_err(ServeError::Key)?,
            JwsAlgorithm::ES256,
        ),
    };
    let signer = LocalSigner::new(key, alg).map_err(ServeError::Key)?;
    let mut oc = oc.with_token_persistence(config.token_store.persistence);
    oc.scopes_supported
        .extend(crate::oid4vci::extra_scopes(config));
    if crate::orgs::enabled(config) {
        oc.scopes_supported.push(crate::orgs::ORG_ADMIN.to_owned());
    }
    oc.scopes_supported
        .extend(crate::attributes::extra_scopes(config));
    oc.sessions = config.sessions.policy();
    let supported = oc.scopes_supported.clone();
    let mut clients = Vec::new();
    let prepared = crate::oid4vci::prepare(config, stores)?;
    for c in &config.clients {
        let c = &crate::oid4vci::effective_client(c);
        for g in &c.grant_types {
            oc = oc.with_grant_type(g);
        }
        let client = client(c, &supported);
        client.validate().map_err(ServeError::ProviderConfig)?;
        clients.push(client);
    }
    let crate::storage::UserStores { users, federated } = stores.users(config)?;
    let attributes = crate::attributes::Attributes::new(config, federated)?;
    let (passwords, lookup): (Arc<dyn PasswordVerifier>, Arc<dyn UserLookup>) = match login_filter {
        Some(allow) => {
            let filtered = Arc::new(FilteredPasswords {
                users: users.clone(),
                allow,
            });
            (filtered.clone(), filtered)
        }
        None => (users.clone(), users.clone()),
    };
    let device_flow = crate::device::flow(config, stores)?;
    let outbound = match outbound {
        Some(o) => o,
        None => crate::outbound::Outbound::new(&config.outbound)?,
    };
    let mut ciba = crate::ciba::CibaHost::new(
        config,
        &oc.issuer,
        users.clone(),
        stores.ciba_requests(),
        outbound.clone(),
        stores.sealer(
            &format!("{} ciba approval", oc.issuer),
            crate::seal::SEAL_TTL,
        )?,
    )?;
    let oc_issuer = oc.issuer.clone();
    let mut builder = Provider::builder(oc);
    if let Some(p) = &prepared {
        if let Some(anonymous) = &p.anonymous_client {
            clients.push(anonymous.clone());
        }
        builder = builder
            .grant_handler(p.grant.clone())
            .authorization_extension(p.authorization_extension(&oc_issuer, config));
    }
    for e in extensions {
        builder = builder.authorization_extension(e);
    }
    let exchange: Arc<dyn idforge_oauth_core::GrantHandler> = match token_exchange {
        Some(make) => make(lookup),
        None => Arc::new(crate::token_exchange::grant(config, lookup, &outbound)?),
    };
    let clients = stores.clients(clients);
    let clients: Arc<dyn idforge_oauth_core::ClientStore> = match client_filter {
        Some(allow) => Arc::new(FilteredClients { clients, allow }),
        None => clients,
    };
    let mut builder = builder
        .clients(clients)
        .grants(stores.grants(config.token_store.memory_limits()))
        // Pushed authorization requests (RFC 9126), served by `handle_http` at /par.
        .pushed_requests(stores.pushed_requests())
        // Login sessions: single sign-on, `sid`, and the end-session endpoint at /logout.
        .sessions(stores.sessions())
        .claims(users.clone())
        .passwords(passwords.clone())
        .keys(Arc::new(KeyRing::new(signer)))
        .grant_handler(device_flow.grant())
        .grant_handler(exchange);
    for h in handlers {
        builder = builder.grant_handler(h);
    }
    let provider = ciba
        .ciba
        .register(builder)
        .build()
        .map_err(ServeError::ProviderConfig)?;
    ciba.attach(provider.ctx.clone());
    let cfg = &provider.ctx.config;
    let issuer_path = cfg
        .issuer
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("");
    let form_action = format!("{issuer_path}{}", cfg.authorization_path);
    let logout_action = format!(
        "{issuer_path}{}",
        cfg.end_session_path.as_deref().unwrap_or_default()
    );
    // Under `--database` the sealing keys are shared by every process (storage::Stores::sealer).
    let login_sealer =
        stores.sealer(&format!("{} login", cfg.issuer), config.login.ttl_seconds())?;
    let logout_sealer = stores.sealer(&format!("{} logout", cfg.issuer), crate::seal::SEAL_TTL)?;
    let sessions = crate::sessions::SessionHost::with_sealer(
        &cfg.issuer,
        issuer_path,
        stores.sealer(&format!("{} session", cfg.issuer), crate::seal::SEAL_TTL)?,
    );
    let oid4vci = prepared.map(|p| crate::oid4vci::Oid4vci::new(provider.ctx.clone(), p, config));
    let device = crate::device::Device::new(&provider, device_flow, issuer_path);
    Ok(OAuth {
        oid4vci,
        attributes,
        provider,
        users: passwords,
        device,
        sealer: login_sealer,
        login: config.login,
        login_limiter,
        max_body: config.limits.max_body_bytes,
        form_action,
        ciba,
        sessions,
        logout_sealer,
        logout_action,
        pages: Arc::new(crate::pages::Pages::from_config(config)?),
        outbound,
    })
}

/// RFC 6750 §2.1 and §3.1: the request's bearer access token, valid at this provider and
/// carrying `scope` (`invalid_token` 401 without one or with a bad one, `insufficient_scope`
/// 403 without the scope). What the administrative endpoints (`/credential-offers`,
/// `/api/users/.../attributes`) check first.
pub(crate) async fn require_scope(
    state: &OAuth,
    headers: &HeaderMap,
    scope: &str,
) -> Result<(), Error> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| Error::InvalidToken("a bearer access token is required".into()))?;
    let info = idforge_oauth_core::resolve_access_token(&state.provider.ctx, token).await?;
    if !info.scopes.contains(scope) {
        return Err(Error::InsufficientScope(format!(
            "the {scope} scope is required"
        )));
    }
    Ok(())
}

/// The routes of the OAuth / OpenID Connect provider, state applied: the authorization
/// endpoint, and oauth-core's HTTP adapter as the fallback (404 when it has no such endpoint).
pub(crate) fn routes(state: Arc<OAuth>) -> Router {
    let authorization_path = state.provider.ctx.config.authorization_path.clone();
    let oauth = Router::new()
        .route(&authorization_path, get(authorize_get).post(authorize_post))
        .merge(crate::oid4vci::routes())
        .merge(crate::device::routes(state.clone()))
        .merge(crate::logout::routes(&state))
        .fallback(endpoints)
        .with_state(state.clone());
    crate::ciba::routes(state).merge(oauth)
}

/// Every non-interactive endpoint, through `Provider::handle_http`.
async fn endpoints(State(state): State<Arc<OAuth>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match crate::limits::read_body(body, state.max_body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    // `Vec::from` takes the buffer over when nothing else shares it, else copies it once.
    let req = axum::http::Request::from_parts(parts, Vec::from(bytes));
    // A fixed array, not a `Vec` per request.
    let mut handlers: [&dyn HttpEndpoints; 3] = [&state.provider; 3];
    let mut n = 1;
    if let Some(ciba) = state.ciba.http() {
        handlers[n] = ciba;
        n += 1;
    }
    if let Some(oid) = &state.oid4vci {
        handlers[n] = &oid.issuer;
        n += 1;
    }
    if let Ok(resp) = route(&handlers[..n], req).await {
        return resp.map(Body::from);
    }
    (StatusCode::NOT_FOUND, "not found").into_response()
}

async fn authorize_get(
    State(state): State<Arc<OAuth>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let session = crate::sessions::current(&state, &headers).await;
    let i = state
        .provider
        .authorization
        .start(query.unwrap_or_default().as_bytes(), session.as_ref())
        .await;
    interact(&state, &headers, i)
}

/// Renders an interaction: the login or consent page, an error page, or the library's
/// redirect (303 or form_post).
fn interact(state: &OAuth, headers: &HeaderMap, i: Interaction) -> Response {
    match i {
        Interaction::Login { request, client_id } => {
            login_page(state, headers, &request, &client_id, None)
        }
        Interaction::Consent { request, session } => {
            consent_page(state, headers, &request, &session)
        }
        Interaction::ShowError(e) => error_page(state, headers, &e),
        // OAuth 2.0 Form Post Response Mode §2, rendered with the pages' template and
        // Content-Security-Policy (the script allowed by its hash).
        Interaction::Redirect(r) if r.response_mode == ResponseMode::FormPost => state
            .pages
            .form_post(&Audience::from_headers(headers), &r.redirect_uri, &r.params),
        other => match interaction_response(&other) {
            Some(resp) => resp.map(Body::from),
            None => server_error(state, headers),
        },
    }
}

fn error_page(state: &OAuth, headers: &HeaderMap, e: &Error) -> Response {
    state.pages.error(
        &Audience::from_headers(headers),
        e.status(),
        e.code(),
        e.description(),
    )
}

/// A failure of the host itself (RFC 6749 §4.1.2.1 `server_error`), shown, not redirected
/// (its cause is never shown).
fn server_error(state: &OAuth, headers: &HeaderMap) -> Response {
    state
        .pages
        .error(&Audience::from_headers(headers), 500, "server_error", "")
}

fn now(state: &OAuth) -> i64 {
    state.provider.ctx.clock.now()
}

fn login_page(
    state: &OAuth,
    headers: &HeaderMap,
    request: &AuthorizationRequest,
    client_id: &str,
    error: Option<(pages::LoginNotice, &str)>,
) -> Response {
    let Some(sealed) = state.sealer.seal(Purpose::Login, request, now(state)) else {
        return server_error(state, headers);
    };
    let who = Audience::from_headers(headers)
        .client(client_id)
        .ui_locales(&request.ui_locales);
    state.pages.login(
        &who,
        &pages::Login {
            action: &state.form_action,
            scopes: request.scopes.values(),
            sealed: &sealed,
            // After a failed attempt, the name the user typed stays.
            login_hint: error
                .map(|(_, typed)| typed)
                .or(request.login_hint.as_deref())
                .unwrap_or(""),
            error: error.map(|(notice, _)| notice),
            cancel: true,
        },
    )
}

fn consent_page(
    state: &OAuth,
    headers: &HeaderMap,
    request: &AuthorizationRequest,
    session: &Session,
) -> Response {
    let Some(sealed) = state
        .sealer
        .seal(Purpose::Consent, &(request, session), now(state))
    else {
        return server_error(state, headers);
    };
    let claims: Vec<String> = request
        .claims
        .as_ref()
        .map(|c| c.id_token.iter().chain(&c.userinfo).cloned().collect())
        .unwrap_or_default();
    // RFC 9396 §2 (OID4VCI §5.1.1 credentials): shown in words on the consent page.
    let details: Option<serde_json::Value> = request
        .extension_params
        .get("authorization_details")
        .and_then(|v| v.first())
        .and_then(|v| serde_json::from_str(v).ok());
    let who = Audience::from_headers(headers)
        .client(&request.client_id)
        .ui_locales(&request.ui_locales);
    state.pages.consent(
        &who,
        &pages::Consent {
            action: &state.form_action,
            subject: &session.subject,
            scopes: request.scopes.values(),
            claims: &claims,
            details: details.as_ref(),
            sealed: &sealed,
        },
    )
}

fn altered(state: &OAuth, headers: &HeaderMap) -> Response {
    error_page(
        state,
        headers,
        &Error::InvalidRequest("the login form was altered or expired".into()),
    )
}

/// POST to the authorization endpoint: the login form (`request`), the consent form
/// (`consent`), or else an authorization request sent by POST (OIDC Core §3.1.2.1), which may
/// carry a request object in `request` (a JWS or JWE, never shaped like a sealed value).
async fn authorize_post(State(state): State<Arc<OAuth>>, req: Request) -> Response {
    let address = crate::limits::client_addr(req.extensions()).map(|a| a.ip());
    let headers = req.headers().clone();
    let body = match crate::limits::read_body(req.into_body(), state.max_body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let params = match Params::parse(&body, &state.provider.ctx.config.limits) {
        Ok(p) => p,
        Err(e) => return error_page(&state, &headers, &e),
    };
    if let Some(sealed) = params.get("consent") {
        return consent_answer(&state, &headers, sealed, params.get("decision")).await;
    }
    match params.get("request") {
        Some(sealed) if Sealer::looks_sealed(sealed) && params.get("decision") == Some("deny") => {
            login_cancel(&state, &headers, sealed).await
        }
        Some(sealed) if Sealer::looks_sealed(sealed) => {
            let (username, password) = (
                params.get("username").unwrap_or(""),
                params.get("password").unwrap_or(""),
            );
            let remember_me = params.get("remember_me").is_some();
            login_answer(
                &state,
                &headers,
                sealed,
                username,
                password,
                remember_me,
                address,
            )
            .await
        }
        _ => {
            let session = crate::sessions::current(&state, &headers).await;
            let i = state
                .provider
                .authorization
                .start_params(&params, session.as_ref())
                .await;
            interact(&state, &headers, i)
        }
    }
}

/// The login page's Cancel (`decision=deny`): back to the application with `access_denied`
/// (RFC 6749 §4.1.2.1), through oauth-core's refusal; the form is spent like a sign-in.
async fn login_cancel(state: &OAuth, headers: &HeaderMap, sealed: &str) -> Response {
    let Some(request) =
        state
            .sealer
            .open_once::<AuthorizationRequest>(Purpose::Login, sealed, now(state))
    else {
        return altered(state, headers);
    };
    let i = state
        .provider
        .authorization
        .resume(request, Decision::Denied)
        .await;
    interact(state, headers, i)
}

async fn login_answer(
    state: &OAuth,
    headers: &HeaderMap,
    sealed: &str,
    username: &str,
    password: &str,
    remember_me: bool,
    address: Option<std::net::IpAddr>,
) -> Response {
    // Single use: a replayed login form (or one past `[login] pending_request_minutes`) is
    // refused.
    let Some(request) =
        state
            .sealer
            .open_once::<AuthorizationRequest>(Purpose::Login, sealed, now(state))
    else {
        return altered(state, headers);
    };
    let allowed = crate::login::allow_attempt(
        state.login_limiter.as_ref(),
        &state.login,
        state.issuer(),
        username,
        address,
        now(state),
    )
    .await;
    if !allowed {
        let mut resp = login_page(
            state,
            headers,
            &request,
            &request.client_id,
            Some((pages::LoginNotice::TooManyAttempts, username)),
        );
        *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        if let Ok(v) = state.login.attempt_window_seconds.to_string().parse() {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        return resp;
    }
    let subject = match state.users.verify(username, password).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return login_page(
                state,
                headers,
                &request,
                &request.client_id,
                Some((pages::LoginNotice::WrongCredentials, username)),
            )
        }
        Err(e) => return error_page(state, headers, &e),
    };
    // A session is recorded (and the cookie rotated) at every successful login.
    let (session, cookie) = match crate::sessions::login(state, headers, subject, remember_me).await
    {
        Ok(s) => s,
        Err(e) => return error_page(state, headers, &e),
    };
    let i = state
        .provider
        .authorization
        .resume(request, Decision::LoggedIn(session))
        .await;
    crate::sessions::with_cookie(interact(state, headers, i), cookie)
}

async fn consent_answer(
    state: &OAuth,
    headers: &HeaderMap,
    sealed: &str,
    decision: Option<&str>,
) -> Response {
    let Some((request, session)) = state.sealer.open_once::<(AuthorizationRequest, Session)>(
        Purpose::Consent,
        sealed,
        now(state),
    ) else {
        return altered(state, headers);
    };
    // Anything but an explicit approval is a refusal.
    let granted = decision == Some("approve");
    let i = state
        .provider
        .authorization
        .resume(request, Decision::Consented { session, granted })
        .await;
    interact(state, headers, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEMO_CONFIG;

    fn limiter() -> Arc<dyn AttemptLimiter> {
        Arc::new(idforge_oauth_core::memory::MemoryAttemptLimiter::new())
    }

    #[test]
    fn demo_config_builds() {
        let c = ServeConfig::from_toml(DEMO_CONFIG).expect("demo config");
        let o = build(&c, "http://127.0.0.1:8080", limiter()).expect("provider");
        let cfg = &o.provider.ctx.config;
        assert_eq!(cfg.issuer, "http://127.0.0.1:8080");
        assert!(cfg.grant_enabled("client_credentials"));
        assert_eq!(o.form_action, "/authorize");
    }

    #[test]
    fn issuer_from_the_file_wins_and_its_path_prefixes_the_form() {
        let c = ServeConfig::from_toml("issuer = \"https://op.example/tenant/\"").expect("toml");
        let o = build(&c, "http://127.0.0.1:1", limiter()).expect("provider");
        assert_eq!(o.issuer(), "https://op.example/tenant");
        assert_eq!(o.form_action, "/tenant/authorize");
    }

    #[test]
    fn client_scopes_default_to_the_non_administrative_supported_ones() {
        let supported: Vec<String> = ["openid", "email", "org_admin"].map(String::from).to_vec();
        let c = client(&ClientConfig::new("app"), &supported);
        assert_eq!(c.scopes, ["openid", "email"]);
        assert!(!c.allows_scope("org_admin"));
        let c = client(
            &ClientConfig::new("app").with_scopes(["openid"]),
            &supported,
        );
        assert!(c.allows_scope("openid") && !c.allows_scope("email"));
    }

    #[test]
    fn build_validates_programmatic_configs() {
        let c = ServeConfig::new()
            .with_client(ClientConfig::new("x").with_auth_method(ClientAuth::ClientSecretPost));
        assert!(matches!(
            build(&c, "http://127.0.0.1:1", limiter()),
            Err(ServeError::Config(ConfigError::MissingClientSecret { .. }))
        ));
        let c = ServeConfig::new().with_client(ClientConfig::new("x").with_scopes(["nope"]));
        assert!(matches!(
            build(&c, "http://127.0.0.1:1", limiter()),
            Err(ServeError::Config(ConfigError::UnsupportedScope { .. }))
        ));
    }
}
